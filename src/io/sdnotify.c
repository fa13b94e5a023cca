/* sd_notify without libsystemd, and the watchdog that pings another loop (see sdnotify.h).
 * A notification is one datagram on a fresh AF_UNIX socket: notifications are rare (start,
 * reload, stop, a watchdog tick every few seconds), so keeping a socket open buys nothing. */
#include "io/sdnotify.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Fills sa from "/path" or "@abstract"; returns the address length, or 0 when malformed. */
static socklen_t notify_addr(const char *path, struct sockaddr_un *sa)
{
    size_t len = strlen(path);

    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (len < 2 || (path[0] != '/' && path[0] != '@') || len > sizeof(sa->sun_path))
        return 0;
    memcpy(sa->sun_path, path, len);
    if (path[0] == '@') {
        sa->sun_path[0] = '\0'; /* abstract: the name is not NUL-terminated */
        return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    }
    if (len == sizeof(sa->sun_path))
        return 0; /* no room for the terminating NUL */
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

int io_sd_notify_to(const char *path, const char *msg)
{
    struct sockaddr_un sa;
    socklen_t salen = notify_addr(path, &sa);
    int fd, rc = 0;

    if (salen == 0)
        return -EINVAL;
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&sa, salen) <
        0)
        rc = -errno;
    close(fd);
    return rc;
}

int io_sd_notify(const char *msg)
{
    const char *path = getenv("NOTIFY_SOCKET");

    if (!path || !*path)
        return 0;
    return io_sd_notify_to(path, msg);
}

int io_sd_ready(void)
{
    return io_sd_notify("READY=1");
}

int io_sd_reloading(mono_us now)
{
    char msg[64];

    snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%" PRId64, now);
    return io_sd_notify(msg);
}

int io_sd_stopping(void)
{
    return io_sd_notify("STOPPING=1");
}

/* Parses a positive decimal without sign or trailing text; 0 when malformed. */
static long long parse_positive(const char *s)
{
    char *end;
    long long v;

    if (!s || *s < '0' || *s > '9')
        return 0;
    errno = 0;
    v = strtoll(s, &end, 10);
    return errno || *end ? 0 : v;
}

mono_us io_sd_watchdog_usec(void)
{
    const char *pid = getenv("WATCHDOG_PID");

    if (pid && parse_positive(pid) != (long long)getpid())
        return 0; /* meant for another process (e.g. our parent before an exec) */
    return (mono_us)parse_positive(getenv("WATCHDOG_USEC"));
}

/* Runs on the watched loop's thread: proves that loop dispatches posts. */
static void watchdog_ping(void *ctx)
{
    struct io_sd_watchdog *wd = ctx;

    atomic_store(&wd->answered, true);
}

bool io_sd_watchdog_tick(struct io_sd_watchdog *wd)
{
    if (wd->pinged && !atomic_load(&wd->answered)) {
        wd->missed++;
        return false;
    }
    io_sd_notify("WATCHDOG=1");
    wd->sent++;
    atomic_store(&wd->answered, false);
    wd->pinged = io_loop_post(wd->watched, watchdog_ping, wd) == 0;
    return true;
}

static void watchdog_timer(struct io_loop *loop, struct io_timer *t)
{
    struct io_sd_watchdog *wd = t->ctx;

    io_sd_watchdog_tick(wd);
    io_timer_arm(loop, &wd->timer, io_loop_now(loop) + wd->interval / 2);
}

void io_sd_watchdog_start(struct io_sd_watchdog *wd, struct io_loop *loop, struct io_loop *watched,
                          mono_us interval)
{
    if (interval <= 0)
        return;
    wd->loop = loop;
    wd->watched = watched;
    wd->interval = interval;
    wd->pinged = false;
    atomic_store(&wd->answered, false);
    io_timer_init(&wd->timer, watchdog_timer, wd);
    io_timer_arm(loop, &wd->timer, io_loop_now(loop)); /* first tick on the next pass */
}

void io_sd_watchdog_stop(struct io_sd_watchdog *wd)
{
    if (wd->loop)
        io_timer_cancel(wd->loop, &wd->timer);
}
