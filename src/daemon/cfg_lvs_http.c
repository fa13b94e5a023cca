/* nospof: the HTTP (L7) switch options of a virtual server with `protocol HTTP`
 * (docs/http.md): real_server_group blocks, the ordered http_route block, the sticky cookie,
 * forwarding headers, retries, passive health, limits, timeouts and the access log.
 *
 * Real servers of a real_server_group are parsed exactly like the virtual server's own (same
 * keywords, checkers and defaults) and appended to vs->rss with cfg_rs.group set, so every
 * consumer that walks real servers (health checks, status) sees them; the default group is
 * group 0. Every keyword here is refused on a virtual server that is not `protocol HTTP`. */
#include <stdlib.h>
#include <string.h>

#include "cfg_priv.h"

#define HTTP_DEF_RETRIES   2u
#define HTTP_DEF_MAX_HEAD  15360u
#define HTTP_MAX_MAX_HEAD  15360u
#define HTTP_DEF_HEADERS   100u
#define HTTP_DEF_MAX_LINE  8192u
#define HTTP_DEF_HEADER_US MONO_S(10)
#define HTTP_DEF_KEEP_US   MONO_S(60)
#define HTTP_DEF_SERVER_US MONO_S(30)
#define HTTP_DEF_HOLD_US   MONO_S(10)
#define HTTP_MAX_US        MONO_S(86400)

#define VS(o) ((struct cfg_vs *)(o))

void cfg_http_free(struct cfg_http *h)
{
    for (size_t i = 0; i < h->ngroups; i++)
        free(h->groups[i].name);
    for (size_t i = 0; i < h->nroutes; i++) {
        free(h->routes[i].host);
        free(h->routes[i].path);
        free(h->routes[i].group);
    }
    free(h->groups);
    free(h->routes);
    free(h->cookie);
    free(h->log_file);
    *h = (struct cfg_http){0};
}

/* ---- real_server_group NAME { lb_algo X; real_server ... } ---- */

static void g_sched(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct cfg_vs *vs = o;
    struct cfg_http_group *g = &vs->http.groups[vs->http.parsing_group - 1];

    g->sched_set = cfg_lb_sched_kw(c, n, &g->sched);
}

static void g_rs(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_rs_parse(c, n, o);
}

static const struct cfg_kw group_kws[] = {
    {"lb_algo", g_sched, CFG_LINE},
    {"lvs_sched", g_sched, CFG_LINE},
    {"real_server", g_rs, CFG_BLOCK},
    {NULL, NULL, CFG_LINE},
};

static void group_block(struct cfg_ctx *c, const struct conf_node *n, struct cfg_vs *vs)
{
    struct cfg_http *h = &vs->http;

    if (!cfg_nargs(c, n, 2, 2, "a group name before '{'"))
        return;
    for (size_t i = 0; i < h->ngroups; i++)
        if (strcmp(h->groups[i].name, n->argv[1]) == 0) {
            cfg_err(c, n, "real_server_group '%s' is already defined at %s:%u", n->argv[1],
                    h->groups[i].where.file, h->groups[i].where.line);
            return;
        }
    h->groups = cfg_push(h->groups, &h->ngroups, sizeof(*h->groups));
    h->groups[h->ngroups - 1] =
        (struct cfg_http_group){.name = cfg_xstrdup(n->argv[1]), .where = cfg_where_of(c, n)};
    h->parsing_group = (unsigned)h->ngroups;
    cfg_dispatch(c, n, CFG_IN_VS, group_kws, vs);
    h->parsing_group = 0;
}

/* ---- http_route { host H [path P] group G ... } ---- */

