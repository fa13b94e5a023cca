/* A data-plane worker thread: its loop, snapshot adoption, per-service state, the buffer pool,
 * dest selection (dp_pick) and socket helpers.
 *
 * The thread runs io_loop_run_once passes and, after each, adopts the published snapshot when
 * it changed (the "next loop pass" of dp_snap-t.h); dp_publish posts an empty callback to wake
 * it. Stopping closes the TCP listeners at once and stops reading the UDP service sockets, and
 * lets TCP connections and UDP flows drain up to the drain timeout. */
#include "daemon/dp/dp_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/addr.h"
#include "io/inherit.h"
#include "io/log.h"
#include "proto/lb/lb.h"
#include "proto/lb/lb_persist.h"

/* ---- spare blocks and the buffer pool ---- */

struct spare {
    struct spare *next;
};

void *dp_spares_take(struct dp_spares *s, bool *fresh)
{
    struct spare *b = s->free;

    s->used = true;
    *fresh = !b;
    if (b) {
        s->free = b->next;
        s->nfree--;
        return b;
    }
    b = malloc(s->size);
    if (!b)
        abort();
    return b;
}

bool dp_spares_give(struct dp_spares *s, void *block)
{
    struct spare *b = block;

    if (s->nfree >= s->keep) {
        free(b);
        return true;
    }
    b->next = s->free;
    s->free = b;
    s->nfree++;
    return false;
}

size_t dp_spares_trim(struct dp_spares *s, bool all)
{
    size_t n = 0;

    if (s->used && !all) {
        s->used = false;
        return 0;
    }
    while (s->free) {
        struct spare *b = s->free;
        s->free = b->next;
        free(b);
        n++;
    }
    s->nfree = 0;
    return n;
}

struct dp_buf *dp_buf_get(struct dp_worker *w)
{
    bool fresh;
    struct dp_buf *b = dp_spares_take(&w->pool, &fresh);

    if (fresh)
        DP_INC(w, buffers);
    b->off = b->len = 0;
    DP_INC(w, buffers_in_use);
    return b;
}

void dp_buf_put(struct dp_worker *w, struct dp_buf *b)
{
    DP_DEC(w, buffers_in_use);
    if (dp_spares_give(&w->pool, b))
        DP_DEC(w, buffers);
}

/* Frees the pooled buffers when none was taken during the last tick (all: in any case). */
static void pool_trim(struct dp_worker *w, bool all)
{
    DP_ADD(w, buffers, -(uint_fast64_t)dp_spares_trim(&w->pool, all));
}

static void house_cb(struct io_loop *loop, struct io_timer *t)
{
    struct dp_worker *w = t->ctx;

    pool_trim(w, false);
    dp_http_house(w);
    io_timer_arm(loop, t, io_loop_now(loop) + DP_HOUSEKEEP_US);
}

/* ---- addresses ---- */

int dp_sockaddr(const struct ip_addr *a, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == IP_V4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        memcpy(&sin->sin_addr, a->b, 4);
        *len = sizeof(*sin);
        return AF_INET;
    }
    if (a->family == IP_V6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        memcpy(&sin6->sin6_addr, a->b, 16);
        *len = sizeof(*sin6);
        return AF_INET6;
    }
    return -EAFNOSUPPORT;
}

void dp_ipaddr(const struct sockaddr_storage *ss, struct ip_addr *a, uint16_t *port)
{
    memset(a, 0, sizeof(*a));
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        *a = ip_addr_from_v4((const uint8_t *)&sin->sin_addr);
        *port = ntohs(sin->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        *a = ip_addr_from_v6(sin6->sin6_addr.s6_addr);
        *port = ntohs(sin6->sin6_port);
    } else {
        *port = 0;
    }
}

static int set_int(int fd, int level, int name, int v)
{
    return setsockopt(fd, level, name, &v, sizeof(v)) == 0 ? 0 : -errno;
}

