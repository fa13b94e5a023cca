/* The LB manager: builds virtual and real servers from the config, publishes data-plane
 * snapshots, applies reloads as a diff, serves the `lb` control requests, and runs all of it
 * on a thread of its own.
 *
 * Snapshot rules (research/lb.md 1.1): dests are listed newest first, i.e. in reverse config
 * order, as IPVS lists them after keepalived added them in config order, so every "first
 * wins" tie-break of the schedulers matches IPVS. A real server is in the snapshot when it is
 * enabled and up (at its weight) or down with inhibit_on_failure (at weight 0); otherwise it
 * is left out, and its TCP connections drain while its UDP flows expire.
 *
 * Reload: a virtual server keeps its identity by protocol and listen addresses, a real server
 * by address and port; kept real servers keep their health, checker state and admin settings
 * (a reload never flaps a server), and dest ids (from a key -> id registry) are stable, so
 * counters and connections carry over in the data plane. */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "cfg.h"
#include "daemon/dp/dp.h"
#include "io/clock.h"
#include "io/log.h"
#include "lbmgr.h"
#include "proto/check/hc.h"
#include "proto/lb/lb.h"

#define SAMPLE_US MONO_S(1)

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p)
        abort();
    return p;
}

const char *lbm_proto_name(const struct lb_vs *vs)
{
    return vs->cvs->proto == CFG_LB_UDP ? "udp" : "tcp";
}

/* ---- stable dest ids ---- */

static uint32_t id_for(struct lbmgr *m, const char *key)
{
    for (size_t i = 0; i < m->nids; i++)
        if (strcmp(m->ids[i].key, key) == 0)
            return m->ids[i].id;
    m->ids = realloc(m->ids, (m->nids + 1) * sizeof(*m->ids));
    if (!m->ids)
        abort();
    size_t n = strnlen(key, sizeof(m->ids[m->nids].key) - 1); /* truncates like before */
    memcpy(m->ids[m->nids].key, key, n);
    m->ids[m->nids].key[n] = 0;
    m->ids[m->nids].id = ++m->next_id;
    return m->ids[m->nids++].id;
}

static uint32_t rs_id(struct lbmgr *m, const struct lb_vs *vs, const struct ip_addr *a,
                      uint16_t port, const char *role)
{
    char key[160], s[IP_ADDR_STRLEN];

    snprintf(key, sizeof(key), "%s|%s|%s:%u", vs->name, role, ip_addr_format(a, s, sizeof(s)),
             port);
    return id_for(m, key);
}

/* The stable key rs_id gave id ("VS|role|ADDR:PORT"): also the key of an upgrade's RS record,
 * so both processes name a real server alike. */
static const char *id_key(const struct lbmgr *m, uint32_t id)
{
    for (size_t i = 0; i < m->nids; i++)
        if (m->ids[i].id == id)
            return m->ids[i].key;
    return "";
}

/* ---- weights and membership ---- */

unsigned lbm_rs_weight(const struct lb_rs *rs)
{
    if (rs->admin_weight >= 0)
        return (unsigned)rs->admin_weight;
    if (rs->dyn_weight >= 0)
        return (unsigned)rs->dyn_weight;
    return rs->crs->weight;
}

bool lbm_rs_in_service(const struct lb_rs *rs)
{
    return rs->up && !rs->disabled;
}

static bool inhibit(const struct lb_rs *rs)
{
    return rs->crs->timing.inhibit_on_failure;
}

static uint32_t sched_kind(enum cfg_lb_sched s)
{
    static const uint32_t map[CFG_SCHED__COUNT] = {
        [CFG_SCHED_WLC] = LB_SCHED_WLC,   [CFG_SCHED_RR] = LB_SCHED_RR,
        [CFG_SCHED_WRR] = LB_SCHED_WRR,   [CFG_SCHED_LC] = LB_SCHED_LC,
        [CFG_SCHED_LBLC] = LB_SCHED_LBLC, [CFG_SCHED_LBLCR] = LB_SCHED_LBLCR,
        [CFG_SCHED_SH] = LB_SCHED_SH,     [CFG_SCHED_DH] = LB_SCHED_DH,
        [CFG_SCHED_MH] = LB_SCHED_MH,     [CFG_SCHED_FO] = LB_SCHED_FO,
        [CFG_SCHED_OVF] = LB_SCHED_OVF,   [CFG_SCHED_SED] = LB_SCHED_SED,
        [CFG_SCHED_NQ] = LB_SCHED_NQ,
    };
    return s < CFG_SCHED__COUNT ? map[s] : LB_SCHED_WLC;
}

