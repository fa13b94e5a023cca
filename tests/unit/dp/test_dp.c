/* Data-plane tests on real loopback sockets (127.13.x.y, ports 24xxx, below the ephemeral range):
 * scheduling spread, connect retry, half-close, idle timeouts, backpressure, PROXY headers, drain,
 * snapshot swaps, UDP flows and their stop (the upgrade hand-over), the connection bound and
 * 10 000 concurrent connections.
 *
 * Backends are tiny epoll servers on a helper thread. Conditions are polled with a deadline;
 * idle timeouts are real (short) times because the workers run real loops. Every wait is on a
 * condition with a generous deadline (TEST_DEADLINE_MS), never a fixed sleep: a loaded machine
 * (CI, two cores shared with compilers) may stall a thread for a second. Time bounds that a test
 * asserts (an idle timeout, a drain bound) have an upper slack of seconds, still far below the
 * default that they prove was not used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/addr.h"
#include "daemon/dp/dp.h"

/* The VIP, 127.13.N.1 with N from the pid (set by main): the workers bind their listeners
 * with SO_REUSEPORT, so two runs of this test at the same time (two build directories, two
 * sessions on one machine) on one address would share them, and the kernel would hand one
 * run's connections to the other's workers. The backends' ports are chosen by the kernel. */
static char vip[16];
#define VIP vip

/* ---- helpers ---- */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

/* How long a test waits for something that must happen (a worker adopting a snapshot, a
 * reply, a counter settling) before it gives up and fails. */
#define TEST_DEADLINE_MS 10000

/* Polls cond every 2 ms for up to ms milliseconds. */
#define WAIT_UNTIL(cond, ms)                                                                       \
    do {                                                                                           \
        int64_t dl_ = now_ms() + (ms);                                                             \
        while (!(cond) && now_ms() < dl_)                                                          \
            nap_ms(2);                                                                             \
    } while (0)

static struct sockaddr_in sin_of(const char *ip, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

/* ---- what a test started ---- */

/* A failed assertion leaves the test function at once (cmocka longjmps out of it), past its
 * dp_free and be_stop. What a test starts is therefore registered here and stopped by
 * teardown(), which cmocka runs after every test, failed or not. Without it the abandoned dp's
 * workers ran on into the next tests (their struct dp lived in the dead frame, which the next
 * test's reused: they adopted its snapshots and served its ports, a second failure), and at
 * exit LeakSanitizer reported what only that frame referenced: the per-dest stats registry
 * (16 pointers, 128 bytes), the workers array and a snapshot. */
#define LIVE_MAX 4
static void *live_dp[LIVE_MAX], *live_be[LIVE_MAX];

/* Replaces old (NULL: a free slot) with p in slots. */
static void live_set(void **slots, void *old, void *p)
{
    for (int i = 0; i < LIVE_MAX; i++) {
        if (slots[i] == old) {
            slots[i] = p;
            return;
        }
    }
    fail_msg("live_set: no slot");
}

/* A dp on the heap, initialised (set opts, then dp_start), registered for teardown. */
static struct dp *dp_new(void)
{
    struct dp *dp = calloc(1, sizeof(*dp));

    assert_non_null(dp);
    dp_init(dp);
    live_set(live_dp, NULL, dp);
    return dp;
}

/* Stops and frees a dp from dp_new. */
static void dp_free(struct dp *dp)
{
    live_set(live_dp, dp, NULL);
    dp_fini(dp);
    free(dp);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* ---- backends ---- */

enum be_mode { BE_ECHO, BE_HANG };

#define BE_MAX 16

struct backend {
    int lfd[BE_MAX];
    uint16_t port[BE_MAX]; /* chosen by the kernel (bind to port 0: never EADDRINUSE) */
    int udp;
    uint16_t uport;
    enum be_mode mode;
    int ep;
    pthread_t th;
    atomic_bool stop;
    atomic_int accepts[BE_MAX];
    atomic_int open;
    int *fds; /* accepted connections, closed at stop */
    int nfds;
    char cap[512]; /* first bytes of the last connection */
    atomic_size_t caplen;
    int nl;
};

static void be_accept(struct backend *b, int i)
{
    int fd = accept4(b->lfd[i], NULL, NULL, SOCK_NONBLOCK);

    if (fd < 0)
        return;
    atomic_fetch_add(&b->accepts[i], 1);
    atomic_fetch_add(&b->open, 1);
    b->fds[b->nfds++] = fd;
    atomic_store(&b->caplen, 0);
    if (b->mode == BE_ECHO) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)fd};
        epoll_ctl(b->ep, EPOLL_CTL_ADD, fd, &ev);
    }
}

static void be_close(struct backend *b, int fd)
{
    epoll_ctl(b->ep, EPOLL_CTL_DEL, fd, NULL);
    for (int i = 0; i < b->nfds; i++)
        if (b->fds[i] == fd)
            b->fds[i] = b->fds[--b->nfds];
    close(fd);
    atomic_fetch_sub(&b->open, 1);
}

static void be_echo(struct backend *b, int fd)
{
    char buf[65536];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);

    if (n <= 0) {
        if (n == 0 || errno != EAGAIN)
            be_close(b, fd);
        return;
    }
    size_t have = atomic_load(&b->caplen);
    size_t take = (size_t)n < sizeof(b->cap) - have ? (size_t)n : sizeof(b->cap) - have;
    memcpy(b->cap + have, buf, take);
    atomic_store(&b->caplen, have + take);
    for (ssize_t off = 0; off < n;) {
        ssize_t w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            poll(&p, 1, 100);
            continue;
        }
        if (w < 0)
            return;
        off += w;
    }
}

