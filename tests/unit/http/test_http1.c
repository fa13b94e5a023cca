/* Unit tests for the HTTP/1.x head parser (proto/http): request and status lines, target
 * forms, field indexing, Connection/Upgrade/Expect flags, framing decisions, every
 * smuggling defence with its named error, the limits, and for every vector the equivalence
 * of parsing all at once and one byte at a time (the buffer moving between calls). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "proto/http/http1.h"

#define MAXH  128
#define BUFSZ 140000

struct parsed {
    enum http1_rc rc;
    struct http1_msg m;
    struct http1_hdr h[MAXH];
};

static uint8_t bufs[2][BUFSZ];
static struct parsed whole, bytewise;

static void init(struct parsed *p, bool resp, enum http1_method req, const struct http1_limits *lim,
                 uint32_t nh)
{
    memset(p->h, 0xa5, sizeof(p->h));
    if (resp)
        http1_resp_init(&p->m, p->h, nh, lim, req);
    else
        http1_req_init(&p->m, p->h, nh, lim);
}

/* The public result of two parses must be identical. */
static void assert_same(const struct parsed *a, const struct parsed *b)
{
    const struct http1_msg *x = &a->m, *y = &b->m;

    assert_int_equal(a->rc, b->rc);
    assert_int_equal(x->err, y->err);
    assert_int_equal(x->err_off, y->err_off);
    if (a->rc != HTTP1_DONE)
        return;
    assert_int_equal(x->start, y->start);
    assert_int_equal(x->head_len, y->head_len);
    assert_int_equal(x->version_minor, y->version_minor);
    assert_int_equal(x->method, y->method);
    assert_int_equal(x->method_len, y->method_len);
    assert_int_equal(x->form, y->form);
    assert_int_equal(x->target_off, y->target_off);
    assert_int_equal(x->target_len, y->target_len);
    assert_int_equal(x->authority_off, y->authority_off);
    assert_int_equal(x->authority_len, y->authority_len);
    assert_int_equal(x->status, y->status);
    assert_int_equal(x->reason_off, y->reason_off);
    assert_int_equal(x->reason_len, y->reason_len);
    assert_int_equal(x->flags, y->flags);
    assert_int_equal(x->body, y->body);
    assert_int_equal(x->content_length, y->content_length);
    assert_int_equal(x->host, y->host);
    assert_int_equal(x->nhdrs, y->nhdrs);
    assert_memory_equal(a->h, b->h, x->nhdrs * sizeof(a->h[0]));
}

/* Parses text whole into `whole`, then one byte at a time into `bytewise` (alternating two
 * buffers so only offsets can survive between calls), asserts both agree; returns whole. */
static struct parsed *parse_ex(const char *text, size_t len, bool resp, enum http1_method req,
                               const struct http1_limits *lim, uint32_t nh)
{
    assert_true(len <= BUFSZ);
    init(&whole, resp, req, lim, nh);
    memcpy(bufs[0], text, len);
    whole.rc =
        resp ? http1_resp_parse(&whole.m, bufs[0], len) : http1_req_parse(&whole.m, bufs[0], len);
    /* a second call after the result gives the same result */
    assert_int_equal(resp ? http1_resp_parse(&whole.m, bufs[0], len)
                          : http1_req_parse(&whole.m, bufs[0], len),
                     whole.rc);

    init(&bytewise, resp, req, lim, nh);
    bytewise.rc = HTTP1_NEED_MORE;
    memset(bufs[1], 0, len);
    for (size_t n = 1; n <= len && bytewise.rc == HTTP1_NEED_MORE; n++) {
        uint8_t *b = bufs[n & 1];
        memcpy(b, text, n);
        bytewise.rc =
            resp ? http1_resp_parse(&bytewise.m, b, n) : http1_req_parse(&bytewise.m, b, n);
    }
    if (len == 0)
        bytewise.rc = HTTP1_NEED_MORE;
    assert_same(&whole, &bytewise);
    return &whole;
}

static struct parsed *req(const char *text)
{
    return parse_ex(text, strlen(text), false, HTTP1_M_OTHER, NULL, MAXH);
}

static struct parsed *resp(const char *text, enum http1_method m)
{
    return parse_ex(text, strlen(text), true, m, NULL, MAXH);
}

/* The bytes of a span of bufs[0]. */
static void assert_span(uint32_t off, uint32_t len, const char *want)
{
    assert_int_equal(len, strlen(want));
    assert_memory_equal(bufs[0] + off, want, len);
}

static void assert_hdr(const struct parsed *p, uint32_t i, const char *name, const char *value,
                       enum http1_hdr_id id)
{
    assert_true(i < p->m.nhdrs);
    assert_span(p->h[i].name_off, p->h[i].name_len, name);
    assert_span(p->h[i].value_off, p->h[i].value_len, value);
    assert_int_equal(p->h[i].id, id);
}

