/* vrrp_instance NAME { ... } -> struct cfg_instance (with its struct vrrp_cfg core).
 *
 * Keywords are read first (last one wins, as in keepalived); the rules that need the whole
 * block run afterwards in finish(): the family comes from the first VIP (IPv6 forces VRRPv3,
 * RFC 5798 section 5.2.1 -- an explicit `version 2` is an error), advert_int is checked
 * against the version (v2: whole seconds 1..255, RFC 3768 section 5.3.7; v3: 1..4095
 * centiseconds, RFC 5798 section 5.2.7), PASS authentication exists only in v2, and the
 * keepalived start-up semantics get loud warnings: `state MASTER` clears nopreempt and
 * preempt_delay, and only priority 255 makes `state MASTER` take over at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "cfg_priv.h"

#define PREEMPT_DELAY_MAX_US MONO_S(1000)

/* What the keyword handlers saw, beyond what struct cfg_instance stores. */
struct inst_parse {
    struct cfg_instance *in;
    bool vrid_seen, if_seen, state_master, accept_set, preempt_delay_set;
    mono_us advert_us;
    struct cfg_where advert_where, auth_where, version_where, delay_where, nopreempt_where;
    uint8_t auth_type;
    bool auth_pass_set;
    char advert_text[32];
};

void cfg_instance_free(struct cfg_instance *in)
{
    free(in->name);
    free(in->peers);
    free(in->vips);
    free(in->evips);
    cfg_refs_free(in->track_if, in->ntrack_if);
    cfg_refs_free(in->track_script, in->ntrack_script);
    cfg_refs_free(in->track_file, in->ntrack_file);
    cfg_cmd_free(&in->notify_master);
    cfg_cmd_free(&in->notify_backup);
    cfg_cmd_free(&in->notify_fault);
    cfg_cmd_free(&in->notify_stop);
    cfg_cmd_free(&in->notify);
    cfg_cmd_free(&in->notify_master_rx_lower_pri);
    free(in->sync_group);
}

static bool one(struct cfg_ctx *c, const struct conf_node *n)
{
    return cfg_nargs(c, n, 2, 2, "one value");
}

static bool flag(struct cfg_ctx *c, const struct conf_node *n)
{
    return cfg_nargs(c, n, 1, 1, "no value");
}

static bool int_arg(struct cfg_ctx *c, const struct conf_node *n, long lo, long hi, long *v)
{
    return one(c, n) && cfg_int(c, n, n->argv[1], lo, hi, v);
}

#define IN(o) (((struct inst_parse *)(o))->in)
#define P(o)  ((struct inst_parse *)(o))

static void i_state(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (!one(c, n))
        return;
    if (strcmp(n->argv[1], "MASTER") && strcmp(n->argv[1], "BACKUP")) {
        cfg_err(c, n, "'state': expected MASTER or BACKUP, got '%s'", n->argv[1]);
        return;
    }
    P(o)->state_master = strcmp(n->argv[1], "MASTER") == 0;
}

static void i_interface(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    P(o)->if_seen = true; /* an invalid name is reported once, not again as missing */
    if (one(c, n))
        cfg_ifname(c, n, n->argv[1], IN(o)->ifname);
}

static void i_vrid(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    long v;

    P(o)->vrid_seen = true;
    if (int_arg(c, n, 1, 255, &v))
        IN(o)->core.vrid = (uint8_t)v;
}

/* RFC 5798 section 5.2.4: 255 is the owner, 1..254 for backups; 0 is reserved for leaving. */
static void i_priority(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    long v;

    if (int_arg(c, n, 1, 255, &v))
        IN(o)->core.priority = (uint8_t)v;
}

static void i_advert_int(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct inst_parse *p = o;

    if (!one(c, n) || !cfg_seconds(c, n, n->argv[1], 1, MONO_S(255), &p->advert_us))
        return;
    p->advert_where = cfg_where_of(c, n);
    snprintf(p->advert_text, sizeof(p->advert_text), "%s", n->argv[1]);
}

