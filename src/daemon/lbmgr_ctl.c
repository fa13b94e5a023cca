/* The LB manager's control requests, run on its thread: `lb list` as ipvsadm -L -n shows it
 * (with stats or rates), its JSON, and the runtime administration of real servers (weight,
 * drain, disable, enable) that takes effect at once without a reload.
 *
 * Endpoints are written IP:PORT or [IPv6]:PORT; a virtual server may be prefixed tcp: or
 * udp:, or given as "group:NAME". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "base/json.h"
#include "daemon/dp/dp.h"
#include "daemon/dp/dp_http.h"
#include "io/log.h"
#include "lbmgr.h"
#include "proto/check/hc.h"
#include "proto/lb/lb.h"

static const char *sched_name(const struct lb_vs *vs)
{
    static const char *const names[CFG_SCHED__COUNT] = {
        [CFG_SCHED_WLC] = "wlc", [CFG_SCHED_RR] = "rr",     [CFG_SCHED_WRR] = "wrr",
        [CFG_SCHED_LC] = "lc",   [CFG_SCHED_LBLC] = "lblc", [CFG_SCHED_LBLCR] = "lblcr",
        [CFG_SCHED_SH] = "sh",   [CFG_SCHED_DH] = "dh",     [CFG_SCHED_MH] = "mh",
        [CFG_SCHED_FO] = "fo",   [CFG_SCHED_OVF] = "ovf",   [CFG_SCHED_SED] = "sed",
        [CFG_SCHED_NQ] = "nq",
    };
    return vs->cvs->sched < CFG_SCHED__COUNT ? names[vs->cvs->sched] : "?";
}

static void ep(char *buf, size_t cap, const struct ip_addr *a, uint16_t port)
{
    char s[IP_ADDR_STRLEN];

    ip_addr_format(a, s, sizeof(s));
    snprintf(buf, cap, a->family == IP_V6 ? "[%s]:%u" : "%s:%u", s, port);
}

static const char *rs_state(const struct lb_rs *rs)
{
    if (rs->disabled)
        return "DISABLED";
    if (!rs->up)
        return "DOWN";
    return lbm_rs_weight(rs) == 0 ? "DRAIN" : "UP";
}

static struct dp_dest_counters counters(struct lbmgr *m, uint32_t id)
{
    struct dp_dest_counters c = {0};
    dp_dest_read(&m->dp, id, &c);
    return c;
}

/* ---- table ---- */

static void table_head(struct io_ctl_reply *r, bool stats, bool rate)
{
    if (stats)
        io_ctl_reply_printf(r, "%-4s %-30s %10s %14s %14s %8s\n  -> %-30s\n", "Prot",
                            "LocalAddress:Port", "Conns", "InBytes", "OutBytes", "ConnFail",
                            "RemoteAddress:Port");
    else if (rate)
        io_ctl_reply_printf(r, "%-4s %-30s %10s %12s %12s\n  -> %-30s\n", "Prot",
                            "LocalAddress:Port", "CPS", "InBPS", "OutBPS", "RemoteAddress:Port");
    else
        io_ctl_reply_printf(r, "%-4s %-30s %s\n  -> %-27s %-7s %-6s %-10s %-9s %s\n", "Prot",
                            "LocalAddress:Port", "Scheduler Flags", "RemoteAddress:Port", "Forward",
                            "Weight", "ActiveConn", "InActConn", "State");
}

static void table_vs(struct lbmgr *m, const struct lb_vs *vs, bool stats, bool rate,
                     struct io_ctl_reply *r)
{
    char e[80];

