/* rtnetlink adapter on libmnl (see nl.h for the contracts).
 *
 * Theory of operation: every request carries NLM_F_ACK and a fresh sequence number; the
 * answer is read with poll() bounded by nl->timeout_ms, so no call blocks for long. Stale
 * answers (from a request that timed out earlier) are drained before each new request. The
 * socket buffer is split in two halves: receive at buf, build requests at buf + NL_RX_CAP.
 * Batches (nl_addr_apply) pack requests up to NL_BATCH_LIMIT bytes per sendmsg and read back
 * the ACKs of one chunk before sending the next, so the receive queue never overflows. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "base/addr.h"
#include "nl.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* linux/if.h; not in glibc's net/if.h */
#endif

#define NL_RX_CAP      (64 * 1024)
#define NL_TX_CAP      (64 * 1024)
#define NL_BATCH_LIMIT (32 * 1024) /* a chunk; the tail keeps room for one overflow */
#define NL_RCVBUF      (4 * 1024 * 1024)
#define NL_TIMEOUT_MS  1000
#define NL_MON_CAP     (64 * 1024)

static uint8_t *nl_tx(struct nl *nl)
{
    return nl->buf + NL_RX_CAP;
}

static void nl_set_rcvbuf(int fd)
{
    int sz = NL_RCVBUF;

    /* SO_RCVBUFFORCE needs CAP_NET_ADMIN; fall back to the rmem_max-capped request. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

/* Opens a NETLINK_ROUTE libmnl socket bound to groups, with small (capped) error ACKs. */
static int nl_sock_open(struct mnl_socket **out, unsigned groups, int flags)
{
    struct mnl_socket *s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | flags);
    int on = 1;

    if (s == NULL)
        return -errno;
    if (mnl_socket_bind(s, groups, MNL_SOCKET_AUTOPID) < 0) {
        int err = -errno;
        mnl_socket_close(s);
        return err;
    }
    (void)mnl_socket_setsockopt(s, NETLINK_CAP_ACK, &on, sizeof(on));
    nl_set_rcvbuf(mnl_socket_get_fd(s));
    *out = s;
    return 0;
}

int nl_open(struct nl *nl)
{
    int err;

    memset(nl, 0, sizeof(*nl));
    nl->buf = malloc(NL_RX_CAP + NL_TX_CAP);
    if (nl->buf == NULL)
        return -ENOMEM;
    nl->buf_cap = NL_RX_CAP + NL_TX_CAP;
    err = nl_sock_open(&nl->sock, 0, SOCK_NONBLOCK);
    if (err < 0) {
        nl_close(nl);
        return err;
    }
    nl->portid = mnl_socket_get_portid(nl->sock);
    nl->timeout_ms = NL_TIMEOUT_MS;
    return 0;
}

void nl_close(struct nl *nl)
{
    if (nl == NULL)
        return;
    if (nl->sock != NULL)
        mnl_socket_close(nl->sock);
    free(nl->buf);
    memset(nl, 0, sizeof(*nl));
}

/* Waits up to timeout_ms for the socket to become readable, then reads one datagram into the
 * receive half. Returns its length or -errno (-ETIMEDOUT). */
static ssize_t nl_recv(struct nl *nl)
{
    struct pollfd p = {.fd = mnl_socket_get_fd(nl->sock), .events = POLLIN};
    ssize_t n;

    for (;;) {
        n = mnl_socket_recvfrom(nl->sock, nl->buf, NL_RX_CAP);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return -errno;
        int r = poll(&p, 1, nl->timeout_ms);
        if (r == 0)
            return -ETIMEDOUT;
        if (r < 0 && errno != EINTR)
            return -errno;
    }
}

/* Discards answers left over from earlier requests that timed out. */
static void nl_drain(struct nl *nl)
{
    for (int i = 0; i < 64; i++) {
        if (mnl_socket_recvfrom(nl->sock, nl->buf, NL_RX_CAP) < 0 && errno != EINTR)
            return;
    }
}

