/* The table-driven hashing schedulers: sh and dh (256 buckets) and mh (Maglev, M = 4093).
 *
 * sh fills its buckets by walking the dest list cyclically and giving each dest `weight`
 * consecutive buckets (a weight-0 dest still takes one per cycle); dh gives one bucket per
 * dest in turn. Both hash with the new kernels' hash_32. mh builds the Maglev table from
 * last_weight (so a drain to weight 0 does not reshuffle), with per-dest offset and skip from
 * SipHash-1-3 under IPVS's fixed keys, `turns` slots per round (weight/gcd shifted right to 6
 * significant bits), and looks the client up with the same hash (ip_vs_mh.c). */
#include <string.h>
#include "lb.h"
#include "lb_hash.h"
#include "lb_priv.h"

/* IPVS mh generate_hash_secret(): hash1 for the offset and the lookup, hash2 for the skip. */
#define MH_K1 2654435761ull
#define MH_K2 2654446892ull

/* ---- sh / dh ---------------------------------------------------------------------------- */

void lb_tab_update(struct lb_sched *s, const struct lb_dest *dests, size_t n)
{
    size_t p = 0;
    int32_t d_count = 0;

    for (unsigned i = 0; i < LB_TAB_SIZE; i++) {
        if (n == 0) {
            s->u.tab.bucket[i] = -1;
            continue;
        }
        s->u.tab.bucket[i] = (int16_t)p;
        /* sh: stay on a dest for `weight` buckets (at least one); dh: one each. */
        if (s->kind == LB_SCHED_DH || ++d_count >= dests[p].weight) {
            p = (p + 1) % n;
            d_count = 0;
        }
    }
}

static unsigned sh_hashkey(const struct lb_key *key, uint16_t port, unsigned offset)
{
    uint32_t v = (uint32_t)port + lb_addr_fold(&key->client);

    return (offset + lb_hash_32(v, LB_TAB_BITS)) & (LB_TAB_SIZE - 1);
}

/* ip_vs_sh_get_fallback: probe bucket hash(offset) for offset = ihash, ihash+1, ... */
static int sh_fallback(const struct lb_sched *s, const struct lb_dest *dests,
                       const struct lb_key *key, uint16_t port, unsigned ihash)
{
    for (unsigned off = 0; off < LB_TAB_SIZE; off++) {
        unsigned roff = (off + ihash) % LB_TAB_SIZE;
        int d = s->u.tab.bucket[sh_hashkey(key, port, roff)];

        if (d < 0)
            break;
        if (!lb_dest_unavailable(&dests[d]))
            return d;
    }
    return -1;
}

int lb_tab_pick(const struct lb_sched *s, const struct lb_dest *dests, size_t n,
                const struct lb_key *key)
{
    uint16_t port = (s->flags & LB_F_SH_PORT) ? key->client_port : 0;
    unsigned h;
    int d;

    (void)n;
    if (s->kind == LB_SCHED_DH)
        h = lb_hash_32(lb_addr_fold(&key->dst), LB_TAB_BITS);
    else
        h = sh_hashkey(key, port, 0);
    d = s->u.tab.bucket[h];
    if (d < 0)
        return -1;
    if (!lb_dest_unavailable(&dests[d]))
        return d;
    if (s->kind == LB_SCHED_SH && (s->flags & LB_F_SH_FALLBACK))
        return sh_fallback(s, dests, key, port, h);
    return -1;
}

/* ---- mh --------------------------------------------------------------------------------- */

#define MH_USED_WORDS ((LB_MH_TAB_SIZE + 63) / 64)

static size_t align8(size_t v)
{
    return (v + 7) & ~(size_t)7;
}

size_t lb_mh_storage_size(uint32_t max_dests)
{
    return align8(sizeof(struct lb_mh_setup) * max_dests) + sizeof(uint64_t) * MH_USED_WORDS +
           align8(sizeof(int16_t) * LB_MH_TAB_SIZE);
}

void lb_mh_init(struct lb_sched *s, void *storage)
{
    uint8_t *p = storage;

    s->u.mh.setup = (struct lb_mh_setup *)p;
    p += align8(sizeof(struct lb_mh_setup) * s->max_dests);
    s->u.mh.used = (uint64_t *)p;
    p += sizeof(uint64_t) * MH_USED_WORDS;
    s->u.mh.table = (int16_t *)p;
}

static uint32_t mh_hashkey(const struct ip_addr *addr, uint16_t port, uint64_t k, uint32_t offset)
{
    return lb_hsiphash_u32(offset + port + lb_addr_fold(addr), k, k);
}

static int32_t fls32(uint32_t v)
{
    int32_t r = 0;

    while (v) {
        r++;
        v >>= 1;
    }
    return r;
}