    for (size_t l = 0; l < vs->nlisten; l++) {
        ep(e, sizeof(e), &vs->listen[l].addr, vs->listen[l].port);
        io_ctl_reply_printf(r, "%-4s %-30s", vs->cvs->proto == CFG_LB_UDP ? "UDP" : "TCP", e);
        if (!stats && !rate) {
            io_ctl_reply_printf(r, " %s", sched_name(vs));
            if (vs->cvs->persistent)
                io_ctl_reply_printf(r, " persistent %u", vs->cvs->persistence_timeout_s);
            if (!vs->quorum_up)
                io_ctl_reply_printf(r, " QUORUM-LOST%s", vs->cvs->has_sorry ? " (sorry)" : "");
            if (vs->suspended)
                io_ctl_reply_printf(r, " SUSPENDED");
        }
        io_ctl_reply_printf(r, "\n");
    }
    for (size_t k = vs->nrss; k-- > 0;) {
        const struct lb_rs *rs = vs->rss[k];
        struct dp_dest_counters c = counters(m, rs->id);
        ep(e, sizeof(e), &rs->crs->addr, rs->crs->port);
        if (stats)
            io_ctl_reply_printf(r, "  -> %-30s %10llu %14llu %14llu %8llu\n", e,
                                (unsigned long long)c.conns_total, (unsigned long long)c.bytes_in,
                                (unsigned long long)c.bytes_out,
                                (unsigned long long)c.connect_failures);
        else if (rate)
            io_ctl_reply_printf(r, "  -> %-30s %10.0f %12.0f %12.0f\n", e, rs->cps, rs->in_bps,
                                rs->out_bps);
        else
            io_ctl_reply_printf(r, "  -> %-27s %-7s %-6u %-10lld %-9lld %s%s%s\n", e, "Masq",
                                lbm_rs_weight(rs), (long long)c.active, (long long)c.inactive,
                                rs_state(rs), rs->up ? "" : " ", rs->up ? "" : rs->why);
    }
}

/* ---- HTTP (protocol HTTP services) ---- */

/* Sums the HTTP counters of the real servers of vs (group < 0: all groups) into *out. */
static void http_sum(struct lbmgr *m, const struct lb_vs *vs, struct dp_dest_counters *out)
{
    struct dp_dest_counters own = counters(m, vs->http_id);

    memset(out, 0, sizeof(*out));
    out->http_requests = own.http_requests; /* client requests (retries are not requests) */
    for (int i = 0; i < 5; i++)
        out->http_resp[i] = own.http_resp[i]; /* nospof's own replies, plus the servers' */
    for (size_t k = 0; k < vs->nrss; k++) {
        struct dp_dest_counters c = counters(m, vs->rss[k]->id);
        for (int i = 0; i < 5; i++)
            out->http_resp[i] += c.http_resp[i];
        out->http_retries += c.http_retries;
        out->http_errors += c.http_errors;
        out->http_reuses += c.http_reuses;
        for (int i = 0; i < DP_HTTP_LAT_BUCKETS; i++)
            out->http_lat[i] += c.http_lat[i];
    }
}

static const char *group_name(const struct lb_rs *rs)
{
    return rs->crs->group ? rs->vs->cvs->http.groups[rs->crs->group - 1].name : "default";
}

static void table_http_row(struct io_ctl_reply *r, const char *name,
                           const struct dp_dest_counters *c)
{
    io_ctl_reply_printf(r,
                        "%-34s %9llu %7llu %7llu %7llu %7llu %7llu %7llu %7llu %8llu %8llu %8llu\n",
                        name, (unsigned long long)c->http_requests,
                        (unsigned long long)c->http_resp[0], (unsigned long long)c->http_resp[1],
                        (unsigned long long)c->http_resp[2], (unsigned long long)c->http_resp[3],
                        (unsigned long long)c->http_resp[4], (unsigned long long)c->http_retries,
                        (unsigned long long)c->http_errors, (unsigned long long)c->http_reuses,
                        (unsigned long long)dp_http_lat_quantile(c->http_lat, 0.5),
                        (unsigned long long)dp_http_lat_quantile(c->http_lat, 0.99));
}

