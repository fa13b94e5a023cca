/* The packet data plane (daemon/dp/dp_pkt.h) against the real kernel, without the daemon: the
 * TC BPF programs on lo of a private network namespace, the packet thread, and real sockets.
 *
 * main() moves the process into a new network namespace (unshare(CLONE_NEWNET), before any
 * thread exists) and brings lo up there, so the programs attach to that lo only and vanish
 * with the namespace. The whole file is skipped, with the reason printed, only when unshare or
 * the BPF load is refused with EPERM (not root); any other failure fails.
 *
 * Real servers are TCP and UDP echo sockets on 127.0.0.2 and 127.0.0.3 (ports chosen by the
 * kernel), served by one helper thread that records, per real server, how many connections
 * and datagrams it got and from whom. The services are VIP 127.0.0.9:8080/TCP and
 * 127.0.0.9:5353/UDP, rr over both real servers; nothing listens on the VIP itself, so a
 * packet the programs do not rewrite is refused by the local stack (RST, port unreachable).
 * Waits are on conditions with deadlines (the sweep runs every second), never fixed sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/addr.h"
#include "daemon/dp/dp.h"
#include "daemon/dp/dp_pkt.h"
#include "io/nl.h"
#include "proto/lb/lb-t.h"

#define VIP         "127.0.0.9"
#define VPORT_TCP   8080
#define VPORT_UDP   5353
#define NBE         2
#define DEADLINE_MS 10000
#define LO_IFINDEX  1 /* lo is always 1 in a new namespace */

static const char *const be_addr[NBE] = {"127.0.0.2", "127.0.0.3"};
static const uint32_t tcp_id[NBE] = {1, 2}, udp_id[NBE] = {11, 12};

/* Why the kernel tests cannot run here (printed by each), or NULL. */
static const char *skip_reason;

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

/* Polls cond every 5 ms for up to ms milliseconds. */
#define WAIT_UNTIL(cond, ms)                                                                       \
    do {                                                                                           \
        int64_t dl_ = now_ms() + (ms);                                                             \
        while (!(cond) && now_ms() < dl_)                                                          \
            nap_ms(5);                                                                             \
    } while (0)

static struct sockaddr_in sin_of(const char *ip, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

    assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return a;
}

static bool same_sin(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
    return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

static void set_timeouts(int fd)
{
    struct timeval tv = {.tv_sec = 5};

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)); /* bounds connect() too */
}

/* ---- the real servers: one thread echoing on every backend socket ---- */

#define MAX_CONNS 32

struct backend {
    int tcp, udp;                /* listening TCP and bound UDP sockets */
    uint16_t tcp_port, udp_port; /* host order */
    atomic_int accepts, datagrams;
    pthread_mutex_t mu;
    struct sockaddr_in tcp_peer, udp_peer; /* the last client seen (under mu) */
};

static struct backends {
    struct backend be[NBE];
    int conn[MAX_CONNS]; /* accepted connections, -1 = free */
    pthread_t thread;
    atomic_bool stop;
    bool running;
} srv;