/* A dump that raced with a change carries NLM_F_DUMP_INTR, which libmnl turns into EINTR
 * halfway through. Like iproute2 we deliver such a dump whole: the callbacks have already
 * seen part of it, and the monitor reports the change that interrupted it. */
static void nl_clear_dump_intr(uint8_t *buf, ssize_t n)
{
    struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
    int len = (int)n;

    for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
        nlh->nlmsg_flags &= (uint16_t)~NLM_F_DUMP_INTR;
}

/* Sends the request built at nl_tx() (seq is assigned here) and runs cb on every answer
 * until the ACK or NLMSG_DONE. Returns 0 or the -errno the kernel (or the transport) gave. */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
    nlh->nlmsg_seq = ++nl->seq;
    if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
        return -errno;
    for (;;) {
        ssize_t n = nl_recv(nl);
        if (n < 0)
            return (int)n;
        nl_clear_dump_intr(nl->buf, n);
        errno = 0;
        int rc = mnl_cb_run(nl->buf, (size_t)n, nl->seq, nl->portid, cb, data);
        if (rc == MNL_CB_ERROR)
            return errno != 0 ? -errno : -EIO;
        if (rc == MNL_CB_STOP)
            return 0;
    }
}

/* Starts a request of type with flags (NLM_F_REQUEST added) in the transmit half. */
static struct nlmsghdr *nl_start(struct nl *nl, uint16_t type, uint16_t flags)
{
    nl_drain(nl);
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl_tx(nl));
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    return nlh;
}

static void nl_copy_name(char dst[NL_IFNAMSIZ], const struct nlattr *a)
{
    snprintf(dst, NL_IFNAMSIZ, "%s", mnl_attr_get_str(a));
}

/* ------------------------------------------------------------------ links */

static void nl_parse_info_data(const struct nlattr *nest, struct nl_link *l)
{
    const struct nlattr *a;

    mnl_attr_for_each_nested(a, nest)
    {
        if (l->is_macvlan && mnl_attr_get_type(a) == IFLA_MACVLAN_MODE &&
            mnl_attr_get_payload_len(a) >= 4)
            l->macvlan_mode = mnl_attr_get_u32(a);
    }
}

static void nl_parse_linkinfo(const struct nlattr *nest, struct nl_link *l)
{
    const struct nlattr *a, *data = NULL;

    mnl_attr_for_each_nested(a, nest)
    {
        if (mnl_attr_get_type(a) == IFLA_INFO_KIND) {
            nl_copy_name(l->kind, a);
            l->is_macvlan = strcmp(l->kind, "macvlan") == 0;
        } else if (mnl_attr_get_type(a) == IFLA_INFO_DATA) {
            data = a;
        }
    }
    if (data != NULL)
        nl_parse_info_data(data, l);
}

static void nl_parse_link_attr(const struct nlattr *a, struct nl_link *l)
{
    uint16_t len = mnl_attr_get_payload_len(a);

    switch (mnl_attr_get_type(a)) {
    case IFLA_IFNAME:
        nl_copy_name(l->name, a);
        break;
    case IFLA_ADDRESS:
        l->mac_len = (uint8_t)(len > 255 ? 255 : len);
        if (len == 6)
            memcpy(l->mac, mnl_attr_get_payload(a), 6);
        break;
    case IFLA_MTU:
        if (len >= 4)
            l->mtu = mnl_attr_get_u32(a);
        break;
    case IFLA_LINK:
        if (len >= 4)
            l->parent_ifindex = (int)mnl_attr_get_u32(a);
        break;
    case IFLA_LINKINFO:
        nl_parse_linkinfo(a, l);
        break;
    default:
        break;
    }
}

