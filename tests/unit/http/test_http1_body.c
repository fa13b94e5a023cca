/* Unit tests for the HTTP/1.x body framing decoder (proto/http/http1_body.c): Content-Length,
 * chunked with extensions and trailers, close-delimited and tunnel bodies, the chunk and
 * trailer defences with their named errors, and for every vector the equivalence of one
 * call, one byte per call, no span array, and a one-entry span array (early stops). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/http/http1.h"

struct run {
    enum http1_rc rc;
    enum http1_err err;
    size_t used;
    uint64_t payload_count, chunks;
    size_t plen;
    uint8_t payload[4096];
};

/* Feeds text in steps of `step` bytes with a span array of `max_spans` (0: NULL). */
static void feed(struct run *r, const char *text, size_t len, enum http1_body_kind kind,
                 uint64_t cl, const struct http1_limits *lim, size_t step, size_t max_spans)
{
    struct http1_body b;
    struct http1_span spans[64];
    const uint8_t *p = (const uint8_t *)text;
    size_t off = 0;

    http1_body_init(&b, kind, cl, lim);
    memset(r, 0, sizeof(*r));
    r->rc = HTTP1_NEED_MORE;
    if (len == 0)
        r->rc = http1_body_feed(&b, p, 0, &(struct http1_body_out){0});
    while (off < len && r->rc == HTTP1_NEED_MORE) {
        size_t n = len - off < step ? len - off : step;
        struct http1_body_out o = {.spans = max_spans ? spans : NULL, .max_spans = max_spans};
        r->rc = http1_body_feed(&b, p + off, n, &o);
        assert_true(o.used <= n);
        assert_true(o.used > 0 || r->rc != HTTP1_NEED_MORE);
        assert_true(o.nspans <= max_spans);
        for (size_t i = 0; i < o.nspans; i++) {
            assert_true(spans[i].len > 0 && spans[i].off + spans[i].len <= o.used);
            assert_true(r->plen + spans[i].len <= sizeof(r->payload));
            memcpy(r->payload + r->plen, p + off + spans[i].off, spans[i].len);
            r->plen += spans[i].len;
        }
        off += o.used;
    }
    r->used = off;
    r->err = b.err;
    r->payload_count = b.payload;
    r->chunks = b.chunks;
    assert_int_equal(http1_body_done(&b), r->rc == HTTP1_DONE);
}

static struct run whole, other;

/* Runs the four feeding strategies, asserts they agree, returns the one-call result. */
static struct run *decode_ex(const char *text, size_t len, enum http1_body_kind kind, uint64_t cl,
                             const struct http1_limits *lim)
{
    static const size_t steps[][2] = {{1, 64}, {3, 1}, {(size_t)-1, 0}};

    feed(&whole, text, len, kind, cl, lim, (size_t)-1, 64);
    for (size_t i = 0; i < 3; i++) {
        feed(&other, text, len, kind, cl, lim, steps[i][0], steps[i][1]);
        assert_int_equal(other.rc, whole.rc);
        assert_int_equal(other.err, whole.err);
        assert_int_equal(other.used, whole.used);
        assert_int_equal(other.payload_count, whole.payload_count);
        assert_int_equal(other.chunks, whole.chunks);
        if (steps[i][1]) {
            assert_int_equal(other.plen, whole.plen);
            assert_memory_equal(other.payload, whole.payload, whole.plen);
        }
    }
    assert_int_equal(whole.payload_count, whole.plen);
    return &whole;
}

static struct run *chunked(const char *text)
{
    return decode_ex(text, strlen(text), HTTP1_BODY_CHUNKED, 0, NULL);
}

static void assert_payload(const struct run *r, const char *want)
{
    assert_int_equal(r->plen, strlen(want));
    assert_memory_equal(r->payload, want, r->plen);
}

