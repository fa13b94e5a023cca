/* TCP full-NAT proxying on one worker: listener, accept, connect with retries, PROXY header,
 * relay with speculative I/O, backpressure, half-close and the idle timeout (dp.h has the
 * theory of operation).
 *
 * A connection has two sides, cli and srv. side->buf holds bytes READ from that side and not
 * yet written to the other one; a side whose buffer is non-empty is not read (backpressure) and
 * its peer has EPOLLOUT armed. Buffers come from the worker pool and go back as soon as they
 * are empty, so an idle connection holds none. The one timer of a connection is the connect
 * deadline while connecting and the idle deadline afterwards; traffic only stamps last_us and
 * the timer re-arms itself lazily, so the hot path never touches the timer heap. */
#include "daemon/dp/dp_priv.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/log.h"
#include "proto/lb/proxy_proto.h"

struct dp_side {
    int fd;
    struct io_watch watch;
    uint32_t events;    /* what the watch asks for now */
    struct dp_buf *buf; /* read from this side, waiting for the other */
    bool eof;           /* read EOF from this side */
    bool shut;          /* sent SHUT_WR to this side */
    bool parked;        /* watch removed after EPOLLHUP while it could not be read */
};

enum conn_state {
    CONN_CONNECTING,
    CONN_OPEN, /* both directions open: counted active */
    CONN_HALF, /* one direction finished: counted inactive */
};

struct dp_conn {
    struct dp_worker *w;
    struct dp_wsvc *ws; /* holds a reference */
    struct dp_conn *prev, *next;
    struct dp_side cli, srv;
    enum conn_state state;
    struct io_timer timer;
    mono_us last_us, idle_us, connect_us;
    struct sockaddr_storage peer, local; /* client address, the address it reached */
    struct dp_dest_stats *ds;            /* NULL before the first connect attempt */
    uint32_t tried[DP_MAX_TRIES];
    uint8_t ntried, max_tries;
    uint8_t proxy;
    uint64_t unflushed_in, unflushed_out;
};

static void side_cb(struct io_loop *loop, struct io_watch *wt, uint32_t revents);
static void start_connect(struct dp_conn *c);

/* ---- bookkeeping ---- */

static void flush_bytes(struct dp_conn *c)
{
    if (!c->ds)
        return;
    atomic_fetch_add_explicit(&c->ds->bytes_in, c->unflushed_in, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->ds->bytes_out, c->unflushed_out, memory_order_relaxed);
    c->unflushed_in = c->unflushed_out = 0;
}

/* Leaves the dest's active or inactive count for the state's. */
static void uncount(struct dp_conn *c)
{
    if (!c->ds)
        return;
    if (c->state == CONN_HALF)
        atomic_fetch_sub_explicit(&c->ds->inactive, 1, memory_order_relaxed);
    else
        atomic_fetch_sub_explicit(&c->ds->active, 1, memory_order_relaxed);
}

static void side_close(struct dp_worker *w, struct dp_side *s)
{
    if (s->fd < 0)
        return;
    io_watch_del(&w->loop, &s->watch);
    close(s->fd);
    s->fd = -1;
    if (s->buf) {
        dp_buf_put(w, s->buf);
        s->buf = NULL;
    }
}

static void conn_free(struct dp_conn *c)
{
    struct dp_worker *w = c->w;

    uncount(c);
    flush_bytes(c);
    side_close(w, &c->cli);
    side_close(w, &c->srv);
    io_timer_cancel(&w->loop, &c->timer);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    atomic_fetch_sub_explicit(&w->dp->conns, 1, memory_order_relaxed);
    DP_DEC(w, conns);
    dp_wsvc_unref(c->ws);
    free(c);
}

void dp_tcp_close_all(struct dp_worker *w)
{
    while (w->conns)
        conn_free(w->conns);
}

static void set_events(struct dp_conn *c, struct dp_side *s, uint32_t ev)
{
    if (s->fd < 0 || s->events == ev)
        return;
    if (s->parked) { /* back on the loop once it is to be read again */
        s->events = ev;
        if (ev & EPOLLIN) {
            s->parked = false;
            s->watch.events = ev;
            io_watch_add(&c->w->loop, &s->watch);
        }
        return;
    }
    s->events = ev;
    if (io_watch_mod(&c->w->loop, &s->watch, ev) < 0)
        log_debug("dp: epoll_ctl: %s", strerror(errno));
}

static struct dp_side *peer_of(struct dp_conn *c, struct dp_side *s)
{
    return s == &c->cli ? &c->srv : &c->cli;
}

/* ---- relay ---- */

enum pump { PUMP_OK, PUMP_CLOSED };

