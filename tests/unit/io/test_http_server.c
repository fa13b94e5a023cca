/* Unit tests for io/http_server: exact responses over a real loopback socket, keep-alive and
 * pipelining, HTTP/1.0, HEAD, query strings, 400/404/405, the head size bound, a large body
 * through the EPOLLOUT path, route registration errors; and the control socket's streaming
 * mode (io_ctl_publish to subscribers, channels, a subscriber leaving). The loop is driven
 * by hand (io_loop_run_once) between client reads; nothing sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/addr.h"
#include "io/clock.h"
#include "io/http_server.h"

struct fixture {
    struct io_loop loop;
    struct http_server srv;
    char last_query[128];
};

static void h_hello(void *ctx, const char *query, struct http_resp *resp)
{
    struct fixture *f = ctx;

    snprintf(f->last_query, sizeof(f->last_query), "%s", query);
    io_ctl_reply_printf(&resp->body, "hello\n");
}

static void h_big(void *ctx, const char *query, struct http_resp *resp)
{
    resp->content_type = "application/octet-stream";
    for (int i = 0; i < 100000; i++)
        io_ctl_reply_printf(&resp->body, "line %06d\n", i);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct ip_addr lo;

    if (!f || io_loop_init(&f->loop) != 0 || !ip_addr_parse("127.0.0.1", &lo))
        return -1;
    if (http_server_route(&f->srv, "/hello", h_hello, f) != 0 ||
        http_server_route(&f->srv, "/big", h_big, f) != 0)
        return -1;
    if (http_server_listen(&f->srv, &f->loop, &lo, 0) != 0 || f->srv.port == 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    http_server_close(&f->srv);
    io_loop_fini(&f->loop);
    free(f);
    return 0;
}

static int client(struct fixture *f)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(f->srv.port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Drives the loop and reads until the peer closes (want == 0) or want bytes arrived. Returns
 * the byte count; *closed tells whether EOF was seen. Bounded: at most 2000 passes. */
static size_t pump(struct fixture *f, int fd, char *buf, size_t cap, size_t want, bool *closed)
{
    size_t len = 0;

    *closed = false;
    for (int pass = 0; pass < 2000; pass++) {
        io_loop_run_once(&f->loop, 2000);
        for (;;) {
            ssize_t n = recv(fd, buf + len, cap - 1 - len, MSG_DONTWAIT);
            if (n == 0)
                *closed = true;
            if (n <= 0)
                break;
            len += (size_t)n;
        }
        buf[len] = '\0';
        if (*closed || (want && len >= want))
            return len;
    }
    return len;
}

static size_t roundtrip(struct fixture *f, const char *req, char *buf, size_t cap, bool *closed)
{
    int fd = client(f);
    size_t len;

    assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
    len = pump(f, fd, buf, cap, 0, closed);
    close(fd);
    return len;
}

#define HDRS "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"

static void test_get_close(void **state)
{
    struct fixture *f = *state;
    char buf[4096];
    bool closed;

    roundtrip(f, "GET /hello?x=1&y HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", buf,
              sizeof(buf), &closed);
    assert_true(closed);
    assert_string_equal(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                             "Content-Length: 6\r\n" HDRS "Connection: close\r\n\r\nhello\n");
    assert_string_equal(f->last_query, "x=1&y");
    assert_int_equal(http_server_hits(&f->srv, "/hello"), 1);
    assert_int_equal(f->srv.cnt.ok, 1);
    assert_int_equal(f->srv.nclients, 0);
}

static void test_keepalive_pipelined(void **state)
{
    struct fixture *f = *state;
    const char *one = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                      "Content-Length: 6\r\n" HDRS "Connection: keep-alive\r\n\r\nhello\n";
    const char *req = "GET /hello HTTP/1.1\r\n\r\nGET /hello?2 HTTP/1.1\n\n";
    char buf[4096], want[2048];
    bool closed;
    int fd = client(f);

    snprintf(want, sizeof(want), "%s%s", one, one);
    assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
    size_t len = pump(f, fd, buf, sizeof(buf), strlen(want), &closed);
    assert_int_equal(len, strlen(want));
    assert_string_equal(buf, want);
    assert_false(closed);
    assert_int_equal(f->srv.nclients, 1); /* still open, waiting for the next request */
    assert_string_equal(f->last_query, "2");
    close(fd);
    assert_int_equal(http_server_hits(&f->srv, "/hello"), 2);
}

