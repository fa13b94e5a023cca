/* The VRRP manager: builds the runtime of a config, feeds the cores and executes their
 * actions, applies reloads as a diff, and runs it all on a dedicated thread.
 *
 * Life of an instance: built from its cfg_instance (interface, VMAC, trackers, sync group),
 * started (START, then FAULT if its link or trackers demand it), fed inputs by the socket
 * reader (vmgr_io.c), its timer and the trackers (vmgr_track.c); on stop or removal it is fed
 * STOP and lives on until its core reports STOPPED (a master's graceful handover).
 *
 * Reload keeps an instance when its name, interface, VRID and family are unchanged: the core
 * keeps its state and timers (vrrp_reconfigure) and the VIP set is updated in place, so an
 * unchanged instance sees nothing at all. Configs are reference counted because instances
 * that are still stopping point into the config they were built from. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "base/addr.h"
#include "cfg.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/nft.h"
#include "io/nl.h"
#include "io/sys.h"
#include "proto/vrrp/vrrp.h"
#include "proto/vrrp/vrrp_sync.h"
#include "status_http.h"
#include "vmgr.h"

#define STOP_BOUND_US MONO_S(10) /* a stop never takes longer than this */
#define ADV_ADDRS_V6  70         /* IPv6 addresses that fit one advert in a 1280-byte MTU */

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p)
        abort();
    return p;
}

static void cfg_unref(struct vmgr_cfgref *r)
{
    if (r && --r->refs == 0) {
        cfg_release(r->cfg);
        free(r);
    }
}

void vmgr_event(struct vmgr *m, const char *fmt, ...)
{
    struct vmgr_event *e = &m->events[m->nevents++ % VMGR_EVENTS];
    va_list ap;

    e->at = io_loop_now(&m->loop);
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof(e->text), fmt, ap);
    va_end(ap);
    log_notice("%s", e->text);
    status_event_vrrp(e->text); /* the event stream (nospofctl events) */
}

/* ---- feeding and actions ---- */

static void inst_rearm(struct vmgr_inst *vi)
{
    mono_us now = io_loop_now(&vi->mgr->loop);
    mono_us when = vi->group ? vrrp_sync_deadline(&vi->group->sync, vi->member, now)
                             : vrrp_deadline(&vi->core);

    if (when == MONO_NEVER)
        io_timer_cancel(&vi->mgr->loop, &vi->timer);
    else
        io_timer_arm(&vi->mgr->loop, &vi->timer, when);
}

static void inst_tick(struct io_loop *loop, struct io_timer *t)
{
    struct vrrp_in in = {.kind = VRRP_IN_TICK};
    vmgr_feed(t->ctx, &in);
}

void vmgr_feed(struct vmgr_inst *vi, const struct vrrp_in *in)
{
    mono_us now = io_loop_now(&vi->mgr->loop);
    struct vmgr_group *g = vi->group;

    if (!g) {
        struct vrrp_acts out = {0};
        vrrp_step(&vi->core, in, now, &out);
        vmgr_exec(vi, &out);
        inst_rearm(vi);
        return;
    }
    struct vrrp_acts outs[VRRP_SYNC_MAX];
    memset(outs, 0, sizeof(outs));
    vrrp_sync_step(&g->sync, vi->member, in, now, outs);
    for (unsigned k = 0; k < g->n; k++)
        vmgr_exec(g->insts[k], &outs[k]);
    for (unsigned k = 0; k < g->n; k++)
        inst_rearm(g->insts[k]);
}

static void group_notify(struct vmgr_group *g, enum vrrp_state to)
{
    const struct cfg_sync_group *cg = g->cg;
    const struct cfg_cmd *specific = NULL;

    if (to == g->last_state)
        return;
    for (unsigned k = 0; k < g->n; k++)
        if (g->insts[k]->core.state != to)
            return; /* the group has not arrived yet */
    g->last_state = to;
    switch (to) {
    case VRRP_STATE_MASTER:
        specific = &cg->notify_master;
        break;
    case VRRP_STATE_BACKUP:
        specific = &cg->notify_backup;
        break;
    case VRRP_STATE_FAULT:
        specific = &cg->notify_fault;
        break;
    case VRRP_STATE_STOPPED:
        specific = &cg->notify_stop;
        break;
    case VRRP_STATE_INIT:
    case VRRP_STATE__COUNT:
        return;
    }
    notify_transition(&g->insts[0]->mgr->notify, NOTIFY_GROUP, cg->name, specific, &cg->notify,
                      notify_state_word(to), 0);
}

