/* The scheduler dispatcher and the list-scanning schedulers: rr, wrr, lc, wlc, sed, nq, fo,
 * ovf; plus the dest helpers (weight, thresholds, OVERLOAD flag).
 *
 * Each pick is a transcription of the IPVS rule in research/lb.md 1.2 onto an array scanned
 * from index 0: "list head" is index -1, "continue after dest i" is the loop from i + 1. */
#include "lb.h"

#include <errno.h>
#include <string.h>
#include "lb_priv.h"

static const char *const kind_names[] = {
    [LB_SCHED_NONE] = "none", [LB_SCHED_RR] = "rr",       [LB_SCHED_WRR] = "wrr",
    [LB_SCHED_LC] = "lc",     [LB_SCHED_WLC] = "wlc",     [LB_SCHED_SED] = "sed",
    [LB_SCHED_NQ] = "nq",     [LB_SCHED_SH] = "sh",       [LB_SCHED_DH] = "dh",
    [LB_SCHED_LBLC] = "lblc", [LB_SCHED_LBLCR] = "lblcr", [LB_SCHED_MH] = "mh",
    [LB_SCHED_FO] = "fo",     [LB_SCHED_OVF] = "ovf",
};

#define KIND_COUNT (sizeof(kind_names) / sizeof(kind_names[0]))

enum lb_sched_kind lb_sched_kind_from_name(const char *name)
{
    for (size_t k = 1; k < KIND_COUNT; k++)
        if (strcmp(name, kind_names[k]) == 0)
            return (enum lb_sched_kind)k;
    return LB_SCHED_NONE;
}

const char *lb_sched_kind_name(enum lb_sched_kind kind)
{
    return (size_t)kind < KIND_COUNT ? kind_names[kind] : "none";
}

uint32_t lb_sched_flag_from_name(const char *name)
{
    static const struct {
        const char *name;
        uint32_t flag;
    } flags[] = {
        {"sh-fallback", LB_F_SH_FALLBACK},
        {"sh-port", LB_F_SH_PORT},
        {"mh-fallback", LB_F_MH_FALLBACK},
        {"mh-port", LB_F_MH_PORT},
    };

    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (strcmp(name, flags[i].name) == 0)
            return flags[i].flag;
    return 0;
}

/* ---- dests ---------------------------------------------------------------------------- */

int lb_dest_find(const struct lb_dest *dests, size_t n, uint32_t id, uint32_t hint)
{
    if (hint < n && dests[hint].id == id)
        return (int)hint;
    for (size_t i = 0; i < n; i++)
        if (dests[i].id == id)
            return (int)i;
    return -1;
}

void lb_dest_set_weight(struct lb_dest *d, int32_t w)
{
    if (w < 0)
        w = 0;
    if (w > LB_WEIGHT_MAX)
        w = LB_WEIGHT_MAX;
    d->weight = w;
    if (w > 0)
        d->last_weight = w;
}

void lb_dest_set_thresholds(struct lb_dest *d, uint32_t u, uint32_t l)
{
    /* IPVS __ip_vs_update_dest: lowering u keeps the flag until the next unbind. */
    if (u == 0 || u > d->u_threshold)
        d->overloaded = false;
    d->u_threshold = u;
    d->l_threshold = l;
}

static bool overload_may_clear(const struct lb_dest *d, uint64_t total)
{
    if (d->l_threshold != 0)
        return total < d->l_threshold;
    if (d->u_threshold != 0)
        return total * 4 < (uint64_t)d->u_threshold * 3;
    return true;
}

void lb_dest_update_overload(struct lb_dest *d, enum lb_conn_change change)
{
    uint64_t total = (uint64_t)d->active + d->inactive;

    switch (change) {
    case LB_CONN_BOUND: /* ip_vs_bind_dest */
        if (d->u_threshold != 0 && total >= d->u_threshold)
            d->overloaded = true;
        break;
    case LB_CONN_UNBOUND: /* ip_vs_unbind_dest */
        if (d->overloaded && overload_may_clear(d, total))
            d->overloaded = false;
        break;
    }
}

/* ---- rr --------------------------------------------------------------------------------- */

static bool rr_eligible(const struct lb_dest *d)
{
    return !d->overloaded && d->weight > 0;
}

