/* VRRP advertisement codec: RFC 3768 (v2) and RFC 5798/9568 (v3) messages <-> struct vrrp_pkt.
 *
 * Wire layout (research/vrrp.md 4.1): byte 0 version and type, then VRID, priority, address
 * count; bytes 4-5 are the v2 auth type and interval in seconds, or the v3 reserved nibble and
 * the 12-bit interval in centiseconds; bytes 6-7 the checksum; then the addresses, and for v2
 * an 8-byte authentication data trailer. The checksum rules (research/vrrp.md 4.2) are the
 * interop trap: v2 has no pseudo-header, v3 over IPv6 always has one, v3 over IPv4 has one in
 * keepalived's and FRR's default and none in RFC 9568, so decode accepts both and reports
 * which one verified. Pure: no allocation, no I/O; decode points into the caller's buffer. */
#include "vrrp_pkt.h"

#include <string.h>

#include "../../base/addr.h"
#include "../../base/bytes.h"

#define IP4_HDR_MIN     20
#define IP4_FLAG_MF     0x2000
#define IP4_FRAG_OFFSET 0x1fff
#define V3_ADVER_MASK   0x0fff

/* Address length of a family, 0 for anything but IPv4 and IPv6. */
static size_t addr_len(uint8_t family)
{
    return family == IP_V4 ? 4 : family == IP_V6 ? 16 : 0;
}

/* Expected message length for a version, address count and address length. */
static size_t msg_len(uint8_t version, unsigned naddr, size_t alen)
{
    return VRRP_HDR_LEN + naddr * alen + (version == 2 ? VRRP_AUTH_LEN : 0);
}

/* Adds len bytes as big-endian 16-bit words to sum (odd tail padded with zero). */
static uint32_t sum_words(const uint8_t *buf, size_t len, uint32_t sum)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        sum += get_be16(buf + i);
        sum = (sum & 0xffff) + (sum >> 16);
    }
    if (i < len)
        sum += (uint32_t)buf[i] << 8;
    return (sum & 0xffff) + (sum >> 16);
}