static const struct cfg_cmd *state_script(const struct cfg_instance *ci, enum vrrp_state to)
{
    switch (to) {
    case VRRP_STATE_MASTER:
        return &ci->notify_master;
    case VRRP_STATE_BACKUP:
        return &ci->notify_backup;
    case VRRP_STATE_FAULT:
        return &ci->notify_fault;
    case VRRP_STATE_STOPPED:
        return &ci->notify_stop;
    case VRRP_STATE_INIT:
    case VRRP_STATE__COUNT:
        break;
    }
    return NULL;
}

static void check_stopped(struct vmgr *m);

static void on_state(struct vmgr_inst *vi, const struct vrrp_act *a)
{
    struct vmgr *m = vi->mgr;
    enum vrrp_state to = a->to;

    vmgr_event(m, "%s: %s -> %s (%s, priority %u)", vi->ci->name, vrrp_state_name(a->from),
               vrrp_state_name(to), vrrp_reason_name(a->reason), vi->core.eff_priority);
    if (a->reason == VRRP_WHY_RESUMED)
        return; /* the previous process was MASTER: its scripts ran, nothing changed */
    notify_transition(&m->notify, NOTIFY_INSTANCE, vi->ci->name, state_script(vi->ci, to),
                      &vi->ci->notify, notify_state_word(to),
                      to == VRRP_STATE_STOPPED ? 0 : vi->core.eff_priority);
    if (vi->group)
        group_notify(vi->group, to);
    if (to == VRRP_STATE_STOPPED)
        check_stopped(m);
}

static void on_lower_prio(struct vmgr_inst *vi)
{
    char line[256];
    struct notifier *n = &vi->mgr->notify;

    notify_run(n, &vi->ci->notify_master_rx_lower_pri, NULL, 0);
    notify_fifo_line(line, sizeof(line), NOTIFY_INSTANCE, vi->ci->name, "MASTER_RX_LOWER_PRI",
                     vi->core.eff_priority);
    if (n->fifo.fd >= 0)
        io_fifo_write_line(&n->fifo, line);
    if (n->vrrp_fifo.fd >= 0)
        io_fifo_write_line(&n->vrrp_fifo, line);
}

void vmgr_exec(struct vmgr_inst *vi, const struct vrrp_acts *acts)
{
    for (unsigned i = 0; i < acts->n; i++) {
        const struct vrrp_act *a = &acts->a[i];
        switch (a->kind) {
        case VRRP_ACT_SEND_ADVERT:
            vmgr_send_advert(vi, a->priority);
            break;
        case VRRP_ACT_ADD_VIPS:
            vmgr_vips(vi, true);
            break;
        case VRRP_ACT_DEL_VIPS:
            vmgr_vips(vi, false);
            break;
        case VRRP_ACT_SEND_GARP:
            vmgr_garp(vi, a->count);
            break;
        case VRRP_ACT_STATE:
            on_state(vi, a);
            break;
        case VRRP_ACT_LOWER_PRIO_SEEN:
            on_lower_prio(vi);
            break;
        case VRRP_ACT__COUNT:
            break;
        }
    }
}

/* ---- building instances ---- */

static void core_cfg(const struct vmgr_inst *vi, struct vrrp_cfg *out)
{
    *out = vi->ci->core;
    if (!vi->ci->src_configured)
        out->src = out->family == IP_V6 ? vi->vif->ll6 : vi->vif->addr4;
    if (out->graceful_margin_us == 0)
        out->graceful_margin_us = (mono_us)out->adver_int_cs * 10000;
}