/* `lb list http`: one line per HTTP virtual server (sums) and per real server. */
static void table_http(struct lbmgr *m, struct io_ctl_reply *r)
{
    char e[80], name[160];
    struct dp_dest_counters c;

    io_ctl_reply_printf(r, "%-34s %9s %7s %7s %7s %7s %7s %7s %7s %8s %8s %8s\n",
                        "VirtualServer / -> RealServer@group", "Requests", "1xx", "2xx", "3xx",
                        "4xx", "5xx", "Retries", "Errors", "Reuses", "p50_us", "p99_us");
    for (size_t i = 0; i < m->nvss; i++) {
        const struct lb_vs *vs = m->vss[i];
        if (!vs->cvs->http.enabled)
            continue;
        http_sum(m, vs, &c);
        table_http_row(r, vs->name, &c);
        for (size_t k = 0; k < vs->nrss; k++) {
            const struct lb_rs *rs = vs->rss[k];
            ep(e, sizeof(e), &rs->crs->addr, rs->crs->port);
            snprintf(name, sizeof(name), "  -> %s@%s", e, group_name(rs));
            c = counters(m, rs->id);
            table_http_row(r, name, &c);
        }
    }
}

static void json_http(struct json_w *w, const struct dp_dest_counters *c)
{
    static const char *const cls[5] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

    json_key(w, "http");
    json_obj_begin(w);
    json_key(w, "requests");
    json_uint(w, c->http_requests);
    json_key(w, "responses");
    json_obj_begin(w);
    for (int i = 0; i < 5; i++) {
        json_key(w, cls[i]);
        json_uint(w, c->http_resp[i]);
    }
    json_obj_end(w);
    json_key(w, "retries");
    json_uint(w, c->http_retries);
    json_key(w, "errors");
    json_uint(w, c->http_errors);
    json_key(w, "error_run");
    json_uint(w, c->http_err_run);
    json_key(w, "reuses");
    json_uint(w, c->http_reuses);
    json_key(w, "p50_us");
    json_uint(w, dp_http_lat_quantile(c->http_lat, 0.5));
    json_key(w, "p90_us");
    json_uint(w, dp_http_lat_quantile(c->http_lat, 0.9));
    json_key(w, "p99_us");
    json_uint(w, dp_http_lat_quantile(c->http_lat, 0.99));
    json_obj_end(w);
}

/* ---- JSON ---- */

static void json_check(struct json_w *w, const struct lb_check *ck)
{
    json_obj_begin(w);
    json_key(w, "type");
    json_str(w, probe_kind_name(ck->cc->probe.kind));
    json_key(w, "up");
    json_bool(w, hc_is_up(&ck->hc));
    json_key(w, "probes");
    json_uint(w, ck->hc.probes);
    json_key(w, "failures");
    json_uint(w, ck->hc.failures);
    json_key(w, "last");
    ck->has_last ? json_str(w, ck->last.ok ? "ok" : ck->last.why) : json_null(w);
    json_key(w, "last_rtt_us");
    json_int(w, ck->has_last ? ck->last.rtt_us : 0);
    json_obj_end(w);
}

static void json_rs(struct lbmgr *m, struct json_w *w, const struct lb_rs *rs)
{
    struct dp_dest_counters c = counters(m, rs->id);
    char a[IP_ADDR_STRLEN];

    json_obj_begin(w);
    json_key(w, "address");
    json_str(w, ip_addr_format(&rs->crs->addr, a, sizeof(a)));
    json_key(w, "port");
    json_uint(w, rs->crs->port);
    json_key(w, "state");
    json_str(w, rs_state(rs));
    json_key(w, "why");
    rs->up ? json_null(w) : json_str(w, rs->why);
    json_key(w, "weight");
    json_uint(w, rs->crs->weight);
    json_key(w, "effective_weight");
    json_uint(w, lbm_rs_in_service(rs) ? lbm_rs_weight(rs) : 0);
    json_key(w, "active");
    json_int(w, c.active);
    json_key(w, "inactive");
    json_int(w, c.inactive);
    json_key(w, "conns");
    json_uint(w, c.conns_total);
    json_key(w, "bytes_in");
    json_uint(w, c.bytes_in);
    json_key(w, "bytes_out");
    json_uint(w, c.bytes_out);
    json_key(w, "connect_failures");
    json_uint(w, c.connect_failures);
    json_key(w, "cps");
    json_double(w, rs->cps);
    json_key(w, "ups");
    json_uint(w, rs->ups);
    json_key(w, "downs");
    json_uint(w, rs->downs);
    json_key(w, "checks");
    json_arr_begin(w);
    for (size_t i = 0; i < rs->nchecks; i++)
        json_check(w, &rs->checks[i]);
    json_arr_end(w);
    if (rs->vs->cvs->http.enabled) {
        json_key(w, "group");
        json_str(w, group_name(rs));
        json_http(w, &c);
    }
    json_obj_end(w);
}

