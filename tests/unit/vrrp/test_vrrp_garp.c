/* Unit tests for the gratuitous ARP / unsolicited NA frame builders (proto/vrrp/vrrp_garp).
 *
 * Expected frames were produced once with scapy 2.5 (Ether/ARP and
 * Ether/IPv6/ICMPv6ND_NA/ICMPv6NDOptDstLLAddr) and pasted as bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/addr.h"
#include "proto/vrrp/vrrp_garp.h"
#include "proto/vrrp/vrrp_pkt.h"

static const uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};

/* 192.0.2.100 from 02:00:5e:10:20:30. */
static const uint8_t garp_golden[VRRP_GARP_LEN] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30,
    0xc0, 0x00, 0x02, 0x64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc0, 0x00, 0x02, 0x64,
};

/* 2001:db8::100 from fe80::1 / 02:00:5e:10:20:30, Override only. */
static const uint8_t na_golden[VRRP_NA_LEN] = {
    0x33, 0x33, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30, 0x86, 0xdd, 0x60,
    0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x88, 0x00, 0xa9, 0x24, 0x20, 0x00,
    0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x02, 0x01, 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30,
};

static struct ip_addr A(const char *s) {
    struct ip_addr a;

    assert_true(ip_addr_parse(s, &a));
    return a;
}

static void
garp_matches_golden(void **state)
{
    struct ip_addr vip = A("192.0.2.100");
    uint8_t f[64];

    memset(f, 0xee, sizeof(f));
    assert_int_equal(vrrp_garp_build(f, sizeof(f), mac, &vip), 42);
    assert_memory_equal(f, garp_golden, 42);
    assert_int_equal(f[42], 0xee); /* nothing written past the frame */
}

static void garp_refuses(void **state)
{
    struct ip_addr vip = A("192.0.2.100"), v6 = A("2001:db8::1");
    uint8_t f[64];

    assert_int_equal(vrrp_garp_build(f, 41, mac, &vip), 0);
    assert_int_equal(vrrp_garp_build(f, sizeof(f), mac, &v6), 0);
}

static void na_matches_golden(void **state)
{
    struct ip_addr vip = A("2001:db8::100"), ll = A("fe80::1");
    uint8_t f[128];

    memset(f, 0xee, sizeof(f));
    assert_int_equal(vrrp_na_build(f, sizeof(f), mac, &ll, &vip, false), 86);
    assert_memory_equal(f, na_golden, 86);
    assert_int_equal(f[86], 0xee);
}

static void na_router_flag(void **state)
{
    struct ip_addr vip = A("2001:db8::100"), ll = A("fe80::1");
    uint8_t f[VRRP_NA_LEN], want[VRRP_NA_LEN];

    /* scapy with R=1: flags byte 0xa0 and checksum 0x2924; the rest is unchanged. */
    memcpy(want, na_golden, sizeof(want));
    want[56] = 0x29;
    want[58] = 0xa0;
    assert_int_equal(vrrp_na_build(f, sizeof(f), mac, &ll, &vip, true), 86);
    assert_memory_equal(f, want, 86);
}

static void na_checksum_verifies(void **state)
{
    struct ip_addr vip = A("2001:db8::7"), ll = A("fe80::abcd:1");
    uint8_t f[VRRP_NA_LEN], pseudo[40 + 32];

    assert_int_equal(vrrp_na_build(f, sizeof(f), mac, &ll, &vip, false), 86);
    /* Sum of pseudo-header + message must be all ones. */
    memcpy(pseudo, f + 22, 32);
    memset(pseudo + 32, 0, 8);
    pseudo[35] = 32;
    pseudo[39] = 58;
    memcpy(pseudo + 40, f + 54, 32);
    assert_int_equal(vrrp_inet_cksum(pseudo, sizeof(pseudo), 0), 0);
    assert_memory_equal(f + 62, vip.b, 16);
}

static void na_refuses(void **state)
{
    struct ip_addr vip = A("2001:db8::100"), ll = A("fe80::1"), v4 = A("192.0.2.1");
    uint8_t f[VRRP_NA_LEN];

    assert_int_equal(vrrp_na_build(f, 85, mac, &ll, &vip, false), 0);
    assert_int_equal(vrrp_na_build(f, sizeof(f), mac, &v4, &vip, false), 0);
    assert_int_equal(vrrp_na_build(f, sizeof(f), mac, &ll, &v4, false), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(garp_matches_golden),  cmocka_unit_test(garp_refuses),
        cmocka_unit_test(na_matches_golden),    cmocka_unit_test(na_router_flag),
        cmocka_unit_test(na_checksum_verifies), cmocka_unit_test(na_refuses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
