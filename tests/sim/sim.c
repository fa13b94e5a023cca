/* The VRRP simulator engine: event queue, links, node actions and invariants.
 *
 * Time advances to the earlier of the next queued event and the earliest core deadline; ties
 * go to queued events in scheduling order, so a run depends on the seed alone.
 *
 * Invariants, checked after every event:
 *  - safety, always: a node holds a LAN's VIP only while its core there is MASTER;
 *  - liveness and election, once converged: one settle time (one worst-case
 *    Master_Down_Interval, plus one advert interval and two link delays for the advert that
 *    settles a double master) after the last change to the fault schedule, with no packet
 *    loss, each connected partition of a LAN that has an eligible core (BACKUP or MASTER,
 *    not stopping) has exactly one master, it holds the VIP and no one else in the partition
 *    does, and its effective priority is the highest in the partition unless nopreempt or
 *    preempt_delay explain otherwise. Equal priorities do not preempt a running master
 *    (RFC 5798 6.4.2), so any of the tied highest is accepted. In a sync group a partition may
 *    lack a master (the group does not go MASTER unless every member may), and a member cannot
 *    preempt while its group partners still accept their masters, so there the check is "at
 *    most one master", plus "every member of a node's group is in the same state". */
#include "sim.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "base/addr.h"
#include "proto/vrrp/vrrp_pkt.h"

static const struct ip_addr mcast4 = {.family = IP_V4, .b = {224, 0, 0, 18}};

static void tracef(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tracef(struct sim *s, const char *fmt, ...)
{
    char *line = s->trace[s->ntrace++ % SIM_TRACE];
    int n = snprintf(line, sizeof(s->trace[0]), "%10.6f ", (double)s->now / 1e6);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(s->trace[0]) - (size_t)n, fmt, ap);
    va_end(ap);
}

static void fail(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct sim *s, const char *fmt, ...)
{
    va_list ap;

    if (s->failed)
        return;
    s->failed = true;
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof(s->why), fmt, ap);
    va_end(ap);
}

static struct sim_event *push_event(struct sim *s, mono_us at, enum sim_ev_kind kind)
{
    struct sim_event *e;

    if (s->nev >= SIM_EVENTS) {
        fail(s, "event queue full");
        return NULL;
    }
    e = &s->ev[s->nev++];
    *e = (struct sim_event){.at = at, .seq = s->seq++, .kind = (uint8_t)kind};
    return e;
}

void sim_at(struct sim *s, mono_us at, enum sim_ev_kind kind, unsigned node, unsigned lan, int arg)
{
    struct sim_event *e = push_event(s, at, kind);

    if (e) {
        e->node = (uint8_t)node;
        e->lan = (uint8_t)lan;
        e->arg = arg;
    }
}

static mono_us iv_us(const struct sim *s)
{
    return (mono_us)s->set.adver_int_cs * 10000;
}

static struct vrrp_cfg make_cfg(const struct sim *s, unsigned n, unsigned lan)
{
    const struct sim_setup *u = &s->set;
    struct vrrp_cfg c = {
        .version = u->version,
        .family = IP_V4,
        .vrid = (uint8_t)(lan + 1),
        .priority = u->prio[n][lan] ? u->prio[n][lan] : VRRP_PRIO_DEFAULT,
        .adver_int_cs = u->adver_int_cs,
        .down_timer_adverts = 3,
        .nopreempt = u->nopreempt,
        .preempt_delay_us = u->preempt_delay_us,
        .src = s->node[n].addr,
        .garp_repeat = 5,
        .garp_delay_us = MONO_S(5),
        .garp_refresh_repeat = 1,
        .higher_prio_send_advert = u->higher_prio_send_advert,
        .lower_prio_no_advert = u->lower_prio_no_advert,
        .graceful_stop = u->graceful_stop,
    };

    c.init_master = u->owner_init_master && c.priority == VRRP_PRIO_OWNER;
    return c;
}

