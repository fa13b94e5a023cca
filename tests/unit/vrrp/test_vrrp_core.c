/* Unit tests for the VRRP core (vrrp.c): exact action lists and deadlines for start-up,
 * election, preemption, priority-0 handover, graceful stop, receive-policy drops, v3 interval
 * adoption, fault handling and tracked priority changes. Time is injected; nothing sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/addr.h"
#include "proto/vrrp/vrrp.h"

#define S(x)  MONO_S(x)
#define MS(x) MONO_MS(x)

#define A_STATE(f, t, r)                                                                           \
    {                                                                                              \
        .kind = VRRP_ACT_STATE, .from = VRRP_STATE_##f, .to = VRRP_STATE_##t,                      \
        .reason = VRRP_WHY_##r                                                                     \
    }
#define A_ADV(p)                                                                                   \
    {                                                                                              \
        .kind = VRRP_ACT_SEND_ADVERT, .priority = (p)                                              \
    }
#define A_GARP(c)                                                                                  \
    {                                                                                              \
        .kind = VRRP_ACT_SEND_GARP, .count = (c)                                                   \
    }
#define A_ADD                                                                                      \
    {                                                                                              \
        .kind = VRRP_ACT_ADD_VIPS                                                                  \
    }
#define A_DEL                                                                                      \
    {                                                                                              \
        .kind = VRRP_ACT_DEL_VIPS                                                                  \
    }
#define A_LOWER                                                                                    \
    {                                                                                              \
        .kind = VRRP_ACT_LOWER_PRIO_SEEN                                                           \
    }

/* v3, 1 s adverts (skew at priority 100: 156/256 s = 609375 us). */
#define SKEW100 609375
#define MDI100  (S(3) + SKEW100)

static struct ip_addr ip(const char *s)
{
    struct ip_addr a;

    assert_true(ip_addr_parse(s, &a));
    return a;
}

static struct vrrp_cfg cfg_v3(uint8_t prio, const char *src)
{
    return (struct vrrp_cfg){
        .version = 3,
        .family = IP_V4,
        .vrid = 7,
        .priority = prio,
        .adver_int_cs = 100,
        .down_timer_adverts = 3,
        .src = ip(src),
        .garp_repeat = 5,
        .garp_delay_us = S(5),
        .garp_refresh_repeat = 1,
    };
}

static struct vrrp_pkt pkt(uint8_t version, uint8_t prio, uint16_t int_cs)
{
    return (struct vrrp_pkt){.version = version,
                             .type = VRRP_TYPE_ADVERT,
                             .vrid = 7,
                             .priority = prio,
                             .family = IP_V4,
                             .adver_int_cs = int_cs};
}

static void feed(struct vrrp *vr, enum vrrp_in_kind kind, mono_us now, struct vrrp_acts *out)
{
    struct vrrp_in in = {.kind = kind};

    out->n = 0;
    vrrp_step(vr, &in, now, out);
}

static void feed_prio(struct vrrp *vr, uint8_t prio, mono_us now, struct vrrp_acts *out)
{
    struct vrrp_in in = {.kind = VRRP_IN_PRIORITY, .u.priority = prio};

    out->n = 0;
    vrrp_step(vr, &in, now, out);
}

/* A multicast advert with TTL 255 from src. */
static void hear_full(struct vrrp *vr, const struct vrrp_pkt *p, const char *src, uint8_t ttl,
                      bool mcast, mono_us now, struct vrrp_acts *out)
{
    struct vrrp_in in = {.kind = VRRP_IN_ADVERT};

    in.u.advert.pkt = p;
    in.u.advert.src = ip(src);
    in.u.advert.ttl = ttl;
    in.u.advert.to_multicast = mcast;
    out->n = 0;
    vrrp_step(vr, &in, now, out);
}

static void hear(struct vrrp *vr, uint8_t prio, const char *src, mono_us now, struct vrrp_acts *out)
{
    struct vrrp_pkt p = pkt(vr->cfg.version, prio, vr->cfg.adver_int_cs);

    hear_full(vr, &p, src, VRRP_TTL, true, now, out);
}

static void expect_acts(const struct vrrp_acts *out, const struct vrrp_act *exp, unsigned n)
{
    assert_int_equal(out->n, n);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(out->a[i].kind, exp[i].kind);
        assert_int_equal(out->a[i].priority, exp[i].priority);
        assert_int_equal(out->a[i].count, exp[i].count);
        assert_int_equal(out->a[i].from, exp[i].from);
        assert_int_equal(out->a[i].to, exp[i].to);
        assert_int_equal(out->a[i].reason, exp[i].reason);
    }
}