/* Fills *l from an RTM_NEWLINK message. */
static void nl_parse_link(const struct nlmsghdr *nlh, struct nl_link *l)
{
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *a;

    memset(l, 0, sizeof(*l));
    l->ifindex = ifi->ifi_index;
    l->flags = ifi->ifi_flags;
    l->up = (ifi->ifi_flags & IFF_UP) != 0;
    l->running = (ifi->ifi_flags & IFF_RUNNING) != 0;
    l->lower_up = (ifi->ifi_flags & IFF_LOWER_UP) != 0;
    mnl_attr_for_each(a, nlh, sizeof(*ifi)) nl_parse_link_attr(a, l);
}

static int nl_link_cb(const struct nlmsghdr *nlh, void *data)
{
    if (nlh->nlmsg_type == RTM_NEWLINK &&
        mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct ifinfomsg))
        nl_parse_link(nlh, data);
    return MNL_CB_OK;
}

int nl_link_get(struct nl *nl, int ifindex, struct nl_link *out)
{
    if (ifindex <= 0)
        return -ENODEV;
    struct nlmsghdr *nlh = nl_start(nl, RTM_GETLINK, NLM_F_ACK);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    memset(out, 0, sizeof(*out));
    return nl_talk(nl, nlh, nl_link_cb, out);
}

int nl_ifindex(const char *name)
{
    unsigned idx = if_nametoindex(name);

    if (idx == 0)
        return errno != 0 ? -errno : -ENODEV;
    return (int)idx;
}

int nl_link_set_up(struct nl *nl, int ifindex, bool up)
{
    struct nlmsghdr *nlh = nl_start(nl, RTM_NEWLINK, NLM_F_ACK);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    ifi->ifi_flags = up ? IFF_UP : 0;
    ifi->ifi_change = IFF_UP;
    return nl_talk(nl, nlh, NULL, NULL);
}

int nl_link_del(struct nl *nl, int ifindex)
{
    struct nlmsghdr *nlh = nl_start(nl, RTM_DELLINK, NLM_F_ACK);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    return nl_talk(nl, nlh, NULL, NULL);
}

/* Starts an RTM_NEWLINK create request for a link called name of the given kind and returns
 * the opened IFLA_INFO_DATA nest; the caller closes both nests with nl_link_create_end(). */
static struct nlattr *nl_link_create_start(struct nl *nl, struct nlmsghdr **nlhp, const char *name,
                                           const char *kind, struct nlattr **info)
{
    struct nlmsghdr *nlh = nl_start(nl, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

    ifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
    *nlhp = nlh;
    return mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
}

static bool nl_name_ok(const char *name)
{
    size_t len = name != NULL ? strlen(name) : 0;

    return len > 0 && len < NL_IFNAMSIZ && strchr(name, '/') == NULL;
}

int nl_macvlan_add(struct nl *nl, int parent_ifindex, const char *name, const uint8_t mac[6],
                   enum nl_macvlan_mode mode)
{
    struct nlmsghdr *nlh;
    struct nlattr *info, *data;

    if (!nl_name_ok(name) || parent_ifindex <= 0)
        return -EINVAL;
    data = nl_link_create_start(nl, &nlh, name, "macvlan", &info);
    mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, (uint32_t)mode);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, info);
    mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t)parent_ifindex);
    mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
    struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
    ifi->ifi_flags = IFF_UP; /* created administratively up */
    ifi->ifi_change = IFF_UP;
    return nl_talk(nl, nlh, NULL, NULL);
}

int nl_veth_add(struct nl *nl, const char *name, const char *peer, int peer_netns_fd)
{
    struct nlmsghdr *nlh;
    struct nlattr *info, *data, *pinfo;

    if (!nl_name_ok(name) || !nl_name_ok(peer))
        return -EINVAL;
    data = nl_link_create_start(nl, &nlh, name, "veth", &info);
    pinfo = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
    struct ifinfomsg *pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
    pifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
    if (peer_netns_fd >= 0)
        mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
    mnl_attr_nest_end(nlh, pinfo);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, info);
    return nl_talk(nl, nlh, NULL, NULL);
}

/* -------------------------------------------------------------- addresses */

