/* The epoll event loop (see loop.h for the contract).
 *
 * Watches carry their own pointer in epoll_event.data.ptr. Because a callback may delete (and
 * free) a watch whose event is still waiting in the same pass, the loop keeps the pass's event
 * array in loop->pending and io_watch_del blanks the matching entries. Timers live in a
 * min-heap ordered by (when, seq); seq grows with every arming, which gives same-instant
 * timers their arming order. Posts go through a mutex-protected list and an eventfd that also
 * wakes the loop for a cross-thread stop. */
#include "io/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "io/clock.h"

#define MAX_EVENTS 64

struct io_post {
    struct io_post *next;
    void (*fn)(void *ctx);
    void *ctx;
};

static struct io_timer *timer_of(const struct heap_node *n)
{
    return (struct io_timer *)((char *)n - offsetof(struct io_timer, node));
}

static bool timer_less(const struct heap_node *a, const struct heap_node *b)
{
    const struct io_timer *ta = timer_of(a), *tb = timer_of(b);

    if (ta->when != tb->when)
        return ta->when < tb->when;
    return ta->seq < tb->seq;
}

/* Takes the whole post queue under the lock and runs it unlocked, in order. */
static int run_posts(struct io_loop *loop)
{
    pthread_mutex_lock(&loop->post_mu);
    struct io_post *p = loop->post_head;
    loop->post_head = loop->post_tail = NULL;
    pthread_mutex_unlock(&loop->post_mu);

    int ran = 0;
    while (p) {
        struct io_post *next = p->next;
        p->fn(p->ctx);
        free(p);
        p = next;
        ran++;
    }
    return ran;
}

static void wake_cb(struct io_loop *loop, struct io_watch *w, uint32_t revents)
{
    uint64_t v;

    while (read(w->fd, &v, sizeof(v)) == sizeof(v))
        ;
    run_posts(loop);
}

int io_loop_init(struct io_loop *loop)
{
    int err;

    memset(loop, 0, sizeof(*loop));
    loop->epfd = loop->wake_fd = -1;
    pthread_mutex_init(&loop->post_mu, NULL);
    heap_init(&loop->timers, timer_less, NULL, 0);
    loop->now = io_clock_now();
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        err = -errno;
        goto fail;
    }
    loop->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (loop->wake_fd < 0) {
        err = -errno;
        goto fail;
    }
    io_watch_init(&loop->wake_watch, loop->wake_fd, EPOLLIN, wake_cb, NULL);
    err = io_watch_add(loop, &loop->wake_watch);
    if (err == 0)
        return 0;
fail:
    io_loop_fini(loop);
    return err;
}

void io_loop_fini(struct io_loop *loop)
{
    if (!loop)
        return;
    if (loop->epfd >= 0)
        close(loop->epfd);
    if (loop->wake_fd >= 0)
        close(loop->wake_fd);
    loop->epfd = loop->wake_fd = -1;
    loop->wake_watch.added = false;
    while (loop->post_head) {
        struct io_post *p = loop->post_head;
        loop->post_head = p->next;
        free(p);
    }
    loop->post_tail = NULL;
    heap_fini(&loop->timers);
    pthread_mutex_destroy(&loop->post_mu);
}

mono_us io_loop_now(const struct io_loop *loop)
{
    return loop->now;
}

/* The epoll timeout for this pass in microseconds (-1: infinite). */
static mono_us wait_budget(const struct io_loop *loop, mono_us max_wait_us)
{
    struct heap_node *top = heap_top(&loop->timers);
    mono_us budget = max_wait_us < 0 ? -1 : max_wait_us;

    if (atomic_load(&loop->stop))
        return 0;
    if (top) {
        mono_us until = timer_of(top)->when - io_clock_now();
        if (until < 0)
            until = 0;
        if (budget < 0 || until < budget)
            budget = until;
    }
    return budget;
}

