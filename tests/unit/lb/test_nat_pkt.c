/* Unit tests for the packet data plane's first-packet parser and rewriter
 * (src/proto/lb/nat_pkt.h).
 *
 * Packets are built byte by byte here (pkt_* below) with checksums this file computes itself
 * (an RFC 1071 sum written from the RFCs, not the code under test). After nat_pkt_set_dst the
 * result is judged by summing again: a correct IPv4 header sums to 0xffff over its IHL bytes,
 * a correct TCP or UDP checksum makes the sum over pseudo-header and segment 0xffff. Parsing
 * is done on an exact-size heap copy, so a read past the end shows as an ASan report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "proto/lb/nat_pkt.h"

/* ---- packet builder ---- */

#define TCP 6
#define UDP 17

struct pkt {
    uint8_t b[512];
    size_t len;    /* bytes in use */
    size_t l4;     /* offset of the transport header */
    int family;    /* 4 or 6 */
    uint8_t proto; /* TCP or UDP */
};

static uint16_t rd16(const uint8_t *b)
{
    return (uint16_t)(b[0] << 8 | b[1]);
}

static void wr16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

/* RFC 1071: the 16-bit one's complement sum of n bytes added to sum, odd byte padded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += rd16(b + i);
    if (n & 1)
        sum += (uint32_t)b[n - 1] << 8;
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* Bytes of the transport segment the checksum covers: the UDP length for UDP (RFC 768; what
 * the kernel verifies), the rest of the IP packet for TCP. */
static size_t seg_len(const struct pkt *k)
{
    return k->proto == UDP ? rd16(k->b + k->l4 + 4) : k->len - k->l4;
}

/* Folded sum of the pseudo-header (RFC 768 / RFC 8200 8.1) and the segment as it is now. */
static uint16_t l4_sum(const struct pkt *k)
{
    size_t alen = k->family == 4 ? 4 : 16;
    size_t saddr = k->family == 4 ? 12 : 8;
    size_t seg = seg_len(k);
    uint32_t sum = csum_add(0, k->b + saddr, 2 * alen);

    sum += k->proto;
    sum += (uint32_t)seg;
    return csum_fold(csum_add(sum, k->b + k->l4, seg));
}

static size_t csum_off(const struct pkt *k)
{
    return k->l4 + (k->proto == TCP ? 16 : 6);
}

static bool ip4_hdr_ok(const struct pkt *k)
{
    return csum_fold(csum_add(0, k->b, k->l4)) == 0xffff;
}

static bool l4_ok(const struct pkt *k)
{
    return l4_sum(k) == 0xffff;
}

/* Writes correct IPv4 header and transport checksums (UDP: a computed 0 is sent as 0xffff). */
static void pkt_seal(struct pkt *k)
{
    if (k->family == 4) {
        wr16(k->b + 10, 0);
        wr16(k->b + 10, (uint16_t)~csum_fold(csum_add(0, k->b, k->l4)));
    }
    wr16(k->b + csum_off(k), 0);
    uint16_t c = (uint16_t)~l4_sum(k);
    if (c == 0 && k->proto == UDP)
        c = 0xffff;
    wr16(k->b + csum_off(k), c);
}

/* Appends a transport header (TCP with opt_len option bytes, or UDP) and payload. */
static void put_l4(struct pkt *k, uint16_t sport, uint16_t dport, uint8_t flags,
                   const uint8_t *opts, size_t opt_len, const char *payload)
{
    uint8_t *h = k->b + k->l4;
    size_t plen = payload ? strlen(payload) : 0;
    size_t hlen = k->proto == TCP ? 20 + opt_len : 8;

    wr16(h, sport);
    wr16(h + 2, dport);
    if (k->proto == TCP) {
        wr16(h + 4, 0x1234);
        wr16(h + 6, 0x5678); /* sequence number */
        h[12] = (uint8_t)((hlen / 4) << 4);
        h[13] = flags;
        wr16(h + 14, 64240); /* window */
        if (opt_len)
            memcpy(h + 20, opts, opt_len);
    } else {
        wr16(h + 4, (uint16_t)(8 + plen));
    }
    memcpy(h + hlen, payload ? payload : "", plen);
    k->len = k->l4 + hlen + plen;
}

