/* Helpers for struct ip_addr: compare, parse, format, classify. Pure (libc only). */
#ifndef NOSPOF_BASE_ADDR_H
#define NOSPOF_BASE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include "addr-t.h"

/* Length in bytes of an address of this family: 4, 16, or 0 for IP_NONE. */
size_t ip_addr_len(const struct ip_addr *a);

/* Total order: by family, then as an unsigned big-endian integer (the VRRP tie-break order,
 * RFC 5798 section 6.4.3). Returns <0, 0, >0. */
int ip_addr_cmp(const struct ip_addr *a, const struct ip_addr *b);

bool ip_addr_eq(const struct ip_addr *a, const struct ip_addr *b);

/* Parses dotted IPv4 or textual IPv6 (no prefix, no scope). Returns false on any error and
 * leaves *out zeroed. */
bool ip_addr_parse(const char *text, struct ip_addr *out);

/* Writes the canonical text form into buf (at least IP_ADDR_STRLEN bytes); returns buf. */
char *ip_addr_format(const struct ip_addr *a, char *buf, size_t cap);

/* Builds an address from raw network-order bytes. */
struct ip_addr ip_addr_from_v4(const uint8_t b[4]);
struct ip_addr ip_addr_from_v6(const uint8_t b[16]);

bool ip_addr_is_multicast(const struct ip_addr *a);
bool ip_addr_is_v6_linklocal(const struct ip_addr *a);

#endif