static void i_version(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    long v;

    if (!int_arg(c, n, 2, 3, &v))
        return;
    IN(o)->core.version = (uint8_t)v;
    IN(o)->version_configured = true;
    P(o)->version_where = cfg_where_of(c, n);
}

static void i_vips(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_vips_parse(c, n, &IN(o)->vips, &IN(o)->nvips);
}

static void i_evips(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_vips_parse(c, n, &IN(o)->evips, &IN(o)->nevips);
}

static void i_nopreempt(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (!flag(c, n))
        return;
    IN(o)->core.nopreempt = true;
    P(o)->nopreempt_where = cfg_where_of(c, n);
}

static void i_preempt(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    flag(c, n); /* keepalived: accepted for backwards compatibility, no effect */
}

static void i_preempt_delay(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (!one(c, n) ||
        !cfg_seconds(c, n, n->argv[1], 0, PREEMPT_DELAY_MAX_US, &IN(o)->core.preempt_delay_us))
        return;
    P(o)->preempt_delay_set = true;
    P(o)->delay_where = cfg_where_of(c, n);
}

static void garp_count(struct cfg_ctx *c, const struct conf_node *n, unsigned *out)
{
    long v;

    if (int_arg(c, n, 0, 10000, &v))
        *out = (unsigned)v;
}

static void garp_delay(struct cfg_ctx *c, const struct conf_node *n, mono_us *out)
{
    if (one(c, n))
        cfg_seconds(c, n, n->argv[1], 0, MONO_S(86400), out);
}

static void i_garp_delay(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    garp_delay(c, n, &IN(o)->core.garp_delay_us);
}

static void i_garp_repeat(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    garp_count(c, n, &IN(o)->core.garp_repeat);
}

static void i_garp_refresh(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    garp_delay(c, n, &IN(o)->core.garp_refresh_us);
}

static void i_garp_refresh_repeat(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    garp_count(c, n, &IN(o)->core.garp_refresh_repeat);
}

static void i_garp_lower_prio_repeat(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    garp_count(c, n, &IN(o)->core.garp_lower_prio_repeat);
}

static void i_src_ip(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (one(c, n) && cfg_ip(c, n, n->argv[1], &IN(o)->core.src))
        IN(o)->src_configured = true;
}

static void i_peers(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_peers_parse(c, n, IN(o));
}

static void i_check_unicast_src(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_bool(c, n, &IN(o)->core.check_unicast_src);
}

static void a_type(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct inst_parse *p = o;

    if (!one(c, n))
        return;
    p->auth_where = cfg_where_of(c, n);
    if (strcmp(n->argv[1], "PASS") == 0)
        p->auth_type = VRRP_AUTH_PASS;
    else if (strcmp(n->argv[1], "AH") == 0)
        cfg_err(c, n,
                "'auth_type AH' is not supported by nospof (IPsec AH was removed from "
                "VRRP by RFC 3768); use PASS or no authentication");
    else
        cfg_err(c, n, "'auth_type': expected PASS or AH, got '%s'", n->argv[1]);
}

/* keepalived.conf(5): "Only the first eight (8) characters are used." */
static void a_pass(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct vrrp_cfg *core = &IN(o)->core;
    size_t len;

    if (!one(c, n))
        return;
    len = strlen(n->argv[1]);
    if (len > VRRP_AUTH_LEN)
        cfg_warn(c, n, "'auth_pass' is longer than %d bytes; only '%.8s' is used", VRRP_AUTH_LEN,
                 n->argv[1]);
    memset(core->auth_pass, 0, sizeof(core->auth_pass));
    memcpy(core->auth_pass, n->argv[1], len < VRRP_AUTH_LEN ? len : VRRP_AUTH_LEN);
    P(o)->auth_pass_set = true;
}

