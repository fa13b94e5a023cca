/* real_server IP [PORT] { ... } inside a virtual_server, and the top-level SSL { } block.
 *
 * A real server has weight 1 by default (0..65535), its port defaults to the virtual
 * server's, and it may carry any number of checkers of any type. Timing options written on
 * the real server override the virtual server's and are the defaults of its checkers
 * (keepalived.conf(5), "LVS CONFIGURATION"). Two real servers with the same address and port
 * in one virtual server are an error (keepalived merges them silently). */
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "cfg_priv.h"

#define LB_DELAY_LOOP_US  MONO_S(60)
#define LB_CONNECT_US     MONO_S(5)
#define LB_DELAY_RETRY_US MONO_S(1)

#define RS(o) ((struct cfg_rs *)(o))

void cfg_rs_free(struct cfg_rs *rs)
{
    cfg_cmd_free(&rs->notify_up);
    cfg_cmd_free(&rs->notify_down);
    free(rs->virtualhost);
    for (size_t i = 0; i < rs->nchecks; i++)
        cfg_check_free(&rs->checks[i]);
    free(rs->checks);
}

static void r_weight(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    long v;

    if (cfg_nargs(c, n, 2, 2, "a weight") && cfg_int(c, n, n->argv[1], 0, 65535, &v))
        RS(o)->weight = (unsigned)v;
}

static void r_method(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_lb_method(c, n);
}

static void r_notify_up(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_cmd(c, n, &RS(o)->notify_up);
}

static void r_notify_down(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_cmd(c, n, &RS(o)->notify_down);
}

static void r_threshold(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    long v;

    if (!cfg_nargs(c, n, 2, 2, "a connection count") ||
        !cfg_int(c, n, n->argv[1], 0, 4294967295L, &v))
        return;
    if (n->argv[0][0] == 'u')
        RS(o)->uthreshold = (unsigned)v;
    else
        RS(o)->lthreshold = (unsigned)v;
}

static void r_virtualhost(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_str(c, n, &RS(o)->virtualhost);
}

static void r_timing(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_lb_timing_kw(c, n, &RS(o)->timing);
}

static void r_proxy(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_lb_proxy_kw(c, n, &RS(o)->proxy_protocol);
}

static void r_check(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_check_parse(c, n, o);
}

static const struct cfg_kw rs_kws[] = {
    {"weight", r_weight, CFG_LINE},
    {"lvs_method", r_method, CFG_LINE},
    {"lb_kind", r_method, CFG_LINE},
    {"notify_up", r_notify_up, CFG_LINE},
    {"notify_down", r_notify_down, CFG_LINE},
    {"uthreshold", r_threshold, CFG_LINE},
    {"lthreshold", r_threshold, CFG_LINE},
    {"virtualhost", r_virtualhost, CFG_LINE},
    {"alpha", r_timing, CFG_LINE},
    {"connect_timeout", r_timing, CFG_LINE},
    {"retry", r_timing, CFG_LINE},
    {"nb_get_retry", r_timing, CFG_LINE},
    {"delay_before_retry", r_timing, CFG_LINE},
    {"warmup", r_timing, CFG_LINE},
    {"delay_loop", r_timing, CFG_LINE},
    {"inhibit_on_failure", r_timing, CFG_LINE},
    {"proxy_protocol", r_proxy, CFG_LINE},
    {"TCP_CHECK", r_check, CFG_BLOCK},
    {"HTTP_GET", r_check, CFG_BLOCK},
    {"SSL_GET", r_check, CFG_BLOCK},
    {"SMTP_CHECK", r_check, CFG_BLOCK},
    {"DNS_CHECK", r_check, CFG_BLOCK},
    {"PING_CHECK", r_check, CFG_BLOCK},
    {"UDP_CHECK", r_check, CFG_BLOCK},
    {"MISC_CHECK", r_check, CFG_BLOCK},
    {"FILE_CHECK", r_check, CFG_BLOCK},
    {"BFD_CHECK", r_check, CFG_BLOCK},
    {NULL, NULL, CFG_LINE},
};

static bool rs_header(struct cfg_ctx *c, const struct conf_node *n, const struct cfg_vs *vs,
                      struct cfg_rs *rs)
{
    long port;

    if (!cfg_nargs(c, n, 2, 3, "'IP [PORT]' before '{'") || !cfg_ip(c, n, n->argv[1], &rs->addr))
        return false;
    if (n->argc == 3) {
        if (!cfg_int(c, n, n->argv[2], 1, 65535, &port))
            return false;
        rs->port = (uint16_t)port;
    } else {
        rs->port = vs->port; /* 0 for a group: the port the client connected to */
    }
    if (vs->family && rs->addr.family != vs->family) {
        cfg_err(c, n,
                "real_server: address family differs from the virtual server's (serve "
                "the other family from a virtual server of its own)");
        return false;
    }
    return true;
}