static void be_udp(struct backend *b)
{
    char buf[2048];
    struct sockaddr_storage from;
    socklen_t len = sizeof(from);
    ssize_t n = recvfrom(b->udp, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);

    if (n > 0)
        sendto(b->udp, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
}

static void *be_main(void *arg)
{
    struct backend *b = arg;
    struct epoll_event ev[64];

    while (!atomic_load(&b->stop)) {
        int n = epoll_wait(b->ep, ev, 64, 20);
        for (int i = 0; i < n; i++) {
            uint64_t tag = ev[i].data.u64;
            if (tag >= (1ull << 32) && tag < (1ull << 32) + BE_MAX)
                be_accept(b, (int)(tag - (1ull << 32)));
            else if (tag == (2ull << 32))
                be_udp(b);
            else
                be_echo(b, (int)tag);
        }
    }
    return NULL;
}

static int listen_on(const char *ip, uint16_t port)
{
    struct sockaddr_in a = sin_of(ip, port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;

    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    int rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
    if (rc != 0)
        print_error("bind %s:%u: %s\n", ip, port, strerror(errno));
    assert_int_equal(rc, 0);
    assert_int_equal(listen(fd, 4096), 0);
    return fd;
}

static uint16_t local_port(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);

    getsockname(fd, (struct sockaddr *)&a, &len);
    return ntohs(a.sin_port);
}

/* n TCP backends on 127.13.1.(i+1), plus a UDP echo on 127.13.2.1 when udp; ports chosen by
 * the kernel (b->port[i], b->uport). */
static struct backend *be_start(int n, enum be_mode mode, bool udp)
{
    struct backend *b = calloc(1, sizeof(*b));

    b->mode = mode;
    b->nl = n;
    b->fds = calloc(20000, sizeof(int));
    b->ep = epoll_create1(0);
    b->udp = -1;
    for (int i = 0; i < n; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "127.13.1.%d", i + 1);
        b->lfd[i] = listen_on(ip, 0);
        b->port[i] = local_port(b->lfd[i]);
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (1ull << 32) + (uint64_t)i};
        epoll_ctl(b->ep, EPOLL_CTL_ADD, b->lfd[i], &ev);
    }
    if (udp) {
        struct sockaddr_in a = sin_of("127.13.2.1", 0);
        b->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        assert_int_equal(bind(b->udp, (struct sockaddr *)&a, sizeof(a)), 0);
        b->uport = local_port(b->udp);
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 2ull << 32};
        epoll_ctl(b->ep, EPOLL_CTL_ADD, b->udp, &ev);
    }
    pthread_create(&b->th, NULL, be_main, b);
    live_set(live_be, NULL, b);
    return b;
}

static void be_stop(struct backend *b)
{
    live_set(live_be, b, NULL);
    atomic_store(&b->stop, true);
    pthread_join(b->th, NULL);
    for (int i = 0; i < b->nfds; i++)
        close(b->fds[i]);
    for (int i = 0; i < b->nl; i++)
        close(b->lfd[i]);
    if (b->udp >= 0)
        close(b->udp);
    close(b->ep);
    free(b->fds);
    free(b);
}

/* ---- snapshots ---- */

struct svc_spec {
    uint8_t proto;
    uint16_t vport;
    const uint16_t *ports; /* per dest */
    int ndests;
    const uint32_t *weights; /* NULL: all 1 */
    const char *dest_net;    /* "127.13.1." or "127.13.2." */
    mono_us idle_us;
    uint8_t proxy;
    uint32_t retries;
};

/* One service with dests dest_net(i+1):ports[i], dest id = vport * 100 + i. */
static struct dp_snap *snap_one(struct dp *dp, const struct svc_spec *s)
{
    struct dp_snap *snap = dp_snap_new(1);
    struct dp_svc *svc = &snap->svc[0];

    ip_addr_parse(VIP, &svc->addr);
    svc->port = s->vport;
    svc->proto = s->proto;
    svc->idle_timeout_us = s->idle_us;
    svc->proxy_protocol = s->proxy;
    svc->retries = s->retries ? s->retries : 3;
    svc->connect_timeout_us = MONO_S(3);
    struct dp_dest *d = dp_svc_dests(svc, (size_t)s->ndests);
    for (int i = 0; i < s->ndests; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "%s%d", s->dest_net ? s->dest_net : "127.13.1.", i + 1);
        ip_addr_parse(ip, &d[i].addr);
        d[i].port = s->ports[i];
        d[i].id = (uint32_t)s->vport * 100 + (uint32_t)i;
        d[i].weight = s->weights ? s->weights[i] : 1;
        d[i].stats = dp_dest_stats(dp, d[i].id);
    }
    return snap;
}