#define EXPECT(out, ...)                                                                           \
    do {                                                                                           \
        const struct vrrp_act exp_[] = {__VA_ARGS__};                                              \
        expect_acts((out), exp_, sizeof(exp_) / sizeof(exp_[0]));                                  \
    } while (0)

/* A core started at 0 and made master by its down timer at MDI100 (priority 100). */
static void make_master(struct vrrp *vr, const struct vrrp_cfg *c, struct vrrp_acts *out)
{
    vrrp_init(vr, c, 0);
    feed(vr, VRRP_IN_START, 0, out);
    feed(vr, VRRP_IN_TICK, vrrp_deadline(vr), out);
    assert_int_equal(vr->state, VRRP_STATE_MASTER);
}

static void timers_formulas(void **state)
{
    struct vrrp vr;
    struct vrrp_cfg c = cfg_v3(100, "192.0.2.1");

    assert_int_equal(vrrp_skew_us(2, 100, 300), 609375); /* v2 ignores the interval */
    assert_int_equal(vrrp_skew_us(3, 100, 100), 609375);
    assert_int_equal(vrrp_skew_us(3, 100, 10), 60937);
    assert_int_equal(vrrp_skew_us(3, 255, 100), 3906);
    assert_int_equal(vrrp_skew_us(2, 1, 100), 996093);
    vrrp_init(&vr, &c, 0);
    assert_int_equal(vrrp_master_down_us(&vr), MDI100);
    assert_int_equal(vrrp_deadline(&vr), MONO_NEVER);
    assert_string_equal(vrrp_state_name(VRRP_STATE_MASTER), "MASTER");
    assert_string_equal(vrrp_state_name(VRRP_STATE_STOPPED), "STOPPED");
    assert_string_equal(vrrp_reason_name(VRRP_WHY_HANDOVER_DONE), "handover_done");
    assert_string_equal(vrrp_reason_name(VRRP_WHY_PRIO_ZERO), "prio_zero");
}

static void start_backup_then_master_down(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(100, "192.0.2.1");

    c.init_master = true; /* below 255 "state MASTER" still starts as BACKUP */
    vrrp_init(&vr, &c, S(10));
    feed(&vr, VRRP_IN_START, S(10), &out);
    EXPECT(&out, A_STATE(INIT, BACKUP, START));
    assert_int_equal(vrrp_deadline(&vr), S(10) + MDI100);
    feed(&vr, VRRP_IN_TICK, S(10) + MDI100 - 1, &out);
    assert_int_equal(out.n, 0);
    assert_int_equal(vr.state, VRRP_STATE_BACKUP);
    feed(&vr, VRRP_IN_TICK, S(10) + MDI100, &out);
    EXPECT(&out, A_STATE(BACKUP, MASTER, MASTER_DOWN), A_ADV(100), A_ADD, A_GARP(5));
    mono_us t0 = S(10) + MDI100;
    assert_int_equal(vrrp_deadline(&vr), t0 + S(1));
    feed(&vr, VRRP_IN_TICK, t0 + S(1), &out);
    EXPECT(&out, A_ADV(100));
    for (int k = 2; k <= 4; k++)
        feed(&vr, VRRP_IN_TICK, t0 + S(k), &out);
    assert_int_equal(vrrp_deadline(&vr), t0 + S(5));
    feed(&vr, VRRP_IN_TICK, t0 + S(5), &out);
    EXPECT(&out, A_ADV(100), A_GARP(5)); /* second burst after garp_delay */
    assert_int_equal(vrrp_deadline(&vr), t0 + S(6));
    assert_int_equal(vr.cnt.became_master, 1);
    assert_int_equal(vr.cnt.garp_rounds, 10);
    assert_int_equal(vr.cnt.adverts_tx, 6);
}

/* A binary upgrade: the new process resumes a master at once, with an advert and the VIPs
 * (already in place) but no GARP, then advertises on the interval; a higher-priority advert
 * still takes the mastership away as usual. */
