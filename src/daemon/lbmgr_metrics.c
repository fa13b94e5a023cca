/* Prometheus metrics of the load balancer (docs/metrics.md), rendered on the LB manager's
 * thread, and the health-check round-trip histogram it keeps per checker.
 *
 * Virtual servers are labelled with their name ("TCP 192.0.2.100:80" or "TCP group NAME"),
 * real servers with IP:PORT ([IPv6]:PORT), checkers with their index in the real server and
 * their type (TCP_CHECK, HTTP_GET, ...). Data-plane counters are read with dp_dest_read: the
 * sums of the workers' counters at the time of the scrape. */
#include <stdio.h>

#include "base/addr.h"
#include "daemon/dp/dp.h"
#include "daemon/dp/dp_http.h"
#include "lbmgr.h"
#include "proto/check/hc.h"
#include "status_http.h"

/* Upper bounds of the rtt buckets (Prometheus le, in seconds: 0.001 .. 5). */
static const mono_us rtt_bounds_us[LBM_RTT_BUCKETS] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
};

void lbm_metrics_probe(struct lb_check *ck, const struct probe_result *r)
{
    struct lbm_rtt_hist *h = &ck->rtt;
    mono_us rtt = r->rtt_us > 0 ? r->rtt_us : 0;

    h->count++;
    h->sum_us += (uint64_t)rtt;
    for (int i = 0; i < LBM_RTT_BUCKETS; i++) {
        if (rtt <= rtt_bounds_us[i]) {
            h->bucket[i]++;
            return;
        }
    }
}

struct metrics_arg {
    struct lbmgr *m;
    struct io_ctl_reply *r;
};

static void ep(char *buf, size_t cap, const struct ip_addr *a, uint16_t port)
{
    char s[IP_ADDR_STRLEN];

    ip_addr_format(a, s, sizeof(s));
    snprintf(buf, cap, a->family == IP_V6 ? "[%s]:%u" : "%s:%u", s, port);
}

/* {virtual_server="...",real_server="..." and a closing brace unless open. */
static void rs_labels(struct io_ctl_reply *r, const struct lb_rs *rs, bool open)
{
    char e[80];

    ep(e, sizeof(e), &rs->crs->addr, rs->crs->port);
    io_ctl_reply_printf(r, "{virtual_server=");
    status_prom_str(r, rs->vs->name);
    io_ctl_reply_printf(r, ",real_server=");
    status_prom_str(r, e);
    if (rs->crs->group) { /* protocol HTTP: the same server may be in several groups */
        io_ctl_reply_printf(r, ",group=");
        status_prom_str(r, rs->vs->cvs->http.groups[rs->crs->group - 1].name);
    }
    io_ctl_reply_printf(r, open ? "," : "}");
}

/* The values of one real server, read once per scrape. */
struct rs_vals {
    const struct lb_rs *rs;
    struct dp_dest_counters c;
};

typedef double rs_value(const struct rs_vals *v);

static void rs_family(struct lbmgr *m, struct io_ctl_reply *r, const char *name, const char *type,
                      const char *help, rs_value *fn)
{
    status_prom_family(r, name, type, help);
    for (size_t i = 0; i < m->nvss; i++)
        for (size_t k = 0; k < m->vss[i]->nrss; k++) {
            struct rs_vals v = {.rs = m->vss[i]->rss[k]};
            dp_dest_read(&m->dp, v.rs->id, &v.c);
            io_ctl_reply_printf(r, "%s", name);
            rs_labels(r, v.rs, false);
            io_ctl_reply_printf(r, " %.17g\n", fn(&v));
        }
}

static double v_up(const struct rs_vals *v)
{
    return v->rs->up;
}

static double v_in_service(const struct rs_vals *v)
{
    return lbm_rs_in_service(v->rs);
}

static double v_weight(const struct rs_vals *v)
{
    return lbm_rs_in_service(v->rs) ? lbm_rs_weight(v->rs) : 0;
}

static double v_cfg_weight(const struct rs_vals *v)
{
    return v->rs->crs->weight;
}

static double v_active(const struct rs_vals *v)
{
    return (double)v->c.active;
}

static double v_inactive(const struct rs_vals *v)
{
    return (double)v->c.inactive;
}

