/* Unit test for the client-address steering program (dp_steer.c) on real reuseport groups:
 * UDP sockets bound to one port on loopback, the program attached, datagrams sent from many
 * source ports (and, for the granularity, several source addresses). Every datagram of one
 * client (or one granularity block) must reach the same socket, and different clients must
 * not all collapse onto one socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/addr.h"
#include "daemon/dp/dp_priv.h"

#define NSOCK 3

/* NSOCK reuseport UDP sockets on addr and a port the kernel chose (returned), with svc's
 * program attached. Not a fixed port: another run of this test at the same time (same user)
 * would join the group, and the kernel would spread datagrams over both runs' sockets. */
static uint16_t group(int af, const char *addr, const struct dp_svc *svc, int *fds)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    struct sock_filter prog[DP_STEER_MAX_INSNS];
    struct sock_fprog fp = {.len = (unsigned short)dp_steer_program(svc, NSOCK, prog),
                            .filter = prog};
    int one = 1;

    if (af == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        inet_pton(AF_INET, addr, &sin->sin_addr);
        len = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, addr, &sin6->sin6_addr);
        len = sizeof(*sin6);
    }
    for (int i = 0; i < NSOCK; i++) {
        fds[i] = socket(af, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        assert_int_equal(setsockopt(fds[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
        assert_int_equal(bind(fds[i], (struct sockaddr *)&ss, len), 0);
        if (i == 0) /* the others join its port */
            assert_int_equal(getsockname(fds[0], (struct sockaddr *)&ss, &len), 0);
    }
    assert_int_equal(setsockopt(fds[0], SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fp, sizeof(fp)), 0);
    return ntohs(af == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                               : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Sends one datagram from src (a new socket: a new source port) to dst; returns the index
 * of the group socket that received it. */
static int lands_on(int af, const char *src, const char *dst, uint16_t port, const int *fds)
{
    struct sockaddr_storage s = {0}, d = {0};
    socklen_t len = af == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    int fd = socket(af, SOCK_DGRAM, 0);
    char b[8];

    s.ss_family = d.ss_family = (sa_family_t)af;
    if (af == AF_INET) {
        inet_pton(AF_INET, src, &((struct sockaddr_in *)&s)->sin_addr);
        inet_pton(AF_INET, dst, &((struct sockaddr_in *)&d)->sin_addr);
        ((struct sockaddr_in *)&d)->sin_port = htons(port);
    } else {
        inet_pton(AF_INET6, src, &((struct sockaddr_in6 *)&s)->sin6_addr);
        inet_pton(AF_INET6, dst, &((struct sockaddr_in6 *)&d)->sin6_addr);
        ((struct sockaddr_in6 *)&d)->sin6_port = htons(port);
    }
    assert_int_equal(bind(fd, (struct sockaddr *)&s, len), 0);
    assert_int_equal(sendto(fd, "x", 1, 0, (struct sockaddr *)&d, len), 1);
    close(fd);
    struct pollfd p[NSOCK];
    for (int i = 0; i < NSOCK; i++)
        p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    assert_true(poll(p, NSOCK, 10000) > 0); /* generous: a loaded machine */
    for (int i = 0; i < NSOCK; i++)
        if (p[i].revents & POLLIN) {
            assert_int_equal(recv(fds[i], b, sizeof(b), 0), 1);
            return i;
        }
    return -1;
}

static void v4_same_client_same_socket_granularity_blocks(void **state)
{
    struct dp_svc svc = {.persist_timeout_us = MONO_S(60), .persist_v4_mask = 0xffffff00u};
    int fds[NSOCK], seen[NSOCK] = {0};

    ip_addr_parse("127.0.0.1", &svc.addr);
    uint16_t port = group(AF_INET, "127.0.0.1", &svc, fds);
    int first = lands_on(AF_INET, "127.0.0.1", "127.0.0.1", port, fds);
    for (int i = 0; i < 20; i++) /* a new source port each time */
        assert_int_equal(lands_on(AF_INET, "127.0.0.1", "127.0.0.1", port, fds), first);
    /* The same /24 block: the same socket; other blocks spread over the group. */
    assert_int_equal(lands_on(AF_INET, "127.0.0.77", "127.0.0.1", port, fds), first);
    for (int b = 1; b <= 30; b++) {
        char src[32];
        snprintf(src, sizeof(src), "127.0.%d.9", b);
        seen[lands_on(AF_INET, src, "127.0.0.1", port, fds)]++;
    }
    for (int i = 0; i < NSOCK; i++)
        assert_true(seen[i] > 0);
    for (int i = 0; i < NSOCK; i++)
        close(fds[i]);
}

static void v6_same_client_same_socket(void **state)
{
    struct dp_svc svc = {.persist_timeout_us = MONO_S(60)};
    int fds[NSOCK];

    ip_addr_parse("::1", &svc.addr);
    uint16_t port = group(AF_INET6, "::1", &svc, fds);
    int first = lands_on(AF_INET6, "::1", "::1", port, fds);
    assert_true(first >= 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(lands_on(AF_INET6, "::1", "::1", port, fds), first);
    for (int i = 0; i < NSOCK; i++)
        close(fds[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v4_same_client_same_socket_granularity_blocks),
        cmocka_unit_test(v6_same_client_same_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
