/* Sender of complete Ethernet frames (gratuitous ARP, unsolicited neighbour advertisements)
 * over an AF_PACKET SOCK_RAW socket. Frames are built by src/proto/vrrp/vrrp_garp.h; this
 * adapter only puts the bytes on the wire of one interface. The socket receives nothing. */
#ifndef NOSPOF_IO_GARP_SOCK_H
#define NOSPOF_IO_GARP_SOCK_H

#include <stddef.h>
#include <stdint.h>

/* Opens a non-blocking, close-on-exec AF_PACKET raw socket bound to ifindex for sending.
 * Returns the fd (>= 0) or -errno. */
int io_garp_open(int ifindex);

/* Sends one Ethernet frame (destination MAC, source MAC, EtherType, payload; len >= 14) out
 * of ifindex. Returns 0, -EINVAL for a frame shorter than an Ethernet header, -EAGAIN if
 * the queue is full, or -errno. */
int io_garp_send(int fd, int ifindex, const uint8_t *frame, size_t len);

#endif