static double v_conns(const struct rs_vals *v)
{
    return (double)v->c.conns_total;
}

static double v_bytes_in(const struct rs_vals *v)
{
    return (double)v->c.bytes_in;
}

static double v_bytes_out(const struct rs_vals *v)
{
    return (double)v->c.bytes_out;
}

static double v_failures(const struct rs_vals *v)
{
    return (double)v->c.connect_failures;
}

static double v_downs(const struct rs_vals *v)
{
    return (double)v->rs->downs;
}

static void vs_metrics(struct lbmgr *m, struct io_ctl_reply *r)
{
    status_prom_family(r, "nospof_lb_virtual_server_quorum_up", "gauge",
                       "1 while the virtual server has its quorum (else the sorry server).");
    for (size_t i = 0; i < m->nvss; i++) {
        io_ctl_reply_printf(r, "nospof_lb_virtual_server_quorum_up{virtual_server=");
        status_prom_str(r, m->vss[i]->name);
        io_ctl_reply_printf(r, "} %d\n", m->vss[i]->quorum_up);
    }
}

static void rs_metrics(struct lbmgr *m, struct io_ctl_reply *r)
{
    rs_family(m, r, "nospof_lb_real_server_up", "gauge", "1 while every checker says up.", v_up);
    rs_family(m, r, "nospof_lb_real_server_in_service", "gauge",
              "1 while the real server takes new connections.", v_in_service);
    rs_family(m, r, "nospof_lb_real_server_weight", "gauge",
              "Effective weight (0 when out of service or drained).", v_weight);
    rs_family(m, r, "nospof_lb_real_server_configured_weight", "gauge", "Configured weight.",
              v_cfg_weight);
    rs_family(m, r, "nospof_lb_real_server_active_connections", "gauge",
              "Established proxied connections.", v_active);
    rs_family(m, r, "nospof_lb_real_server_inactive_connections", "gauge",
              "Connections not established (connecting or closing).", v_inactive);
    rs_family(m, r, "nospof_lb_real_server_connections_total", "counter",
              "Connections scheduled to the real server.", v_conns);
    rs_family(m, r, "nospof_lb_real_server_bytes_in_total", "counter",
              "Bytes from clients forwarded to the real server.", v_bytes_in);
    rs_family(m, r, "nospof_lb_real_server_bytes_out_total", "counter",
              "Bytes from the real server forwarded to clients.", v_bytes_out);
    rs_family(m, r, "nospof_lb_real_server_connect_failures_total", "counter",
              "Connects to the real server that failed or timed out.", v_failures);
    rs_family(m, r, "nospof_lb_real_server_downs_total", "counter",
              "Times the real server went DOWN.", v_downs);
}

/* {virtual_server,real_server,checker,type} of one checker, with extra labels when open. */
static void check_labels(struct io_ctl_reply *r, const struct lb_check *ck, size_t idx, bool open)
{
    rs_labels(r, ck->rs, true);
    io_ctl_reply_printf(r, "checker=\"%zu\",type=\"%s\"%s", idx,
                        probe_kind_name(ck->cc->probe.kind), open ? "," : "}");
}

typedef uint64_t check_value(const struct lb_check *ck);

static void check_family(struct lbmgr *m, struct io_ctl_reply *r, const char *name,
                         const char *type, const char *help, check_value *fn)
{
    status_prom_family(r, name, type, help);
    for (size_t i = 0; i < m->nvss; i++)
        for (size_t k = 0; k < m->vss[i]->nrss; k++)
            for (size_t c = 0; c < m->vss[i]->rss[k]->nchecks; c++) {
                const struct lb_check *ck = &m->vss[i]->rss[k]->checks[c];
                io_ctl_reply_printf(r, "%s", name);
                check_labels(r, ck, c, false);
                io_ctl_reply_printf(r, " %llu\n", (unsigned long long)fn(ck));
            }
}

static uint64_t c_up(const struct lb_check *ck)
{
    return hc_is_up(&ck->hc);
}

static uint64_t c_probes(const struct lb_check *ck)
{
    return ck->hc.probes;
}

static uint64_t c_failures(const struct lb_check *ck)
{
    return ck->hc.failures;
}

