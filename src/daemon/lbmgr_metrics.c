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

static void render(void *p)
{
    struct metrics_arg *a = p;

    vs_metrics(a->m, a->r);
    rs_metrics(a->m, a->r);
    check_metrics(a->m, a->r);
}

void lbmgr_metrics(struct lbmgr *m, struct io_ctl_reply *r)
{
    struct metrics_arg a = {m, r};

    io_loop_call(&m->loop, render, &a);
}
