/* The persistence and flow tables of the workers, for `nospofctl lb --persist|--flows`.
 *
 * The tables belong to the workers' threads (share-nothing), so each worker reads its own on
 * its own loop through io_loop_call; the rows reach the caller's callback from that thread
 * while the caller waits, one worker after the other. */
#include "daemon/dp/dp_priv.h"

#include "daemon/dp/dp.h"

struct dump_arg {
    struct dp_worker *w;
    bool persist, flows;
    void (*cb)(void *ctx, const struct dp_table_row *row);
    void *ctx;
};

void dp_sel_dump(const struct dp_sel *sel, mono_us now, struct dp_table_row *row,
                 void (*cb)(void *ctx, const struct dp_table_row *row), void *ctx)
{
    if (!sel->persist_mem)
        return;
    for (uint32_t i = 0; i < sel->persist.cap; i++) {
        const struct lb_persist_entry *e = &sel->persist.slots[i];
        if (e->client.family == IP_NONE || e->expires <= now)
            continue;
        row->flow = false;
        row->client = e->client;
        row->client_port = 0;
        row->dest_id = e->dest_id;
        row->conns = e->n_control;
        row->expires_in_us = e->expires - now;
        cb(ctx, row);
    }
}

static void dump_on_worker(void *p)
{
    const struct dump_arg *a = p;
    mono_us now = io_loop_now(&a->w->loop);

    for (const struct dp_wsvc *ws = a->w->svcs; ws; ws = ws->next) {
        struct dp_table_row row = {
            .worker = a->w->idx, .proto = ws->proto, .vip = ws->addr, .vport = ws->port};
        struct dp_sel *sels;
        size_t n = dp_http_sels(ws, &sels);

        if (a->persist) {
            dp_sel_dump(&ws->sel, now, &row, a->cb, a->ctx);
            for (size_t g = 0; g < n; g++)
                dp_sel_dump(&sels[g], now, &row, a->cb, a->ctx);
        }
        if (a->flows && ws->proto == DP_UDP)
            dp_udp_dump(ws, now, &row, a->cb, a->ctx);
    }
}

void dp_dump_tables(struct dp *dp, bool want_persist, bool want_flows,
                    void (*cb)(void *ctx, const struct dp_table_row *row), void *ctx)
{
    for (unsigned i = 0; dp->started && i < dp->nworkers; i++) {
        struct dump_arg a = {dp->workers[i], want_persist, want_flows, cb, ctx};
        io_loop_call(&dp->workers[i]->loop, dump_on_worker, &a);
    }
}