/* A non-blocking socket bound to the service's VIP:port with SO_REUSEPORT (one per worker)
 * and IP_FREEBIND (the VIP need not be local yet: DESIGN.md 3): one inherited from the
 * previous process over a binary upgrade when there is one (io/inherit.h), else a new one.
 * fd or -errno. */
int dp_bind_socket(const struct dp_wsvc *ws, int type)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int af = dp_sockaddr(&ws->addr, ws->port, &ss, &len);

    if (af < 0)
        return af;
    int fd = io_inherit_take_inet(type, &ws->addr, ws->port);
    if (fd >= 0)
        return fd;
    fd = socket(af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int err = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (!err)
        err = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
    if (!err)
        err = af == AF_INET ? set_int(fd, IPPROTO_IP, IP_FREEBIND, 1)
                            : set_int(fd, IPPROTO_IPV6, IPV6_FREEBIND, 1);
    if (!err && af == AF_INET6)
        err = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    if (!err && bind(fd, (struct sockaddr *)&ss, len) != 0)
        err = -errno;
    if (err) {
        close(fd);
        return err;
    }
    return fd;
}

/* ---- dest selection ---- */

static bool usable(const struct dp_dest *d, const uint32_t *tried, size_t ntried)
{
    if (d->weight == 0)
        return false; /* drain: no new connections (IPVS weight 0 = quiescent) */
    for (size_t i = 0; i < ntried; i++)
        if (tried[i] == d->id)
            return false;
    return true;
}

static bool sorry_mode(const struct dp_svc *svc)
{
    return !svc->quorum_up && svc->has_sorry;
}

size_t dp_eligible(const struct dp_svc *svc)
{
    size_t n = 0;

    if (sorry_mode(svc))
        return 1;
    for (size_t i = 0; i < svc->ndests; i++)
        n += svc->dests[i].weight > 0;
    return n;
}

const struct dp_dest *dp_find_dest(const struct dp_svc *svc, uint32_t id)
{
    if (svc->has_sorry && svc->sorry.id == id)
        return &svc->sorry;
    for (size_t i = 0; i < svc->ndests; i++)
        if (svc->dests[i].id == id)
            return &svc->dests[i];
    return NULL;
}

/* Persistence table of sel, (re)built when its settings change; timeout 0 = off. */
static void persist_sync(struct dp_sel *sel, const struct dp_sel_opts *o)
{
    mono_us t = o->persist_us;

    if (t == sel->persist_timeout_us && o->persist_v4_mask == sel->persist_v4_mask &&
        o->persist_v6_prefix == sel->persist_v6_prefix)
        return;
    free(sel->persist_mem);
    sel->persist_mem = NULL;
    sel->persist_timeout_us = t;
    sel->persist_v4_mask = o->persist_v4_mask;
    sel->persist_v6_prefix = o->persist_v6_prefix;
    if (!t)
        return;
    size_t len = lb_persist_storage_size(DP_PERSIST_SLOTS);
    sel->persist_mem = aligned_alloc(8, (len + 7) & ~(size_t)7);
    if (!sel->persist_mem)
        abort();
    lb_persist_init(&sel->persist, sel->persist_mem, len, DP_PERSIST_SLOTS, t, o->persist_v4_mask,
                    o->persist_v6_prefix, true);
}

struct dp_sel_opts dp_sel_opts_of(const struct dp_svc *svc, uint32_t kind)
{
    return (struct dp_sel_opts){
        .kind = kind,
        .flags = svc->sched_flags,
        .persist_us = svc->persist_timeout_us,
        .persist_v4_mask = svc->persist_v4_mask,
        .persist_v6_prefix = svc->persist_v6_prefix,
    };
}

/* The lblc/lblcr destination cache of one selector: IPVS's default size limit is 16 K
 * entries; a worker's cache is a fixed table, refusing new entries once nearly full. */
#define DP_LBLC_CACHE 16384

/* The scheduler is re-initialised when its kind or flags change or the dest count outgrows
 * its storage; otherwise lb_sched_update keeps its cursor/caches. */