static void build_adv_addrs(struct vmgr_inst *vi)
{
    const struct cfg_instance *ci = vi->ci;
    unsigned cap = ci->core.family == IP_V6 ? ADV_ADDRS_V6 : VRRP_MAX_ADDRS;

    free(vi->adv_addrs);
    vi->adv_addrs = xcalloc(ci->nvips, sizeof(*vi->adv_addrs));
    vi->nadv = 0;
    for (size_t i = 0; i < ci->nvips && vi->nadv < cap; i++)
        if (ci->vips[i].addr.family == ci->core.family)
            vi->adv_addrs[vi->nadv++] = ci->vips[i].addr;
}

/* The parent of a VMAC must never show the VIPs with its own MAC, or hosts learn it instead
 * of the virtual MAC: arp_ignore 1 answers ARP only for addresses on the receiving interface,
 * arp_announce 2 sources the parent's own ARP requests from its own address rather than a
 * VIP (keepalived sets the same). The old values come back with the last VMAC. */
static const char *const vmac_parent_keys[2][2] = {{"arp_ignore", "1"}, {"arp_announce", "2"}};

static void vmac_parent_hold(struct vmgr_if *parent)
{
    if (parent->vmacs++ > 0)
        return;
    for (int k = 0; k < 2; k++)
        if (io_if_sysctl_swap(parent->name, vmac_parent_keys[k][0], vmac_parent_keys[k][1],
                              parent->vmac_saved[k], sizeof(parent->vmac_saved[k])) < 0)
            log_warn("%s: cannot set %s for its VMACs", parent->name, vmac_parent_keys[k][0]);
}

static void vmac_parent_release(struct vmgr_if *parent)
{
    if (parent->vmacs == 0 || --parent->vmacs > 0)
        return;
    for (int k = 0; k < 2; k++)
        if (parent->vmac_saved[k][0])
            io_if_sysctl_swap(parent->name, vmac_parent_keys[k][0], parent->vmac_saved[k], NULL, 0);
}

static void vmac_setup(struct vmgr_inst *vi)
{
    const struct cfg_instance *ci = vi->ci;
    struct vmgr *m = vi->mgr;
    uint8_t mac[6] = {0x00,         0x00, 0x5e, 0x00, ci->core.family == IP_V6 ? 0x02 : 0x01,
                      ci->core.vrid};
    int idx = nl_ifindex(ci->vmac_name);
    int rc;

    vi->vip_ifindex = vi->vif->ifindex;
    if (!ci->use_vmac || vi->vif->ifindex <= 0)
        return;
    if (idx <= 0) {
        rc = nl_macvlan_add(&m->nl, vi->vif->ifindex, ci->vmac_name, mac, NL_MACVLAN_PRIVATE);
        if (rc < 0) {
            log_err("%s: cannot create VMAC %s: %s", ci->name, ci->vmac_name, strerror(-rc));
            return;
        }
        vi->vmac_created = true;
        idx = nl_ifindex(ci->vmac_name);
        io_vmac_sysctls(ci->vmac_name);
        nl_link_set_up(&m->nl, idx, true);
        vmac_parent_hold(vi->vif);
    }
    if (idx > 0)
        vi->vip_ifindex = idx;
}

static struct vmgr_inst *inst_new(struct vmgr *m, const struct cfg_instance *ci)
{
    struct vmgr_inst *vi = xcalloc(1, sizeof(*vi));
    struct vrrp_cfg cc;

    vi->mgr = m;
    vi->ci = ci;
    vi->cref = m->cref;
    m->cref->refs++;
    vi->vif = vmgr_if_get(m, ci->ifname);
    if (vi->vif->ifindex <= 0)
        log_err("%s: interface %s does not exist; the instance stays in FAULT", ci->name,
                ci->ifname);
    io_timer_init(&vi->timer, inst_tick, vi);
    build_adv_addrs(vi);
    vmac_setup(vi);
    core_cfg(vi, &cc);
    vrrp_init(&vi->core, &cc, io_loop_now(&m->loop));
    return vi;
}

/* Binary upgrade: whether the previous process had this instance as MASTER. */
static bool resumes_master(const struct vmgr_inst *vi)
{
    const struct vmgr *m = vi->mgr;

    for (size_t i = 0; i < m->nresume_masters; i++)
        if (strcmp(m->resume_masters[i], vi->ci->name) == 0)
            return true;
    return false;
}

