/* Health-check probes: dispatch, the common probe life cycle (deadline, deferred results,
 * delivery exactly once), socket helpers shared by the kinds, and the probe environment.
 *
 * A probe is a calloc'ed kind-specific struct whose first member is struct probe. Its life:
 * probe_base_init arms the deadline timer; the kind's callbacks end it with probe_finish
 * (result -> release -> done -> free) or, inside probe_start, with probe_finish_soon (the
 * same from the next loop pass, since done must never run inside probe_start). */
#include "io/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "io/probe_priv.h"

static probe_start_fn *const starters[PROBE__COUNT] = {
    [PROBE_TCP] = probe_tcp_start,   [PROBE_HTTP] = probe_http_start,
    [PROBE_SSL] = probe_http_start,  [PROBE_SMTP] = probe_smtp_start,
    [PROBE_DNS] = probe_dns_start,   [PROBE_PING] = probe_ping_start,
    [PROBE_UDP] = probe_udp_start,   [PROBE_MISC] = probe_misc_start,
    [PROBE_FILE] = probe_file_start,
};

const char *probe_kind_name(enum probe_kind k)
{
    switch (k) {
    case PROBE_TCP:
        return "TCP_CHECK";
    case PROBE_HTTP:
        return "HTTP_GET";
    case PROBE_SSL:
        return "SSL_GET";
    case PROBE_SMTP:
        return "SMTP_CHECK";
    case PROBE_DNS:
        return "DNS_CHECK";
    case PROBE_PING:
        return "PING_CHECK";
    case PROBE_UDP:
        return "UDP_CHECK";
    case PROBE_MISC:
        return "MISC_CHECK";
    case PROBE_FILE:
        return "FILE_CHECK";
    case PROBE__COUNT:
        break;
    }
    return "?";
}

int probe_env_init(struct probe_env *env, struct io_loop *loop, struct io_scripts *scripts)
{
    uint64_t seed = 0;

    memset(env, 0, sizeof(*env));
    env->loop = loop;
    env->scripts = scripts;
    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
        seed = (uint64_t)io_loop_now(loop) ^ ((uint64_t)getpid() << 32);
    rng_seed(&env->rng, seed);
    env->ssl_ctx = probe_ssl_ctx_new();
    return env->ssl_ctx ? 0 : -EPROTO;
}

void probe_env_fini(struct probe_env *env)
{
    if (env == NULL)
        return;
    probe_ssl_ctx_free(env->ssl_ctx);
    env->ssl_ctx = NULL;
}

int probe_start(struct probe_env *env, const struct probe_cfg *cfg, mono_us timeout_us,
                probe_done_fn *done, void *ctx, struct probe **out)
{
    *out = NULL;
    if ((unsigned)cfg->kind >= PROBE__COUNT || done == NULL || timeout_us <= 0)
        return -EINVAL;
    return starters[cfg->kind](env, cfg, timeout_us, done, ctx, out);
}

static void release_and_free(struct probe *p)
{
    io_timer_cancel(p->loop, &p->timer);
    if (p->ops->release(p))
        free(p);
}

void probe_cancel(struct probe *p)
{
    if (p != NULL)
        release_and_free(p);
}

void probe_abort(struct probe *p)
{
    release_and_free(p);
}

static void deliver(struct probe *p)
{
    probe_done_fn *done = p->done;
    void *ctx = p->ctx;
    struct probe_result res = p->res;

    res.rtt_us = io_loop_now(p->loop) - p->start_us;
    release_and_free(p);
    done(ctx, &res);
}

