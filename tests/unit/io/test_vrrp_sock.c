/* Unit tests for io/vrrp_sock: real raw sockets across a veth pair joining two private
 * network namespaces (skipped when not root). An advert encoded by the codec is sent out of
 * veth0 (namespace A) and must arrive on veth1 (namespace B) byte for byte, with the right
 * source, destination, TTL/hop limit 255, TOS 0xc0 and interface, and decode cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/addr.h"
#include "io/nl.h"
#include "io/vrrp_sock.h"
#include "netns_helper.h"
#include "proto/vrrp/vrrp_pkt.h"

static struct netns_pair pair;
static struct ip_addr ll_a; /* link-local of veth0 */
static bool env_ok;

static int group_setup(void **state)
{
    struct nl nl;

    if (!netns_is_root() || netns_pair_create(&pair) < 0)
        return 0; /* every test skips */
    /* A: 192.0.2.1/24, 2001:db8::1/64 on veth0; B: .2 / ::2 on veth1 */
    if (netns_enter(pair.ns_b) < 0 || nl_open(&nl) < 0)
        return 0;
    int err = netns_addr_add(&nl, pair.if_b, "192.0.2.2", 24);
    err = err ? err : netns_addr_add(&nl, pair.if_b, "2001:db8::2", 64);
    nl_close(&nl);
    if (err < 0 || netns_enter(pair.ns_a) < 0 || nl_open(&nl) < 0)
        return 0;
    err = netns_addr_add(&nl, pair.if_a, "192.0.2.1", 24);
    err = err ? err : netns_addr_add(&nl, pair.if_a, "2001:db8::1", 64);
    err = err ? err : netns_wait_linklocal(&nl, pair.if_a, &ll_a);
    nl_close(&nl);
    env_ok = err == 0;
    return 0;
}

#define REQUIRE_ENV()                                                                              \
    do {                                                                                           \
        if (!env_ok)                                                                               \
            skip();                                                                                \
    } while (0)

static struct ip_addr addr(const char *text)
{
    struct ip_addr a;
    assert_true(ip_addr_parse(text, &a));
    return a;
}

/* Opens a receiving socket on veth1 inside namespace B. */
static int open_rx(int family, bool join)
{
    assert_int_equal(netns_enter(pair.ns_b), 0);
    int fd = io_vrrp_sock_open(family, pair.if_b, join);
    assert_int_equal(netns_enter(pair.ns_a), 0);
    assert_true(fd >= 0);
    return fd;
}

/* Encodes a v3 advert for VRID 51 with one address of vip's family. */
static size_t build(const struct ip_addr *src, const struct ip_addr *dst, const struct ip_addr *vip,
                    uint8_t *buf, size_t cap)
{
    struct vrrp_advert adv = {.version = 3,
                              .vrid = 51,
                              .priority = 100,
                              .family = vip->family,
                              .adver_int_cs = 100,
                              .naddr = 1,
                              .addrs = vip};
    size_t len = vrrp_pkt_encode(&adv, src, dst, buf, cap);
    assert_true(len > 0);
    return len;
}

/* Sends an advert from A to B and checks everything the receiver learns about it. */
static void roundtrip(int family, bool mcast, const char *src_s, const char *dst_s,
                      const char *vip_s)
{
    struct ip_addr src = src_s ? addr(src_s) : ll_a, dst = addr(dst_s), vip = addr(vip_s);
    uint8_t msg[64], buf[VRRP_PKT_MAX + 60];
    struct io_vrrp_rx rx;
    struct vrrp_pkt pkt;
    size_t len = build(&src, &dst, &vip, msg, sizeof(msg));

    int rxfd = open_rx(family, mcast);
    int txfd = io_vrrp_sock_open(family, pair.if_a, false);
    assert_true(txfd >= 0);
    assert_int_equal(io_vrrp_sock_recv(rxfd, family, buf, sizeof(buf), &rx), -EAGAIN);
    assert_int_equal(io_vrrp_sock_send(txfd, family, pair.if_a, &src, &dst, msg, len), 0);
    assert_true(netns_wait_readable(rxfd, 5000));
    assert_int_equal(io_vrrp_sock_recv(rxfd, family, buf, sizeof(buf), &rx), (int)len);
    assert_int_equal(rx.ip_drop, VRRP_DROP_NONE);
    assert_int_equal(rx.len, len);
    assert_memory_equal(rx.msg, msg, len);
    assert_true(ip_addr_eq(&rx.src, &src));
    assert_true(ip_addr_eq(&rx.dst, &dst));
    assert_int_equal(rx.ttl, 255);
    assert_int_equal(rx.ifindex, pair.if_b);
    if (family == IP_V4) {
        assert_ptr_equal(rx.msg, buf + 20);
        assert_int_equal(buf[1], 0xc0); /* TOS: internetwork control */
    }
    assert_int_equal(vrrp_pkt_decode(rx.msg, rx.len, (uint8_t)family, &rx.src, &rx.dst, &pkt),
                     VRRP_DROP_NONE);
    assert_int_equal(pkt.vrid, 51);
    assert_int_equal(pkt.priority, 100);
    assert_int_equal(io_vrrp_sock_recv(rxfd, family, buf, sizeof(buf), &rx), -EAGAIN);
    close(rxfd);
    close(txfd);
}