static void histogram(struct io_ctl_reply *r, const struct lb_check *ck, size_t idx)
{
    const char *name = "nospof_lb_check_rtt_seconds";
    uint64_t cum = 0;

    for (int b = 0; b < LBM_RTT_BUCKETS; b++) {
        cum += ck->rtt.bucket[b];
        io_ctl_reply_printf(r, "%s_bucket", name);
        check_labels(r, ck, idx, true);
        io_ctl_reply_printf(r, "le=\"%g\"} %llu\n", (double)rtt_bounds_us[b] / 1e6,
                            (unsigned long long)cum);
    }
    io_ctl_reply_printf(r, "%s_bucket", name);
    check_labels(r, ck, idx, true);
    io_ctl_reply_printf(r, "le=\"+Inf\"} %llu\n%s_sum", (unsigned long long)ck->rtt.count, name);
    check_labels(r, ck, idx, false);
    io_ctl_reply_printf(r, " %.6f\n%s_count", (double)ck->rtt.sum_us / 1e6, name);
    check_labels(r, ck, idx, false);
    io_ctl_reply_printf(r, " %llu\n", (unsigned long long)ck->rtt.count);
}

static void check_metrics(struct lbmgr *m, struct io_ctl_reply *r)
{
    check_family(m, r, "nospof_lb_check_up", "gauge", "1 while the checker says up.", c_up);
    check_family(m, r, "nospof_lb_check_probes_total", "counter", "Probes completed.", c_probes);
    check_family(m, r, "nospof_lb_check_failures_total", "counter", "Probes that failed.",
                 c_failures);
    status_prom_family(r, "nospof_lb_check_rtt_seconds", "histogram",
                       "Round-trip time of completed health-check probes.");
    for (size_t i = 0; i < m->nvss; i++)
        for (size_t k = 0; k < m->vss[i]->nrss; k++)
            for (size_t c = 0; c < m->vss[i]->rss[k]->nchecks; c++)
                histogram(r, &m->vss[i]->rss[k]->checks[c], c);
}

/* ---- protocol HTTP services ---- */

typedef uint64_t http_value(const struct dp_dest_counters *c, int arg);

static uint64_t h_requests(const struct dp_dest_counters *c, int arg)
{
    (void)arg;
    return c->http_requests;
}

static uint64_t h_class(const struct dp_dest_counters *c, int arg)
{
    return c->http_resp[arg];
}

static uint64_t h_retries(const struct dp_dest_counters *c, int arg)
{
    (void)arg;
    return c->http_retries;
}

static uint64_t h_errors(const struct dp_dest_counters *c, int arg)
{
    (void)arg;
    return c->http_errors;
}

static uint64_t h_reuses(const struct dp_dest_counters *c, int arg)
{
    (void)arg;
    return c->http_reuses;
}

/* One line per real server of every HTTP virtual server (per class when by_class). */
static void http_rs_family(struct lbmgr *m, struct io_ctl_reply *r, const char *name,
                           const char *help, http_value *fn, bool by_class)
{
    status_prom_family(r, name, "counter", help);
    for (size_t i = 0; i < m->nvss; i++)
        for (size_t k = 0; m->vss[i]->cvs->http.enabled && k < m->vss[i]->nrss; k++) {
            struct dp_dest_counters c = {0};
            dp_dest_read(&m->dp, m->vss[i]->rss[k]->id, &c);
            for (int cls = 0; cls < (by_class ? 5 : 1); cls++) {
                io_ctl_reply_printf(r, "%s", name);
                rs_labels(r, m->vss[i]->rss[k], by_class);
                if (by_class)
                    io_ctl_reply_printf(r, "class=\"%dxx\"}", cls + 1);
                io_ctl_reply_printf(r, " %llu\n", (unsigned long long)fn(&c, cls));
            }
        }
}

