/* The PROXY protocol header (HAProxy's "PROXY protocol" spec, versions 1 and 2), encoder only.
 *
 * A full-NAT proxy hides the client address from the real server; the header, sent before the
 * first client byte, carries it. Pure: bytes out, no allocation. Both encoders write the
 * "LOCAL"/"UNKNOWN" form when the addresses cannot be described (family missing or the two
 * families differ), which the spec requires receivers to accept. */
#ifndef NOSPOF_PROTO_LB_PROXY_PROTO_H
#define NOSPOF_PROTO_LB_PROXY_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "proto/lb/proxy_proto-t.h"

/* Writes "PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\r\n" (or "PROXY UNKNOWN\r\n") into out.
 * Returns the length (no NUL written), or 0 when cap is too small or c->dgram is set (v1 has
 * no UDP form). cap >= PROXY_V1_MAX always suffices. */
size_t proxy_v1_encode(const struct proxy_conn *c, uint8_t *out, size_t cap);

/* Writes the binary v2 header (signature, version 2 + PROXY command, family/transport, length,
 * addresses, ports; no TLVs) into out. Returns the length (28 for IPv4, 52 for IPv6, 16 for
 * the LOCAL/UNSPEC form) or 0 when cap is too small. cap >= PROXY_V2_MAX always suffices. */
size_t proxy_v2_encode(const struct proxy_conn *c, uint8_t *out, size_t cap);

#endif