static int client(uint16_t vport)
{
    struct sockaddr_in a = sin_of(VIP, vport);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = TEST_DEADLINE_MS / 1000};

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends msg and reads the same number of bytes back; true when they match. */
static bool roundtrip(int fd, const char *msg)
{
    char buf[256];
    size_t len = strlen(msg), got = 0;

    if (send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
        return false;
    while (got < len) {
        ssize_t n = recv(fd, buf + got, len - got, 0);
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    return memcmp(buf, msg, len) == 0;
}

static struct dp_counters stats_of(struct dp *dp)
{
    struct dp_counters c;

    dp_stats(dp, &c);
    return c;
}

static void start_dp(struct dp *dp, unsigned workers, struct dp_snap *snap)
{
    assert_int_equal(dp_start(dp, workers), 0);
    dp_publish(dp, snap);
}

/* Waits until a connection to vport is served (the worker adopted the snapshot). */
static void wait_serving(uint16_t vport)
{
    int64_t dl = now_ms() + TEST_DEADLINE_MS;

    for (;;) {
        int fd = client(vport);
        if (fd >= 0) {
            close(fd);
            return;
        }
        assert_true(now_ms() < dl);
        nap_ms(2);
    }
}

/* Connections accepted by all of b's listeners so far. */
static int be_accepts(struct backend *b)
{
    int n = 0;

    for (int i = 0; i < b->nl; i++)
        n += atomic_load(&b->accepts[i]);
    return n;
}

/* After wait_serving on a fresh dp: waits until its probe connection reached a backend and the
 * proxy closed it, so that the backends' accept counts include it. "accepted >= 1 && conns ==
 * 0" alone does not say that: a worker counts `accepted` before `conns` (two syscalls apart),
 * and a reader between the two sees 1 and 0 before the probe went anywhere; under load it read
 * the counts a connection too early (11 != 10). A backend's accept comes after the worker's
 * conns increment (it connects after), so the backend count is read first. The probe always
 * reaches a backend: the proxy looks at the client again only once connected. */
static void wait_probe_done(struct dp *dp, struct backend *b)
{
    WAIT_UNTIL(be_accepts(b) >= 1 && stats_of(dp).conns == 0, TEST_DEADLINE_MS);
    assert_int_equal(be_accepts(b), 1);
    assert_int_equal(stats_of(dp).conns, 0);
    assert_int_equal(stats_of(dp).accepted, 1);
}

/* ---- TCP tests ---- */

static void rr_spreads_over_three(void **state)
{
    struct backend *b = be_start(3, BE_ECHO, false);
    struct dp *dp = dp_new();
    struct svc_spec s = {.proto = DP_TCP, .vport = 24101, .ports = b->port, .ndests = 3};

    start_dp(dp, 1, snap_one(dp, &s));
    wait_serving(s.vport);
    wait_probe_done(dp, b);
    int base[3];
    for (int i = 0; i < 3; i++)
        base[i] = atomic_load(&b->accepts[i]);
    for (int i = 0; i < 30; i++) {
        int fd = client(s.vport);
        assert_true(roundtrip(fd, "hello"));
        close(fd);
    }
    WAIT_UNTIL(stats_of(dp).conns == 0, TEST_DEADLINE_MS); /* the proxy saw every close */
    assert_int_equal(stats_of(dp).conns, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(atomic_load(&b->accepts[i]) - base[i], 10);
    struct dp_dest_counters dc;
    assert_int_equal(dp_dest_read(dp, 24101 * 100 + 1, &dc), 0);
    assert_int_equal(dc.active, 0);
    assert_int_equal(dc.inactive, 0);
    assert_int_equal(dp_dest_read(dp, 7, &dc), -ENOENT);
    assert_int_equal(stats_of(dp).bytes_in, 30 * 5);
    assert_int_equal(stats_of(dp).bytes_out, 30 * 5);
    dp_free(dp);
    be_stop(b);
}

static void retry_hides_closed_backend(void **state)
{
    /* dests .1 .2 .3 but only .1 and .3 listen: .2 refuses. */
    struct backend *b = be_start(3, BE_ECHO, false);
    close(b->lfd[1]);
    b->lfd[1] = socket(AF_INET, SOCK_STREAM, 0);
    struct dp *dp = dp_new();
    struct svc_spec s = {.proto = DP_TCP, .vport = 24102, .ports = b->port, .ndests = 3};

    start_dp(dp, 2, snap_one(dp, &s));
    wait_serving(s.vport);
    for (int i = 0; i < 20; i++) {
        int fd = client(s.vport);
        assert_true(fd >= 0);
        assert_true(roundtrip(fd, "ping"));
        close(fd);
    }
    struct dp_dest_counters dc;
    assert_int_equal(dp_dest_read(dp, 24102 * 100 + 1, &dc), 0);
    assert_true(dc.connect_failures >= 5);
    assert_int_equal(dc.active, 0);
    struct dp_counters c = stats_of(dp);
    assert_int_equal(c.no_dest, 0);
    assert_int_equal(c.connect_retries, c.connect_failures);
    dp_free(dp);
    be_stop(b);
}

static void half_close_propagates(void **state)
{
    struct backend *b = be_start(1, BE_ECHO, false);
    struct dp *dp = dp_new();
    struct svc_spec s = {.proto = DP_TCP, .vport = 24103, .ports = b->port, .ndests = 1};
    char buf[64];

    start_dp(dp, 1, snap_one(dp, &s));
    wait_serving(s.vport);
    int fd = client(s.vport);
    assert_true(roundtrip(fd, "one"));
    assert_int_equal(send(fd, "two", 3, 0), 3);
    shutdown(fd, SHUT_WR); /* the backend sees EOF, echoes, closes */
    size_t got = 0;
    ssize_t n;
    while ((n = recv(fd, buf + got, sizeof(buf) - got, 0)) > 0)
        got += (size_t)n;
    assert_int_equal(n, 0); /* clean EOF, not a timeout */
    assert_int_equal(got, 3);
    assert_memory_equal(buf, "two", 3);
    close(fd);
    WAIT_UNTIL(stats_of(dp).conns == 0, TEST_DEADLINE_MS);
    assert_int_equal(stats_of(dp).conns, 0);
    dp_free(dp);
    be_stop(b);
}

static void idle_timeouts_close_silent_and_hung(void **state)
{
    struct backend *hang = be_start(1, BE_HANG, false);
    struct dp *dp = dp_new();
    struct svc_spec s = {
        .proto = DP_TCP, .vport = 24104, .ports = hang->port, .ndests = 1, .idle_us = MONO_MS(200)};
    char c;

    start_dp(dp, 1, snap_one(dp, &s));
    wait_serving(s.vport);
    int64_t t0 = now_ms();
    int silent = client(s.vport); /* sends nothing */
    int hung = client(s.vport);   /* backend accepts, never answers */
    assert_int_equal(send(hung, "req", 3, 0), 3);
    assert_int_equal(recv(silent, &c, 1, 0), 0); /* closed by the proxy */
    assert_int_equal(recv(hung, &c, 1, 0), 0);
    int64_t dt = now_ms() - t0;
    assert_true(dt >= 190 && dt < 5000); /* the 200 ms idle timeout, not the 900 s default */
    /* + wait_serving's probe */
    WAIT_UNTIL(stats_of(dp).idle_timeouts >= 3 && stats_of(dp).conns == 0, TEST_DEADLINE_MS);
    assert_int_equal(stats_of(dp).conns, 0);
    close(silent);
    close(hung);
    dp_free(dp);
    be_stop(hang);
}

static void backpressure_bounds_memory(void **state)
{
    struct backend *hang = be_start(1, BE_HANG, false);
    struct dp *dp = dp_new();
    struct svc_spec s = {.proto = DP_TCP, .vport = 24105, .ports = hang->port, .ndests = 1};
    static char chunk[65536];

    start_dp(dp, 1, snap_one(dp, &s));
    wait_serving(s.vport);
    int fd = client(s.vport);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    size_t sent = 0;
    int64_t dl = now_ms() + 3000;
    /* push until the whole path is full: EAGAIN persisting for 100 ms */
    int64_t stuck = 0;
    while (now_ms() < dl && sent < (256u << 20)) {
        ssize_t n = send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
            stuck = 0;
        } else if (!stuck) {
            stuck = now_ms();
        } else if (now_ms() - stuck > 100) {
            break;
        } else {
            nap_ms(1);
        }
    }
    assert_true(sent < (64u << 20)); /* the proxy stopped reading */
    struct dp_counters c = stats_of(dp);
    assert_true(c.buffers_in_use <= 1); /* one 16 KiB buffer for the stuck direction */
    assert_int_equal(c.conns, 2); /* + wait_serving's probe, half-closed towards the hung backend */
    close(fd);
    dp_free(dp);
    be_stop(hang);
}

static void proxy_headers_reach_backend(void **state)
{
    struct backend *b = be_start(1, BE_ECHO, false);

    for (uint8_t v = 1; v <= 2; v++) {
        struct dp *dp = dp_new();
        struct svc_spec s = {.proto = DP_TCP,
                             .vport = (uint16_t)(24105 + v),
                             .ports = b->port,
                             .ndests = 1,
                             .proxy = v};
        start_dp(dp, 1, snap_one(dp, &s));
        wait_serving(s.vport);
        int fd = client(s.vport);
        struct sockaddr_in me;
        socklen_t len = sizeof(me);
        getsockname(fd, (struct sockaddr *)&me, &len);
        assert_int_equal(send(fd, "DATA", 4, 0), 4);
        char want[128];
        size_t wlen;
        if (v == 1) {
            wlen = (size_t)snprintf(want, sizeof(want), "PROXY TCP4 127.0.0.1 %s %u %u\r\nDATA",
                                    VIP, ntohs(me.sin_port), s.vport);
        } else {
            static const uint8_t sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                            0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
            uint8_t *w = (uint8_t *)want;
            memcpy(w, sig, 12);
            w[12] = 0x21, w[13] = 0x11, w[14] = 0, w[15] = 12;
            memcpy(w + 16, "\x7f\x00\x00\x01", 4);
            inet_pton(AF_INET, VIP, w + 20);
            w[24] = (uint8_t)(ntohs(me.sin_port) >> 8), w[25] = (uint8_t)ntohs(me.sin_port);
            w[26] = (uint8_t)(s.vport >> 8), w[27] = (uint8_t)s.vport;
            memcpy(w + 28, "DATA", 4);
            wlen = 32;
        }
        char buf[128];
        size_t got = 0;
        while (got < wlen) { /* the echo returns header + data */
            ssize_t n = recv(fd, buf + got, wlen - got, 0);
            assert_true(n > 0);
            got += (size_t)n;
        }
        assert_memory_equal(buf, want, wlen);
        close(fd);
        dp_free(dp);
    }
    be_stop(b);
}

static void weight_zero_drains(void **state)
{
    struct backend *b = be_start(2, BE_ECHO, false);
    struct dp *dp = dp_new();
    struct svc_spec s = {.proto = DP_TCP, .vport = 24110, .ports = b->port, .ndests = 2};
    static const uint32_t drained[2] = {0, 1};

    start_dp(dp, 1, snap_one(dp, &s));
    wait_serving(s.vport);
    /* hold connections on both dests */
    int held[2];
    for (int i = 0; i < 2; i++) {
        held[i] = client(s.vport);
        assert_true(roundtrip(held[i], "x"));
    }
    s.weights = drained;
    dp_publish(dp, snap_one(dp, &s));
    WAIT_UNTIL(dp_reclaim(dp) == 0, TEST_DEADLINE_MS);
    assert_int_equal(dp_reclaim(dp), 0); /* the worker moved past the old snapshot */
    int a0 = atomic_load(&b->accepts[0]), a1 = atomic_load(&b->accepts[1]);
    for (int i = 0; i < 6; i++) {
        int fd = client(s.vport);
        assert_true(roundtrip(fd, "y"));
        close(fd);
    }
    assert_int_equal(atomic_load(&b->accepts[0]), a0);
    assert_int_equal(atomic_load(&b->accepts[1]), a1 + 6);
    for (int i = 0; i < 2; i++) { /* existing connections keep working */
        assert_true(roundtrip(held[i], "still"));
        close(held[i]);
    }
    dp_free(dp);
    be_stop(b);
}

struct swapper {
    struct dp *dp;
    struct svc_spec s;
    atomic_bool stop;
    atomic_int published; /* read by the test thread while the swapper runs */
};

static void *swap_main(void *arg)
{
    struct swapper *sw = arg;
    static const uint32_t w1[3] = {1, 1, 1}, w2[3] = {1, 2, 0};

    while (!atomic_load(&sw->stop)) {
        sw->s.weights = sw->published % 2 ? w1 : w2;
        dp_publish(sw->dp, snap_one(sw->dp, &sw->s));
        sw->published++;
        nap_ms(1);
    }
    return NULL;
}

static void snapshot_swaps_under_traffic(void **state)
{
    struct backend *b = be_start(3, BE_ECHO, false);
    struct dp *dp = dp_new();
    struct swapper sw = {.dp = dp,
                         .s = {.proto = DP_TCP, .vport = 24111, .ports = b->port, .ndests = 3}};
    pthread_t th;

    start_dp(dp, 2, snap_one(dp, &sw.s));
    wait_serving(sw.s.vport);
    int held = client(sw.s.vport);
    bool ok = true; /* asserted once the swapper stopped: it must not outlive a failure */
    pthread_create(&th, NULL, swap_main, &sw);
    for (int i = 0; i < 200 && ok; i++) {
        int fd = client(sw.s.vport);
        ok = roundtrip(fd, "swap") && roundtrip(held, "held");
        close(fd);
    }
    WAIT_UNTIL(sw.published > 10, TEST_DEADLINE_MS); /* a loaded machine may starve the swapper */
    atomic_store(&sw.stop, true);
    pthread_join(th, NULL);
    assert_true(ok);
    assert_true(sw.published > 10);
    WAIT_UNTIL(dp_reclaim(dp) == 0, TEST_DEADLINE_MS);
    assert_int_equal(dp_reclaim(dp), 0);
    assert_int_equal(stats_of(dp).no_dest, 0);
    close(held);
    dp_free(dp);
    be_stop(b);
}

static void maxconn_refuses(void **state)
{
    struct backend *b = be_start(1, BE_ECHO, false);
    struct dp *dp = dp_new();
    struct svc_spec s = {.proto = DP_TCP, .vport = 24112, .ports = b->port, .ndests = 1};
    int fds[8];
    char c;

    dp->opts.max_conns = 5;
    start_dp(dp, 1, snap_one(dp, &s));
    wait_serving(s.vport);
    wait_probe_done(dp, b);
    for (int i = 0; i < 5; i++) {
        fds[i] = client(s.vport);
        assert_true(roundtrip(fds[i], "m"));
    }
    for (int i = 5; i < 8; i++) {
        fds[i] = client(s.vport); /* accepted by the kernel, closed by the proxy */
        assert_true(fds[i] >= 0);
        assert_true(recv(fds[i], &c, 1, 0) <= 0);
    }
    assert_int_equal(stats_of(dp).refused_maxconn, 3);
    for (int i = 0; i < 8; i++)
        close(fds[i]);
    dp_free(dp);
    be_stop(b);
}

/* Which backend (index) served the last connection: the one whose accept count moved. */
static int served_by(struct backend *b, const int *before)
{
    for (int i = 0; i < b->nl; i++)
        if (atomic_load(&b->accepts[i]) != before[i])
            return i;
    return -1;
}

static void persistence_sticks_per_client(void **state)
{
    struct backend *b = be_start(3, BE_ECHO, false);
    struct dp *dp = dp_new();
    struct svc_spec s = {.proto = DP_TCP, .vport = 24116, .ports = b->port, .ndests = 3};

    struct dp_snap *snap = snap_one(dp, &s);
    snap->svc[0].persist_timeout_us = MONO_S(60);
    /* Three workers: every connection of the client must reach the worker that holds its
     * template (dp_steer.c), whatever its source port. */
    start_dp(dp, 3, snap);
    wait_serving(s.vport);
    wait_probe_done(dp, b);
    int first = -1;
    for (int i = 0; i < 24; i++) { /* same client address 127.0.0.1 every time */
        int before[3];
        for (int k = 0; k < 3; k++)
            before[k] = atomic_load(&b->accepts[k]);
        int fd = client(s.vport);
        assert_true(roundtrip(fd, "p"));
        close(fd);
        int who = served_by(b, before);
        assert_true(who >= 0);
        if (first < 0)
            first = who;
        assert_int_equal(who, first);
    }
    dp_free(dp);
    be_stop(b);
}

static void sorry_server_when_quorum_lost(void **state)
{
    struct backend *b = be_start(3, BE_ECHO, false);
    struct dp *dp = dp_new();
    struct svc_spec s = {.proto = DP_TCP, .vport = 24117, .ports = b->port, .ndests = 2};

    struct dp_snap *snap = snap_one(dp, &s);
    struct dp_svc *svc = &snap->svc[0];
    svc->quorum_up = false;
    svc->has_sorry = true;
    ip_addr_parse("127.13.1.3", &svc->sorry.addr); /* backend index 2 */
    svc->sorry.port = b->port[2];
    svc->sorry.id = 9999;
    svc->sorry.weight = 1;
    svc->sorry.stats = dp_dest_stats(dp, 9999);
    start_dp(dp, 1, snap);
    wait_serving(s.vport);
    wait_probe_done(dp, b);
    int a0 = atomic_load(&b->accepts[0]), a1 = atomic_load(&b->accepts[1]);
    int a2 = atomic_load(&b->accepts[2]);
    for (int i = 0; i < 4; i++) {
        int fd = client(s.vport);
        assert_true(roundtrip(fd, "sorry"));
        close(fd);
    }
    assert_int_equal(atomic_load(&b->accepts[0]), a0);
    assert_int_equal(atomic_load(&b->accepts[1]), a1);
    assert_int_equal(atomic_load(&b->accepts[2]), a2 + 4);
    struct dp_dest_counters dc;
    assert_int_equal(dp_dest_read(dp, 9999, &dc), 0);
    assert_int_equal(dc.conns_total, 5); /* + the probe */
    dp_free(dp);
    be_stop(b);
}

static void stop_closes_listener_and_drains(void **state)
{
    struct backend *b = be_start(1, BE_ECHO, false);
    struct dp *dp = dp_new();
    struct svc_spec s = {.proto = DP_TCP, .vport = 24118, .ports = b->port, .ndests = 1};
    char c;

    dp->opts.drain_timeout_us = MONO_MS(300);
    start_dp(dp, 2, snap_one(dp, &s));
    wait_serving(s.vport);
    int held = client(s.vport);
    assert_true(roundtrip(held, "before"));
    int64_t t0 = now_ms();
    dp_stop(dp); /* the held connection is idle: closed at the drain bound */
    int64_t dt = now_ms() - t0;
    assert_true(dt >= 250 && dt < 4500); /* the 300 ms bound, not the 5 s default */
    assert_true(recv(held, &c, 1, 0) <= 0);
    assert_int_equal(client(s.vport), -1); /* no listener any more */
    close(held);
    dp_free(dp);
    be_stop(b);
}

/* ---- UDP ---- */

static int udp_client(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct timeval tv = {.tv_usec = 200000};

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

/* Sends msg to VIP:port and expects its echo back from VIP:port within TEST_DEADLINE_MS. The
 * datagram is sent again after each 200 ms without the echo (lost before the worker served
 * the port, or just slow); other datagrams (the late echo of an earlier message or of a copy)
 * are skipped. The copies all come from fd, so they belong to one flow. */
static bool udp_roundtrip(int fd, uint16_t vport, const char *msg)
{
    struct sockaddr_in to = sin_of(VIP, vport), from;
    size_t len = strlen(msg);
    int64_t dl = now_ms() + TEST_DEADLINE_MS;
    char buf[256];

    while (now_ms() < dl) {
        sendto(fd, msg, len, 0, (struct sockaddr *)&to, sizeof(to));
        for (;;) {
            socklen_t flen = sizeof(from);
            ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
            if (n < 0)
                break; /* 200 ms without a datagram: send again */
            if (n == (ssize_t)len && memcmp(buf, msg, len) == 0)
                return from.sin_addr.s_addr == to.sin_addr.s_addr && from.sin_port == to.sin_port;
        }
    }
    return false;
}

static void udp_echo_expiry_and_removal(void **state)
{
    struct backend *b = be_start(0, BE_ECHO, true);
    struct dp *dp = dp_new();
    struct svc_spec s = {.proto = DP_UDP,
                         .vport = 24113,
                         .ports = &b->uport,
                         .ndests = 1,
                         .dest_net = "127.13.2.",
                         .idle_us = MONO_S(2)}; /* margin for a stalled test thread */

    start_dp(dp, 1, snap_one(dp, &s));
    int fd = udp_client();
    assert_true(udp_roundtrip(fd, s.vport, "u0")); /* once the worker serves */
    assert_true(udp_roundtrip(fd, s.vport, "u1"));
    struct dp_counters c = stats_of(dp);
    assert_int_equal(c.udp_flows, 1);
    struct dp_dest_counters dc;
    dp_dest_read(dp, 24113 * 100, &dc);
    assert_int_equal(dc.inactive, 1); /* UDP flows count as inactive */
    /* idle expiry (two counters: wait for both, the reader may see one before the other) */
    WAIT_UNTIL(stats_of(dp).udp_flows == 0 && stats_of(dp).udp_flows_expired == 1,
               TEST_DEADLINE_MS);
    assert_int_equal(stats_of(dp).udp_flows_expired, 1);
    assert_true(udp_roundtrip(fd, s.vport, "u2")); /* a new flow */
    assert_int_equal(stats_of(dp).udp_flows, 1);
    s.ndests = 0; /* the dest leaves: its flow expires at once */
    s.idle_us = MONO_S(30);
    dp_publish(dp, snap_one(dp, &s));
    WAIT_UNTIL(stats_of(dp).udp_flows == 0 && stats_of(dp).udp_flows_expired == 2,
               TEST_DEADLINE_MS);
    c = stats_of(dp);
    assert_int_equal(c.udp_flows, 0);
    assert_int_equal(c.udp_flows_expired, 2);
    dp_dest_read(dp, 24113 * 100, &dc);
    assert_int_equal(dc.inactive, 0);
    close(fd);
    dp_free(dp);
    be_stop(b);
}

static void udp_table_bound_evicts_oldest(void **state)
{
    struct backend *b = be_start(0, BE_ECHO, true);
    struct dp *dp = dp_new();
    struct svc_spec s = {
        .proto = DP_UDP, .vport = 24114, .ports = &b->uport, .ndests = 1, .dest_net = "127.13.2."};
    int fds[6];

    dp->opts.udp_max_flows = 4;
    start_dp(dp, 1, snap_one(dp, &s));
    for (int i = 0; i < 6; i++) {
        fds[i] = udp_client();
        assert_true(udp_roundtrip(fds[i], s.vport, "f")); /* the first waits for the worker */
    }
    struct dp_counters c = stats_of(dp);
    assert_int_equal(c.udp_flows, 4);
    assert_int_equal(c.udp_flows_evicted, 2);
    for (int i = 0; i < 6; i++)
        close(fds[i]);
    dp_free(dp);
    be_stop(b);
}

/* A UDP real server the test drives by hand (127.13.2.1, port chosen by the kernel). */
static int held_rs(uint16_t *port)
{
    struct sockaddr_in a = sin_of("127.13.2.1", 0);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    *port = local_port(fd);
    return fd;
}

/* One datagram from fd within ms (its text NUL-terminated in buf, its source in *from), else
 * -1. */
static ssize_t recv_within(int fd, int ms, char *buf, size_t cap, struct sockaddr_in *from)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    socklen_t len = sizeof(*from);

    if (poll(&p, 1, ms) != 1)
        return -1;
    ssize_t n = recvfrom(fd, buf, cap - 1, MSG_DONTWAIT, (struct sockaddr *)from, &len);
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

static void send_to_vip(int fd, uint16_t vport, const char *msg)
{
    struct sockaddr_in to = sin_of(VIP, vport);

    sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&to, sizeof(to));
}

struct svc_fds {
    int orig; /* the worker's service socket (its fd number) */
    int dup;  /* the successor's copy */
};

static void keep_fd(void *ctx, int fd)
{
    struct svc_fds *k = ctx;

    assert_int_equal(k->dup, -1); /* one worker: one service socket */
    k->orig = fd;
    k->dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

/* Whether an epoll instance of this process watches fd (the "tfd:" lines of its fdinfo): the
 * worker's watch of its service socket, seen without racing the worker for a datagram. */
static bool epoll_watches(int fd)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    bool found = false;

    while (!found && (e = readdir(d))) {
        char path[300], link[64], line[256];
        snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, link, sizeof(link) - 1);
        if (n <= 0 || (link[n] = '\0', strcmp(link, "anon_inode:[eventpoll]") != 0))
            continue;
        snprintf(path, sizeof(path), "/proc/self/fdinfo/%s", e->d_name);
        FILE *f = fopen(path, "r");
        int tfd;
        while (f && !found && fgets(line, sizeof(line), f))
            found = sscanf(line, "tfd: %d", &tfd) == 1 && tfd == fd;
        if (f)
            fclose(f);
    }
    closedir(d);
    return found;
}

static void *stop_main(void *arg)
{
    dp_stop(arg);
    return NULL;
}

/* The binary upgrade's UDP hand-over, in one process: the successor's copy of the service
 * socket is a duplicate kept by the test. Once the data plane stops, the successor alone reads
 * the socket (a client's next datagram reaches it, not the real server), while a reply the real
 * server sends after that still reaches its client from VIP:port; a flow whose request is never
 * answered holds the stop until the drain bound, and its late reply is dropped after it. */
static void udp_stop_relays_late_replies(void **state)
{
    uint16_t rsport, vport = 24119;
    int rs = held_rs(&rsport);
    struct svc_fds k = {-1, -1};
    struct dp *dp = dp_new();
    struct svc_spec s = {
        .proto = DP_UDP, .vport = vport, .ports = &rsport, .ndests = 1, .dest_net = "127.13.2."};
    struct sockaddr_in from, flow_a, flow_b;
    char buf[64];

    dp->opts.drain_timeout_us = MONO_MS(1000);
    start_dp(dp, 1, snap_one(dp, &s));
    int a = udp_client(), b = udp_client(), c = udp_client();
    int64_t dl = now_ms() + TEST_DEADLINE_MS;
    do { /* until the worker serves: the query reaches the real server */
        assert_true(now_ms() < dl);
        send_to_vip(a, vport, "qa");
    } while (recv_within(rs, 20, buf, sizeof(buf), &flow_a) < 0);
    while (recv_within(rs, 20, buf, sizeof(buf), &flow_a) > 0) /* the retries' copies */
        ;
    send_to_vip(b, vport, "qb");
    do /* a copy of qa later than 20 ms (a loaded machine) may come first */
        assert_true(recv_within(rs, TEST_DEADLINE_MS, buf, sizeof(buf), &flow_b) > 0);
    while (strcmp(buf, "qa") == 0);
    assert_string_equal(buf, "qb");
    dp_listeners(dp, keep_fd, &k);
    assert_true(k.dup >= 0 && epoll_watches(k.orig));

    pthread_t th;
    int64_t t0 = now_ms();
    pthread_create(&th, NULL, stop_main, dp);
    /* The worker stops watching its service socket (qb's flow keeps it open meanwhile). */
    WAIT_UNTIL(!epoll_watches(k.orig), TEST_DEADLINE_MS);
    assert_false(epoll_watches(k.orig));
    send_to_vip(a, vport, "a2"); /* a's next datagram: the successor's */
    assert_true(recv_within(k.dup, TEST_DEADLINE_MS, buf, sizeof(buf), &from) > 0);
    assert_string_equal(buf, "a2");
    while (recv_within(rs, 0, buf, sizeof(buf), &from) > 0)
        assert_string_not_equal(buf, "a2");

    /* The late answer to qa, after the hand-over, reaches a from VIP:port. */
    sendto(rs, "ra", 2, 0, (struct sockaddr *)&flow_a, sizeof(flow_a));
    assert_true(recv_within(a, TEST_DEADLINE_MS, buf, sizeof(buf), &from) > 0);
    assert_string_equal(buf, "ra");
    assert_int_equal(from.sin_addr.s_addr, sin_of(VIP, vport).sin_addr.s_addr);
    assert_int_equal(ntohs(from.sin_port), vport);

    pthread_join(th, NULL); /* qb is never answered: the drain bound ends its flow */
    int64_t dt = now_ms() - t0;
    print_message("dp_stop took %lld ms (drain bound 1000 ms)\n", (long long)dt);
    assert_true(dt >= 900 && dt < 4500); /* the 1 s bound, not the 5 s default */
    sendto(rs, "rb", 2, 0, (struct sockaddr *)&flow_b, sizeof(flow_b));
    assert_true(recv_within(b, 200, buf, sizeof(buf), &from) < 0);
    /* The successor's socket lives on: a datagram to the VIP still reaches it. */
    send_to_vip(c, vport, "after");
    assert_true(recv_within(k.dup, TEST_DEADLINE_MS, buf, sizeof(buf), &from) > 0);
    assert_string_equal(buf, "after");
    close(a);
    close(b);
    close(c);
    close(k.dup);
    close(rs);
    dp_free(dp);
}

/* Flows whose last request is answered do not hold a stop: it returns DP_STOP_UDP_GRACE_US
 * (0.5 s) after the answer, well before the drain bound, and the service socket is closed. */
static void udp_stop_ends_answered_flows(void **state)
{
    struct backend *b = be_start(0, BE_ECHO, true);
    struct dp *dp = dp_new();
    struct svc_spec s = {
        .proto = DP_UDP, .vport = 24120, .ports = &b->uport, .ndests = 1, .dest_net = "127.13.2."};
    char buf[64];
    struct sockaddr_in from;

    dp->opts.drain_timeout_us = MONO_S(10);
    start_dp(dp, 2, snap_one(dp, &s));
    int fd = udp_client();
    assert_true(udp_roundtrip(fd, s.vport, "u0")); /* once the worker serves */
    assert_true(udp_roundtrip(fd, s.vport, "u1"));
    int64_t t0 = now_ms();
    dp_stop(dp);
    int64_t dt = now_ms() - t0;
    print_message("dp_stop took %lld ms (drain bound 10 s)\n", (long long)dt);
    assert_true(dt < 5000);   /* the 0.5 s grace after the answer, not the 10 s bound */
    int probe = udp_client(); /* nothing serves VIP:port any more */
    send_to_vip(probe, s.vport, "x");
    assert_true(recv_within(probe, 200, buf, sizeof(buf), &from) < 0);
    close(probe);
    close(fd);
    dp_free(dp);
    be_stop(b);
}

/* A request refused by the real server (ICMP port unreachable on the flow socket) is answered
 * too: its flow does not hold a stop until the drain bound. */
static void udp_stop_ends_refused_flows(void **state)
{
    uint16_t closed;
    int rs = held_rs(&closed);
    struct dp *dp = dp_new();
    struct svc_spec s = {
        .proto = DP_UDP, .vport = 24121, .ports = &closed, .ndests = 1, .dest_net = "127.13.2."};

    close(rs); /* nothing listens on 127.13.2.1:closed any more */
    dp->opts.drain_timeout_us = MONO_S(10);
    start_dp(dp, 1, snap_one(dp, &s));
    int fd = udp_client();
    int64_t dl = now_ms() + TEST_DEADLINE_MS;
    do { /* until the worker serves and the refusal came back */
        assert_true(now_ms() < dl);
        send_to_vip(fd, s.vport, "x");
        nap_ms(20);
    } while (stats_of(dp).udp_drops == 0);
    assert_int_equal(stats_of(dp).udp_flows, 1);
    int64_t t0 = now_ms();
    dp_stop(dp);
    int64_t dt = now_ms() - t0;
    print_message("dp_stop took %lld ms (drain bound 10 s)\n", (long long)dt);
    assert_true(dt < 5000); /* the refusal ends the flow: not the 10 s bound */
    close(fd);
    dp_free(dp);
}

/* ---- scale ---- */

#define MANY 10000

/* Child side of the scale test: the backends and the clients live in another process so that
 * this process only holds the proxy's two fds per connection (RLIMIT_NOFILE is per process).
 * Steps are acknowledged over pipes; any failure is reported as 'N'. */
static void scale_child(int many, uint16_t vport, int rd, int wr)
{
    char step, src_ip[32];
    struct backend *b = be_start(4, BE_ECHO, false);
    int *fds = calloc((size_t)many, sizeof(int));
    struct sockaddr_in a = sin_of(VIP, vport);
    const char *err = NULL;

    /* A source address of its own per run: back-to-back runs would otherwise find the
     * client ports still in TIME_WAIT (tcp_tw_reuse waits a second). */
    snprintf(src_ip, sizeof(src_ip), "127.13.3.%d", (int)(getpid() % 250) + 1);
    struct sockaddr_in src = sin_of(src_ip, 0);
    if (write(wr, "R", 1) != 1 || write(wr, b->port, 4 * sizeof(uint16_t)) != 8 ||
        read(rd, &step, 1) != 1) /* ready (and the backend ports) / go */
        _exit(1);
    /* the parent's wait_serving probe reached a backend and is gone: it is not counted below */
    WAIT_UNTIL(be_accepts(b) >= 1 && atomic_load(&b->open) == 0, TEST_DEADLINE_MS);
    for (int i = 0; i < many && !err; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&src, sizeof(src)) != 0 ||
            connect(fds[i], (struct sockaddr *)&a, sizeof(a)) != 0)
            err = "c"; /* connect */
    }
    WAIT_UNTIL(err || atomic_load(&b->open) >= many, 20000);
    if (!err && atomic_load(&b->open) != many)
        err = "o"; /* not every connection reached a backend */
    if (write(wr, err ? err : "O", 1) != 1 || read(rd, &step, 1) != 1)
        _exit(1);
    struct timeval tv = {.tv_sec = 3};
    for (int i = 0; i < many && !err; i += 97) { /* a sample still relays */
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (!roundtrip(fds[i], "k"))
            err = "r";
    }
    for (int i = 0; i < many; i++)
        close(fds[i]);
    WAIT_UNTIL(atomic_load(&b->open) == 0, 20000);
    if (!err && atomic_load(&b->open) != 0)
        err = "z"; /* backends still hold connections */
    if (write(wr, err ? err : "Y", 1) != 1)
        _exit(1);
    be_stop(b);
    free(fds);
    _exit(0);
}