static int bound_socket(int type, const char *ip, uint16_t *port)
{
    struct sockaddr_in a = sin_of(ip, 0);
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void accept_one(struct backend *b)
{
    struct sockaddr_in peer;
    socklen_t len = sizeof(peer);
    int fd = accept4(b->tcp, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);

    if (fd < 0)
        return;
    for (int i = 0; i < MAX_CONNS; i++) {
        if (srv.conn[i] < 0) {
            srv.conn[i] = fd;
            pthread_mutex_lock(&b->mu);
            b->tcp_peer = peer;
            pthread_mutex_unlock(&b->mu);
            atomic_fetch_add(&b->accepts, 1);
            return;
        }
    }
    close(fd); /* more than a test ever opens at once */
}

static void echo_udp(struct backend *b)
{
    char buf[2048];
    struct sockaddr_in peer;
    socklen_t len = sizeof(peer);
    ssize_t n = recvfrom(b->udp, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len);

    if (n < 0)
        return;
    pthread_mutex_lock(&b->mu);
    b->udp_peer = peer;
    pthread_mutex_unlock(&b->mu);
    atomic_fetch_add(&b->datagrams, 1);
    (void)sendto(b->udp, buf, (size_t)n, 0, (struct sockaddr *)&peer, len);
}

/* Echoes what connection i sends; closes it at EOF (so both sides' FINs are seen). */
static void echo_tcp(int i)
{
    char buf[2048];
    ssize_t n = recv(srv.conn[i], buf, sizeof(buf), 0);

    if (n <= 0 || send(srv.conn[i], buf, (size_t)n, MSG_NOSIGNAL) != n) {
        close(srv.conn[i]);
        srv.conn[i] = -1;
    }
}

static void *srv_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&srv.stop)) {
        struct pollfd pfd[2 * NBE + MAX_CONNS];
        int n = 0;
        for (int i = 0; i < NBE; i++) {
            pfd[n++] = (struct pollfd){.fd = srv.be[i].tcp, .events = POLLIN};
            pfd[n++] = (struct pollfd){.fd = srv.be[i].udp, .events = POLLIN};
        }
        for (int i = 0; i < MAX_CONNS; i++)
            pfd[n++] = (struct pollfd){.fd = srv.conn[i], .events = POLLIN}; /* -1: ignored */
        if (poll(pfd, (nfds_t)n, 20) <= 0)
            continue;
        for (int i = 0; i < NBE; i++) {
            if (pfd[2 * i].revents)
                accept_one(&srv.be[i]);
            if (pfd[2 * i + 1].revents)
                echo_udp(&srv.be[i]);
        }
        for (int i = 0; i < MAX_CONNS; i++)
            if (pfd[2 * NBE + i].revents && srv.conn[i] >= 0)
                echo_tcp(i);
    }
    return NULL;
}

static void srv_start(void)
{
    memset(&srv, 0, sizeof(srv));
    for (int i = 0; i < MAX_CONNS; i++)
        srv.conn[i] = -1;
    for (int i = 0; i < NBE; i++) {
        struct backend *b = &srv.be[i];
        pthread_mutex_init(&b->mu, NULL);
        b->tcp = bound_socket(SOCK_STREAM, be_addr[i], &b->tcp_port);
        assert_int_equal(listen(b->tcp, 64), 0);
        b->udp = bound_socket(SOCK_DGRAM, be_addr[i], &b->udp_port);
    }
    assert_int_equal(pthread_create(&srv.thread, NULL, srv_main, NULL), 0);
    srv.running = true;
}

static void srv_stop(void)
{
    if (!srv.running)
        return;
    atomic_store(&srv.stop, true);
    pthread_join(srv.thread, NULL);
    srv.running = false;
    for (int i = 0; i < MAX_CONNS; i++)
        if (srv.conn[i] >= 0)
            close(srv.conn[i]);
    for (int i = 0; i < NBE; i++) {
        close(srv.be[i].tcp);
        close(srv.be[i].udp);
        pthread_mutex_destroy(&srv.be[i].mu);
    }
}

/* Which backend's count went up from before (a snapshot of one counter per backend); -1 if
 * none or several did. */
static int which_grew(const int *before, bool udp)
{
    int who = -1;

    for (int i = 0; i < NBE; i++) {
        int now = atomic_load(udp ? &srv.be[i].datagrams : &srv.be[i].accepts);
        if (now != before[i]) {
            if (who >= 0)
                return -1;
            who = i;
        }
    }
    return who;
}

static void counts(int *out, bool udp)
{
    for (int i = 0; i < NBE; i++)
        out[i] = atomic_load(udp ? &srv.be[i].datagrams : &srv.be[i].accepts);
}

/* ---- the packet plane and its snapshots ---- */

static struct dp dp;      /* owns the dest statistics blocks */
static struct dp_pkt pkt; /* the plane under test */
static bool dp_live;

/* The TCP and UDP services, each with the first ndests backends (rr, weight 1). */
static struct dp_snap *snap_of(int ndests)
{
    struct dp_snap *snap = dp_snap_new(2);

