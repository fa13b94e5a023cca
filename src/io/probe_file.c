/* FILE_CHECK: reads the number in the tracked file (keepalived.conf(5), "Track files"). With
 * weight 0 "a non-zero value in the file will be treated as a failure status, and a zero
 * value will be treated as an OK status". Otherwise the value is multiplied by the weight:
 * the product is reported in weight_delta (keepalived adds it to the real server's weight
 * when the checker is dynamic), and the check fails when the product is at or below
 * -2147483648 ("the checker will be in the FAULT state"). A missing or unreadable file, or
 * text that is not a number, fails the check. The file is small and local: it is read at
 * once, and the result is delivered on the next loop pass. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/probe_priv.h"

static bool file_release(struct probe *p)
{
    return true;
}

static const struct probe_ops file_ops = {.release = file_release};

/* Reads the leading integer of path into *v. 0, -errno, or -EINVAL for no number. */
static int read_value(const char *path, long long *v)
{
    char buf[64], *end;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    ssize_t n;

    if (fd < 0)
        return -errno;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    errno = 0;
    *v = strtoll(buf, &end, 10);
    if (end == buf || errno)
        return -EINVAL;
    return 0;
}

static void judge(struct probe *p, long long v)
{
    const struct probe_file_cfg *c = &p->cfg->u.file;
    long long prod;

    if (c->weight == 0) {
        probe_finish_soon(p, v == 0, "file value %lld", v);
        return;
    }
    if (__builtin_mul_overflow(v, (long long)c->weight, &prod) || prod <= INT32_MIN) {
        probe_finish_soon(p, false, "file value %lld * weight %d: fault", v, c->weight);
        return;
    }
    p->res.weight_delta = prod;
    probe_finish_soon(p, true, "file value %lld * weight %d = %lld", v, c->weight, prod);
}

int probe_file_start(struct probe_env *env, const struct probe_cfg *cfg, mono_us timeout_us,
                     probe_done_fn *done, void *ctx, struct probe **out)
{
    struct probe *p;
    long long v = 0;
    int rc;

    if (cfg->u.file.path == NULL)
        return -EINVAL;
    if ((p = calloc(1, sizeof(*p))) == NULL)
        return -ENOMEM;
    probe_base_init(p, env, cfg, &file_ops, timeout_us, done, ctx);
    rc = read_value(cfg->u.file.path, &v);
    if (rc < 0)
        probe_finish_soon(p, false, "%s: %s", cfg->u.file.path,
                          rc == -EINVAL ? "not a number" : strerror(-rc));
    else
        judge(p, v);
    *out = p;
    return 0;
}