static void json_vs(struct lbmgr *m, struct json_w *w, const struct lb_vs *vs)
{
    char e[80];

    json_obj_begin(w);
    json_key(w, "name");
    json_str(w, vs->name);
    json_key(w, "protocol");
    json_str(w, vs->cvs->proto == CFG_LB_UDP ? "UDP" : "TCP");
    json_key(w, "listen");
    json_arr_begin(w);
    for (size_t l = 0; l < vs->nlisten; l++) {
        ep(e, sizeof(e), &vs->listen[l].addr, vs->listen[l].port);
        json_str(w, e);
    }
    json_arr_end(w);
    json_key(w, "scheduler");
    json_str(w, sched_name(vs));
    json_key(w, "persistence_timeout_s");
    json_uint(w, vs->cvs->persistent ? vs->cvs->persistence_timeout_s : 0);
    json_key(w, "quorum_up");
    json_bool(w, vs->quorum_up);
    json_key(w, "suspended");
    json_bool(w, vs->suspended);
    json_key(w, "sorry_server");
    if (vs->cvs->has_sorry) {
        ep(e, sizeof(e), &vs->cvs->sorry_addr, vs->cvs->sorry_port);
        json_str(w, e);
    } else {
        json_null(w);
    }
    json_key(w, "real_servers");
    json_arr_begin(w);
    for (size_t k = 0; k < vs->nrss; k++)
        json_rs(m, w, vs->rss[k]);
    json_arr_end(w);
    if (vs->cvs->http.enabled) {
        struct dp_dest_counters c;
        http_sum(m, vs, &c);
        json_http(w, &c);
    }
    json_obj_end(w);
}

