/* The VRRP manager's wire side: interfaces and their sockets, receiving and dispatching
 * adverts, sending adverts, installing VIPs, sending GARPs/NAs, and link monitoring.
 *
 * One raw socket per (interface, family) serves every instance on that interface; a received
 * advert is decoded once and dispatched by VRID. Drops that name the VRID of an instance are
 * counted on it (by the core or here for codec errors), the others on the interface. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/addr.h"
#include "io/clock.h"
#include "io/garp_sock.h"
#include "io/log.h"
#include "io/nl.h"
#include "io/vrrp_sock.h"
#include "proto/vrrp/vrrp.h"
#include "proto/vrrp/vrrp_garp.h"
#include "proto/vrrp/vrrp_pkt.h"
#include "vmgr.h"

#define RX_BUDGET 64 /* datagrams per wake-up, so one busy socket cannot starve the loop */

static const struct ip_addr vrrp_group4 = {.family = IP_V4, .b = {224, 0, 0, 18}};
static const struct ip_addr vrrp_group6 = {
    .family = IP_V6, .b = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12}};

static int fam_index(uint8_t family)
{
    return family == IP_V6 ? 1 : 0;
}

static void if_addr_cb(void *ctx, const struct nl_addr_info *a)
{
    struct vmgr_if *vif = ctx;

    if (a->family == IP_V4 && vif->addr4.family == IP_NONE && a->scope == 0 &&
        !(a->flags & 0x01 /* IFA_F_SECONDARY */))
        vif->addr4 = a->addr;
    if (a->family == IP_V6 && vif->ll6.family == IP_NONE && ip_addr_is_v6_linklocal(&a->addr))
        vif->ll6 = a->addr;
}

void vmgr_if_refresh(struct vmgr_if *vif)
{
    struct nl_link link;
    struct vmgr *m = vif->mgr;

    vif->ifindex = nl_ifindex(vif->name);
    vif->up = false;
    if (vif->ifindex <= 0)
        return;
    if (nl_link_get(&m->nl, vif->ifindex, &link) == 0) {
        vif->up = link.up && link.running;
        memcpy(vif->mac, link.mac, 6);
    }
    /* The primary IPv4 address is the first global one that is not a VIP of ours: VIPs are
     * added after it, so the kernel lists it first. */
    vif->addr4.family = IP_NONE;
    vif->ll6.family = IP_NONE;
    nl_addr_list(&m->nl, vif->ifindex, 4, if_addr_cb, vif);
    nl_addr_list(&m->nl, vif->ifindex, 6, if_addr_cb, vif);
}

struct vmgr_if *vmgr_if_get(struct vmgr *m, const char *name)
{
    struct vmgr_if *vif;

    for (size_t i = 0; i < m->nifs; i++)
        if (strcmp(m->ifs[i]->name, name) == 0)
            return m->ifs[i];
    vif = calloc(1, sizeof(*vif));
    if (!vif)
        abort();
    vif->mgr = m;
    snprintf(vif->name, sizeof(vif->name), "%s", name);
    vif->fd[0] = vif->fd[1] = vif->garp_fd = -1;
    m->ifs = realloc(m->ifs, (m->nifs + 1) * sizeof(*m->ifs));
    if (!m->ifs)
        abort();
    m->ifs[m->nifs++] = vif;
    vmgr_if_refresh(vif);
    return vif;
}

static struct vmgr_inst *find_inst(struct vmgr *m, const struct vmgr_if *vif, uint8_t family,
                                   uint8_t vrid)
{
    for (size_t i = 0; i < m->ninsts; i++) {
        struct vmgr_inst *vi = m->insts[i];
        if (vi->vif == vif && vi->core.cfg.family == family && vi->core.cfg.vrid == vrid)
            return vi;
    }
    for (size_t i = 0; i < m->nstopping; i++) {
        struct vmgr_inst *vi = m->stopping[i];
        if (vi->vif == vif && vi->core.cfg.family == family && vi->core.cfg.vrid == vrid)
            return vi;
    }
    return NULL;
}

static void count_drop(struct vmgr_if *vif, struct vmgr_inst *vi, enum vrrp_drop why)
{
    if (vi)
        vi->core.cnt.drops[why]++;
    else
        vif->drops[why]++;
    if (log_debug_enabled())
        log_debug("%s: dropped VRRP packet (%s)%s%s", vif->name, vrrp_drop_name(why),
                  vi ? " for " : "", vi ? vi->ci->name : "");
}

