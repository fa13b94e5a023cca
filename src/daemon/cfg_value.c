/* Keyword dispatch and value parsers shared by every block validator.
 *
 * Values follow keepalived's grammar (research/vrrp.md 1.6): <BOOL> is on|off|true|false|
 * yes|no and a bare flag means true; integers are decimal and range-checked; timers are
 * decimal seconds with microsecond resolution. nospof is stricter than keepalived: a bad
 * value is an error (keepalived logs and substitutes a default), and so is an unknown
 * keyword -- except keywords keepalived knows, which are one warning and skipped whole. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "cfg_priv.h"

static const struct cfg_kw *kw_find(const struct cfg_kw *table, const char *name)
{
    for (; table->name; table++)
        if (strcmp(table->name, name) == 0)
            return table;
    return NULL;
}

static void dispatch_one(struct cfg_ctx *c, const struct conf_node *n, enum cfg_where_kind in,
                         const struct cfg_kw *table, void *obj)
{
    const struct cfg_kw *k = kw_find(table, n->argv[0]);

    if (!k) {
        if (cfg_known_unimplemented(in, n->argv[0]))
            cfg_warn(c, n, "'%s' is not implemented yet by nospof; %s ignored", n->argv[0],
                     n->has_block ? "block" : "line");
        else
            cfg_err(c, n, "unknown keyword '%s'", n->argv[0]);
        return;
    }
    if (k->shape == CFG_BLOCK && !n->has_block) {
        cfg_err(c, n, "'%s': expected a '{' block", n->argv[0]);
        return;
    }
    if (k->shape == CFG_LINE && n->has_block) {
        cfg_err(c, n, "'%s': expected a value, not a '{' block", n->argv[0]);
        return;
    }
    k->fn(c, n, obj);
}

void cfg_dispatch(struct cfg_ctx *c, const struct conf_node *block, enum cfg_where_kind in,
                  const struct cfg_kw *table, void *obj)
{
    for (const struct conf_node *n = block->child; n; n = n->next)
        dispatch_one(c, n, in, table, obj);
}

bool cfg_nargs(struct cfg_ctx *c, const struct conf_node *n, unsigned min, unsigned max,
               const char *what)
{
    if (n->argc >= min && n->argc <= max)
        return true;
    cfg_err(c, n, "'%s': expected %s", n->argv[0], what);
    return false;
}

bool cfg_int(struct cfg_ctx *c, const struct conf_node *n, const char *text, long lo, long hi,
             long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi) {
        cfg_err(c, n, "'%s': expected an integer in %ld..%ld, got '%s'", n->argv[0], lo, hi, text);
        return false;
    }
    *out = v;
    return true;
}

static int bool_word(const char *s)
{
    static const char *const yes[] = {"on", "true", "yes"};
    static const char *const no[] = {"off", "false", "no"};

    for (size_t i = 0; i < 3; i++) {
        if (strcmp(s, yes[i]) == 0)
            return 1;
        if (strcmp(s, no[i]) == 0)
            return 0;
    }
    return -1;
}

bool cfg_bool(struct cfg_ctx *c, const struct conf_node *n, bool *out)
{
    int b;

    if (n->argc == 1) {
        *out = true;
        return true;
    }
    b = n->argc == 2 ? bool_word(n->argv[1]) : -1;
    if (b < 0) {
        cfg_err(c, n, "'%s': expected nothing or one of on|off|true|false|yes|no", n->argv[0]);
        return false;
    }
    *out = b == 1;
    return true;
}

/* "12", "0.5", "4.000001": whole seconds and up to 6 decimals. */
static bool parse_seconds(const char *s, mono_us *out)
{
    mono_us whole = 0, frac = 0, scale = 100000;
    const char *p = s;

    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        whole = whole * 10 + (*p - '0');
        if (whole > 100000000)
            return false;
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10) {
            if (scale == 0)
                return false; /* below microsecond resolution */
            frac += (*p - '0') * scale;
        }
    }
    if (*p)
        return false;
    *out = whole * 1000000 + frac;
    return true;
}