/* ip_vs_rr_schedule: scan after the cursor to the end, then from the head up to and including
 * the cursor; a cursor at the head makes one pass only. */
static int pick_rr(struct lb_sched *s, const struct lb_dest *dests, size_t n)
{
    int32_t last = s->u.rr.cur;
    int found = -1;

    for (size_t i = (size_t)(last + 1); i < n && found < 0; i++)
        if (rr_eligible(&dests[i]))
            found = (int)i;
    for (int32_t i = 0; last >= 0 && i <= last && found < 0 && (size_t)i < n; i++)
        if (rr_eligible(&dests[i]))
            found = i;
    if (found >= 0) {
        s->u.rr.cur = found;
        s->u.rr.cur_id = dests[found].id;
    }
    return found;
}

/* ip_vs_rr_del_dest: a deleted cursor dest hands the cursor to its predecessor. */
static void update_rr(struct lb_sched *s, const struct lb_dest *dests, size_t n)
{
    int32_t cur = s->u.rr.cur;
    int idx;

    if (cur < 0)
        return;
    idx = lb_dest_find(dests, n, s->u.rr.cur_id, (uint32_t)cur);
    if (idx < 0) {
        cur = cur - 1 < (int32_t)n ? cur - 1 : (int32_t)n - 1;
        s->u.rr.cur = cur;
        if (cur >= 0)
            s->u.rr.cur_id = dests[cur].id;
        return;
    }
    s->u.rr.cur = idx;
}

/* ---- wrr -------------------------------------------------------------------------------- */

