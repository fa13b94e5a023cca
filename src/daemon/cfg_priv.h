/* Private interface between the config validator's files (cfg*.c); not for other modules.
 *
 * A validation pass walks the conf_tree with a struct cfg_ctx that carries the cfg being
 * built and the diagnostics list. Each block kind has a keyword table (struct cfg_kw): the
 * dispatcher (cfg_dispatch) looks the keyword up, checks the block/no-block shape, and calls
 * the handler; keywords keepalived knows but nospof does not implement yet are a single
 * warning (cfg_known.c), anything else an "unknown keyword" error. Value parsers report
 * "'kw': expected ..., got '...'" errors at the node's file:line and return false. */
#ifndef NOSPOF_DAEMON_CFG_PRIV_H
#define NOSPOF_DAEMON_CFG_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/diag.h"
#include "cfg.h"

/* The block a keyword appears in; selects the table of keepalived's other keywords. */
enum cfg_where_kind {
    CFG_IN_TOP = 0,
    CFG_IN_GLOBAL,
    CFG_IN_SCRIPT,
    CFG_IN_TRACK_FILE,
    CFG_IN_INSTANCE,
    CFG_IN_AUTH,
    CFG_IN_SYNC,
    CFG_IN_VS,    /* virtual_server */
    CFG_IN_RS,    /* real_server */
    CFG_IN_CHECK, /* TCP_CHECK, HTTP_GET, ... */
    CFG_IN_URL,   /* HTTP_GET/SSL_GET url { } */
    CFG_IN_SSL,   /* SSL { } */
    CFG_IN__COUNT
};

struct cfg_ctx {
    struct cfg *cfg;
    struct diags *d;
};

/* Handler for one keyword; obj is the object being filled (the instance, script...). */
typedef void cfg_kw_fn(struct cfg_ctx *c, const struct conf_node *n, void *obj);

enum cfg_shape {
    CFG_LINE = 0, /* no block allowed */
    CFG_BLOCK,    /* a block is required */
};

struct cfg_kw {
    const char *name;
    cfg_kw_fn *fn;
    enum cfg_shape shape;
};

