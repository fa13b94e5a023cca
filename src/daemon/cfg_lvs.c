/* virtual_server IP PORT | virtual_server group NAME { ... }, and the load balancer's
 * cross-object checks.
 *
 * Defaults follow keepalived.conf(5) (research/vrrp.md 1.4): scheduler wlc, protocol TCP,
 * persistence_timeout 360 s when given without a value, quorum 1, hysteresis 0, delay_loop
 * 60 s, connect_timeout 5 s. nospof serves a virtual server with its user-space full-NAT
 * proxy, so `lb_kind NAT` is the only forwarding method; DR, TUN, fwmark services and a
 * service on every port (no port) need a packet data plane and are errors that say so, as
 * are the `twos` scheduler and SCTP. A real server's port defaults to the virtual server's
 * (the proxy must connect somewhere), and so does the sorry server's. nospof additions:
 * `proxy_protocol v1|v2`, `nospof_idle_timeout SECONDS` and `nospof_data_plane proxy|packet`
 * (docs/config.md). */
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "cfg_priv.h"

#define LB_MAX_US   MONO_S(86400)
#define IDLE_TCP_US MONO_S(900)
#define IDLE_UDP_US MONO_S(30)

#define VS(o) ((struct cfg_vs *)(o))

static const char *const sched_names[CFG_SCHED__COUNT] = {
    [CFG_SCHED_WLC] = "wlc", [CFG_SCHED_RR] = "rr",     [CFG_SCHED_WRR] = "wrr",
    [CFG_SCHED_LC] = "lc",   [CFG_SCHED_LBLC] = "lblc", [CFG_SCHED_LBLCR] = "lblcr",
    [CFG_SCHED_SH] = "sh",   [CFG_SCHED_DH] = "dh",     [CFG_SCHED_MH] = "mh",
    [CFG_SCHED_FO] = "fo",   [CFG_SCHED_OVF] = "ovf",   [CFG_SCHED_SED] = "sed",
    [CFG_SCHED_NQ] = "nq",
};

static void vs_free(struct cfg_vs *vs)
{
    free(vs->group);
    cfg_cmd_free(&vs->quorum_up);
    cfg_cmd_free(&vs->quorum_down);
    free(vs->virtualhost);
    for (size_t i = 0; i < vs->nrss; i++)
        cfg_rs_free(&vs->rss[i]);
    free(vs->rss);
    cfg_http_free(&vs->http);
}

void cfg_lvs_free(struct cfg *cfg)
{
    for (size_t i = 0; i < cfg->nvss; i++)
        vs_free(&cfg->vss[i]);
    for (size_t i = 0; i < cfg->nvsgs; i++)
        cfg_vsg_free(&cfg->vsgs[i]);
    free(cfg->vss);
    free(cfg->vsgs);
    cfg_ssl_free(&cfg->ssl);
    cfg->vss = NULL;
    cfg->vsgs = NULL;
    cfg->nvss = cfg->nvsgs = 0;
}

/* ---- shared with real servers and checkers ---- */

static bool timer_kw(struct cfg_ctx *c, const struct conf_node *n, mono_us lo, mono_us *out)
{
    return cfg_nargs(c, n, 2, 2, "seconds") && cfg_seconds(c, n, n->argv[1], lo, LB_MAX_US, out);
}

static bool flag_kw(struct cfg_ctx *c, const struct conf_node *n, bool *out)
{
    return cfg_bool(c, n, out);
}

static bool retry_kw(struct cfg_ctx *c, const struct conf_node *n, unsigned *out)
{
    long v;

    if (!cfg_nargs(c, n, 2, 2, "a count") || !cfg_int(c, n, n->argv[1], 0, 1000000, &v))
        return false;
    *out = (unsigned)v;
    return true;
}

