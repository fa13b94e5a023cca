/* Unit tests for daemon/conf_tree: the keepalived.conf lexical rules, each with the exact
 * tree expected, and each lexical error giving exactly one diagnostic at the right file:line.
 *
 * Trees are compared through dump(): "LINE:[argv0][argv1]" per node, "{...}" for a block,
 * nodes separated by one space. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/conf_tree.h"

static void dump_nodes(const struct conf_node *n, char *out, size_t cap)
{
    for (; n; n = n->next) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%u:", len && out[len - 1] != '{' ? " " : "", n->line);
        for (unsigned i = 0; i < n->argc; i++) {
            len = strlen(out);
            snprintf(out + len, cap - len, "[%s]", n->argv[i]);
        }
        assert_null(n->argv[n->argc]);
        if (n->has_block) {
            strncat(out, "{", cap - strlen(out) - 1);
            dump_nodes(n->child, out, cap);
            strncat(out, "}", cap - strlen(out) - 1);
        }
    }
}

static char dumped[16384];

static const char *dump(const struct conf_tree *t)
{
    dumped[0] = '\0';
    dump_nodes(t->first, dumped, sizeof(dumped));
    return dumped;
}

/* Parses text as file "t.conf" with config id "main"; returns the dump. */
static const char *parse(const char *text, struct diags *d)
{
    struct conf_opts o = {.config_id = "main"};
    struct conf_tree t;

    assert_int_equal(conf_parse_buffer("t.conf", text, strlen(text), &o, &t, d), 0);
    dump(&t);
    conf_tree_free(&t);
    return dumped;
}

/* Parses text expecting no diagnostics at all; returns the dump. */
static const char *parse_clean(const char *text)
{
    struct diags d = {0};
    parse(text, &d);
    if (d.n)
        diag_print(&d, stderr);
    assert_int_equal(d.n, 0);
    diag_clear(&d);
    return dumped;
}

/* Parses text expecting exactly one error at line, whose message contains what. */
static const char *parse_one_error(const char *text, unsigned line, const char *what)
{
    struct diags d = {0};
    parse(text, &d);
    if (d.n != 1)
        diag_print(&d, stderr);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].level, DIAG_ERROR);
    assert_string_equal(d.v[0].file, "t.conf");
    assert_int_equal(d.v[0].line, line);
    assert_non_null(strstr(d.v[0].msg, what));
    diag_clear(&d);
    return dumped;
}

/* ---- structure ---- */

static void blocks_and_braces(void **state)
{
    assert_string_equal(parse_clean("vrrp_instance VI_1 {\n"
                                    "    state MASTER\n"
                                    "    track_interface { eth0 eth1 }\n"
                                    "    virtual_ipaddress {\n"
                                    "        192.0.2.1/24 dev eth0\n"
                                    "    }\n"
                                    "}\n"
                                    "global_defs {}\n"),
                        "1:[vrrp_instance][VI_1]{2:[state][MASTER] 3:[track_interface]{3:[eth0]"
                        "[eth1]} 4:[virtual_ipaddress]{5:[192.0.2.1/24][dev][eth0]}} "
                        "8:[global_defs]{}");
}

static void brace_on_next_line(void **state)
{
    assert_string_equal(parse_clean("vrrp_instance X\n{\n  a 1 } b\nc{d}e\n"),
                        "1:[vrrp_instance][X]{3:[a][1]} 3:[b] 4:[c]{4:[d]} 4:[e]");
}

static void blank_lines_crlf_and_whitespace(void **state)
{
    assert_string_equal(parse_clean("\r\n  \t\r\n a\tb\r\n\f c \v d\r\n"), "3:[a][b] 4:[c][d]");
}

/* ---- comments ---- */

static void comments(void **state)
{
    assert_string_equal(parse_clean("# full line\n"
                                    "a b # trailing\n"
                                    "! bang line\n"
                                    "c d!e\n"
                                    "f \"x # y ! z\" g # h\n"
                                    "i \\# \\!j\n"
                                    "k http://x//y\n"),
                        "2:[a][b] 4:[c][d] 5:[f][x # y ! z][g] 6:[i][#][!j] 7:[k][http://x//y]");
}

/* ---- quoting ---- */