static void content_length_body(void **state)
{
    struct run *r = decode_ex("helloNEXT", 9, HTTP1_BODY_LENGTH, 5, NULL);

    assert_int_equal(r->rc, HTTP1_DONE);
    assert_int_equal(r->used, 5);
    assert_payload(r, "hello");
    r = decode_ex("hel", 3, HTTP1_BODY_LENGTH, 5, NULL);
    assert_int_equal(r->rc, HTTP1_NEED_MORE);
    assert_int_equal(r->used, 3);
    r = decode_ex("GET", 3, HTTP1_BODY_LENGTH, 0, NULL);
    assert_int_equal(r->rc, HTTP1_DONE);
    assert_int_equal(r->used, 0);
    r = decode_ex("GET", 3, HTTP1_BODY_NONE, 0, NULL);
    assert_int_equal(r->rc, HTTP1_DONE);
    assert_int_equal(r->used, 0);
}

static void chunked_body_with_extensions_and_trailers(void **state)
{
    const char *t = "4\r\nWiki\r\n5;name=val;q=\"a b\"\r\npedia\r\nE ; x\r\n in\r\n\r\nchunks."
                    "\r\n0;last\r\nX-Sum: 1\r\nX-Other:\r\n\r\nNEXT";
    struct run *r = chunked(t);

    assert_int_equal(r->rc, HTTP1_DONE);
    assert_int_equal(r->used, strlen(t) - 4);
    assert_payload(r, "Wikipedia in\r\n\r\nchunks.");
    assert_int_equal(r->chunks, 4);
}

static void chunked_minimal_and_upper_hex(void **state)
{
    struct run *r = chunked("0\r\n\r\n");

    assert_int_equal(r->rc, HTTP1_DONE);
    assert_int_equal(r->used, 5);
    assert_int_equal(r->chunks, 1);
    r = chunked("A\r\n0123456789\r\n000\r\n\r\n");
    assert_int_equal(r->rc, HTTP1_DONE);
    assert_payload(r, "0123456789");
    r = chunked("a\r\n0123456789\r\n0\r\n");
    assert_int_equal(r->rc, HTTP1_NEED_MORE);
}

static void chunk_size_limits(void **state)
{
    struct run *r = chunked("7fffffffffffffff\r\nab");

    assert_int_equal(r->rc, HTTP1_NEED_MORE); /* 2^63-1 is accepted */
    assert_payload(r, "ab");
    r = chunked("0000000000000001\r\nx\r\n0\r\n\r\n"); /* 16 digits */
    assert_int_equal(r->rc, HTTP1_DONE);
    assert_int_equal(chunked("8000000000000000\r\n")->err, HTTP1_ERR_CHUNK_OVERFLOW);
    assert_int_equal(chunked("ffffffffffffffff\r\n")->err, HTTP1_ERR_CHUNK_OVERFLOW);
    assert_int_equal(chunked("00000000000000001\r\nx\r\n")->err, HTTP1_ERR_CHUNK_DIGITS);
    assert_int_equal(chunked("10000000000000000\r\n")->err, HTTP1_ERR_CHUNK_DIGITS);
}