bool cfg_lb_timing_kw(struct cfg_ctx *c, const struct conf_node *n, struct cfg_lb_timing *t)
{
    const char *kw = n->argv[0];
    bool ok;
    uint8_t bit;

    if (strcmp(kw, "delay_loop") == 0)
        ok = timer_kw(c, n, 1, &t->delay_loop_us), bit = CFG_LBT_DELAY_LOOP;
    else if (strcmp(kw, "connect_timeout") == 0)
        ok = timer_kw(c, n, 1, &t->connect_timeout_us), bit = CFG_LBT_CONNECT_TO;
    else if (strcmp(kw, "delay_before_retry") == 0)
        ok = timer_kw(c, n, 0, &t->delay_before_retry_us), bit = CFG_LBT_DELAY_RETRY;
    else if (strcmp(kw, "warmup") == 0)
        ok = timer_kw(c, n, 0, &t->warmup_us), bit = CFG_LBT_WARMUP;
    else if (strcmp(kw, "retry") == 0 || strcmp(kw, "nb_get_retry") == 0)
        ok = retry_kw(c, n, &t->retry), bit = CFG_LBT_RETRY;
    else if (strcmp(kw, "alpha") == 0)
        ok = flag_kw(c, n, &t->alpha), bit = CFG_LBT_ALPHA;
    else if (strcmp(kw, "inhibit_on_failure") == 0)
        ok = flag_kw(c, n, &t->inhibit_on_failure), bit = CFG_LBT_INHIBIT;
    else
        return false;
    if (ok)
        t->set |= bit;
    return true;
}

bool cfg_lb_method(struct cfg_ctx *c, const struct conf_node *n)
{
    if (!cfg_nargs(c, n, 2, 8, "NAT, DR or TUN"))
        return false;
    if (strcmp(n->argv[1], "NAT") == 0 && n->argc == 2)
        return true;
    if (strcmp(n->argv[1], "DR") == 0 || strcmp(n->argv[1], "TUN") == 0)
        cfg_err(c, n,
                "%s %s needs a packet-level data plane that nospof does not have yet; use NAT "
                "(nospof proxies in user space)",
                n->argv[0], n->argv[1]);
    else
        cfg_err(c, n, "'%s': expected NAT, DR or TUN, got '%s'", n->argv[0], n->argv[1]);
    return false;
}

void cfg_lb_proxy_kw(struct cfg_ctx *c, const struct conf_node *n, enum cfg_proxy_proto *out)
{
    if (!cfg_nargs(c, n, 2, 2, "v1 or v2"))
        return;
    if (strcmp(n->argv[1], "v1") == 0)
        *out = CFG_PROXY_V1;
    else if (strcmp(n->argv[1], "v2") == 0)
        *out = CFG_PROXY_V2;
    else
        cfg_err(c, n, "'%s': expected v1 or v2, got '%s'", n->argv[0], n->argv[1]);
}

/* ---- virtual_server keywords ---- */

static void v_timing(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_lb_timing_kw(c, n, &VS(o)->timing);
}

bool cfg_lb_sched_kw(struct cfg_ctx *c, const struct conf_node *n, enum cfg_lb_sched *out)
{
    if (!cfg_nargs(c, n, 2, 2, "a scheduler name"))
        return false;
    for (int i = 0; i < CFG_SCHED__COUNT; i++)
        if (strcmp(n->argv[1], sched_names[i]) == 0) {
            *out = (enum cfg_lb_sched)i;
            return true;
        }
    if (strcmp(n->argv[1], "twos") == 0)
        cfg_err(c, n, "%s 'twos' is not supported by nospof; use rr, wrr, lc, wlc, sh, mh ...",
                n->argv[0]);
    else
        cfg_err(c, n, "'%s': expected rr|wrr|lc|wlc|lblc|lblcr|sh|dh|mh|fo|ovf|sed|nq, got '%s'",
                n->argv[0], n->argv[1]);
    return false;
}

static void v_sched(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_lb_sched_kw(c, n, &VS(o)->sched);
}

static void v_method(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_lb_method(c, n);
}

