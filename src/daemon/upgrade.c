/* The binary-upgrade hand-over, both sides (see upgrade.h). */
#include "upgrade.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/fdpass.h"
#include "io/inherit.h"

/* ---- the state container ---- */

static void *grow(void *v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return v;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(v, n * elem);
    if (!p)
        abort();
    *cap = n;
    return p;
}

void upgrade_state_add(struct upgrade_state *st, const struct upgrade_rec *r)
{
    st->recs = grow(st->recs, &st->caprecs, st->nrecs + 1, sizeof(*st->recs));
    st->recs[st->nrecs++] = *r;
}

int upgrade_state_add_fd(struct upgrade_state *st, int fd)
{
    int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);

    if (dup < 0)
        return -errno;
    st->fds = grow(st->fds, &st->capfds, st->nfds + 1, sizeof(*st->fds));
    st->fds[st->nfds++] = dup;
    return 0;
}

static const struct upgrade_rec *find(const struct upgrade_state *st, enum upgrade_rec_kind k,
                                      const char *text)
{
    for (size_t i = 0; st && i < st->nrecs; i++)
        if (st->recs[i].kind == k && strcmp(st->recs[i].text, text) == 0)
            return &st->recs[i];
    return NULL;
}

const struct upgrade_rec *upgrade_state_vrrp(const struct upgrade_state *st, const char *name)
{
    return find(st, UPGRADE_VRRP, name);
}

const struct upgrade_rec *upgrade_state_rs(const struct upgrade_state *st, const char *key)
{
    return find(st, UPGRADE_RS, key);
}

void upgrade_state_free(struct upgrade_state *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->nfds; i++)
        close(st->fds[i]);
    free(st->fds);
    free(st->recs);
    *st = (struct upgrade_state){0};
}

