/* The user-space L4 data plane: keepalived's lb_kind NAT done as a full-NAT proxy (no IPVS).
 *
 * Theory of operation. N share-nothing worker threads (DESIGN.md 3), each with its own epoll
 * loop (io/loop.h), its own SO_REUSEPORT + IP_FREEBIND sockets per virtual service, its own
 * 16 KiB buffer pool, scheduler cursors and counters. The control plane publishes an immutable
 * snapshot (dp_snap-t.h, which documents the RCU-like reclamation rule) and the workers adopt
 * it at their next loop pass.
 *
 * TCP: a worker accepts (accept4, non-blocking, TCP_NODELAY), picks a dest (dp_pick) and
 * connects without blocking under the service's connect timeout. A refused or timed-out
 * connect counts on the dest (connect_failures: the passive health signal the control plane
 * reads with dp_dest_read) and the next not-yet-tried dest is attempted, up to retries + 1
 * attempts or all eligible dests, so a client never sees a refused backend while a healthy
 * one exists. Once connected, an optional PROXY v1/v2 header is written first, then bytes are
 * relayed both ways with speculative I/O: receive, send at once, arm EPOLLOUT only after a
 * short send, and stop reading a side while its peer is not draining (backpressure: at most
 * one buffer per direction). A receive shorter than the free buffer space ends the read burst
 * (the epoll watch is level-triggered, so this is equivalent to reading until EAGAIN and
 * saves one syscall). EOF on one side is propagated with shutdown(SHUT_WR) once the pending
 * bytes are out (half-close); the connection closes when both directions are done, on an
 * error, or after idle_timeout without a byte either way. Buffers are taken from the worker
 * pool only while bytes are in flight: an idle connection holds none.
 *
 * UDP: a worker's service socket receives a client datagram, finds or creates the flow of the
 * client address (a connected UDP socket to the picked dest, watched on the same loop) and
 * sends it; replies come back on the flow socket and are sent to the client from the service
 * socket (source = VIP:port). Flows expire after the idle timeout (default 30 s), at once when
 * their dest leaves the snapshot, and the oldest is evicted when the per-worker table is full.
 * A stopping data plane no longer reads its service sockets (after a binary upgrade the
 * successor reads the same sockets) but keeps relaying replies of its flows until each is
 * answered or idle, within the drain bound (dp_udp.c).
 *
 * Connection bound: max_conns defaults to (RLIMIT_NOFILE soft - 64) / 2 (each proxied TCP
 * connection uses two fds). At the bound a new client is accepted and closed at once
 * (refused_maxconn); EMFILE/ENFILE from accept4 pause the listener for 100 ms, never crash.
 *
 * Persistence: keyed by client address (masked by the granularity), kept in each worker's own
 * table. For a persistent service a classic BPF program on its reuseport group (dp_steer.c)
 * sends every connection of one client address, or granularity block, to the same worker, so
 * the template is found whatever the source port; other services keep the kernel's 4-tuple
 * hash, which spreads even one client's connections over all workers. Should the kernel refuse
 * the program (logged), persistence holds per worker only.
 *
 * Threads: everything here is called from the control-plane thread, except that the workers
 * write the per-dest atomics. */
#ifndef NOSPOF_DAEMON_DP_H
#define NOSPOF_DAEMON_DP_H

#include "daemon/dp/dp-t.h"

/* Zeroes dp (opts included: set them afterwards) and prepares it for dp_dest_stats and
 * dp_start. */
void dp_init(struct dp *dp);

/* Starts nworkers workers (0: one per online CPU). Workers serve nothing until the first
 * dp_publish. 0 or -errno (nothing left running on failure). */
int dp_start(struct dp *dp, unsigned nworkers);

/* Publishes snap (dp takes ownership; see dp_snap-t.h for the rules): stamps its generation,
 * swaps it in, wakes every worker and reclaims retired snapshots all workers have left. A
 * published snapshot must give every dest (and the sorry server) its stats block. */
void dp_publish(struct dp *dp, struct dp_snap *snap);

/* Frees retired snapshots every worker has moved past. Returns how many remain retired. */
size_t dp_reclaim(struct dp *dp);

