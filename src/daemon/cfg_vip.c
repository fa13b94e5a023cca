/* Address lists inside vrrp_instance: virtual_ipaddress[_excluded] and unicast_peer.
 *
 * A VIP line is `IP[/LEN] [brd IP] [dev IF] [scope S] [label L] [no_track]` (keepalived.conf(5)
 * "virtual_ipaddress"). The other `ip address add` options keepalived accepts (peer, home,
 * -nodad, mngtmpaddr, noprefixroute, autojoin, preferred_lft, use_vmac) are one warning each
 * and ignored. A peer line is `IP [min_ttl N] [max_ttl N]`; the TTL window is accepted and
 * range-checked but not enforced yet (a warning says so). */
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "cfg_priv.h"

struct scope_name {
    const char *name;
    uint8_t value; /* RT_SCOPE_* (rtnetlink.h) */
};

static const struct scope_name scopes[] = {
    {"global", 0}, {"site", 200}, {"link", 253}, {"host", 254}, {"nowhere", 255},
};

static bool parse_scope(struct cfg_ctx *c, const struct conf_node *n, const char *s, uint8_t *out)
{
    long v;

    for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++)
        if (strcmp(s, scopes[i].name) == 0) {
            *out = scopes[i].value;
            return true;
        }
    if (s[0] >= '0' && s[0] <= '9' && cfg_int(c, n, s, 0, 255, &v)) {
        *out = (uint8_t)v;
        return true;
    }
    if (!(s[0] >= '0' && s[0] <= '9'))
        cfg_err(c, n, "'scope': expected global|site|link|host|nowhere or 0..255, got '%s'", s);
    return false;
}

/* "IP[/LEN]" */
static bool parse_prefix(struct cfg_ctx *c, const struct conf_node *n, struct cfg_vip *v)
{
    char buf[64];
    char *slash;
    long len;

    if (strlen(n->argv[0]) >= sizeof(buf)) {
        cfg_err(c, n, "expected 'IP[/LEN]', got '%s'", n->argv[0]);
        return false;
    }
    strcpy(buf, n->argv[0]);
    slash = strchr(buf, '/');
    if (slash)
        *slash++ = '\0';
    if (!ip_addr_parse(buf, &v->addr)) {
        cfg_err(c, n, "expected an IPv4 or IPv6 address, got '%s'", buf);
        return false;
    }
    v->prefix_len = v->addr.family == IP_V4 ? 32 : 128;
    if (!slash)
        return true;
    if (!cfg_int(c, n, slash, 0, v->prefix_len, &len))
        return false;
    v->prefix_len = (uint8_t)len;
    return true;
}

static bool is_ignored_flag(const char *w)
{
    static const char *const flags[] = {"home",          "-nodad",   "mngtmpaddr",
                                        "noprefixroute", "autojoin", "use_vmac"};

    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (strcmp(w, flags[i]) == 0)
            return true;
    return false;
}

static bool vip_option(struct cfg_ctx *c, const struct conf_node *n, unsigned *i, struct cfg_vip *v)
{
    const char *w = n->argv[*i];
    const char *arg = *i + 1 < n->argc ? n->argv[*i + 1] : NULL;

    if (strcmp(w, "no_track") == 0)
        return v->no_track = true;
    if (is_ignored_flag(w)) {
        cfg_warn(c, n, "'%s' is not implemented yet by nospof; option ignored", w);
        return true;
    }
    if (!arg) {
        cfg_err(c, n, "expected brd|dev|scope|label|no_track, got '%s'%s", w,
                strcmp(w, "brd") && strcmp(w, "dev") && strcmp(w, "scope") && strcmp(w, "label")
                    ? ""
                    : " without a value");
        return false;
    }
    (*i)++;
    if (strcmp(w, "brd") == 0) {
        if (ip_addr_parse(arg, &v->brd))
            return true;
        cfg_err(c, n, "'brd': expected an address, got '%s'", arg);
        return false;
    }
    if (strcmp(w, "dev") == 0)
        return cfg_ifname(c, n, arg, v->dev);
    if (strcmp(w, "label") == 0)
        return cfg_ifname(c, n, arg, v->label);
    if (strcmp(w, "scope") == 0)
        return parse_scope(c, n, arg, &v->scope);
    if (strcmp(w, "peer") == 0 || strcmp(w, "preferred_lft") == 0) {
        cfg_warn(c, n, "'%s' is not implemented yet by nospof; option ignored", w);
        return true;
    }
    cfg_err(c, n, "expected brd|dev|scope|label|no_track, got '%s'", w);
    return false;
}

static bool vip_line(struct cfg_ctx *c, const struct conf_node *n, struct cfg_vip *v)
{
    *v = (struct cfg_vip){.where = cfg_where_of(c, n)};
    if (n->has_block) {
        cfg_err(c, n, "expected an address line, not a '{' block");
        return false;
    }
    if (!parse_prefix(c, n, v))
        return false;
    for (unsigned i = 1; i < n->argc; i++)
        if (!vip_option(c, n, &i, v))
            return false;
    if (v->brd.family != IP_NONE && v->brd.family != v->addr.family) {
        cfg_err(c, n, "'brd': expected an address of the same family as the VIP");
        return false;
    }
    return true;
}

void cfg_vips_parse(struct cfg_ctx *c, const struct conf_node *n, struct cfg_vip **v, size_t *count)
{
    if (n->argc != 1)
        cfg_err(c, n, "'%s': expected no argument before '{'", n->argv[0]);
    for (const struct conf_node *l = n->child; l; l = l->next) {
        struct cfg_vip vip;

        if (!vip_line(c, l, &vip))
            continue;
        *v = cfg_push(*v, count, sizeof(**v));
        (*v)[*count - 1] = vip;
    }
}

/* min_ttl / max_ttl pairs after the address. */
static bool peer_options(struct cfg_ctx *c, const struct conf_node *l)
{
    long ttl;

    for (unsigned i = 1; i < l->argc; i += 2) {
        if ((strcmp(l->argv[i], "min_ttl") && strcmp(l->argv[i], "max_ttl")) || i + 1 >= l->argc) {
            cfg_err(c, l, "expected 'IP [min_ttl N] [max_ttl N]', got '%s'", l->argv[i]);
            return false;
        }
        if (!cfg_int(c, l, l->argv[i + 1], 0, 255, &ttl))
            return false;
        cfg_warn(c, l, "'%s' is not implemented yet by nospof; option ignored", l->argv[i]);
    }
    return true;
}

void cfg_peers_parse(struct cfg_ctx *c, const struct conf_node *n, struct cfg_instance *in)
{
    if (n->argc != 1)
        cfg_err(c, n, "'unicast_peer': expected no argument before '{'");
    for (const struct conf_node *l = n->child; l; l = l->next) {
        struct ip_addr a;

        if (l->has_block) {
            cfg_err(c, l, "expected a peer address line, not a '{' block");
            continue;
        }
        if (!ip_addr_parse(l->argv[0], &a)) {
            cfg_err(c, l, "'unicast_peer': expected an IPv4 or IPv6 address, got '%s'", l->argv[0]);
            continue;
        }
        if (!peer_options(c, l))
            continue;
        if (l->argc > 1)
            in->core.check_unicast_src = true; /* a TTL window implies source checking */
        in->peers = cfg_push(in->peers, &in->npeers, sizeof(a));
        in->peers[in->npeers - 1] = a;
    }
}