static void inst_start(struct vmgr_inst *vi)
{
    struct vrrp_in in = {.kind = resumes_master(vi) ? VRRP_IN_RESUME : VRRP_IN_START};

    vmgr_if_open_socket(vi->vif, vi->ci->core.family, !vi->ci->core.unicast);
    vmgr_feed(vi, &in);
    vmgr_reprioritize(vi);
}

static void inst_free(struct vmgr_inst *vi)
{
    struct vmgr *m = vi->mgr;

    io_timer_cancel(&m->loop, &vi->timer);
    vmgr_garp_cancel(vi);
    if (vi->vips_up)
        vmgr_vips(vi, false);
    if (vi->vmac_created) {
        int idx = nl_ifindex(vi->ci->vmac_name);
        if (idx > 0)
            nl_link_del(&m->nl, idx);
        vmac_parent_release(vi->vif);
    }
    free(vi->track.refs);
    free(vi->track.files);
    free(vi->track.file_weight);
    free(vi->track.file_reverse);
    free(vi->adv_addrs);
    free(vi->filtered.v); /* empty unless abandoned: the new process holds the table */
    cfg_unref(vi->cref);
    free(vi);
}

static bool has_vip(const struct cfg_instance *ci, const struct cfg_vip *v)
{
    for (size_t i = 0; i < ci->nvips + ci->nevips; i++) {
        const struct cfg_vip *w = i < ci->nvips ? &ci->vips[i] : &ci->evips[i - ci->nvips];
        if (ip_addr_eq(&w->addr, &v->addr) && w->prefix_len == v->prefix_len &&
            strcmp(w->dev, v->dev) == 0)
            return true;
    }
    return false;
}

/* Removes the VIPs of old that the instance's new config no longer has. */
static void drop_removed_vips(struct vmgr_inst *vi, const struct cfg_instance *old)
{
    const struct cfg_instance *now = vi->ci;
    struct cfg_instance gone = *old;
    struct cfg_vip *keep = calloc(old->nvips + old->nevips + 1, sizeof(*keep));
    size_t n = 0;

    if (!keep)
        abort();
    for (size_t i = 0; i < old->nvips + old->nevips; i++) {
        const struct cfg_vip *v = i < old->nvips ? &old->vips[i] : &old->evips[i - old->nvips];
        if (!has_vip(now, v))
            keep[n++] = *v;
    }
    if (n > 0) {
        gone.vips = keep;
        gone.nvips = n;
        gone.nevips = 0;
        vi->ci = &gone;
        vmgr_vip_addrs(vi, false);
        vi->ci = now;
        vi->vips_up = true;
    }
    free(keep);
}

/* Moves a kept instance onto the new config: same core state, new settings. A master adds
 * the new VIP set (adding an address it has is a no-op) and then removes only the VIPs that
 * left the config, so an unchanged address never goes away; the no_accept filter holds the
 * new set before and releases the old one after, so no address is ever unfiltered. */
static void inst_adopt(struct vmgr_inst *vi, const struct cfg_instance *ci)
{
    struct vmgr *m = vi->mgr;
    const struct cfg_instance *old = vi->ci;
    struct vmgr_cfgref *old_ref = vi->cref;
    struct vrrp_acts out = {0};
    struct vrrp_cfg cc;

    vi->cref = m->cref;
    m->cref->refs++;
    vi->ci = ci;
    build_adv_addrs(vi);
    core_cfg(vi, &cc);
    vrrp_reconfigure(&vi->core, &cc, io_loop_now(&m->loop), &out);
    if (vi->vips_up) {
        struct vmgr_filtered was = vmgr_filter_take(vi);
        vmgr_vips(vi, true);
        drop_removed_vips(vi, old);
        vmgr_filter_drop(m, &was);
    }
    cfg_unref(old_ref);
    vmgr_exec(vi, &out);
}

static struct vmgr_inst *find_by_name(struct vmgr *m, const char *name)
{
    for (size_t i = 0; i < m->ninsts; i++)
        if (strcmp(m->insts[i]->ci->name, name) == 0)
            return m->insts[i];
    return NULL;
}

