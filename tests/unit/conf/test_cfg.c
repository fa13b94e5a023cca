/* Unit tests for the config validator (cfg*.c): defaults, every keyword's effect on struct
 * cfg, the keepalived start-up warnings, unimplemented-keyword warnings, and errors with
 * their exact file:line. Configs are parsed from memory with conf_parse_buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/addr.h"
#include "daemon/cfg.h"

static struct cfg *load(const char *text, struct diags *d)
{
    struct conf_tree t = {0};
    struct conf_opts o = {.config_id = "test"};
    struct cfg *cfg;

    assert_int_equal(conf_parse_buffer("t.conf", text, strlen(text), &o, &t, d), 0);
    cfg = cfg_from_tree(&t, d);
    conf_tree_free(&t);
    return cfg;
}

/* Number of diags of this level at this line whose message contains sub. */
static int count_diag(const struct diags *d, enum diag_level lvl, unsigned line, const char *sub)
{
    int n = 0;

    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].level == lvl && d->v[i].line == line && strstr(d->v[i].msg, sub) &&
            d->v[i].file && strcmp(d->v[i].file, "t.conf") == 0)
            n++;
    return n;
}

static void assert_ip(const struct ip_addr *a, const char *text)
{
    char buf[IP_ADDR_STRLEN];

    assert_string_equal(ip_addr_format(a, buf, sizeof(buf)), text);
}

#define MIN_INSTANCE                                                                               \
    "vrrp_instance VI_1 {\n"                                                                       \
    "    interface eth0\n"                                                                         \
    "    virtual_router_id 51\n"                                                                   \
    "    virtual_ipaddress {\n"                                                                    \
    "        192.0.2.10\n"                                                                         \
    "    }\n"                                                                                      \
    "}\n"

static void defaults(void **state)
{
    struct diags d = {0};
    struct cfg *cfg = load(MIN_INSTANCE, &d);
    const struct cfg_instance *in;

    assert_int_equal(d.n, 0);
    assert_int_equal(cfg->global.vrrp_version, 2);
    assert_int_equal(cfg->global.garp_master_repeat, 5);
    assert_int_equal(cfg->global.garp_master_delay_us, 5000000);
    assert_int_equal(cfg->global.garp_lower_prio_repeat, 5);
    assert_int_equal(cfg->global.garp_master_refresh_repeat, 1);
    assert_true(cfg->global.graceful_stop);
    assert_int_equal(cfg->global.graceful_margin_us, 0);
    assert_int_equal(cfg->global.upgrade_drain_us, 300000000);
    assert_int_equal(cfg->ninstances, 1);
    in = cfg_find_instance(cfg, "VI_1");
    assert_non_null(in);
    assert_string_equal(in->ifname, "eth0");
    assert_string_equal(in->where.file, "t.conf");
    assert_int_equal(in->where.line, 1);
    assert_int_equal(in->core.version, 2);
    assert_int_equal(in->core.family, IP_V4);
    assert_int_equal(in->core.vrid, 51);
    assert_int_equal(in->core.priority, 100);
    assert_int_equal(in->core.adver_int_cs, 100);
    assert_int_equal(in->core.down_timer_adverts, 3);
    assert_false(in->core.init_master);
    assert_false(in->core.nopreempt);
    assert_true(in->core.accept);
    assert_false(in->core.unicast);
    assert_int_equal(in->core.src.family, IP_NONE);
    assert_false(in->src_configured);
    assert_int_equal(in->core.auth_type, 0);
    assert_int_equal(in->core.garp_repeat, 5);
    assert_int_equal(in->core.garp_delay_us, 5000000);
    assert_int_equal(in->core.garp_refresh_us, 0);
    assert_int_equal(in->core.garp_lower_prio_repeat, 5);
    assert_true(in->core.graceful_stop);
    assert_int_equal(in->nvips, 1);
    assert_ip(&in->vips[0].addr, "192.0.2.10");
    assert_int_equal(in->vips[0].prefix_len, 32);
    assert_int_equal(in->vips[0].brd.family, IP_NONE);
    assert_int_equal(in->vips[0].scope, 0);
    assert_int_equal(in->vips[0].where.line, 5);
    assert_null(in->sync_group);
    cfg_free(cfg);
    diag_clear(&d);
}