/* An IPv4 packet src -> dst with ip_opt_len bytes of IP options and the given transport
 * header, sealed with correct checksums. */
static struct pkt pkt4(const char *src, const char *dst, uint8_t proto, const uint8_t *ip_opts,
                       size_t ip_opt_len, uint16_t sport, uint16_t dport, uint8_t flags,
                       const uint8_t *opts, size_t opt_len, const char *payload)
{
    struct pkt k = {.family = 4, .proto = proto, .l4 = 20 + ip_opt_len};
    struct ip_addr a;

    k.b[0] = (uint8_t)(0x40 | (k.l4 / 4));
    wr16(k.b + 4, 0xbeef); /* identification */
    wr16(k.b + 6, 0x4000); /* DF */
    k.b[8] = 64;
    k.b[9] = proto;
    assert_true(ip_addr_parse(src, &a) && a.family == IP_V4);
    memcpy(k.b + 12, a.b, 4);
    assert_true(ip_addr_parse(dst, &a) && a.family == IP_V4);
    memcpy(k.b + 16, a.b, 4);
    if (ip_opt_len)
        memcpy(k.b + 20, ip_opts, ip_opt_len);
    put_l4(&k, sport, dport, flags, opts, opt_len, payload);
    wr16(k.b + 2, (uint16_t)k.len);
    pkt_seal(&k);
    return k;
}

static struct pkt pkt6(const char *src, const char *dst, uint8_t proto, uint16_t sport,
                       uint16_t dport, uint8_t flags, const char *payload)
{
    struct pkt k = {.family = 6, .proto = proto, .l4 = 40};
    struct ip_addr a;

    k.b[0] = 0x60;
    k.b[1] = 0x0a; /* a traffic class and flow label, to be left alone */
    k.b[3] = 0x42;
    k.b[6] = proto;
    k.b[7] = 64;
    assert_true(ip_addr_parse(src, &a) && a.family == IP_V6);
    memcpy(k.b + 8, a.b, 16);
    assert_true(ip_addr_parse(dst, &a) && a.family == IP_V6);
    memcpy(k.b + 24, a.b, 16);
    put_l4(&k, sport, dport, flags, NULL, 0, payload);
    wr16(k.b + 4, (uint16_t)(k.len - 40));
    pkt_seal(&k);
    return k;
}

/* A SYN's usual options: MSS 1460, SACK permitted, timestamps, NOP, window scale 7. */
static const uint8_t syn_opts[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                     0, 1, 0,    0,    0, 0, 1, 3,  3, 7};
/* IPv4 Router Alert (RFC 2113). */
static const uint8_t router_alert[4] = {0x94, 0x04, 0, 0};

static struct pkt syn4(void)
{
    return pkt4("192.0.2.10", "198.51.100.1", TCP, NULL, 0, 40000, 80, 0x02, syn_opts,
                sizeof(syn_opts), NULL);
}

/* nat_pkt_parse on an exact-size heap copy of the first n bytes of b. */
static int parse_n(const uint8_t *b, size_t n, struct nat_pkt *p)
{
    uint8_t *copy = malloc(n ? n : 1);

    assert_non_null(copy);
    memcpy(copy, b, n);
    int rc = nat_pkt_parse(copy, n, p);
    free(copy);
    return rc;
}

static int parse(const struct pkt *k, struct nat_pkt *p)
{
    return parse_n(k->b, k->len, p);
}

static void assert_addr(const struct ip_addr *a, const char *text)
{
    struct ip_addr want;

    assert_true(ip_addr_parse(text, &want));
    assert_true(ip_addr_eq(a, &want));
}

/* ---- parsing: accepted ---- */

static void parse_v4_tcp_syn_with_options(void **state)
{
    struct pkt k = syn4();
    struct nat_pkt p;

    assert_int_equal(parse(&k, &p), 0);
    assert_int_equal(p.src.family, IP_V4);
    assert_addr(&p.src, "192.0.2.10");
    assert_addr(&p.dst, "198.51.100.1");
    assert_int_equal(p.sport, 40000);
    assert_int_equal(p.dport, 80);
    assert_int_equal(p.proto, TCP);
    assert_int_equal(p.tcp_flags, 0x02);
    assert_int_equal(p.len, 60);
    assert_int_equal(p.l4, 20);
}

