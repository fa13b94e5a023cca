/* Unit tests for io/sdnotify: the datagrams a unix dgram "manager" socket receives (path and
 * abstract addresses, $NOTIFY_SOCKET, the exact READY/RELOADING/STOPPING/WATCHDOG texts),
 * $WATCHDOG_USEC/$WATCHDOG_PID parsing, and the watchdog's ping-and-answer rule driven tick by
 * tick with two loops on this thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "io/loop.h"
#include "io/sdnotify.h"

struct mgr {
    int fd;
    char name[108]; /* as given to io_sd_notify_to: "/path" or "@name" */
};

/* Binds a unix dgram socket at a fresh path or abstract name. */
static void mgr_open(struct mgr *m, bool abstract)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    socklen_t len;

    if (abstract)
        snprintf(m->name, sizeof(m->name), "@nospof-test-sdnotify-%ld", (long)getpid());
    else
        snprintf(m->name, sizeof(m->name), "/tmp/nospof-test-sdnotify-%ld", (long)getpid());
    unlink(m->name);
    memcpy(sa.sun_path, m->name, strlen(m->name));
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(m->name));
    if (abstract)
        sa.sun_path[0] = '\0';
    else
        len++;
    m->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(m->fd >= 0);
    assert_int_equal(bind(m->fd, (struct sockaddr *)&sa, len), 0);
}

static void mgr_close(struct mgr *m)
{
    close(m->fd);
    if (m->name[0] == '/')
        unlink(m->name);
}

