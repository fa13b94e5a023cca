/* Simulator scenarios: fixed ones as C tables, then random fault schedules by seed.
 *
 * Usage: sim [scenarios|random]   (default: both)
 *   SIM_SEED=N    replay one random schedule and print its trace
 *   SIM_SEEDS=K   number of random schedules (default 1000)
 * On a failure the seed, the broken invariant and the event trace are printed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define S(x)  MONO_S(x)
#define MS(x) MONO_MS(x)

struct step {
    mono_us at;
    enum sim_ev_kind kind;
    unsigned node, lan;
    int arg;
};

static struct sim world; /* large: keep it off the stack */

static void schedule(struct sim *s, const struct step *st, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        sim_at(s, st[i].at, st[i].kind, st[i].node, st[i].lan, st[i].arg);
}

static bool report(struct sim *s, const char *name, bool ok)
{
    printf("%s %s (%" PRIu64 " events, %" PRIu64 " adverts delivered)\n", ok ? "PASS" : "FAIL",
           name, s->events, s->delivered);
    if (!ok)
        sim_dump(s, stdout);
    return ok;
}

#define RUN_TABLE(s, t) schedule((s), (t), sizeof(t) / sizeof((t)[0]))

/* Priorities 200/150/100; n0 is cut off and comes back: it must be the only master within
 * one advert interval (plus link delay) after the heal. */
static bool partition_then_heal(void)
{
    struct sim_setup u = {.nnodes = 3, .nlans = 1, .prio = {{200}, {150}, {100}}};
    const struct step t[] = {
        {0, SIM_RESTART, 0, 0, 0},
        {0, SIM_RESTART, 1, 0, 0},
        {0, SIM_RESTART, 2, 0, 0},
        {S(8), SIM_EXPECT, 0, 0, 0},
        {S(10), SIM_PARTITION, 0, 0, 1},
        {S(29), SIM_EXPECT_ADDS, 0, 0, 2}, /* n1 took over on its side */
        {S(30), SIM_HEAL, 0, 0, 0},
        {S(31) + MS(2), SIM_EXPECT, 0, 0, 0},
    };

    sim_init(&world, 1, &u);
    RUN_TABLE(&world, t);
    return report(&world, "partition_then_heal", sim_run(&world, S(40)));
}

/* A tracked script (weight -60, rise 3, fall 3) flaps without 3 failures in a row: the VIP
 * stays; three failures move it once; three successes bring it back once. */
static bool flapping_tracker(void)
{
    struct sim_setup u = {.nnodes = 2,
                          .nlans = 1,
                          .prio = {{100}, {80}},
                          .track_weight = -60,
                          .track_rise = 3,
                          .track_fall = 3};
    static const char flaps[] = "FFTFFTFFTFTFFTFFTFFTTFFTFT" /* from 5 s */
                                "FFF"                        /* down at 33 s */
                                "TTFTTFTTFTF"                /* never 3 up */
                                "TTT";                       /* up at 47 s */

    sim_init(&world, 2, &u);
    sim_at(&world, 0, SIM_RESTART, 0, 0, 0);
    sim_at(&world, 0, SIM_RESTART, 1, 0, 0);
    for (unsigned i = 0; flaps[i]; i++)
        sim_at(&world, S(5 + i), SIM_TRACK, 0, 0, flaps[i] == 'T');
    sim_at(&world, S(30) + MS(500), SIM_EXPECT_ADDS, 0, 0, 1);
    sim_at(&world, S(30) + MS(500), SIM_EXPECT, 0, 0, 0);
    sim_at(&world, S(38), SIM_EXPECT, 1, 0, 0);
    sim_at(&world, S(48) + MS(500), SIM_EXPECT_ADDS, 0, 0, 2);
    sim_at(&world, S(54), SIM_EXPECT, 0, 0, 0);
    sim_at(&world, S(60), SIM_EXPECT_ADDS, 0, 0, 3);
    return report(&world, "flapping_tracker", sim_run(&world, S(60)));
}

/* Two routers, two LANs in one sync group each: fault on one LAN moves both; a partition of
 * one LAN does not split the group. */
