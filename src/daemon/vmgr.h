/* The VRRP manager: runs every VRRP instance of a config on a thread of its own.
 *
 * VRRP gets its own loop thread so that adverts leave on time whatever the rest of the daemon
 * is doing (control requests, config parsing, later health checks and the data plane); it
 * can run with real-time priority (vrrp_rt_priority) and locked memory (vrrp_no_swap).
 * Other threads talk to it only through the functions below, which post to its loop. */
#ifndef NOSPOF_DAEMON_VMGR_H
#define NOSPOF_DAEMON_VMGR_H

#include "io/ctl_server.h"
#include "upgrade.h"
#include "vmgr-t.h"

/* Builds the runtime for cfg (taking ownership of it), opens sockets and netlink, starts the
 * instances and the thread. resume (may be NULL; not kept) is what a binary upgrade handed
 * over: an instance it reports MASTER resumes as MASTER at once (VRRP_IN_RESUME, no notify
 * script: nothing changed for the world). On error everything is undone and -errno returned
 * (logged). */
int vmgr_start(struct vmgr *m, struct cfg *cfg, const struct upgrade_state *resume);

/* Binary upgrade, old side: appends the state of every instance to st. Blocks until done.
 * Thread-safe. */
void vmgr_export(struct vmgr *m, struct upgrade_state *st);

/* Binary upgrade, old side, once the successor serves: stops every instance WITHOUT a
 * transition -- no priority-0 advert, the VIPs and VMACs stay, no notify script -- since the
 * successor carries on with them; then done(ctx) runs on the manager's thread and its loop
 * ends. Thread-safe. */
void vmgr_request_abandon(struct vmgr *m, void (*done)(void *ctx), void *ctx);

/* Asks the manager to stop: every instance stops (a master gracefully hands over), VIPs are
 * removed, then done(ctx) runs on the manager's thread and its loop ends. Thread-safe. */
void vmgr_request_stop(struct vmgr *m, void (*done)(void *ctx), void *ctx);

/* Waits for the thread to end and frees everything. Call after the stop completed. */
void vmgr_join(struct vmgr *m);

/* Applies a new, already validated config (taking ownership) as a diff: unchanged instances
 * keep their state and VIPs, changed ones are reconfigured in place, removed ones stop, new
 * ones start. Writes a one-line-per-change summary to r. Blocks until applied. Thread-safe. */
void vmgr_reload(struct vmgr *m, struct cfg *cfg, struct io_ctl_reply *r);

/* Renders the status (docs/dev/control.md) as JSON or as a table into r. Blocks until done.
 * Thread-safe. */
void vmgr_status(struct vmgr *m, bool json, struct io_ctl_reply *r);

/* Appends the VRRP metrics in Prometheus text format (docs/metrics.md) to r. Blocks until
 * done (runs on the manager's thread). Thread-safe. vmgr_metrics.c. */
void vmgr_metrics(struct vmgr *m, struct io_ctl_reply *r);

/* --- internal to the manager's files (vmgr*.c, status.c) --- */

/* Feeds one input to an instance (through its sync group if it has one), executes the
 * resulting actions of every affected instance and re-arms their timers. */
void vmgr_feed(struct vmgr_inst *vi, const struct vrrp_in *in);

/* Executes the actions of one instance. */
void vmgr_exec(struct vmgr_inst *vi, const struct vrrp_acts *acts);

/* Records a line in the event log (and logs it at notice level). */
void vmgr_event(struct vmgr *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* vmgr_io.c: sockets and interface state. */
struct vmgr_if *vmgr_if_get(struct vmgr *m, const char *name);
int vmgr_if_open_socket(struct vmgr_if *vif, uint8_t family, bool multicast);
void vmgr_if_close(struct vmgr_if *vif);
void vmgr_if_refresh(struct vmgr_if *vif);
void vmgr_send_advert(struct vmgr_inst *vi, uint8_t priority);
void vmgr_vips(struct vmgr_inst *vi, bool add);
void vmgr_vip_addrs(struct vmgr_inst *vi, bool add);
void vmgr_garp(struct vmgr_inst *vi, unsigned rounds);
void vmgr_garp_cancel(struct vmgr_inst *vi);
void vmgr_monitor_cb(struct io_loop *loop, struct io_watch *w, uint32_t revents);

/* vmgr_filter.c: the no_accept filter. vmgr_filter_set makes vi hold the n addresses of reqs
 * (none if accept mode is on or vi owns its addresses) in place of what it held; take detaches
 * what vi holds without releasing it, drop releases and frees a taken list. start ends the
 * start-up (installs the table, or removes a stale one); close deletes the table at exit
 * unless the manager was abandoned to a new process. */
struct nl_addr_req;
void vmgr_filter_set(struct vmgr_inst *vi, const struct nl_addr_req *reqs, size_t n);
struct vmgr_filtered vmgr_filter_take(struct vmgr_inst *vi);
void vmgr_filter_drop(struct vmgr *m, struct vmgr_filtered *f);
void vmgr_filter_start(struct vmgr *m);
void vmgr_filter_close(struct vmgr *m);

/* vmgr_track.c: trackers and effective priority. */
int vmgr_track_build(struct vmgr *m);
void vmgr_track_resolve(struct vmgr_inst *vi);
void vmgr_track_start(struct vmgr *m);
void vmgr_track_stop(struct vmgr *m);
void vmgr_track_free(struct vmgr *m);
void vmgr_reprioritize(struct vmgr_inst *vi);
void vmgr_reprioritize_all(struct vmgr *m);
void vmgr_track_link_changed(struct vmgr *m, const char *ifname, bool up);

#endif
