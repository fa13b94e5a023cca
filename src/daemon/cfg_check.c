/* Health checker blocks of a real_server: TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK, DNS_CHECK,
 * PING_CHECK, UDP_CHECK, MISC_CHECK, FILE_CHECK (BFD_CHECK is a warning), into struct
 * cfg_check (a struct probe_cfg plus resolved timing).
 *
 * Every checker takes the connection keys connect_ip, connect_port, bindto, bind_port,
 * bind_if, fwmark and the timing keys alpha, connect_timeout, retry (nb_get_retry),
 * delay_before_retry, warmup, delay_loop, log_all_failures -- except MISC_CHECK, which has
 * no connection keys, and FILE_CHECK, which has neither (keepalived.conf(5)). Defaults when
 * no level sets them: delay_loop 60 s, connect_timeout 5 s, retry 1 (DNS 3, MISC 0),
 * delay_before_retry 3 s for HTTP/SSL, delay_loop for DNS, 1 s otherwise, warmup = delay_loop,
 * DNS type SOA and name ".", UDP max_reply_length 255, MISC misc_timeout = delay_loop. */
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "base/bytes.h"
#include "cfg_priv.h"

#define CK_MAX_US MONO_S(86400)

typedef bool check_kw_fn(struct cfg_ctx *c, const struct conf_node *n, struct cfg_check *k);

struct check_type {
    const char *name;
    enum probe_kind kind;
    bool conn;   /* takes connect_ip ... fwmark */
    bool timing; /* takes alpha, connect_timeout ... log_all_failures */
    check_kw_fn *fn;
};

static check_kw_fn no_kw, smtp_kw, dns_kw, udp_kw, misc_kw, file_kw;

static const struct check_type types[] = {
    {"TCP_CHECK", PROBE_TCP, true, true, no_kw},
    {"HTTP_GET", PROBE_HTTP, true, true, cfg_check_http_kw},
    {"SSL_GET", PROBE_SSL, true, true, cfg_check_http_kw},
    {"SMTP_CHECK", PROBE_SMTP, true, true, smtp_kw},
    {"DNS_CHECK", PROBE_DNS, true, true, dns_kw},
    {"PING_CHECK", PROBE_PING, true, true, no_kw},
    {"UDP_CHECK", PROBE_UDP, true, true, udp_kw},
    {"MISC_CHECK", PROBE_MISC, false, true, misc_kw},
    {"FILE_CHECK", PROBE_FILE, false, false, file_kw},
};

static const struct check_type *type_of(const char *kw)
{
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(types[i].name, kw) == 0)
            return &types[i];
    return NULL;
}

void cfg_check_free(struct cfg_check *k)
{
    struct probe_cfg *p = &k->probe;

    switch (p->kind) {
    case PROBE_HTTP:
    case PROBE_SSL:
        cfg_check_http_free(&p->u.http);
        break;
    case PROBE_SMTP:
        free(p->u.smtp.helo_name);
        break;
    case PROBE_DNS:
        free(p->u.dns.name);
        break;
    case PROBE_UDP:
        free(p->u.udp.payload);
        free(p->u.udp.reply);
        free(p->u.udp.reply_mask);
        break;
    case PROBE_MISC:
        free(p->u.misc.cmdline);
        free(p->u.misc.user);
        free(p->u.misc.group);
        break;
    case PROBE_FILE:
        free(p->u.file.path);
        break;
    case PROBE_TCP:
    case PROBE_PING:
    case PROBE__COUNT:
        break;
    }
    free(k->track_file);
}

/* ---- connection keys ---- */

static bool port_of(struct cfg_ctx *c, const struct conf_node *n, uint16_t *out)
{
    long v;

    if (cfg_nargs(c, n, 2, 2, "a port") && cfg_int(c, n, n->argv[1], 1, 65535, &v))
        *out = (uint16_t)v;
    return true;
}

