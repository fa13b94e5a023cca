/* Unit tests for the pure health-check codecs: proto/check/http_resp, dns_msg, smtp_reply,
 * icmp_echo and udp_match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/check/dns_msg.h"
#include "proto/check/http_resp.h"
#include "proto/check/icmp_echo.h"
#include "proto/check/smtp_reply.h"
#include "proto/check/udp_match.h"

/* Feeds text in pieces of `step` bytes; collects the body; returns the last rc. */
static enum http_resp_rc feed_all(struct http_resp *r, const char *text, size_t step, char *body,
                                  size_t cap)
{
    const uint8_t *p = (const uint8_t *)text;
    size_t len = strlen(text), blen = 0;
    enum http_resp_rc rc = HTTP_RESP_NEED_MORE;

    http_resp_init(r);
    while (len > 0 && rc == HTTP_RESP_NEED_MORE) {
        size_t n = len < step ? len : step, off = 0;
        while (off < n && rc == HTTP_RESP_NEED_MORE) {
            struct http_resp_out o;
            rc = http_resp_feed(r, p + off, n - off, &o);
            assert_true(o.used > 0 || rc != HTTP_RESP_NEED_MORE);
            assert_true(blen + o.body_len < cap);
            memcpy(body + blen, o.body, o.body_len);
            blen += o.body_len;
            off += o.used;
        }
        p += n;
        len -= n;
    }
    body[blen] = '\0';
    return rc;
}

static void http_content_length_any_split(void **state)
{
    const char *resp = "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\n\r\nhelloEXTRA";
    struct http_resp r;
    char body[64];

    for (size_t step = 1; step <= strlen(resp); step++) {
        assert_int_equal(feed_all(&r, resp, step, body, sizeof(body)), HTTP_RESP_DONE);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.version_minor, 1);
        assert_true(r.has_length);
        assert_string_equal(body, "hello");
        assert_int_equal(r.body_bytes, 5);
    }
}

static void http_chunked_with_extensions_and_trailer(void **state)
{
    const char *resp = "HTTP/1.1 503 Busy\r\nTransfer-Encoding: gzip, chunked\r\n"
                       "Content-Length: 99\r\n\r\n"
                       "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n"
                       "X-Trailer: t\r\n\r\n";
    struct http_resp r;
    char body[64];

    for (size_t step = 1; step <= strlen(resp); step += 3) {
        assert_int_equal(feed_all(&r, resp, step, body, sizeof(body)), HTTP_RESP_DONE);
        assert_int_equal(r.status, 503);
        assert_true(r.chunked);
        assert_string_equal(body, "Wikipedia in\r\n\r\nchunks.");
    }
}

static void http_body_until_close_and_truncation(void **state)
{
    struct http_resp r;
    char body[64];

    assert_int_equal(feed_all(&r, "HTTP/1.0 404 Not Found\nX: y\n\nabc", 7, body, sizeof(body)),
                     HTTP_RESP_NEED_MORE);
    assert_string_equal(body, "abc");
    assert_int_equal(http_resp_eof(&r), HTTP_RESP_DONE);
    assert_int_equal(r.status, 404);

    assert_int_equal(
        feed_all(&r, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 100, body, sizeof(body)),
        HTTP_RESP_NEED_MORE);
    assert_int_equal(http_resp_eof(&r), HTTP_RESP_ERROR);
    assert_int_equal(r.err, HTTP_RESP_ERR_TRUNCATED);
}

static void http_no_body_statuses_and_interim(void **state)
{
    struct http_resp r;
    char body[64];

    assert_int_equal(feed_all(&r,
                              "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n"
                              "Content-Length: 7\r\n\r\n",
                              5, body, sizeof(body)),
                     HTTP_RESP_DONE);
    assert_int_equal(r.status, 204);
    assert_string_equal(body, "");
    assert_true(http_resp_head_done(&r));
}

static void http_errors(void **state)
{
    static const struct {
        const char *text;
        enum http_resp_err err;
    } cases[] = {
        {"HTTP/2 200 OK\r\n", HTTP_RESP_ERR_STATUS_LINE},
        {"HTTP/1.1 20 OK\r\n", HTTP_RESP_ERR_STATUS_LINE},
        {"HTTP/1.1 200OK\r\n", HTTP_RESP_ERR_STATUS_LINE},
        {"HTTP/1.1 200 OK\r\nno colon\r\n", HTTP_RESP_ERR_HEADER},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n", HTTP_RESP_ERR_HEADER},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n", HTTP_RESP_ERR_HEADER},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", HTTP_RESP_ERR_CHUNK},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", HTTP_RESP_ERR_CHUNK},
    };
    struct http_resp r;
    char body[64];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(feed_all(&r, cases[i].text, 1000, body, sizeof(body)), HTTP_RESP_ERROR);
        assert_int_equal(r.err, cases[i].err);
    }
}

