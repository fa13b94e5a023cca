/* The HTTP/1.x (L7) switch engine on the data-plane workers.
 *
 * Theory of operation. An HTTP service (dp_svc.http != NULL) is accepted like an L4 one, then
 * each client connection runs one request at a time:
 *   IDLE (keep-alive, no byte yet; keepalive timeout) -> HEAD (the request head is parsed in
 *   place with http1_req_parse in the client buffer; header timeout counted from its first
 *   byte: a slowloris client is cut with a 408) -> EXCHANGE (routed to a group, a server
 *   picked, the rewritten head sent, the body streamed, the response parsed and streamed)
 *   -> IDLE again, or TUNNEL after a 101.
 * Pipelined requests wait in the client buffer and are parsed only once the previous
 * response is complete, so answers go back in order without a queue.
 *
 * Request heads are forwarded as received except that hop-by-hop fields are dropped
 * (RFC 9110 7.6.1) and X-Forwarded-For / X-Forwarded-Proto / Forwarded lines are inserted
 * before the final CRLF (dp_http_rewrite). Responses get the same hop-by-hop treatment plus
 * "Connection: close" when the client connection ends after them and the sticky Set-Cookie.
 * Bodies (Content-Length, chunked, close-delimited) are never buffered whole: the decoder
 * (http1_body_feed) says how many bytes of the buffer belong to the message and those are
 * sent on as they are; a side is not read while its bytes wait for the other (backpressure).
 *
 * Server connections: after a complete response that allows it, the server connection goes
 * to the worker's idle pool (hashed by dest id) and the next request to that dest reuses it
 * (dp_dest_stats.http_reuses). An event on an idle pooled connection means the server closed
 * it (or misbehaved): it is closed. The pool is bounded and idle entries expire.
 *
 * Retries: a request is moved to another server of its group when the connect fails, or
 * when the server connection dies (reset, EOF) before any response byte and no body byte was
 * sent and the method is idempotent (RFC 9110 9.2.2), up to http_retries further servers.
 * Non-idempotent requests always take a new server connection, so a pooled connection the
 * server closed meanwhile never costs one of them. Passive health: connect failures, resets/EOF
 * before a response on a fresh connection, response timeouts and invalid responses count as errors
 * of the dest (http_errors, http_err_run); a response resets the run; at http_error_limit the dest
 * is skipped by this data plane until the control plane resets the run (lbmgr). 5xx answers do not
 * count: the server is alive.
 *
 * Generated responses: 400/414/431/505 (request parse errors and smuggling defences: then the
 * connection closes), 408 (header timeout), 502 (bad response, or no server reachable after
 * the retries), 503 (no server in the group), 504 (response timeout). */
#include "daemon/dp/dp_priv.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/addr.h"
#include "daemon/dp/dp_http.h"
#include "io/log.h"
#include "proto/http/http1.h"
#include "proto/lb/proxy_proto.h"

#define HTTP_REWRITE_ROOM     1024u
#define HTTP_DEF_MAX_HEAD     (DP_BUF_SIZE - HTTP_REWRITE_ROOM)
#define HTTP_MAX_HDRS         100u
#define HTTP_DEF_HEADER_US    MONO_S(10)
#define HTTP_DEF_KEEPALIVE_US MONO_S(60)
#define HTTP_DEF_SERVER_US    MONO_S(30)
#define HTTP_POOL_BUCKETS     64u
#define HTTP_POOL_MAX         1024u
#define HTTP_POOL_IDLE_US     MONO_S(10)
#define HTTP_LOG_FLUSH        (8 * 1024)

/* Per worker and HTTP service: one scheduler per group, the access log buffer. */
struct dp_hsvc {
    struct dp_sel *sels;
    size_t nsels;
    int log_fd; /* of the adopted snapshot; -1 none */
    bool log_syslog;
    size_t loglen;
    char logbuf[2 * HTTP_LOG_FLUSH];
};

/* A connection to a real server, owned by a client connection or idle in the pool. */
struct dp_hsrv {
    struct dp_worker *w;
    int fd;
    struct io_watch watch;
    uint32_t events;
    uint32_t id;
    struct dp_dest_stats *ds;
    struct dp_hconn *owner; /* NULL while pooled */
    struct dp_hsrv *next;   /* pool chain */
    mono_us idle_since;
    bool connecting;
    bool reused;
    bool parked; /* watch removed after HUP/ERR while it was not to be read */
};

enum hstate { HS_IDLE, HS_HEAD, HS_EXCHANGE, HS_TUNNEL };

enum hfail { HF_CONNECT, HF_RESET, HF_TIMEOUT, HF_BAD };

struct dp_hconn {
    struct dp_worker *w;
    struct dp_wsvc *ws; /* holds a reference */
    struct dp_hconn *prev, *next;
    int fd;
    struct io_watch watch;
    uint32_t events;
    bool cli_rd;      /* the client may have bytes (EPOLLIN seen, no EAGAIN since) */
    bool srv_rd;      /* same for the server */
    bool cli_eof;     /* client sent FIN */
    bool close_after; /* close the client once out is sent */
    enum hstate st;
    struct ip_addr client;
    char client_s[IP_ADDR_STRLEN];
    struct dp_buf *in;   /* client bytes: the request (head, then body) and pipelined ones */
    struct dp_buf *out;  /* to the client: generated responses and response heads */
    struct dp_buf *sin;  /* server bytes */
    struct dp_buf *sout; /* rewritten request head: off = sent; kept for a retry */
    struct dp_hsrv *srv;
    struct io_timer timer;
    mono_us base_us, tmo_us; /* the timer fires at base + tmo (lazily re-armed) */
    struct http1_limits lim;
    struct http1_msg req, resp;
    struct http1_body rb, sb;
    size_t rb_pend, sb_pend; /* bytes at the buffer start that belong to the body, unsent */
    bool rb_done, sb_done, resp_head, resp_byte, upgrade, set_cookie, req_keep;
    uint64_t body_sent;
    uint32_t group, cookie_id;
    bool has_cookie;
    uint32_t tried[DP_MAX_TRIES];
    uint8_t ntried;
    uint16_t status;
    mono_us req_us, sent_us, resp_us;
    uint16_t client_port;
    uint8_t pp[112]; /* PROXY header of the current server connection */
    uint8_t pp_len, pp_off;
    uint64_t resp_bytes;
    struct dp_hidx *x; /* held only while a request is in progress (see hidx_get) */
};

static void pump(struct dp_hconn *c);
static void cli_cb(struct io_loop *loop, struct io_watch *wt, uint32_t revents);
static void srv_cb(struct io_loop *loop, struct io_watch *wt, uint32_t revents);

static const struct dp_http *hcfg(const struct dp_hconn *c)
{
    return c->ws->svc ? c->ws->svc->http : NULL;
}

static mono_us now_of(const struct dp_hconn *c)
{
    return io_loop_now(&c->w->loop);
}

static void stat_add(atomic_uint_fast64_t *a, uint64_t v)
{
    atomic_fetch_add_explicit(a, v, memory_order_relaxed);
}

/* ---- per-service state ---- */

