/* Unit tests for the load-balancer part of the config validator (cfg_lvs*.c, cfg_check*.c):
 * virtual_server, virtual_server_group, real_server, every checker type and SSL -- defaults
 * (keepalived's), every keyword's effect, timing inheritance VS -> RS -> checker, the
 * refusals (DR, TUN, fwmark, twos, SCTP...) and warnings at their exact file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
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

static int count_level(const struct diags *d, enum diag_level lvl)
{
    int n = 0;

    for (size_t i = 0; i < d->n; i++)
        n += d->v[i].level == lvl;
    return n;
}

/* Asserts that d holds exactly one diag of this level, at this line, containing sub. */
static void assert_only(const struct diags *d, enum diag_level lvl, unsigned line, const char *sub)
{
    if (count_level(d, lvl) != 1 || d->n != 1)
        for (size_t i = 0; i < d->n; i++)
            print_message("diag %u: %s\n", d->v[i].line, d->v[i].msg);
    assert_int_equal(d->n, 1);
    assert_int_equal(d->v[0].level, lvl);
    assert_int_equal(d->v[0].line, line);
    assert_string_equal(d->v[0].file, "t.conf");
    assert_non_null(strstr(d->v[0].msg, sub));
}

static void expect_error(const char *text, unsigned line, const char *sub)
{
    struct diags d = {0};
    struct cfg *cfg = load(text, &d);

    assert_only(&d, DIAG_ERROR, line, sub);
    cfg_free(cfg);
    diag_clear(&d);
}

static void expect_warning(const char *text, unsigned line, const char *sub)
{
    struct diags d = {0};
    struct cfg *cfg = load(text, &d);

    assert_only(&d, DIAG_WARNING, line, sub);
    cfg_free(cfg);
    diag_clear(&d);
}

static void assert_ip(const struct ip_addr *a, const char *text)
{
    char buf[IP_ADDR_STRLEN];

    assert_string_equal(ip_addr_format(a, buf, sizeof(buf)), text);
}

/* Loads text that must give no diagnostic at all. */
static struct cfg *load_clean(const char *text)
{
    struct diags d = {0};
    struct cfg *cfg = load(text, &d);

    for (size_t i = 0; i < d.n; i++)
        print_message("unexpected diag %u: %s\n", d.v[i].line, d.v[i].msg);
    assert_int_equal(d.n, 0);
    diag_clear(&d);
    return cfg;
}

static void defaults(void **state)
{
    struct cfg *cfg = load_clean("virtual_server 192.0.2.1 80 {\n"
                                 "  real_server 198.51.100.1 {\n"
                                 "    TCP_CHECK {\n"
                                 "    }\n"
                                 "  }\n"
                                 "}\n");
    const struct cfg_vs *vs;
    const struct cfg_rs *rs;
    const struct cfg_check *k;

    assert_int_equal(cfg->nvss, 1);
    vs = &cfg->vss[0];
    assert_ip(&vs->addr, "192.0.2.1");
    assert_int_equal(vs->port, 80);
    assert_null(vs->group);
    assert_int_equal(vs->where.line, 1);
    assert_int_equal(vs->sched, CFG_SCHED_WLC);
    assert_int_equal(vs->proto, CFG_LB_TCP);
    assert_int_equal(vs->family, IP_V4);
    assert_false(vs->persistent);
    assert_int_equal(vs->persistence_prefix, 32);
    assert_int_equal(vs->quorum, 1);
    assert_int_equal(vs->hysteresis, 0);
    assert_false(vs->has_sorry);
    assert_int_equal(vs->proxy_protocol, CFG_PROXY_NONE);
    assert_int_equal(vs->idle_timeout_us, 900000000);
    assert_int_equal(vs->sched_flags, 0);
    assert_int_equal(vs->nrss, 1);
    rs = &vs->rss[0];
    assert_ip(&rs->addr, "198.51.100.1");
    assert_int_equal(rs->port, 80); /* the virtual server's */
    assert_int_equal(rs->weight, 1);
    assert_int_equal(rs->where.line, 2);
    assert_int_equal(rs->proxy_protocol, CFG_PROXY_NONE);
    assert_int_equal(rs->timing.delay_loop_us, 60000000);
    assert_int_equal(rs->timing.connect_timeout_us, 5000000);
    assert_int_equal(rs->timing.retry, 1);
    assert_int_equal(rs->nchecks, 1);
    k = &rs->checks[0];
    assert_int_equal(k->where.line, 3);
    assert_int_equal(k->probe.kind, PROBE_TCP);
    assert_ip(&k->probe.target.addr, "198.51.100.1");
    assert_int_equal(k->probe.target.port, 80);
    assert_int_equal(k->probe.target.bind_addr.family, IP_NONE);
    assert_int_equal(k->timing.delay_loop_us, 60000000);
    assert_int_equal(k->timing.connect_timeout_us, 5000000);
    assert_int_equal(k->timing.retry, 1);
    assert_int_equal(k->timing.delay_before_retry_us, 1000000);
    assert_int_equal(k->timing.warmup_us, 60000000);
    assert_false(k->timing.alpha);
    assert_int_equal(k->timing.set, 0);
    assert_int_equal(cfg->nvsgs, 0);
    assert_false(cfg->ssl.configured);
    cfg_free(cfg);
}

