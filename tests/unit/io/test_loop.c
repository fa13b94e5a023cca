/* Unit tests for io/loop and io/clock: timer order and re-arming, run_once, watches deleted
 * during dispatch, cross-thread posting and stop, signalfd delivery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/clock.h"
#include "io/loop.h"

struct rec {
    char log[64];
    size_t n;
};

struct tm_ctx {
    struct rec *rec;
    char id;
};

static void rec_add(struct rec *r, char c)
{
    if (r->n + 1 < sizeof(r->log))
        r->log[r->n++] = c;
}

static void timer_rec_cb(struct io_loop *loop, struct io_timer *t)
{
    struct tm_ctx *c = t->ctx;

    assert_false(io_timer_armed(t)); /* disarmed before the callback */
    rec_add(c->rec, c->id);
}

static void clock_is_monotonic_and_wall_plausible(void **state)
{
    mono_us a = io_clock_now(), b = io_clock_now();

    assert_true(a > 0);
    assert_true(b >= a);
    assert_true(io_clock_wall_ms() > 1600000000000LL); /* after 2020 */
}

static void timers_fire_by_deadline_then_arming_order(void **state)
{
    struct io_loop loop;
    struct rec rec = {0};
    struct tm_ctx ctx[5] = {{&rec, 'a'}, {&rec, 'b'}, {&rec, 'c'}, {&rec, 'd'}, {&rec, 'e'}};
    struct io_timer t[5];

    assert_int_equal(io_loop_init(&loop), 0);
    mono_us base = io_loop_now(&loop);
    for (int i = 0; i < 5; i++)
        io_timer_init(&t[i], timer_rec_cb, &ctx[i]);
    io_timer_arm(&loop, &t[0], base + 2000); /* a: later */
    io_timer_arm(&loop, &t[1], base + 1000); /* b, c, d: same instant, arming order */
    io_timer_arm(&loop, &t[2], base + 1000);
    io_timer_arm(&loop, &t[3], base + 1000);
    io_timer_arm(&loop, &t[4], base + 500);  /* e: first */
    io_timer_arm(&loop, &t[2], base + 1000); /* re-arm c: now after d */
    assert_int_equal(io_timer_when(&t[2]), base + 1000);
    io_timer_cancel(&loop, &t[3]); /* d never fires */
    assert_false(io_timer_armed(&t[3]));
    assert_int_equal(io_timer_when(&t[3]), MONO_NEVER);
    for (int i = 0; i < 50 && rec.n < 4; i++)
        assert_true(io_loop_run_once(&loop, MONO_MS(100)) >= 0);
    rec.log[rec.n] = '\0';
    assert_string_equal(rec.log, "ebca");
    assert_true(io_loop_now(&loop) >= base + 2000);
    io_loop_fini(&loop);
}

static void run_once_returns_after_max_wait_without_events(void **state)
{
    struct io_loop loop;

    assert_int_equal(io_loop_init(&loop), 0);
    mono_us t0 = io_clock_now();
    assert_int_equal(io_loop_run_once(&loop, MONO_MS(20)), 0);
    mono_us dt = io_clock_now() - t0;
    assert_true(dt >= MONO_MS(19));
    assert_true(dt < MONO_MS(1000));
    assert_int_equal(io_loop_run_once(&loop, 0), 0); /* poll */
    io_loop_fini(&loop);
}

/* A timer that re-arms itself "now" fires once per pass, never starving the loop. */
static void rearm_now_fires_once_per_pass(void **state)
{
    struct io_loop loop;
    struct rec rec = {0};
    struct tm_ctx ctx = {&rec, 'x'};
    struct io_timer t;

    assert_int_equal(io_loop_init(&loop), 0);
    io_timer_init(&t, timer_rec_cb, &ctx);
    io_timer_arm(&loop, &t, io_loop_now(&loop));
    assert_int_equal(io_loop_run_once(&loop, 0), 1);
    io_timer_arm(&loop, &t, 0); /* already past */
    assert_int_equal(io_loop_run_once(&loop, 0), 1);
    assert_int_equal(rec.n, 2);
    io_loop_fini(&loop);
    assert_false(io_timer_armed(&t));
}

