/* DNS_CHECK: one UDP query (class IN, the configured type, 0 meaning SOA as keepalived's
 * default; name default ".") with a random id drawn from the probe environment's rng.
 * keepalived's rule decides (proto/check/dns_msg.c dns_verdict): datagrams with another id or
 * without QR are ignored, our response succeeds with RCODE NOERROR and fails with any other
 * RCODE; answers are not required. An ICMP error (connected socket) fails the check at once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "io/probe_priv.h"
#include "proto/check/dns_msg.h"

struct dns_probe {
    struct probe base;
    uint16_t id;
};

static bool dns_release(struct probe *p)
{
    probe_close_fd(p);
    return true;
}

static const struct probe_ops dns_ops = {.release = dns_release};

static void on_readable(struct io_loop *loop, struct io_watch *w, uint32_t revents)
{
    struct dns_probe *d = w->ctx;
    uint8_t buf[DNS_UDP_MAX * 8];

    for (;;) {
        ssize_t n = recv(d->base.fd, buf, sizeof(buf), 0);
        struct dns_resp r;

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            probe_finish(&d->base, false, "DNS: %s", strerror(errno));
            return;
        }
        switch (dns_verdict(buf, (size_t)n, d->id, &r)) {
        case DNS_V_IGNORE:
            continue;
        case DNS_V_OK:
            probe_finish(&d->base, true, "DNS NOERROR, %u answers", r.ancount);
            return;
        case DNS_V_FAIL:
            probe_finish(&d->base, false, "DNS rcode %u", r.rcode);
            return;
        }
    }
}

static int send_query(struct dns_probe *d)
{
    const struct probe_dns_cfg *c = &d->base.cfg->u.dns;
    uint8_t q[DNS_QUERY_MAX];
    size_t len = dns_query_encode(d->id, c->name ? c->name : ".", c->qtype ? c->qtype : DNS_T_SOA,
                                  q, sizeof(q));

    if (len == 0)
        return -EINVAL;
    if (send(d->base.fd, q, len, 0) != (ssize_t)len)
        return errno ? -errno : -EIO;
    return 0;
}

int probe_dns_start(struct probe_env *env, const struct probe_cfg *cfg, mono_us timeout_us,
                    probe_done_fn *done, void *ctx, struct probe **out)
{
    struct dns_probe *d = calloc(1, sizeof(*d));
    int rc;

    if (d == NULL)
        return -ENOMEM;
    probe_base_init(&d->base, env, cfg, &dns_ops, timeout_us, done, ctx);
    d->id = (uint16_t)rng_next(&env->rng);
    if ((rc = probe_sock_open(&d->base, SOCK_DGRAM, 0)) < 0 ||
        (rc = probe_sock_connect(&d->base, cfg->target.port ? 0 : 53)) < 0 ||
        (rc = probe_watch(&d->base, EPOLLIN, on_readable)) < 0) {
        probe_abort(&d->base);
        return rc;
    }
    errno = 0;
    if ((rc = send_query(d)) == -EINVAL) {
        probe_abort(&d->base);
        return rc;
    }
    if (rc < 0)
        probe_finish_soon(&d->base, false, "DNS send: %s", strerror(-rc));
    *out = &d->base;
    return 0;
}
