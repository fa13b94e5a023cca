/* Unit tests for the PROXY protocol v1/v2 encoders (src/proto/lb/proxy_proto.h): exact bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/addr.h"
#include "proto/lb/proxy_proto.h"

static struct proxy_conn conn(const char *src, uint16_t sp, const char *dst, uint16_t dport)
{
    struct proxy_conn c = {.src_port = sp, .dst_port = dport};

    ip_addr_parse(src, &c.src);
    ip_addr_parse(dst, &c.dst);
    return c;
}

static void v1_tcp4(void **state)
{
    struct proxy_conn c = conn("192.0.2.10", 51234, "198.51.100.7", 80);
    uint8_t out[PROXY_V1_MAX];
    size_t n = proxy_v1_encode(&c, out, sizeof(out));
    const char *want = "PROXY TCP4 192.0.2.10 198.51.100.7 51234 80\r\n";

    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
}

static void v1_tcp6_canonical(void **state)
{
    struct proxy_conn c = conn("2001:db8:0:0:1:0:0:1", 1, "2001:db8::ff00:42:8329", 65535);
    uint8_t out[PROXY_V1_MAX];
    size_t n = proxy_v1_encode(&c, out, sizeof(out));
    const char *want = "PROXY TCP6 2001:db8::1:0:0:1 2001:db8::ff00:42:8329 1 65535\r\n";

    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
}

static void v1_unknown_and_limits(void **state)
{
    struct proxy_conn c = conn("192.0.2.10", 1, "2001:db8::1", 2);
    uint8_t out[PROXY_V1_MAX];

    assert_int_equal(proxy_v1_encode(&c, out, sizeof(out)), 15);
    assert_memory_equal(out, "PROXY UNKNOWN\r\n", 15);
    c = conn("192.0.2.10", 1, "192.0.2.11", 2);
    assert_int_equal(proxy_v1_encode(&c, out, 10), 0); /* too small */
    c.dgram = true;
    assert_int_equal(proxy_v1_encode(&c, out, sizeof(out)), 0); /* no UDP in v1 */
    /* the longest line fits in PROXY_V1_MAX */
    c = conn("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
             "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
    assert_int_equal(proxy_v1_encode(&c, out, sizeof(out)), 104);
}

static const uint8_t sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

static void v2_tcp4(void **state)
{
    struct proxy_conn c = conn("192.0.2.10", 0x1234, "198.51.100.7", 443);
    uint8_t out[PROXY_V2_MAX];
    static const uint8_t tail[] = {0x21, 0x11, 0x00, 0x0c, 192,  0,    2,    10,
                                   198,  51,   100,  7,    0x12, 0x34, 0x01, 0xbb};

    assert_int_equal(proxy_v2_encode(&c, out, sizeof(out)), 28);
    assert_memory_equal(out, sig, 12);
    assert_memory_equal(out + 12, tail, sizeof(tail));
    c.dgram = true;
    assert_int_equal(proxy_v2_encode(&c, out, sizeof(out)), 28);
    assert_int_equal(out[13], 0x12);
    assert_int_equal(proxy_v2_encode(&c, out, 27), 0);
}

static void v2_tcp6_and_local(void **state)
{
    struct proxy_conn c = conn("2001:db8::1", 1, "2001:db8::2", 2);
    uint8_t out[PROXY_V2_MAX];

    assert_int_equal(proxy_v2_encode(&c, out, sizeof(out)), 52);
    assert_int_equal(out[12], 0x21);
    assert_int_equal(out[13], 0x21);
    assert_int_equal(out[14] << 8 | out[15], 36);
    assert_int_equal(out[16], 0x20);
    assert_int_equal(out[31], 0x01);
    assert_int_equal(out[47], 0x02);
    assert_int_equal(out[48] << 8 | out[49], 1);
    assert_int_equal(out[50] << 8 | out[51], 2);
    c = conn("192.0.2.1", 1, "2001:db8::2", 2); /* mixed: LOCAL, no address block */
    assert_int_equal(proxy_v2_encode(&c, out, sizeof(out)), 16);
    assert_int_equal(out[12], 0x20);
    assert_int_equal(out[13], 0x00);
    assert_int_equal(out[14] << 8 | out[15], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v1_tcp4),
        cmocka_unit_test(v1_tcp6_canonical),
        cmocka_unit_test(v1_unknown_and_limits),
        cmocka_unit_test(v2_tcp4),
        cmocka_unit_test(v2_tcp6_and_local),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
