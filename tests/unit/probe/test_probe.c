/* Unit tests for the io health-check probes over loopback only (127.0.0.1, ::1): tiny
 * servers run in threads of the test process with bounded waits. TCP ok/refused/timeout,
 * HTTP status/digest/chunked/several urls, SSL against a self-signed certificate made at run
 * time (SNI, verification), SMTP dialog, DNS against a fake responder, PING on both
 * families, UDP with and without a reply, MISC exit codes and dynamic weight, FILE values,
 * and cancellation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/addr.h"
#include "io/clock.h"
#include "io/probe.h"
#include "io/script.h"

/* ---- fixture and helpers ---- */

struct outcome {
    int calls;
    struct probe_result r;
};

struct fixture {
    struct io_loop loop;
    struct io_scripts scripts;
    struct probe_env env;
    char dir[64];
};

static struct fixture *F;

static int setup(void **state)
{
    F = calloc(1, sizeof(*F));
    if (F == NULL || io_loop_init(&F->loop) != 0)
        return -1;
    io_scripts_init(&F->loop, &F->scripts);
    if (probe_env_init(&F->env, &F->loop, &F->scripts) != 0)
        return -1;
    rng_seed(&F->env.rng, 42);
    snprintf(F->dir, sizeof(F->dir), "/tmp/nspprobe-test-XXXXXX");
    if (!mkdtemp(F->dir))
        return -1;
    *state = F;
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    probe_env_fini(&F->env);
    io_scripts_fini(&F->scripts);
    io_loop_fini(&F->loop);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", F->dir);
    if (system(cmd) != 0)
        return -1;
    free(F);
    return 0;
}

static void on_done(void *ctx, const struct probe_result *r)
{
    struct outcome *o = ctx;

    o->calls++;
    o->r = *r;
}

/* Starts the probe, checks done is not synchronous, runs the loop (bounded) until done. */
static struct outcome run_probe(const struct probe_cfg *cfg, mono_us timeout_us)
{
    struct outcome o = {0};
    struct probe *p = NULL;
    mono_us end;

    assert_int_equal(probe_start(&F->env, cfg, timeout_us, on_done, &o, &p), 0);
    assert_non_null(p);
    assert_int_equal(o.calls, 0);
    end = io_clock_now() + MONO_S(5);
    while (o.calls == 0 && io_clock_now() < end)
        io_loop_run_once(&F->loop, MONO_MS(50));
    assert_int_equal(o.calls, 1);
    return o;
}

static struct probe_target target(const char *ip, uint16_t port)
{
    struct probe_target t = {.port = port};

    assert_true(ip_addr_parse(ip, &t.addr));
    return t;
}

/* A listening (or bound, for UDP) loopback socket; *port receives its port. */
static int listen_on(int family, int type, uint16_t *port, int backlog)
{
    struct sockaddr_storage ss = {0};
    socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    int fd = socket(family, type | SOCK_CLOEXEC, 0), one = 1;

    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    ss.ss_family = (sa_family_t)family;
    if (family == AF_INET)
        ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else
        ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
    assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
    if (type == SOCK_STREAM)
        assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

static bool wait_readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    return poll(&p, 1, ms) == 1;
}

/* ---- a threaded stream server: accepts up to n connections, one handler each ---- */

struct server {
    int lfd;
    uint16_t port;
    int n;
    void (*handle)(struct server *s, int fd);
    pthread_t th;
    /* canned behaviour and what was seen */
    const char *responses[4];
    int served;
    char request[4][1024];
    SSL_CTX *tls;
    char sni[128];
};

static void *server_main(void *arg)
{
    struct server *s = arg;

    for (int i = 0; i < s->n; i++) {
        if (!wait_readable(s->lfd, 3000))
            break;
        int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            break;
        struct timeval tv = {.tv_sec = 3};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        s->handle(s, fd);
        s->served++;
        close(fd);
    }
    return NULL;
}

