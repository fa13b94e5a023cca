/* The control socket server and client (see ctl_server.h).
 *
 * Each accepted client is a small state machine on the loop: READ (collect one line, with a
 * read deadline), then WRITE (flush the reply, with a write deadline), then closed. Nothing
 * blocks: reads and writes are attempted until EAGAIN and the watch switches to EPOLLOUT only
 * when a reply does not fit in the socket buffer. A subscriber (a handler set
 * reply.subscribe) does not close after its reply: it idles on EPOLLIN (only to notice the
 * client going away) and io_ctl_publish appends lines to its reply buffer. */
#include "io/ctl_server.h"
#include "io/inherit.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "io/clock.h"
#include "io/log.h"

struct io_ctl_client {
    struct io_ctl_client *next;
    struct io_ctl *ctl;
    int fd;
    struct io_watch w;
    struct io_timer t;
    size_t inlen, sent;
    unsigned channel; /* > 0: a subscriber of that stream channel */
    struct io_ctl_reply reply;
    char in[IO_CTL_MAX_LINE + 1];
};

/* ---- replies ---- */

static void reply_reserve(struct io_ctl_reply *r, size_t extra)
{
    if (r->len + extra + 1 <= r->cap)
        return;
    size_t cap = r->cap ? r->cap : 256;
    while (cap < r->len + extra + 1)
        cap *= 2;
    char *b = realloc(r->buf, cap);
    if (!b)
        abort();
    r->buf = b;
    r->cap = cap;
}

void io_ctl_reply_append(struct io_ctl_reply *r, const char *s, size_t n)
{
    reply_reserve(r, n);
    memcpy(r->buf + r->len, s, n);
    r->len += n;
    r->buf[r->len] = '\0';
}

void io_ctl_reply_printf(struct io_ctl_reply *r, const char *fmt, ...)
{
    va_list ap;

    reply_reserve(r, 128);
    va_start(ap, fmt);
    int n = vsnprintf(r->buf + r->len, r->cap - r->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        r->buf[r->len] = '\0';
        return;
    }
    if ((size_t)n >= r->cap - r->len) {
        reply_reserve(r, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(r->buf + r->len, r->cap - r->len, fmt, ap);
        va_end(ap);
    }
    r->len += (size_t)n;
}

/* ---- server clients ---- */

static void client_close(struct io_ctl_client *c)
{
    struct io_ctl *ctl = c->ctl;

    for (struct io_ctl_client **pp = &ctl->clients; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            ctl->nclients--;
            break;
        }
    }
    io_watch_del(ctl->loop, &c->w);
    io_timer_cancel(ctl->loop, &c->t);
    close(c->fd);
    free(c->reply.buf);
    free(c);
}

/* Sends what is left of the reply. true when the client is finished (sent or failed). */
static bool client_flush(struct io_ctl_client *c)
{
    while (c->sent < c->reply.len) {
        ssize_t n = send(c->fd, c->reply.buf + c->sent, c->reply.len - c->sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno != EAGAIN;
        c->sent += (size_t)n;
    }
    return true;
}

/* A subscriber with nothing left to send waits for more (or for the client to leave). */
static void client_idle(struct io_ctl_client *c)
{
    c->reply.len = c->sent = 0;
    io_watch_mod(c->ctl->loop, &c->w, EPOLLIN);
    io_timer_cancel(c->ctl->loop, &c->t);
}

/* After a flush that finished: a subscriber idles, anyone else is done. */
static void client_sent(struct io_ctl_client *c)
{
    if (c->channel && c->sent == c->reply.len)
        client_idle(c);
    else
        client_close(c);
}

static void client_start_reply(struct io_ctl_client *c)
{
    struct io_ctl *ctl = c->ctl;

    if (client_flush(c)) {
        client_sent(c);
        return;
    }
    io_watch_mod(ctl->loop, &c->w, EPOLLOUT);
    io_timer_arm(ctl->loop, &c->t, io_clock_now() + MONO_MS(IO_CTL_WRITE_TIMEOUT_MS));
}

static bool peer_is_root(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == 0;
}

static void client_handle_line(struct io_ctl_client *c, size_t len)
{
    struct io_ctl *ctl = c->ctl;

    c->in[len] = '\0';
    if (len && c->in[len - 1] == '\r')
        c->in[len - 1] = '\0';
    if (!peer_is_root(c->fd)) {
        ctl->refused++;
        io_ctl_reply_printf(&c->reply, "error: permission denied\n");
    } else {
        ctl->requests++;
        ctl->handler(ctl->ctx, c->in, &c->reply);
        c->channel = c->reply.subscribe;
    }
    client_start_reply(c);
}

/* Reads what is available; dispatches once a line, EOF or the size limit is reached. */
static void client_read(struct io_ctl_client *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->inlen, IO_CTL_MAX_LINE - c->inlen, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            if (n < 0 || c->inlen == 0) {
                client_close(c); /* error, or EOF before any request */
                return;
            }
            break; /* EOF ends an unterminated line */
        }
        char *nl = memchr(c->in + c->inlen, '\n', (size_t)n);
        c->inlen += (size_t)n;
        if (nl) {
            c->inlen = (size_t)(nl - c->in);
            break;
        }
        if (c->inlen == IO_CTL_MAX_LINE) {
            c->ctl->refused++;
            io_ctl_reply_printf(&c->reply, "error: request too long\n");
            client_start_reply(c);
            return;
        }
    }
    client_handle_line(c, c->inlen);
}

