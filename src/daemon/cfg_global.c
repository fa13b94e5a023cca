/* global_defs: daemon-wide settings and the VRRP defaults every instance starts from.
 *
 * Defaults are keepalived 2.2's (research/vrrp.md 1.2, keepalived.conf(5)): VRRP version 2,
 * 5 GARPs at once and 5 more after 5 s, refresh off. nospof adds nospof_graceful_stop
 * (default on), nospof_graceful_margin (0 = automatic: one advert interval),
 * nospof_lb_workers, nospof_upgrade_drain_timeout (how long the process replaced by
 * `nospofctl upgrade` lets its connections finish, 300 s) and nospof_status_listen (the HTTP
 * status listener, off by default). Keywords
 * keepalived knows that nospof does not implement (SMTP, SNMP, LVS, process tuning...) are
 * warnings through cfg_known.c. */
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "cfg_priv.h"

#define MAX_GARP_REPEAT 10000
#define MAX_DELAY_US    MONO_S(86400)

void cfg_global_defaults(struct cfg_global *g)
{
    *g = (struct cfg_global){
        .vrrp_version = 2,
        .garp_master_repeat = 5,
        .garp_master_delay_us = MONO_S(5),
        .garp_master_refresh_repeat = 1,
        .garp_lower_prio_repeat = CFG_UNSET, /* follows garp_master_repeat (cfg_global_finish) */
        .graceful_stop = true,
        .upgrade_drain_us = MONO_S(300),
    };
}

void cfg_global_free(struct cfg_global *g)
{
    free(g->router_id);
    free(g->script_user);
    free(g->script_group);
    cfg_cmd_free(&g->notify_fifo);
    cfg_cmd_free(&g->notify_fifo_script);
    cfg_cmd_free(&g->vrrp_notify_fifo);
    cfg_cmd_free(&g->vrrp_notify_fifo_script);
}

static bool one_arg(struct cfg_ctx *c, const struct conf_node *n)
{
    return cfg_nargs(c, n, 2, 2, "one value");
}

static bool count_arg(struct cfg_ctx *c, const struct conf_node *n, unsigned *out)
{
    long v;

    if (!one_arg(c, n) || !cfg_int(c, n, n->argv[1], 0, MAX_GARP_REPEAT, &v))
        return false;
    *out = (unsigned)v;
    return true;
}

static bool delay_arg(struct cfg_ctx *c, const struct conf_node *n, mono_us *out)
{
    return one_arg(c, n) && cfg_seconds(c, n, n->argv[1], 0, MAX_DELAY_US, out);
}

static void g_router_id(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_str(c, n, &((struct cfg_global *)o)->router_id);
}

static void g_version(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    long v;

    if (one_arg(c, n) && cfg_int(c, n, n->argv[1], 2, 3, &v))
        ((struct cfg_global *)o)->vrrp_version = (uint8_t)v;
}

static void g_strict(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_bool(c, n, &((struct cfg_global *)o)->vrrp_strict);
}

static void g_garp_delay(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    delay_arg(c, n, &((struct cfg_global *)o)->garp_master_delay_us);
}

static void g_garp_repeat(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    count_arg(c, n, &((struct cfg_global *)o)->garp_master_repeat);
}

static void g_garp_refresh(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    delay_arg(c, n, &((struct cfg_global *)o)->garp_master_refresh_us);
}

static void g_garp_refresh_repeat(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    count_arg(c, n, &((struct cfg_global *)o)->garp_master_refresh_repeat);
}

static void g_garp_lower_prio_repeat(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    count_arg(c, n, &((struct cfg_global *)o)->garp_lower_prio_repeat);
}

static void g_garp_interval(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    delay_arg(c, n, &((struct cfg_global *)o)->garp_interval_us);
}

static void g_gna_interval(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    delay_arg(c, n, &((struct cfg_global *)o)->gna_interval_us);
}

