/* Types of the raw VRRP socket adapter (src/io/vrrp_sock.h). */
#ifndef NOSPOF_IO_VRRP_SOCK_T_H
#define NOSPOF_IO_VRRP_SOCK_T_H

#include <stddef.h>
#include <stdint.h>
#include "base/addr-t.h"
#include "proto/vrrp/vrrp_pkt-t.h"

/* What io_vrrp_sock_recv() learnt about one received datagram besides the VRRP bytes.
 * msg points into the caller's buffer (after the IPv4 header for IPv4) and is valid as long
 * as that buffer. ip_drop is VRRP_DROP_NONE, or the reason the IPv4 header was rejected (then
 * msg is NULL and len 0, but src/dst/ttl are filled when the header was long enough). */
struct io_vrrp_rx {
    struct ip_addr src, dst;
    uint8_t ttl; /* IPv4 TTL or IPv6 hop limit; 0 if the kernel did not say */
    int ifindex; /* arrival interface, 0 if unknown */
    const uint8_t *msg;
    size_t len;
    enum vrrp_drop ip_drop;
};

#endif
