/* The daemon log (see log.h). Configuration lives in a few process globals guarded by
 * atomics: the log is configured once at start-up (or on a -D toggle) and read from every
 * thread; each line is formatted into a stack buffer and written with one write(2). */
#include "io/log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

static char log_ident[64] = "nospofd";
static atomic_bool log_to_stderr = true;
static atomic_bool log_detail = false;
static atomic_int log_fd = -1;
static atomic_bool log_journal = false; /* stderr is the systemd journal */

/* True when stderr is connected to the journal: $JOURNAL_STREAM names its device:inode
 * (systemd.exec(5)), so a line prefixed "<N>" is stored with priority N and the journal adds
 * its own timestamp. */
static bool stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *ident, bool to_stderr, bool detail)
{
    snprintf(log_ident, sizeof(log_ident), "%s", ident ? ident : "nospofd");
    atomic_store(&log_to_stderr, to_stderr);
    atomic_store(&log_detail, detail);
    atomic_store(&log_journal, to_stderr && stderr_is_journal());
    if (!to_stderr)
        openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_detail(bool detail)
{
    atomic_store(&log_detail, detail);
}

bool log_debug_enabled(void)
{
    return atomic_load(&log_detail);
}

void log_set_fd(int fd)
{
    atomic_store(&log_fd, fd);
}

static const char *level_name(int prio)
{
    switch (prio) {
    case LOG_EMERG:
    case LOG_ALERT:
    case LOG_CRIT:
    case LOG_ERR:
        return "ERROR";
    case LOG_WARNING:
        return "WARNING";
    case LOG_NOTICE:
        return "NOTICE";
    case LOG_INFO:
        return "INFO";
    default:
        return "DEBUG";
    }
}

/* Writes "TIMESTAMP ident[pid]: " to buf; returns its length. */
static size_t stamp(char *buf, size_t cap)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    int m = snprintf(buf + n, cap - n, ".%03ld %s[%ld]: ", ts.tv_nsec / 1000000L, log_ident,
                     (long)getpid());
    return n + (size_t)(m > 0 ? m : 0);
}

static void write_stderr_line(int prio, const char *msg)
{
    char line[LOG_LINE_MAX + 160];
    size_t n = 0;
    int m;

    if (atomic_load(&log_journal) && atomic_load(&log_fd) < 0)
        m = snprintf(line, sizeof(line), "<%d>%s: %s\n", prio & 7, level_name(prio), msg);
    else {
        n = stamp(line, sizeof(line));
        m = snprintf(line + n, sizeof(line) - n, "%s: %s\n", level_name(prio), msg);
    }

    if (m < 0)
        return;
    n += (size_t)m;
    if (n >= sizeof(line)) {
        n = sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    int fd = atomic_load(&log_fd);
    ssize_t w = write(fd >= 0 ? fd : STDERR_FILENO, line, n);
    (void)w;
}

void log_vmsg(int prio, const char *fmt, va_list ap)
{
    int saved = errno;
    char msg[LOG_LINE_MAX];

    if (prio >= LOG_DEBUG && !atomic_load(&log_detail))
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t len = strlen(msg);
    if (len && msg[len - 1] == '\n')
        msg[len - 1] = '\0';
    if (atomic_load(&log_to_stderr))
        write_stderr_line(prio, msg);
    else
        syslog(LOG_DAEMON | prio, "%s", msg);
    errno = saved;
}

void log_msg(int prio, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(prio, fmt, ap);
    va_end(ap);
}

#define LOG_FN(name, prio)                                                                         \
    void name(const char *fmt, ...)                                                                \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_vmsg(prio, fmt, ap);                                                                   \
        va_end(ap);                                                                                \
    }

LOG_FN(log_err, LOG_ERR)
LOG_FN(log_warn, LOG_WARNING)
LOG_FN(log_notice, LOG_NOTICE)
LOG_FN(log_info, LOG_INFO)
LOG_FN(log_debug, LOG_DEBUG)