static void server_start(struct server *s, int family, int n, void (*handle)(struct server *, int))
{
    s->lfd = listen_on(family, SOCK_STREAM, &s->port, 8);
    s->n = n;
    s->handle = handle;
    assert_int_equal(pthread_create(&s->th, NULL, server_main, s), 0);
}

static void server_stop(struct server *s)
{
    pthread_join(s->th, NULL);
    close(s->lfd);
    SSL_CTX_free(s->tls);
}

/* Reads until the end of an HTTP request head into buf. */
static void read_head(int fd, SSL *ssl, char *buf, size_t cap)
{
    size_t n = 0;

    buf[0] = '\0';
    while (n + 1 < cap && !strstr(buf, "\r\n\r\n")) {
        int r = ssl ? SSL_read(ssl, buf + n, (int)(cap - n - 1))
                    : (int)recv(fd, buf + n, cap - n - 1, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
    }
}

static void http_handle(struct server *s, int fd)
{
    int i = s->served;

    read_head(fd, NULL, s->request[i], sizeof(s->request[i]));
    send(fd, s->responses[i], strlen(s->responses[i]), MSG_NOSIGNAL);
}

static struct probe_http_url url(const char *path)
{
    return (struct probe_http_url){.path = (char *)path};
}

static void md5_of(const char *text, uint8_t out[16])
{
    unsigned len = 16;

    assert_true(EVP_Digest(text, strlen(text), out, &len, EVP_md5(), NULL));
}

/* ---- TCP ---- */

static void tcp_connect_ok_and_refused(void **state)
{
    uint16_t port;
    int lfd = listen_on(AF_INET6, SOCK_STREAM, &port, 4);
    struct probe_cfg cfg = {.kind = PROBE_TCP, .target = target("::1", port)};
    struct outcome o = run_probe(&cfg, MONO_S(2));

    assert_true(o.r.ok);
    assert_string_equal(o.r.why, "connected");
    assert_int_equal(o.r.new_weight, -1);
    close(lfd);
    cfg.target = target("127.0.0.1", port); /* nothing listens on v4 there any more */
    lfd = listen_on(AF_INET, SOCK_STREAM, &port, 4);
    close(lfd);
    cfg.target.port = port;
    o = run_probe(&cfg, MONO_S(2));
    assert_false(o.r.ok);
    assert_string_equal(o.r.why, "connect: Connection refused");
}

static void tcp_timeout_on_full_backlog(void **state)
{
    uint16_t port;
    int lfd = listen_on(AF_INET, SOCK_STREAM, &port, 0);
    int c1 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct probe_cfg cfg = {.kind = PROBE_TCP, .target = target("127.0.0.1", port)};

    /* the accept queue (backlog 0) takes one connection; the next SYN is dropped */
    assert_int_equal(connect(c1, (struct sockaddr *)&sin, sizeof(sin)), 0);
    struct outcome o = run_probe(&cfg, MONO_MS(300));
    assert_false(o.r.ok);
    assert_string_equal(o.r.why, "timeout");
    assert_true(o.r.rtt_us >= MONO_MS(300));
    close(c1);
    close(lfd);
}

static void tcp_bind_source_port_and_cancel(void **state)
{
    uint16_t port, src;
    int lfd = listen_on(AF_INET, SOCK_STREAM, &port, 4);
    int tmp = listen_on(AF_INET, SOCK_STREAM, &src, 1); /* a free port number */
    struct probe_cfg cfg = {.kind = PROBE_TCP, .target = target("127.0.0.1", port)};
    struct sockaddr_in peer;
    socklen_t len = sizeof(peer);

    close(tmp);
    cfg.target.bind_addr = target("127.0.0.1", 0).addr;
    cfg.target.bind_port = src;
    struct outcome o = run_probe(&cfg, MONO_S(2));
    assert_true(o.r.ok);
    int afd = accept(lfd, (struct sockaddr *)&peer, &len);
    assert_true(afd >= 0);
    assert_int_equal(ntohs(peer.sin_port), src);
    close(afd);

    /* cancel: done is never called */
    struct outcome c = {0};
    struct probe *p;
    cfg.target.bind_port = 0;
    assert_int_equal(probe_start(&F->env, &cfg, MONO_MS(100), on_done, &c, &p), 0);
    probe_cancel(p);
    for (int i = 0; i < 5; i++)
        io_loop_run_once(&F->loop, MONO_MS(50));
    assert_int_equal(c.calls, 0);
    close(lfd);
}

/* ---- HTTP ---- */

static void http_status_and_request(void **state)
{
    struct server s = {.responses = {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                                     "HTTP/1.0 503 Busy\r\n\r\n"}};
    struct probe_http_url u = url("/health?x=1");
    struct probe_cfg cfg = {.kind = PROBE_HTTP,
                            .u.http = {.urls = &u, .nurls = 1, .http_protocol = 11}};

    server_start(&s, AF_INET, 2, http_handle);
    cfg.target = target("127.0.0.1", s.port);
    struct outcome o = run_probe(&cfg, MONO_S(2));
    assert_true(o.r.ok);
    assert_string_equal(o.r.why, "HTTP status 200");
    char want[256];
    snprintf(want, sizeof(want),
             "GET /health?x=1 HTTP/1.1\r\nUser-Agent: nospof-healthcheck\r\n"
             "Host: 127.0.0.1:%u\r\nConnection: close\r\nAccept: */*\r\n\r\n",
             s.port);
    assert_string_equal(s.request[0], want);
    cfg.u.http.http_protocol = 10;
    cfg.u.http.virtualhost = "www.example.org";
    o = run_probe(&cfg, MONO_S(2));
    assert_false(o.r.ok);
    assert_string_equal(o.r.why, "HTTP status 503 not in 200-299");
    assert_non_null(strstr(s.request[1], "GET /health?x=1 HTTP/1.0\r\n"));
    assert_non_null(strstr(s.request[1], "\r\nHost: www.example.org\r\n"));
    assert_null(strstr(s.request[1], "Connection:"));
    server_stop(&s);
}

static void http_status_ranges(void **state)
{
    struct server s = {.responses = {"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"}};
    struct probe_http_url u = url("/");
    struct probe_cfg cfg = {.kind = PROBE_HTTP, .u.http = {.urls = &u, .nurls = 1}};

    u.status[0].lo = 200;
    u.status[0].hi = 200;
    u.status[1].lo = 400;
    u.status[1].hi = 404;
    u.nstatus = 2;
    server_start(&s, AF_INET6, 1, http_handle);
    cfg.target = target("::1", s.port);
    struct outcome o = run_probe(&cfg, MONO_S(2));
    assert_true(o.r.ok);
    assert_non_null(strstr(s.request[0], "\r\nHost: [::1]:"));
    server_stop(&s);
}

static void http_digest_ok_mismatch_chunked(void **state)
{
    struct server s = {.responses = {
                           "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world",
                           "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello WORLD",
                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
                           "HTTP/1.0 200 OK\r\n\r\nhello world",
                       }};
    struct probe_http_url u = url("/");
    struct probe_cfg cfg = {.kind = PROBE_HTTP, .u.http = {.urls = &u, .nurls = 1}};

    md5_of("hello world", u.digest);
    u.has_digest = true;
    server_start(&s, AF_INET, 4, http_handle);
    cfg.target = target("127.0.0.1", s.port);
    assert_true(run_probe(&cfg, MONO_S(2)).r.ok);
    struct outcome o = run_probe(&cfg, MONO_S(2));
    assert_false(o.r.ok);
    assert_string_equal(o.r.why, "digest mismatch");
    assert_true(run_probe(&cfg, MONO_S(2)).r.ok); /* chunked */
    assert_true(run_probe(&cfg, MONO_S(2)).r.ok); /* until close */
    server_stop(&s);
}

static void http_every_url_must_pass(void **state)
{
    struct server s = {.responses = {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                                     "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"}};
    struct probe_http_url u[2] = {url("/a"), url("/b")};
    struct probe_cfg cfg = {.kind = PROBE_HTTP, .u.http = {.urls = u, .nurls = 2}};

    server_start(&s, AF_INET, 2, http_handle);
    cfg.target = target("127.0.0.1", s.port);
    struct outcome o = run_probe(&cfg, MONO_S(2));
    assert_false(o.r.ok);
    assert_string_equal(o.r.why, "HTTP status 500 not in 200-299");
    assert_non_null(strstr(s.request[0], "GET /a "));
    assert_non_null(strstr(s.request[1], "GET /b "));
    server_stop(&s);
}

static void http_garbage_and_truncation(void **state)
{
    struct server s = {
        .responses = {"SSH-2.0-OpenSSH\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort"}};
    struct probe_http_url u = url("/");
    struct probe_cfg cfg = {.kind = PROBE_HTTP, .u.http = {.urls = &u, .nurls = 1}};

    md5_of("x", u.digest);
    u.has_digest = true; /* forces reading the body */
    server_start(&s, AF_INET, 2, http_handle);
    cfg.target = target("127.0.0.1", s.port);
    assert_string_equal(run_probe(&cfg, MONO_S(2)).r.why, "HTTP: bad status line");
    assert_string_equal(run_probe(&cfg, MONO_S(2)).r.why, "HTTP: truncated body");
    server_stop(&s);
}

/* ---- SSL ---- */

static X509 *self_signed(EVP_PKEY **key)
{
    X509 *x = X509_new();
    X509_NAME *n;

    *key = EVP_EC_gen("P-256");
    assert_non_null(*key);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, *key);
    n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"check.example", -1,
                               -1, 0);
    X509_set_issuer_name(x, n);
    assert_true(X509_sign(x, *key, EVP_sha256()) > 0);
    return x;
}

