/* PING_CHECK: one ICMP (or ICMPv6) echo request; the check succeeds on the matching echo
 * reply. It uses an unprivileged ping socket (SOCK_DGRAM, allowed by
 * net.ipv4.ping_group_range; the kernel then owns the identifier and delivers only our
 * replies) and falls back to a raw socket (CAP_NET_RAW), where the identifier is ours to
 * check. This adapter never changes ping_group_range (keepalived may; nospof does not touch
 * sysctls). A reply matches when its sequence number and payload are the ones sent (and, on a
 * raw socket, its identifier). Other ICMP messages are ignored; no reply means timeout. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "io/probe_priv.h"
#include "proto/check/icmp_echo.h"

#define PING_DATA_LEN 16

struct ping_probe {
    struct probe base;
    bool raw;
    uint8_t family; /* 4 or 6 */
    uint16_t id, seq;
    uint8_t data[PING_DATA_LEN];
};

static bool ping_release(struct probe *p)
{
    probe_close_fd(p);
    return true;
}

static const struct probe_ops ping_ops = {.release = ping_release};

static bool matches(const struct ping_probe *g, const uint8_t *buf, size_t len)
{
    struct icmp_echo e;
    size_t off = 0;

    if (g->raw && g->family == 4 && (off = icmp_ip4_payload_off(buf, len)) == 0)
        return false;
    if (icmp_echo_parse(g->family, buf + off, len - off, &e) != ICMP_ECHO_OK)
        return false;
    return e.seq == g->seq && (!g->raw || e.id == g->id) && e.data_len == PING_DATA_LEN &&
           memcmp(e.data, g->data, PING_DATA_LEN) == 0;
}

static void on_readable(struct io_loop *loop, struct io_watch *w, uint32_t revents)
{
    struct ping_probe *g = w->ctx;
    uint8_t buf[1500];

    for (;;) {
        ssize_t n = recv(g->base.fd, buf, sizeof(buf), 0);

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            probe_finish(&g->base, false, "ping: %s", strerror(errno));
            return;
        }
        if (matches(g, buf, (size_t)n)) {
            probe_finish(&g->base, true, "echo reply (%s socket)", g->raw ? "raw" : "ping");
            return;
        }
    }
}

/* A ping socket when allowed, else a raw socket. */
static int open_socket(struct ping_probe *g)
{
    int proto = g->family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
    int rc = probe_sock_open(&g->base, SOCK_DGRAM, proto);

    if (rc == -EACCES || rc == -EPERM || rc == -EPROTONOSUPPORT) {
        g->raw = true;
        rc = probe_sock_open(&g->base, SOCK_RAW, proto);
    }
    return rc;
}

static int send_echo(struct ping_probe *g)
{
    uint8_t pkt[ICMP_ECHO_HDR_LEN + PING_DATA_LEN];
    size_t len;

    for (size_t i = 0; i < PING_DATA_LEN; i++)
        g->data[i] = (uint8_t)rng_next(&g->base.env->rng);
    len = icmp_echo_build(g->family, g->id, g->seq, g->data, PING_DATA_LEN, pkt, sizeof(pkt));
    return send(g->base.fd, pkt, len, 0) == (ssize_t)len ? 0 : -errno;
}

int probe_ping_start(struct probe_env *env, const struct probe_cfg *cfg, mono_us timeout_us,
                     probe_done_fn *done, void *ctx, struct probe **out)
{
    struct ping_probe *g = calloc(1, sizeof(*g));
    int rc;

    if (g == NULL)
        return -ENOMEM;
    probe_base_init(&g->base, env, cfg, &ping_ops, timeout_us, done, ctx);
    g->family = cfg->target.addr.family;
    g->id = (uint16_t)rng_next(&env->rng);
    g->seq = (uint16_t)rng_next(&env->rng);
    if ((rc = open_socket(g)) < 0 || (rc = probe_sock_connect(&g->base, 0)) < 0 ||
        (rc = probe_watch(&g->base, EPOLLIN, on_readable)) < 0) {
        probe_abort(&g->base);
        return rc;
    }
    if ((rc = send_echo(g)) < 0)
        probe_finish_soon(&g->base, false, "ping send: %s", strerror(-rc));
    *out = &g->base;
    return 0;
}