static bool sync_group_moves_together(void)
{
    struct sim_setup u = {.nnodes = 2, .nlans = 2, .prio = {{200, 200}, {100, 100}}, .sync = true};
    const struct step t[] = {
        {0, SIM_RESTART, 0, 0, 0},
        {0, SIM_RESTART, 1, 0, 0},
        {S(8), SIM_EXPECT, 0, 0, 0},
        {S(8), SIM_EXPECT, 0, 1, 0},
        {S(10), SIM_FAULT, 0, 1, 0},
        {S(12), SIM_EXPECT, 1, 0, 0}, /* priority 0 from both: takeover after skew */
        {S(12), SIM_EXPECT, 1, 1, 0},
        {S(20), SIM_CLEAR, 0, 1, 0},
        {S(26), SIM_EXPECT, 0, 0, 0},
        {S(26), SIM_EXPECT, 0, 1, 0},
        {S(30), SIM_PARTITION, 1, 0, 1},
        {S(44), SIM_EXPECT, 0, 0, 0}, /* n1 is held: lan1 still hears n0 */
        {S(44), SIM_EXPECT, 0, 1, 0},
        {S(45), SIM_HEAL, 0, 0, 0},
        {S(50), SIM_EXPECT, 0, 0, 0},
        {S(50), SIM_EXPECT, 0, 1, 0},
    };

    sim_init(&world, 3, &u);
    RUN_TABLE(&world, t);
    return report(&world, "sync_group_moves_together", sim_run(&world, S(55)));
}

/* Graceful stop hands the VIP over without a gap; a plain stop leaves a Skew_Time gap. */
static bool stop_handover(bool graceful)
{
    struct sim_setup u = {.nnodes = 2, .nlans = 1, .prio = {{200}, {100}}};
    const struct step t[] = {
        {0, SIM_RESTART, 0, 0, 0},
        {0, SIM_RESTART, 1, 0, 0},
        {S(10), SIM_STOP, 0, 0, 0},
        {S(12), SIM_EXPECT, 1, 0, 0},
        {S(20), SIM_RESTART, 0, 0, 0},
        {S(25), SIM_EXPECT, 0, 0, 0}, /* restarted higher priority preempts */
    };
    bool ok;

    u.graceful_stop = graceful;
    sim_init(&world, 4, &u);
    RUN_TABLE(&world, t);
    ok = sim_run(&world, S(5));
    world.max_gap_us[0] = 0;
    ok = ok && sim_run(&world, S(30));
    /* Plain: n1 takes over one Skew_Time (609 ms) plus a link delay after the stop. */
    if (ok && (graceful ? world.max_gap_us[0] != 0
                        : world.max_gap_us[0] < 609375 || world.max_gap_us[0] > MS(611))) {
        snprintf(world.why, sizeof(world.why), "VIP gap %" PRId64 " us", world.max_gap_us[0]);
        world.failed = true;
        ok = false;
    }
    return report(&world, graceful ? "graceful_stop_no_gap" : "plain_stop_skew_gap", ok);
}

/* An address owner with "state MASTER" takes over at once on restart. */
static bool owner_restart(void)
{
    struct sim_setup u = {
        .nnodes = 2, .nlans = 1, .prio = {{255}, {100}}, .owner_init_master = true};
    const struct step t[] = {
        {0, SIM_RESTART, 1, 0, 0},
        {0, SIM_RESTART, 0, 0, 0},
        {S(5), SIM_EXPECT, 0, 0, 0},
        {S(10), SIM_CRASH, 0, 0, 0},
        {S(15), SIM_EXPECT, 1, 0, 0},
        {S(20), SIM_RESTART, 0, 0, 0},
        {S(20) + MS(5), SIM_EXPECT, 0, 0, 0},
    };

    sim_init(&world, 5, &u);
    RUN_TABLE(&world, t);
    return report(&world, "owner_restart", sim_run(&world, S(30)));
}

/* ---- random fault schedules ------------------------------------------------------------- */

static const uint8_t prio_pool[] = {50, 100, 100, 150, 200, 254, 1};

static void random_setup(struct rng *r, struct sim_setup *u)
{
    memset(u, 0, sizeof(*u));
    u->nnodes = 2 + (unsigned)rng_below(r, 3);
    u->nlans = 1 + (unsigned)rng_below(r, 2);
    for (unsigned n = 0; n < u->nnodes; n++)
        for (unsigned l = 0; l < u->nlans; l++)
            u->prio[n][l] = prio_pool[rng_below(r, sizeof(prio_pool))];
    if (rng_below(r, 5) == 0) {
        u->prio[0][0] = VRRP_PRIO_OWNER;
        u->owner_init_master = rng_below(r, 2);
    }
    u->version = rng_below(r, 4) == 0 ? 2 : 3;
    u->adver_int_cs = u->version == 3 && rng_below(r, 2) ? 50 : 100;
    u->sync = u->nlans > 1 && rng_below(r, 4) == 0;
    /* A sync group with crossed priorities (n0 best on lan0, n1 on lan1) makes both groups
     * yield to each other forever; operators give a group one priority, and so do we. */
    for (unsigned n = 0; u->sync && n < u->nnodes; n++)
        for (unsigned l = 1; l < u->nlans; l++)
            u->prio[n][l] = u->prio[n][0];
    u->graceful_stop = rng_below(r, 2);
    u->nopreempt = rng_below(r, 10) == 0;
    u->preempt_delay_us = !u->nopreempt && rng_below(r, 10) == 0 ? S(2) : 0;
    u->higher_prio_send_advert = rng_below(r, 5) == 0;
    u->lower_prio_no_advert = rng_below(r, 5) == 0;
    u->delay_min_us = 50 + (mono_us)rng_below(r, 500);
    u->delay_jitter_us = (mono_us)rng_below(r, 3000);
}