/* The connection is over when both directions delivered their EOF. */
static enum pump check_done(struct dp_conn *c)
{
    if (c->cli.shut && c->srv.shut) {
        conn_free(c);
        return PUMP_CLOSED;
    }
    if ((c->cli.shut || c->srv.shut) && c->state == CONN_OPEN) {
        atomic_fetch_sub_explicit(&c->ds->active, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&c->ds->inactive, 1, memory_order_relaxed);
        c->state = CONN_HALF;
    }
    return PUMP_OK;
}

static void count_bytes(struct dp_conn *c, struct dp_side *from, size_t n)
{
    if (from == &c->cli) {
        c->unflushed_in += n;
        DP_ADD(c->w, bytes_in, n);
    } else {
        c->unflushed_out += n;
        DP_ADD(c->w, bytes_out, n);
    }
    if (c->unflushed_in + c->unflushed_out >= DP_BYTES_FLUSH)
        flush_bytes(c);
}

/* Writes from->buf to `to`. true when it is empty afterwards; false when the peer is not
 * draining (EPOLLOUT armed on it, reading from `from` stopped) or on an error (*err set). */
static bool drain_buf(struct dp_conn *c, struct dp_side *from, struct dp_side *to, int *err)
{
    struct dp_buf *b = from->buf;

    while (b->len) {
        ssize_t n = send(to->fd, b->data + b->off, b->len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                *err = -errno;
                return false;
            }
            set_events(c, to, to->events | EPOLLOUT);
            set_events(c, from, from->events & ~(uint32_t)EPOLLIN);
            return false;
        }
        b->off += (uint32_t)n;
        b->len -= (uint32_t)n;
    }
    b->off = 0;
    set_events(c, to, to->events & ~(uint32_t)EPOLLOUT);
    return true;
}

static void release_buf(struct dp_conn *c, struct dp_side *s)
{
    if (s->buf && !s->buf->len) {
        dp_buf_put(c->w, s->buf);
        s->buf = NULL;
    }
}

/* After EOF from `from` and an empty buffer: half-close towards `to`. */
static enum pump propagate_eof(struct dp_conn *c, struct dp_side *from, struct dp_side *to)
{
    release_buf(c, from);
    set_events(c, from, from->events & ~(uint32_t)EPOLLIN);
    if (!to->shut) {
        shutdown(to->fd, SHUT_WR);
        to->shut = true;
    }
    return check_done(c);
}

