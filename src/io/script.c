/* The script runner (see script.h for the semantics).
 *
 * io_script_run prepares everything that allocates (word split, PATH search, argv) before
 * fork, so the child only makes async-signal-safe calls: reset signals, new process group,
 * /dev/null on stdio, close other fds, drop privileges, execve. A close-on-exec pipe carries
 * a failure (stage and errno) from the child back to the parent: it is empty after a
 * successful exec. The parent watches the child's pidfd; when it becomes readable the child
 * has exited, so waitpid(WNOHANG) reaps it and the pipe is read without blocking. A timeout is
 * a loop timer that SIGKILLs the process group. */
#include "io/script.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/clock.h"
#include "io/log.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define ERR_FD       3 /* the child's end of the failure pipe */

enum child_stage { STAGE_SETGROUPS, STAGE_SETGID, STAGE_SETUID, STAGE_EXEC };

struct io_script_child {
    struct io_script_child *next;
    struct io_scripts *s;
    pid_t pid;
    int pidfd, errfd;
    bool timed_out;
    uid_t uid;
    gid_t gid;
    struct io_watch w;
    struct io_timer t;
    void (*done)(void *ctx, int result);
    void (*abandoned)(void *ctx);
    void *ctx;
    char *prog; /* owned, for log messages */
};

extern char **environ;

/* ---- command line splitting ---- */

static bool is_meta(char c)
{
    return c != '\0' && strchr("|&;<>()$`*?[]~\n", c) != NULL;
}

struct splitter {
    char *out, *end;
    char **words;
    size_t nwords, cap;
    bool in_word, overflow;
};

static void start_word(struct splitter *sp)
{
    if (sp->in_word)
        return;
    if (sp->nwords < sp->cap)
        sp->words[sp->nwords] = sp->out;
    else
        sp->overflow = true;
    sp->nwords++;
    sp->in_word = true;
}

static void put(struct splitter *sp, char c)
{
    start_word(sp);
    if (sp->out < sp->end)
        *sp->out++ = c;
    else
        sp->overflow = true;
}

static void end_word(struct splitter *sp)
{
    if (sp->in_word)
        put(sp, '\0');
    sp->in_word = false;
}

/* Copies a "..." body starting after the opening quote; returns the position after the
 * closing quote or NULL if unterminated. Inside, \ escapes only $ ` " \ and newline (as in
 * the shell), and an unescaped $ or ` is an expansion, so it needs a shell too. */
static const char *split_dquote(struct splitter *sp, const char *p, bool *has_meta)
{
    start_word(sp); /* "" is an (empty) word */
    for (; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1] && strchr("$`\"\\\n", p[1]))
            p++;
        else if (*p == '$' || *p == '`')
            *has_meta = true;
        put(sp, *p);
    }
    return *p ? p + 1 : NULL;
}

static const char *split_squote(struct splitter *sp, const char *p)
{
    start_word(sp);
    for (; *p && *p != '\''; p++)
        put(sp, *p);
    return *p ? p + 1 : NULL;
}

int io_script_split(const char *cmdline, char *buf, size_t bufsz, char **words, size_t cap,
                    bool *has_meta)
{
    struct splitter sp = {.out = buf, .end = buf + bufsz, .words = words, .cap = cap};
    const char *p = cmdline;

    *has_meta = false;
    while (p && *p) {
        char c = *p++;
        if (c == ' ' || c == '\t') {
            end_word(&sp);
        } else if (c == '\'') {
            p = split_squote(&sp, p);
        } else if (c == '"') {
            p = split_dquote(&sp, p, has_meta);
        } else if (c == '\\' && *p) {
            put(&sp, *p++);
        } else {
            *has_meta |= is_meta(c);
            put(&sp, c);
        }
    }
    if (!p)
        return -EINVAL;
    end_word(&sp);
    return sp.overflow ? -ENOSPC : (int)sp.nwords;
}

/* ---- program lookup ---- */

static bool is_executable_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Resolves a program name through PATH (names with a '/' are taken as they are). */
static int resolve_program(const char *name, char *buf, size_t cap)
{
    if (strchr(name, '/'))
        return snprintf(buf, cap, "%s", name) < (int)cap ? 0 : -ENAMETOOLONG;
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = DEFAULT_PATH;
    while (*path) {
        size_t len = strcspn(path, ":");
        int n = snprintf(buf, cap, "%.*s/%s", (int)len, len ? path : ".", name);
        if (n > 0 && (size_t)n < cap && is_executable_file(buf))
            return 0;
        path += len + (path[len] == ':');
    }
    return -ENOENT;
}