static void resume_as_master_without_garp(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(100, "192.0.2.1");

    vrrp_init(&vr, &c, S(20));
    feed(&vr, VRRP_IN_RESUME, S(20), &out);
    EXPECT(&out, A_STATE(INIT, MASTER, RESUMED), A_ADV(100), A_ADD);
    assert_int_equal(vrrp_deadline(&vr), S(21));
    feed(&vr, VRRP_IN_TICK, S(21), &out);
    EXPECT(&out, A_ADV(100));
    feed(&vr, VRRP_IN_TICK, S(26), &out); /* no delayed second GARP burst either */
    EXPECT(&out, A_ADV(100));
    feed(&vr, VRRP_IN_RESUME, S(26) + 1, &out); /* only from INIT */
    assert_int_equal(out.n, 0);
    hear(&vr, 200, "192.0.2.9", S(26) + 2, &out);
    assert_int_equal(vr.state, VRRP_STATE_BACKUP);
    assert_string_equal(vrrp_reason_name(VRRP_WHY_RESUMED), "resumed");
}

static void owner_starts_master(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(255, "192.0.2.1");

    c.init_master = true;
    c.garp_delay_us = 0;
    c.garp_refresh_us = S(30);
    c.garp_refresh_repeat = 2;
    vrrp_init(&vr, &c, 0);
    feed(&vr, VRRP_IN_START, 0, &out);
    EXPECT(&out, A_STATE(INIT, MASTER, OWNER_START), A_ADV(255), A_ADD, A_GARP(5));
    for (int k = 1; k < 30; k++)
        feed(&vr, VRRP_IN_TICK, S(k), &out);
    assert_int_equal(vrrp_deadline(&vr), S(30));
    feed(&vr, VRRP_IN_TICK, S(30), &out);
    EXPECT(&out, A_ADV(255), A_GARP(2));
    assert_int_equal(vrrp_deadline(&vr), S(31));
    /* Trackers never move an owner away from 255. */
    feed_prio(&vr, 50, S(31), &out);
    assert_int_equal(vr.eff_priority, 255);
}

static void owner_backup_takes_over_after_owner_skew(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(255, "192.0.2.1");

    vrrp_init(&vr, &c, 0);
    feed(&vr, VRRP_IN_START, 0, &out);
    EXPECT(&out, A_STATE(INIT, BACKUP, START));
    assert_int_equal(vrrp_deadline(&vr), S(3) + 3906);
    /* A lower priority master is ignored: the owner preempts when its timer fires. */
    hear(&vr, 100, "192.0.2.9", S(1), &out);
    assert_int_equal(out.n, 0);
    assert_int_equal(vrrp_deadline(&vr), S(3) + 3906);
    feed(&vr, VRRP_IN_TICK, S(3) + 3906, &out);
    EXPECT(&out, A_STATE(BACKUP, MASTER, PREEMPT), A_ADV(255), A_ADD, A_GARP(5));
}

static void election_by_priority(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(100, "192.0.2.1");

    make_master(&vr, &c, &out);
    hear(&vr, 150, "192.0.2.2", S(5), &out);
    EXPECT(&out, A_DEL, A_STATE(MASTER, BACKUP, HIGHER_PRIO));
    assert_int_equal(vrrp_deadline(&vr), S(5) + MDI100);
    assert_true(vr.master_known);
    assert_int_equal(vr.master_priority, 150);
    assert_true(
        ip_addr_eq(&vr.master_addr, &(struct ip_addr){.family = IP_V4, .b = {192, 0, 2, 2}}));

    c.higher_prio_send_advert = true;
    make_master(&vr, &c, &out);
    hear(&vr, 101, "192.0.2.2", S(5), &out);
    EXPECT(&out, A_ADV(100), A_DEL, A_STATE(MASTER, BACKUP, HIGHER_PRIO));
}

static void election_by_address(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(100, "192.0.2.5");

    make_master(&vr, &c, &out);
    /* Equal priority, lower address: we win and force a new election (RFC 9568 6.4.3). */
    hear(&vr, 100, "192.0.2.4", S(5), &out);
    EXPECT(&out, A_ADV(100), A_LOWER);
    assert_int_equal(vr.state, VRRP_STATE_MASTER);
    /* Equal priority, higher address: it wins (RFC 5798 6.4.3). */
    hear(&vr, 100, "192.0.2.6", S(5) + 1, &out);
    EXPECT(&out, A_DEL, A_STATE(MASTER, BACKUP, HIGHER_PRIO));
    /* As a backup, equal priority is a valid master whatever the address. */
    hear(&vr, 100, "192.0.2.4", S(6), &out);
    assert_int_equal(out.n, 0);
    assert_int_equal(vrrp_deadline(&vr), S(6) + MDI100);
}