static void checker_defaults_per_kind(void **state)
{
    struct cfg *cfg = load_clean("virtual_server 192.0.2.1 53 {\n"
                                 "  protocol UDP\n"
                                 "  delay_loop 20\n"
                                 "  real_server 198.51.100.1 53 {\n"
                                 "    HTTP_GET {\n"
                                 "      url {\n"
                                 "      }\n"
                                 "    }\n"
                                 "    DNS_CHECK {\n"
                                 "    }\n"
                                 "    MISC_CHECK {\n"
                                 "      misc_path /bin/true\n"
                                 "    }\n"
                                 "    UDP_CHECK {\n"
                                 "    }\n"
                                 "    PING_CHECK {\n"
                                 "    }\n"
                                 "  }\n"
                                 "}\n");
    const struct cfg_vs *vs = &cfg->vss[0];
    const struct cfg_check *k = vs->rss[0].checks;

    assert_int_equal(vs->idle_timeout_us, 30000000); /* UDP */
    assert_int_equal(vs->rss[0].nchecks, 5);
    /* HTTP_GET: delay_before_retry 3 s, HTTP/1.0, path "/", status 200-299 (none stored) */
    assert_int_equal(k[0].probe.kind, PROBE_HTTP);
    assert_int_equal(k[0].timing.delay_before_retry_us, 3000000);
    assert_int_equal(k[0].timing.retry, 1);
    assert_int_equal(k[0].timing.delay_loop_us, 20000000);
    assert_int_equal(k[0].probe.u.http.http_protocol, 10);
    assert_int_equal(k[0].probe.u.http.nurls, 1);
    assert_string_equal(k[0].probe.u.http.urls[0].path, "/");
    assert_int_equal(k[0].probe.u.http.urls[0].nstatus, 0);
    assert_false(k[0].probe.u.http.urls[0].has_digest);
    assert_null(k[0].probe.u.http.virtualhost);
    /* DNS_CHECK: retry 3, delay_before_retry = delay_loop, SOA ".", warmup = delay_loop */
    assert_int_equal(k[1].probe.kind, PROBE_DNS);
    assert_int_equal(k[1].timing.retry, 3);
    assert_int_equal(k[1].timing.delay_before_retry_us, 20000000);
    assert_int_equal(k[1].timing.warmup_us, 20000000);
    assert_int_equal(k[1].probe.u.dns.qtype, 6);
    assert_string_equal(k[1].probe.u.dns.name, ".");
    /* MISC_CHECK: retry 0, misc_timeout = delay_loop */
    assert_int_equal(k[2].probe.kind, PROBE_MISC);
    assert_int_equal(k[2].timing.retry, 0);
    assert_int_equal(k[2].timing.delay_before_retry_us, 1000000);
    assert_int_equal(k[2].misc_timeout_us, 20000000);
    assert_string_equal(k[2].probe.u.misc.cmdline, "/bin/true");
    assert_false(k[2].probe.u.misc.dynamic);
    /* UDP_CHECK: empty payload, no reply required, lengths 0..255 */
    assert_int_equal(k[3].probe.kind, PROBE_UDP);
    assert_int_equal(k[3].probe.u.udp.payload_len, 0);
    assert_false(k[3].probe.u.udp.require_reply);
    assert_int_equal(k[3].probe.u.udp.min_reply_len, 0);
    assert_int_equal(k[3].probe.u.udp.max_reply_len, 255);
    assert_int_equal(k[4].probe.kind, PROBE_PING);
    assert_int_equal(k[4].timing.retry, 1);
    cfg_free(cfg);
}

static void timing_inheritance(void **state)
{
    struct cfg *cfg = load_clean("virtual_server 192.0.2.1 80 {\n"
                                 "  delay_loop 10\n"
                                 "  retry 2\n"
                                 "  warmup 0\n"
                                 "  alpha\n"
                                 "  inhibit_on_failure\n"
                                 "  real_server 198.51.100.1 8080 {\n"
                                 "    connect_timeout 2.5\n"
                                 "    delay_before_retry 4\n"
                                 "    DNS_CHECK {\n"
                                 "    }\n"
                                 "    TCP_CHECK {\n"
                                 "      nb_get_retry 7\n"
                                 "      delay_loop 3\n"
                                 "      alpha off\n"
                                 "    }\n"
                                 "  }\n"
                                 "  real_server 198.51.100.2 8080 {\n"
                                 "    inhibit_on_failure off\n"
                                 "  }\n"
                                 "}\n");
    const struct cfg_rs *rs = &cfg->vss[0].rss[0];
    const struct cfg_check *dns = &rs->checks[0], *tcp = &rs->checks[1];

    assert_int_equal(rs->port, 8080);
    assert_int_equal(rs->timing.delay_loop_us, 10000000);
    assert_int_equal(rs->timing.retry, 2);
    assert_int_equal(rs->timing.connect_timeout_us, 2500000);
    assert_true(rs->timing.inhibit_on_failure);
    assert_true(rs->timing.alpha);
    assert_int_equal(rs->timing.set, CFG_LBT_CONNECT_TO | CFG_LBT_DELAY_RETRY);
    assert_false(cfg->vss[0].rss[1].timing.inhibit_on_failure);
    /* DNS: retry from the VS (2) beats DNS's own default (3) */
    assert_int_equal(dns->timing.retry, 2);
    assert_int_equal(dns->timing.delay_loop_us, 10000000);
    assert_int_equal(dns->timing.connect_timeout_us, 2500000);
    assert_int_equal(dns->timing.delay_before_retry_us, 4000000);
    assert_int_equal(dns->timing.warmup_us, 0);
    assert_true(dns->timing.alpha);
    assert_ip(&dns->probe.target.addr, "198.51.100.1");
    assert_int_equal(dns->probe.target.port, 8080);
    assert_int_equal(tcp->timing.retry, 7);
    assert_int_equal(tcp->timing.delay_loop_us, 3000000);
    assert_int_equal(tcp->timing.warmup_us, 0);
    assert_false(tcp->timing.alpha);
    assert_int_equal(tcp->timing.set, CFG_LBT_RETRY | CFG_LBT_DELAY_LOOP | CFG_LBT_ALPHA);
    cfg_free(cfg);
}

