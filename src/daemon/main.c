/* nospofd: command line, start-up, signals, control requests and shutdown.
 *
 * Threads: this (main) thread owns the control socket, the signals and config loading; the
 * VRRP manager runs on a thread of its own (vmgr.h), so parsing a large config on reload or a
 * slow control client never delays an advert. A new config is read and validated here, and
 * only a config without errors is handed to the manager (a bad reload keeps the running
 * config). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "io/clock.h"
#include "io/ctl_server.h"
#include "io/inherit.h"
#include "io/log.h"
#include "io/loop.h"
#include "io/sdnotify.h"
#include "io/sys.h"
#include "lbmgr.h"
#include "status_http.h"
#include "upgrade.h"
#include "vmgr.h"

#define DEFAULT_SOCKET  "/run/nospofd.sock"
#define DEFAULT_PIDFILE "/run/nospofd.pid"

struct opts {
    const char *config;
    const char *pidfile;
    const char *socket;
    const char *config_id;
    bool foreground, to_stderr, detail, test_only;
    int upgrade_fd; /* --upgrade-fd: we replace the process at the other end; else -1 */
};

/* What a binary upgrade needs to start our successor the way we were started: absolute
 * paths, taken at start-up (before a chdir, and before a package swaps the binary). */
struct exec_info {
    char exe[PATH_MAX];
    char config[PATH_MAX];
    char pidfile[PATH_MAX];
    char socket[PATH_MAX];
};

struct daemon {
    struct opts o;
    struct io_loop loop;
    struct io_signals sig;
    struct io_ctl ctl;
    struct vmgr vmgr;
    struct lbmgr lbmgr;
    bool lb_running;
    bool stopping;
    struct io_sd_watchdog wd; /* systemd WatchdogSec=: pings the VRRP thread */
    struct status_http http;  /* nospof_status_listen and the event stream */
    struct exec_info exec;
    mono_us upgrade_drain_us;       /* nospof_upgrade_drain_timeout of the running config */
    pid_t successor;                /* > 0 once a binary upgrade handed everything over */
    struct upgrade_state inherited; /* --upgrade-fd: what the previous process handed over */
};

static void usage(FILE *f)
{
    fprintf(f, "usage: nospofd [-f FILE] [-n] [-l] [-D] [-t] [-p PIDFILE] [-S SOCKET] [-i ID]\n"
               "  -f FILE    configuration (keepalived.conf grammar)\n"
               "  -n         stay in the foreground\n"
               "  -l         log to stderr instead of syslog\n"
               "  -D         detailed (debug) log\n"
               "  -t         check the configuration and exit (0 valid, 1 errors)\n"
               "  -p PIDFILE pid file (default " DEFAULT_PIDFILE ")\n"
               "  -S SOCKET  control socket (default " DEFAULT_SOCKET ")\n"
               "  -i ID      config id for @ID conditionals (default: short hostname)\n");
}