static void two_owners_lower_address_yields(void **state)
{
    struct vrrp lo, hi;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(255, "192.0.2.1");

    c.init_master = true;
    vrrp_init(&lo, &c, 0);
    feed(&lo, VRRP_IN_START, 0, &out);
    c.src = ip("192.0.2.2");
    vrrp_init(&hi, &c, 0);
    feed(&hi, VRRP_IN_START, 0, &out);
    hear(&hi, 255, "192.0.2.1", MS(10), &out);
    EXPECT(&out, A_ADV(255), A_LOWER);
    hear(&lo, 255, "192.0.2.2", MS(10), &out);
    EXPECT(&out, A_DEL, A_STATE(MASTER, BACKUP, HIGHER_PRIO));
    /* It stays BACKUP while it hears the other owner. */
    hear(&lo, 255, "192.0.2.2", S(1), &out);
    assert_int_equal(out.n, 0);
    assert_int_equal(lo.state, VRRP_STATE_BACKUP);
    assert_int_equal(vrrp_deadline(&lo), S(1) + S(3) + 3906);
}

static void master_answers_lower_priority(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(100, "192.0.2.1");

    make_master(&vr, &c, &out);
    hear(&vr, 50, "192.0.2.2", S(5), &out);
    EXPECT(&out, A_ADV(100), A_LOWER);
    c.lower_prio_no_advert = true;
    c.garp_lower_prio_repeat = 2;
    make_master(&vr, &c, &out);
    hear(&vr, 50, "192.0.2.2", S(5), &out);
    EXPECT(&out, A_GARP(2), A_LOWER);
    /* Priority 0 from another master: assert at once, stay master. */
    hear(&vr, 0, "192.0.2.2", S(6), &out);
    EXPECT(&out, A_ADV(100));
    assert_int_equal(vr.cnt.prio_zero_rx, 1);
}

/* Backup 150 (MDI 3 s + 106/256 s) hearing a priority 100 master every second from 0.5 s. */
#define MDI150 (S(3) + 414062)

static void preempt_lower_priority_master(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(150, "192.0.2.1");

    vrrp_init(&vr, &c, 0);
    feed(&vr, VRRP_IN_START, 0, &out);
    for (int k = 0; k < 3; k++) {
        hear(&vr, 100, "192.0.2.2", MS(500) + S(k), &out);
        assert_int_equal(out.n, 0);
    }
    assert_true(vr.lower_master_heard);
    assert_int_equal(vrrp_deadline(&vr), MDI150);
    feed(&vr, VRRP_IN_TICK, MDI150, &out);
    EXPECT(&out, A_STATE(BACKUP, MASTER, PREEMPT), A_ADV(150), A_ADD, A_GARP(5));
}

static void nopreempt_keeps_lower_master(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(150, "192.0.2.1");

    c.nopreempt = true;
    vrrp_init(&vr, &c, 0);
    feed(&vr, VRRP_IN_START, 0, &out);
    for (int k = 0; k < 20; k++) {
        hear(&vr, 100, "192.0.2.2", MS(500) + S(k), &out);
        feed(&vr, VRRP_IN_TICK, S(k + 1), &out);
        assert_int_equal(out.n, 0);
    }
    assert_int_equal(vr.state, VRRP_STATE_BACKUP);
    assert_int_equal(vrrp_deadline(&vr), MS(19500) + MDI150);
    /* Silence still makes it master, for the plain reason. */
    feed(&vr, VRRP_IN_TICK, MS(19500) + MDI150, &out);
    EXPECT(&out, A_STATE(BACKUP, MASTER, MASTER_DOWN), A_ADV(150), A_ADD, A_GARP(5));
}

static void preempt_delay_postpones_preemption(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(150, "192.0.2.1");

    c.preempt_delay_us = S(2);
    vrrp_init(&vr, &c, 0);
    feed(&vr, VRRP_IN_START, 0, &out);
    /* 0.5 s starts the delay (until 2.5 s) and is accepted, as is 1.5 s. */
    hear(&vr, 100, "192.0.2.2", MS(500), &out);
    hear(&vr, 100, "192.0.2.2", MS(1500), &out);
    assert_int_equal(vrrp_deadline(&vr), MS(1500) + MDI150);
    /* From 2.5 s the lower master is ignored, so the timer set at 1.5 s fires. */
    hear(&vr, 100, "192.0.2.2", MS(2500), &out);
    hear(&vr, 100, "192.0.2.2", MS(3500), &out);
    assert_int_equal(out.n, 0);
    assert_int_equal(vrrp_deadline(&vr), MS(1500) + MDI150);
    feed(&vr, VRRP_IN_TICK, MS(1500) + MDI150, &out);
    EXPECT(&out, A_STATE(BACKUP, MASTER, PREEMPT), A_ADV(150), A_ADD, A_GARP(5));
}

