/* The VRRP manager's trackers: vrrp_script runs, track_interface link states and track_file
 * values, turned into each instance's effective priority and FAULT condition with the pure
 * arithmetic of proto/vrrp/vrrp_track.
 *
 * Tracker state survives a reload when the tracker keeps its name, so a reload never resets
 * a script's rise/fall count (which could flap a VIP). Track files are watched with inotify on
 * their directories; any change re-reads every file, which is cheap and never misses a rename. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "io/log.h"
#include "proto/vrrp/vrrp.h"
#include "proto/vrrp/vrrp_track.h"
#include "vmgr.h"

#define VMGR_MAX_FILES 64 /* track_files per instance taken into account */

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p)
        abort();
    return p;
}

/* ---- vrrp_script ---- */

static void script_arm(struct vmgr_script *s, mono_us when)
{
    io_timer_arm(&s->mgr->loop, &s->timer, when);
}

static void script_done(void *ctx, int result)
{
    struct vmgr_script *s = ctx;
    bool ok = result == 0;

    s->running = false;
    s->runs++;
    if (!ok)
        s->failures++;
    if (!s->cs) { /* removed by a reload while it ran */
        free(s);
        return;
    }
    if (result == -ETIMEDOUT)
        log_warn("vrrp_script %s timed out", s->cs->name);
    if (vrrp_tracker_feed(&s->trk, ok)) {
        vmgr_event(s->mgr, "vrrp_script %s is %s", s->cs->name, s->trk.up ? "up" : "down");
        vmgr_reprioritize_all(s->mgr);
    }
}

/* Shutdown killed the script (io_scripts_fini): free a script a reload orphaned. */
static void script_abandoned(void *ctx)
{
    struct vmgr_script *s = ctx;

    s->running = false;
    if (!s->cs)
        free(s);
}

static void script_tick(struct io_loop *loop, struct io_timer *t)
{
    struct vmgr_script *s = t->ctx;
    struct io_script_req req = {
        .cmdline = s->cs->cmd.cmdline,
        .timeout_us = s->cs->timeout_us,
        .done = script_done,
        .abandoned = script_abandoned,
        .ctx = s,
    };
    const struct cfg_global *g = &s->mgr->cref->cfg->global;

    script_arm(s, io_loop_now(loop) + s->cs->interval_us);
    if (s->running || s->disabled)
        return; /* the previous run is still going: keepalived skips this interval */
    const char *user = s->cs->cmd.user ? s->cs->cmd.user : g->script_user;
    const char *group = s->cs->cmd.user ? s->cs->cmd.group : g->script_group;
    if (io_script_resolve_user(user, group, &req.uid, &req.gid) < 0) {
        log_err("vrrp_script %s: unknown user '%s'; script disabled", s->cs->name, user);
        s->disabled = true;
        return;
    }
    if (!s->vetted) {
        s->vetted = true;
        if (notify_refuse_insecure(&s->mgr->notify, req.cmdline, req.uid)) {
            log_err("vrrp_script %s disabled", s->cs->name);
            s->disabled = true;
            return;
        }
    }
    if (io_script_run(&s->mgr->scripts, &req) == 0)
        s->running = true;
    else
        script_done(s, 127);
}

static struct vmgr_script *script_find(struct vmgr_script **v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (v[i]->cs && strcmp(v[i]->cs->name, name) == 0)
            return v[i];
    return NULL;
}

/* ---- track_interface ---- */

static struct vmgr_trackif *trackif_get(struct vmgr *m, const char *name)
{
    for (size_t i = 0; i < m->ntrackifs; i++)
        if (strcmp(m->trackifs[i]->name, name) == 0)
            return m->trackifs[i];
    struct vmgr_trackif *t = xcalloc(1, sizeof(*t));
    struct vmgr_if *vif = vmgr_if_get(m, name);
    snprintf(t->name, sizeof(t->name), "%s", name);
    vrrp_tracker_init(&t->trk, 0, false, 1, 1, !vif->up);
    m->trackifs = realloc(m->trackifs, (m->ntrackifs + 1) * sizeof(*m->trackifs));
    if (!m->trackifs)
        abort();
    m->trackifs[m->ntrackifs++] = t;
    return t;
}

void vmgr_track_link_changed(struct vmgr *m, const char *ifname, bool up)
{
    for (size_t i = 0; i < m->ntrackifs; i++) {
        struct vmgr_trackif *t = m->trackifs[i];
        if (strcmp(t->name, ifname) == 0 && t->trk.up != up)
            vrrp_tracker_init(&t->trk, t->trk.weight, t->trk.reverse, 1, 1, !up);
    }
    vmgr_reprioritize_all(m);
}

/* ---- track_file ---- */

static int file_read_value(const char *path, int *value)
{
    char buf[64] = {0};
    FILE *f = fopen(path, "r");
    long v;

    if (!f)
        return -errno;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    v = strtol(buf, NULL, 0); /* keepalived: an empty or non-numeric file reads as 0 */
    *value = v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v;
    return 0;
}

