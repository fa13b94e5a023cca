/* Raw VRRP sockets (IP protocol 112) for IPv4 and IPv6.
 *
 * The sockets are bound to one interface, send with TTL/hop limit 255 (RFC 5798 5.1.1.3,
 * also for unicast), TOS/traffic class 0xc0, no multicast loopback, and choose the source
 * address and interface per message (IP_PKTINFO / IPV6_PKTINFO). The kernel verifies no
 * checksum (IPV6_CHECKSUM is not set): the codec does, so bad checksums are counted. */
#ifndef NOSPOF_IO_VRRP_SOCK_H
#define NOSPOF_IO_VRRP_SOCK_H

#include <stdbool.h>
#include "vrrp_sock-t.h"

/* Opens a non-blocking, close-on-exec raw VRRP socket for family (4 or 6) bound to ifindex
 * (0: not bound, e.g. unicast over any interface). join_multicast joins 224.0.0.18 / ff02::12
 * on ifindex. Returns the fd (>= 0) or -errno. */
int io_vrrp_sock_open(int family, int ifindex, bool join_multicast);

/* Reads one datagram into buf (cap bytes; VRRP_PKT_MAX + 60 is enough) and fills *rx (see
 * struct io_vrrp_rx). IPv4: the IP header is parsed with vrrp_ip4_parse(); IPv6: hop limit,
 * destination and interface come from control messages. Returns rx->len (>= 0, 0 with
 * rx->ip_drop set for a bad IPv4 header), -EAGAIN when nothing is pending, or -errno. A
 * datagram longer than cap is consumed and reported with rx->ip_drop = VRRP_DROP_OVERSIZE,
 * rx->msg/len covering the part that was read (so the VRID can still be read from it). */
int io_vrrp_sock_recv(int fd, int family, uint8_t *buf, size_t cap, struct io_vrrp_rx *rx);

/* Sends msg (a VRRP message, checksum already computed for src and dst) to dst out of
 * ifindex with source address src (src may be NULL or IP_NONE to let the kernel choose).
 * Returns 0, -EAGAIN if the socket buffer is full, or -errno. */
int io_vrrp_sock_send(int fd, int family, int ifindex, const struct ip_addr *src,
                      const struct ip_addr *dst, const uint8_t *msg, size_t len);

#endif
