/* Unit tests for `protocol HTTP` virtual servers (cfg_lvs_http.c, the L7 switch options):
 * defaults, groups with their own scheduler and checkers, ordered routes, every keyword's
 * effect and the refusals at their exact file:line. */
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

static void assert_only(const struct diags *d, enum diag_level lvl, unsigned line, const char *sub)
{
    if (d->n != 1)
        for (size_t i = 0; i < d->n; i++)
            print_message("diag %u: %s\n", d->v[i].line, d->v[i].msg);
    assert_int_equal(d->n, 1);
    assert_int_equal(d->v[0].level, lvl);
    assert_int_equal(d->v[0].line, line);
    assert_string_equal(d->v[0].file, "t.conf");
    if (!strstr(d->v[0].msg, sub))
        fail_msg("'%s' not in '%s'", sub, d->v[0].msg);
}

static void expect_diag(const char *text, enum diag_level lvl, unsigned line, const char *sub)
{
    struct diags d = {0};
    struct cfg *cfg = load(text, &d);

    assert_only(&d, lvl, line, sub);
    cfg_free(cfg);
    diag_clear(&d);
}

static struct cfg *load_clean(const char *text)
{
    struct diags d = {0};
    struct cfg *cfg = load(text, &d);

    for (size_t i = 0; i < d.n; i++)
        print_message("diag %u: %s\n", d.v[i].line, d.v[i].msg);
    assert_int_equal(d.n, 0);
    diag_clear(&d);
    return cfg;
}

static void defaults(void **state)
{
    (void)state;
    struct cfg *cfg = load_clean("virtual_server 192.0.2.1 80 {\n"
                                 "  protocol HTTP\n"
                                 "  real_server 198.51.100.1 8080 {\n  }\n"
                                 "}\n");
    const struct cfg_vs *vs = &cfg->vss[0];
    const struct cfg_http *h = &vs->http;

    assert_true(h->enabled);
    assert_int_equal(vs->proto, CFG_LB_TCP);
    assert_true(h->xff);
    assert_true(h->xfp);
    assert_false(h->fwd);
    assert_int_equal(h->retries, 2);
    assert_int_equal(h->error_limit, 0);
    assert_int_equal(h->max_head, 15360);
    assert_int_equal(h->max_headers, 100);
    assert_int_equal(h->max_line, 8192);
    assert_int_equal(h->header_timeout_us, MONO_S(10));
    assert_int_equal(h->keepalive_timeout_us, MONO_S(60));
    assert_int_equal(h->server_timeout_us, MONO_S(30));
    assert_int_equal(h->error_hold_us, MONO_S(10));
    assert_null(h->cookie);
    assert_int_equal(h->log, CFG_HTTP_LOG_NONE);
    assert_int_equal(h->ngroups, 0);
    assert_int_equal(vs->rss[0].group, 0);
    cfg_free(cfg);
}

static void groups_routes_and_options(void **state)
{
    (void)state;
    struct cfg *cfg = load_clean("virtual_server 192.0.2.1 80 {\n"
                                 "  protocol HTTP\n"
                                 "  lb_algo rr\n"
                                 "  real_server 198.51.100.1 8080 {\n  }\n"
                                 "  real_server_group api {\n"
                                 "    lb_algo lc\n"
                                 "    real_server 198.51.100.2 8080 {\n"
                                 "      weight 3\n"
                                 "      TCP_CHECK {\n        connect_timeout 2\n      }\n"
                                 "    }\n"
                                 "    real_server 198.51.100.1 8080 {\n    }\n"
                                 "  }\n"
                                 "  real_server_group static {\n"
                                 "    real_server 198.51.100.3 8080 {\n    }\n"
                                 "  }\n"
                                 "  http_route {\n"
                                 "    host api.Example.com path /v2 group api\n"
                                 "    host *.example.com group api\n"
                                 "    path /static/ group static\n"
                                 "  }\n"
                                 "  http_cookie SRVID\n"
                                 "  http_forwarded_for off\n"
                                 "  http_forwarded_proto off\n"
                                 "  http_forwarded on\n"
                                 "  http_retries 3\n"
                                 "  http_error_limit 5\n"
                                 "  http_error_hold 20\n"
                                 "  http_max_header_size 8192\n"
                                 "  http_max_headers 50\n"
                                 "  http_max_line 2048\n"
                                 "  http_header_timeout 5\n"
                                 "  http_keepalive_timeout 30\n"
                                 "  http_server_timeout 2.5\n"
                                 "  http_access_log /var/log/nospof-http.log\n"
                                 "}\n");
    const struct cfg_vs *vs = &cfg->vss[0];
    const struct cfg_http *h = &vs->http;

    assert_int_equal(h->ngroups, 2);
    assert_string_equal(h->groups[0].name, "api");
    assert_int_equal(h->groups[0].sched, CFG_SCHED_LC);
    assert_int_equal(h->groups[1].sched, CFG_SCHED_RR); /* inherits the virtual server's */
    assert_int_equal(vs->nrss, 4);
    assert_int_equal(vs->rss[0].group, 0);
    assert_int_equal(vs->rss[1].group, 1);
    assert_int_equal(vs->rss[1].weight, 3);
    assert_int_equal(vs->rss[1].nchecks, 1);
    assert_int_equal(vs->rss[1].checks[0].timing.connect_timeout_us, MONO_S(2));
    assert_int_equal(vs->rss[2].group, 1); /* same address as a default-group server: fine */
    assert_int_equal(vs->rss[3].group, 2);
    assert_int_equal(h->nroutes, 3);
    assert_string_equal(h->routes[0].host, "api.example.com");
    assert_false(h->routes[0].wildcard);
    assert_string_equal(h->routes[0].path, "/v2");
    assert_int_equal(h->routes[0].index, 1);
    assert_string_equal(h->routes[1].host, ".example.com");
    assert_true(h->routes[1].wildcard);
    assert_string_equal(h->routes[1].path, "");
    assert_string_equal(h->routes[2].host, "");
    assert_string_equal(h->routes[2].path, "/static/");
    assert_int_equal(h->routes[2].index, 2);
    assert_string_equal(h->cookie, "SRVID");
    assert_false(h->xff);
    assert_false(h->xfp);
    assert_true(h->fwd);
    assert_int_equal(h->retries, 3);
    assert_int_equal(h->error_limit, 5);
    assert_int_equal(h->error_hold_us, MONO_S(20));
    assert_int_equal(h->max_head, 8192);
    assert_int_equal(h->max_headers, 50);
    assert_int_equal(h->max_line, 2048);
    assert_int_equal(h->header_timeout_us, MONO_S(5));
    assert_int_equal(h->keepalive_timeout_us, MONO_S(30));
    assert_int_equal(h->server_timeout_us, MONO_MS(2500));
    assert_int_equal(h->log, CFG_HTTP_LOG_FILE);
    assert_string_equal(h->log_file, "/var/log/nospof-http.log");
    cfg_free(cfg);
}