static bool same_identity(const struct vmgr_inst *vi, const struct cfg_instance *ci)
{
    return strcmp(vi->ci->ifname, ci->ifname) == 0 && vi->ci->core.vrid == ci->core.vrid &&
           vi->ci->core.family == ci->core.family && vi->ci->use_vmac == ci->use_vmac;
}

static void groups_build(struct vmgr *m)
{
    const struct cfg *cfg = m->cref->cfg;

    for (size_t i = 0; i < m->ngroups; i++)
        free(m->groups[i]);
    free(m->groups);
    m->groups = xcalloc(cfg->ngroups, sizeof(*m->groups));
    m->ngroups = cfg->ngroups;
    for (size_t i = 0; i < m->ninsts; i++)
        m->insts[i]->group = NULL;
    for (size_t i = 0; i < cfg->ngroups; i++) {
        struct vmgr_group *g = xcalloc(1, sizeof(*g));
        g->cg = &cfg->groups[i];
        g->last_state = VRRP_STATE_INIT;
        for (size_t k = 0; k < g->cg->nmembers && g->n < VRRP_SYNC_MAX; k++) {
            struct vmgr_inst *vi = find_by_name(m, g->cg->members[k]);
            if (!vi)
                continue;
            vi->group = g;
            vi->member = g->n;
            g->insts[g->n] = vi;
            g->members[g->n++] = &vi->core;
        }
        vrrp_sync_init(&g->sync, g->members, g->n);
        m->groups[i] = g;
    }
}

static void retire(struct vmgr *m, struct vmgr_inst *vi)
{
    struct vrrp_in in = {.kind = VRRP_IN_STOP};

    vi->group = NULL;
    m->stopping = realloc(m->stopping, (m->nstopping + 1) * sizeof(*m->stopping));
    if (!m->stopping)
        abort();
    m->stopping[m->nstopping++] = vi;
    vmgr_feed(vi, &in);
}

static void reap_stopped(struct vmgr *m)
{
    size_t k = 0;

    for (size_t i = 0; i < m->nstopping; i++) {
        if (m->stopping[i]->core.state == VRRP_STATE_STOPPED)
            inst_free(m->stopping[i]);
        else
            m->stopping[k++] = m->stopping[i];
    }
    m->nstopping = k;
}

/* Makes the runtime match m->cref. Writes what changed to r when not NULL. */
static void apply(struct vmgr *m, struct io_ctl_reply *r)
{
    const struct cfg *cfg = m->cref->cfg;
    struct vmgr_inst **next = xcalloc(cfg->ninstances, sizeof(*next));
    struct vmgr_inst **fresh = xcalloc(cfg->ninstances, sizeof(*fresh));
    size_t nfresh = 0;

    vmgr_track_build(m);
    for (size_t i = 0; i < m->ninsts; i++)
        m->insts[i]->mark = false;
    for (size_t i = 0; i < cfg->ninstances; i++) {
        const struct cfg_instance *ci = &cfg->instances[i];
        struct vmgr_inst *vi = find_by_name(m, ci->name);
        if (vi && same_identity(vi, ci)) {
            inst_adopt(vi, ci);
            vi->mark = true;
            if (r)
                io_ctl_reply_printf(r, "kept %s (%s)\n", ci->name, vrrp_state_name(vi->core.state));
        } else {
            vi = inst_new(m, ci);
            fresh[nfresh++] = vi;
            if (r)
                io_ctl_reply_printf(r, "added %s\n", ci->name);
        }
        next[i] = vi;
    }
    for (size_t i = 0; i < m->ninsts; i++) {
        if (m->insts[i]->mark)
            continue;
        if (r)
            io_ctl_reply_printf(r, "removed %s\n", m->insts[i]->ci->name);
        retire(m, m->insts[i]);
    }
    free(m->insts);
    m->insts = next;
    m->ninsts = cfg->ninstances;
    groups_build(m);
    for (size_t i = 0; i < m->ninsts; i++)
        vmgr_track_resolve(m->insts[i]);
    for (size_t i = 0; i < nfresh; i++)
        inst_start(fresh[i]);
    free(fresh);
    vmgr_reprioritize_all(m);
    vmgr_track_start(m);
    reap_stopped(m);
}

