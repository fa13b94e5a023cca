/* A seeded pseudo-random generator (xoshiro256**, seeded through splitmix64).
 *
 * Every random choice in nospof (timer jitter, warmup, random tie-breaks) draws from an rng
 * that the caller owns and seeds, so tests and the simulator replay exactly by seed. Not for
 * cryptography. */
#ifndef NOSPOF_BASE_RNG_H
#define NOSPOF_BASE_RNG_H

#include <stdint.h>

struct rng {
    uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);

/* Uniform in [0, bound); bound 0 returns 0. */
uint64_t rng_below(struct rng *r, uint64_t bound);

#endif