static void rx_one(struct vmgr_if *vif, uint8_t family, const struct io_vrrp_rx *rx)
{
    struct vrrp_pkt pkt;
    struct vmgr_inst *vi;
    enum vrrp_drop why;

    if (rx->ip_drop != VRRP_DROP_NONE) {
        /* An oversized datagram still names its VRID in its second byte. */
        vi = rx->ip_drop == VRRP_DROP_OVERSIZE && rx->len >= 2
                 ? find_inst(vif->mgr, vif, family, rx->msg[1])
                 : NULL;
        count_drop(vif, vi, rx->ip_drop);
        return;
    }
    memset(&pkt, 0, sizeof(pkt));
    why = vrrp_pkt_decode(rx->msg, rx->len, family, &rx->src, &rx->dst, &pkt);
    vi = rx->len >= 2 ? find_inst(vif->mgr, vif, family, pkt.vrid) : NULL;
    if (why != VRRP_DROP_NONE) {
        count_drop(vif, vi, why);
        return;
    }
    if (!vi) {
        count_drop(vif, NULL, VRRP_DROP_UNKNOWN_VRID);
        return;
    }
    struct vrrp_in in = {.kind = VRRP_IN_ADVERT};
    in.u.advert.pkt = &pkt;
    in.u.advert.src = rx->src;
    in.u.advert.ttl = rx->ttl;
    in.u.advert.to_multicast = ip_addr_is_multicast(&rx->dst);
    vmgr_feed(vi, &in);
}

static void rx_cb(struct io_loop *loop, struct io_watch *w, uint32_t revents)
{
    struct vmgr_if *vif = w->ctx;
    uint8_t family = w == &vif->w[1] ? IP_V6 : IP_V4;
    uint8_t buf[VRRP_PKT_MAX + VRRP_AUTH_LEN + 128];
    struct io_vrrp_rx rx;

    for (int i = 0; i < RX_BUDGET; i++) {
        int n = io_vrrp_sock_recv(w->fd, family, buf, sizeof(buf), &rx);
        if (n == -EAGAIN || n == -EWOULDBLOCK)
            return;
        if (n < 0) {
            log_warn("%s: VRRP receive failed: %s", vif->name, strerror(-n));
            return;
        }
        rx_one(vif, family, &rx);
    }
}

int vmgr_if_open_socket(struct vmgr_if *vif, uint8_t family, bool multicast)
{
    int k = fam_index(family);
    int fd;

    if (vif->fd[k] >= 0)
        return 0;
    if (vif->ifindex <= 0)
        return -ENODEV;
    fd = io_vrrp_sock_open(family, vif->ifindex, multicast);
    if (fd < 0) {
        log_err("%s: cannot open VRRP socket (IPv%d): %s", vif->name, family, strerror(-fd));
        return fd;
    }
    vif->fd[k] = fd;
    io_watch_init(&vif->w[k], fd, EPOLLIN, rx_cb, vif);
    return io_watch_add(&vif->mgr->loop, &vif->w[k]);
}

void vmgr_if_close(struct vmgr_if *vif)
{
    for (int k = 0; k < 2; k++) {
        if (vif->fd[k] < 0)
            continue;
        io_watch_del(&vif->mgr->loop, &vif->w[k]);
        close(vif->fd[k]);
        vif->fd[k] = -1;
    }
    if (vif->garp_fd >= 0)
        close(vif->garp_fd);
    vif->garp_fd = -1;
}

static void send_to(struct vmgr_inst *vi, const struct vrrp_advert *adv, const struct ip_addr *dst)
{
    uint8_t msg[VRRP_PKT_MAX + VRRP_AUTH_LEN];
    const struct ip_addr *src = &vi->core.cfg.src;
    struct vmgr_if *vif = vi->vif;
    size_t len = vrrp_pkt_encode(adv, src, dst, msg, sizeof(msg));
    int fd = vif->fd[fam_index(adv->family)];
    int rc;

    if (len == 0 || fd < 0)
        return;
    rc = io_vrrp_sock_send(fd, adv->family, vif->ifindex, src, dst, msg, len);
    if (rc < 0 && log_debug_enabled())
        log_debug("%s: advert send failed: %s", vi->ci->name, strerror(-rc));
}

void vmgr_send_advert(struct vmgr_inst *vi, uint8_t priority)
{
    const struct vrrp_cfg *c = &vi->core.cfg;
    struct vrrp_advert adv = {
        .version = c->version,
        .vrid = c->vrid,
        .priority = priority,
        .family = c->family,
        .auth_type = c->version == 2 ? c->auth_type : 0,
        .cksum_form = vi->ci->v3_checksum_as_v2 ? VRRP_CKSUM_PLAIN : VRRP_CKSUM_PSEUDO,
        .adver_int_cs = c->adver_int_cs,
        .naddr = (uint8_t)vi->nadv,
        .addrs = vi->adv_addrs,
    };

    if (c->version == 2 && c->auth_type == VRRP_AUTH_PASS)
        memcpy(adv.auth_data, c->auth_pass, VRRP_AUTH_LEN);
    if (!c->unicast) {
        send_to(vi, &adv, c->family == IP_V6 ? &vrrp_group6 : &vrrp_group4);
        return;
    }
    for (unsigned i = 0; i < c->npeers; i++)
        send_to(vi, &adv, &c->peers[i]);
}