static void log_flush(struct dp_hsvc *h)
{
    if (!h->loglen)
        return;
    if (h->log_fd >= 0) {
        ssize_t n = write(h->log_fd, h->logbuf, h->loglen);
        (void)n; /* an access log that cannot be written is dropped, never blocks traffic */
    }
    h->loglen = 0;
}

void dp_http_sync(struct dp_wsvc *ws)
{
    const struct dp_http *cfg = ws->svc ? ws->svc->http : NULL;

    if (!cfg) {
        dp_http_free(ws);
        return;
    }
    if (!ws->http) {
        ws->http = calloc(1, sizeof(*ws->http));
        if (!ws->http)
            abort();
    }
    struct dp_hsvc *h = ws->http;
    log_flush(h); /* with the fd of the snapshot still held */
    h->log_fd = (cfg->headers & DP_HTTP_LOG) ? cfg->log_fd : -1;
    h->log_syslog = (cfg->headers & DP_HTTP_LOG) && cfg->log_fd < 0;
    for (size_t g = cfg->ngroups; g < h->nsels; g++)
        dp_sel_free(&h->sels[g]);
    if (cfg->ngroups != h->nsels) {
        struct dp_sel *s = realloc(h->sels, cfg->ngroups * sizeof(*s));
        if (!s)
            abort();
        for (size_t g = h->nsels; g < cfg->ngroups; g++)
            memset(&s[g], 0, sizeof(s[g]));
        h->sels = s;
        h->nsels = cfg->ngroups;
    }
    for (size_t g = 0; g < cfg->ngroups; g++) {
        const struct dp_http_group *gr = &cfg->groups[g];
        struct dp_sel_opts o =
            dp_sel_opts_of(ws->svc, g == 0 ? ws->svc->sched_kind : gr->sched_kind);
        if (g == 0)
            dp_sel_sync(&h->sels[0], &o, ws->svc->dests, ws->svc->ndests);
        else
            dp_sel_sync(&h->sels[g], &o, gr->dests, gr->ndests);
    }
}

void dp_http_free(struct dp_wsvc *ws)
{
    struct dp_hsvc *h = ws->http;

    if (!h)
        return;
    log_flush(h);
    for (size_t g = 0; g < h->nsels; g++)
        dp_sel_free(&h->sels[g]);
    free(h->sels);
    free(h);
    ws->http = NULL;
}

/* ---- server connections and the idle pool ---- */

static void srv_close(struct dp_hsrv *s)
{
    io_watch_del(&s->w->loop, &s->watch);
    close(s->fd);
    free(s);
}

static void srv_events(struct dp_hsrv *s, uint32_t ev)
{
    if (s->events == ev)
        return;
    s->events = ev;
    if (s->parked)
        return; /* its end is known; srv_rd makes the next pump read it */
    io_watch_mod(&s->w->loop, &s->watch, ev);
}

static size_t pool_slot(uint32_t id)
{
    return (id * 2654435761u) % HTTP_POOL_BUCKETS;
}

static struct dp_hsrv *pool_take(struct dp_worker *w, uint32_t id)
{
    if (!w->hidle)
        return NULL;
    for (struct dp_hsrv **pp = &w->hidle[pool_slot(id)]; *pp; pp = &(*pp)->next) {
        struct dp_hsrv *s = *pp;
        if (s->id == id) {
            *pp = s->next;
            w->nhidle--;
            return s;
        }
    }
    return NULL;
}

static void pool_unlink(struct dp_hsrv *s)
{
    struct dp_worker *w = s->w;

    for (struct dp_hsrv **pp = &w->hidle[pool_slot(s->id)]; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            w->nhidle--;
            return;
        }
}

/* An idle connection becomes readable: the server closed it or sent unasked bytes. */
static void pool_put(struct dp_hsrv *s)
{
    struct dp_worker *w = s->w;

    if (!w->hidle && !(w->hidle = calloc(HTTP_POOL_BUCKETS, sizeof(*w->hidle))))
        abort();
    if (w->nhidle >= HTTP_POOL_MAX) {
        srv_close(s);
        return;
    }
    s->owner = NULL;
    s->idle_since = io_loop_now(&w->loop);
    srv_events(s, EPOLLIN); /* as while in use: no epoll_ctl; readable = closed or junk */
    s->next = w->hidle[pool_slot(s->id)];
    w->hidle[pool_slot(s->id)] = s;
    w->nhidle++;
}

static void pool_expire(struct dp_worker *w, mono_us now, bool all)
{
    for (size_t b = 0; w->hidle && b < HTTP_POOL_BUCKETS; b++) {
        struct dp_hsrv **pp = &w->hidle[b];
        while (*pp) {
            struct dp_hsrv *s = *pp;
            if (all || now - s->idle_since >= HTTP_POOL_IDLE_US) {
                *pp = s->next;
                w->nhidle--;
                srv_close(s);
            } else {
                pp = &s->next;
            }
        }
    }
}

/* ---- header indexes ---- */

/* What an exchange needs and an idle keep-alive connection does not: the request and response
 * header indexes and the access log's copies of host and path. One block per exchange, from
 * the worker's spares (w->hidx, dp_spares): an idle connection gives its block back, and the
 * next request on the worker takes one without malloc. */
struct dp_hidx {
    struct dp_hidx *next; /* while spare */
    struct http1_hdr req[HTTP_MAX_HDRS], resp[HTTP_MAX_HDRS];
    char log_host[64], log_path[128];
};

size_t dp_http_block_size(void)
{
    return sizeof(struct dp_hidx);
}

static struct dp_hidx *hidx_get(struct dp_worker *w)
{
    bool fresh;
    struct dp_hidx *x = dp_spares_take(&w->hidx, &fresh);

    x->log_host[0] = x->log_path[0] = 0;
    return x;
}

static void hidx_put(struct dp_worker *w, struct dp_hidx **xp)
{
    if (*xp)
        dp_spares_give(&w->hidx, *xp);
    *xp = NULL;
}

/* ---- client connection lifetime ---- */

static void put_buf(struct dp_worker *w, struct dp_buf **b)
{
    if (*b) {
        dp_buf_put(w, *b);
        *b = NULL;
    }
}

static void drop_srv(struct dp_hconn *c)
{
    if (!c->srv)
        return;
    atomic_fetch_sub_explicit(&c->srv->ds->active, 1, memory_order_relaxed);
    srv_close(c->srv);
    c->srv = NULL;
}

static void conn_free(struct dp_hconn *c)
{
    struct dp_worker *w = c->w;

    drop_srv(c);
    io_watch_del(&w->loop, &c->watch);
    close(c->fd);
    io_timer_cancel(&w->loop, &c->timer);
    put_buf(w, &c->in);
    put_buf(w, &c->out);
    put_buf(w, &c->sin);
    put_buf(w, &c->sout);
    hidx_put(w, &c->x);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->hconns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    atomic_fetch_sub_explicit(&w->dp->conns, 1, memory_order_relaxed);
    DP_DEC(w, conns);
    dp_wsvc_unref(c->ws);
    free(c);
}

void dp_http_close_all(struct dp_worker *w)
{
    while (w->hconns)
        conn_free(w->hconns);
    pool_expire(w, 0, true);
    free(w->hidle);
    w->hidle = NULL;
    dp_spares_trim(&w->hidx, true);
}