static bool conn_kw(struct cfg_ctx *c, const struct conf_node *n, struct probe_target *t)
{
    const char *kw = n->argv[0];
    long v;

    if (strcmp(kw, "connect_ip") == 0 || strcmp(kw, "bindto") == 0) {
        if (cfg_nargs(c, n, 2, 2, "an address"))
            cfg_ip(c, n, n->argv[1], kw[0] == 'c' ? &t->addr : &t->bind_addr);
        return true;
    }
    if (strcmp(kw, "connect_port") == 0)
        return port_of(c, n, &t->port);
    if (strcmp(kw, "bind_port") == 0)
        return port_of(c, n, &t->bind_port);
    if (strcmp(kw, "bind_if") == 0) {
        if (cfg_nargs(c, n, 2, 2, "an interface name"))
            cfg_ifname(c, n, n->argv[1], t->bind_if);
        return true;
    }
    if (strcmp(kw, "fwmark") == 0) {
        if (cfg_nargs(c, n, 2, 2, "a mark") && cfg_int(c, n, n->argv[1], 0, 4294967295L, &v))
            t->fwmark = (uint32_t)v;
        return true;
    }
    return false;
}

static bool is_conn_kw(const char *kw)
{
    static const char *const names[] = {"connect_ip", "connect_port", "bindto",
                                        "bind_port",  "bind_if",      "fwmark"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(kw, names[i]) == 0)
            return true;
    return false;
}

static bool is_timing_kw(const char *kw)
{
    static const char *const names[] = {"alpha",        "connect_timeout",    "retry",
                                        "nb_get_retry", "delay_before_retry", "warmup",
                                        "delay_loop",   "log_all_failures"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(kw, names[i]) == 0)
            return true;
    return false;
}

static bool timing_kw(struct cfg_ctx *c, const struct conf_node *n, struct cfg_check *k)
{
    if (strcmp(n->argv[0], "log_all_failures") == 0) {
        cfg_bool(c, n, &k->log_all_failures);
        return true;
    }
    return cfg_lb_timing_kw(c, n, &k->timing);
}

/* ---- per-type keys ---- */

static bool no_kw(struct cfg_ctx *c, const struct conf_node *n, struct cfg_check *k)
{
    return false;
}

static bool smtp_kw(struct cfg_ctx *c, const struct conf_node *n, struct cfg_check *k)
{
    if (strcmp(n->argv[0], "helo_name") == 0) {
        cfg_str(c, n, &k->probe.u.smtp.helo_name);
        return true;
    }
    if (strcmp(n->argv[0], "host") == 0) {
        cfg_warn(c, n,
                 "SMTP_CHECK 'host' sub-blocks are a legacy form nospof does not "
                 "implement; block ignored (use one SMTP_CHECK per target with "
                 "connect_ip/connect_port)");
        return true;
    }
    return false;
}

static const struct {
    const char *name;
    uint16_t qtype;
} dns_types[] = {
    {"A", 1}, {"NS", 2}, {"CNAME", 5}, {"SOA", 6}, {"MX", 15}, {"TXT", 16}, {"AAAA", 28},
};