static void normal_quoting(void **state)
{
    assert_string_equal(parse_clean("auth_pass \"a b\" c\n"
                                    "x ab\"c d\"e 'f g'\n"
                                    "y \"\" z\n"
                                    "w \"{ }\" q\\\"r\n"),
                        "1:[auth_pass][a b][c] 2:[x][abc de]['f][g'] 3:[y][][z] 4:[w][{ }][q\"r]");
}

static void script_quoting(void **state)
{
    assert_string_equal(parse_clean("notify_master 'abcd\" efg h jkl \"mnop'\n"
                                    "notify abcd \"efg h jkl\" mnop\n"
                                    "script \"/bin/x 'a b'\" c\\ d\n"
                                    "vrrp_script s { script 'x y' }\n"
                                    "misc_path '\\t' \"\\t\"\n"),
                        "1:[notify_master][abcd\" efg h jkl \"mnop] "
                        "2:[notify][abcd][efg h jkl][mnop] "
                        "3:[script][/bin/x 'a b'][c d] "
                        "4:[vrrp_script][s]{4:[script][x y]} "
                        "5:[misc_path][\\t][\t]");
}

static void script_escapes(void **state)
{
    assert_string_equal(parse_clean("script \"\\a\\b\\E\\f\\n\\r\\t\\v|\\101\\x41\\x4a2|\\cA\\q"
                                    "\\\\\\\"\"\n"),
                        "1:[script][\a\b\033\f\n\r\t\v|AAJ2|\001q\\\"]");
    /* a normal keyword keeps backslashes */
    assert_string_equal(parse_clean("foo \\t\\\\x\n"), "1:[foo][\\t\\\\x]");
}

static void all_script_keywords(void **state)
{
    static const char *const kw[] = {
        "script",
        "notify",
        "notify_master",
        "notify_backup",
        "notify_fault",
        "notify_stop",
        "notify_deleted",
        "notify_master_rx_lower_pri",
        "misc_path",
        "quorum_up",
        "quorum_down",
        "notify_up",
        "notify_down",
        "notify_fifo_script",
        "vrrp_notify_fifo_script",
        "lvs_notify_fifo_script",
        "startup_script",
        "shutdown_script",
    };
    char text[128], want[128];

    for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++) {
        snprintf(text, sizeof(text), "%s 'a b'\n", kw[i]);
        snprintf(want, sizeof(want), "1:[%s][a b]", kw[i]);
        assert_string_equal(parse_clean(text), want);
    }
    assert_string_equal(parse_clean("notify_masterx 'a b'\n"), "1:[notify_masterx]['a][b']");
}

/* ---- lexical errors: exactly one diag each ---- */

static void line_too_long(void **state)
{
    char text[4096], want[2048];
    char x[1024], y[1025];

    memset(x, 'x', 1023); /* 1023 bytes plus the newline: accepted */
    x[1023] = '\0';
    memset(y, 'y', 1024); /* 1024 bytes: too long */
    y[1024] = '\0';
    snprintf(text, sizeof(text), "a\n%s\nb\n%s\nc", x, y);
    snprintf(want, sizeof(want), "1:[a] 2:[%s] 3:[b] 5:[c]", x);
    assert_string_equal(parse_one_error(text, 4, "line too long"), want);
}

static void nul_byte(void **state)
{
    static const char text[] = "a\nb \0 c\nd\n";
    struct conf_tree t;
    struct diags dg = {0};

    assert_int_equal(conf_parse_buffer("t.conf", text, sizeof(text) - 1, NULL, &t, &dg), 0);
    assert_string_equal(dump(&t), "1:[a] 3:[d]");
    assert_int_equal(dg.n, 1);
    assert_int_equal(dg.v[0].line, 2);
    assert_non_null(strstr(dg.v[0].msg, "NUL"));
    conf_tree_free(&t);
    diag_clear(&dg);
}

static void extra_brace(void **state)
{
    assert_string_equal(parse_one_error("a {\n}\n}\nb\n", 3, "Extra '}' found"), "1:[a]{} 4:[b]");
}

