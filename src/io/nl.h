/* rtnetlink adapter on libmnl: link and address queries, address add/delete (single and
 * batched), VMAC (macvlan) creation, and a link/address change monitor for the event loop.
 *
 * Every function returns 0 (or a documented non-negative value) or a negative errno, and
 * never blocks longer than nl->timeout_ms per expected answer (-ETIMEDOUT). Requests are
 * acknowledged (NLM_F_ACK) so that each one reports its own error. All calls act on the
 * network namespace the socket was opened in. */
#ifndef NOSPOF_IO_NL_H
#define NOSPOF_IO_NL_H

#include "nl-t.h"

/* Opens a NETLINK_ROUTE socket into *nl (close-on-exec, large receive buffer).
 * Returns 0 or -errno; on error *nl is left closed (nl_close() is still safe). */
int nl_open(struct nl *nl);

/* Closes the socket and frees the buffer. Accepts NULL and a closed or zeroed struct. */
void nl_close(struct nl *nl);

/* Reads link ifindex into *out. Returns 0, -ENODEV if there is no such link, or -errno. */
int nl_link_get(struct nl *nl, int ifindex, struct nl_link *out);

/* The index of the interface called name (in the calling thread's namespace), or -ENODEV. */
int nl_ifindex(const char *name);

/* Sets (up true) or clears IFF_UP on a link. Returns 0 or -errno. */
int nl_link_set_up(struct nl *nl, int ifindex, bool up);

/* Adds one address. An address that is already there (EEXIST) counts as success. */
int nl_addr_add(struct nl *nl, const struct nl_addr_req *req);

/* Deletes one address. An address that is not there (EADDRNOTAVAIL) counts as success. */
int nl_addr_del(struct nl *nl, const struct nl_addr_req *req);

/* Adds (add true) or deletes n addresses, packing the requests into as few sendmsg calls as
 * the buffer allows and then collecting one ACK per request. If errs is not NULL, errs[i]
 * receives 0 or -errno for reqs[i] (EEXIST on add / EADDRNOTAVAIL on delete are 0).
 * Returns 0 if every request succeeded, else the first negative errno met (a transport
 * error such as -ETIMEDOUT also fills the unanswered errs[] entries with it). */
int nl_addr_apply(struct nl *nl, const struct nl_addr_req *reqs, size_t n, bool add, int *errs);

/* Calls cb(ctx, a) for every address of family (4, 6, or 0 for both) on ifindex (0 for all
 * links), in kernel order. cb must not use nl. A dump that raced with a concurrent change is
 * still delivered whole (it may miss that change; nl_monitor reports it). Returns 0 or
 * -errno. */
int nl_addr_list(struct nl *nl, int ifindex, int family,
                 void (*cb)(void *ctx, const struct nl_addr_info *a), void *ctx);

/* The address a VRRP instance sources its adverts from: for family 4 the first IPv4 address
 * of global scope on ifindex, for family 6 its first IPv6 link-local address (fe80::/10).
 * Tentative (DAD in progress) or DAD-failed addresses are skipped. Returns 0, -ENOENT if
 * there is none, -EAGAIN if the only candidates are still tentative, or -errno. */
int nl_primary_addr(struct nl *nl, int ifindex, int family, struct ip_addr *out);

/* Creates an administratively up macvlan called name on parent_ifindex with the given MAC
 * (e.g. the VRRP virtual MAC 00:00:5e:00:01:VRID) and mode. Returns 0 or -errno (-EEXIST if
 * the name is taken). Look its index up with nl_ifindex(name). */
int nl_macvlan_add(struct nl *nl, int parent_ifindex, const char *name, const uint8_t mac[6],
                   enum nl_macvlan_mode mode);

/* Creates a veth pair name <-> peer (both down). If peer_netns_fd >= 0 the peer is created
 * in that network namespace (an fd of /proc/<pid>/ns/net). Used by tests and tools.
 * Returns 0 or -errno. */
int nl_veth_add(struct nl *nl, const char *name, const char *peer, int peer_netns_fd);

/* Deletes a link (a macvlan created above). Returns 0, -ENODEV if it is gone, or -errno. */
int nl_link_del(struct nl *nl, int ifindex);

/* Writes the sysctls a VMAC interface needs (research/vrrp.md 4.4), for ifname only:
 * net.ipv4.conf.<if>.arp_ignore=1, arp_filter=0, accept_local=1, rp_filter=0. Note that the
 * kernel applies max(all, <if>) for rp_filter; the "all" value is left to the operator.
 * Returns 0 or the first -errno. */
int io_vmac_sysctls(const char *ifname);

/* Sets /proc/sys/net/ipv4/conf/IFNAME/KEY to value, first copying the old value into old
 * (cap bytes, newline removed) when old is not NULL. 0 or -errno. Used for the VMAC's parent,
 * whose arp_ignore must be 1 so that only the VMAC answers ARP for the VIPs. */
int io_if_sysctl_swap(const char *ifname, const char *key, const char *value, char *old,
                      size_t cap);

/* Opens a non-blocking, close-on-exec monitor subscribed to RTMGRP_LINK, RTMGRP_IPV4_IFADDR
 * and RTMGRP_IPV6_IFADDR. Returns 0 or -errno (m->fd is -1 on error). */
int nl_monitor_open(struct nl_monitor *m);

/* Closes the monitor. Accepts NULL and a closed or zeroed struct. */
void nl_monitor_close(struct nl_monitor *m);

/* Reads every pending notification and calls cb(ctx, ev) for each link/address event, until
 * the socket is empty. Returns the number of events delivered (>= 0), -ENOBUFS if the kernel
 * dropped notifications (the caller must re-query the state it mirrors; later reads work
 * again), or another -errno. */
int nl_monitor_read(struct nl_monitor *m, void (*cb)(void *ctx, const struct nl_event *ev),
                    void *ctx);

#endif
