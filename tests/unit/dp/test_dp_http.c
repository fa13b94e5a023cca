/* HTTP (L7) switch tests: the pure helpers (routing, cookie, head rewriting, histogram) and
 * the engine on real loopback sockets (VIP 127.14.N.1, backends 127.14.N+1.x, ports 25xxx)
 * against tiny blocking HTTP/1.1 backends, one thread per backend connection.
 *
 * Backend protocol: every request is answered "200" with a body
 * "be<N> <METHOD> <path> len=<body bytes> xff=<X-Forwarded-For or ->"; "Expect: 100-continue"
 * gets an interim 100 first; "Upgrade" gets a 101 and the connection then echoes raw bytes;
 * path "/close" answers with "Connection: close" and closes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/addr.h"
#include "daemon/dp/dp.h"
#include "daemon/dp/dp_http.h"
#include "proto/http/http1.h"

/* The VIP 127.14.N.1 and the backends' network 127.14.N+1. with N even and from the pid (set
 * by main): the workers bind with SO_REUSEPORT and the backends on fixed ports, so two runs of
 * this test at the same time (two build directories, two sessions on one machine) on the same
 * addresses would share listeners or fail to bind. */
static char vip[16], be_net[16];
#define VIP vip

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long a test waits for something that must happen (a worker adopting a snapshot, a
 * response, a backend thread ending) before it gives up: generous, a loaded machine (CI, two
 * cores shared with compilers) may stall a thread for a second. */
#define TEST_DEADLINE_MS 10000

static void nap_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static struct sockaddr_in sin_of(const char *ip, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

/* ---- pure helpers ---- */

static struct http1_hdr g_hdrs[32];

static void parse_req(struct http1_msg *m, const char *s)
{
    http1_req_init(m, g_hdrs, 32, NULL);
    assert_int_equal(http1_req_parse(m, (const uint8_t *)s, strlen(s)), HTTP1_DONE);
}

static void route_set(struct dp_http_route *r, const char *host, const char *path, uint32_t g)
{
    memset(r, 0, sizeof(*r));
    r->wildcard = host[0] == '*';
    snprintf(r->host, sizeof(r->host), "%s", r->wildcard ? host + 1 : host);
    snprintf(r->path, sizeof(r->path), "%s", path);
    r->group = g;
}

static uint32_t route_of(const struct dp_http *h, const char *host, const char *path)
{
    return dp_http_route(h, (const uint8_t *)host, strlen(host), (const uint8_t *)path,
                         strlen(path));
}

static void routing_matches_first_rule(void **state)
{
    struct dp_http_group groups[4] = {{.name = "default"}};
    struct dp_http_route routes[4];
    struct dp_http h = {.groups = groups, .ngroups = 4, .routes = routes, .nroutes = 4};

    (void)state;
    route_set(&routes[0], "api.example.com", "/v2", 3);
    route_set(&routes[1], "api.example.com", "", 1);
    route_set(&routes[2], "*.example.com", "", 2);
    route_set(&routes[3], "", "/static/", 3);
    assert_int_equal(route_of(&h, "api.example.com", "/v2/x"), 3);
    assert_int_equal(route_of(&h, "API.Example.COM:8080", "/v1"), 1);
    assert_int_equal(route_of(&h, "api.example.com.", "/"), 1);
    assert_int_equal(route_of(&h, "www.example.com", "/"), 2);
    assert_int_equal(route_of(&h, "a.b.example.com", "/"), 2);
    assert_int_equal(route_of(&h, "example.com", "/"), 0); /* wildcard needs a label */
    assert_int_equal(route_of(&h, "other.org", "/static/a.css"), 3);
    assert_int_equal(route_of(&h, "other.org", "/stat"), 0);
    assert_int_equal(route_of(&h, "[2001:db8::1]:80", "/"), 0);
}

static void cookie_parse_and_format(void **state)
{
    uint32_t id = 0;
    char line[128];
    const char *v = "a=1; SRV=0000002a;other=x";

    (void)state;
    assert_true(dp_http_cookie_find((const uint8_t *)v, strlen(v), "SRV", &id));
    assert_int_equal(id, 42);
    v = "SRVX=0000002a; SRV=zz";
    assert_false(dp_http_cookie_find((const uint8_t *)v, strlen(v), "SRV", &id));
    v = "SRV=0000002A";
    assert_false(dp_http_cookie_find((const uint8_t *)v, strlen(v), "SRV", &id));
    v = "SRV=00000001";
    assert_true(dp_http_cookie_find((const uint8_t *)v, strlen(v), "SRV", &id));
    assert_int_equal(id, 1);
    size_t n = dp_http_cookie_line(line, sizeof(line), "SRV", 0xabc);
    assert_string_equal(line, "Set-Cookie: SRV=00000abc; Path=/\r\n");
    assert_int_equal(n, strlen(line));
    assert_int_equal(dp_http_cookie_line(line, 10, "SRV", 1), 0);
}

static void rewrite_drops_hop_by_hop_and_inserts(void **state)
{
    struct http1_msg m;
    const char *req = "GET /a HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Secret\r\n"
                      "X-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n"
                      "Upgrade: h2c\r\nAccept:  */*  \r\n\r\n";
    uint8_t out[512];
    char extra[256];

    (void)state;
    parse_req(&m, req);
    size_t e =
        dp_http_fwd_headers(DP_HTTP_XFF | DP_HTTP_XFP, "192.0.2.7", false, extra, sizeof(extra));
    size_t n = dp_http_rewrite(&m, (const uint8_t *)req, false, extra, e, out, sizeof(out));
    const char *want = "GET /a HTTP/1.1\r\nHost: x\r\nAccept:  */*  \r\n"
                       "X-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: http\r\n\r\n";
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
    /* a protocol switch keeps Connection and Upgrade */
    n = dp_http_rewrite(&m, (const uint8_t *)req, true, "", 0, out, sizeof(out));
    out[n] = 0;
    assert_non_null(strstr((char *)out, "Upgrade: h2c\r\n"));
    assert_non_null(strstr((char *)out, "Connection: keep-alive, X-Secret\r\n"));
    assert_int_equal(dp_http_rewrite(&m, (const uint8_t *)req, false, "", 0, out, 20), 0);
    e = dp_http_fwd_headers(DP_HTTP_FWD, "2001:db8::1", true, extra, sizeof(extra));
    assert_int_equal(e, strlen("Forwarded: for=\"[2001:db8::1]\";proto=http\r\n"));
    assert_memory_equal(extra, "Forwarded: for=\"[2001:db8::1]\";proto=http\r\n", e);
    e = dp_http_fwd_headers(DP_HTTP_FWD, "192.0.2.7", false, extra, sizeof(extra));
    assert_memory_equal(extra, "Forwarded: for=192.0.2.7;proto=http\r\n", e);
    assert_int_equal(dp_http_fwd_headers(DP_HTTP_XFF, "192.0.2.7", false, extra, 20), 0);
}

/* Heads that a kept-alive HTTP/1.1 peer may get unchanged: nothing hop-by-hop but
 * Connection: keep-alive. */
static void head_as_is_only_without_hop_by_hop(void **state)
{
    static const struct {
        const char *head;
        bool as_is;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nX-A: 1\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-A\r\nX-A: 1\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nHost: x\r\nKeep-Alive: timeout=5\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nHost: x\r\nProxy-Connection: keep-alive\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n\r\n", false},
    };
    struct http1_msg m;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        parse_req(&m, cases[i].head);
        assert_int_equal(dp_http_head_as_is(&m, (const uint8_t *)cases[i].head), cases[i].as_is);
    }
}