static void missing_brace(void **state)
{
    assert_string_equal(parse_one_error("x\nvrrp_instance A {\n  b {\n  }\n c\n", 2,
                                        "missing '}' for the 'vrrp_instance' block"),
                        "1:[x] 2:[vrrp_instance][A]{3:[b]{} 5:[c]}");
}

static void unmatched_quote(void **state)
{
    assert_string_equal(parse_one_error("a\nb \"c d\n", 2, "unmatched quote"), "1:[a] 2:[b][c d]");
    assert_string_equal(parse_one_error("a\nscript 'c d\n", 2, "unmatched quote"),
                        "1:[a] 2:[script][c d]");
}

static void stray_open_brace(void **state)
{
    assert_string_equal(parse_one_error("a {}\n{\n b\n}\nc\n", 2, "'{' without a keyword"),
                        "1:[a]{} 5:[c]");
}

static void deep_blocks(void **state)
{
    char text[1024] = "";
    for (int i = 0; i < 70; i++)
        strcat(text, "a{");
    for (int i = 0; i < 70; i++)
        strcat(text, "}");
    strcat(text, "\nz\n");
    struct diags d = {0};
    parse(text, &d);
    assert_int_equal(d.n, 1);
    assert_non_null(strstr(d.v[0].msg, "nested deeper than 64"));
    assert_non_null(strstr(dumped, " 2:[z]"));
    diag_clear(&d);
}

/* ---- definitions and substitution ---- */

static void definitions(void **state)
{
    assert_string_equal(parse_clean("$A=1\n"
                                    "$B_2= two words \n"
                                    "x $A ${A}0 $A0 ${B_2}\n"
                                    "y ${UNDEF} $UNDEF $A\n"
                                    "$A=\n"
                                    "z [$A] [${A}]\n"),
                        "3:[x][1][10][$A0][two][words] 4:[y][${UNDEF}][$UNDEF][1] "
                        "6:[z][[$A]][[]]");
}

static void substitution_at_use_time(void **state)
{
    assert_string_equal(parse_clean("$ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}\n"
                                    "$ADDRESS_BASE_SUB=0\n"
                                    "${ADDRESS_BASE}.100/32\n"
                                    "$ADDRESS_BASE_SUB=10\n"
                                    "${ADDRESS_BASE}.100/32\n"),
                        "3:[10.2.0.100/32] 5:[10.2.10.100/32]");
}

static void multiline_definitions(void **state)
{
    assert_string_equal(parse_clean("$INSTANCE= \\\n"
                                    "vrrp_instance VI_${NUM} { \\\n"
                                    "    interface eth0.${NUM} \\\n"
                                    "\n"
                                    "    @main priority 130 \\\n"
                                    "    @^main priority 120 \\\n"
                                    "    virtual_ipaddress { 10.0.${NUM}.254/24 } \\\n"
                                    "}\n"
                                    "$NUM=0\n"
                                    "$INSTANCE\n"
                                    "$NUM=1\n"
                                    "$INSTANCE\n"),
                        "10:[vrrp_instance][VI_0]{10:[interface][eth0.0] 10:[priority][130] "
                        "10:[virtual_ipaddress]{10:[10.0.0.254/24]}} "
                        "12:[vrrp_instance][VI_1]{12:[interface][eth0.1] 12:[priority][130] "
                        "12:[virtual_ipaddress]{12:[10.0.1.254/24]}}");
}

static void nested_multiline(void **state)
{
    assert_string_equal(parse_clean("$RS= \\\n"
                                    "real_server 192.0.2.${RS_NUM} 80 { \\\n"
                                    "  weight ${RS_NUM} \\\n"
                                    "}\n"
                                    "$VS= \\\n"
                                    "virtual_server 198.51.100.${VS_NUM} 80 { \\\n"
                                    "  $RS_NUM=1 \\\n"
                                    "  $RS \\\n"
                                    "  $RS_NUM=2 \\\n"
                                    "  $RS \\\n"
                                    "}\n"
                                    "$VS_NUM=7\n"
                                    "$VS\n"),
                        "13:[virtual_server][198.51.100.7][80]{"
                        "13:[real_server][192.0.2.1][80]{13:[weight][1]} "
                        "13:[real_server][192.0.2.2][80]{13:[weight][2]}}");
}