static int vip_ifindex(struct vmgr_inst *vi, const struct cfg_vip *v)
{
    if (v->dev[0]) {
        int idx = nl_ifindex(v->dev);
        if (idx > 0)
            return idx;
        log_warn("%s: VIP device %s not found, using %s", vi->ci->name, v->dev, vi->vif->name);
    }
    return vi->vip_ifindex;
}

static size_t fill_reqs(struct vmgr_inst *vi, const struct cfg_vip *v, size_t n,
                        struct nl_addr_req *reqs)
{
    for (size_t i = 0; i < n; i++) {
        reqs[i] = (struct nl_addr_req){
            .ifindex = vip_ifindex(vi, &v[i]),
            .addr = v[i].addr,
            .prefix_len = v[i].prefix_len,
            .brd = v[i].brd,
            .scope = v[i].scope,
            .nodad = v[i].addr.family == IP_V6,
        };
        snprintf(reqs[i].label, sizeof(reqs[i].label), "%s", v[i].label);
    }
    return n;
}

/* Adds or removes the VIPs and eVIPs of vi->ci; with filter, the no_accept filter holds them
 * from just before they are added until just after they are removed (vmgr_filter.c). */
static void vips_apply(struct vmgr_inst *vi, bool add, bool filter)
{
    if (!add)
        vmgr_garp_cancel(vi); /* no announcements for addresses we no longer hold */
    const struct cfg_instance *ci = vi->ci;
    size_t n = ci->nvips + ci->nevips;
    struct nl_addr_req *reqs;
    int *errs;
    mono_us t0 = io_clock_now();

    if (n == 0 || vi->vip_ifindex <= 0) {
        if (filter && !add)
            vmgr_filter_set(vi, NULL, 0);
        vi->vips_up = add;
        return;
    }
    reqs = calloc(n, sizeof(*reqs));
    errs = calloc(n, sizeof(*errs));
    if (!reqs || !errs)
        abort();
    fill_reqs(vi, ci->vips, ci->nvips, reqs);
    fill_reqs(vi, ci->evips, ci->nevips, reqs + ci->nvips);
    if (filter && add)
        vmgr_filter_set(vi, reqs, n);
    int rc = nl_addr_apply(&vi->mgr->nl, reqs, n, add, errs);
    for (size_t i = 0; i < n; i++) {
        if (errs[i] < 0) {
            char a[IP_ADDR_STRLEN];
            log_err("%s: cannot %s VIP %s: %s", ci->name, add ? "add" : "remove",
                    ip_addr_format(&reqs[i].addr, a, sizeof(a)), strerror(-errs[i]));
        }
    }
    if (rc < 0)
        log_err("%s: netlink address update failed: %s", ci->name, strerror(-rc));
    if (filter && !add)
        vmgr_filter_set(vi, NULL, 0);
    vi->vips_up = add;
    vi->vips_up_us = io_clock_now() - t0;
    log_debug("%s: %zu VIPs %s in %lld us", ci->name, n, add ? "added" : "removed",
              (long long)vi->vips_up_us);
    free(reqs);
    free(errs);
}

void vmgr_vips(struct vmgr_inst *vi, bool add)
{
    vips_apply(vi, add, true);
}

void vmgr_vip_addrs(struct vmgr_inst *vi, bool add)
{
    vips_apply(vi, add, false);
}

static bool ipv6_forwarding(const char *ifname)
{
    char path[128], c = '0';
    FILE *f;

    snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/forwarding", ifname);
    f = fopen(path, "r");
    if (!f)
        return false;
    if (fread(&c, 1, 1, f) != 1)
        c = '0';
    fclose(f);
    return c == '1';
}

static void garp_one(struct vmgr_inst *vi, struct vmgr_if *out, const struct cfg_vip *v,
                     bool router)
{
    uint8_t frame[128];
    size_t len;

    if (v->addr.family == IP_V4)
        len = vrrp_garp_build(frame, sizeof(frame), out->mac, &v->addr);
    else
        len = vrrp_na_build(frame, sizeof(frame), out->mac, &out->ll6, &v->addr, router);
    if (len > 0)
        io_garp_send(out->garp_fd, out->ifindex, frame, len);
}

/* The interface whose MAC announces the VIPs: the VMAC when there is one. */
static struct vmgr_if *garp_if(struct vmgr_inst *vi)
{
    if (!vi->vmac_created)
        return vi->vif;
    return vmgr_if_get(vi->mgr, vi->ci->vmac_name);
}