static void parse_v4_ip_options(void **state)
{
    struct pkt k =
        pkt4("192.0.2.10", "198.51.100.1", TCP, router_alert, 4, 1, 65535, 0x12, NULL, 0, "hi");
    struct nat_pkt p;

    assert_int_equal(parse(&k, &p), 0);
    assert_int_equal(p.l4, 24);
    assert_int_equal(p.len, 24 + 20 + 2);
    assert_int_equal(p.sport, 1);
    assert_int_equal(p.dport, 65535);
    assert_int_equal(p.tcp_flags, 0x12);
}

static void parse_v4_udp_and_trailing_bytes(void **state)
{
    struct pkt k = pkt4("203.0.113.5", "198.51.100.1", UDP, NULL, 0, 5353, 53, 0, NULL, 0, "query");
    struct nat_pkt p;

    assert_int_equal(parse(&k, &p), 0);
    assert_int_equal(p.proto, UDP);
    assert_int_equal(p.tcp_flags, 0);
    assert_int_equal(p.sport, 5353);
    assert_int_equal(p.dport, 53);
    assert_int_equal(p.len, 20 + 8 + 5);
    assert_int_equal(p.l4, 20);
    /* bytes past the IP total length (Ethernet padding) are not part of the packet */
    assert_int_equal(parse_n(k.b, k.len + 7, &p), 0);
    assert_int_equal(p.len, 20 + 8 + 5);
}

static void parse_v4_udp_checksum_zero(void **state)
{
    struct pkt k = pkt4("203.0.113.5", "198.51.100.1", UDP, NULL, 0, 1000, 2000, 0, NULL, 0, "x");
    struct nat_pkt p;

    wr16(k.b + csum_off(&k), 0); /* no checksum (RFC 768) */
    assert_int_equal(parse(&k, &p), 0);
    assert_int_equal(p.dport, 2000);
}

static void parse_v6_tcp_and_udp(void **state)
{
    struct pkt k = pkt6("2001:db8::10", "2001:db8:1::1", TCP, 51000, 443, 0x02, NULL);
    struct nat_pkt p;

    assert_int_equal(parse(&k, &p), 0);
    assert_int_equal(p.src.family, IP_V6);
    assert_addr(&p.src, "2001:db8::10");
    assert_addr(&p.dst, "2001:db8:1::1");
    assert_int_equal(p.sport, 51000);
    assert_int_equal(p.dport, 443);
    assert_int_equal(p.proto, TCP);
    assert_int_equal(p.tcp_flags, 0x02);
    assert_int_equal(p.len, 60);
    assert_int_equal(p.l4, 40);

    k = pkt6("2001:db8::10", "2001:db8:1::1", UDP, 51000, 53, 0, "abc");
    assert_int_equal(parse(&k, &p), 0);
    assert_int_equal(p.proto, UDP);
    assert_int_equal(p.tcp_flags, 0);
    assert_int_equal(p.dport, 53);
    assert_int_equal(p.len, 40 + 8 + 3);
    assert_int_equal(parse_n(k.b, k.len + 3, &p), 0); /* trailing bytes ignored */
    assert_int_equal(p.len, 40 + 8 + 3);
}

/* ---- parsing: refused ---- */

static void refuses_empty_truncated_and_version(void **state)
{
    struct pkt k = syn4();
    struct pkt k6 = pkt6("2001:db8::10", "2001:db8:1::1", UDP, 1, 2, 0, NULL);
    struct nat_pkt p;

    assert_int_equal(parse_n(k.b, 0, &p), -1);
    for (size_t n = 1; n < k.len; n++) /* every truncation of a v4 SYN: total length > buffer */
        assert_int_equal(parse_n(k.b, n, &p), -1);
    for (size_t n = 1; n < k6.len; n++)
        assert_int_equal(parse_n(k6.b, n, &p), -1);
    k.b[0] = 0x55; /* version 5 */
    assert_int_equal(parse(&k, &p), -1);
    k.b[0] = 0x05; /* version 0 */
    assert_int_equal(parse(&k, &p), -1);
}

