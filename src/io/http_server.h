/* A tiny HTTP/1.1 server on an io_loop for the daemon's status pages (Prometheus /metrics,
 * /status.json, the dashboard). Not a general web server: GET and HEAD only, exact-path routes
 * registered by the owner, bodies rendered in one go into a growing buffer.
 *
 * Each connection is a small state machine on the loop: READ (collect the request head, at
 * most HTTP_MAX_REQUEST bytes, within HTTP_READ_TIMEOUT_MS), then WRITE (flush the response
 * without blocking, EPOLLOUT on a short write, within HTTP_WRITE_TIMEOUT_MS), then either
 * READ again (keep-alive: HTTP/1.1 unless "Connection: close", HTTP/1.0 only with
 * "Connection: keep-alive"; pipelined bytes already read are served next) or closed.
 * A head that is malformed or too large gets 400, a method other than GET/HEAD 405 (with
 * Allow), an unknown path 404; each of those closes the connection. At most HTTP_MAX_CLIENTS
 * connections at a time: more are accepted and closed at once. Request bodies are not
 * supported (a Content-Length or Transfer-Encoding other than 0 gets 400). */
#ifndef NOSPOF_IO_HTTP_SERVER_H
#define NOSPOF_IO_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr-t.h"
#include "io/ctl_server.h"
#include "io/loop.h"

#define HTTP_MAX_REQUEST      8192
#define HTTP_READ_TIMEOUT_MS  5000
#define HTTP_WRITE_TIMEOUT_MS 10000
#define HTTP_MAX_CLIENTS      64
#define HTTP_MAX_ROUTES       16

/* What a route handler fills. status defaults to 200, content_type to text/plain; extra
 * headers (each ending in "\r\n") may be added to headers; the body is a growing buffer (the
 * control socket's, so renderers can write to either). */
struct http_resp {
    int status;
    const char *content_type; /* static string */
    const char *headers;      /* static string, or NULL */
    struct io_ctl_reply body;
};

/* Called on the loop thread for a GET/HEAD of a registered path; query is the text after
 * '?' ("" if none). For HEAD the body is rendered and then dropped. */
typedef void http_handler(void *ctx, const char *query, struct http_resp *resp);

struct http_route {
    char path[64];
    http_handler *fn;
    void *ctx;
    uint64_t hits;
};

struct http_client; /* private */

/* Counters by outcome: responses with 2xx, 400, 404, 405, and connections refused (limit). */
struct http_counters {
    uint64_t ok, bad_request, not_found, bad_method, refused;
};

struct http_server {
    struct io_loop *loop;
    int fd; /* listening socket, -1 when closed */
    struct io_watch w;
    struct ip_addr addr;
    uint16_t port; /* the bound port (the kernel's pick when listening on port 0) */
    struct http_route routes[HTTP_MAX_ROUTES];
    size_t nroutes;
    struct http_client *clients;
    size_t nclients;
    struct http_counters cnt;
};

/* Listens on addr:port (port 0: any free port, see srv->port) with SO_REUSEADDR and accepts
 * on loop. Zero srv before its first use; routes registered before or after this call are
 * served and survive http_server_close (a restart keeps them). 0 or -errno; on failure
 * srv->fd is -1. A listener inherited over a binary upgrade (io/inherit.h) is taken instead. */
int http_server_listen(struct http_server *srv, struct io_loop *loop, const struct ip_addr *addr,
                       uint16_t port);

/* Registers fn for the exact path (at most 63 bytes). 0, -ENOSPC when the table is full,
 * -ENAMETOOLONG, or -EEXIST for a path already registered. Call before the loop serves. */
int http_server_route(struct http_server *srv, const char *path, http_handler *fn, void *ctx);

/* Closes the listener and every connection (responses in flight are lost); keeps the routes.
 * Accepts a closed server or one whose listen failed. Not callable from a handler. */
void http_server_close(struct http_server *srv);

/* The hits of the route at path (0 if not registered): tests check what a client fetched. */
uint64_t http_server_hits(const struct http_server *srv, const char *path);

#endif