static void preempt_delay_cancelled_by_better_master(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(150, "192.0.2.1");

    c.preempt_delay_us = S(2);
    vrrp_init(&vr, &c, 0);
    feed(&vr, VRRP_IN_START, 0, &out);
    hear(&vr, 100, "192.0.2.2", MS(500), &out);
    assert_int_equal(vr.t_preempt_until, MS(2500));
    hear(&vr, 200, "192.0.2.3", MS(600), &out);
    assert_int_equal(vr.t_preempt_until, MONO_NEVER);
    /* A lower master heard later starts a fresh delay. */
    hear(&vr, 100, "192.0.2.2", S(10), &out);
    assert_int_equal(vr.t_preempt_until, S(12));
    assert_int_equal(vrrp_deadline(&vr), S(10) + MDI150);
}

static void priority_zero_handover(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(100, "192.0.2.1");

    vrrp_init(&vr, &c, 0);
    feed(&vr, VRRP_IN_START, 0, &out);
    hear(&vr, 200, "192.0.2.2", S(1), &out);
    hear(&vr, 0, "192.0.2.2", S(2), &out);
    assert_int_equal(out.n, 0);
    assert_int_equal(vrrp_deadline(&vr), S(2) + SKEW100);
    feed(&vr, VRRP_IN_TICK, S(2) + SKEW100, &out);
    EXPECT(&out, A_STATE(BACKUP, MASTER, PRIO_ZERO), A_ADV(100), A_ADD, A_GARP(5));
    assert_int_equal(vr.cnt.prio_zero_rx, 1);
}

/* Graceful stop: skew of priority 1 (255/256 s) plus one interval when no margin is set. */
#define HANDOVER (996093 + S(1))

static void graceful_stop_hears_new_master(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(100, "192.0.2.1");

    c.graceful_stop = true;
    make_master(&vr, &c, &out);
    feed(&vr, VRRP_IN_STOP, S(10), &out);
    EXPECT(&out, A_ADV(0));
    assert_int_equal(vr.state, VRRP_STATE_MASTER);
    assert_true(vr.stopping);
    assert_int_equal(vrrp_deadline(&vr), S(10) + HANDOVER);
    /* No more adverts while stopping; another priority 0 is not the new master. */
    feed(&vr, VRRP_IN_TICK, S(11), &out);
    assert_int_equal(out.n, 0);
    hear(&vr, 0, "192.0.2.3", S(11), &out);
    assert_int_equal(out.n, 0);
    /* The new master is heard: the VIPs stay for the overlap, however often it speaks. */
    hear(&vr, 90, "192.0.2.2", S(11) + 1, &out);
    assert_int_equal(out.n, 0);
    assert_int_equal(vrrp_deadline(&vr), S(11) + 1 + VRRP_HANDOVER_OVERLAP_US);
    hear(&vr, 90, "192.0.2.2", S(11) + 2, &out);
    assert_int_equal(vrrp_deadline(&vr), S(11) + 1 + VRRP_HANDOVER_OVERLAP_US);
    feed(&vr, VRRP_IN_TICK, S(11) + VRRP_HANDOVER_OVERLAP_US, &out);
    assert_int_equal(out.n, 0);
    feed(&vr, VRRP_IN_TICK, S(11) + 1 + VRRP_HANDOVER_OVERLAP_US, &out);
    EXPECT(&out, A_DEL, A_STATE(MASTER, STOPPED, HANDOVER_DONE));
    assert_int_equal(vrrp_deadline(&vr), MONO_NEVER);
    assert_int_equal(vr.cnt.prio_zero_tx, 1);
}

static void graceful_stop_deadline(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(100, "192.0.2.1");

    c.graceful_stop = true;
    c.graceful_margin_us = MS(250);
    make_master(&vr, &c, &out);
    feed(&vr, VRRP_IN_STOP, S(10), &out);
    EXPECT(&out, A_ADV(0));
    assert_int_equal(vrrp_deadline(&vr), S(10) + 996093 + MS(250));
    feed(&vr, VRRP_IN_TICK, S(10) + 996093 + MS(250) - 1, &out);
    assert_int_equal(out.n, 0);
    feed(&vr, VRRP_IN_TICK, S(10) + 996093 + MS(250), &out);
    EXPECT(&out, A_DEL, A_STATE(MASTER, STOPPED, HANDOVER_DONE));
}