static void refuses_bad_ihl_and_total_length(void **state)
{
    struct pkt k = syn4();
    struct nat_pkt p;

    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        k.b[0] = (uint8_t)(0x40 | ihl);
        assert_int_equal(parse(&k, &p), -1);
    }
    k.b[0] = 0x4f; /* 60 bytes of header: the TCP header would start past the SYN's options */
    assert_int_equal(parse(&k, &p), -1);
    k = syn4();
    wr16(k.b + 2, (uint16_t)(k.len + 1)); /* total length > buffer */
    assert_int_equal(parse(&k, &p), -1);
    wr16(k.b + 2, 19); /* shorter than the header */
    assert_int_equal(parse(&k, &p), -1);
    wr16(k.b + 2, 20 + 19); /* leaves only part of the TCP header */
    assert_int_equal(parse(&k, &p), -1);
    k = pkt6("2001:db8::10", "2001:db8:1::1", TCP, 1, 2, 0x02, NULL);
    wr16(k.b + 4, (uint16_t)(k.len - 40 + 1)); /* payload length > buffer */
    assert_int_equal(parse(&k, &p), -1);
    wr16(k.b + 4, 0); /* a jumbogram's 0, or nothing: no transport header */
    assert_int_equal(parse(&k, &p), -1);
}

static void refuses_fragments(void **state)
{
    static const uint16_t frag[] = {0x2000, 0x0001, 0x6000, 0x1fff, 0x2100};
    struct pkt k = pkt4("192.0.2.10", "198.51.100.1", UDP, NULL, 0, 1, 2, 0, NULL, 0, "x");
    struct nat_pkt p;

    for (size_t i = 0; i < sizeof(frag) / sizeof(frag[0]); i++) {
        wr16(k.b + 6, frag[i]); /* MF, an offset, or both */
        assert_int_equal(parse(&k, &p), -1);
    }
    wr16(k.b + 6, 0x4000); /* DF alone is not a fragment */
    assert_int_equal(parse(&k, &p), 0);
    wr16(k.b + 6, 0x8000); /* nor the reserved bit */
    assert_int_equal(parse(&k, &p), 0);
}

static void refuses_other_protocols_and_v6_extension_headers(void **state)
{
    struct pkt k = syn4();
    struct pkt k6 = pkt6("2001:db8::10", "2001:db8:1::1", TCP, 1, 2, 0x02, NULL);
    struct nat_pkt p;

    k.b[9] = 1; /* ICMP */
    assert_int_equal(parse(&k, &p), -1);
    k.b[9] = 132; /* SCTP */
    assert_int_equal(parse(&k, &p), -1);
    /* a hop-by-hop header then TCP: the next header is not TCP or UDP, so refused */
    static const uint8_t nh[] = {0, 43, 44, 60, 58, 59};
    for (size_t i = 0; i < sizeof(nh); i++) {
        k6.b[6] = nh[i];
        assert_int_equal(parse(&k6, &p), -1);
    }
    struct pkt hbh = k6;
    hbh.b[6] = 0;
    memmove(hbh.b + 48, hbh.b + 40, hbh.len - 40);
    memset(hbh.b + 40, 0, 8);
    hbh.b[40] = TCP; /* its next header */
    hbh.b[42] = 1;   /* PadN of 4 */
    hbh.b[43] = 4;
    wr16(hbh.b + 4, (uint16_t)(hbh.len - 40 + 8));
    hbh.len += 8;
    assert_int_equal(parse(&hbh, &p), -1);
}

static void refuses_bad_tcp_data_offset(void **state)
{
    struct pkt k = syn4(); /* 40 bytes of TCP: data offset 10 */
    struct nat_pkt p;

    for (uint8_t doff = 0; doff < 5; doff++) {
        k.b[20 + 12] = (uint8_t)(doff << 4);
        assert_int_equal(parse(&k, &p), -1);
    }
    k.b[20 + 12] = 10 << 4;
    assert_int_equal(parse(&k, &p), 0);
    k.b[20 + 12] = 11 << 4; /* 44 bytes, past the end of the packet */
    assert_int_equal(parse(&k, &p), -1);
    k.b[20 + 12] = 15 << 4;
    assert_int_equal(parse(&k, &p), -1);
    assert_int_equal(parse_n(k.b, sizeof(k.b), &p), -1); /* past the IP length, not the buffer */
}

