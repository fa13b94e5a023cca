/* IP addresses as plain bytes, usable by the pure layers (no <netinet/in.h> needed).
 *
 * The family is 4 or 6, not AF_*, so that src/proto does not depend on socket headers. */
#ifndef NOSPOF_BASE_ADDR_T_H
#define NOSPOF_BASE_ADDR_T_H

#include <stdint.h>

enum ip_family {
    IP_NONE = 0,
    IP_V4 = 4,
    IP_V6 = 6,
};

/* An IPv4 address uses b[0..3] (network order) and leaves the rest zero. */
struct ip_addr {
    uint8_t family; /* enum ip_family */
    uint8_t b[16];
};

/* Large enough for "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" and a NUL. */
#define IP_ADDR_STRLEN 46

#endif