static void http_latency(struct lbmgr *m, struct io_ctl_reply *r)
{
    const char *name = "nospof_lb_http_response_seconds";

    status_prom_family(r, name, "histogram",
                       "Request sent to response head, per real server (power-of-two buckets).");
    for (size_t i = 0; i < m->nvss; i++)
        for (size_t k = 0; m->vss[i]->cvs->http.enabled && k < m->vss[i]->nrss; k++) {
            const struct lb_rs *rs = m->vss[i]->rss[k];
            struct dp_dest_counters c = {0};
            uint64_t cum = 0;
            dp_dest_read(&m->dp, rs->id, &c);
            for (unsigned b = 0; b + 1 < DP_HTTP_LAT_BUCKETS; b++) {
                cum += c.http_lat[b];
                io_ctl_reply_printf(r, "%s_bucket", name);
                rs_labels(r, rs, true);
                io_ctl_reply_printf(r, "le=\"%g\"} %llu\n", (double)dp_http_lat_bound(b) / 1e6,
                                    (unsigned long long)cum);
            }
            cum += c.http_lat[DP_HTTP_LAT_BUCKETS - 1];
            io_ctl_reply_printf(r, "%s_bucket", name);
            rs_labels(r, rs, true);
            io_ctl_reply_printf(r, "le=\"+Inf\"} %llu\n%s_sum", (unsigned long long)cum, name);
            rs_labels(r, rs, false);
            io_ctl_reply_printf(r, " %.6f\n%s_count", (double)c.http_lat_sum_us / 1e6, name);
            rs_labels(r, rs, false);
            io_ctl_reply_printf(r, " %llu\n", (unsigned long long)cum);
        }
}

/* Client requests and nospof's own replies, per HTTP virtual server. */
static void http_vs(struct lbmgr *m, struct io_ctl_reply *r)
{
    status_prom_family(r, "nospof_lb_http_client_requests_total", "counter",
                       "Requests received from clients (retries not counted).");
    for (size_t i = 0; i < m->nvss; i++) {
        struct dp_dest_counters c = {0};
        if (!m->vss[i]->cvs->http.enabled)
            continue;
        dp_dest_read(&m->dp, m->vss[i]->http_id, &c);
        io_ctl_reply_printf(r, "nospof_lb_http_client_requests_total{virtual_server=");
        status_prom_str(r, m->vss[i]->name);
        io_ctl_reply_printf(r, "} %llu\n", (unsigned long long)c.http_requests);
    }
    status_prom_family(r, "nospof_lb_http_local_responses_total", "counter",
                       "Responses nospof generated (400, 408, 502, 503, 504 ...) by class.");
    for (size_t i = 0; i < m->nvss; i++) {
        struct dp_dest_counters c = {0};
        if (!m->vss[i]->cvs->http.enabled)
            continue;
        dp_dest_read(&m->dp, m->vss[i]->http_id, &c);
        for (int cls = 3; cls < 5; cls++) {
            io_ctl_reply_printf(r, "nospof_lb_http_local_responses_total{virtual_server=");
            status_prom_str(r, m->vss[i]->name);
            io_ctl_reply_printf(r, ",class=\"%dxx\"} %llu\n", cls + 1,
                                (unsigned long long)c.http_resp[cls]);
        }
    }
}

static bool any_http(const struct lbmgr *m)
{
    for (size_t i = 0; i < m->nvss; i++)
        if (m->vss[i]->cvs->http.enabled)
            return true;
    return false;
}

static void http_metrics(struct lbmgr *m, struct io_ctl_reply *r)
{
    if (!any_http(m))
        return;
    http_vs(m, r);
    http_rs_family(m, r, "nospof_lb_http_requests_total",
                   "Requests sent to the real server (retries included).", h_requests, false);
    http_rs_family(m, r, "nospof_lb_http_responses_total",
                   "Final responses from the real server by status class.", h_class, true);
    http_rs_family(m, r, "nospof_lb_http_retries_total",
                   "Requests moved to another real server after a failure on this one.", h_retries,
                   false);
    http_rs_family(m, r, "nospof_lb_http_errors_total",
                   "Passive-health failures (connect, reset before a response, timeout, bad "
                   "response).",
                   h_errors, false);
    http_rs_family(m, r, "nospof_lb_http_reuses_total",
                   "Requests sent on a pooled keep-alive server connection.", h_reuses, false);
    http_latency(m, r);
}

static void render(void *p)
{
    struct metrics_arg *a = p;

    vs_metrics(a->m, a->r);
    rs_metrics(a->m, a->r);
    check_metrics(a->m, a->r);
    http_metrics(a->m, a->r);
}

void lbmgr_metrics(struct lbmgr *m, struct io_ctl_reply *r)
{
    struct metrics_arg a = {m, r};

    io_loop_call(&m->loop, render, &a);
}