static void builtins(void **state)
{
    char want[256], cwd[200];

    setenv("NSPCONF_TEST_ENV", "from env", 1);
    assert_string_equal(parse_clean("a ${_INSTANCE} x${_HASH}y ${_BANG} \"${_HASH}\"\n"
                                    "script \"echo ${_HASH}${_BANG}\"\n"
                                    "b ${_ENV NSPCONF_TEST_ENV} [${_ENV NSPCONF_UNSET_X}]\n"),
                        "1:[a][main][x#y][!][#] 2:[script][echo #!] 3:[b][from][env][[]]");
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(want, sizeof(want), "1:[p][%s/x]", cwd);
    assert_string_equal(parse_clean("p ${_PWD}/x\n"), want);
}

static void random_builtin(void **state)
{
    char first[256];

    strcpy(first, parse_clean("r ${_RANDOM 5 7} ${_RANDOM 5 7} ${_RANDOM 5 7} ${_RANDOM 9}\n"));
    assert_string_equal(parse_clean("r ${_RANDOM 5 7} ${_RANDOM 5 7} ${_RANDOM 5 7} "
                                    "${_RANDOM 9}\n"),
                        first); /* deterministic for one config id */
    unsigned a, b, c, d;
    assert_int_equal(sscanf(first, "1:[r][%u][%u][%u][%u]", &a, &b, &c, &d), 4);
    assert_in_range(a, 5, 7);
    assert_in_range(b, 5, 7);
    assert_in_range(c, 5, 7);
    assert_in_range(d, 9, 32767);
    unsigned e;
    assert_int_equal(sscanf(parse_clean("${_RANDOM}\n"), "1:[%u]", &e), 1);
    assert_in_range(e, 0, 32767);
}

static void endless_substitution(void **state)
{
    assert_string_equal(parse_one_error("$A=${A}x\nb ${A}\nc\n", 2, "substitution does not end"),
                        "3:[c]");
    assert_string_equal(parse_one_error("$A=~SEQ(i,1,2) $A\n$A\nc\n", 2, "does not end"), "3:[c]");
    char text[1024] = "";
    for (int i = 0; i < 70; i++)
        strcat(text, "~SEQ(a,1,1) ");
    strcat(text, "x\ny\n");
    assert_string_equal(parse_one_error(text, 1, "expansion nested deeper than 64"), "2:[y]");
}

/* ---- conditionals ---- */

static void conditionals(void **state)
{
    assert_string_equal(parse_clean("global_defs {\n"
                                    "  @main router_id main_router\n"
                                    "  @backup router_id backup_router\n"
                                    "}\n"
                                    "unicast_peer {\n"
                                    "  @^main 192.0.2.4\n"
                                    "  @^backup 192.0.2.5\n"
                                    "}\n"
                                    "@mainx a\n"
                                    "@main $P=240\n"
                                    "@backup $P=200\n"
                                    "priority $P\n"
                                    "$IF_MAIN=@main\n"
                                    "$IF_MAIN b 1\n"
                                    "@backup $M= \\\n"
                                    "  skipped \\\n"
                                    "  also skipped\n"
                                    "z\n"),
                        "1:[global_defs]{2:[router_id][main_router]} "
                        "5:[unicast_peer]{7:[192.0.2.5]} 12:[priority][240] 14:[b][1] 18:[z]");
}

static void conditional_default_is_hostname(void **state)
{
    char host[256], want[300];
    struct conf_tree t;
    struct diags d = {0};

    assert_int_equal(gethostname(host, sizeof(host)), 0);
    host[strcspn(host, ".")] = '\0';
    char text[600];
    snprintf(text, sizeof(text), "@%s a\n@^%s b\nc ${_INSTANCE}\n", host, host);
    assert_int_equal(conf_parse_buffer("t.conf", text, strlen(text), NULL, &t, &d), 0);
    snprintf(want, sizeof(want), "1:[a] 3:[c][%s]", host);
    assert_string_equal(dump(&t), want);
    assert_int_equal(d.n, 0);
    conf_tree_free(&t);
}

/* ---- repetition ---- */

