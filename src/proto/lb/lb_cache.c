/* lblc and lblcr: locality-based least connection, with a bounded cache keyed by the
 * packet's destination address (ip_vs_lblc.c, ip_vs_lblcr.c; research/lb.md 1.2).
 *
 * lblc maps an address to one dest. A hit is used when that dest still exists, has weight > 0
 * and is not "overloaded" in the lblc sense: active > weight while some dest has
 * active*2 < weight (the OVERLOAD flag is not consulted on a hit, as in IPVS). Otherwise the
 * wlc minimum is picked and the entry replaced.
 *
 * lblcr maps an address to a set of dests (newest member first). A hit takes the wlc minimum
 * within the set; when the set has more than one member and was last changed more than the
 * expiration ago, its most loaded member is dropped; when the set gives nothing usable (or an
 * lblc-overloaded dest) the wlc minimum over all dests is added to the set.
 *
 * Differences from IPVS, forced by fixed storage: the table is open addressing over cap
 * slots (a power of two) and refuses inserts beyond 7/8 full, which IPVS treats like a failed
 * allocation (the pick still returns its dest); a set holds at most LB_LBLCR_SET_MAX members
 * (a full set is not extended); a dest removed from the service is dropped from sets when
 * its entry is next hit (IPVS keeps it as an unavailable member until it is freed). Entries
 * refer to dests by id, so updates need no cache walk. */
#include <stddef.h>
#include <string.h>
#include "base/addr.h"
#include "lb.h"
#include "lb_hash.h"
#include "lb_priv.h"

/* ---- open-addressing table of either entry type ------------------------------------------ */

static size_t entry_size(enum lb_sched_kind kind)
{
    return kind == LB_SCHED_LBLC ? sizeof(struct lb_lblc_entry) : sizeof(struct lb_lblcr_entry);
}

static uint32_t round_cap(uint32_t cap)
{
    uint32_t c = 16;

    if (cap == 0)
        cap = 4096;
    while (c < cap && c < (1u << 24))
        c <<= 1;
    return c;
}

size_t lb_cache_storage_size(enum lb_sched_kind kind, uint32_t cache_cap)
{
    return entry_size(kind) * round_cap(cache_cap);
}

void lb_cache_init(struct lb_sched *s, void *storage, uint32_t cache_cap)
{
    struct lb_cache *c = &s->u.cache;

    c->slots = storage;
    c->cap = round_cap(cache_cap);
    c->count = 0;
    c->max_size = c->cap / 2;
    c->rover = 0;
    c->counter = 1;
    c->expiration = LB_CACHE_DEFAULT_EXPIRATION_US;
    memset(storage, 0, entry_size(s->kind) * c->cap);
}

static uint8_t *slot(const struct lb_sched *s, uint32_t i)
{
    return (uint8_t *)s->u.cache.slots + (size_t)i * entry_size(s->kind);
}

/* Both entry types start with their address; family IP_NONE marks a free slot. */
static struct ip_addr *slot_addr(const struct lb_sched *s, uint32_t i)
{
    return (struct ip_addr *)slot(s, i);
}

static mono_us slot_lastuse(const struct lb_sched *s, uint32_t i)
{
    if (s->kind == LB_SCHED_LBLC)
        return ((const struct lb_lblc_entry *)slot(s, i))->lastuse;
    return ((const struct lb_lblcr_entry *)slot(s, i))->lastuse;
}

static uint32_t home(const struct lb_sched *s, const struct ip_addr *a)
{
    return (uint32_t)(((uint64_t)lb_hash_32(lb_addr_fold(a), 32) * s->u.cache.cap) >> 32);
}

static int cache_find(const struct lb_sched *s, const struct ip_addr *a)
{
    uint32_t mask = s->u.cache.cap - 1;

    for (uint32_t i = home(s, a), n = 0; n < s->u.cache.cap; i = (i + 1) & mask, n++) {
        const struct ip_addr *x = slot_addr(s, i);

        if (x->family == IP_NONE)
            return -1;
        if (ip_addr_eq(x, a))
            return (int)i;
    }
    return -1;
}

/* A free slot for a (not present), or -1 when the table is 7/8 full. */
static int cache_insert(struct lb_sched *s, const struct ip_addr *a)
{
    uint32_t mask = s->u.cache.cap - 1, i = home(s, a);

    if (s->u.cache.count >= s->u.cache.cap - s->u.cache.cap / 8)
        return -1;
    while (slot_addr(s, i)->family != IP_NONE)
        i = (i + 1) & mask;
    memset(slot(s, i), 0, entry_size(s->kind));
    *slot_addr(s, i) = *a;
    s->u.cache.count++;
    return (int)i;
}

