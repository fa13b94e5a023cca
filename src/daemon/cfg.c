/* Config validation entry points: conf_tree -> struct cfg, lookups, and freeing.
 *
 * cfg_from_tree runs two passes over the top level: global_defs first (its values are the
 * defaults every instance starts from, wherever the block sits in the file), then every
 * other block in file order. Cross-object rules (unknown tracker names, sync group
 * membership, duplicate VRIDs) run last, in cfg_cross_check, and the load balancer's in
 * cfg_lvs_cross_check. This file also holds the small
 * memory and message helpers the other cfg*.c files share (cfg_priv.h). */
#include "cfg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_priv.h"

/* Interned file names: a singly linked list of nodes holding the name inline. */
struct cfg_str_node {
    struct cfg_str_node *next;
    char s[];
};

void *cfg_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort(); /* config-time allocation: out of memory is fatal (DESIGN.md 7) */
    return p;
}

void *cfg_xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        abort();
    return q;
}

char *cfg_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(cfg_xcalloc(1, n), s, n);
}

void *cfg_push(void *v, size_t *n, size_t elem)
{
    char *p = cfg_xrealloc(v, (*n + 1) * elem);
    memset(p + *n * elem, 0, elem);
    (*n)++;
    return p;
}

const char *cfg_intern(struct cfg *cfg, const char *file)
{
    struct cfg_str_node *s;

    if (!file)
        return NULL;
    for (s = cfg->strings; s; s = s->next)
        if (strcmp(s->s, file) == 0)
            return s->s;
    s = cfg_xcalloc(1, sizeof(*s) + strlen(file) + 1);
    strcpy(s->s, file);
    s->next = cfg->strings;
    cfg->strings = s;
    return s->s;
}

struct cfg_where cfg_where_of(struct cfg_ctx *c, const struct conf_node *n)
{
    return (struct cfg_where){.file = cfg_intern(c->cfg, n->file), .line = n->line};
}

__attribute__((format(printf, 5, 0))) static void vdiag(struct cfg_ctx *c, enum diag_level lvl,
                                                        const char *file, unsigned line,
                                                        const char *fmt, va_list ap)
{
    char buf[900];

    vsnprintf(buf, sizeof(buf), fmt, ap);
    diag_add(c->d, lvl, file, line, "%s", buf);
}

void cfg_err(struct cfg_ctx *c, const struct conf_node *n, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdiag(c, DIAG_ERROR, n->file, n->line, fmt, ap);
    va_end(ap);
}

void cfg_warn(struct cfg_ctx *c, const struct conf_node *n, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdiag(c, DIAG_WARNING, n->file, n->line, fmt, ap);
    va_end(ap);
}

void cfg_err_at(struct cfg_ctx *c, const struct cfg_where *w, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdiag(c, DIAG_ERROR, w->file, w->line, fmt, ap);
    va_end(ap);
}

void cfg_warn_at(struct cfg_ctx *c, const struct cfg_where *w, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdiag(c, DIAG_WARNING, w->file, w->line, fmt, ap);
    va_end(ap);
}

void cfg_cmd_free(struct cfg_cmd *cmd)
{
    free(cmd->cmdline);
    free(cmd->user);
    free(cmd->group);
    *cmd = (struct cfg_cmd){0};
}

void cfg_refs_free(struct cfg_track_ref *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(r[i].name);
    free(r);
}

static void top_global(struct cfg_ctx *c, const struct conf_node *n, void *obj)
{
    /* handled in the first pass */
}

static void top_script(struct cfg_ctx *c, const struct conf_node *n, void *obj)
{
    cfg_script_parse(c, n);
}

static void top_track_file(struct cfg_ctx *c, const struct conf_node *n, void *obj)
{
    cfg_track_file_parse(c, n);
}

static void top_instance(struct cfg_ctx *c, const struct conf_node *n, void *obj)
{
    cfg_instance_parse(c, n);
}

static void top_sync(struct cfg_ctx *c, const struct conf_node *n, void *obj)
{
    cfg_sync_parse(c, n);
}

static void top_vs(struct cfg_ctx *c, const struct conf_node *n, void *obj)
{
    cfg_vs_parse(c, n);
}

static void top_vsg(struct cfg_ctx *c, const struct conf_node *n, void *obj)
{
    cfg_vsg_parse(c, n);
}