static int wait_events(struct io_loop *loop, struct epoll_event *ev, mono_us budget)
{
    struct timespec ts = {.tv_sec = budget / 1000000, .tv_nsec = (budget % 1000000) * 1000};
    int n = epoll_pwait2(loop->epfd, ev, MAX_EVENTS, budget < 0 ? NULL : &ts, NULL);

    if (n < 0 && errno == ENOSYS) {
        int ms = budget < 0 ? -1 : (int)((budget + 999) / 1000);
        n = epoll_wait(loop->epfd, ev, MAX_EVENTS, ms);
    }
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    return n;
}

static int dispatch_watches(struct io_loop *loop, struct epoll_event *ev, int n)
{
    int ran = 0;

    loop->pending = ev;
    loop->npending = n;
    for (int i = 0; i < n; i++) {
        struct io_watch *w = ev[i].data.ptr;
        if (!w)
            continue; /* deleted by an earlier callback of this pass */
        ev[i].data.ptr = NULL;
        w->cb(loop, w, ev[i].events);
        ran++;
    }
    loop->pending = NULL;
    loop->npending = 0;
    return ran;
}

/* Fires due timers; those armed during this phase (seq >= limit) wait for the next pass. */
static int dispatch_timers(struct io_loop *loop)
{
    uint64_t limit = loop->timer_seq;
    int ran = 0;
    struct heap_node *top;

    while ((top = heap_top(&loop->timers))) {
        struct io_timer *t = timer_of(top);
        if (t->when > loop->now || t->seq >= limit)
            break;
        heap_remove(&loop->timers, top);
        t->cb(loop, t);
        ran++;
    }
    return ran;
}

int io_loop_run_once(struct io_loop *loop, mono_us max_wait_us)
{
    struct epoll_event ev[MAX_EVENTS];
    int n = wait_events(loop, ev, wait_budget(loop, max_wait_us));

    if (n < 0)
        return n;
    loop->now = io_clock_now();
    int ran = dispatch_watches(loop, ev, n);
    return ran + dispatch_timers(loop);
}

int io_loop_run(struct io_loop *loop)
{
    int err = 0;

    while (!atomic_load(&loop->stop)) {
        int n = io_loop_run_once(loop, -1);
        if (n < 0) {
            err = n;
            break;
        }
    }
    atomic_store(&loop->stop, false);
    return err;
}

static int wake(struct io_loop *loop)
{
    uint64_t one = 1;

    if (write(loop->wake_fd, &one, sizeof(one)) == sizeof(one) || errno == EAGAIN)
        return 0;
    return -errno;
}

void io_loop_stop(struct io_loop *loop)
{
    atomic_store(&loop->stop, true);
    wake(loop);
}

void io_loop_close_posts(struct io_loop *loop)
{
    pthread_mutex_lock(&loop->post_mu);
    loop->posts_closed = true;
    pthread_mutex_unlock(&loop->post_mu);
    run_posts(loop); /* whatever was queued before the close still runs */
}

int io_loop_post(struct io_loop *loop, void (*fn)(void *ctx), void *ctx)
{
    struct io_post *p = malloc(sizeof(*p));

    if (!p)
        abort();
    *p = (struct io_post){.fn = fn, .ctx = ctx};
    pthread_mutex_lock(&loop->post_mu);
    if (loop->posts_closed) {
        pthread_mutex_unlock(&loop->post_mu);
        free(p);
        return -ESHUTDOWN;
    }
    if (loop->post_tail)
        loop->post_tail->next = p;
    else
        loop->post_head = p;
    loop->post_tail = p;
    pthread_mutex_unlock(&loop->post_mu);
    return wake(loop);
}

void io_watch_init(struct io_watch *w, int fd, uint32_t events,
                   void (*cb)(struct io_loop *, struct io_watch *, uint32_t), void *ctx)
{
    *w = (struct io_watch){.fd = fd, .events = events, .cb = cb, .ctx = ctx};
}

