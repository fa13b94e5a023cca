/* Process-wide system settings (see sys.h). */
#include "io/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int io_rt_priority(int prio)
{
    struct sched_param sp = {.sched_priority = prio};
    int policy = prio ? SCHED_RR : SCHED_OTHER;

    if (prio < 0 || prio > sched_get_priority_max(SCHED_RR))
        return -EINVAL;
    return -pthread_setschedparam(pthread_self(), policy, &sp);
}

int io_lock_memory(void)
{
    return mlockall(MCL_CURRENT | MCL_FUTURE) == 0 ? 0 : -errno;
}

/* Reads a small file into buf (NUL-terminated, trailing newline dropped); 0 or -errno. */
static int read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, cap - 1);
    int err = n < 0 ? -errno : 0;
    close(fd);
    if (err)
        return err;
    buf[n] = '\0';
    if (n > 0 && buf[n - 1] == '\n')
        buf[n - 1] = '\0';
    return 0;
}

/* The pid stored in a pidfile, or 0 when absent or unreadable. */
static pid_t pidfile_pid(const char *path)
{
    char buf[32], *end;

    if (read_small(path, buf, sizeof(buf)) != 0)
        return 0;
    long v = strtol(buf, &end, 10);
    return (end != buf && *end == '\0' && v > 0 && v <= 0x7fffffff) ? (pid_t)v : 0;
}

/* True when pid is alive and runs under our process name. */
static bool is_our_kind(pid_t pid)
{
    char path[64], theirs[64], ours[64];

    if (kill(pid, 0) != 0 && errno != EPERM)
        return false;
    snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
    if (read_small(path, theirs, sizeof(theirs)) != 0)
        return false;
    if (read_small("/proc/self/comm", ours, sizeof(ours)) != 0)
        return false;
    return strcmp(theirs, ours) == 0;
}

int io_pidfile_write(const char *path, pid_t takeover)
{
    pid_t old = pidfile_pid(path);
    char buf[32];

    if (old > 0 && old != getpid() && old != takeover && is_our_kind(old))
        return -EEXIST;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    int err = write(fd, buf, (size_t)n) == n ? 0 : -EIO;
    if (close(fd) != 0 && err == 0)
        err = -errno;
    return err;
}

int io_pidfile_remove(const char *path)
{
    pid_t pid = pidfile_pid(path);

    if (pid == 0 && access(path, F_OK) != 0)
        return -ENOENT;
    if (pid != getpid())
        return -ESRCH;
    return unlink(path) == 0 ? 0 : -errno;
}
