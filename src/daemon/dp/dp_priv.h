/* Private structures of the data plane, shared by dp.c, dp_worker.c, dp_tcp.c and dp_udp.c.
 *
 * Ownership: a struct dp_worker owns its loop, its per-service state (struct dp_wsvc), its
 * connections, flows and buffer pool; nothing here is touched by another thread except
 * seen_gen and the counters (atomics, relaxed), which the control plane reads. */
#ifndef NOSPOF_DAEMON_DP_PRIV_H
#define NOSPOF_DAEMON_DP_PRIV_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "daemon/dp/dp.h"
#include "io/loop.h"
#include "proto/lb/lb-t.h"
#include "proto/lb/lb_persist-t.h"

#define DP_BUF_SIZE           (16 * 1024)
#define DP_MAX_TRIES          16
#define DP_PERSIST_SLOTS      4096
#define DP_DEF_CONNECT_US     MONO_S(5)
#define DP_DEF_TCP_IDLE_US    MONO_S(900)
#define DP_DEF_UDP_IDLE_US    MONO_S(30)
#define DP_ACCEPT_PAUSE_US    MONO_MS(100)
#define DP_HOUSEKEEP_US       MONO_S(1)
#define DP_BYTES_FLUSH        (1u << 20)
#define DP_DEF_UDP_MAX_FLOWS  16384
#define DP_DEF_DRAIN_US       MONO_S(5)
#define DP_STOP_IDLE_GRACE_US MONO_S(1)
#define DP_DEF_POOL_KEEP      64
#define DP_ACCEPT_BURST       64
#define DP_DGRAM_BURST        64
#define DP_UDP_STOP_TICK_US   MONO_MS(50) /* the fastest a stopping worker rescans its flows */
/* A stopping worker's UDP flow ends this long after its last request was answered: trailing
 * datagrams of a multi-datagram answer follow the first within a round trip. */
#define DP_STOP_UDP_GRACE_US MONO_MS(500)

/* The per-worker counters, one X per field of struct dp_counters. */
#define DP_COUNTERS(X)                                                                             \
    X(accepted)                                                                                    \
    X(refused_maxconn)                                                                             \
    X(accept_pauses)                                                                               \
    X(no_dest)                                                                                     \
    X(connect_retries)                                                                             \
    X(connect_failures)                                                                            \
    X(idle_timeouts)                                                                               \
    X(bytes_in)                                                                                    \
    X(bytes_out)                                                                                   \
    X(udp_flows_created)                                                                           \
    X(udp_flows_expired)                                                                           \
    X(udp_flows_evicted)                                                                           \
    X(udp_drops)                                                                                   \
    X(conns)                                                                                       \
    X(udp_flows)                                                                                   \
    X(buffers)                                                                                     \
    X(buffers_in_use)

#define DP_CTR_FIELD(name) atomic_uint_fast64_t name;
struct dp_wctr {
    DP_COUNTERS(DP_CTR_FIELD)
};
#undef DP_CTR_FIELD

/* Single-writer counter updates: a relaxed load and store, no locked instruction. */
#define DP_ADD(w, name, v)                                                                         \
    atomic_store_explicit(&(w)->ctr.name,                                                          \
                          atomic_load_explicit(&(w)->ctr.name, memory_order_relaxed) + (v),        \
                          memory_order_relaxed)
#define DP_INC(w, name) DP_ADD(w, name, 1)
#define DP_DEC(w, name) DP_ADD(w, name, (uint_fast64_t)-1)

struct dp_buf {
    struct dp_buf *next; /* free list */
    uint32_t off, len;   /* pending bytes data[off .. off+len) */
    uint8_t data[DP_BUF_SIZE];
};

/* Spare blocks of one size, per worker: at most keep of them, all freed after a housekeeping
 * tick in which none was taken (an idle worker holds no spare memory). A block's first bytes
 * hold the list link while it is spare: a block type starts with a `next` pointer. */
struct dp_spares {
    void *free;
    size_t nfree;
    size_t keep;
    size_t size;
    bool used; /* a block was taken since the last trim */
};

