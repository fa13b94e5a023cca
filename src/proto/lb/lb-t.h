/* Types of the IPVS-compatible schedulers: real servers ("dests"), the scheduling key, and the
 * per-service scheduler state (research/lb.md sections 1.1-1.3).
 *
 * Theory of operation. The control plane owns an array of struct lb_dest per virtual service,
 * kept in IPVS list order: index 0 is scanned first. IPVS adds a new dest at the head of its
 * list, so to reproduce `ipvsadm -a A; -a B; -a C` the array must read C, B, A (newest first).
 * Every "first one wins" tie-break in the schedulers depends on that order.
 *
 * A struct lb_sched holds one service's scheduler state. lb_sched_update() is called with the
 * dest array whenever dests are added, removed or re-weighted (IPVS add_dest/del_dest/upd_dest);
 * lb_sched_pick() must then be called with that same array (same order, same count) until the
 * next update. Between updates only the load fields (active, inactive, overloaded) may change.
 *
 * Mutation: rr, wrr, lblc and lblcr change the scheduler state on every pick (cursor, cache);
 * lc, wlc, sed, nq, sh, dh, mh, fo and ovf never write to it, so one state may be shared by
 * several readers. Nothing here is thread-safe by itself. */
#ifndef NOSPOF_PROTO_LB_LB_T_H
#define NOSPOF_PROTO_LB_LB_T_H

#include <stdbool.h>
#include <stdint.h>
#include "base/addr-t.h"
#include "base/time-t.h"

/* IPVS weight range (ipvsadm -w). 0 means quiesced: no new connections. */
#define LB_WEIGHT_MAX 65535

/* sh and dh: 256 buckets (CONFIG_IP_VS_SH_TAB_BITS / DH_TAB_BITS = 8). */
#define LB_TAB_BITS 8
#define LB_TAB_SIZE (1u << LB_TAB_BITS)

/* mh: Maglev table size, a prime; IPVS default CONFIG_IP_VS_MH_TAB_INDEX 12 gives 4093 and
 * rshift keeps 6 significant bits of max_weight/gcd (IP_VS_MH_TAB_BITS = 12 / 2). Compile-time
 * only: change both together with the IPVS table (251, 509, 1021, 2039, 4093, 8191, ...). */
#define LB_MH_TAB_SIZE 4093u
#define LB_MH_TAB_BITS 6

/* lblc / lblcr: GC period, idle timeout of the size-driven GC, and the default expiration of
 * the full sweep (sysctl lblc_expiration / lblcr_expiration). */
#define LB_CACHE_GC_INTERVAL_US        MONO_S(60)
#define LB_CACHE_ENTRY_TIMEOUT_US      MONO_S(6 * 60)
#define LB_CACHE_DEFAULT_EXPIRATION_US MONO_S(24 * 60 * 60)
#define LB_CACHE_FULL_SWEEP_EVERY      30
/* lblcr: most dests one cache entry's set can hold (IPVS sets are unbounded). */
#define LB_LBLCR_SET_MAX 8

enum lb_sched_kind {
    LB_SCHED_NONE = 0,
    LB_SCHED_RR,    /* round robin */
    LB_SCHED_WRR,   /* weighted round robin */
    LB_SCHED_LC,    /* least connection */
    LB_SCHED_WLC,   /* weighted least connection */
    LB_SCHED_SED,   /* shortest expected delay */
    LB_SCHED_NQ,    /* never queue */
    LB_SCHED_SH,    /* source hashing */
    LB_SCHED_DH,    /* destination hashing */
    LB_SCHED_LBLC,  /* locality-based least connection */
    LB_SCHED_LBLCR, /* locality-based least connection with replication */
    LB_SCHED_MH,    /* Maglev hashing */
    LB_SCHED_FO,    /* weighted failover */
    LB_SCHED_OVF,   /* weighted overflow */
};

/* Scheduler flags (ipvsadm -b / keepalived "hashed"/"sh-port"/... keywords). */
enum lb_sched_flag {
    LB_F_SH_FALLBACK = 1u << 0, /* sh: probe other buckets when the bucket's dest is unavailable */
    LB_F_SH_PORT = 1u << 1,     /* sh: hash the client port too */
    LB_F_MH_FALLBACK = 1u << 2, /* mh: as sh-fallback */
    LB_F_MH_PORT = 1u << 3,     /* mh: as sh-port */
};

