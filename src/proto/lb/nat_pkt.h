/* IP packets of the packet data plane's slow path: the first packet of a flow, as the TC
 * program sends it up (io/bpf/nat.bpf.c), is parsed here and, once a real server is chosen,
 * rewritten towards it before user space re-injects it.
 *
 * Pure and bounded: the input is untrusted bytes (anything that reached a service address),
 * every length is checked against the buffer, nothing is allocated. */
#ifndef NOSPOF_PROTO_LB_NAT_PKT_H
#define NOSPOF_PROTO_LB_NAT_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr-t.h"

/* A parsed IPv4 or IPv6 packet carrying TCP or UDP. */
struct nat_pkt {
    struct ip_addr src, dst;
    uint16_t sport, dport; /* host order */
    uint8_t proto;         /* 6 = TCP, 17 = UDP */
    uint8_t tcp_flags;     /* octet 13 of the TCP header; 0 for UDP */
    size_t len;            /* bytes of the packet (the IP total length), <= the buffer */
    size_t l4;             /* offset of the TCP or UDP header */
};

/* Parses buf[0..cap) as one IP packet: IPv4 without fragmentation (options allowed) or IPv6
 * whose next header is TCP or UDP, with the whole transport header present and lengths that
 * agree. Trailing bytes past the IP length are ignored. Returns 0, or -1 for anything else. */
int nat_pkt_parse(const uint8_t *buf, size_t cap, struct nat_pkt *p);

/* Sets p's destination to dst:port (same family as p) in buf and recomputes the IPv4 header
 * checksum and the whole TCP or UDP checksum over the pseudo-header and the segment, so a
 * packet taken from a sender that left the checksum to the NIC (partial) goes out correct. An
 * IPv4 UDP checksum of zero (none) stays zero. Updates p. Returns 0, or -1 on a family
 * mismatch. */
int nat_pkt_set_dst(uint8_t *buf, struct nat_pkt *p, const struct ip_addr *dst, uint16_t port);

#endif