static char read_step(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char c = 0;

    if (poll(&p, 1, 30000) == 1 && read(fd, &c, 1) == 1)
        return c;
    return 0;
}

static void ten_thousand_concurrent(void **state)
{
    struct rlimit rl = {.rlim_cur = 2 * MANY + 1024, .rlim_max = 2 * MANY + 1024}, old;
    int many = MANY, p2c[2], c2p[2];

    getrlimit(RLIMIT_NOFILE, &old);
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) { /* not allowed: scale down to what fits */
        many = (int)(old.rlim_cur - 200) / 2;
        print_message("RLIMIT_NOFILE hard limit %ld: scaled down to %d connections\n",
                      (long)old.rlim_max, many);
    }
    int base_fds = count_fds();
    struct svc_spec s = {.proto = DP_TCP, .vport = 24115, .ndests = 4};
    assert_int_equal(pipe(p2c), 0);
    assert_int_equal(pipe(c2p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p2c[1]);
        close(c2p[0]);
        scale_child(many, s.vport, p2c[0], c2p[1]);
    }
    close(p2c[0]);
    close(c2p[1]);
    assert_int_equal(read_step(c2p[0]), 'R');
    uint16_t ports[4];
    assert_int_equal(read(c2p[0], ports, sizeof(ports)), sizeof(ports));
    s.ports = ports;
    struct dp *dp = dp_new();
    start_dp(dp, 2, snap_one(dp, &s));
    wait_serving(s.vport);
    WAIT_UNTIL(stats_of(dp).accepted >= 1 && stats_of(dp).conns == 0, TEST_DEADLINE_MS);
    assert_int_equal(write(p2c[1], "G", 1), 1);
    /* 'c' connect failed, 'o' not all reached a backend, 'r' relay, 'z' close */
    assert_int_equal(read_step(c2p[0]), 'O');
    WAIT_UNTIL(stats_of(dp).conns == (uint64_t)many,
               TEST_DEADLINE_MS); /* the last accepts may lag */
    assert_int_equal(stats_of(dp).conns, many);
    assert_int_equal(write(p2c[1], "S", 1), 1);
    assert_int_equal(read_step(c2p[0]), 'Y');
    WAIT_UNTIL(stats_of(dp).conns == 0, 15000);
    assert_int_equal(stats_of(dp).conns, 0);
    assert_int_equal(stats_of(dp).no_dest, 0);
    dp_free(dp);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(p2c[1]);
    close(c2p[0]);
    assert_int_equal(count_fds(), base_fds); /* everything closed */
    setrlimit(RLIMIT_NOFILE, &old);
}