/* "packet": the packet data plane's counters (dp_pkt.h), null when it is not running. */
static void json_pkt(struct lbmgr *m, struct json_w *w)
{
    struct dp_pkt_counters c;

    json_key(w, "packet");
    if (!m->pkt.started) {
        json_null(w);
        return;
    }
    dp_pkt_stats(&m->pkt, &c);
    json_obj_begin(w);
#define PKT_FIELD(f)                                                                               \
    do {                                                                                           \
        json_key(w, #f);                                                                           \
        json_uint(w, c.f);                                                                         \
    } while (0)
    PKT_FIELD(upcalls);
    PKT_FIELD(upcall_drops);
    PKT_FIELD(too_big);
    PKT_FIELD(no_flow);
    PKT_FIELD(fwd_packets);
    PKT_FIELD(rev_packets);
    PKT_FIELD(fragments);
    PKT_FIELD(scheduled);
    PKT_FIELD(no_dest);
    PKT_FIELD(bad_upcalls);
    PKT_FIELD(reinject_errors);
    PKT_FIELD(flows_expired);
    PKT_FIELD(flows);
    PKT_FIELD(interfaces);
#undef PKT_FIELD
    json_obj_end(w);
}

void lbm_render_dp_json(struct lbmgr *m, struct io_ctl_reply *r)
{
    struct dp_counters c;
    struct json_w w;

    dp_stats(&m->dp, &c);
    json_w_init(&w);
    json_obj_begin(&w);
    json_key(&w, "workers");
    json_uint(&w, m->dp.nworkers);
#define DP_FIELD(f)                                                                                \
    do {                                                                                           \
        json_key(&w, #f);                                                                          \
        json_uint(&w, c.f);                                                                        \
    } while (0)
    DP_FIELD(accepted);
    DP_FIELD(refused_maxconn);
    DP_FIELD(accept_pauses);
    DP_FIELD(no_dest);
    DP_FIELD(connect_retries);
    DP_FIELD(connect_failures);
    DP_FIELD(idle_timeouts);
    DP_FIELD(bytes_in);
    DP_FIELD(bytes_out);
    DP_FIELD(udp_flows_created);
    DP_FIELD(udp_flows_expired);
    DP_FIELD(udp_flows_evicted);
    DP_FIELD(udp_drops);
    DP_FIELD(conns);
    DP_FIELD(udp_flows);
    DP_FIELD(buffers);
    DP_FIELD(buffers_in_use);
#undef DP_FIELD
    json_key(&w, "snapshots_published");
    json_uint(&w, m->publishes);
    json_pkt(m, &w);
    json_obj_end(&w);
    io_ctl_reply_printf(r, "%s", json_w_cstr(&w));
    json_w_free(&w);
}

void lbm_render_json(struct lbmgr *m, struct io_ctl_reply *r)
{
    struct json_w w;

    json_w_init(&w);
    json_arr_begin(&w);
    for (size_t i = 0; i < m->nvss; i++)
        json_vs(m, &w, m->vss[i]);
    json_arr_end(&w);
    io_ctl_reply_printf(r, "%s", json_w_cstr(&w));
    json_w_free(&w);
}

/* ---- persistence and flow tables ---- */

struct table_ctx {
    struct lbmgr *m;
    struct io_ctl_reply *r;
    struct json_w *w; /* JSON, else a table */
    unsigned rows;
};

/* The real server (or sorry server) with data-plane id `id`, as "IP:PORT". */
static void dest_name(struct lbmgr *m, uint32_t id, char *buf, size_t cap)
{
    for (size_t i = 0; i < m->nvss; i++) {
        const struct lb_vs *vs = m->vss[i];
        for (size_t k = 0; k < vs->nrss; k++)
            if (vs->rss[k]->id == id) {
                ep(buf, cap, &vs->rss[k]->crs->addr, vs->rss[k]->crs->port);
                return;
            }
        if (vs->cvs->has_sorry && vs->sorry_id == id) {
            ep(buf, cap, &vs->cvs->sorry_addr, vs->cvs->sorry_port);
            return;
        }
    }
    snprintf(buf, cap, "(removed #%u)", id);
}

static void table_row(void *p, const struct dp_table_row *row)
{
    struct table_ctx *t = p;
    char vip[80], cli[80], rs[80], s[IP_ADDR_STRLEN];

    ep(vip, sizeof(vip), &row->vip, row->vport);
    if (row->flow)
        ep(cli, sizeof(cli), &row->client, row->client_port);
    else
        snprintf(cli, sizeof(cli), "%s", ip_addr_format(&row->client, s, sizeof(s)));
    dest_name(t->m, row->dest_id, rs, sizeof(rs));
    t->rows++;
    if (!t->w) {
        char worker[16];
        snprintf(worker, sizeof(worker), row->packet ? "pkt" : "%u", row->worker);
        io_ctl_reply_printf(t->r, "%-6s %-4s %-26s %-26s -> %-24s %8.1f %5u\n", worker,
                            row->proto == DP_UDP ? "UDP" : "TCP", vip, cli, rs,
                            (double)row->expires_in_us / 1e6, row->conns);
        return;
    }
    json_obj_begin(t->w);
    json_key(t->w, "worker");
    json_uint(t->w, row->worker);
    json_key(t->w, "plane");
    json_str(t->w, row->packet ? "packet" : "proxy");
    json_key(t->w, "protocol");
    json_str(t->w, row->proto == DP_UDP ? "UDP" : "TCP");
    json_key(t->w, "virtual");
    json_str(t->w, vip);
    json_key(t->w, "client");
    json_str(t->w, cli);
    json_key(t->w, "real_server");
    json_str(t->w, rs);
    json_key(t->w, "expires_in_ms");
    json_int(t->w, row->expires_in_us / 1000);
    if (!row->flow) {
        json_key(t->w, "connections");
        json_uint(t->w, row->conns);
    }
    json_obj_end(t->w);
}

/* `lb list persist|flows [json]`: the workers' persistence templates or UDP flows. */
static void render_tables(struct lbmgr *m, bool flows, bool json, struct io_ctl_reply *r)
{
    struct json_w w;
    struct table_ctx t = {m, r, json ? &w : NULL, 0};

    io_ctl_reply_printf(r, "ok\n");
    if (json) {
        json_w_init(&w);
        json_arr_begin(&w);
    } else {
        io_ctl_reply_printf(r, "%-6s %-4s %-26s %-26s    %-24s %8s %5s\n", "Worker", "Prot",
                            "VirtualAddress:Port", flows ? "Client:Port" : "Client (granularity)",
                            "RealServer", "Expires", "Conns");
    }
    dp_dump_tables(&m->dp, !flows, flows, table_row, &t);
    dp_pkt_dump(&m->pkt, !flows, flows, table_row, &t);
    if (json) {
        json_arr_end(&w);
        io_ctl_reply_printf(r, "%s\n", json_w_cstr(&w));
        json_w_free(&w);
    } else if (t.rows == 0) {
        io_ctl_reply_printf(r, "(no %s)\n", flows ? "flows" : "persistence templates");
    }
}

/* ---- admin ---- */

/* Parses "IP:PORT" or "[IP6]:PORT". */
static bool parse_ep(const char *s, struct ip_addr *a, uint16_t *port)
{
    char host[IP_ADDR_STRLEN + 2];
    const char *colon;
    size_t n;

    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':')
            return false;
        n = (size_t)(end - s - 1);
        colon = end + 1;
        s++;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return false;
        n = (size_t)(colon - s);
    }
    if (n >= sizeof(host))
        return false;
    memcpy(host, s, n);
    host[n] = '\0';
    char *endp;
    long p = strtol(colon + 1, &endp, 10);
    if (*endp || p < 1 || p > 65535 || !ip_addr_parse(host, a))
        return false;
    *port = (uint16_t)p;
    return true;
}