static void v_protocol(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (!cfg_nargs(c, n, 2, 2, "TCP, UDP or HTTP"))
        return;
    if (strcmp(n->argv[1], "TCP") == 0)
        VS(o)->proto = CFG_LB_TCP;
    else if (strcmp(n->argv[1], "HTTP") == 0) { /* nospof: the L7 switch, TCP underneath */
        VS(o)->proto = CFG_LB_TCP;
        cfg_http_enable(VS(o));
    } else if (strcmp(n->argv[1], "UDP") == 0)
        VS(o)->proto = CFG_LB_UDP;
    else if (strcmp(n->argv[1], "SCTP") == 0)
        cfg_err(c, n, "protocol SCTP is not supported by nospof's proxy; use TCP or UDP");
    else
        cfg_err(c, n, "'protocol': expected TCP, UDP or HTTP, got '%s'", n->argv[1]);
}

static void v_persist(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    long v = 360; /* keepalived: no value means 6 minutes */

    if (!cfg_nargs(c, n, 1, 2, "nothing or seconds"))
        return;
    if (n->argc == 2 && !cfg_int(c, n, n->argv[1], 1, 2678400, &v))
        return;
    VS(o)->persistent = true;
    VS(o)->persistence_timeout_s = (unsigned)v;
}

/* A dotted IPv4 netmask or a prefix length. */
static bool mask_prefix(const char *s, long *out)
{
    struct ip_addr m;
    uint32_t v;
    long len = 0;

    if (!ip_addr_parse(s, &m) || m.family != IP_V4)
        return false;
    v = (uint32_t)m.b[0] << 24 | (uint32_t)m.b[1] << 16 | (uint32_t)m.b[2] << 8 | m.b[3];
    while (v & 0x80000000u) {
        v <<= 1;
        len++;
    }
    *out = len;
    return v == 0; /* contiguous ones */
}

static void v_granularity(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    long len;

    if (!cfg_nargs(c, n, 2, 2, "a netmask or prefix length"))
        return;
    if (strchr(n->argv[1], '.')) {
        if (!mask_prefix(n->argv[1], &len)) {
            cfg_err(c, n, "'%s': expected a contiguous netmask, got '%s'", n->argv[0], n->argv[1]);
            return;
        }
    } else if (!cfg_int(c, n, n->argv[1], 1, 128, &len)) {
        return;
    }
    VS(o)->persistence_prefix = (uint8_t)len;
}

static void v_count(struct cfg_ctx *c, const struct conf_node *n, unsigned *out)
{
    long v;

    if (cfg_nargs(c, n, 2, 2, "a number") && cfg_int(c, n, n->argv[1], 0, 4294967295L, &v))
        *out = (unsigned)v;
}

static void v_quorum(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    v_count(c, n, &VS(o)->quorum);
}

static void v_hysteresis(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    v_count(c, n, &VS(o)->hysteresis);
}

static void v_quorum_up(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_cmd(c, n, &VS(o)->quorum_up);
}

static void v_quorum_down(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_cmd(c, n, &VS(o)->quorum_down);
}

static bool port_arg(struct cfg_ctx *c, const struct conf_node *n, const char *s, uint16_t *out)
{
    long v;

    if (!cfg_int(c, n, s, 1, 65535, &v))
        return false;
    *out = (uint16_t)v;
    return true;
}

static void v_sorry(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct cfg_vs *vs = o;

    if (!cfg_nargs(c, n, 2, 3, "IP [PORT]") || !cfg_ip(c, n, n->argv[1], &vs->sorry_addr))
        return;
    if (n->argc == 3 && !port_arg(c, n, n->argv[2], &vs->sorry_port))
        return;
    vs->has_sorry = true;
}

static void v_sorry_inhibit(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_bool(c, n, &VS(o)->sorry_inhibit);
}

static void v_omega(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_bool(c, n, &VS(o)->omega);
}

static void v_ha_suspend(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_bool(c, n, &VS(o)->ha_suspend);
}

static void v_ops(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (cfg_bool(c, n, &VS(o)->ops) && VS(o)->ops)
        cfg_warn(c, n, "'ops' (one-packet scheduling) is not implemented yet by nospof; ignored");
}

static void v_virtualhost(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_str(c, n, &VS(o)->virtualhost);
}