static void vs_keywords(void **state)
{
    struct cfg *cfg = load_clean("virtual_server 2001:db8::1 443 {\n"
                                 "  lb_algo sh\n"
                                 "  lb_kind NAT\n"
                                 "  protocol TCP\n"
                                 "  persistence_timeout\n"
                                 "  persistence_granularity 64\n"
                                 "  quorum 2\n"
                                 "  hysteresis 1\n"
                                 "  quorum_up \"/bin/up arg\" nobody nogroup\n"
                                 "  quorum_down /bin/down\n"
                                 "  sorry_server 2001:db8::99\n"
                                 "  sorry_server_inhibit\n"
                                 "  sorry_server_lvs_method NAT\n"
                                 "  omega\n"
                                 "  virtualhost www.example.org\n"
                                 "  sh-port\n"
                                 "  flag-1\n"
                                 "  ip_family inet6\n"
                                 "  proxy_protocol v2\n"
                                 "  nospof_idle_timeout 60.5\n"
                                 "  real_server 2001:db8::10 8443 {\n"
                                 "    weight 3\n"
                                 "  }\n"
                                 "}\n");
    const struct cfg_vs *vs = &cfg->vss[0];

    assert_int_equal(vs->sched, CFG_SCHED_SH);
    assert_int_equal(vs->family, IP_V6);
    assert_true(vs->persistent);
    assert_int_equal(vs->persistence_timeout_s, 360);
    assert_int_equal(vs->persistence_prefix, 64);
    assert_int_equal(vs->quorum, 2);
    assert_int_equal(vs->hysteresis, 1);
    assert_string_equal(vs->quorum_up.cmdline, "/bin/up arg");
    assert_string_equal(vs->quorum_up.user, "nobody");
    assert_string_equal(vs->quorum_up.group, "nogroup");
    assert_string_equal(vs->quorum_down.cmdline, "/bin/down");
    assert_null(vs->quorum_down.user);
    assert_true(vs->has_sorry);
    assert_ip(&vs->sorry_addr, "2001:db8::99");
    assert_int_equal(vs->sorry_port, 443);
    assert_true(vs->sorry_inhibit);
    assert_true(vs->omega);
    assert_string_equal(vs->virtualhost, "www.example.org");
    assert_int_equal(vs->sched_flags, CFG_SCHED_FLAG_PORT | CFG_SCHED_FLAG_FALLBACK);
    assert_int_equal(vs->proxy_protocol, CFG_PROXY_V2);
    assert_int_equal(vs->rss[0].proxy_protocol, CFG_PROXY_V2);
    assert_int_equal(vs->idle_timeout_us, 60500000);
    assert_int_equal(vs->rss[0].weight, 3);
    cfg_free(cfg);
}

static void vs_schedulers_and_mask(void **state)
{
    static const char *const names[] = {"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "sh",
                                        "dh", "mh",  "fo", "ovf", "sed",  "nq"};
    static const enum cfg_lb_sched want[] = {
        CFG_SCHED_RR,    CFG_SCHED_WRR, CFG_SCHED_LC, CFG_SCHED_WLC, CFG_SCHED_LBLC,
        CFG_SCHED_LBLCR, CFG_SCHED_SH,  CFG_SCHED_DH, CFG_SCHED_MH,  CFG_SCHED_FO,
        CFG_SCHED_OVF,   CFG_SCHED_SED, CFG_SCHED_NQ};
    char text[300];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct cfg *cfg;

        snprintf(text, sizeof(text),
                 "virtual_server 192.0.2.1 80 {\n lvs_sched %s\n lvs_method NAT\n"
                 " persistence_timeout 50\n persistence_granularity 255.255.255.0\n"
                 " mh-fallback\n flag-3\n protocol UDP\n}\n",
                 names[i]);
        cfg = load_clean(text);
        assert_int_equal(cfg->vss[0].sched, want[i]);
        assert_int_equal(cfg->vss[0].persistence_timeout_s, 50);
        assert_int_equal(cfg->vss[0].persistence_prefix, 24);
        assert_int_equal(cfg->vss[0].sched_flags, CFG_SCHED_FLAG_FALLBACK | CFG_SCHED_FLAG_3);
        assert_int_equal(cfg->vss[0].proto, CFG_LB_UDP);
        cfg_free(cfg);
    }
}

