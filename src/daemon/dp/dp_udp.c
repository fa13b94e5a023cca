/* UDP full-NAT proxying on one worker: the service socket, the flow table and flow expiry.
 *
 * A flow is one client address:port of one service. It owns a UDP socket connected to the
 * picked dest (so the kernel filters replies for us) watched on the worker loop; replies are
 * sent to the client from the service socket, so their source is VIP:port. The table is a
 * hash of chains plus an LRU list (oldest first): the expiry timer is armed for the oldest
 * flow's deadline only, a datagram just moves its flow to the tail, and a full table evicts
 * the head. A flow counts as inactive on its dest (IPVS counts UDP that way).
 *
 * Stopping (dp_stop: SIGTERM, or the old process after a binary upgrade): the service socket is
 * no longer read (after an upgrade the same kernel socket is the successor's now, and a client's
 * next datagram makes a flow there), but it stays open so that every flow still relays the
 * replies of its real server to the client from VIP:port. A flow then ends at its idle expiry,
 * or DP_STOP_UDP_GRACE_US after the first reply (or ICMP error) to the client's last datagram
 * (the request is answered: all a request/response protocol such as DNS waits for; a real
 * server that keeps pushing does not hold the old process), whichever is first; the drain bound
 * (dp_worker.c) ends the rest. The service socket closes with its last flow. Expiry is then a scan
 * of the table, at most every DP_UDP_STOP_TICK_US, since these deadlines do not follow LRU order.
 */
#include "daemon/dp/dp_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/log.h"

struct dp_flow {
    struct dp_wsvc *ws;
    struct dp_flow *hnext;
    struct dp_flow *lprev, *lnext;
    struct sockaddr_storage cli;
    socklen_t clilen;
    uint32_t hash;
    uint32_t dest_id;
    struct dp_dest_stats *ds;
    int fd;
    struct io_watch watch;
    mono_us last_us;
    mono_us answered_us; /* the first reply since the client's last datagram; 0 = none yet */
};

static mono_us idle_of(const struct dp_wsvc *ws)
{
    mono_us t = ws->svc ? ws->svc->idle_timeout_us : 0;

    return t ? t : DP_DEF_UDP_IDLE_US;
}

static size_t max_flows(const struct dp_wsvc *ws)
{
    size_t n = ws->w->dp->opts.udp_max_flows;

    return n ? n : DP_DEF_UDP_MAX_FLOWS;
}

