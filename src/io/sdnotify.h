/* The systemd notification protocol (sd_notify) without libsystemd, and a service watchdog.
 *
 * A service started with Type=notify tells the manager its state by sending one datagram of
 * "KEY=VALUE" lines to the AF_UNIX socket named in $NOTIFY_SOCKET: a path, or an abstract
 * name when it starts with '@'. nospofd sends READY=1 once its managers run,
 * "RELOADING=1\nMONOTONIC_USEC=N" then READY=1 around a reload, STOPPING=1 when it begins to
 * stop, and WATCHDOG=1 periodically when the unit sets WatchdogSec= ($WATCHDOG_USEC).
 * Without $NOTIFY_SOCKET every call is a successful no-op, so the daemon behaves the same
 * outside systemd. Sends never block (MSG_DONTWAIT) and never log.
 *
 * The watchdog proves more than "the main loop runs": each tick posts a no-op to a watched
 * loop (the VRRP manager's thread) that records when it ran, and WATCHDOG=1 goes out only if
 * the previous ping was answered within the watchdog interval. A stuck VRRP thread therefore
 * makes systemd restart the daemon, while a slow control client does not. */
#ifndef NOSPOF_IO_SDNOTIFY_H
#define NOSPOF_IO_SDNOTIFY_H

#include <stdatomic.h>
#include <stdbool.h>

#include "base/time-t.h"
#include "io/loop.h"

/* Sends msg (no trailing newline needed) as one datagram to the socket named by path ("/..."
 * or "@abstract"). 0, -EINVAL for a malformed or over-long path, else the -errno of socket(2)
 * or sendmsg(2). */
int io_sd_notify_to(const char *path, const char *msg);

/* Sends msg to $NOTIFY_SOCKET. 0 when sent or when $NOTIFY_SOCKET is unset or empty; -errno
 * as io_sd_notify_to otherwise. */
int io_sd_notify(const char *msg);

/* "READY=1": start-up finished, or a reload ended. 0 or -errno as io_sd_notify. */
int io_sd_ready(void);

/* "RELOADING=1\nMONOTONIC_USEC=now" where now is CLOCK_MONOTONIC in microseconds (systemd
 * 253+ requires it for Type=notify-reload; older managers ignore it). Follow with
 * io_sd_ready() when the reload ended, applied or refused. 0 or -errno as io_sd_notify. */
int io_sd_reloading(mono_us now);

/* "STOPPING=1": the service began its shutdown. 0 or -errno as io_sd_notify. */
int io_sd_stopping(void);

/* The watchdog interval the manager asked for: $WATCHDOG_USEC in microseconds, or 0 when
 * unset, malformed, zero, or when $WATCHDOG_PID is set and names another process. */
mono_us io_sd_watchdog_usec(void);

/* A watchdog that pings a watched loop from the loop it runs on. Embed it; zero-initialise. */
struct io_sd_watchdog {
    /* all private */
    struct io_loop *loop;    /* the loop the timer runs on */
    struct io_loop *watched; /* the loop that must answer pings */
    mono_us interval;        /* the manager's timeout; ticks every interval / 2 */
    bool pinged;             /* a ping was posted and not yet seen answered */
    atomic_bool answered;    /* set by the ping on the watched loop's thread */
    struct io_timer timer;
    unsigned sent, missed; /* WATCHDOG=1 sent; ticks without an answer */
};

/* Arms wd on loop (the caller's thread) when interval > 0: every interval / 2 it runs
 * io_sd_watchdog_tick. watched must outlive wd or be stopped first; its pings are freed by
 * io_loop_fini if it never runs them. interval 0 leaves wd disarmed (a no-op). */
void io_sd_watchdog_start(struct io_sd_watchdog *wd, struct io_loop *loop, struct io_loop *watched,
                          mono_us interval);

/* One tick: when the watched loop ran the previous ping (or none is outstanding), sends
 * WATCHDOG=1 and posts a new ping; otherwise counts a miss and sends nothing, so a watched
 * thread stuck for longer than the interval lets the manager's timeout expire. Ticks are
 * interval / 2 apart, so an answered ping was answered within the interval. Returns whether
 * WATCHDOG=1 was due. The timer calls it; tests call it directly. */
bool io_sd_watchdog_tick(struct io_sd_watchdog *wd);

/* Disarms the timer (no-op when not armed, or after a zero-initialised wd). A ping already
 * posted to the watched loop only writes wd->answered, so wd must stay valid until the watched
 * loop ran or was finalised. */
void io_sd_watchdog_stop(struct io_sd_watchdog *wd);

#endif