/* ip_vs_mh_gcd_weight and ip_vs_mh_shift_weight, both over last_weight. */
static void mh_gcd_shift(struct lb_sched *s, const struct lb_dest *dests, size_t n)
{
    int32_t g = 0, mw = 0, shift;

    for (size_t i = 0; i < n; i++) {
        int32_t w = dests[i].last_weight;

        if (w > 0) {
            int32_t a = w, b = g;
            while (b != 0) {
                int32_t t = a % b;
                a = b;
                b = t;
            }
            g = a;
        }
        if (w > mw)
            mw = w;
    }
    s->u.mh.gcd = g;
    shift = g < 1 ? 0 : fls32((uint32_t)(mw / g)) - LB_MH_TAB_BITS;
    s->u.mh.rshift = shift > 0 ? shift : 0;
}

/* ip_vs_mh_permutate. */
static void mh_permutate(struct lb_sched *s, const struct lb_dest *dests, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct lb_mh_setup *ds = &s->u.mh.setup[i];
        int32_t lw = dests[i].last_weight > 0 ? dests[i].last_weight : 0;
        int32_t t = (lw / s->u.mh.gcd) >> s->u.mh.rshift;

        ds->offset = mh_hashkey(&dests[i].addr, dests[i].port, MH_K1, 0) % LB_MH_TAB_SIZE;
        ds->skip = mh_hashkey(&dests[i].addr, dests[i].port, MH_K2, 0) % (LB_MH_TAB_SIZE - 1) + 1;
        ds->perm = ds->offset;
        ds->turns = t ? t : (lw != 0);
    }
}

/* Takes dest p's next free slot of its permutation. */
static uint32_t mh_take_slot(struct lb_sched *s, struct lb_mh_setup *ds)
{
    uint32_t c = ds->perm;

    while (s->u.mh.used[c / 64] & (1ull << (c % 64))) {
        ds->perm += ds->skip;
        if (ds->perm >= LB_MH_TAB_SIZE)
            ds->perm -= LB_MH_TAB_SIZE;
        c = ds->perm;
    }
    s->u.mh.used[c / 64] |= 1ull << (c % 64);
    return c;
}

/* ip_vs_mh_populate: round robin over dests with turns >= 1, each taking `turns` slots in a
 * row, until all M slots are filled. */
static void mh_populate(struct lb_sched *s, size_t n)
{
    uint32_t filled = 0;

    memset(s->u.mh.used, 0, sizeof(uint64_t) * MH_USED_WORDS);
    for (;;) {
        for (size_t p = 0; p < n; p++) {
            struct lb_mh_setup *ds = &s->u.mh.setup[p];

            for (int32_t t = 0; t < ds->turns; t++) {
                s->u.mh.table[mh_take_slot(s, ds)] = (int16_t)p;
                if (++filled == LB_MH_TAB_SIZE)
                    return;
            }
        }
    }
}

void lb_mh_update(struct lb_sched *s, const struct lb_dest *dests, size_t n)
{
    mh_gcd_shift(s, dests, n);
    if (s->u.mh.gcd < 1) {
        for (uint32_t i = 0; i < LB_MH_TAB_SIZE; i++)
            s->u.mh.table[i] = -1;
        return;
    }
    mh_permutate(s, dests, n);
    mh_populate(s, n);
}

/* ip_vs_mh_get_fallback: as sh, probing hash(offset) for offset = ihash, ihash+1, ... */
static int mh_fallback(const struct lb_sched *s, const struct lb_dest *dests,
                       const struct ip_addr *addr, uint16_t port, uint32_t ihash)
{
    for (uint32_t off = 0; off < LB_MH_TAB_SIZE; off++) {
        uint32_t roff = (off + ihash) % LB_MH_TAB_SIZE;
        int d = s->u.mh.table[mh_hashkey(addr, port, MH_K1, roff) % LB_MH_TAB_SIZE];

        if (d < 0)
            break;
        if (!lb_dest_unavailable(&dests[d]))
            return d;
    }
    return -1;
}

int lb_mh_pick(const struct lb_sched *s, const struct lb_dest *dests, size_t n,
               const struct lb_key *key)
{
    uint16_t port = (s->flags & LB_F_MH_PORT) ? key->client_port : 0;
    uint32_t h = mh_hashkey(&key->client, port, MH_K1, 0) % LB_MH_TAB_SIZE;
    int d = s->u.mh.table[h];

    (void)n;
    if (d < 0)
        return -1;
    if (!lb_dest_unavailable(&dests[d]))
        return d;
    if (s->flags & LB_F_MH_FALLBACK)
        return mh_fallback(s, dests, &key->client, port, h);
    return -1;
}