static struct lb_vs *find_vs(struct lbmgr *m, const char *spec)
{
    int proto = -1;
    struct ip_addr a;
    uint16_t port;

    if (strncmp(spec, "group:", 6) == 0) {
        for (size_t i = 0; i < m->nvss; i++)
            if (m->vss[i]->cvs->group && strcmp(m->vss[i]->cvs->group, spec + 6) == 0)
                return m->vss[i];
        return NULL;
    }
    if (strncmp(spec, "tcp:", 4) == 0 || strncmp(spec, "udp:", 4) == 0) {
        proto = spec[0] == 'u' ? CFG_LB_UDP : CFG_LB_TCP;
        spec += 4;
    }
    if (!parse_ep(spec, &a, &port))
        return NULL;
    for (size_t i = 0; i < m->nvss; i++) {
        struct lb_vs *vs = m->vss[i];
        if (proto >= 0 && (int)vs->cvs->proto != proto)
            continue;
        for (size_t l = 0; l < vs->nlisten; l++)
            if (ip_addr_eq(&vs->listen[l].addr, &a) && vs->listen[l].port == port)
                return vs;
    }
    return NULL;
}

static struct lb_rs *find_rs(struct lb_vs *vs, const char *spec)
{
    struct ip_addr a;
    uint16_t port;