static void request_get_origin_form(void **state)
{
    const char *t = "GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nUser-Agent:  x y \r\n"
                    "Accept:\r\n\r\nBODY";
    struct parsed *p = req(t);

    assert_int_equal(p->rc, HTTP1_DONE);
    assert_int_equal(p->m.head_len, strlen(t) - 4);
    assert_int_equal(p->m.method, HTTP1_M_GET);
    assert_span(p->m.start, p->m.method_len, "GET");
    assert_int_equal(p->m.form, HTTP1_FORM_ORIGIN);
    assert_span(p->m.target_off, p->m.target_len, "/a/b?c=d");
    assert_int_equal(p->m.version_minor, 1);
    assert_int_equal(p->m.nhdrs, 3);
    assert_hdr(p, 0, "Host", "example.com", HTTP1_H_HOST);
    assert_hdr(p, 1, "User-Agent", "x y", HTTP1_H_OTHER);
    assert_hdr(p, 2, "Accept", "", HTTP1_H_OTHER);
    assert_int_equal(p->m.host, 0);
    assert_int_equal(p->m.body, HTTP1_BODY_NONE);
    assert_int_equal(p->m.flags, 0);
    assert_true(http1_keep_alive(&p->m));
    assert_int_equal(http1_find_header(&p->m, bufs[0], "user-AGENT", 10, 0), 1);
    assert_int_equal(http1_find_header(&p->m, bufs[0], "user-AGENT", 10, 2), -1);
    assert_int_equal(http1_find_header(&p->m, bufs[0], "Accep", 5, 0), -1);
    assert_int_equal(http1_find_id(&p->m, HTTP1_H_HOST, 0), 0);
    assert_int_equal(http1_find_id(&p->m, HTTP1_H_UPGRADE, 0), -1);
}

static void request_need_more_until_empty_line(void **state)
{
    assert_int_equal(req("GET / HTTP/1.1\r\nHost: a\r\n")->rc, HTTP1_NEED_MORE);
    assert_int_equal(req("GET / HTTP/1.1\r\nHost: a\r\n\r")->rc, HTTP1_NEED_MORE);
    assert_int_equal(req("")->rc, HTTP1_NEED_MORE);
    assert_int_equal(req("\r\n\r\n")->rc, HTTP1_NEED_MORE);
}

static void request_leading_empty_lines_skipped(void **state)
{
    struct parsed *p = req("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");

    assert_int_equal(p->rc, HTTP1_DONE);
    assert_int_equal(p->m.start, 4);
    assert_span(p->m.target_off, p->m.target_len, "/");
}