static void rs_keywords(void **state)
{
    struct cfg *cfg = load_clean("virtual_server 192.0.2.1 80 {\n"
                                 "  virtualhost vs.example\n"
                                 "  real_server 198.51.100.1 8080 {\n"
                                 "    weight 0\n"
                                 "    lvs_method NAT\n"
                                 "    notify_up \"/bin/up 1\" www\n"
                                 "    notify_down /bin/down\n"
                                 "    uthreshold 100\n"
                                 "    lthreshold 10\n"
                                 "    virtualhost rs.example\n"
                                 "    proxy_protocol v1\n"
                                 "    HTTP_GET {\n"
                                 "      url {\n"
                                 "        path /a\n"
                                 "      }\n"
                                 "    }\n"
                                 "  }\n"
                                 "  real_server 198.51.100.2 8080 {\n"
                                 "    weight 65535\n"
                                 "    SSL_GET {\n"
                                 "      url {\n"
                                 "        path /b\n"
                                 "      }\n"
                                 "    }\n"
                                 "  }\n"
                                 "}\n");
    const struct cfg_rs *rs = cfg->vss[0].rss;

    assert_int_equal(rs[0].weight, 0);
    assert_string_equal(rs[0].notify_up.cmdline, "/bin/up 1");
    assert_string_equal(rs[0].notify_up.user, "www");
    assert_string_equal(rs[0].notify_down.cmdline, "/bin/down");
    assert_int_equal(rs[0].uthreshold, 100);
    assert_int_equal(rs[0].lthreshold, 10);
    assert_string_equal(rs[0].virtualhost, "rs.example");
    assert_int_equal(rs[0].proxy_protocol, CFG_PROXY_V1);
    assert_string_equal(rs[0].checks[0].probe.u.http.virtualhost, "rs.example");
    assert_int_equal(rs[1].weight, 65535);
    assert_int_equal(rs[1].proxy_protocol, CFG_PROXY_NONE);
    assert_int_equal(rs[1].checks[0].probe.kind, PROBE_SSL);
    assert_string_equal(rs[1].checks[0].probe.u.http.virtualhost, "vs.example");
    assert_null(rs[1].checks[0].probe.u.http.ca_file);
    assert_false(rs[1].checks[0].probe.u.http.tls_verify);
    cfg_free(cfg);
}

static void http_keywords(void **state)
{
    struct diags d = {0};
    struct cfg *cfg = load("virtual_server 192.0.2.1 443 {\n"
                           "  real_server 198.51.100.1 443 {\n"
                           "    SSL_GET {\n"
                           "      http_protocol 1.0C\n"
                           "      enable_sni\n"
                           "      sni_name sni.example\n"
                           "      virtualhost chk.example\n"
                           "      fast_recovery\n"
                           "      connect_ip 203.0.113.5\n"
                           "      connect_port 8443\n"
                           "      bindto 192.0.2.200\n"
                           "      bind_port 40000\n"
                           "      bind_if eth1\n"
                           "      fwmark 77\n"
                           "      log_all_failures\n"
                           "      url {\n"
                           "        path /health?x=1\n"
                           "        digest 9b3a0c85a887a256d6939da88aabd8cd\n"
                           "        status_code 200 301-302 503\n"
                           "        virtualhost url.example\n"
                           "      }\n"
                           "      url {\n"
                           "        path /two\n"
                           "      }\n"
                           "    }\n"
                           "  }\n"
                           "}\n"
                           "SSL {\n"
                           "  password secret\n"
                           "  ca /etc/ca.pem\n"
                           "  certificate /etc/c.pem\n"
                           "  key /etc/k.pem\n"
                           "}\n",
                           &d);
    const struct cfg_check *k = &cfg->vss[0].rss[0].checks[0];
    const struct probe_http_cfg *h = &k->probe.u.http;
    static const uint8_t digest[16] = {0x9b, 0x3a, 0x0c, 0x85, 0xa8, 0x87, 0xa2, 0x56,
                                       0xd6, 0x93, 0x9d, 0xa8, 0x8a, 0xab, 0xd8, 0xcd};

    assert_only(&d, DIAG_WARNING, 8, "'fast_recovery' is not implemented yet");
    assert_int_equal(h->http_protocol, 0x1c);
    assert_true(h->enable_sni);
    assert_string_equal(h->sni_name, "sni.example");
    assert_string_equal(h->virtualhost, "chk.example");
    assert_true(k->fast_recovery);
    assert_true(k->log_all_failures);
    assert_ip(&k->probe.target.addr, "203.0.113.5");
    assert_int_equal(k->probe.target.port, 8443);
    assert_ip(&k->probe.target.bind_addr, "192.0.2.200");
    assert_int_equal(k->probe.target.bind_port, 40000);
    assert_string_equal(k->probe.target.bind_if, "eth1");
    assert_int_equal(k->probe.target.fwmark, 77);
    assert_int_equal(h->nurls, 2);
    assert_string_equal(h->urls[0].path, "/health?x=1");
    assert_true(h->urls[0].has_digest);
    assert_memory_equal(h->urls[0].digest, digest, 16);
    assert_int_equal(h->urls[0].nstatus, 3);
    assert_int_equal(h->urls[0].status[0].lo, 200);
    assert_int_equal(h->urls[0].status[0].hi, 200);
    assert_int_equal(h->urls[0].status[1].lo, 301);
    assert_int_equal(h->urls[0].status[1].hi, 302);
    assert_int_equal(h->urls[0].status[2].lo, 503);
    assert_string_equal(h->urls[0].virtualhost, "url.example");
    assert_string_equal(h->urls[1].path, "/two");
    assert_true(cfg->ssl.configured);
    assert_int_equal(cfg->ssl.where.line, 28);
    assert_string_equal(cfg->ssl.password, "secret");
    assert_string_equal(h->ca_file, "/etc/ca.pem");
    assert_string_equal(h->cert_file, "/etc/c.pem");
    assert_string_equal(h->key_file, "/etc/k.pem");
    assert_true(h->tls_verify);
    cfg_free(cfg);
    diag_clear(&d);
}