/* Back to IDLE: an idle keep-alive connection keeps no buffer and no header index. */
static void trim_idle(struct dp_hconn *c)
{
    if (c->in && !c->in->len)
        put_buf(c->w, &c->in);
    if (c->sin && !c->sin->len)
        put_buf(c->w, &c->sin);
    if (!c->in) {
        hidx_put(c->w, &c->x);
    }
}

/* The connection's one deadline is base + tmo. A timer already armed no later than that is
 * left in the heap: when it fires early, timer_cb re-arms it for the real deadline. So a
 * keep-alive connection moves its deadline later on every request without a heap update. */
static void set_timer(struct dp_hconn *c, mono_us base, mono_us tmo)
{
    c->base_us = base;
    c->tmo_us = tmo;
    if (io_timer_when(&c->timer) > base + tmo) /* MONO_NEVER when not armed */
        io_timer_arm(&c->w->loop, &c->timer, base + tmo);
}

/* How long a client connection may stay idle between requests: the keep-alive timeout, or a
 * short grace on a stopping worker (see dp_http_close_idle). */
static mono_us idle_timeout(const struct dp_hconn *c)
{
    const struct dp_http *cfg = hcfg(c);
    mono_us t =
        cfg && cfg->keepalive_timeout_us ? cfg->keepalive_timeout_us : HTTP_DEF_KEEPALIVE_US;

    return c->w->stopping && t > DP_STOP_IDLE_GRACE_US ? DP_STOP_IDLE_GRACE_US : t;
}

void dp_http_close_idle(struct dp_worker *w)
{
    mono_us now = io_loop_now(&w->loop);

    /* Closing at once would reset a request the client sent a moment ago; a short grace
     * lets it in and answers it with "Connection: close" instead. */
    for (struct dp_hconn *c = w->hconns; c; c = c->next)
        if (c->st == HS_IDLE && (!c->in || !c->in->len) && (!c->out || !c->out->len) &&
            c->base_us + c->tmo_us > now + DP_STOP_IDLE_GRACE_US)
            set_timer(c, now, DP_STOP_IDLE_GRACE_US);
}

/* ---- access log ---- */

static void access_log(struct dp_hconn *c)
{
    struct dp_hsvc *h = c->ws->http;
    const struct dp_http *cfg = hcfg(c);
    char line[512];

    if (!h || !cfg || !(cfg->headers & DP_HTTP_LOG))
        return;
    const char *host = c->x ? c->x->log_host : "", *path = c->x ? c->x->log_path : "";
    mono_us now = now_of(c);
    int n = snprintf(
        line, sizeof(line), "%s %s %s %s %u %llu req_us=%llu resp_us=%llu total_us=%llu rs=%08x\n",
        c->client_s, http1_method_name(c->req.method), host[0] ? host : "-", path[0] ? path : "-",
        c->status, (unsigned long long)c->resp_bytes, (unsigned long long)(c->sent_us - c->req_us),
        (unsigned long long)(c->resp_us ? c->resp_us - c->sent_us : 0),
        (unsigned long long)(now - c->req_us), c->ntried ? c->tried[c->ntried - 1] : 0);
    if (n <= 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = sizeof(line) - 1;
    if (h->log_syslog) {
        log_info("http: %.*s", n - 1, line);
        return;
    }
    if (h->loglen + (size_t)n > sizeof(h->logbuf))
        log_flush(h);
    memcpy(h->logbuf + h->loglen, line, (size_t)n);
    h->loglen += (size_t)n;
    if (h->loglen >= HTTP_LOG_FLUSH)
        log_flush(h);
}

static void copy_text(char *dst, size_t cap, const uint8_t *src, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

void dp_http_house(struct dp_worker *w)
{
    pool_expire(w, io_loop_now(&w->loop), false);
    dp_spares_trim(&w->hidx, false);
    for (struct dp_wsvc *ws = w->svcs; ws; ws = ws->next)
        if (ws->http)
            log_flush(ws->http);
}

/* ---- generated responses ---- */

/* The free tail of the client output buffer (taken and compacted on demand). */
static uint8_t *out_tail(struct dp_hconn *c, size_t *cap)
{
    if (!c->out)
        c->out = dp_buf_get(c->w);
    if (c->out->off) {
        memmove(c->out->data, c->out->data + c->out->off, c->out->len);
        c->out->off = 0;
    }
    *cap = DP_BUF_SIZE - c->out->len;
    return c->out->data + c->out->len;
}

/* Queues a generated response. The request is over: it is logged, its server connection (if
 * any) closed, and the client closes after it when close or when the request body was not
 * read to its end. */
static void respond(struct dp_hconn *c, unsigned status, bool close)
{
    size_t cap;

    if (!c->rb_done || c->cli_eof)
        close = true;
    uint8_t *p = out_tail(c, &cap);
    size_t n = dp_http_error_response(status, close, (char *)p, cap);
    c->out->len += (uint32_t)n;
    c->status = (uint16_t)status;
    c->resp_bytes = n;
    const struct dp_http *cfg = hcfg(c);
    if (cfg && cfg->vstats)
        stat_add(&cfg->vstats->http_resp[status / 100 - 1], 1);
    drop_srv(c);
    put_buf(c->w, &c->sout);
    access_log(c);
    c->close_after = close;
    c->st = HS_IDLE;
    trim_idle(c);
    set_timer(c, now_of(c), idle_timeout(c));
}

/* ---- dispatch: route, pick, connect ---- */

static const struct dp_dest *group_dests(const struct dp_hconn *c, size_t *n)
{
    const struct dp_svc *svc = c->ws->svc;

    if (c->group == 0 || c->group >= svc->http->ngroups) {
        *n = svc->ndests;
        return svc->dests;
    }
    *n = svc->http->groups[c->group].ndests;
    return svc->http->groups[c->group].dests;
}

static bool tried(const struct dp_hconn *c, uint32_t id)
{
    for (unsigned i = 0; i < c->ntried; i++)
        if (c->tried[i] == id)
            return true;
    return false;
}

/* The cookie's dest when it is in the group, up, not tried and under the error limit. */
static const struct dp_dest *cookie_dest(const struct dp_hconn *c, const struct dp_dest *d,
                                         size_t n)
{
    const struct dp_http *cfg = hcfg(c);

    if (!c->has_cookie)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (d[i].id != c->cookie_id)
            continue;
        uint64_t run = atomic_load_explicit(&d[i].stats->http_err_run, memory_order_relaxed);
        if (d[i].weight && !tried(c, d[i].id) && (!cfg->error_limit || run < cfg->error_limit))
            return &d[i];
    }
    return NULL;
}

static const struct dp_dest *pick(struct dp_hconn *c)
{
    const struct dp_svc *svc = c->ws->svc;
    size_t n;

    if (!svc || !svc->http || !c->ws->http)
        return NULL; /* removed, or a reload made it an L4 service: 503 */
    if (!svc->quorum_up && svc->has_sorry)
        return c->ntried ? NULL : &svc->sorry;
    const struct dp_dest *d = group_dests(c, &n);
    const struct dp_dest *ck = cookie_dest(c, d, n);
    if (ck)
        return ck;
    struct dp_hsvc *h = c->ws->http;
    uint32_t g = c->group < h->nsels ? c->group : 0;
    const struct dp_dest *p = dp_sel_pick(&h->sels[g], d, n, &c->client, 0, &svc->addr, c->tried,
                                          c->ntried, now_of(c), svc->http->error_limit);
    c->set_cookie = svc->http->cookie[0] && p && (!c->has_cookie || c->cookie_id != p->id);
    return p;
}

static int srv_connect(struct dp_hconn *c, const struct dp_dest *d)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd = dp_dest_socket(d, SOCK_STREAM, &ss, &len);

    if (fd < 0)
        return fd;
    if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
        int err = -errno;
        close(fd);
        return err;
    }
    struct dp_hsrv *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    *s = (struct dp_hsrv){.w = c->w, .fd = fd, .events = EPOLLOUT, .connecting = true};
    io_watch_init(&s->watch, fd, EPOLLOUT, srv_cb, s);
    if (io_watch_add(&c->w->loop, &s->watch) < 0) {
        close(fd);
        free(s);
        return -ENOMEM;
    }
    c->srv = s;
    return 0;
}

