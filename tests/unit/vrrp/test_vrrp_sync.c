/* Unit tests for VRRP sync groups (vrrp_sync.c): members go MASTER together only when all
 * may, follow each other to BACKUP, share FAULT and leave it together. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/addr.h"
#include "proto/vrrp/vrrp.h"
#include "proto/vrrp/vrrp_sync.h"

#define S(x)   MONO_S(x)
#define MDI100 (S(3) + 609375)

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

struct fixture {
    struct vrrp m[2];
    struct vrrp *ptr[2];
    struct vrrp_sync g;
    struct vrrp_acts outs[2];
    struct vrrp_pkt pkt;
};

static void setup_group(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    for (unsigned i = 0; i < 2; i++) {
        struct vrrp_cfg c = {.version = 3,
                             .family = IP_V4,
                             .vrid = (uint8_t)(10 + i),
                             .priority = 100,
                             .adver_int_cs = 100,
                             .down_timer_adverts = 3,
                             .garp_repeat = 5};

        assert_true(ip_addr_parse("192.0.2.1", &c.src));
        vrrp_init(&f->m[i], &c, 0);
        f->ptr[i] = &f->m[i];
    }
    vrrp_sync_init(&f->g, f->ptr, 2);
}

static void run(struct fixture *f, unsigned i, enum vrrp_in_kind kind, mono_us now)
{
    struct vrrp_in in = {.kind = kind};

    f->outs[0].n = f->outs[1].n = 0;
    vrrp_sync_step(&f->g, i, &in, now, f->outs);
}

static void hear(struct fixture *f, unsigned i, uint8_t prio, mono_us now)
{
    struct vrrp_in in = {.kind = VRRP_IN_ADVERT};

    f->pkt = (struct vrrp_pkt){.version = 3,
                               .type = VRRP_TYPE_ADVERT,
                               .vrid = f->m[i].cfg.vrid,
                               .priority = prio,
                               .family = IP_V4,
                               .adver_int_cs = 100};
    in.u.advert.pkt = &f->pkt;
    assert_true(ip_addr_parse("192.0.2.2", &in.u.advert.src));
    in.u.advert.ttl = 255;
    in.u.advert.to_multicast = true;
    f->outs[0].n = f->outs[1].n = 0;
    vrrp_sync_step(&f->g, i, &in, now, f->outs);
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

/* Both members started, then both made MASTER together by their timers. */
static void start_both_master(struct fixture *f)
{
    run(f, 0, VRRP_IN_START, 0);
    run(f, 1, VRRP_IN_START, 0);
    run(f, 0, VRRP_IN_TICK, MDI100);
    assert_int_equal(f->m[0].state, VRRP_STATE_MASTER);
    assert_int_equal(f->m[1].state, VRRP_STATE_MASTER);
}

static void master_only_when_all_may(void **state)
{
    struct fixture f;

    setup_group(&f);
    run(&f, 0, VRRP_IN_START, 0);
    EXPECT(&f.outs[0], A_STATE(INIT, BACKUP, START));
    assert_int_equal(f.outs[1].n, 0);
    run(&f, 1, VRRP_IN_START, 0);
    hear(&f, 1, 200, S(1)); /* member 1 still hears its master */
    /* Member 0's timer fires but member 1 may not go master: held. */
    assert_int_equal(vrrp_sync_deadline(&f.g, 0, MDI100 - 1), MDI100);
    assert_false(vrrp_sync_may_master(&f.g, 0, MDI100));
    assert_true(vrrp_sync_held(&f.g, 0, MDI100));
    run(&f, 0, VRRP_IN_TICK, MDI100);
    assert_int_equal(f.outs[0].n, 0);
    assert_int_equal(f.m[0].state, VRRP_STATE_BACKUP);
    assert_int_equal(vrrp_sync_deadline(&f.g, 0, MDI100), MONO_NEVER);
    assert_int_equal(vrrp_sync_deadline(&f.g, 1, MDI100), S(1) + MDI100);
    /* Member 1's master goes silent too: the whole group goes MASTER. */
    run(&f, 1, VRRP_IN_TICK, S(1) + MDI100);
    EXPECT(&f.outs[1], A_STATE(BACKUP, MASTER, MASTER_DOWN), A_ADV(100), A_ADD, A_GARP(5));
    EXPECT(&f.outs[0], A_STATE(BACKUP, MASTER, SYNC_GROUP), A_ADV(100), A_ADD, A_GARP(5));
}