static void sequences(void **state)
{
    assert_string_equal(parse_clean("~SEQ(SUBNET, 0, 3) ip_address 10.0.${SUBNET}.1\n"),
                        "1:[ip_address][10.0.0.1] 1:[ip_address][10.0.1.1] "
                        "1:[ip_address][10.0.2.1] 1:[ip_address][10.0.3.1]");
    assert_string_equal(parse_clean("~SEQx(S, 0x90, 0x10, 0xc0) fe80::20:${S}:1\n"),
                        "1:[fe80::20:90:1] 1:[fe80::20:a0:1] 1:[fe80::20:b0:1] "
                        "1:[fe80::20:c0:1]");
    assert_string_equal(parse_clean("~SEQ(A,3) a$A\n~SEQ(B,-2) b$B\n~SEQ(C,5,3) c$C\n"),
                        "1:[a1] 1:[a2] 1:[a3] 2:[b-1] 2:[b-2] 3:[c5] 3:[c4] 3:[c3]");
    assert_string_equal(parse_clean("~SEQ(A,3) ${A}\n~SEQ(B,-2) ${B}\n~SEQ(C,5,3) ${C}\n"),
                        "1:[1] 1:[2] 1:[3] 2:[-1] 2:[-2] 3:[5] 3:[4] 3:[3]");
    assert_string_equal(parse_clean("v {\n ~SEQx(AD2, 0x90, 0x10, 0xa0) ~SEQx(AD1, 0x12, -1, 0x11) "
                                    "fe81::${AD2}:${AD1}\n}\n"),
                        "1:[v]{2:[fe81::90:12] 2:[fe81::90:11] 2:[fe81::a0:12] 2:[fe81::a0:11]}");
    assert_string_equal(parse_clean("$N=2\n~SEQ(I,0,$N ) x${I}\n"), "2:[x0] 2:[x1] 2:[x2]");
}

static void lists(void **state)
{
    assert_string_equal(parse_clean("~LST({IP, IP1}, {10,1},{20,4}) 192.168.${IP}.${IP1}\n"),
                        "1:[192.168.10.1] 1:[192.168.20.4]");
    assert_string_equal(parse_clean("~LST(IP, 1, 2) ~LST(IP1, 5,6) 192.169.${IP}.${IP1}\n"),
                        "1:[192.169.1.5] 1:[192.169.1.6] 1:[192.169.2.5] 1:[192.169.2.6]");
    assert_string_equal(
        parse_clean("~LST({IP, IP1}, {10,1},{20,4}) ~SEQ(IP2,168,2,170) ${IP2}.${IP}.${IP1}\n"),
        "1:[168.10.1] 1:[170.10.1] 1:[168.20.4] 1:[170.20.4]");
}

static void repetition_errors(void **state)
{
    parse_one_error("a\n~SEQ(x,1,0,5) y\n", 2, "invalid ~SEQ");
    parse_one_error("~SEQ(1x,1,5) y\n", 1, "invalid ~SEQ");
    parse_one_error("~SEQx(x,1,q) y\n", 1, "invalid ~SEQx");
    parse_one_error("~LST({a,b},{1,2},{3}) y\n", 1, "invalid ~LST");
    parse_one_error("~LST(a,1\n", 1, "missing ')'");
}

/* ---- includes ---- */

static char tmpdir[64];