/* vrrp_min_garp: one GARP round and no second burst (keepalived.conf(5)). */
static void g_min_garp(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct cfg_global *g = o;
    bool on;

    if (!cfg_bool(c, n, &on) || !on)
        return;
    g->garp_master_repeat = 1;
    g->garp_master_delay_us = 0;
    if (g->garp_lower_prio_repeat == CFG_UNSET)
        g->garp_lower_prio_repeat = 1;
    g->garp_master_refresh_repeat = 1;
}

static void g_lower_prio_no_advert(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_bool(c, n, &((struct cfg_global *)o)->lower_prio_no_advert);
}

static void g_higher_prio_send_advert(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_bool(c, n, &((struct cfg_global *)o)->higher_prio_send_advert);
}

static void g_check_unicast_src(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_bool(c, n, &((struct cfg_global *)o)->vrrp_check_unicast_src);
}

static void g_skip_check_adv_addr(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_bool(c, n, &((struct cfg_global *)o)->vrrp_skip_check_adv_addr);
}

static void g_v3_checksum_as_v2(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_bool(c, n, &((struct cfg_global *)o)->v3_checksum_as_v2);
}

static void g_script_user(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct cfg_global *g = o;

    if (!cfg_nargs(c, n, 2, 3, "USER [GROUP]"))
        return;
    free(g->script_user);
    free(g->script_group);
    g->script_user = cfg_xstrdup(n->argv[1]);
    g->script_group = n->argc > 2 ? cfg_xstrdup(n->argv[2]) : NULL;
}

static void g_script_security(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_bool(c, n, &((struct cfg_global *)o)->enable_script_security);
}

/* SCHED_RR priorities are 1..99 (sched(7)). */
static void g_rt_priority(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    long v;

    if (one_arg(c, n) && cfg_int(c, n, n->argv[1], 1, 99, &v))
        ((struct cfg_global *)o)->vrrp_rt_priority = (int)v;
}

static void g_no_swap(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_bool(c, n, &((struct cfg_global *)o)->vrrp_no_swap);
}

static void g_notify_fifo(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_cmd(c, n, &((struct cfg_global *)o)->notify_fifo);
}

static void g_notify_fifo_script(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_cmd(c, n, &((struct cfg_global *)o)->notify_fifo_script);
}

static void g_vrrp_notify_fifo(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_cmd(c, n, &((struct cfg_global *)o)->vrrp_notify_fifo);
}

static void g_vrrp_notify_fifo_script(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_cmd(c, n, &((struct cfg_global *)o)->vrrp_notify_fifo_script);
}

static void g_graceful_stop(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (cfg_nargs(c, n, 2, 2, "on or off"))
        cfg_bool(c, n, &((struct cfg_global *)o)->graceful_stop);
}

static void g_lb_workers(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    long v;

    if (one_arg(c, n) && cfg_int(c, n, n->argv[1], 0, 256, &v))
        ((struct cfg_global *)o)->lb_workers = (unsigned)v;
}

static void g_upgrade_drain(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (one_arg(c, n))
        cfg_seconds(c, n, n->argv[1], 0, MONO_S(86400),
                    &((struct cfg_global *)o)->upgrade_drain_us);
}

static void g_graceful_margin(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (one_arg(c, n))
        cfg_seconds(c, n, n->argv[1], 0, MONO_S(3600),
                    &((struct cfg_global *)o)->graceful_margin_us);
}

/* nospof_status_listen IP:PORT | [IPv6]:PORT: the HTTP status listener (docs/metrics.md). */
static bool split_hostport(const char *s, char *host, size_t cap, long *port)
{
    const char *colon = s[0] == '[' ? strchr(s, ']') : strrchr(s, ':');
    size_t n;
    char *end;

    if (!colon || (s[0] == '[' && *++colon != ':'))
        return false;
    n = (size_t)(colon - s) - (s[0] == '[' ? 2 : 0);
    if (n == 0 || n >= cap || colon[1] == '\0')
        return false;
    memcpy(host, s + (s[0] == '['), n);
    host[n] = '\0';
    *port = strtol(colon + 1, &end, 10);
    return *end == '\0' && *port >= 1 && *port <= 65535;
}