static void tls_handle(struct server *s, int fd)
{
    int i = s->served;
    SSL *ssl = SSL_new(s->tls);
    const char *sni;

    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
        sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        snprintf(s->sni, sizeof(s->sni), "%s", sni ? sni : "");
        read_head(fd, ssl, s->request[i], sizeof(s->request[i]));
        SSL_write(ssl, s->responses[i], (int)strlen(s->responses[i]));
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
}

static void ssl_get_with_sni_digest_and_verify(void **state)
{
    struct server s = {.responses = {"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret",
                                     "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret",
                                     "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret"}};
    struct probe_http_url u = url("/tls");
    struct probe_cfg cfg = {.kind = PROBE_SSL,
                            .u.http = {.urls = &u,
                                       .nurls = 1,
                                       .http_protocol = 11,
                                       .virtualhost = "check.example",
                                       .enable_sni = true}};
    EVP_PKEY *key;
    X509 *cert = self_signed(&key);
    char ca[128];
    FILE *f;

    snprintf(ca, sizeof(ca), "%s/ca.pem", F->dir);
    assert_non_null(f = fopen(ca, "w"));
    PEM_write_X509(f, cert);
    fclose(f);
    s.tls = SSL_CTX_new(TLS_server_method());
    assert_int_equal(SSL_CTX_use_certificate(s.tls, cert), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(s.tls, key), 1);
    md5_of("secret", u.digest);
    u.has_digest = true;
    server_start(&s, AF_INET, 3, tls_handle);
    cfg.target = target("127.0.0.1", s.port);

    struct outcome o = run_probe(&cfg, MONO_S(3)); /* no verification by default */
    assert_true(o.r.ok);
    assert_string_equal(o.r.why, "HTTP status 200");
    assert_string_equal(s.sni, "check.example");
    assert_non_null(strstr(s.request[0], "GET /tls HTTP/1.1\r\n"));

    cfg.u.http.tls_verify = true; /* verified against the CA file, name check.example */
    cfg.u.http.ca_file = ca;
    assert_true(run_probe(&cfg, MONO_S(3)).r.ok);

    cfg.u.http.virtualhost = "other.example"; /* name mismatch */
    o = run_probe(&cfg, MONO_S(3));
    assert_false(o.r.ok);
    assert_non_null(strstr(o.r.why, "TLS handshake"));
    server_stop(&s);
    X509_free(cert);
    EVP_PKEY_free(key);
}