    if (!parse_ep(spec, &a, &port))
        return NULL;
    for (size_t k = 0; k < vs->nrss; k++)
        if (ip_addr_eq(&vs->rss[k]->crs->addr, &a) && vs->rss[k]->crs->port == port)
            return vs->rss[k];
    return NULL;
}

/* weight|drain|disable|enable VS RS [N] */
static void admin(struct lbmgr *m, const char *verb, char **w, int n, struct io_ctl_reply *r)
{
    struct lb_vs *vs = n >= 1 ? find_vs(m, w[0]) : NULL;
    struct lb_rs *rs = vs && n >= 2 ? find_rs(vs, w[1]) : NULL;

    if (!vs || !rs) {
        io_ctl_reply_printf(r, "error: no %s %s\n", vs ? "real server" : "virtual server",
                            n >= 2 ? w[vs ? 1 : 0] : "(give VS and RS as IP:PORT)");
        return;
    }
    if (strcmp(verb, "weight") == 0) {
        char *end = NULL;
        long v = n >= 3 ? strtol(w[2], &end, 10) : -1;
        if (!end || *end || v < 0 || v > 65535) {
            io_ctl_reply_printf(r, "error: weight must be 0..65535\n");
            return;
        }
        rs->admin_weight = (int)v;
    } else if (strcmp(verb, "drain") == 0) {
        rs->admin_weight = 0;
    } else if (strcmp(verb, "disable") == 0) {
        rs->disabled = true;
    } else { /* enable: back to the configured weight and into service */
        rs->disabled = false;
        rs->admin_weight = -1;
    }
    log_notice("%s: real server %s: %s%s%s by nospofctl", vs->name, w[1], verb, n >= 3 ? " " : "",
               n >= 3 ? w[2] : "");
    lbm_quorum_eval(vs, false);
    lbm_publish(m);
    io_ctl_reply_printf(r, "ok\n%s %s: %s, weight %u\n", vs->name, w[1], rs_state(rs),
                        lbm_rs_weight(rs));
}

void lbm_render(struct lbmgr *m, const char *mode, struct io_ctl_reply *r)
{
    char buf[256], *w[8], *save = NULL;
    int n = 0;

    snprintf(buf, sizeof(buf), "%s", mode);
    for (char *t = strtok_r(buf, " ", &save); t && n < 8; t = strtok_r(NULL, " ", &save))
        w[n++] = t;
    if (n == 0 || strcmp(w[0], "list") == 0) {
        bool json = false, stats = false, rate = false, http = false, persist = false,
             flows = false;
        for (int i = 1; i < n; i++) {
            http |= strcmp(w[i], "http") == 0;
            json |= strcmp(w[i], "json") == 0;
            stats |= strcmp(w[i], "stats") == 0;
            rate |= strcmp(w[i], "rate") == 0;
            persist |= strcmp(w[i], "persist") == 0;
            flows |= strcmp(w[i], "flows") == 0;
        }
        if (persist || flows) {
            render_tables(m, flows, json, r);
            return;
        }
        io_ctl_reply_printf(r, "ok\n");
        if (json) {
            lbm_render_json(m, r);
            io_ctl_reply_printf(r, "\n");
            return;
        }
        if (http) {
            table_http(m, r);
            return;
        }
        table_head(r, stats, rate);
        for (size_t i = 0; i < m->nvss; i++)
            table_vs(m, m->vss[i], stats, rate, r);
        return;
    }
    if (strcmp(w[0], "weight") == 0 || strcmp(w[0], "drain") == 0 || strcmp(w[0], "disable") == 0 ||
        strcmp(w[0], "enable") == 0) {
        admin(m, w[0], w + 1, n - 1, r);
        return;
    }
    io_ctl_reply_printf(r,
                        "error: unknown lb request '%s' (list [stats|rate|http] [json], weight VS "
                        "RS N, drain VS RS, disable VS RS, enable VS RS)\n",
                        w[0]);
}