static int nl_af(uint8_t family)
{
    return family == IP_V4 ? AF_INET : family == IP_V6 ? AF_INET6 : AF_UNSPEC;
}

/* Writes the RTM_NEWADDR/RTM_DELADDR message for r at buf (seq left to the caller).
 * Returns NULL if r is invalid. */
static struct nlmsghdr *nl_put_addr(void *buf, const struct nl_addr_req *r, bool add)
{
    size_t alen = ip_addr_len(&r->addr);
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

    if (alen == 0 || r->prefix_len > alen * 8)
        return NULL;
    nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
    ifa->ifa_family = (uint8_t)nl_af(r->addr.family);
    ifa->ifa_prefixlen = r->prefix_len;
    ifa->ifa_scope = r->scope;
    ifa->ifa_index = (uint32_t)r->ifindex;
    ifa->ifa_flags = r->nodad ? IFA_F_NODAD : 0;
    mnl_attr_put(nlh, IFA_LOCAL, alen, r->addr.b);
    mnl_attr_put(nlh, IFA_ADDRESS, alen, r->addr.b);
    if (r->brd.family == r->addr.family && r->addr.family == IP_V4)
        mnl_attr_put(nlh, IFA_BROADCAST, 4, r->brd.b);
    if (r->addr.family == IP_V4 && r->label[0] != '\0')
        mnl_attr_put_strz(nlh, IFA_LABEL, r->label);
    if (add && r->nodad)
        mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
    return nlh;
}

/* "Already there" on add and "already gone" on delete are the desired end state. */
static int nl_addr_result(int err, bool add)
{
    if ((add && err == -EEXIST) || (!add && err == -EADDRNOTAVAIL))
        return 0;
    return err;
}

static int nl_addr_one(struct nl *nl, const struct nl_addr_req *req, bool add)
{
    nl_drain(nl);
    struct nlmsghdr *nlh = nl_put_addr(nl_tx(nl), req, add);
    if (nlh == NULL)
        return -EINVAL;
    return nl_addr_result(nl_talk(nl, nlh, NULL, NULL), add);
}

int nl_addr_add(struct nl *nl, const struct nl_addr_req *req)
{
    return nl_addr_one(nl, req, true);
}

int nl_addr_del(struct nl *nl, const struct nl_addr_req *req)
{
    return nl_addr_one(nl, req, false);
}

/* State of one batch chunk: requests [first, end) carry seq base + i; answered counts the
 * ACKs of this chunk seen so far. */
struct nl_chunk {
    uint32_t base;
    size_t first, end, answered;
    bool add;
    int *errs;
    bool *seen;
};

static void nl_chunk_ack(struct nl_chunk *c, const struct nlmsghdr *nlh)
{
    const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
    size_t i = (size_t)(uint32_t)(nlh->nlmsg_seq - c->base);

    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(e->error) || i < c->first || i >= c->end ||
        c->seen[i])
        return; /* not ours: a stale answer */
    c->seen[i] = true;
    c->errs[i] = nl_addr_result(e->error, c->add);
    c->answered++;
}

/* Reads ACKs until every request of the chunk has one. Returns 0 or a transport -errno. */
static int nl_chunk_collect(struct nl *nl, struct nl_chunk *c)
{
    while (c->answered < c->end - c->first) {
        ssize_t n = nl_recv(nl);
        if (n < 0)
            return (int)n;
        const struct nlmsghdr *nlh = (const struct nlmsghdr *)nl->buf;
        int len = (int)n;
        for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
            if (nlh->nlmsg_type == NLMSG_ERROR && nlh->nlmsg_pid == nl->portid)
                nl_chunk_ack(c, nlh);
        }
    }
    return 0;
}