static void http_head_too_long(void **state)
{
    static char big[HTTP_RESP_HEAD_MAX + 100];
    struct http_resp r;
    char body[8];

    strcpy(big, "HTTP/1.1 200 OK\r\nX: ");
    memset(big + strlen(big), 'a', sizeof(big) - strlen(big) - 1);
    assert_int_equal(feed_all(&r, big, 4096, body, sizeof(body)), HTTP_RESP_ERROR);
    assert_int_equal(r.err, HTTP_RESP_ERR_TOO_LONG);
}

static void dns_query_bytes(void **state)
{
    static const uint8_t want[] = {0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0,   0,   0,
                                   0,    0,    7,    'e',  'x', 'a', 'm', 'p', 'l', 'e',
                                   3,    'o',  'r',  'g',  0,   0,   28,  0,   1};
    uint8_t buf[DNS_QUERY_MAX];
    char long_label[80];

    assert_int_equal(dns_query_encode(0x1234, "example.org.", DNS_T_AAAA, buf, sizeof(buf)),
                     sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));
    assert_int_equal(dns_query_encode(1, ".", DNS_T_SOA, buf, sizeof(buf)), 17);
    assert_int_equal(buf[12], 0);
    assert_int_equal(dns_query_encode(1, "a..b", DNS_T_A, buf, sizeof(buf)), 0);
    memset(long_label, 'x', 64);
    long_label[64] = '\0';
    assert_int_equal(dns_query_encode(1, long_label, DNS_T_A, buf, sizeof(buf)), 0);
    assert_int_equal(dns_query_encode(1, "example.org", DNS_T_A, buf, 20), 0);
    assert_int_equal(dns_qtype_parse("aaaa"), DNS_T_AAAA);
    assert_int_equal(dns_qtype_parse("SOA"), DNS_T_SOA);
    assert_int_equal(dns_qtype_parse("SRV"), 0);
}

static void dns_response_verdicts(void **state)
{
    /* a response to "example.org A" with one compressed answer 192.0.2.1 */
    uint8_t r[] = {0xbe, 0xef, 0x81, 0x80, 0,   1, 0,   1,   0,   0, 0, 0,   7, 'e', 'x',
                   'a',  'm',  'p',  'l',  'e', 3, 'o', 'r', 'g', 0, 0, 1,   0, 1,   0xc0,
                   12,   0,    1,    0,    1,   0, 0,   0,   60,  0, 4, 192, 0, 2,   1};
    struct dns_resp d;

    assert_int_equal(dns_resp_decode(r, sizeof(r), &d), DNS_MSG_OK);
    assert_int_equal(d.qtype, DNS_T_A);
    assert_int_equal(d.answers_of_qtype, 1);
    assert_int_equal(dns_verdict(r, sizeof(r), 0xbeef, &d), DNS_V_OK);
    assert_int_equal(dns_verdict(r, sizeof(r), 0xbeee, &d), DNS_V_IGNORE);
    r[3] = 0x83; /* NXDOMAIN */
    assert_int_equal(dns_verdict(r, sizeof(r), 0xbeef, &d), DNS_V_FAIL);
    assert_int_equal(d.rcode, 3);
    r[2] = 0x01; /* QR clear: a query */
    assert_int_equal(dns_verdict(r, sizeof(r), 0xbeef, &d), DNS_V_IGNORE);
    assert_int_equal(dns_verdict(r, 11, 0xbeef, &d), DNS_V_IGNORE);
    /* a pointer loop is refused, a truncated answer is short */
    r[29] = 0xc0;
    r[30] = 29;
    assert_int_equal(dns_resp_decode(r, sizeof(r), &d), DNS_MSG_BAD_NAME);
    assert_int_equal(dns_resp_decode(r, 35, &d), DNS_MSG_BAD_NAME);
    r[30] = 12;
    assert_int_equal(dns_resp_decode(r, sizeof(r) - 1, &d), DNS_MSG_SHORT);
}