    for (int s = 0; s < 2; s++) {
        struct dp_svc *svc = &snap->svc[s];
        bool udp = s == 1;
        assert_true(ip_addr_parse(VIP, &svc->addr));
        svc->port = udp ? VPORT_UDP : VPORT_TCP;
        svc->proto = udp ? DP_UDP : DP_TCP;
        svc->sched_kind = LB_SCHED_RR;
        svc->quorum_up = true;
        struct dp_dest *d = dp_svc_dests(svc, (size_t)ndests);
        for (int i = 0; i < ndests; i++) {
            assert_true(ip_addr_parse(be_addr[i], &d[i].addr));
            d[i].port = udp ? srv.be[i].udp_port : srv.be[i].tcp_port;
            d[i].id = udp ? udp_id[i] : tcp_id[i];
            d[i].weight = 1;
            d[i].stats = dp_dest_stats(&dp, d[i].id);
        }
    }
    return snap;
}

/* Publishes and waits until the packet thread adopted it: dp_pkt_stats is a synchronous call
 * queued behind the publish on the same loop. */
static struct dp_pkt_counters publish(int ndests)
{
    struct dp_pkt_counters c;

    dp_pkt_publish(&pkt, snap_of(ndests));
    dp_pkt_stats(&pkt, &c);
    return c;
}

static int64_t active(uint32_t id)
{
    return atomic_load(&dp_dest_stats(&dp, id)->active);
}

static int64_t inactive(uint32_t id)
{
    return atomic_load(&dp_dest_stats(&dp, id)->inactive);
}

static uint64_t conns_total(uint32_t id)
{
    return atomic_load(&dp_dest_stats(&dp, id)->conns_total);
}

/* Starts servers and plane with both backends published; false (skip) on EPERM. */
static bool start_all(void)
{
    char err[256] = "";

    if (skip_reason) {
        print_message("skipped: %s\n", skip_reason);
        return false;
    }
    srv_start();
    dp_init(&dp);
    dp_live = true;
    int rc = dp_pkt_start(&pkt, 4096, err, sizeof(err));
    if (rc == -EPERM) {
        skip_reason = "loading the BPF programs was refused (EPERM: needs CAP_BPF and "
                      "CAP_NET_ADMIN)";
        print_message("skipped: %s: %s\n", skip_reason, err);
        return false;
    }
    if (rc < 0)
        fail_msg("dp_pkt_start: %s (%s)", strerror(-rc), err);
    publish(NBE);
    return true;
}

static int teardown(void **state)
{
    (void)state;
    dp_pkt_stop(&pkt); /* safe when zeroed or stopped */
    srv_stop();
    if (dp_live)
        dp_fini(&dp);
    dp_live = false;
    return 0;
}

/* ---- clients ---- */

/* A TCP connection to the VIP, or -errno. */
static int tcp_connect(void)
{
    struct sockaddr_in a = sin_of(VIP, VPORT_TCP);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    set_timeouts(fd);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        int e = errno;
        close(fd);
        return -e;
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

static struct sockaddr_in local_of(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);

    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    return a;
}