void sim_init(struct sim *s, uint64_t seed, const struct sim_setup *set)
{
    memset(s, 0, sizeof(*s));
    s->set = *set;
    if (!s->set.version)
        s->set.version = 3;
    if (!s->set.adver_int_cs)
        s->set.adver_int_cs = 100;
    if (!s->set.delay_min_us && !s->set.delay_jitter_us) {
        s->set.delay_min_us = 200;
        s->set.delay_jitter_us = 800;
    }
    s->seed = seed;
    for (unsigned l = 0; l < SIM_LANS; l++)
        s->gap_from[l] = MONO_NEVER;
    rng_seed(&s->rng, seed);
    for (unsigned n = 0; n < s->set.nnodes; n++) {
        struct sim_node *nd = &s->node[n];

        nd->addr = (struct ip_addr){.family = IP_V4, .b = {192, 0, 2, (uint8_t)(10 + n)}};
        for (unsigned l = 0; l < s->set.nlans; l++) {
            nd->in[l].cfg = make_cfg(s, n, l);
            nd->ptr[l] = &nd->in[l].core;
            vrrp_init(&nd->in[l].core, &nd->in[l].cfg, 0);
            nd->in[l].core.state = VRRP_STATE_STOPPED; /* down until SIM_RESTART */
        }
    }
    if (s->set.track_weight) {
        struct sim_inst *in = &s->node[0].in[0];

        in->has_track = true;
        in->track_weight = s->set.track_weight;
        vrrp_tracker_init(&in->track, s->set.track_weight, false, s->set.track_rise,
                          s->set.track_fall, false);
    }
    /* Worst-case Master_Down_Interval (priority 1), one more interval, two link delays. */
    s->settle_us = 4 * iv_us(s) + iv_us(s) + 2 * (s->set.delay_min_us + s->set.delay_jitter_us);
    /* preempt_delay runs from the first lower-priority advert, itself up to an MDI late. */
    if (s->set.preempt_delay_us > 0)
        s->settle_us += s->set.preempt_delay_us + 4 * iv_us(s);
}

/* ---- links ------------------------------------------------------------------------------- */

static bool linked(const struct sim *s, unsigned a, unsigned b, unsigned lan)
{
    return s->node[a].up && s->node[b].up && s->node[a].part[lan] == s->node[b].part[lan];
}

static void send_advert(struct sim *s, unsigned n, unsigned lan, uint8_t prio)
{
    struct sim_node *nd = &s->node[n];
    struct ip_addr vip = {.family = IP_V4, .b = {203, 0, 113, (uint8_t)(lan + 1)}};
    struct vrrp_advert adv = {
        .version = s->set.version,
        .vrid = (uint8_t)(lan + 1),
        .priority = prio,
        .family = IP_V4,
        .cksum_form = VRRP_CKSUM_PSEUDO,
        .adver_int_cs = nd->in[lan].cfg.adver_int_cs,
        .naddr = 1,
        .addrs = &vip,
    };
    uint8_t buf[SIM_PKT];
    size_t len = vrrp_pkt_encode(&adv, &nd->addr, &mcast4, buf, sizeof(buf));

    if (len == 0) {
        fail(s, "node %u lan %u: advert did not encode", n, lan);
        return;
    }
    /* Multicast loops back to the sender too, as IP_MULTICAST_LOOP would. */
    for (unsigned m = 0; m < s->set.nnodes; m++) {
        struct sim_event *e;

        if (!linked(s, n, m, lan))
            continue;
        if (m != n && rng_below(&s->rng, 100) < s->loss_pct) {
            s->lost++;
            continue;
        }
        e = push_event(s,
                       s->now + s->set.delay_min_us +
                           (mono_us)rng_below(&s->rng, (uint64_t)s->set.delay_jitter_us + 1),
                       SIM_DELIVER);
        if (!e)
            return;
        e->node = (uint8_t)m;
        e->from = (uint8_t)n;
        e->lan = (uint8_t)lan;
        e->len = (uint8_t)len;
        memcpy(e->pkt, buf, len);
    }
}