static void test_http10_head(void **state)
{
    struct fixture *f = *state;
    char buf[4096];
    bool closed;

    roundtrip(f, "HEAD /hello HTTP/1.0\r\n\r\n", buf, sizeof(buf), &closed);
    assert_true(closed);
    assert_string_equal(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                             "Content-Length: 6\r\n" HDRS "Connection: close\r\n\r\n");
}

static void test_errors(void **state)
{
    struct fixture *f = *state;
    char buf[4096];
    bool closed;

    roundtrip(f, "GET /nope HTTP/1.1\r\n\r\n", buf, sizeof(buf), &closed);
    assert_true(closed);
    assert_string_equal(buf, "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
                             "Content-Length: 14\r\n" HDRS "Connection: close\r\n\r\n"
                             "404 Not Found\n");
    roundtrip(f, "POST /hello HTTP/1.1\r\n\r\n", buf, sizeof(buf), &closed);
    assert_non_null(strstr(buf, "HTTP/1.1 405 Method Not Allowed\r\n"));
    assert_non_null(strstr(buf, "\r\nAllow: GET, HEAD\r\n"));
    roundtrip(f, "GET /hello HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", buf, sizeof(buf), &closed);
    assert_non_null(strstr(buf, "HTTP/1.1 400 Bad Request\r\n"));
    roundtrip(f, "GARBAGE\r\n\r\n", buf, sizeof(buf), &closed);
    assert_non_null(strstr(buf, "HTTP/1.1 400 Bad Request\r\n"));
    roundtrip(f, "GET /hello HTTP/2.0\r\n\r\n", buf, sizeof(buf), &closed);
    assert_non_null(strstr(buf, "HTTP/1.1 400 Bad Request\r\n"));
    roundtrip(f, "GET /hello HTTP/1.1\r\nBad Name: x\r\n\r\n", buf, sizeof(buf), &closed);
    assert_non_null(strstr(buf, "HTTP/1.1 400 Bad Request\r\n"));
    assert_int_equal(f->srv.cnt.not_found, 1);
    assert_int_equal(f->srv.cnt.bad_method, 1);
    assert_int_equal(f->srv.cnt.bad_request, 4);
    assert_int_equal(http_server_hits(&f->srv, "/hello"), 0);
}

static void test_head_too_large(void **state)
{
    struct fixture *f = *state;
    char *req = malloc(HTTP_MAX_REQUEST + 100);
    char buf[4096];
    bool closed;

    memcpy(req, "GET /hello HTTP/1.1\r\nX: ", 24);
    memset(req + 24, 'a', HTTP_MAX_REQUEST + 50);
    req[HTTP_MAX_REQUEST + 74] = '\0';
    roundtrip(f, req, buf, sizeof(buf), &closed);
    free(req);
    assert_true(closed);
    assert_non_null(strstr(buf, "HTTP/1.1 400 Bad Request\r\n"));
}

static void test_big_body(void **state)
{
    struct fixture *f = *state;
    size_t cap = 2 * 1024 * 1024;
    char *buf = malloc(cap);
    bool closed;

    size_t len = roundtrip(f, "GET /big HTTP/1.1\r\nConnection: close\r\n\r\n", buf, cap, &closed);
    assert_true(closed);
    char *body = strstr(buf, "\r\n\r\n");
    assert_non_null(body);
    body += 4;
    assert_int_equal(len - (size_t)(body - buf), 100000 * 12);
    assert_non_null(strstr(buf, "Content-Length: 1200000\r\n"));
    assert_memory_equal(body + 99999 * 12, "line 099999\n", 12);
    free(buf);
}

static void test_routes(void **state)
{
    struct fixture *f = *state;
    char path[80];

    assert_int_equal(http_server_route(&f->srv, "/hello", h_hello, f), -EEXIST);
    memset(path, 'p', sizeof(path) - 1);
    path[sizeof(path) - 1] = '\0';
    assert_int_equal(http_server_route(&f->srv, path, h_hello, f), -ENAMETOOLONG);
    for (int i = 2; i < HTTP_MAX_ROUTES; i++) {
        snprintf(path, sizeof(path), "/r%d", i);
        assert_int_equal(http_server_route(&f->srv, path, h_hello, f), 0);
    }
    assert_int_equal(http_server_route(&f->srv, "/one-more", h_hello, f), -ENOSPC);
    assert_int_equal(http_server_hits(&f->srv, "/missing"), 0);
}

/* ---- control socket streams ---- */

struct stream_fixture {
    struct io_loop loop;
    struct io_ctl ctl;
    char dir[64], path[96];
};