static void global_keywords(void **state)
{
    struct diags d = {0};
    struct cfg *cfg = load("global_defs {\n"
                           "  router_id r1\n"
                           "  vrrp_version 3\n"
                           "  vrrp_garp_master_delay 2\n"
                           "  vrrp_garp_master_repeat 3\n"
                           "  vrrp_garp_master_refresh 60\n"
                           "  vrrp_garp_master_refresh_repeat 2\n"
                           "  vrrp_garp_interval 0.001\n"
                           "  vrrp_gna_interval 0.000002\n"
                           "  vrrp_lower_prio_no_advert\n"
                           "  vrrp_higher_prio_send_advert yes\n"
                           "  vrrp_check_unicast_src\n"
                           "  vrrp_skip_check_adv_addr on\n"
                           "  script_user nobody nogroup\n"
                           "  enable_script_security\n"
                           "  vrrp_rt_priority 50\n"
                           "  vrrp_no_swap\n"
                           "  notify_fifo /run/f1\n"
                           "  notify_fifo_script \"/bin/s1 a\" u1\n"
                           "  vrrp_notify_fifo /run/f2 u2 g2\n"
                           "  vrrp_notify_fifo_script /bin/s2\n"
                           "  v3_checksum_as_v2\n"
                           "  nospof_graceful_stop off\n"
                           "  nospof_graceful_margin 1.5\n"
                           "  nospof_upgrade_drain_timeout 20\n"
                           "}\n",
                           &d);
    const struct cfg_global *g = &cfg->global;

    assert_int_equal(d.n, 0);
    assert_string_equal(g->router_id, "r1");
    assert_int_equal(g->vrrp_version, 3);
    assert_int_equal(g->garp_master_delay_us, 2000000);
    assert_int_equal(g->garp_master_repeat, 3);
    assert_int_equal(g->garp_lower_prio_repeat, 3); /* follows garp_master_repeat */
    assert_int_equal(g->garp_master_refresh_us, 60000000);
    assert_int_equal(g->garp_master_refresh_repeat, 2);
    assert_int_equal(g->garp_interval_us, 1000);
    assert_int_equal(g->gna_interval_us, 2);
    assert_true(g->lower_prio_no_advert);
    assert_true(g->higher_prio_send_advert);
    assert_true(g->vrrp_check_unicast_src);
    assert_true(g->vrrp_skip_check_adv_addr);
    assert_string_equal(g->script_user, "nobody");
    assert_string_equal(g->script_group, "nogroup");
    assert_true(g->enable_script_security);
    assert_int_equal(g->vrrp_rt_priority, 50);
    assert_true(g->vrrp_no_swap);
    assert_string_equal(g->notify_fifo.cmdline, "/run/f1");
    assert_null(g->notify_fifo.user);
    assert_string_equal(g->notify_fifo_script.cmdline, "/bin/s1 a");
    assert_string_equal(g->notify_fifo_script.user, "u1");
    assert_string_equal(g->vrrp_notify_fifo.cmdline, "/run/f2");
    assert_string_equal(g->vrrp_notify_fifo.group, "g2");
    assert_string_equal(g->vrrp_notify_fifo_script.cmdline, "/bin/s2");
    assert_true(g->v3_checksum_as_v2);
    assert_false(g->graceful_stop);
    assert_int_equal(g->graceful_margin_us, 1500000);
    assert_int_equal(g->upgrade_drain_us, 20000000);
    assert_false(g->vrrp_strict);
    cfg_free(cfg);
    diag_clear(&d);
}

/* global_defs after the instance still sets the instance's defaults. */
static void global_applies_to_earlier_instance(void **state)
{
    struct diags d = {0};
    struct cfg *cfg =
        load(MIN_INSTANCE "global_defs {\n  vrrp_version 3\n  vrrp_min_garp\n}\n", &d);

    assert_int_equal(d.n, 0);
    assert_int_equal(cfg->instances[0].core.version, 3);
    assert_int_equal(cfg->instances[0].core.garp_repeat, 1);
    assert_int_equal(cfg->instances[0].core.garp_delay_us, 0);
    cfg_free(cfg);
    diag_clear(&d);
}