/* One receive into from->buf. >0 bytes, 0 EOF, -EAGAIN, or -errno. */
static ssize_t receive(struct dp_conn *c, struct dp_side *from)
{
    if (!from->buf)
        from->buf = dp_buf_get(c->w);
    ssize_t n = recv(from->fd, from->buf->data, DP_BUF_SIZE, 0);
    if (n > 0) {
        from->buf->len = (uint32_t)n;
        c->last_us = io_loop_now(&c->w->loop);
        count_bytes(c, from, (size_t)n);
        return n;
    }
    if (n == 0)
        return 0;
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

/* Moves bytes from `from` to `to` until `from` has nothing more, the peer stops draining, EOF
 * or an error. Speculative: no readiness is awaited before trying. */
static enum pump relay(struct dp_conn *c, struct dp_side *from, struct dp_side *to)
{
    int err = 0;

    for (;;) {
        if (from->buf && from->buf->len && !drain_buf(c, from, to, &err))
            break;
        if (from->eof)
            return propagate_eof(c, from, to);
        ssize_t n = receive(c, from);
        if (n == 0) {
            from->eof = true;
            continue;
        }
        if (n < 0) {
            if (n != -EAGAIN)
                err = (int)n;
            release_buf(c, from);
            break;
        }
        if (!drain_buf(c, from, to, &err))
            break;
        if (n < DP_BUF_SIZE) { /* short read: the socket is drained (level-triggered) */
            release_buf(c, from);
            break;
        }
    }
    if (err) {
        conn_free(c);
        return PUMP_CLOSED;
    }
    if (!from->buf && !from->eof)
        set_events(c, from, from->events | EPOLLIN);
    return PUMP_OK;
}

static void on_established_event(struct dp_conn *c, struct dp_side *s, uint32_t revents)
{
    struct dp_side *p = peer_of(c, s);

    if (revents & EPOLLERR) {
        conn_free(c);
        return;
    }
    /* Writable: the peer's pending bytes can move (and then the peer is read again). */
    if ((revents & EPOLLOUT) && p->buf && relay(c, p, s) == PUMP_CLOSED)
        return;
    if (s->eof || s->buf) {
        /* Not readable now (EOF seen, or its bytes wait for the peer). EPOLLHUP is reported
         * whatever the event mask, so park the watch instead of spinning; set_events brings
         * it back when the side is to be read again. */
        if ((revents & EPOLLHUP) && !(s->events & EPOLLOUT)) {
            io_watch_del(&c->w->loop, &s->watch);
            s->parked = true;
        }
        return;
    }
    if (revents & (EPOLLIN | EPOLLHUP))
        relay(c, s, p);
}

/* ---- connect ---- */

static void conn_fail_client(struct dp_conn *c)
{
    DP_INC(c->w, no_dest);
    conn_free(c);
}

static int send_proxy_header(struct dp_conn *c)
{
    struct proxy_conn pc = {.dgram = false};
    size_t n;

    dp_ipaddr(&c->peer, &pc.src, &pc.src_port);
    dp_ipaddr(&c->local, &pc.dst, &pc.dst_port);
    c->cli.buf = dp_buf_get(c->w);
    if (c->proxy == DP_PROXY_V1)
        n = proxy_v1_encode(&pc, c->cli.buf->data, DP_BUF_SIZE);
    else
        n = proxy_v2_encode(&pc, c->cli.buf->data, DP_BUF_SIZE);
    c->cli.buf->len = (uint32_t)n;
    return n ? 0 : -EINVAL;
}

static void established(struct dp_conn *c)
{
    struct dp_worker *w = c->w;

    c->state = CONN_OPEN;
    c->last_us = io_loop_now(&w->loop);
    io_timer_arm(&w->loop, &c->timer, c->last_us + c->idle_us);
    c->srv.events = EPOLLIN;
    io_watch_mod(&w->loop, &c->srv.watch, EPOLLIN);
    c->cli.events = EPOLLIN;
    io_watch_init(&c->cli.watch, c->cli.fd, EPOLLIN, side_cb, c);
    if (io_watch_add(&w->loop, &c->cli.watch) < 0) {
        conn_free(c);
        return;
    }
    if (c->proxy && send_proxy_header(c) < 0) {
        conn_free(c);
        return;
    }
    /* Speculative first read: the client usually sent its request already. */
    relay(c, &c->cli, &c->srv);
}

/* Counts a failed attempt on its dest (the passive health signal) and closes its socket.
 * Returns true when another dest may be tried; otherwise the client has been failed. */
static bool attempt_failed(struct dp_conn *c)
{
    struct dp_worker *w = c->w;

    atomic_fetch_add_explicit(&c->ds->connect_failures, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&c->ds->active, 1, memory_order_relaxed);
    c->ds = NULL;
    DP_INC(w, connect_failures);
    side_close(w, &c->srv);
    if (c->ntried >= c->max_tries) {
        conn_fail_client(c);
        return false;
    }
    DP_INC(w, connect_retries);
    return true;
}

/* A connect that failed later (refused, timed out): on to the next dest. */
static void connect_failed(struct dp_conn *c)
{
    if (attempt_failed(c))
        start_connect(c);
}

static void connect_done(struct dp_conn *c)
{
    int soerr = 0;
    socklen_t len = sizeof(soerr);

    if (getsockopt(c->srv.fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
        soerr = errno;
    if (soerr)
        connect_failed(c);
    else
        established(c);
}

static void side_cb(struct io_loop *loop, struct io_watch *wt, uint32_t revents)
{
    struct dp_conn *c = wt->ctx;
    struct dp_side *s = wt == &c->cli.watch ? &c->cli : &c->srv;

    if (c->state == CONN_CONNECTING)
        connect_done(c);
    else
        on_established_event(c, s, revents);
}

/* A non-blocking connect to d. 0 when in progress or done, -errno on an immediate failure. */
static int connect_to(struct dp_conn *c, const struct dp_dest *d)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd = dp_dest_socket(d, SOCK_STREAM, &ss, &len);

    if (fd < 0)
        return fd;
    c->srv = (struct dp_side){.fd = fd, .events = EPOLLOUT};
    io_watch_init(&c->srv.watch, fd, EPOLLOUT, side_cb, c);
    if (io_watch_add(&c->w->loop, &c->srv.watch) < 0) {
        close(fd);
        c->srv.fd = -1;
        return -ENOMEM;
    }
    if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS)
        return -errno;
    return 0;
}

static void start_connect(struct dp_conn *c)
{
    struct dp_worker *w = c->w;
    struct ip_addr client;
    uint16_t port;

    dp_ipaddr(&c->peer, &client, &port);
    for (;;) {
        const struct dp_dest *d = dp_pick(c->ws, &client, port, c->tried, c->ntried);
        if (!d) {
            conn_fail_client(c);
            return;
        }
        c->tried[c->ntried++] = d->id;
        c->ds = d->stats;
        atomic_fetch_add_explicit(&c->ds->active, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&c->ds->conns_total, 1, memory_order_relaxed);
        c->state = CONN_CONNECTING;
        if (connect_to(c, d) == 0) {
            io_timer_arm(&w->loop, &c->timer, io_loop_now(&w->loop) + c->connect_us);
            return;
        }
        /* refused at once (or no socket): same as a failed connect */
        if (!attempt_failed(c))
            return;
    }
}

static void timer_cb(struct io_loop *loop, struct io_timer *t)
{
    struct dp_conn *c = t->ctx;
    mono_us now = io_loop_now(loop);

    if (c->state == CONN_CONNECTING) {
        connect_failed(c); /* connect timeout */
        return;
    }
    if (now - c->last_us >= c->idle_us) {
        DP_INC(c->w, idle_timeouts);
        conn_free(c);
        return;
    }
    flush_bytes(c);
    io_timer_arm(loop, t, c->last_us + c->idle_us);
}

/* ---- accept ---- */

static void conn_new(struct dp_wsvc *ws, int fd, const struct sockaddr_storage *peer)
{
    struct dp_worker *w = ws->w;
    const struct dp_svc *svc = ws->svc;
    struct dp_conn *c = calloc(1, sizeof(*c));
    socklen_t len = sizeof(c->local);

    if (!c)
        abort();
    c->w = w;
    c->ws = ws;
    ws->refs++;
    c->cli = (struct dp_side){.fd = fd};
    c->srv.fd = -1;
    c->peer = *peer;
    getsockname(fd, (struct sockaddr *)&c->local, &len);
    c->idle_us = svc->idle_timeout_us ? svc->idle_timeout_us : DP_DEF_TCP_IDLE_US;
    c->connect_us = svc->connect_timeout_us ? svc->connect_timeout_us : DP_DEF_CONNECT_US;
    c->proxy = svc->proxy_protocol;
    size_t tries = dp_eligible(svc);
    if (tries > (size_t)svc->retries + 1)
        tries = (size_t)svc->retries + 1;
    c->max_tries = (uint8_t)(tries > DP_MAX_TRIES ? DP_MAX_TRIES : tries);
    io_timer_init(&c->timer, timer_cb, c);
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    DP_INC(w, conns);
    start_connect(c);
}

static void pause_cb(struct io_loop *loop, struct io_timer *t)
{
    struct dp_wsvc *ws = t->ctx;

    if (ws->fd >= 0)
        io_watch_mod(loop, &ws->watch, EPOLLIN);
}

/* EMFILE/ENFILE/ENOBUFS/ENOMEM: stop watching the listener for a moment instead of spinning. */
static void pause_accept(struct dp_wsvc *ws)
{
    struct io_loop *loop = &ws->w->loop;

    DP_INC(ws->w, accept_pauses);
    io_watch_mod(loop, &ws->watch, 0);
    io_timer_arm(loop, &ws->timer, io_loop_now(loop) + DP_ACCEPT_PAUSE_US);
}

/* Takes the connection-bound slot; false (and the client is closed) at the bound. */
static bool take_slot(struct dp_wsvc *ws, int fd)
{
    struct dp *dp = ws->w->dp;

    if (atomic_fetch_add_explicit(&dp->conns, 1, memory_order_relaxed) < dp->max_conns)
        return true;
    atomic_fetch_sub_explicit(&dp->conns, 1, memory_order_relaxed);
    DP_INC(ws->w, refused_maxconn);
    close(fd);
    return false;
}

static void accept_cb(struct io_loop *loop, struct io_watch *wt, uint32_t revents)
{
    struct dp_wsvc *ws = wt->ctx;

    for (int i = 0; i < DP_ACCEPT_BURST && ws->svc; i++) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof(peer);
        int fd = accept4(ws->fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_accept(ws);
            return; /* EAGAIN, or a connection aborted before accept */
        }
        DP_INC(ws->w, accepted);
        if (!take_slot(ws, fd))
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (ws->svc->http)
            dp_http_accept(ws, fd, &peer);
        else
            conn_new(ws, fd, &peer);
    }
}

int dp_tcp_open(struct dp_wsvc *ws)
{
    int fd = dp_bind_socket(ws, SOCK_STREAM);

    if (fd < 0)
        return fd;
    if (listen(fd, 4096) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return dp_wsvc_attach(ws, fd, accept_cb, pause_cb);
}

void dp_tcp_close_listener(struct dp_wsvc *ws)
{
    io_timer_cancel(&ws->w->loop, &ws->timer);
    if (ws->fd < 0)
        return;
    io_watch_del(&ws->w->loop, &ws->watch);
    close(ws->fd);
    ws->fd = -1;
}
