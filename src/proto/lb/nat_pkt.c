/* Parsing and destination rewriting of a flow's first packet (see nat_pkt.h). Field offsets
 * are those of RFC 791 (IPv4), RFC 8200 (IPv6), RFC 9293 (TCP) and RFC 768 (UDP); the
 * checksum is the RFC 1071 one's complement sum over the RFC 768/9293 pseudo-header. */
#include "proto/lb/nat_pkt.h"

#include <string.h>

#define PROTO_TCP 6
#define PROTO_UDP 17
#define IP4_HLEN  20
#define IP6_HLEN  40
#define TCP_HLEN  20
#define UDP_HLEN  8

static uint16_t get16(const uint8_t *b)
{
    return (uint16_t)(b[0] << 8 | b[1]);
}

static void put16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

/* The transport header at p->l4 within p->len: ports, flags, and a sane length. */
static int parse_l4(const uint8_t *buf, struct nat_pkt *p)
{
    const uint8_t *h = buf + p->l4;
    size_t room = p->len - p->l4;

    if (p->proto == PROTO_TCP) {
        if (room < TCP_HLEN || (size_t)(h[12] >> 4) * 4 < TCP_HLEN ||
            (size_t)(h[12] >> 4) * 4 > room)
            return -1;
        p->tcp_flags = h[13];
    } else if (p->proto == PROTO_UDP) {
        if (room < UDP_HLEN || get16(h + 4) < UDP_HLEN || get16(h + 4) > room)
            return -1;
        p->tcp_flags = 0;
    } else {
        return -1;
    }
    p->sport = get16(h);
    p->dport = get16(h + 2);
    return 0;
}

static int parse_v4(const uint8_t *buf, size_t cap, struct nat_pkt *p)
{
    if (cap < IP4_HLEN) /* before reading the total length at octet 2 */
        return -1;
    size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
    size_t total = get16(buf + 2);

    if (ihl < IP4_HLEN || total < ihl || total > cap)
        return -1;
    if (get16(buf + 6) & 0x3fff) /* MF or a fragment offset */
        return -1;
    p->proto = buf[9];
    p->len = total;
    p->l4 = ihl;
    p->src.family = p->dst.family = IP_V4;
    memcpy(p->src.b, buf + 12, 4);
    memcpy(p->dst.b, buf + 16, 4);
    return parse_l4(buf, p);
}

static int parse_v6(const uint8_t *buf, size_t cap, struct nat_pkt *p)
{
    if (cap < IP6_HLEN || (size_t)get16(buf + 4) > cap - IP6_HLEN)
        return -1;
    p->proto = buf[6]; /* an extension header is neither TCP nor UDP: refused */
    p->len = IP6_HLEN + get16(buf + 4);
    p->l4 = IP6_HLEN;
    p->src.family = p->dst.family = IP_V6;
    memcpy(p->src.b, buf + 8, 16);
    memcpy(p->dst.b, buf + 24, 16);
    return parse_l4(buf, p);
}

int nat_pkt_parse(const uint8_t *buf, size_t cap, struct nat_pkt *p)
{
    memset(p, 0, sizeof(*p));
    if (cap < 1)
        return -1;
    switch (buf[0] >> 4) {
    case 4:
        return parse_v4(buf, cap, p);
    case 6:
        return parse_v6(buf, cap, p);
    default:
        return -1;
    }
}

/* One's complement sum of n bytes (RFC 1071), added to sum; an odd tail is padded. */
static uint32_t sum_bytes(uint32_t sum, const uint8_t *b, size_t n)
{
    for (; n > 1; b += 2, n -= 2)
        sum += get16(b);
    if (n)
        sum += (uint32_t)b[0] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static void ip4_checksum(uint8_t *buf, size_t ihl)
{
    put16(buf + 10, 0);
    put16(buf + 10, (uint16_t)~fold(sum_bytes(0, buf, ihl)));
}

/* The transport checksum over the pseudo-header (addresses, protocol, length) and the
 * segment, written into its field. A UDP segment is the UDP length (parse_l4 checked it fits),
 * which may be less than the IP payload: receivers trim to it and check the sum over it. */
static void l4_checksum(uint8_t *buf, const struct nat_pkt *p)
{
    size_t off = p->l4 + (p->proto == PROTO_TCP ? 16 : 6);
    size_t seglen = p->proto == PROTO_UDP ? get16(buf + p->l4 + 4) : p->len - p->l4;
    size_t alen = p->src.family == IP_V4 ? 4 : 16;

    if (p->proto == PROTO_UDP && p->src.family == IP_V4 && get16(buf + off) == 0)
        return; /* RFC 768: zero means no checksum was computed */
    put16(buf + off, 0);
    uint32_t sum = sum_bytes(0, p->src.b, alen);
    sum = sum_bytes(sum, p->dst.b, alen);
    sum += p->proto;
    sum += (uint32_t)(seglen & 0xffff) + (uint32_t)(seglen >> 16);
    sum = sum_bytes(sum, buf + p->l4, seglen);
    uint16_t c = (uint16_t)~fold(sum);
    if (c == 0 && p->proto == PROTO_UDP)
        c = 0xffff; /* RFC 768: a computed zero is sent as all ones */
    put16(buf + off, c);
}

int nat_pkt_set_dst(uint8_t *buf, struct nat_pkt *p, const struct ip_addr *dst, uint16_t port)
{
    if (dst->family != p->dst.family)
        return -1;
    p->dst = *dst;
    p->dport = port;
    if (p->dst.family == IP_V4) {
        memcpy(buf + 16, dst->b, 4);
        ip4_checksum(buf, p->l4);
    } else {
        memcpy(buf + 24, dst->b, 16);
    }
    put16(buf + p->l4 + 2, port);
    l4_checksum(buf, p);
    return 0;
}