/* Stops: closes every TCP listener and stops reading every UDP service socket at once, lets
 * running TCP connections finish and UDP flows relay their replies (each until it is answered
 * or idle, see dp_udp.c) for up to opts.drain_timeout_us (then closes them), and joins the
 * workers. Returns as soon as nothing is left to drain. Safe to call when not started. */
void dp_stop(struct dp *dp);

/* After dp_stop (or without dp_start): frees the snapshots, the stats registry and the mutex. */
void dp_fini(struct dp *dp);

/* Sums the per-worker counters into *out (relaxed reads: each value is exact for a quiet
 * data plane and a recent value otherwise). The counters go with the workers: after dp_stop
 * every field reads 0; the per-dest blocks (dp_dest_read) stay until dp_fini. */
void dp_stats(struct dp *dp, struct dp_counters *out);

/* The shared stats block of dest id, created on first use; stable for the life of dp. Call
 * from the control plane while building a snapshot. Aborts on out-of-memory. */
struct dp_dest_stats *dp_dest_stats(struct dp *dp, uint32_t id);

/* Copies the counters of dest id (the passive connect-failure signal included). 0, or
 * -ENOENT for an id never given a stats block. */
int dp_dest_read(struct dp *dp, uint32_t id, struct dp_dest_counters *out);

/* HTTP passive health: zeroes the consecutive-failure run of dest id (the control plane
 * calls it when an active check says the dest is back, or after the hold time of a dest
 * without checks), so workers pick it again. No-op for an unknown id. */
void dp_dest_reset_errors(struct dp *dp, uint32_t id);

/* One row of the persistence and flow tables (`nospofctl lb --persist|--flows`). */
struct dp_table_row {
    bool flow;          /* a UDP flow (a TCP or UDP flow for packet); else a template */
    bool packet;        /* from the packet data plane (dp_pkt.h); worker is then 0 */
    unsigned worker;    /* the worker whose table holds it */
    uint8_t proto;      /* enum dp_proto of the service */
    struct ip_addr vip; /* the service */
    uint16_t vport;
    struct ip_addr client; /* template: masked to the granularity */
    uint16_t client_port;  /* flows only */
    uint32_t dest_id;
    uint32_t conns;        /* template: connections still made through it */
    mono_us expires_in_us; /* template: until its timeout; flow: until its idle expiry */
};

/* Calls cb for every persistence template (want_persist) and UDP flow (want_flows) of every
 * worker. Each worker's tables are read on its own thread (io_loop_call), so each is
 * consistent. Call from the control-plane thread while the data plane runs. */
void dp_dump_tables(struct dp *dp, bool want_persist, bool want_flows,
                    void (*cb)(void *ctx, const struct dp_table_row *row), void *ctx);

/* Binary upgrade (daemon/upgrade.h, dp_handover.c). dp_listeners calls cb with every
 * listening TCP socket and UDP service socket of every worker, on that worker's thread (the
 * fd is valid during the call only: duplicate it to keep it). dp_barrier returns once every
 * worker has adopted the latest published snapshot, and with it opened its sockets (taking
 * inherited ones first). Control-plane thread, while the data plane runs. */
void dp_listeners(struct dp *dp, void (*cb)(void *ctx, int fd), void *ctx);
void dp_barrier(struct dp *dp);

/* Snapshot builders: a zeroed snapshot with nsvc services (quorum_up true, default timeouts
 * zero = defaults), and a zeroed dest array of n for svc (replacing any previous one). Abort on
 * out-of-memory. dp_snap_free frees both kinds; accepts NULL. */
struct dp_snap *dp_snap_new(size_t nsvc);
struct dp_dest *dp_svc_dests(struct dp_svc *svc, size_t n);
void dp_snap_free(struct dp_snap *snap);
/* Frees snap with its own `release`, or dp_snap_free when it has none; accepts NULL. */
void dp_snap_release(struct dp_snap *snap);

/* Makes svc an HTTP service: a zeroed struct dp_http with ngroups (>= 1) groups and nroutes
 * routes, log_fd -1, defaults for the rest (0 fields); replaces any previous one. Group 0 is
 * the default group and always serves svc->dests (its own dests fields are ignored); give
 * the others dests with dp_http_group_dests. Abort on out-of-memory. */
struct dp_http *dp_svc_http(struct dp_svc *svc, size_t ngroups, size_t nroutes);
struct dp_dest *dp_http_group_dests(struct dp_http_group *g, size_t n);

#endif
