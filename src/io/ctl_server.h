/* The control socket: a root-only UNIX stream server on the loop, and its blocking client.
 *
 * Protocol (docs/dev/control.md): the client connects, writes ONE request line and reads the
 * reply until EOF. The server accepts without blocking, reads the line (at most
 * IO_CTL_MAX_LINE bytes, within IO_CTL_READ_TIMEOUT_MS; EOF also ends the line), checks the
 * peer's SO_PEERCRED uid is 0 (else replies "error: permission denied"), calls the handler,
 * writes the reply without blocking (EPOLLOUT on short writes) and closes. The handler runs on
 * the loop thread; the reply is attempted with one write right after it returns, so a handler
 * that stops the loop still gets a short reply out. */
#ifndef NOSPOF_IO_CTL_SERVER_H
#define NOSPOF_IO_CTL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "io/loop.h"

#define IO_CTL_MAX_LINE         4096
#define IO_CTL_READ_TIMEOUT_MS  2000
#define IO_CTL_WRITE_TIMEOUT_MS 10000
#define IO_CTL_MAX_CLIENTS      32

/* Streaming (`nospofctl events`): a handler that sets subscribe to a channel number (> 0)
 * keeps its client open after the reply; io_ctl_publish then appends lines to every
 * subscriber of that channel. A subscriber whose unsent output would pass this bound is
 * dropped with a final line (best effort) instead of growing without limit. */
#define IO_CTL_SUB_MAX_PENDING (256 * 1024)

/* A reply under construction: a growing buffer (allocation failure aborts). */
struct io_ctl_reply {
    char *buf;
    size_t len, cap;
    unsigned subscribe; /* set by a handler: stream channel, 0 = reply once and close */
};

/* Called once per request with the line (no newline, trailing '\r' removed). */
typedef void io_ctl_handler(void *ctx, const char *line, struct io_ctl_reply *r);

struct io_ctl_client; /* private */

struct io_ctl {
    struct io_loop *loop;
    int fd; /* listening socket, -1 when closed */
    struct io_watch w;
    char *path; /* owned */
    io_ctl_handler *handler;
    void *ctx;
    struct io_ctl_client *clients;
    size_t nclients;
    uint64_t requests, refused; /* counters: handled, refused (permission/overflow/timeout) */
};

/* Listens on path (a stale socket file there is unlinked first; a path that exists and is not
 * a socket is refused with -EEXIST), chmod 0600, accepts on loop. A listening socket on path
 * inherited over a binary upgrade (io/inherit.h) is taken instead. 0 or -errno; on failure
 * ctl->fd is -1. */
int io_ctl_listen(struct io_loop *loop, struct io_ctl *ctl, const char *path,
                  io_ctl_handler *handler, void *ctx);

/* Stops listening, drops open clients (their replies are lost), unlinks the path. Accepts a
 * closed or zeroed-then-failed ctl. Not callable from inside the handler (stop the loop or
 * post the close instead). */
void io_ctl_close(struct io_ctl *ctl);

/* Stops listening but leaves the socket file (a successor process serves it now, see
 * daemon/upgrade.h) and the clients: a reply under way still goes out. Callable from inside
 * the handler. io_ctl_close afterwards drops the clients. */
void io_ctl_detach(struct io_ctl *ctl);

/* Appends n bytes to the reply. */
void io_ctl_reply_append(struct io_ctl_reply *r, const char *s, size_t n);

/* Appends printf-formatted text to the reply. */
void io_ctl_reply_printf(struct io_ctl_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends a line (n bytes, newline included) to every subscriber of channel; a subscriber too
 * slow to keep IO_CTL_SUB_MAX_PENDING unsent bytes is sent "dropped: too slow\n" and closed.
 * Loop thread only. Returns the number of subscribers the line was queued for. */
size_t io_ctl_publish(struct io_ctl *ctl, unsigned channel, const char *line, size_t n);

/* Client side (nospofctl): connects to path, sends line plus '\n', copies the reply to out
 * until EOF. timeout_ms bounds the whole exchange (<= 0: 5000). 0 or -errno (-ENOENT or
 * -ECONNREFUSED when no daemon listens, -EACCES when not permitted, -ETIMEDOUT). */
int io_ctl_request(const char *path, const char *line, FILE *out, int timeout_ms);

/* Client side of a stream: like io_ctl_request but without a deadline once connected (the
 * request itself must go out within 5 s), flushing out after every chunk, until the daemon
 * closes. 0 or -errno. */
int io_ctl_stream(const char *path, const char *line, FILE *out);

#endif
