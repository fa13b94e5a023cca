/* The LB manager's health side: each checker's pure core (proto/check/hc) driven with real
 * probes (io/probe), real-server health from its checkers, the virtual server's quorum with
 * hysteresis, and keepalived's notifications (notify_up/down, quorum_up/down, FIFO lines).
 *
 * A real server is up when every one of its checkers is up (keepalived: one failing checker
 * takes it out). Its place in the data plane follows (lbm_publish): in service at its weight,
 * at weight 0 with inhibit_on_failure, or removed. Quorum (keepalived.conf(5)): the sum of the
 * weights of the real servers in service; it is lost below quorum - hysteresis and regained
 * at quorum + hysteresis, and while it is lost the sorry server (if any) takes the traffic. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/addr.h"
#include "io/log.h"
#include "lbmgr.h"
#include "notify.h"
#include "proto/check/hc.h"
#include "status_http.h"

static void fmt_ep(char *buf, size_t cap, const struct ip_addr *a, uint16_t port, const char *proto)
{
    char s[IP_ADDR_STRLEN];
    snprintf(buf, cap, "[%s]:%s:%u", ip_addr_format(a, s, sizeof(s)), proto, port);
}

/* keepalived's LVS FIFO lines: "RS [1.2.3.4]:tcp:80 [192.0.2.1]:tcp:80 UP", "VS ... DOWN". */
static void fifo_line(struct lbmgr *m, const char *line)
{
    if (m->fifo.fd >= 0)
        io_fifo_write_line(&m->fifo, line);
}

static void run_cmd(struct lbmgr *m, const struct cfg_cmd *cmd)
{
    const struct cfg_global *g = &m->cfg->global;
    const char *user = cmd->user ? cmd->user : g->script_user;
    const char *group = cmd->user ? cmd->group : g->script_group;
    struct io_script_req req = {.cmdline = cmd->cmdline, .timeout_us = MONO_S(30)};

    if (!cmd->cmdline || !cmd->cmdline[0])
        return;
    if (io_script_resolve_user(user, group, &req.uid, &req.gid) < 0) {
        log_err("script '%s': unknown user", cmd->cmdline);
        return;
    }
    int rc = io_script_run(&m->scripts, &req);
    if (rc < 0)
        log_err("script '%s' could not start: %s", cmd->cmdline, strerror(-rc));
}

unsigned lbm_alive_weight(const struct lb_vs *vs)
{
    unsigned alive = 0;

    for (size_t i = 0; i < vs->nrss; i++)
        if (lbm_rs_in_service(vs->rss[i]))
            alive += lbm_rs_weight(vs->rss[i]);
    return alive;
}

void lbm_quorum_eval(struct lb_vs *vs, bool initial)
{
    const struct cfg_vs *c = vs->cvs;
    unsigned alive = lbm_alive_weight(vs);
    bool up = vs->quorum_up;
    char ep[128], line[192];

    if (initial)
        up = alive >= c->quorum;
    else if (vs->quorum_up && alive + c->hysteresis < c->quorum)
        up = false;
    else if (!vs->quorum_up && alive >= c->quorum + c->hysteresis)
        up = true;
    if (up == vs->quorum_up && !initial)
        return;
    vs->quorum_up = up;
    if (initial && up)
        return; /* keepalived runs quorum_up at start only on a change */
    log_notice("%s: quorum %s (alive weight %u, quorum %u, hysteresis %u)%s", vs->name,
               up ? "gained" : "lost", alive, c->quorum, c->hysteresis,
               !up && c->has_sorry ? "; the sorry server takes the traffic" : "");
    run_cmd(vs->mgr, up ? &c->quorum_up : &c->quorum_down);
    status_event_quorum(vs->name, up);
    if (vs->nlisten > 0) {
        fmt_ep(ep, sizeof(ep), &vs->listen[0].addr, vs->listen[0].port, lbm_proto_name(vs));
        snprintf(line, sizeof(line), "VS %s %s", ep, up ? "UP" : "DOWN");
        fifo_line(vs->mgr, line);
    }
}

void lbm_rs_health(struct lb_rs *rs, bool up, const char *why)
{
    struct lb_vs *vs = rs->vs;
    char a[IP_ADDR_STRLEN], ep[128], vep[128], line[300];

    if (up == rs->up)
        return;
    rs->up = up;
    rs->since = io_loop_now(&vs->mgr->loop);
    snprintf(rs->why, sizeof(rs->why), "%s", up ? "" : (why ? why : "check failed"));
    up ? rs->ups++ : rs->downs++;
    log_notice("%s: real server %s:%u is %s%s%s", vs->name,
               ip_addr_format(&rs->crs->addr, a, sizeof(a)), rs->crs->port, up ? "UP" : "DOWN",
               up ? "" : ": ", up ? "" : rs->why);
    run_cmd(vs->mgr, up ? &rs->crs->notify_up : &rs->crs->notify_down);
    fmt_ep(ep, sizeof(ep), &rs->crs->addr, rs->crs->port, lbm_proto_name(vs));
    snprintf(line, sizeof(line), rs->crs->addr.family == IP_V6 ? "[%s]:%u" : "%s:%u", a,
             rs->crs->port);
    status_event_rs(vs->name, line, up, rs->why); /* the event stream (nospofctl events) */
    if (vs->nlisten > 0) {
        fmt_ep(vep, sizeof(vep), &vs->listen[0].addr, vs->listen[0].port, lbm_proto_name(vs));
        snprintf(line, sizeof(line), "RS %s %s %s", ep, vep, up ? "UP" : "DOWN");
        fifo_line(vs->mgr, line);
    }
    lbm_quorum_eval(vs, false);
    lbm_publish(vs->mgr);
}

