/* The script runner: notify and check scripts run as child processes without ever blocking
 * the loop.
 *
 * Semantics follow keepalived. The command line is split into words honouring '...', "..."
 * and backslash escapes; the first word is the program (searched in PATH when it has no '/').
 * If the command line holds a shell metacharacter outside quotes (| & ; < > ( ) $ ` * ? [ ] ~
 * or a newline) it runs as `/bin/sh -c CMDLINE` instead, and extra arguments are then passed
 * as "$@" (`/bin/sh -c 'CMDLINE "$@"' sh ARGS...`). The child gets its own process group,
 * the requested gid/supplementary groups/uid, stdin/stdout/stderr on /dev/null, no other fds,
 * an empty signal mask and default signal dispositions. Its exit is observed by pidfd on the
 * loop; the result passed to done() is the exit status (0..255), 128+signo when killed by a
 * signal, 127 when exec failed (logged with the path and errno), or -ETIMEDOUT when the
 * timeout fired (the whole process group is then killed with SIGKILL). SIGCHLD must not be set
 * to SIG_IGN in the daemon (children would be reaped behind our back). */
#ifndef NOSPOF_IO_SCRIPT_H
#define NOSPOF_IO_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/time-t.h"
#include "io/loop.h"

struct io_script_req {
    const char *cmdline;           /* copied by io_script_run */
    const char *const *extra_args; /* appended after the command line's words; copied */
    size_t nextra;
    uid_t uid;
    gid_t gid;
    mono_us timeout_us;                  /* relative; 0: no timeout */
    void (*done)(void *ctx, int result); /* called once on the loop; may be NULL */
    /* Called instead of done when io_scripts_fini kills the still-running child, so the
     * owner of ctx can release it (done is never called then). May be NULL. */
    void (*abandoned)(void *ctx);
    void *ctx;
};

struct io_script_child; /* private */

struct io_scripts {
    struct io_loop *loop;
    struct io_script_child *children; /* running */
    size_t running;
    uint64_t started, exec_failed, timed_out; /* counters */
};

/* Prepares a runner on loop. Never fails. */
void io_scripts_init(struct io_loop *loop, struct io_scripts *s);

/* Kills every running child's process group with SIGKILL and reaps it; their done() is NOT
 * called, their abandoned() is. Accepts a zeroed s. */
void io_scripts_fini(struct io_scripts *s);

/* Starts the script. 0 (done() will be called later, never from within this call), or -errno
 * if it could not be started (-EINVAL for an empty command line, fork/pidfd errors). */
int io_script_run(struct io_scripts *s, const struct io_script_req *req);

/* Splits cmdline into words (quotes and backslashes as above). Returns the number of words,
 * storing up to cap pointers into buf (size bufsz, NUL-separated), -EINVAL on an unterminated
 * quote, -ENOSPC when buf or words are too small. *has_meta is set when a shell
 * metacharacter appears outside quotes. */
int io_script_split(const char *cmdline, char *buf, size_t bufsz, char **words, size_t cap,
                    bool *has_meta);

/* Writes to buf the program a command line would execute: the first word resolved through
 * PATH (when it has no '/'), or "/bin/sh" when the command line needs a shell. 0 or -errno
 * (-ENOENT when not found in PATH, -EINVAL on a bad command line). */
int io_script_program(const char *cmdline, char *buf, size_t cap);

/* Resolves the run-as user. user NULL: "keepalived_script" if that user exists, else root.
 * group NULL: the user's primary group. Numeric ids are accepted. 0, or -ENOENT for an
 * unknown user or group. */
int io_script_resolve_user(const char *user, const char *group, uid_t *uid, gid_t *gid);

/* keepalived's enable_script_security check: true when path (a program) could be modified by
 * a non-root user: the file or any directory above it (after resolving symlinks) is owned by
 * non-root, or is group-writable with a non-root group, or world-writable (a directory with
 * the sticky bit excepted for group/world write), or a symlink on the way is owned by
 * non-root. why receives a one-line reason (also when the path cannot be checked: that counts
 * as insecure). */
bool io_script_insecure(const char *path, char *why, size_t cap);

#endif