struct dp_flow;
struct dp_worker;
struct dp_hsvc;
struct dp_hconn;
struct dp_hsrv;

/* One worker's scheduler over one dest array (a service's dests or an HTTP group's): a copy
 * of the dests in the same order (load fields refreshed from the shared stats at each pick)
 * and the persistence table. */
struct dp_sel {
    struct lb_sched sched;
    void *sched_mem;
    uint32_t sched_kind, sched_max, sched_flags;
    struct lb_dest *ldests;
    struct lb_persist persist;
    void *persist_mem;
    mono_us persist_timeout_us; /* of persist, 0 = off */
    uint32_t persist_v4_mask;
    uint8_t persist_v6_prefix;
    mono_us gc_at; /* next lb_sched_gc (lblc/lblcr caches) */
};

/* What a selector is synced with, besides its dests: the scheduler and its flags, and the
 * persistence settings (see struct dp_svc). */
struct dp_sel_opts {
    uint32_t kind; /* 0 = rr */
    uint32_t flags;
    mono_us persist_us;
    uint32_t persist_v4_mask;
    uint8_t persist_v6_prefix;
};

/* The selector options of svc, with the scheduler kind given (an HTTP group has its own). */
struct dp_sel_opts dp_sel_opts_of(const struct dp_svc *svc, uint32_t kind);

/* A worker's state for one virtual service, keyed by (proto, addr, port). Refcounted by the
 * TCP connections that came through it, so it outlives its removal from the snapshot. */
struct dp_wsvc {
    struct dp_worker *w;
    struct dp_wsvc *next;
    uint8_t proto;
    struct ip_addr addr;
    uint16_t port;
    const struct dp_svc *svc; /* in w->snap; NULL once removed */
    int fd;                   /* listener or service UDP socket, -1 when closed */
    struct io_watch watch;
    struct io_timer timer; /* TCP: accept pause; UDP: flow expiry */
    unsigned refs;         /* 1 for the worker's list + one per TCP connection */
    struct dp_sel sel;     /* dp_pick over svc->dests */
    struct dp_hsvc *http;  /* HTTP services: per-worker L7 state (dp_http.c), else NULL */
    bool steered;          /* the reuseport group steers by client address (dp_steer.c) */
    /* UDP flow table */
    struct dp_flow **buckets;
    size_t nbuckets, nflows;
    struct dp_flow *lru_head, *lru_tail; /* oldest first */
};

struct dp_worker {
    struct dp *dp;
    unsigned idx;
    pthread_t thread;
    struct io_loop loop;
    atomic_uint_fast64_t seen_gen; /* generation of snap; UINT64_MAX once exited */
    const struct dp_snap *snap;
    struct dp_wsvc *svcs;
    struct dp_spares pool;   /* struct dp_buf */
    struct dp_spares hidx;   /* the HTTP exchange blocks (dp_http.c) */
    struct dp_conn *conns;   /* all TCP connections of this worker (doubly linked) */
    struct dp_hconn *hconns; /* HTTP client connections (dp_http.c) */
    struct dp_hsrv **hidle;  /* idle keep-alive server connections, hashed by dest id */
    size_t nhidle;
    struct dp_wctr ctr;
    atomic_bool stop_req;
    bool stopping;
    bool done;
    struct io_timer drain_timer;
    struct io_timer house_timer;
    uint8_t dgram[65536];
};

/* dp_udp.c: the flows of ws as table rows for dp_dump_tables. */
void dp_udp_dump(const struct dp_wsvc *ws, mono_us now, struct dp_table_row *proto_row,
                 void (*cb)(void *ctx, const struct dp_table_row *row), void *ctx);
/* dp_dump.c: sel's live persistence templates as rows (row's service fields set by the
 * caller), to cb. */
void dp_sel_dump(const struct dp_sel *sel, mono_us now, struct dp_table_row *row,
                 void (*cb)(void *ctx, const struct dp_table_row *row), void *ctx);