static int nl_chunk_flush(struct nl *nl, struct mnl_nlmsg_batch *b, struct nl_chunk *c)
{
    int err = 0;

    if (mnl_socket_sendto(nl->sock, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0)
        err = -errno;
    else
        err = nl_chunk_collect(nl, c);
    for (size_t i = c->first; i < c->end; i++) {
        if (!c->seen[i])
            c->errs[i] = err != 0 ? err : -EIO;
    }
    c->first = c->end;
    c->answered = 0;
    return err;
}

/* Puts request i into the batch, sending the chunk first whenever the buffer is full. */
static int nl_batch_put(struct nl *nl, struct mnl_nlmsg_batch *b, struct nl_chunk *c,
                        const struct nl_addr_req *r, size_t i)
{
    struct nlmsghdr *nlh = nl_put_addr(mnl_nlmsg_batch_current(b), r, c->add);

    if (nlh == NULL) {
        c->errs[i] = -EINVAL;
        c->seen[i] = true; /* answered locally; the slot is not sent */
        c->answered++;
        c->end = i + 1;
        return 0;
    }
    nlh->nlmsg_seq = c->base + (uint32_t)i;
    if (mnl_nlmsg_batch_next(b)) {
        c->end = i + 1;
        return 0;
    }
    /* i overflowed: send [first, i) and keep i at the head of the next chunk */
    int err = nl_chunk_flush(nl, b, c);
    mnl_nlmsg_batch_reset(b);
    c->end = i + 1;
    return err;
}

/* Like nl_chunk_flush, but tolerates a chunk whose requests were all rejected locally. */
static int nl_batch_finish(struct nl *nl, struct mnl_nlmsg_batch *b, struct nl_chunk *c)
{
    if (mnl_nlmsg_batch_is_empty(b)) {
        c->first = c->end;
        return 0;
    }
    return nl_chunk_flush(nl, b, c);
}

static int nl_first_error(const int *errs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (errs[i] != 0)
            return errs[i];
    }
    return 0;
}

int nl_addr_apply(struct nl *nl, const struct nl_addr_req *reqs, size_t n, bool add, int *errs)
{
    int *own = errs != NULL ? NULL : calloc(n ? n : 1, sizeof(int));
    bool *seen = calloc(n ? n : 1, sizeof(bool));
    struct mnl_nlmsg_batch *b = NULL;
    int err = -ENOMEM;

    if ((errs == NULL && own == NULL) || seen == NULL)
        goto out;
    nl_drain(nl);
    b = mnl_nlmsg_batch_start(nl_tx(nl), NL_BATCH_LIMIT);
    if (b == NULL)
        goto out;
    struct nl_chunk c = {.base = nl->seq + 1, .add = add, .errs = errs ? errs : own, .seen = seen};
    nl->seq += (uint32_t)n;
    err = 0;
    for (size_t i = 0; i < n && err == 0; i++)
        err = nl_batch_put(nl, b, &c, &reqs[i], i);
    if (err == 0)
        err = nl_batch_finish(nl, b, &c);
    for (size_t i = c.end; i < n; i++)
        c.errs[i] = err;
    if (err == 0)
        err = nl_first_error(c.errs, n);
out:
    if (b != NULL)
        mnl_nlmsg_batch_stop(b);
    free(own);
    free(seen);
    return err;
}

/* Fills *out from an RTM_NEWADDR/RTM_DELADDR message. Returns false if it is malformed. */
static bool nl_parse_addr(const struct nlmsghdr *nlh, struct nl_addr_info *out)
{
    const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *a, *local = NULL, *address = NULL;
    size_t alen = ifa->ifa_family == AF_INET ? 4 : ifa->ifa_family == AF_INET6 ? 16 : 0;

    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa) || alen == 0)
        return false;
    memset(out, 0, sizeof(*out));
    out->ifindex = (int)ifa->ifa_index;
    out->family = alen == 4 ? IP_V4 : IP_V6;
    out->prefix_len = ifa->ifa_prefixlen;
    out->scope = ifa->ifa_scope;
    out->flags = ifa->ifa_flags;
    mnl_attr_for_each(a, nlh, sizeof(*ifa))
    {
        uint16_t t = mnl_attr_get_type(a), len = mnl_attr_get_payload_len(a);
        if (t == IFA_LOCAL && len == alen)
            local = a;
        else if (t == IFA_ADDRESS && len == alen)
            address = a;
        else if (t == IFA_LABEL)
            nl_copy_name(out->label, a);
        else if (t == IFA_FLAGS && len >= 4)
            out->flags = mnl_attr_get_u32(a);
    }
    if (local == NULL)
        local = address;
    if (local == NULL)
        return false;
    out->addr = alen == 4 ? ip_addr_from_v4(mnl_attr_get_payload(local))
                          : ip_addr_from_v6(mnl_attr_get_payload(local));
    return true;
}