static void held_member_released_by_advert(void **state)
{
    struct fixture f;

    setup_group(&f);
    run(&f, 0, VRRP_IN_START, 0);
    run(&f, 1, VRRP_IN_START, 0);
    hear(&f, 1, 200, S(1));
    run(&f, 0, VRRP_IN_TICK, MDI100);
    assert_true(vrrp_sync_held(&f.g, 0, MDI100));
    hear(&f, 0, 200, S(4));
    assert_false(vrrp_sync_held(&f.g, 0, S(4)));
    assert_int_equal(vrrp_sync_deadline(&f.g, 0, S(4)), S(4) + MDI100);
}

static void backup_together(void **state)
{
    struct fixture f;

    setup_group(&f);
    start_both_master(&f);
    hear(&f, 0, 150, S(5));
    EXPECT(&f.outs[0], A_DEL, A_STATE(MASTER, BACKUP, HIGHER_PRIO));
    EXPECT(&f.outs[1], A_ADV(0), A_DEL, A_STATE(MASTER, BACKUP, SYNC_GROUP));
}

static void fault_together_and_clear_together(void **state)
{
    struct fixture f;

    setup_group(&f);
    start_both_master(&f);
    run(&f, 0, VRRP_IN_FAULT, S(5));
    EXPECT(&f.outs[0], A_ADV(0), A_DEL, A_STATE(MASTER, FAULT, FAULT));
    EXPECT(&f.outs[1], A_ADV(0), A_DEL, A_STATE(MASTER, FAULT, SYNC_GROUP));
    /* Member 1 gets a fault of its own while already in FAULT. */
    run(&f, 1, VRRP_IN_FAULT, S(6));
    assert_int_equal(f.outs[0].n + f.outs[1].n, 0);
    assert_int_equal(f.g.own_fault, 3);
    run(&f, 0, VRRP_IN_FAULT_CLEAR, S(7));
    assert_int_equal(f.outs[0].n + f.outs[1].n, 0);
    assert_int_equal(f.m[0].state, VRRP_STATE_FAULT);
    run(&f, 1, VRRP_IN_FAULT_CLEAR, S(8));
    EXPECT(&f.outs[0], A_STATE(FAULT, BACKUP, FAULT_CLEARED));
    EXPECT(&f.outs[1], A_STATE(FAULT, BACKUP, FAULT_CLEARED));
    assert_int_equal(f.g.own_fault, 0);
    assert_int_equal(vrrp_sync_deadline(&f.g, 0, S(8)), S(8) + MDI100);
}

static void follow_and_admit_low_level(void **state)
{
    struct fixture f;
    struct vrrp_sync_in q[4];
    const struct vrrp_act induced[] = {A_STATE(BACKUP, MASTER, SYNC_GROUP)};
    const struct vrrp_act own[] = {A_ADV(100), A_STATE(BACKUP, MASTER, PREEMPT)};
    struct vrrp_in in = {.kind = VRRP_IN_PRIORITY, .u.priority = 90};

    setup_group(&f);
    run(&f, 0, VRRP_IN_START, 0);
    run(&f, 1, VRRP_IN_START, 0);
    assert_int_equal(vrrp_sync_follow(&f.g, 0, induced, 1, q, 4), 0);
    assert_int_equal(vrrp_sync_follow(&f.g, 0, own, 2, q, 4), 1);
    assert_int_equal(q[0].member, 1);
    assert_int_equal(q[0].in.kind, VRRP_IN_SYNC_MASTER);
    assert_int_equal(q[0].in.u.reason, VRRP_WHY_SYNC_GROUP);
    assert_int_equal(vrrp_sync_admit(&f.g, 1, &in, S(1), q, 4), 1);
    assert_int_equal(q[0].member, 1);
    assert_int_equal(q[0].in.kind, VRRP_IN_PRIORITY);
    assert_int_equal(q[0].in.u.priority, 90);
    assert_int_equal(vrrp_sync_admit(&f.g, 5, &in, S(1), q, 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(master_only_when_all_may),
        cmocka_unit_test(held_member_released_by_advert),
        cmocka_unit_test(backup_together),
        cmocka_unit_test(fault_together_and_clear_together),
        cmocka_unit_test(follow_and_admit_low_level),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
