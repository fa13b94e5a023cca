/* Tracker definitions: vrrp_script NAME { ... } and (vrrp_)track_file NAME { ... }.
 *
 * Defaults follow keepalived.conf(5): a script runs every 1 s, times out after its interval,
 * has weight 0 (FAULT after `fall` failures), rise = fall = 1; a track file has weight 1.
 * A script without `script`, or a track file without `file`, is an error (keepalived drops
 * it with a warning and then fails every reference to it). */
#include <stdlib.h>
#include <string.h>

#include "cfg_priv.h"

#define SCRIPT_MAX_US MONO_S(86400)

void cfg_script_free(struct cfg_script *s)
{
    free(s->name);
    cfg_cmd_free(&s->cmd);
}

void cfg_track_file_free(struct cfg_track_file *f)
{
    free(f->name);
    free(f->path);
}

/* script CMD [ARGS...]: unquoted words after the command are its arguments. */
static void s_script(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct cfg_script *s = o;
    size_t len = 0;

    if (!cfg_nargs(c, n, 2, 4096, "a command"))
        return;
    for (unsigned i = 1; i < n->argc; i++)
        len += strlen(n->argv[i]) + 1;
    free(s->cmd.cmdline);
    s->cmd.cmdline = cfg_xcalloc(1, len);
    for (unsigned i = 1; i < n->argc; i++) {
        if (i > 1)
            strcat(s->cmd.cmdline, " ");
        strcat(s->cmd.cmdline, n->argv[i]);
    }
}

static void s_interval(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (cfg_nargs(c, n, 2, 2, "seconds"))
        cfg_seconds(c, n, n->argv[1], 1, SCRIPT_MAX_US, &((struct cfg_script *)o)->interval_us);
}

static void s_timeout(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (cfg_nargs(c, n, 2, 2, "seconds"))
        cfg_seconds(c, n, n->argv[1], 1, SCRIPT_MAX_US, &((struct cfg_script *)o)->timeout_us);
}

static void s_weight(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct cfg_script *s = o;
    long w;

    if (n->argc == 3 && strcmp(n->argv[2], "reverse") == 0)
        s->weight_reverse = true;
    else if (!cfg_nargs(c, n, 2, 2, "'weight W [reverse]'"))
        return;
    if (cfg_int(c, n, n->argv[1], -253, 253, &w))
        s->weight = (int)w;
}

static void s_count(struct cfg_ctx *c, const struct conf_node *n, unsigned *out)
{
    long v;

    if (cfg_nargs(c, n, 2, 2, "a count") && cfg_int(c, n, n->argv[1], 1, 1000000, &v))
        *out = (unsigned)v;
}

static void s_rise(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    s_count(c, n, &((struct cfg_script *)o)->rise);
}

static void s_fall(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    s_count(c, n, &((struct cfg_script *)o)->fall);
}

static void s_user(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct cfg_script *s = o;

    if (!cfg_nargs(c, n, 2, 3, "USER [GROUP]"))
        return;
    free(s->cmd.user);
    free(s->cmd.group);
    s->cmd.user = cfg_xstrdup(n->argv[1]);
    s->cmd.group = n->argc > 2 ? cfg_xstrdup(n->argv[2]) : NULL;
}

static void s_init_fail(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (cfg_nargs(c, n, 1, 1, "no value"))
        ((struct cfg_script *)o)->init_fail = true;
}

static const struct cfg_kw script_kws[] = {
    {"script", s_script, CFG_LINE},   {"interval", s_interval, CFG_LINE},
    {"timeout", s_timeout, CFG_LINE}, {"weight", s_weight, CFG_LINE},
    {"rise", s_rise, CFG_LINE},       {"fall", s_fall, CFG_LINE},
    {"user", s_user, CFG_LINE},       {"init_fail", s_init_fail, CFG_LINE},
    {NULL, NULL, CFG_LINE},
};

static bool named_block(struct cfg_ctx *c, const struct conf_node *n)
{
    return cfg_nargs(c, n, 2, 2, "a name before '{'");
}

void cfg_script_parse(struct cfg_ctx *c, const struct conf_node *n)
{
    struct cfg *cfg = c->cfg;
    struct cfg_script s = {.interval_us = MONO_S(1), .rise = 1, .fall = 1};

    if (!named_block(c, n))
        return;
    if (cfg_find_script(cfg, n->argv[1])) {
        cfg_err(c, n, "vrrp_script '%s' is defined twice", n->argv[1]);
        return;
    }
    s.name = cfg_xstrdup(n->argv[1]);
    s.where = cfg_where_of(c, n);
    cfg_dispatch(c, n, CFG_IN_SCRIPT, script_kws, &s);
    if (!s.cmd.cmdline)
        cfg_err(c, n, "vrrp_script '%s': expected a 'script' line", s.name);
    if (!s.timeout_us)
        s.timeout_us = s.interval_us;
    cfg->scripts = cfg_push(cfg->scripts, &cfg->nscripts, sizeof(s));
    cfg->scripts[cfg->nscripts - 1] = s;
}

static void f_file(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_str(c, n, &((struct cfg_track_file *)o)->path);
}

static void f_weight(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct cfg_track_file *f = o;
    long w;

    if (n->argc == 3 && strcmp(n->argv[2], "reverse") == 0)
        f->weight_reverse = true;
    else if (!cfg_nargs(c, n, 2, 2, "'weight W [reverse]'"))
        return;
    if (cfg_int(c, n, n->argv[1], -2147483647L, 2147483647L, &w))
        f->weight = (int)w;
}

/* init_file [VALUE] [overwrite] */
static void f_init_file(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct cfg_track_file *f = o;
    unsigned i = 1;
    long v;

    f->init_file = true;
    if (i < n->argc && strcmp(n->argv[i], "overwrite") != 0) {
        if (!cfg_int(c, n, n->argv[i], -2147483647L, 2147483647L, &v))
            return;
        f->init_value = (int)v;
        i++;
    }
    if (i < n->argc && strcmp(n->argv[i], "overwrite") == 0) {
        f->init_overwrite = true;
        i++;
    }
    if (i < n->argc)
        cfg_err(c, n, "'init_file': expected '[VALUE] [overwrite]', got '%s'", n->argv[i]);
}

static const struct cfg_kw file_kws[] = {
    {"file", f_file, CFG_LINE},
    {"weight", f_weight, CFG_LINE},
    {"init_file", f_init_file, CFG_LINE},
    {NULL, NULL, CFG_LINE},
};

void cfg_track_file_parse(struct cfg_ctx *c, const struct conf_node *n)
{
    struct cfg *cfg = c->cfg;
    struct cfg_track_file f = {.weight = 1};

    if (!named_block(c, n))
        return;
    if (cfg_find_track_file(cfg, n->argv[1])) {
        cfg_err(c, n, "track_file '%s' is defined twice", n->argv[1]);
        return;
    }
    f.name = cfg_xstrdup(n->argv[1]);
    f.where = cfg_where_of(c, n);
    cfg_dispatch(c, n, CFG_IN_TRACK_FILE, file_kws, &f);
    if (!f.path)
        cfg_err(c, n, "track_file '%s': expected a 'file' line", f.name);
    cfg->track_files = cfg_push(cfg->track_files, &cfg->ntrack_files, sizeof(f));
    cfg->track_files[cfg->ntrack_files - 1] = f;
}