/* Splits cmdline into a fresh allocation; *words (NULL-terminated) points into *store. */
static int split_alloc(const char *cmdline, char **store, char ***words, bool *has_meta)
{
    size_t len = strlen(cmdline);
    size_t cap = len / 2 + 2;

    *store = malloc(len + 1);
    *words = calloc(cap + 1, sizeof(char *));
    if (!*store || !*words)
        abort();
    int n = io_script_split(cmdline, *store, len + 1, *words, cap, has_meta);
    if (n == 0 && !*has_meta)
        n = -EINVAL;
    if (n < 0) {
        free(*store);
        free(*words);
    }
    return n;
}

int io_script_program(const char *cmdline, char *buf, size_t cap)
{
    char *store, **words;
    bool meta;
    int n = split_alloc(cmdline, &store, &words, &meta);

    if (n < 0)
        return n;
    int err = meta ? (snprintf(buf, cap, "/bin/sh") < (int)cap ? 0 : -ENAMETOOLONG)
                   : resolve_program(words[0], buf, cap);
    free(store);
    free(words);
    return err;
}

/* ---- argv construction ---- */

struct launch {
    char *store;  /* words' storage */
    char **words; /* split words */
    char **argv;  /* NULL-terminated */
    char *shcmd;  /* "cmdline \"$@\"" when a shell takes extra args */
    bool shell;
    char path[PATH_MAX];
};

static void launch_free(struct launch *l)
{
    free(l->store);
    free(l->words);
    free(l->argv);
    free(l->shcmd);
}

static void build_shell_argv(struct launch *l, const struct io_script_req *req)
{
    size_t i = 0;

    l->argv = calloc(req->nextra + 5, sizeof(char *));
    if (!l->argv)
        abort();
    snprintf(l->path, sizeof(l->path), "/bin/sh");
    l->argv[i++] = "sh";
    l->argv[i++] = "-c";
    if (req->nextra) {
        size_t n = strlen(req->cmdline) + sizeof(" \"$@\"");
        l->shcmd = malloc(n);
        if (!l->shcmd)
            abort();
        snprintf(l->shcmd, n, "%s \"$@\"", req->cmdline);
        l->argv[i++] = l->shcmd;
        l->argv[i++] = "sh";
    } else {
        l->argv[i++] = (char *)req->cmdline;
    }
    for (size_t k = 0; k < req->nextra; k++)
        l->argv[i++] = (char *)req->extra_args[k];
}

static int build_launch(struct launch *l, const struct io_script_req *req)
{
    bool meta;
    int n = split_alloc(req->cmdline, &l->store, &l->words, &meta);

    if (n < 0)
        return n;
    if (meta) {
        build_shell_argv(l, req);
        l->shell = true;
        return 0;
    }
    l->argv = calloc((size_t)n + req->nextra + 1, sizeof(char *));
    if (!l->argv)
        abort();
    memcpy(l->argv, l->words, (size_t)n * sizeof(char *));
    for (size_t k = 0; k < req->nextra; k++)
        l->argv[(size_t)n + k] = (char *)req->extra_args[k];
    if (resolve_program(l->words[0], l->path, sizeof(l->path)) != 0)
        snprintf(l->path, sizeof(l->path), "%s", l->words[0]); /* exec reports ENOENT */
    return 0;
}

/* ---- the child side (async-signal-safe calls only) ---- */

static void child_fail(int stage)
{
    int msg[2] = {stage, errno};
    ssize_t w = write(ERR_FD, msg, sizeof(msg));

    (void)w;
    _exit(127);
}

static void child_reset_signals(void)
{
    struct sigaction sa = {.sa_handler = SIG_DFL};
    sigset_t none;

    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &sa, NULL); /* fails harmlessly for SIGKILL, SIGSTOP, reserved */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void child_setup_fds(int errfd)
{
    int null = open("/dev/null", O_RDWR);

    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    if (errfd != ERR_FD)
        dup2(errfd, ERR_FD);
    fcntl(ERR_FD, F_SETFD, FD_CLOEXEC);
    close_range(ERR_FD + 1, ~0U, 0);
}