/* The i-th announced address of an instance: its VIPs, then its excluded VIPs. */
static const struct cfg_vip *garp_vip(const struct cfg_instance *ci, size_t i)
{
    return i < ci->nvips ? &ci->vips[i] : &ci->evips[i - ci->nvips];
}

static struct vmgr_if *garp_ready(struct vmgr_inst *vi)
{
    struct vmgr_if *out = garp_if(vi);

    if (out->garp_fd < 0 && out->ifindex > 0)
        out->garp_fd = io_garp_open(out->ifindex);
    if (out->garp_fd >= 0 && out->ll6.family == IP_NONE)
        vmgr_if_refresh(out);
    return out->garp_fd >= 0 ? out : NULL;
}

/* Paced sending: one frame per tick, vrrp_garp_interval (IPv4) or vrrp_gna_interval (IPv6)
 * apart, until the pending rounds are sent. */
static void garp_tick(struct io_loop *loop, struct io_timer *t)
{
    struct vmgr_inst *vi = t->ctx;
    const struct cfg_instance *ci = vi->ci;
    const struct cfg_global *g = &vi->mgr->cref->cfg->global;
    size_t total = ci->nvips + ci->nevips;
    struct vmgr_if *out = garp_ready(vi);
    const struct cfg_vip *v;

    if (!out || total == 0 || vi->garp_pending == 0) {
        vi->garp_pending = 0;
        return;
    }
    v = garp_vip(ci, vi->garp_pos);
    garp_one(vi, out, v, v->addr.family == IP_V6 && ipv6_forwarding(out->name));
    if (++vi->garp_pos == total) {
        vi->garp_pos = 0;
        vi->garp_pending--;
    }
    if (vi->garp_pending > 0)
        io_timer_arm(loop, t,
                     io_loop_now(loop) +
                         (v->addr.family == IP_V6 ? g->gna_interval_us : g->garp_interval_us));
}

void vmgr_garp_cancel(struct vmgr_inst *vi)
{
    vi->garp_pending = 0;
    vi->garp_pos = 0;
    io_timer_cancel(&vi->mgr->loop, &vi->garp_timer);
}

void vmgr_garp(struct vmgr_inst *vi, unsigned rounds)
{
    const struct cfg_instance *ci = vi->ci;
    const struct cfg_global *g = &vi->mgr->cref->cfg->global;
    struct vmgr_if *out;
    bool router;

    if (g->garp_interval_us > 0 || g->gna_interval_us > 0) {
        vi->garp_pending += rounds;
        if (!io_timer_armed(&vi->garp_timer)) {
            io_timer_init(&vi->garp_timer, garp_tick, vi);
            io_timer_arm(&vi->mgr->loop, &vi->garp_timer, io_loop_now(&vi->mgr->loop));
        }
        return;
    }
    if (!(out = garp_ready(vi)))
        return;
    router = ipv6_forwarding(out->name);
    for (unsigned r = 0; r < rounds; r++)
        for (size_t i = 0; i < ci->nvips + ci->nevips; i++)
            garp_one(vi, out, garp_vip(ci, i), router);
}

static void monitor_event(void *ctx, const struct nl_event *ev)
{
    struct vmgr *m = ctx;

    for (size_t i = 0; i < m->nifs; i++) {
        struct vmgr_if *vif = m->ifs[i];
        bool was_up = vif->up;

        if (strcmp(vif->name, ev->ifname) != 0 && vif->ifindex != ev->ifindex)
            continue;
        if (ev->kind == NL_EV_LINK || ev->kind == NL_EV_LINK_DEL) {
            vif->up = ev->kind == NL_EV_LINK && ev->up;
            if (vif->up != was_up) {
                vmgr_event(m, "interface %s is %s", vif->name, vif->up ? "up" : "down");
                vmgr_track_link_changed(m, vif->name, vif->up);
            }
        } else if (ev->addr.family == IP_V4 && vif->addr4.family == IP_NONE) {
            vmgr_if_refresh(vif);
            vmgr_track_link_changed(m, vif->name, vif->up);
        }
    }
}

void vmgr_monitor_cb(struct io_loop *loop, struct io_watch *w, uint32_t revents)
{
    struct vmgr *m = w->ctx;
    int rc = nl_monitor_read(&m->mon, monitor_event, m);

    if (rc == -ENOBUFS) {
        /* The kernel dropped notifications: re-read the state we mirror. */
        for (size_t i = 0; i < m->nifs; i++) {
            vmgr_if_refresh(m->ifs[i]);
            vmgr_track_link_changed(m, m->ifs[i]->name, m->ifs[i]->up);
        }
    } else if (rc < 0 && rc != -EAGAIN) {
        log_warn("netlink monitor: %s", strerror(-rc));
    }
}
