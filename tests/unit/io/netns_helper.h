/* Test helper: a private pair of network namespaces joined by a veth pair.
 *
 * netns_pair_create() moves the calling (single-threaded) test process into a brand-new
 * network namespace A, creates a second namespace B, and links them with veth0 (in A) <->
 * veth1 (in B), both up, with IPv6 DAD disabled so link-local addresses are usable at once.
 * Both namespaces vanish when the process exits; the root namespace is never touched. Two
 * namespaces are needed because traffic between two local addresses of one namespace would
 * be looped back instead of crossing the veth. */
#ifndef NOSPOF_TESTS_NETNS_HELPER_H
#define NOSPOF_TESTS_NETNS_HELPER_H

#include <stdbool.h>
#include "base/addr-t.h"
#include "io/nl-t.h"

struct netns_pair {
    int ns_a, ns_b; /* fds of /proc/thread-self/ns/net of A and B */
    int if_a;       /* ifindex of veth0 in A */
    int if_b;       /* ifindex of veth1 in B */
};

/* True when the process may create namespaces (effective uid 0). */
bool netns_is_root(void);

/* Builds the pair as described above and leaves the caller in A. Returns 0 or -errno. */
int netns_pair_create(struct netns_pair *p);

/* Switches the calling thread to the namespace fd. Returns 0 or -errno. */
int netns_enter(int fd);

/* Waits up to timeout_ms for fd to become readable. */
bool netns_wait_readable(int fd, int timeout_ms);

/* Polls (up to 5 s) until ifindex has a usable IPv6 link-local address; stores it. */
int netns_wait_linklocal(struct nl *nl, int ifindex, struct ip_addr *out);

/* Adds addr/prefix_len (text) to ifindex with nodad. Returns 0 or -errno. */
int netns_addr_add(struct nl *nl, int ifindex, const char *addr, int prefix_len);

/* Monotonic milliseconds, for measuring. */
double netns_now_ms(void);

#endif
