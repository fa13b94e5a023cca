/* IPVS schedulers as pure functions: init with caller storage, rebuild on dest changes, pick.
 *
 * The rules are those of the Linux IPVS modules ip_vs_{rr,wrr,lc,wlc,sed,nq,sh,dh,lblc,lblcr,
 * mh,fo,ovf}.c as summarised in research/lb.md 1.1-1.3, including the shared ones: scan order
 * = array order (newest first), ties keep the earlier dest, load = active*256 + inactive,
 * ratios compared by cross-multiplication, weight 0 = quiesced, OVERLOAD excludes. See lb-t.h
 * for the order, ownership and mutation contracts. No allocation: the caller passes storage
 * sized by lb_sched_storage_size(). */
#ifndef NOSPOF_PROTO_LB_LB_H
#define NOSPOF_PROTO_LB_LB_H

#include <stddef.h>
#include "lb-t.h"

/* The scheduler named as in ipvsadm/keepalived ("rr", "wlc", "mh", ...); LB_SCHED_NONE when
 * the name is unknown. */
enum lb_sched_kind lb_sched_kind_from_name(const char *name);

/* The ipvsadm name of kind, or "none". */
const char *lb_sched_kind_name(enum lb_sched_kind kind);

/* The flag named as in ipvsadm -b / keepalived ("sh-port", "sh-fallback", "mh-port",
 * "mh-fallback"); 0 when unknown. */
uint32_t lb_sched_flag_from_name(const char *name);

/* Bytes of storage (8-byte aligned) that lb_sched_init needs for kind with at most max_dests
 * dests (mh) and a cache of cache_cap entries (lblc, lblcr; 0 = 1024). 0 for kinds that need
 * none. */
size_t lb_sched_storage_size(enum lb_sched_kind kind, uint32_t max_dests, uint32_t cache_cap);

/* Initialises s for kind with flags (enum lb_sched_flag, others ignored) and no dests. storage
 * (may be NULL when the size is 0) must hold lb_sched_storage_size(kind, max_dests, cache_cap)
 * bytes, be 8-byte aligned and outlive s; s does not own it. The lblc/lblcr cache expiration
 * starts at LB_CACHE_DEFAULT_EXPIRATION_US (see lb_sched_set_expiration). Returns 0, or -EINVAL
 * for an unknown kind, a short or misaligned storage. */
int lb_sched_init(struct lb_sched *s, enum lb_sched_kind kind, uint32_t flags, void *storage,
                  size_t storage_len, uint32_t max_dests, uint32_t cache_cap);

/* Sets the lblc/lblcr full-sweep expiration (sysctl lblc_expiration); ignored by other kinds. */
void lb_sched_set_expiration(struct lb_sched *s, mono_us expiration);

/* Tells s that the dest list or a weight changed (IPVS add/del/upd_dest); dests[0..n) is the
 * new list in scan order. rr follows its cursor by id (a removed cursor dest moves the cursor
 * to its predecessor); wrr restarts at the head and re-derives cw; sh, dh, mh rebuild their
 * tables; caches keep their entries (they refer to dests by id). Returns 0, -E2BIG when n
 * exceeds what the kind can index (32767, mh: LB_MH_TAB_SIZE or max_dests). */
int lb_sched_update(struct lb_sched *s, const struct lb_dest *dests, size_t n);

/* Chooses a dest for a new connection: returns its index in dests[0..n), or -1 when none is
 * available. dests/n must be the list of the last lb_sched_update. key may be NULL for the
 * kinds that do not hash (rr wrr lc wlc sed nq fo ovf). now is used by lblc/lblcr only. */
int lb_sched_pick(struct lb_sched *s, const struct lb_dest *dests, size_t n,
                  const struct lb_key *key, mono_us now);

/* lblc/lblcr cache garbage collection; call every LB_CACHE_GC_INTERVAL_US. Every
 * LB_CACHE_FULL_SWEEP_EVERY-th call drops every entry idle for the expiration or longer;
 * otherwise, while more than max_size entries exist, it drops entries idle for
 * LB_CACHE_ENTRY_TIMEOUT_US or longer, at most min((count-max)*4/3, max/2) of them (IPVS
 * ip_vs_lblc_check_expire). Returns the number of entries dropped. No-op for other kinds. */
uint32_t lb_sched_gc(struct lb_sched *s, mono_us now);

/* Entries in the lblc/lblcr cache (0 for other kinds). */
uint32_t lb_sched_cache_count(const struct lb_sched *s);

/* Index of the dest with this id, trying hint first; -1 when absent. */
int lb_dest_find(const struct lb_dest *dests, size_t n, uint32_t id, uint32_t hint);

/* Sets d->weight to w (clamped to 0..LB_WEIGHT_MAX) and, when w > 0, last_weight too (IPVS
 * keeps the latest non-zero weight so that mh does not reshuffle on a drain). */
void lb_dest_set_weight(struct lb_dest *d, int32_t w);

/* Sets the thresholds; clears the OVERLOAD flag when u becomes 0 or grows (IPVS
 * __ip_vs_update_dest). */
void lb_dest_set_thresholds(struct lb_dest *d, uint32_t u, uint32_t l);

/* Updates d->overloaded after active/inactive changed by one connection, with total =
 * active + inactive already updated. BOUND sets it when u_threshold != 0 and total >=
 * u_threshold; UNBOUND clears it when total < l_threshold, or when l_threshold is 0:
 * total*4 < u_threshold*3, or when both are 0. Otherwise the flag is kept (hysteresis). */
void lb_dest_update_overload(struct lb_dest *d, enum lb_conn_change change);

/* IPVS load of a dest: active*256 + inactive (ip_vs_dest_conn_overhead). */
static inline int64_t lb_dest_overhead(const struct lb_dest *d)
{
    return ((int64_t)d->active << 8) + d->inactive;
}

#endif