static void write_file(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int make_tmpdir(void **state)
{
    char path[256];
    strcpy(tmpdir, "/tmp/nspconf-test-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    snprintf(path, sizeof(path), "%s/sub", tmpdir);
    assert_int_equal(mkdir(path, 0700), 0);
    return 0;
}

static int remove_tmpdir(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd);
}

/* Parses tmpdir/main.conf; returns the dump, diags left in *d. */
static const char *parse_main(struct diags *d)
{
    char path[256];
    struct conf_opts o = {.config_id = "main"};
    struct conf_tree t;

    snprintf(path, sizeof(path), "%s/main.conf", tmpdir);
    assert_int_equal(conf_parse_file(path, &o, &t, d), 0);
    dump(&t);
    for (const struct conf_node *n = t.first; n; n = n->next)
        assert_non_null(strstr(n->file, tmpdir));
    conf_tree_free(&t);
    return dumped;
}

static void includes(void **state)
{
    struct diags d = {0};

    write_file("sub/b.conf", "b1\nb2 {\n");
    write_file("sub/a.conf", "a1\ninclude y.conf\n");
    write_file("sub/y.conf", "y1 ${_PWD}\n");
    write_file("sub/c.conf", "}\n");
    write_file("main.conf", "top {\n  include sub/[ab].conf\n  include \"sub/c.conf\"\n}\n"
                            "includea sub/{a,y}.conf\n");
    parse_main(&d);
    assert_int_equal(d.n, 0);
    char want[1024], real[200];
    assert_non_null(realpath(tmpdir, real));
    snprintf(want, sizeof(want),
             "1:[top]{1:[a1] 1:[y1][%s/sub] 1:[b1] 2:[b2]{}} 1:[a1] 1:[y1][%s/sub] "
             "1:[y1][%s/sub]",
             real, real, real);
    assert_string_equal(dumped, want);
    diag_clear(&d);
}

static void include_file_and_line(void **state)
{
    struct diags d = {0};
    char path[256], real[256];
    struct conf_tree t;

    write_file("sub/l.conf", "\n\nl3\n");
    write_file("main.conf", "m1\ninclude sub/l.conf\nm3\n");
    snprintf(path, sizeof(path), "%s/main.conf", tmpdir);
    assert_int_equal(conf_parse_file(path, NULL, &t, &d), 0);
    assert_int_equal(d.n, 0);
    const struct conf_node *n = t.first->next;
    assert_string_equal(n->argv[0], "l3");
    assert_int_equal(n->line, 3);
    snprintf(real, sizeof(real), "%s/sub/l.conf", tmpdir);
    assert_string_equal(n->file, real);
    assert_string_equal(t.first->file, path);
    assert_int_equal(n->next->line, 3);
    assert_string_equal(n->next->file, path);
    conf_tree_free(&t);
}

static void include_missing(void **state)
{
    struct diags d = {0};

    write_file("main.conf", "a\ninclude nothere.conf\ninclude none/*.conf\nb\n");
    assert_string_equal(parse_main(&d), "1:[a] 4:[b]");
    assert_int_equal(d.n, 2);
    assert_int_equal(d.errors, 0);
    assert_int_equal(d.v[0].level, DIAG_WARNING);
    assert_int_equal(d.v[0].line, 2);
    assert_int_equal(d.v[1].line, 3);
    diag_clear(&d);

    write_file("main.conf", "a\nincludea nothere.conf\nb\n");
    assert_string_equal(parse_main(&d), "1:[a] 3:[b]");
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].level, DIAG_ERROR);
    assert_int_equal(d.v[0].line, 2);
    assert_non_null(strstr(d.v[0].msg, "no file matches"));
    diag_clear(&d);

    /* includer: a wildcard without match is fine (warning); includew makes it an error */
    write_file("main.conf", "includer none/*.conf\nincludew none/*.conf\nincludem x.conf\n");
    parse_main(&d);
    assert_int_equal(d.n, 3);
    assert_int_equal(d.v[0].level, DIAG_WARNING);
    assert_int_equal(d.v[1].level, DIAG_ERROR);
    assert_int_equal(d.v[2].level, DIAG_ERROR);
    diag_clear(&d);

    /* a directory match is unreadable: error for includer, warning for include */
    write_file("main.conf", "include su[b]\nincluder su[b]\n");
    parse_main(&d);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.v[0].level, DIAG_WARNING);
    assert_int_equal(d.v[1].level, DIAG_ERROR);
    assert_int_equal(d.v[1].line, 2);
    diag_clear(&d);
}