static void fail(struct dp_hconn *c, enum hfail why);

static void proxy_header(struct dp_hconn *c, uint8_t kind)
{
    struct proxy_conn pc = {.dgram = false, .src = c->client, .src_port = c->client_port};
    struct sockaddr_storage local = {0};
    socklen_t len = sizeof(local);

    /* The address the client reached (the VIP), asked only here: most services send no
     * PROXY header, and a connection need not carry 128 bytes for it. */
    getsockname(c->fd, (struct sockaddr *)&local, &len);
    dp_ipaddr(&local, &pc.dst, &pc.dst_port);
    size_t n = kind == DP_PROXY_V1 ? proxy_v1_encode(&pc, c->pp, sizeof(c->pp))
                                   : proxy_v2_encode(&pc, c->pp, sizeof(c->pp));
    c->pp_len = (uint8_t)n;
}

/* Sends the current request to a newly picked server (a pooled connection when there is one):
 * false when it failed at once and the client was answered. */
static void start_exchange(struct dp_hconn *c)
{
    const struct dp_svc *svc = c->ws->svc;

    for (;;) {
        const struct dp_dest *d = pick(c);
        if (!d) {
            respond(c, c->ntried ? 502 : 503, false);
            return;
        }
        c->tried[c->ntried++] = d->id;
        stat_add(&d->stats->http_requests, 1);
        c->sout->off = 0;
        c->resp_byte = c->resp_head = false;
        c->srv_rd = false;
        http1_resp_init(&c->resp, c->x->resp, HTTP_MAX_HDRS, &c->lim, c->req.method);
        if (c->sin)
            c->sin->len = 0;
        c->sent_us = now_of(c);
        /* A PROXY header names one client: such connections are never shared. A request
         * that is not idempotent takes a new connection: if a pooled one had just been
         * closed by the server, it could not be replayed (RFC 9110 9.2.2). */
        bool reuse = !svc->proxy_protocol && http1_method_idempotent(c->req.method);
        struct dp_hsrv *s = reuse ? pool_take(c->w, d->id) : NULL;
        c->pp_len = c->pp_off = 0;
        if (svc->proxy_protocol && !s)
            proxy_header(c, svc->proxy_protocol);
        if (s) {
            s->owner = c;
            s->reused = true;
            c->srv = s;
            stat_add(&d->stats->http_reuses, 1);
        } else if (srv_connect(c, d) < 0) {
            stat_add(&d->stats->connect_failures, 1);
            stat_add(&d->stats->http_errors, 1);
            stat_add(&d->stats->http_err_run, 1);
            DP_INC(c->w, connect_failures);
            if (c->ntried >= svc->http->retries + 1 || c->ntried >= DP_MAX_TRIES) {
                respond(c, 502, false);
                return;
            }
            stat_add(&d->stats->http_retries, 1);
            DP_INC(c->w, connect_retries);
            continue;
        } else {
            stat_add(&d->stats->conns_total, 1);
        }
        c->srv->owner = c;
        c->srv->id = d->id;
        c->srv->ds = d->stats;
        atomic_fetch_add_explicit(&d->stats->active, 1, memory_order_relaxed);
        mono_us ct = svc->connect_timeout_us ? svc->connect_timeout_us : DP_DEF_CONNECT_US;
        mono_us st =
            svc->http->server_timeout_us ? svc->http->server_timeout_us : HTTP_DEF_SERVER_US;
        set_timer(c, now_of(c), c->srv->connecting ? ct : st);
        return;
    }
}

/* The server connection failed before the response: retry elsewhere when allowed (see the
 * top of the file), else answer 502/504. */
static void fail(struct dp_hconn *c, enum hfail why)
{
    struct dp_hsrv *s = c->srv;
    struct dp_dest_stats *ds = s->ds;
    bool fresh = !s->reused;
    bool counts = why != HF_RESET || fresh;

    if (counts) {
        stat_add(&ds->http_errors, 1);
        stat_add(&ds->http_err_run, 1);
    }
    if (why == HF_CONNECT) {
        stat_add(&ds->connect_failures, 1);
        DP_INC(c->w, connect_failures);
    }
    drop_srv(c);
    if (c->resp_byte) {
        conn_free(c); /* part of the response is out: nothing sane to send */
        return;
    }
    /* RFC 9110 9.2.2: only an idempotent request may be sent again once it went out */
    bool replayable = c->body_sent == 0 && why != HF_TIMEOUT && why != HF_BAD &&
                      (why == HF_CONNECT || http1_method_idempotent(c->req.method));
    const struct dp_http *cfg = hcfg(c);
    /* a stale pooled connection is not a real attempt: it does not use up a retry */
    if (why == HF_RESET && !fresh && c->ntried)
        c->ntried--;
    if (replayable && cfg && c->ntried < cfg->retries + 1 && c->ntried < DP_MAX_TRIES) {
        if (why != HF_RESET || fresh) {
            stat_add(&ds->http_retries, 1);
            DP_INC(c->w, connect_retries);
        }
        start_exchange(c);
        return;
    }
    respond(c, why == HF_TIMEOUT ? 504 : 502, false);
}

/* No body byte will come: none, or Content-Length: 0 (the decoder is only fed bytes). */
static bool empty_body(const struct http1_msg *m)
{
    return m->body == HTTP1_BODY_NONE || (m->body == HTTP1_BODY_LENGTH && !m->content_length);
}

/* Host and path of the request, for routing and the log. */
static void req_host_path(struct dp_hconn *c, const uint8_t **host, size_t *hlen,
                          const uint8_t **path, size_t *plen)
{
    const uint8_t *b = c->in->data;
    const struct http1_msg *m = &c->req;

    *host = NULL;
    *hlen = 0;
    if (m->authority_len) {
        *host = b + m->authority_off;
        *hlen = m->authority_len;
    } else if (m->host >= 0) {
        *host = b + m->hdrs[m->host].value_off;
        *hlen = m->hdrs[m->host].value_len;
    }
    *path = b + m->target_off;
    *plen = m->target_len;
    if (m->form == HTTP1_FORM_ABSOLUTE) { /* skip "scheme://authority" */
        const uint8_t *a = b + m->authority_off + m->authority_len;
        *plen -= (size_t)(a - *path);
        *path = a;
    }
}