/* Connection: close names a field Close too; with only close, keep-alive and upgrade as
 * options (the fast path), other fields stay. */
static void rewrite_connection_close_names_close(void **state)
{
    struct http1_msg m;
    const char *req = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nClose: 1\r\n"
                      "X-Keep: 2\r\n\r\n";
    const char *want = "GET / HTTP/1.1\r\nHost: x\r\nX-Keep: 2\r\n\r\n";
    uint8_t out[256];

    (void)state;
    parse_req(&m, req);
    size_t n = dp_http_rewrite(&m, (const uint8_t *)req, false, "", 0, out, sizeof(out));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
    /* the last line dropped, the extra fields after the kept ones */
    req = "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nTE: trailers\r\n\r\n";
    want = "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nX-B: 2\r\n\r\n";
    parse_req(&m, req);
    n = dp_http_rewrite(&m, (const uint8_t *)req, false, "X-B: 2\r\n", 8, out, sizeof(out));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
}

static void error_responses_and_histogram(void **state)
{
    char out[256];
    uint64_t h[DP_HTTP_LAT_BUCKETS] = {0};

    (void)state;
    size_t n = dp_http_error_response(503, false, out, sizeof(out));
    out[n] = 0;
    assert_string_equal(out, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                             "Content-Length: 24\r\nCache-Control: no-cache\r\n\r\n"
                             "503 Service Unavailable\n");
    n = dp_http_error_response(400, true, out, sizeof(out));
    out[n] = 0;
    assert_non_null(strstr(out, "\r\nConnection: close\r\n"));
    assert_int_equal(dp_http_lat_bucket(0), 0);
    assert_int_equal(dp_http_lat_bucket(15), 0);
    assert_int_equal(dp_http_lat_bucket(16), 1);
    assert_int_equal(dp_http_lat_bucket(1000), 6); /* 512 <= 1000 < 1024 */
    assert_int_equal(dp_http_lat_bound(6), 1024);
    assert_int_equal(dp_http_lat_quantile(h, 0.99), 0);
    h[2] = 98; /* < 64 us */
    h[10] = 2; /* < 16384 us */
    assert_int_equal(dp_http_lat_quantile(h, 0.5), 64);
    assert_int_equal(dp_http_lat_quantile(h, 0.98), 64);
    assert_int_equal(dp_http_lat_quantile(h, 0.99), 16384);
    h[DP_HTTP_LAT_BUCKETS - 1] = 100; /* over 16.8 s: reported as at least that */
    assert_int_equal(dp_http_lat_quantile(h, 0.99), 16777216);
}

/* ---- backends ---- */

struct backend {
    int idx;
    int lfd;
    pthread_t thread;
    atomic_int conns; /* connections accepted */
    atomic_int live;  /* connection threads running */
    atomic_bool stop;
    int fds[256]; /* accepted connections, for be_kill */
};

struct bconn {
    struct backend *b;
    int fd;
};

static ssize_t read_head(int fd, char *buf, size_t cap, size_t *have)
{
    for (;;) {
        buf[*have] = 0;
        char *e = strstr(buf, "\r\n\r\n");
        if (e)
            return e + 4 - buf;
        if (*have + 1 >= cap)
            return -1;
        ssize_t n = recv(fd, buf + *have, cap - 1 - *have, 0);
        if (n <= 0)
            return -1;
        *have += (size_t)n;
    }
}

static const char *hval(const char *head, const char *name, char *out, size_t cap)
{
    const char *p = strcasestr(head, name);

    if (!p)
        return NULL;
    p += strlen(name);
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, "\r");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = 0;
    return out;
}

/* Reads (and counts) the request body: Content-Length or chunked. -1 on EOF. */
static long read_body(int fd, char *buf, size_t *have, size_t head, const char *hd)
{
    char v[64];
    memmove(buf, buf + head, *have - head);
    *have -= head;
    if (hval(hd, "\r\nContent-Length:", v, sizeof(v))) {
        size_t want = (size_t)atol(v);
        while (*have < want) {
            ssize_t n = recv(fd, buf + *have, 65536 - *have > want - *have ? want - *have : 1, 0);
            if (n <= 0)
                return -1;
            *have += (size_t)n;
        }
        memmove(buf, buf + want, *have - want);
        *have -= want;
        return (long)want;
    }
    if (hval(hd, "\r\nTransfer-Encoding:", v, sizeof(v))) { /* chunked: up to 0\r\n\r\n */
        long payload = 0;
        for (;;) {
            buf[*have] = 0;
            char *e = strstr(buf, "\r\n");
            if (!e) {
                ssize_t n = recv(fd, buf + *have, 1000, 0);
                if (n <= 0)
                    return -1;
                *have += (size_t)n;
                continue;
            }
            long sz = strtol(buf, NULL, 16);
            size_t need = (size_t)(e + 2 - buf) + (size_t)sz + 2;
            while (*have < need) {
                ssize_t n = recv(fd, buf + *have, 1000, 0);
                if (n <= 0)
                    return -1;
                *have += (size_t)n;
            }
            payload += sz;
            memmove(buf, buf + need, *have - need);
            *have -= need;
            if (sz == 0)
                return payload;
        }
    }
    return 0;
}