/* ---- stop ---- */

static void finish_stop(struct vmgr *m)
{
    io_timer_cancel(&m->loop, &m->shutdown_timer);
    for (size_t i = 0; i < m->ninsts; i++)
        if (m->insts[i]->vips_up)
            vmgr_vips(m->insts[i], false);
    vmgr_event(m, "VRRP stopped");
    if (m->on_stopped)
        m->on_stopped(m->on_stopped_ctx);
    io_loop_stop(&m->loop);
}

static void check_stopped(struct vmgr *m)
{
    if (!m->shutting_down)
        return;
    for (size_t i = 0; i < m->ninsts; i++)
        if (m->insts[i]->core.state != VRRP_STATE_STOPPED)
            return;
    for (size_t i = 0; i < m->nstopping; i++)
        if (m->stopping[i]->core.state != VRRP_STATE_STOPPED)
            return;
    finish_stop(m);
}

static void stop_bound_cb(struct io_loop *loop, struct io_timer *t)
{
    struct vmgr *m = t->ctx;
    log_warn("stop: instances did not finish within %d s; removing VIPs now",
             (int)(STOP_BOUND_US / 1000000));
    finish_stop(m);
}

struct stop_req {
    struct vmgr *m;
    void (*done)(void *);
    void *ctx;
};

static void stop_on_thread(void *arg)
{
    struct stop_req *sr = arg;
    struct vmgr *m = sr->m;
    struct vrrp_in in = {.kind = VRRP_IN_STOP};

    m->on_stopped = sr->done;
    m->on_stopped_ctx = sr->ctx;
    free(sr);
    if (m->shutting_down)
        return;
    vmgr_event(m, "stopping");
    m->shutting_down = true;
    vmgr_track_stop(m);
    io_timer_init(&m->shutdown_timer, stop_bound_cb, m);
    io_timer_arm(&m->loop, &m->shutdown_timer, io_loop_now(&m->loop) + STOP_BOUND_US);
    for (size_t i = 0; i < m->ninsts; i++)
        if (m->insts[i]->core.state != VRRP_STATE_STOPPED)
            vmgr_feed(m->insts[i], &in);
    check_stopped(m);
}

void vmgr_request_stop(struct vmgr *m, void (*done)(void *ctx), void *ctx)
{
    struct stop_req *sr = xcalloc(1, sizeof(*sr));

    *sr = (struct stop_req){m, done, ctx};
    io_loop_post(&m->loop, stop_on_thread, sr);
}

/* Leaves an instance as it is on the wire and on the host: inst_free then skips the VIPs and
 * the VMAC, and no timer sends another advert. */
static void inst_let_go(struct vmgr_inst *vi)
{
    io_timer_cancel(&vi->mgr->loop, &vi->timer);
    vmgr_garp_cancel(vi);
    vi->vips_up = false;
    vi->vmac_created = false;
    vi->mgr->nft_keep = true; /* the new process holds these addresses in the table now */
}

static void abandon_on_thread(void *arg)
{
    struct stop_req *sr = arg;
    struct vmgr *m = sr->m;

    m->on_stopped = sr->done;
    m->on_stopped_ctx = sr->ctx;
    free(sr);
    if (m->shutting_down)
        return;
    m->shutting_down = true;
    vmgr_track_stop(m);
    for (size_t i = 0; i < m->ninsts; i++)
        inst_let_go(m->insts[i]);
    for (size_t i = 0; i < m->nstopping; i++)
        inst_let_go(m->stopping[i]);
    vmgr_event(m, "VRRP handed over to the new process (no transition)");
    if (m->on_stopped)
        m->on_stopped(m->on_stopped_ctx);
    io_loop_stop(&m->loop);
}

void vmgr_request_abandon(struct vmgr *m, void (*done)(void *ctx), void *ctx)
{
    struct stop_req *sr = xcalloc(1, sizeof(*sr));

    *sr = (struct stop_req){m, done, ctx};
    io_loop_post(&m->loop, abandon_on_thread, sr);
}

