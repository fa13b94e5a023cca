/* Test helper: two private network namespaces joined by a veth pair (see netns_helper.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/addr.h"
#include "io/nl.h"
#include "netns_helper.h"

bool netns_is_root(void)
{
    return geteuid() == 0;
}

int netns_enter(int fd)
{
    return setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
}

static int write_file(const char *path, const char *value)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, value, strlen(value));
    close(fd);
    return n < 0 ? -errno : 0;
}

/* Makes a new namespace, returns its fd (or -errno), and prepares it: lo up, no IPv6 DAD. */
static int new_ns(void)
{
    struct nl nl;

    if (unshare(CLONE_NEWNET) < 0)
        return -errno;
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    (void)write_file("/proc/sys/net/ipv6/conf/all/accept_dad", "0");
    (void)write_file("/proc/sys/net/ipv6/conf/default/accept_dad", "0");
    if (nl_open(&nl) == 0) {
        (void)nl_link_set_up(&nl, 1, true);
        nl_close(&nl);
    }
    return fd;
}

/* Brings the interface called name up in the namespace fd, returns its ifindex or -errno. */
static int up_in(int nsfd, const char *name)
{
    struct nl nl;
    int err = netns_enter(nsfd);

    if (err < 0)
        return err;
    err = nl_open(&nl);
    if (err < 0)
        return err;
    int idx = nl_ifindex(name);
    if (idx > 0)
        err = nl_link_set_up(&nl, idx, true);
    nl_close(&nl);
    return idx < 0 ? idx : err < 0 ? err : idx;
}

int netns_pair_create(struct netns_pair *p)
{
    struct nl nl;

    p->ns_a = new_ns();
    if (p->ns_a < 0)
        return p->ns_a;
    p->ns_b = new_ns();
    if (p->ns_b < 0)
        return p->ns_b;
    int err = netns_enter(p->ns_a);
    if (err == 0)
        err = nl_open(&nl);
    if (err < 0)
        return err;
    err = nl_veth_add(&nl, "veth0", "veth1", p->ns_b);
    nl_close(&nl);
    if (err < 0)
        return err;
    p->if_b = up_in(p->ns_b, "veth1");
    p->if_a = up_in(p->ns_a, "veth0");
    if (p->if_b < 0)
        return p->if_b;
    return p->if_a < 0 ? p->if_a : 0;
}

bool netns_wait_readable(int fd, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    return poll(&pfd, 1, timeout_ms) == 1;
}

double netns_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int netns_wait_linklocal(struct nl *nl, int ifindex, struct ip_addr *out)
{
    double deadline = netns_now_ms() + 5000;
    struct timespec step = {.tv_nsec = 10 * 1000 * 1000};
    int err;

    while ((err = nl_primary_addr(nl, ifindex, IP_V6, out)) < 0 && netns_now_ms() < deadline)
        nanosleep(&step, NULL);
    return err;
}

int netns_addr_add(struct nl *nl, int ifindex, const char *addr, int prefix_len)
{
    struct nl_addr_req r = {.ifindex = ifindex, .prefix_len = (uint8_t)prefix_len, .nodad = true};

    if (!ip_addr_parse(addr, &r.addr))
        return -EINVAL;
    return nl_addr_add(nl, &r);
}