static void other_checkers(void **state)
{
    struct cfg *cfg = load_clean("track_file tf {\n"
                                 "  file /run/w\n"
                                 "}\n"
                                 "virtual_server 192.0.2.1 25 {\n"
                                 "  real_server 198.51.100.1 25 {\n"
                                 "    SMTP_CHECK {\n"
                                 "      helo_name mx.example\n"
                                 "    }\n"
                                 "    DNS_CHECK {\n"
                                 "      type AAAA\n"
                                 "      name example.org\n"
                                 "      retry 0\n"
                                 "    }\n"
                                 "    UDP_CHECK {\n"
                                 "      payload Ab12f 3 456\n"
                                 "      require_reply 1x X2 3\n"
                                 "      min_reply_length 2\n"
                                 "      max_reply_length 100\n"
                                 "    }\n"
                                 "    MISC_CHECK {\n"
                                 "      misc_path \"/bin/chk -v\" extra\n"
                                 "      misc_timeout 7\n"
                                 "      misc_dynamic\n"
                                 "      user nobody nogroup\n"
                                 "      alpha\n"
                                 "    }\n"
                                 "    FILE_CHECK {\n"
                                 "      track_file tf\n"
                                 "      dynamic\n"
                                 "      weight -5 reverse\n"
                                 "    }\n"
                                 "  }\n"
                                 "}\n");
    const struct cfg_check *k = cfg->vss[0].rss[0].checks;
    static const uint8_t payload[] = {0xab, 0x12, 0x0f, 0x03, 0x45, 0x06};
    static const uint8_t reply[] = {0x10, 0x02, 0x03};
    static const uint8_t mask[] = {0xf0, 0x0f, 0xff};

    assert_int_equal(cfg->vss[0].rss[0].nchecks, 5);
    assert_string_equal(k[0].probe.u.smtp.helo_name, "mx.example");
    assert_int_equal(k[1].probe.u.dns.qtype, 28);
    assert_string_equal(k[1].probe.u.dns.name, "example.org");
    assert_int_equal(k[1].timing.retry, 0);
    assert_int_equal(k[2].probe.u.udp.payload_len, sizeof(payload));
    assert_memory_equal(k[2].probe.u.udp.payload, payload, sizeof(payload));
    assert_true(k[2].probe.u.udp.require_reply);
    assert_int_equal(k[2].probe.u.udp.reply_len, sizeof(reply));
    assert_memory_equal(k[2].probe.u.udp.reply, reply, sizeof(reply));
    assert_memory_equal(k[2].probe.u.udp.reply_mask, mask, sizeof(mask));
    assert_int_equal(k[2].probe.u.udp.min_reply_len, 2);
    assert_int_equal(k[2].probe.u.udp.max_reply_len, 100);
    assert_string_equal(k[3].probe.u.misc.cmdline, "/bin/chk -v extra");
    assert_int_equal(k[3].misc_timeout_us, 7000000);
    assert_true(k[3].probe.u.misc.dynamic);
    assert_string_equal(k[3].probe.u.misc.user, "nobody");
    assert_string_equal(k[3].probe.u.misc.group, "nogroup");
    assert_true(k[3].timing.alpha);
    assert_int_equal(k[4].probe.kind, PROBE_FILE);
    assert_string_equal(k[4].track_file, "tf");
    assert_string_equal(k[4].probe.u.file.path, "/run/w");
    assert_true(k[4].probe.u.file.dynamic);
    assert_int_equal(k[4].probe.u.file.weight, -5);
    assert_true(k[4].file_weight_reverse);
    cfg_free(cfg);
}

static void groups(void **state)
{
    struct cfg *cfg = load_clean("virtual_server group G4 {\n"
                                 "  persistence_timeout 10\n"
                                 "  real_server 198.51.100.1 {\n"
                                 "  }\n"
                                 "}\n"
                                 "virtual_server_group G4 {\n"
                                 "  192.0.2.1-10 80\n"
                                 "  192.0.2.250-192.0.3.10 80\n"
                                 "  192.0.2.8/29 443\n"
                                 "  203.0.113.7 8080\n"
                                 "}\n"
                                 "virtual_server_group G6 {\n"
                                 "  2001:db8::2-a 80\n"
                                 "}\n"
                                 "virtual_server group G4 {\n"
                                 "  protocol UDP\n"
                                 "}\n");
    const struct cfg_vs_group *g = &cfg->vsgs[0];
    const struct cfg_vs *vs = &cfg->vss[0];

    assert_int_equal(cfg->nvss, 2);
    assert_string_equal(vs->group, "G4");
    assert_int_equal(vs->addr.family, IP_NONE);
    assert_int_equal(vs->port, 0);
    assert_int_equal(vs->family, IP_V4);
    assert_int_equal(vs->persistence_prefix, 32);
    assert_int_equal(vs->rss[0].port, 0); /* the port the client connected to */
    assert_int_equal(cfg->nvsgs, 2);
    assert_string_equal(g->name, "G4");
    assert_int_equal(g->nentries, 4);
    assert_ip(&g->entries[0].first, "192.0.2.1");
    assert_ip(&g->entries[0].last, "192.0.2.10");
    assert_int_equal(g->entries[0].port, 80);
    assert_int_equal(g->entries[0].where.line, 7);
    assert_ip(&g->entries[1].first, "192.0.2.250");
    assert_ip(&g->entries[1].last, "192.0.3.10");
    assert_ip(&g->entries[2].first, "192.0.2.8");
    assert_ip(&g->entries[2].last, "192.0.2.15");
    assert_int_equal(g->entries[2].port, 443);
    assert_ip(&g->entries[3].first, "203.0.113.7");
    assert_ip(&g->entries[3].last, "203.0.113.7");
    assert_ip(&cfg->vsgs[1].entries[0].first, "2001:db8::2");
    assert_ip(&cfg->vsgs[1].entries[0].last, "2001:db8::a");
    cfg_free(cfg);
}