static void export_on_thread(struct vmgr *m, void *st)
{
    for (size_t i = 0; i < m->ninsts; i++) {
        const struct vmgr_inst *vi = m->insts[i];
        struct upgrade_rec r = {.kind = UPGRADE_VRRP, .vrrp_state = UPGRADE_BACKUP};
        if (vi->core.state == VRRP_STATE_MASTER)
            r.vrrp_state = UPGRADE_MASTER;
        else if (vi->core.state == VRRP_STATE_FAULT)
            r.vrrp_state = UPGRADE_FAULT;
        snprintf(r.text, sizeof(r.text), "%s", vi->ci->name);
        upgrade_state_add(st, &r);
    }
}

/* ---- synchronous calls from other threads ---- */

struct vmgr_call {
    struct vmgr *m;
    void (*fn)(struct vmgr *, void *);
    void *arg;
};

static void call_on_thread(void *p)
{
    struct vmgr_call *c = p;
    c->fn(c->m, c->arg);
}

/* 0, or -ESHUTDOWN when the manager's thread has ended (fn did not run). */
static int vmgr_call(struct vmgr *m, void (*fn)(struct vmgr *, void *), void *arg)
{
    struct vmgr_call c = {m, fn, arg};
    return io_loop_call(&m->loop, call_on_thread, &c);
}

struct reload_arg {
    struct cfg *cfg;
    struct io_ctl_reply *r;
};

static void reload_on_thread(struct vmgr *m, void *p)
{
    struct reload_arg *a = p;
    struct vmgr_cfgref *old = m->cref;

    if (m->shutting_down) {
        io_ctl_reply_printf(a->r, "stopping; reload ignored\n");
        cfg_release(a->cfg);
        return;
    }
    m->cref = xcalloc(1, sizeof(*m->cref));
    m->cref->cfg = a->cfg;
    m->cref->refs = 1;
    notify_fini(&m->notify);
    notify_init(&m->notify, &m->scripts, &m->cref->cfg->global);
    apply(m, a->r);
    m->reloads++;
    vmgr_event(m, "configuration reloaded (%zu instances)", m->ninsts);
    cfg_unref(old);
}

void vmgr_reload(struct vmgr *m, struct cfg *cfg, struct io_ctl_reply *r)
{
    struct reload_arg a = {cfg, r};
    if (vmgr_call(m, reload_on_thread, &a) < 0) {
        io_ctl_reply_printf(r, "stopping; reload ignored\n");
        cfg_release(cfg);
    }
}

void vmgr_status_render(struct vmgr *m, bool json, struct io_ctl_reply *r);

struct status_arg {
    bool json;
    struct io_ctl_reply *r;
};

static void status_on_thread(struct vmgr *m, void *p)
{
    struct status_arg *a = p;
    vmgr_status_render(m, a->json, a->r);
}

void vmgr_status(struct vmgr *m, bool json, struct io_ctl_reply *r)
{
    struct status_arg a = {json, r};
    if (vmgr_call(m, status_on_thread, &a) < 0) /* the manager has stopped */
        io_ctl_reply_printf(r, json ? "{\"instances\":[],\"stopping\":true}\n" : "stopping\n");
}

void vmgr_export(struct vmgr *m, struct upgrade_state *st)
{
    vmgr_call(m, export_on_thread, st);
}

/* ---- thread and lifecycle ---- */

static void *vmgr_main(void *arg)
{
    struct vmgr *m = arg;
    const struct cfg_global *g = &m->cref->cfg->global;

    if (g->vrrp_rt_priority > 0) {
        int rc = io_rt_priority(g->vrrp_rt_priority);
        if (rc < 0)
            log_warn("vrrp_rt_priority %d: %s", g->vrrp_rt_priority, strerror(-rc));
    }
    io_loop_run(&m->loop);
    io_loop_close_posts(&m->loop);
    return NULL;
}

