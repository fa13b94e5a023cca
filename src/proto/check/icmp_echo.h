/* ICMP echo request builder and echo reply parser (RFC 792, RFC 4443 section 4). Pure. */
#ifndef NOSPOF_PROTO_CHECK_ICMP_ECHO_H
#define NOSPOF_PROTO_CHECK_ICMP_ECHO_H

#include <stdbool.h>
#include "icmp_echo-t.h"

/* Builds an echo request (type 8 for family 4, 128 for family 6) with id, seq and data into
 * buf. The ICMPv4 checksum is computed; the ICMPv6 one is left 0 because it covers the IPv6
 * pseudo-header and the kernel fills it (RFC 3542 section 3.1). Returns the length, 0 if cap
 * is too small or the family unknown. */
size_t icmp_echo_build(uint8_t family, uint16_t id, uint16_t seq, const uint8_t *data,
                       size_t data_len, uint8_t *buf, size_t cap);

/* Parses an echo reply (type 0 / 129). For family 4 the checksum is verified. */
enum icmp_echo_err icmp_echo_parse(uint8_t family, const uint8_t *buf, size_t len,
                                   struct icmp_echo *out);

/* The offset of the ICMP message inside an IPv4 datagram read from a raw socket (the IHL),
 * 0 when buf is not a plausible IPv4 header. */
size_t icmp_ip4_payload_off(const uint8_t *buf, size_t len);

/* The Internet checksum (RFC 1071) of buf, complemented. */
uint16_t icmp_cksum(const uint8_t *buf, size_t len);

#endif