/* Speaks first, like a plain HTTP server answering whatever arrives. */
static void banner_handle(struct server *s, int fd)
{
    char buf[512];

    send(fd, s->responses[0], strlen(s->responses[0]), MSG_NOSIGNAL);
    (void)!recv(fd, buf, sizeof(buf), 0);
}

static void ssl_get_against_plain_server_fails(void **state)
{
    struct server s = {.responses = {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}};
    struct probe_http_url u = url("/");
    struct probe_cfg cfg = {.kind = PROBE_SSL, .u.http = {.urls = &u, .nurls = 1}};

    server_start(&s, AF_INET, 1, banner_handle);
    cfg.target = target("127.0.0.1", s.port);
    struct outcome o = run_probe(&cfg, MONO_S(2));
    assert_false(o.r.ok);
    assert_non_null(strstr(o.r.why, "TLS handshake: "));
    assert_non_null(strstr(o.r.why, "wrong version number"));
    server_stop(&s);
}

/* ---- SMTP ---- */

static void read_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;

    while (n + 1 < cap && recv(fd, buf + n, 1, 0) == 1 && buf[n++] != '\n')
        ;
    buf[n] = '\0';
}

static void smtp_handle(struct server *s, int fd)
{
    int i = s->served;
    char line[256];

    send(fd, s->responses[i], strlen(s->responses[i]), MSG_NOSIGNAL);
    if (strncmp(s->responses[i], "220", 3) != 0)
        return;
    read_line(fd, s->request[i], sizeof(s->request[i]));
    send(fd, "250-smtp.example\r\n250 HELP\r\n", 28, MSG_NOSIGNAL);
    read_line(fd, line, sizeof(line));
    strncat(s->request[i], line, sizeof(s->request[i]) - strlen(s->request[i]) - 1);
    send(fd, "221 bye\r\n", 9, MSG_NOSIGNAL);
}

