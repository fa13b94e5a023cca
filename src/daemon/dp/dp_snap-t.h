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

#define DP_HTTP_LAT_BUCKETS 22

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
    /* HTTP (L7) services only (dp_http.c): */
    atomic_uint_fast64_t http_requests; /* requests sent to this dest (retries included) */
    atomic_uint_fast64_t http_resp[5];  /* final responses by class 1xx..5xx (101 in 1xx) */
    atomic_uint_fast64_t http_retries;  /* requests moved away from this dest after a failure */
    atomic_uint_fast64_t http_errors;   /* passive-health failures (dp_http.c lists them) */
    atomic_uint_fast64_t http_reuses;   /* requests sent on a pooled keep-alive connection */
    atomic_uint_fast64_t http_err_run;  /* consecutive failures now (0 after a response) */
    /* response time (request sent -> response head) histogram: bucket i counts times below
     * 2^(i+4) us (16 us .. ~16.8 s), the last one the rest */
    atomic_uint_fast64_t http_lat[DP_HTTP_LAT_BUCKETS];
    atomic_uint_fast64_t http_lat_sum_us; /* sum of those times */
    uint32_t id;                          /* the dest id (set by dp_dest_stats) */
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

/* HTTP (L7) service description (virtual_server with `protocol HTTP`; docs/http.md). */

/* A named group of real servers with its own scheduler (real_server_group NAME). Group 0 of
 * struct dp_http is the default group: the real servers written directly in the virtual
 * server, which are also dp_svc.dests (its `dests` aliases them, it owns nothing). Dest ids
 * are unique across all groups of a service. */
struct dp_http_group {
    char name[64];
    uint32_t sched_kind; /* enum lb_sched_kind; 0 = rr */
    size_t ndests;
    struct dp_dest *dests; /* owned, except group 0 */
};

/* One http_route line: Host exact ("www.example.com") or wildcard suffix ("*.example.com",
 * matching any name ending in ".example.com"), empty = any host; optional path prefix. */
struct dp_http_route {
    char host[128]; /* lower case, without port; "" = any */
    bool wildcard;  /* host holds the suffix with its leading dot (".example.com") */
    char path[128]; /* "" = any */
    uint32_t group; /* index into dp_http.groups */
};

#define DP_HTTP_XFF 0x1u /* X-Forwarded-For: client address (appended to an existing one) */
#define DP_HTTP_XFP 0x2u /* X-Forwarded-Proto: http */
#define DP_HTTP_FWD 0x4u /* Forwarded: for=...;proto=http (RFC 7239) */
#define DP_HTTP_LOG 0x8u /* access log lines (log_fd, or syslog when log_fd < 0) */

struct dp_http {
    struct dp_http_group *groups; /* ngroups >= 1; [0] is the default group */
    size_t ngroups;
    struct dp_http_route *routes; /* in order; first match wins, else group 0 */
    size_t nroutes;
    char cookie[64];              /* http_cookie NAME, "" = off */
    uint32_t headers;             /* DP_HTTP_* */
    uint32_t retries;             /* http_retries: further servers after a failure (default 2) */
    uint32_t error_limit;         /* http_error_limit: consecutive failures that mark a dest down */
    uint32_t max_head;            /* request head bytes; 0 = 15360 (one buffer less rewrite room) */
    uint32_t max_headers;         /* 0 = 100 */
    uint32_t max_line;            /* request line or one field line; 0 = 8192 */
    mono_us header_timeout_us;    /* whole request head; 0 = 10 s */
    mono_us keepalive_timeout_us; /* client idle between requests; 0 = 60 s */
    mono_us server_timeout_us;    /* response head and body gaps; 0 = 30 s */
    int log_fd; /* access log file, owned by the snapshot (closed when freed); -1: none */
    /* The service's own block (dp_dest_stats of an id the control plane reserves; NULL =
     * none): http_requests counts client requests (each once, retries not), http_resp the
     * responses nospof generated (400, 408, 502, 503, 504 ...) by class. */
    struct dp_dest_stats *vstats;
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
    uint32_t sched_flags; /* enum lb_sched_flag bits: sh-port, sh-fallback, mh-port, ... */
    /* Persistence (keepalived persistence_timeout): 0 = off. A client address seen within
     * this time goes to the same dest (see dp.h, "Persistence"). The
     * granularity (persistence_granularity) masks the client address: an IPv4 netmask in
     * host order and an IPv6 prefix length; 0 = the whole address. */
    mono_us persist_timeout_us;
    uint32_t persist_v4_mask;
    uint8_t persist_v6_prefix;
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
    /* NULL: an L4 service. Else an HTTP service: groups, routes, cookie, limits and header
     * options; freed by dp_snap_free (use dp_svc_http in dp.h). */
    struct dp_http *http;
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
