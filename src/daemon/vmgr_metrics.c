/* Prometheus metrics of the VRRP manager (docs/metrics.md), rendered on the manager's thread
 * so that every value of one scrape comes from the same instant.
 *
 * Metric families are written whole (HELP, TYPE, then one sample per instance), as the text
 * exposition format 0.0.4 requires; every instance sample carries the labels instance, vrid
 * and interface. The state gauge uses the numbering of enum vrrp_state (INIT 0, BACKUP 1,
 * MASTER 2, FAULT 3, STOPPED 4). */
#include <stdio.h>

#include "base/addr.h"
#include "io/clock.h"
#include "proto/vrrp/vrrp.h"
#include "proto/vrrp/vrrp_pkt.h"
#include "status_http.h"
#include "vmgr.h"

struct metrics_arg {
    struct vmgr *m;
    struct io_ctl_reply *r;
};

/* {instance="...",vrid="...",interface="..."} without the closing brace when open is set. */
static void labels(struct io_ctl_reply *r, const struct vmgr_inst *vi, bool open)
{
    io_ctl_reply_printf(r, "{instance=");
    status_prom_str(r, vi->ci->name);
    io_ctl_reply_printf(r, ",vrid=\"%u\",interface=", vi->core.cfg.vrid);
    status_prom_str(r, vi->ci->ifname);
    io_ctl_reply_printf(r, open ? "," : "}");
}

typedef uint64_t inst_value(const struct vmgr_inst *vi);

/* One family with one sample per instance. */
static void family(struct vmgr *m, struct io_ctl_reply *r, const char *name, const char *type,
                   const char *help, inst_value *fn)
{
    status_prom_family(r, name, type, help);
    for (size_t i = 0; i < m->ninsts; i++) {
        io_ctl_reply_printf(r, "%s", name);
        labels(r, m->insts[i], false);
        io_ctl_reply_printf(r, " %llu\n", (unsigned long long)fn(m->insts[i]));
    }
}

static uint64_t v_state(const struct vmgr_inst *vi)
{
    return vi->core.state;
}

static uint64_t v_master(const struct vmgr_inst *vi)
{
    return vi->core.state == VRRP_STATE_MASTER;
}

static uint64_t v_prio(const struct vmgr_inst *vi)
{
    return vi->core.cfg.priority;
}

static uint64_t v_eff_prio(const struct vmgr_inst *vi)
{
    return vi->core.eff_priority;
}

static uint64_t v_transitions(const struct vmgr_inst *vi)
{
    return vi->core.cnt.transitions;
}

static uint64_t v_became_master(const struct vmgr_inst *vi)
{
    return vi->core.cnt.became_master;
}

static uint64_t v_rx(const struct vmgr_inst *vi)
{
    return vi->core.cnt.adverts_rx;
}

static uint64_t v_tx(const struct vmgr_inst *vi)
{
    return vi->core.cnt.adverts_tx;
}

static uint64_t v_vips(const struct vmgr_inst *vi)
{
    return vi->vips_up;
}

static void drops(struct vmgr *m, struct io_ctl_reply *r)
{
    uint64_t un[VRRP_DROP__COUNT] = {0};

    status_prom_family(r, "nospof_vrrp_drops_total", "counter",
                       "Received VRRP packets dropped, by reason (RFC 5798 7.1 checks).");
    for (size_t i = 0; i < m->ninsts; i++)
        for (int d = 1; d < VRRP_DROP__COUNT; d++) {
            io_ctl_reply_printf(r, "nospof_vrrp_drops_total");
            labels(r, m->insts[i], true);
            io_ctl_reply_printf(r, "reason=\"%s\"} %llu\n", vrrp_drop_name((enum vrrp_drop)d),
                                (unsigned long long)m->insts[i]->core.cnt.drops[d]);
        }
    for (size_t i = 0; i < m->nifs; i++)
        for (int d = 0; d < VRRP_DROP__COUNT; d++)
            un[d] += m->ifs[i]->drops[d];
    status_prom_family(r, "nospof_vrrp_unattributed_drops_total", "counter",
                       "Dropped VRRP packets that name no configured instance, by reason.");
    for (int d = 1; d < VRRP_DROP__COUNT; d++)
        io_ctl_reply_printf(r, "nospof_vrrp_unattributed_drops_total{reason=\"%s\"} %llu\n",
                            vrrp_drop_name((enum vrrp_drop)d), (unsigned long long)un[d]);
}

static void daemon_metrics(struct vmgr *m, struct io_ctl_reply *r)
{
    status_prom_family(r, "nospof_uptime_seconds", "gauge", "Seconds since nospofd started.");
    io_ctl_reply_printf(r, "nospof_uptime_seconds %.3f\n",
                        (double)(io_clock_now() - m->started_at) / 1e6);
    status_prom_family(r, "nospof_reloads_total", "counter", "Configuration reloads applied.");
    io_ctl_reply_printf(r, "nospof_reloads_total %u\n", m->reloads);
}

static void render(void *p)
{
    struct metrics_arg *a = p;
    struct vmgr *m = a->m;
    struct io_ctl_reply *r = a->r;

    daemon_metrics(m, r);
    family(m, r, "nospof_vrrp_state", "gauge",
           "VRRP state: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 4 STOPPED.", v_state);
    family(m, r, "nospof_vrrp_master", "gauge", "1 while the instance is MASTER.", v_master);
    family(m, r, "nospof_vrrp_priority", "gauge", "Configured priority.", v_prio);
    family(m, r, "nospof_vrrp_effective_priority", "gauge",
           "Priority after tracking (the one advertised).", v_eff_prio);
    family(m, r, "nospof_vrrp_transitions_total", "counter", "State transitions.", v_transitions);
    family(m, r, "nospof_vrrp_became_master_total", "counter", "Transitions to MASTER.",
           v_became_master);
    family(m, r, "nospof_vrrp_adverts_rx_total", "counter", "Adverts received and accepted.", v_rx);
    family(m, r, "nospof_vrrp_adverts_tx_total", "counter", "Adverts sent.", v_tx);
    family(m, r, "nospof_vrrp_vips_installed", "gauge", "1 while the VIPs are installed.", v_vips);
    drops(m, r);
}

void vmgr_metrics(struct vmgr *m, struct io_ctl_reply *r)
{
    struct metrics_arg a = {m, r};

    io_loop_call(&m->loop, render, &a);
}
