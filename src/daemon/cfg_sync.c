/* vrrp_sync_group NAME { group { ... } track_* notify_* } and the cross-object checks.
 *
 * The checks need the whole file (a track_script may name a vrrp_script defined later), so
 * they run once after the tree walk: every tracker reference names a defined script or
 * track file, every sync group member is a defined instance that belongs to no other group,
 * and no two instances share (interface, VRID, family) -- they would answer each other's
 * adverts (RFC 5798 section 5.2.3: the VRID identifies the virtual router on a LAN). Two
 * unicast instances with disjoint peer lists may share a VRID, as in keepalived. */
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "cfg_priv.h"

void cfg_sync_free(struct cfg_sync_group *g)
{
    free(g->name);
    for (size_t i = 0; i < g->nmembers; i++)
        free(g->members[i]);
    free(g->members);
    cfg_refs_free(g->track_if, g->ntrack_if);
    cfg_refs_free(g->track_script, g->ntrack_script);
    cfg_refs_free(g->track_file, g->ntrack_file);
    cfg_cmd_free(&g->notify_master);
    cfg_cmd_free(&g->notify_backup);
    cfg_cmd_free(&g->notify_fault);
    cfg_cmd_free(&g->notify_stop);
    cfg_cmd_free(&g->notify);
}

#define G(o) ((struct cfg_sync_group *)(o))

/* Members one per line, or several on a line ("group { VI_1 VI_2 }"). */
static void s_group(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct cfg_sync_group *g = o;

    if (n->argc != 1)
        cfg_err(c, n, "'group': expected no argument before '{'");
    for (const struct conf_node *l = n->child; l; l = l->next) {
        if (l->has_block) {
            cfg_err(c, l, "'group': expected instance names, not a '{' block");
            continue;
        }
        for (unsigned i = 0; i < l->argc; i++) {
            g->members = cfg_push(g->members, &g->nmembers, sizeof(*g->members));
            g->members[g->nmembers - 1] = cfg_xstrdup(l->argv[i]);
        }
    }
}

static void s_track_if(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_track_refs(c, n, -253, 253, &G(o)->track_if, &G(o)->ntrack_if);
}

static void s_track_script(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_track_refs(c, n, -253, 253, &G(o)->track_script, &G(o)->ntrack_script);
}

static void s_track_file(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_track_refs(c, n, -254, 254, &G(o)->track_file, &G(o)->ntrack_file);
}

#define NOTIFY_FN(fn, field)                                                                       \
    static void fn(struct cfg_ctx *c, const struct conf_node *n, void *o)                          \
    {                                                                                              \
        cfg_cmd(c, n, &G(o)->field);                                                               \
    }
NOTIFY_FN(s_notify_master, notify_master)
NOTIFY_FN(s_notify_backup, notify_backup)
NOTIFY_FN(s_notify_fault, notify_fault)
NOTIFY_FN(s_notify_stop, notify_stop)
NOTIFY_FN(s_notify, notify)

static const struct cfg_kw sync_kws[] = {
    {"group", s_group, CFG_BLOCK},
    {"track_interface", s_track_if, CFG_BLOCK},
    {"track_script", s_track_script, CFG_BLOCK},
    {"track_file", s_track_file, CFG_BLOCK},
    {"notify_master", s_notify_master, CFG_LINE},
    {"notify_backup", s_notify_backup, CFG_LINE},
    {"notify_fault", s_notify_fault, CFG_LINE},
    {"notify_stop", s_notify_stop, CFG_LINE},
    {"notify", s_notify, CFG_LINE},
    {NULL, NULL, CFG_LINE},
};