static void echo_forever(int fd)
{
    char buf[4096];
    ssize_t n;

    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
        send(fd, buf, (size_t)n, MSG_NOSIGNAL);
}

/* "/big": 1 MiB of 'y' with Content-Length; "/chunked": 64 chunks of 1000 'z' then a
 * trailer; "/eof": an HTTP/1.0-style body delimited by the close. true when handled. */
static bool big_reply(int fd, const char *path)
{
    static char blk[4096];
    char line[128];

    memset(blk, 'y', sizeof(blk));
    if (strcmp(path, "/big") == 0) {
        send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n", 44, MSG_NOSIGNAL);
        for (int i = 0; i < 256; i++)
            if (send(fd, blk, sizeof(blk), MSG_NOSIGNAL) != (ssize_t)sizeof(blk))
                return true;
        return true;
    }
    if (strcmp(path, "/chunked") == 0) {
        const char *h = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        send(fd, h, strlen(h), MSG_NOSIGNAL);
        memset(blk, 'z', 1000);
        for (int i = 0; i < 64; i++) {
            snprintf(line, sizeof(line), "3e8\r\n");
            send(fd, line, strlen(line), MSG_NOSIGNAL);
            send(fd, blk, 1000, MSG_NOSIGNAL);
            send(fd, "\r\n", 2, MSG_NOSIGNAL);
        }
        send(fd, "0\r\nX-Trailer: t\r\n\r\n", 19, MSG_NOSIGNAL);
        return true;
    }
    if (strcmp(path, "/reset") == 0) { /* crash after reading the request: RST, no answer */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        shutdown(fd, SHUT_RDWR);
        return true;
    }
    if (strcmp(path, "/empty") == 0) {
        const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        send(fd, h, strlen(h), MSG_NOSIGNAL);
        return true;
    }
    if (strcmp(path, "/eof") == 0) {
        const char *h = "HTTP/1.1 200 OK\r\n\r\nuntil the end";
        send(fd, h, strlen(h), MSG_NOSIGNAL);
        shutdown(fd, SHUT_RDWR);
        return true;
    }
    return false;
}

static void *bconn_main(void *arg)
{
    struct bconn *bc = arg;
    static __thread char buf[70000], hd[8192];
    size_t have = 0;
    char pp[128] = "-";

    for (;;) {
        ssize_t head = read_head(bc->fd, buf, sizeof(buf) - 1, &have);
        if (head < 0)
            break;
        if (strncmp(buf, "PROXY ", 6) == 0) { /* v1 header: keep it, drop the line */
            size_t l = (size_t)(strstr(buf, "\r\n") - buf);
            snprintf(pp, sizeof(pp), "%.*s", (int)l, buf);
            memmove(buf, buf + l + 2, have - l - 2);
            have -= l + 2;
            head -= (ssize_t)l + 2;
        }
        memcpy(hd, buf, (size_t)head < sizeof(hd) - 1 ? (size_t)head : sizeof(hd) - 1);
        hd[(size_t)head < sizeof(hd) - 1 ? (size_t)head : sizeof(hd) - 1] = 0;
        char method[16] = "", path[256] = "", v[128], xff[128] = "-";
        sscanf(hd, "%15s %255s", method, path);
        hval(hd, "\r\nX-Forwarded-For:", xff, sizeof(xff));
        if (strcasestr(hd, "\r\nExpect: 100-continue"))
            send(bc->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25, MSG_NOSIGNAL);
        if (hval(hd, "\r\nUpgrade:", v, sizeof(v))) {
            const char *r = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                            "Upgrade: websocket\r\n\r\n";
            send(bc->fd, r, strlen(r), MSG_NOSIGNAL);
            echo_forever(bc->fd);
            break;
        }
        long blen = read_body(bc->fd, buf, &have, (size_t)head, hd);
        if (blen < 0)
            break;
        char body[512], resp[1024];
        int bl = snprintf(body, sizeof(body), "be%d %s %s len=%ld xff=%s pp=%s", bc->b->idx, method,
                          path, blen, xff, pp);
        if (big_reply(bc->fd, path))
            continue;
        bool cl = strcmp(path, "/close") == 0;
        int rl = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s",
                          bl, cl ? "Connection: close\r\n" : "", body);
        if (strcmp(method, "HEAD") == 0)
            rl -= bl;
        send(bc->fd, resp, (size_t)rl, MSG_NOSIGNAL);
        if (cl)
            break;
    }
    close(bc->fd);
    atomic_fetch_sub(&bc->b->live, 1);
    free(bc);
    return NULL;
}

