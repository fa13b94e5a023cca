/* The data-plane snapshot: the immutable load-balancing state the workers read.
 *
 * The control plane builds a struct dp_snap (virtual services, their real servers, weights,
 * health verdicts turned into weights or removals, the sorry server and the quorum verdict)
 * and hands it to dp_publish(). From then on the snapshot is READ-ONLY and owned by the data
 * plane; nobody writes to it again (the only mutable things it points to are the per-dest
 * statistics blocks, which are atomics owned by struct dp, see below).
 *
 * Publication and reclamation (RCU-like, documented rule):
 * - dp_publish stamps the snapshot with the next generation number (1, 2, ...) and swaps it
 *   into the dp's current pointer (release store). The previous snapshot goes on a retire
 *   list.
 * - Each worker, once per loop pass, loads the current pointer (acquire). When it changed, the
 *   worker adopts it (diffs its listeners, rebuilds its per-service scheduler state, expires
 *   UDP flows to removed dests) and then stores the adopted generation in its own
 *   `seen_gen` counter (release). A worker never dereferences a snapshot older than the one
 *   it adopted last, and no per-connection state points into a snapshot (connections keep a
 *   dest id, a pointer to the dest's stats block and copies of the timeouts they need).
 * - A retired snapshot of generation g is freed when every running worker's seen_gen is
 *   greater than g (a stopped worker counts as infinitely far). Reclamation runs on the
 *   control-plane thread inside dp_publish, dp_reclaim and dp_stop, never on a worker.
 *
 * Dest identity: `id` is chosen by the control plane and must be stable across snapshots for
 * the same real server (same service, address and port); the statistics block, connection
 * counts, the passive connect-failure signal and UDP flows are tied to it. A dest that
 * disappears from a snapshot has its UDP flows expired at once; its TCP connections continue
 * until they close (graceful drain). A dest at weight 0 receives no new connections or flows
 * but keeps its existing ones (IPVS "quiescent" semantics).
 *
 * Service identity for listener reuse across snapshots is (proto, addr, port): a service with
 * the same triple keeps its per-worker sockets and connections across a publish. */
#ifndef NOSPOF_DAEMON_DP_SNAP_T_H
#define NOSPOF_DAEMON_DP_SNAP_T_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr-t.h"
#include "base/time-t.h"

enum dp_proto {
    DP_TCP = 6,  /* IPPROTO_TCP */
    DP_UDP = 17, /* IPPROTO_UDP */
};

/* Shared per-dest counters, one block per dest id for the life of the struct dp (obtained
 * with dp_dest_stats(); stable across snapshots, so counts survive a publish). Written by
 * every worker with relaxed atomics; read by the control plane (dp_dest_read) at any time.
 * IPVS meanings (research/lb.md 1.1): active = TCP connections connecting or established in
 * both directions; inactive = TCP connections half-closed, plus UDP flows. */
struct dp_dest_stats {
    atomic_int_fast64_t active;
    atomic_int_fast64_t inactive;
    atomic_uint_fast64_t conns_total;      /* connections and UDP flows handed to this dest */
    atomic_uint_fast64_t connect_failures; /* refused or timed out connects: passive health */
    atomic_uint_fast64_t bytes_in;         /* client -> real server */
    atomic_uint_fast64_t bytes_out;        /* real server -> client */
    uint32_t id;                           /* the dest id (set by dp_dest_stats) */
};

/* One real server of a service. */
struct dp_dest {
    uint32_t id;                 /* stable across snapshots, unique within the dp */
    struct ip_addr addr;         /* same family as the service or not: full NAT allows both */
    uint16_t port;               /* host order */
    uint32_t weight;             /* 0 = drain (no new connections, existing ones stay) */
    struct dp_dest_stats *stats; /* dp_dest_stats(dp, id); never NULL in a published snap */
};

/* PROXY protocol header sent to the real server before any client byte. */
enum dp_proxy_proto {
    DP_PROXY_NONE = 0,
    DP_PROXY_V1 = 1, /* text */
    DP_PROXY_V2 = 2, /* binary */
};

/* One virtual service (keepalived virtual_server with lb_kind NAT, done as full NAT). */
struct dp_svc {
    struct ip_addr addr; /* the VIP; bound with IP_FREEBIND so it may be absent locally */
    uint16_t port;       /* host order */
    uint8_t proto;       /* enum dp_proto */
    /* Scheduler state handle: the scheduler kind (lb_algo) and its parameters. Each worker
     * owns its own scheduler state per service built from this (cursors are per worker);
     * today dp_pick() implements weighted round robin for every kind. */
    uint32_t sched_kind;
    /* Persistence (keepalived persistence_timeout): 0 = off. A client address seen within
     * this time goes to the same dest, per worker (see dp.h, "Persistence"). */
    mono_us persist_timeout_us;
    mono_us connect_timeout_us; /* TCP connect to a real server; 0 = default 5 s */
    uint32_t retries;           /* further dests tried after a failed connect (total attempts
                                   = min(retries + 1, number of eligible dests)) */
    mono_us idle_timeout_us;    /* TCP: no byte either way; UDP: no datagram. 0 = default
                                   (TCP 900 s, UDP 30 s) */
    uint8_t proxy_protocol;     /* enum dp_proxy_proto, TCP only */
    bool quorum_up;             /* false: the control plane says quorum is lost */
    bool has_sorry;             /* `sorry` is valid */
    struct dp_dest sorry;       /* used instead of dests while !quorum_up (if has_sorry) */
    size_t ndests;
    struct dp_dest *dests;
};

/* A whole snapshot. Build it with dp_snap_new / dp_svc_dests (dp.h) or by hand with a
 * release function; dp owns it after dp_publish. */
struct dp_snap {
    uint64_t gen; /* set by dp_publish */
    size_t nsvc;
    struct dp_svc *svc;
    /* Frees the snapshot. NULL: dp_snap_free (for snapshots from dp_snap_new). */
    void (*release)(struct dp_snap *snap);
};

#endif
