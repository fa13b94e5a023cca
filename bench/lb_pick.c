/* Pick-cost benchmark of the IPVS schedulers (src/proto/lb): nanoseconds per lb_sched_pick for
 * every scheduler at 10 and 1000 dests, with random weights, random load counts and random
 * client/destination keys, plus the cost of lb_sched_update (table rebuild) at 1000 dests.
 *
 * Each cell runs for about CELL_NS of wall time (26 cells, about 4 s in all). After every pick
 * the chosen dest gains an active connection and another dest loses one, so the least-
 * connection family does not keep returning the same dest; that bookkeeping (two increments)
 * is included in the figure. Usage: lb_pick [seed]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/rng.h"
#include "proto/lb/lb.h"

#define CELL_NS   150000000LL
#define NKEYS     4096u
#define MAX_DESTS 1000u

static const enum lb_sched_kind kinds[] = {
    LB_SCHED_RR, LB_SCHED_WRR, LB_SCHED_LC,  LB_SCHED_WLC,  LB_SCHED_SED,
    LB_SCHED_NQ, LB_SCHED_SH,  LB_SCHED_DH,  LB_SCHED_LBLC, LB_SCHED_LBLCR,
    LB_SCHED_MH, LB_SCHED_FO,  LB_SCHED_OVF,
};

static uint64_t storage[1 << 19];
static struct lb_dest dests[MAX_DESTS];
static struct lb_key keys[NKEYS];

static long long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void make_dests(struct rng *r, size_t n)
{
    memset(dests, 0, sizeof(dests));
    for (size_t i = 0; i < n; i++) {
        dests[i].id = (uint32_t)i + 1;
        dests[i].addr.family = IP_V4;
        dests[i].addr.b[0] = 192;
        dests[i].addr.b[1] = 0;
        dests[i].addr.b[2] = 2;
        dests[i].addr.b[3] = (uint8_t)(i % 254 + 1);
        dests[i].port = (uint16_t)(8000 + i / 254);
        lb_dest_set_weight(&dests[i], (int32_t)rng_below(r, 100) + 1);
        dests[i].active = (uint32_t)rng_below(r, 1000);
        dests[i].inactive = (uint32_t)rng_below(r, 5000);
    }
}

static void make_keys(struct rng *r)
{
    for (unsigned i = 0; i < NKEYS; i++) {
        uint32_t c = (uint32_t)rng_next(r);

        memset(&keys[i], 0, sizeof(keys[i]));
        keys[i].client.family = IP_V4;
        keys[i].client.b[0] = 198;
        keys[i].client.b[1] = 51;
        keys[i].client.b[2] = 100;
        keys[i].client.b[3] = (uint8_t)c;
        keys[i].client_port = (uint16_t)(c >> 16);
        keys[i].dst.family = IP_V4;
        keys[i].dst.b[0] = 203;
        keys[i].dst.b[1] = 0;
        keys[i].dst.b[2] = 113;
        keys[i].dst.b[3] = (uint8_t)rng_below(r, 256);
    }
}

/* Runs picks for about CELL_NS; returns ns per pick (or -1 on a setup error). */
static double bench_pick(struct lb_sched *s, size_t n)
{
    long long start = now_ns(), elapsed = 0;
    unsigned long long picks = 0;
    unsigned sink = 0;

    while (elapsed < CELL_NS) {
        for (unsigned i = 0; i < 1024; i++, picks++) {
            const struct lb_key *k = &keys[picks % NKEYS];
            int d = lb_sched_pick(s, dests, n, k, (mono_us)picks);
            size_t other = (picks * 7919u) % n;

            if (d >= 0) {
                dests[d].active++;
                sink += (unsigned)d;
            }
            if (dests[other].active > 0)
                dests[other].active--;
        }
        elapsed = now_ns() - start;
    }
    if (sink == 0xffffffffu)
        puts("");
    return (double)elapsed / (double)picks;
}

/* Average cost of lb_sched_update over a few rebuilds, in microseconds. */
static double bench_update(struct lb_sched *s, size_t n)
{
    long long start = now_ns();
    int rounds = 20;

    for (int i = 0; i < rounds; i++)
        if (lb_sched_update(s, dests, n) != 0)
            return -1;
    return (double)(now_ns() - start) / rounds / 1000.0;
}

static int setup(struct lb_sched *s, enum lb_sched_kind k, size_t n)
{
    uint32_t flags = LB_F_SH_FALLBACK | LB_F_MH_FALLBACK;

    if (lb_sched_storage_size(k, MAX_DESTS, 16384) > sizeof(storage))
        return -1;
    if (lb_sched_init(s, k, flags, storage, sizeof(storage), MAX_DESTS, 16384) != 0)
        return -1;
    return lb_sched_update(s, dests, n);
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
    static const size_t sizes[] = {10, 1000};
    struct lb_sched s;
    struct rng r;

    rng_seed(&r, seed);
    make_keys(&r);
    printf("lb_pick: ns per pick (random weights 1..100, loads, keys; seed %llu)\n",
           (unsigned long long)seed);
    printf("%-6s %12s %12s %16s\n", "sched", "n=10 ns", "n=1000 ns", "update n=1000 us");
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        double ns[2] = {0, 0}, upd = 0;

        for (size_t z = 0; z < 2; z++) {
            make_dests(&r, sizes[z]);
            if (setup(&s, kinds[k], sizes[z]) != 0) {
                fprintf(stderr, "setup failed for %s\n", lb_sched_kind_name(kinds[k]));
                return 1;
            }
            ns[z] = bench_pick(&s, sizes[z]);
            if (z == 1)
                upd = bench_update(&s, sizes[z]);
        }
        printf("%-6s %12.1f %12.1f %16.1f\n", lb_sched_kind_name(kinds[k]), ns[0], ns[1], upd);
    }
    return 0;
}
