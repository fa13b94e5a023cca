/* Internal interface between the files of the scheduler module (not for other modules). */
#ifndef NOSPOF_PROTO_LB_LB_PRIV_H
#define NOSPOF_PROTO_LB_LB_PRIV_H

#include <stddef.h>
#include "lb-t.h"

/* A dest that a hashing scheduler may not return: weight <= 0 or OVERLOAD. */
static inline bool lb_dest_unavailable(const struct lb_dest *d)
{
    return d->weight <= 0 || d->overloaded;
}

/* wlc over dests[0..n): minimum overhead/weight among non-OVERLOAD dests, the first candidate
 * having weight > 0; -1 when none (ip_vs_wlc.c, also __ip_vs_lblc_schedule). */
int lb_pick_wlc(const struct lb_dest *dests, size_t n);

/* sh/dh tables (lb_table.c). */
void lb_tab_update(struct lb_sched *s, const struct lb_dest *dests, size_t n);
int lb_tab_pick(const struct lb_sched *s, const struct lb_dest *dests, size_t n,
                const struct lb_key *key);

/* mh (lb_table.c). */
size_t lb_mh_storage_size(uint32_t max_dests);
void lb_mh_init(struct lb_sched *s, void *storage);
void lb_mh_update(struct lb_sched *s, const struct lb_dest *dests, size_t n);
int lb_mh_pick(const struct lb_sched *s, const struct lb_dest *dests, size_t n,
               const struct lb_key *key);

/* lblc/lblcr caches (lb_cache.c). */
size_t lb_cache_storage_size(enum lb_sched_kind kind, uint32_t cache_cap);
void lb_cache_init(struct lb_sched *s, void *storage, uint32_t cache_cap);
int lb_cache_pick(struct lb_sched *s, const struct lb_dest *dests, size_t n,
                  const struct lb_key *key, mono_us now);
uint32_t lb_cache_gc(struct lb_sched *s, mono_us now);

#endif