void cfg_sync_parse(struct cfg_ctx *c, const struct conf_node *n)
{
    struct cfg *cfg = c->cfg;
    struct cfg_sync_group g = {0};

    if (!cfg_nargs(c, n, 2, 2, "a name before '{'"))
        return;
    for (size_t i = 0; i < cfg->ngroups; i++)
        if (strcmp(cfg->groups[i].name, n->argv[1]) == 0) {
            cfg_err(c, n, "vrrp_sync_group '%s' is defined twice", n->argv[1]);
            return;
        }
    g.name = cfg_xstrdup(n->argv[1]);
    g.where = cfg_where_of(c, n);
    cfg_dispatch(c, n, CFG_IN_SYNC, sync_kws, &g);
    if (!g.nmembers)
        cfg_err(c, n, "vrrp_sync_group '%s': expected a 'group { INSTANCE... }' block", g.name);
    cfg->groups = cfg_push(cfg->groups, &cfg->ngroups, sizeof(g));
    cfg->groups[cfg->ngroups - 1] = g;
}

static void check_refs(struct cfg_ctx *c, const struct cfg_track_ref *scripts, size_t nscripts,
                       const struct cfg_track_ref *files, size_t nfiles)
{
    for (size_t i = 0; i < nscripts; i++)
        if (!cfg_find_script(c->cfg, scripts[i].name))
            cfg_err_at(c, &scripts[i].where,
                       "track_script: unknown vrrp_script '%s' (expected the name of a "
                       "vrrp_script block)",
                       scripts[i].name);
    for (size_t i = 0; i < nfiles; i++)
        if (!cfg_find_track_file(c->cfg, files[i].name))
            cfg_err_at(c, &files[i].where,
                       "track_file: unknown track_file '%s' (expected the name of a "
                       "track_file block)",
                       files[i].name);
}

static void check_members(struct cfg_ctx *c, struct cfg_sync_group *g)
{
    for (size_t m = 0; m < g->nmembers; m++) {
        struct cfg_instance *in = (struct cfg_instance *)cfg_find_instance(c->cfg, g->members[m]);

        if (!in) {
            cfg_err_at(c, &g->where, "vrrp_sync_group '%s': unknown vrrp_instance '%s' in 'group'",
                       g->name, g->members[m]);
        } else if (in->sync_group) {
            cfg_err_at(c, &g->where,
                       "vrrp_sync_group '%s': vrrp_instance '%s' is already in sync group "
                       "'%s'; an instance can be in only one group",
                       g->name, in->name, in->sync_group);
        } else {
            in->sync_group = cfg_xstrdup(g->name);
        }
    }
}

static bool peers_overlap(const struct cfg_instance *a, const struct cfg_instance *b)
{
    if (!a->npeers || !b->npeers)
        return true; /* multicast shares the group address */
    for (size_t i = 0; i < a->npeers; i++)
        for (size_t j = 0; j < b->npeers; j++)
            if (ip_addr_eq(&a->peers[i], &b->peers[j]))
                return true;
    return false;
}

static void check_vrid(struct cfg_ctx *c, size_t k)
{
    const struct cfg_instance *b = &c->cfg->instances[k];

    for (size_t i = 0; i < k; i++) {
        const struct cfg_instance *a = &c->cfg->instances[i];

        if (a->core.vrid != b->core.vrid || a->core.family != b->core.family ||
            strcmp(a->ifname, b->ifname) != 0 || !peers_overlap(a, b))
            continue;
        cfg_err_at(c, &b->where,
                   "vrrp_instance '%s': virtual_router_id %u (IPv%u) on '%s' is already used "
                   "by vrrp_instance '%s' at line %u; expected a unique VRID per interface",
                   b->name, b->core.vrid, b->core.family, b->ifname, a->name, a->where.line);
        return;
    }
}

void cfg_cross_check(struct cfg_ctx *c)
{
    struct cfg *cfg = c->cfg;

    for (size_t i = 0; i < cfg->ninstances; i++) {
        struct cfg_instance *in = &cfg->instances[i];

        check_refs(c, in->track_script, in->ntrack_script, in->track_file, in->ntrack_file);
        if (in->core.vrid)
            check_vrid(c, i);
    }
    for (size_t i = 0; i < cfg->ngroups; i++) {
        struct cfg_sync_group *g = &cfg->groups[i];

        check_refs(c, g->track_script, g->ntrack_script, g->track_file, g->ntrack_file);
        check_members(c, g);
    }
}