/* A subscriber has nothing more to say: discard its input, close on EOF or error. */
static void client_drain(struct io_ctl_client *c)
{
    char buf[256];

    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n > 0 || (n < 0 && errno == EINTR))
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        client_close(c);
        return;
    }
}

static void client_cb(struct io_loop *loop, struct io_watch *w, uint32_t revents)
{
    struct io_ctl_client *c = w->ctx;

    if (w->events & EPOLLOUT) {
        if (client_flush(c))
            client_sent(c);
        return;
    }
    if (c->channel) {
        client_drain(c);
        return;
    }
    client_read(c);
}

static void client_timeout(struct io_loop *loop, struct io_timer *t)
{
    struct io_ctl_client *c = t->ctx;

    c->ctl->refused++;
    log_debug("control: client timed out");
    client_close(c);
}

static void client_new(struct io_ctl *ctl, int fd)
{
    struct io_ctl_client *c = calloc(1, sizeof(*c));

    if (!c)
        abort();
    c->ctl = ctl;
    c->fd = fd;
    io_watch_init(&c->w, fd, EPOLLIN, client_cb, c);
    io_timer_init(&c->t, client_timeout, c);
    if (io_watch_add(ctl->loop, &c->w) != 0) {
        close(fd);
        free(c);
        return;
    }
    io_timer_arm(ctl->loop, &c->t, io_clock_now() + MONO_MS(IO_CTL_READ_TIMEOUT_MS));
    c->next = ctl->clients;
    ctl->clients = c;
    ctl->nclients++;
}

static void accept_cb(struct io_loop *loop, struct io_watch *w, uint32_t revents)
{
    struct io_ctl *ctl = w->ctx;

    for (;;) {
        int fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN)
                log_warn("control: accept: %s", strerror(errno));
            return;
        }
        if (ctl->nclients >= IO_CTL_MAX_CLIENTS) {
            ctl->refused++;
            close(fd);
            continue;
        }
        client_new(ctl, fd);
    }
}

/* ---- streams ---- */

/* Queues line on subscriber c; false if c was dropped for being too slow. */
static bool sub_queue(struct io_ctl_client *c, const char *line, size_t n)
{
    static const char bye[] = "dropped: too slow\n";
    bool writing = c->sent < c->reply.len;

    if (c->reply.len - c->sent + n > IO_CTL_SUB_MAX_PENDING) {
        c->ctl->refused++;
        (void)!send(c->fd, bye, sizeof(bye) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        client_close(c);
        return false;
    }
    io_ctl_reply_append(&c->reply, line, n);
    if (!writing)
        client_start_reply(c);
    return true;
}

size_t io_ctl_publish(struct io_ctl *ctl, unsigned channel, const char *line, size_t n)
{
    size_t queued = 0;
    struct io_ctl_client *next;

    if (channel == 0)
        return 0;
    for (struct io_ctl_client *c = ctl->clients; c; c = next) {
        next = c->next;
        if (c->channel == channel && sub_queue(c, line, n))
            queued++;
    }
    return queued;
}

/* ---- listening ---- */

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa->sun_path))
        return -ENAMETOOLONG;
    memcpy(sa->sun_path, path, strlen(path) + 1);
    return 0;
}

/* Removes a stale socket at path; refuses a live one or a non-socket. */
static int clear_stale(const struct sockaddr_un *sa)
{
    struct stat st;

    if (lstat(sa->sun_path, &st) != 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode))
        return -EEXIST;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    int live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno == EAGAIN;
    close(fd);
    if (live)
        return -EADDRINUSE;
    return unlink(sa->sun_path) == 0 ? 0 : -errno;
}

