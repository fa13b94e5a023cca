/* Raw VRRP sockets (see vrrp_sock.h for the contracts).
 *
 * IPv4 raw sockets deliver the IP header, which the pure codec parses (vrrp_ip4_parse), and
 * IP_PKTINFO adds the arrival interface. IPv6 raw sockets deliver only the payload: the source
 * comes from the socket address, destination, interface and hop limit from control messages.
 * On send, the source address and outgoing interface travel with each message as PKTINFO,
 * so one socket serves several instances with different sources. */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/addr.h"
#include "proto/vrrp/vrrp_pkt.h"
#include "vrrp_sock.h"

#define IO_VRRP_RCVBUF (1024 * 1024)
#define IO_VRRP_TOS    0xc0 /* precedence "internetwork control" */

static const uint8_t io_vrrp_group4[4] = {224, 0, 0, 18};
static const uint8_t io_vrrp_group6[16] = {0xff, 0x02, [15] = 0x12};

static int io_setopt(int fd, int level, int name, const void *val, socklen_t len)
{
    return setsockopt(fd, level, name, val, len) < 0 ? -errno : 0;
}

static int io_setint(int fd, int level, int name, int val)
{
    return io_setopt(fd, level, name, &val, sizeof(val));
}

/* Binds fd to ifindex by name (SO_BINDTODEVICE), which also proves that the link exists:
 * some kernels accept SO_BINDTOIFINDEX for an index that names no link. */
static int io_bind_dev(int fd, int ifindex)
{
    char name[IF_NAMESIZE];

    if (ifindex <= 0)
        return 0;
    if (if_indextoname((unsigned)ifindex, name) == NULL)
        return -ENODEV;
    return io_setopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, (socklen_t)strlen(name) + 1);
}

static void io_set_rcvbuf(int fd)
{
    if (io_setint(fd, SOL_SOCKET, SO_RCVBUFFORCE, IO_VRRP_RCVBUF) < 0)
        (void)io_setint(fd, SOL_SOCKET, SO_RCVBUF, IO_VRRP_RCVBUF);
}

static int io_vrrp_setup4(int fd, int ifindex, bool join)
{
    struct ip_mreqn mr = {.imr_ifindex = ifindex};
    int err = 0;

    memcpy(&mr.imr_multiaddr, io_vrrp_group4, 4);
    if (join)
        err = io_setopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr));
    if (err == 0 && ifindex > 0) {
        struct ip_mreqn mif = {.imr_ifindex = ifindex};
        err = io_setopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mif, sizeof(mif));
    }
    /* RFC 5798 5.1.1.3: TTL 255, so receivers can tell the advert was not routed. */
    if (err == 0)
        err = io_setint(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0);
    if (err == 0)
        err = io_setint(fd, IPPROTO_IP, IP_MULTICAST_TTL, VRRP_TTL);
    if (err == 0)
        err = io_setint(fd, IPPROTO_IP, IP_TTL, VRRP_TTL);
    if (err == 0)
        err = io_setint(fd, IPPROTO_IP, IP_TOS, IO_VRRP_TOS);
    if (err == 0)
        err = io_setint(fd, IPPROTO_IP, IP_PKTINFO, 1);
    return err;
}

static int io_vrrp_setup6(int fd, int ifindex, bool join)
{
    struct ipv6_mreq mr = {.ipv6mr_interface = (unsigned)ifindex};
    int err = 0;

    memcpy(&mr.ipv6mr_multiaddr, io_vrrp_group6, 16);
    if (join)
        err = io_setopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr));
    if (err == 0 && ifindex > 0)
        err = io_setint(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex);
    /* RFC 5798 5.1.2.3: hop limit 255. No IPV6_CHECKSUM: the codec verifies and counts. */
    if (err == 0)
        err = io_setint(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
    if (err == 0)
        err = io_setint(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, VRRP_TTL);
    if (err == 0)
        err = io_setint(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, VRRP_TTL);
    if (err == 0)
        err = io_setint(fd, IPPROTO_IPV6, IPV6_TCLASS, IO_VRRP_TOS);
    if (err == 0)
        err = io_setint(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1);
    if (err == 0)
        err = io_setint(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
    return err;
}

int io_vrrp_sock_open(int family, int ifindex, bool join_multicast)
{
    int af = family == IP_V4 ? AF_INET : family == IP_V6 ? AF_INET6 : -1;

    if (af < 0 || (join_multicast && ifindex <= 0))
        return -EINVAL;
    int fd = socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, VRRP_IPPROTO);
    if (fd < 0)
        return -errno;
    int err = io_bind_dev(fd, ifindex);
    if (err == 0)
        err = af == AF_INET ? io_vrrp_setup4(fd, ifindex, join_multicast)
                            : io_vrrp_setup6(fd, ifindex, join_multicast);
    if (err < 0) {
        close(fd);
        return err;
    }
    io_set_rcvbuf(fd);
    return fd;
}

/* Control-message space for what we read or write (pktinfo + hop limit, either family). */
#define IO_CMSG_SPACE (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)) + 64)

static void io_rx_cmsg4(struct msghdr *mh, struct io_vrrp_rx *rx)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            rx->ifindex = pi.ipi_ifindex;
        }
    }
}

static void io_rx_cmsg6(struct msghdr *mh, struct io_vrrp_rx *rx)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != IPPROTO_IPV6)
            continue;
        if (c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            rx->ifindex = (int)pi.ipi6_ifindex;
            rx->dst = ip_addr_from_v6(pi.ipi6_addr.s6_addr);
        } else if (c->cmsg_type == IPV6_HOPLIMIT) {
            int hl;
            memcpy(&hl, CMSG_DATA(c), sizeof(hl));
            rx->ttl = (uint8_t)hl;
        }
    }
}

