/* SCM_RIGHTS messages over SOCK_SEQPACKET (see fdpass.h). */
#include "io/fdpass.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Waits until sock is ready for events; 0, -ETIMEDOUT or -errno. */
static int wait_for(int sock, short events, int timeout_ms)
{
    struct pollfd p = {.fd = sock, .events = events};

    for (;;) {
        int n = poll(&p, 1, timeout_ms);
        if (n > 0)
            return 0;
        if (n == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

int io_fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds,
                   int timeout_ms)
{
    union {
        char b[CMSG_SPACE(sizeof(int) * IO_FDPASS_MAX_FDS)];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

    if (len == 0 || len > IO_FDPASS_MAX_MSG || nfds > IO_FDPASS_MAX_FDS)
        return -EINVAL;
    if (nfds > 0) {
        memset(&ctl, 0, sizeof(ctl));
        mh.msg_control = ctl.b;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    int err = wait_for(sock, POLLOUT, timeout_ms);
    if (err)
        return err;
    ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EMSGSIZE;
}

/* Moves the descriptors of every SCM_RIGHTS header into fds (closing what does not fit). */
static size_t collect_fds(struct msghdr *mh, int *fds, size_t cap_fds, bool *overflow)
{
    size_t n = 0;

    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (n < cap_fds) {
                fds[n++] = fd;
            } else {
                close(fd);
                *overflow = true;
            }
        }
    }
    return n;
}

long io_fdpass_recv(int sock, void *buf, size_t cap, int *fds, size_t cap_fds, size_t *nfds,
                    int timeout_ms)
{
    union {
        char b[CMSG_SPACE(sizeof(int) * IO_FDPASS_MAX_FDS)];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b)};
    bool overflow = false;

    *nfds = 0;
    int err = wait_for(sock, POLLIN, timeout_ms);
    if (err)
        return err;
    ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0)
        return -errno;
    *nfds = collect_fds(&mh, fds, cap_fds, &overflow);
    if (overflow || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
        for (size_t i = 0; i < *nfds; i++)
            close(fds[i]);
        *nfds = 0;
        return -EMSGSIZE;
    }
    return (long)n;
}
