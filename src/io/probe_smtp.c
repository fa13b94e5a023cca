/* SMTP_CHECK: connect, expect the 220 greeting, send "HELO helo_name" and expect 250, then
 * send QUIT and report success without waiting for the 221 (the server's health is
 * established by then). helo_name defaults to the probe environment's router_id, else
 * "localhost". Replies are parsed by proto/check/smtp_reply (multiline replies accepted). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "io/probe_priv.h"
#include "proto/check/smtp_reply.h"

enum smtp_phase { SP_CONNECT = 0, SP_GREETING, SP_HELO_SENT, SP_QUIT };

struct smtp_probe {
    struct probe base;
    enum smtp_phase phase;
    struct smtp_reply reply;
    char out[600];
    size_t out_len, out_off;
};

static bool smtp_release(struct probe *p)
{
    probe_close_fd(p);
    return true;
}

static const struct probe_ops smtp_ops = {.release = smtp_release};

static void on_event(struct io_loop *loop, struct io_watch *w, uint32_t revents);

static const char *helo_name(const struct smtp_probe *s)
{
    const char *n = s->base.cfg->u.smtp.helo_name;

    if (n && n[0])
        return n;
    return s->base.env->router_id && s->base.env->router_id[0] ? s->base.env->router_id
                                                               : "localhost";
}

/* Sends the rest of s->out; true when all of it is sent (false: waiting or failed). */
static bool flush_out(struct smtp_probe *s)
{
    while (s->out_off < s->out_len) {
        ssize_t n = send(s->base.fd, s->out + s->out_off, s->out_len - s->out_off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            probe_watch(&s->base, EPOLLOUT, on_event);
            return false;
        }
        if (n < 0) {
            probe_finish(&s->base, false, "send: %s", strerror(errno));
            return false;
        }
        s->out_off += (size_t)n;
    }
    return true;
}

static void queue(struct smtp_probe *s, const char *line)
{
    int n = snprintf(s->out, sizeof(s->out), "%s\r\n", line);

    s->out_len = n < 0 ? 0 : ((size_t)n < sizeof(s->out) ? (size_t)n : sizeof(s->out) - 1);
    s->out_off = 0;
}

/* A complete reply arrived in phase GREETING or HELO_SENT. */
static void on_reply(struct smtp_probe *s)
{
    unsigned want = s->phase == SP_GREETING ? 220 : 250; /* RFC 5321 section 4.3.2 */
    char line[540];

    if (s->reply.code != want) {
        probe_finish(&s->base, false, "SMTP %s reply %u: %s",
                     s->phase == SP_GREETING ? "greeting" : "HELO", s->reply.code, s->reply.text);
        return;
    }
    if (s->phase == SP_GREETING) {
        snprintf(line, sizeof(line), "HELO %s", helo_name(s));
        queue(s, line);
        s->phase = SP_HELO_SENT;
        smtp_reply_init(&s->reply);
    } else {
        queue(s, "QUIT");
        s->phase = SP_QUIT;
    }
    if (flush_out(s)) {
        if (s->phase == SP_QUIT)
            probe_finish(&s->base, true, "SMTP HELO accepted");
        else
            probe_watch(&s->base, EPOLLIN, on_event);
    }
}

static void do_recv(struct smtp_probe *s)
{
    uint8_t buf[1024];

    for (;;) {
        ssize_t n = recv(s->base.fd, buf, sizeof(buf), 0);
        size_t used = 0;
        enum smtp_reply_rc rc;

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            probe_finish(&s->base, false, "SMTP: %s",
                         n == 0 ? "connection closed" : strerror(errno));
            return;
        }
        rc = smtp_reply_feed(&s->reply, buf, (size_t)n, &used);
        if (rc == SMTP_REPLY_ERROR) {
            probe_finish(&s->base, false, "SMTP: malformed reply");
            return;
        }
        if (rc == SMTP_REPLY_DONE) { /* the server speaks only after our command */
            on_reply(s);
            return;
        }
    }
}

static void on_event(struct io_loop *loop, struct io_watch *w, uint32_t revents)
{
    struct smtp_probe *s = w->ctx;
    int err;

    switch (s->phase) {
    case SP_CONNECT:
        if ((err = probe_sock_error(&s->base)) < 0) {
            probe_finish(&s->base, false, "connect: %s", strerror(-err));
            return;
        }
        s->phase = SP_GREETING;
        probe_watch(&s->base, EPOLLIN, on_event);
        break;
    case SP_GREETING:
    case SP_HELO_SENT:
        if (s->out_off < s->out_len) {
            if (flush_out(s))
                probe_watch(&s->base, EPOLLIN, on_event);
            return;
        }
        do_recv(s);
        break;
    case SP_QUIT:
        if (flush_out(s))
            probe_finish(&s->base, true, "SMTP HELO accepted");
        break;
    }
}

int probe_smtp_start(struct probe_env *env, const struct probe_cfg *cfg, mono_us timeout_us,
                     probe_done_fn *done, void *ctx, struct probe **out)
{
    struct smtp_probe *s = calloc(1, sizeof(*s));
    int rc;

    if (s == NULL)
        return -ENOMEM;
    probe_base_init(&s->base, env, cfg, &smtp_ops, timeout_us, done, ctx);
    smtp_reply_init(&s->reply);
    if ((rc = probe_sock_open(&s->base, SOCK_STREAM, 0)) < 0) {
        probe_abort(&s->base);
        return rc;
    }
    if ((rc = probe_sock_connect(&s->base, 0)) < 0)
        probe_finish_soon(&s->base, false, "connect: %s", strerror(-rc));
    else if ((rc = probe_watch(&s->base, EPOLLOUT, on_event)) < 0) {
        probe_abort(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}