/* ---- feeding cores ----------------------------------------------------------------------- */

static void apply(struct sim *s, unsigned n, unsigned lan, const struct vrrp_acts *out)
{
    struct sim_inst *in = &s->node[n].in[lan];

    for (unsigned i = 0; i < out->n; i++) {
        const struct vrrp_act *a = &out->a[i];

        switch (a->kind) {
        case VRRP_ACT_SEND_ADVERT:
            send_advert(s, n, lan, a->priority);
            break;
        case VRRP_ACT_ADD_VIPS:
            in->vip = true;
            s->adds[lan]++;
            break;
        case VRRP_ACT_DEL_VIPS:
            in->vip = false;
            break;
        case VRRP_ACT_STATE:
            tracef(s, "n%u lan%u %s -> %s (%s) prio %u", n, lan,
                   vrrp_state_name((enum vrrp_state)a->from),
                   vrrp_state_name((enum vrrp_state)a->to),
                   vrrp_reason_name((enum vrrp_reason)a->reason), in->core.eff_priority);
            break;
        case VRRP_ACT_SEND_GARP:
        case VRRP_ACT_LOWER_PRIO_SEEN:
        case VRRP_ACT__COUNT:
            break;
        }
    }
}

static void feed(struct sim *s, unsigned n, unsigned lan, const struct vrrp_in *in)
{
    struct sim_node *nd = &s->node[n];

    if (s->set.sync) {
        struct vrrp_acts outs[SIM_LANS] = {{0}};

        vrrp_sync_step(&nd->sync, lan, in, s->now, outs);
        for (unsigned l = 0; l < s->set.nlans; l++)
            apply(s, n, l, &outs[l]);
    } else {
        struct vrrp_acts out = {0};

        vrrp_step(&nd->in[lan].core, in, s->now, &out);
        apply(s, n, lan, &out);
    }
}

static void feed_kind(struct sim *s, unsigned n, unsigned lan, enum vrrp_in_kind kind, int arg)
{
    struct vrrp_in in = {.kind = kind};

    if (kind == VRRP_IN_PRIORITY)
        in.u.priority = (uint8_t)arg;
    feed(s, n, lan, &in);
}

static mono_us inst_deadline(const struct sim *s, unsigned n, unsigned lan)
{
    const struct sim_node *nd = &s->node[n];

    if (!nd->up)
        return MONO_NEVER;
    if (s->set.sync)
        return vrrp_sync_deadline(&nd->sync, lan, s->now);
    return vrrp_deadline(&nd->in[lan].core);
}

static void deliver(struct sim *s, const struct sim_event *e)
{
    struct sim_node *src = &s->node[e->from];
    struct vrrp_pkt p;
    struct vrrp_in in = {.kind = VRRP_IN_ADVERT};
    enum vrrp_drop d;

    if (!linked(s, e->from, e->node, e->lan))
        return; /* partitioned or crashed while in flight */
    d = vrrp_pkt_decode(e->pkt, e->len, IP_V4, &src->addr, &mcast4, &p);
    if (d != VRRP_DROP_NONE) {
        fail(s, "codec dropped our own advert: %s", vrrp_drop_name(d));
        return;
    }
    s->delivered++;
    in.u.advert.pkt = &p;
    in.u.advert.src = src->addr;
    in.u.advert.ttl = VRRP_TTL;
    in.u.advert.to_multicast = true;
    feed(s, e->node, e->lan, &in);
}

/* ---- schedule events --------------------------------------------------------------------- */

static void crash(struct sim *s, unsigned n)
{
    struct sim_node *nd = &s->node[n];

    nd->up = false;
    for (unsigned l = 0; l < s->set.nlans; l++) {
        nd->in[l].vip = false;
        nd->in[l].core.state = VRRP_STATE_STOPPED;
    }
}