void dp_sel_sync(struct dp_sel *sel, const struct dp_sel_opts *o, const struct dp_dest *d,
                 size_t nd)
{
    uint32_t n = (uint32_t)nd;
    uint32_t kind = o->kind ? o->kind : LB_SCHED_RR;

    if (!sel->sched_mem || kind != sel->sched_kind || o->flags != sel->sched_flags ||
        n > sel->sched_max) {
        uint32_t max = n < 64 ? 64 : 2 * n;
        uint32_t cache = kind == LB_SCHED_LBLC || kind == LB_SCHED_LBLCR ? DP_LBLC_CACHE : 0;
        size_t len = lb_sched_storage_size((enum lb_sched_kind)kind, max, cache);
        free(sel->sched_mem);
        sel->sched_mem = aligned_alloc(8, len ? (len + 7) & ~(size_t)7 : 8);
        if (!sel->sched_mem)
            abort();
        if (lb_sched_init(&sel->sched, (enum lb_sched_kind)kind, o->flags, sel->sched_mem, len, max,
                          cache))
            lb_sched_init(&sel->sched, LB_SCHED_RR, 0, sel->sched_mem, len, max, 0);
        sel->sched_kind = kind;
        sel->sched_flags = o->flags;
        sel->sched_max = max;
    }
    free(sel->ldests);
    sel->ldests = calloc(n ? n : 1, sizeof(*sel->ldests));
    if (!sel->ldests)
        abort();
    for (uint32_t i = 0; i < n; i++) {
        sel->ldests[i] = (struct lb_dest){.id = d[i].id, .addr = d[i].addr, .port = d[i].port};
        sel->ldests[i].last_weight = 1;
        lb_dest_set_weight(&sel->ldests[i], (int32_t)d[i].weight);
    }
    lb_sched_update(&sel->sched, sel->ldests, n);
    persist_sync(sel, o);
}

void dp_sel_free(struct dp_sel *sel)
{
    free(sel->sched_mem);
    free(sel->ldests);
    free(sel->persist_mem);
    memset(sel, 0, sizeof(*sel));
}

static void sched_sync(struct dp_wsvc *ws)
{
    const struct dp_svc *svc = ws->svc;

    struct dp_sel_opts o = dp_sel_opts_of(svc, svc->sched_kind);

    dp_sel_sync(&ws->sel, &o, svc->dests, svc->ndests);
}

static bool was_tried(uint32_t id, const uint32_t *tried, size_t ntried)
{
    for (size_t i = 0; i < ntried; i++)
        if (tried[i] == id)
            return true;
    return false;
}

/* Copies the shared loads into the scheduler's dests; a dest already tried by this connection
 * (or over the HTTP error limit) is marked overloaded for this pick (a load field, so no
 * lb_sched_update is needed). */
static void refresh_loads(struct dp_sel *sel, const struct dp_dest *d, size_t n,
                          const uint32_t *tried, size_t ntried, uint32_t err_limit)
{
    for (size_t i = 0; i < n; i++) {
        struct dp_dest_stats *st = d[i].stats;
        int64_t a = atomic_load_explicit(&st->active, memory_order_relaxed);
        int64_t in = atomic_load_explicit(&st->inactive, memory_order_relaxed);
        sel->ldests[i].active = a > 0 ? (uint32_t)a : 0;
        sel->ldests[i].inactive = in > 0 ? (uint32_t)in : 0;
        sel->ldests[i].overloaded =
            was_tried(d[i].id, tried, ntried) ||
            (err_limit &&
             atomic_load_explicit(&st->http_err_run, memory_order_relaxed) >= err_limit);
    }
}

/* The persistent dest of client if any and still eligible, else -1. */
static int persist_lookup(struct dp_sel *sel, size_t n, const struct ip_addr *client, mono_us now)
{
    if (!sel->persist_mem || !client)
        return -1;
    int i = lb_persist_lookup(&sel->persist, sel->ldests, n, client, now);
    if (i < 0 || sel->ldests[i].overloaded || sel->ldests[i].weight == 0)
        return -1;
    return i;
}