static void file_init(struct vmgr_file *f)
{
    const struct cfg_track_file *cf = f->cf;
    FILE *out;

    if (cf->init_file && (cf->init_overwrite || access(cf->path, F_OK) != 0)) {
        out = fopen(cf->path, "w");
        if (out) {
            fprintf(out, "%d\n", cf->init_value);
            fclose(out);
        } else {
            log_warn("track_file %s: cannot create %s", cf->name, cf->path);
        }
    }
    if (file_read_value(cf->path, &f->value) < 0)
        f->value = 0;
}

static void watch_dir_of(struct vmgr *m, const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');

    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
    if (inotify_add_watch(m->inotify_fd, dir,
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MODIFY) < 0)
        log_warn("track_file: cannot watch %s: %s", dir, strerror(errno));
}

static void inotify_cb(struct io_loop *loop, struct io_watch *w, uint32_t revents)
{
    struct vmgr *m = w->ctx;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool changed = false;

    while (read(m->inotify_fd, buf, sizeof(buf)) > 0)
        ;
    for (size_t i = 0; i < m->nfiles; i++) {
        int v = 0;
        file_read_value(m->files[i]->cf->path, &v);
        if (v != m->files[i]->value) {
            vmgr_event(m, "track_file %s now %d", m->files[i]->cf->name, v);
            m->files[i]->value = v;
            changed = true;
        }
    }
    if (changed)
        vmgr_reprioritize_all(m);
}

/* ---- building and resolving ---- */

int vmgr_track_build(struct vmgr *m)
{
    const struct cfg *cfg = m->cref->cfg;
    struct vmgr_script **old = m->scripts_rt;
    size_t nold = m->nscripts;

    m->scripts_rt = xcalloc(cfg->nscripts, sizeof(*m->scripts_rt));
    m->nscripts = 0;
    for (size_t i = 0; i < cfg->nscripts; i++) {
        const struct cfg_script *cs = &cfg->scripts[i];
        struct vmgr_script *s = script_find(old, nold, cs->name);
        if (s) {
            s->cs = cs; /* keeps its tracker state across the reload */
            s->trk.weight = cs->weight;
            s->trk.reverse = cs->weight_reverse;
            s->trk.rise = cs->rise ? cs->rise : 1;
            s->trk.fall = cs->fall ? cs->fall : 1;
        } else {
            s = xcalloc(1, sizeof(*s));
            s->mgr = m;
            s->cs = cs;
            vrrp_tracker_init(&s->trk, cs->weight, cs->weight_reverse, cs->rise, cs->fall,
                              cs->init_fail);
            io_timer_init(&s->timer, script_tick, s);
        }
        m->scripts_rt[m->nscripts++] = s;
    }
    for (size_t i = 0; i < nold; i++) {
        if (script_find(m->scripts_rt, m->nscripts, old[i]->cs->name) == old[i])
            continue;
        io_timer_cancel(&m->loop, &old[i]->timer);
        old[i]->cs = NULL;
        if (!old[i]->running)
            free(old[i]);
    }
    free(old);

    for (size_t i = 0; i < m->nfiles; i++)
        free(m->files[i]);
    free(m->files);
    m->files = xcalloc(cfg->ntrack_files, sizeof(*m->files));
    m->nfiles = cfg->ntrack_files;
    for (size_t i = 0; i < cfg->ntrack_files; i++) {
        m->files[i] = xcalloc(1, sizeof(**m->files));
        m->files[i]->cf = &cfg->track_files[i];
        file_init(m->files[i]);
        if (m->inotify_fd >= 0)
            watch_dir_of(m, m->files[i]->cf->path);
    }
    return 0;
}

static void add_ref(struct vmgr_refs *r, const struct vrrp_tracker *t,
                    const struct cfg_track_ref *cr)
{
    r->refs = realloc(r->refs, (r->nrefs + 1) * sizeof(*r->refs));
    if (!r->refs)
        abort();
    r->refs[r->nrefs] = vrrp_track_ref_default(t);
    if (cr->weight_set) {
        r->refs[r->nrefs].weight = cr->weight;
        r->refs[r->nrefs].reverse = cr->weight_reverse;
    }
    r->nrefs++;
}

static void add_file_ref(struct vmgr *m, struct vmgr_refs *r, const struct cfg_track_ref *cr)
{
    for (size_t i = 0; i < m->nfiles; i++) {
        if (strcmp(m->files[i]->cf->name, cr->name) != 0)
            continue;
        size_t k = r->nfiles++;
        r->files = realloc(r->files, r->nfiles * sizeof(*r->files));
        r->file_weight = realloc(r->file_weight, r->nfiles * sizeof(int));
        r->file_reverse = realloc(r->file_reverse, r->nfiles * sizeof(bool));
        if (!r->files || !r->file_weight || !r->file_reverse)
            abort();
        r->files[k] = m->files[i];
        r->file_weight[k] = cr->weight_set ? cr->weight : m->files[i]->cf->weight;
        r->file_reverse[k] = cr->weight_set ? cr->weight_reverse : m->files[i]->cf->weight_reverse;
        return;
    }
}

