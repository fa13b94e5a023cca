/* Notify scripts and FIFO lines (see notify.h for the contract). */
#include "notify.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "io/log.h"

#define NOTIFY_TIMEOUT_US MONO_S(30)

static void script_done(void *ctx, int result)
{
    struct notifier *n = ctx;

    if (result != 0) {
        n->scripts_failed++;
        if (result == -ETIMEDOUT)
            log_warn("notify script timed out and was killed");
        else
            log_warn("notify script exited with status %d", result);
    }
}

/* The run-as identity: the command's own user, else global script_user, else the default. */
static int resolve_identity(const struct notifier *n, const struct cfg_cmd *cmd, uid_t *uid,
                            gid_t *gid)
{
    const char *user = cmd->user ? cmd->user : n->global->script_user;
    const char *group = cmd->user ? cmd->group : n->global->script_group;

    return io_script_resolve_user(user, group, uid, gid);
}

bool notify_refuse_insecure(struct notifier *n, const char *cmdline, uid_t uid)
{
    char prog[4096], why[256];

    if (uid != 0)
        return false; /* an unprivileged script cannot escalate through its own files */
    if (io_script_program(cmdline, prog, sizeof(prog)) < 0)
        return false; /* exec will fail and be logged with the reason */
    if (!io_script_insecure(prog, why, sizeof(why)))
        return false;
    if (n->global->enable_script_security) {
        log_err("script '%s' refused (enable_script_security): %s", prog, why);
        n->scripts_refused++;
        return true;
    }
    log_warn("SECURITY VIOLATION - script '%s' runs as root but %s; set "
             "enable_script_security to refuse it",
             prog, why);
    return false;
}

int notify_run(struct notifier *n, const struct cfg_cmd *cmd, const char *const *extra,
               size_t nextra)
{
    struct io_script_req req = {
        .extra_args = extra,
        .nextra = nextra,
        .timeout_us = NOTIFY_TIMEOUT_US,
        .done = script_done,
        .ctx = n,
    };
    int rc;

    if (!cmd || !cmd->cmdline || !cmd->cmdline[0])
        return 0;
    req.cmdline = cmd->cmdline;
    rc = resolve_identity(n, cmd, &req.uid, &req.gid);
    if (rc < 0) {
        log_err("script '%s': unknown user '%s'", cmd->cmdline,
                cmd->user ? cmd->user : n->global->script_user);
        return rc;
    }
    if (notify_refuse_insecure(n, cmd->cmdline, req.uid))
        return -EPERM;
    rc = io_script_run(n->scripts, &req);
    if (rc < 0) {
        log_err("script '%s' could not start: %s", cmd->cmdline, strerror(-rc));
        return rc;
    }
    n->scripts_run++;
    return 0;
}

static void open_fifo(struct notifier *n, struct io_fifo *f, const struct cfg_cmd *fifo,
                      const struct cfg_cmd *consumer)
{
    const char *args[1];
    int rc;

    f->fd = -1;
    if (!fifo->cmdline)
        return;
    rc = io_fifo_open(f, fifo->cmdline);
    if (rc < 0) {
        log_err("notify FIFO %s: %s", fifo->cmdline, strerror(-rc));
        return;
    }
    /* keepalived passes the FIFO name as the consumer script's last argument. */
    args[0] = fifo->cmdline;
    notify_run(n, consumer, args, 1);
}

void notify_init(struct notifier *n, struct io_scripts *scripts, const struct cfg_global *g)
{
    memset(n, 0, sizeof(*n));
    n->scripts = scripts;
    n->global = g;
    open_fifo(n, &n->fifo, &g->notify_fifo, &g->notify_fifo_script);
    open_fifo(n, &n->vrrp_fifo, &g->vrrp_notify_fifo, &g->vrrp_notify_fifo_script);
}

void notify_fini(struct notifier *n)
{
    if (n->fifo.fd >= 0)
        io_fifo_close(&n->fifo);
    if (n->vrrp_fifo.fd >= 0)
        io_fifo_close(&n->vrrp_fifo);
    n->fifo.fd = n->vrrp_fifo.fd = -1;
}

const char *notify_state_word(enum vrrp_state s)
{
    switch (s) {
    case VRRP_STATE_MASTER:
        return "MASTER";
    case VRRP_STATE_FAULT:
        return "FAULT";
    case VRRP_STATE_STOPPED:
        return "STOP";
    case VRRP_STATE_INIT:
    case VRRP_STATE_BACKUP:
    case VRRP_STATE__COUNT:
        break;
    }
    return "BACKUP";
}

int notify_fifo_line(char *buf, size_t cap, enum notify_who who, const char *name, const char *word,
                     int priority)
{
    return snprintf(buf, cap, "%s \"%s\" %s %d", who == NOTIFY_GROUP ? "GROUP" : "INSTANCE", name,
                    word, priority);
}

static void write_fifos(struct notifier *n, const char *line)
{
    if (n->fifo.fd >= 0)
        io_fifo_write_line(&n->fifo, line);
    if (n->vrrp_fifo.fd >= 0)
        io_fifo_write_line(&n->vrrp_fifo, line);
}

void notify_transition(struct notifier *n, enum notify_who who, const char *name,
                       const struct cfg_cmd *specific, const struct cfg_cmd *generic,
                       const char *word, int priority)
{
    char prio[16], line[512];
    const char *args[4];

    snprintf(prio, sizeof(prio), "%d", priority);
    args[0] = who == NOTIFY_GROUP ? "GROUP" : "INSTANCE";
    args[1] = name;
    args[2] = word;
    args[3] = prio;
    notify_run(n, specific, NULL, 0);
    notify_run(n, generic, args, 4);
    notify_fifo_line(line, sizeof(line), who, name, word, priority);
    write_fifos(n, line);
}