static void rs_check_dup(struct cfg_ctx *c, const struct conf_node *n, const struct cfg_vs *vs,
                         const struct cfg_rs *rs)
{
    char buf[IP_ADDR_STRLEN];

    for (size_t i = 0; i < vs->nrss; i++)
        if (vs->rss[i].port == rs->port && ip_addr_eq(&vs->rss[i].addr, &rs->addr) &&
            vs->rss[i].group == rs->group) {
            cfg_err(c, n, "real_server %s %u is already defined in this %s at %s:%u",
                    ip_addr_format(&rs->addr, buf, sizeof(buf)), rs->port,
                    rs->group ? "real_server_group" : "virtual_server", vs->rss[i].where.file,
                    vs->rss[i].where.line);
            return;
        }
}

void cfg_rs_parse(struct cfg_ctx *c, const struct conf_node *n, struct cfg_vs *vs)
{
    struct cfg_rs rs = {.weight = 1,
                        .proxy_protocol = CFG_PROXY_INHERIT,
                        .where = cfg_where_of(c, n),
                        .group = vs->http.parsing_group};

    if (!rs_header(c, n, vs, &rs))
        return;
    rs_check_dup(c, n, vs, &rs);
    cfg_dispatch(c, n, CFG_IN_RS, rs_kws, &rs);
    if (rs.uthreshold && rs.lthreshold > rs.uthreshold)
        cfg_err(c, n, "real_server: lthreshold %u is above uthreshold %u", rs.lthreshold,
                rs.uthreshold);
    vs->rss = cfg_push(vs->rss, &vs->nrss, sizeof(rs));
    vs->rss[vs->nrss - 1] = rs;
}

/* dst keeps what it has set; the rest comes from src's set fields. */
static void timing_inherit(struct cfg_lb_timing *dst, const struct cfg_lb_timing *src)
{
    uint8_t take = src->set & (uint8_t)~dst->set;

    if (take & CFG_LBT_DELAY_LOOP)
        dst->delay_loop_us = src->delay_loop_us;
    if (take & CFG_LBT_CONNECT_TO)
        dst->connect_timeout_us = src->connect_timeout_us;
    if (take & CFG_LBT_RETRY)
        dst->retry = src->retry;
    if (take & CFG_LBT_DELAY_RETRY)
        dst->delay_before_retry_us = src->delay_before_retry_us;
    if (take & CFG_LBT_WARMUP)
        dst->warmup_us = src->warmup_us;
    if (take & CFG_LBT_ALPHA)
        dst->alpha = src->alpha;
    if (take & CFG_LBT_INHIBIT)
        dst->inhibit_on_failure = src->inhibit_on_failure;
    dst->set |= take;
}

void cfg_rs_resolve(struct cfg_rs *rs, const struct cfg_vs *vs)
{
    struct cfg_lb_timing *t = &rs->timing;
    uint8_t own = t->set;

    timing_inherit(t, &vs->timing);
    for (size_t i = 0; i < rs->nchecks; i++)
        cfg_check_resolve(&rs->checks[i], rs, vs);
    if (!(t->set & CFG_LBT_DELAY_LOOP))
        t->delay_loop_us = LB_DELAY_LOOP_US;
    if (!(t->set & CFG_LBT_CONNECT_TO))
        t->connect_timeout_us = LB_CONNECT_US;
    if (!(t->set & CFG_LBT_RETRY))
        t->retry = 1;
    if (!(t->set & CFG_LBT_DELAY_RETRY))
        t->delay_before_retry_us = LB_DELAY_RETRY_US;
    if (!(t->set & CFG_LBT_WARMUP))
        t->warmup_us = t->delay_loop_us;
    t->set = own; /* keep the record of what the real server itself wrote */
    if (rs->proxy_protocol == CFG_PROXY_INHERIT)
        rs->proxy_protocol = vs->proxy_protocol;
}

/* ---- SSL { password ca certificate key } ---- */

#define SSL(o) ((struct cfg_ssl *)(o))

static void l_password(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_str(c, n, &SSL(o)->password);
}

static void l_ca(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_str(c, n, &SSL(o)->ca);
}

static void l_certificate(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_str(c, n, &SSL(o)->certificate);
}

static void l_key(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_str(c, n, &SSL(o)->key);
}

static const struct cfg_kw ssl_kws[] = {
    {"password", l_password, CFG_LINE},
    {"ca", l_ca, CFG_LINE},
    {"certificate", l_certificate, CFG_LINE},
    {"key", l_key, CFG_LINE},
    {NULL, NULL, CFG_LINE},
};

void cfg_ssl_free(struct cfg_ssl *ssl)
{
    free(ssl->password);
    free(ssl->ca);
    free(ssl->certificate);
    free(ssl->key);
    *ssl = (struct cfg_ssl){0};
}

void cfg_ssl_parse(struct cfg_ctx *c, const struct conf_node *n)
{
    struct cfg_ssl *ssl = &c->cfg->ssl;

    if (!cfg_nargs(c, n, 1, 1, "no argument before '{'"))
        return;
    if (ssl->configured) {
        cfg_err(c, n, "SSL is already defined at %s:%u", ssl->where.file, ssl->where.line);
        return;
    }
    ssl->configured = true;
    ssl->where = cfg_where_of(c, n);
    cfg_dispatch(c, n, CFG_IN_SSL, ssl_kws, ssl);
    if (ssl->key && !ssl->certificate)
        cfg_err(c, n, "SSL: 'key' without 'certificate'");
}