static void instance_keywords(void **state)
{
    struct diags d = {0};
    struct cfg *cfg = load("vrrp_script chk { script /bin/true }\n" /* 1 */
                           "track_file tf { file /run/tf }\n"       /* 2 */
                           "vrrp_instance VI_1 {\n"                 /* 3 */
                           "  state BACKUP\n"                       /* 4 */
                           "  interface eth0\n"                     /* 5 */
                           "  virtual_router_id 7\n"                /* 6 */
                           "  priority 150\n"                       /* 7 */
                           "  advert_int 2\n"                       /* 8 */
                           "  nopreempt\n"                          /* 9 */
                           "  preempt\n"                            /* 10 */
                           "  garp_master_delay 1\n"                /* 11 */
                           "  garp_master_repeat 2\n"               /* 12 */
                           "  garp_master_refresh 30\n"             /* 13 */
                           "  garp_master_refresh_repeat 4\n"       /* 14 */
                           "  garp_lower_prio_repeat 6\n"           /* 15 */
                           "  unicast_src_ip 192.0.2.1\n"           /* 16 */
                           "  unicast_peer {\n    192.0.2.2\n    192.0.2.3\n  }\n"
                           "  authentication {\n    auth_type PASS\n    auth_pass secret\n  }\n"
                           "  track_interface {\n    eth1\n    eth2 weight -10 reverse\n  }\n"
                           "  track_script {\n    chk weight 5\n  }\n"
                           "  track_file {\n    tf\n  }\n"
                           "  notify_master \"/bin/m arg\" root wheel\n"
                           "  notify_backup /bin/b\n"
                           "  notify_fault /bin/f\n"
                           "  notify_stop /bin/s\n"
                           "  notify /bin/n\n"
                           "  notify_master_rx_lower_pri /bin/l\n"
                           "  use_vmac\n"
                           "  vmac_xmit_base\n"
                           "  no_accept\n"
                           "  dont_track_primary\n"
                           "  down_timer_adverts 5\n"
                           "  lower_prio_no_advert\n"
                           "  higher_prio_send_advert on\n"
                           "  check_unicast_src\n"
                           "  v3_checksum_as_v2\n"
                           "  virtual_ipaddress {\n"
                           "    192.0.2.10/24 brd 192.0.2.255 dev eth3 scope link label eth3:1\n"
                           "    192.0.2.11 no_track\n"
                           "  }\n"
                           "  virtual_ipaddress_excluded {\n    2001:db8::1/64\n  }\n"
                           "}\n",
                           &d);
    const struct cfg_instance *in = &cfg->instances[0];

    diag_print(&d, stdout);
    /* No diagnostic: no_accept is enforced (vmgr_filter.c). */
    assert_int_equal(d.n, 0);
    assert_false(in->core.init_master);
    assert_int_equal(in->core.vrid, 7);
    assert_int_equal(in->core.priority, 150);
    assert_int_equal(in->core.adver_int_cs, 200);
    assert_true(in->core.nopreempt);
    assert_int_equal(in->core.garp_delay_us, 1000000);
    assert_int_equal(in->core.garp_repeat, 2);
    assert_int_equal(in->core.garp_refresh_us, 30000000);
    assert_int_equal(in->core.garp_refresh_repeat, 4);
    assert_int_equal(in->core.garp_lower_prio_repeat, 6);
    assert_true(in->src_configured);
    assert_ip(&in->core.src, "192.0.2.1");
    assert_true(in->core.unicast);
    assert_int_equal(in->core.npeers, 2);
    assert_ptr_equal(in->core.peers, in->peers);
    assert_ip(&in->peers[1], "192.0.2.3");
    assert_int_equal(in->core.auth_type, 1);
    assert_memory_equal(in->core.auth_pass, "secret\0\0", 8);
    assert_int_equal(in->ntrack_if, 2);
    assert_string_equal(in->track_if[1].name, "eth2");
    assert_true(in->track_if[1].weight_set);
    assert_int_equal(in->track_if[1].weight, -10);
    assert_true(in->track_if[1].weight_reverse);
    assert_false(in->track_if[0].weight_set);
    assert_int_equal(in->ntrack_script, 1);
    assert_int_equal(in->track_script[0].weight, 5);
    assert_int_equal(in->ntrack_file, 1);
    assert_string_equal(in->notify_master.cmdline, "/bin/m arg");
    assert_string_equal(in->notify_master.user, "root");
    assert_string_equal(in->notify_master.group, "wheel");
    assert_string_equal(in->notify_backup.cmdline, "/bin/b");
    assert_string_equal(in->notify_fault.cmdline, "/bin/f");
    assert_string_equal(in->notify_stop.cmdline, "/bin/s");
    assert_string_equal(in->notify.cmdline, "/bin/n");
    assert_string_equal(in->notify_master_rx_lower_pri.cmdline, "/bin/l");
    assert_true(in->use_vmac);
    assert_string_equal(in->vmac_name, "vrrp.7");
    assert_true(in->vmac_xmit_base);
    assert_false(in->core.accept);
    assert_true(in->dont_track_primary);
    assert_int_equal(in->core.down_timer_adverts, 5);
    assert_true(in->core.lower_prio_no_advert);
    assert_true(in->core.higher_prio_send_advert);
    assert_true(in->core.check_unicast_src);
    assert_true(in->v3_checksum_as_v2);
    assert_int_equal(in->nvips, 2);
    assert_int_equal(in->vips[0].prefix_len, 24);
    assert_ip(&in->vips[0].brd, "192.0.2.255");
    assert_string_equal(in->vips[0].dev, "eth3");
    assert_string_equal(in->vips[0].label, "eth3:1");
    assert_int_equal(in->vips[0].scope, 253);
    assert_true(in->vips[1].no_track);
    assert_int_equal(in->nevips, 1);
    assert_int_equal(in->evips[0].addr.family, IP_V6);
    assert_int_equal(in->evips[0].prefix_len, 64);
    assert_int_equal(in->core.family, IP_V4); /* from the first VIP, not the eVIP */
    cfg_free(cfg);
    diag_clear(&d);
}