static void persist_bind(struct dp_sel *sel, int i, const struct ip_addr *client, mono_us now)
{
    if (!sel->persist_mem || !client)
        return;
    if (lb_persist_bind(&sel->persist, sel->ldests, i, client, now) == -ENOSPC) {
        lb_persist_expire(&sel->persist, now);
        lb_persist_bind(&sel->persist, sel->ldests, i, client, now);
    }
}

/* The persistent dest of client (per worker, see dp.h); else this worker's IPVS scheduler
 * (src/proto/lb) over the dests, fed with their weights and the shared active/inactive
 * counts. */
const struct dp_dest *dp_sel_pick(struct dp_sel *sel, const struct dp_dest *d, size_t n,
                                  const struct ip_addr *client, uint16_t client_port,
                                  const struct ip_addr *vip, const uint32_t *tried, size_t ntried,
                                  mono_us now, uint32_t err_limit)
{
    refresh_loads(sel, d, n, tried, ntried, err_limit);
    int i = persist_lookup(sel, n, client, now);
    if (i >= 0)
        return &d[i];
    if ((sel->sched_kind == LB_SCHED_LBLC || sel->sched_kind == LB_SCHED_LBLCR) &&
        now >= sel->gc_at) {
        lb_sched_gc(&sel->sched, now); /* IPVS runs its lblc/lblcr GC every 60 s */
        sel->gc_at = now + MONO_S(60);
    }
    struct lb_key key = {
        .client = client ? *client : (struct ip_addr){0}, .client_port = client_port, .dst = *vip};
    i = lb_sched_pick(&sel->sched, sel->ldests, n, &key, now);
    if (i < 0 || !usable(&d[i], tried, ntried) || sel->ldests[i].overloaded)
        return NULL;
    persist_bind(sel, i, client, now);
    return &d[i];
}

/* The dest for a new connection or flow of client, skipping the ids in tried; NULL when none
 * is eligible. The sorry server while quorum is lost; else dp_sel_pick over the dests. */
const struct dp_dest *dp_pick(struct dp_wsvc *ws, const struct ip_addr *client,
                              uint16_t client_port, const uint32_t *tried, size_t ntried)
{
    const struct dp_svc *svc = ws->svc;

    if (!svc)
        return NULL;
    return dp_svc_pick(svc, &ws->sel, client, client_port, tried, ntried,
                       io_loop_now(&ws->w->loop));
}

const struct dp_dest *dp_svc_pick(const struct dp_svc *svc, struct dp_sel *sel,
                                  const struct ip_addr *client, uint16_t client_port,
                                  const uint32_t *tried, size_t ntried, mono_us now)
{
    if (sorry_mode(svc))
        return ntried ? NULL : &svc->sorry;
    return dp_sel_pick(sel, svc->dests, svc->ndests, client, client_port, &svc->addr, tried, ntried,
                       now, 0);
}

/* ---- per-service state ---- */

static bool same_key(const struct dp_wsvc *ws, const struct dp_svc *svc)
{
    return ws->proto == svc->proto && ws->port == svc->port && ip_addr_eq(&ws->addr, &svc->addr);
}