uint16_t vrrp_inet_cksum(const uint8_t *buf, size_t len, uint32_t sum)
{
    sum = sum_words(buf, len, sum);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Partial sum of the pseudo-header for a message of len bytes: IPv4 (src, dst, zero, protocol,
 * 16-bit length; RFC 768 style) or IPv6 (RFC 8200 8.1: src, dst, 32-bit length, three zero
 * bytes, next header). */
static uint32_t pseudo_sum(uint8_t family, const struct ip_addr *src, const struct ip_addr *dst,
                           size_t len)
{
    size_t alen = addr_len(family);
    uint32_t sum = sum_words(src->b, alen, 0);

    sum = sum_words(dst->b, alen, sum);
    sum += VRRP_IPPROTO;
    sum += (uint32_t)(len & 0xffff);
    sum += (uint32_t)(len >> 16);
    return (sum & 0xffff) + (sum >> 16);
}

/* True when the message checksum verifies in the given form. */
static bool cksum_ok(const uint8_t *buf, size_t len, uint8_t family, enum vrrp_cksum_form form,
                     const struct ip_addr *src, const struct ip_addr *dst)
{
    uint32_t sum = 0;

    if (form == VRRP_CKSUM_PSEUDO) {
        if (!src || !dst)
            return false;
        sum = pseudo_sum(family, src, dst, len);
    }
    return vrrp_inet_cksum(buf, len, sum) == 0;
}

/* Verifies the checksum by the rules of research/vrrp.md 4.2 and records the form. */
static enum vrrp_drop check_cksum(const uint8_t *buf, size_t len, uint8_t family,
                                  const struct ip_addr *src, const struct ip_addr *dst,
                                  struct vrrp_pkt *out)
{
    /* RFC 3768 5.3.8: v2 covers the message only. */
    if (out->version == 2) {
        out->cksum_form = VRRP_CKSUM_PLAIN;
        return cksum_ok(buf, len, family, VRRP_CKSUM_PLAIN, src, dst) ? VRRP_DROP_NONE
                                                                      : VRRP_DROP_BAD_CHECKSUM;
    }
    /* RFC 5798 5.2.8: IPv6 always includes the RFC 8200 pseudo-header. */
    out->cksum_form = VRRP_CKSUM_PSEUDO;
    if (cksum_ok(buf, len, family, VRRP_CKSUM_PSEUDO, src, dst))
        return VRRP_DROP_NONE;
    /* RFC 9568 5.2.8: over IPv4 the message alone (Cisco, Juniper, v3_checksum_as_v2). */
    if (family == IP_V4 && cksum_ok(buf, len, family, VRRP_CKSUM_PLAIN, src, dst)) {
        out->cksum_form = VRRP_CKSUM_PLAIN;
        return VRRP_DROP_NONE;
    }
    return VRRP_DROP_BAD_CHECKSUM;
}

/* Header checks that need no address count: size bounds, version, type. */
static enum vrrp_drop check_header(size_t len, uint8_t family, const struct vrrp_pkt *p)
{
    if (len < VRRP_HDR_LEN)
        return VRRP_DROP_SHORT;
    if (len > VRRP_PKT_MAX + VRRP_AUTH_LEN)
        return VRRP_DROP_OVERSIZE;
    /* RFC 5798 7.1: the version must be one we speak; v2 (RFC 3768) is IPv4 only. */
    if (p->version != 2 && p->version != 3)
        return VRRP_DROP_BAD_VERSION;
    if (addr_len(family) == 0 || (p->version == 2 && family != IP_V4))
        return VRRP_DROP_BAD_VERSION;
    /* RFC 5798 5.2.2: ADVERTISEMENT is the only type. */
    if (p->type != VRRP_TYPE_ADVERT)
        return VRRP_DROP_BAD_TYPE;
    return VRRP_DROP_NONE;
}

/* Fills the version-dependent fields of bytes 4-5 and the v2 trailer. */
static void decode_fields(const uint8_t *buf, size_t len, struct vrrp_pkt *out)
{
    if (out->version == 2) {
        out->auth_type = buf[4];
        out->adver_int_cs = (uint16_t)(buf[5] * 100u);
        memcpy(out->auth_data, buf + len - VRRP_AUTH_LEN, VRRP_AUTH_LEN);
    } else {
        /* RFC 5798 5.2.5: the reserved nibble is ignored on reception. */
        out->adver_int_cs = get_be16(buf + 4) & V3_ADVER_MASK;
    }
}

enum vrrp_drop vrrp_pkt_decode(const uint8_t *buf, size_t len, uint8_t family,
                               const struct ip_addr *src, const struct ip_addr *dst,
                               struct vrrp_pkt *out)
{
    enum vrrp_drop d;
    size_t need;

    memset(out, 0, sizeof(*out));
    if (len >= 2) {
        out->version = buf[0] >> 4;
        out->type = buf[0] & 0x0f;
        out->vrid = buf[1];
    }
    d = check_header(len, family, out);
    if (d != VRRP_DROP_NONE)
        return d;
    out->priority = buf[2];
    out->naddr = buf[3];
    out->family = family;
    out->checksum = get_be16(buf + 6);
    /* RFC 5798 7.1 / RFC 3768 7.1: the length must match the address count. */
    need = msg_len(out->version, out->naddr, addr_len(family));
    if (len < need)
        return VRRP_DROP_SHORT;
    if (len > need)
        return VRRP_DROP_BAD_LENGTH;
    d = check_cksum(buf, len, family, src, dst, out);
    if (d != VRRP_DROP_NONE)
        return d;
    decode_fields(buf, len, out);
    out->addrs = buf + VRRP_HDR_LEN;
    return VRRP_DROP_NONE;
}

struct ip_addr vrrp_pkt_addr(const struct vrrp_pkt *p, unsigned i)
{
    struct ip_addr a = {.family = IP_NONE};
    size_t alen = addr_len(p->family);

    if (i >= p->naddr || alen == 0 || !p->addrs)
        return a;
    a.family = p->family;
    memcpy(a.b, p->addrs + i * alen, alen);
    return a;
}

/* True when adv can be put on the wire as it stands. */
static bool advert_valid(const struct vrrp_advert *adv, const struct ip_addr *src,
                         const struct ip_addr *dst)
{
    bool pseudo;

    if (addr_len(adv->family) == 0 || (adv->naddr > 0 && !adv->addrs))
        return false;
    if (adv->version == 2) {
        /* RFC 3768 5.3.7: the interval is a whole number of seconds in one byte. */
        return adv->family == IP_V4 && adv->adver_int_cs % 100 == 0 &&
               adv->adver_int_cs / 100 <= 255;
    }
    if (adv->version != 3 || adv->adver_int_cs > V3_ADVER_MASK)
        return false;
    if (adv->family == IP_V4 && adv->cksum_form != VRRP_CKSUM_PSEUDO &&
        adv->cksum_form != VRRP_CKSUM_PLAIN)
        return false;
    pseudo = adv->family == IP_V6 || adv->cksum_form == VRRP_CKSUM_PSEUDO;
    return !pseudo || (src && dst);
}

/* Writes the addresses; false if one is not of the advert's family. */
static bool put_addrs(const struct vrrp_advert *adv, uint8_t *p)
{
    size_t alen = addr_len(adv->family);

    for (unsigned i = 0; i < adv->naddr; i++) {
        if (adv->addrs[i].family != adv->family)
            return false;
        memcpy(p + i * alen, adv->addrs[i].b, alen);
    }
    return true;
}

size_t vrrp_pkt_encode(const struct vrrp_advert *adv, const struct ip_addr *src,
                       const struct ip_addr *dst, uint8_t *buf, size_t cap)
{
    size_t len;
    uint32_t sum = 0;

    if (!advert_valid(adv, src, dst))
        return 0;
    len = msg_len(adv->version, adv->naddr, addr_len(adv->family));
    if (cap < len)
        return 0;
    if (!put_addrs(adv, buf + VRRP_HDR_LEN))
        return 0;
    buf[0] = (uint8_t)(adv->version << 4 | VRRP_TYPE_ADVERT);
    buf[1] = adv->vrid;
    buf[2] = adv->priority;
    buf[3] = adv->naddr;
    if (adv->version == 2) {
        buf[4] = adv->auth_type;
        buf[5] = (uint8_t)(adv->adver_int_cs / 100);
        memcpy(buf + len - VRRP_AUTH_LEN, adv->auth_data, VRRP_AUTH_LEN);
    } else {
        put_be16(buf + 4, adv->adver_int_cs); /* RFC 5798 5.2.5: reserved bits zero */
    }
    put_be16(buf + 6, 0);
    if (adv->version == 3 && (adv->family == IP_V6 || adv->cksum_form == VRRP_CKSUM_PSEUDO))
        sum = pseudo_sum(adv->family, src, dst, len);
    put_be16(buf + 6, vrrp_inet_cksum(buf, len, sum));
    return len;
}

enum vrrp_drop vrrp_ip4_parse(const uint8_t *buf, size_t len, struct vrrp_ip4_hdr *out)
{
    size_t ihl, tot;

    memset(out, 0, sizeof(*out));
    if (len < IP4_HDR_MIN)
        return VRRP_DROP_SHORT;
    ihl = (size_t)(buf[0] & 0x0f) * 4;
    tot = get_be16(buf + 2);
    /* RFC 791 3.1: version 4, IHL of at least five words, total length covering the header.
     * Bytes past the total length are link-layer padding and are ignored. */
    if (buf[0] >> 4 != 4 || ihl < IP4_HDR_MIN)
        return VRRP_DROP_BAD_LENGTH;
    if (ihl > len)
        return VRRP_DROP_SHORT;
    if (tot < ihl || tot > len)
        return VRRP_DROP_BAD_LENGTH;
    /* A fragment never holds a whole advert (VRRP messages are never fragmented). */
    if (get_be16(buf + 6) & (IP4_FLAG_MF | IP4_FRAG_OFFSET))
        return VRRP_DROP_BAD_LENGTH;
    out->src = ip_addr_from_v4(buf + 12);
    out->dst = ip_addr_from_v4(buf + 16);
    out->ttl = buf[8];
    out->proto = buf[9];
    out->payload_off = (uint16_t)ihl;
    out->payload_len = (uint16_t)(tot - ihl);
    return VRRP_DROP_NONE;
}

const char *vrrp_drop_name(enum vrrp_drop d)
{
    static const char *const names[VRRP_DROP__COUNT] = {
        [VRRP_DROP_NONE] = "none",
        [VRRP_DROP_SHORT] = "short",
        [VRRP_DROP_OVERSIZE] = "oversize",
        [VRRP_DROP_BAD_LENGTH] = "bad_length",
        [VRRP_DROP_BAD_VERSION] = "bad_version",
        [VRRP_DROP_BAD_TYPE] = "bad_type",
        [VRRP_DROP_BAD_CHECKSUM] = "bad_checksum",
        [VRRP_DROP_BAD_TTL] = "bad_ttl",
        [VRRP_DROP_VERSION_MISMATCH] = "version_mismatch",
        [VRRP_DROP_AUTH_MISMATCH] = "auth_mismatch",
        [VRRP_DROP_INTERVAL_MISMATCH] = "interval_mismatch",
        [VRRP_DROP_BAD_SOURCE] = "bad_source",
        [VRRP_DROP_BAD_DEST] = "bad_dest",
        [VRRP_DROP_UNKNOWN_VRID] = "unknown_vrid",
        [VRRP_DROP_OWN] = "own",
    };

    if ((unsigned)d >= VRRP_DROP__COUNT || !names[d])
        return "unknown";
    return names[d];
}