/* Every refused chunked body, each with its own reason. */
static void chunked_defences(void **state)
{
    static const struct {
        const char *text;
        enum http1_err err;
    } v[] = {
        {"\r\n", HTTP1_ERR_CHUNK_SIZE},
        {"g\r\n", HTTP1_ERR_CHUNK_SIZE},
        {"-1\r\n", HTTP1_ERR_CHUNK_SIZE},
        {"0x5\r\nhello\r\n", HTTP1_ERR_CHUNK_SIZE},
        {"5z\r\nhello\r\n", HTTP1_ERR_CHUNK_SIZE},
        {" 5\r\nhello\r\n", HTTP1_ERR_CHUNK_SIZE},
        {"5 \r\nhello\r\n", HTTP1_ERR_CHUNK_EXT},
        {"5 x\r\nhello\r\n", HTTP1_ERR_CHUNK_EXT},
        {"5;a=\x01\r\nhello\r\n", HTTP1_ERR_CHUNK_EXT},
        {"5;a=\x7f\r\nhello\r\n", HTTP1_ERR_CHUNK_EXT},
        {"5\nhello\r\n", HTTP1_ERR_BARE_LF},
        {"5;ext\nhello\r\n", HTTP1_ERR_BARE_LF},
        {"5;\"a\nb\"\r\nhello\r\n", HTTP1_ERR_BARE_LF},
        {"5;a\rb\r\nhello\r\n", HTTP1_ERR_BARE_CR},
        {"5\rhello\r\n", HTTP1_ERR_BARE_CR},
        {"5\r\nhelloX\r\n0\r\n\r\n", HTTP1_ERR_CHUNK_CRLF},
        {"5\r\nhello\n0\r\n\r\n", HTTP1_ERR_BARE_LF},
        {"5\r\nhello\rX", HTTP1_ERR_BARE_CR},
        {"0\r\n\n", HTTP1_ERR_BARE_LF},
        {"0\r\n\rX", HTTP1_ERR_BARE_CR},
        {"0\r\n X: a\r\n\r\n", HTTP1_ERR_OBS_FOLD},
        {"0\r\nX: a\r\n\tb\r\n\r\n", HTTP1_ERR_OBS_FOLD},
        {"0\r\nX : a\r\n\r\n", HTTP1_ERR_SPACE_BEFORE_COLON},
        {"0\r\nX Y: a\r\n\r\n", HTTP1_ERR_HEADER_NAME},
        {"0\r\n: a\r\n\r\n", HTTP1_ERR_HEADER_NAME},
        {"0\r\nX\r\n\r\n", HTTP1_ERR_NO_COLON},
        {"0\r\nX: a\x01\r\n\r\n", HTTP1_ERR_HEADER_VALUE},
        {"0\r\nX: a\n\r\n", HTTP1_ERR_BARE_LF},
        {"0\r\nX: a\rb\r\n\r\n", HTTP1_ERR_BARE_CR},
    };

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct run *r = chunked(v[i].text);
        if (r->rc != HTTP1_ERROR || r->err != v[i].err)
            fail_msg("vector %zu: rc %d err %s, want %s", i, r->rc, http1_err_name(r->err),
                     http1_err_name(v[i].err));
    }
}

static void chunked_nul_in_extension(void **state)
{
    struct run *r = decode_ex("5;a\0\r\nhello\r\n", 13, HTTP1_BODY_CHUNKED, 0, NULL);

    assert_int_equal(r->err, HTTP1_ERR_CHUNK_EXT);
}

static void chunk_line_and_trailer_limits(void **state)
{
    struct http1_limits lim = {8, 16, 10};
    /* size line "1;abcd\r\n" is 8 bytes: accepted; one more byte is over max_line */
    struct run *r = decode_ex("1;abcd\r\nx\r\n0\r\n\r\n", 16, HTTP1_BODY_CHUNKED, 0, &lim);

    assert_int_equal(r->rc, HTTP1_DONE);
    r = decode_ex("1;abcde\r\nx\r\n", 12, HTTP1_BODY_CHUNKED, 0, &lim);
    assert_int_equal(r->err, HTTP1_ERR_LINE_TOO_LONG);
    assert_int_equal(r->used, 9);
    /* trailer lines within 8 bytes, section within 16 */
    r = decode_ex("0\r\nA: 12\r\nB: 34\r\n\r\n", 19, HTTP1_BODY_CHUNKED, 0, &lim);
    assert_int_equal(r->rc, HTTP1_DONE);
    r = decode_ex("0\r\nA: 1234\r\n\r\n", 14, HTTP1_BODY_CHUNKED, 0, &lim);
    assert_int_equal(r->err, HTTP1_ERR_LINE_TOO_LONG);
    r = decode_ex("0\r\nA: 12\r\nB: 34\r\nC:\r\n\r\n", 23, HTTP1_BODY_CHUNKED, 0, &lim);
    assert_int_equal(r->err, HTTP1_ERR_TRAILER_TOO_LONG);
    assert_int_equal(r->used, 20);
}