static void set_err(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

/* ---- old side ---- */

static int send_rec(int sock, const struct upgrade_rec *r, const int *fds, size_t nfds)
{
    char line[IO_FDPASS_MAX_MSG];
    size_t n = upgrade_rec_format(r, line, sizeof(line));

    if (n == 0)
        return -EINVAL;
    return io_fdpass_send(sock, line, n, fds, nfds, UPGRADE_MSG_TIMEOUT_MS);
}

/* hello, the descriptors in batches, the records, end. */
static int send_state(int sock, const struct upgrade_state *st)
{
    struct upgrade_rec r = {.kind = UPGRADE_HELLO, .version = UPGRADE_PROTO_VERSION};
    int err = send_rec(sock, &r, NULL, 0);

    for (size_t i = 0; !err && i < st->nfds; i += IO_FDPASS_MAX_FDS) {
        size_t n = st->nfds - i < IO_FDPASS_MAX_FDS ? st->nfds - i : IO_FDPASS_MAX_FDS;
        r = (struct upgrade_rec){.kind = UPGRADE_FDS, .nfds = (unsigned)n};
        err = send_rec(sock, &r, st->fds + i, n);
    }
    for (size_t i = 0; !err && i < st->nrecs; i++)
        err = send_rec(sock, &st->recs[i], NULL, 0);
    r = (struct upgrade_rec){.kind = UPGRADE_END};
    return err ? err : send_rec(sock, &r, NULL, 0);
}

/* In the child between fork and exec: only async-signal-safe calls. */
static void exec_child(int sock, char *const *argv)
{
    sigset_t none;

    if (sock != UPGRADE_CHILD_FD) {
        if (dup2(sock, UPGRADE_CHILD_FD) < 0) /* the copy has no FD_CLOEXEC */
            _exit(127);
    } else if (fcntl(sock, F_SETFD, 0) < 0) {
        _exit(127);
    }
    /* Every descriptor of ours is O_CLOEXEC already; this is the safety net that keeps a
     * proxied connection from living on in the new process if one ever is not. */
    close_range(UPGRADE_CHILD_FD + 1, ~0U, 0);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execv(argv[0], argv);
    _exit(127);
}

/* Waits for the child's answer; the pid it reports, or -errno with err set. */
static pid_t await_ready(int sock, pid_t child, upgrade_wait_fn *wait, void *ctx, char *err,
                         size_t errcap)
{
    char buf[IO_FDPASS_MAX_MSG];
    int fds[1];
    size_t nfds;
    struct upgrade_rec r;

    for (int waited = 0; waited < UPGRADE_READY_TIMEOUT_MS; waited += 1000) {
        long n = io_fdpass_recv(sock, buf, sizeof(buf), fds, 1, &nfds, 1000);
        for (size_t i = 0; i < nfds; i++)
            close(fds[i]);
        if (n == -ETIMEDOUT) {
            if (wait)
                wait(ctx);
            continue;
        }
        if (n <= 0) {
            set_err(err, errcap, "the new process ended before it was ready (see its log)");
            return -ECHILD;
        }
        if (upgrade_rec_parse(buf, (size_t)n, &r) < 0 ||
            (r.kind != UPGRADE_READY && r.kind != UPGRADE_ERROR)) {
            set_err(err, errcap, "the new process answered something unexpected");
            return -EPROTO;
        }
        if (r.kind == UPGRADE_ERROR) {
            set_err(err, errcap, "the new process gave up: %s", r.text);
            return -ECANCELED;
        }
        if (r.pid != child)
            set_err(err, errcap, "note: ready from pid %ld, started %ld", r.pid, (long)child);
        return (pid_t)r.pid;
    }
    set_err(err, errcap, "the new process was not ready within %d s",
            UPGRADE_READY_TIMEOUT_MS / 1000);
    return -ETIMEDOUT;
}

pid_t upgrade_start(char *const *argv, const struct upgrade_state *st, upgrade_wait_fn *wait,
                    void *ctx, char *err, size_t errcap)
{
    int sv[2];

    err[0] = '\0';
    if (access(argv[0], X_OK) != 0) {
        set_err(err, errcap, "%s: %s", argv[0], strerror(errno));
        return -errno;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        set_err(err, errcap, "socketpair: %s", strerror(errno));
        return -errno;
    }
    pid_t child = fork();
    if (child == 0)
        exec_child(sv[1], argv);
    close(sv[1]);
    if (child < 0) {
        int e = errno;
        close(sv[0]);
        set_err(err, errcap, "fork: %s", strerror(e));
        return -e;
    }
    int rc = send_state(sv[0], st);
    pid_t pid = rc < 0 ? rc : await_ready(sv[0], child, wait, ctx, err, errcap);
    if (rc < 0)
        set_err(err, errcap, "handing over to the new process: %s", strerror(-rc));
    close(sv[0]);
    if (pid < 0) {
        kill(child, SIGKILL); /* it has not taken anything over: no clean-up to run */
        waitpid(child, NULL, 0);
    }
    return pid;
}

/* ---- new side ---- */

/* Files the descriptors of one "fds N" message; the count must match. */
static int adopt_fds(const struct upgrade_rec *r, int *fds, size_t nfds, char *err, size_t cap)
{
    if (r->nfds != nfds) {
        for (size_t i = 0; i < nfds; i++)
            close(fds[i]);
        set_err(err, cap, "announced %u descriptors, received %zu", r->nfds, nfds);
        return -EPROTO;
    }
    for (size_t i = 0; i < nfds; i++)
        io_inherit_add(fds[i]); /* an fd it cannot file is closed: bound again instead */
    return 0;
}

/* One record; 1 at "end", 0 to go on, -errno. */
static int receive_one(int sock, struct upgrade_state *st, bool first, char *err, size_t cap)
{
    char buf[IO_FDPASS_MAX_MSG];
    int fds[IO_FDPASS_MAX_FDS];
    size_t nfds;
    struct upgrade_rec r;
    long n = io_fdpass_recv(sock, buf, sizeof(buf), fds, IO_FDPASS_MAX_FDS, &nfds,
                            UPGRADE_MSG_TIMEOUT_MS);

    if (n <= 0) {
        set_err(err, cap, "hand-over: %s", n == 0 ? "the old process closed" : strerror((int)-n));
        return n == 0 ? -EPIPE : (int)n;
    }
    if (upgrade_rec_parse(buf, (size_t)n, &r) < 0 || (first != (r.kind == UPGRADE_HELLO)) ||
        (nfds > 0 && r.kind != UPGRADE_FDS)) {
        for (size_t i = 0; i < nfds; i++)
            close(fds[i]);
        set_err(err, cap, "hand-over: malformed record '%.*s'", (int)(n > 80 ? 80 : n), buf);
        return -EPROTO;
    }
    switch (r.kind) {
    case UPGRADE_HELLO:
        if (r.version != UPGRADE_PROTO_VERSION) {
            set_err(err, cap, "hand-over protocol %u, this binary speaks %u", r.version,
                    UPGRADE_PROTO_VERSION);
            return -EPROTONOSUPPORT;
        }
        return 0;
    case UPGRADE_FDS:
        return adopt_fds(&r, fds, nfds, err, cap);
    case UPGRADE_VRRP:
    case UPGRADE_RS:
        upgrade_state_add(st, &r);
        return 0;
    case UPGRADE_END:
        return 1;
    case UPGRADE_READY:
    case UPGRADE_ERROR:
        break;
    }
    set_err(err, cap, "hand-over: unexpected record");
    return -EPROTO;
}

int upgrade_receive(int sock, struct upgrade_state *st, char *err, size_t errcap)
{
    err[0] = '\0';
    for (bool first = true;; first = false) {
        int rc = receive_one(sock, st, first, err, errcap);
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }
}

void upgrade_ready(int sock)
{
    struct upgrade_rec r = {.kind = UPGRADE_READY, .pid = (long)getpid()};

    send_rec(sock, &r, NULL, 0);
    close(sock);
}

void upgrade_fail(int sock, const char *msg)
{
    struct upgrade_rec r = {.kind = UPGRADE_ERROR};

    snprintf(r.text, sizeof(r.text), "%s", msg && msg[0] ? msg : "unknown error");
    for (char *p = r.text; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    send_rec(sock, &r, NULL, 0);
    close(sock);
}