static void restart(struct sim *s, unsigned n)
{
    struct sim_node *nd = &s->node[n];

    if (nd->up)
        crash(s, n);
    nd->up = true;
    for (unsigned l = 0; l < s->set.nlans; l++) {
        vrrp_init(&nd->in[l].core, &nd->in[l].cfg, s->now);
        nd->in[l].track_fault = false;
        if (nd->in[l].has_track)
            vrrp_tracker_init(&nd->in[l].track, nd->in[l].track_weight, false, s->set.track_rise,
                              s->set.track_fall, false);
    }
    vrrp_sync_init(&nd->sync, nd->ptr, s->set.nlans);
    for (unsigned l = 0; l < s->set.nlans; l++)
        feed_kind(s, n, l, VRRP_IN_START, 0);
}

static void track(struct sim *s, unsigned n, unsigned lan, bool ok)
{
    struct sim_inst *in = &s->node[n].in[lan];
    struct vrrp_track_ref ref;
    struct vrrp_prio p;

    if (!in->has_track || !vrrp_tracker_feed(&in->track, ok))
        return;
    ref = vrrp_track_ref_default(&in->track);
    p = vrrp_effective_priority(in->cfg.priority, &ref, 1, NULL, 0);
    tracef(s, "n%u lan%u tracker %s -> priority %u%s", n, lan, in->track.up ? "up" : "down",
           p.priority, p.fault ? " FAULT" : "");
    if (p.fault != in->track_fault)
        feed_kind(s, n, lan, p.fault ? VRRP_IN_FAULT : VRRP_IN_FAULT_CLEAR, 0);
    in->track_fault = p.fault;
    feed_kind(s, n, lan, VRRP_IN_PRIORITY, p.priority);
}

static void set_partition(struct sim *s, unsigned n, unsigned lan, int part)
{
    for (unsigned l = 0; l < s->set.nlans; l++)
        if (lan == 255 || l == lan)
            s->node[n].part[l] = (uint8_t)part;
}

static void expect_master(struct sim *s, unsigned lan, unsigned want)
{
    for (unsigned n = 0; n < s->set.nnodes; n++) {
        const struct sim_inst *in = &s->node[n].in[lan];
        bool master = s->node[n].up && in->core.state == VRRP_STATE_MASTER && !in->core.stopping;

        if (n == want && (!master || !in->vip))
            fail(s, "expected n%u to be master of lan%u holding the VIP", n, lan);
        if (n != want && (master || in->vip))
            fail(s, "expected n%u not to be master of lan%u (state %s, vip %d)", n, lan,
                 vrrp_state_name(in->core.state), in->vip);
    }
}

static const char *const kind_names[SIM_EV__COUNT] = {
    "deliver", "partition", "heal",  "crash", "restart", "priority",    "loss",
    "stop",    "fault",     "clear", "track", "expect",  "expect_adds",
};

static void schedule_event(struct sim *s, const struct sim_event *e)
{
    unsigned n = e->node, lan = e->lan;

    if (e->kind != SIM_EXPECT && e->kind != SIM_EXPECT_ADDS) {
        s->last_change = s->now;
        tracef(s, "schedule: %s node %u lan %u arg %d", kind_names[e->kind], n, lan, e->arg);
    }
    switch ((enum sim_ev_kind)e->kind) {
    case SIM_PARTITION:
        set_partition(s, n, lan, e->arg);
        break;
    case SIM_HEAL:
        for (unsigned m = 0; m < s->set.nnodes; m++)
            set_partition(s, m, lan, 0);
        break;
    case SIM_CRASH:
        crash(s, n);
        break;
    case SIM_RESTART:
        restart(s, n);
        break;
    case SIM_PRIORITY:
        if (s->node[n].up)
            feed_kind(s, n, lan, VRRP_IN_PRIORITY, e->arg);
        break;
    case SIM_LOSS:
        s->loss_pct = (unsigned)e->arg;
        break;
    case SIM_STOP:
        for (unsigned l = 0; s->node[n].up && l < s->set.nlans; l++)
            feed_kind(s, n, l, VRRP_IN_STOP, 0);
        break;
    case SIM_FAULT:
    case SIM_CLEAR:
        if (s->node[n].up)
            feed_kind(s, n, lan, e->kind == SIM_FAULT ? VRRP_IN_FAULT : VRRP_IN_FAULT_CLEAR, 0);
        break;
    case SIM_TRACK:
        if (s->node[n].up)
            track(s, n, lan, e->arg != 0);
        break;
    case SIM_EXPECT:
        expect_master(s, lan, n);
        break;
    case SIM_EXPECT_ADDS:
        if (s->adds[lan] != (unsigned)e->arg)
            fail(s, "lan%u: %u VIP installs, expected %d", lan, s->adds[lan], e->arg);
        break;
    case SIM_DELIVER:
    case SIM_EV__COUNT:
        break;
    }
}

