/* TCP_CHECK: the check succeeds when a non-blocking connect to the target completes
 * (keepalived: "TCP connection ... success"); the connection is then closed at once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "io/probe_priv.h"

static bool tcp_release(struct probe *p)
{
    probe_close_fd(p);
    return true;
}

static const struct probe_ops tcp_ops = {.release = tcp_release};

static void on_connect(struct io_loop *loop, struct io_watch *w, uint32_t revents)
{
    struct probe *p = w->ctx;
    int err = probe_sock_error(p);

    if (err < 0)
        probe_finish(p, false, "connect: %s", strerror(-err));
    else
        probe_finish(p, true, "connected");
}

int probe_tcp_start(struct probe_env *env, const struct probe_cfg *cfg, mono_us timeout_us,
                    probe_done_fn *done, void *ctx, struct probe **out)
{
    struct probe *p = calloc(1, sizeof(*p));
    int rc;

    if (p == NULL)
        return -ENOMEM;
    probe_base_init(p, env, cfg, &tcp_ops, timeout_us, done, ctx);
    rc = probe_sock_open(p, SOCK_STREAM, 0);
    if (rc < 0) {
        probe_abort(p);
        return rc;
    }
    rc = probe_sock_connect(p, 0);
    if (rc < 0)
        probe_finish_soon(p, false, "connect: %s", strerror(-rc));
    else if ((rc = probe_watch(p, EPOLLOUT, on_connect)) < 0) {
        probe_abort(p);
        return rc;
    }
    *out = p;
    return 0;
}