static void smtp_dialog(void **state)
{
    struct server s = {
        .responses = {"220-smtp.example ESMTP\r\n220 ready\r\n", "554 no service\r\n"}};
    struct probe_cfg cfg = {.kind = PROBE_SMTP, .u.smtp = {.helo_name = "lb1.example"}};

    server_start(&s, AF_INET, 2, smtp_handle);
    cfg.target = target("127.0.0.1", s.port);
    struct outcome o = run_probe(&cfg, MONO_S(2));
    assert_true(o.r.ok);
    o = run_probe(&cfg, MONO_S(2));
    assert_false(o.r.ok);
    assert_string_equal(o.r.why, "SMTP greeting reply 554: no service");
    server_stop(&s);
    assert_string_equal(s.request[0], "HELO lb1.example\r\nQUIT\r\n");
}

/* ---- DNS ---- */

struct dns_server {
    int fd;
    uint16_t port;
    uint8_t rcode;
    pthread_t th;
    uint8_t query[512];
    ssize_t qlen;
};

static void *dns_main(void *arg)
{
    struct dns_server *d = arg;
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    uint8_t r[512];

    if (!wait_readable(d->fd, 3000))
        return NULL;
    d->qlen = recvfrom(d->fd, d->query, sizeof(d->query), 0, (struct sockaddr *)&from, &flen);
    if (d->qlen < 12)
        return NULL;
    memcpy(r, d->query, (size_t)d->qlen);
    r[2] = 0x81;
    r[3] = (uint8_t)(0x80 | d->rcode);
    r[0] ^= 0xff; /* first a datagram with another id: ignored */
    sendto(d->fd, r, (size_t)d->qlen, 0, (struct sockaddr *)&from, flen);
    r[0] ^= 0xff;
    sendto(d->fd, r, (size_t)d->qlen, 0, (struct sockaddr *)&from, flen);
    return NULL;
}