static void v_sched_flag(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    const char *kw = n->argv[0];

    if (!cfg_nargs(c, n, 1, 1, "no value"))
        return;
    if (strcmp(kw, "flag-3") == 0)
        VS(o)->sched_flags |= CFG_SCHED_FLAG_3;
    else if (strcmp(kw, "flag-2") == 0 || strcmp(kw + 3, "port") == 0)
        VS(o)->sched_flags |= CFG_SCHED_FLAG_PORT;
    else
        VS(o)->sched_flags |= CFG_SCHED_FLAG_FALLBACK;
}

static void v_family(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (!cfg_nargs(c, n, 2, 2, "inet or inet6"))
        return;
    if (strcmp(n->argv[1], "inet") == 0)
        VS(o)->family = IP_V4;
    else if (strcmp(n->argv[1], "inet6") == 0)
        VS(o)->family = IP_V6;
    else
        cfg_err(c, n, "'ip_family': expected inet or inet6, got '%s'", n->argv[1]);
}

static void v_real_server(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_rs_parse(c, n, o);
}

static void v_proxy(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_lb_proxy_kw(c, n, &VS(o)->proxy_protocol);
}

static void v_idle(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    timer_kw(c, n, MONO_MS(1), &VS(o)->idle_timeout_us);
}

/* nospof_data_plane proxy|packet: the user-space full-NAT proxy (default) or the kernel's
 * LVS-NAT packet data plane (daemon/dp/dp_pkt.h). */
static void v_data_plane(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (!cfg_nargs(c, n, 2, 2, "proxy or packet"))
        return;
    if (strcmp(n->argv[1], "packet") == 0)
        VS(o)->packet = true;
    else if (strcmp(n->argv[1], "proxy") == 0)
        VS(o)->packet = false;
    else
        cfg_err(c, n, "'nospof_data_plane': expected proxy or packet, got '%s'", n->argv[1]);
}

/* What the packet data plane cannot do: it rewrites addresses only (LVS-NAT), so the real
 * servers see the client as it is (a real server of the other family is refused for both
 * planes, in cfg_lvs_rs.c). */
static void packet_finish(struct cfg_ctx *c, const struct conf_node *n, const struct cfg_vs *vs)
{
    char buf[IP_ADDR_STRLEN];

    if (vs->http.enabled)
        cfg_err(c, n, "nospof_data_plane packet: protocol HTTP needs the proxy data plane");
    if (vs->proxy_protocol != CFG_PROXY_NONE)
        cfg_err(c, n,
                "nospof_data_plane packet: proxy_protocol is not needed (the real server "
                "sees the client's address) and not possible; remove it");
    for (size_t i = 0; i < vs->nrss && vs->proxy_protocol == CFG_PROXY_NONE; i++)
        if (vs->rss[i].proxy_protocol != CFG_PROXY_NONE) /* its own, not inherited */
            cfg_err_at(c, &vs->rss[i].where,
                       "nospof_data_plane packet: real_server %s: proxy_protocol is not needed "
                       "(the real server sees the client's address) and not possible; remove it",
                       ip_addr_format(&vs->rss[i].addr, buf, sizeof(buf)));
}

