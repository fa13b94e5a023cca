/* The data plane's part of a binary upgrade (daemon/upgrade.h): listing the sockets a
 * successor must inherit, and a barrier after which every worker serves the published
 * snapshot (so it has taken its inherited sockets, see dp_bind_socket).
 *
 * Both run a function on each worker's own thread in turn (io_loop_call) while the caller
 * waits, as dp_dump.c does: the sockets belong to the workers. */
#include "daemon/dp/dp_priv.h"

#include "daemon/dp/dp.h"

struct listen_arg {
    struct dp_worker *w;
    void (*cb)(void *ctx, int fd);
    void *ctx;
};

static void listeners_on_worker(void *p)
{
    const struct listen_arg *a = p;

    for (const struct dp_wsvc *ws = a->w->svcs; ws; ws = ws->next)
        if (ws->fd >= 0 && ws->svc)
            a->cb(a->ctx, ws->fd);
}

void dp_listeners(struct dp *dp, void (*cb)(void *ctx, int fd), void *ctx)
{
    for (unsigned i = 0; dp->started && i < dp->nworkers; i++) {
        struct listen_arg a = {dp->workers[i], cb, ctx};
        io_loop_call(&dp->workers[i]->loop, listeners_on_worker, &a);
    }
}

static void sync_on_worker(void *p)
{
    dp_worker_sync(p);
}

void dp_barrier(struct dp *dp)
{
    for (unsigned i = 0; dp->started && i < dp->nworkers; i++)
        io_loop_call(&dp->workers[i]->loop, sync_on_worker, dp->workers[i]);
}