static void self_rearm_cb(struct io_loop *loop, struct io_timer *t)
{
    int *count = t->ctx;

    (*count)++;
    io_timer_arm(loop, t, io_loop_now(loop));
}

static void self_rearming_timer_waits_for_next_pass(void **state)
{
    struct io_loop loop;
    struct io_timer t;
    int count = 0;

    assert_int_equal(io_loop_init(&loop), 0);
    io_timer_init(&t, self_rearm_cb, &count);
    io_timer_arm(&loop, &t, 0);
    assert_int_equal(io_loop_run_once(&loop, 0), 1);
    assert_int_equal(count, 1);
    assert_int_equal(io_loop_run_once(&loop, 0), 1);
    assert_int_equal(count, 2);
    io_timer_cancel(&loop, &t);
    io_loop_fini(&loop);
}

/* Two ready pipes; the first callback deletes the other watch: its event must be dropped. */
struct pair {
    struct io_watch w[2];
    int fired[2];
};

static void pair_cb(struct io_loop *loop, struct io_watch *w, uint32_t revents)
{
    struct pair *p = w->ctx;
    int me = w == &p->w[0] ? 0 : 1;

    assert_true(revents & EPOLLIN);
    p->fired[me]++;
    io_watch_del(loop, &p->w[0]);
    io_watch_del(loop, &p->w[1]);
}

static void watch_deleted_in_same_pass_is_not_dispatched(void **state)
{
    struct io_loop loop;
    struct pair p = {0};
    int fds[2][2];

    assert_int_equal(io_loop_init(&loop), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pipe(fds[i]), 0);
        assert_int_equal(write(fds[i][1], "x", 1), 1);
        io_watch_init(&p.w[i], fds[i][0], EPOLLIN, pair_cb, &p);
        assert_int_equal(io_watch_add(&loop, &p.w[i]), 0);
    }
    assert_int_equal(io_watch_add(&loop, &p.w[0]), -EEXIST);
    assert_int_equal(io_loop_run_once(&loop, MONO_MS(100)), 1);
    assert_int_equal(p.fired[0] + p.fired[1], 1);
    assert_int_equal(io_loop_run_once(&loop, 0), 0);
    for (int i = 0; i < 2; i++) {
        close(fds[i][0]);
        close(fds[i][1]);
    }
    io_loop_fini(&loop);
}

static void watch_mod_switches_events(void **state)
{
    struct io_loop loop;
    struct pair p = {0};
    int fds[2];

    assert_int_equal(io_loop_init(&loop), 0);
    assert_int_equal(pipe(fds), 0);
    io_watch_init(&p.w[0], fds[0], 0, pair_cb, &p);
    assert_int_equal(io_watch_add(&loop, &p.w[0]), 0);
    assert_int_equal(write(fds[1], "x", 1), 1);
    assert_int_equal(io_loop_run_once(&loop, 0), 0); /* no events requested */
    assert_int_equal(io_watch_mod(&loop, &p.w[0], EPOLLIN), 0);
    assert_int_equal(io_loop_run_once(&loop, MONO_MS(100)), 1);
    assert_int_equal(p.fired[0], 1);
    assert_int_equal(io_watch_mod(&loop, &p.w[0], EPOLLIN), -ENOENT); /* deleted by cb */
    close(fds[0]);
    close(fds[1]);
    io_loop_fini(&loop);
}

/* ---- posting from another thread ---- */

struct post_ctx {
    struct io_loop *loop;
    pthread_t loop_thread;
    int seen[100];
    int n;
};

struct post_item {
    struct post_ctx *pc;
    int v;
};

static void post_fn(void *arg)
{
    struct post_item *it = arg;
    struct post_ctx *pc = it->pc;

    assert_true(pthread_equal(pthread_self(), pc->loop_thread));
    pc->seen[pc->n++] = it->v;
    if (pc->n == 100)
        io_loop_stop(pc->loop);
}

static struct post_item items[100];

static void *poster(void *arg)
{
    struct post_ctx *pc = arg;

    for (int i = 0; i < 100; i++) {
        items[i] = (struct post_item){pc, i};
        assert_int_equal(io_loop_post(pc->loop, post_fn, &items[i]), 0);
    }
    return NULL;
}

