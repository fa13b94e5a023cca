/* The data plane's control-plane side: start and stop the workers, publish snapshots and
 * reclaim retired ones (rule in dp_snap-t.h), the per-dest stats registry, summed counters and
 * the snapshot builders. Everything here runs on the control-plane thread. */
#include "daemon/dp/dp_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "io/log.h"

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);

    if (!p)
        abort();
    return p;
}

void dp_init(struct dp *dp)
{
    memset(dp, 0, sizeof(*dp));
    pthread_mutex_init(&dp->mu, NULL);
}

/* (RLIMIT_NOFILE soft - 64) / 2: two fds per proxied connection, a reserve for the rest. */
static size_t default_max_conns(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 1u << 20;
    return rl.rlim_cur > 128 ? (size_t)(rl.rlim_cur - 64) / 2 : 32;
}

static unsigned default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (unsigned)n : 1;
}

int dp_start(struct dp *dp, unsigned nworkers)
{
    if (dp->started)
        return -EALREADY;
    dp->nworkers = nworkers ? nworkers : default_workers();
    dp->max_conns = dp->opts.max_conns ? dp->opts.max_conns : default_max_conns();
    dp->workers = xcalloc(dp->nworkers, sizeof(*dp->workers));
    for (unsigned i = 0; i < dp->nworkers; i++) {
        dp->workers[i] = xcalloc(1, sizeof(struct dp_worker));
        dp->workers[i]->idx = i;
        int err = dp_worker_start(dp, dp->workers[i]);
        if (err < 0) {
            free(dp->workers[i]);
            dp->nworkers = i;
            dp->started = true;
            dp_stop(dp);
            return err;
        }
    }
    dp->started = true;
    return 0;
}

static void noop(void *ctx)
{
    (void)ctx;
}

static bool all_past(const struct dp *dp, uint64_t gen)
{
    for (unsigned i = 0; i < dp->nworkers; i++)
        if (atomic_load_explicit(&dp->workers[i]->seen_gen, memory_order_acquire) <= gen)
            return false;
    return true;
}

void dp_snap_release(struct dp_snap *snap)
{
    if (!snap)
        return;
    if (snap->release)
        snap->release(snap);
    else
        dp_snap_free(snap);
}

size_t dp_reclaim(struct dp *dp)
{
    size_t left = 0;

    pthread_mutex_lock(&dp->mu);
    for (struct dp_retired **pp = &dp->retired; *pp;) {
        struct dp_retired *r = *pp;
        if (all_past(dp, r->snap->gen)) {
            *pp = r->next;
            dp_snap_release(r->snap);
            free(r);
        } else {
            pp = &r->next;
            left++;
        }
    }
    pthread_mutex_unlock(&dp->mu);
    return left;
}

void dp_publish(struct dp *dp, struct dp_snap *snap)
{
    pthread_mutex_lock(&dp->mu);
    snap->gen = ++dp->gen;
    struct dp_snap *old = atomic_exchange_explicit(&dp->snap, snap, memory_order_acq_rel);
    if (old) {
        struct dp_retired *r = xcalloc(1, sizeof(*r));
        r->snap = old;
        r->next = dp->retired;
        dp->retired = r;
    }
    pthread_mutex_unlock(&dp->mu);
    for (unsigned i = 0; i < dp->nworkers; i++)
        io_loop_post(&dp->workers[i]->loop, noop, NULL);
    dp_reclaim(dp);
}

void dp_stop(struct dp *dp)
{
    if (!dp->started)
        return;
    for (unsigned i = 0; i < dp->nworkers; i++)
        dp_worker_stop(dp->workers[i]);
    for (unsigned i = 0; i < dp->nworkers; i++)
        free(dp->workers[i]);
    free(dp->workers);
    dp->workers = NULL;
    dp->nworkers = 0; /* no worker left: every retired snapshot is reclaimable */
    dp_reclaim(dp);
    dp->started = false;
}

void dp_fini(struct dp *dp)
{
    dp_stop(dp);
    dp_reclaim(dp);
    struct dp_snap *cur = atomic_exchange(&dp->snap, NULL);
    if (cur)
        dp_snap_release(cur);
    for (size_t i = 0; i < dp->ndstats; i++)
        free(dp->dstats[i]);
    free(dp->dstats);
    dp->dstats = NULL;
    dp->ndstats = dp->capdstats = 0;
    pthread_mutex_destroy(&dp->mu);
}

void dp_stats(struct dp *dp, struct dp_counters *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < dp->nworkers; i++) {
        struct dp_worker *w = dp->workers[i];
#define DP_SUM(name) out->name += atomic_load_explicit(&w->ctr.name, memory_order_relaxed);
        DP_COUNTERS(DP_SUM)
#undef DP_SUM
    }
}

/* The registry slot of id, or NULL. Caller holds dp->mu. */
static struct dp_dest_stats *find_stats(struct dp *dp, uint32_t id)
{
    for (size_t i = 0; i < dp->ndstats; i++)
        if (dp->dstats[i]->id == id)
            return dp->dstats[i];
    return NULL;
}

