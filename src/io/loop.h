/* A single-threaded epoll event loop: fd watches, absolute-deadline timers, cross-thread
 * posting and signals by signalfd.
 *
 * One loop per thread and no globals. Every pass: wait in epoll (no longer than the next timer
 * deadline), read the monotonic clock ONCE (io_loop_now), dispatch the ready watches, then the
 * due timers in (deadline, arming order) order. A timer armed during a pass for a time already
 * reached fires in the next pass, so a callback re-arming "now" cannot starve the loop.
 * Callbacks may add, modify and delete watches (including their own and ones whose events are
 * pending in the same pass: those are dropped), arm and cancel timers, post, and stop the
 * loop. All objects are caller-owned and embedded (struct io_watch, io_timer, io_signals); the
 * loop holds pointers to them until they are deleted/cancelled. Only io_loop_post and
 * io_loop_stop may be called from another thread. */
#ifndef NOSPOF_IO_LOOP_H
#define NOSPOF_IO_LOOP_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "base/heap.h"
#include "base/time-t.h"

struct io_loop;

/* A file descriptor watch. Set fd, events (EPOLLIN, EPOLLOUT, ...), cb and ctx (or use
 * io_watch_init), then io_watch_add. revents carries EPOLLERR/EPOLLHUP too. */
struct io_watch {
    int fd;
    uint32_t events;
    void (*cb)(struct io_loop *loop, struct io_watch *w, uint32_t revents);
    void *ctx;
    bool added; /* private */
};

/* A one-shot timer at an absolute monotonic deadline. Set cb and ctx (or io_timer_init); a
 * zero-initialised timer is not armed. The timer is disarmed before cb runs, so cb may re-arm
 * it or free it. */
struct io_timer {
    void (*cb)(struct io_loop *loop, struct io_timer *t);
    void *ctx;
    /* private */
    mono_us when;
    uint64_t seq;
    struct heap_node node;
};

struct io_post; /* private queue entry */

struct io_loop {
    /* all private */
    int epfd;
    int wake_fd; /* eventfd: posts and cross-thread stop */
    atomic_bool stop;
    mono_us now;
    uint64_t timer_seq;
    struct heap timers;
    struct io_watch wake_watch;
    pthread_mutex_t post_mu;
    struct io_post *post_head, *post_tail;
    bool posts_closed;           /* io_loop_close_posts: posts fail with -ESHUTDOWN */
    struct epoll_event *pending; /* events of the pass being dispatched */
    int npending;
};

/* Creates the epoll instance and the wake eventfd; reads the clock. 0 or -errno. */
int io_loop_init(struct io_loop *loop);

/* Closes the loop's fds and frees queued posts (not run); armed timers are disowned (become
 * unarmed). Watches are not closed: their fds belong to the caller. Accepts a loop whose
 * init failed or was zeroed. */
void io_loop_fini(struct io_loop *loop);

/* The monotonic time read at the start of the current (or last) pass. */
mono_us io_loop_now(const struct io_loop *loop);

/* Runs passes until io_loop_stop. 0 when stopped, -errno if epoll fails (not EINTR). Clears
 * the stop request on return so the loop can be run again. */
int io_loop_run(struct io_loop *loop);

/* Runs exactly one pass, waiting at most max_wait_us (0: poll; negative: until an event or the
 * next timer). Returns the number of callbacks run (watches, timers, posts) or -errno. */
int io_loop_run_once(struct io_loop *loop, mono_us max_wait_us);

/* Makes io_loop_run return after the current pass. Thread-safe. */
void io_loop_stop(struct io_loop *loop);

/* Queues fn(ctx) to run on the loop's thread in a later pass, in posting order. Thread-safe;
 * the entry is allocated (aborts on OOM). 0, or -errno if the wake-up write failed. */
int io_loop_post(struct io_loop *loop, void (*fn)(void *ctx), void *ctx);

/* For the owner thread, after its last io_loop_run: runs the posts still queued and makes
 * every later io_loop_post (and io_loop_call) fail at once with -ESHUTDOWN, so no other
 * thread waits on a loop that will never run again. */
void io_loop_close_posts(struct io_loop *loop);

/* Runs fn(ctx) on the loop's thread and waits until it returned: a synchronous call into a
 * loop owned by another thread (status queries, reloads). Must not be called from the loop's
 * own thread (it would wait for itself), and the loop must be running. 0, or -errno if the
 * post failed (fn did not run). */
int io_loop_call(struct io_loop *loop, void (*fn)(void *ctx), void *ctx);

/* Fills a watch (not yet added). */
void io_watch_init(struct io_watch *w, int fd, uint32_t events,
                   void (*cb)(struct io_loop *, struct io_watch *, uint32_t), void *ctx);

/* Registers w->fd for w->events. 0 or -errno (-EEXIST if already added). */
int io_watch_add(struct io_loop *loop, struct io_watch *w);

/* Changes the events of an added watch. 0 or -errno. */
int io_watch_mod(struct io_loop *loop, struct io_watch *w, uint32_t events);

/* Unregisters w (no-op if not added); its events pending in the current pass are dropped.
 * Call before closing the fd or freeing w. */
void io_watch_del(struct io_loop *loop, struct io_watch *w);

/* Fills a timer (not armed). */
void io_timer_init(struct io_timer *t, void (*cb)(struct io_loop *, struct io_timer *), void *ctx);

/* Arms t at absolute time when; re-arming an armed timer moves it (and it then orders after
 * timers armed earlier for the same instant). Allocation for the heap aborts on OOM. */
void io_timer_arm(struct io_loop *loop, struct io_timer *t, mono_us when);

/* Disarms t; no-op when not armed. */
void io_timer_cancel(struct io_loop *loop, struct io_timer *t);

bool io_timer_armed(const struct io_timer *t);

/* The deadline of an armed timer, MONO_NEVER when not armed. */
mono_us io_timer_when(const struct io_timer *t);

/* Signals read from a signalfd on the loop. */
struct io_signals {
    int fd;
    struct io_watch w;
    void (*cb)(struct io_loop *loop, int signo, void *ctx);
    void *ctx;
};

/* Blocks signos[0..n) in the CALLING thread (pthread_sigmask) and delivers them as cb(loop,
 * signo, ctx) on the loop. Signal masks are per thread and inherited: create other threads
 * after this call (they inherit the mask), or block these signals in them too, or the kernel
 * may deliver the signal to a thread where it is not blocked. Children forked by the script
 * runner get an empty mask. 0 or -errno. */
int io_signals_init(struct io_loop *loop, struct io_signals *s, const int *signos, size_t n,
                    void (*cb)(struct io_loop *, int signo, void *ctx), void *ctx);

/* Removes the watch and closes the signalfd; the signals stay blocked. Accepts s after a
 * failed io_signals_init (fd -1). */
void io_signals_fini(struct io_loop *loop, struct io_signals *s);

#endif