static void request_absolute_form(void **state)
{
    struct parsed *p = req("GET http://Example.org:8080/x?y HTTP/1.1\r\nHost: other\r\n\r\n");

    assert_int_equal(p->rc, HTTP1_DONE);
    assert_int_equal(p->m.form, HTTP1_FORM_ABSOLUTE);
    assert_span(p->m.authority_off, p->m.authority_len, "Example.org:8080");
    p = req("GET https://h HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(p->m.form, HTTP1_FORM_ABSOLUTE);
    assert_span(p->m.authority_off, p->m.authority_len, "h");
}

static void request_connect_authority_form(void **state)
{
    struct parsed *p = req("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");

    assert_int_equal(p->rc, HTTP1_DONE);
    assert_int_equal(p->m.method, HTTP1_M_CONNECT);
    assert_int_equal(p->m.form, HTTP1_FORM_AUTHORITY);
    assert_span(p->m.authority_off, p->m.authority_len, "example.com:443");
    p = req("CONNECT [2001:db8::1]:8443 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(p->m.form, HTTP1_FORM_AUTHORITY);
    assert_int_equal(req("CONNECT /x HTTP/1.1\r\nHost: x\r\n\r\n")->m.err, HTTP1_ERR_TARGET);
    assert_int_equal(req("CONNECT example.com HTTP/1.1\r\nHost: x\r\n\r\n")->m.err,
                     HTTP1_ERR_TARGET);
    assert_int_equal(req("CONNECT u@h:1 HTTP/1.1\r\nHost: x\r\n\r\n")->m.err, HTTP1_ERR_TARGET);
    assert_int_equal(req("GET example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n")->m.form,
                     HTTP1_FORM_ABSOLUTE); /* "example.com:" parses as a scheme */
    assert_int_equal(req("GET 1.2.3.4:80 HTTP/1.1\r\nHost: x\r\n\r\n")->m.err, HTTP1_ERR_TARGET);
}

static void request_asterisk_form(void **state)
{
    struct parsed *p = req("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");

    assert_int_equal(p->rc, HTTP1_DONE);
    assert_int_equal(p->m.form, HTTP1_FORM_ASTERISK);
    assert_int_equal(p->m.method, HTTP1_M_OPTIONS);
    assert_int_equal(req("GET * HTTP/1.1\r\nHost: a\r\n\r\n")->m.err, HTTP1_ERR_TARGET);
}

static void request_http10_without_host(void **state)
{
    struct parsed *p = req("GET / HTTP/1.0\r\n\r\n");

    assert_int_equal(p->rc, HTTP1_DONE);
    assert_int_equal(p->m.version_minor, 0);
    assert_int_equal(p->m.host, -1);
    assert_false(http1_keep_alive(&p->m));
    p = req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    assert_int_equal(p->m.flags, HTTP1_F_CONN_KEEP_ALIVE);
    assert_true(http1_keep_alive(&p->m));
}

static void request_methods(void **state)
{
    static const struct {
        const char *line;
        enum http1_method m;
        bool idem, safe;
    } v[] = {
        {"GET / HTTP/1.1", HTTP1_M_GET, true, true},
        {"HEAD / HTTP/1.1", HTTP1_M_HEAD, true, true},
        {"POST / HTTP/1.1", HTTP1_M_POST, false, false},
        {"PUT / HTTP/1.1", HTTP1_M_PUT, true, false},
        {"DELETE / HTTP/1.1", HTTP1_M_DELETE, true, false},
        {"OPTIONS / HTTP/1.1", HTTP1_M_OPTIONS, true, true},
        {"TRACE / HTTP/1.1", HTTP1_M_TRACE, true, true},
        {"PATCH / HTTP/1.1", HTTP1_M_PATCH, false, false},
        {"get / HTTP/1.1", HTTP1_M_OTHER, false, false}, /* methods are case-sensitive */
        {"PROPFIND / HTTP/1.1", HTTP1_M_OTHER, false, false},
    };
    char text[128];

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        snprintf(text, sizeof(text), "%s\r\nHost: h\r\n\r\n", v[i].line);
        struct parsed *p = req(text);
        assert_int_equal(p->rc, HTTP1_DONE);
        assert_int_equal(p->m.method, v[i].m);
        assert_int_equal(p->m.method_len, strchr(v[i].line, ' ') - v[i].line);
        assert_int_equal(http1_method_idempotent(p->m.method), v[i].idem);
        assert_int_equal(http1_method_safe(p->m.method), v[i].safe);
    }
    assert_string_equal(http1_method_name(HTTP1_M_PATCH), "PATCH");
    assert_string_equal(http1_method_name(HTTP1_M_OTHER), "");
}

/* Field values are checked eight bytes at a time: a control byte anywhere in a long value
 * (any position of a word, or the tail) is found, while HTAB and obs-text pass. */
static void request_long_values_checked_by_word(void **state)
{
    char head[256];
    const char *pad = "abcdefghijklmnopqrstuvwx"; /* 24 bytes: three words */

    (void)state;
    for (size_t at = 0; at < 26; at++) {
        for (int bad = 0; bad < 3; bad++) {
            char v[32];
            memcpy(v, pad, 24);
            memcpy(v + 24, "yz", 3);
            v[at] = (char)(bad == 0 ? 0x7f : bad == 1 ? 0x01 : '\r');
            snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: h\r\nX-Long: %s\r\n\r\n", v);
            struct parsed *p = req(head);
            assert_int_equal(p->rc, HTTP1_ERROR);
            assert_int_equal(p->m.err, bad == 2 ? HTTP1_ERR_BARE_CR : HTTP1_ERR_HEADER_VALUE);
        }
    }
    struct parsed *p =
        req("GET / HTTP/1.1\r\nHost: h\r\nX-Ok: abc\tdefgh\x80\xff ijklmnop \t\r\n\r\n");
    assert_int_equal(p->rc, HTTP1_DONE);
    assert_hdr(p, 1, "X-Ok", "abc\tdefgh\x80\xff ijklmnop", HTTP1_H_OTHER);
    p = req("GET / HTTP/1.1\r\nHOST: h\r\nCONTENT-length: 0\r\nkeep-ALIVE: x\r\n\r\n");
    assert_int_equal(p->rc, HTTP1_DONE);
    assert_int_equal(p->m.hdrs[0].id, HTTP1_H_HOST);
    assert_int_equal(p->m.hdrs[1].id, HTTP1_H_CONTENT_LENGTH);
    assert_int_equal(p->m.hdrs[2].id, HTTP1_H_KEEP_ALIVE);
}

static void request_connection_upgrade_expect(void **state)
{
    struct parsed *p = req("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n"
                           "Upgrade: websocket\r\nExpect: 100-Continue\r\n\r\n");

    assert_int_equal(p->rc, HTTP1_DONE);
    assert_int_equal(p->m.flags, HTTP1_F_CONN_KEEP_ALIVE | HTTP1_F_CONN_UPGRADE | HTTP1_F_UPGRADE |
                                     HTTP1_F_EXPECT_CONTINUE);
    assert_hdr(p, 1, "Connection", "keep-alive, Upgrade", HTTP1_H_CONNECTION);
    assert_hdr(p, 2, "Upgrade", "websocket", HTTP1_H_UPGRADE);
    p = req("GET / HTTP/1.1\r\nHost: h\r\nconnection: ,x, CLOSE ,\r\nExpect: 200-ok\r\n\r\n");
    assert_int_equal(p->m.flags, HTTP1_F_CONN_CLOSE | HTTP1_F_CONN_OTHER | HTTP1_F_EXPECT_OTHER);
    assert_false(http1_keep_alive(&p->m));
    p = req("GET / HTTP/1.1\r\nHost: h\r\nConnection:  Keep-ALIVE \r\n\r\n");
    assert_int_equal(p->m.flags, HTTP1_F_CONN_KEEP_ALIVE);
    p = req("GET / HTTP/1.1\r\nHost: h\r\nConnection: cLOSE\r\n\r\n");
    assert_int_equal(p->m.flags, HTTP1_F_CONN_CLOSE);
    p = req("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alivf\r\n\r\n");
    assert_int_equal(p->m.flags, HTTP1_F_CONN_OTHER);
    /* RFC 9110 10.1.1: 100-continue in HTTP/1.0 is ignored */
    p = req("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(p->m.flags, HTTP1_F_HAS_CL);
}

static void request_content_length_body(void **state)
{
    struct parsed *p = req("POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 0012\r\n\r\n");

    assert_int_equal(p->rc, HTTP1_DONE);
    assert_int_equal(p->m.body, HTTP1_BODY_LENGTH);
    assert_int_equal(p->m.content_length, 12);
    assert_int_equal(p->m.flags, HTTP1_F_HAS_CL);
    p = req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n");
    assert_int_equal(p->rc, HTTP1_DONE);
    assert_int_equal(p->m.content_length, UINT64_C(9223372036854775807));
}

static void request_identical_content_length_folded(void **state)
{
    struct parsed *p =
        req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 05, 5\r\n\r\n");

    assert_int_equal(p->rc, HTTP1_DONE);
    assert_int_equal(p->m.content_length, 5);
    assert_int_equal(p->m.flags, HTTP1_F_HAS_CL | HTTP1_F_CL_FOLDED);
}

static void request_chunked_body(void **state)
{
    struct parsed *p =
        req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\ntransfer-encoding: "
            ", CHUNKED\r\n\r\n");

    assert_int_equal(p->rc, HTTP1_DONE);
    assert_int_equal(p->m.body, HTTP1_BODY_CHUNKED);
    assert_int_equal(p->m.flags, HTTP1_F_HAS_TE | HTTP1_F_CHUNKED);
}

/* Every refused request, each with its own reason. */
static const struct {
    const char *name;
    const char *text;
    enum http1_err err;
} bad_requests[] = {
    {"method ctl", "G\x01T / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP1_ERR_METHOD},
    {"method tab", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", HTTP1_ERR_METHOD},
    {"method empty", " / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP1_ERR_METHOD},
    {"http/0.9", "GET /\r\n\r\n", HTTP1_ERR_REQUEST_LINE},
    {"no target", "GET\r\n\r\n", HTTP1_ERR_REQUEST_LINE},
    {"double sp", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP1_ERR_REQUEST_LINE},
    {"target ctl", "GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", HTTP1_ERR_TARGET},
    {"target 8bit", "GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", HTTP1_ERR_TARGET},
    {"target tab", "GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", HTTP1_ERR_TARGET},
    {"target relative", "GET a/b HTTP/1.1\r\nHost: h\r\n\r\n", HTTP1_ERR_TARGET},
    {"version 2", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", HTTP1_ERR_VERSION},
    {"version 1.2", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", HTTP1_ERR_VERSION},
    {"version lower", "GET / http/1.1\r\nHost: h\r\n\r\n", HTTP1_ERR_VERSION},
    {"version trailing sp", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", HTTP1_ERR_VERSION},
    {"three parts+", "GET / HTTP/1.1 x\r\nHost: h\r\n\r\n", HTTP1_ERR_VERSION},
    {"bare lf start", "GET / HTTP/1.1\nHost: h\r\n\r\n", HTTP1_ERR_BARE_LF},
    {"bare lf field", "GET / HTTP/1.1\r\nHost: h\n\r\n", HTTP1_ERR_BARE_LF},
    {"bare lf end", "GET / HTTP/1.1\r\nHost: h\r\n\n", HTTP1_ERR_BARE_LF},
    {"bare lf smuggle", "GET / HTTP/1.1\r\nHost: h\r\nX: a\nTransfer-Encoding: chunked\r\n\r\n",
     HTTP1_ERR_BARE_LF},
    {"bare lf first", "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP1_ERR_BARE_LF},
    {"bare cr value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", HTTP1_ERR_BARE_CR},
    {"bare cr name", "GET / HTTP/1.1\r\nHost: h\r\nX\r: a\r\n\r\n", HTTP1_ERR_BARE_CR},
    {"bare cr line", "GET / HTTP/1.1\r\r\nHost: h\r\n\r\n", HTTP1_ERR_BARE_CR},
    {"obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", HTTP1_ERR_OBS_FOLD},
    {"obs-fold tab", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", HTTP1_ERR_OBS_FOLD},
    {"ws first field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", HTTP1_ERR_OBS_FOLD},
    {"space before colon", "GET / HTTP/1.1\r\nHost: h\r\nContent-Length : 5\r\n\r\n",
     HTTP1_ERR_SPACE_BEFORE_COLON},
    {"tab before colon", "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", HTTP1_ERR_SPACE_BEFORE_COLON},
    {"name with space", "GET / HTTP/1.1\r\nHost: h\r\nX Y: a\r\n\r\n", HTTP1_ERR_HEADER_NAME},
    {"name empty", "GET / HTTP/1.1\r\nHost: h\r\n: a\r\n\r\n", HTTP1_ERR_HEADER_NAME},
    {"name bad char", "GET / HTTP/1.1\r\nHost: h\r\nX(y): a\r\n\r\n", HTTP1_ERR_HEADER_NAME},
    {"name 8bit", "GET / HTTP/1.1\r\nHost: h\r\nX\xff: a\r\n\r\n", HTTP1_ERR_HEADER_NAME},
    {"no colon", "GET / HTTP/1.1\r\nHost: h\r\nJunk\r\n\r\n", HTTP1_ERR_NO_COLON},
    {"value nul", "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", HTTP1_ERR_HEADER_VALUE},
    {"value ctl", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x1b\r\n\r\n", HTTP1_ERR_HEADER_VALUE},
    {"value del", "GET / HTTP/1.1\r\nHost: h\r\nX: \x7f\r\n\r\n", HTTP1_ERR_HEADER_VALUE},
    {"no host", "GET / HTTP/1.1\r\nX: h\r\n\r\n", HTTP1_ERR_NO_HOST},
    {"no host absolute", "GET http://h/ HTTP/1.1\r\n\r\n", HTTP1_ERR_NO_HOST},
    {"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", HTTP1_ERR_DUP_HOST},
    {"two hosts same", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", HTTP1_ERR_DUP_HOST},
    {"two hosts 1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", HTTP1_ERR_DUP_HOST},
    {"cl empty", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", HTTP1_ERR_CL_INVALID},
    {"cl sign", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", HTTP1_ERR_CL_INVALID},
    {"cl neg", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", HTTP1_ERR_CL_INVALID},
    {"cl hex", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", HTTP1_ERR_CL_INVALID},
    {"cl inner space", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n",
     HTTP1_ERR_CL_INVALID},
    {"cl empty element", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5,,5\r\n\r\n",
     HTTP1_ERR_CL_INVALID},
    {"cl overflow", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775808\r\n\r\n",
     HTTP1_ERR_CL_OVERFLOW},
    {"cl overflow u64",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551617\r\n\r\n",
     HTTP1_ERR_CL_OVERFLOW},
    {"cl different lines",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
     "Content-Length: 6\r\n\r\n",
     HTTP1_ERR_CL_DIFFERENT},
    {"cl different list", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n",
     HTTP1_ERR_CL_DIFFERENT},
    {"cl and te",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
     "Transfer-Encoding: chunked\r\n\r\n",
     HTTP1_ERR_CL_AND_TE},
    {"te and cl",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
     "Content-Length: 5\r\n\r\n",
     HTTP1_ERR_CL_AND_TE},
    {"te empty", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:  , \r\n\r\n",
     HTTP1_ERR_TE_INVALID},
    {"te junk", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \"chunked\"\r\n\r\n",
     HTTP1_ERR_TE_INVALID},
    {"te chunked param", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;x=1\r\n\r\n",
     HTTP1_ERR_TE_INVALID},
    {"te not chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
     HTTP1_ERR_TE_NOT_CHUNKED},
    {"te chunked first", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
     HTTP1_ERR_TE_NOT_CHUNKED},
    {"te lookalike", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n",
     HTTP1_ERR_TE_NOT_CHUNKED},
    {"te chunked twice",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
     "Transfer-Encoding: chunked\r\n\r\n",
     HTTP1_ERR_TE_CHUNKED_TWICE},
    {"te chunked twice list",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip, chunked\r\n\r\n",
     HTTP1_ERR_TE_CHUNKED_TWICE},
    {"te in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP1_ERR_TE_HTTP10},
};

static void request_smuggling_defences(void **state)
{
    for (size_t i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]); i++) {
        const char *t = bad_requests[i].text;
        /* texts with an embedded NUL: the length runs to the final CRLFCRLF */
        size_t len = strlen(t);
        if (strcmp(bad_requests[i].name, "value nul") == 0)
            len += 1 + strlen(t + len + 1);
        struct parsed *p = parse_ex(t, len, false, HTTP1_M_OTHER, NULL, MAXH);
        if (p->rc != HTTP1_ERROR || p->m.err != bad_requests[i].err)
            fail_msg("%s: rc %d err %s, want %s", bad_requests[i].name, p->rc,
                     http1_err_name(p->m.err), http1_err_name(bad_requests[i].err));
        assert_int_equal(http1_err_status(p->m.err),
                         bad_requests[i].err == HTTP1_ERR_VERSION ? 505 : 400);
    }
}

static void error_offset_names_the_line(void **state)
{
    struct parsed *p = req("GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n");

    assert_int_equal(p->m.err, HTTP1_ERR_HEADER_NAME);
    assert_int_equal(p->m.err_off, 25);
    assert_string_equal(http1_err_name(HTTP1_ERR_SPACE_BEFORE_COLON), "space_before_colon");
    for (int e = 0; e < HTTP1_ERR_COUNT; e++)
        assert_string_not_equal(http1_err_name((enum http1_err)e), "?");
}

/* Builds "GET /<pad> HTTP/1.1\r\nHost: h\r\n" + nfields "X-n: v\r\n" + "\r\n". */
static size_t build(char *out, size_t target_pad, unsigned nfields, size_t value_pad)
{
    size_t n = (size_t)sprintf(out, "GET /");
    memset(out + n, 'a', target_pad);
    n += target_pad;
    n += (size_t)sprintf(out + n, " HTTP/1.1\r\nHost: h\r\n");
    for (unsigned i = 0; i < nfields; i++) {
        n += (size_t)sprintf(out + n, "X-%u: ", i);
        memset(out + n, 'v', value_pad);
        n += value_pad;
        n += (size_t)sprintf(out + n, "\r\n");
    }
    n += (size_t)sprintf(out + n, "\r\n");
    return n;
}

static char big[BUFSZ];

static void limits_request_line(void **state)
{
    struct http1_limits lim = {64, 4096, 10};
    /* "GET /" + pad + " HTTP/1.1\r\n" = 16 + pad bytes */
    size_t n = build(big, 48, 0, 0);

    assert_int_equal(parse_ex(big, n, false, 0, &lim, MAXH)->rc, HTTP1_DONE);
    n = build(big, 49, 0, 0);
    struct parsed *p = parse_ex(big, n, false, 0, &lim, MAXH);
    assert_int_equal(p->m.err, HTTP1_ERR_URI_TOO_LONG);
    assert_int_equal(http1_err_status(p->m.err), 414);
    /* the defaults: 8 KiB */
    n = build(big, 8192 - 16, 0, 0);
    assert_int_equal(parse_ex(big, n, false, 0, NULL, MAXH)->rc, HTTP1_DONE);
    n = build(big, 8192 - 15, 0, 0);
    assert_int_equal(parse_ex(big, n, false, 0, NULL, MAXH)->m.err, HTTP1_ERR_URI_TOO_LONG);
}

static void limits_field_line(void **state)
{
    struct http1_limits lim = {64, 4096, 10};
    /* "X-0: " + pad + CRLF = 7 + pad */
    size_t n = build(big, 0, 1, 57);

    assert_int_equal(parse_ex(big, n, false, 0, &lim, MAXH)->rc, HTTP1_DONE);
    n = build(big, 0, 1, 58);
    struct parsed *p = parse_ex(big, n, false, 0, &lim, MAXH);
    assert_int_equal(p->m.err, HTTP1_ERR_LINE_TOO_LONG);
    assert_int_equal(p->m.err_off, 25);
    assert_int_equal(http1_err_status(p->m.err), 431);
}

static void limits_head_size(void **state)
{
    struct http1_limits lim = {8192, 97, 100};
    /* 25 bytes of start line + Host, then 10-byte fields "X-n: vvv\r\n", then CRLF */
    size_t n = build(big, 0, 7, 3);

    assert_int_equal(n, 25 + 70 + 2);
    assert_int_equal(parse_ex(big, n, false, 0, &lim, MAXH)->rc, HTTP1_DONE);
    lim.max_head = 96;
    struct parsed *p = parse_ex(big, n, false, 0, &lim, MAXH);
    assert_int_equal(p->m.err, HTTP1_ERR_HEAD_TOO_LONG);
    assert_int_equal(p->m.err_off, 95);
    /* defaults: 64 KiB */
    n = build(big, 0, 99, 700);
    assert_true(n > 65536);
    assert_int_equal(parse_ex(big, n, false, 0, NULL, MAXH)->m.err, HTTP1_ERR_HEAD_TOO_LONG);
}

static void limits_header_count(void **state)
{
    struct http1_limits lim = {8192, 65536, 5};
    size_t n = build(big, 0, 4, 1); /* Host + 4 = 5 fields */

    assert_int_equal(parse_ex(big, n, false, 0, &lim, MAXH)->rc, HTTP1_DONE);
    n = build(big, 0, 5, 1);
    assert_int_equal(parse_ex(big, n, false, 0, &lim, MAXH)->m.err, HTTP1_ERR_TOO_MANY_HEADERS);
    /* the caller's array bounds it too */
    assert_int_equal(parse_ex(big, n, false, 0, NULL, 3)->m.err, HTTP1_ERR_TOO_MANY_HEADERS);
    /* defaults: 100 */
    n = build(big, 0, 99, 1);
    assert_int_equal(parse_ex(big, n, false, 0, NULL, MAXH)->rc, HTTP1_DONE);
    n = build(big, 0, 100, 1);
    assert_int_equal(parse_ex(big, n, false, 0, NULL, MAXH)->m.err, HTTP1_ERR_TOO_MANY_HEADERS);
}

static void limits_unterminated_stops_at_bound(void **state)
{
    struct http1_limits lim = {16, 1024, 10};
    size_t n = 200;

    memset(big, 'A', n); /* no LF at all: error as soon as the bound is reached */
    struct parsed *p = parse_ex(big, 16, false, 0, &lim, MAXH);
    assert_int_equal(p->rc, HTTP1_ERROR);
    assert_int_equal(p->m.err, HTTP1_ERR_URI_TOO_LONG);
    assert_int_equal(parse_ex(big, 15, false, 0, &lim, MAXH)->rc, HTTP1_NEED_MORE);
}

static void response_basic(void **state)
{
    const char *t = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nServer: s\r\n\r\nabc";
    struct parsed *p = resp(t, HTTP1_M_GET);

    assert_int_equal(p->rc, HTTP1_DONE);
    assert_int_equal(p->m.status, 200);
    assert_span(p->m.reason_off, p->m.reason_len, "OK");
    assert_int_equal(p->m.body, HTTP1_BODY_LENGTH);
    assert_int_equal(p->m.content_length, 3);
    assert_int_equal(p->m.head_len, strlen(t) - 3);
    assert_true(http1_keep_alive(&p->m));
    assert_false(http1_resp_interim(&p->m));
    assert_hdr(p, 1, "Server", "s", HTTP1_H_OTHER);
}

static void response_reason_forms(void **state)
{
    struct parsed *p = resp("HTTP/1.0 404 Not \tFound\xe9\r\n\r\n", HTTP1_M_GET);

    assert_int_equal(p->rc, HTTP1_DONE);
    assert_span(p->m.reason_off, p->m.reason_len, "Not \tFound\xe9");
    assert_int_equal(p->m.body, HTTP1_BODY_CLOSE);
    assert_false(http1_keep_alive(&p->m));
    p = resp("HTTP/1.1 500 \r\n\r\n", HTTP1_M_GET);
    assert_int_equal(p->m.reason_len, 0);
    p = resp("HTTP/1.1 204\r\n\r\n", HTTP1_M_GET);
    assert_int_equal(p->rc, HTTP1_DONE);
    assert_int_equal(p->m.status, 204);
    assert_int_equal(p->m.reason_len, 0);
}

static void response_framing(void **state)
{
    static const struct {
        const char *text;
        enum http1_method req;
        enum http1_body_kind body;
    } v[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", HTTP1_M_GET, HTTP1_BODY_LENGTH},
        {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", HTTP1_M_HEAD, HTTP1_BODY_NONE},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP1_M_HEAD, HTTP1_BODY_NONE},
        {"HTTP/1.1 204 No Content\r\n\r\n", HTTP1_M_GET, HTTP1_BODY_NONE},
        {"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", HTTP1_M_GET, HTTP1_BODY_NONE},
        {"HTTP/1.1 100 Continue\r\n\r\n", HTTP1_M_POST, HTTP1_BODY_NONE},
        {"HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n", HTTP1_M_GET, HTTP1_BODY_NONE},
        {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
         HTTP1_M_GET, HTTP1_BODY_TUNNEL},
        {"HTTP/1.1 200 Connection established\r\n\r\n", HTTP1_M_CONNECT, HTTP1_BODY_TUNNEL},
        {"HTTP/1.1 407 Auth\r\nContent-Length: 0\r\n\r\n", HTTP1_M_CONNECT, HTTP1_BODY_LENGTH},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP1_M_GET, HTTP1_BODY_CHUNKED},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", HTTP1_M_GET,
         HTTP1_BODY_CLOSE},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", HTTP1_M_GET, HTTP1_BODY_CLOSE},
        {"HTTP/1.1 200 OK\r\n\r\n", HTTP1_M_GET, HTTP1_BODY_CLOSE},
    };

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct parsed *p = resp(v[i].text, v[i].req);
        if (p->rc != HTTP1_DONE || p->m.body != v[i].body)
            fail_msg("vector %zu: rc %d body %d err %s", i, p->rc, p->m.body,
                     http1_err_name(p->m.err));
    }
}

static void response_interim_then_final(void **state)
{
    const char *t =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
    struct parsed *p = resp(t, HTTP1_M_POST);

    assert_int_equal(p->rc, HTTP1_DONE);
    assert_true(http1_resp_interim(&p->m));
    uint32_t next = p->m.head_len;
    p = resp(t + next, HTTP1_M_POST);
    assert_int_equal(p->rc, HTTP1_DONE);
    assert_int_equal(p->m.status, 201);
    assert_false(http1_resp_interim(&p->m));
    assert_int_equal(p->m.head_len, strlen(t) - next);
    p = resp("HTTP/1.1 101 Switching\r\n\r\n", HTTP1_M_GET);
    assert_false(http1_resp_interim(&p->m));
    assert_false(http1_keep_alive(&p->m));
}

static void response_host_not_required(void **state)
{
    struct parsed *p =
        resp("HTTP/1.1 200 OK\r\nHost: a\r\nHost: b\r\nContent-Length: 0\r\n\r\n", HTTP1_M_GET);

    assert_int_equal(p->rc, HTTP1_DONE);
    assert_int_equal(p->m.host, -1);
}

static void response_errors(void **state)
{
    static const struct {
        const char *text;
        enum http1_err err;
    } v[] = {
        {"HTTP/1.1 99 Low\r\n\r\n", HTTP1_ERR_STATUS_LINE},
        {"HTTP/1.1 099 Low\r\n\r\n", HTTP1_ERR_STATUS},
        {"HTTP/1.1 600 High\r\n\r\n", HTTP1_ERR_STATUS},
        {"HTTP/1.1 2000 OK\r\n\r\n", HTTP1_ERR_STATUS_LINE},
        {"HTTP/1.1  200 OK\r\n\r\n", HTTP1_ERR_STATUS_LINE},
        {"HTTP/2.0 200 OK\r\n\r\n", HTTP1_ERR_VERSION},
        {"HTTP/1.2 200 OK\r\n\r\n", HTTP1_ERR_VERSION},
        {"ICY 200 OK\r\n\r\n", HTTP1_ERR_STATUS_LINE},
        {"HTTP/1.1 200 O\x01K\r\n\r\n", HTTP1_ERR_STATUS_LINE},
        {"HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\n", HTTP1_ERR_BARE_LF},
        {"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", HTTP1_ERR_BARE_CR},
        {"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", HTTP1_ERR_OBS_FOLD},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
         HTTP1_ERR_CL_DIFFERENT},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
         HTTP1_ERR_CL_AND_TE},
        {"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", HTTP1_ERR_CL_INVALID},
        {"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP1_ERR_TE_HTTP10},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
         HTTP1_ERR_TE_CHUNKED_TWICE},
        {"HTTP/1.1 200 OK\r\nServer : x\r\n\r\n", HTTP1_ERR_SPACE_BEFORE_COLON},
    };

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct parsed *p = resp(v[i].text, HTTP1_M_GET);
        if (p->rc != HTTP1_ERROR || p->m.err != v[i].err)
            fail_msg("vector %zu: rc %d err %s, want %s", i, p->rc, http1_err_name(p->m.err),
                     http1_err_name(v[i].err));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_get_origin_form),
        cmocka_unit_test(request_need_more_until_empty_line),
        cmocka_unit_test(request_leading_empty_lines_skipped),
        cmocka_unit_test(request_absolute_form),
        cmocka_unit_test(request_connect_authority_form),
        cmocka_unit_test(request_asterisk_form),
        cmocka_unit_test(request_http10_without_host),
        cmocka_unit_test(request_methods),
        cmocka_unit_test(request_long_values_checked_by_word),
        cmocka_unit_test(request_connection_upgrade_expect),
        cmocka_unit_test(request_content_length_body),
        cmocka_unit_test(request_identical_content_length_folded),
        cmocka_unit_test(request_chunked_body),
        cmocka_unit_test(request_smuggling_defences),
        cmocka_unit_test(error_offset_names_the_line),
        cmocka_unit_test(limits_request_line),
        cmocka_unit_test(limits_field_line),
        cmocka_unit_test(limits_head_size),
        cmocka_unit_test(limits_header_count),
        cmocka_unit_test(limits_unterminated_stops_at_bound),
        cmocka_unit_test(response_basic),
        cmocka_unit_test(response_reason_forms),
        cmocka_unit_test(response_framing),
        cmocka_unit_test(response_interim_then_final),
        cmocka_unit_test(response_host_not_required),
        cmocka_unit_test(response_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