static int32_t gcd32(int32_t a, int32_t b)
{
    while (b != 0) {
        int32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int32_t wrr_gcd(const struct lb_dest *dests, size_t n)
{
    int32_t g = 0;

    for (size_t i = 0; i < n; i++)
        if (dests[i].weight > 0)
            g = g > 0 ? gcd32(dests[i].weight, g) : dests[i].weight;
    return g ? g : 1;
}

static int32_t max_weight(const struct lb_dest *dests, size_t n)
{
    int32_t w = 0;

    for (size_t i = 0; i < n; i++)
        if (dests[i].weight > w)
            w = dests[i].weight;
    return w;
}

/* ip_vs_wrr_dest_changed. */
static void update_wrr(struct lb_sched *s, const struct lb_dest *dests, size_t n)
{
    s->u.wrr.cl = -1;
    s->u.wrr.di = wrr_gcd(dests, n);
    s->u.wrr.mw = max_weight(dests, n) - (s->u.wrr.di - 1);
    if (s->u.wrr.cw > s->u.wrr.mw || s->u.wrr.cw == 0)
        s->u.wrr.cw = s->u.wrr.mw;
    else if (s->u.wrr.di > 1)
        s->u.wrr.cw = (s->u.wrr.cw / s->u.wrr.di) * s->u.wrr.di + 1;
}

/* ip_vs_wrr_schedule: continue from cl looking for weight >= cw; at the end of the list lower
 * cw by di (back to mw below 1). last_pass/restarted/stop guarantee one full pass at cw <= di
 * before giving up. */
static int pick_wrr(struct lb_sched *s, const struct lb_dest *dests, size_t n)
{
    int32_t i = s->u.wrr.cl, last = i, stop = -2;
    bool last_pass = false, restarted = false;

    if (s->u.wrr.mw == 0)
        return -1;
    for (;;) {
        for (i = i + 1; (size_t)i < n; i++) {
            if (!dests[i].overloaded && dests[i].weight >= s->u.wrr.cw) {
                s->u.wrr.cl = i;
                return i;
            }
            if (i == stop)
                goto over;
        }
        i = -1;
        s->u.wrr.cw -= s->u.wrr.di;
        if (s->u.wrr.cw <= 0) {
            s->u.wrr.cw = s->u.wrr.mw;
            if (last_pass || last == -1)
                goto over;
            restarted = true;
        }
        last_pass = s->u.wrr.cw <= s->u.wrr.di;
        if (last_pass && restarted && last != -1)
            stop = last;
    }
over:
    s->u.wrr.cl = i;
    return -1;
}

/* ---- least-connection family ----------------------------------------------------------- */

/* ip_vs_lc_schedule: weights ignored except that 0 is skipped; strict < keeps the first. */
static int pick_lc(const struct lb_dest *dests, size_t n)
{
    int least = -1;
    int64_t loh = 0;

    for (size_t i = 0; i < n; i++) {
        int64_t doh;

        if (dests[i].overloaded || dests[i].weight == 0)
            continue;
        doh = lb_dest_overhead(&dests[i]);
        if (least < 0 || doh < loh) {
            least = (int)i;
            loh = doh;
        }
    }
    return least;
}

static int64_t sed_overhead(const struct lb_dest *d)
{
    return (int64_t)d->active + 1;
}

/* Shared shape of wlc and sed: the first non-OVERLOAD dest with weight > 0 is the candidate;
 * a later non-OVERLOAD dest replaces it when loh*dw > doh*lw. Inlined with a constant sed so
 * that each caller gets its own loop. */
static inline int pick_weighted_min(const struct lb_dest *dests, size_t n, bool sed)
{
    size_t i = 0;
    int least;
    int64_t loh, lw;

    while (i < n && (dests[i].overloaded || dests[i].weight <= 0))
        i++;
    if (i == n)
        return -1;
    least = (int)i;
    loh = sed ? sed_overhead(&dests[i]) : lb_dest_overhead(&dests[i]);
    lw = dests[i].weight;
    for (i++; i < n; i++) {
        int64_t doh = sed ? sed_overhead(&dests[i]) : lb_dest_overhead(&dests[i]);

        if (!dests[i].overloaded && loh * dests[i].weight > doh * lw) {
            least = (int)i;
            loh = doh;
            lw = dests[i].weight;
        }
    }
    return least;
}

int lb_pick_wlc(const struct lb_dest *dests, size_t n)
{
    return pick_weighted_min(dests, n, false);
}

static int pick_sed(const struct lb_dest *dests, size_t n)
{
    return pick_weighted_min(dests, n, true);
}

/* ip_vs_nq_schedule: an idle dest (no active connection) wins at once; otherwise sed. */
static int pick_nq(const struct lb_dest *dests, size_t n)
{
    int least = -1;
    int64_t loh = 0;

    for (size_t i = 0; i < n; i++) {
        int64_t doh;

        if (dests[i].overloaded || dests[i].weight == 0)
            continue;
        doh = sed_overhead(&dests[i]);
        if (dests[i].active == 0)
            return (int)i;
        if (least < 0 || loh * dests[i].weight > doh * dests[least].weight) {
            least = (int)i;
            loh = doh;
        }
    }
    return least;
}

/* ip_vs_fo_schedule: the highest weight among non-OVERLOAD dests; weight 0 never wins. */
static int pick_fo(const struct lb_dest *dests, size_t n)
{
    int best = -1;
    int32_t hw = 0;

    for (size_t i = 0; i < n; i++)
        if (!dests[i].overloaded && dests[i].weight > hw) {
            best = (int)i;
            hw = dests[i].weight;
        }
    return best;
}

/* ip_vs_ovf_schedule: the highest weight among dests with active <= weight. */
static int pick_ovf(const struct lb_dest *dests, size_t n)
{
    int best = -1;

    for (size_t i = 0; i < n; i++) {
        const struct lb_dest *d = &dests[i];

        if (d->overloaded || d->weight == 0 || (int64_t)d->active > d->weight)
            continue;
        if (best < 0 || d->weight > dests[best].weight)
            best = (int)i;
    }
    return best;
}

/* ---- dispatch --------------------------------------------------------------------------- */

size_t lb_sched_storage_size(enum lb_sched_kind kind, uint32_t max_dests, uint32_t cache_cap)
{
    switch (kind) {
    case LB_SCHED_MH:
        return lb_mh_storage_size(max_dests);
    case LB_SCHED_LBLC:
    case LB_SCHED_LBLCR:
        return lb_cache_storage_size(kind, cache_cap);
    case LB_SCHED_NONE:
    case LB_SCHED_RR:
    case LB_SCHED_WRR:
    case LB_SCHED_LC:
    case LB_SCHED_WLC:
    case LB_SCHED_SED:
    case LB_SCHED_NQ:
    case LB_SCHED_SH:
    case LB_SCHED_DH:
    case LB_SCHED_FO:
    case LB_SCHED_OVF:
        break;
    }
    return 0;
}

int lb_sched_init(struct lb_sched *s, enum lb_sched_kind kind, uint32_t flags, void *storage,
                  size_t storage_len, uint32_t max_dests, uint32_t cache_cap)
{
    size_t need = lb_sched_storage_size(kind, max_dests, cache_cap);

    memset(s, 0, sizeof(*s));
    if (kind == LB_SCHED_NONE || (size_t)kind >= KIND_COUNT || storage_len < need)
        return -EINVAL;
    if (need != 0 && (storage == NULL || ((uintptr_t)storage & 7u) != 0))
        return -EINVAL;
    s->kind = kind;
    s->flags = flags;
    s->max_dests = max_dests;
    if (kind == LB_SCHED_MH)
        lb_mh_init(s, storage);
    else if (kind == LB_SCHED_LBLC || kind == LB_SCHED_LBLCR)
        lb_cache_init(s, storage, cache_cap);
    return lb_sched_update(s, NULL, 0);
}

void lb_sched_set_expiration(struct lb_sched *s, mono_us expiration)
{
    if (s->kind == LB_SCHED_LBLC || s->kind == LB_SCHED_LBLCR)
        s->u.cache.expiration = expiration;
}

int lb_sched_update(struct lb_sched *s, const struct lb_dest *dests, size_t n)
{
    if (n > INT16_MAX)
        return -E2BIG;
    switch (s->kind) {
    case LB_SCHED_RR:
        update_rr(s, dests, n);
        break;
    case LB_SCHED_WRR:
        update_wrr(s, dests, n);
        break;
    case LB_SCHED_SH:
    case LB_SCHED_DH:
        lb_tab_update(s, dests, n);
        break;
    case LB_SCHED_MH:
        if (n > LB_MH_TAB_SIZE || n > s->max_dests)
            return -E2BIG;
        lb_mh_update(s, dests, n);
        break;
    case LB_SCHED_NONE:
    case LB_SCHED_LC:
    case LB_SCHED_WLC:
    case LB_SCHED_SED:
    case LB_SCHED_NQ:
    case LB_SCHED_LBLC:
    case LB_SCHED_LBLCR:
    case LB_SCHED_FO:
    case LB_SCHED_OVF:
        break;
    }
    return 0;
}

int lb_sched_pick(struct lb_sched *s, const struct lb_dest *dests, size_t n,
                  const struct lb_key *key, mono_us now)
{
    switch (s->kind) {
    case LB_SCHED_RR:
        return pick_rr(s, dests, n);
    case LB_SCHED_WRR:
        return pick_wrr(s, dests, n);
    case LB_SCHED_LC:
        return pick_lc(dests, n);
    case LB_SCHED_WLC:
        return lb_pick_wlc(dests, n);
    case LB_SCHED_SED:
        return pick_sed(dests, n);
    case LB_SCHED_NQ:
        return pick_nq(dests, n);
    case LB_SCHED_FO:
        return pick_fo(dests, n);
    case LB_SCHED_OVF:
        return pick_ovf(dests, n);
    case LB_SCHED_SH:
    case LB_SCHED_DH:
        return key ? lb_tab_pick(s, dests, n, key) : -1;
    case LB_SCHED_MH:
        return key ? lb_mh_pick(s, dests, n, key) : -1;
    case LB_SCHED_LBLC:
    case LB_SCHED_LBLCR:
        return key ? lb_cache_pick(s, dests, n, key, now) : -1;
    case LB_SCHED_NONE:
        break;
    }
    return -1;
}

uint32_t lb_sched_gc(struct lb_sched *s, mono_us now)
{
    if (s->kind != LB_SCHED_LBLC && s->kind != LB_SCHED_LBLCR)
        return 0;
    return lb_cache_gc(s, now);
}

uint32_t lb_sched_cache_count(const struct lb_sched *s)
{
    if (s->kind != LB_SCHED_LBLC && s->kind != LB_SCHED_LBLCR)
        return 0;
    return s->u.cache.count;
}