static void plain_stop(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(100, "192.0.2.1");

    make_master(&vr, &c, &out);
    feed(&vr, VRRP_IN_STOP, S(10), &out);
    EXPECT(&out, A_ADV(0), A_DEL, A_STATE(MASTER, STOPPED, STOP));
    feed(&vr, VRRP_IN_STOP, S(11), &out);
    assert_int_equal(out.n, 0);
    vrrp_init(&vr, &c, 0);
    feed(&vr, VRRP_IN_START, 0, &out);
    feed(&vr, VRRP_IN_STOP, S(1), &out);
    EXPECT(&out, A_STATE(BACKUP, STOPPED, STOP));
    assert_int_equal(vrrp_deadline(&vr), MONO_NEVER);
}

/* Checks that an advert is dropped for reason why and leaves everything else as it was. */
static void expect_drop(struct vrrp *vr, const struct vrrp_pkt *p, const char *src, uint8_t ttl,
                        bool mcast, enum vrrp_drop why)
{
    struct vrrp_acts out;
    enum vrrp_state st = vr->state;
    mono_us dl = vrrp_deadline(vr);
    uint64_t before = vr->cnt.drops[why], rx = vr->cnt.adverts_rx;

    hear_full(vr, p, src, ttl, mcast, S(1), &out);
    assert_int_equal(out.n, 0);
    assert_int_equal(vr->state, st);
    assert_int_equal(vrrp_deadline(vr), dl);
    assert_int_equal(vr->cnt.drops[why], before + 1);
    assert_int_equal(vr->cnt.adverts_rx, rx);
}

static void drops_leave_state_alone(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(100, "192.0.2.1");
    struct vrrp_pkt p = pkt(2, 0, 100);

    /* v2 multicast with PASS auth, as master (priority 0 would otherwise be answered). */
    c.version = 2;
    c.auth_type = VRRP_AUTH_PASS;
    memcpy(c.auth_pass, "secret\0\0", VRRP_AUTH_LEN);
    make_master(&vr, &c, &out);
    p.auth_type = VRRP_AUTH_PASS;
    memcpy(p.auth_data, "secret\0\0", VRRP_AUTH_LEN);
    expect_drop(&vr, &p, "192.0.2.2", 64, true, VRRP_DROP_BAD_TTL);
    p.version = 3;
    expect_drop(&vr, &p, "192.0.2.2", 255, true, VRRP_DROP_VERSION_MISMATCH);
    p.version = 2;
    p.auth_data[5] = 'T';
    expect_drop(&vr, &p, "192.0.2.2", 255, true, VRRP_DROP_AUTH_MISMATCH);
    p.auth_data[5] = 't';
    p.auth_type = VRRP_AUTH_NONE;
    expect_drop(&vr, &p, "192.0.2.2", 255, true, VRRP_DROP_AUTH_MISMATCH);
    p.auth_type = VRRP_AUTH_PASS;
    p.adver_int_cs = 200;
    expect_drop(&vr, &p, "192.0.2.2", 255, true, VRRP_DROP_INTERVAL_MISMATCH);
    p.adver_int_cs = 100;
    expect_drop(&vr, &p, "192.0.2.2", 255, false, VRRP_DROP_BAD_DEST);
    expect_drop(&vr, &p, "192.0.2.1", 255, true, VRRP_DROP_OWN);
    p.vrid = 8;
    expect_drop(&vr, &p, "192.0.2.2", 255, true, VRRP_DROP_UNKNOWN_VRID);
    p.vrid = 7;
    /* The same packet, valid, is answered. */
    hear_full(&vr, &p, "192.0.2.2", 255, true, S(2), &out);
    EXPECT(&out, A_ADV(100));
}

static void unicast_policy(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(100, "192.0.2.1");
    struct ip_addr peers[2] = {ip("192.0.2.2"), ip("192.0.2.3")};
    struct vrrp_pkt p = pkt(3, 200, 100);

    c.unicast = true;
    c.peers = peers;
    c.npeers = 2;
    c.check_unicast_src = true;
    vrrp_init(&vr, &c, 0);
    feed(&vr, VRRP_IN_START, 0, &out);
    expect_drop(&vr, &p, "192.0.2.9", 255, false, VRRP_DROP_BAD_SOURCE);
    expect_drop(&vr, &p, "192.0.2.3", 255, true, VRRP_DROP_BAD_DEST);
    /* TTL is not checked for unicast. */
    hear_full(&vr, &p, "192.0.2.3", 60, false, S(2), &out);
    assert_int_equal(vr.cnt.adverts_rx, 1);
    assert_int_equal(vrrp_deadline(&vr), S(2) + MDI100);
    /* Without check_unicast_src any source is accepted. */
    c.check_unicast_src = false;
    vrrp_init(&vr, &c, 0);
    feed(&vr, VRRP_IN_START, 0, &out);
    hear_full(&vr, &p, "192.0.2.9", 255, false, S(2), &out);
    assert_int_equal(vr.cnt.adverts_rx, 1);
}