static void refusals(void **state)
{
    (void)state;
    expect_diag("virtual_server 192.0.2.1 80 {\n  protocol TCP\n  http_cookie A\n}\n", DIAG_ERROR,
                3, "needs 'protocol HTTP'");
    expect_diag("virtual_server 192.0.2.1 80 {\n  protocol HTTP\n  http_route {\n"
                "    host a.example group nope\n  }\n}\n",
                DIAG_ERROR, 4, "real_server_group 'nope' is not defined");
    expect_diag("virtual_server 192.0.2.1 80 {\n  protocol HTTP\n  real_server_group g {\n  }\n}\n",
                DIAG_WARNING, 3, "has no real_server");
    expect_diag("virtual_server 192.0.2.1 80 {\n  protocol HTTP\n  http_route {\n"
                "    group g\n  }\n}\n",
                DIAG_ERROR, 4, "with a host or a path");
    expect_diag("virtual_server 192.0.2.1 80 {\n  protocol HTTP\n  http_route {\n"
                "    host *x.example group g\n  }\n}\n",
                DIAG_ERROR, 4, "expected *.suffix");
    expect_diag("virtual_server 192.0.2.1 80 {\n  protocol HTTP\n  http_route {\n"
                "    path static group g\n  }\n}\n",
                DIAG_ERROR, 4, "http_route: expected");
    expect_diag("virtual_server 192.0.2.1 80 {\n  protocol HTTP\n  http_cookie a;b\n}\n",
                DIAG_ERROR, 3, "letters, digits");
    expect_diag("virtual_server 192.0.2.1 80 {\n  protocol HTTP\n  http_retries 99\n}\n",
                DIAG_ERROR, 3, "0..15");
    expect_diag("virtual_server 192.0.2.1 80 {\n  protocol HTTP\n  http_access_log rel.log\n}\n",
                DIAG_ERROR, 3, "absolute file name or syslog");
    expect_diag("virtual_server 192.0.2.1 80 {\n  protocol HTTP\n  http_max_header_size 65536\n}\n",
                DIAG_ERROR, 3, "256..15360");
    expect_diag("virtual_server 192.0.2.1 80 {\n  protocol HTTP\n"
                "  real_server_group g {\n    real_server 198.51.100.1 80 {\n    }\n"
                "    real_server 198.51.100.1 80 {\n    }\n  }\n}\n",
                DIAG_ERROR, 6, "already defined in this real_server_group");
    expect_diag("virtual_server 192.0.2.1 80 {\n  protocol HTTP\n  real_server_group g {\n"
                "    real_server 198.51.100.1 80 {\n    }\n  }\n  real_server_group g {\n  }\n}\n",
                DIAG_ERROR, 7, "already defined");
    expect_diag("virtual_server 192.0.2.1 80 {\n  protocol HTTP\n  protocol UDP\n}\n", DIAG_ERROR,
                1, "protocol HTTP runs over TCP");
    expect_diag("virtual_server 192.0.2.1 80 {\n  protocol FTP\n}\n", DIAG_ERROR, 2,
                "expected TCP, UDP or HTTP");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(groups_routes_and_options),
        cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