/* One real server as the schedulers see it. The control plane owns it and sets id, addr, port,
 * weight (with last_weight, see lb_dest_set_weight) and thresholds; the data plane maintains
 * active, inactive and overloaded. The pick reads these load fields as plain integers: in a
 * multi-threaded data plane they are copies of (or racy reads from) atomics, exactly as IPVS
 * reads atomic_t counters without a lock, so a pick may see a value a few connections old. */
struct lb_dest {
    uint32_t id;          /* stable and unique within the service (caches store it) */
    struct ip_addr addr;  /* real server address (mh hashes addr and port) */
    uint16_t port;        /* host order */
    int32_t weight;       /* 0..LB_WEIGHT_MAX; 0 = quiesced */
    int32_t last_weight;  /* latest non-zero weight (mh builds its table from it) */
    uint32_t u_threshold; /* upper connection threshold, 0 = none */
    uint32_t l_threshold; /* lower threshold, 0 = 3/4 of u_threshold */
    bool overloaded;      /* IP_VS_DEST_F_OVERLOAD; see lb_dest_update_overload */
    uint32_t active;      /* activeconns: TCP in handshake or established */
    uint32_t inactive;    /* inactconns: closing TCP and all UDP flows */
};

/* What a pick hashes on. Ports are host order. */
struct lb_key {
    struct ip_addr client; /* source address: sh, mh */
    uint16_t client_port;  /* sh-port, mh-port */
    struct ip_addr dst;    /* destination address of the packet: dh, lblc, lblcr */
};

/* A connection counter change, for lb_dest_update_overload. */
enum lb_conn_change {
    LB_CONN_BOUND,   /* a connection was bound to the dest (ip_vs_bind_dest) */
    LB_CONN_UNBOUND, /* a connection left the dest (ip_vs_unbind_dest) */
};

/* mh: per-dest permutation state while the table is built (struct in caller storage). */
struct lb_mh_setup {
    uint32_t offset;
    uint32_t skip;
    uint32_t perm;
    int32_t turns;
};

/* lblc cache entry: destination address -> dest. */
struct lb_lblc_entry {
    struct ip_addr addr; /* family IP_NONE = free slot */
    uint32_t dest_id;
    uint32_t dest_hint; /* index where dest_id was last seen */
    mono_us lastuse;
};

/* lblcr cache entry: destination address -> set of dests, newest member first. */
struct lb_lblcr_entry {
    struct ip_addr addr; /* family IP_NONE = free slot */
    uint8_t size;
    uint32_t dest_id[LB_LBLCR_SET_MAX];
    uint32_t dest_hint[LB_LBLCR_SET_MAX];
    mono_us lastuse;
    mono_us lastmod; /* last change of the set */
};

/* The bounded cache shared by lblc and lblcr: open addressing with linear probing over
 * caller-provided slots. Inserts fail (the pick still returns its dest, as IPVS does when an
 * allocation fails) once count reaches 7/8 of cap. */
struct lb_cache {
    void *slots; /* struct lb_lblc_entry[cap] or struct lb_lblcr_entry[cap] */
    uint32_t cap;
    uint32_t count;
    uint32_t max_size; /* GC goal threshold (IPVS: 16 * buckets); cap / 2 here */
    uint32_t rover;
    uint32_t counter; /* GC runs since the last full sweep */
    mono_us expiration;
};

struct lb_sched {
    enum lb_sched_kind kind;
    uint32_t flags; /* enum lb_sched_flag bits */
    uint32_t max_dests;
    union {
        struct {
            int32_t cur;     /* index of the last chosen dest, -1 = list head */
            uint32_t cur_id; /* its id, to follow it across updates */
        } rr;
        struct {
            int32_t cl; /* index of the current dest, -1 = list head */
            int32_t cw; /* current weight */
            int32_t mw; /* max weight - (di - 1) */
            int32_t di; /* gcd of the positive weights (1 if none) */
        } wrr;
        struct {
            int16_t bucket[LB_TAB_SIZE]; /* dest index, -1 = none */
        } tab;
        struct {
            int16_t *table;            /* [LB_MH_TAB_SIZE], dest index, -1 = none */
            struct lb_mh_setup *setup; /* [max_dests] */
            uint64_t *used;            /* bitmap of LB_MH_TAB_SIZE bits */
            int32_t gcd;
            int32_t rshift;
        } mh;
        struct lb_cache cache; /* lblc, lblcr */
    } u;
};

#endif