static void ha_suspend_owned(void **state)
{
    struct cfg *cfg = load_clean("vrrp_instance V {\n"
                                 "  interface eth0\n"
                                 "  virtual_router_id 7\n"
                                 "  virtual_ipaddress {\n"
                                 "    192.0.2.1/24\n"
                                 "  }\n"
                                 "}\n"
                                 "virtual_server 192.0.2.1 80 {\n"
                                 "  ha_suspend\n"
                                 "  real_server 198.51.100.1 80 {\n"
                                 "  }\n"
                                 "}\n");

    assert_true(cfg->vss[0].ha_suspend);
    cfg_free(cfg);
}

#define VS_HEAD "virtual_server 192.0.2.1 80 {\n"

static void warnings(void **state)
{
    expect_warning(VS_HEAD "  ha_suspend\n}\n", 1, "ha_suspend: no vrrp_instance");
    expect_warning(VS_HEAD "  quorum 3\n  real_server 198.51.100.1 80 {\n    weight 2\n  }\n}\n", 1,
                   "quorum 3 is more than the sum of the real servers' weights (2)");
    expect_warning(VS_HEAD "  real_server 198.51.100.1 80 {\n    BFD_CHECK {\n      name b\n"
                           "    }\n  }\n}\n",
                   3, "'BFD_CHECK' is not implemented yet by nospof; block ignored");
    expect_warning(VS_HEAD "  smtp_alert\n}\n", 2, "'smtp_alert' is not implemented yet");
    expect_warning(VS_HEAD "  real_server 198.51.100.1 80 {\n    snmp_name x\n  }\n}\n", 3,
                   "'snmp_name' is not implemented yet");
    expect_warning(VS_HEAD "  ops\n}\n", 2, "'ops' (one-packet scheduling)");
    expect_warning(VS_HEAD "  real_server 198.51.100.1 80 {\n    SMTP_CHECK {\n"
                           "      host {\n        connect_ip 198.51.100.2\n      }\n"
                           "    }\n  }\n}\n",
                   4, "SMTP_CHECK 'host' sub-blocks are a legacy form");
    expect_warning(VS_HEAD "  real_server 198.51.100.1 80 {\n    HTTP_GET {\n      url {\n"
                           "        regex ok\n      }\n    }\n  }\n}\n",
                   5, "'regex' is not implemented yet");
    expect_warning("virtual_server_group E {\n}\n", 1, "virtual_server_group 'E' has no address");
}

/* nospof_data_plane: proxy (the default) or packet; what the packet plane cannot do is refused
 * at its line (tests/conf/broken/data_plane_*.conf run the same through nospofd -t). */
static void data_plane(void **state)
{
    struct cfg *cfg = load_clean(VS_HEAD "  nospof_data_plane packet\n"
                                         "  lb_algo wlc\n  persistence_timeout 60\n"
                                         "  sorry_server 198.51.100.9 80\n"
                                         "  real_server 198.51.100.1 80 {\n  }\n}\n"
                                         "virtual_server 192.0.2.1 53 {\n  protocol UDP\n"
                                         "  nospof_data_plane proxy\n"
                                         "  real_server 198.51.100.1 53 {\n  }\n}\n"
                                         "virtual_server 2001:db8::1 443 {\n"
                                         "  nospof_data_plane packet\n"
                                         "  real_server 2001:db8::2 8443 {\n  }\n}\n"
                                         "virtual_server 192.0.2.1 81 {\n}\n");

    assert_int_equal(cfg->nvss, 4);
    assert_true(cfg->vss[0].packet);
    assert_false(cfg->vss[1].packet);
    assert_true(cfg->vss[2].packet);
    assert_false(cfg->vss[3].packet); /* the default */
    cfg_free(cfg);
    expect_error(VS_HEAD "  nospof_data_plane kernel\n}\n", 2,
                 "'nospof_data_plane': expected proxy or packet, got 'kernel'");
    expect_error(VS_HEAD "  nospof_data_plane\n}\n", 2,
                 "'nospof_data_plane': expected proxy or packet");
    expect_error(VS_HEAD "  protocol HTTP\n  nospof_data_plane packet\n}\n", 1,
                 "nospof_data_plane packet: protocol HTTP needs the proxy data plane");
    expect_error(VS_HEAD "  nospof_data_plane packet\n  proxy_protocol v1\n}\n", 1,
                 "nospof_data_plane packet: proxy_protocol is not needed");
    expect_error(VS_HEAD "  nospof_data_plane packet\n  real_server 198.51.100.1 80 {\n"
                         "    proxy_protocol v2\n  }\n}\n",
                 3, "nospof_data_plane packet: real_server 198.51.100.1: proxy_protocol");
    expect_error(VS_HEAD "  nospof_data_plane packet\n  real_server 2001:db8::1 80 {\n  }\n}\n", 3,
                 "real_server: address family differs");
    /* the last word wins, as for every single-valued keyword */
    cfg = load_clean(VS_HEAD "  protocol HTTP\n  nospof_data_plane packet\n"
                             "  nospof_data_plane proxy\n}\n");
    assert_false(cfg->vss[0].packet);
    cfg_free(cfg);
}