static void g_status_listen(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct cfg_global *g = o;
    char host[IP_ADDR_STRLEN + 1];
    long port;

    if (!one_arg(c, n))
        return;
    if (!split_hostport(n->argv[1], host, sizeof(host), &port) ||
        !ip_addr_parse(host, &g->status_listen.addr) ||
        (n->argv[1][0] == '[') != (g->status_listen.addr.family == IP_V6)) {
        g->status_listen.addr.family = IP_NONE;
        cfg_err(c, n, "'%s': expected IP:PORT or [IPv6]:PORT, got '%s'", n->argv[0], n->argv[1]);
        return;
    }
    g->status_listen.port = (uint16_t)port;
}

static const struct cfg_kw global_kws[] = {
    {"router_id", g_router_id, CFG_LINE},
    {"vrrp_version", g_version, CFG_LINE},
    {"vrrp_strict", g_strict, CFG_LINE},
    {"vrrp_garp_master_delay", g_garp_delay, CFG_LINE},
    {"vrrp_garp_master_repeat", g_garp_repeat, CFG_LINE},
    {"vrrp_garp_master_refresh", g_garp_refresh, CFG_LINE},
    {"vrrp_garp_master_refresh_repeat", g_garp_refresh_repeat, CFG_LINE},
    {"vrrp_garp_lower_prio_repeat", g_garp_lower_prio_repeat, CFG_LINE},
    {"vrrp_garp_interval", g_garp_interval, CFG_LINE},
    {"vrrp_gna_interval", g_gna_interval, CFG_LINE},
    {"vrrp_min_garp", g_min_garp, CFG_LINE},
    {"vrrp_lower_prio_no_advert", g_lower_prio_no_advert, CFG_LINE},
    {"vrrp_higher_prio_send_advert", g_higher_prio_send_advert, CFG_LINE},
    {"vrrp_check_unicast_src", g_check_unicast_src, CFG_LINE},
    {"vrrp_skip_check_adv_addr", g_skip_check_adv_addr, CFG_LINE},
    {"v3_checksum_as_v2", g_v3_checksum_as_v2, CFG_LINE},
    {"vrrp_v3_checksum_as_v2", g_v3_checksum_as_v2, CFG_LINE},
    {"script_user", g_script_user, CFG_LINE},
    {"enable_script_security", g_script_security, CFG_LINE},
    {"vrrp_rt_priority", g_rt_priority, CFG_LINE},
    {"vrrp_no_swap", g_no_swap, CFG_LINE},
    {"notify_fifo", g_notify_fifo, CFG_LINE},
    {"notify_fifo_script", g_notify_fifo_script, CFG_LINE},
    {"vrrp_notify_fifo", g_vrrp_notify_fifo, CFG_LINE},
    {"vrrp_notify_fifo_script", g_vrrp_notify_fifo_script, CFG_LINE},
    {"nospof_graceful_stop", g_graceful_stop, CFG_LINE},
    {"nospof_graceful_margin", g_graceful_margin, CFG_LINE},
    {"nospof_lb_workers", g_lb_workers, CFG_LINE},
    {"nospof_status_listen", g_status_listen, CFG_LINE},
    {"nospof_upgrade_drain_timeout", g_upgrade_drain, CFG_LINE},
    {NULL, NULL, CFG_LINE},
};

void cfg_global_parse(struct cfg_ctx *c, const struct conf_node *n)
{
    struct cfg_global *g = &c->cfg->global;

    if (n->argc != 1)
        cfg_err(c, n, "'global_defs': expected no argument before '{'");
    cfg_dispatch(c, n, CFG_IN_GLOBAL, global_kws, g);
}

void cfg_global_finish(struct cfg_ctx *c)
{
    struct cfg_global *g = &c->cfg->global;

    if (g->garp_lower_prio_repeat == CFG_UNSET)
        g->garp_lower_prio_repeat = g->garp_master_repeat;
    if (g->vrrp_strict)
        g->lower_prio_no_advert = true; /* vrrp_strict forces the RFC behaviour */
}