static void read_cookie(struct dp_hconn *c, const struct dp_http *cfg)
{
    c->has_cookie = false;
    if (!cfg->cookie[0])
        return;
    for (int i = http1_find_header(&c->req, c->in->data, "cookie", 6, 0); i >= 0 && !c->has_cookie;
         i = http1_find_header(&c->req, c->in->data, "cookie", 6, (uint32_t)i + 1))
        c->has_cookie = dp_http_cookie_find(c->in->data + c->x->req[i].value_off,
                                            c->x->req[i].value_len, cfg->cookie, &c->cookie_id);
}

/* The request head is complete in c->in: route it, rewrite it into sout, start the exchange. */
static void dispatch(struct dp_hconn *c)
{
    const struct dp_http *cfg = hcfg(c);
    const uint8_t *host, *path;
    size_t hlen, plen;
    char extra[HTTP_REWRITE_ROOM];

    if (!cfg) {
        respond(c, 503, true);
        return;
    }
    req_host_path(c, &host, &hlen, &path, &plen);
    copy_text(c->x->log_host, sizeof(c->x->log_host), host ? host : (const uint8_t *)"", hlen);
    copy_text(c->x->log_path, sizeof(c->x->log_path), path, plen);
    c->group = dp_http_route(cfg, host, hlen, path, plen);
    read_cookie(c, cfg);
    c->upgrade = (c->req.flags & HTTP1_F_UPGRADE) && (c->req.flags & HTTP1_F_CONN_UPGRADE);
    c->req_keep = http1_keep_alive(&c->req);
    size_t elen = dp_http_fwd_headers(cfg->headers, c->client_s, c->client.family == IP_V6, extra,
                                      sizeof(extra));
    c->sout = dp_buf_get(c->w);
    size_t n =
        dp_http_rewrite(&c->req, c->in->data, c->upgrade, extra, elen, c->sout->data, DP_BUF_SIZE);
    uint32_t head = c->req.head_len;
    memmove(c->in->data, c->in->data + head, c->in->len - head);
    c->in->len -= head;
    http1_body_init(&c->rb, c->req.body, c->req.content_length, &c->lim);
    c->rb_done = empty_body(&c->req);
    c->rb_pend = 0;
    c->body_sent = 0;
    c->ntried = 0;
    c->st = HS_EXCHANGE;
    if (!n) {
        respond(c, 431, true);
        return;
    }
    c->sout->len = (uint32_t)n;
    start_exchange(c);
}

/* ---- I/O steps (each returns true when it made progress) ---- */

static bool send_from(struct dp_hconn *c, int fd, struct dp_buf *b, size_t off, size_t len,
                      size_t *sent)
{
    *sent = 0;
    if (!len)
        return false;
    ssize_t n = send(fd, b->data + off, len, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return false;
        *sent = SIZE_MAX;
        return true;
    }
    *sent = (size_t)n;
    return n > 0;
}

static void consume(struct dp_buf *b, size_t n)
{
    memmove(b->data, b->data + n, b->len - n);
    b->len -= (uint32_t)n;
}

/* Reads from fd into *b (taken on demand). >0 bytes, 0 EOF, -EAGAIN, -errno; -ENOBUFS when
 * the buffer is full. */