static void refusals(void **state)
{
    expect_error(VS_HEAD "  lb_kind DR\n}\n", 2,
                 "lb_kind DR needs a packet-level data plane that nospof does not have yet; use "
                 "NAT (nospof proxies in user space)");
    expect_error(VS_HEAD "  lvs_method TUN type gue port 6080\n}\n", 2,
                 "lvs_method TUN needs a packet-level data plane");
    expect_error(VS_HEAD "  real_server 198.51.100.1 80 {\n    lvs_method DR\n  }\n}\n", 3,
                 "lvs_method DR needs a packet-level data plane");
    expect_error(VS_HEAD "  sorry_server_lvs_method TUN\n}\n", 2,
                 "sorry_server_lvs_method TUN needs a packet-level data plane");
    expect_error(VS_HEAD "  lb_kind FOO\n}\n", 2, "'lb_kind': expected NAT, DR or TUN, got 'FOO'");
    expect_error("virtual_server fwmark 1 {\n  lb_kind DR\n}\n", 1,
                 "fwmark virtual servers need a packet data plane, not available in nospof");
    expect_error("virtual_server_group G {\n  192.0.2.1 80\n  fwmark 3\n}\n", 3,
                 "fwmark virtual servers need a packet data plane");
    expect_error(VS_HEAD "  lb_algo twos\n}\n", 2, "lb_algo 'twos' is not supported by nospof");
    expect_error(VS_HEAD "  lvs_sched fast\n}\n", 2, "'lvs_sched': expected rr|wrr|");
    expect_error(VS_HEAD "  protocol SCTP\n}\n", 2, "protocol SCTP is not supported");
    expect_error("virtual_server 192.0.2.1 {\n  persistence_timeout\n}\n", 1,
                 "virtual_server without a port (every port) needs a packet data plane");
}

static void errors(void **state)
{
    expect_error(VS_HEAD "  real_server 198.51.100.1 80 {\n  }\n  real_server 198.51.100.1 {\n"
                         "  }\n}\n",
                 4,
                 "real_server 198.51.100.1 80 is already defined in this virtual_server at "
                 "t.conf:2");
    expect_error(VS_HEAD "}\n" VS_HEAD "}\n", 3,
                 "virtual_server 192.0.2.1 80 (TCP) is already defined at t.conf:1");
    expect_error("virtual_server group G {\n}\n", 1, "virtual_server group 'G' is not defined");
    expect_error("virtual_server_group G {\n  192.0.2.1 80\n}\nvirtual_server_group G {\n}\n", 4,
                 "virtual_server_group 'G' is defined twice");
    expect_error("virtual_server_group G {\n  192.0.2.9-3 80\n}\n", 2,
                 "range '192.0.2.9-3' ends before it starts");
    expect_error("virtual_server_group G {\n  192.0.2.1-300 80\n}\n", 2,
                 "expected an address, A.B.C.D-E, ADDR-ADDR or ADDR/LEN, got '192.0.2.1-300'");
    expect_error("virtual_server_group G {\n  192.0.2.1 80\n  2001:db8::1 80\n}\n", 3,
                 "mixes IPv4 and IPv6");
    expect_error("virtual_server_group G {\n  192.0.2.1\n}\nvirtual_server group G {\n}\n", 2,
                 "an address without a port (every port) needs a packet data plane");
    expect_error(VS_HEAD "  real_server 198.51.100.1 80 {\n    weight 65536\n  }\n}\n", 3,
                 "'weight': expected an integer in 0..65535, got '65536'");
    expect_error(VS_HEAD "  real_server 2001:db8::1 80 {\n  }\n}\n", 2,
                 "real_server: address family differs");
    expect_error(VS_HEAD "  real_server 198.51.100.1 80 {\n    uthreshold 5\n    lthreshold 9\n"
                         "  }\n}\n",
                 2, "lthreshold 9 is above uthreshold 5");
    expect_error("virtual_server_group G {\n  192.0.2.1 80\n}\nvirtual_server group G {\n"
                 "  real_server 2001:db8::1 80 {\n  }\n}\n",
                 5, "real_server: address family differs from virtual_server_group 'G'");
    expect_error(VS_HEAD "  ip_family inet6\n}\n", 1, "'ip_family' does not match");
    expect_error(VS_HEAD "  persistence_granularity 255.0.255.0\n}\n", 2,
                 "expected a contiguous netmask, got '255.0.255.0'");
    expect_error(VS_HEAD "  sorry_server 2001:db8::1 80\n}\n", 1,
                 "sorry_server: address family differs");
    expect_error(VS_HEAD "  proxy_protocol v3\n}\n", 2, "'proxy_protocol': expected v1 or v2");
    expect_error(VS_HEAD "  delay_loop 0\n}\n", 2, "'delay_loop': expected seconds in");
    expect_error(VS_HEAD "  bogus 1\n}\n", 2, "unknown keyword 'bogus'");
    expect_error("SSL {\n}\nSSL {\n}\n", 3, "SSL is already defined at t.conf:1");
    expect_error("SSL {\n  key /k\n}\n", 1, "SSL: 'key' without 'certificate'");
}