static uint32_t sa_hash(const struct sockaddr_storage *ss, socklen_t len)
{
    const uint8_t *p = (const uint8_t *)ss;
    uint32_t h = 2166136261u; /* FNV-1a over the whole sockaddr (zero padded) */

    for (socklen_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* ---- LRU and hash chains ---- */

static void lru_unlink(struct dp_wsvc *ws, struct dp_flow *f)
{
    if (f->lprev)
        f->lprev->lnext = f->lnext;
    else
        ws->lru_head = f->lnext;
    if (f->lnext)
        f->lnext->lprev = f->lprev;
    else
        ws->lru_tail = f->lprev;
    f->lprev = f->lnext = NULL;
}

static void lru_append(struct dp_wsvc *ws, struct dp_flow *f)
{
    f->lprev = ws->lru_tail;
    f->lnext = NULL;
    if (ws->lru_tail)
        ws->lru_tail->lnext = f;
    else
        ws->lru_head = f;
    ws->lru_tail = f;
}

static void touch(struct dp_flow *f)
{
    struct dp_wsvc *ws = f->ws;

    f->last_us = io_loop_now(&ws->w->loop);
    if (ws->lru_tail != f) {
        lru_unlink(ws, f);
        lru_append(ws, f);
    }
}

static struct dp_flow **chain_of(struct dp_wsvc *ws, uint32_t hash)
{
    return &ws->buckets[hash & (ws->nbuckets - 1)];
}

static struct dp_flow *flow_find(struct dp_wsvc *ws, const struct sockaddr_storage *cli,
                                 socklen_t len, uint32_t hash)
{
    if (!ws->buckets)
        return NULL;
    for (struct dp_flow *f = *chain_of(ws, hash); f; f = f->hnext)
        if (f->hash == hash && f->clilen == len && memcmp(&f->cli, cli, len) == 0)
            return f;
    return NULL;
}

static void flow_free(struct dp_flow *f)
{
    struct dp_wsvc *ws = f->ws;
    struct dp_worker *w = ws->w;
    struct dp_flow **pp = chain_of(ws, f->hash);

    while (*pp != f)
        pp = &(*pp)->hnext;
    *pp = f->hnext;
    lru_unlink(ws, f);
    ws->nflows--;
    io_watch_del(&w->loop, &f->watch);
    close(f->fd);
    atomic_fetch_sub_explicit(&f->ds->inactive, 1, memory_order_relaxed);
    DP_DEC(w, udp_flows);
    free(f);
}

/* ---- expiry ---- */

static void arm_expiry(struct dp_wsvc *ws)
{
    struct io_loop *loop = &ws->w->loop;

    if (ws->lru_head)
        io_timer_arm(loop, &ws->timer, ws->lru_head->last_us + idle_of(ws));
    else
        io_timer_cancel(loop, &ws->timer);
}

/* When a flow of a stopping worker ends (see the top of the file). */
static mono_us stop_deadline(const struct dp_flow *f, mono_us idle)
{
    mono_us d = f->last_us + idle;

    if (f->answered_us && f->answered_us + DP_STOP_UDP_GRACE_US < d)
        d = f->answered_us + DP_STOP_UDP_GRACE_US;
    return d;
}

/* Stopping: ends the flows whose stop deadline has come; closes the service socket with the
 * last one, else re-arms for the earliest deadline left (not sooner than a tick away). */
static void stop_expiry(struct dp_wsvc *ws)
{
    struct io_loop *loop = &ws->w->loop;
    mono_us now = io_loop_now(loop), idle = idle_of(ws), next = MONO_NEVER;

    for (struct dp_flow *f = ws->lru_head, *lnext; f; f = lnext) {
        lnext = f->lnext;
        mono_us d = stop_deadline(f, idle);
        if (d <= now) {
            DP_INC(ws->w, udp_flows_expired);
            flow_free(f);
        } else if (d < next) {
            next = d;
        }
    }
    if (!ws->lru_head) {
        dp_udp_close(ws);
        return;
    }
    io_timer_arm(loop, &ws->timer,
                 next > now + DP_UDP_STOP_TICK_US ? next : now + DP_UDP_STOP_TICK_US);
}

/* Stopping: f was just answered; its deadline may now come before the armed expiry. */
static void stop_rearm(struct dp_flow *f)
{
    struct dp_wsvc *ws = f->ws;
    struct io_loop *loop = &ws->w->loop;
    mono_us d = stop_deadline(f, idle_of(ws)), soonest = io_loop_now(loop) + DP_UDP_STOP_TICK_US;

    if (d < soonest)
        d = soonest;
    if (d < io_timer_when(&ws->timer))
        io_timer_arm(loop, &ws->timer, d);
}

static void expiry_cb(struct io_loop *loop, struct io_timer *t)
{
    struct dp_wsvc *ws = t->ctx;
    mono_us now = io_loop_now(loop), idle = idle_of(ws);

    if (ws->w->stopping) {
        stop_expiry(ws);
        return;
    }
    while (ws->lru_head && ws->lru_head->last_us + idle <= now) {
        DP_INC(ws->w, udp_flows_expired);
        flow_free(ws->lru_head);
    }
    arm_expiry(ws);
}

/* ---- datagrams ---- */

/* f's real server answered the client's last datagram (a reply, or an ICMP error: no reply
 * will come). */
static void answered(struct dp_flow *f)
{
    if (f->answered_us)
        return;
    f->answered_us = io_loop_now(&f->ws->w->loop);
    if (f->ws->w->stopping)
        stop_rearm(f);
}

static void reply_cb(struct io_loop *loop, struct io_watch *wt, uint32_t revents)
{
    struct dp_flow *f = wt->ctx;
    struct dp_worker *w = f->ws->w;

    for (int i = 0; i < DP_DGRAM_BURST; i++) {
        ssize_t n = recv(f->fd, w->dgram, sizeof(w->dgram), 0);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                DP_INC(w, udp_drops); /* ICMP error reported by the dest */
                answered(f);
            }
            return;
        }
        touch(f);
        answered(f);
        if (f->ws->fd < 0 ||
            sendto(f->ws->fd, w->dgram, (size_t)n, 0, (struct sockaddr *)&f->cli, f->clilen) < 0) {
            DP_INC(w, udp_drops);
            continue;
        }
        DP_ADD(w, bytes_out, (uint64_t)n);
        atomic_fetch_add_explicit(&f->ds->bytes_out, (uint64_t)n, memory_order_relaxed);
    }
}

static int flow_socket(const struct dp_dest *d)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd = dp_dest_socket(d, SOCK_DGRAM, &ss, &len);

    if (fd < 0)
        return fd;
    if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

static bool table_ready(struct dp_wsvc *ws)
{
    if (ws->buckets)
        return true;
    size_t n = 16;
    while (n < max_flows(ws))
        n *= 2;
    ws->buckets = calloc(n, sizeof(*ws->buckets));
    if (!ws->buckets)
        abort();
    ws->nbuckets = n;
    return true;
}

