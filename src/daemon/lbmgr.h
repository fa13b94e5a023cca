/* The load-balancer manager (see lbmgr-t.h): virtual servers, health checks, quorum and the
 * data plane. Other threads call only the thread-safe entry points below. */
#ifndef NOSPOF_DAEMON_LBMGR_H
#define NOSPOF_DAEMON_LBMGR_H

#include "io/ctl_server.h"
#include "lbmgr-t.h"
#include "upgrade.h"

/* Starts the manager on cfg (held, not owned: the caller keeps its own hold): the data plane
 * with nworkers workers (0: one per CPU), the checkers and the thread. resume (may be NULL)
 * is what a binary upgrade handed over: the real servers it names start with its health and
 * admin state; it must stay valid until lbmgr_sync returned. -errno on failure. */
int lbmgr_start(struct lbmgr *m, struct cfg *cfg, unsigned nworkers,
                const struct upgrade_state *resume);

/* Returns once the manager has built its first runtime and every data-plane worker serves it
 * (their sockets open). Thread-safe, not on the manager's thread. */
void lbmgr_sync(struct lbmgr *m);

/* Binary upgrade, old side: appends a record per real server (health, admin state) and a
 * duplicate of every data-plane socket to st. Thread-safe, not on the manager's thread. */
void lbmgr_export(struct lbmgr *m, struct upgrade_state *st);

/* Binary upgrade, old side, after the successor is ready: stops like lbmgr_stop, but lets
 * established connections finish for up to drain_us (HTTP clients are told to close). */
void lbmgr_stop_drain(struct lbmgr *m, mono_us drain_us);

/* Stops the checkers and the data plane (connections may finish for a bounded time) and
 * joins the thread; frees everything. Accepts a manager that was never started. */
void lbmgr_stop(struct lbmgr *m);

/* Moves to a new validated config (held by the manager from now on): unchanged real servers
 * keep their health, listeners that stay keep their sockets. Summary lines go to r. */
void lbmgr_reload(struct lbmgr *m, struct cfg *cfg, struct io_ctl_reply *r);

/* The `lb ...` control requests (after the "lb " prefix): list [stats|rate] [json],
 * weight VS RS N, drain VS RS, disable VS RS, enable VS RS. Writes "ok\n" or "error: ...\n"
 * and the body to r. Thread-safe (runs on the manager's thread). */
void lbmgr_control(struct lbmgr *m, const char *args, struct io_ctl_reply *r);

/* The "virtual_servers" JSON array for `status json`. Thread-safe. */
void lbmgr_status_json(struct lbmgr *m, struct io_ctl_reply *r);

/* The "data_plane" JSON object (summed worker counters) for `status json`. Thread-safe. */
void lbmgr_dp_json(struct lbmgr *m, struct io_ctl_reply *r);

/* Appends the load-balancer metrics in Prometheus text format (docs/metrics.md) to r. Blocks
 * until done (runs on the manager's thread). Thread-safe. lbmgr_metrics.c. */
void lbmgr_metrics(struct lbmgr *m, struct io_ctl_reply *r);

/* --- internal to lbmgr*.c --- */
void lbm_publish(struct lbmgr *m);
void lbm_rs_health(struct lb_rs *rs, bool up, const char *why);
void lbm_checks_start(struct lb_rs *rs);
void lbm_checks_stop(struct lb_rs *rs);
void lbm_quorum_eval(struct lb_vs *vs, bool initial);
unsigned lbm_alive_weight(const struct lb_vs *vs);
unsigned lbm_rs_weight(const struct lb_rs *rs);
bool lbm_rs_in_service(const struct lb_rs *rs);
void lbm_render(struct lbmgr *m, const char *mode, struct io_ctl_reply *r);
void lbm_render_json(struct lbmgr *m, struct io_ctl_reply *r);
void lbm_render_dp_json(struct lbmgr *m, struct io_ctl_reply *r);
const char *lbm_proto_name(const struct lb_vs *vs);
void lbm_metrics_probe(struct lb_check *ck, const struct probe_result *r); /* rtt histogram */

#endif
