/* Observability of nospofd: the HTTP status listener (global_defs nospof_status_listen) with
 * Prometheus /metrics, /status.json, /events.json and the dashboard at /, and the ordered
 * event stream behind `nospofctl events`.
 *
 * Both run on the main loop. Metrics and status are rendered on the threads that own the
 * data (vmgr_metrics, lbmgr_metrics, vmgr_status: each an io_loop_call), so a scrape sees each
 * manager's state at one instant. Events may be posted from any thread (status_event_*): each
 * gets a wall-clock timestamp where it happens, is queued under a mutex and delivered on the
 * main loop in posting order with a sequence number, to the control-socket subscribers
 * (channel STATUS_EV_TEXT or STATUS_EV_JSON) and to a ring of recent events. Metric names and
 * the event format are documented in docs/metrics.md. */
#ifndef NOSPOF_DAEMON_STATUS_HTTP_H
#define NOSPOF_DAEMON_STATUS_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg-t.h"
#include "io/ctl_server.h"
#include "io/http_server.h"
#include "io/loop.h"

struct vmgr;
struct lbmgr;

/* Control-socket stream channels (io_ctl_reply.subscribe). */
#define STATUS_EV_TEXT 1
#define STATUS_EV_JSON 2

/* Renders the `status json` document (the same code path as the control socket's). */
typedef void status_json_fn(void *ctx, struct io_ctl_reply *r);

struct status_http {
    struct io_loop *loop;
    struct http_server srv;
    struct ip_addr addr; /* the listening address, family IP_NONE when off */
    uint16_t port;
    struct vmgr *vmgr;
    struct lbmgr *lbmgr;
    const bool *lb_running;
    status_json_fn *status_json;
    void *status_ctx;
};

/* Wires sh to the daemon (nothing listens yet) and starts the event stream: events posted
 * from now on reach ctl's subscribers. Call on the main thread before the managers start. */
void status_http_init(struct status_http *sh, struct io_loop *loop, struct io_ctl *ctl,
                      struct vmgr *vmgr, struct lbmgr *lbmgr, const bool *lb_running,
                      status_json_fn *status_json, void *status_ctx);

/* Follows the config: listens on g->status_listen, moves when it changed, closes when it went.
 * A bind failure is logged and leaves the listener off. 0 or -errno. Main thread. */
int status_http_apply(struct status_http *sh, const struct cfg_global *g);

/* Closes the listener and ends the event stream (queued events are freed). Call on the main
 * thread after the managers stopped posting (joined). */
void status_http_fini(struct status_http *sh);

/* Handles the control request "events" / "events json": replies ok and subscribes r. true when
 * line was such a request. */
bool status_events_request(const char *line, struct io_ctl_reply *r);

/* --- events (thread-safe; no-ops when the stream is not started) --- */

/* A VRRP manager event line (vmgr_event); a transition line "NAME: FROM -> TO (REASON,
 * priority N)" becomes a structured "transition" event. */
void status_event_vrrp(const char *text);

/* A real server's health changed (lbm_rs_health). */
void status_event_rs(const char *vs, const char *rs, bool up, const char *why);

/* A virtual server's quorum changed (lbm_quorum_eval). */
void status_event_quorum(const char *vs, bool up);

/* A reload was applied or refused. */
void status_event_reload(bool applied, const char *config);

/* --- Prometheus text format helpers (for vmgr_metrics.c, lbmgr_metrics.c) --- */

/* Writes the "# HELP name help" and "# TYPE name type" lines of a metric family. */
void status_prom_family(struct io_ctl_reply *r, const char *name, const char *type,
                        const char *help);

/* Writes s as a label value (quoted, with \\, \" and \n escaped). */
void status_prom_str(struct io_ctl_reply *r, const char *s);

#endif