static bool dns_kw(struct cfg_ctx *c, const struct conf_node *n, struct cfg_check *k)
{
    struct probe_dns_cfg *d = &k->probe.u.dns;

    if (strcmp(n->argv[0], "name") == 0) {
        if (cfg_str(c, n, &d->name) && strlen(d->name) > 253)
            cfg_err(c, n, "'name': a domain name has at most 253 characters");
        return true;
    }
    if (strcmp(n->argv[0], "type") != 0)
        return false;
    if (!cfg_nargs(c, n, 2, 2, "a query type"))
        return true;
    for (size_t i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
        if (strcmp(n->argv[1], dns_types[i].name) == 0) {
            d->qtype = dns_types[i].qtype;
            return true;
        }
    cfg_err(c, n, "'type': expected A|NS|CNAME|SOA|MX|TXT|AAAA, got '%s'", n->argv[1]);
    return true;
}

static int hexval(char ch)
{
    if (ch == 'x' || ch == 'X')
        return 16; /* "any nibble" (UDP_CHECK require_reply) */
    return hex_digit_value(ch);
}

/* keepalived's free-form HEX_STR: each word is read in pairs from the left, an odd last digit
 * is a byte of its own ("Ab12f 3" = AB 12 0F 03). With wild, X/x is a nibble that matches
 * anything (its mask nibble is 0). Returns the byte count, or -1 on a bad digit. */
static long hex_words(const struct conf_node *n, bool wild, uint8_t *val, uint8_t *mask)
{
    long len = 0;

    for (unsigned i = 1; i < n->argc; i++) {
        const char *w = n->argv[i];
        size_t wl = strlen(w);

        for (size_t j = 0; j < wl; j += 2) {
            int hi = j + 1 < wl ? hexval(w[j]) : 0;
            int lo = hexval(j + 1 < wl ? w[j + 1] : w[j]);

            if (hi < 0 || lo < 0 || (!wild && (hi == 16 || lo == 16)))
                return -1;
            if (val) {
                val[len] = (uint8_t)((hi & 15) << 4 | (lo & 15));
                mask[len] = (uint8_t)((hi == 16 ? 0 : 0xf0) | (lo == 16 ? 0 : 0x0f));
            }
            len++;
        }
    }
    return len;
}

static bool hex_arg(struct cfg_ctx *c, const struct conf_node *n, bool wild, uint8_t **val,
                    uint8_t **mask, size_t *len)
{
    long cnt = hex_words(n, wild, NULL, NULL);
    uint8_t *m;

    if (cnt < 0 || cnt > 65507) {
        cfg_err(c, n, "'%s': expected hex digits%s (at most 65507 bytes)", n->argv[0],
                wild ? " or X" : "");
        return false;
    }
    free(*val);
    *val = cfg_xcalloc((size_t)cnt, 1);
    m = cfg_xcalloc((size_t)cnt, 1);
    hex_words(n, wild, *val, m);
    if (mask) {
        free(*mask);
        *mask = m;
    } else {
        free(m);
    }
    *len = (size_t)cnt;
    return true;
}

static bool udp_len(struct cfg_ctx *c, const struct conf_node *n, size_t *out)
{
    long v;

    if (cfg_nargs(c, n, 2, 2, "a length") && cfg_int(c, n, n->argv[1], 0, 65535, &v))
        *out = (size_t)v;
    return true;
}

static bool udp_kw(struct cfg_ctx *c, const struct conf_node *n, struct cfg_check *k)
{
    struct probe_udp_cfg *u = &k->probe.u.udp;

    if (strcmp(n->argv[0], "payload") == 0)
        return hex_arg(c, n, false, &u->payload, NULL, &u->payload_len), true;
    if (strcmp(n->argv[0], "require_reply") == 0) {
        u->require_reply = true;
        if (n->argc > 1)
            hex_arg(c, n, true, &u->reply, &u->reply_mask, &u->reply_len);
        return true;
    }
    if (strcmp(n->argv[0], "min_reply_length") == 0)
        return udp_len(c, n, &u->min_reply_len);
    if (strcmp(n->argv[0], "max_reply_length") == 0)
        return udp_len(c, n, &u->max_reply_len);
    return false;
}

/* misc_path CMD [ARGS...]: unquoted words after the command are its arguments. */
static void misc_path(struct cfg_ctx *c, const struct conf_node *n, char **out)
{
    size_t len = 0;

    if (!cfg_nargs(c, n, 2, 4096, "a command"))
        return;
    for (unsigned i = 1; i < n->argc; i++)
        len += strlen(n->argv[i]) + 1;
    free(*out);
    *out = cfg_xcalloc(1, len);
    for (unsigned i = 1; i < n->argc; i++) {
        if (i > 1)
            strcat(*out, " ");
        strcat(*out, n->argv[i]);
    }
}

static bool misc_kw(struct cfg_ctx *c, const struct conf_node *n, struct cfg_check *k)
{
    struct probe_misc_cfg *m = &k->probe.u.misc;
    const char *kw = n->argv[0];

    if (strcmp(kw, "misc_path") == 0) {
        misc_path(c, n, &m->cmdline);
    } else if (strcmp(kw, "misc_timeout") == 0) {
        if (cfg_nargs(c, n, 2, 2, "seconds"))
            cfg_seconds(c, n, n->argv[1], 1, CK_MAX_US, &k->misc_timeout_us);
    } else if (strcmp(kw, "misc_dynamic") == 0) {
        cfg_bool(c, n, &m->dynamic);
    } else if (strcmp(kw, "user") == 0) {
        if (!cfg_nargs(c, n, 2, 3, "USER [GROUP]"))
            return true;
        free(m->user);
        free(m->group);
        m->user = cfg_xstrdup(n->argv[1]);
        m->group = n->argc > 2 ? cfg_xstrdup(n->argv[2]) : NULL;
    } else {
        return false;
    }
    return true;
}

static bool file_kw(struct cfg_ctx *c, const struct conf_node *n, struct cfg_check *k)
{
    struct probe_file_cfg *f = &k->probe.u.file;
    const char *kw = n->argv[0];
    long w;

    if (strcmp(kw, "track_file") == 0) {
        cfg_str(c, n, &k->track_file);
    } else if (strcmp(kw, "dynamic") == 0) {
        cfg_bool(c, n, &f->dynamic);
    } else if (strcmp(kw, "weight") == 0) {
        if (n->argc == 3 && strcmp(n->argv[2], "reverse") == 0)
            k->file_weight_reverse = true;
        else if (!cfg_nargs(c, n, 2, 2, "'weight W [reverse]'"))
            return true;
        if (cfg_int(c, n, n->argv[1], -2147483647L, 2147483647L, &w))
            f->weight = (int)w;
    } else {
        return false;
    }
    return true;
}

/* ---- the checker block ---- */

static void check_line(struct cfg_ctx *c, const struct conf_node *n, const struct check_type *t,
                       struct cfg_check *k)
{
    const char *kw = n->argv[0];
    bool block_ok = strcmp(kw, "url") == 0 || strcmp(kw, "host") == 0;

    if (n->has_block && !block_ok) {
        cfg_err(c, n, "'%s': expected a value, not a '{' block", kw);
    } else if (is_conn_kw(kw) && t->conn) {
        conn_kw(c, n, &k->probe.target);
    } else if (is_timing_kw(kw) && t->timing) {
        timing_kw(c, n, k);
    } else if (t->fn(c, n, k)) {
        /* handled */
    } else if (is_conn_kw(kw) || is_timing_kw(kw)) {
        cfg_err(c, n, "'%s' is not an option of %s", kw, t->name);
    } else if (cfg_known_unimplemented(CFG_IN_CHECK, kw)) {
        cfg_warn(c, n, "'%s' is not implemented yet by nospof; line ignored", kw);
    } else {
        cfg_err(c, n, "unknown keyword '%s' in %s", kw, t->name);
    }
}

static void check_required(struct cfg_ctx *c, const struct conf_node *n, struct cfg_check *k)
{
    const struct probe_cfg *p = &k->probe;

    if ((p->kind == PROBE_HTTP || p->kind == PROBE_SSL) && p->u.http.nurls == 0)
        cfg_err(c, n, "%s: expected at least one 'url { }' block", n->argv[0]);
    if (p->kind == PROBE_MISC && !p->u.misc.cmdline)
        cfg_err(c, n, "MISC_CHECK: expected a 'misc_path' line");
    if (p->kind == PROBE_FILE && !k->track_file)
        cfg_err(c, n, "FILE_CHECK: expected a 'track_file' line");
    if (p->kind == PROBE_UDP && p->u.udp.max_reply_len < p->u.udp.min_reply_len)
        cfg_err(c, n, "UDP_CHECK: max_reply_length %zu is below min_reply_length %zu",
                p->u.udp.max_reply_len, p->u.udp.min_reply_len);
}

void cfg_check_parse(struct cfg_ctx *c, const struct conf_node *n, struct cfg_rs *rs)
{
    const struct check_type *t = type_of(n->argv[0]);
    struct cfg_check k = {.where = cfg_where_of(c, n)};

    if (!t) {
        cfg_warn(c, n, "'%s' is not implemented yet by nospof; block ignored", n->argv[0]);
        return;
    }
    if (!cfg_nargs(c, n, 1, 1, "no argument before '{'"))
        return;
    k.probe.kind = t->kind;
    if (t->kind == PROBE_HTTP || t->kind == PROBE_SSL)
        k.probe.u.http.http_protocol = 10;
    if (t->kind == PROBE_DNS)
        k.probe.u.dns.qtype = 6; /* SOA, keepalived's default */
    if (t->kind == PROBE_UDP)
        k.probe.u.udp.max_reply_len = 255;
    if (t->kind == PROBE_FILE)
        k.probe.u.file.weight = 1;
    for (const struct conf_node *l = n->child; l; l = l->next)
        check_line(c, l, t, &k);
    check_required(c, n, &k);
    rs->checks = cfg_push(rs->checks, &rs->nchecks, sizeof(k));
    rs->checks[rs->nchecks - 1] = k;
}

/* ---- defaults after the whole virtual server is read ---- */

static void timing_defaults(struct cfg_lb_timing *t, enum probe_kind kind)
{
    if (!(t->set & CFG_LBT_DELAY_LOOP))
        t->delay_loop_us = MONO_S(60);
    if (!(t->set & CFG_LBT_CONNECT_TO))
        t->connect_timeout_us = MONO_S(5);
    if (!(t->set & CFG_LBT_RETRY))
        t->retry = kind == PROBE_DNS ? 3 : kind == PROBE_MISC ? 0 : 1;
    if (!(t->set & CFG_LBT_DELAY_RETRY))
        t->delay_before_retry_us = kind == PROBE_HTTP || kind == PROBE_SSL ? MONO_S(3)
                                   : kind == PROBE_DNS                     ? t->delay_loop_us
                                                                           : MONO_S(1);
    if (!(t->set & CFG_LBT_WARMUP))
        t->warmup_us = t->delay_loop_us;
}

static void take(struct cfg_lb_timing *dst, const struct cfg_lb_timing *src, uint8_t bits)
{
    uint8_t m = src->set & bits & (uint8_t)~dst->set;

    if (m & CFG_LBT_DELAY_LOOP)
        dst->delay_loop_us = src->delay_loop_us;
    if (m & CFG_LBT_CONNECT_TO)
        dst->connect_timeout_us = src->connect_timeout_us;
    if (m & CFG_LBT_RETRY)
        dst->retry = src->retry;
    if (m & CFG_LBT_DELAY_RETRY)
        dst->delay_before_retry_us = src->delay_before_retry_us;
    if (m & CFG_LBT_WARMUP)
        dst->warmup_us = src->warmup_us;
    if (m & CFG_LBT_ALPHA)
        dst->alpha = src->alpha;
    if (m & CFG_LBT_INHIBIT)
        dst->inhibit_on_failure = src->inhibit_on_failure;
}

void cfg_check_resolve(struct cfg_check *k, const struct cfg_rs *rs, const struct cfg_vs *vs)
{
    struct cfg_lb_timing t = k->timing;
    struct probe_target *tg = &k->probe.target;

    take(&t, &rs->timing, 0xff);
    t.set |= rs->timing.set;
    timing_defaults(&t, k->probe.kind);
    t.set = k->timing.set;
    k->timing = t;
    if (k->probe.kind == PROBE_MISC && !k->misc_timeout_us)
        k->misc_timeout_us = t.delay_loop_us;
    if (tg->addr.family == IP_NONE)
        tg->addr = rs->addr;
    if (!tg->port)
        tg->port = rs->port;
    if (k->probe.kind == PROBE_DNS && !k->probe.u.dns.name)
        k->probe.u.dns.name = cfg_xstrdup(".");
    if ((k->probe.kind == PROBE_HTTP || k->probe.kind == PROBE_SSL) &&
        !k->probe.u.http.virtualhost) {
        const char *vh = rs->virtualhost ? rs->virtualhost : vs->virtualhost;

        k->probe.u.http.virtualhost = vh ? cfg_xstrdup(vh) : NULL;
    }
}