static void v3_backup_adopts_master_interval(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(100, "192.0.2.1");
    struct vrrp_pkt p = pkt(3, 200, 50);

    vrrp_init(&vr, &c, 0);
    feed(&vr, VRRP_IN_START, 0, &out);
    hear_full(&vr, &p, "192.0.2.2", 255, true, S(1), &out);
    assert_int_equal(vr.master_adver_int_cs, 50);
    /* 3 * 0.5 s + 156 * 0.5 s / 256 */
    assert_int_equal(vrrp_deadline(&vr), S(1) + MS(1500) + 304687);
    /* Once master it advertises its own configured interval. */
    feed(&vr, VRRP_IN_TICK, vrrp_deadline(&vr), &out);
    assert_int_equal(vr.state, VRRP_STATE_MASTER);
    assert_int_equal(vrrp_deadline(&vr), S(1) + MS(1500) + 304687 + S(1));
}

static void fault_and_clear(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(100, "192.0.2.1");

    make_master(&vr, &c, &out);
    feed(&vr, VRRP_IN_FAULT, S(10), &out);
    EXPECT(&out, A_ADV(0), A_DEL, A_STATE(MASTER, FAULT, FAULT));
    assert_int_equal(vrrp_deadline(&vr), MONO_NEVER);
    hear(&vr, 50, "192.0.2.2", S(11), &out);
    assert_int_equal(out.n, 0);
    feed(&vr, VRRP_IN_FAULT, S(11), &out);
    assert_int_equal(out.n, 0);
    feed(&vr, VRRP_IN_FAULT_CLEAR, S(12), &out);
    EXPECT(&out, A_STATE(FAULT, BACKUP, FAULT_CLEARED));
    assert_int_equal(vrrp_deadline(&vr), S(12) + MDI100);
    /* A backup enters FAULT without adverts; an owner "state MASTER" comes back master. */
    feed(&vr, VRRP_IN_FAULT, S(13), &out);
    EXPECT(&out, A_STATE(BACKUP, FAULT, FAULT));
    c = cfg_v3(255, "192.0.2.1");
    c.init_master = true;
    vrrp_init(&vr, &c, 0);
    feed(&vr, VRRP_IN_FAULT, 0, &out);
    EXPECT(&out, A_STATE(INIT, FAULT, FAULT));
    feed(&vr, VRRP_IN_FAULT_CLEAR, S(1), &out);
    EXPECT(&out, A_STATE(FAULT, MASTER, FAULT_CLEARED), A_ADV(255), A_ADD, A_GARP(5));
}

static void tracked_priority_change_preempts(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(100, "192.0.2.1");

    vrrp_init(&vr, &c, 0);
    feed(&vr, VRRP_IN_START, 0, &out);
    hear(&vr, 120, "192.0.2.2", S(1), &out);
    feed_prio(&vr, 130, MS(1500), &out);
    assert_int_equal(out.n, 0);
    assert_int_equal(vr.eff_priority, 130);
    /* The 120 master is now lower: ignored, so the timer armed at 1 s fires. */
    hear(&vr, 120, "192.0.2.2", S(2), &out);
    hear(&vr, 120, "192.0.2.2", S(3), &out);
    assert_int_equal(vrrp_deadline(&vr), S(1) + MDI100);
    feed(&vr, VRRP_IN_TICK, S(1) + MDI100, &out);
    EXPECT(&out, A_STATE(BACKUP, MASTER, PREEMPT), A_ADV(130), A_ADD, A_GARP(5));
    /* A master's next advert carries a lowered priority (clamped to 1..254). */
    feed_prio(&vr, 0, S(5), &out);
    assert_int_equal(vr.eff_priority, 1);
    feed(&vr, VRRP_IN_TICK, S(1) + MDI100 + S(1), &out);
    EXPECT(&out, A_ADV(1));
    struct vrrp_transition *h = &vr.hist[(vr.hist_n - 1) % VRRP_HISTORY];
    assert_int_equal(h->to, VRRP_STATE_MASTER);
    assert_int_equal(h->reason, VRRP_WHY_PREEMPT);
    assert_int_equal(h->priority, 130);
    assert_int_equal(h->at, S(1) + MDI100);
}