int io_watch_add(struct io_loop *loop, struct io_watch *w)
{
    struct epoll_event ev = {.events = w->events, .data.ptr = w};

    if (w->added)
        return -EEXIST;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, w->fd, &ev) != 0)
        return -errno;
    w->added = true;
    return 0;
}

int io_watch_mod(struct io_loop *loop, struct io_watch *w, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = w};

    if (!w->added)
        return -ENOENT;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, w->fd, &ev) != 0)
        return -errno;
    w->events = events;
    return 0;
}

void io_watch_del(struct io_loop *loop, struct io_watch *w)
{
    if (!w->added)
        return;
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    w->added = false;
    for (int i = 0; i < loop->npending; i++)
        if (loop->pending[i].data.ptr == w)
            loop->pending[i].data.ptr = NULL;
}

void io_timer_init(struct io_timer *t, void (*cb)(struct io_loop *, struct io_timer *), void *ctx)
{
    *t = (struct io_timer){.cb = cb, .ctx = ctx};
}

void io_timer_arm(struct io_loop *loop, struct io_timer *t, mono_us when)
{
    t->when = when;
    t->seq = loop->timer_seq++;
    if (heap_contains(&t->node))
        heap_update(&loop->timers, &t->node);
    else
        heap_push(&loop->timers, &t->node);
}

void io_timer_cancel(struct io_loop *loop, struct io_timer *t)
{
    heap_remove(&loop->timers, &t->node);
}

bool io_timer_armed(const struct io_timer *t)
{
    return heap_contains(&t->node);
}

mono_us io_timer_when(const struct io_timer *t)
{
    return heap_contains(&t->node) ? t->when : MONO_NEVER;
}

static void signals_cb(struct io_loop *loop, struct io_watch *w, uint32_t revents)
{
    struct io_signals *s = w->ctx;
    struct signalfd_siginfo si;

    while (read(s->fd, &si, sizeof(si)) == sizeof(si)) {
        s->cb(loop, (int)si.ssi_signo, s->ctx);
        if (!w->added)
            break; /* the callback tore the signals down */
    }
}

int io_signals_init(struct io_loop *loop, struct io_signals *s, const int *signos, size_t n,
                    void (*cb)(struct io_loop *, int signo, void *ctx), void *ctx)
{
    sigset_t set;

    *s = (struct io_signals){.fd = -1, .cb = cb, .ctx = ctx};
    sigemptyset(&set);
    for (size_t i = 0; i < n; i++)
        if (sigaddset(&set, signos[i]) != 0)
            return -EINVAL;
    int err = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (err)
        return -err;
    s->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->fd < 0)
        return -errno;
    io_watch_init(&s->w, s->fd, EPOLLIN, signals_cb, s);
    err = io_watch_add(loop, &s->w);
    if (err) {
        close(s->fd);
        s->fd = -1;
    }
    return err;
}

void io_signals_fini(struct io_loop *loop, struct io_signals *s)
{
    if (!s || s->fd < 0)
        return;
    io_watch_del(loop, &s->w);
    close(s->fd);
    s->fd = -1;
}

/* ---- synchronous calls from other threads ---- */

struct io_call {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    void (*fn)(void *ctx);
    void *ctx;
};

static void io_call_run(void *p)
{
    struct io_call *c = p;

    c->fn(c->ctx);
    pthread_mutex_lock(&c->mu);
    c->done = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

int io_loop_call(struct io_loop *loop, void (*fn)(void *ctx), void *ctx)
{
    struct io_call c = {.fn = fn, .ctx = ctx};
    int rc;

    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    rc = io_loop_post(loop, io_call_run, &c);
    pthread_mutex_lock(&c.mu);
    while (rc == 0 && !c.done)
        pthread_cond_wait(&c.cv, &c.mu);
    pthread_mutex_unlock(&c.mu);
    pthread_cond_destroy(&c.cv);
    pthread_mutex_destroy(&c.mu);
    return rc;
}