static char *lower_dup(const char *s)
{
    char *d = cfg_xstrdup(s);

    for (char *p = d; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    return d;
}

static bool route_host(struct cfg_ctx *c, const struct conf_node *n, const char *v,
                       struct cfg_http_route *r)
{
    if (strlen(v) >= 127 || strchr(v, ':') || strchr(v, '/')) {
        cfg_err(c, n, "http_route: host '%s': expected a name or *.suffix (no port)", v);
        return false;
    }
    if (v[0] == '*') {
        if (v[1] != '.' || !v[2] || strchr(v + 1, '*')) {
            cfg_err(c, n, "http_route: wildcard host '%s': expected *.suffix", v);
            return false;
        }
        r->wildcard = true;
        r->host = lower_dup(v + 1);
        return true;
    }
    r->host = lower_dup(v);
    return true;
}

static void route_line(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct cfg_http *h = &VS(o)->http;
    struct cfg_http_route r = {.where = cfg_where_of(c, n)};
    bool ok = n->argc % 2 == 0, reported = false;

    for (unsigned i = 0; ok && i + 1 < n->argc; i += 2) {
        const char *k = n->argv[i], *v = n->argv[i + 1];
        if (strcmp(k, "host") == 0 && !r.host)
            reported = !(ok = route_host(c, n, v, &r));
        else if (strcmp(k, "path") == 0 && !r.path && v[0] == '/' && strlen(v) < 127)
            r.path = cfg_xstrdup(v);
        else if (strcmp(k, "group") == 0 && !r.group)
            r.group = cfg_xstrdup(v);
        else
            ok = false;
    }
    if (!ok || !r.group || (!r.host && !r.path)) {
        if (!reported)
            cfg_err(c, n,
                    "http_route: expected '[host NAME|*.SUFFIX] [path /PREFIX] group "
                    "NAME' with a host or a path");
        free(r.host);
        free(r.path);
        free(r.group);
        return;
    }
    if (!r.host)
        r.host = cfg_xstrdup("");
    if (!r.path)
        r.path = cfg_xstrdup("");
    h->routes = cfg_push(h->routes, &h->nroutes, sizeof(r));
    h->routes[h->nroutes - 1] = r;
}

static const struct cfg_kw route_kws[] = {
    {"host", route_line, CFG_LINE},
    {"path", route_line, CFG_LINE},
    {"group", route_line, CFG_LINE},
    {NULL, NULL, CFG_LINE},
};

/* ---- line keywords ---- */

static void onoff(struct cfg_ctx *c, const struct conf_node *n, bool *out)
{
    cfg_bool(c, n, out);
}

static void count_kw(struct cfg_ctx *c, const struct conf_node *n, long lo, long hi, unsigned *out)
{
    long v;

    if (cfg_nargs(c, n, 2, 2, "a number") && cfg_int(c, n, n->argv[1], lo, hi, &v))
        *out = (unsigned)v;
}

static void secs_kw(struct cfg_ctx *c, const struct conf_node *n, mono_us *out)
{
    if (cfg_nargs(c, n, 2, 2, "seconds"))
        cfg_seconds(c, n, n->argv[1], MONO_MS(1), HTTP_MAX_US, out);
}

static void log_kw(struct cfg_ctx *c, const struct conf_node *n, struct cfg_http *h)
{
    if (!cfg_nargs(c, n, 2, 2, "a file name or syslog"))
        return;
    free(h->log_file);
    h->log_file = NULL;
    if (strcmp(n->argv[1], "syslog") == 0) {
        h->log = CFG_HTTP_LOG_SYSLOG;
        return;
    }
    if (n->argv[1][0] != '/') {
        cfg_err(c, n, "http_access_log: expected an absolute file name or syslog");
        return;
    }
    h->log = CFG_HTTP_LOG_FILE;
    h->log_file = cfg_xstrdup(n->argv[1]);
}

static void cookie_kw(struct cfg_ctx *c, const struct conf_node *n, struct cfg_http *h)
{
    if (!cfg_nargs(c, n, 2, 2, "a cookie name"))
        return;
    for (const char *p = n->argv[1]; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-')) {
            cfg_err(c, n, "http_cookie: '%s': letters, digits, '_' and '-' only", n->argv[1]);
            return;
        }
    if (strlen(n->argv[1]) > 63) {
        cfg_err(c, n, "http_cookie: name longer than 63 bytes");
        return;
    }
    cfg_str(c, n, &h->cookie);
}

static bool block_kw(struct cfg_ctx *c, const struct conf_node *n, struct cfg_vs *vs)
{
    if (strcmp(n->argv[0], "real_server_group") == 0) {
        group_block(c, n, vs);
        return true;
    }
    if (strcmp(n->argv[0], "http_route") == 0) {
        if (cfg_nargs(c, n, 1, 1, "no argument before '{'"))
            cfg_dispatch(c, n, CFG_IN_VS, route_kws, vs);
        return true;
    }
    return false;
}

void cfg_http_vs_kw(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct cfg_vs *vs = o;
    struct cfg_http *h = &vs->http;
    const char *k = n->argv[0];

    if (!h->enabled) {
        cfg_err(c, n, "'%s' needs 'protocol HTTP' (written before it) in this virtual_server", k);
        return;
    }
    if (block_kw(c, n, vs))
        return;
    if (strcmp(k, "http_cookie") == 0)
        cookie_kw(c, n, h);
    else if (strcmp(k, "http_forwarded_for") == 0)
        onoff(c, n, &h->xff);
    else if (strcmp(k, "http_forwarded_proto") == 0)
        onoff(c, n, &h->xfp);
    else if (strcmp(k, "http_forwarded") == 0)
        onoff(c, n, &h->fwd);
    else if (strcmp(k, "http_retries") == 0)
        count_kw(c, n, 0, 15, &h->retries);
    else if (strcmp(k, "http_error_limit") == 0)
        count_kw(c, n, 0, 1000000, &h->error_limit);
    else if (strcmp(k, "http_error_hold") == 0)
        secs_kw(c, n, &h->error_hold_us);
    else if (strcmp(k, "http_max_header_size") == 0)
        count_kw(c, n, 256, HTTP_MAX_MAX_HEAD, &h->max_head);
    else if (strcmp(k, "http_max_line") == 0)
        count_kw(c, n, 64, HTTP_MAX_MAX_HEAD, &h->max_line);
    else if (strcmp(k, "http_max_headers") == 0)
        count_kw(c, n, 1, 100, &h->max_headers);
    else if (strcmp(k, "http_header_timeout") == 0)
        secs_kw(c, n, &h->header_timeout_us);
    else if (strcmp(k, "http_keepalive_timeout") == 0)
        secs_kw(c, n, &h->keepalive_timeout_us);
    else if (strcmp(k, "http_server_timeout") == 0)
        secs_kw(c, n, &h->server_timeout_us);
    else if (strcmp(k, "http_access_log") == 0)
        log_kw(c, n, h);
}

/* ---- after the block ---- */

static void resolve_routes(struct cfg_ctx *c, struct cfg_http *h)
{
    for (size_t i = 0; i < h->nroutes; i++) {
        struct cfg_http_route *r = &h->routes[i];
        r->index = 0;
        for (size_t g = 0; g < h->ngroups; g++)
            if (strcmp(h->groups[g].name, r->group) == 0)
                r->index = (unsigned)g + 1;
        if (!r->index)
            cfg_err_at(c, &r->where, "http_route: real_server_group '%s' is not defined", r->group);
    }
}

void cfg_http_finish(struct cfg_ctx *c, const struct conf_node *n, struct cfg_vs *vs)
{
    struct cfg_http *h = &vs->http;

    if (!h->enabled)
        return;
    if (vs->proto != CFG_LB_TCP) {
        cfg_err(c, n, "protocol HTTP runs over TCP: a later 'protocol' line changed it");
        return;
    }
    resolve_routes(c, h);
    for (size_t g = 0; g < h->ngroups; g++) {
        if (!h->groups[g].sched_set)
            h->groups[g].sched = vs->sched;
        bool any = false;
        for (size_t i = 0; i < vs->nrss; i++)
            any |= vs->rss[i].group == g + 1;
        if (!any)
            cfg_warn_at(c, &h->groups[g].where, "real_server_group '%s' has no real_server",
                        h->groups[g].name);
    }
    if (vs->proxy_protocol != CFG_PROXY_NONE && (h->xff || h->xfp || h->fwd))
        cfg_warn(c, n,
                 "protocol HTTP: proxy_protocol is set, so the X-Forwarded-For/-Proto and "
                 "Forwarded headers are not added (turn them off to silence this)");
    if (!h->max_head)
        h->max_head = HTTP_DEF_MAX_HEAD;
    if (!h->max_headers)
        h->max_headers = HTTP_DEF_HEADERS;
    if (!h->max_line)
        h->max_line = HTTP_DEF_MAX_LINE;
    if (h->max_line > h->max_head)
        cfg_warn(c, n,
                 "http_max_line %u is more than http_max_header_size %u: the head size "
                 "bounds the lines too",
                 h->max_line, h->max_head);
    if (!h->header_timeout_us)
        h->header_timeout_us = HTTP_DEF_HEADER_US;
    if (!h->keepalive_timeout_us)
        h->keepalive_timeout_us = HTTP_DEF_KEEP_US;
    if (!h->server_timeout_us)
        h->server_timeout_us = HTTP_DEF_SERVER_US;
    if (!h->error_hold_us)
        h->error_hold_us = HTTP_DEF_HOLD_US;
}

void cfg_http_enable(struct cfg_vs *vs)
{
    struct cfg_http *h = &vs->http;

    if (h->enabled)
        return;
    h->enabled = true;
    h->xff = h->xfp = true;
    h->retries = HTTP_DEF_RETRIES;
}
