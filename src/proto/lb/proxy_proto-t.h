/* Types of the PROXY protocol encoder (proxy_proto.h). */
#ifndef NOSPOF_PROTO_LB_PROXY_PROTO_T_H
#define NOSPOF_PROTO_LB_PROXY_PROTO_T_H

#include <stdbool.h>
#include <stdint.h>

#include "base/addr-t.h"

/* Longest v1 line including CRLF (spec section 2.1: 107 bytes for TCP6 with maximal text). */
#define PROXY_V1_MAX 107
/* v2: 16-byte fixed header + 36 bytes of IPv6 addresses and ports (no TLVs). */
#define PROXY_V2_MAX 52

/* The connection being proxied: src is the client, dst the address it connected to (the VIP).
 * Ports in host order. */
struct proxy_conn {
    struct ip_addr src;
    struct ip_addr dst;
    uint16_t src_port;
    uint16_t dst_port;
    bool dgram; /* UDP (v2 only; v1 knows TCP alone) */
};

#endif