/* dp_http.c: the selectors of an HTTP service (one per group), for dp_dump_tables. */
size_t dp_http_sels(const struct dp_wsvc *ws, struct dp_sel **out);

/* dp_worker.c */

/* Initialises w's loop and starts its thread (w zeroed, idx set). 0 or -errno. */
int dp_worker_start(struct dp *dp, struct dp_worker *w);
/* Asks w to stop (closes its sockets, drains TCP up to the bound), joins it, frees its loop. */
void dp_worker_stop(struct dp_worker *w);

/* dp_steer.c: attaches (persistent service, several workers) or detaches the reuseport
 * program that sends each client address to one worker. 0 or -errno (the kernel's 4-tuple
 * hash then stays: persistence holds per worker only). */
int dp_steer_sync(struct dp_wsvc *ws);

/* The classic BPF program dp_steer_sync attaches for svc over n sockets (exposed for tests):
 * index = hash(client address masked by the persistence granularity) % n. Its length. */
#define DP_STEER_MAX_INSNS 24
struct sock_filter;
unsigned dp_steer_program(const struct dp_svc *svc, unsigned n, struct sock_filter *p);

/* Adopts the published snapshot if it is newer than the worker's. On the worker's thread. */
void dp_worker_sync(struct dp_worker *w);
/* A block of s->size bytes: a spare, or a new one (*fresh set; malloc, aborts on OOM). */
void *dp_spares_take(struct dp_spares *s, bool *fresh);
/* Keeps block as a spare, or frees it (true) when s already keeps s->keep. */
bool dp_spares_give(struct dp_spares *s, void *block);
/* Frees the spares: all of them (all), or when none was taken since the last trim. Returns
 * how many it freed. */
size_t dp_spares_trim(struct dp_spares *s, bool all);
/* A 16 KiB buffer from w's pool (or malloc; aborts on OOM), empty. */
struct dp_buf *dp_buf_get(struct dp_worker *w);
/* Returns b to w's pool (freed when the pool already keeps opts.pool_keep buffers). */
void dp_buf_put(struct dp_worker *w, struct dp_buf *b);
/* Makes fd (bound by dp_bind_socket) ws's service socket on the worker's loop: on_read runs
 * when it is readable, ws->timer is set up with on_timer. 0, or -errno with fd closed. */
int dp_wsvc_attach(struct dp_wsvc *ws, int fd,
                   void (*on_read)(struct io_loop *, struct io_watch *, uint32_t),
                   void (*on_timer)(struct io_loop *, struct io_timer *));
/* Drops one reference; the last one frees ws (its socket must be closed already). */
void dp_wsvc_unref(struct dp_wsvc *ws);
/* The dest for a new connection/flow of client (may be NULL: no persistence key), never one
 * whose id is in tried[0..ntried); NULL when none is eligible. Valid until the worker's next
 * snapshot adoption: keep d->id and d->stats, not d. */
/* The dest for a new connection of client to svc through sel (synced with svc's dests): the
 * sorry server while quorum is lost (NULL once it was tried), else dp_sel_pick's. */
const struct dp_dest *dp_svc_pick(const struct dp_svc *svc, struct dp_sel *sel,
                                  const struct ip_addr *client, uint16_t client_port,
                                  const uint32_t *tried, size_t ntried, mono_us now);
const struct dp_dest *dp_pick(struct dp_wsvc *ws, const struct ip_addr *client,
                              uint16_t client_port, const uint32_t *tried, size_t ntried);
/* How many dests a new connection may try: those of weight > 0 (1 in sorry-server mode). */
size_t dp_eligible(const struct dp_svc *svc);
/* The dest (or the sorry server) with this id in svc, or NULL. */
const struct dp_dest *dp_find_dest(const struct dp_svc *svc, uint32_t id);
/* Fills ss and len for a:port. The AF_* family, or -EAFNOSUPPORT. */
int dp_sockaddr(const struct ip_addr *a, uint16_t port, struct sockaddr_storage *ss,
                socklen_t *len);