static void ipv4_multicast(void **state)
{
    REQUIRE_ENV();
    roundtrip(IP_V4, true, "192.0.2.1", "224.0.0.18", "192.0.2.100");
}

static void ipv4_unicast(void **state)
{
    REQUIRE_ENV();
    roundtrip(IP_V4, false, "192.0.2.1", "192.0.2.2", "192.0.2.100");
}

static void ipv6_multicast(void **state)
{
    REQUIRE_ENV();
    roundtrip(IP_V6, true, NULL, "ff02::12", "2001:db8::100");
}

static void ipv6_unicast(void **state)
{
    REQUIRE_ENV();
    roundtrip(IP_V6, false, "2001:db8::1", "2001:db8::2", "2001:db8::100");
}

/* A corrupted checksum must reach the caller (no IPV6_CHECKSUM), so the codec can count it. */
static void ipv6_bad_checksum_is_delivered(void **state)
{
    struct ip_addr dst = addr("ff02::12"), vip = addr("2001:db8::100");
    uint8_t msg[64], buf[VRRP_PKT_MAX];
    struct io_vrrp_rx rx;
    struct vrrp_pkt pkt;

    REQUIRE_ENV();
    size_t len = build(&ll_a, &dst, &vip, msg, sizeof(msg));
    msg[6] ^= 0xff;
    int rxfd = open_rx(IP_V6, true);
    int txfd = io_vrrp_sock_open(IP_V6, pair.if_a, false);
    assert_int_equal(io_vrrp_sock_send(txfd, IP_V6, pair.if_a, &ll_a, &dst, msg, len), 0);
    assert_true(netns_wait_readable(rxfd, 5000));
    assert_int_equal(io_vrrp_sock_recv(rxfd, IP_V6, buf, sizeof(buf), &rx), (int)len);
    assert_int_equal(vrrp_pkt_decode(rx.msg, rx.len, IP_V6, &rx.src, &rx.dst, &pkt),
                     VRRP_DROP_BAD_CHECKSUM);
    close(rxfd);
    close(txfd);
}

static void oversize_datagram_is_reported(void **state)
{
    struct ip_addr src = addr("192.0.2.1"), dst = addr("224.0.0.18"), vip = addr("192.0.2.9");
    uint8_t msg[64], small[24];
    struct io_vrrp_rx rx;

    REQUIRE_ENV();
    size_t len = build(&src, &dst, &vip, msg, sizeof(msg));
    int rxfd = open_rx(IP_V4, true);
    int txfd = io_vrrp_sock_open(IP_V4, pair.if_a, false);
    assert_int_equal(io_vrrp_sock_send(txfd, IP_V4, pair.if_a, &src, &dst, msg, len), 0);
    assert_true(netns_wait_readable(rxfd, 5000));
    /* 24 bytes: the 20-byte IPv4 header and the first 4 VRRP bytes, which name the VRID. */
    assert_int_equal(io_vrrp_sock_recv(rxfd, IP_V4, small, sizeof(small), &rx), 4);
    assert_int_equal(rx.ip_drop, VRRP_DROP_OVERSIZE);
    assert_int_equal(rx.len, 4);
    assert_int_equal(rx.msg[1], msg[1]);
    assert_int_equal(io_vrrp_sock_recv(rxfd, IP_V4, small, sizeof(small), &rx), -EAGAIN);
    close(rxfd);
    close(txfd);
}

static void bad_arguments(void **state)
{
    struct ip_addr v4 = addr("192.0.2.2");
    uint8_t msg[8] = {0};

    REQUIRE_ENV();
    assert_int_equal(io_vrrp_sock_open(5, pair.if_a, false), -EINVAL);
    assert_int_equal(io_vrrp_sock_open(IP_V4, 0, true), -EINVAL);
    assert_int_equal(io_vrrp_sock_open(IP_V4, 99999, false), -ENODEV);
    int fd = io_vrrp_sock_open(IP_V6, pair.if_a, false);
    assert_true(fd >= 0);
    assert_int_equal(io_vrrp_sock_send(fd, IP_V6, pair.if_a, NULL, &v4, msg, 8), -EINVAL);
    assert_int_equal(io_vrrp_sock_send(fd, IP_V6, pair.if_a, NULL, NULL, msg, 8), -EINVAL);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_multicast),
        cmocka_unit_test(ipv4_unicast),
        cmocka_unit_test(ipv6_multicast),
        cmocka_unit_test(ipv6_unicast),
        cmocka_unit_test(ipv6_bad_checksum_is_delivered),
        cmocka_unit_test(oversize_datagram_is_reported),
        cmocka_unit_test(bad_arguments),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