static const struct cfg_kw vs_kws[] = {
    {"delay_loop", v_timing, CFG_LINE},
    {"connect_timeout", v_timing, CFG_LINE},
    {"retry", v_timing, CFG_LINE},
    {"nb_get_retry", v_timing, CFG_LINE},
    {"delay_before_retry", v_timing, CFG_LINE},
    {"warmup", v_timing, CFG_LINE},
    {"alpha", v_timing, CFG_LINE},
    {"inhibit_on_failure", v_timing, CFG_LINE},
    {"lb_algo", v_sched, CFG_LINE},
    {"lvs_sched", v_sched, CFG_LINE},
    {"lb_kind", v_method, CFG_LINE},
    {"lvs_method", v_method, CFG_LINE},
    {"sorry_server_lvs_method", v_method, CFG_LINE},
    {"protocol", v_protocol, CFG_LINE},
    {"persistence_timeout", v_persist, CFG_LINE},
    {"persistence_granularity", v_granularity, CFG_LINE},
    {"quorum", v_quorum, CFG_LINE},
    {"hysteresis", v_hysteresis, CFG_LINE},
    {"quorum_up", v_quorum_up, CFG_LINE},
    {"quorum_down", v_quorum_down, CFG_LINE},
    {"sorry_server", v_sorry, CFG_LINE},
    {"sorry_server_inhibit", v_sorry_inhibit, CFG_LINE},
    {"omega", v_omega, CFG_LINE},
    {"ha_suspend", v_ha_suspend, CFG_LINE},
    {"ops", v_ops, CFG_LINE},
    {"virtualhost", v_virtualhost, CFG_LINE},
    {"sh-port", v_sched_flag, CFG_LINE},
    {"sh-fallback", v_sched_flag, CFG_LINE},
    {"mh-port", v_sched_flag, CFG_LINE},
    {"mh-fallback", v_sched_flag, CFG_LINE},
    {"flag-1", v_sched_flag, CFG_LINE},
    {"flag-2", v_sched_flag, CFG_LINE},
    {"flag-3", v_sched_flag, CFG_LINE},
    {"ip_family", v_family, CFG_LINE},
    {"real_server", v_real_server, CFG_BLOCK},
    {"proxy_protocol", v_proxy, CFG_LINE},
    {"nospof_idle_timeout", v_idle, CFG_LINE},
    {"nospof_data_plane", v_data_plane, CFG_LINE},
    {"real_server_group", cfg_http_vs_kw, CFG_BLOCK},
    {"http_route", cfg_http_vs_kw, CFG_BLOCK},
    {"http_cookie", cfg_http_vs_kw, CFG_LINE},
    {"http_forwarded_for", cfg_http_vs_kw, CFG_LINE},
    {"http_forwarded_proto", cfg_http_vs_kw, CFG_LINE},
    {"http_forwarded", cfg_http_vs_kw, CFG_LINE},
    {"http_retries", cfg_http_vs_kw, CFG_LINE},
    {"http_error_limit", cfg_http_vs_kw, CFG_LINE},
    {"http_error_hold", cfg_http_vs_kw, CFG_LINE},
    {"http_max_header_size", cfg_http_vs_kw, CFG_LINE},
    {"http_max_headers", cfg_http_vs_kw, CFG_LINE},
    {"http_max_line", cfg_http_vs_kw, CFG_LINE},
    {"http_header_timeout", cfg_http_vs_kw, CFG_LINE},
    {"http_keepalive_timeout", cfg_http_vs_kw, CFG_LINE},
    {"http_server_timeout", cfg_http_vs_kw, CFG_LINE},
    {"http_access_log", cfg_http_vs_kw, CFG_LINE},
    {NULL, NULL, CFG_LINE},
};

/* ---- the virtual_server block ---- */

/* The header: "IP [PORT]" or "group NAME"; fwmark is refused. */
static bool vs_header(struct cfg_ctx *c, const struct conf_node *n, struct cfg_vs *vs)
{
    if (n->argc == 3 && strcmp(n->argv[1], "fwmark") == 0) {
        cfg_err(c, n, "fwmark virtual servers need a packet data plane, not available in nospof");
        return false;
    }
    if (n->argc == 3 && strcmp(n->argv[1], "group") == 0) {
        vs->group = cfg_xstrdup(n->argv[2]);
        return true;
    }
    if (n->argc < 2 || n->argc > 3) {
        cfg_err(c, n, "'virtual_server': expected 'IP PORT', 'group NAME' or 'fwmark N'");
        return false;
    }
    if (!cfg_ip(c, n, n->argv[1], &vs->addr))
        return false;
    vs->family = vs->addr.family; /* real servers are checked against it as they come */
    return n->argc == 2 || port_arg(c, n, n->argv[2], &vs->port);
}