/* True when h lies cyclically in (j, k]. */
static bool in_range(uint32_t j, uint32_t h, uint32_t k)
{
    return j <= k ? (j < h && h <= k) : (j < h || h <= k);
}

/* Removes slot i by backward shift (no tombstones). Only entries after i move, into i. */
static void cache_erase(struct lb_sched *s, uint32_t i)
{
    uint32_t mask = s->u.cache.cap - 1, j = i, k = i;

    for (;;) {
        k = (k + 1) & mask;
        if (slot_addr(s, k)->family == IP_NONE)
            break;
        if (in_range(j, home(s, slot_addr(s, k)), k))
            continue;
        memcpy(slot(s, j), slot(s, k), entry_size(s->kind));
        j = k;
    }
    memset(slot(s, j), 0, entry_size(s->kind));
    s->u.cache.count--;
}

/* ---- shared rules ------------------------------------------------------------------------- */

/* lblc/lblcr is_overloaded(): d has more active connections than its weight while some dest
 * has active*2 < weight. */
static bool lblc_overloaded(const struct lb_dest *d, const struct lb_dest *dests, size_t n)
{
    if ((int64_t)d->active <= d->weight)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((int64_t)dests[i].active * 2 < dests[i].weight)
            return true;
    return false;
}

/* ---- lblc --------------------------------------------------------------------------------- */

static int pick_lblc(struct lb_sched *s, const struct lb_dest *dests, size_t n,
                     const struct lb_key *key, mono_us now)
{
    int i = cache_find(s, &key->dst), d;
    struct lb_lblc_entry *e;

    if (i >= 0) {
        e = (struct lb_lblc_entry *)slot(s, (uint32_t)i);
        e->lastuse = now;
        d = lb_dest_find(dests, n, e->dest_id, e->dest_hint);
        if (d >= 0 && dests[d].weight > 0 && !lblc_overloaded(&dests[d], dests, n)) {
            e->dest_hint = (uint32_t)d;
            return d;
        }
    }
    d = lb_pick_wlc(dests, n);
    if (d < 0)
        return -1;
    if (i < 0)
        i = cache_insert(s, &key->dst);
    if (i >= 0) { /* ip_vs_lblc_new: (re)point the entry, lastuse = now */
        e = (struct lb_lblc_entry *)slot(s, (uint32_t)i);
        e->dest_id = dests[d].id;
        e->dest_hint = (uint32_t)d;
        e->lastuse = now;
    }
    return d;
}

/* ---- lblcr sets --------------------------------------------------------------------------- */

/* Resolves members to indices into idx[], dropping members whose dest is gone. */
static void set_resolve(struct lb_lblcr_entry *e, const struct lb_dest *dests, size_t n, int idx[])
{
    uint8_t out = 0;

    for (uint8_t m = 0; m < e->size; m++) {
        int d = lb_dest_find(dests, n, e->dest_id[m], e->dest_hint[m]);

        if (d < 0)
            continue;
        e->dest_id[out] = e->dest_id[m];
        e->dest_hint[out] = (uint32_t)d;
        idx[out++] = d;
    }
    e->size = out;
}

/* ip_vs_dest_set_min: wlc within the set, in set order. */
static int set_min(const struct lb_lblcr_entry *e, const struct lb_dest *dests, const int idx[])
{
    int least = -1;
    int64_t loh = 0;

    for (uint8_t m = 0; m < e->size; m++) {
        const struct lb_dest *d = &dests[idx[m]];
        int64_t doh = lb_dest_overhead(d);

        if (d->overloaded)
            continue;
        if (least < 0 ? d->weight > 0 : loh * d->weight > doh * dests[least].weight) {
            least = idx[m];
            loh = doh;
        }
    }
    return least;
}

/* ip_vs_dest_set_max: the weighted most loaded member with weight > 0 (OVERLOAD ignored);
 * returns its position in the set, or -1. */
static int set_max(const struct lb_lblcr_entry *e, const struct lb_dest *dests, const int idx[])
{
    int most = -1;
    int64_t moh = 0;

    for (uint8_t m = 0; m < e->size; m++) {
        const struct lb_dest *d = &dests[idx[m]];
        int64_t doh = lb_dest_overhead(d);

        if (d->weight <= 0)
            continue;
        if (most < 0 || moh * d->weight < doh * dests[idx[most]].weight) {
            most = m;
            moh = doh;
        }
    }
    return most;
}

static void set_erase(struct lb_lblcr_entry *e, int pos, mono_us now)
{
    for (uint8_t m = (uint8_t)pos; m + 1 < e->size; m++) {
        e->dest_id[m] = e->dest_id[m + 1];
        e->dest_hint[m] = e->dest_hint[m + 1];
    }
    e->size--;
    e->lastmod = now;
}