static const char *default_config(void)
{
    if (access("/etc/nospof/nospof.conf", R_OK) == 0)
        return "/etc/nospof/nospof.conf";
    return "/etc/keepalived/keepalived.conf";
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"use-file", required_argument, NULL, 'f'},
        {"dont-fork", no_argument, NULL, 'n'},
        {"log-console", no_argument, NULL, 'l'},
        {"log-detail", no_argument, NULL, 'D'},
        {"config-test", no_argument, NULL, 't'},
        {"pid", required_argument, NULL, 'p'},
        {"socket", required_argument, NULL, 'S'},
        {"config-id", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {"upgrade-fd", required_argument, NULL, 'U'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *o = (struct opts){.pidfile = DEFAULT_PIDFILE, .socket = DEFAULT_SOCKET, .upgrade_fd = -1};
    while ((c = getopt_long(argc, argv, "f:nlDtp:S:i:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            o->config = optarg;
            break;
        case 'n':
            o->foreground = true;
            break;
        case 'l':
            o->to_stderr = true;
            break;
        case 'D':
            o->detail = true;
            break;
        case 't':
            o->test_only = true;
            break;
        case 'p':
            o->pidfile = optarg;
            break;
        case 'S':
            o->socket = optarg;
            break;
        case 'i':
            o->config_id = optarg;
            break;
        case 'U': /* internal: set by `nospofctl upgrade`, see upgrade.h */
            o->upgrade_fd = atoi(optarg);
            o->foreground = true; /* already detached: our parent is the old daemon */
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return -1;
    }
    if (!o->config)
        o->config = default_config();
    return 0;
}

/* Loads and validates a config; prints the diagnostics to f (errors and warnings) and logs
 * them. Returns the cfg, or NULL when it has errors. */
static struct cfg *load_config(const struct opts *o, FILE *f)
{
    struct conf_opts copts = {.config_id = o->config_id};
    struct diags d = {0};
    struct cfg *cfg = cfg_load_file(o->config, &copts, &d);

    if (f)
        diag_print(&d, f);
    for (size_t i = 0; !f && i < d.n; i++)
        (d.v[i].level == DIAG_ERROR ? log_err : log_warn)(
            "%s:%u: %s", d.v[i].file ? d.v[i].file : "", d.v[i].line, d.v[i].msg);
    if (diag_has_errors(&d)) {
        cfg_free(cfg);
        cfg = NULL;
    }
    diag_clear(&d);
    return cfg;
}

/* Starts the load balancer for cfg's virtual servers (it takes a hold of its own). */
static int lb_start(struct daemon *dm, struct cfg *cfg)
{
    int rc = lbmgr_start(&dm->lbmgr, cfg, cfg->global.lb_workers, &dm->inherited);

    if (rc < 0)
        log_err("load balancer: %s", strerror(-rc));
    dm->lb_running = rc == 0;
    return rc;
}

/* "status json": the VRRP document with the virtual servers spliced in before its end. */
static void status_json(void *ctx, struct io_ctl_reply *r)
{
    struct daemon *dm = ctx;
    size_t start = r->len;

    vmgr_status(&dm->vmgr, true, r);
    size_t end = r->len;
    while (end > start && r->buf[end - 1] != '}')
        end--;
    if (end > start)
        r->len = end - 1; /* drop the document's closing brace */
    io_ctl_reply_printf(r, ",\"virtual_servers\":");
    if (dm->lb_running)
        lbmgr_status_json(&dm->lbmgr, r);
    else
        io_ctl_reply_printf(r, "[]");
    io_ctl_reply_printf(r, ",\"data_plane\":");
    if (dm->lb_running)
        lbmgr_dp_json(&dm->lbmgr, r);
    else
        io_ctl_reply_printf(r, "null");
    io_ctl_reply_printf(r, "}\n");
}

static void stopped_cb(void *ctx)
{
    struct daemon *dm = ctx;
    io_loop_stop(&dm->loop); /* thread-safe */
}

static void begin_stop(struct daemon *dm)
{
    if (dm->stopping)
        return;
    dm->stopping = true;
    io_sd_stopping();
    io_sd_watchdog_stop(&dm->wd);
    vmgr_request_stop(&dm->vmgr, stopped_cb, dm);
}

/* Reload: validate first; a config with errors is refused and the running one stays.
 * Writes the errors (refused) or the change summary (applied) to r; returns whether the new
 * config was applied. */
static bool do_reload(struct daemon *dm, struct io_ctl_reply *r)
{
    struct diags d = {0};
    struct conf_opts copts = {.config_id = dm->o.config_id};
    struct cfg *cfg;

    io_sd_reloading(io_clock_now()); /* READY=1 follows whether applied or refused */
    cfg = cfg_load_file(dm->o.config, &copts, &d);
    if (diag_has_errors(&d)) {
        log_err("reload refused: %s has errors; the running configuration stays", dm->o.config);
        for (size_t i = 0; i < d.n; i++) {
            log_err("%s:%u: %s", d.v[i].file ? d.v[i].file : "", d.v[i].line, d.v[i].msg);
            if (r && d.v[i].level == DIAG_ERROR)
                io_ctl_reply_printf(r, "%s:%u: %s\n", d.v[i].file ? d.v[i].file : "", d.v[i].line,
                                    d.v[i].msg);
        }
        cfg_free(cfg);
        diag_clear(&d);
        io_sd_ready();
        status_event_reload(false, dm->o.config);
        return false;
    }
    for (size_t i = 0; i < d.n; i++)
        log_warn("%s:%u: %s", d.v[i].file ? d.v[i].file : "", d.v[i].line, d.v[i].msg);
    diag_clear(&d);
    log_notice("reloading %s", dm->o.config);
    dm->upgrade_drain_us = cfg->global.upgrade_drain_us;
    if (dm->lb_running)
        lbmgr_reload(&dm->lbmgr, cfg, r);
    else if (cfg->nvss > 0 && lb_start(dm, cfg) == 0 && r)
        io_ctl_reply_printf(r, "load balancer started (%zu virtual servers)\n", cfg->nvss);
    status_http_apply(&dm->http, &cfg->global);
    vmgr_reload(&dm->vmgr, cfg, r); /* takes the loader's hold */
    io_sd_ready();
    status_event_reload(true, dm->o.config);
    return true;
}

/* ---- binary upgrade, old side (upgrade.h) ---- */

/* While the successor starts, this (main) loop waits: keep systemd's watchdog fed. */
static void upgrade_wait(void *ctx)
{
    (void)ctx;
    if (io_sd_watchdog_usec() > 0)
        io_sd_notify("WATCHDOG=1");
}

/* Our own command line for the successor (exe: the binary to run). */
static void upgrade_argv(const struct daemon *dm, const char *exe, const char *argv[16])
{
    size_t n = 0;

    argv[n++] = exe;
    argv[n++] = "-n";
    if (dm->o.to_stderr)
        argv[n++] = "-l";
    if (dm->o.detail)
        argv[n++] = "-D";
    argv[n++] = "-f";
    argv[n++] = dm->exec.config;
    argv[n++] = "-p";
    argv[n++] = dm->exec.pidfile;
    argv[n++] = "-S";
    argv[n++] = dm->exec.socket;
    if (dm->o.config_id) {
        argv[n++] = "-i";
        argv[n++] = dm->o.config_id;
    }
    argv[n++] = "--upgrade-fd";
    argv[n++] = "3"; /* UPGRADE_CHILD_FD */
    argv[n] = NULL;
}

/* Everything a successor inherits: VRRP states, real-server states, the sockets. */
static void upgrade_collect(struct daemon *dm, struct upgrade_state *st)
{
    vmgr_export(&dm->vmgr, st);
    if (dm->lb_running)
        lbmgr_export(&dm->lbmgr, st);
    if (upgrade_state_add_fd(st, dm->ctl.fd) < 0)
        log_warn("upgrade: cannot pass the control socket on; the successor binds it anew");
    if (dm->http.srv.fd >= 0 && upgrade_state_add_fd(st, dm->http.srv.fd) < 0)
        log_warn("upgrade: cannot pass the status listener on; the successor binds it anew");
}

/* Once the successor serves: stop accepting, give the VRRP instances up without a
 * transition; the managers' threads end and run() drains the connections. */
static void let_go(struct daemon *dm, pid_t successor)
{
    char msg[64];

    dm->successor = successor;
    dm->stopping = true;
    snprintf(msg, sizeof(msg), "MAINPID=%ld", (long)successor);
    io_sd_notify(msg); /* systemd follows the successor from now on */
    io_sd_watchdog_stop(&dm->wd);
    io_ctl_detach(&dm->ctl);
    http_server_close(&dm->http.srv);
    vmgr_request_abandon(&dm->vmgr, stopped_cb, dm);
}

static void do_upgrade(struct daemon *dm, const char *exe, struct io_ctl_reply *r)
{
    struct upgrade_state st = {0};
    const char *argv[16];
    char err[300];

    if (dm->stopping) {
        io_ctl_reply_printf(r, "error: stopping; no upgrade\n");
        return;
    }
    upgrade_argv(dm, exe && *exe ? exe : dm->exec.exe, argv);
    log_notice("upgrade: starting %s", argv[0]);
    upgrade_collect(dm, &st);
    pid_t pid = upgrade_start((char *const *)argv, &st, upgrade_wait, dm, err, sizeof(err));
    upgrade_state_free(&st);
    if (pid < 0) {
        log_err("upgrade failed: %s; this process carries on", err);
        io_ctl_reply_printf(r, "error: upgrade failed: %s; pid %ld carries on\n", err,
                            (long)getpid());
        return;
    }
    log_notice("upgrade: pid %ld serves now; draining connections for up to %lld s", (long)pid,
               (long long)(dm->upgrade_drain_us / 1000000));
    io_ctl_reply_printf(r,
                        "ok\nupgraded: pid %ld serves now (%s); pid %ld drains its "
                        "connections for up to %lld s\n",
                        (long)pid, argv[0], (long)getpid(),
                        (long long)(dm->upgrade_drain_us / 1000000));
    let_go(dm, pid);
}

static void on_signal(struct io_loop *loop, int signo, void *ctx)
{
    struct daemon *dm = ctx;

    if (signo == SIGHUP) {
        struct io_ctl_reply r = {0};
        do_reload(dm, &r);
        free(r.buf);
    } else {
        begin_stop(dm);
    }
}

static void on_control(void *ctx, const char *line, struct io_ctl_reply *r)
{
    struct daemon *dm = ctx;
    struct io_ctl_reply body = {0};

    if (strcmp(line, "status") == 0) {
        io_ctl_reply_printf(r, "ok\n");
        vmgr_status(&dm->vmgr, false, r);
        if (dm->lb_running)
            lbmgr_control(&dm->lbmgr, "list", &body);
        if (body.len > 3) /* skip the "ok\n" of the lb reply */
            io_ctl_reply_printf(r, "\n%.*s", (int)(body.len - 3), body.buf + 3);
    } else if (strcmp(line, "status json") == 0) {
        io_ctl_reply_printf(r, "ok\n");
        status_json(dm, r);
    } else if (strncmp(line, "lb", 2) == 0 && (line[2] == ' ' || line[2] == '\0')) {
        if (dm->lb_running)
            lbmgr_control(&dm->lbmgr, line[2] ? line + 3 : "list", r);
        else
            io_ctl_reply_printf(r, "error: no virtual_server configured\n");
    } else if (strcmp(line, "reload") == 0) {
        bool applied = do_reload(dm, &body);
        io_ctl_reply_printf(r, applied ? "ok\n"
                                       : "error: configuration refused, the running "
                                         "configuration stays\n");
        if (body.len)
            io_ctl_reply_append(r, body.buf, body.len);
    } else if (strcmp(line, "upgrade") == 0 || strncmp(line, "upgrade ", 8) == 0) {
        do_upgrade(dm, line[7] ? line + 8 : NULL, r);
    } else if (strcmp(line, "stop") == 0) {
        io_ctl_reply_printf(r, "ok\nstopping\n");
        begin_stop(dm);
    } else if (status_events_request(line, r)) {
        /* subscribed: the events follow as they happen */
    } else {
        io_ctl_reply_printf(
            r, "error: unknown request '%s' (status, status json, reload, upgrade, stop)\n", line);
    }
    free(body.buf);
}

static int daemonize(void)
{
    pid_t pid = fork();
    int fd;

    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -errno;
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0)
        return -errno;
    fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    return 0;
}

/* As an upgrade's successor that cannot go on: tell the old process why (it carries on; nothing
 * was taken from it before "ready") and drop what it handed over. */
static void abort_upgrade(struct daemon *dm, const char *why)
{
    if (dm->o.upgrade_fd < 0)
        return;
    upgrade_fail(dm->o.upgrade_fd, why);
    dm->o.upgrade_fd = -1;
    io_inherit_close_rest();
    upgrade_state_free(&dm->inherited);
}

/* A start that cannot go on (VRRP not started): undo what started. */
static int startup_failed(struct daemon *dm, const char *why)
{
    bool successor = dm->o.upgrade_fd >= 0;

    abort_upgrade(dm, why);
    if (dm->lb_running)
        lbmgr_stop(&dm->lbmgr);
    status_http_fini(&dm->http);
    if (successor)
        io_ctl_detach(&dm->ctl); /* the socket file stays the old process's */
    io_ctl_close(&dm->ctl);
    return 2;
}

/* Binary upgrade, new side, everything started: wait until every data-plane worker has
 * taken its inherited sockets, close what the new config does not use, and tell the old
 * process to let go. */
static void take_over(struct daemon *dm)
{
    int rc = io_pidfile_write(dm->o.pidfile, getppid());

    if (rc < 0) /* the old process cannot keep it either: serve, and say so */
        log_err("pid file %s: %s", dm->o.pidfile, strerror(-rc));
    if (dm->lb_running)
        lbmgr_sync(&dm->lbmgr);
    io_inherit_close_rest();
    upgrade_state_free(&dm->inherited);
    upgrade_ready(dm->o.upgrade_fd);
    dm->o.upgrade_fd = -1;
    log_notice("upgrade: took over from pid %ld", (long)getppid());
}

static int run(struct daemon *dm, struct cfg *cfg)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
    int rc;

    signal(SIGPIPE, SIG_IGN);
    if ((rc = io_loop_init(&dm->loop)) < 0 ||
        (rc = io_signals_init(&dm->loop, &dm->sig, sigs, 3, on_signal, dm)) < 0) {
        log_err("event loop: %s", strerror(-rc));
        return 2;
    }
    rc = io_ctl_listen(&dm->loop, &dm->ctl, dm->o.socket, on_control, dm);
    if (rc < 0) {
        log_err("control socket %s: %s", dm->o.socket, strerror(-rc));
        return 2;
    }
    status_http_init(&dm->http, &dm->loop, &dm->ctl, &dm->vmgr, &dm->lbmgr, &dm->lb_running,
                     status_json, dm);
    dm->upgrade_drain_us = cfg->global.upgrade_drain_us;
    /* The manager threads inherit the blocked signal mask set above. */
    if (cfg->nvss > 0 && lb_start(dm, cfg) < 0 && dm->o.upgrade_fd >= 0) {
        cfg_free(cfg);
        return startup_failed(dm, "the load balancer did not start (see the log)");
    }
    rc = vmgr_start(&dm->vmgr, cfg, &dm->inherited);
    if (rc < 0) {
        log_err("VRRP manager: %s", strerror(-rc));
        return startup_failed(dm, "the VRRP manager did not start (see the log)");
    }
    status_http_apply(&dm->http, &cfg->global); /* cfg stays valid until a reload */
    log_notice("nospofd started (config %s, control %s)", dm->o.config, dm->o.socket);
    if (dm->o.upgrade_fd >= 0)
        take_over(dm);
    else
        io_sd_ready();
    io_sd_watchdog_start(&dm->wd, &dm->loop, &dm->vmgr.loop, io_sd_watchdog_usec());
    io_loop_run(&dm->loop);
    io_sd_watchdog_stop(&dm->wd);
    vmgr_join(&dm->vmgr);
    if (dm->lb_running && dm->successor > 0)
        lbmgr_stop_drain(&dm->lbmgr, dm->upgrade_drain_us);
    else if (dm->lb_running)
        lbmgr_stop(&dm->lbmgr);
    status_http_fini(&dm->http);
    io_ctl_close(&dm->ctl);
    io_signals_fini(&dm->loop, &dm->sig);
    io_loop_fini(&dm->loop);
    if (dm->successor > 0)
        log_notice("nospofd stopped (replaced by pid %ld)", (long)dm->successor);
    else
        log_notice("nospofd stopped");
    return 0;
}

/* An absolute form of path (relative to the current directory) into out. */
static void absolute(const char *path, char *out, size_t cap)
{
    char cwd[PATH_MAX];

    if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        snprintf(out, cap, "%s", path);
    else if ((size_t)snprintf(out, cap, "%s/%s", cwd, path) >= cap)
        snprintf(out, cap, "%s", path);
}

static void exec_info_init(struct exec_info *x, const struct opts *o)
{
    ssize_t n = readlink("/proc/self/exe", x->exe, sizeof(x->exe) - 1);
    const char *deleted = " (deleted)"; /* the package replaced the binary under us */

    x->exe[n > 0 ? n : 0] = '\0';
    size_t len = strlen(x->exe), dl = strlen(deleted);
    if (len > dl && strcmp(x->exe + len - dl, deleted) == 0)
        x->exe[len - dl] = '\0';
    absolute(o->config, x->config, sizeof(x->config));
    absolute(o->pidfile, x->pidfile, sizeof(x->pidfile));
    absolute(o->socket, x->socket, sizeof(x->socket));
}

/* --upgrade-fd: receive what the old process hands over before anything else. The watchdog
 * systemd set for the old process is ours once we take over. 0, or 1 after telling the old
 * process why not. */
static int receive_handover(struct daemon *dm)
{
    char err[300], pid[24];
    const char *wd = getenv("WATCHDOG_PID");

    if (upgrade_receive(dm->o.upgrade_fd, &dm->inherited, err, sizeof(err)) < 0) {
        log_err("upgrade: %s", err);
        abort_upgrade(dm, err);
        return 1;
    }
    if (wd && atol(wd) == (long)getppid()) {
        snprintf(pid, sizeof(pid), "%ld", (long)getpid());
        setenv("WATCHDOG_PID", pid, 1);
    }
    log_notice("upgrade: received %zu sockets and %zu states from pid %ld", io_inherit_count(),
               dm->inherited.nrecs, (long)getppid());
    return 0;
}

int main(int argc, char **argv)
{
    static struct daemon dm;
    struct cfg *cfg;
    int rc;

    if (parse_args(argc, argv, &dm.o) < 0)
        return 2;
    exec_info_init(&dm.exec, &dm.o);
    if (dm.o.test_only) {
        cfg = load_config(&dm.o, stderr);
        if (!cfg)
            return 1;
        cfg_free(cfg);
        printf("%s: configuration is valid\n", dm.o.config);
        return 0;
    }
    log_init("nospofd", dm.o.to_stderr, dm.o.detail);
    if (dm.o.upgrade_fd >= 0 && receive_handover(&dm) != 0)
        return 1;
    cfg = load_config(&dm.o, stderr);
    if (!cfg) {
        abort_upgrade(&dm, "the configuration has errors (see the log)");
        return 1;
    }
    if (!dm.o.foreground && daemonize() < 0) {
        log_err("cannot daemonize: %s", strerror(errno));
        cfg_free(cfg);
        return 2;
    }
    /* An upgrade's successor writes the pid file when it takes over (take_over): until then
     * the file names the old process, which carries on if we fail. */
    if (dm.o.upgrade_fd < 0 && (rc = io_pidfile_write(dm.o.pidfile, 0)) < 0) {
        log_err("pid file %s: %s", dm.o.pidfile, strerror(-rc));
        cfg_free(cfg);
        return 2;
    }
    rc = run(&dm, cfg);
    io_pidfile_remove(dm.o.pidfile);
    return rc;
}