/* ---- invariants -------------------------------------------------------------------------- */

static bool eligible(const struct sim *s, unsigned n, unsigned lan)
{
    const struct vrrp *c = &s->node[n].in[lan].core;

    return s->node[n].up &&
           (c->state == VRRP_STATE_BACKUP || (c->state == VRRP_STATE_MASTER && !c->stopping));
}

/* One connected partition (nodes linked to 'first' on lan). */
static void check_partition(struct sim *s, unsigned lan, unsigned first)
{
    unsigned masters = 0, holders = 0, best = 0, elig = 0, master = 0;

    for (unsigned n = 0; n < s->set.nnodes; n++) {
        const struct sim_inst *in = &s->node[n].in[lan];

        if (!linked(s, first, n, lan))
            continue;
        holders += in->vip && !in->core.stopping;
        if (!eligible(s, n, lan))
            continue;
        elig++;
        if (in->core.eff_priority > best)
            best = in->core.eff_priority;
        if (in->core.state == VRRP_STATE_MASTER) {
            masters++;
            master = n;
        }
    }
    if (elig == 0)
        return;
    if (s->set.sync ? masters > 1 : masters != 1) {
        fail(s, "lan%u partition of n%u: %u masters after convergence", lan, first, masters);
        return;
    }
    if (holders != masters)
        fail(s, "lan%u partition of n%u: %u VIP holders, %u masters", lan, first, holders, masters);
    if (masters == 1 && !s->set.sync && !s->set.nopreempt && !s->set.preempt_delay_us &&
        s->node[master].in[lan].core.eff_priority != best)
        fail(s, "lan%u: master n%u has priority %u, best is %u", lan, master,
             s->node[master].in[lan].core.eff_priority, best);
}

static void check_sync_consistent(struct sim *s, unsigned n)
{
    const struct sim_node *nd = &s->node[n];
    int first = -1;

    /* Members already STOPPED (a node shutting down) no longer take part. */
    for (unsigned l = 0; nd->up && l < s->set.nlans; l++) {
        enum vrrp_state st = nd->in[l].core.state;

        if (st == VRRP_STATE_STOPPED)
            continue;
        if (first < 0)
            first = (int)l;
        else if (st != nd->in[first].core.state)
            fail(s, "n%u: sync group split (%s on lan%d, %s on lan%u)", n,
                 vrrp_state_name(nd->in[first].core.state), first, vrrp_state_name(st), l);
    }
}

/* Longest time a LAN had no VIP holder while some node served it (handover gaps). */
static void track_gaps(struct sim *s)
{
    for (unsigned l = 0; l < s->set.nlans; l++) {
        bool held = false;

        for (unsigned n = 0; n < s->set.nnodes; n++)
            held = held || s->node[n].in[l].vip;
        if (held && s->gap_from[l] != MONO_NEVER) {
            if (s->now - s->gap_from[l] > s->max_gap_us[l])
                s->max_gap_us[l] = s->now - s->gap_from[l];
            s->gap_from[l] = MONO_NEVER;
        } else if (!held && s->gap_from[l] == MONO_NEVER) {
            s->gap_from[l] = s->now;
        }
    }
}