static void scripts_and_files(void **state)
{
    struct diags d = {0};
    struct cfg *cfg = load("vrrp_script a {\n  script \"/bin/check x\"\n}\n"
                           "vrrp_script b {\n  script /bin/b\n  interval 3\n  timeout 2\n"
                           "  weight -20 reverse\n  rise 4\n  fall 5\n  user nobody\n"
                           "  init_fail\n}\n"
                           "vrrp_track_file f {\n  file /run/f\n  weight -3 reverse\n"
                           "  init_file 7 overwrite\n}\n",
                           &d);
    const struct cfg_script *a = cfg_find_script(cfg, "a"), *b = cfg_find_script(cfg, "b");
    const struct cfg_track_file *f = cfg_find_track_file(cfg, "f");

    assert_int_equal(d.n, 0);
    assert_string_equal(a->cmd.cmdline, "/bin/check x");
    assert_int_equal(a->interval_us, 1000000);
    assert_int_equal(a->timeout_us, 1000000); /* defaults to the interval */
    assert_int_equal(a->weight, 0);
    assert_int_equal(a->rise, 1);
    assert_int_equal(a->fall, 1);
    assert_false(a->init_fail);
    assert_int_equal(b->interval_us, 3000000);
    assert_int_equal(b->timeout_us, 2000000);
    assert_int_equal(b->weight, -20);
    assert_true(b->weight_reverse);
    assert_int_equal(b->rise, 4);
    assert_int_equal(b->fall, 5);
    assert_string_equal(b->cmd.user, "nobody");
    assert_true(b->init_fail);
    assert_int_equal(b->where.line, 4);
    assert_string_equal(f->path, "/run/f");
    assert_int_equal(f->weight, -3);
    assert_true(f->weight_reverse);
    assert_true(f->init_file);
    assert_int_equal(f->init_value, 7);
    assert_true(f->init_overwrite);
    assert_null(cfg_find_script(cfg, "zz"));
    cfg_free(cfg);
    diag_clear(&d);
}