static void watchdog_cb(struct io_loop *loop, struct io_timer *t)
{
    fail_msg("loop did not stop in time");
}

static void post_from_other_thread_runs_in_order_on_loop(void **state)
{
    struct io_loop loop;
    struct post_ctx pc = {.loop = &loop, .loop_thread = pthread_self()};
    struct io_timer watchdog;
    pthread_t th;

    assert_int_equal(io_loop_init(&loop), 0);
    io_timer_init(&watchdog, watchdog_cb, NULL);
    io_timer_arm(&loop, &watchdog, io_clock_now() + MONO_S(5));
    assert_int_equal(pthread_create(&th, NULL, poster, &pc), 0);
    assert_int_equal(io_loop_run(&loop), 0);
    pthread_join(th, NULL);
    assert_int_equal(pc.n, 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(pc.seen[i], i);
    io_loop_fini(&loop);
}

static void *stopper(void *arg)
{
    usleep(20000);
    io_loop_stop(arg);
    return NULL;
}

static void stop_from_other_thread_wakes_loop(void **state)
{
    struct io_loop loop;
    struct io_timer watchdog;
    pthread_t th;

    assert_int_equal(io_loop_init(&loop), 0);
    io_timer_init(&watchdog, watchdog_cb, NULL);
    io_timer_arm(&loop, &watchdog, io_clock_now() + MONO_S(5));
    assert_int_equal(pthread_create(&th, NULL, stopper, &loop), 0);
    assert_int_equal(io_loop_run(&loop), 0);
    pthread_join(th, NULL);
    assert_true(io_timer_armed(&watchdog));
    io_loop_fini(&loop);
}

static void never_called(void *arg)
{
    fail_msg("a post ran after io_loop_fini");
}

static void unposted_entries_freed_by_fini(void **state)
{
    struct io_loop loop;

    assert_int_equal(io_loop_init(&loop), 0);
    assert_int_equal(io_loop_post(&loop, never_called, NULL), 0);
    io_loop_fini(&loop); /* must not run it; ASan checks the free */
}

/* ---- signals ---- */

struct sig_ctx {
    int got[4];
    int n;
};

static void sig_cb(struct io_loop *loop, int signo, void *ctx)
{
    struct sig_ctx *sc = ctx;

    sc->got[sc->n++] = signo;
}

static void signals_arrive_through_signalfd(void **state)
{
    static const int signos[] = {SIGUSR1, SIGUSR2};
    struct io_loop loop;
    struct io_signals s;
    struct sig_ctx sc = {0};

    assert_int_equal(io_loop_init(&loop), 0);
    assert_int_equal(io_signals_init(&loop, &s, signos, 2, sig_cb, &sc), 0);
    assert_int_equal(kill(getpid(), SIGUSR1), 0);
    for (int i = 0; i < 20 && sc.n < 1; i++)
        io_loop_run_once(&loop, MONO_MS(50));
    assert_int_equal(kill(getpid(), SIGUSR2), 0);
    for (int i = 0; i < 20 && sc.n < 2; i++)
        io_loop_run_once(&loop, MONO_MS(50));
    assert_int_equal(sc.n, 2);
    assert_int_equal(sc.got[0], SIGUSR1);
    assert_int_equal(sc.got[1], SIGUSR2);
    io_signals_fini(&loop, &s);
    io_signals_fini(&loop, &s); /* idempotent */
    io_loop_fini(&loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clock_is_monotonic_and_wall_plausible),
        cmocka_unit_test(timers_fire_by_deadline_then_arming_order),
        cmocka_unit_test(run_once_returns_after_max_wait_without_events),
        cmocka_unit_test(rearm_now_fires_once_per_pass),
        cmocka_unit_test(self_rearming_timer_waits_for_next_pass),
        cmocka_unit_test(watch_deleted_in_same_pass_is_not_dispatched),
        cmocka_unit_test(watch_mod_switches_events),
        cmocka_unit_test(post_from_other_thread_runs_in_order_on_loop),
        cmocka_unit_test(stop_from_other_thread_wakes_loop),
        cmocka_unit_test(unposted_entries_freed_by_fini),
        cmocka_unit_test(signals_arrive_through_signalfd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