static struct dp_flow *flow_new(struct dp_wsvc *ws, const struct sockaddr_storage *cli,
                                socklen_t len, uint32_t hash)
{
    struct dp_worker *w = ws->w;
    struct ip_addr client;
    uint16_t port;

    dp_ipaddr(cli, &client, &port);
    const struct dp_dest *d = dp_pick(ws, &client, port, NULL, 0);
    if (!d)
        return NULL;
    int fd = flow_socket(d);
    if (fd < 0)
        return NULL;
    if (ws->nflows >= max_flows(ws)) {
        DP_INC(w, udp_flows_evicted); /* flood of sources: the oldest flow goes */
        flow_free(ws->lru_head);
    }
    struct dp_flow *f = calloc(1, sizeof(*f));
    if (!f)
        abort();
    *f = (struct dp_flow){.ws = ws,
                          .cli = *cli,
                          .clilen = len,
                          .hash = hash,
                          .dest_id = d->id,
                          .ds = d->stats,
                          .fd = fd};
    io_watch_init(&f->watch, fd, EPOLLIN, reply_cb, f);
    if (io_watch_add(&w->loop, &f->watch) < 0) {
        close(fd);
        free(f);
        return NULL;
    }
    f->hnext = *chain_of(ws, hash);
    *chain_of(ws, hash) = f;
    lru_append(ws, f);
    ws->nflows++;
    atomic_fetch_add_explicit(&d->stats->inactive, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&d->stats->conns_total, 1, memory_order_relaxed);
    DP_INC(w, udp_flows_created);
    DP_INC(w, udp_flows);
    if (!io_timer_armed(&ws->timer))
        io_timer_arm(&w->loop, &ws->timer, io_loop_now(&w->loop) + idle_of(ws));
    return f;
}

static void forward(struct dp_wsvc *ws, const struct sockaddr_storage *cli, socklen_t len, size_t n)
{
    struct dp_worker *w = ws->w;
    uint32_t hash = sa_hash(cli, len);
    struct dp_flow *f = flow_find(ws, cli, len, hash);

    if (!f && table_ready(ws))
        f = flow_new(ws, cli, len, hash);
    if (!f) {
        DP_INC(w, udp_drops);
        return;
    }
    touch(f);
    f->answered_us = 0;
    if (send(f->fd, w->dgram, n, 0) < 0) {
        DP_INC(w, udp_drops);
        return;
    }
    DP_ADD(w, bytes_in, n);
    atomic_fetch_add_explicit(&f->ds->bytes_in, n, memory_order_relaxed);
}

static void service_cb(struct io_loop *loop, struct io_watch *wt, uint32_t revents)
{
    struct dp_wsvc *ws = wt->ctx;

    for (int i = 0; i < DP_DGRAM_BURST && ws->fd >= 0; i++) {
        struct sockaddr_storage cli;
        socklen_t len = sizeof(cli);
        ssize_t n =
            recvfrom(ws->fd, ws->w->dgram, sizeof(ws->w->dgram), 0, (struct sockaddr *)&cli, &len);
        if (n < 0)
            return;
        forward(ws, &cli, len, (size_t)n);
    }
}

/* ---- service socket ---- */

int dp_udp_open(struct dp_wsvc *ws)
{
    int fd = dp_bind_socket(ws, SOCK_DGRAM);

    if (fd < 0)
        return fd;
    return dp_wsvc_attach(ws, fd, service_cb, expiry_cb);
}

void dp_udp_stop(struct dp_wsvc *ws)
{
    if (ws->fd >= 0)
        io_watch_del(&ws->w->loop, &ws->watch);
    stop_expiry(ws);
}

bool dp_udp_lingers(const struct dp_wsvc *ws)
{
    return ws->proto == DP_UDP && ws->fd >= 0;
}

void dp_udp_close(struct dp_wsvc *ws)
{
    while (ws->lru_head) {
        DP_INC(ws->w, udp_flows_expired);
        flow_free(ws->lru_head);
    }
    io_timer_cancel(&ws->w->loop, &ws->timer);
    if (ws->fd < 0)
        return;
    io_watch_del(&ws->w->loop, &ws->watch);
    close(ws->fd);
    ws->fd = -1;
}

/* After a new snapshot: flows whose dest left the service expire at once; the expiry timer
 * follows a changed idle timeout. */
void dp_udp_sync(struct dp_wsvc *ws)
{
    for (struct dp_flow *f = ws->lru_head, *next; f; f = next) {
        next = f->lnext;
        if (!dp_find_dest(ws->svc, f->dest_id)) {
            DP_INC(ws->w, udp_flows_expired);
            flow_free(f);
        }
    }
    arm_expiry(ws);
}

void dp_udp_dump(const struct dp_wsvc *ws, mono_us now, struct dp_table_row *row,
                 void (*cb)(void *ctx, const struct dp_table_row *row), void *ctx)
{
    mono_us idle = idle_of(ws);

    for (const struct dp_flow *f = ws->lru_head; f; f = f->lnext) {
        row->flow = true;
        dp_ipaddr(&f->cli, &row->client, &row->client_port);
        row->dest_id = f->dest_id;
        row->conns = 0;
        row->expires_in_us = (ws->w->stopping ? stop_deadline(f, idle) : f->last_us + idle) - now;
        cb(ctx, row);
    }
}
