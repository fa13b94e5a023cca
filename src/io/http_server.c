/* The status HTTP server (see http_server.h): accept, read a request head, route, respond.
 *
 * A connection buffers its input (one request head, plus whatever the client pipelined after
 * it) and its output (one response). Reads and writes go until EAGAIN; the watch asks for
 * EPOLLOUT only while a response is stuck, and one timer per connection bounds the current
 * phase (reading a head or writing a response). */
#include "io/http_server.h"
#include "io/inherit.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/log.h"

struct http_client {
    struct http_client *next;
    struct http_server *srv;
    int fd;
    struct io_watch w;
    struct io_timer t;
    bool keep_alive; /* after the current response */
    size_t inlen;    /* bytes in in[] */
    struct io_ctl_reply out;
    size_t sent;
    char in[HTTP_MAX_REQUEST + 1];
};

/* A parsed request head. The strings point into the client's input (NUL-terminated there). */
struct http_req {
    char *method, *target, *version;
    bool close, keep_alive, has_body;
};

static void client_read(struct http_client *c);

/* ---- connection lifetime ---- */

static void client_close(struct http_client *c)
{
    struct http_server *srv = c->srv;

    for (struct http_client **pp = &srv->clients; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            srv->nclients--;
            break;
        }
    }
    io_watch_del(srv->loop, &c->w);
    io_timer_cancel(srv->loop, &c->t);
    close(c->fd);
    free(c->out.buf);
    free(c);
}

static void client_timeout(struct io_loop *loop, struct io_timer *t)
{
    client_close(t->ctx);
}

static void arm(struct http_client *c, int ms)
{
    io_timer_arm(c->srv->loop, &c->t, io_loop_now(c->srv->loop) + MONO_MS(ms));
}

/* ---- responses ---- */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    default:
        return status < 400 ? "OK" : "Error";
    }
}

static void count(struct http_server *srv, int status)
{
    if (status == 404)
        srv->cnt.not_found++;
    else if (status == 405)
        srv->cnt.bad_method++;
    else if (status >= 400)
        srv->cnt.bad_request++;
    else
        srv->cnt.ok++;
}

/* Builds the whole response (head + body unless HEAD) in c->out. */
static void respond(struct http_client *c, struct http_resp *resp, bool head_only)
{
    struct io_ctl_reply *o = &c->out;

    count(c->srv, resp->status);
    o->len = 0;
    c->sent = 0;
    io_ctl_reply_printf(o,
                        "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                        "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                        "Connection: %s\r\n%s\r\n",
                        resp->status, reason_phrase(resp->status),
                        resp->content_type ? resp->content_type : "text/plain; charset=utf-8",
                        resp->body.len, c->keep_alive ? "keep-alive" : "close",
                        resp->headers ? resp->headers : "");
    if (!head_only && resp->body.len)
        io_ctl_reply_append(o, resp->body.buf, resp->body.len);
    free(resp->body.buf);
}

static void respond_error(struct http_client *c, int status, const char *headers)
{
    struct http_resp resp = {.status = status, .headers = headers};

    c->keep_alive = false;
    io_ctl_reply_printf(&resp.body, "%d %s\n", status, reason_phrase(status));
    respond(c, &resp, false);
}