static void sync_inputs_force_state(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(100, "192.0.2.1");
    struct vrrp_in in = {.kind = VRRP_IN_SYNC_MASTER, .u.reason = VRRP_WHY_SYNC_GROUP};

    vrrp_init(&vr, &c, 0);
    feed(&vr, VRRP_IN_START, 0, &out);
    out.n = 0;
    vrrp_step(&vr, &in, S(1), &out);
    EXPECT(&out, A_STATE(BACKUP, MASTER, SYNC_GROUP), A_ADV(100), A_ADD, A_GARP(5));
    in.kind = VRRP_IN_SYNC_BACKUP;
    out.n = 0;
    vrrp_step(&vr, &in, S(2), &out);
    EXPECT(&out, A_ADV(0), A_DEL, A_STATE(MASTER, BACKUP, SYNC_GROUP));
    assert_int_equal(vrrp_deadline(&vr), S(2) + MDI100);
}

static void history_ring_and_reconfigure(void **state)
{
    struct vrrp vr;
    struct vrrp_acts out;
    struct vrrp_cfg c = cfg_v3(100, "192.0.2.1");

    vrrp_init(&vr, &c, 0);
    feed(&vr, VRRP_IN_START, 0, &out);
    for (int k = 0; k < 10; k++) {
        feed(&vr, VRRP_IN_FAULT, S(2 * k + 1), &out);
        feed(&vr, VRRP_IN_FAULT_CLEAR, S(2 * k + 2), &out);
    }
    assert_int_equal(vr.hist_n, 21);
    assert_int_equal(vr.cnt.transitions, 21);
    assert_int_equal(vr.hist[(vr.hist_n - 1) % VRRP_HISTORY].at, S(20));
    assert_int_equal(vr.hist[(vr.hist_n - 2) % VRRP_HISTORY].reason, VRRP_WHY_FAULT);
    /* Reload: a master stays master with its VIPs; the advert is never postponed. */
    feed(&vr, VRRP_IN_TICK, vrrp_deadline(&vr), &out);
    assert_int_equal(vr.state, VRRP_STATE_MASTER);
    mono_us next = vrrp_deadline(&vr);
    c.priority = 120;
    c.adver_int_cs = 300;
    out.n = 0;
    vrrp_reconfigure(&vr, &c, next - MS(100), &out);
    assert_int_equal(out.n, 0);
    assert_int_equal(vr.state, VRRP_STATE_MASTER);
    assert_int_equal(vrrp_deadline(&vr), next);
    feed(&vr, VRRP_IN_TICK, next, &out);
    EXPECT(&out, A_ADV(120));
    assert_int_equal(vrrp_deadline(&vr), next + S(3));
    /* Same base priority: the tracker-made effective priority survives the reload. */
    feed_prio(&vr, 90, next + 1, &out);
    c.adver_int_cs = 100;
    vrrp_reconfigure(&vr, &c, next + 2, &out);
    assert_int_equal(vr.eff_priority, 90);
    assert_int_equal(vrrp_deadline(&vr), next + 2 + S(1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timers_formulas),
        cmocka_unit_test(start_backup_then_master_down),
        cmocka_unit_test(owner_starts_master),
        cmocka_unit_test(resume_as_master_without_garp),
        cmocka_unit_test(owner_backup_takes_over_after_owner_skew),
        cmocka_unit_test(election_by_priority),
        cmocka_unit_test(election_by_address),
        cmocka_unit_test(two_owners_lower_address_yields),
        cmocka_unit_test(master_answers_lower_priority),
        cmocka_unit_test(preempt_lower_priority_master),
        cmocka_unit_test(nopreempt_keeps_lower_master),
        cmocka_unit_test(preempt_delay_postpones_preemption),
        cmocka_unit_test(preempt_delay_cancelled_by_better_master),
        cmocka_unit_test(priority_zero_handover),
        cmocka_unit_test(graceful_stop_hears_new_master),
        cmocka_unit_test(graceful_stop_deadline),
        cmocka_unit_test(plain_stop),
        cmocka_unit_test(drops_leave_state_alone),
        cmocka_unit_test(unicast_policy),
        cmocka_unit_test(v3_backup_adopts_master_interval),
        cmocka_unit_test(fault_and_clear),
        cmocka_unit_test(tracked_priority_change_preempts),
        cmocka_unit_test(sync_inputs_force_state),
        cmocka_unit_test(history_ring_and_reconfigure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