static void child_drop_privileges(uid_t uid, gid_t gid)
{
    if (getuid() == 0 && setgroups(1, &gid) != 0)
        child_fail(STAGE_SETGROUPS);
    if (setgid(gid) != 0)
        child_fail(STAGE_SETGID);
    if (setuid(uid) != 0)
        child_fail(STAGE_SETUID);
}

static void child_main(const struct launch *l, uid_t uid, gid_t gid, int errfd)
{
    child_reset_signals();
    setpgid(0, 0);
    child_setup_fds(errfd);
    if (getuid() != uid || getgid() != gid || geteuid() != uid)
        child_drop_privileges(uid, gid);
    execve(l->path, l->argv, environ);
    child_fail(STAGE_EXEC);
}

/* ---- the parent side ---- */

static void unlink_child(struct io_scripts *s, struct io_script_child *c)
{
    for (struct io_script_child **pp = &s->children; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            s->running--;
            return;
        }
    }
}

static void free_child(struct io_script_child *c)
{
    io_watch_del(c->s->loop, &c->w);
    io_timer_cancel(c->s->loop, &c->t);
    close(c->pidfd);
    close(c->errfd);
    free(c->prog);
    free(c);
}

static const char *stage_name(int stage)
{
    switch (stage) {
    case STAGE_SETGROUPS:
        return "setgroups";
    case STAGE_SETGID:
        return "setgid";
    case STAGE_SETUID:
        return "setuid";
    default:
        return "exec";
    }
}

/* Reads a failure report from the child, if any, and logs it. True when there was one. */
static bool report_child_failure(struct io_script_child *c)
{
    int msg[2];

    if (read(c->errfd, msg, sizeof(msg)) != (ssize_t)sizeof(msg))
        return false;
    log_err("script %s: %s failed (uid %u, gid %u): %s", c->prog, stage_name(msg[0]),
            (unsigned)c->uid, (unsigned)c->gid, strerror(msg[1]));
    c->s->exec_failed++;
    return true;
}

static int child_result(struct io_script_child *c, int status)
{
    if (report_child_failure(c))
        return 127;
    if (c->timed_out)
        return -ETIMEDOUT;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 127;
}

static void child_exited(struct io_loop *loop, struct io_watch *w, uint32_t revents)
{
    struct io_script_child *c = w->ctx;
    int status = 0;

    pid_t r = waitpid(c->pid, &status, WNOHANG);
    if (r == 0)
        return; /* spurious wake-up */
    if (r < 0)
        status = 127 << 8; /* reaped elsewhere (SIGCHLD ignored?) */
    int result = child_result(c, status);
    void (*done)(void *, int) = c->done;
    void *ctx = c->ctx;
    unlink_child(c->s, c);
    free_child(c);
    if (done)
        done(ctx, result);
}

static void child_timeout(struct io_loop *loop, struct io_timer *t)
{
    struct io_script_child *c = t->ctx;

    c->timed_out = true;
    c->s->timed_out++;
    log_warn("script %s (pid %ld) timed out, killing its process group", c->prog, (long)c->pid);
    kill(-c->pid, SIGKILL);
    kill(c->pid, SIGKILL);
}

static struct io_script_child *new_child(struct io_scripts *s, const struct io_script_req *req,
                                         const char *prog)
{
    struct io_script_child *c = calloc(1, sizeof(*c));

    if (!c || !(c->prog = strdup(prog)))
        abort();
    c->s = s;
    c->pidfd = c->errfd = -1;
    c->uid = req->uid;
    c->gid = req->gid;
    c->done = req->done;
    c->abandoned = req->abandoned;
    c->ctx = req->ctx;
    io_watch_init(&c->w, -1, EPOLLIN, child_exited, c);
    io_timer_init(&c->t, child_timeout, c);
    return c;
}

