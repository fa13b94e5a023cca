/* Gratuitous ARP and unsolicited Neighbor Advertisement frames (research/vrrp.md 4.5).
 *
 * A new master announces each virtual address so that hosts and switches move traffic to it:
 * for IPv4 a gratuitous ARP request (RFC 5227 3 "ARP Announcement", RFC 5798 6.4.2), for IPv6
 * an unsolicited Neighbor Advertisement (RFC 4861 7.2.6). The builders write whole Ethernet
 * frames, ready for a packet socket, in keepalived's layout. Pure: no I/O, no allocation. */
#ifndef NOSPOF_PROTO_VRRP_GARP_H
#define NOSPOF_PROTO_VRRP_GARP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../../base/addr-t.h"

#define VRRP_GARP_LEN 42 /* Ethernet 14 + ARP 28 (the NIC pads to the 60-byte minimum) */
#define VRRP_NA_LEN   86 /* Ethernet 14 + IPv6 40 + NA 24 + target link-layer option 8 */

/* Writes a gratuitous ARP for the IPv4 address vip into frame (cap bytes): Ethernet
 * broadcast from mac, ARP request with sender = (mac, vip), target = (ff:ff:ff:ff:ff:ff, vip).
 * Returns VRRP_GARP_LEN, or 0 if cap is too small or vip is not IPv4. */
size_t vrrp_garp_build(uint8_t *frame, size_t cap, const uint8_t mac[6], const struct ip_addr *vip);

/* Writes an unsolicited Neighbor Advertisement for the IPv6 address vip into frame (cap
 * bytes): Ethernet 33:33:00:00:00:01 from mac, IPv6 src_ll -> ff02::1 with hop limit 255,
 * ICMPv6 type 136 with the Override flag (and the Router flag when router is true, i.e.
 * forwarding is on), target vip, and a target link-layer address option carrying mac; the
 * ICMPv6 checksum is filled in. Returns VRRP_NA_LEN, or 0 if cap is too small or an address
 * is not IPv6. */
size_t vrrp_na_build(uint8_t *frame, size_t cap, const uint8_t mac[6], const struct ip_addr *src_ll,
                     const struct ip_addr *vip, bool router);

#endif