struct nl_list_ctx {
    int ifindex;
    void (*cb)(void *ctx, const struct nl_addr_info *a);
    void *ctx;
};

static int nl_addr_list_cb(const struct nlmsghdr *nlh, void *data)
{
    struct nl_list_ctx *lc = data;
    struct nl_addr_info a;

    if (nlh->nlmsg_type != RTM_NEWADDR || !nl_parse_addr(nlh, &a))
        return MNL_CB_OK;
    if (lc->ifindex == 0 || a.ifindex == lc->ifindex)
        lc->cb(lc->ctx, &a);
    return MNL_CB_OK;
}

int nl_addr_list(struct nl *nl, int ifindex, int family,
                 void (*cb)(void *ctx, const struct nl_addr_info *a), void *ctx)
{
    struct nl_list_ctx lc = {.ifindex = ifindex, .cb = cb, .ctx = ctx};

    if (family != 0 && family != IP_V4 && family != IP_V6)
        return -EINVAL;
    struct nlmsghdr *nlh = nl_start(nl, RTM_GETADDR, NLM_F_DUMP);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
    ifa->ifa_family = (uint8_t)nl_af((uint8_t)family);
    return nl_talk(nl, nlh, nl_addr_list_cb, &lc);
}

struct nl_primary_ctx {
    bool found;
    bool tentative;
    struct ip_addr addr;
};

static void nl_primary_cb(void *ctx, const struct nl_addr_info *a)
{
    struct nl_primary_ctx *pc = ctx;
    bool wanted =
        a->family == IP_V4 ? a->scope == RT_SCOPE_UNIVERSE : ip_addr_is_v6_linklocal(&a->addr);

    if (pc->found || !wanted)
        return;
    if (a->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) {
        pc->tentative = true;
        return;
    }
    pc->found = true;
    pc->addr = a->addr;
}

int nl_primary_addr(struct nl *nl, int ifindex, int family, struct ip_addr *out)
{
    struct nl_primary_ctx pc = {0};

    if (family != IP_V4 && family != IP_V6)
        return -EINVAL;
    int err = nl_addr_list(nl, ifindex, family, nl_primary_cb, &pc);
    if (err < 0)
        return err;
    if (!pc.found)
        return pc.tentative ? -EAGAIN : -ENOENT;
    *out = pc.addr;
    return 0;
}

/* ---------------------------------------------------------------- sysctls */

static int nl_write_file(const char *path, const char *value)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    size_t len = strlen(value);

    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, value, len);
    int err = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
    close(fd);
    return err;
}

int io_vmac_sysctls(const char *ifname)
{
    static const char *const keys[][2] = {
        {"arp_ignore", "1"}, {"arp_filter", "0"}, {"accept_local", "1"}, {"rp_filter", "0"}};
    char path[128];
    int first = 0;

    if (!nl_name_ok(ifname) || strcmp(ifname, ".") == 0 || strcmp(ifname, "..") == 0)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/%s", ifname, keys[i][0]);
        int err = nl_write_file(path, keys[i][1]);
        if (err < 0 && first == 0)
            first = err;
    }
    return first;
}