/* ipvsadm's flags: flag-1 (fallback) and flag-2 (port) mean sh-* for sh and mh-* for mh. */
static uint32_t sched_flags(const struct cfg_vs *c)
{
    uint32_t f = 0;

    if (c->sched == CFG_SCHED_SH) {
        f |= c->sched_flags & CFG_SCHED_FLAG_FALLBACK ? LB_F_SH_FALLBACK : 0;
        f |= c->sched_flags & CFG_SCHED_FLAG_PORT ? LB_F_SH_PORT : 0;
    } else if (c->sched == CFG_SCHED_MH) {
        f |= c->sched_flags & CFG_SCHED_FLAG_FALLBACK ? LB_F_MH_FALLBACK : 0;
        f |= c->sched_flags & CFG_SCHED_FLAG_PORT ? LB_F_MH_PORT : 0;
    }
    return f;
}

/* persistence_granularity as the data plane wants it: an IPv4 netmask in host order and an
 * IPv6 prefix length (0 = the whole address). */
static void persist_granularity(const struct cfg_vs *c, struct dp_svc *svc)
{
    uint8_t p = c->persistence_prefix;

    svc->persist_v4_mask = p > 0 && p < 32 ? ~0u << (32 - p) : 0;
    svc->persist_v6_prefix = p > 0 && p < 128 ? p : 0;
}

/* ---- snapshot ---- */

/* The dests of HTTP group `group` (0: the default group, and every real server of an L4
 * service) into d[0..), newest first. Returns how many. */
static size_t fill_group(struct lbmgr *m, const struct lb_vs *vs, unsigned group, struct dp_dest *d)
{
    size_t n = 0;

    for (size_t k = vs->nrss; k-- > 0;) { /* newest first: the IPVS list order */
        const struct lb_rs *rs = vs->rss[k];
        if (rs->crs->group != group || rs->disabled || (!rs->up && !inhibit(rs)))
            continue;
        d[n] = (struct dp_dest){
            .id = rs->id,
            .addr = rs->crs->addr,
            .port = rs->crs->port,
            .weight = rs->up ? lbm_rs_weight(rs) : 0,
            .stats = dp_dest_stats(&m->dp, rs->id),
        };
        n++;
    }
    return n;
}

