/* HTTP_GET and SSL_GET keywords: http_protocol, virtualhost, enable_sni, sni_name,
 * fast_recovery (a warning: not implemented), and url { path; digest; status_code;
 * virtualhost } blocks into struct probe_http_cfg.
 *
 * keepalived.conf(5): http_protocol is 1.0 (default), 1.0C (1.0 plus "Connection: close") or
 * 1.1; a url's path defaults to "/", its digest is the MD5 of the body as printed by genhash
 * (32 hex digits), and status_code takes codes and lo-hi ranges (none = 200-299). The regex
 * options are known and warned (cfg_known.c). */
#include <stdlib.h>
#include <string.h>

#include "cfg_priv.h"
#include "base/bytes.h"

#define URL_STATUS_MAX 16

void cfg_check_http_free(struct probe_http_cfg *h)
{
    for (size_t i = 0; i < h->nurls; i++) {
        free(h->urls[i].path);
        free(h->urls[i].virtualhost);
    }
    free(h->urls);
    free(h->virtualhost);
    free(h->sni_name);
    free(h->ca_file);
    free(h->cert_file);
    free(h->key_file);
}

#define URL(o) ((struct probe_http_url *)(o))

static void u_path(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (cfg_str(c, n, &URL(o)->path) && URL(o)->path[0] != '/')
        cfg_err(c, n, "'path': expected a path starting with '/', got '%s'", URL(o)->path);
}

static void u_virtualhost(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_str(c, n, &URL(o)->virtualhost);
}

static void u_digest(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct probe_http_url *u = o;
    const char *s;

    if (!cfg_nargs(c, n, 2, 2, "an MD5 digest"))
        return;
    s = n->argv[1];
    for (size_t i = 0; i < 32; i++)
        if (hex_digit_value(s[i]) < 0) {
            cfg_err(c, n, "'digest': expected 32 hex digits (genhash's MD5), got '%s'", s);
            return;
        }
    if (s[32]) {
        cfg_err(c, n, "'digest': expected 32 hex digits (genhash's MD5), got '%s'", s);
        return;
    }
    for (size_t i = 0; i < 16; i++)
        u->digest[i] = (uint8_t)(hex_digit_value(s[2 * i]) << 4 | hex_digit_value(s[2 * i + 1]));
    u->has_digest = true;
}

/* "200" or "200-299" within 100..599. */
static bool status_range(struct cfg_ctx *c, const struct conf_node *n, const char *s,
                         struct probe_http_url *u)
{
    char lo_s[8];
    const char *dash = strchr(s, '-');
    long lo, hi;

    if (dash && (size_t)(dash - s) < sizeof(lo_s)) {
        memcpy(lo_s, s, (size_t)(dash - s));
        lo_s[dash - s] = '\0';
        if (!cfg_int(c, n, lo_s, 100, 599, &lo) || !cfg_int(c, n, dash + 1, 100, 599, &hi))
            return false;
    } else if (!cfg_int(c, n, s, 100, 599, &lo)) {
        return false;
    } else {
        hi = lo;
    }
    if (hi < lo) {
        cfg_err(c, n, "'status_code': range '%s' ends before it starts", s);
        return false;
    }
    u->status[u->nstatus].lo = (uint16_t)lo;
    u->status[u->nstatus].hi = (uint16_t)hi;
    u->nstatus++;
    return true;
}

static void u_status(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct probe_http_url *u = o;

    if (!cfg_nargs(c, n, 2, 1 + URL_STATUS_MAX, "codes or ranges (at most 16)"))
        return;
    u->nstatus = 0;
    for (unsigned i = 1; i < n->argc; i++)
        if (!status_range(c, n, n->argv[i], u))
            return;
}

static const struct cfg_kw url_kws[] = {
    {"path", u_path, CFG_LINE},
    {"digest", u_digest, CFG_LINE},
    {"status_code", u_status, CFG_LINE},
    {"virtualhost", u_virtualhost, CFG_LINE},
    {NULL, NULL, CFG_LINE},
};

static void url_block(struct cfg_ctx *c, const struct conf_node *n, struct probe_http_cfg *h)
{
    struct probe_http_url u = {0};

    if (!n->has_block) {
        cfg_err(c, n, "'url': expected a '{' block");
        return;
    }
    cfg_dispatch(c, n, CFG_IN_URL, url_kws, &u);
    if (!u.path)
        u.path = cfg_xstrdup("/");
    h->urls = cfg_push(h->urls, &h->nurls, sizeof(u));
    h->urls[h->nurls - 1] = u;
}

static void http_protocol(struct cfg_ctx *c, const struct conf_node *n, struct probe_http_cfg *h)
{
    if (!cfg_nargs(c, n, 2, 2, "1.0, 1.0C or 1.1"))
        return;
    if (strcmp(n->argv[1], "1.0") == 0)
        h->http_protocol = 10;
    else if (strcmp(n->argv[1], "1.0C") == 0 || strcmp(n->argv[1], "1.0c") == 0)
        h->http_protocol = 0x1c;
    else if (strcmp(n->argv[1], "1.1") == 0)
        h->http_protocol = 11;
    else
        cfg_err(c, n, "'http_protocol': expected 1.0, 1.0C or 1.1, got '%s'", n->argv[1]);
}

bool cfg_check_http_kw(struct cfg_ctx *c, const struct conf_node *n, struct cfg_check *k)
{
    struct probe_http_cfg *h = &k->probe.u.http;
    const char *kw = n->argv[0];

    if (strcmp(kw, "url") == 0) {
        url_block(c, n, h);
    } else if (strcmp(kw, "http_protocol") == 0) {
        http_protocol(c, n, h);
    } else if (strcmp(kw, "virtualhost") == 0) {
        cfg_str(c, n, &h->virtualhost);
    } else if (strcmp(kw, "enable_sni") == 0) {
        cfg_bool(c, n, &h->enable_sni);
    } else if (strcmp(kw, "sni_name") == 0) {
        cfg_str(c, n, &h->sni_name);
    } else if (strcmp(kw, "fast_recovery") == 0) {
        if (cfg_bool(c, n, &k->fast_recovery))
            cfg_warn(c, n,
                     "'fast_recovery' is not implemented yet by nospof; every url is "
                     "checked one delay_loop apart");
    } else {
        return false;
    }
    return true;
}