static void free_resume(struct vmgr *m)
{
    for (size_t i = 0; i < m->nresume_masters; i++)
        free(m->resume_masters[i]);
    free(m->resume_masters);
    m->resume_masters = NULL;
    m->nresume_masters = 0;
}

static void start_instances(void *arg)
{
    struct vmgr *m = arg;

    vmgr_event(m, "VRRP starting (%zu instances%s)", m->cref->cfg->ninstances,
               m->nresume_masters ? ", resuming after an upgrade" : "");
    apply(m, NULL);
    vmgr_filter_start(m); /* after the resumed masters entered their addresses */
    free_resume(m);
}

/* Copies the names of the instances an upgrade hands over as MASTER. */
static void keep_resume(struct vmgr *m, const struct upgrade_state *st)
{
    for (size_t i = 0; st && i < st->nrecs; i++) {
        const struct upgrade_rec *r = &st->recs[i];
        if (r->kind != UPGRADE_VRRP || r->vrrp_state != UPGRADE_MASTER)
            continue;
        m->resume_masters =
            realloc(m->resume_masters, (m->nresume_masters + 1) * sizeof(*m->resume_masters));
        if (!m->resume_masters || !(m->resume_masters[m->nresume_masters++] = strdup(r->text)))
            abort();
    }
}

int vmgr_start(struct vmgr *m, struct cfg *cfg, const struct upgrade_state *resume)
{
    int rc;

    memset(m, 0, sizeof(*m));
    m->inotify_fd = -1;
    nft_filter_init(&m->nft);
    rc = io_loop_init(&m->loop);
    if (rc < 0)
        return rc;
    rc = nl_open(&m->nl);
    if (rc == 0)
        rc = nl_monitor_open(&m->mon);
    if (rc < 0) {
        log_err("netlink: %s", strerror(-rc));
        nl_close(&m->nl);
        io_loop_fini(&m->loop);
        return rc;
    }
    io_watch_init(&m->mon_w, m->mon.fd, EPOLLIN, vmgr_monitor_cb, m);
    io_watch_add(&m->loop, &m->mon_w);
    m->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    io_scripts_init(&m->loop, &m->scripts);
    rng_seed(&m->rng, (uint64_t)io_clock_now() ^ (uint64_t)getpid());
    m->cref = xcalloc(1, sizeof(*m->cref));
    m->cref->cfg = cfg;
    m->cref->refs = 1;
    m->started_at = io_clock_now();
    keep_resume(m, resume);
    notify_init(&m->notify, &m->scripts, &cfg->global);
    if (cfg->global.vrrp_no_swap && (rc = io_lock_memory()) < 0)
        log_warn("vrrp_no_swap: %s", strerror(-rc));
    io_loop_post(&m->loop, start_instances, m);
    rc = pthread_create(&m->thread, NULL, vmgr_main, m);
    if (rc != 0)
        return -rc;
    m->thread_started = true;
    return 0;
}

void vmgr_join(struct vmgr *m)
{
    free_resume(m); /* when the thread never ran start_instances */
    if (m->thread_started)
        pthread_join(m->thread, NULL);
    io_scripts_fini(&m->scripts); /* before the trackers: abandoned() may touch them */
    vmgr_track_free(m);
    for (size_t i = 0; i < m->nstopping; i++)
        inst_free(m->stopping[i]);
    for (size_t i = 0; i < m->ninsts; i++)
        inst_free(m->insts[i]);
    for (size_t i = 0; i < m->ngroups; i++)
        free(m->groups[i]);
    for (size_t i = 0; i < m->nifs; i++) {
        vmgr_if_close(m->ifs[i]);
        free(m->ifs[i]);
    }
    free(m->groups);
    free(m->insts);
    free(m->stopping);
    free(m->ifs);
    notify_fini(&m->notify);
    if (m->inotify_fd >= 0) {
        io_watch_del(&m->loop, &m->inotify_w);
        close(m->inotify_fd);
    }
    io_watch_del(&m->loop, &m->mon_w);
    nl_monitor_close(&m->mon);
    vmgr_filter_close(m); /* after every instance removed its VIPs */
    nl_close(&m->nl);
    cfg_unref(m->cref);
    io_loop_fini(&m->loop);
}
