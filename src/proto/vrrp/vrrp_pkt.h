/* VRRP advertisement codec (RFC 3768 v2, RFC 5798/9568 v3). Pure: bytes in, struct out. */
#ifndef NOSPOF_PROTO_VRRP_PKT_H
#define NOSPOF_PROTO_VRRP_PKT_H

#include <stddef.h>
#include "vrrp_pkt-t.h"

/* Decodes the VRRP message in buf[0..len) (the IP payload). family says whether it came over
 * IPv4 or IPv6; src and dst are the IP addresses, used for the pseudo-header checksum. On
 * receive both checksum forms are accepted for v3 IPv4; out->cksum_form says which one
 * matched. Returns VRRP_DROP_NONE or a codec reason. Whenever len >= 2 out->version and
 * out->vrid are filled even on error, so the caller can attribute the drop. */
enum vrrp_drop vrrp_pkt_decode(const uint8_t *buf, size_t len, uint8_t family,
                               const struct ip_addr *src, const struct ip_addr *dst,
                               struct vrrp_pkt *out);

/* Address i (0 <= i < naddr) of a decoded packet. */
struct ip_addr vrrp_pkt_addr(const struct vrrp_pkt *p, unsigned i);

/* Encodes adv into buf (cap bytes) with its checksum computed for the given src and dst.
 * Returns the message length, or 0 if cap is too small or adv is invalid. */
size_t vrrp_pkt_encode(const struct vrrp_advert *adv, const struct ip_addr *src,
                       const struct ip_addr *dst, uint8_t *buf, size_t cap);

/* Parses the IPv4 header of a datagram read from a raw socket. Returns VRRP_DROP_NONE,
 * VRRP_DROP_SHORT or VRRP_DROP_BAD_LENGTH. */
enum vrrp_drop vrrp_ip4_parse(const uint8_t *buf, size_t len, struct vrrp_ip4_hdr *out);

/* The Internet checksum (RFC 1071) of buf, folded and complemented, continuing from sum. */
uint16_t vrrp_inet_cksum(const uint8_t *buf, size_t len, uint32_t sum);

/* Stable lower_snake name of a drop reason, for counters and logs. */
const char *vrrp_drop_name(enum vrrp_drop d);

#endif
