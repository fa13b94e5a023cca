/* libFuzzer target for the VRRP advertisement codec (proto/vrrp/vrrp_pkt).
 *
 * The input is tried as a VRRP message over IPv4 and over IPv6, as is and with its checksum
 * rewritten in each form (so that mutations reach the field decoding behind the checksum),
 * and as an IPv4 datagram whose payload is then decoded. Every message that decodes is
 * re-encoded from the decoded fields and must decode again to the same fields and addresses;
 * any difference aborts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "fuzz.h"
#include "proto/vrrp/vrrp_pkt.h"

static const struct ip_addr src4 = {IP_V4, {192, 0, 2, 1}};
static const struct ip_addr dst4 = {IP_V4, {224, 0, 0, 18}};
static const struct ip_addr src6 = {IP_V6, {0xfe, 0x80, [15] = 1}};
static const struct ip_addr dst6 = {IP_V6, {0xff, 0x02, [15] = 0x12}};

static bool same_fields(const struct vrrp_pkt *a, const struct vrrp_pkt *b)
{
    size_t alen = a->family == IP_V6 ? 16 : 4;

    return a->version == b->version && a->type == b->type && a->vrid == b->vrid &&
           a->priority == b->priority && a->naddr == b->naddr && a->family == b->family &&
           a->auth_type == b->auth_type && a->adver_int_cs == b->adver_int_cs &&
           a->cksum_form == b->cksum_form &&
           memcmp(a->auth_data, b->auth_data, VRRP_AUTH_LEN) == 0 &&
           (a->naddr == 0 || memcmp(a->addrs, b->addrs, a->naddr * alen) == 0);
}

/* Re-encodes a decoded packet and checks that it decodes identically. */
static void roundtrip(const struct vrrp_pkt *p, const struct ip_addr *src,
                      const struct ip_addr *dst)
{
    static struct ip_addr addrs[VRRP_MAX_ADDRS];
    static uint8_t buf[VRRP_PKT_MAX + VRRP_AUTH_LEN];
    struct vrrp_advert adv = {.version = p->version,
                              .vrid = p->vrid,
                              .priority = p->priority,
                              .family = p->family,
                              .auth_type = p->auth_type,
                              .cksum_form = p->cksum_form,
                              .adver_int_cs = p->adver_int_cs,
                              .naddr = p->naddr,
                              .addrs = addrs};
    struct vrrp_pkt q;
    size_t len;

    memcpy(adv.auth_data, p->auth_data, VRRP_AUTH_LEN);
    for (unsigned i = 0; i < p->naddr; i++)
        addrs[i] = vrrp_pkt_addr(p, i);
    len = vrrp_pkt_encode(&adv, src, dst, buf, sizeof(buf));
    if (len == 0)
        abort(); /* whatever decodes must be encodable */
    if (vrrp_pkt_decode(buf, len, p->family, src, dst, &q) != VRRP_DROP_NONE)
        abort();
    if (!same_fields(p, &q))
        abort();
}

static void try_decode(const uint8_t *msg, size_t len, uint8_t family, const struct ip_addr *src,
                       const struct ip_addr *dst)
{
    struct vrrp_pkt p;

    if (vrrp_pkt_decode(msg, len, family, src, dst, &p) == VRRP_DROP_NONE)
        roundtrip(&p, src, dst);
    (void)vrrp_drop_name(vrrp_pkt_decode(msg, len, family, NULL, NULL, &p));
}

/* Rewrites the checksum of a copy of msg in one form, then decodes it. */
static void try_fixed(const uint8_t *msg, size_t len, uint8_t family, bool pseudo,
                      const struct ip_addr *src, const struct ip_addr *dst)
{
    static uint8_t copy[VRRP_PKT_MAX + VRRP_AUTH_LEN];
    uint32_t sum = 0;
    uint16_t c;

    if (len < VRRP_HDR_LEN || len > sizeof(copy))
        return;
    memcpy(copy, msg, len);
    copy[6] = copy[7] = 0;
    if (pseudo) {
        size_t alen = family == IP_V6 ? 16 : 4;
        sum = (uint16_t)~vrrp_inet_cksum(src->b, alen, 0);
        sum += (uint16_t)~vrrp_inet_cksum(dst->b, alen, 0);
        sum += VRRP_IPPROTO + (uint32_t)len;
    }
    c = vrrp_inet_cksum(copy, len, sum);
    copy[6] = (uint8_t)(c >> 8);
    copy[7] = (uint8_t)c;
    try_decode(copy, len, family, src, dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vrrp_ip4_hdr h;

    try_decode(data, size, IP_V4, &src4, &dst4);
    try_decode(data, size, IP_V6, &src6, &dst6);
    try_fixed(data, size, IP_V4, false, &src4, &dst4);
    try_fixed(data, size, IP_V4, true, &src4, &dst4);
    try_fixed(data, size, IP_V6, true, &src6, &dst6);
    if (vrrp_ip4_parse(data, size, &h) == VRRP_DROP_NONE) {
        if ((size_t)h.payload_off + h.payload_len > size)
            abort(); /* the parsed payload must lie inside the datagram */
        try_decode(data + h.payload_off, h.payload_len, IP_V4, &h.src, &h.dst);
    }
    return 0;
}