static void *be_main(void *arg)
{
    struct backend *b = arg;

    while (!atomic_load(&b->stop)) {
        struct pollfd p = {.fd = b->lfd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0)
            continue;
        int fd = accept(b->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        struct timeval tv = {.tv_sec = 5};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        struct bconn *bc = calloc(1, sizeof(*bc));
        bc->b = b;
        bc->fd = fd;
        int k = atomic_fetch_add(&b->conns, 1);
        if (k < 256)
            b->fds[k] = fd;
        atomic_fetch_add(&b->live, 1);
        pthread_t t;
        pthread_create(&t, NULL, bconn_main, bc);
        pthread_detach(t);
    }
    return NULL;
}

static struct backend *be_start(int idx, uint16_t port)
{
    struct backend *b = calloc(1, sizeof(*b));
    char ip[32];
    int one = 1;

    snprintf(ip, sizeof(ip), "%s%d", be_net, idx);
    struct sockaddr_in a = sin_of(ip, port);
    b->idx = idx;
    b->lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(b->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    assert_int_equal(bind(b->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(b->lfd, 128), 0);
    pthread_create(&b->thread, NULL, be_main, b);
    return b;
}

/* Stops accepting; connection threads end when the proxy closes their connections. */
static void be_stop(struct backend *b)
{
    atomic_store(&b->stop, true);
    pthread_join(b->thread, NULL);
    close(b->lfd);
}

/* Like a crashed server: stops accepting and shuts every connection down. */
static void be_kill(struct backend *b)
{
    be_stop(b);
    for (int i = 0; i < atomic_load(&b->conns) && i < 256; i++)
        shutdown(b->fds[i], SHUT_RDWR);
}

static void be_free(struct backend *b)
{
    int64_t dl = now_ms() + TEST_DEADLINE_MS;

    while (atomic_load(&b->live) > 0 && now_ms() < dl)
        nap_ms(5);
    free(b);
}

/* ---- snapshots and clients ---- */

struct hspec {
    uint16_t vport, bport;
    int ndests; /* default group: backends 1..ndests */
    int ndead;  /* plus dead dests be_net.(200+i) */
    uint32_t retries;
    mono_us header_us;
    const char *cookie;
    bool l4; /* no http block: a plain TCP service */
};

static void dest_set(struct dp *dp, struct dp_dest *d, const char *ip, uint16_t port, uint32_t id)
{
    ip_addr_parse(ip, &d->addr);
    d->port = port;
    d->id = id;
    d->weight = 1;
    d->stats = dp_dest_stats(dp, id);
}

static struct dp_snap *hsnap(struct dp *dp, const struct hspec *s)
{
    struct dp_snap *snap = dp_snap_new(1);
    struct dp_svc *svc = &snap->svc[0];
    char ip[32];

    ip_addr_parse(VIP, &svc->addr);
    svc->port = s->vport;
    svc->proto = DP_TCP;
    svc->connect_timeout_us = MONO_S(2);
    svc->sched_kind = 0;
    struct dp_dest *d = dp_svc_dests(svc, (size_t)(s->ndests + s->ndead));
    for (int i = 0; i < s->ndests + s->ndead; i++) {
        snprintf(ip, sizeof(ip), "%s%d", be_net, i < s->ndests ? i + 1 : 200 + i);
        dest_set(dp, &d[i], ip, s->bport, (uint32_t)s->vport * 100 + (uint32_t)i);
    }
    if (s->l4)
        return snap;
    struct dp_http *h = dp_svc_http(svc, 1, 0);
    h->headers = DP_HTTP_XFF | DP_HTTP_XFP;
    h->vstats = dp_dest_stats(dp, (uint32_t)s->vport * 100 + 99);
    h->retries = s->retries ? s->retries : 2;
    h->header_timeout_us = s->header_us;
    if (s->cookie)
        snprintf(h->cookie, sizeof(h->cookie), "%s", s->cookie);
    return snap;
}

static int client(uint16_t vport)
{
    struct sockaddr_in a = sin_of(VIP, vport);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = TEST_DEADLINE_MS / 1000};

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

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

/* Waits until every worker adopted the snapshot published last (its predecessor reclaimed). */
static void wait_adopted(struct dp *dp)
{
    int64_t dl = now_ms() + TEST_DEADLINE_MS;

    while (dp_reclaim(dp) != 0 && now_ms() < dl)
        nap_ms(2);
    assert_int_equal(dp_reclaim(dp), 0);
}

static void send_all(int fd, const char *s)
{
    assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Reads one response (head + Content-Length body) into out; returns its status, 0 on EOF. */
static int read_resp(int fd, char *out, size_t cap)
{
    size_t have = 0;

    for (;;) {
        out[have] = 0;
        char *e = strstr(out, "\r\n\r\n");
        if (e) {
            const char *cl = strcasestr(out, "\r\nContent-Length:");
            size_t want = (size_t)(e + 4 - out) + (cl && cl < e ? (size_t)atol(cl + 17) : 0);
            if (have >= want) {
                out[want] = 0;
                return atoi(out + 9);
            }
        }
        ssize_t n = recv(fd, out + have, 1, 0); /* byte at a time: pipelined replies stay */
        if (n <= 0)
            return 0;
        have += (size_t)n;
        if (have + 1 >= cap)
            return -1;
    }
}

static bool peer_closed(int fd)
{
    char c;
    return recv(fd, &c, 1, 0) == 0;
}

/* A test's dp and backends. Tests keep theirs in static storage and register it (fx_init):
 * a failed assertion longjmps out of the test past fx_stop, and teardown() then stops what
 * it left running. Otherwise its workers ran on into the next tests and LeakSanitizer
 * reported, at exit, what only the abandoned frame referenced. */
struct fixture {
    struct dp dp;
    struct backend *be[4];
    int nbe;
};

static struct fixture *live_fx; /* the running test's, NULL once stopped */

static void fx_init(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    dp_init(&f->dp);
    live_fx = f;
}

static void fx_start(struct fixture *f, const struct hspec *s, int nbackends, unsigned workers)
{
    fx_init(f);
    for (int i = 0; i < nbackends; i++)
        f->be[f->nbe++] = be_start(i + 1, s->bport);
    assert_int_equal(dp_start(&f->dp, workers), 0);
    dp_publish(&f->dp, hsnap(&f->dp, s));
    wait_serving(s->vport);
}

static void fx_stop(struct fixture *f)
{
    live_fx = NULL;
    for (int i = 0; i < f->nbe; i++)
        be_stop(f->be[i]);
    dp_stop(&f->dp);
    dp_fini(&f->dp);
    for (int i = 0; i < f->nbe; i++)
        be_free(f->be[i]);
}

static struct dp_dest_counters dest_ctr(struct fixture *f, uint32_t id)
{
    struct dp_dest_counters c;

    assert_int_equal(dp_dest_read(&f->dp, id, &c), 0);
    return c;
}

/* ---- engine tests ---- */

static void keepalive_reuses_server_connections(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25001, .bport = 25101, .ndests = 1};
    char r[2048];

    (void)state;
    fx_start(&f, &s, 1, 1);
    for (int k = 0; k < 3; k++) { /* three client connections, sequential */
        int fd = client(s.vport);
        for (int i = 0; i < 5; i++) {
            send_all(fd, "GET /ka HTTP/1.1\r\nHost: a\r\n\r\n");
            assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
            assert_non_null(strstr(r, "be1 GET /ka len=0 xff=127.0.0.1"));
            assert_null(strstr(r, "Connection: close"));
        }
        close(fd);
    }
    assert_int_equal(atomic_load(&f.be[0]->conns), 1); /* 15 requests, one server conn */
    struct dp_dest_counters c = dest_ctr(&f, 2500100);
    assert_int_equal(c.http_requests, 15);
    assert_int_equal(c.http_reuses, 14);
    assert_int_equal(c.http_resp[1], 15);
    fx_stop(&f);
}

static void pipelined_requests_answer_in_order(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25002, .bport = 25102, .ndests = 2};
    char r[2048];

    (void)state;
    fx_start(&f, &s, 2, 1);
    int fd = client(s.vport);
    send_all(fd,
             "GET /p1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /p2 HTTP/1.1\r\nHost: a\r\n\r\n"
             "POST /p3 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /p4 HTTP/1.1\r\n"
             "Host: a\r\nConnection: close\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
    assert_non_null(strstr(r, " GET /p1 len=0"));
    /* HEAD: the response has a Content-Length but no body */
    char hb[512];
    size_t have = 0;
    while (!strstr(hb, "\r\n\r\n")) {
        assert_int_equal(recv(fd, hb + have, 1, 0), 1);
        hb[++have] = 0;
    }
    assert_int_equal(atoi(hb + 9), 200);
    assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
    assert_non_null(strstr(r, " POST /p3 len=5"));
    assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
    assert_non_null(strstr(r, " GET /p4 len=0"));
    assert_non_null(strstr(r, "Connection: close\r\n"));
    assert_true(peer_closed(fd));
    close(fd);
    fx_stop(&f);
}

static void chunked_body_streams_through(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25003, .bport = 25103, .ndests = 1};
    char r[2048], chunk[4200];

    (void)state;
    fx_start(&f, &s, 1, 1);
    int fd = client(s.vport);
    send_all(fd, "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
    memset(chunk, 'x', sizeof(chunk));
    for (int i = 0; i < 40; i++) { /* 40 x 4096 = 160 KiB, more than the buffers */
        char sz[16];
        snprintf(sz, sizeof(sz), "1000\r\n");
        send_all(fd, sz);
        assert_int_equal(send(fd, chunk, 4096, MSG_NOSIGNAL), 4096);
        send_all(fd, "\r\n");
    }
    send_all(fd, "0\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
    assert_non_null(strstr(r, "be1 POST /up len=163840"));
    /* the connection stays usable */
    send_all(fd, "GET /after HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
    close(fd);
    fx_stop(&f);
}

static void expect_continue_passes_through(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25004, .bport = 25104, .ndests = 1};
    char r[2048];

    (void)state;
    fx_start(&f, &s, 1, 1);
    int fd = client(s.vport);
    send_all(fd, "PUT /e HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 100); /* before any body byte was sent */
    send_all(fd, "abc");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
    assert_non_null(strstr(r, "be1 PUT /e len=3"));
    close(fd);
    fx_stop(&f);
}

static void upgrade_becomes_tunnel(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25005, .bport = 25105, .ndests = 1};
    char r[2048], e[16] = {0};

    (void)state;
    fx_start(&f, &s, 1, 1);
    int fd = client(s.vport);
    send_all(fd,
             "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 101);
    assert_non_null(strstr(r, "Upgrade: websocket\r\n"));
    send_all(fd, "ping-pong");
    size_t got = 0;
    while (got < 9) {
        ssize_t n = recv(fd, e + got, 9 - got, 0);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_string_equal(e, "ping-pong");
    close(fd);
    fx_stop(&f);
}

static void dead_server_costs_no_request(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25006, .bport = 25106, .ndests = 1, .ndead = 2, .retries = 2};
    char r[2048];

    (void)state;
    fx_start(&f, &s, 1, 1);
    for (int i = 0; i < 12; i++) {
        int fd = client(s.vport);
        send_all(fd, "GET /r HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
        close(fd);
    }
    struct dp_dest_counters live = dest_ctr(&f, 2500600);
    struct dp_dest_counters d1 = dest_ctr(&f, 2500601), d2 = dest_ctr(&f, 2500602);
    assert_int_equal(live.http_resp[1], 12);
    assert_true(d1.connect_failures + d2.connect_failures >= 1);
    assert_int_equal(d1.http_errors, d1.connect_failures);
    assert_int_equal(d1.http_resp[1] + d2.http_resp[1], 0);
    fx_stop(&f);
}

static void slowloris_cut_while_others_served(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25007, .bport = 25107, .ndests = 1, .header_us = MONO_MS(300)};
    char r[2048];

    (void)state;
    fx_start(&f, &s, 1, 1);
    int slow = client(s.vport);
    send_all(slow, "GET /slow HTTP/1.1\r\nHo");
    int64_t t0 = now_ms();
    for (int i = 0; i < 5; i++) {
        send(slow, "s", 1, MSG_NOSIGNAL); /* fails once cut, when this loop ran slowly */
        int fd = client(s.vport);
        send_all(fd, "GET /fast HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
        close(fd);
        nap_ms(40);
    }
    assert_int_equal(read_resp(slow, r, sizeof(r)), 408);
    int64_t dt = now_ms() - t0;
    assert_true(dt >= 250 && dt < 5000); /* the 300 ms header timeout, not the 10 s default */
    assert_non_null(strstr(r, "Connection: close"));
    assert_true(peer_closed(slow));
    close(slow);
    fx_stop(&f);
}

static void smuggling_attempts_get_400_and_close(void **state)
{
    static const char *const bad[] = {
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
         "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd",
        "GET / HTTP/1.1\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    };
    static struct fixture f;
    struct hspec s = {.vport = 25008, .bport = 25108, .ndests = 1};
    char r[2048];

    (void)state;
    fx_start(&f, &s, 1, 1);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int fd = client(s.vport);
        send_all(fd, bad[i]);
        int st = read_resp(fd, r, sizeof(r));
        if (st != 400)
            fail_msg("case %zu: status %d", i, st);
        assert_non_null(strstr(r, "Connection: close"));
        assert_true(peer_closed(fd));
        close(fd);
    }
    /* only the chunk-size case reached the server (its head was valid) */
    for (int64_t dl = now_ms() + TEST_DEADLINE_MS;
         atomic_load(&f.be[0]->conns) < 1 && now_ms() < dl;)
        nap_ms(5);
    nap_ms(50);
    assert_int_equal(atomic_load(&f.be[0]->conns), 1);
    fx_stop(&f);
}

static void limits_give_414_and_431(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25021, .bport = 25121, .ndests = 1};
    static char req[8192], r[2048];

    (void)state;
    fx_init(&f);
    f.be[0] = be_start(1, s.bport);
    f.nbe = 1;
    assert_int_equal(dp_start(&f.dp, 1), 0);
    struct dp_snap *snap = hsnap(&f.dp, &s);
    snap->svc[0].http->max_line = 1024;
    snap->svc[0].http->max_head = 2048;
    snap->svc[0].http->max_headers = 5;
    dp_publish(&f.dp, snap);
    wait_serving(s.vport);
    char big[1100];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    static const int want[] = {414, 431, 431, 431};
    for (int i = 0; i < 4; i++) {
        if (i == 0)
            snprintf(req, sizeof(req), "GET /%s HTTP/1.1\r\nHost: a\r\n\r\n", big);
        else if (i == 1)
            snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\nX: %s\r\n\r\n", big);
        else if (i == 2)
            snprintf(req, sizeof(req),
                     "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\n"
                     "D: 1\r\nE: 1\r\n\r\n"); /* 6 field lines */
        else
            snprintf(req, sizeof(req),
                     "GET / HTTP/1.1\r\nHost: a\r\nX: %.900s\r\nY: %.900s\r\n"
                     "Z: %.900s\r\n\r\n",
                     big, big, big); /* 2.7 KiB head */
        int fd = client(s.vport);
        send_all(fd, req);
        int st = read_resp(fd, r, sizeof(r));
        if (st != want[i])
            fail_msg("case %d: %d", i, st);
        assert_true(peer_closed(fd));
        close(fd);
    }
    int fd = client(s.vport); /* within the limits */
    send_all(fd, "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
    close(fd);
    fx_stop(&f);
}

static void republish_as_l4_keeps_clients_safe(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25022, .bport = 25122, .ndests = 1};
    char r[2048];

    (void)state;
    fx_start(&f, &s, 1, 1);
    int fd = client(s.vport);
    send_all(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
    s.l4 = true; /* same address and port, now plain TCP */
    dp_publish(&f.dp, hsnap(&f.dp, &s));
    wait_adopted(&f.dp);
    send_all(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"); /* the HTTP client that stayed */
    assert_int_equal(read_resp(fd, r, sizeof(r)), 503);
    close(fd);
    fd = client(s.vport); /* a new client is relayed as bytes */
    send_all(fd, "GET /raw HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
    assert_non_null(strstr(r, "be1 GET /raw len=0 xff=- "));
    close(fd);
    fx_stop(&f);
}

static void no_server_gives_503(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25009, .bport = 25109, .ndests = 0};
    char r[2048];

    (void)state;
    fx_start(&f, &s, 0, 1);
    int fd = client(s.vport);
    send_all(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 503);
    assert_null(strstr(r, "Connection: close")); /* keep-alive goes on */
    send_all(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 503);
    close(fd);
    struct dp_dest_counters own = dest_ctr(&f, 2500999);
    assert_int_equal(own.http_requests, 2);
    assert_int_equal(own.http_resp[4], 2);
    fx_stop(&f);
}

static void routes_by_host_and_path(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25010, .bport = 25110, .ndests = 1};
    char r[2048];

    (void)state;
    fx_init(&f);
    for (int i = 0; i < 3; i++)
        f.be[i] = be_start(i + 1, s.bport);
    f.nbe = 3;
    assert_int_equal(dp_start(&f.dp, 1), 0);
    struct dp_snap *snap = hsnap(&f.dp, &s);
    struct dp_http *h = dp_svc_http(&snap->svc[0], 3, 2);
    h->retries = 2;
    snprintf(h->groups[1].name, sizeof(h->groups[1].name), "api");
    char ip[32];
    snprintf(ip, sizeof(ip), "%s2", be_net);
    dest_set(&f.dp, dp_http_group_dests(&h->groups[1], 1), ip, s.bport, 2501050);
    snprintf(h->groups[2].name, sizeof(h->groups[2].name), "static");
    snprintf(ip, sizeof(ip), "%s3", be_net);
    dest_set(&f.dp, dp_http_group_dests(&h->groups[2], 1), ip, s.bport, 2501060);
    route_set(&h->routes[0], "*.api.test", "", 1);
    route_set(&h->routes[1], "", "/static/", 2);
    dp_publish(&f.dp, snap);
    wait_serving(s.vport);
    static const struct {
        const char *host, *path, *want;
    } cases[] = {
        {"x.api.test", "/static/a", "be2 "},
        {"www.test", "/static/a", "be3 "},
        {"www.test", "/", "be1 "},
        {"api.test", "/", "be1 "},
    };
    int fd = client(s.vport);
    for (size_t i = 0; i < 4; i++) {
        char req[256];
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", cases[i].path,
                 cases[i].host);
        send_all(fd, req);
        assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
        if (!strstr(r, cases[i].want))
            fail_msg("case %zu: %s", i, r);
    }
    close(fd);
    fx_stop(&f);
}

static void cookie_sticks_and_moves(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25011, .bport = 25111, .ndests = 2, .cookie = "SRV"};
    char r[2048], req[256], ck[64];

    (void)state;
    fx_start(&f, &s, 2, 1);
    int fd = client(s.vport);
    send_all(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
    const char *sc = strstr(r, "Set-Cookie: SRV=");
    assert_non_null(sc);
    snprintf(ck, sizeof(ck), "%.12s", sc + 12);
    char first[8];
    snprintf(first, sizeof(first), "%.4s", strstr(r, "be"));
    for (int i = 0; i < 6; i++) { /* rr would alternate; the cookie holds */
        snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\nCookie: x=1; %s\r\n\r\n", ck);
        send_all(fd, req);
        assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
        assert_non_null(strstr(r, first));
        assert_null(strstr(r, "Set-Cookie"));
    }
    close(fd);
    /* the cookie's server leaves the snapshot: the request goes elsewhere, a new cookie */
    struct dp_snap *snap = hsnap(&f.dp, &s);
    int gone = first[2] - '1';
    snap->svc[0].dests[gone].weight = 0;
    dp_publish(&f.dp, snap);
    wait_adopted(&f.dp);
    fd = client(s.vport);
    snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\nCookie: %s\r\n\r\n", ck);
    send_all(fd, req);
    assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
    assert_null(strstr(r, first));
    assert_non_null(strstr(r, "Set-Cookie: SRV="));
    close(fd);
    fx_stop(&f);
}

static void killed_server_pool_retries_idempotent(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25012, .bport = 25112, .ndests = 2, .retries = 2};
    char r[2048];

    (void)state;
    fx_start(&f, &s, 2, 1);
    int fds[4];
    for (int i = 0; i < 4; i++) { /* fill the pool with connections to both servers */
        fds[i] = client(s.vport);
        send_all(fds[i], "GET /warm HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_int_equal(read_resp(fds[i], r, sizeof(r)), 200);
    }
    be_kill(f.be[1]); /* its pooled connections end, new connects are refused */
    for (int k = 0; k < 20; k++)
        for (int i = 0; i < 4; i++) {
            send_all(fds[i], "GET /after HTTP/1.1\r\nHost: a\r\n\r\n");
            assert_int_equal(read_resp(fds[i], r, sizeof(r)), 200);
        }
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    f.nbe = 1;
    assert_int_equal(dest_ctr(&f, 2501200).http_resp[1] + dest_ctr(&f, 2501201).http_resp[1], 84);
    live_fx = NULL; /* stopped by hand: be[1] was stopped by be_kill */
    dp_stop(&f.dp);
    dp_fini(&f.dp);
    be_stop(f.be[0]);
    be_free(f.be[0]);
    be_free(f.be[1]);
}

static void proxy_protocol_one_connection_per_request(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25013, .bport = 25113, .ndests = 1};
    char r[2048];

    (void)state;
    fx_init(&f);
    f.be[0] = be_start(1, s.bport);
    f.nbe = 1;
    assert_int_equal(dp_start(&f.dp, 1), 0);
    struct dp_snap *snap = hsnap(&f.dp, &s);
    snap->svc[0].proxy_protocol = DP_PROXY_V1;
    snap->svc[0].http->headers = 0;
    dp_publish(&f.dp, snap);
    wait_serving(s.vport);
    int fd = client(s.vport);
    char pp[64];
    snprintf(pp, sizeof(pp), "xff=- pp=PROXY TCP4 127.0.0.1 %s ", VIP);
    for (int i = 0; i < 3; i++) {
        send_all(fd, "GET /pp HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
        assert_non_null(strstr(r, pp));
    }
    close(fd);
    assert_int_equal(atomic_load(&f.be[0]->conns), 3); /* never shared, never reused */
    fx_stop(&f);
}

static void stop_closes_idle_keepalive_at_once(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25014, .bport = 25114, .ndests = 1};
    char r[2048];

    (void)state;
    fx_start(&f, &s, 1, 1);
    int fd = client(s.vport);
    send_all(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
    int64_t t0 = now_ms();
    fx_stop(&f); /* drain bound is 5 s: an idle keep-alive client must not hold it */
    assert_true(now_ms() - t0 < 4000);
    assert_true(peer_closed(fd));
    close(fd);
}

/* Reads everything until the peer closes or `until` is seen (NULL: EOF); returns the length. */
static size_t read_until(int fd, char *buf, size_t cap, const char *until)
{
    size_t have = 0;

    for (;;) {
        buf[have] = 0;
        if (until && have >= strlen(until) && memmem(buf, have, until, strlen(until)))
            return have;
        ssize_t n = recv(fd, buf + have, cap - 1 - have, 0);
        if (n <= 0 || have + (size_t)n + 1 >= cap)
            return have + (n > 0 ? (size_t)n : 0);
        have += (size_t)n;
    }
}

static void large_chunked_and_close_delimited_responses(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25015, .bport = 25115, .ndests = 1};
    static char big[1200000];

    (void)state;
    fx_start(&f, &s, 1, 1);
    int fd = client(s.vport);
    send_all(fd, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
    size_t want = 0, have = 0;
    while (!want) {
        ssize_t n = recv(fd, big + have, sizeof(big) - 1 - have, 0);
        assert_true(n > 0);
        have += (size_t)n;
        big[have] = 0;
        char *e = strstr(big, "\r\n\r\n");
        if (e)
            want = (size_t)(e + 4 - big) + 1048576;
    }
    nap_ms(200); /* the proxy fills its buffers and stops reading the server (backpressure) */
    while (have < want) {
        ssize_t n = recv(fd, big + have, sizeof(big) - 1 - have, 0);
        assert_true(n > 0);
        have += (size_t)n;
    }
    assert_int_equal(have, want);
    assert_int_equal(big[have - 1], 'y');
    send_all(fd, "GET /chunked HTTP/1.1\r\nHost: a\r\n\r\n");
    have = read_until(fd, big, sizeof(big), "0\r\nX-Trailer: t\r\n\r\n");
    assert_non_null(strstr(big, "Transfer-Encoding: chunked\r\n"));
    assert_true(have > 64 * 1006);
    send_all(fd, "GET /after HTTP/1.1\r\nHost: a\r\n\r\n"); /* still in sync */
    assert_int_equal(read_resp(fd, big, sizeof(big)), 200);
    assert_non_null(strstr(big, "be1 GET /after"));
    send_all(fd, "GET /eof HTTP/1.1\r\nHost: a\r\n\r\n");
    have = read_until(fd, big, sizeof(big), NULL); /* ends with the connection */
    assert_non_null(strstr(big, "Connection: close\r\n"));
    assert_true(have > 12 && memcmp(big + have - 12, "until the end", 12) != 0);
    assert_non_null(strstr(big, "\r\n\r\nuntil the end"));
    close(fd);
    fx_stop(&f);
}

static void empty_bodies_both_ways(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25020, .bport = 25120, .ndests = 1};
    char r[2048];

    (void)state;
    fx_start(&f, &s, 1, 1);
    int fd = client(s.vport);
    for (int i = 0; i < 3; i++) { /* Content-Length: 0 request, then response */
        send_all(fd, "POST /empty HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
        assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
        assert_null(strstr(r, "Connection: close"));
    }
    send_all(fd, "GET /after HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
    assert_non_null(strstr(r, "be1 GET /after"));
    close(fd);
    fx_stop(&f);
}

static void http10_clients(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25016, .bport = 25116, .ndests = 1};
    char r[2048];

    (void)state;
    fx_start(&f, &s, 1, 1);
    int fd = client(s.vport);
    send_all(fd, "GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
    assert_non_null(strstr(r, "Connection: keep-alive\r\n"));
    send_all(fd, "GET /c HTTP/1.0\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
    assert_non_null(strstr(r, "Connection: close\r\n"));
    assert_non_null(strstr(r, "be1 GET /c len=0"));
    assert_true(peer_closed(fd));
    close(fd);
    fx_stop(&f);
}

static void error_limit_skips_then_reset(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25017, .bport = 25117, .ndests = 1, .ndead = 1};
    char r[2048];

    (void)state;
    fx_init(&f);
    f.be[0] = be_start(1, s.bport);
    f.nbe = 1;
    assert_int_equal(dp_start(&f.dp, 1), 0);
    struct dp_snap *snap = hsnap(&f.dp, &s);
    snap->svc[0].http->error_limit = 2;
    dp_publish(&f.dp, snap);
    wait_serving(s.vport);
    int fd = client(s.vport);
    for (int i = 0; i < 20; i++) {
        send_all(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
    }
    struct dp_dest_counters dead = dest_ctr(&f, 2501701);
    assert_int_equal(dead.connect_failures, 2); /* then skipped: the run reached the limit */
    assert_int_equal(dead.http_err_run, 2);
    assert_int_equal(dead.http_retries, 2);
    dp_dest_reset_errors(&f.dp, 2501701); /* what lbmgr does after http_error_hold */
    for (int i = 0; i < 4; i++) {
        send_all(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
    }
    assert_int_equal(dest_ctr(&f, 2501701).connect_failures, 4);
    close(fd);
    fx_stop(&f);
}

static void only_idempotent_requests_replayed(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25019, .bport = 25119, .ndests = 2, .retries = 2};
    char r[2048];

    (void)state;
    fx_start(&f, &s, 2, 1);
    int fd = client(s.vport);
    send_all(fd, "POST /reset HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 502);
    uint64_t sent = dest_ctr(&f, 2501900).http_requests + dest_ctr(&f, 2501901).http_requests;
    assert_int_equal(sent, 1); /* the server may have acted on it: never sent twice */
    send_all(fd, "GET /reset HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 502);
    sent = dest_ctr(&f, 2501900).http_requests + dest_ctr(&f, 2501901).http_requests;
    assert_int_equal(sent, 3); /* GET: tried on both servers */
    assert_int_equal(dest_ctr(&f, 2501900).http_requests, 2);
    close(fd);
    fx_stop(&f);
}

static void access_log_lines(void **state)
{
    static struct fixture f;
    struct hspec s = {.vport = 25018, .bport = 25118, .ndests = 1};
    char r[2048], path[] = "/tmp/nospof-test-accesslog-XXXXXX";
    int lfd = mkstemp(path);

    (void)state;
    assert_true(lfd >= 0);
    fx_init(&f);
    f.be[0] = be_start(1, s.bport);
    f.nbe = 1;
    assert_int_equal(dp_start(&f.dp, 1), 0);
    struct dp_snap *snap = hsnap(&f.dp, &s);
    snap->svc[0].http->headers |= DP_HTTP_LOG;
    snap->svc[0].http->log_fd = dup(lfd); /* the snapshot owns and closes its copy */
    dp_publish(&f.dp, snap);
    wait_serving(s.vport);
    int fd = client(s.vport);
    send_all(fd, "GET /logged?q=1 HTTP/1.1\r\nHost: www.example.test\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 200);
    send_all(fd, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    assert_int_equal(read_resp(fd, r, sizeof(r)), 400);
    close(fd);
    fx_stop(&f); /* flushes the worker's buffer */
    char text[2048] = {0};
    assert_true(pread(lfd, text, sizeof(text) - 1, 0) > 0);
    close(lfd);
    unlink(path);
    char *l1 = text, *l2 = strchr(text, '\n');
    assert_non_null(l2);
    *l2++ = 0;
    assert_non_null(strstr(l1, "127.0.0.1 GET www.example.test /logged?q=1 200 "));
    assert_non_null(strstr(l1, " rs=00262ca8"));           /* dest id 25018 * 100 */
    assert_non_null(strstr(l2, "127.0.0.1 GET - - 400 ")); /* refused before routing */
    assert_non_null(strstr(l2, " rs=00000000"));
}

/* After every test: stops what a failed one left running. */
static int teardown(void **state)
{
    (void)state;
    if (live_fx)
        fx_stop(live_fx);
    return 0;
}

int main(void)
{
    int n = 10 + 2 * (int)(getpid() % 120);

    snprintf(vip, sizeof(vip), "127.14.%d.1", n);
    snprintf(be_net, sizeof(be_net), "127.14.%d.", n + 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(routing_matches_first_rule, teardown),
        cmocka_unit_test_teardown(cookie_parse_and_format, teardown),
        cmocka_unit_test_teardown(rewrite_drops_hop_by_hop_and_inserts, teardown),
        cmocka_unit_test_teardown(rewrite_connection_close_names_close, teardown),
        cmocka_unit_test_teardown(head_as_is_only_without_hop_by_hop, teardown),
        cmocka_unit_test_teardown(error_responses_and_histogram, teardown),
        cmocka_unit_test_teardown(keepalive_reuses_server_connections, teardown),
        cmocka_unit_test_teardown(pipelined_requests_answer_in_order, teardown),
        cmocka_unit_test_teardown(chunked_body_streams_through, teardown),
        cmocka_unit_test_teardown(expect_continue_passes_through, teardown),
        cmocka_unit_test_teardown(upgrade_becomes_tunnel, teardown),
        cmocka_unit_test_teardown(dead_server_costs_no_request, teardown),
        cmocka_unit_test_teardown(slowloris_cut_while_others_served, teardown),
        cmocka_unit_test_teardown(smuggling_attempts_get_400_and_close, teardown),
        cmocka_unit_test_teardown(limits_give_414_and_431, teardown),
        cmocka_unit_test_teardown(republish_as_l4_keeps_clients_safe, teardown),
        cmocka_unit_test_teardown(no_server_gives_503, teardown),
        cmocka_unit_test_teardown(routes_by_host_and_path, teardown),
        cmocka_unit_test_teardown(cookie_sticks_and_moves, teardown),
        cmocka_unit_test_teardown(killed_server_pool_retries_idempotent, teardown),
        cmocka_unit_test_teardown(proxy_protocol_one_connection_per_request, teardown),
        cmocka_unit_test_teardown(stop_closes_idle_keepalive_at_once, teardown),
        cmocka_unit_test_teardown(large_chunked_and_close_delimited_responses, teardown),
        cmocka_unit_test_teardown(empty_bodies_both_ways, teardown),
        cmocka_unit_test_teardown(http10_clients, teardown),
        cmocka_unit_test_teardown(error_limit_skips_then_reset, teardown),
        cmocka_unit_test_teardown(only_idempotent_requests_replayed, teardown),
        cmocka_unit_test_teardown(access_log_lines, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