static bool same_service(const struct cfg_vs *a, const struct cfg_vs *b)
{
    if (a->proto != b->proto)
        return false;
    if (a->group || b->group)
        return a->group && b->group && strcmp(a->group, b->group) == 0;
    return a->port == b->port && ip_addr_eq(&a->addr, &b->addr);
}

static void vs_check_dup(struct cfg_ctx *c, const struct conf_node *n, const struct cfg_vs *vs)
{
    char buf[IP_ADDR_STRLEN];

    for (size_t i = 0; i < c->cfg->nvss; i++) {
        const struct cfg_vs *o = &c->cfg->vss[i];

        if (!same_service(o, vs))
            continue;
        if (vs->group)
            cfg_err(c, n, "virtual_server group %s (%s) is already defined at %s:%u", vs->group,
                    vs->proto == CFG_LB_UDP ? "UDP" : "TCP", o->where.file, o->where.line);
        else
            cfg_err(c, n, "virtual_server %s %u (%s) is already defined at %s:%u",
                    ip_addr_format(&vs->addr, buf, sizeof(buf)), vs->port,
                    vs->proto == CFG_LB_UDP ? "UDP" : "TCP", o->where.file, o->where.line);
        return;
    }
}

static unsigned weight_sum(const struct cfg_vs *vs)
{
    unsigned long sum = 0;

    for (size_t i = 0; i < vs->nrss; i++)
        sum += vs->rss[i].weight;
    return sum > 0xffffffffUL ? 0xffffffffU : (unsigned)sum;
}

/* Defaults that depend on other keywords, and per-server rules. */
static void vs_finish(struct cfg_ctx *c, const struct conf_node *n, struct cfg_vs *vs)
{
    if (!vs->family)
        vs->family = vs->addr.family;
    if (vs->addr.family && vs->family != vs->addr.family)
        cfg_err(c, n, "'ip_family' does not match the virtual server's address");
    if (!vs->group && vs->port == 0 && vs->addr.family)
        cfg_err(c, n,
                "virtual_server without a port (every port) needs a packet data plane, "
                "not available in nospof; give a port");
    if (!vs->persistence_prefix && vs->family) /* a group's family is known later */
        vs->persistence_prefix = vs->family == IP_V6 ? 128 : 32;
    else if (vs->family == IP_V4 && vs->persistence_prefix > 32)
        cfg_err(c, n, "'persistence_granularity' /%u is longer than an IPv4 address",
                vs->persistence_prefix);
    if (!vs->idle_timeout_us)
        vs->idle_timeout_us = vs->proto == CFG_LB_UDP ? IDLE_UDP_US : IDLE_TCP_US;
    if (vs->has_sorry && !vs->sorry_port)
        vs->sorry_port = vs->port;
    if (vs->has_sorry && vs->family && vs->sorry_addr.family != vs->family)
        cfg_err(c, n, "sorry_server: address family differs from the virtual server's");
    for (size_t i = 0; i < vs->nrss; i++)
        cfg_rs_resolve(&vs->rss[i], vs);
    if (vs->packet)
        packet_finish(c, n, vs);
    if (vs->nrss && vs->quorum > weight_sum(vs))
        cfg_warn(c, n,
                 "quorum %u is more than the sum of the real servers' weights (%u): the "
                 "virtual server can never reach quorum",
                 vs->quorum, weight_sum(vs));
}

void cfg_vs_parse(struct cfg_ctx *c, const struct conf_node *n)
{
    struct cfg *cfg = c->cfg;
    struct cfg_vs vs = {.quorum = 1, .where = cfg_where_of(c, n)};

    if (!vs_header(c, n, &vs)) {
        vs_free(&vs);
        return;
    }
    cfg_dispatch(c, n, CFG_IN_VS, vs_kws, &vs);
    vs_finish(c, n, &vs);
    cfg_http_finish(c, n, &vs);
    vs_check_dup(c, n, &vs);
    cfg->vss = cfg_push(cfg->vss, &cfg->nvss, sizeof(vs));
    cfg->vss[cfg->nvss - 1] = vs;
}

/* ---- cross-object checks (after the whole tree) ---- */

