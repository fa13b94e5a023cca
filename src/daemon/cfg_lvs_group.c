/* virtual_server_group NAME { ADDR|RANGE [PORT] ... }.
 *
 * keepalived's address forms (keepalived.conf(5), "Virtual server group(s)"): a single
 * address; a range whose last IPv4 byte or last IPv6 group is replaced, both ends included
 * (192.0.2.1-10, 2001:db8::2-9 with the IPv6 end in hex); a range between two full
 * addresses (192.0.2.250-192.0.3.10); and a prefix (192.0.2.8/29 = .8 to .15). `fwmark N`
 * lines are refused like fwmark virtual servers. A group holds addresses of one family. */
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "cfg_priv.h"

void cfg_vsg_free(struct cfg_vs_group *g)
{
    free(g->name);
    free(g->entries);
}

const struct cfg_vs_group *cfg_find_vsg(const struct cfg *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nvsgs; i++)
        if (strcmp(cfg->vsgs[i].name, name) == 0)
            return &cfg->vsgs[i];
    return NULL;
}

/* "192.0.2.1-10" / "2001:db8::2-9": end replaces the last byte (v4) or group (v6). */
static bool short_end(const struct ip_addr *first, const char *s, struct ip_addr *last)
{
    char *end;
    unsigned long v = strtoul(s, &end, first->family == IP_V6 ? 16 : 10);

    if (end == s || *end || v > (first->family == IP_V6 ? 0xffffUL : 0xffUL))
        return false;
    *last = *first;
    if (first->family == IP_V4) {
        last->b[3] = (uint8_t)v;
    } else {
        last->b[14] = (uint8_t)(v >> 8);
        last->b[15] = (uint8_t)v;
    }
    return true;
}

/* "ADDR/LEN": first and last address of the prefix. */
static bool prefix_range(const char *s, struct cfg_vsg_entry *e)
{
    char buf[IP_ADDR_STRLEN];
    const char *slash = strchr(s, '/');
    size_t alen = (size_t)(slash - s);
    char *end;
    unsigned long len;
    size_t bits;

    if (alen >= sizeof(buf))
        return false;
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    len = strtoul(slash + 1, &end, 10);
    if (!ip_addr_parse(buf, &e->first) || end == slash + 1 || *end)
        return false;
    bits = ip_addr_len(&e->first) * 8;
    if (len > bits)
        return false;
    e->last = e->first;
    for (size_t i = len; i < bits; i++) {
        e->first.b[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
        e->last.b[i / 8] |= (uint8_t)(0x80u >> (i % 8));
    }
    return true;
}

static bool parse_range(const char *s, struct cfg_vsg_entry *e)
{
    char buf[IP_ADDR_STRLEN];
    const char *dash = strchr(s, '-');
    size_t alen;

    if (strchr(s, '/'))
        return prefix_range(s, e);
    if (!dash) {
        if (!ip_addr_parse(s, &e->first))
            return false;
        e->last = e->first;
        return true;
    }
    alen = (size_t)(dash - s);
    if (alen >= sizeof(buf))
        return false;
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    if (!ip_addr_parse(buf, &e->first))
        return false;
    if (ip_addr_parse(dash + 1, &e->last))
        return e->last.family == e->first.family;
    return short_end(&e->first, dash + 1, &e->last);
}

static void vsg_line(struct cfg_ctx *c, const struct conf_node *l, struct cfg_vs_group *g)
{
    struct cfg_vsg_entry e = {.where = cfg_where_of(c, l)};
    long port;

    if (strcmp(l->argv[0], "fwmark") == 0) {
        cfg_err(c, l, "fwmark virtual servers need a packet data plane, not available in nospof");
        return;
    }
    if (l->has_block || l->argc > 2) {
        cfg_err(c, l, "virtual_server_group: expected 'ADDRESS|RANGE [PORT]' per line");
        return;
    }
    if (!parse_range(l->argv[0], &e)) {
        cfg_err(c, l,
                "virtual_server_group: expected an address, A.B.C.D-E, ADDR-ADDR or "
                "ADDR/LEN, got '%s'",
                l->argv[0]);
        return;
    }
    if (ip_addr_cmp(&e.first, &e.last) > 0) {
        cfg_err(c, l, "virtual_server_group: range '%s' ends before it starts", l->argv[0]);
        return;
    }
    if (g->nentries && g->entries[0].first.family != e.first.family) {
        cfg_err(c, l, "virtual_server_group '%s': mixes IPv4 and IPv6 addresses", g->name);
        return;
    }
    if (l->argc == 2) {
        if (!cfg_int(c, l, l->argv[1], 1, 65535, &port))
            return;
        e.port = (uint16_t)port;
    }
    g->entries = cfg_push(g->entries, &g->nentries, sizeof(e));
    g->entries[g->nentries - 1] = e;
}

void cfg_vsg_parse(struct cfg_ctx *c, const struct conf_node *n)
{
    struct cfg *cfg = c->cfg;
    struct cfg_vs_group g = {0};

    if (!cfg_nargs(c, n, 2, 2, "a name before '{'"))
        return;
    if (cfg_find_vsg(cfg, n->argv[1])) {
        cfg_err(c, n, "virtual_server_group '%s' is defined twice", n->argv[1]);
        return;
    }
    g.name = cfg_xstrdup(n->argv[1]);
    g.where = cfg_where_of(c, n);
    for (const struct conf_node *l = n->child; l; l = l->next)
        vsg_line(c, l, &g);
    if (!n->child)
        cfg_warn(c, n, "virtual_server_group '%s' has no address", g.name);
    cfg->vsgs = cfg_push(cfg->vsgs, &cfg->nvsgs, sizeof(g));
    cfg->vsgs[cfg->nvsgs - 1] = g;
}