static void top_ssl(struct cfg_ctx *c, const struct conf_node *n, void *obj)
{
    cfg_ssl_parse(c, n);
}

static const struct cfg_kw top_kws[] = {
    {"global_defs", top_global, CFG_BLOCK},
    {"vrrp_script", top_script, CFG_BLOCK},
    {"track_file", top_track_file, CFG_BLOCK},
    {"vrrp_track_file", top_track_file, CFG_BLOCK},
    {"vrrp_instance", top_instance, CFG_BLOCK},
    {"vrrp_sync_group", top_sync, CFG_BLOCK},
    {"virtual_server", top_vs, CFG_BLOCK},
    {"virtual_server_group", top_vsg, CFG_BLOCK},
    {"SSL", top_ssl, CFG_BLOCK},
    {NULL, NULL, CFG_LINE},
};

struct cfg *cfg_from_tree(const struct conf_tree *tree, struct diags *diags)
{
    struct cfg *cfg = cfg_xcalloc(1, sizeof(*cfg));

    atomic_init(&cfg->refs, 1);
    struct cfg_ctx c = {.cfg = cfg, .d = diags};
    struct conf_node root = {.child = tree->first, .has_block = true};

    cfg_global_defaults(&cfg->global);
    if (tree->first && tree->first->file)
        cfg->path = cfg_xstrdup(tree->first->file);
    for (const struct conf_node *n = tree->first; n; n = n->next)
        if (strcmp(n->argv[0], "global_defs") == 0 && n->has_block)
            cfg_global_parse(&c, n);
    cfg_global_finish(&c);
    cfg_dispatch(&c, &root, CFG_IN_TOP, top_kws, NULL);
    cfg_cross_check(&c);
    cfg_lvs_cross_check(&c);
    return cfg;
}

struct cfg *cfg_load_file(const char *path, const struct conf_opts *opts, struct diags *diags)
{
    struct conf_tree tree = {0};
    struct cfg *cfg;

    if (conf_parse_file(path, opts, &tree, diags) < 0) {
        conf_tree_free(&tree);
        return NULL;
    }
    cfg = cfg_from_tree(&tree, diags);
    free(cfg->path);
    cfg->path = cfg_xstrdup(path);
    conf_tree_free(&tree);
    return cfg;
}

struct cfg *cfg_hold(struct cfg *cfg)
{
    atomic_fetch_add(&cfg->refs, 1);
    return cfg;
}

void cfg_release(struct cfg *cfg)
{
    if (cfg && atomic_fetch_sub(&cfg->refs, 1) == 1)
        cfg_free(cfg);
}

void cfg_free(struct cfg *cfg)
{
    struct cfg_str_node *s, *next;

    if (!cfg)
        return;
    cfg_global_free(&cfg->global);
    for (size_t i = 0; i < cfg->nscripts; i++)
        cfg_script_free(&cfg->scripts[i]);
    for (size_t i = 0; i < cfg->ntrack_files; i++)
        cfg_track_file_free(&cfg->track_files[i]);
    for (size_t i = 0; i < cfg->ninstances; i++)
        cfg_instance_free(&cfg->instances[i]);
    for (size_t i = 0; i < cfg->ngroups; i++)
        cfg_sync_free(&cfg->groups[i]);
    free(cfg->scripts);
    free(cfg->track_files);
    free(cfg->instances);
    free(cfg->groups);
    cfg_lvs_free(cfg);
    for (s = cfg->strings; s; s = next) {
        next = s->next;
        free(s);
    }
    free(cfg->path);
    free(cfg);
}

const struct cfg_script *cfg_find_script(const struct cfg *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nscripts; i++)
        if (strcmp(cfg->scripts[i].name, name) == 0)
            return &cfg->scripts[i];
    return NULL;
}

const struct cfg_track_file *cfg_find_track_file(const struct cfg *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->ntrack_files; i++)
        if (strcmp(cfg->track_files[i].name, name) == 0)
            return &cfg->track_files[i];
    return NULL;
}

const struct cfg_instance *cfg_find_instance(const struct cfg *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->ninstances; i++)
        if (strcmp(cfg->instances[i].name, name) == 0)
            return &cfg->instances[i];
    return NULL;
}
