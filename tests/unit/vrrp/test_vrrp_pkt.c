/* Unit tests for the VRRP advertisement codec (proto/vrrp/vrrp_pkt).
 *
 * The golden vectors were computed independently with scapy 2.5 (layers VRRP and VRRPv3,
 * plus scapy's checksum() for the message-only v3 form) and pasted here as bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/addr.h"
#include "proto/vrrp/vrrp_pkt.h"

/* keepalived default v2 advert: VRID 51, prio 100, 1 s, no auth, VIP 192.0.2.100. */
static const uint8_t v2_golden[20] = {
    0x21, 0x33, 0x64, 0x01, 0x00, 0x01, 0xb8, 0x65, 0xc0, 0x00,
    0x02, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* v2 PASS auth "secret", VRID 7, prio 150, 3 s, VIPs 192.0.2.100 and 198.51.100.7. */
static const uint8_t v2_pass_golden[24] = {
    0x21, 0x07, 0x96, 0x02, 0x01, 0x03, 0x1f, 0x07, 0xc0, 0x00, 0x02, 0x64,
    0xc6, 0x33, 0x64, 0x07, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74, 0x00, 0x00,
};

/* v3 IPv4, VRID 51, prio 100, 100 cs, VIP 192.0.2.100; 192.0.2.1 -> 224.0.0.18. */
static const uint8_t v3_v4_pseudo_golden[12] = {
    0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0x05, 0x72, 0xc0, 0x00, 0x02, 0x64,
};
static const uint8_t v3_v4_plain_golden[12] = {
    0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0xa8, 0x02, 0xc0, 0x00, 0x02, 0x64,
};

/* v3 IPv6, VRID 51, prio 200, 10 cs, VIPs fe80::100, 2001:db8::100; fe80::1 -> ff02::12. */
static const uint8_t v3_v6_golden[40] = {
    0x31, 0x33, 0xc8, 0x02, 0x00, 0x0a, 0xda, 0x56, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
};

/* The whole IPv4 datagram of v2_golden: TOS 0xc0, TTL 255, 192.0.2.1 -> 224.0.0.18. */
static const uint8_t ip4_golden[40] = {
    0x45, 0xc0, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0xff, 0x70, 0x18, 0x92, 0xc0, 0x00,
    0x02, 0x01, 0xe0, 0x00, 0x00, 0x12, 0x21, 0x33, 0x64, 0x01, 0x00, 0x01, 0xb8, 0x65,
    0xc0, 0x00, 0x02, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* The same with a Router Alert option (IHL 6). */
static const uint8_t ip4_opt_golden[44] = {
    0x46, 0xc0, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0xff, 0x70, 0x83, 0x89, 0xc0, 0x00, 0x02,
    0x01, 0xe0, 0x00, 0x00, 0x12, 0x94, 0x04, 0x00, 0x00, 0x21, 0x33, 0x64, 0x01, 0x00, 0x01,
    0xb8, 0x65, 0xc0, 0x00, 0x02, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static struct ip_addr A(const char *s) {
    struct ip_addr a;

    assert_true(ip_addr_parse(s, &a));
    return a;
}

static void
encode_v2_matches_keepalived_golden(void **state)
{
    struct ip_addr vip = A("192.0.2.100"), src = A("192.0.2.1"), dst = A("224.0.0.18");
    struct vrrp_advert adv = {.version = 2,
                              .vrid = 51,
                              .priority = 100,
                              .family = IP_V4,
                              .adver_int_cs = 100,
                              .naddr = 1,
                              .addrs = &vip};
    uint8_t buf[64];

    assert_int_equal(vrrp_pkt_encode(&adv, &src, &dst, buf, sizeof(buf)), 20);
    assert_memory_equal(buf, v2_golden, sizeof(v2_golden));
    /* The v2 checksum has no pseudo-header: the addresses do not matter. */
    assert_int_equal(vrrp_pkt_encode(&adv, NULL, NULL, buf, sizeof(buf)), 20);
    assert_memory_equal(buf, v2_golden, sizeof(v2_golden));
}

static void decode_v2_golden(void **state)
{
    struct ip_addr src = A("192.0.2.1"), dst = A("224.0.0.18"), a;
    struct vrrp_pkt p;
    static const uint8_t zero[8];

    assert_int_equal(vrrp_pkt_decode(v2_golden, 20, IP_V4, &src, &dst, &p), VRRP_DROP_NONE);
    assert_int_equal(p.version, 2);
    assert_int_equal(p.type, 1);
    assert_int_equal(p.vrid, 51);
    assert_int_equal(p.priority, 100);
    assert_int_equal(p.naddr, 1);
    assert_int_equal(p.family, IP_V4);
    assert_int_equal(p.auth_type, VRRP_AUTH_NONE);
    assert_int_equal(p.adver_int_cs, 100);
    assert_int_equal(p.checksum, 0xb865);
    assert_int_equal(p.cksum_form, VRRP_CKSUM_PLAIN);
    assert_memory_equal(p.auth_data, zero, 8);
    assert_ptr_equal(p.addrs, v2_golden + 8);
    a = vrrp_pkt_addr(&p, 0);
    assert_int_equal(a.family, IP_V4);
    assert_memory_equal(a.b, "\xc0\x00\x02\x64", 4);
    a = vrrp_pkt_addr(&p, 1);
    assert_int_equal(a.family, IP_NONE);
}

static void v2_pass_auth_roundtrip(void **state)
{
    struct ip_addr vips[2] = {A("192.0.2.100"), A("198.51.100.7")};
    struct vrrp_advert adv = {.version = 2,
                              .vrid = 7,
                              .priority = 150,
                              .family = IP_V4,
                              .auth_type = VRRP_AUTH_PASS,
                              .adver_int_cs = 300,
                              .naddr = 2,
                              .addrs = vips,
                              .auth_data = "secret"};
    uint8_t buf[64];
    struct vrrp_pkt p;
    struct ip_addr a;

    assert_int_equal(vrrp_pkt_encode(&adv, NULL, NULL, buf, sizeof(buf)), 24);
    assert_memory_equal(buf, v2_pass_golden, 24);
    assert_int_equal(vrrp_pkt_decode(buf, 24, IP_V4, NULL, NULL, &p), VRRP_DROP_NONE);
    assert_int_equal(p.auth_type, VRRP_AUTH_PASS);
    assert_int_equal(p.adver_int_cs, 300);
    assert_memory_equal(p.auth_data, "secret\0\0", 8);
    a = vrrp_pkt_addr(&p, 1);
    assert_true(ip_addr_eq(&a, &vips[1]));
}

static void v3_v4_both_checksum_forms(void **state)
{
    struct ip_addr vip = A("192.0.2.100"), src = A("192.0.2.1"), dst = A("224.0.0.18");
    struct vrrp_advert adv = {.version = 3,
                              .vrid = 51,
                              .priority = 100,
                              .family = IP_V4,
                              .adver_int_cs = 100,
                              .naddr = 1,
                              .addrs = &vip,
                              .cksum_form = VRRP_CKSUM_PSEUDO};
    uint8_t buf[64];
    struct vrrp_pkt p;

    assert_int_equal(vrrp_pkt_encode(&adv, &src, &dst, buf, sizeof(buf)), 12);
    assert_memory_equal(buf, v3_v4_pseudo_golden, 12);
    adv.cksum_form = VRRP_CKSUM_PLAIN;
    assert_int_equal(vrrp_pkt_encode(&adv, &src, &dst, buf, sizeof(buf)), 12);
    assert_memory_equal(buf, v3_v4_plain_golden, 12);

    assert_int_equal(vrrp_pkt_decode(v3_v4_pseudo_golden, 12, IP_V4, &src, &dst, &p),
                     VRRP_DROP_NONE);
    assert_int_equal(p.cksum_form, VRRP_CKSUM_PSEUDO);
    assert_int_equal(p.version, 3);
    assert_int_equal(p.adver_int_cs, 100);
    assert_int_equal(p.auth_type, 0);
    assert_int_equal(vrrp_pkt_decode(v3_v4_plain_golden, 12, IP_V4, &src, &dst, &p),
                     VRRP_DROP_NONE);
    assert_int_equal(p.cksum_form, VRRP_CKSUM_PLAIN);
    assert_int_equal(p.checksum, 0xa802);
    /* A different destination breaks the pseudo form; the plain one still verifies. */
    dst = A("192.0.2.2");
    assert_int_equal(vrrp_pkt_decode(v3_v4_pseudo_golden, 12, IP_V4, &src, &dst, &p),
                     VRRP_DROP_BAD_CHECKSUM);
    assert_int_equal(vrrp_pkt_decode(v3_v4_plain_golden, 12, IP_V4, &src, &dst, &p),
                     VRRP_DROP_NONE);
}

static void v3_v6_golden_roundtrip(void **state)
{
    struct ip_addr vips[2] = {A("fe80::100"), A("2001:db8::100")};
    struct ip_addr src = A("fe80::1"), dst = A("ff02::12"), a;
    struct vrrp_advert adv = {.version = 3,
                              .vrid = 51,
                              .priority = 200,
                              .family = IP_V6,
                              .adver_int_cs = 10,
                              .naddr = 2,
                              .addrs = vips,
                              .cksum_form = VRRP_CKSUM_PLAIN /* ignored for IPv6 */};
    uint8_t buf[64];
    struct vrrp_pkt p;

    assert_int_equal(vrrp_pkt_encode(&adv, &src, &dst, buf, sizeof(buf)), 40);
    assert_memory_equal(buf, v3_v6_golden, 40);
    assert_int_equal(vrrp_pkt_decode(v3_v6_golden, 40, IP_V6, &src, &dst, &p), VRRP_DROP_NONE);
    assert_int_equal(p.family, IP_V6);
    assert_int_equal(p.priority, 200);
    assert_int_equal(p.adver_int_cs, 10);
    assert_int_equal(p.cksum_form, VRRP_CKSUM_PSEUDO);
    a = vrrp_pkt_addr(&p, 1);
    assert_true(ip_addr_eq(&a, &vips[1]));
    /* IPv6 has no message-only form: another source fails. */
    src = A("fe80::2");
    assert_int_equal(vrrp_pkt_decode(v3_v6_golden, 40, IP_V6, &src, &dst, &p),
                     VRRP_DROP_BAD_CHECKSUM);
    /* An IPv6 advert needs the addresses for its checksum. */
    assert_int_equal(vrrp_pkt_encode(&adv, NULL, &dst, buf, sizeof(buf)), 0);
}

static void v3_roundtrip_many_addresses(void **state)
{
    struct ip_addr vips[VRRP_MAX_ADDRS], src = A("2001:db8::1"), dst = A("2001:db8::2");
    struct vrrp_advert adv = {.version = 3,
                              .vrid = 255,
                              .priority = 255,
                              .family = IP_V6,
                              .adver_int_cs = 4095,
                              .naddr = VRRP_MAX_ADDRS,
                              .addrs = vips};
    static uint8_t buf[VRRP_PKT_MAX];
    struct vrrp_pkt p;
    struct ip_addr a;

    for (unsigned i = 0; i < VRRP_MAX_ADDRS; i++) {
        vips[i] = A("2001:db8::");
        vips[i].b[15] = (uint8_t)i;
        vips[i].b[14] = 0x10;
    }
    assert_int_equal(vrrp_pkt_encode(&adv, &src, &dst, buf, sizeof(buf) - 1), 0);
    assert_int_equal(vrrp_pkt_encode(&adv, &src, &dst, buf, sizeof(buf)), VRRP_PKT_MAX);
    assert_int_equal(vrrp_pkt_decode(buf, VRRP_PKT_MAX, IP_V6, &src, &dst, &p), VRRP_DROP_NONE);
    assert_int_equal(p.naddr, 255);
    assert_int_equal(p.adver_int_cs, 4095);
    a = vrrp_pkt_addr(&p, 254);
    assert_true(ip_addr_eq(&a, &vips[254]));
}

static void v3_reserved_bits_ignored_on_receive(void **state)
{
    uint8_t buf[12];
    struct vrrp_pkt p;

    memcpy(buf, v3_v4_plain_golden, 12);
    buf[4] |= 0xf0;
    buf[6] = 0;
    buf[7] = 0;
    uint16_t c = vrrp_inet_cksum(buf, 12, 0);
    buf[6] = (uint8_t)(c >> 8);
    buf[7] = (uint8_t)c;
    assert_int_equal(vrrp_pkt_decode(buf, 12, IP_V4, NULL, NULL, &p), VRRP_DROP_NONE);
    assert_int_equal(p.adver_int_cs, 100);
    assert_int_equal(p.cksum_form, VRRP_CKSUM_PLAIN);
}

static void naddr_zero_decodes(void **state)
{
    struct ip_addr src = A("192.0.2.1"), dst = A("224.0.0.18");
    struct vrrp_advert adv = {
        .version = 3, .vrid = 1, .priority = 0, .family = IP_V4, .adver_int_cs = 100};
    uint8_t buf[16];
    struct vrrp_pkt p;

    assert_int_equal(vrrp_pkt_encode(&adv, &src, &dst, buf, sizeof(buf)), 8);
    assert_int_equal(vrrp_pkt_decode(buf, 8, IP_V4, &src, &dst, &p), VRRP_DROP_NONE);
    assert_int_equal(p.naddr, 0);
    assert_int_equal(p.priority, 0);
    assert_int_equal(vrrp_pkt_addr(&p, 0).family, IP_NONE);
}

static void encode_refuses_invalid(void **state)
{
    struct ip_addr vip = A("192.0.2.100"), v6 = A("2001:db8::1"), src = A("192.0.2.1");
    struct vrrp_advert adv = {.version = 2,
                              .vrid = 1,
                              .priority = 100,
                              .family = IP_V4,
                              .adver_int_cs = 150,
                              .naddr = 1,
                              .addrs = &vip};
    uint8_t buf[64];

    assert_int_equal(vrrp_pkt_encode(&adv, &src, &src, buf, sizeof(buf)), 0); /* 1.5 s */
    adv.adver_int_cs = 25600;
    assert_int_equal(vrrp_pkt_encode(&adv, &src, &src, buf, sizeof(buf)), 0); /* 256 s */
    adv.adver_int_cs = 25500;
    assert_int_equal(vrrp_pkt_encode(&adv, &src, &src, buf, sizeof(buf)), 20);
    assert_int_equal(buf[5], 255);
    assert_int_equal(vrrp_pkt_encode(&adv, &src, &src, buf, 19), 0); /* cap */
    adv.family = IP_V6;                                              /* v2 over IPv6 */
    adv.addrs = &v6;
    assert_int_equal(vrrp_pkt_encode(&adv, &v6, &v6, buf, sizeof(buf)), 0);
    adv.version = 3;
    adv.adver_int_cs = 4096;
    assert_int_equal(vrrp_pkt_encode(&adv, &v6, &v6, buf, sizeof(buf)), 0);
    adv.adver_int_cs = 100;
    adv.family = IP_V4; /* address of the wrong family */
    assert_int_equal(vrrp_pkt_encode(&adv, &src, &src, buf, sizeof(buf)), 0);
    adv.addrs = &vip;
    adv.cksum_form = 7;
    assert_int_equal(vrrp_pkt_encode(&adv, &src, &src, buf, sizeof(buf)), 0);
    adv.cksum_form = VRRP_CKSUM_PSEUDO;
    assert_int_equal(vrrp_pkt_encode(&adv, NULL, NULL, buf, sizeof(buf)), 0);
    adv.version = 4;
    assert_int_equal(vrrp_pkt_encode(&adv, &src, &src, buf, sizeof(buf)), 0);
    adv.version = 3;
    adv.family = IP_NONE;
    assert_int_equal(vrrp_pkt_encode(&adv, &src, &src, buf, sizeof(buf)), 0);
}

/* Recomputes the plain checksum of a mutated copy so that only the intended field is bad. */
static void fix_plain_cksum(uint8_t *buf, size_t len)
{
    buf[6] = 0;
    buf[7] = 0;
    uint16_t c = vrrp_inet_cksum(buf, len, 0);
    buf[6] = (uint8_t)(c >> 8);
    buf[7] = (uint8_t)c;
}

static void decode_every_codec_drop(void **state)
{
    struct ip_addr s6 = A("fe80::1"), d6 = A("ff02::12");
    static uint8_t big[VRRP_PKT_MAX + VRRP_AUTH_LEN + 1];
    uint8_t buf[64];
    struct vrrp_pkt p;

    /* SHORT: below a header; version and VRID are still reported from 2 bytes on. */
    assert_int_equal(vrrp_pkt_decode(v2_golden, 1, IP_V4, NULL, NULL, &p), VRRP_DROP_SHORT);
    assert_int_equal(p.version, 0);
    assert_int_equal(vrrp_pkt_decode(v2_golden, 7, IP_V4, NULL, NULL, &p), VRRP_DROP_SHORT);
    assert_int_equal(p.version, 2);
    assert_int_equal(p.vrid, 51);
    /* SHORT: fewer bytes than naddr says (auth trailer missing). */
    assert_int_equal(vrrp_pkt_decode(v2_golden, 19, IP_V4, NULL, NULL, &p), VRRP_DROP_SHORT);
    /* BAD_LENGTH: more bytes than naddr says. */
    memcpy(buf, v2_golden, 20);
    buf[20] = 0;
    assert_int_equal(vrrp_pkt_decode(buf, 21, IP_V4, NULL, NULL, &p), VRRP_DROP_BAD_LENGTH);
    /* OVERSIZE */
    memcpy(big, v3_v6_golden, 8);
    assert_int_equal(vrrp_pkt_decode(big, sizeof(big), IP_V6, &s6, &d6, &p), VRRP_DROP_OVERSIZE);
    assert_int_equal(p.vrid, 51);
    /* BAD_VERSION: 4, 1, and v2 over IPv6. */
    memcpy(buf, v2_golden, 20);
    buf[0] = 0x41;
    fix_plain_cksum(buf, 20);
    assert_int_equal(vrrp_pkt_decode(buf, 20, IP_V4, NULL, NULL, &p), VRRP_DROP_BAD_VERSION);
    assert_int_equal(p.version, 4);
    buf[0] = 0x11;
    assert_int_equal(vrrp_pkt_decode(buf, 20, IP_V4, NULL, NULL, &p), VRRP_DROP_BAD_VERSION);
    assert_int_equal(vrrp_pkt_decode(v2_golden, 20, IP_V6, &s6, &d6, &p), VRRP_DROP_BAD_VERSION);
    assert_int_equal(vrrp_pkt_decode(v2_golden, 20, IP_NONE, NULL, NULL, &p),
                     VRRP_DROP_BAD_VERSION);
    /* BAD_TYPE */
    memcpy(buf, v2_golden, 20);
    buf[0] = 0x22;
    fix_plain_cksum(buf, 20);
    assert_int_equal(vrrp_pkt_decode(buf, 20, IP_V4, NULL, NULL, &p), VRRP_DROP_BAD_TYPE);
    assert_int_equal(p.type, 2);
    /* BAD_CHECKSUM: one flipped bit in the auth trailer (covered by the v2 checksum). */
    memcpy(buf, v2_golden, 20);
    buf[19] ^= 1;
    assert_int_equal(vrrp_pkt_decode(buf, 20, IP_V4, NULL, NULL, &p), VRRP_DROP_BAD_CHECKSUM);
    assert_int_equal(p.vrid, 51);
    /* v3 IPv4 without addresses: only the plain form can verify. */
    assert_int_equal(vrrp_pkt_decode(v3_v4_pseudo_golden, 12, IP_V4, NULL, NULL, &p),
                     VRRP_DROP_BAD_CHECKSUM);
}

static void ip4_parse_golden(void **state)
{
    struct vrrp_ip4_hdr h;
    struct ip_addr src = A("192.0.2.1"), dst = A("224.0.0.18");
    struct vrrp_pkt p;
    uint8_t padded[60] = {0};

    assert_int_equal(vrrp_ip4_parse(ip4_golden, 40, &h), VRRP_DROP_NONE);
    assert_true(ip_addr_eq(&h.src, &src));
    assert_true(ip_addr_eq(&h.dst, &dst));
    assert_int_equal(h.ttl, 255);
    assert_int_equal(h.proto, VRRP_IPPROTO);
    assert_int_equal(h.payload_off, 20);
    assert_int_equal(h.payload_len, 20);
    assert_int_equal(
        vrrp_pkt_decode(ip4_golden + h.payload_off, h.payload_len, IP_V4, &h.src, &h.dst, &p),
        VRRP_DROP_NONE);

    /* Options are skipped. */
    assert_int_equal(vrrp_ip4_parse(ip4_opt_golden, 44, &h), VRRP_DROP_NONE);
    assert_int_equal(h.payload_off, 24);
    assert_int_equal(h.payload_len, 20);
    assert_memory_equal(ip4_opt_golden + 24, v2_golden, 20);

    /* Ethernet padding past the total length is ignored. */
    memcpy(padded, ip4_golden, 40);
    assert_int_equal(vrrp_ip4_parse(padded, sizeof(padded), &h), VRRP_DROP_NONE);
    assert_int_equal(h.payload_len, 20);
}

static void ip4_parse_drops(void **state)
{
    struct vrrp_ip4_hdr h;
    uint8_t buf[40];

    assert_int_equal(vrrp_ip4_parse(ip4_golden, 19, &h), VRRP_DROP_SHORT);
    assert_int_equal(vrrp_ip4_parse(ip4_opt_golden, 22, &h), VRRP_DROP_SHORT);  /* IHL 24 */
    assert_int_equal(vrrp_ip4_parse(ip4_golden, 39, &h), VRRP_DROP_BAD_LENGTH); /* tot 40 */
    memcpy(buf, ip4_golden, 40);
    buf[0] = 0x44; /* IHL 4 */
    assert_int_equal(vrrp_ip4_parse(buf, 40, &h), VRRP_DROP_BAD_LENGTH);
    buf[0] = 0x65; /* version 6 */
    assert_int_equal(vrrp_ip4_parse(buf, 40, &h), VRRP_DROP_BAD_LENGTH);
    buf[0] = 0x45;
    buf[3] = 19; /* total length below the header */
    assert_int_equal(vrrp_ip4_parse(buf, 40, &h), VRRP_DROP_BAD_LENGTH);
    buf[3] = 40;
    buf[6] = 0x20; /* more fragments */
    assert_int_equal(vrrp_ip4_parse(buf, 40, &h), VRRP_DROP_BAD_LENGTH);
    buf[6] = 0x40; /* don't fragment is fine */
    assert_int_equal(vrrp_ip4_parse(buf, 40, &h), VRRP_DROP_NONE);
    buf[7] = 0x01; /* fragment offset */
    assert_int_equal(vrrp_ip4_parse(buf, 40, &h), VRRP_DROP_BAD_LENGTH);
}

static void inet_cksum_rfc1071(void **state)
{
    /* RFC 1071 section 3 example: sum 0xddf2, checksum 0x220d. */
    static const uint8_t ex[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

    assert_int_equal(vrrp_inet_cksum(ex, 8, 0), 0x220d);
    assert_int_equal(vrrp_inet_cksum(ex, 0, 0), 0xffff);
    assert_int_equal(vrrp_inet_cksum(ex, 1, 0), 0xffff); /* odd tail padded: 0x0000 */
    assert_int_equal(vrrp_inet_cksum(ex + 2, 1, 0), 0x0dff);
    /* The IPv4 header of ip4_golden verifies to zero. */
    assert_int_equal(vrrp_inet_cksum(ip4_golden, 20, 0), 0);
}

static void drop_names(void **state)
{
    assert_string_equal(vrrp_drop_name(VRRP_DROP_NONE), "none");
    assert_string_equal(vrrp_drop_name(VRRP_DROP_SHORT), "short");
    assert_string_equal(vrrp_drop_name(VRRP_DROP_OVERSIZE), "oversize");
    assert_string_equal(vrrp_drop_name(VRRP_DROP_BAD_LENGTH), "bad_length");
    assert_string_equal(vrrp_drop_name(VRRP_DROP_BAD_VERSION), "bad_version");
    assert_string_equal(vrrp_drop_name(VRRP_DROP_BAD_TYPE), "bad_type");
    assert_string_equal(vrrp_drop_name(VRRP_DROP_BAD_CHECKSUM), "bad_checksum");
    assert_string_equal(vrrp_drop_name(VRRP_DROP_BAD_TTL), "bad_ttl");
    assert_string_equal(vrrp_drop_name(VRRP_DROP_VERSION_MISMATCH), "version_mismatch");
    assert_string_equal(vrrp_drop_name(VRRP_DROP_AUTH_MISMATCH), "auth_mismatch");
    assert_string_equal(vrrp_drop_name(VRRP_DROP_INTERVAL_MISMATCH), "interval_mismatch");
    assert_string_equal(vrrp_drop_name(VRRP_DROP_BAD_SOURCE), "bad_source");
    assert_string_equal(vrrp_drop_name(VRRP_DROP_BAD_DEST), "bad_dest");
    assert_string_equal(vrrp_drop_name(VRRP_DROP_UNKNOWN_VRID), "unknown_vrid");
    assert_string_equal(vrrp_drop_name(VRRP_DROP_OWN), "own");
    assert_string_equal(vrrp_drop_name(VRRP_DROP__COUNT), "unknown");
    for (int d = 0; d < VRRP_DROP__COUNT; d++)
        assert_string_not_equal(vrrp_drop_name((enum vrrp_drop)d), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_v2_matches_keepalived_golden),
        cmocka_unit_test(decode_v2_golden),
        cmocka_unit_test(v2_pass_auth_roundtrip),
        cmocka_unit_test(v3_v4_both_checksum_forms),
        cmocka_unit_test(v3_v6_golden_roundtrip),
        cmocka_unit_test(v3_roundtrip_many_addresses),
        cmocka_unit_test(v3_reserved_bits_ignored_on_receive),
        cmocka_unit_test(naddr_zero_decodes),
        cmocka_unit_test(encode_refuses_invalid),
        cmocka_unit_test(decode_every_codec_drop),
        cmocka_unit_test(ip4_parse_golden),
        cmocka_unit_test(ip4_parse_drops),
        cmocka_unit_test(inet_cksum_rfc1071),
        cmocka_unit_test(drop_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