static void dns_check(void **state)
{
    static const uint8_t qname[] = {3,   'w', 'w', 'w', 7,   'e', 'x', 'a', 'm', 'p',
                                    'l', 'e', 3,   'o', 'r', 'g', 0,   0,   6};
    struct probe_cfg cfg = {.kind = PROBE_DNS, .u.dns = {.qtype = 6, .name = "www.example.org"}};

    for (uint8_t rcode = 0; rcode <= 3; rcode += 3) {
        struct dns_server d = {.rcode = rcode};
        d.fd = listen_on(AF_INET6, SOCK_DGRAM, &d.port, 0);
        assert_int_equal(pthread_create(&d.th, NULL, dns_main, &d), 0);
        cfg.target = target("::1", d.port);
        struct outcome o = run_probe(&cfg, MONO_S(2));
        pthread_join(d.th, NULL);
        close(d.fd);
        assert_int_equal(d.qlen, 12 + sizeof(qname) + 2);
        assert_memory_equal(d.query + 12, qname, sizeof(qname));
        assert_int_equal(o.r.ok, rcode == 0);
        assert_string_equal(o.r.why, rcode == 0 ? "DNS NOERROR, 0 answers" : "DNS rcode 3");
    }
}

/* ---- PING ---- */

static void ping_loopback_both_families(void **state)
{
    struct probe_cfg cfg = {.kind = PROBE_PING, .target = target("127.0.0.1", 0)};
    struct outcome o = run_probe(&cfg, MONO_S(2));

    if (!o.r.ok && strstr(o.r.why, "Operation not permitted"))
        skip();
    assert_true(o.r.ok);
    assert_int_equal(strncmp(o.r.why, "echo reply (", 12), 0);
    cfg.target = target("::1", 0);
    o = run_probe(&cfg, MONO_S(2));
    assert_true(o.r.ok);
}

/* In a child moved to a private network namespace (loopback up, ping_group_range opened
 * there only): both families must use an unprivileged ping socket. Returns the exit code. */
static int ping_socket_child(void)
{
    struct ifreq ifr = {.ifr_flags = IFF_UP};
    struct io_loop loop;
    struct probe_env env;
    int s, fd;

    if (unshare(CLONE_NEWNET) != 0)
        return 77;
    s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    strcpy(ifr.ifr_name, "lo");
    if (s < 0 || ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
        return 2;
    close(s);
    fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0 0", 3) != 3)
        return 3;
    close(fd);
    if (io_loop_init(&loop) != 0 || probe_env_init(&env, &loop, NULL) != 0)
        return 4;
    for (int fam = 0; fam < 2; fam++) {
        struct probe_cfg cfg = {.kind = PROBE_PING, .target = target(fam ? "::1" : "127.0.0.1", 0)};
        struct outcome o = {0};
        struct probe *p;
        if (probe_start(&env, &cfg, MONO_S(2), on_done, &o, &p) != 0)
            return 5;
        for (int i = 0; i < 100 && o.calls == 0; i++)
            io_loop_run_once(&loop, MONO_MS(50));
        if (!o.r.ok || strcmp(o.r.why, "echo reply (ping socket)") != 0)
            return 6 + fam;
    }
    probe_env_fini(&env);
    io_loop_fini(&loop);
    return 0;
}

static void ping_unprivileged_socket_in_private_netns(void **state)
{
    int status = -1;
    pid_t pid;

    if (geteuid() != 0)
        skip();
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(ping_socket_child());
    for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++)
        usleep(50000);
    if (status == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fail_msg("ping child did not finish");
    }
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77)
        skip();
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- UDP ---- */