/* ip_vs_dest_set_insert: new members go first; an existing member is not added twice. */
static void set_insert(struct lb_lblcr_entry *e, const struct lb_dest *dests, int d, mono_us now)
{
    for (uint8_t m = 0; m < e->size; m++)
        if (e->dest_id[m] == dests[d].id)
            return;
    if (e->size == LB_LBLCR_SET_MAX)
        return;
    memmove(&e->dest_id[1], &e->dest_id[0], sizeof(e->dest_id[0]) * e->size);
    memmove(&e->dest_hint[1], &e->dest_hint[0], sizeof(e->dest_hint[0]) * e->size);
    e->dest_id[0] = dests[d].id;
    e->dest_hint[0] = (uint32_t)d;
    e->size++;
    e->lastmod = now;
}

/* A hit: the set minimum unless it is lblc-overloaded; expire the most loaded member of an
 * old multi-member set first. Returns the dest, or -1 to reschedule. */
static int lblcr_hit(struct lb_sched *s, struct lb_lblcr_entry *e, const struct lb_dest *dests,
                     size_t n, mono_us now)
{
    int idx[LB_LBLCR_SET_MAX];
    int d, m;

    e->lastuse = now;
    set_resolve(e, dests, n, idx);
    d = set_min(e, dests, idx);
    if (e->size > 1 && now > e->lastmod + s->u.cache.expiration) {
        m = set_max(e, dests, idx);
        if (m >= 0)
            set_erase(e, m, now);
    }
    if (d >= 0 && !lblc_overloaded(&dests[d], dests, n))
        return d;
    return -1;
}

static int pick_lblcr(struct lb_sched *s, const struct lb_dest *dests, size_t n,
                      const struct lb_key *key, mono_us now)
{
    int i = cache_find(s, &key->dst), d;
    struct lb_lblcr_entry *e;

    if (i >= 0) {
        e = (struct lb_lblcr_entry *)slot(s, (uint32_t)i);
        d = lblcr_hit(s, e, dests, n, now);
        if (d >= 0)
            return d;
        d = lb_pick_wlc(dests, n);
        if (d >= 0)
            set_insert(e, dests, d, now);
        return d;
    }
    d = lb_pick_wlc(dests, n);
    if (d < 0)
        return -1;
    i = cache_insert(s, &key->dst);
    if (i >= 0) {
        e = (struct lb_lblcr_entry *)slot(s, (uint32_t)i);
        e->lastuse = now;
        set_insert(e, dests, d, now);
    }
    return d;
}

int lb_cache_pick(struct lb_sched *s, const struct lb_dest *dests, size_t n,
                  const struct lb_key *key, mono_us now)
{
    if (s->kind == LB_SCHED_LBLC)
        return pick_lblc(s, dests, n, key, now);
    return pick_lblcr(s, dests, n, key, now);
}

/* ---- garbage collection ------------------------------------------------------------------- */

/* Drops entries idle since lastuse + idle <= now, scanning from the rover, until goal
 * entries went (goal < 0: no limit). A deletion may pull a later entry into the current slot,
 * so that slot is examined again. */
static uint32_t sweep(struct lb_sched *s, mono_us now, mono_us idle, int64_t goal)
{
    struct lb_cache *c = &s->u.cache;
    uint32_t mask = c->cap - 1, j = c->rover, dropped = 0;
    bool limited = goal >= 0;

    for (uint32_t visited = 0; visited < c->cap; visited++) {
        j = (j + 1) & mask;
        while (!(limited && dropped >= goal) && slot_addr(s, j)->family != IP_NONE &&
               slot_lastuse(s, j) + idle <= now) {
            cache_erase(s, j);
            dropped++;
        }
        if (limited && dropped >= goal)
            break;
    }
    c->rover = j;
    return dropped;
}

uint32_t lb_cache_gc(struct lb_sched *s, mono_us now)
{
    struct lb_cache *c = &s->u.cache;
    int64_t goal;

    if (c->counter % LB_CACHE_FULL_SWEEP_EVERY == 0) {
        c->counter = 1;
        return sweep(s, now, c->expiration, -1);
    }
    if (c->count <= c->max_size) {
        c->counter++;
        return 0;
    }
    goal = ((int64_t)c->count - c->max_size) * 4 / 3;
    if (goal > c->max_size / 2)
        goal = c->max_size / 2;
    if (goal <= 0)
        goal = 1;
    return sweep(s, now, LB_CACHE_ENTRY_TIMEOUT_US, goal);
}