static void resolve_list(struct vmgr *m, struct vmgr_refs *r, const struct cfg_track_ref *scripts,
                         size_t ns, const struct cfg_track_ref *ifs, size_t ni,
                         const struct cfg_track_ref *files, size_t nf)
{
    for (size_t i = 0; i < ns; i++) {
        struct vmgr_script *s = script_find(m->scripts_rt, m->nscripts, scripts[i].name);
        if (s)
            add_ref(r, &s->trk, &scripts[i]);
    }
    for (size_t i = 0; i < ni; i++)
        add_ref(r, &trackif_get(m, ifs[i].name)->trk, &ifs[i]);
    for (size_t i = 0; i < nf; i++)
        add_file_ref(m, r, &files[i]);
}

static void refs_free(struct vmgr_refs *r)
{
    free(r->refs);
    free(r->files);
    free(r->file_weight);
    free(r->file_reverse);
    memset(r, 0, sizeof(*r));
}

void vmgr_track_resolve(struct vmgr_inst *vi)
{
    const struct cfg_instance *ci = vi->ci;
    const struct cfg_sync_group *g = vi->group ? vi->group->cg : NULL;

    refs_free(&vi->track);
    resolve_list(vi->mgr, &vi->track, ci->track_script, ci->ntrack_script, ci->track_if,
                 ci->ntrack_if, ci->track_file, ci->ntrack_file);
    if (g)
        resolve_list(vi->mgr, &vi->track, g->track_script, g->ntrack_script, g->track_if,
                     g->ntrack_if, g->track_file, g->ntrack_file);
}

void vmgr_reprioritize(struct vmgr_inst *vi)
{
    struct vrrp_track_file_val fv[VMGR_MAX_FILES];
    size_t nfiles = vi->track.nfiles < VMGR_MAX_FILES ? vi->track.nfiles : VMGR_MAX_FILES;
    struct vrrp_prio p;
    bool link_fault;

    for (size_t i = 0; i < nfiles; i++)
        fv[i] = (struct vrrp_track_file_val){vi->track.files[i]->value, vi->track.file_weight[i],
                                             vi->track.file_reverse[i]};
    p = vrrp_effective_priority(vi->ci->core.priority, vi->track.refs, vi->track.nrefs, fv, nfiles);
    /* The instance's own interface: down means FAULT unless dont_track_primary. */
    link_fault = vi->vif->ifindex <= 0 || (!vi->vif->up && !vi->ci->dont_track_primary) ||
                 vi->core.cfg.src.family == IP_NONE;
    if (vi->core.state == VRRP_STATE_STOPPED || vi->mgr->shutting_down)
        return;
    if (p.priority != vi->core.eff_priority) {
        struct vrrp_in in = {.kind = VRRP_IN_PRIORITY, .u.priority = p.priority};
        vmgr_feed(vi, &in);
    }
    bool fault = p.fault || link_fault;
    if (fault != (vi->prio_fault || vi->link_fault)) {
        struct vrrp_in in = {.kind = fault ? VRRP_IN_FAULT : VRRP_IN_FAULT_CLEAR,
                             .u.reason = VRRP_WHY_FAULT};
        vi->prio_fault = p.fault;
        vi->link_fault = link_fault;
        vmgr_feed(vi, &in);
    }
    vi->prio_fault = p.fault;
    vi->link_fault = link_fault;
}

void vmgr_reprioritize_all(struct vmgr *m)
{
    for (size_t i = 0; i < m->ninsts; i++)
        vmgr_reprioritize(m->insts[i]);
}

void vmgr_track_start(struct vmgr *m)
{
    for (size_t i = 0; i < m->nscripts; i++) {
        struct vmgr_script *s = m->scripts_rt[i];
        if (!io_timer_armed(&s->timer))
            script_arm(s, io_loop_now(&m->loop));
    }
    if (m->inotify_fd >= 0 && !m->inotify_w.added) {
        io_watch_init(&m->inotify_w, m->inotify_fd, EPOLLIN, inotify_cb, m);
        io_watch_add(&m->loop, &m->inotify_w);
    }
}

void vmgr_track_stop(struct vmgr *m)
{
    for (size_t i = 0; i < m->nscripts; i++)
        io_timer_cancel(&m->loop, &m->scripts_rt[i]->timer);
}

void vmgr_track_free(struct vmgr *m)
{
    vmgr_track_stop(m);
    for (size_t i = 0; i < m->nscripts; i++)
        free(m->scripts_rt[i]);
    for (size_t i = 0; i < m->ntrackifs; i++)
        free(m->trackifs[i]);
    for (size_t i = 0; i < m->nfiles; i++)
        free(m->files[i]);
    for (size_t i = 0; i < m->ninsts; i++)
        refs_free(&m->insts[i]->track);
    free(m->scripts_rt);
    free(m->trackifs);
    free(m->files);
    m->scripts_rt = NULL;
    m->trackifs = NULL;
    m->files = NULL;
    m->nscripts = m->ntrackifs = m->nfiles = 0;
}