static bool vip_in(const struct ip_addr *a, const struct cfg_vip *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ip_addr_eq(a, &v[i].addr))
            return true;
    return false;
}

static bool owned_by_vrrp(const struct cfg *cfg, const struct ip_addr *a)
{
    for (size_t i = 0; i < cfg->ninstances; i++) {
        const struct cfg_instance *in = &cfg->instances[i];

        if (vip_in(a, in->vips, in->nvips) || vip_in(a, in->evips, in->nevips))
            return true;
    }
    return false;
}

/* ha_suspend only means something when a VRRP instance adds and removes the address. */
static void check_ha_suspend(struct cfg_ctx *c, const struct cfg_vs *vs)
{
    const struct cfg_vs_group *g = vs->group ? cfg_find_vsg(c->cfg, vs->group) : NULL;
    bool owned = !vs->group && owned_by_vrrp(c->cfg, &vs->addr);

    for (size_t i = 0; g && i < g->nentries && !owned; i++)
        owned = owned_by_vrrp(c->cfg, &g->entries[i].first);
    if (!owned)
        cfg_warn_at(c, &vs->where,
                    "ha_suspend: no vrrp_instance has this virtual server's address as a "
                    "virtual_ipaddress, so its checkers are never suspended");
}

static void check_group(struct cfg_ctx *c, struct cfg_vs *vs)
{
    const struct cfg_vs_group *g = cfg_find_vsg(c->cfg, vs->group);

    if (!g) {
        cfg_err_at(c, &vs->where, "virtual_server group '%s' is not defined", vs->group);
        return;
    }
    if (g->nentries && !vs->family)
        vs->family = g->entries[0].first.family;
    if (!vs->persistence_prefix)
        vs->persistence_prefix = vs->family == IP_V6 ? 128 : 32;
    for (size_t i = 0; i < vs->nrss; i++)
        if (vs->family && vs->rss[i].addr.family != vs->family)
            cfg_err_at(c, &vs->rss[i].where,
                       "real_server: address family differs from virtual_server_group '%s'",
                       g->name);
    for (size_t i = 0; i < g->nentries; i++)
        if (g->entries[i].port == 0)
            cfg_err_at(c, &g->entries[i].where,
                       "virtual_server_group '%s': an address without a port (every port) "
                       "needs a packet data plane, not available in nospof; give a port",
                       g->name);
}

/* FILE_CHECK's track_file name and SSL_GET's TLS files are known only after the tree walk. */
static void check_checkers(struct cfg_ctx *c, struct cfg_check *k)
{
    const struct cfg_track_file *f;

    if (k->probe.kind == PROBE_SSL) {
        struct probe_http_cfg *h = &k->probe.u.http;
        const struct cfg_ssl *s = &c->cfg->ssl;

        h->ca_file = s->ca ? cfg_xstrdup(s->ca) : NULL;
        h->cert_file = s->certificate ? cfg_xstrdup(s->certificate) : NULL;
        h->key_file = s->key ? cfg_xstrdup(s->key) : NULL;
        h->tls_verify = s->ca != NULL;
    }
    if (k->probe.kind != PROBE_FILE || !k->track_file)
        return;
    f = cfg_find_track_file(c->cfg, k->track_file);
    if (!f) {
        cfg_err_at(c, &k->where, "FILE_CHECK: track_file '%s' is not defined", k->track_file);
        return;
    }
    k->probe.u.file.path = f->path ? cfg_xstrdup(f->path) : NULL;
}

void cfg_lvs_cross_check(struct cfg_ctx *c)
{
    struct cfg *cfg = c->cfg;

    for (size_t i = 0; i < cfg->nvss; i++) {
        struct cfg_vs *vs = &cfg->vss[i];

        if (vs->group)
            check_group(c, vs);
        if (vs->ha_suspend)
            check_ha_suspend(c, vs);
        for (size_t r = 0; r < vs->nrss; r++)
            for (size_t k = 0; k < vs->rss[r].nchecks; k++)
                check_checkers(c, &vs->rss[r].checks[k]);
    }
}