static void check_invariants(struct sim *s)
{
    track_gaps(s);
    for (unsigned n = 0; n < s->set.nnodes; n++)
        for (unsigned l = 0; l < s->set.nlans; l++)
            if (s->node[n].in[l].vip && s->node[n].in[l].core.state != VRRP_STATE_MASTER)
                fail(s, "n%u holds the VIP of lan%u in state %s", n, l,
                     vrrp_state_name(s->node[n].in[l].core.state));
    if (s->loss_pct > 0 || s->now < s->last_change + s->settle_us)
        return;
    for (unsigned l = 0; l < s->set.nlans; l++) {
        bool seen[SIM_NODES] = {false};

        for (unsigned n = 0; n < s->set.nnodes; n++) {
            if (seen[n] || !s->node[n].up)
                continue;
            for (unsigned m = 0; m < s->set.nnodes; m++)
                seen[m] = seen[m] || linked(s, n, m, l);
            check_partition(s, l, n);
        }
    }
    for (unsigned n = 0; s->set.sync && n < s->set.nnodes; n++)
        check_sync_consistent(s, n);
}

/* ---- the loop ---------------------------------------------------------------------------- */

static int next_event(const struct sim *s)
{
    int best = -1;

    for (unsigned i = 0; i < s->nev; i++) {
        const struct sim_event *e = &s->ev[i];

        if (best < 0 || e->at < s->ev[best].at ||
            (e->at == s->ev[best].at && e->seq < s->ev[best].seq))
            best = (int)i;
    }
    return best;
}

/* The core with the earliest deadline, written to node and lan; MONO_NEVER if none. */
static mono_us next_timer(const struct sim *s, unsigned *node, unsigned *lan)
{
    mono_us best = MONO_NEVER;

    for (unsigned n = 0; n < s->set.nnodes; n++)
        for (unsigned l = 0; l < s->set.nlans; l++) {
            mono_us t = inst_deadline(s, n, l);

            if (t < best) {
                best = t;
                *node = n;
                *lan = l;
            }
        }
    return best;
}

static void run_event(struct sim *s, int i)
{
    struct sim_event e = s->ev[i];

    s->ev[i] = s->ev[--s->nev];
    s->now = e.at;
    if (e.kind == SIM_DELIVER)
        deliver(s, &e);
    else
        schedule_event(s, &e);
}

bool sim_run(struct sim *s, mono_us until)
{
    mono_us last = -1;
    unsigned same = 0;

    while (!s->failed) {
        unsigned tn = 0, tl = 0;
        int i = next_event(s);
        mono_us te = i >= 0 ? s->ev[i].at : MONO_NEVER;
        mono_us tt = next_timer(s, &tn, &tl);

        if (tt < s->now)
            tt = s->now; /* a sync member released from hold is due at once */

        if (mono_min(te, tt) > until)
            break;
        same = mono_min(te, tt) == last ? same + 1 : 0;
        last = mono_min(te, tt);
        if (same > 100000 || s->events > 5000000) {
            fail(s, "runaway: %u events at one instant, %" PRIu64 " in all", same, s->events);
            break;
        }
        s->events++;
        if (te <= tt) {
            run_event(s, i);
        } else {
            s->now = tt;
            feed_kind(s, tn, tl, VRRP_IN_TICK, 0);
        }
        check_invariants(s);
    }
    if (!s->failed)
        s->now = until;
    return !s->failed;
}

void sim_dump(const struct sim *s, FILE *f)
{
    unsigned first = s->ntrace > SIM_TRACE ? s->ntrace - SIM_TRACE : 0;

    fprintf(f, "seed %" PRIu64 " at %.6f s: %s\n", s->seed, (double)s->now / 1e6,
            s->failed ? s->why : "ok");
    fprintf(f, "replay with SIM_SEED=%" PRIu64 "; last %u trace lines:\n", s->seed,
            s->ntrace - first);
    for (unsigned i = first; i < s->ntrace; i++)
        fprintf(f, "  %s\n", s->trace[i % SIM_TRACE]);
}