#define RS_HEAD VS_HEAD "  real_server 198.51.100.1 80 {\n"

static void checker_errors(void **state)
{
    expect_error(RS_HEAD "    HTTP_GET {\n    }\n  }\n}\n", 3,
                 "HTTP_GET: expected at least one 'url { }' block");
    expect_error(RS_HEAD "    MISC_CHECK {\n    }\n  }\n}\n", 3,
                 "MISC_CHECK: expected a 'misc_path' line");
    expect_error(RS_HEAD "    MISC_CHECK {\n      misc_path /x\n      connect_port 1\n    }\n"
                         "  }\n}\n",
                 5, "'connect_port' is not an option of MISC_CHECK");
    expect_error(RS_HEAD "    FILE_CHECK {\n      track_file t\n      retry 1\n    }\n  }\n}\n"
                         "track_file t {\n  file /f\n}\n",
                 5, "'retry' is not an option of FILE_CHECK");
    expect_error(RS_HEAD "    FILE_CHECK {\n      track_file nope\n    }\n  }\n}\n", 3,
                 "FILE_CHECK: track_file 'nope' is not defined");
    expect_error(RS_HEAD "    FILE_CHECK {\n    }\n  }\n}\n", 3,
                 "FILE_CHECK: expected a 'track_file' line");
    expect_error(RS_HEAD "    HTTP_GET {\n      url {\n        digest 12345\n      }\n    }\n"
                         "  }\n}\n",
                 5, "'digest': expected 32 hex digits");
    expect_error(RS_HEAD "    HTTP_GET {\n      url {\n        status_code 200 299-200\n"
                         "      }\n    }\n  }\n}\n",
                 5, "range '299-200' ends before it starts");
    expect_error(RS_HEAD "    HTTP_GET {\n      url {\n        status_code 99\n      }\n    }\n"
                         "  }\n}\n",
                 5, "'status_code': expected an integer in 100..599, got '99'");
    expect_error(RS_HEAD "    HTTP_GET {\n      url {\n        path nope\n      }\n    }\n"
                         "  }\n}\n",
                 5, "'path': expected a path starting with '/'");
    expect_error(RS_HEAD "    HTTP_GET {\n      url {\n      }\n      http_protocol 2\n    }\n"
                         "  }\n}\n",
                 6, "'http_protocol': expected 1.0, 1.0C or 1.1, got '2'");
    expect_error(RS_HEAD "    HTTP_GET {\n      url /x\n      url {\n      }\n    }\n  }\n}\n", 4,
                 "'url': expected a '{' block");
    expect_error(RS_HEAD "    DNS_CHECK {\n      type PTR\n    }\n  }\n}\n", 4,
                 "'type': expected A|NS|CNAME|SOA|MX|TXT|AAAA, got 'PTR'");
    expect_error(RS_HEAD "    UDP_CHECK {\n      payload 12 zz\n    }\n  }\n}\n", 4,
                 "'payload': expected hex digits (at most");
    expect_error(RS_HEAD "    UDP_CHECK {\n      payload 1x\n    }\n  }\n}\n", 4,
                 "'payload': expected hex digits (at most");
    expect_error(RS_HEAD "    UDP_CHECK {\n      min_reply_length 10\n      max_reply_length 5\n"
                         "    }\n  }\n}\n",
                 3, "max_reply_length 5 is below min_reply_length 10");
    expect_error(RS_HEAD "    TCP_CHECK {\n      connect_port 0\n    }\n  }\n}\n", 4,
                 "'connect_port': expected an integer in 1..65535");
    expect_error(RS_HEAD "    TCP_CHECK {\n      helo_name x\n    }\n  }\n}\n", 4,
                 "unknown keyword 'helo_name' in TCP_CHECK");
    expect_error(RS_HEAD "    TCP_CHECK {\n      inhibit_on_failure\n    }\n  }\n}\n", 4,
                 "unknown keyword 'inhibit_on_failure' in TCP_CHECK");
    expect_error(RS_HEAD "    TCP_CHECK {\n      connect_ip 192.0.2.300\n    }\n  }\n}\n", 4,
                 "'connect_ip': expected an IPv4 or IPv6 address");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(checker_defaults_per_kind),
        cmocka_unit_test(timing_inheritance),
        cmocka_unit_test(vs_keywords),
        cmocka_unit_test(vs_schedulers_and_mask),
        cmocka_unit_test(rs_keywords),
        cmocka_unit_test(http_keywords),
        cmocka_unit_test(other_checkers),
        cmocka_unit_test(groups),
        cmocka_unit_test(ha_suspend_owned),
        cmocka_unit_test(warnings),
        cmocka_unit_test(refusals),
        cmocka_unit_test(data_plane),
        cmocka_unit_test(errors),
        cmocka_unit_test(checker_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