static size_t fill_dests(struct lbmgr *m, const struct lb_vs *vs, struct dp_svc *svc)
{
    struct dp_dest *d = dp_svc_dests(svc, vs->nrss);

    svc->ndests = fill_group(m, vs, 0, d);
    return svc->ndests;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* The access log file, opened for this snapshot (which closes it when freed). */
static int open_log(const struct cfg_http *c)
{
    if (c->log != CFG_HTTP_LOG_FILE)
        return -1;
    int fd = open(c->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        log_warn("http_access_log %s: %s", c->log_file, strerror(errno));
    return fd;
}

/* protocol HTTP: groups (each with its scheduler and dests), routes and options. */
static void fill_http(struct lbmgr *m, const struct lb_vs *vs, struct dp_svc *svc)
{
    const struct cfg_http *c = &vs->cvs->http;
    struct dp_http *h = dp_svc_http(svc, c->ngroups + 1, c->nroutes);

    for (size_t g = 0; g < c->ngroups; g++) {
        struct dp_http_group *dg = &h->groups[g + 1];
        copy_str(dg->name, sizeof(dg->name), c->groups[g].name);
        dg->sched_kind = sched_kind(c->groups[g].sched);
        dg->ndests = fill_group(m, vs, (unsigned)g + 1, dp_http_group_dests(dg, vs->nrss));
    }
    copy_str(h->groups[0].name, sizeof(h->groups[0].name), "default");
    for (size_t i = 0; i < c->nroutes; i++) {
        copy_str(h->routes[i].host, sizeof(h->routes[i].host), c->routes[i].host);
        copy_str(h->routes[i].path, sizeof(h->routes[i].path), c->routes[i].path);
        h->routes[i].wildcard = c->routes[i].wildcard;
        h->routes[i].group = c->routes[i].index;
    }
    copy_str(h->cookie, sizeof(h->cookie), c->cookie);
    bool pp = vs->cvs->proxy_protocol != CFG_PROXY_NONE;
    h->headers = (c->xff && !pp ? DP_HTTP_XFF : 0) | (c->xfp && !pp ? DP_HTTP_XFP : 0) |
                 (c->fwd && !pp ? DP_HTTP_FWD : 0);
    h->retries = c->retries;
    h->error_limit = c->error_limit;
    h->max_head = c->max_head;
    h->max_headers = c->max_headers;
    h->max_line = c->max_line;
    h->header_timeout_us = c->header_timeout_us;
    h->keepalive_timeout_us = c->keepalive_timeout_us;
    h->server_timeout_us = c->server_timeout_us;
    h->vstats = dp_dest_stats(&m->dp, vs->http_id);
    h->log_fd = open_log(c);
    if (c->log == CFG_HTTP_LOG_SYSLOG || h->log_fd >= 0)
        h->headers |= DP_HTTP_LOG;
}

static void fill_svc(struct lbmgr *m, const struct lb_vs *vs, const struct lb_listen *l,
                     struct dp_svc *svc)
{
    const struct cfg_vs *c = vs->cvs;

    svc->addr = l->addr;
    svc->port = l->port;
    svc->proto = c->proto == CFG_LB_UDP ? DP_UDP : DP_TCP;
    svc->sched_kind = sched_kind(c->sched);
    svc->sched_flags = sched_flags(c);
    persist_granularity(c, svc);
    svc->persist_timeout_us = c->persistent ? MONO_S(c->persistence_timeout_s) : 0;
    svc->connect_timeout_us = c->timing.connect_timeout_us;
    svc->retries = (uint32_t)vs->nrss; /* try every other dest before failing a client */
    svc->idle_timeout_us = c->idle_timeout_us;
    svc->proxy_protocol = c->proxy_protocol == CFG_PROXY_V2   ? DP_PROXY_V2
                          : c->proxy_protocol == CFG_PROXY_V1 ? DP_PROXY_V1
                                                              : DP_PROXY_NONE;
    svc->quorum_up = vs->quorum_up;
    svc->has_sorry = c->has_sorry;
    if (c->has_sorry)
        svc->sorry = (struct dp_dest){
            .id = vs->sorry_id,
            .addr = c->sorry_addr,
            .port = c->sorry_port,
            .weight = 1,
            .stats = dp_dest_stats(&m->dp, vs->sorry_id),
        };
    fill_dests(m, vs, svc);
    if (c->http.enabled)
        fill_http(m, vs, svc);
}

/* Starts the packet data plane when the first service needs it. When it cannot run (no BPF
 * permission, an old kernel) that is said once per reload, and its services are not served. */
static void pkt_start(struct lbmgr *m)
{
    char err[256];

    if (m->pkt.started || m->pkt_failed)
        return;
    if (dp_pkt_start(&m->pkt, 0, err, sizeof(err)) < 0) {
        m->pkt_failed = true;
        log_err("packet data plane unavailable, its virtual servers are not served: %s", err);
        return;
    }
    log_notice("packet data plane started (TC BPF on %zu interfaces)", m->pkt.bpf.nlinks);
}

/* The services of one data plane (packet or proxy) as a new snapshot. */
static struct dp_snap *build_snap(struct lbmgr *m, bool packet)
{
    size_t nsvc = 0, k = 0;

    for (size_t i = 0; i < m->nvss; i++)
        if (m->vss[i]->cvs->packet == packet)
            nsvc += m->vss[i]->nlisten;
    struct dp_snap *snap = dp_snap_new(nsvc);
    for (size_t i = 0; i < m->nvss; i++) {
        if (m->vss[i]->cvs->packet != packet)
            continue;
        for (size_t j = 0; j < m->vss[i]->nlisten; j++)
            fill_svc(m, m->vss[i], &m->vss[i]->listen[j], &snap->svc[k++]);
    }
    return snap;
}

void lbm_publish(struct lbmgr *m)
{
    if (!m->dp_started)
        return;
    dp_publish(&m->dp, build_snap(m, false));
    struct dp_snap *psnap = build_snap(m, true);
    if (psnap->nsvc)
        pkt_start(m);
    /* also an empty one, to empty a running plane's service map; freed when not running */
    dp_pkt_publish(&m->pkt, psnap);
    m->publishes++;
}

/* ---- building ---- */

static void listen_add(struct lb_vs *vs, const struct ip_addr *a, uint16_t port)
{
    vs->listen = realloc(vs->listen, (vs->nlisten + 1) * sizeof(*vs->listen));
    if (!vs->listen)
        abort();
    vs->listen[vs->nlisten++] = (struct lb_listen){*a, port};
}

/* A group's entries, with ranges expanded (a.b.c.d-e: the last byte varies, as keepalived). */
static void listen_group(struct lb_vs *vs, const struct cfg *cfg)
{
    for (size_t g = 0; g < cfg->nvsgs; g++) {
        const struct cfg_vs_group *grp = &cfg->vsgs[g];
        if (strcmp(grp->name, vs->cvs->group) != 0)
            continue;
        for (size_t e = 0; e < grp->nentries; e++) {
            const struct cfg_vsg_entry *en = &grp->entries[e];
            struct ip_addr a = en->first;
            size_t last = ip_addr_len(&a) - 1;
            uint16_t port = en->port ? en->port : vs->cvs->port;
            for (unsigned v = a.b[last]; v <= en->last.b[last] && v <= 255; v++) {
                a.b[last] = (uint8_t)v;
                listen_add(vs, &a, port);
            }
        }
    }
}

static void vs_name(struct lb_vs *vs)
{
    const struct cfg_vs *c = vs->cvs;
    char a[IP_ADDR_STRLEN];
    const char *p = c->proto == CFG_LB_UDP ? "UDP" : "TCP";

    if (c->group)
        snprintf(vs->name, sizeof(vs->name), "%s group %s", p, c->group);
    else if (c->addr.family == IP_V6)
        snprintf(vs->name, sizeof(vs->name), "%s [%s]:%u", p,
                 ip_addr_format(&c->addr, a, sizeof(a)), c->port);
    else
        snprintf(vs->name, sizeof(vs->name), "%s %s:%u", p, ip_addr_format(&c->addr, a, sizeof(a)),
                 c->port);
}

static struct lb_rs *rs_new(struct lbmgr *m, struct lb_vs *vs, const struct cfg_rs *crs)
{
    struct lb_rs *rs = xcalloc(1, sizeof(*rs));

    rs->vs = vs;
    rs->crs = crs;
    char role[80] = "rs";
    if (crs->group) /* a server may be in several HTTP groups: one dest id per group */
        snprintf(role, sizeof(role), "rs@%s", vs->cvs->http.groups[crs->group - 1].name);
    rs->id = rs_id(m, vs, &crs->addr, crs->port, role);
    rs->admin_weight = -1;
    rs->dyn_weight = -1;
    rs->nchecks = crs->nchecks;
    rs->checks = xcalloc(crs->nchecks, sizeof(*rs->checks));
    /* keepalived: a real server starts up unless a checker says alpha. */
    rs->up = true;
    for (size_t i = 0; i < crs->nchecks; i++) {
        const struct cfg_lb_timing *t = &crs->checks[i].timing;
        struct hc_cfg hc = {
            .delay_loop_us = t->delay_loop_us,
            .connect_timeout_us =
                crs->checks[i].probe.kind == PROBE_MISC && crs->checks[i].misc_timeout_us
                    ? crs->checks[i].misc_timeout_us
                    : t->connect_timeout_us,
            .retry = t->retry,
            .delay_before_retry_us = t->delay_before_retry_us,
            .warmup_us = t->warmup_us,
            .alpha = t->alpha,
        };
        rs->checks[i].rs = rs;
        rs->checks[i].cc = &crs->checks[i];
        hc_init(&rs->checks[i].hc, &hc);
        if (t->alpha)
            rs->up = false;
    }
    return rs;
}

static void rs_free(struct lb_rs *rs)
{
    lbm_checks_stop(rs);
    free(rs->checks);
    free(rs);
}

static struct lb_vs *vs_new(struct lbmgr *m, const struct cfg_vs *c, const struct cfg *cfg)
{
    struct lb_vs *vs = xcalloc(1, sizeof(*vs));

    vs->mgr = m;
    vs->cvs = c;
    vs_name(vs);
    if (c->group)
        listen_group(vs, cfg);
    else
        listen_add(vs, &c->addr, c->port);
    vs->sorry_id = rs_id(m, vs, &c->sorry_addr, c->sorry_port, "sorry");
    vs->http_id = rs_id(m, vs, &c->addr, c->port, "http");
    vs->rss = xcalloc(c->nrss, sizeof(*vs->rss));
    vs->nrss = c->nrss;
    for (size_t i = 0; i < c->nrss; i++)
        vs->rss[i] = rs_new(m, vs, &c->rss[i]);
    return vs;
}

static void vs_free(struct lb_vs *vs)
{
    for (size_t i = 0; i < vs->nrss; i++)
        rs_free(vs->rss[i]);
    free(vs->rss);
    free(vs->listen);
    free(vs);
}

/* The real server of old with the same address and port, or NULL. */
static struct lb_rs *find_rs(struct lb_vs *old, const struct cfg_rs *crs)
{
    for (size_t i = 0; old && i < old->nrss; i++)
        if (old->rss[i] && ip_addr_eq(&old->rss[i]->crs->addr, &crs->addr) &&
            old->rss[i]->crs->port == crs->port && old->rss[i]->crs->group == crs->group)
            return old->rss[i];
    return NULL;
}

static bool same_checks(const struct cfg_rs *a, const struct cfg_rs *b)
{
    if (a->nchecks != b->nchecks)
        return false;
    for (size_t i = 0; i < a->nchecks; i++)
        if (a->checks[i].probe.kind != b->checks[i].probe.kind)
            return false;
    return true;
}

/* Carries the health and admin state of a kept real server into its successor. */
static void rs_carry(struct lb_rs *to, struct lb_rs *from)
{
    to->up = from->up;
    to->since = from->since;
    to->disabled = from->disabled;
    to->admin_weight = from->admin_weight;
    to->dyn_weight = from->dyn_weight;
    to->ups = from->ups;
    to->downs = from->downs;
    memcpy(to->why, from->why, sizeof(to->why));
    if (!same_checks(to->crs, from->crs))
        return;
    for (size_t i = 0; i < to->nchecks; i++) {
        /* Keep each checker's verdict; it restarts its schedule on the new settings. */
        to->checks[i].hc.up = from->checks[i].hc.up;
        to->checks[i].hc.has_run = from->checks[i].hc.has_run;
        to->checks[i].resume = true;
        to->checks[i].last = from->checks[i].last;
        to->checks[i].has_last = from->checks[i].has_last;
    }
}

/* Binary upgrade: takes the health and admin state the previous process handed over for rs,
 * if it did (the checkers keep their verdicts when their number matches). true if carried. */
static bool rs_resume(struct lb_rs *rs, const struct upgrade_state *st)
{
    const struct upgrade_rec *r = upgrade_state_rs(st, id_key(rs->vs->mgr, rs->id));
    if (!r)
        return false;
    rs->up = r->up;
    rs->disabled = r->disabled;
    rs->admin_weight = r->admin_weight;
    rs->since = io_loop_now(&rs->vs->mgr->loop);
    if (!rs->up)
        snprintf(rs->why, sizeof(rs->why), "down before the upgrade");
    if (strlen(r->checks) != rs->nchecks)
        return true; /* other checkers now: they start afresh */
    for (size_t i = 0; i < rs->nchecks; i++) {
        char c = r->checks[i];
        rs->checks[i].hc.up = c == 'U' || c == 'u';
        rs->checks[i].hc.has_run = c == 'U' || c == 'D';
        rs->checks[i].resume = true;
    }
    return true;
}

static struct lb_vs *find_vs(struct lbmgr *m, const struct lb_vs *like)
{
    for (size_t i = 0; i < m->nvss; i++)
        if (m->vss[i] && strcmp(m->vss[i]->name, like->name) == 0)
            return m->vss[i];
    return NULL;
}

/* Builds the runtime of m->cfg, carrying state over from the current one, then starts the
 * checkers of what is new and publishes. */
static void apply(struct lbmgr *m, struct io_ctl_reply *r)
{
    const struct cfg *cfg = m->cfg;
    struct lb_vs **next = xcalloc(cfg->nvss, sizeof(*next));

    for (size_t i = 0; i < cfg->nvss; i++) {
        struct lb_vs *vs = vs_new(m, &cfg->vss[i], cfg);
        struct lb_vs *old = find_vs(m, vs);
        bool resumed = false;
        for (size_t k = 0; k < vs->nrss; k++) {
            struct lb_rs *prev = find_rs(old, vs->rss[k]->crs);
            if (prev)
                rs_carry(vs->rss[k], prev);
            else if (m->resume)
                resumed |= rs_resume(vs->rss[k], m->resume);
        }
        if (old) {
            vs->quorum_up = old->quorum_up; /* scripts run only on a real change */
            lbm_quorum_eval(vs, false);
        } else if (resumed) { /* the previous process ran the scripts of its state already */
            vs->quorum_up = lbm_alive_weight(vs) >= vs->cvs->quorum;
        } else {
            lbm_quorum_eval(vs, true);
        }
        if (r)
            io_ctl_reply_printf(r, "%s %s (%zu real servers)\n", old ? "kept" : "added", vs->name,
                                vs->nrss);
        next[i] = vs;
    }
    for (size_t i = 0; i < m->nvss; i++) {
        bool kept = false;
        for (size_t k = 0; k < cfg->nvss && !kept; k++)
            kept = strcmp(next[k]->name, m->vss[i]->name) == 0;
        if (!kept && r)
            io_ctl_reply_printf(r, "removed %s\n", m->vss[i]->name);
        vs_free(m->vss[i]);
    }
    free(m->vss);
    m->vss = next;
    m->nvss = cfg->nvss;
    for (size_t i = 0; i < m->nvss; i++)
        for (size_t k = 0; k < m->vss[i]->nrss; k++)
            lbm_checks_start(m->vss[i]->rss[k]);
    lbm_publish(m);
}

/* ---- sampling: rates and ha_suspend ---- */

static bool addr_is_local(const struct ip_addr *a)
{
    struct ifaddrs *ifs, *i;
    bool found = false;

    if (getifaddrs(&ifs) < 0)
        return true; /* cannot tell: do not suspend checks */
    for (i = ifs; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr)
            continue;
        if (i->ifa_addr->sa_family == AF_INET && a->family == IP_V4)
            found = memcmp(&((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, a->b, 4) == 0;
        else if (i->ifa_addr->sa_family == AF_INET6 && a->family == IP_V6)
            found = memcmp(&((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, a->b, 16) == 0;
    }
    freeifaddrs(ifs);
    return found;
}

/* keepalived's ha_suspend: checks run only while the VIP is ours (we are the VRRP master). */
static void ha_suspend_eval(struct lb_vs *vs)
{
    bool suspend;

    if (!vs->cvs->ha_suspend || vs->nlisten == 0)
        return;
    suspend = !addr_is_local(&vs->listen[0].addr);
    if (suspend == vs->suspended)
        return;
    vs->suspended = suspend;
    log_notice("%s: health checks %s (ha_suspend: the VIP is %s)", vs->name,
               suspend ? "suspended" : "resumed", suspend ? "not local" : "local");
    for (size_t k = 0; k < vs->nrss; k++)
        suspend ? lbm_checks_stop(vs->rss[k]) : lbm_checks_start(vs->rss[k]);
}

static void rate_eval(struct lbmgr *m, struct lb_rs *rs, double secs)
{
    struct dp_dest_counters c;

    if (dp_dest_read(&m->dp, rs->id, &c) < 0)
        return;
    if (secs > 0) {
        rs->cps = (double)(c.conns_total - rs->prev.conns_total) / secs;
        rs->in_bps = (double)(c.bytes_in - rs->prev.bytes_in) / secs;
        rs->out_bps = (double)(c.bytes_out - rs->prev.bytes_out) / secs;
    }
    rs->prev = c;
}

/* HTTP passive health (http_error_limit, docs/http.md): the workers skip a dest whose run of
 * consecutive failures reached the limit; it gets traffic again once the run is reset here:
 * after http_error_hold, and then only while its active checkers (if any) say it is up. */
static void http_passive(struct lbmgr *m, struct lb_rs *rs, mono_us now)
{
    const struct cfg_http *h = &rs->vs->cvs->http;

    if (!h->enabled || !h->error_limit || rs->prev.http_err_run < h->error_limit) {
        rs->passive_since = 0;
        return;
    }
    if (!rs->passive_since) {
        rs->passive_since = now;
        log_warn("%s: real server %u marked down: %llu consecutive HTTP failures", rs->vs->name,
                 rs->id, (unsigned long long)rs->prev.http_err_run);
        return;
    }
    if (now - rs->passive_since >= h->error_hold_us && rs->up) {
        dp_dest_reset_errors(&m->dp, rs->id);
        rs->passive_since = 0;
        log_notice("%s: real server %u back in service after HTTP failures", rs->vs->name, rs->id);
    }
}

static void sample_tick(struct io_loop *loop, struct io_timer *t)
{
    struct lbmgr *m = t->ctx;
    mono_us now = io_loop_now(loop);
    double secs = m->sampled_at ? (double)(now - m->sampled_at) / 1e6 : 0;

    for (size_t i = 0; i < m->nvss; i++) {
        ha_suspend_eval(m->vss[i]);
        for (size_t k = 0; k < m->vss[i]->nrss; k++) {
            rate_eval(m, m->vss[i]->rss[k], secs);
            http_passive(m, m->vss[i]->rss[k], now);
        }
    }
    m->sampled_at = now;
    dp_reclaim(&m->dp);
    io_timer_arm(loop, t, now + SAMPLE_US);
}

/* ---- thread, start, stop, reload ---- */

static void *lbmgr_main(void *arg)
{
    struct lbmgr *m = arg;
    io_loop_run(&m->loop);
    io_loop_close_posts(&m->loop);
    return NULL;
}

static void start_on_thread(void *arg)
{
    struct lbmgr *m = arg;

    log_notice("load balancer starting (%zu virtual servers, %u data-plane workers)", m->cfg->nvss,
               m->dp.nworkers);
    apply(m, NULL);
    m->resume = NULL; /* the caller may free it once lbmgr_sync returned */
    io_timer_init(&m->sample, sample_tick, m);
    io_timer_arm(&m->loop, &m->sample, io_loop_now(&m->loop));
}

int lbmgr_start(struct lbmgr *m, struct cfg *cfg, unsigned nworkers,
                const struct upgrade_state *resume)
{
    int rc;

    memset(m, 0, sizeof(*m));
    m->fifo.fd = -1;
    m->resume = resume;
    if ((rc = io_loop_init(&m->loop)) < 0)
        return rc;
    io_scripts_init(&m->loop, &m->scripts);
    if ((rc = probe_env_init(&m->penv, &m->loop, &m->scripts)) < 0) {
        log_err("health checks: %s", strerror(-rc));
        goto fail_loop;
    }
    m->penv.router_id = cfg->global.router_id;
    rng_seed(&m->rng, (uint64_t)io_clock_now() ^ 0x6c62u);
    dp_init(&m->dp);
    if ((rc = dp_start(&m->dp, nworkers)) < 0) {
        log_err("data plane: %s", strerror(-rc));
        goto fail_probe;
    }
    m->dp_started = true;
    m->cfg = cfg_hold(cfg);
    if (cfg->global.notify_fifo.cmdline)
        io_fifo_open(&m->fifo, cfg->global.notify_fifo.cmdline);
    m->started_at = io_clock_now();
    io_loop_post(&m->loop, start_on_thread, m);
    if ((rc = -pthread_create(&m->thread, NULL, lbmgr_main, m)) < 0) {
        lbmgr_stop(m);
        return rc;
    }
    m->thread_started = true;
    return 0;
fail_probe:
    probe_env_fini(&m->penv);
fail_loop:
    io_scripts_fini(&m->scripts);
    io_loop_fini(&m->loop);
    return rc;
}

static void stop_on_thread(void *arg)
{
    struct lbmgr *m = arg;

    for (size_t i = 0; i < m->nvss; i++)
        for (size_t k = 0; k < m->vss[i]->nrss; k++)
            lbm_checks_stop(m->vss[i]->rss[k]);
    io_timer_cancel(&m->loop, &m->sample);
    io_loop_stop(&m->loop);
}

static void nothing(void *arg)
{
    (void)arg;
}

void lbmgr_sync(struct lbmgr *m)
{
    if (!m->thread_started)
        return;
    io_loop_call(&m->loop, nothing, NULL); /* after start_on_thread: posts run in order */
    dp_barrier(&m->dp);
}

static void export_on_thread(void *arg)
{
    void **a = arg;
    struct lbmgr *m = a[0];

    for (size_t i = 0; i < m->nvss; i++) {
        for (size_t k = 0; k < m->vss[i]->nrss; k++) {
            const struct lb_rs *rs = m->vss[i]->rss[k];
            struct upgrade_rec r = {.kind = UPGRADE_RS,
                                    .up = rs->up,
                                    .disabled = rs->disabled,
                                    .admin_weight = rs->admin_weight};
            for (size_t c = 0; c < rs->nchecks && c < UPGRADE_MAX_CHECKS; c++)
                r.checks[c] = rs->checks[c].hc.has_run ? (rs->checks[c].hc.up ? 'U' : 'D')
                                                       : (rs->checks[c].hc.up ? 'u' : 'd');
            snprintf(r.text, sizeof(r.text), "%s", id_key(m, rs->id));
            upgrade_state_add(a[1], &r);
        }
    }
}

static void export_fd(void *ctx, int fd)
{
    int rc = upgrade_state_add_fd(ctx, fd);
    if (rc < 0)
        log_err("upgrade: cannot duplicate a data-plane socket: %s", strerror(-rc));
}

void lbmgr_export(struct lbmgr *m, struct upgrade_state *st)
{
    void *a[2] = {m, st};

    if (!m->thread_started)
        return;
    io_loop_call(&m->loop, export_on_thread, a);
    dp_listeners(&m->dp, export_fd, st);
}

void lbmgr_stop_drain(struct lbmgr *m, mono_us drain_us)
{
    m->dp.opts.drain_timeout_us = drain_us;
    lbmgr_stop(m);
}

void lbmgr_stop(struct lbmgr *m)
{
    if (!m->cfg)
        return;
    if (m->thread_started) {
        io_loop_post(&m->loop, stop_on_thread, m);
        pthread_join(m->thread, NULL);
    }
    dp_pkt_stop(&m->pkt); /* before dp_fini: its snapshots use the dp's statistics blocks */
    if (m->dp_started)
        dp_stop(&m->dp);
    dp_fini(&m->dp);
    for (size_t i = 0; i < m->nvss; i++)
        vs_free(m->vss[i]);
    free(m->vss);
    free(m->ids);
    if (m->fifo.fd >= 0)
        io_fifo_close(&m->fifo);
    probe_env_fini(&m->penv);
    io_scripts_fini(&m->scripts);
    io_loop_fini(&m->loop);
    cfg_release(m->cfg);
    m->cfg = NULL;
}

struct reload_arg {
    struct lbmgr *m;
    struct cfg *cfg;
    struct io_ctl_reply *r;
};

static void reload_on_thread(void *p)
{
    struct reload_arg *a = p;
    struct cfg *old = a->m->cfg;

    a->m->cfg = a->cfg;
    a->m->pkt_failed = false; /* a packet data plane that failed to start is tried again */
    apply(a->m, a->r);
    cfg_release(old); /* after apply: the old objects pointed into it */
}

void lbmgr_reload(struct lbmgr *m, struct cfg *cfg, struct io_ctl_reply *r)
{
    struct reload_arg a = {m, cfg_hold(cfg), r};
    if (io_loop_call(&m->loop, reload_on_thread, &a) < 0)
        cfg_release(a.cfg); /* stopping: nothing to apply */
}

struct render_arg {
    struct lbmgr *m;
    char mode[96];
    struct io_ctl_reply *r;
    bool json_only;
    bool dp_only;
};

static void render_on_thread(void *p)
{
    struct render_arg *a = p;

    if (a->dp_only)
        lbm_render_dp_json(a->m, a->r);
    else if (a->json_only)
        lbm_render_json(a->m, a->r);
    else
        lbm_render(a->m, a->mode, a->r);
}

void lbmgr_status_json(struct lbmgr *m, struct io_ctl_reply *r)
{
    struct render_arg a = {.m = m, .r = r, .json_only = true};
    if (io_loop_call(&m->loop, render_on_thread, &a) < 0)
        io_ctl_reply_printf(r, "[]");
}

void lbmgr_dp_json(struct lbmgr *m, struct io_ctl_reply *r)
{
    struct render_arg a = {.m = m, .r = r, .dp_only = true};
    if (io_loop_call(&m->loop, render_on_thread, &a) < 0)
        io_ctl_reply_printf(r, "null");
}

void lbmgr_control(struct lbmgr *m, const char *args, struct io_ctl_reply *r)
{
    struct render_arg a = {.m = m, .r = r};

    snprintf(a.mode, sizeof(a.mode), "%s", args);
    if (io_loop_call(&m->loop, render_on_thread, &a) < 0)
        io_ctl_reply_printf(r, "error: the load balancer is stopping\n");
}