static void ipv6_forces_v3(void **state)
{
    struct diags d = {0};
    struct cfg *cfg = load("vrrp_instance V6 {\n  interface eth0\n  virtual_router_id 9\n"
                           "  advert_int 0.25\n  use_vmac\n"
                           "  virtual_ipaddress {\n    fe80::1\n    2001:db8::5/64\n  }\n}\n",
                           &d);
    const struct cfg_instance *in = &cfg->instances[0];

    assert_int_equal(d.n, 0);
    assert_int_equal(in->core.family, IP_V6);
    assert_int_equal(in->core.version, 3);
    assert_int_equal(in->core.adver_int_cs, 25);
    assert_int_equal(in->vips[0].prefix_len, 128);
    assert_string_equal(in->vmac_name, "vrrp6.9");
    cfg_free(cfg);
    diag_clear(&d);
}

static void master_clears_nopreempt(void **state)
{
    struct diags d = {0};
    struct cfg *cfg = load("vrrp_instance VI_1 {\n  state MASTER\n  interface eth0\n"
                           "  virtual_router_id 1\n  priority 200\n  nopreempt\n}\n",
                           &d);

    assert_false(cfg->instances[0].core.nopreempt);
    assert_true(cfg->instances[0].core.init_master);
    assert_int_equal(count_diag(&d, DIAG_WARNING, 6, "CLEARS 'nopreempt'"), 1);
    assert_int_equal(count_diag(&d, DIAG_WARNING, 1, "does not make this node master sooner"), 1);
    assert_int_equal(d.n, 2);
    assert_false(diag_has_errors(&d));
    cfg_free(cfg);
    diag_clear(&d);
}

static void owner_master_no_warning(void **state)
{
    struct diags d = {0};
    struct cfg *cfg = load("vrrp_instance VI_1 {\n  state MASTER\n  interface eth0\n"
                           "  virtual_router_id 1\n  priority 255\n}\n",
                           &d);

    assert_int_equal(d.n, 0);
    assert_true(cfg->instances[0].core.init_master);
    cfg_free(cfg);
    diag_clear(&d);
}

static void strict_without_accept_warns(void **state)
{
    struct diags d = {0};
    struct cfg *cfg = load("global_defs {\n  vrrp_strict\n}\n" MIN_INSTANCE, &d);

    assert_false(cfg->instances[0].core.accept);
    assert_true(cfg->instances[0].core.lower_prio_no_advert);
    assert_int_equal(count_diag(&d, DIAG_WARNING, 4, "UNREACHABLE"), 1);
    assert_int_equal(d.n, 1);
    cfg_free(cfg);
    diag_clear(&d);
}

static void unimplemented_block_is_one_warning(void **state)
{
    struct diags d = {0};
    struct cfg *cfg = load("global_defs {\n  notification_email {\n    a@b\n  }\n"
                           "  smtp_server 192.0.2.1\n}\n"
                           "bfd_instance b1 {\n  neighbor_ip 192.0.2.2\n"
                           "  nested {\n    deeper {\n      x 1\n    }\n  }\n}\n",
                           &d);

    assert_int_equal(d.n, 3);
    assert_false(diag_has_errors(&d));
    assert_int_equal(count_diag(&d, DIAG_WARNING, 2,
                                "'notification_email' is not implemented yet by nospof; block "
                                "ignored"),
                     1);
    assert_int_equal(count_diag(&d, DIAG_WARNING, 5, "'smtp_server' is not implemented yet"), 1);
    assert_int_equal(count_diag(&d, DIAG_WARNING, 7,
                                "'bfd_instance' is not implemented yet by nospof; block "
                                "ignored"),
                     1);
    cfg_free(cfg);
    diag_clear(&d);
}