/* A real server is up when every checker is. */
static void rs_recompute(struct lb_rs *rs, const char *why)
{
    bool up = true;

    for (size_t i = 0; i < rs->nchecks; i++)
        up = up && hc_is_up(&rs->checks[i].hc);
    lbm_rs_health(rs, up, why);
}

static void check_feed(struct lb_check *ck, const struct hc_in *in);

static void probe_done(void *ctx, const struct probe_result *r)
{
    struct lb_check *ck = ctx;
    struct hc_in in = {.ev = HC_EV_RESULT, .ok = r->ok};

    ck->probe = NULL;
    ck->last = *r;
    ck->has_last = true;
    lbm_metrics_probe(ck, r);
    if (!r->ok && ck->cc->log_all_failures) {
        char a[IP_ADDR_STRLEN];
        log_info("%s: %s of %s:%u failed: %s", ck->rs->vs->name,
                 probe_kind_name(ck->cc->probe.kind),
                 ip_addr_format(&ck->rs->crs->addr, a, sizeof(a)), ck->rs->crs->port, r->why);
    }
    if (r->ok) {
        /* MISC_CHECK misc_dynamic sets the weight; FILE_CHECK adds value x weight to the
         * configured one (keepalived.conf(5)), clamped to IPVS's 0..65535. */
        int64_t w = r->new_weight >= 0 ? r->new_weight
                    : r->weight_delta  ? (int64_t)ck->rs->crs->weight + r->weight_delta
                                       : -1;
        if (w > 65535)
            w = 65535;
        if (w < -1 || (w < 0 && r->weight_delta))
            w = 0;
        if (w >= 0 && w != ck->rs->dyn_weight) {
            ck->rs->dyn_weight = (int)w;
            lbm_publish(ck->rs->vs->mgr);
        }
    }
    check_feed(ck, &in);
}

static void check_acts(struct lb_check *ck, const struct hc_acts *acts)
{
    struct lbmgr *m = ck->rs->vs->mgr;

    for (unsigned i = 0; i < acts->n; i++) {
        switch (acts->a[i].kind) {
        case HC_ACT_START_PROBE: {
            /* hc's connect timeout is misc_timeout for MISC_CHECK (lbmgr.c rs_new). */
            int rc = probe_start(&m->penv, &ck->cc->probe, ck->hc.cfg.connect_timeout_us,
                                 probe_done, ck, &ck->probe);
            if (rc < 0) {
                struct probe_result r = {.ok = false, .new_weight = -1};
                snprintf(r.why, sizeof(r.why), "probe could not start: %s", strerror(-rc));
                ck->last = r;
                ck->has_last = true;
                struct hc_in in = {.ev = HC_EV_RESULT, .ok = false};
                check_feed(ck, &in);
                return;
            }
            break;
        }
        case HC_ACT_CANCEL_PROBE:
            if (ck->probe)
                probe_cancel(ck->probe);
            ck->probe = NULL;
            break;
        case HC_ACT_UP:
        case HC_ACT_DOWN:
            rs_recompute(ck->rs, ck->has_last ? ck->last.why : hc_why_name(acts->a[i].why));
            break;
        }
    }
}

static void check_rearm(struct lb_check *ck)
{
    struct lbmgr *m = ck->rs->vs->mgr;
    mono_us when = hc_deadline(&ck->hc);

    if (when == MONO_NEVER)
        io_timer_cancel(&m->loop, &ck->timer);
    else
        io_timer_arm(&m->loop, &ck->timer, when);
}

static void check_feed(struct lb_check *ck, const struct hc_in *in)
{
    struct hc_acts acts;

    hc_step(&ck->hc, in, io_loop_now(&ck->rs->vs->mgr->loop), &acts);
    check_acts(ck, &acts);
    check_rearm(ck);
}

static void check_tick(struct io_loop *loop, struct io_timer *t)
{
    struct hc_in in = {.ev = HC_EV_TICK};
    check_feed(t->ctx, &in);
}

void lbm_checks_start(struct lb_rs *rs)
{
    struct lbmgr *m = rs->vs->mgr;

    for (size_t i = 0; i < rs->nchecks; i++) {
        struct lb_check *ck = &rs->checks[i];
        if (ck->hc.state != HC_STOPPED)
            continue;
        struct hc_in in = {.ev = HC_EV_START, .rnd = rng_next(&m->rng), .resume = ck->resume};
        ck->resume = false;
        io_timer_init(&ck->timer, check_tick, ck);
        check_feed(ck, &in);
    }
}

void lbm_checks_stop(struct lb_rs *rs)
{
    for (size_t i = 0; i < rs->nchecks; i++) {
        struct lb_check *ck = &rs->checks[i];
        struct hc_acts acts;
        struct hc_in in = {.ev = HC_EV_STOP};

        hc_step(&ck->hc, &in, io_loop_now(&rs->vs->mgr->loop), &acts);
        if (ck->probe)
            probe_cancel(ck->probe);
        ck->probe = NULL;
        io_timer_cancel(&rs->vs->mgr->loop, &ck->timer);
    }
}
