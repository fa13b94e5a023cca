/* Builders of the gratuitous ARP and unsolicited NA frames a VRRP master sends.
 *
 * Field values follow the RFCs cited at each step and keepalived's choices (research/vrrp.md
 * 4.5): the ARP announcement is a request whose target hardware address is all ones rather
 * than RFC 5227's zeros, sent to Ethernet broadcast. Nothing here depends on the host: the
 * caller supplies the interface MAC and the link-local source. */
#include "vrrp_garp.h"

#include <string.h>

#include "../../base/bytes.h"
#include "vrrp_pkt.h"

#define ETH_HDR_LEN     14
#define ETHERTYPE_ARP   0x0806
#define ETHERTYPE_IPV4  0x0800
#define ETHERTYPE_IPV6  0x86dd
#define ARP_HTYPE_ETHER 1
#define ARP_OP_REQUEST  1
#define IP6_HDR_LEN     40
#define IPPROTO_ICMP6   58
#define ND_HOP_LIMIT    255
#define ND_NA_TYPE      136
#define ND_NA_LEN       24
#define ND_OPT_TLLA     2
#define ND_OPT_LEN      8
#define ND_NA_ROUTER    0x80
#define ND_NA_OVERRIDE  0x20

static const uint8_t eth_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
/* RFC 2464 7: ff02::1 maps to 33:33:00:00:00:01. */
static const uint8_t eth_all_nodes[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};
static const uint8_t ip6_all_nodes[16] = {0xff, 0x02, [15] = 0x01};

/* Writes the 14-byte Ethernet II header; returns the payload pointer. */
static uint8_t *put_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    put_be16(f + 12, type);
    return f + ETH_HDR_LEN;
}

size_t vrrp_garp_build(uint8_t *frame, size_t cap, const uint8_t mac[6], const struct ip_addr *vip)
{
    uint8_t *a;

    if (cap < VRRP_GARP_LEN || vip->family != IP_V4)
        return 0;
    a = put_eth(frame, eth_bcast, mac, ETHERTYPE_ARP);
    /* RFC 826 packet format; RFC 5227 3: sender and target protocol address both the VIP. */
    put_be16(a, ARP_HTYPE_ETHER);
    put_be16(a + 2, ETHERTYPE_IPV4);
    a[4] = 6;
    a[5] = 4;
    put_be16(a + 6, ARP_OP_REQUEST);
    memcpy(a + 8, mac, 6);
    memcpy(a + 14, vip->b, 4);
    memcpy(a + 18, eth_bcast, 6);
    memcpy(a + 24, vip->b, 4);
    return VRRP_GARP_LEN;
}

/* Writes the fixed IPv6 header for an ICMPv6 payload of plen bytes. */
static uint8_t *put_ip6(uint8_t *h, const struct ip_addr *src, size_t plen)
{
    memset(h, 0, 4);
    h[0] = 0x60; /* version 6, traffic class 0, flow label 0 */
    put_be16(h + 4, (uint16_t)plen);
    h[6] = IPPROTO_ICMP6;
    h[7] = ND_HOP_LIMIT; /* RFC 4861 7.1.2: receivers drop NAs with another hop limit */
    memcpy(h + 8, src->b, 16);
    memcpy(h + 24, ip6_all_nodes, 16);
    return h + IP6_HDR_LEN;
}

/* RFC 4443 2.3: the ICMPv6 checksum covers the RFC 8200 8.1 pseudo-header (addresses taken
 * from the IPv6 header at ip6) and the message. */
static uint16_t icmp6_cksum(const uint8_t *ip6, const uint8_t *msg, size_t len)
{
    uint32_t sum = (uint16_t)~vrrp_inet_cksum(ip6 + 8, 32, 0);

    sum += (uint32_t)len + IPPROTO_ICMP6;
    return vrrp_inet_cksum(msg, len, sum);
}

size_t vrrp_na_build(uint8_t *frame, size_t cap, const uint8_t mac[6], const struct ip_addr *src_ll,
                     const struct ip_addr *vip, bool router)
{
    const size_t mlen = ND_NA_LEN + ND_OPT_LEN;
    uint8_t *ip6, *m;

    if (cap < VRRP_NA_LEN || vip->family != IP_V6 || src_ll->family != IP_V6)
        return 0;
    ip6 = put_eth(frame, eth_all_nodes, mac, ETHERTYPE_IPV6);
    m = put_ip6(ip6, src_ll, mlen);
    memset(m, 0, mlen);
    m[0] = ND_NA_TYPE;
    /* RFC 4861 7.2.6: unsolicited, so S is clear; O set to update caches; R if routing. */
    m[4] = (uint8_t)(ND_NA_OVERRIDE | (router ? ND_NA_ROUTER : 0));
    memcpy(m + 8, vip->b, 16);
    m[ND_NA_LEN] = ND_OPT_TLLA; /* RFC 4861 4.6.1: length in units of 8 octets */
    m[ND_NA_LEN + 1] = 1;
    memcpy(m + ND_NA_LEN + 2, mac, 6);
    put_be16(m + 2, icmp6_cksum(ip6, m, mlen));
    return VRRP_NA_LEN;
}
