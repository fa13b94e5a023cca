/* MISC_CHECK: runs misc_path through the script runner (io/script.h) as the configured user
 * (keepalived_script or root by default) with the probe timeout (give misc_timeout) and maps
 * the exit status as keepalived.conf(5) says: 0 success with the weight unchanged; without
 * misc_dynamic any other status fails; with misc_dynamic 1 fails and 2..255 succeed with the
 * weight set to status - 2. A timeout, a signal (reported by the runner as 128 + signo) and
 * an exec failure (127) fail the check even with misc_dynamic, since keepalived only reads
 * the exit code of a script that exited (the runner's 128 + signo cannot be told apart from
 * an exit with that code; it is read as a signal). A cancelled probe whose script still runs
 * stays allocated until the script ends and then frees itself without calling done. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io/probe_priv.h"
#include "io/script.h"

struct misc_probe {
    struct probe base;
    bool running;   /* the script has not ended yet */
    bool cancelled; /* probe_cancel came first: free on the script's end */
};

static bool misc_release(struct probe *p)
{
    struct misc_probe *m = (struct misc_probe *)p;

    if (!m->running)
        return true;
    m->cancelled = true;
    return false;
}

/* The script runner enforces the timeout; ours never fires first (it is armed later). */
static const struct probe_ops misc_ops = {.release = misc_release};

static void judge(struct probe *p, int status)
{
    bool dynamic = p->cfg->u.misc.dynamic;

    if (status == -ETIMEDOUT)
        probe_finish(p, false, "timeout");
    else if (status < 0)
        probe_finish(p, false, "script: %s", strerror(-status));
    else if (status == 0)
        probe_finish(p, true, "exit 0");
    else if (status == 127)
        probe_finish(p, false, "exec failed (exit 127)");
    else if (status > 128 && status < 128 + 65)
        probe_finish(p, false, "killed by signal %d", status - 128);
    else if (dynamic && status >= 2) {
        p->res.new_weight = status - 2; /* "exit status 2-255: svc check success" */
        probe_finish(p, true, "exit %d, weight %d", status, status - 2);
    } else
        probe_finish(p, false, "exit %d", status);
}

/* The runner killed the script at shutdown (io_scripts_fini): a cancelled probe is freed
 * here; one still owned is left for its owner's probe_cancel, which can now free it. */
static void on_abandoned(void *ctx)
{
    struct misc_probe *m = ctx;

    m->running = false;
    if (m->cancelled)
        free(m);
}

static void on_exit_status(void *ctx, int status)
{
    struct misc_probe *m = ctx;

    m->running = false;
    if (m->cancelled) {
        free(m);
        return;
    }
    judge(&m->base, status);
}

int probe_misc_start(struct probe_env *env, const struct probe_cfg *cfg, mono_us timeout_us,
                     probe_done_fn *done, void *ctx, struct probe **out)
{
    const struct probe_misc_cfg *c = &cfg->u.misc;
    struct io_script_req req = {.cmdline = c->cmdline, .timeout_us = timeout_us};
    struct misc_probe *m;
    int rc;

    if (env->scripts == NULL || c->cmdline == NULL)
        return -EINVAL;
    if ((rc = io_script_resolve_user(c->user, c->group, &req.uid, &req.gid)) < 0)
        return rc;
    if ((m = calloc(1, sizeof(*m))) == NULL)
        return -ENOMEM;
    /* our own deadline is a backstop a little after the runner's */
    probe_base_init(&m->base, env, cfg, &misc_ops, timeout_us + MONO_S(1), done, ctx);
    req.done = on_exit_status;
    req.abandoned = on_abandoned;
    req.ctx = m;
    if ((rc = io_script_run(env->scripts, &req)) < 0) {
        probe_abort(&m->base);
        return rc;
    }
    m->running = true;
    *out = &m->base;
    return 0;
}