/* After every test: stops what a failed one left running (the dps first: their workers may
 * still relay to the backends). */
static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < LIVE_MAX; i++)
        if (live_dp[i])
            dp_free(live_dp[i]);
    for (int i = 0; i < LIVE_MAX; i++)
        if (live_be[i])
            be_stop(live_be[i]);
    return 0;
}

int main(void)
{
    snprintf(vip, sizeof(vip), "127.13.%d.1", 10 + (int)(getpid() % 240)); /* 1..3: backends */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(rr_spreads_over_three, teardown),
        cmocka_unit_test_teardown(retry_hides_closed_backend, teardown),
        cmocka_unit_test_teardown(half_close_propagates, teardown),
        cmocka_unit_test_teardown(idle_timeouts_close_silent_and_hung, teardown),
        cmocka_unit_test_teardown(backpressure_bounds_memory, teardown),
        cmocka_unit_test_teardown(proxy_headers_reach_backend, teardown),
        cmocka_unit_test_teardown(weight_zero_drains, teardown),
        cmocka_unit_test_teardown(snapshot_swaps_under_traffic, teardown),
        cmocka_unit_test_teardown(maxconn_refuses, teardown),
        cmocka_unit_test_teardown(persistence_sticks_per_client, teardown),
        cmocka_unit_test_teardown(sorry_server_when_quorum_lost, teardown),
        cmocka_unit_test_teardown(stop_closes_listener_and_drains, teardown),
        cmocka_unit_test_teardown(udp_echo_expiry_and_removal, teardown),
        cmocka_unit_test_teardown(udp_table_bound_evicts_oldest, teardown),
        cmocka_unit_test_teardown(udp_stop_relays_late_replies, teardown),
        cmocka_unit_test_teardown(udp_stop_ends_answered_flows, teardown),
        cmocka_unit_test_teardown(udp_stop_ends_refused_flows, teardown),
        cmocka_unit_test_teardown(ten_thousand_concurrent, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