/* Forks the child for l; on success c->pid and c->errfd are set. 0 or -errno. */
static int spawn(struct io_script_child *c, const struct launch *l)
{
    int pipefd[2];

    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return -errno;
    if (pipefd[1] < ERR_FD) { /* keep the child's end clear of stdio */
        int moved = fcntl(pipefd[1], F_DUPFD_CLOEXEC, ERR_FD);
        close(pipefd[1]);
        pipefd[1] = moved;
    }
    pid_t pid = pipefd[1] < 0 ? -1 : fork();
    if (pid == 0)
        child_main(l, c->uid, c->gid, pipefd[1]);
    int err = pid < 0 ? -errno : 0;
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    if (err) {
        close(pipefd[0]);
        return err;
    }
    setpgid(pid, pid); /* also in the child: whichever runs first wins the race */
    c->pid = pid;
    c->errfd = pipefd[0];
    fcntl(c->errfd, F_SETFL, O_NONBLOCK);
    return 0;
}

/* Opens the pidfd and registers the watch and timer. On failure kills and reaps the child. */
static int track(struct io_scripts *s, struct io_script_child *c, mono_us timeout_us)
{
    c->pidfd = pidfd_open(c->pid, 0);
    c->w.fd = c->pidfd;
    int err = c->pidfd < 0 ? -errno : io_watch_add(s->loop, &c->w);
    if (err) {
        kill(-c->pid, SIGKILL);
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
        return err;
    }
    if (timeout_us > 0)
        io_timer_arm(s->loop, &c->t, io_clock_now() + timeout_us);
    return 0;
}

void io_scripts_init(struct io_loop *loop, struct io_scripts *s)
{
    *s = (struct io_scripts){.loop = loop};
}

void io_scripts_fini(struct io_scripts *s)
{
    if (!s)
        return;
    while (s->children) {
        struct io_script_child *c = s->children;
        kill(-c->pid, SIGKILL);
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
        unlink_child(s, c);
        if (c->abandoned)
            c->abandoned(c->ctx);
        free_child(c);
    }
}

int io_script_run(struct io_scripts *s, const struct io_script_req *req)
{
    struct launch l = {0};

    if (!req->cmdline)
        return -EINVAL;
    int err = build_launch(&l, req);
    if (err)
        return err;
    struct io_script_child *c = new_child(s, req, l.shell ? req->cmdline : l.path);
    err = spawn(c, &l);
    launch_free(&l);
    if (err == 0)
        err = track(s, c, req->timeout_us);
    if (err) {
        free_child(c);
        return err;
    }
    log_debug("script %s started (pid %ld)", c->prog, (long)c->pid);
    c->next = s->children;
    s->children = c;
    s->running++;
    s->started++;
    return 0;
}

/* ---- users ---- */

static bool parse_id(const char *s, unsigned long *v)
{
    char *end;

    if (!*s || strspn(s, "0123456789") != strlen(s))
        return false;
    errno = 0;
    *v = strtoul(s, &end, 10);
    return errno == 0 && *v < 0xffffffffUL;
}

/* Looks a user up by name or number; 0 or -ENOENT. *has_pw tells whether *pw_gid is set. */
static int lookup_user(const char *user, uid_t *uid, gid_t *pw_gid, bool *has_pw)
{
    char buf[4096];
    struct passwd pw, *res = NULL;
    unsigned long v;

    if (parse_id(user, &v)) {
        *uid = (uid_t)v;
        getpwuid_r(*uid, &pw, buf, sizeof(buf), &res);
    } else {
        getpwnam_r(user, &pw, buf, sizeof(buf), &res);
        if (!res)
            return -ENOENT;
        *uid = res->pw_uid;
    }
    *has_pw = res != NULL;
    if (res)
        *pw_gid = res->pw_gid;
    return 0;
}

static int lookup_group(const char *group, gid_t *gid)
{
    char buf[4096];
    struct group gr, *res = NULL;
    unsigned long v;

    if (parse_id(group, &v)) {
        *gid = (gid_t)v;
        return 0;
    }
    getgrnam_r(group, &gr, buf, sizeof(buf), &res);
    if (!res)
        return -ENOENT;
    *gid = res->gr_gid;
    return 0;
}

int io_script_resolve_user(const char *user, const char *group, uid_t *uid, gid_t *gid)
{
    gid_t pw_gid = 0;
    bool has_pw = false;

    if (!user) {
        if (lookup_user("keepalived_script", uid, &pw_gid, &has_pw) != 0) {
            *uid = 0;
            pw_gid = 0;
            has_pw = true;
        }
    } else if (lookup_user(user, uid, &pw_gid, &has_pw) != 0) {
        return -ENOENT;
    }
    if (group)
        return lookup_group(group, gid);
    if (!has_pw)
        return -ENOENT; /* a bare uid without a passwd entry has no primary group */
    *gid = pw_gid;
    return 0;
}