struct udp_server {
    int fd;
    uint16_t port;
    pthread_t th;
    const char *reply; /* NULL: stay silent */
    uint8_t got[64];
    ssize_t got_len;
};

static void *udp_main(void *arg)
{
    struct udp_server *u = arg;
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);

    if (!wait_readable(u->fd, 3000))
        return NULL;
    u->got_len = recvfrom(u->fd, u->got, sizeof(u->got), 0, (struct sockaddr *)&from, &flen);
    if (u->reply)
        sendto(u->fd, u->reply, strlen(u->reply), 0, (struct sockaddr *)&from, flen);
    return NULL;
}

static struct outcome udp_run(struct probe_cfg *cfg, const char *reply, struct udp_server *u)
{
    struct outcome o;

    memset(u, 0, sizeof(*u));
    u->reply = reply;
    u->fd = listen_on(AF_INET, SOCK_DGRAM, &u->port, 0);
    assert_int_equal(pthread_create(&u->th, NULL, udp_main, u), 0);
    cfg->target = target("127.0.0.1", u->port);
    o = run_probe(cfg, MONO_MS(300));
    pthread_join(u->th, NULL);
    close(u->fd);
    return o;
}

static void udp_check(void **state)
{
    uint8_t payload[] = {'P', 'I', 'N', 'G'};
    uint8_t want[] = {'P', 'O', 0x40};
    uint8_t mask[] = {0xff, 0xff, 0xf0}; /* "504f4X" */
    struct probe_cfg cfg = {.kind = PROBE_UDP,
                            .u.udp = {.payload = payload,
                                      .payload_len = 4,
                                      .require_reply = true,
                                      .reply = want,
                                      .reply_mask = mask,
                                      .reply_len = 3,
                                      .max_reply_len = 255}};
    struct udp_server u;
    struct outcome o;

    o = udp_run(&cfg, "PONG", &u);
    assert_true(o.r.ok);
    assert_int_equal(u.got_len, 4);
    assert_memory_equal(u.got, "PING", 4);
    o = udp_run(&cfg, "PANG", &u);
    assert_false(o.r.ok);
    assert_string_equal(o.r.why, "UDP reply of 4 bytes does not match");
    o = udp_run(&cfg, NULL, &u);
    assert_false(o.r.ok);
    assert_string_equal(o.r.why, "timeout");

    /* without require_reply: silence is success, a port unreachable is failure */
    cfg.u.udp = (struct probe_udp_cfg){0};
    o = udp_run(&cfg, NULL, &u);
    assert_true(o.r.ok);
    assert_int_equal(u.got_len, 16); /* a random payload */
    int fd = listen_on(AF_INET, SOCK_DGRAM, &cfg.target.port, 0);
    close(fd);
    o = run_probe(&cfg, MONO_S(2));
    assert_false(o.r.ok);
    assert_string_equal(o.r.why, "UDP: Connection refused");
}

/* ---- MISC ---- */