static void refuses_bad_udp_length(void **state)
{
    struct pkt k = pkt4("192.0.2.10", "198.51.100.1", UDP, NULL, 0, 1, 2, 0, NULL, 0, "abcd");
    struct pkt k6 = pkt6("2001:db8::10", "2001:db8:1::1", UDP, 1, 2, 0, "abcd");
    struct nat_pkt p;

    for (uint16_t ulen = 0; ulen < 8; ulen++) {
        wr16(k.b + 20 + 4, ulen);
        assert_int_equal(parse(&k, &p), -1);
        wr16(k6.b + 40 + 4, ulen);
        assert_int_equal(parse(&k6, &p), -1);
    }
    wr16(k.b + 20 + 4, 13); /* one past the IP length */
    assert_int_equal(parse(&k, &p), -1);
    assert_int_equal(parse_n(k.b, k.len + 1, &p), -1); /* even with the byte in the buffer */
    wr16(k6.b + 40 + 4, 13);
    assert_int_equal(parse(&k6, &p), -1);
    wr16(k.b + 20 + 4, 12);
    assert_int_equal(parse(&k, &p), 0);
    /* a truncated UDP header (IP length 20 + 7) */
    wr16(k.b + 2, 27);
    assert_int_equal(parse(&k, &p), -1);
}

/* ---- rewriting ---- */

/* Parses k, rewrites it to dst:port and checks the result: both checksums by summing, the new
 * destination in the bytes and in p, and no other byte changed. */
static void rewrite_ok(struct pkt *k, const char *dst, uint16_t port)
{
    struct pkt before = *k;
    struct ip_addr a;
    struct nat_pkt p;

    assert_true(ip_addr_parse(dst, &a));
    assert_int_equal(parse(k, &p), 0);
    struct ip_addr src = p.src;
    uint16_t sport = p.sport;
    assert_int_equal(nat_pkt_set_dst(k->b, &p, &a, port), 0);
    assert_true(ip_addr_eq(&p.dst, &a));
    assert_int_equal(p.dport, port);
    assert_true(ip_addr_eq(&p.src, &src));
    assert_int_equal(p.sport, sport);
    size_t daddr = k->family == 4 ? 16 : 24, alen = k->family == 4 ? 4 : 16;
    assert_memory_equal(k->b + daddr, a.b, alen);
    assert_int_equal(rd16(k->b + k->l4 + 2), port);
    if (k->family == 4)
        assert_true(ip4_hdr_ok(k));
    assert_true(l4_ok(k));
    for (size_t i = 0; i < sizeof(k->b); i++) {
        bool may_change = (i >= daddr && i < daddr + alen) || i == k->l4 + 2 || i == k->l4 + 3 ||
                          i == csum_off(k) || i == csum_off(k) + 1 ||
                          (k->family == 4 && (i == 10 || i == 11));
        if (!may_change && k->b[i] != before.b[i])
            fail_msg("byte %zu changed: %02x -> %02x", i, before.b[i], k->b[i]);
    }
    struct nat_pkt again;
    assert_int_equal(parse(k, &again), 0); /* still a valid packet, now to the new place */
    assert_true(ip_addr_eq(&again.dst, &a));
    assert_int_equal(again.dport, port);
    assert_int_equal(again.len, p.len);
}

static void rewrite_v4_tcp(void **state)
{
    struct pkt k = syn4();

    assert_true(ip4_hdr_ok(&k) && l4_ok(&k)); /* the builder's own checksums */
    rewrite_ok(&k, "198.51.100.77", 8080);
    k = pkt4("192.0.2.10", "198.51.100.1", TCP, NULL, 0, 40000, 80, 0x18, NULL, 0, "odd");
    rewrite_ok(&k, "203.0.113.200", 1); /* an odd-length segment */
}

static void rewrite_v4_with_ip_options(void **state)
{
    struct pkt k = pkt4("192.0.2.10", "198.51.100.1", TCP, router_alert, 4, 40000, 80, 0x02,
                        syn_opts, sizeof(syn_opts), NULL);

    rewrite_ok(&k, "198.51.100.2", 80);
    k = pkt4("192.0.2.10", "198.51.100.1", UDP, router_alert, 4, 40000, 53, 0, NULL, 0, "q");
    rewrite_ok(&k, "198.51.100.2", 5353);
}