int dp_dest_socket(const struct dp_dest *d, int type, struct sockaddr_storage *ss, socklen_t *len)
{
    int af = dp_sockaddr(&d->addr, d->port, ss, len);

    if (af < 0)
        return af;
    int fd = socket(af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (type == SOCK_STREAM) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
}

int dp_wsvc_attach(struct dp_wsvc *ws, int fd,
                   void (*on_read)(struct io_loop *, struct io_watch *, uint32_t),
                   void (*on_timer)(struct io_loop *, struct io_timer *))
{
    ws->fd = fd;
    io_timer_init(&ws->timer, on_timer, ws);
    io_watch_init(&ws->watch, fd, EPOLLIN, on_read, ws);
    int err = io_watch_add(&ws->w->loop, &ws->watch);
    if (err < 0) {
        close(fd);
        ws->fd = -1;
    }
    return err;
}

void dp_wsvc_unref(struct dp_wsvc *ws)
{
    if (--ws->refs)
        return;
    dp_sel_free(&ws->sel);
    dp_http_free(ws);
    free(ws->buckets);
    free(ws);
}

static void steer(struct dp_wsvc *ws)
{
    int err = dp_steer_sync(ws);
    if (err < 0 && ws->w->idx == 0) {
        char a[IP_ADDR_STRLEN];
        log_warn("dp: %s port %u: cannot steer clients to workers (%s); persistence holds per "
                 "worker only",
                 ip_addr_format(&ws->addr, a, sizeof(a)), ws->port, strerror(-err));
    }
}

static struct dp_wsvc *wsvc_new(struct dp_worker *w, const struct dp_svc *svc)
{
    struct dp_wsvc *ws = calloc(1, sizeof(*ws));

    if (!ws)
        abort();
    ws->w = w;
    ws->proto = svc->proto;
    ws->addr = svc->addr;
    ws->port = svc->port;
    ws->svc = svc;
    ws->fd = -1;
    ws->refs = 1;
    sched_sync(ws);
    dp_http_sync(ws);
    int err = svc->proto == DP_UDP ? dp_udp_open(ws) : dp_tcp_open(ws);
    if (err < 0) {
        char a[IP_ADDR_STRLEN];
        log_err("dp: worker %u: cannot serve %s %s:%u: %s", w->idx,
                svc->proto == DP_UDP ? "udp" : "tcp", ip_addr_format(&svc->addr, a, sizeof(a)),
                svc->port, strerror(-err));
        dp_wsvc_unref(ws);
        return NULL;
    }
    steer(ws);
    return ws;
}

static void wsvc_close(struct dp_wsvc *ws)
{
    if (ws->proto == DP_UDP)
        dp_udp_close(ws);
    else
        dp_tcp_close_listener(ws);
    ws->svc = NULL;
    dp_http_sync(ws); /* flushes the access log while the old snapshot (its fd) still lives */
}

static struct dp_wsvc *find_wsvc(struct dp_worker *w, const struct dp_svc *svc)
{
    for (struct dp_wsvc *ws = w->svcs; ws; ws = ws->next)
        if (same_key(ws, svc))
            return ws;
    return NULL;
}

/* Adopts snap: keeps the sockets of services still present, opens new ones, closes removed
 * ones, then announces the generation (the RCU rule of dp_snap-t.h). */
static void adopt(struct dp_worker *w, const struct dp_snap *snap)
{
    struct dp_wsvc *kept = NULL;

    for (size_t i = 0; i < snap->nsvc; i++) {
        const struct dp_svc *svc = &snap->svc[i];
        struct dp_wsvc *ws = find_wsvc(w, svc);
        if (ws) {
            struct dp_wsvc **pp = &w->svcs;
            while (*pp != ws)
                pp = &(*pp)->next;
            *pp = ws->next;
            ws->svc = svc;
            sched_sync(ws);
            steer(ws);
            dp_http_sync(ws);
            if (ws->proto == DP_UDP)
                dp_udp_sync(ws);
        } else if (!w->stopping && !(ws = wsvc_new(w, svc))) {
            continue;
        }
        if (ws) {
            ws->next = kept;
            kept = ws;
        }
    }
    while (w->svcs) { /* removed from the snapshot */
        struct dp_wsvc *ws = w->svcs;
        w->svcs = ws->next;
        wsvc_close(ws);
        dp_wsvc_unref(ws);
    }
    w->svcs = kept;
    w->snap = snap;
    atomic_store_explicit(&w->seen_gen, snap->gen, memory_order_release);
}

void dp_worker_sync(struct dp_worker *w)
{
    const struct dp_snap *snap = atomic_load_explicit(&w->dp->snap, memory_order_acquire);

    if (snap && snap != w->snap)
        adopt(w, snap);
}

/* ---- thread ---- */

static void close_services(struct dp_worker *w)
{
    while (w->svcs) {
        struct dp_wsvc *ws = w->svcs;
        w->svcs = ws->next;
        wsvc_close(ws);
        dp_wsvc_unref(ws);
    }
}

static void drain_cb(struct io_loop *loop, struct io_timer *t)
{
    struct dp_worker *w = t->ctx;

    dp_tcp_close_all(w);
    dp_http_close_all(w);
    for (struct dp_wsvc *ws = w->svcs; ws; ws = ws->next)
        if (ws->proto == DP_UDP)
            dp_udp_close(ws);
}

/* Stops accepting while the connections and flows already running go on: a TCP service (L4
 * or HTTP) closes its listener but keeps ws->svc, which an HTTP connection needs to serve the
 * requests it still receives (answered with "Connection: close"); without it they got a 503.
 * A UDP service stops reading its service socket but keeps it to relay its flows' replies
 * (dp_udp_stop): after a binary upgrade the successor reads it, and a reply in flight (a DNS
 * answer) still reaches its client. worker_main closes the rest at the end. */
static void stop_accepting(struct dp_worker *w)
{
    for (struct dp_wsvc *ws = w->svcs; ws; ws = ws->next) {
        if (ws->proto == DP_UDP)
            dp_udp_stop(ws);
        else
            dp_tcp_close_listener(ws);
    }
}

/* Whether a stopping worker still has something to drain. */
static bool draining(const struct dp_worker *w)
{
    if (w->conns || w->hconns)
        return true;
    for (const struct dp_wsvc *ws = w->svcs; ws; ws = ws->next)
        if (dp_udp_lingers(ws))
            return true;
    return false;
}

static void begin_stop(struct dp_worker *w)
{
    w->stopping = true;
    stop_accepting(w);
    dp_http_close_idle(w);
    mono_us drain = w->dp->opts.drain_timeout_us ? w->dp->opts.drain_timeout_us : DP_DEF_DRAIN_US;
    io_timer_init(&w->drain_timer, drain_cb, w);
    io_timer_arm(&w->loop, &w->drain_timer, io_loop_now(&w->loop) + drain);
}

static void *worker_main(void *arg)
{
    struct dp_worker *w = arg;

    dp_worker_sync(w);
    while (!w->done) {
        if (io_loop_run_once(&w->loop, -1) < 0)
            break;
        if (atomic_load(&w->stop_req) && !w->stopping)
            begin_stop(w);
        if (w->stopping)
            w->done = !draining(w);
        else
            dp_worker_sync(w);
    }
    dp_tcp_close_all(w);
    dp_http_close_all(w);
    close_services(w);
    io_timer_cancel(&w->loop, &w->drain_timer);
    io_timer_cancel(&w->loop, &w->house_timer);
    pool_trim(w, true);
    atomic_store_explicit(&w->seen_gen, UINT64_MAX, memory_order_release);
    return NULL;
}

int dp_worker_start(struct dp *dp, struct dp_worker *w)
{
    w->dp = dp;
    w->pool.keep = dp->opts.pool_keep ? dp->opts.pool_keep : DP_DEF_POOL_KEEP;
    w->pool.size = sizeof(struct dp_buf);
    w->hidx.keep = w->pool.keep;
    w->hidx.size = dp_http_block_size();
    int err = io_loop_init(&w->loop);
    if (err < 0)
        return err;
    io_timer_init(&w->house_timer, house_cb, w);
    io_timer_arm(&w->loop, &w->house_timer, io_loop_now(&w->loop) + DP_HOUSEKEEP_US);
    err = -pthread_create(&w->thread, NULL, worker_main, w);
    if (err < 0) {
        io_timer_cancel(&w->loop, &w->house_timer);
        io_loop_fini(&w->loop);
    }
    return err;
}

static void wake(void *ctx)
{
    (void)ctx;
}

void dp_worker_stop(struct dp_worker *w)
{
    atomic_store(&w->stop_req, true);
    io_loop_post(&w->loop, wake, NULL);
    pthread_join(w->thread, NULL);
    io_loop_fini(&w->loop);
}
