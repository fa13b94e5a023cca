/* UDP_CHECK (keepalived semantics, keepalived.conf(5)): send the payload (a random 16-byte
 * one when none is configured) over a connected UDP socket. With require_reply the check
 * succeeds on a reply whose length lies in [min_reply_len, max_reply_len] and that matches
 * the expected bytes as far as both go (masked nibbles ignored; proto/check/udp_match.c).
 * Without require_reply it relies on ICMP errors: an error reported on the socket (port,
 * host or net unreachable; IP_RECVERR makes all of them visible) fails the check, and
 * reaching the timeout without one is a success. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "io/probe_priv.h"
#include "proto/check/udp_match.h"

struct udp_probe {
    struct probe base;
};

static bool udp_release(struct probe *p)
{
    probe_close_fd(p);
    return true;
}

static void udp_timeout(struct probe *p)
{
    if (p->cfg->u.udp.require_reply)
        probe_finish(p, false, "timeout");
    else
        probe_finish(p, true, "no ICMP error before the timeout");
}

static const struct probe_ops udp_ops = {.release = udp_release, .on_timeout = udp_timeout};

static void on_readable(struct io_loop *loop, struct io_watch *w, uint32_t revents)
{
    struct probe *p = w->ctx;
    const struct probe_udp_cfg *c = &p->cfg->u.udp;
    uint8_t buf[65536];

    for (;;) {
        ssize_t n = recv(p->fd, buf, sizeof(buf), 0);

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            probe_finish(p, false, "UDP: %s", strerror(errno));
            return;
        }
        if (!c->require_reply)
            continue; /* replies are not asked for: keep waiting for an error */
        if (udp_reply_match(buf, (size_t)n, c->reply, c->reply_mask, c->reply ? c->reply_len : 0,
                            c->min_reply_len, c->max_reply_len))
            probe_finish(p, true, "UDP reply of %zd bytes matches", n);
        else
            probe_finish(p, false, "UDP reply of %zd bytes does not match", n);
        return;
    }
}

static int send_payload(struct probe *p)
{
    const struct probe_udp_cfg *c = &p->cfg->u.udp;
    uint8_t rnd[16];
    const uint8_t *data = c->payload;
    size_t len = c->payload_len;

    if (data == NULL || len == 0) { /* keepalived: "otherwise a random payload will be sent" */
        for (size_t i = 0; i < sizeof(rnd); i++)
            rnd[i] = (uint8_t)rng_next(&p->env->rng);
        data = rnd;
        len = sizeof(rnd);
    }
    return send(p->fd, data, len, 0) == (ssize_t)len ? 0 : -errno;
}

static void set_recverr(struct probe *p)
{
    int on = 1;

    if (p->cfg->target.addr.family == IP_V4)
        setsockopt(p->fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
    else
        setsockopt(p->fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof(on));
}

int probe_udp_start(struct probe_env *env, const struct probe_cfg *cfg, mono_us timeout_us,
                    probe_done_fn *done, void *ctx, struct probe **out)
{
    struct udp_probe *u = calloc(1, sizeof(*u));
    struct probe *p = &u->base;
    int rc;

    if (u == NULL)
        return -ENOMEM;
    probe_base_init(p, env, cfg, &udp_ops, timeout_us, done, ctx);
    if ((rc = probe_sock_open(p, SOCK_DGRAM, 0)) < 0 || (rc = probe_sock_connect(p, 0)) < 0 ||
        (rc = probe_watch(p, EPOLLIN, on_readable)) < 0) {
        probe_abort(p);
        return rc;
    }
    set_recverr(p);
    if ((rc = send_payload(p)) < 0)
        probe_finish_soon(p, false, "UDP send: %s", strerror(-rc));
    *out = p;
    return 0;
}