/* A UDP socket connected to the VIP's UDP service (it accepts replies from there only). */
static int udp_client(void)
{
    struct sockaddr_in a = sin_of(VIP, VPORT_UDP);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    set_timeouts(fd);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* Whether nospof's filter is on lo at this attach point (libbpf asks the kernel). */
static bool filter_on_lo(enum bpf_tc_attach_point where)
{
    struct bpf_tc_hook hook;
    struct bpf_tc_opts o;

    /* zeroed whole: libbpf refuses non-zero padding (DECLARE_LIBBPF_OPTS would memset too,
     * but is a GNU statement expression, which clang -Wpedantic refuses) */
    memset(&hook, 0, sizeof(hook));
    hook.sz = sizeof(hook);
    hook.ifindex = LO_IFINDEX;
    hook.attach_point = where;
    memset(&o, 0, sizeof(o));
    o.sz = sizeof(o);
    o.handle = NAT_BPF_HANDLE;
    o.priority = NAT_BPF_PRIO;
    return bpf_tc_query(&hook, &o) == 0 && o.prog_id != 0;
}

/* ---- tests ---- */

/* Six connections in turn: rr alternates the backends, each backend sees the client's own
 * address (NAT, not a proxy), the bytes come back, the dest counts follow the connections,
 * and after the close the sweep takes active back to 0. */
static void tcp_rr_echo_and_counts(void **state)
{
    enum { N = 6 };
    int fds[N], who[N], before[NBE];
    (void)state;

    if (!start_all())
        skip();
    for (int i = 0; i < N; i++) {
        counts(before, false);
        fds[i] = tcp_connect();
        if (fds[i] < 0)
            fail_msg("connect %d to the VIP: %s", i, strerror(-fds[i]));
        char msg[32];
        snprintf(msg, sizeof(msg), "hello %d", i);
        assert_true(roundtrip(fds[i], msg));
        who[i] = which_grew(before, false);
        assert_true(who[i] >= 0);
        if (i > 0)
            assert_int_not_equal(who[i], who[i - 1]); /* rr alternates */
        struct sockaddr_in me = local_of(fds[i]), seen;
        pthread_mutex_lock(&srv.be[who[i]].mu);
        seen = srv.be[who[i]].tcp_peer;
        pthread_mutex_unlock(&srv.be[who[i]].mu);
        assert_true(same_sin(&me, &seen)); /* the real server sees the real client */
    }
    for (int b = 0; b < NBE; b++) {
        assert_int_equal(atomic_load(&srv.be[b].accepts), N / NBE);
        assert_int_equal(conns_total(tcp_id[b]), N / NBE);
        assert_int_equal(active(tcp_id[b]), N / NBE); /* all open */
    }
    assert_true(roundtrip(fds[0], "still there")); /* the first flow kept its backend */
    for (int i = 0; i < N; i++)
        close(fds[i]);
    WAIT_UNTIL(active(tcp_id[0]) == 0 && active(tcp_id[1]) == 0, DEADLINE_MS);
    for (int b = 0; b < NBE; b++) {
        assert_int_equal(active(tcp_id[b]), 0);
        assert_int_equal(conns_total(tcp_id[b]), N / NBE);
    }
    /* closed (FIN both ways) flows count as inactive until they expire 10 s later */
    WAIT_UNTIL(inactive(tcp_id[0]) + inactive(tcp_id[1]) == N, DEADLINE_MS);
    assert_int_equal(inactive(tcp_id[0]) + inactive(tcp_id[1]), N);
    WAIT_UNTIL(atomic_load(&dp_dest_stats(&dp, tcp_id[0])->bytes_out) > 0, DEADLINE_MS);
    for (int b = 0; b < NBE; b++) { /* the kernel's byte counts were folded in */
        assert_true(atomic_load(&dp_dest_stats(&dp, tcp_id[b])->bytes_in) > 0);
        assert_true(atomic_load(&dp_dest_stats(&dp, tcp_id[b])->bytes_out) > 0);
    }
    struct dp_pkt_counters c;
    dp_pkt_stats(&pkt, &c);
    assert_int_equal(c.scheduled, N);
    assert_int_equal(c.interfaces, 1); /* lo */
    assert_true(c.upcalls >= N);
    assert_true(c.fwd_packets > 0 && c.rev_packets > 0);
    assert_int_equal(c.no_dest, 0);
}

/* Datagrams from four client sockets (four flows): rr alternates, replies come from the VIP,
 * each flow stays on its backend, and the flows count as inactive connections. */
static void udp_rr_echo(void **state)
{
    enum { N = 4 };
    int fds[N], who[N], before[NBE];
    char buf[64];
    (void)state;

    if (!start_all())
        skip();
    for (int i = 0; i < N; i++) {
        counts(before, true);
        fds[i] = udp_client();
        snprintf(buf, sizeof(buf), "dgram %d", i);
        assert_int_equal(send(fds[i], buf, strlen(buf), 0), (ssize_t)strlen(buf));
        char got[64];
        ssize_t n = recv(fds[i], got, sizeof(got), 0); /* connected: only from the VIP */
        if (n < 0)
            fail_msg("no reply to datagram %d: %s", i, strerror(errno));
        assert_int_equal(n, (ssize_t)strlen(buf));
        assert_memory_equal(got, buf, (size_t)n);
        who[i] = which_grew(before, true);
        assert_true(who[i] >= 0);
        if (i > 0)
            assert_int_not_equal(who[i], who[i - 1]);
        struct sockaddr_in me = local_of(fds[i]), seen;
        pthread_mutex_lock(&srv.be[who[i]].mu);
        seen = srv.be[who[i]].udp_peer;
        pthread_mutex_unlock(&srv.be[who[i]].mu);
        assert_true(same_sin(&me, &seen));
    }
    for (int i = 0; i < N; i++) { /* a second datagram of each flow: same backend */
        counts(before, true);
        assert_int_equal(send(fds[i], "again", 5, 0), 5);
        assert_int_equal(recv(fds[i], buf, sizeof(buf), 0), 5);
        assert_int_equal(which_grew(before, true), who[i]);
    }
    for (int b = 0; b < NBE; b++) {
        assert_int_equal(conns_total(udp_id[b]), N / NBE);
        assert_int_equal(active(udp_id[b]), 0);
    }
    WAIT_UNTIL(inactive(udp_id[0]) == N / NBE && inactive(udp_id[1]) == N / NBE, DEADLINE_MS);
    for (int b = 0; b < NBE; b++)
        assert_int_equal(inactive(udp_id[b]), N / NBE);
    for (int i = 0; i < N; i++)
        close(fds[i]);
}

/* With no real server, a first packet is passed on unchanged and the local stack refuses it
 * (nothing listens on the VIP): connect gets ECONNREFUSED, UDP a port unreachable. A TCP
 * connection made before the republish keeps working (its dest drains). */
static void no_dest_refuses_new_connections(void **state)
{
    char buf[16];
    (void)state;

    if (!start_all())
        skip();
    int old = tcp_connect();
    assert_true(old >= 0);
    assert_true(roundtrip(old, "before"));
    struct dp_pkt_counters c = publish(0);
    assert_int_equal(c.no_dest, 0);
    assert_int_equal(tcp_connect(), -ECONNREFUSED);
    int u = udp_client();
    assert_int_equal(send(u, "x", 1, 0), 1);
    assert_int_equal(recv(u, buf, sizeof(buf), 0), -1);
    assert_int_equal(errno, ECONNREFUSED);
    close(u);
    dp_pkt_stats(&pkt, &c);
    assert_int_equal(c.no_dest, 2);
    assert_true(roundtrip(old, "after the republish")); /* TCP drains, IPVS-like */
    close(old);
    publish(NBE); /* back: new connections are served again */
    int fd = tcp_connect();
    if (fd < 0)
        fail_msg("connect after the dests came back: %s", strerror(-fd));
    assert_true(roundtrip(fd, "back"));
    close(fd);
}

/* dp_pkt_stop takes the programs off lo: the kernel has no nospof filter there any more, and
 * a SYN to the VIP is no longer rewritten, so the local stack refuses it. */
static void stop_leaves_no_filter(void **state)
{
    (void)state;

    if (!start_all())
        skip();
    assert_true(filter_on_lo(BPF_TC_INGRESS));
    assert_true(filter_on_lo(BPF_TC_EGRESS));
    int fd = tcp_connect();
    assert_true(fd >= 0);
    assert_true(roundtrip(fd, "served"));
    close(fd);
    dp_pkt_stop(&pkt);
    libbpf_set_print(NULL); /* the kernel's "no such qdisc" is the expected answer now */
    assert_false(filter_on_lo(BPF_TC_INGRESS));
    assert_false(filter_on_lo(BPF_TC_EGRESS));
    assert_int_equal(tcp_connect(), -ECONNREFUSED);
    dp_pkt_stop(&pkt); /* a second stop is a no-op */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(tcp_rr_echo_and_counts, teardown),
        cmocka_unit_test_teardown(udp_rr_echo, teardown),
        cmocka_unit_test_teardown(no_dest_refuses_new_connections, teardown),
        cmocka_unit_test_teardown(stop_leaves_no_filter, teardown),
    };
    struct nl nl;

    /* before any thread: the namespace is the process's, and goes away with it */
    if (unshare(CLONE_NEWNET) < 0) {
        if (errno != EPERM) {
            fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
            return 1;
        }
        skip_reason = "unshare(CLONE_NEWNET) was refused (EPERM: needs root); the packet data "
                      "plane is not tested";
    } else if (nl_open(&nl) < 0 || nl_link_set_up(&nl, LO_IFINDEX, true) < 0) {
        fprintf(stderr, "bringing lo up in the test namespace failed\n");
        return 1;
    } else {
        nl_close(&nl);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