static void close_delimited_and_tunnel(void **state)
{
    struct http1_body b;
    struct http1_span s[4];
    struct http1_body_out o = {.spans = s, .max_spans = 4};

    struct run *r = decode_ex("anything\r\n0\r\n", 13, HTTP1_BODY_CLOSE, 0, NULL);
    assert_int_equal(r->rc, HTTP1_NEED_MORE);
    assert_payload(r, "anything\r\n0\r\n");
    http1_body_init(&b, HTTP1_BODY_TUNNEL, 0, NULL);
    assert_int_equal(http1_body_feed(&b, (const uint8_t *)"xy", 2, &o), HTTP1_NEED_MORE);
    assert_int_equal(o.used, 2);
    assert_int_equal(http1_body_eof(&b), HTTP1_DONE);
    assert_true(http1_body_done(&b));
}

static void eof_truncation(void **state)
{
    struct http1_body b;
    struct http1_body_out o = {0};

    http1_body_init(&b, HTTP1_BODY_LENGTH, 10, NULL);
    assert_int_equal(http1_body_feed(&b, (const uint8_t *)"abc", 3, &o), HTTP1_NEED_MORE);
    assert_int_equal(http1_body_eof(&b), HTTP1_ERROR);
    assert_int_equal(b.err, HTTP1_ERR_TRUNCATED);
    http1_body_init(&b, HTTP1_BODY_CHUNKED, 0, NULL);
    assert_int_equal(http1_body_feed(&b, (const uint8_t *)"0\r\n\r\n", 5, &o), HTTP1_DONE);
    assert_int_equal(http1_body_eof(&b), HTTP1_DONE);
    http1_body_init(&b, HTTP1_BODY_CHUNKED, 0, NULL);
    assert_int_equal(http1_body_feed(&b, (const uint8_t *)"0\r\n", 3, &o), HTTP1_NEED_MORE);
    assert_int_equal(http1_body_eof(&b), HTTP1_ERROR);
    assert_int_equal(b.err, HTTP1_ERR_TRUNCATED);
    /* an error stays an error */
    assert_int_equal(http1_body_feed(&b, (const uint8_t *)"x", 1, &o), HTTP1_ERROR);
    assert_int_equal(o.used, 0);
}

static void span_array_full_stops_early(void **state)
{
    const char *t = "1\r\na\r\n1\r\nb\r\n0\r\n\r\n";
    struct http1_body b;
    struct http1_span s[1];
    struct http1_body_out o = {.spans = s, .max_spans = 1};

    http1_body_init(&b, HTTP1_BODY_CHUNKED, 0, NULL);
    assert_int_equal(http1_body_feed(&b, (const uint8_t *)t, strlen(t), &o), HTTP1_NEED_MORE);
    assert_int_equal(o.nspans, 1);
    assert_int_equal(s[0].off, 3);
    assert_int_equal(s[0].len, 1);
    assert_int_equal(o.used, 9); /* stopped before the second data byte */
    assert_int_equal(http1_body_feed(&b, (const uint8_t *)t + 9, strlen(t) - 9, &o), HTTP1_DONE);
    assert_int_equal(s[0].off, 0);
    assert_int_equal(o.used, strlen(t) - 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(content_length_body),
        cmocka_unit_test(chunked_body_with_extensions_and_trailers),
        cmocka_unit_test(chunked_minimal_and_upper_hex),
        cmocka_unit_test(chunk_size_limits),
        cmocka_unit_test(chunked_defences),
        cmocka_unit_test(chunked_nul_in_extension),
        cmocka_unit_test(chunk_line_and_trailer_limits),
        cmocka_unit_test(close_delimited_and_tunnel),
        cmocka_unit_test(eof_truncation),
        cmocka_unit_test(span_array_full_stops_early),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