int io_if_sysctl_swap(const char *ifname, const char *key, const char *value, char *old, size_t cap)
{
    char path[160];
    ssize_t n = 0;
    int fd;

    if (!nl_name_ok(ifname) || strcmp(ifname, ".") == 0 || strcmp(ifname, "..") == 0 ||
        strchr(key, '/'))
        return -EINVAL;
    snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/%s", ifname, key);
    if (old && cap > 0) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -errno;
        n = read(fd, old, cap - 1);
        close(fd);
        old[n > 0 ? n : 0] = '\0';
        old[strcspn(old, "\n")] = '\0';
    }
    return nl_write_file(path, value);
}

/* ---------------------------------------------------------------- monitor */

int nl_monitor_open(struct nl_monitor *m)
{
    memset(m, 0, sizeof(*m));
    m->fd = -1;
    m->buf = malloc(NL_MON_CAP);
    if (m->buf == NULL)
        return -ENOMEM;
    m->buf_cap = NL_MON_CAP;
    int err = nl_sock_open(&m->sock, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
                           SOCK_NONBLOCK);
    if (err < 0) {
        nl_monitor_close(m);
        return err;
    }
    m->fd = mnl_socket_get_fd(m->sock);
    return 0;
}

void nl_monitor_close(struct nl_monitor *m)
{
    if (m == NULL)
        return;
    if (m->sock != NULL)
        mnl_socket_close(m->sock);
    free(m->buf);
    memset(m, 0, sizeof(*m));
    m->fd = -1;
}

static bool nl_link_event(const struct nlmsghdr *nlh, struct nl_event *ev)
{
    struct nl_link l;

    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg))
        return false;
    nl_parse_link(nlh, &l);
    ev->kind = nlh->nlmsg_type == RTM_DELLINK ? NL_EV_LINK_DEL : NL_EV_LINK;
    ev->ifindex = l.ifindex;
    memcpy(ev->ifname, l.name, sizeof(ev->ifname));
    ev->up = l.up && l.running;
    ev->lower_up = l.lower_up;
    ev->flags = l.flags;
    return true;
}

static bool nl_addr_event(const struct nlmsghdr *nlh, struct nl_event *ev)
{
    struct nl_addr_info a;

    if (!nl_parse_addr(nlh, &a))
        return false;
    ev->kind = nlh->nlmsg_type == RTM_DELADDR ? NL_EV_ADDR_DEL : NL_EV_ADDR_NEW;
    ev->ifindex = a.ifindex;
    memcpy(ev->ifname, a.label, sizeof(ev->ifname));
    ev->flags = a.flags;
    ev->addr = a.addr;
    ev->prefix_len = a.prefix_len;
    return true;
}

struct nl_mon_ctx {
    void (*cb)(void *ctx, const struct nl_event *ev);
    void *ctx;
    int count;
};

static int nl_monitor_cb(const struct nlmsghdr *nlh, void *data)
{
    struct nl_mon_ctx *mc = data;
    struct nl_event ev;
    bool ok = false;

    memset(&ev, 0, sizeof(ev));
    switch (nlh->nlmsg_type) {
    case RTM_NEWLINK:
    case RTM_DELLINK:
        ok = nl_link_event(nlh, &ev);
        break;
    case RTM_NEWADDR:
    case RTM_DELADDR:
        ok = nl_addr_event(nlh, &ev);
        break;
    default:
        break;
    }
    if (ok) {
        mc->cb(mc->ctx, &ev);
        mc->count++;
    }
    return MNL_CB_OK;
}

int nl_monitor_read(struct nl_monitor *m, void (*cb)(void *ctx, const struct nl_event *ev),
                    void *ctx)
{
    struct nl_mon_ctx mc = {.cb = cb, .ctx = ctx};

    for (;;) {
        ssize_t n = mnl_socket_recvfrom(m->sock, m->buf, m->buf_cap);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return mc.count;
            return -errno;
        }
        /* notifications carry seq 0 and portid 0: no filtering by request */
        if (mnl_cb_run(m->buf, (size_t)n, 0, 0, nl_monitor_cb, &mc) == MNL_CB_ERROR && errno != 0 &&
            errno != EPROTO && errno != ESRCH)
            return -errno;
    }
}