static ssize_t recv_into(struct dp_hconn *c, int fd, struct dp_buf **b)
{
    if (!*b)
        *b = dp_buf_get(c->w);
    size_t room = DP_BUF_SIZE - (*b)->len;
    if (!room)
        return -ENOBUFS;
    ssize_t n = recv(fd, (*b)->data + (*b)->len, room, 0);
    if (n > 0) {
        (*b)->len += (uint32_t)n;
        return n;
    }
    if (n == 0)
        return 0;
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

/* Client -> out: generated responses, response heads. */
static bool step_out(struct dp_hconn *c, bool *dead)
{
    size_t sent;

    if (!c->out || !c->out->len)
        return false;
    bool p = send_from(c, c->fd, c->out, c->out->off, c->out->len, &sent);
    if (sent == SIZE_MAX) {
        *dead = true;
        return true;
    }
    c->out->off += (uint32_t)sent;
    c->out->len -= (uint32_t)sent;
    DP_ADD(c->w, bytes_out, sent);
    if (!c->out->len)
        put_buf(c->w, &c->out);
    return p;
}

static bool read_client(struct dp_hconn *c, bool *dead)
{
    if (!c->cli_rd || c->cli_eof)
        return false;
    ssize_t n = recv_into(c, c->fd, &c->in);
    if (n == -ENOBUFS || n == -EAGAIN) {
        if (n == -EAGAIN)
            c->cli_rd = false;
        if (!c->in->len)
            put_buf(c->w, &c->in);
        return false;
    }
    if (n < 0) {
        *dead = true;
        return true;
    }
    if (n == 0) {
        c->cli_eof = true;
        return true;
    }
    if ((size_t)n < DP_BUF_SIZE / 2)
        c->cli_rd = false; /* short read: drained (level-triggered watch) */
    DP_ADD(c->w, bytes_in, (size_t)n);
    return true;
}

static void head_start(struct dp_hconn *c)
{
    const struct dp_http *cfg = hcfg(c);

    c->lim = (struct http1_limits)HTTP1_LIMITS_DEFAULT;
    c->lim.max_head = cfg && cfg->max_head ? cfg->max_head : HTTP_DEF_MAX_HEAD;
    if (c->lim.max_head > HTTP_DEF_MAX_HEAD)
        c->lim.max_head = HTTP_DEF_MAX_HEAD;
    if (cfg && cfg->max_line)
        c->lim.max_line = cfg->max_line;
    if (c->lim.max_line > c->lim.max_head)
        c->lim.max_line = c->lim.max_head;
    c->lim.max_headers = cfg && cfg->max_headers ? cfg->max_headers : HTTP_MAX_HDRS;
    if (!c->x)
        c->x = hidx_get(c->w);
    http1_req_init(&c->req, c->x->req, HTTP_MAX_HDRS, &c->lim);
    c->st = HS_HEAD;
    c->req_us = now_of(c);
    c->status = 0;
    c->resp_bytes = 0;
    c->resp_us = 0;
    c->set_cookie = false;
    c->ntried = 0;
    c->sent_us = c->req_us;
    c->x->log_host[0] = c->x->log_path[0] = 0;
    set_timer(c, c->req_us,
              cfg && cfg->header_timeout_us ? cfg->header_timeout_us : HTTP_DEF_HEADER_US);
}

/* IDLE/HEAD: parse what the client sent. */
static bool step_head(struct dp_hconn *c)
{
    if ((c->st != HS_IDLE && c->st != HS_HEAD) || c->close_after || (c->out && c->out->len))
        return false;
    if (!c->in || !c->in->len)
        return false;
    if (c->st == HS_IDLE)
        head_start(c);
    enum http1_rc rc = http1_req_parse(&c->req, c->in->data, c->in->len);
    if (rc == HTTP1_NEED_MORE)
        return false;
    const struct dp_http *cfg = hcfg(c);
    if (cfg && cfg->vstats)
        stat_add(&cfg->vstats->http_requests, 1);
    if (rc == HTTP1_ERROR) {
        c->rb_done = false; /* close after the answer: the stream is not trusted */
        respond(c, http1_err_status(c->req.err), true);
        return true;
    }
    if (c->req.form == HTTP1_FORM_AUTHORITY) { /* CONNECT: not a tunnel service */
        c->rb_done = false;
        respond(c, 501, true);
        return true;
    }
    dispatch(c);
    return true;
}

/* EXCHANGE: the rewritten head, then body bytes, to the server. */
/* The outcome of sending one pending piece to the server: nothing was pending, some bytes
 * went out (maybe all), none could, or the connection broke. */
enum sent_rc { SENT_ALL, SENT_SOME, SENT_NONE, SENT_DEAD };

/* The PROXY header of a new server connection. */
static enum sent_rc send_pp(struct dp_hconn *c)
{
    if (c->pp_off >= c->pp_len)
        return SENT_ALL;
    ssize_t n = send(c->srv->fd, c->pp + c->pp_off, c->pp_len - c->pp_off, MSG_NOSIGNAL);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? SENT_NONE : SENT_DEAD;
    c->pp_off = (uint8_t)(c->pp_off + n);
    return n ? SENT_SOME : SENT_NONE;
}

/* The rewritten request head (kept whole in sout for a retry). */
static enum sent_rc send_head(struct dp_hconn *c)
{
    size_t sent;

    if (!c->sout || c->sout->off >= c->sout->len)
        return SENT_ALL;
    send_from(c, c->srv->fd, c->sout, c->sout->off, c->sout->len - c->sout->off, &sent);
    if (sent == SIZE_MAX)
        return SENT_DEAD;
    c->sout->off += (uint32_t)sent;
    stat_add(&c->srv->ds->bytes_in, sent);
    return sent ? SENT_SOME : SENT_NONE;
}

/* Request body bytes, as the framing decoder delimits them, straight from the client buffer. */
static enum sent_rc send_body(struct dp_hconn *c)
{
    size_t sent;

    if (!c->rb_pend && !c->rb_done && c->in && c->in->len) {
        struct http1_body_out o = {0};
        enum http1_rc rc = http1_body_feed(&c->rb, c->in->data, c->in->len, &o);
        if (rc == HTTP1_ERROR) {
            respond(c, 400, true); /* bad chunk framing (RFC 9112 7.1): the stream is lost */
            return SENT_SOME;
        }
        c->rb_pend = o.used;
        c->rb_done = rc == HTTP1_DONE;
    }
    if (!c->rb_pend)
        return SENT_ALL;
    send_from(c, c->srv->fd, c->in, 0, c->rb_pend, &sent);
    if (sent == SIZE_MAX)
        return SENT_DEAD;
    consume(c->in, sent);
    c->rb_pend -= sent;
    c->body_sent += sent;
    stat_add(&c->srv->ds->bytes_in, sent);
    if (!sent)
        return SENT_NONE;
    c->base_us = now_of(c); /* a long upload is progress, not a server timeout */
    return SENT_SOME;
}

static bool piece_done(const struct dp_hconn *c, size_t i)
{
    if (i == 0)
        return c->pp_off >= c->pp_len;
    return i != 1 || !c->sout || c->sout->off >= c->sout->len;
}

/* EXCHANGE: the PROXY header, the rewritten head, then body bytes, to the server, each once
 * the previous one is out. */
static bool step_to_srv(struct dp_hconn *c, bool *srvdead)
{
    enum sent_rc (*const steps[])(struct dp_hconn *) = {send_pp, send_head, send_body};
    bool p = false;

    if (!c->srv || c->srv->connecting)
        return false;
    for (size_t i = 0; i < 3; i++) {
        enum sent_rc rc = steps[i](c);
        if (rc == SENT_DEAD) {
            *srvdead = true;
            return true;
        }
        p |= rc == SENT_SOME;
        if (c->st != HS_EXCHANGE || !c->srv || !piece_done(c, i))
            return p;
    }
    return p;
}

static void count_status(struct dp_hconn *c)
{
    unsigned cls = c->resp.status / 100;

    if (cls >= 1 && cls <= 5)
        stat_add(&c->srv->ds->http_resp[cls - 1], 1);
}

/* The response head is complete in sin: forward it (rewritten) to out. */
static bool resp_head_done(struct dp_hconn *c)
{
    const struct dp_http *cfg = hcfg(c);
    char extra[256];
    size_t elen = 0;

    if (c->resp_us == 0) {
        c->resp_us = now_of(c);
        uint64_t lat = c->resp_us - c->sent_us;
        stat_add(&c->srv->ds->http_lat[dp_http_lat_bucket(lat)], 1);
        stat_add(&c->srv->ds->http_lat_sum_us, lat);
        atomic_store_explicit(&c->srv->ds->http_err_run, 0, memory_order_relaxed);
    }
    size_t cap;
    uint8_t *tail = out_tail(c, &cap);
    if (http1_resp_interim(&c->resp)) { /* 100 Continue & co: forward as is, then the next */
        uint32_t h = c->resp.head_len;
        if (h > cap)
            return false;
        memcpy(tail, c->sin->data, h);
        c->out->len += h;
        consume(c->sin, h);
        http1_resp_init(&c->resp, c->x->resp, HTTP_MAX_HDRS, &c->lim, c->req.method);
        return true;
    }
    bool tunnel = c->resp.body == HTTP1_BODY_TUNNEL && c->upgrade;
    bool keep = c->req_keep && !c->cli_eof && c->resp.body != HTTP1_BODY_CLOSE && !tunnel &&
                c->resp.body != HTTP1_BODY_TUNNEL && !c->w->stopping;
    if (c->set_cookie && cfg)
        elen += dp_http_cookie_line(extra, sizeof(extra), cfg->cookie, c->srv->id);
    if (!keep && !tunnel)
        elen += (size_t)snprintf(extra + elen, sizeof(extra) - elen, "Connection: close\r\n");
    else if (keep && c->req.version_minor == 0)
        elen += (size_t)snprintf(extra + elen, sizeof(extra) - elen, "Connection: keep-alive\r\n");
    size_t n;
    if (keep && elen == 0 &&
        dp_http_head_as_is(&c->resp, c->sin->data)) { /* the common case: no rewrite */
        n = c->resp.head_len - c->resp.start;
        if (n > cap)
            return false;
        memcpy(tail, c->sin->data + c->resp.start, n);
    } else {
        n = dp_http_rewrite(&c->resp, c->sin->data, tunnel, extra, elen, tail, cap);
    }
    if (!n)
        return false; /* cannot happen: heads are bounded below the buffer size */
    c->out->len += (uint32_t)n;
    c->resp_bytes += n;
    consume(c->sin, c->resp.head_len);
    c->status = c->resp.status;
    count_status(c);
    c->resp_head = true;
    c->close_after = !keep && !tunnel;
    http1_body_init(&c->sb, c->resp.body, c->resp.content_length, NULL);
    c->sb_done = empty_body(&c->resp);
    c->sb_pend = 0;
    if (tunnel) {
        c->st = HS_TUNNEL;
        c->sb_done = true;
        c->rb_done = true;
        set_timer(c, now_of(c),
                  c->ws->svc && c->ws->svc->idle_timeout_us ? c->ws->svc->idle_timeout_us
                                                            : DP_DEF_TCP_IDLE_US);
    }
    return true;
}

/* The exchange is over once the response is out and the request body was read: pool the
 * server connection when it may carry another request, go back to IDLE. */
static void finish(struct dp_hconn *c)
{
    struct dp_hsrv *s = c->srv;

    access_log(c);
    c->srv = NULL;
    atomic_fetch_sub_explicit(&s->ds->active, 1, memory_order_relaxed);
    /* the client's Connection field was not forwarded: the server side lives on its own */
    if (http1_keep_alive(&c->resp) && c->resp.body != HTTP1_BODY_CLOSE &&
        (!c->sin || !c->sin->len) && !c->pp_len)
        pool_put(s);
    else
        srv_close(s);
    put_buf(c->w, &c->sout);
    c->st = HS_IDLE;
    trim_idle(c);
    set_timer(c, now_of(c), idle_timeout(c));
}

static bool read_srv(struct dp_hconn *c, bool *srvdead, bool *srveof)
{
    if (!c->srv || c->srv->connecting || !c->srv_rd || (c->sin && c->sb_pend))
        return false;
    ssize_t n = recv_into(c, c->srv->fd, &c->sin);
    if (n == -EAGAIN || n == -ENOBUFS) {
        if (n == -EAGAIN)
            c->srv_rd = false;
        return false;
    }
    if (n < 0) {
        *srvdead = true;
        return true;
    }
    if (n == 0) {
        *srveof = true;
        return true;
    }
    c->resp_byte = true;
    c->base_us = now_of(c); /* server timeout: between server bytes */
    stat_add(&c->srv->ds->bytes_out, (uint64_t)n);
    if ((size_t)n < DP_BUF_SIZE / 2)
        c->srv_rd = false;
    return true;
}

/* EXCHANGE: response head, then body bytes, to the client. */
/* Delimits the response body bytes in sin (sb_pend). false on a framing error. */
static bool feed_resp_body(struct dp_hconn *c)
{
    if (c->sb_pend || c->sb_done || !c->sin->len)
        return true;
    struct http1_body_out o = {0};
    enum http1_rc rc = http1_body_feed(&c->sb, c->sin->data, c->sin->len, &o);
    if (rc == HTTP1_ERROR)
        return false;
    c->sb_pend = o.used;
    c->sb_done = rc == HTTP1_DONE;
    return true;
}

/* While the head waits in out, body bytes that fit join it: a small response leaves in one
 * send. */
static bool merge_body(struct dp_hconn *c)
{
    size_t cap;

    if (!c->sb_pend)
        return false;
    uint8_t *tail = out_tail(c, &cap);
    if (c->sb_pend > cap)
        return false;
    memcpy(tail, c->sin->data, c->sb_pend);
    c->out->len += (uint32_t)c->sb_pend;
    c->resp_bytes += c->sb_pend;
    consume(c->sin, c->sb_pend);
    c->sb_pend = 0;
    return true;
}

/* EXCHANGE: response head, then body bytes, to the client. */
static bool step_resp(struct dp_hconn *c, bool *bad, bool *clidead)
{
    bool p = false;

    if (!c->srv || !c->sin || !c->sin->len)
        return false;
    if (!c->resp_head) {
        enum http1_rc rc = http1_resp_parse(&c->resp, c->sin->data, c->sin->len);
        if (rc == HTTP1_NEED_MORE)
            return false;
        if (rc == HTTP1_ERROR) {
            *bad = true;
            return true;
        }
        p = resp_head_done(c);
        if (!c->resp_head || c->st != HS_EXCHANGE)
            return p; /* an interim response (the final one follows), or a tunnel */
    }
    if (!feed_resp_body(c)) {
        *bad = true;
        return true;
    }
    if (c->out && c->out->len)
        return merge_body(c) || p; /* the head goes first */
    size_t sent;
    p |= send_from(c, c->fd, c->sin, 0, c->sb_pend, &sent);
    if (sent == SIZE_MAX) {
        *clidead = true;
        return true;
    }
    consume(c->sin, sent);
    c->sb_pend -= sent;
    c->resp_bytes += sent;
    if (sent)
        c->base_us = now_of(c); /* a slow reader is not a slow server */
    DP_ADD(c->w, bytes_out, sent);
    return p;
}

/* After 101: raw bytes both ways. */
static bool step_tunnel(struct dp_hconn *c, bool *dead)
{
    size_t sent;
    bool p = false;

    if (c->in && c->in->len) {
        p |= send_from(c, c->srv->fd, c->in, 0, c->in->len, &sent);
        if (sent == SIZE_MAX) {
            *dead = true;
            return true;
        }
        consume(c->in, sent);
    }
    if (c->sin && c->sin->len && (!c->out || !c->out->len)) {
        p |= send_from(c, c->fd, c->sin, 0, c->sin->len, &sent);
        if (sent == SIZE_MAX) {
            *dead = true;
            return true;
        }
        consume(c->sin, sent);
    }
    if (p)
        c->base_us = now_of(c);
    return p;
}

/* ---- the pump ---- */

static uint32_t cli_want(const struct dp_hconn *c)
{
    uint32_t ev = 0;
    bool in_room = !c->in || c->in->len < DP_BUF_SIZE;

    /* Reading ahead (the next pipelined request) is harmless and saves the epoll_ctl pair
     * of switching EPOLLIN off and on around every exchange; only a full buffer stops it. */
    if (!c->cli_eof && in_room && !c->close_after && (c->st != HS_EXCHANGE || !c->rb_pend))
        ev |= EPOLLIN;
    if ((c->out && c->out->len) || c->sb_pend || (c->st == HS_TUNNEL && c->sin && c->sin->len))
        ev |= EPOLLOUT;
    return ev;
}

static uint32_t srv_want(const struct dp_hconn *c)
{
    const struct dp_hsrv *s = c->srv;

    if (s->connecting)
        return EPOLLOUT;
    uint32_t ev = 0;
    if (!c->sb_pend && (!c->sin || c->sin->len < DP_BUF_SIZE) &&
        (!c->out || !c->out->len || !c->resp_head))
        ev |= EPOLLIN;
    if (c->pp_off < c->pp_len || (c->sout && c->sout->off < c->sout->len) || c->rb_pend ||
        (c->in && c->in->len && c->st == HS_TUNNEL))
        ev |= EPOLLOUT;
    return ev;
}

static void arm(struct dp_hconn *c)
{
    uint32_t ev = cli_want(c);

    if (ev != c->events) {
        c->events = ev;
        io_watch_mod(&c->w->loop, &c->watch, ev);
    }
    if (c->srv)
        srv_events(c->srv, srv_want(c));
}

static bool response_complete(const struct dp_hconn *c)
{
    return c->st == HS_EXCHANGE && c->resp_head && c->sb_done && !c->sb_pend &&
           (!c->out || !c->out->len) && c->rb_done && !c->rb_pend;
}

/* The server side ended (EOF) or broke: what it means depends on how far the response got. */
static bool server_gone(struct dp_hconn *c, bool eof)
{
    if (!c->resp_byte) {
        fail(c, HF_RESET);
        return true;
    }
    if (eof && c->resp_head && !c->sb_done && http1_body_eof(&c->sb) == HTTP1_DONE &&
        c->resp.body == HTTP1_BODY_CLOSE) {
        c->sb_done = true;
        c->sb_pend = c->sin ? c->sin->len : 0;
        c->close_after = true;
        return true;
    }
    if (!c->resp_head) {
        fail(c, HF_BAD);
        return true;
    }
    if (c->st == HS_TUNNEL || (c->resp_head && c->sb_done)) {
        c->close_after = true;
        drop_srv(c);
        c->st = HS_IDLE;
        return true;
    }
    conn_free(c); /* truncated body: the client sees the connection end */
    return false;
}

static bool exchange_steps(struct dp_hconn *c, bool *gone)
{
    bool srvdead = false, srveof = false, bad = false, clidead = false, p = false;

    if (c->st != HS_EXCHANGE && c->st != HS_TUNNEL)
        return false;
    if (c->st == HS_TUNNEL) {
        p |= step_tunnel(c, &srvdead);
        if (srvdead) {
            conn_free(c);
            *gone = true;
            return false;
        }
        p |= read_srv(c, &srvdead, &srveof);
    } else {
        p |= step_to_srv(c, &srvdead);
        if (c->st != HS_EXCHANGE || !c->srv)
            return true;
        if (!srvdead)
            p |= read_srv(c, &srvdead, &srveof);
        if (!srvdead && !srveof)
            p |= step_resp(c, &bad, &clidead);
    }
    if (clidead) {
        conn_free(c);
        *gone = true;
        return false;
    }
    if (bad) {
        fail(c, HF_BAD);
        return true;
    }
    if ((srvdead || srveof) && !server_gone(c, srveof && !srvdead)) {
        *gone = true;
        return false;
    }
    if (response_complete(c)) {
        finish(c);
        return true;
    }
    return p || srvdead || srveof;
}

static void pump(struct dp_hconn *c)
{
    for (int guard = 0; guard < 64; guard++) {
        bool dead = false, gone = false, p = false;
        p |= step_out(c, &dead);
        if (!dead)
            p |= read_client(c, &dead);
        if (dead) {
            conn_free(c);
            return;
        }
        p |= step_head(c);
        p |= exchange_steps(c, &gone);
        if (gone)
            return;
        bool drained = (!c->out || !c->out->len) && c->st == HS_IDLE && !c->sb_pend;
        if (drained && c->close_after) {
            conn_free(c);
            return;
        }
        if (c->cli_eof && c->st != HS_EXCHANGE && (!c->out || !c->out->len) &&
            !(c->in && c->in->len && c->st == HS_IDLE)) {
            conn_free(c);
            return;
        }
        if (c->cli_eof && c->st == HS_EXCHANGE && !c->rb_done) {
            conn_free(c); /* the client left in the middle of its request */
            return;
        }
        if (!p)
            break;
    }
    arm(c);
}

/* ---- callbacks ---- */

static void cli_cb(struct io_loop *loop, struct io_watch *wt, uint32_t revents)
{
    struct dp_hconn *c = wt->ctx;

    (void)loop;
    if (revents & (EPOLLHUP | EPOLLERR)) { /* reset, or both directions shut: nobody to answer */
        conn_free(c);
        return;
    }
    if (revents & EPOLLIN)
        c->cli_rd = true;
    pump(c);
}

static void srv_cb(struct io_loop *loop, struct io_watch *wt, uint32_t revents)
{
    struct dp_hsrv *s = wt->ctx;
    struct dp_hconn *c = s->owner;

    (void)loop;
    if (!c) { /* idle in the pool: closed by the server, or unasked bytes */
        pool_unlink(s);
        srv_close(s);
        return;
    }
    if (s->connecting) {
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
            soerr = errno;
        if (soerr || (revents & (EPOLLERR | EPOLLHUP))) {
            fail(c, HF_CONNECT); /* never frees c: no response byte came */
            pump(c);
            return;
        }
        s->connecting = false;
        const struct dp_svc *svc = c->ws->svc;
        c->base_us = now_of(c);
        c->tmo_us = svc && svc->http && svc->http->server_timeout_us ? svc->http->server_timeout_us
                                                                     : HTTP_DEF_SERVER_US;
        c->srv_rd = false;
    }
    if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
        c->srv_rd = true;
    if ((revents & (EPOLLHUP | EPOLLERR)) && !(s->events & EPOLLIN) && !s->parked) {
        /* reported whatever the mask: park the watch until its bytes can be read (the
         * read then sees the end) instead of spinning */
        io_watch_del(&c->w->loop, &s->watch);
        s->parked = true;
    }
    pump(c);
}

static void timer_cb(struct io_loop *loop, struct io_timer *t)
{
    struct dp_hconn *c = t->ctx;
    mono_us now = io_loop_now(loop);

    if (now < c->base_us + c->tmo_us) {
        io_timer_arm(loop, t, c->base_us + c->tmo_us);
        return;
    }
    switch (c->st) {
    case HS_IDLE:
    case HS_TUNNEL:
        DP_INC(c->w, idle_timeouts);
        conn_free(c);
        return;
    case HS_HEAD:
        c->rb_done = false;
        if (hcfg(c) && hcfg(c)->vstats)
            stat_add(&hcfg(c)->vstats->http_requests, 1);
        respond(c, 408, true);
        break;
    case HS_EXCHANGE:
        if (!c->srv) {
            conn_free(c);
            return;
        }
        if (c->resp_byte) {
            conn_free(c);
            return;
        }
        fail(c, c->srv->connecting ? HF_CONNECT : HF_TIMEOUT);
        break;
    }
    pump(c);
}

/* ---- accept ---- */

void dp_http_accept(struct dp_wsvc *ws, int fd, const struct sockaddr_storage *peer)
{
    struct dp_worker *w = ws->w;
    struct dp_hconn *c = calloc(1, sizeof(*c));

    if (!c)
        abort();
    c->w = w;
    c->ws = ws;
    ws->refs++;
    c->fd = fd;
    dp_ipaddr(peer, &c->client, &c->client_port);
    ip_addr_format(&c->client, c->client_s, sizeof(c->client_s));
    io_timer_init(&c->timer, timer_cb, c);
    c->next = w->hconns;
    if (w->hconns)
        w->hconns->prev = c;
    w->hconns = c;
    DP_INC(w, conns);
    c->events = EPOLLIN;
    io_watch_init(&c->watch, fd, EPOLLIN, cli_cb, c);
    if (io_watch_add(&w->loop, &c->watch) < 0) {
        conn_free(c);
        return;
    }
    c->st = HS_IDLE;
    const struct dp_http *cfg = hcfg(c);
    set_timer(c, now_of(c),
              cfg && cfg->keepalive_timeout_us ? cfg->keepalive_timeout_us : HTTP_DEF_KEEPALIVE_US);
    c->cli_rd = true; /* speculative first read: the request is usually there already */
    pump(c);
}

size_t dp_http_sels(const struct dp_wsvc *ws, struct dp_sel **out)
{
    *out = ws->http ? ws->http->sels : NULL;
    return ws->http ? ws->http->nsels : 0;
}