/* The next datagram as a string, or "" when none is queued. */
static const char *mgr_recv(struct mgr *m)
{
    static char buf[256];
    ssize_t n = recv(m->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void sends_to_path_socket(void **state)
{
    struct mgr m;

    mgr_open(&m, false);
    assert_int_equal(io_sd_notify_to(m.name, "READY=1"), 0);
    assert_string_equal(mgr_recv(&m), "READY=1");
    assert_string_equal(mgr_recv(&m), "");
    mgr_close(&m);
}

static void sends_to_abstract_socket(void **state)
{
    struct mgr m;

    mgr_open(&m, true);
    assert_int_equal(io_sd_notify_to(m.name, "STOPPING=1"), 0);
    assert_string_equal(mgr_recv(&m), "STOPPING=1");
    mgr_close(&m);
}

static void rejects_bad_addresses(void **state)
{
    char longpath[200];

    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    assert_int_equal(io_sd_notify_to("", "READY=1"), -EINVAL);
    assert_int_equal(io_sd_notify_to("@", "READY=1"), -EINVAL);
    assert_int_equal(io_sd_notify_to("relative/sock", "READY=1"), -EINVAL);
    assert_int_equal(io_sd_notify_to(longpath, "READY=1"), -EINVAL);
    assert_int_equal(io_sd_notify_to("/nonexistent-nospof/notify", "READY=1"), -ENOENT);
}

static void env_socket_carries_every_message(void **state)
{
    struct mgr m;

    mgr_open(&m, true);
    setenv("NOTIFY_SOCKET", m.name, 1);
    assert_int_equal(io_sd_ready(), 0);
    assert_int_equal(io_sd_reloading(1234567), 0);
    assert_int_equal(io_sd_ready(), 0);
    assert_int_equal(io_sd_stopping(), 0);
    assert_string_equal(mgr_recv(&m), "READY=1");
    assert_string_equal(mgr_recv(&m), "RELOADING=1\nMONOTONIC_USEC=1234567");
    assert_string_equal(mgr_recv(&m), "READY=1");
    assert_string_equal(mgr_recv(&m), "STOPPING=1");
    assert_string_equal(mgr_recv(&m), "");
    unsetenv("NOTIFY_SOCKET");
    mgr_close(&m);
}

static void no_env_socket_is_a_noop(void **state)
{
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(io_sd_ready(), 0);
    setenv("NOTIFY_SOCKET", "", 1);
    assert_int_equal(io_sd_stopping(), 0);
    setenv("NOTIFY_SOCKET", "/nonexistent-nospof/notify", 1);
    assert_int_equal(io_sd_ready(), -ENOENT);
    unsetenv("NOTIFY_SOCKET");
}

static void watchdog_usec_from_env(void **state)
{
    char pid[32];

    unsetenv("WATCHDOG_PID");
    unsetenv("WATCHDOG_USEC");
    assert_int_equal(io_sd_watchdog_usec(), 0);
    setenv("WATCHDOG_USEC", "10000000", 1);
    assert_int_equal(io_sd_watchdog_usec(), 10000000);
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(io_sd_watchdog_usec(), 10000000);
    snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(io_sd_watchdog_usec(), 0);
    unsetenv("WATCHDOG_PID");
    setenv("WATCHDOG_USEC", "10s", 1);
    assert_int_equal(io_sd_watchdog_usec(), 0);
    setenv("WATCHDOG_USEC", "-5", 1);
    assert_int_equal(io_sd_watchdog_usec(), 0);
    setenv("WATCHDOG_USEC", "0", 1);
    assert_int_equal(io_sd_watchdog_usec(), 0);
    unsetenv("WATCHDOG_USEC");
}

/* WATCHDOG=1 goes out only while the watched loop answers each ping. */
static void watchdog_needs_the_watched_loop(void **state)
{
    struct io_loop main_loop, vrrp_loop;
    struct io_sd_watchdog wd = {0};
    struct mgr m;

    mgr_open(&m, true);
    setenv("NOTIFY_SOCKET", m.name, 1);
    assert_int_equal(io_loop_init(&main_loop), 0);
    assert_int_equal(io_loop_init(&vrrp_loop), 0);
    io_sd_watchdog_start(&wd, &main_loop, &vrrp_loop, 4000);

    assert_true(io_sd_watchdog_tick(&wd)); /* first tick: nothing outstanding */
    assert_string_equal(mgr_recv(&m), "WATCHDOG=1");
    assert_false(io_sd_watchdog_tick(&wd)); /* the VRRP loop has not run the ping */
    assert_false(io_sd_watchdog_tick(&wd));
    assert_string_equal(mgr_recv(&m), "");
    assert_int_equal(io_loop_run_once(&vrrp_loop, 0), 1); /* runs exactly the one ping */
    assert_true(io_sd_watchdog_tick(&wd));
    assert_string_equal(mgr_recv(&m), "WATCHDOG=1");
    assert_int_equal(wd.sent, 2);
    assert_int_equal(wd.missed, 2);

    io_sd_watchdog_stop(&wd);
    io_loop_fini(&vrrp_loop); /* frees the unanswered ping */
    io_loop_fini(&main_loop);
    unsetenv("NOTIFY_SOCKET");
    mgr_close(&m);
}

/* The timer ticks on the next pass, then every interval / 2; stop disarms it. */
static void watchdog_timer_schedule(void **state)
{
    struct io_loop main_loop, vrrp_loop;
    struct io_sd_watchdog off = {0}, wd = {0};

    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(io_loop_init(&main_loop), 0);
    assert_int_equal(io_loop_init(&vrrp_loop), 0);
    io_sd_watchdog_start(&off, &main_loop, &vrrp_loop, 0);
    assert_false(io_timer_armed(&off.timer));
    io_sd_watchdog_stop(&off);

    io_sd_watchdog_start(&wd, &main_loop, &vrrp_loop, 3000000);
    assert_true(io_timer_armed(&wd.timer));
    assert_int_equal(io_loop_run_once(&main_loop, 0), 1);
    assert_int_equal(wd.sent, 1);
    assert_int_equal(io_timer_when(&wd.timer), io_loop_now(&main_loop) + 1500000);
    io_sd_watchdog_stop(&wd);
    assert_false(io_timer_armed(&wd.timer));

    io_loop_fini(&vrrp_loop);
    io_loop_fini(&main_loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sends_to_path_socket),
        cmocka_unit_test(sends_to_abstract_socket),
        cmocka_unit_test(rejects_bad_addresses),
        cmocka_unit_test(env_socket_carries_every_message),
        cmocka_unit_test(no_env_socket_is_a_noop),
        cmocka_unit_test(watchdog_usec_from_env),
        cmocka_unit_test(watchdog_needs_the_watched_loop),
        cmocka_unit_test(watchdog_timer_schedule),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