/* Fills rx from an IPv4 datagram (header included) of n bytes at buf. */
static void io_rx_ip4(uint8_t *buf, size_t n, struct io_vrrp_rx *rx)
{
    struct vrrp_ip4_hdr h;

    memset(&h, 0, sizeof(h));
    rx->ip_drop = vrrp_ip4_parse(buf, n, &h);
    rx->src = h.src;
    rx->dst = h.dst;
    rx->ttl = h.ttl;
    if (rx->ip_drop != VRRP_DROP_NONE)
        return;
    rx->msg = buf + h.payload_off;
    rx->len = h.payload_len;
}

/* A datagram larger than the buffer is no valid advert: it is reported as OVERSIZE, with msg
 * and len covering what was read (at least the VRRP header when the IP header fit) so that
 * the caller can still attribute the drop to the VRID it names. */
static void io_rx_truncated(uint8_t *buf, size_t n, int family, struct io_vrrp_rx *rx)
{
    size_t ihl = family == IP_V4 && n > 0 ? (size_t)(buf[0] & 0x0f) * 4 : 0;

    rx->ip_drop = VRRP_DROP_OVERSIZE;
    rx->msg = ihl < n ? buf + ihl : buf;
    rx->len = ihl < n ? n - ihl : 0;
}

int io_vrrp_sock_recv(int fd, int family, uint8_t *buf, size_t cap, struct io_vrrp_rx *rx)
{
    struct sockaddr_in6 from;
    union {
        uint8_t b[IO_CMSG_SPACE];
        struct cmsghdr align;
    } cbuf;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr mh = {.msg_name = &from,
                        .msg_namelen = sizeof(from),
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = cbuf.b,
                        .msg_controllen = sizeof(cbuf.b)};

    memset(rx, 0, sizeof(*rx));
    ssize_t n;
    do
        n = recvmsg(fd, &mh, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    if (family == IP_V4) {
        io_rx_cmsg4(&mh, rx);
        io_rx_ip4(buf, (size_t)n, rx);
    } else {
        rx->src = ip_addr_from_v6(from.sin6_addr.s6_addr);
        io_rx_cmsg6(&mh, rx);
        rx->msg = buf;
        rx->len = (size_t)n;
    }
    if (mh.msg_flags & MSG_TRUNC)
        io_rx_truncated(buf, (size_t)n, family, rx);
    return (int)rx->len;
}

static bool io_has_addr(const struct ip_addr *a, uint8_t family)
{
    return a != NULL && a->family == family;
}

/* Fills dst and the PKTINFO control message for an IPv4 send. */
static void io_tx_prep4(struct msghdr *mh, struct sockaddr_in *sin, int ifindex,
                        const struct ip_addr *src, const struct ip_addr *dst)
{
    struct in_pktinfo pi = {.ipi_ifindex = ifindex};
    struct cmsghdr *c = CMSG_FIRSTHDR(mh);

    sin->sin_family = AF_INET;
    memcpy(&sin->sin_addr, dst->b, 4);
    if (io_has_addr(src, IP_V4))
        memcpy(&pi.ipi_spec_dst, src->b, 4);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(pi));
    memcpy(CMSG_DATA(c), &pi, sizeof(pi));
    mh->msg_controllen = CMSG_SPACE(sizeof(pi));
}

static void io_tx_prep6(struct msghdr *mh, struct sockaddr_in6 *sin6, int ifindex,
                        const struct ip_addr *src, const struct ip_addr *dst)
{
    struct in6_pktinfo pi = {.ipi6_ifindex = (unsigned)ifindex};
    struct cmsghdr *c = CMSG_FIRSTHDR(mh);

    sin6->sin6_family = AF_INET6;
    memcpy(&sin6->sin6_addr, dst->b, 16);
    sin6->sin6_scope_id = (uint32_t)ifindex; /* used for link-local and ff02:: only */
    if (io_has_addr(src, IP_V6))
        memcpy(&pi.ipi6_addr, src->b, 16);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(pi));
    memcpy(CMSG_DATA(c), &pi, sizeof(pi));
    mh->msg_controllen = CMSG_SPACE(sizeof(pi));
}

int io_vrrp_sock_send(int fd, int family, int ifindex, const struct ip_addr *src,
                      const struct ip_addr *dst, const uint8_t *msg, size_t len)
{
    union {
        uint8_t b[IO_CMSG_SPACE];
        struct cmsghdr align;
    } cbuf;
    union {
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } to;
    struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
    struct msghdr mh = {.msg_name = &to,
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = cbuf.b,
                        .msg_controllen = sizeof(cbuf.b)};

    if (dst == NULL || dst->family != family || (family != IP_V4 && family != IP_V6))
        return -EINVAL;
    memset(&to, 0, sizeof(to));
    memset(&cbuf, 0, sizeof(cbuf));
    if (family == IP_V4) {
        io_tx_prep4(&mh, &to.v4, ifindex, src, dst);
        mh.msg_namelen = sizeof(to.v4);
    } else {
        io_tx_prep6(&mh, &to.v6, ifindex, src, dst);
        mh.msg_namelen = sizeof(to.v6);
    }
    ssize_t n;
    do
        n = sendmsg(fd, &mh, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return (size_t)n == len ? 0 : -EIO;
}
