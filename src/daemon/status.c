/* Status rendering of the VRRP manager: the JSON of docs/dev/control.md and the human table
 * of `nospofctl status`. Runs on the manager's thread (vmgr_status posts it there). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/json.h"
#include "io/clock.h"
#include "proto/vrrp/vrrp.h"
#include "proto/vrrp/vrrp_pkt.h"
#include "vmgr.h"

void vmgr_status_render(struct vmgr *m, bool json, struct io_ctl_reply *r);

static long long ms(mono_us us)
{
    return (long long)(us / 1000);
}

static const char *master_of(const struct vmgr_inst *vi, char *buf, size_t cap)
{
    const struct vrrp *v = &vi->core;

    if (v->state == VRRP_STATE_MASTER)
        return ip_addr_format(&v->cfg.src, buf, cap);
    if (!v->master_known)
        return NULL;
    return ip_addr_format(&v->master_addr, buf, cap);
}

static void json_drops(struct json_w *w, const uint64_t *drops)
{
    json_obj_begin(w);
    for (int d = 1; d < VRRP_DROP__COUNT; d++) {
        json_key(w, vrrp_drop_name((enum vrrp_drop)d));
        json_uint(w, drops[d]);
    }
    json_obj_end(w);
}

static void json_counters(struct json_w *w, const struct vrrp_counters *c)
{
    json_obj_begin(w);
    json_key(w, "adverts_rx");
    json_uint(w, c->adverts_rx);
    json_key(w, "adverts_tx");
    json_uint(w, c->adverts_tx);
    json_key(w, "prio_zero_rx");
    json_uint(w, c->prio_zero_rx);
    json_key(w, "prio_zero_tx");
    json_uint(w, c->prio_zero_tx);
    json_key(w, "transitions");
    json_uint(w, c->transitions);
    json_key(w, "became_master");
    json_uint(w, c->became_master);
    json_key(w, "garp_rounds");
    json_uint(w, c->garp_rounds);
    json_key(w, "drops");
    json_drops(w, c->drops);
    json_obj_end(w);
}

static void json_history(struct json_w *w, const struct vrrp *v, mono_us now)
{
    unsigned n = v->hist_n < VRRP_HISTORY ? v->hist_n : VRRP_HISTORY;

    json_arr_begin(w);
    for (unsigned k = 0; k < n; k++) {
        const struct vrrp_transition *t = &v->hist[(v->hist_n - n + k) % VRRP_HISTORY];
        json_obj_begin(w);
        json_key(w, "ago_ms");
        json_int(w, ms(now - t->at));
        json_key(w, "from");
        json_str(w, vrrp_state_name(t->from));
        json_key(w, "to");
        json_str(w, vrrp_state_name(t->to));
        json_key(w, "reason");
        json_str(w, vrrp_reason_name(t->reason));
        json_key(w, "priority");
        json_uint(w, t->priority);
        json_obj_end(w);
    }
    json_arr_end(w);
}

static void json_vips(struct json_w *w, const struct cfg_instance *ci)
{
    char a[IP_ADDR_STRLEN + 8], b[IP_ADDR_STRLEN];

    json_arr_begin(w);
    for (size_t i = 0; i < ci->nvips; i++) {
        snprintf(a, sizeof(a), "%s/%u", ip_addr_format(&ci->vips[i].addr, b, sizeof(b)),
                 ci->vips[i].prefix_len);
        json_str(w, a);
    }
    json_arr_end(w);
}

static void json_instance(struct json_w *w, const struct vmgr_inst *vi, mono_us now)
{
    const struct vrrp *v = &vi->core;
    char buf[IP_ADDR_STRLEN];
    const char *master = master_of(vi, buf, sizeof(buf));

    json_obj_begin(w);
    json_key(w, "name");
    json_str(w, vi->ci->name);
    json_key(w, "interface");
    json_str(w, vi->ci->ifname);
    json_key(w, "vrid");
    json_uint(w, v->cfg.vrid);
    json_key(w, "family");
    json_str(w, v->cfg.family == IP_V6 ? "inet6" : "inet");
    json_key(w, "version");
    json_uint(w, v->cfg.version);
    json_key(w, "state");
    json_str(w, vrrp_state_name(v->state));
    json_key(w, "priority");
    json_uint(w, v->cfg.priority);
    json_key(w, "effective_priority");
    json_uint(w, v->eff_priority);
    json_key(w, "master");
    master ? json_str(w, master) : json_null(w);
    json_key(w, "master_priority");
    json_uint(w, v->state == VRRP_STATE_MASTER ? v->eff_priority : v->master_priority);
    json_key(w, "advert_int_ms");
    json_uint(w, (uint64_t)v->master_adver_int_cs * 10);
    json_key(w, "in_state_ms");
    json_int(w, ms(now - v->entered_at));
    json_key(w, "sync_group");
    vi->group ? json_str(w, vi->group->cg->name) : json_null(w);
    json_key(w, "vips");
    json_vips(w, vi->ci);
    json_key(w, "vips_installed");
    json_bool(w, vi->vips_up);
    json_key(w, "last_vip_install_us");
    json_int(w, vi->vips_up_us);
    json_key(w, "counters");
    json_counters(w, &v->cnt);
    json_key(w, "transitions");
    json_history(w, v, now);
    json_obj_end(w);
}

static void json_daemon(struct json_w *w, struct vmgr *m)
{
    const struct cfg *cfg = m->cref->cfg;

    json_obj_begin(w);
    json_key(w, "pid");
    json_int(w, getpid());
    json_key(w, "uptime_ms");
    json_int(w, ms(io_clock_now() - m->started_at));
    json_key(w, "config");
    json_str(w, cfg->path ? cfg->path : "");
    json_key(w, "reloads");
    json_uint(w, m->reloads);
    json_key(w, "router_id");
    cfg->global.router_id ? json_str(w, cfg->global.router_id) : json_null(w);
    json_obj_end(w);
}

static void json_events(struct json_w *w, struct vmgr *m, mono_us now)
{
    unsigned n = m->nevents < VMGR_EVENTS ? m->nevents : VMGR_EVENTS;

    json_arr_begin(w);
    for (unsigned k = 0; k < n; k++) {
        const struct vmgr_event *e = &m->events[(m->nevents - n + k) % VMGR_EVENTS];
        json_obj_begin(w);
        json_key(w, "ago_ms");
        json_int(w, ms(now - e->at));
        json_key(w, "text");
        json_str(w, e->text);
        json_obj_end(w);
    }
    json_arr_end(w);
}

static void render_json(struct vmgr *m, struct io_ctl_reply *r)
{
    struct json_w w;
    uint64_t drops[VRRP_DROP__COUNT] = {0};
    mono_us now = io_clock_now();

    for (size_t i = 0; i < m->nifs; i++)
        for (int d = 0; d < VRRP_DROP__COUNT; d++)
            drops[d] += m->ifs[i]->drops[d];
    json_w_init(&w);
    json_obj_begin(&w);
    json_key(&w, "daemon");
    json_daemon(&w, m);
    json_key(&w, "instances");
    json_arr_begin(&w);
    for (size_t i = 0; i < m->ninsts; i++)
        json_instance(&w, m->insts[i], now);
    json_arr_end(&w);
    json_key(&w, "unattributed_drops");
    json_drops(&w, drops);
    json_key(&w, "events");
    json_events(&w, m, now);
    json_obj_end(&w);
    io_ctl_reply_printf(r, "%s\n", json_w_cstr(&w));
    json_w_free(&w);
}

static uint64_t drops_total(const uint64_t *d)
{
    uint64_t t = 0;
    for (int i = 1; i < VRRP_DROP__COUNT; i++)
        t += d[i];
    return t;
}

static void render_table(struct vmgr *m, struct io_ctl_reply *r)
{
    mono_us now = io_clock_now();
    char buf[IP_ADDR_STRLEN];

    io_ctl_reply_printf(r, "%-16s %-10s %4s %-3s %-7s %-9s %-15s %7s %10s %7s %7s %5s\n",
                        "INSTANCE", "INTERFACE", "VRID", "VER", "STATE", "PRIO", "MASTER", "ADV_MS",
                        "IN_STATE", "TX", "RX", "DROPS");
    for (size_t i = 0; i < m->ninsts; i++) {
        const struct vmgr_inst *vi = m->insts[i];
        const struct vrrp *v = &vi->core;
        const char *master = master_of(vi, buf, sizeof(buf));
        char prio[16], in_state[24];

        snprintf(prio, sizeof(prio), "%u/%u", v->eff_priority, v->cfg.priority);
        snprintf(in_state, sizeof(in_state), "%.1fs", (double)(now - v->entered_at) / 1e6);
        io_ctl_reply_printf(
            r, "%-16s %-10s %4u v%-2u %-7s %-9s %-15s %7u %10s %7llu %7llu %5llu\n", vi->ci->name,
            vi->ci->ifname, v->cfg.vrid, v->cfg.version, vrrp_state_name(v->state), prio,
            master ? master : "-", v->master_adver_int_cs * 10u, in_state,
            (unsigned long long)v->cnt.adverts_tx, (unsigned long long)v->cnt.adverts_rx,
            (unsigned long long)drops_total(v->cnt.drops));
    }
    for (size_t i = 0; i < m->ninsts; i++) {
        const struct vrrp *v = &m->insts[i]->core;
        unsigned n = v->hist_n < 3 ? v->hist_n : 3;
        for (unsigned k = 0; k < n; k++) {
            const struct vrrp_transition *t = &v->hist[(v->hist_n - n + k) % VRRP_HISTORY];
            io_ctl_reply_printf(r, "  %s: %s -> %s (%s) %.1fs ago\n", m->insts[i]->ci->name,
                                vrrp_state_name(t->from), vrrp_state_name(t->to),
                                vrrp_reason_name(t->reason), (double)(now - t->at) / 1e6);
        }
    }
}

void vmgr_status_render(struct vmgr *m, bool json, struct io_ctl_reply *r)
{
    if (json)
        render_json(m, r);
    else
        render_table(m, r);
}