static int open_listener(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0)
        return -errno;
    /* On Linux the mode of the socket inode set before bind() becomes the file's mode, so the
     * path is never reachable with a wider mode; chmod() afterwards makes it explicit. */
    if (fchmod(fd, 0600) != 0 || bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 ||
        chmod(sa->sun_path, 0600) != 0 || listen(fd, 64) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

int io_ctl_listen(struct io_loop *loop, struct io_ctl *ctl, const char *path,
                  io_ctl_handler *handler, void *ctx)
{
    struct sockaddr_un sa;

    *ctl = (struct io_ctl){.loop = loop, .fd = -1, .handler = handler, .ctx = ctx};
    int err = fill_addr(&sa, path);
    int fd = err ? -1 : io_inherit_take_unix(path); /* a binary upgrade's, already bound */
    if (!err && fd < 0)
        err = clear_stale(&sa);
    if (fd < 0)
        fd = err ? err : open_listener(&sa);
    if (fd < 0)
        return fd;
    ctl->fd = fd;
    ctl->path = strdup(path);
    if (!ctl->path)
        abort();
    io_watch_init(&ctl->w, fd, EPOLLIN, accept_cb, ctl);
    err = io_watch_add(loop, &ctl->w);
    if (err)
        io_ctl_close(ctl);
    return err;
}

void io_ctl_close(struct io_ctl *ctl)
{
    if (!ctl)
        return;
    while (ctl->clients)
        client_close(ctl->clients);
    if (ctl->fd >= 0)
        unlink(ctl->path); /* a detached ctl leaves the file to its successor */
    io_ctl_detach(ctl);
}

void io_ctl_detach(struct io_ctl *ctl)
{
    if (!ctl || ctl->fd < 0)
        return;
    io_watch_del(ctl->loop, &ctl->w);
    close(ctl->fd);
    ctl->fd = -1;
    free(ctl->path);
    ctl->path = NULL;
}

/* ---- client ---- */

/* Waits for events on fd until the deadline. 0, or -ETIMEDOUT / -errno. */
static int wait_fd(int fd, short events, mono_us deadline)
{
    for (;;) {
        mono_us left = deadline - io_clock_now();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)((left + 999) / 1000));
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -errno;
    }
}

static int send_all(int fd, const char *buf, size_t len, mono_us deadline)
{
    size_t off = 0;

    while (off < len) {
        ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
        if (n >= 0) {
            off += (size_t)n;
            continue;
        }
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
        int err = wait_fd(fd, POLLOUT, deadline);
        if (err)
            return err;
    }
    return 0;
}

static int copy_reply(int fd, FILE *out, mono_us deadline)
{
    char buf[4096];

    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n == 0)
            return 0;
        if (n > 0) {
            if (out && fwrite(buf, 1, (size_t)n, out) != (size_t)n)
                return -EIO;
            continue;
        }
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
        int err = wait_fd(fd, POLLIN, deadline);
        if (err)
            return err;
    }
}

static int send_request(int fd, const struct sockaddr_un *sa, const char *line, mono_us deadline)
{
    if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0)
        return -errno;
    size_t len = strlen(line);
    char *msg = malloc(len + 2);
    if (!msg)
        abort();
    memcpy(msg, line, len);
    msg[len] = '\n';
    int err = send_all(fd, msg, len + 1, deadline);
    free(msg);
    return err;
}

static int exchange(int fd, const struct sockaddr_un *sa, const char *line, FILE *out,
                    mono_us deadline)
{
    int err = send_request(fd, sa, line, deadline);
    return err ? err : copy_reply(fd, out, deadline);
}

int io_ctl_request(const char *path, const char *line, FILE *out, int timeout_ms)
{
    struct sockaddr_un sa;
    mono_us deadline = io_clock_now() + MONO_MS(timeout_ms > 0 ? timeout_ms : 5000);
    int err = fill_addr(&sa, path);

    if (err)
        return err;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    err = exchange(fd, &sa, line, out, deadline);
    close(fd);
    return err;
}

/* Copies the stream to out until EOF, waiting as long as it takes between chunks. */
static int copy_stream(int fd, FILE *out)
{
    char buf[4096];

    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n == 0)
            return 0;
        if (n > 0) {
            if (fwrite(buf, 1, (size_t)n, out) != (size_t)n || fflush(out) != 0)
                return -EIO;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return -errno;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            return -errno;
    }
}

int io_ctl_stream(const char *path, const char *line, FILE *out)
{
    struct sockaddr_un sa;
    mono_us deadline = io_clock_now() + MONO_MS(5000);
    int err = fill_addr(&sa, path);

    if (err)
        return err;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    err = send_request(fd, &sa, line, deadline);
    if (!err)
        err = copy_stream(fd, out);
    close(fd);
    return err;
}