static const struct cfg_kw auth_kws[] = {
    {"auth_type", a_type, CFG_LINE},
    {"auth_pass", a_pass, CFG_LINE},
    {NULL, NULL, CFG_LINE},
};

static void i_auth(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (n->argc != 1)
        cfg_err(c, n, "'authentication': expected no argument before '{'");
    cfg_dispatch(c, n, CFG_IN_AUTH, auth_kws, o);
}

static void i_track_if(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_track_refs(c, n, -253, 253, &IN(o)->track_if, &IN(o)->ntrack_if);
}

static void i_track_script(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_track_refs(c, n, -253, 253, &IN(o)->track_script, &IN(o)->ntrack_script);
}

static void i_track_file(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_track_refs(c, n, -254, 254, &IN(o)->track_file, &IN(o)->ntrack_file);
}

static void i_dont_track_primary(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (flag(c, n))
        IN(o)->dont_track_primary = true;
}

#define NOTIFY_FN(fn, field)                                                                       \
    static void fn(struct cfg_ctx *c, const struct conf_node *n, void *o)                          \
    {                                                                                              \
        cfg_cmd(c, n, &IN(o)->field);                                                              \
    }
NOTIFY_FN(i_notify_master, notify_master)
NOTIFY_FN(i_notify_backup, notify_backup)
NOTIFY_FN(i_notify_fault, notify_fault)
NOTIFY_FN(i_notify_stop, notify_stop)
NOTIFY_FN(i_notify, notify)
NOTIFY_FN(i_notify_rx_lower, notify_master_rx_lower_pri)

static bool looks_like_mac(const char *s)
{
    return strlen(s) >= 14 && strchr(s, ':') && strspn(s, "0123456789abcdefABCDEF:") == strlen(s);
}

/* use_vmac [NAME] [MAC] */
static void i_use_vmac(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    struct cfg_instance *in = IN(o);

    if (!cfg_nargs(c, n, 1, 3, "'use_vmac [NAME] [MAC]'"))
        return;
    in->use_vmac = true;
    for (unsigned i = 1; i < n->argc; i++) {
        if (looks_like_mac(n->argv[i]))
            cfg_warn(c, n,
                     "'use_vmac' with a MAC address is not implemented yet by nospof; "
                     "the standard VRRP MAC is used");
        else if (i == 1)
            cfg_ifname(c, n, n->argv[i], in->vmac_name);
        else
            cfg_err(c, n, "'use_vmac': expected a MAC address, got '%s'", n->argv[i]);
    }
}

static void i_vmac_xmit_base(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (flag(c, n))
        IN(o)->vmac_xmit_base = true;
}

static void i_accept(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    if (!flag(c, n))
        return;
    /* no_accept is enforced at run time by the nftables table inet nospof (vmgr_filter.c) */
    IN(o)->core.accept = strcmp(n->argv[0], "accept") == 0;
    P(o)->accept_set = true;
}

static void i_down_timer_adverts(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    long v;

    if (int_arg(c, n, 1, 100, &v))
        IN(o)->core.down_timer_adverts = (uint8_t)v;
}

static void i_lower_prio_no_advert(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_bool(c, n, &IN(o)->core.lower_prio_no_advert);
}

static void i_higher_prio_send_advert(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_bool(c, n, &IN(o)->core.higher_prio_send_advert);
}

static void i_v3_checksum_as_v2(struct cfg_ctx *c, const struct conf_node *n, void *o)
{
    cfg_bool(c, n, &IN(o)->v3_checksum_as_v2);
}