static void sync_group(void **state)
{
    struct diags d = {0};
    struct cfg *cfg =
        load("vrrp_sync_group G {\n  group { VI_1 VI_2 }\n"
             "  notify_master /bin/gm\n  track_interface {\n    eth9\n  }\n}\n" MIN_INSTANCE
             "vrrp_instance VI_2 {\n  interface eth1\n  virtual_router_id 51\n}\n",
             &d);

    assert_int_equal(d.n, 0);
    assert_int_equal(cfg->ngroups, 1);
    assert_int_equal(cfg->groups[0].nmembers, 2);
    assert_string_equal(cfg->groups[0].members[1], "VI_2");
    assert_string_equal(cfg->groups[0].notify_master.cmdline, "/bin/gm");
    assert_int_equal(cfg->groups[0].ntrack_if, 1);
    assert_string_equal(cfg->instances[0].sync_group, "G");
    assert_string_equal(cfg->instances[1].sync_group, "G");
    cfg_free(cfg);
    diag_clear(&d);
}

/* Two unicast instances with disjoint peers may share VRID and interface (keepalived). */
static void unicast_vrid_sharing(void **state)
{
    struct diags d = {0};
    struct cfg *cfg = load("vrrp_instance A {\n  interface eth0\n  virtual_router_id 5\n"
                           "  unicast_peer {\n    192.0.2.2\n  }\n}\n"
                           "vrrp_instance B {\n  interface eth0\n  virtual_router_id 5\n"
                           "  unicast_peer {\n    192.0.2.3\n  }\n}\n",
                           &d);

    assert_int_equal(d.n, 0);
    cfg_free(cfg);
    diag_clear(&d);
}

struct err_case {
    const char *text;
    unsigned line;
    const char *msg;
};

static const struct err_case err_cases[] = {
    {"vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  priority 256\n}\n", 4,
     "'priority': expected an integer in 1..255, got '256'"},
    {"vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  advert_int 1.5\n}\n", 4,
     "expected whole seconds 1..255 with VRRP version 2, got '1.5'"},
    {"vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  version 3\n"
     "  advert_int 41\n}\n",
     5, "expected 0.01..40.95 seconds"},
    {"vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  bogus 1\n}\n", 4,
     "unknown keyword 'bogus'"},
    {"bogus_top {\n  x\n}\n", 1, "unknown keyword 'bogus_top'"},
    {"vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  authentication {\n"
     "    auth_type AH\n    auth_pass x\n  }\n}\n",
     5, "not supported by nospof"},
    {"vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  track_script {\n"
     "    nope\n  }\n}\n",
     5, "unknown vrrp_script 'nope'"},
    {"vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  nopreempt\n"
     "  preempt_delay 5\n}\n",
     5, "mutually exclusive"},
    {"vrrp_script s {\n  script /bin/x\n  weight -254\n}\n", 3,
     "expected an integer in -253..253, got '-254'"},
    {"vrrp_sync_group G {\n  group {\n    X\n  }\n}\n", 1, "unknown vrrp_instance 'X'"},
    {"global_defs {\n  vrrp_rt_priority 100\n}\n", 2, "expected an integer in 1..99"},
    {"global_defs {\n  nospof_graceful_margin -1\n}\n", 2,
     "'nospof_graceful_margin': expected seconds"},
    {"global_defs {\n  nospof_upgrade_drain_timeout 1d\n}\n", 2,
     "'nospof_upgrade_drain_timeout': expected seconds"},
};

static void errors_at_file_line(void **state)
{
    for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        struct diags d = {0};
        struct cfg *cfg = load(err_cases[i].text, &d);

        if (d.errors != 1 || count_diag(&d, DIAG_ERROR, err_cases[i].line, err_cases[i].msg) != 1) {
            printf("case %zu:\n", i);
            diag_print(&d, stdout);
            fail();
        }
        cfg_free(cfg);
        diag_clear(&d);
    }
}

static void free_accepts_null(void **state)
{
    cfg_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(global_keywords),
        cmocka_unit_test(global_applies_to_earlier_instance),
        cmocka_unit_test(instance_keywords),
        cmocka_unit_test(scripts_and_files),
        cmocka_unit_test(ipv6_forces_v3),
        cmocka_unit_test(master_clears_nopreempt),
        cmocka_unit_test(owner_master_no_warning),
        cmocka_unit_test(strict_without_accept_warns),
        cmocka_unit_test(unimplemented_block_is_one_warning),
        cmocka_unit_test(sync_group),
        cmocka_unit_test(unicast_vrid_sharing),
        cmocka_unit_test(errors_at_file_line),
        cmocka_unit_test(free_accepts_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