static void rewrite_v4_udp(void **state)
{
    struct pkt k = pkt4("203.0.113.5", "198.51.100.1", UDP, NULL, 0, 5353, 53, 0, NULL, 0, "query");

    rewrite_ok(&k, "192.0.2.99", 1053);
}

static void rewrite_v4_udp_checksum_zero_stays_zero(void **state)
{
    struct pkt k = pkt4("203.0.113.5", "198.51.100.1", UDP, NULL, 0, 5353, 53, 0, NULL, 0, "query");
    struct ip_addr a;
    struct nat_pkt p;

    wr16(k.b + csum_off(&k), 0);
    assert_true(ip_addr_parse("192.0.2.99", &a));
    assert_int_equal(parse(&k, &p), 0);
    assert_int_equal(nat_pkt_set_dst(k.b, &p, &a, 1053), 0);
    assert_int_equal(rd16(k.b + csum_off(&k)), 0);
    assert_true(ip4_hdr_ok(&k));
    assert_memory_equal(k.b + 16, a.b, 4);
    assert_int_equal(rd16(k.b + 22), 1053);
}

/* A UDP checksum that comes out as 0 must be sent as 0xffff (0 means none). The payload word
 * is chosen so that the sum over the rewritten packet, checksum field 0, is 0xffff. */
static void rewrite_udp_computed_zero_is_all_ones(void **state)
{
    for (int fam = 4; fam <= 6; fam += 2) {
        struct pkt k =
            fam == 4 ? pkt4("203.0.113.5", "198.51.100.1", UDP, NULL, 0, 7, 9, 0, NULL, 0, "ab")
                     : pkt6("2001:db8::5", "2001:db8::1", UDP, 7, 9, 0, "ab");
        struct pkt t = k;
        const char *dst = fam == 4 ? "192.0.2.1" : "2001:db8::2";
        struct ip_addr a;

        assert_true(ip_addr_parse(dst, &a));
        memcpy(t.b + (fam == 4 ? 16 : 24), a.b, fam == 4 ? 4 : 16);
        wr16(t.b + t.l4 + 2, 99);
        wr16(t.b + csum_off(&t), 0);
        wr16(t.b + t.l4 + 8, 0);
        uint16_t s = l4_sum(&t); /* 0xffff - s makes it 0xffff; s = 0xffff needs 0 */
        uint16_t w = (uint16_t)(0xffff - s);
        wr16(k.b + k.l4 + 8, w);
        pkt_seal(&k);
        rewrite_ok(&k, dst, 99);
        assert_int_equal(rd16(k.b + csum_off(&k)), 0xffff);
    }
}

/* A locally sent packet with checksum offload carries only the folded pseudo-header sum in
 * its checksum field (the NIC would add the segment); the rewrite must complete it. */
static void rewrite_completes_partial_checksum(void **state)
{
    struct pkt ks[] = {
        syn4(),
        pkt4("192.0.2.10", "198.51.100.1", UDP, NULL, 0, 40000, 53, 0, NULL, 0, "query"),
        pkt6("2001:db8::10", "2001:db8:1::1", TCP, 40000, 80, 0x02, "x"),
        pkt6("2001:db8::10", "2001:db8:1::1", UDP, 40000, 53, 0, "query"),
    };

    for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
        struct pkt *k = &ks[i];
        size_t alen = k->family == 4 ? 4 : 16, saddr = k->family == 4 ? 12 : 8;
        uint32_t pseudo = csum_add(0, k->b + saddr, 2 * alen) + k->proto + (uint32_t)seg_len(k);

        wr16(k->b + csum_off(k), csum_fold(pseudo));
        assert_false(l4_ok(k));
        rewrite_ok(k, k->family == 4 ? "198.51.100.9" : "2001:db8:2::9", 8080);
    }
}