static const struct cfg_kw instance_kws[] = {
    {"state", i_state, CFG_LINE},
    {"interface", i_interface, CFG_LINE},
    {"virtual_router_id", i_vrid, CFG_LINE},
    {"priority", i_priority, CFG_LINE},
    {"advert_int", i_advert_int, CFG_LINE},
    {"version", i_version, CFG_LINE},
    {"virtual_ipaddress", i_vips, CFG_BLOCK},
    {"virtual_ipaddress_excluded", i_evips, CFG_BLOCK},
    {"nopreempt", i_nopreempt, CFG_LINE},
    {"preempt", i_preempt, CFG_LINE},
    {"preempt_delay", i_preempt_delay, CFG_LINE},
    {"garp_master_delay", i_garp_delay, CFG_LINE},
    {"garp_master_repeat", i_garp_repeat, CFG_LINE},
    {"garp_master_refresh", i_garp_refresh, CFG_LINE},
    {"garp_master_refresh_repeat", i_garp_refresh_repeat, CFG_LINE},
    {"garp_lower_prio_repeat", i_garp_lower_prio_repeat, CFG_LINE},
    {"unicast_src_ip", i_src_ip, CFG_LINE},
    {"mcast_src_ip", i_src_ip, CFG_LINE},
    {"unicast_peer", i_peers, CFG_BLOCK},
    {"check_unicast_src", i_check_unicast_src, CFG_LINE},
    {"authentication", i_auth, CFG_BLOCK},
    {"track_interface", i_track_if, CFG_BLOCK},
    {"track_script", i_track_script, CFG_BLOCK},
    {"track_file", i_track_file, CFG_BLOCK},
    {"dont_track_primary", i_dont_track_primary, CFG_LINE},
    {"notify_master", i_notify_master, CFG_LINE},
    {"notify_backup", i_notify_backup, CFG_LINE},
    {"notify_fault", i_notify_fault, CFG_LINE},
    {"notify_stop", i_notify_stop, CFG_LINE},
    {"notify", i_notify, CFG_LINE},
    {"notify_master_rx_lower_pri", i_notify_rx_lower, CFG_LINE},
    {"use_vmac", i_use_vmac, CFG_LINE},
    {"vmac_xmit_base", i_vmac_xmit_base, CFG_LINE},
    {"accept", i_accept, CFG_LINE},
    {"no_accept", i_accept, CFG_LINE},
    {"down_timer_adverts", i_down_timer_adverts, CFG_LINE},
    {"lower_prio_no_advert", i_lower_prio_no_advert, CFG_LINE},
    {"higher_prio_send_advert", i_higher_prio_send_advert, CFG_LINE},
    {"v3_checksum_as_v2", i_v3_checksum_as_v2, CFG_LINE},
    {NULL, NULL, CFG_LINE},
};

static void defaults_from_global(struct cfg_instance *in, const struct cfg_global *g)
{
    in->core = (struct vrrp_cfg){
        .version = g->vrrp_version,
        .family = IP_V4,
        .priority = 100,
        .adver_int_cs = 100,
        .down_timer_adverts = 3,
        .accept = !g->vrrp_strict, /* keepalived: accept unless strict */
        .check_unicast_src = g->vrrp_check_unicast_src,
        .garp_repeat = g->garp_master_repeat,
        .garp_delay_us = g->garp_master_delay_us,
        .garp_refresh_repeat = g->garp_master_refresh_repeat,
        .garp_refresh_us = g->garp_master_refresh_us,
        .garp_lower_prio_repeat = g->garp_lower_prio_repeat,
        .lower_prio_no_advert = g->lower_prio_no_advert,
        .higher_prio_send_advert = g->higher_prio_send_advert,
        .graceful_stop = g->graceful_stop,
        .graceful_margin_us = g->graceful_margin_us,
    };
    in->v3_checksum_as_v2 = g->v3_checksum_as_v2;
}

static void pick_family(struct cfg_ctx *c, struct cfg_instance *in)
{
    if (in->nvips)
        in->core.family = in->vips[0].addr.family;
    else if (in->src_configured)
        in->core.family = in->core.src.family;
    else if (in->npeers)
        in->core.family = in->peers[0].family;
    for (size_t i = 1; i < in->nvips; i++)
        if (in->vips[i].addr.family != in->core.family)
            cfg_err_at(c, &in->vips[i].where,
                       "expected an IPv%u address like the first VIP (put other families in "
                       "virtual_ipaddress_excluded)",
                       in->core.family);
    if (in->src_configured && in->core.src.family != in->core.family)
        cfg_err_at(c, &in->where, "vrrp_instance '%s': expected an IPv%u source address", in->name,
                   in->core.family);
    for (size_t i = 0; i < in->npeers; i++)
        if (in->peers[i].family != in->core.family) {
            cfg_err_at(c, &in->where, "vrrp_instance '%s': expected IPv%u unicast peers", in->name,
                       in->core.family);
            break;
        }
}