bool cfg_seconds(struct cfg_ctx *c, const struct conf_node *n, const char *text, mono_us lo_us,
                 mono_us hi_us, mono_us *out)
{
    mono_us v;

    if (!parse_seconds(text, &v) || v < lo_us || v > hi_us) {
        cfg_err(c, n, "'%s': expected seconds in %g..%g, got '%s'", n->argv[0], (double)lo_us / 1e6,
                (double)hi_us / 1e6, text);
        return false;
    }
    *out = v;
    return true;
}

bool cfg_ip(struct cfg_ctx *c, const struct conf_node *n, const char *text, struct ip_addr *out)
{
    if (ip_addr_parse(text, out))
        return true;
    cfg_err(c, n, "'%s': expected an IPv4 or IPv6 address, got '%s'", n->argv[0], text);
    return false;
}

bool cfg_ifname(struct cfg_ctx *c, const struct conf_node *n, const char *text,
                char out[CFG_IFNAMSIZ])
{
    size_t len = strlen(text);

    if (len == 0 || len >= CFG_IFNAMSIZ || strchr(text, '/')) {
        cfg_err(c, n, "'%s': expected an interface name of 1..%d characters, got '%s'", n->argv[0],
                CFG_IFNAMSIZ - 1, text);
        return false;
    }
    memcpy(out, text, len + 1);
    return true;
}

bool cfg_cmd(struct cfg_ctx *c, const struct conf_node *n, struct cfg_cmd *cmd)
{
    if (!cfg_nargs(c, n, 2, 4, "COMMAND [USER [GROUP]]"))
        return false;
    if (n->argv[1][0] == '\0') {
        cfg_err(c, n, "'%s': expected a command, got an empty string", n->argv[0]);
        return false;
    }
    cfg_cmd_free(cmd);
    cmd->cmdline = cfg_xstrdup(n->argv[1]);
    if (n->argc > 2)
        cmd->user = cfg_xstrdup(n->argv[2]);
    if (n->argc > 3)
        cmd->group = cfg_xstrdup(n->argv[3]);
    return true;
}

bool cfg_str(struct cfg_ctx *c, const struct conf_node *n, char **dst)
{
    if (!cfg_nargs(c, n, 2, 2, "one value"))
        return false;
    free(*dst);
    *dst = cfg_xstrdup(n->argv[1]);
    return true;
}

static bool reverse_word(const char *s, bool *rev)
{
    if (strcmp(s, "reverse") == 0) {
        *rev = true;
        return true;
    }
    *rev = false;
    return strcmp(s, "noreverse") == 0 || strcmp(s, "no_reverse") == 0;
}

bool cfg_track_ref(struct cfg_ctx *c, const struct conf_node *n, long wlo, long whi,
                   struct cfg_track_ref *out)
{
    long w;

    *out = (struct cfg_track_ref){.where = cfg_where_of(c, n)};
    if (n->argc == 2 || n->argc > 4 || (n->argc >= 3 && strcmp(n->argv[1], "weight") != 0) ||
        (n->argc == 4 && !reverse_word(n->argv[3], &out->weight_reverse))) {
        cfg_err(c, n, "expected 'NAME [weight W [reverse|noreverse]]', got '%s%s'", n->argv[0],
                n->argc > 1 ? " ..." : "");
        return false;
    }
    if (n->argc >= 3) {
        if (!cfg_int(c, n, n->argv[2], wlo, whi, &w))
            return false;
        out->weight_set = true;
        out->weight = (int)w;
    }
    out->name = cfg_xstrdup(n->argv[0]);
    return true;
}

void cfg_track_refs(struct cfg_ctx *c, const struct conf_node *n, long wlo, long whi,
                    struct cfg_track_ref **v, size_t *count)
{
    for (const struct conf_node *l = n->child; l; l = l->next) {
        struct cfg_track_ref r;

        if (l->has_block) {
            cfg_err(c, l, "'%s': expected a name per line, not a '{' block", n->argv[0]);
            continue;
        }
        if (!cfg_track_ref(c, l, wlo, whi, &r))
            continue;
        *v = cfg_push(*v, count, sizeof(**v));
        (*v)[*count - 1] = r;
    }
}