static void set_result(struct probe *p, bool ok, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void set_result(struct probe *p, bool ok, const char *fmt, va_list ap)
{
    p->res.ok = ok;
    if (fmt)
        vsnprintf(p->res.why, sizeof(p->res.why), fmt, ap);
    else
        p->res.why[0] = '\0';
}

void probe_finish(struct probe *p, bool ok, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_result(p, ok, fmt, ap);
    va_end(ap);
    deliver(p);
}

void probe_finish_soon(struct probe *p, bool ok, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_result(p, ok, fmt, ap);
    va_end(ap);
    p->deferred = true;
    io_timer_arm(p->loop, &p->timer, io_loop_now(p->loop));
}

static void on_timer(struct io_loop *loop, struct io_timer *t)
{
    struct probe *p = t->ctx;

    if (p->deferred)
        deliver(p);
    else if (p->ops->on_timeout)
        p->ops->on_timeout(p);
    else
        probe_finish(p, false, "timeout");
}

void probe_base_init(struct probe *p, struct probe_env *env, const struct probe_cfg *cfg,
                     const struct probe_ops *ops, mono_us timeout_us, probe_done_fn *done,
                     void *ctx)
{
    p->env = env;
    p->loop = env->loop;
    p->cfg = cfg;
    p->ops = ops;
    p->done = done;
    p->ctx = ctx;
    p->fd = -1;
    p->res.new_weight = -1;
    p->timeout_us = timeout_us;
    p->start_us = io_loop_now(p->loop);
    io_timer_init(&p->timer, on_timer, p);
    io_timer_arm(p->loop, &p->timer, p->start_us + timeout_us);
}

void probe_rearm(struct probe *p)
{
    io_timer_arm(p->loop, &p->timer, io_loop_now(p->loop) + p->timeout_us);
}

int probe_sockaddr(const struct ip_addr *addr, uint16_t port, struct sockaddr_storage *ss,
                   socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    if (addr->family == IP_V4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        memcpy(&sin->sin_addr, addr->b, 4);
        *len = sizeof(*sin);
        return 0;
    }
    if (addr->family == IP_V6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        memcpy(&sin6->sin6_addr, addr->b, 16);
        *len = sizeof(*sin6);
        return 0;
    }
    return -EAFNOSUPPORT;
}

/* bind_if, fwmark and bindto/bind_port (keepalived's common checker options). */
static int apply_source(int fd, const struct probe_target *t, int family)
{
    struct sockaddr_storage ss;
    socklen_t len;
    struct ip_addr any = {.family = (uint8_t)(family == AF_INET ? IP_V4 : IP_V6)};

    if (t->bind_if[0] &&
        setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, t->bind_if, (socklen_t)strlen(t->bind_if)))
        return -errno;
    if (t->fwmark && setsockopt(fd, SOL_SOCKET, SO_MARK, &t->fwmark, sizeof(t->fwmark)))
        return -errno;
    if (t->bind_addr.family == IP_NONE && t->bind_port == 0)
        return 0;
    /* a fixed source port is reused every delay_loop, while the previous connection from it
     * may still be in TIME_WAIT */
    if (t->bind_port && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int)))
        return -errno;
    if (probe_sockaddr(t->bind_addr.family != IP_NONE ? &t->bind_addr : &any, t->bind_port, &ss,
                       &len))
        return -EAFNOSUPPORT;
    if (ss.ss_family == AF_INET6 && t->bind_if[0])
        ((struct sockaddr_in6 *)&ss)->sin6_scope_id = if_nametoindex(t->bind_if);
    return bind(fd, (struct sockaddr *)&ss, len) ? -errno : 0;
}

int probe_sock_open(struct probe *p, int type, int proto)
{
    const struct probe_target *t = &p->cfg->target;
    int family = t->addr.family == IP_V4 ? AF_INET : AF_INET6;
    int fd, rc;

    if (t->addr.family != IP_V4 && t->addr.family != IP_V6)
        return -EAFNOSUPPORT;
    if (t->bind_addr.family != IP_NONE && t->bind_addr.family != t->addr.family)
        return -EAFNOSUPPORT;
    fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    if (fd < 0)
        return -errno;
    rc = apply_source(fd, t, family);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    p->fd = fd;
    return 0;
}

int probe_sock_connect(struct probe *p, uint16_t port)
{
    const struct probe_target *t = &p->cfg->target;
    struct sockaddr_storage ss;
    socklen_t len;

    if (probe_sockaddr(&t->addr, port ? port : t->port, &ss, &len))
        return -EAFNOSUPPORT;
    if (ss.ss_family == AF_INET6 && t->bind_if[0])
        ((struct sockaddr_in6 *)&ss)->sin6_scope_id = if_nametoindex(t->bind_if);
    if (connect(p->fd, (struct sockaddr *)&ss, len) == 0 || errno == EINPROGRESS)
        return 0;
    return -errno;
}

int probe_sock_error(struct probe *p)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len))
        return -errno;
    return -err;
}

int probe_watch(struct probe *p, uint32_t events,
                void (*cb)(struct io_loop *, struct io_watch *, uint32_t))
{
    if (p->w.added) {
        p->w.cb = cb;
        return p->w.events == events ? 0 : io_watch_mod(p->loop, &p->w, events);
    }
    io_watch_init(&p->w, p->fd, events, cb, p);
    return io_watch_add(p->loop, &p->w);
}

void probe_close_fd(struct probe *p)
{
    if (p->fd < 0)
        return;
    io_watch_del(p->loop, &p->w);
    close(p->fd);
    p->fd = -1;
}