/* IPv6 exists only in VRRPv3 (RFC 5798 section 1; RFC 3768 is IPv4 only). */
static void pick_version(struct cfg_ctx *c, struct inst_parse *p)
{
    struct cfg_instance *in = p->in;

    if (in->core.family != IP_V6 || in->core.version == 3)
        return;
    if (in->version_configured)
        cfg_err_at(c, &p->version_where,
                   "'version 2' cannot carry IPv6 addresses; expected 'version 3'");
    in->core.version = 3;
}

/* v2: Adver Int is whole seconds (RFC 3768 section 5.3.7); v3: 12-bit centiseconds
 * (RFC 5798 section 5.2.7). */
static void check_advert(struct cfg_ctx *c, struct inst_parse *p)
{
    struct cfg_instance *in = p->in;
    mono_us us = p->advert_us;

    if (in->core.version == 2 && (us % MONO_S(1) || us < MONO_S(1) || us > MONO_S(255))) {
        cfg_err_at(c, &p->advert_where,
                   "'advert_int': expected whole seconds 1..255 with VRRP version 2, got '%s' "
                   "(use 'version 3' for fractions)",
                   p->advert_text);
        return;
    }
    if (in->core.version == 3 && (us % 10000 || us < 10000 || us > 40950000)) {
        cfg_err_at(c, &p->advert_where,
                   "'advert_int': expected 0.01..40.95 seconds in steps of 0.01 with VRRP "
                   "version 3, got '%s'",
                   p->advert_text);
        return;
    }
    in->core.adver_int_cs = (uint16_t)(us / 10000);
}

/* Authentication exists only in VRRPv2 (RFC 3768 section 5.3.6; removed in RFC 5798). */
static void check_auth(struct cfg_ctx *c, struct inst_parse *p)
{
    struct cfg_instance *in = p->in;

    if (p->auth_type != VRRP_AUTH_PASS) {
        if (p->auth_pass_set && !p->auth_where.file)
            cfg_err_at(c, &in->where, "vrrp_instance '%s': 'auth_pass' without 'auth_type PASS'",
                       in->name);
        return;
    }
    if (!p->auth_pass_set)
        cfg_err_at(c, &p->auth_where, "'auth_type PASS': expected an 'auth_pass' line");
    else if (in->core.version != 2)
        cfg_err_at(c, &p->auth_where,
                   "authentication exists only in VRRP version 2; remove it or use version 2");
    else if (c->cfg->global.vrrp_strict)
        cfg_err_at(c, &p->auth_where, "vrrp_strict forbids authentication (RFC 3768)");
    else
        in->core.auth_type = VRRP_AUTH_PASS;
}

/* keepalived start-up semantics (research/vrrp.md 1.2). */
static void check_preempt(struct cfg_ctx *c, struct inst_parse *p)
{
    struct cfg_instance *in = p->in;
    struct vrrp_cfg *core = &in->core;

    if (core->nopreempt && p->preempt_delay_set) {
        cfg_err_at(c, &p->delay_where, "'preempt_delay' and 'nopreempt' are mutually exclusive");
        return;
    }
    core->init_master = p->state_master;
    if (p->state_master && core->nopreempt) {
        cfg_warn_at(c, &p->nopreempt_where,
                    "vrrp_instance '%s': 'state MASTER' CLEARS 'nopreempt' (keepalived "
                    "semantics); use 'state BACKUP' on every node for nopreempt to work",
                    in->name);
        core->nopreempt = false;
    }
    if (p->state_master && p->preempt_delay_set) {
        cfg_warn_at(c, &p->delay_where,
                    "vrrp_instance '%s': 'state MASTER' clears 'preempt_delay'; use "
                    "'state BACKUP' for it to work",
                    in->name);
        core->preempt_delay_us = 0;
    }
    if (p->state_master && core->priority < 255)
        cfg_warn_at(c, &in->where,
                    "vrrp_instance '%s': 'state MASTER' with priority %u does not make this "
                    "node master sooner; it waits for the master-down timer like a backup "
                    "(only priority 255 takes over at once)",
                    in->name, core->priority);
}