/* Sends what is left. true when finished (all sent, or the peer is gone: then closed). */
static bool client_flush(struct http_client *c)
{
    while (c->sent < c->out.len) {
        ssize_t n = send(c->fd, c->out.buf + c->sent, c->out.len - c->sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return false;
        if (n < 0) {
            c->keep_alive = false;
            return true;
        }
        c->sent += (size_t)n;
    }
    return true;
}

/* After a response went out: close, or go back to reading (serving pipelined input). */
static void client_next(struct http_client *c)
{
    if (!c->keep_alive) {
        char sink[512];
        shutdown(c->fd, SHUT_WR);
        /* Unread input at close() would make the kernel send a RST, which may destroy the
         * response in the client's receive queue: discard what has arrived. */
        while (recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
            ;
        client_close(c);
        return;
    }
    io_watch_mod(c->srv->loop, &c->w, EPOLLIN);
    arm(c, HTTP_READ_TIMEOUT_MS);
    client_read(c);
}

static void client_send(struct http_client *c)
{
    if (client_flush(c)) {
        client_next(c);
        return;
    }
    io_watch_mod(c->srv->loop, &c->w, EPOLLOUT);
    arm(c, HTTP_WRITE_TIMEOUT_MS);
}

/* ---- request parsing ---- */

/* Splits "METHOD SP TARGET SP HTTP/1.x". false on a malformed line. */
static bool parse_request_line(char *line, struct http_req *rq)
{
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;

    if (!sp1 || !sp2 || sp1 == line || sp2 == sp1 + 1 || strchr(sp2 + 1, ' '))
        return false;
    *sp1 = *sp2 = '\0';
    rq->method = line;
    rq->target = sp1 + 1;
    rq->version = sp2 + 1;
    if (strcmp(rq->version, "HTTP/1.1") != 0 && strcmp(rq->version, "HTTP/1.0") != 0)
        return false;
    return rq->target[0] == '/';
}

static bool has_token(const char *value, const char *token)
{
    size_t n = strlen(token);

    for (const char *p = value; (p = strcasestr(p, token)) != NULL; p += n) {
        bool start = p == value || p[-1] == ' ' || p[-1] == ',' || p[-1] == '\t';
        char e = p[n];
        if (start && (e == '\0' || e == ',' || e == ' ' || e == '\t'))
            return true;
    }
    return false;
}

/* One header line "Name: value". false on a line without a colon or a name with spaces. */
static bool parse_header(char *line, struct http_req *rq)
{
    char *colon = strchr(line, ':');

    if (!colon || colon == line)
        return false;
    for (const char *p = line; p < colon; p++)
        if (*p == ' ' || *p == '\t')
            return false; /* RFC 9112 5.1: no whitespace in or after a field name */
    *colon = '\0';
    char *v = colon + 1;
    v += strspn(v, " \t");
    if (strcasecmp(line, "Connection") == 0) {
        rq->close = rq->close || has_token(v, "close");
        rq->keep_alive = rq->keep_alive || has_token(v, "keep-alive");
    } else if (strcasecmp(line, "Content-Length") == 0) {
        rq->has_body = rq->has_body || strcmp(v, "0") != 0;
    } else if (strcasecmp(line, "Transfer-Encoding") == 0) {
        rq->has_body = true;
    }
    return true;
}

/* Parses the head in head[0..len) (lines end in CRLF or LF). false when malformed. */
static bool parse_head(char *head, struct http_req *rq)
{
    char *save = NULL;
    char *line = strtok_r(head, "\n", &save);

    *rq = (struct http_req){0};
    for (bool first = true; line; line = strtok_r(NULL, "\n", &save), first = false) {
        size_t n = strlen(line);
        if (n && line[n - 1] == '\r')
            line[--n] = '\0';
        if (n == 0)
            continue;
        if (first ? !parse_request_line(line, rq) : !parse_header(line, rq))
            return false;
    }
    return rq->method != NULL;
}

static struct http_route *find_route(struct http_server *srv, const char *path)
{
    for (size_t i = 0; i < srv->nroutes; i++)
        if (strcmp(srv->routes[i].path, path) == 0)
            return &srv->routes[i];
    return NULL;
}

static void dispatch(struct http_client *c, struct http_req *rq)
{
    bool head = strcmp(rq->method, "HEAD") == 0;
    char *q = strchr(rq->target, '?');

    if (q)
        *q++ = '\0';
    c->keep_alive = strcmp(rq->version, "HTTP/1.1") == 0 ? !rq->close : rq->keep_alive;
    if (rq->has_body) {
        respond_error(c, 400, NULL);
        return;
    }
    if (!head && strcmp(rq->method, "GET") != 0) {
        respond_error(c, 405, "Allow: GET, HEAD\r\n");
        return;
    }
    struct http_route *rt = find_route(c->srv, rq->target);
    if (!rt) {
        respond_error(c, 404, NULL);
        return;
    }
    struct http_resp resp = {.status = 200};
    rt->hits++;
    rt->fn(rt->ctx, q ? q : "", &resp);
    respond(c, &resp, head);
}

/* Serves the head that ends at in[end) (end includes the blank line); keeps what follows. */
static void serve_head(struct http_client *c, size_t end)
{
    char head[HTTP_MAX_REQUEST + 1];
    struct http_req rq;

    memcpy(head, c->in, end);
    head[end] = '\0';
    memmove(c->in, c->in + end, c->inlen - end);
    c->inlen -= end;
    if (!parse_head(head, &rq))
        respond_error(c, 400, NULL);
    else
        dispatch(c, &rq);
    client_send(c);
}

/* The end of the head (just past the empty line) in in[0..inlen), or 0 when incomplete. */
static size_t head_end(const struct http_client *c)
{
    for (size_t i = 0; i + 1 < c->inlen; i++) {
        if (c->in[i] != '\n')
            continue;
        if (c->in[i + 1] == '\n')
            return i + 2;
        if (c->in[i + 1] == '\r' && i + 2 < c->inlen && c->in[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

static void client_read(struct http_client *c)
{
    for (;;) {
        size_t end = head_end(c);
        if (end) {
            serve_head(c, end);
            return;
        }
        if (c->inlen == HTTP_MAX_REQUEST) {
            respond_error(c, 400, NULL);
            client_send(c);
            return;
        }
        ssize_t n = recv(c->fd, c->in + c->inlen, HTTP_MAX_REQUEST - c->inlen, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            client_close(c); /* EOF or error before a complete head */
            return;
        }
        c->inlen += (size_t)n;
    }
}

static void client_cb(struct io_loop *loop, struct io_watch *w, uint32_t revents)
{
    struct http_client *c = w->ctx;

    if (w->events & EPOLLOUT) {
        if (client_flush(c))
            client_next(c);
        return;
    }
    client_read(c);
}

static void client_new(struct http_server *srv, int fd)
{
    struct http_client *c = calloc(1, sizeof(*c));

    if (!c)
        abort();
    c->srv = srv;
    c->fd = fd;
    io_watch_init(&c->w, fd, EPOLLIN, client_cb, c);
    io_timer_init(&c->t, client_timeout, c);
    if (io_watch_add(srv->loop, &c->w) != 0) {
        close(fd);
        free(c);
        return;
    }
    c->next = srv->clients;
    srv->clients = c;
    srv->nclients++;
    arm(c, HTTP_READ_TIMEOUT_MS);
}

static void accept_cb(struct io_loop *loop, struct io_watch *w, uint32_t revents)
{
    struct http_server *srv = w->ctx;

    for (;;) {
        int fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN)
                log_warn("status http: accept: %s", strerror(errno));
            return;
        }
        if (srv->nclients >= HTTP_MAX_CLIENTS) {
            srv->cnt.refused++;
            close(fd);
            continue;
        }
        client_new(srv, fd);
    }
}

/* ---- listening ---- */

static socklen_t fill_sockaddr(struct sockaddr_storage *ss, const struct ip_addr *a, uint16_t port)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == IP_V6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        memcpy(&s6->sin6_addr, a->b, 16);
        return sizeof(*s6);
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    memcpy(&s4->sin_addr, a->b, 4);
    return sizeof(*s4);
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -errno;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int open_listener(const struct ip_addr *addr, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t len = fill_sockaddr(&ss, addr, port);
    int one = 1;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        (addr->family == IP_V6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
        bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 64) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

int http_server_listen(struct http_server *srv, struct io_loop *loop, const struct ip_addr *addr,
                       uint16_t port)
{
    srv->loop = loop;
    srv->fd = -1;
    srv->addr = *addr;
    if (addr->family != IP_V4 && addr->family != IP_V6)
        return -EAFNOSUPPORT;
    int fd = port ? io_inherit_take_inet(SOCK_STREAM, addr, port) : -1; /* an upgrade's */
    if (fd < 0)
        fd = open_listener(addr, port);
    if (fd < 0)
        return fd;
    int p = bound_port(fd);
    if (p < 0) {
        close(fd);
        return p;
    }
    srv->port = (uint16_t)p;
    srv->fd = fd;
    io_watch_init(&srv->w, fd, EPOLLIN, accept_cb, srv);
    int err = io_watch_add(loop, &srv->w);
    if (err)
        http_server_close(srv);
    return err;
}

int http_server_route(struct http_server *srv, const char *path, http_handler *fn, void *ctx)
{
    if (strlen(path) >= sizeof(srv->routes[0].path))
        return -ENAMETOOLONG;
    if (find_route(srv, path))
        return -EEXIST;
    if (srv->nroutes == HTTP_MAX_ROUTES)
        return -ENOSPC;
    struct http_route *rt = &srv->routes[srv->nroutes++];
    *rt = (struct http_route){.fn = fn, .ctx = ctx};
    memcpy(rt->path, path, strlen(path) + 1);
    return 0;
}

void http_server_close(struct http_server *srv)
{
    if (!srv || srv->fd < 0)
        return;
    while (srv->clients)
        client_close(srv->clients);
    io_watch_del(srv->loop, &srv->w);
    close(srv->fd);
    srv->fd = -1;
}

uint64_t http_server_hits(const struct http_server *srv, const char *path)
{
    for (size_t i = 0; i < srv->nroutes; i++)
        if (strcmp(srv->routes[i].path, path) == 0)
            return srv->routes[i].hits;
    return 0;
}
