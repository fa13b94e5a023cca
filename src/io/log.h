/* The daemon log: syslog (LOG_DAEMON) or stderr lines, thread-safe.
 *
 * stderr lines look like "2026-11-21T17:30:00.123 nospofd[1234]: ERROR: message" (local time,
 * levels ERROR WARNING NOTICE INFO DEBUG) and each is emitted with a single write(2), so lines
 * from several threads never interleave. Debug messages are dropped unless "detail" (-D) is
 * on. Before log_init the log writes to stderr with ident "nospofd", without debug. The
 * message is truncated at 4 KiB. Never changes errno. */
#ifndef NOSPOF_IO_LOG_H
#define NOSPOF_IO_LOG_H

#include <stdarg.h>
#include <stdbool.h>

/* Configures the log. ident is copied (truncated to 63 bytes). With to_stderr false, opens
 * syslog with LOG_PID under facility LOG_DAEMON. May be called again to reconfigure. */
void log_init(const char *ident, bool to_stderr, bool detail);

/* Turns debug messages on or off at run time. */
void log_set_detail(bool detail);

/* True when debug messages are emitted (to skip building expensive debug text). */
bool log_debug_enabled(void);

/* Tests: when to_stderr is on, write lines to fd instead of 2 (-1 restores stderr). */
void log_set_fd(int fd);

/* One message at a syslog priority (LOG_ERR ... LOG_DEBUG); a trailing newline is dropped. */
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(int prio, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