struct dp_dest_stats *dp_dest_stats(struct dp *dp, uint32_t id)
{
    pthread_mutex_lock(&dp->mu);
    struct dp_dest_stats *s = find_stats(dp, id);
    if (!s) {
        if (dp->ndstats == dp->capdstats) {
            dp->capdstats = dp->capdstats ? 2 * dp->capdstats : 16;
            dp->dstats = realloc(dp->dstats, dp->capdstats * sizeof(*dp->dstats));
            if (!dp->dstats)
                abort();
        }
        s = xcalloc(1, sizeof(*s));
        s->id = id;
        dp->dstats[dp->ndstats++] = s;
    }
    pthread_mutex_unlock(&dp->mu);
    return s;
}

void dp_dest_reset_errors(struct dp *dp, uint32_t id)
{
    pthread_mutex_lock(&dp->mu);
    struct dp_dest_stats *s = find_stats(dp, id);
    pthread_mutex_unlock(&dp->mu);
    if (s)
        atomic_store_explicit(&s->http_err_run, 0, memory_order_relaxed);
}

int dp_dest_read(struct dp *dp, uint32_t id, struct dp_dest_counters *out)
{
    pthread_mutex_lock(&dp->mu);
    struct dp_dest_stats *s = find_stats(dp, id);
    pthread_mutex_unlock(&dp->mu);
    if (!s)
        return -ENOENT;
    out->active = atomic_load_explicit(&s->active, memory_order_relaxed);
    out->inactive = atomic_load_explicit(&s->inactive, memory_order_relaxed);
    out->conns_total = atomic_load_explicit(&s->conns_total, memory_order_relaxed);
    out->connect_failures = atomic_load_explicit(&s->connect_failures, memory_order_relaxed);
    out->bytes_in = atomic_load_explicit(&s->bytes_in, memory_order_relaxed);
    out->bytes_out = atomic_load_explicit(&s->bytes_out, memory_order_relaxed);
    out->http_requests = atomic_load_explicit(&s->http_requests, memory_order_relaxed);
    for (int i = 0; i < 5; i++)
        out->http_resp[i] = atomic_load_explicit(&s->http_resp[i], memory_order_relaxed);
    out->http_retries = atomic_load_explicit(&s->http_retries, memory_order_relaxed);
    out->http_errors = atomic_load_explicit(&s->http_errors, memory_order_relaxed);
    out->http_reuses = atomic_load_explicit(&s->http_reuses, memory_order_relaxed);
    out->http_err_run = atomic_load_explicit(&s->http_err_run, memory_order_relaxed);
    for (int i = 0; i < DP_HTTP_LAT_BUCKETS; i++)
        out->http_lat[i] = atomic_load_explicit(&s->http_lat[i], memory_order_relaxed);
    out->http_lat_sum_us = atomic_load_explicit(&s->http_lat_sum_us, memory_order_relaxed);
    return 0;
}

struct dp_snap *dp_snap_new(size_t nsvc)
{
    struct dp_snap *snap = xcalloc(1, sizeof(*snap));

    snap->nsvc = nsvc;
    snap->svc = xcalloc(nsvc, sizeof(*snap->svc));
    for (size_t i = 0; i < nsvc; i++)
        snap->svc[i].quorum_up = true;
    return snap;
}

struct dp_dest *dp_svc_dests(struct dp_svc *svc, size_t n)
{
    free(svc->dests);
    svc->dests = xcalloc(n, sizeof(*svc->dests));
    svc->ndests = n;
    return svc->dests;
}

static void http_free(struct dp_http *h)
{
    if (!h)
        return;
    for (size_t g = 1; g < h->ngroups; g++)
        free(h->groups[g].dests);
    free(h->groups);
    free(h->routes);
    if (h->log_fd >= 0)
        close(h->log_fd); /* every worker has left the snapshot: nobody writes to it now */
    free(h);
}

struct dp_http *dp_svc_http(struct dp_svc *svc, size_t ngroups, size_t nroutes)
{
    http_free(svc->http);
    svc->http = xcalloc(1, sizeof(*svc->http));
    svc->http->ngroups = ngroups ? ngroups : 1;
    svc->http->groups = xcalloc(svc->http->ngroups, sizeof(*svc->http->groups));
    svc->http->nroutes = nroutes;
    svc->http->routes = xcalloc(nroutes ? nroutes : 1, sizeof(*svc->http->routes));
    svc->http->log_fd = -1;
    return svc->http;
}

struct dp_dest *dp_http_group_dests(struct dp_http_group *g, size_t n)
{
    free(g->dests);
    g->dests = xcalloc(n ? n : 1, sizeof(*g->dests));
    g->ndests = n;
    return g->dests;
}

void dp_snap_free(struct dp_snap *snap)
{
    if (!snap)
        return;
    for (size_t i = 0; i < snap->nsvc; i++) {
        free(snap->svc[i].dests);
        http_free(snap->svc[i].http);
    }
    free(snap->svc);
    free(snap);
}
