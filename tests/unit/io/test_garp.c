/* Unit tests for io/garp_sock: a gratuitous ARP frame sent with io_garp_send() on veth0
 * (namespace A) is received unchanged by an AF_PACKET socket on veth1 (namespace B), also
 * for the frames the codec builds (GARP and unsolicited NA).
 * Skipped when not root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/garp_sock.h"
#include "base/addr.h"
#include "io/nl.h"
#include "netns_helper.h"
#include "proto/vrrp/vrrp_garp.h"

static struct netns_pair pair;
static bool env_ok;

static int group_setup(void **state)
{
    env_ok = netns_is_root() && netns_pair_create(&pair) == 0;
    return 0;
}

/* An ARP announcement for 192.0.2.100 from mac (RFC 5227 3), laid out by hand. */
static size_t garp_frame(uint8_t *f, const uint8_t mac[6])
{
    static const uint8_t vip[4] = {192, 0, 2, 100};
    static const uint8_t arp_hdr[8] = {0, 1, 8, 0, 6, 4, 0, 1}; /* Ethernet, IPv4, request */

    memset(f, 0xff, 6);
    memcpy(f + 6, mac, 6);
    f[12] = 0x08;
    f[13] = 0x06;
    memcpy(f + 14, arp_hdr, 8);
    memcpy(f + 22, mac, 6);
    memcpy(f + 28, vip, 4);
    memset(f + 32, 0xff, 6);
    memcpy(f + 38, vip, 4);
    return 42;
}

/* An AF_PACKET socket on veth1 in namespace B receiving frames of one EtherType. */
static int open_listener(uint16_t ethertype)
{
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET, .sll_protocol = htons(ethertype), .sll_ifindex = pair.if_b};

    assert_int_equal(netns_enter(pair.ns_b), 0);
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ethertype));
    assert_int_equal(netns_enter(pair.ns_a), 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
    return fd;
}

/* Reads frames from fd (5 s bound) until one equals want[0..len); other IPv6 traffic such
 * as MLD reports may arrive first. */
static bool recv_matching(int fd, const uint8_t *want, size_t len)
{
    uint8_t got[256];
    double deadline = netns_now_ms() + 5000;

    while (netns_now_ms() < deadline) {
        if (!netns_wait_readable(fd, 100))
            continue;
        ssize_t n = recv(fd, got, sizeof(got), 0);
        if (n == (ssize_t)len && memcmp(got, want, len) == 0)
            return true;
    }
    return false;
}

static void garp_crosses_the_link(void **state)
{
    struct nl nl;
    struct nl_link l;
    uint8_t frame[64], got[128];

    if (!env_ok)
        skip();
    assert_int_equal(nl_open(&nl), 0);
    assert_int_equal(nl_link_get(&nl, pair.if_a, &l), 0);
    nl_close(&nl);
    size_t len = garp_frame(frame, l.mac);
    int rx = open_listener(ETH_P_ARP);
    int tx = io_garp_open(pair.if_a);
    assert_true(tx >= 0);
    assert_int_equal(io_garp_send(tx, pair.if_a, frame, len), 0);
    assert_true(netns_wait_readable(rx, 5000));
    assert_int_equal(recv(rx, got, sizeof(got), 0), (ssize_t)len);
    assert_memory_equal(got, frame, len);
    /* the sending socket itself queues nothing (protocol 0) */
    assert_int_equal(recv(tx, got, sizeof(got), MSG_DONTWAIT), -1);
    assert_int_equal(errno, EAGAIN);
    close(rx);
    close(tx);
}

/* Frames from the pure builders (vrrp_garp_build, vrrp_na_build) cross the link unchanged. */
static void codec_frames_cross_the_link(void **state)
{
    struct nl nl;
    struct nl_link l;
    struct ip_addr vip4, vip6, ll;
    uint8_t frame[128], got[256];

    if (!env_ok)
        skip();
    assert_int_equal(nl_open(&nl), 0);
    assert_int_equal(nl_link_get(&nl, pair.if_a, &l), 0);
    nl_close(&nl);
    assert_true(ip_addr_parse("192.0.2.77", &vip4));
    assert_true(ip_addr_parse("2001:db8::77", &vip6));
    assert_true(ip_addr_parse("fe80::1", &ll));
    int rx4 = open_listener(ETH_P_ARP), rx6 = open_listener(ETH_P_IPV6);
    int tx = io_garp_open(pair.if_a);
    assert_true(tx >= 0);

    size_t len = vrrp_garp_build(frame, sizeof(frame), l.mac, &vip4);
    assert_int_equal(len, VRRP_GARP_LEN);
    assert_int_equal(io_garp_send(tx, pair.if_a, frame, len), 0);
    assert_true(netns_wait_readable(rx4, 5000));
    assert_int_equal(recv(rx4, got, sizeof(got), 0), (ssize_t)len);
    assert_memory_equal(got, frame, len);

    len = vrrp_na_build(frame, sizeof(frame), l.mac, &ll, &vip6, false);
    assert_int_equal(len, VRRP_NA_LEN);
    assert_int_equal(io_garp_send(tx, pair.if_a, frame, len), 0);
    assert_true(recv_matching(rx6, frame, len));
    close(rx4);
    close(rx6);
    close(tx);
}

static void garp_bad_arguments(void **state)
{
    uint8_t frame[13] = {0};

    if (!env_ok)
        skip();
    assert_int_equal(io_garp_open(0), -EINVAL);
    assert_int_equal(io_garp_open(99999), -ENODEV);
    int tx = io_garp_open(pair.if_a);
    assert_true(tx >= 0);
    assert_int_equal(io_garp_send(tx, pair.if_a, frame, sizeof(frame)), -EINVAL);
    assert_int_equal(io_garp_send(tx, pair.if_a, NULL, 60), -EINVAL);
    close(tx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(garp_crosses_the_link),
        cmocka_unit_test(codec_frames_cross_the_link),
        cmocka_unit_test(garp_bad_arguments),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