/* vrrp_strict: the RFC rules keepalived enforces (keepalived.conf(5) global_defs). */
static void check_strict(struct cfg_ctx *c, struct inst_parse *p)
{
    struct cfg_instance *in = p->in;

    if (!c->cfg->global.vrrp_strict)
        return;
    if (in->npeers)
        cfg_err_at(c, &in->where, "vrrp_instance '%s': vrrp_strict forbids unicast_peer", in->name);
    if (p->preempt_delay_set)
        cfg_err_at(c, &p->delay_where, "vrrp_strict forbids 'preempt_delay'");
    if (!in->nvips)
        cfg_err_at(c, &in->where, "vrrp_instance '%s': vrrp_strict needs at least one VIP",
                   in->name);
    if (!in->core.accept && in->core.priority != 255)
        cfg_warn_at(c, &in->where,
                    "vrrp_instance '%s': vrrp_strict without 'accept' turns accept mode off: "
                    "as with keepalived, the master drops traffic addressed to its VIPs, which "
                    "are UNREACHABLE (only routed through) -- add 'accept' to receive it",
                    in->name);
}

static void finish(struct cfg_ctx *c, const struct conf_node *n, struct inst_parse *p)
{
    struct cfg_instance *in = p->in;

    if (!p->vrid_seen)
        cfg_err(c, n, "vrrp_instance '%s': expected a 'virtual_router_id' line", in->name);
    if (!p->if_seen && !in->npeers)
        cfg_err(c, n, "vrrp_instance '%s': expected an 'interface' line", in->name);
    if (!p->advert_where.file)
        p->advert_where = in->where;
    if (!p->advert_text[0])
        strcpy(p->advert_text, "1");
    pick_family(c, in);
    pick_version(c, p);
    check_advert(c, p);
    check_auth(c, p);
    check_preempt(c, p);
    check_strict(c, p);
    if (in->use_vmac && !in->vmac_name[0])
        snprintf(in->vmac_name, sizeof(in->vmac_name), "%s.%u",
                 in->core.family == IP_V6 ? "vrrp6" : "vrrp", in->core.vrid);
    in->core.unicast = in->npeers > 0;
    in->core.peers = in->peers; /* heap array: stays valid when the instance array grows */
    in->core.npeers = (unsigned)in->npeers;
}

void cfg_instance_parse(struct cfg_ctx *c, const struct conf_node *n)
{
    struct cfg *cfg = c->cfg;
    struct cfg_instance in = {0};
    struct inst_parse p = {.in = &in, .advert_us = MONO_S(1)};

    if (!cfg_nargs(c, n, 2, 2, "a name before '{'"))
        return;
    if (cfg_find_instance(cfg, n->argv[1])) {
        cfg_err(c, n, "vrrp_instance '%s' is defined twice", n->argv[1]);
        return;
    }
    in.name = cfg_xstrdup(n->argv[1]);
    in.where = cfg_where_of(c, n);
    defaults_from_global(&in, &cfg->global);
    cfg_dispatch(c, n, CFG_IN_INSTANCE, instance_kws, &p);
    finish(c, n, &p);
    cfg->instances = cfg_push(cfg->instances, &cfg->ninstances, sizeof(in));
    cfg->instances[cfg->ninstances - 1] = in;
}