/* ---- enable_script_security ---- */

#define MAX_LINKS 40

/* Checks one resolved file or directory; false (with why) when a non-root user may write. */
static bool node_secure(const char *path, char *why, size_t cap)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        snprintf(why, cap, "cannot stat %s: %s", path, strerror(errno));
        return false;
    }
    if (st.st_uid != 0) {
        snprintf(why, cap, "%s is owned by uid %u", path, (unsigned)st.st_uid);
        return false;
    }
    bool sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
    if (!sticky_dir && (st.st_mode & S_IWOTH)) {
        snprintf(why, cap, "%s is world-writable", path);
        return false;
    }
    if (!sticky_dir && (st.st_mode & S_IWGRP) && st.st_gid != 0) {
        snprintf(why, cap, "%s is writable by group %u", path, (unsigned)st.st_gid);
        return false;
    }
    return true;
}

/* Finds the first symlink component of path. Returns its prefix length, 0 when none, -1 on a
 * stat error (why set); *owner receives the link's owner. */
static long first_link(const char *path, uid_t *owner, char *why, size_t cap)
{
    char prefix[PATH_MAX];
    struct stat st;
    size_t len = strlen(path);

    for (size_t i = 1; i <= len; i++) {
        if (i < len && path[i] != '/')
            continue;
        memcpy(prefix, path, i);
        prefix[i] = '\0';
        if (lstat(prefix, &st) != 0) {
            snprintf(why, cap, "cannot stat %s: %s", prefix, strerror(errno));
            return -1;
        }
        if (S_ISLNK(st.st_mode)) {
            *owner = st.st_uid;
            return (long)i;
        }
    }
    return 0;
}

/* Replaces the symlink prefix path[0..plen) by its target, in place. false on error. */
static bool expand_link(char *path, size_t plen, char *why, size_t cap)
{
    char target[PATH_MAX], out[PATH_MAX], link[PATH_MAX];

    memcpy(link, path, plen);
    link[plen] = '\0';
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    if (n < 0) {
        snprintf(why, cap, "cannot read link %s: %s", link, strerror(errno));
        return false;
    }
    target[n] = '\0';
    char *slash = strrchr(link, '/');
    int dirlen = slash ? (int)(slash - link) : 0;
    int m = target[0] == '/'
                ? snprintf(out, sizeof(out), "%s%s", target, path + plen)
                : snprintf(out, sizeof(out), "%.*s/%s%s", dirlen, link, target, path + plen);
    if (m < 0 || (size_t)m >= sizeof(out)) {
        snprintf(why, cap, "path too long below %s", link);
        return false;
    }
    memcpy(path, out, (size_t)m + 1);
    return true;
}

/* Walks every symlink met while resolving path; false when one is owned by non-root. */
static bool links_secure(const char *path, char *why, size_t cap)
{
    char cur[PATH_MAX];

    if (snprintf(cur, sizeof(cur), "%s", path) >= (int)sizeof(cur)) {
        snprintf(why, cap, "path too long");
        return false;
    }
    for (int hops = 0; hops < MAX_LINKS; hops++) {
        uid_t owner = 0;
        long plen = first_link(cur, &owner, why, cap);
        if (plen <= 0)
            return plen == 0;
        if (owner != 0) {
            snprintf(why, cap, "symlink %.*s is owned by uid %u", (int)plen, cur, (unsigned)owner);
            return false;
        }
        if (!expand_link(cur, (size_t)plen, why, cap))
            return false;
    }
    snprintf(why, cap, "too many levels of symbolic links in %s", path);
    return false;
}

bool io_script_insecure(const char *path, char *why, size_t cap)
{
    char real[PATH_MAX];

    if (!links_secure(path, why, cap))
        return true;
    if (!realpath(path, real)) {
        snprintf(why, cap, "cannot resolve %s: %s", path, strerror(errno));
        return true;
    }
    for (;;) {
        if (!node_secure(real, why, cap))
            return true;
        char *slash = strrchr(real, '/');
        if (!slash || slash == real) {
            if (strcmp(real, "/") == 0)
                break;
            real[1] = '\0'; /* check "/" last */
            continue;
        }
        *slash = '\0';
    }
    if (cap)
        why[0] = '\0';
    return false;
}