static void rewrite_v6_tcp_and_udp(void **state)
{
    struct pkt k = pkt6("2001:db8::10", "2001:db8:1::1", TCP, 51000, 443, 0x02, NULL);

    assert_true(l4_ok(&k));
    rewrite_ok(&k, "2001:db8:ffff::1234", 8443);
    k = pkt6("2001:db8::10", "2001:db8:1::1", UDP, 51000, 53, 0, "odd");
    rewrite_ok(&k, "2001:db8:ffff::1234", 5353);
}

/* An IPv6 UDP checksum of zero is not allowed (RFC 8200 8.1): the rewrite computes one. */
static void rewrite_v6_udp_checksum_zero_is_computed(void **state)
{
    struct pkt k = pkt6("2001:db8::10", "2001:db8:1::1", UDP, 51000, 53, 0, "query");

    wr16(k.b + csum_off(&k), 0);
    rewrite_ok(&k, "2001:db8::53", 53);
}

/* UDP's own length shorter than the IP payload (bytes after the datagram inside the IP
 * packet): receivers trim to the UDP length and check the sum over it, so must the rewrite. */
static void rewrite_udp_shorter_than_ip_payload(void **state)
{
    struct pkt k = pkt4("192.0.2.10", "198.51.100.1", UDP, NULL, 0, 1, 53, 0, NULL, 0, "query");
    struct pkt k6 = pkt6("2001:db8::10", "2001:db8:1::1", UDP, 1, 53, 0, "query");

    wr16(k.b + 20 + 4, 8 + 3); /* "que" is the datagram, "ry" trailing */
    pkt_seal(&k);
    rewrite_ok(&k, "198.51.100.2", 5353);
    wr16(k6.b + 40 + 4, 8 + 2);
    pkt_seal(&k6);
    rewrite_ok(&k6, "2001:db8::2", 5353);
}

static void rewrite_refuses_family_mismatch(void **state)
{
    struct pkt k = syn4();
    struct pkt k6 = pkt6("2001:db8::10", "2001:db8:1::1", TCP, 1, 2, 0x02, NULL);
    struct pkt before = k, before6 = k6;
    struct ip_addr a4, a6;
    struct nat_pkt p;

    assert_true(ip_addr_parse("198.51.100.2", &a4));
    assert_true(ip_addr_parse("2001:db8::2", &a6));
    assert_int_equal(parse(&k, &p), 0);
    assert_int_equal(nat_pkt_set_dst(k.b, &p, &a6, 80), -1);
    assert_memory_equal(k.b, before.b, sizeof(k.b));
    assert_addr(&p.dst, "198.51.100.1");
    assert_int_equal(p.dport, 80);
    assert_int_equal(parse(&k6, &p), 0);
    assert_int_equal(nat_pkt_set_dst(k6.b, &p, &a4, 80), -1);
    assert_memory_equal(k6.b, before6.b, sizeof(k6.b));
    assert_addr(&p.dst, "2001:db8:1::1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_v4_tcp_syn_with_options),
        cmocka_unit_test(parse_v4_ip_options),
        cmocka_unit_test(parse_v4_udp_and_trailing_bytes),
        cmocka_unit_test(parse_v4_udp_checksum_zero),
        cmocka_unit_test(parse_v6_tcp_and_udp),
        cmocka_unit_test(refuses_empty_truncated_and_version),
        cmocka_unit_test(refuses_bad_ihl_and_total_length),
        cmocka_unit_test(refuses_fragments),
        cmocka_unit_test(refuses_other_protocols_and_v6_extension_headers),
        cmocka_unit_test(refuses_bad_tcp_data_offset),
        cmocka_unit_test(refuses_bad_udp_length),
        cmocka_unit_test(rewrite_v4_tcp),
        cmocka_unit_test(rewrite_v4_with_ip_options),
        cmocka_unit_test(rewrite_v4_udp),
        cmocka_unit_test(rewrite_v4_udp_checksum_zero_stays_zero),
        cmocka_unit_test(rewrite_udp_computed_zero_is_all_ones),
        cmocka_unit_test(rewrite_completes_partial_checksum),
        cmocka_unit_test(rewrite_v6_tcp_and_udp),
        cmocka_unit_test(rewrite_v6_udp_checksum_zero_is_computed),
        cmocka_unit_test(rewrite_udp_shorter_than_ip_payload),
        cmocka_unit_test(rewrite_refuses_family_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
