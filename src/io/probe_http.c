/* HTTP_GET and SSL_GET: for every url { } in turn, one connection, one GET, then the status
 * code must lie in the url's status_code ranges (default 200-299) and, when a digest is
 * configured, the MD5 of the body must equal it (keepalived's genhash digest). The check is
 * ok when every url passes. SSL_GET runs the same exchange over TLS (probe_ssl.c).
 *
 * Requests are HTTP/1.0, 1.0 with "Connection: close" (keepalived's "1.0C") or 1.1 (always
 * with "Connection: close"), with a Host header: the url's virtualhost, else the checker's,
 * else the target address (with the port when it is not the scheme's default). The body is
 * read only when a digest needs it, and at most PROBE_HTTP_BODY_MAX bytes of it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <openssl/evp.h>

#include "base/addr.h"
#include "io/probe_priv.h"
#include "proto/check/http_resp.h"

#define PROBE_HTTP_BODY_MAX (16u << 20)
#define PROBE_HTTP_REQ_MAX  2048

enum http_phase { HP_CONNECT = 0, HP_HANDSHAKE, HP_SEND, HP_RECV };

struct http_probe {
    struct probe base;
    bool tls_wanted;
    bool in_start; /* failures must be deferred: done never runs inside probe_start */
    size_t url;
    enum http_phase phase;
    struct probe_tls *tls;
    EVP_MD_CTX *md;
    struct http_resp resp;
    char host[300];
    char req[PROBE_HTTP_REQ_MAX];
    size_t req_len, req_off;
    uint8_t buf[16384];
};

static const struct probe_http_cfg *hcfg(const struct http_probe *h)
{
    return &h->base.cfg->u.http;
}

static void drop_conn(struct http_probe *h)
{
    probe_close_fd(&h->base);
    probe_tls_free(h->tls);
    h->tls = NULL;
}

static bool http_release(struct probe *p)
{
    struct http_probe *h = (struct http_probe *)p;

    drop_conn(h);
    EVP_MD_CTX_free(h->md);
    return true;
}

static const struct probe_ops http_ops = {.release = http_release};