static void smtp_replies(void **state)
{
    const char *multi = "250-mail.example.org\r\n250-SIZE 1000\r\n250 HELP\r\nNEXT";
    struct smtp_reply r;
    size_t used;

    smtp_reply_init(&r);
    for (size_t i = 0; i < strlen(multi); i++) {
        enum smtp_reply_rc rc = smtp_reply_feed(&r, (const uint8_t *)multi + i, 1, &used);
        if (rc == SMTP_REPLY_DONE) {
            assert_int_equal(i, strlen(multi) - 5);
            break;
        }
        assert_int_equal(rc, SMTP_REPLY_NEED_MORE);
    }
    assert_int_equal(r.code, 250);
    assert_string_equal(r.text, "mail.example.org");
    smtp_reply_init(&r);
    assert_int_equal(smtp_reply_feed(&r, (const uint8_t *)"220\n", 4, &used), SMTP_REPLY_DONE);
    assert_int_equal(r.code, 220);
    smtp_reply_init(&r);
    assert_int_equal(smtp_reply_feed(&r, (const uint8_t *)"250-a\r\n251 b\r\n", 14, &used),
                     SMTP_REPLY_ERROR);
    smtp_reply_init(&r);
    assert_int_equal(smtp_reply_feed(&r, (const uint8_t *)"hello\r\n", 7, &used), SMTP_REPLY_ERROR);
}

static void icmp_build_parse(void **state)
{
    const uint8_t data[4] = {1, 2, 3, 4};
    uint8_t buf[64], ip[20 + 12] = {0x45};
    struct icmp_echo e;
    size_t n = icmp_echo_build(4, 0x1234, 7, data, 4, buf, sizeof(buf));

    assert_int_equal(n, 12);
    assert_int_equal(buf[0], 8);
    assert_int_equal(icmp_cksum(buf, n), 0);
    assert_int_equal(icmp_echo_parse(4, buf, n, &e), ICMP_ECHO_NOT_REPLY);
    buf[0] = 0; /* turn it into a reply: fix the checksum */
    buf[2] = buf[3] = 0;
    uint16_t c = icmp_cksum(buf, n);
    buf[2] = (uint8_t)(c >> 8);
    buf[3] = (uint8_t)c;
    assert_int_equal(icmp_echo_parse(4, buf, n, &e), ICMP_ECHO_OK);
    assert_int_equal(e.id, 0x1234);
    assert_int_equal(e.seq, 7);
    assert_memory_equal(e.data, data, 4);
    buf[9] ^= 1;
    assert_int_equal(icmp_echo_parse(4, buf, n, &e), ICMP_ECHO_BAD_CKSUM);
    assert_int_equal(icmp_echo_build(6, 1, 2, data, 4, buf, sizeof(buf)), 12);
    assert_int_equal(buf[0], 128);
    buf[0] = 129;
    assert_int_equal(icmp_echo_parse(6, buf, 12, &e), ICMP_ECHO_OK);
    assert_int_equal(icmp_echo_parse(6, buf, 7, &e), ICMP_ECHO_SHORT);
    assert_int_equal(icmp_ip4_payload_off(ip, sizeof(ip)), 20);
    ip[0] = 0x44;
    assert_int_equal(icmp_ip4_payload_off(ip, sizeof(ip)), 0);
}

static void udp_matching(void **state)
{
    const uint8_t want[] = {0xab, 0x12, 0x0f};
    const uint8_t mask[] = {0xff, 0xf0, 0xff};
    const uint8_t got1[] = {0xab, 0x1f, 0x0f, 0x99};
    const uint8_t got2[] = {0xab, 0x22};

    assert_true(udp_reply_match(got1, 4, want, mask, 3, 0, 255));
    assert_false(udp_reply_match(got1, 4, want, NULL, 3, 0, 255));
    assert_false(udp_reply_match(got2, 2, want, mask, 3, 0, 0));
    assert_true(udp_reply_match(got2, 1, want, mask, 3, 0, 0)); /* shorter reply: its length */
    assert_false(udp_reply_match(got1, 4, want, mask, 3, 5, 0));
    assert_false(udp_reply_match(got1, 4, want, mask, 3, 0, 3));
    assert_true(udp_reply_match(got1, 4, NULL, NULL, 0, 4, 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(http_content_length_any_split),
        cmocka_unit_test(http_chunked_with_extensions_and_trailer),
        cmocka_unit_test(http_body_until_close_and_truncation),
        cmocka_unit_test(http_no_body_statuses_and_interim),
        cmocka_unit_test(http_errors),
        cmocka_unit_test(http_head_too_long),
        cmocka_unit_test(dns_query_bytes),
        cmocka_unit_test(dns_response_verdicts),
        cmocka_unit_test(smtp_replies),
        cmocka_unit_test(icmp_build_parse),
        cmocka_unit_test(udp_matching),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