static void stream_handler(void *ctx, const char *line, struct io_ctl_reply *r)
{
    io_ctl_reply_printf(r, "ok\n");
    r->subscribe = strcmp(line, "events json") == 0 ? 2 : strcmp(line, "events") == 0 ? 1 : 0;
}

static int ctl_client(struct stream_fixture *s, const char *line)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->path);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(send(fd, line, strlen(line), 0), (ssize_t)strlen(line));
    return fd;
}

static size_t ctl_pump(struct stream_fixture *s, int fd, char *buf, size_t cap, size_t want)
{
    size_t len = 0;

    for (int pass = 0; pass < 200 && len < want; pass++) {
        io_loop_run_once(&s->loop, 1000);
        ssize_t n;
        while ((n = recv(fd, buf + len, cap - 1 - len, MSG_DONTWAIT)) > 0)
            len += (size_t)n;
    }
    buf[len] = '\0';
    return len;
}

static void test_ctl_stream(void **state)
{
    struct stream_fixture s = {0};
    char buf[256];

    assert_int_equal(io_loop_init(&s.loop), 0);
    snprintf(s.dir, sizeof(s.dir), "/tmp/nospof-test-stream-XXXXXX");
    assert_non_null(mkdtemp(s.dir));
    snprintf(s.path, sizeof(s.path), "%s/ctl.sock", s.dir);
    assert_int_equal(io_ctl_listen(&s.loop, &s.ctl, s.path, stream_handler, &s), 0);
    int text = ctl_client(&s, "events\n");
    int json = ctl_client(&s, "events json\n");
    assert_int_equal(ctl_pump(&s, text, buf, sizeof(buf), 3), 3);
    assert_string_equal(buf, "ok\n");
    assert_int_equal(ctl_pump(&s, json, buf, sizeof(buf), 3), 3);
    assert_int_equal(s.ctl.nclients, 2); /* both stay connected */
    assert_int_equal(io_ctl_publish(&s.ctl, 1, "t1\n", 3), 1);
    assert_int_equal(io_ctl_publish(&s.ctl, 2, "{\"a\":1}\n", 8), 1);
    assert_int_equal(io_ctl_publish(&s.ctl, 1, "t2\n", 3), 1);
    assert_int_equal(ctl_pump(&s, text, buf, sizeof(buf), 6), 6);
    assert_string_equal(buf, "t1\nt2\n");
    assert_int_equal(ctl_pump(&s, json, buf, sizeof(buf), 8), 8);
    assert_string_equal(buf, "{\"a\":1}\n");
    close(text);
    for (int i = 0; i < 5 && s.ctl.nclients > 1; i++)
        io_loop_run_once(&s.loop, 1000);
    assert_int_equal(s.ctl.nclients, 1); /* the departed subscriber was noticed */
    assert_int_equal(io_ctl_publish(&s.ctl, 1, "t3\n", 3), 0);
    assert_int_equal(io_ctl_publish(&s.ctl, 0, "x\n", 2), 0);
    close(json);
    io_ctl_close(&s.ctl);
    io_loop_fini(&s.loop);
    rmdir(s.dir);
}

/* A subscriber that never reads is dropped once its backlog passes the bound. */
static void test_ctl_stream_slow(void **state)
{
    struct stream_fixture s = {0};
    char line[1024], buf[8];
    size_t queued = 0;

    assert_int_equal(io_loop_init(&s.loop), 0);
    snprintf(s.dir, sizeof(s.dir), "/tmp/nospof-test-stream-XXXXXX");
    assert_non_null(mkdtemp(s.dir));
    snprintf(s.path, sizeof(s.path), "%s/ctl.sock", s.dir);
    assert_int_equal(io_ctl_listen(&s.loop, &s.ctl, s.path, stream_handler, &s), 0);
    int fd = ctl_client(&s, "events\n");
    assert_int_equal(ctl_pump(&s, fd, buf, sizeof(buf), 3), 3);
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\n';
    for (int i = 0; i < 4096 && s.ctl.nclients == 1; i++)
        queued += io_ctl_publish(&s.ctl, 1, line, sizeof(line));
    assert_int_equal(s.ctl.nclients, 0);
    assert_true(queued > IO_CTL_SUB_MAX_PENDING / sizeof(line));
    assert_true(queued < 4096);
    close(fd);
    io_ctl_close(&s.ctl);
    io_loop_fini(&s.loop);
    rmdir(s.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keepalive_pipelined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http10_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
        cmocka_unit_test(test_ctl_stream),
        cmocka_unit_test(test_ctl_stream_slow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