/* A non-blocking, close-on-exec socket of type (SOCK_STREAM gets TCP_NODELAY) towards d,
 * with d's address in *ss / *len for the caller's connect. fd or -errno. */
int dp_dest_socket(const struct dp_dest *d, int type, struct sockaddr_storage *ss, socklen_t *len);
/* The address and host-order port of ss (family IP_NONE, port 0 when not AF_INET/AF_INET6). */
void dp_ipaddr(const struct sockaddr_storage *ss, struct ip_addr *a, uint16_t *port);
/* A non-blocking socket of type bound to ws's VIP:port (SO_REUSEPORT, IP_FREEBIND). fd or
 * -errno. */
int dp_bind_socket(const struct dp_wsvc *ws, int type);

/* Syncs sel with the dests d[0..n) and the scheduler kind (0 = rr) and persistence timeout
 * (0 = off), keeping cursors when the kind is unchanged (IPVS upd_dest). Aborts on OOM. */
void dp_sel_sync(struct dp_sel *sel, const struct dp_sel_opts *o, const struct dp_dest *d,
                 size_t n);
/* Frees sel's memory. */
void dp_sel_free(struct dp_sel *sel);
/* The dest among d[0..n) (the array sel was synced with) for client (NULL: no persistence
 * key) to vip, skipping ids in tried and dests whose http_err_run reached err_limit (0: no
 * limit); NULL when none is eligible. */
const struct dp_dest *dp_sel_pick(struct dp_sel *sel, const struct dp_dest *d, size_t n,
                                  const struct ip_addr *client, uint16_t client_port,
                                  const struct ip_addr *vip, const uint32_t *tried, size_t ntried,
                                  mono_us now, uint32_t err_limit);

/* dp_tcp.c */

/* Opens and watches ws's listener. 0 or -errno. */
int dp_tcp_open(struct dp_wsvc *ws);
/* Closes ws's listener (connections that came through it go on). */
void dp_tcp_close_listener(struct dp_wsvc *ws);
/* Closes every TCP connection of w at once (stop, drain bound reached). */
void dp_tcp_close_all(struct dp_worker *w);

/* dp_http.c */

/* Creates, syncs (after ws->svc changed) or frees ws->http for an HTTP service. */
void dp_http_sync(struct dp_wsvc *ws);
void dp_http_free(struct dp_wsvc *ws);
/* Handles a client connection accepted on an HTTP service (takes fd and the slot). */
void dp_http_accept(struct dp_wsvc *ws, int fd, const struct sockaddr_storage *peer);
/* Stopping: the HTTP client connections idle between requests get DP_STOP_IDLE_GRACE_US to
 * send a request already on its way (answered with "Connection: close", like every response
 * of a stopping worker), then close; the others close after their current response. */
void dp_http_close_idle(struct dp_worker *w);
/* Closes every HTTP connection (client and pooled server ones) of w at once. */
void dp_http_close_all(struct dp_worker *w);
/* Once a second: expires idle pooled server connections, flushes the access log. */
void dp_http_house(struct dp_worker *w);
/* The size of the per-exchange block of an HTTP client connection (w->hidx's blocks). */
size_t dp_http_block_size(void);

/* dp_udp.c */

/* Opens and watches ws's service socket. 0 or -errno. */
int dp_udp_open(struct dp_wsvc *ws);
/* Expires every flow of ws and closes its service socket. */
void dp_udp_close(struct dp_wsvc *ws);
/* The worker stops: ws's service socket is no longer read (a successor may read it now), its
 * flows go on relaying replies until each ends (see dp_udp.c), and the socket closes with the
 * last one (at once when there is none). */
void dp_udp_stop(struct dp_wsvc *ws);
/* Whether ws is a UDP service whose service socket is still open (while stopping: flows are
 * left that may still relay a reply). */
bool dp_udp_lingers(const struct dp_wsvc *ws);
/* After ws->svc changed: expires the flows whose dest left the service, re-arms expiry. */
void dp_udp_sync(struct dp_wsvc *ws);

#endif