static void fail(struct http_probe *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct http_probe *h, const char *fmt, ...)
{
    char why[sizeof(h->base.res.why)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (h->in_start)
        probe_finish_soon(&h->base, false, "%s", why);
    else
        probe_finish(&h->base, false, "%s", why);
}

static const char *url_host(const struct http_probe *h, char *buf, size_t cap)
{
    const struct probe_http_url *u = &hcfg(h)->urls[h->url];
    const struct probe_target *t = &h->base.cfg->target;
    char ip[IP_ADDR_STRLEN];
    uint16_t dflt = h->tls_wanted ? 443 : 80;

    if (u->virtualhost)
        return u->virtualhost;
    if (hcfg(h)->virtualhost)
        return hcfg(h)->virtualhost;
    ip_addr_format(&t->addr, ip, sizeof(ip));
    bool v6 = t->addr.family == IP_V6;

    if (t->port != dflt)
        snprintf(buf, cap, "%s%s%s:%u", v6 ? "[" : "", ip, v6 ? "]" : "", t->port);
    else
        snprintf(buf, cap, "%s%s%s", v6 ? "[" : "", ip, v6 ? "]" : "");
    return buf;
}

/* Builds the GET request of the current url into h->req. false when it does not fit. */
static bool build_request(struct http_probe *h)
{
    const struct probe_http_url *u = &hcfg(h)->urls[h->url];
    uint8_t proto = hcfg(h)->http_protocol;
    bool v11 = proto == 11;
    const char *conn = (v11 || proto == 0x1c) ? "Connection: close\r\n" : "";
    int n;

    n = snprintf(h->req, sizeof(h->req),
                 "GET %s HTTP/1.%d\r\nUser-Agent: nospof-healthcheck\r\nHost: %s\r\n%s"
                 "Accept: */*\r\n\r\n",
                 u->path && u->path[0] ? u->path : "/", v11 ? 1 : 0, h->host, conn);
    if (n < 0 || (size_t)n >= sizeof(h->req))
        return false;
    h->req_len = (size_t)n;
    h->req_off = 0;
    return true;
}

static void on_event(struct io_loop *loop, struct io_watch *w, uint32_t revents);
static void begin_url(struct http_probe *h);

static bool status_ok(const struct probe_http_url *u, unsigned status)
{
    if (u->nstatus == 0)
        return status >= 200 && status <= 299; /* keepalived: "Default is 200-299" */
    for (unsigned i = 0; i < u->nstatus && i < 16; i++)
        if (status >= u->status[i].lo && status <= u->status[i].hi)
            return true;
    return false;
}

/* "200-299" or the configured ranges, for the failure reason. */
static const char *ranges(const struct probe_http_url *u, char *buf, size_t cap)
{
    size_t n = 0;

    if (u->nstatus == 0)
        return "200-299";
    buf[0] = '\0';
    for (unsigned i = 0; i < u->nstatus && i < 16 && n < cap; i++) {
        int w = u->status[i].lo == u->status[i].hi
                    ? snprintf(buf + n, cap - n, "%s%u", i ? " " : "", u->status[i].lo)
                    : snprintf(buf + n, cap - n, "%s%u-%u", i ? " " : "", u->status[i].lo,
                               u->status[i].hi);
        if (w < 0)
            break;
        n += (size_t)w;
    }
    return buf;
}

static void url_done(struct http_probe *h)
{
    const struct probe_http_url *u = &hcfg(h)->urls[h->url];
    unsigned status = h->resp.status;
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    char sbuf[96];

    if (!status_ok(u, status)) {
        fail(h, "HTTP status %u not in %s", status, ranges(u, sbuf, sizeof(sbuf)));
        return;
    }
    if (u->has_digest &&
        (!EVP_DigestFinal_ex(h->md, md, &mdlen) || mdlen != 16 || memcmp(md, u->digest, 16))) {
        fail(h, "%s", "digest mismatch");
        return;
    }
    if (++h->url < hcfg(h)->nurls) {
        probe_rearm(&h->base);
        begin_url(h);
        return;
    }
    probe_finish(&h->base, true, "HTTP status %u", status);
}

static int set_events(struct http_probe *h, uint32_t ev)
{
    return probe_watch(&h->base, ev, on_event);
}

static void begin_url(struct http_probe *h)
{
    const struct probe_http_url *u = &hcfg(h)->urls[h->url];
    char hostbuf[300];
    int rc;

    drop_conn(h);
    snprintf(h->host, sizeof(h->host), "%s", url_host(h, hostbuf, sizeof(hostbuf)));
    http_resp_init(&h->resp);
    if (u->has_digest && !EVP_DigestInit_ex(h->md, EVP_md5(), NULL)) {
        fail(h, "%s", "MD5 unavailable");
        return;
    }
    if (!build_request(h)) {
        fail(h, "%s", "request too long");
        return;
    }
    h->phase = HP_CONNECT;
    if ((rc = probe_sock_open(&h->base, SOCK_STREAM, 0)) < 0 ||
        (rc = probe_sock_connect(&h->base, 0)) < 0 || (rc = set_events(h, EPOLLOUT)) < 0)
        fail(h, "connect: %s", strerror(-rc));
}

static void after_tls(struct http_probe *h, enum probe_tls_rc r, const char *why)
{
    if (r == PROBE_TLS_WANT_READ)
        set_events(h, EPOLLIN);
    else if (r == PROBE_TLS_WANT_WRITE)
        set_events(h, EPOLLOUT);
    else if (r == PROBE_TLS_EOF)
        fail(h, "TLS: %s", why[0] ? why : "connection closed");
    else if (r == PROBE_TLS_ERROR)
        fail(h, "%s", why);
}

static void do_send(struct http_probe *h)
{
    char why[128] = "";

    if (h->tls) {
        enum probe_tls_rc r =
            h->req_off == 0
                ? probe_tls_write(h->tls, h->base.fd, h->req, h->req_len, why, sizeof(why))
                : probe_tls_flush(h->tls, h->base.fd, why, sizeof(why));
        h->req_off = h->req_len;
        if (r != PROBE_TLS_OK) {
            after_tls(h, r, why);
            return;
        }
    } else {
        while (h->req_off < h->req_len) {
            ssize_t n =
                send(h->base.fd, h->req + h->req_off, h->req_len - h->req_off, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                set_events(h, EPOLLOUT);
                return;
            }
            if (n < 0) {
                fail(h, "send: %s", strerror(errno));
                return;
            }
            h->req_off += (size_t)n;
        }
    }
    h->phase = HP_RECV;
    set_events(h, EPOLLIN);
}

/* Feeds received bytes to the parser. true when the url is finished (done or failed). */
static bool consume(struct http_probe *h, const uint8_t *p, size_t n)
{
    const struct probe_http_url *u = &hcfg(h)->urls[h->url];

    while (n > 0) {
        struct http_resp_out o;
        enum http_resp_rc rc = http_resp_feed(&h->resp, p, n, &o);

        p += o.used;
        n -= o.used;
        if (rc == HTTP_RESP_ERROR) {
            fail(h, "HTTP: %s", http_resp_err_name(h->resp.err));
            return true;
        }
        if (o.body_len && u->has_digest)
            EVP_DigestUpdate(h->md, o.body, o.body_len);
        if (h->resp.body_bytes > PROBE_HTTP_BODY_MAX) {
            fail(h, "%s", "HTTP body too large");
            return true;
        }
        if (rc == HTTP_RESP_DONE || (http_resp_head_done(&h->resp) && !u->has_digest)) {
            url_done(h);
            return true;
        }
    }
    return false;
}

static void on_eof(struct http_probe *h)
{
    if (http_resp_eof(&h->resp) == HTTP_RESP_DONE)
        url_done(h);
    else
        fail(h, "HTTP: %s", http_resp_err_name(h->resp.err));
}

/* Reads until EAGAIN, a finished url, EOF or an error. */
static void do_recv(struct http_probe *h)
{
    char why[128] = "";

    for (;;) {
        size_t got = 0;
        if (h->tls) {
            enum probe_tls_rc r =
                probe_tls_read(h->tls, h->base.fd, h->buf, sizeof(h->buf), &got, why, sizeof(why));
            if (r == PROBE_TLS_EOF) {
                on_eof(h);
                return;
            }
            if (r != PROBE_TLS_OK) {
                after_tls(h, r, why);
                return;
            }
        } else {
            ssize_t n = recv(h->base.fd, h->buf, sizeof(h->buf), 0);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return;
            if (n < 0) {
                fail(h, "recv: %s", strerror(errno));
                return;
            }
            if (n == 0) {
                on_eof(h);
                return;
            }
            got = (size_t)n;
        }
        if (consume(h, h->buf, got))
            return;
    }
}

static void do_handshake(struct http_probe *h)
{
    char why[128] = "";
    enum probe_tls_rc r = probe_tls_handshake(h->tls, h->base.fd, why, sizeof(why));

    if (r != PROBE_TLS_OK) {
        after_tls(h, r, why);
        return;
    }
    h->phase = HP_SEND;
    do_send(h);
}

static void on_connected(struct http_probe *h)
{
    char why[128] = "";
    int err = probe_sock_error(&h->base);

    if (err < 0) {
        fail(h, "connect: %s", strerror(-err));
        return;
    }
    if (!h->tls_wanted) {
        h->phase = HP_SEND;
        do_send(h);
        return;
    }
    if (probe_tls_new(h->base.env, hcfg(h), h->host, &h->tls, why, sizeof(why)) < 0) {
        fail(h, "%s", why);
        return;
    }
    h->phase = HP_HANDSHAKE;
    do_handshake(h);
}

static void on_event(struct io_loop *loop, struct io_watch *w, uint32_t revents)
{
    struct http_probe *h = w->ctx;

    switch (h->phase) {
    case HP_CONNECT:
        on_connected(h);
        break;
    case HP_HANDSHAKE:
        do_handshake(h);
        break;
    case HP_SEND:
        do_send(h);
        break;
    case HP_RECV:
        do_recv(h);
        break;
    }
}

int probe_http_start(struct probe_env *env, const struct probe_cfg *cfg, mono_us timeout_us,
                     probe_done_fn *done, void *ctx, struct probe **out)
{
    struct http_probe *h;

    if (cfg->u.http.nurls == 0 || cfg->u.http.urls == NULL)
        return -EINVAL;
    if (cfg->kind == PROBE_SSL && env->ssl_ctx == NULL)
        return -EPROTO;
    if ((h = calloc(1, sizeof(*h))) == NULL)
        return -ENOMEM;
    probe_base_init(&h->base, env, cfg, &http_ops, timeout_us, done, ctx);
    h->tls_wanted = cfg->kind == PROBE_SSL;
    if ((h->md = EVP_MD_CTX_new()) == NULL) {
        probe_abort(&h->base);
        return -ENOMEM;
    }
    h->in_start = true;
    begin_url(h);
    h->in_start = false;
    *out = &h->base;
    return 0;
}