static void include_check_keyword(void **state)
{
    struct diags d = {0};

    /* the setting holds for the rest of the file and is inherited by included files */
    write_file("sub/ic.conf", "include none1.conf\n");
    write_file("main.conf", "include none2.conf\n"
                            "global_defs { include_check }\n"
                            "include none3.conf\n"
                            "include sub/ic.conf\n"
                            "global_defs { include_check readable }\n"
                            "include none4.conf\n"
                            "global_defs { include_check +match -readable bogus }\n"
                            "include none5.conf\n"
                            "include none/*.conf\n");
    assert_string_equal(parse_main(&d), "2:[global_defs]{2:[include_check]} 5:[global_defs]{"
                                        "5:[include_check][readable]} 7:[global_defs]{"
                                        "7:[include_check][+match][-readable][bogus]}");
    assert_int_equal(d.n, 7);
    unsigned lines[] = {1, 3, 1, 6, 7, 8, 9};
    enum diag_level lvl[] = {DIAG_WARNING, DIAG_ERROR, DIAG_ERROR,  DIAG_WARNING,
                             DIAG_ERROR,   DIAG_ERROR, DIAG_WARNING};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(d.v[i].line, lines[i]);
        assert_int_equal(d.v[i].level, lvl[i]);
    }
    assert_non_null(strstr(d.v[2].file, "sub/ic.conf"));
    assert_non_null(strstr(d.v[4].msg, "unknown option 'bogus'"));
    diag_clear(&d);
}

static void include_recursion(void **state)
{
    struct diags d = {0};

    write_file("main.conf", "x\ninclude main.conf\n");
    parse_main(&d);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, 2);
    assert_non_null(strstr(d.v[0].msg, "includes nested deeper than 32"));
    assert_int_equal(strlen(dumped), 33 * strlen("1:[x] ") - 1);
    diag_clear(&d);
}

static void missing_file(void **state)
{
    struct diags d = {0};
    struct conf_tree t;

    assert_int_equal(conf_parse_file("/nonexistent/nspconf.conf", NULL, &t, &d), -ENOENT);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].level, DIAG_ERROR);
    assert_string_equal(d.v[0].file, "/nonexistent/nspconf.conf");
    assert_null(t.first);
    conf_tree_free(&t);
    diag_clear(&d);

    struct conf_tree z = {0};
    conf_tree_free(&z);
    conf_tree_free(NULL);
}

/* ---- the packaged samples ---- */

static void samples_parse_clean(void **state)
{
    const char *dir = "/usr/share/doc/keepalived/samples";
    DIR *dp = opendir(dir);
    struct dirent *e;
    int count = 0;

    if (!dp)
        skip();
    while ((e = readdir(dp))) {
        char path[512];
        struct conf_tree t;
        struct diags d = {0};

        if (strncmp(e->d_name, "keepalived.conf.", 16))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        assert_int_equal(conf_parse_file(path, NULL, &t, &d), 0);
        if (d.n)
            diag_print(&d, stderr);
        assert_int_equal(d.n, 0);
        assert_non_null(t.first);
        conf_tree_free(&t);
        count++;
    }
    closedir(dp);
    assert_true(count >= 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(blocks_and_braces),
        cmocka_unit_test(brace_on_next_line),
        cmocka_unit_test(blank_lines_crlf_and_whitespace),
        cmocka_unit_test(comments),
        cmocka_unit_test(normal_quoting),
        cmocka_unit_test(script_quoting),
        cmocka_unit_test(script_escapes),
        cmocka_unit_test(all_script_keywords),
        cmocka_unit_test(line_too_long),
        cmocka_unit_test(nul_byte),
        cmocka_unit_test(extra_brace),
        cmocka_unit_test(missing_brace),
        cmocka_unit_test(unmatched_quote),
        cmocka_unit_test(stray_open_brace),
        cmocka_unit_test(deep_blocks),
        cmocka_unit_test(definitions),
        cmocka_unit_test(substitution_at_use_time),
        cmocka_unit_test(multiline_definitions),
        cmocka_unit_test(nested_multiline),
        cmocka_unit_test(builtins),
        cmocka_unit_test(random_builtin),
        cmocka_unit_test(endless_substitution),
        cmocka_unit_test(conditionals),
        cmocka_unit_test(conditional_default_is_hostname),
        cmocka_unit_test(sequences),
        cmocka_unit_test(lists),
        cmocka_unit_test(repetition_errors),
        cmocka_unit_test(includes),
        cmocka_unit_test(include_file_and_line),
        cmocka_unit_test(include_missing),
        cmocka_unit_test(include_check_keyword),
        cmocka_unit_test(include_recursion),
        cmocka_unit_test(missing_file),
        cmocka_unit_test(samples_parse_clean),
    };
    int rc;

    make_tmpdir(NULL);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    remove_tmpdir(NULL);
    return rc;
}