/* ---- cfg.c: memory and messages ---- */
void *cfg_xcalloc(size_t n, size_t size);
void *cfg_xrealloc(void *p, size_t size);
char *cfg_xstrdup(const char *s);
/* Grows *v (of elem bytes each, *n in use) by one zeroed element; returns it. */
void *cfg_push(void *v, size_t *n, size_t elem);
/* Interns a file name in the cfg (stable for the cfg's lifetime). */
const char *cfg_intern(struct cfg *cfg, const char *file);
struct cfg_where cfg_where_of(struct cfg_ctx *c, const struct conf_node *n);
void cfg_err(struct cfg_ctx *c, const struct conf_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cfg_warn(struct cfg_ctx *c, const struct conf_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same at a stored location (cross-object checks run after the tree walk). */
void cfg_err_at(struct cfg_ctx *c, const struct cfg_where *w, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cfg_warn_at(struct cfg_ctx *c, const struct cfg_where *w, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cfg_cmd_free(struct cfg_cmd *cmd);
void cfg_refs_free(struct cfg_track_ref *r, size_t n);

/* ---- cfg_value.c: value parsers (all report their own error) ---- */
/* Dispatches every child of block through the table; see the file comment. */
void cfg_dispatch(struct cfg_ctx *c, const struct conf_node *block, enum cfg_where_kind in,
                  const struct cfg_kw *table, void *obj);
/* argc must be within min..max (counting the keyword). */
bool cfg_nargs(struct cfg_ctx *c, const struct conf_node *n, unsigned min, unsigned max,
               const char *what);
bool cfg_int(struct cfg_ctx *c, const struct conf_node *n, const char *text, long lo, long hi,
             long *out);
/* Optional <BOOL> after a flag keyword: bare keyword means true. */
bool cfg_bool(struct cfg_ctx *c, const struct conf_node *n, bool *out);
/* Decimal seconds with microsecond resolution, within lo_us..hi_us. */
bool cfg_seconds(struct cfg_ctx *c, const struct conf_node *n, const char *text, mono_us lo_us,
                 mono_us hi_us, mono_us *out);
bool cfg_ip(struct cfg_ctx *c, const struct conf_node *n, const char *text, struct ip_addr *out);
bool cfg_ifname(struct cfg_ctx *c, const struct conf_node *n, const char *text,
                char out[CFG_IFNAMSIZ]);
/* "KW COMMAND [USER [GROUP]]" into *cmd (replacing a previous value). */
bool cfg_cmd(struct cfg_ctx *c, const struct conf_node *n, struct cfg_cmd *cmd);
/* Replaces *dst with a copy of the single argument. */
bool cfg_str(struct cfg_ctx *c, const struct conf_node *n, char **dst);
/* One tracker reference line "NAME [weight W [reverse|noreverse|no_reverse]]". */
bool cfg_track_ref(struct cfg_ctx *c, const struct conf_node *n, long wlo, long whi,
                   struct cfg_track_ref *out);
/* Parses every line of a track_* value block into a new array. */
void cfg_track_refs(struct cfg_ctx *c, const struct conf_node *n, long wlo, long whi,
                    struct cfg_track_ref **v, size_t *count);

/* ---- cfg_known.c ---- */
/* True if keepalived knows kw in this block kind (and nospof does not implement it). */
bool cfg_known_unimplemented(enum cfg_where_kind in, const char *kw);

/* ---- cfg_global.c ---- */
#define CFG_UNSET UINT32_MAX /* a count not configured yet */
void cfg_global_defaults(struct cfg_global *g);
void cfg_global_parse(struct cfg_ctx *c, const struct conf_node *n);
/* Resolves defaults that depend on other keywords; call once after every global_defs. */
void cfg_global_finish(struct cfg_ctx *c);
void cfg_global_free(struct cfg_global *g);

/* ---- cfg_track.c ---- */
void cfg_script_parse(struct cfg_ctx *c, const struct conf_node *n);
void cfg_track_file_parse(struct cfg_ctx *c, const struct conf_node *n);
void cfg_script_free(struct cfg_script *s);
void cfg_track_file_free(struct cfg_track_file *f);

/* ---- cfg_vrrp.c / cfg_vip.c ---- */
void cfg_instance_parse(struct cfg_ctx *c, const struct conf_node *n);
void cfg_instance_free(struct cfg_instance *in);
/* A virtual_ipaddress[_excluded] block into a new array. */
void cfg_vips_parse(struct cfg_ctx *c, const struct conf_node *n, struct cfg_vip **v,
                    size_t *count);
/* A unicast_peer block, appended to the instance's peers. */
void cfg_peers_parse(struct cfg_ctx *c, const struct conf_node *n, struct cfg_instance *in);

/* ---- cfg_sync.c: sync groups and every cross-object check ---- */
void cfg_sync_parse(struct cfg_ctx *c, const struct conf_node *n);
void cfg_sync_free(struct cfg_sync_group *g);
void cfg_cross_check(struct cfg_ctx *c);

/* ---- cfg_lvs.c: virtual_server and its cross-object checks ---- */
void cfg_vs_parse(struct cfg_ctx *c, const struct conf_node *n);
/* Group references, track_file names, SSL files, ha_suspend, duplicates across servers. */
void cfg_lvs_cross_check(struct cfg_ctx *c);
/* Frees every virtual server, group and the SSL block of cfg. */
void cfg_lvs_free(struct cfg *cfg);
/* The delay_loop/connect_timeout/retry/nb_get_retry/delay_before_retry/warmup/alpha/
 * inhibit_on_failure line n into *t (marking t->set); false if n is not one of them. */
bool cfg_lb_timing_kw(struct cfg_ctx *c, const struct conf_node *n, struct cfg_lb_timing *t);
/* "lb_kind|lvs_method METHOD ...": true for NAT; DR/TUN/other are an error at n. */
bool cfg_lb_method(struct cfg_ctx *c, const struct conf_node *n);
/* "proxy_protocol v1|v2" into *out. */
void cfg_lb_proxy_kw(struct cfg_ctx *c, const struct conf_node *n, enum cfg_proxy_proto *out);
/* "lb_algo|lvs_sched NAME" into *out; false (error at n) for an unknown or refused name. */
bool cfg_lb_sched_kw(struct cfg_ctx *c, const struct conf_node *n, enum cfg_lb_sched *out);

/* ---- cfg_lvs_http.c: protocol HTTP (the L7 switch, nospof only) ---- */
/* protocol HTTP: marks vs as an HTTP service with the defaults (X-Forwarded-For/-Proto on,
 * 2 retries). */
void cfg_http_enable(struct cfg_vs *vs);
/* Any HTTP keyword of a virtual server (real_server_group, http_route, http_*), o = the vs;
 * an error when vs is not protocol HTTP. */
void cfg_http_vs_kw(struct cfg_ctx *c, const struct conf_node *n, void *o);
/* Resolves route groups, group schedulers and defaults after the virtual_server block. */
void cfg_http_finish(struct cfg_ctx *c, const struct conf_node *n, struct cfg_vs *vs);
void cfg_http_free(struct cfg_http *h);

/* ---- cfg_lvs_rs.c: real_server and SSL ---- */
/* real_server IP [PORT] { ... } appended to vs->rss (timing and checkers unresolved). */
void cfg_rs_parse(struct cfg_ctx *c, const struct conf_node *n, struct cfg_vs *vs);
/* Resolves the real server's defaults, and its checkers', against vs. */
void cfg_rs_resolve(struct cfg_rs *rs, const struct cfg_vs *vs);
void cfg_rs_free(struct cfg_rs *rs);
void cfg_ssl_parse(struct cfg_ctx *c, const struct conf_node *n);
void cfg_ssl_free(struct cfg_ssl *ssl);

/* ---- cfg_lvs_group.c: virtual_server_group ---- */
void cfg_vsg_parse(struct cfg_ctx *c, const struct conf_node *n);
void cfg_vsg_free(struct cfg_vs_group *g);
/* The group of that name, or NULL. */
const struct cfg_vs_group *cfg_find_vsg(const struct cfg *cfg, const char *name);

/* ---- cfg_check.c / cfg_check_http.c: health checkers ---- */
/* One checker block n appended to rs->checks (BFD_CHECK: a warning, nothing added). */
void cfg_check_parse(struct cfg_ctx *c, const struct conf_node *n, struct cfg_rs *rs);
/* Fills the checker's unset timing from rs (whose timing holds what the real server and the
 * virtual server wrote, flagged in set) and then the checker type's defaults, its target from
 * rs, and the Host default from rs, then vs. */
void cfg_check_resolve(struct cfg_check *k, const struct cfg_rs *rs, const struct cfg_vs *vs);
void cfg_check_free(struct cfg_check *k);
/* HTTP_GET/SSL_GET-only keywords (http_protocol, url, enable_sni...); false if not one. */
bool cfg_check_http_kw(struct cfg_ctx *c, const struct conf_node *n, struct cfg_check *k);
void cfg_check_http_free(struct probe_http_cfg *h);

#endif