static void random_event(struct sim *s, struct rng *r, mono_us at)
{
    /* Draw everything up front: argument evaluation order must not decide the schedule. */
    unsigned n = (unsigned)rng_below(r, s->set.nnodes);
    unsigned l = (unsigned)rng_below(r, s->set.nlans);
    unsigned part_lan = rng_below(r, 2) ? l : 255;
    int part = 1 + (int)rng_below(r, 2);

    switch (rng_below(r, 9)) {
    case 0:
        sim_at(s, at, SIM_PARTITION, n, part_lan, part);
        break;
    case 1:
        sim_at(s, at, SIM_HEAL, n, 255, 0);
        break;
    case 2:
        sim_at(s, at, SIM_CRASH, n, 0, 0);
        break;
    case 3:
        sim_at(s, at, SIM_RESTART, n, 0, 0);
        break;
    case 4:
        sim_at(s, at, SIM_PRIORITY, n, l, 1 + (int)rng_below(r, 254));
        break;
    case 5:
        sim_at(s, at, SIM_LOSS, n, 0, 10 + (int)rng_below(r, 50));
        sim_at(s, at + (mono_us)rng_below(r, S(8)), SIM_LOSS, n, 0, 0);
        break;
    case 6:
        sim_at(s, at, SIM_STOP, n, 0, 0);
        break;
    case 7:
        sim_at(s, at, SIM_FAULT, n, l, 0);
        break;
    default:
        sim_at(s, at, SIM_CLEAR, n, l, 0);
        break;
    }
}

static bool random_run(uint64_t seed, bool verbose)
{
    struct rng r;
    struct sim_setup u;
    unsigned nev;
    mono_us span = S(30), end;

    rng_seed(&r, seed * 0x9e3779b97f4a7c15ULL + 1);
    random_setup(&r, &u);
    sim_init(&world, seed, &u);
    for (unsigned n = 0; n < u.nnodes; n++)
        sim_at(&world, (mono_us)rng_below(&r, S(2)), SIM_RESTART, n, 0, 0);
    nev = 4 + (unsigned)rng_below(&r, 14);
    for (unsigned k = 0; k < nev; k++)
        random_event(&world, &r, S(3) + (mono_us)rng_below(&r, (uint64_t)span));
    /* Everything repaired at the end; the invariants must then hold until the run stops. */
    end = S(3) + span + S(9);
    sim_at(&world, end, SIM_HEAL, 0, 255, 0);
    sim_at(&world, end, SIM_LOSS, 0, 0, 0);
    for (unsigned n = 0; n < u.nnodes; n++) {
        sim_at(&world, end, SIM_RESTART, n, 0, 0);
        for (unsigned l = 0; l < u.nlans; l++)
            sim_at(&world, end, SIM_PRIORITY, n, l, u.prio[n][l] ? u.prio[n][l] : 100);
    }
    if (!sim_run(&world, end + world.settle_us + S(5))) {
        sim_dump(&world, stdout);
        return false;
    }
    if (verbose)
        sim_dump(&world, stdout);
    return true;
}

static bool random_schedules(void)
{
    const char *one = getenv("SIM_SEED");
    const char *count = getenv("SIM_SEEDS");
    uint64_t nseeds = count ? strtoull(count, NULL, 10) : 1000, events = 0;
    unsigned failed = 0;

    if (one)
        return random_run(strtoull(one, NULL, 10), true);
    for (uint64_t seed = 1; seed <= nseeds; seed++) {
        if (!random_run(seed, false) && ++failed >= 3)
            break;
        events += world.events;
    }
    printf("%s random: %" PRIu64 " schedules, %" PRIu64 " events, %u failed\n",
           failed ? "FAIL" : "PASS", nseeds, events, failed);
    return failed == 0;
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "all";
    bool all = strcmp(what, "all") == 0, ok = true;

    if (all || strcmp(what, "scenarios") == 0) {
        ok &= partition_then_heal();
        ok &= flapping_tracker();
        ok &= sync_group_moves_together();
        ok &= stop_handover(true);
        ok &= stop_handover(false);
        ok &= owner_restart();
    }
    if (all || strcmp(what, "random") == 0)
        ok &= random_schedules();
    return ok ? 0 : 1;
}