static void misc_exit_codes(void **state)
{
    static const struct {
        const char *cmd;
        bool dynamic, ok;
        int weight;
        const char *why;
    } cases[] = {
        {"/bin/sh -c 'exit 0'", false, true, -1, "exit 0"},
        {"/bin/sh -c 'exit 1'", true, false, -1, "exit 1"},
        {"/bin/sh -c 'exit 3'", false, false, -1, "exit 3"},
        {"/bin/sh -c 'exit 12'", true, true, 10, "exit 12, weight 10"},
        {"/bin/sh -c 'exit 2'", true, true, 0, "exit 2, weight 0"},
        {"/bin/sh -c 'kill -9 $$'", true, false, -1, "killed by signal 9"},
        {"/bin/sleep 5", false, false, -1, "timeout"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct probe_cfg cfg = {.kind = PROBE_MISC,
                                .u.misc = {.cmdline = (char *)cases[i].cmd,
                                           .user = "root",
                                           .dynamic = cases[i].dynamic}};
        struct outcome o = run_probe(&cfg, MONO_MS(500));
        assert_int_equal(o.r.ok, cases[i].ok);
        assert_int_equal(o.r.new_weight, cases[i].weight);
        assert_string_equal(o.r.why, cases[i].why);
    }
}

/* ---- FILE ---- */

static void file_values(void **state)
{
    static const struct {
        const char *text;
        int weight;
        bool ok;
        int64_t delta;
        const char *why;
    } cases[] = {
        {"0\n", 0, true, 0, "file value 0"},
        {"5\n", 0, false, 0, "file value 5"},
        {"5\n", 3, true, 15, "file value 5 * weight 3 = 15"},
        {"-4", -2, true, 8, "file value -4 * weight -2 = 8"},
        {"-2147483648", 1, false, 0, "file value -2147483648 * weight 1: fault"},
        {"abc", 1, false, 0, NULL},
    };
    char path[128];

    snprintf(path, sizeof(path), "%s/track", F->dir);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        FILE *f = fopen(path, "w");
        fputs(cases[i].text, f);
        fclose(f);
        struct probe_cfg cfg = {.kind = PROBE_FILE,
                                .u.file = {.path = path, .weight = cases[i].weight}};
        struct outcome o = run_probe(&cfg, MONO_S(1));
        assert_int_equal(o.r.ok, cases[i].ok);
        assert_int_equal(o.r.weight_delta, cases[i].delta);
        if (cases[i].why)
            assert_string_equal(o.r.why, cases[i].why);
    }
    snprintf(path, sizeof(path), "%s/missing", F->dir);
    struct probe_cfg cfg = {.kind = PROBE_FILE, .u.file = {.path = path}};
    struct outcome o = run_probe(&cfg, MONO_S(1));
    assert_false(o.r.ok);
    assert_non_null(strstr(o.r.why, "No such file"));
}

static void names_and_bad_args(void **state)
{
    struct probe_cfg cfg = {.kind = PROBE_HTTP};
    struct probe *p;
    struct outcome o = {0};

    assert_string_equal(probe_kind_name(PROBE_TCP), "TCP_CHECK");
    assert_string_equal(probe_kind_name(PROBE_SSL), "SSL_GET");
    assert_string_equal(probe_kind_name(PROBE_FILE), "FILE_CHECK");
    assert_int_equal(probe_start(&F->env, &cfg, MONO_S(1), on_done, &o, &p), -EINVAL);
    cfg.kind = PROBE_TCP;
    assert_int_equal(probe_start(&F->env, &cfg, MONO_S(1), on_done, &o, &p), -EAFNOSUPPORT);
    assert_int_equal(o.calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tcp_connect_ok_and_refused),
        cmocka_unit_test(tcp_timeout_on_full_backlog),
        cmocka_unit_test(tcp_bind_source_port_and_cancel),
        cmocka_unit_test(http_status_and_request),
        cmocka_unit_test(http_status_ranges),
        cmocka_unit_test(http_digest_ok_mismatch_chunked),
        cmocka_unit_test(http_every_url_must_pass),
        cmocka_unit_test(http_garbage_and_truncation),
        cmocka_unit_test(ssl_get_with_sni_digest_and_verify),
        cmocka_unit_test(ssl_get_against_plain_server_fails),
        cmocka_unit_test(smtp_dialog),
        cmocka_unit_test(dns_check),
        cmocka_unit_test(ping_loopback_both_families),
        cmocka_unit_test(ping_unprivileged_socket_in_private_netns),
        cmocka_unit_test(udp_check),
        cmocka_unit_test(misc_exit_codes),
        cmocka_unit_test(file_values),
        cmocka_unit_test(names_and_bad_args),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
