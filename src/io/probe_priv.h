/* Private to the probe adapters (src/io/probe*.c): the common probe object every kind
 * embeds first, and the helpers they share (result delivery, deadline, sockets). */
#ifndef NOSPOF_IO_PROBE_PRIV_H
#define NOSPOF_IO_PROBE_PRIV_H

#include <stdbool.h>
#include <sys/socket.h>

#include "io/probe.h"

struct probe;

struct probe_ops {
    /* Releases the kind's resources (fds, TLS state). Returns false when the probe must
     * outlive the call (a MISC script still running); it then frees itself later. */
    bool (*release)(struct probe *p);
    /* The deadline passed; NULL means probe_finish(p, false, "timeout"). */
    void (*on_timeout)(struct probe *p);
};

struct probe {
    struct probe_env *env;
    struct io_loop *loop;
    const struct probe_cfg *cfg;
    const struct probe_ops *ops;
    probe_done_fn *done;
    void *ctx;
    mono_us start_us;
    mono_us timeout_us;
    struct io_timer timer; /* the deadline, or a deferred result */
    bool deferred;         /* timer delivers res instead of timing out */
    int fd;                /* -1 when none */
    struct io_watch w;
    struct probe_result res;
};

/* Fills the common part of a kind's freshly allocated (zeroed) probe and arms the deadline
 * start + timeout. */
void probe_base_init(struct probe *p, struct probe_env *env, const struct probe_cfg *cfg,
                     const struct probe_ops *ops, mono_us timeout_us, probe_done_fn *done,
                     void *ctx);

/* Ends the probe from a loop callback: fills the result (why from fmt), releases the kind's
 * resources, calls done and frees the probe. */
void probe_finish(struct probe *p, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like probe_finish, but delivered from the next loop pass (for results known inside
 * probe_start, which must not call done). */
void probe_finish_soon(struct probe *p, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Frees a probe whose start failed (done never called): releases and frees. */
void probe_abort(struct probe *p);

/* Restarts the deadline at now + timeout (a new url of an HTTP probe). */
void probe_rearm(struct probe *p);

/* Builds the socket address of addr:port. 0 or -EAFNOSUPPORT. */
int probe_sockaddr(const struct ip_addr *addr, uint16_t port, struct sockaddr_storage *ss,
                   socklen_t *len);

/* Opens p->fd (non-blocking, close-on-exec) for the target's family with the target's
 * bind_if (SO_BINDTODEVICE), fwmark (SO_MARK) and bind_addr/bind_port applied. 0 or -errno. */
int probe_sock_open(struct probe *p, int type, int proto);

/* Non-blocking connect of p->fd to the target (port overrides target.port when non-zero).
 * 0 when connected or in progress, -errno otherwise. */
int probe_sock_connect(struct probe *p, uint16_t port);

/* The pending error of p->fd (SO_ERROR) as 0 or -errno. */
int probe_sock_error(struct probe *p);

/* Watches p->fd for events with cb (adds or modifies the watch). 0 or -errno. */
int probe_watch(struct probe *p, uint32_t events,
                void (*cb)(struct io_loop *, struct io_watch *, uint32_t));

/* Removes the watch and closes p->fd (no-op when closed). */
void probe_close_fd(struct probe *p);

/* Per-kind starters; same contract as probe_start. */
typedef int probe_start_fn(struct probe_env *env, const struct probe_cfg *cfg, mono_us timeout_us,
                           probe_done_fn *done, void *ctx, struct probe **out);
probe_start_fn probe_tcp_start, probe_http_start, probe_smtp_start, probe_dns_start,
    probe_ping_start, probe_udp_start, probe_misc_start, probe_file_start;

/* TLS over memory BIOs (probe_ssl.c), used by the SSL_GET probe. */
struct probe_tls;

/* Creates the client TLS state for cfg (SNI when enable_sni; a dedicated SSL_CTX when cfg
 * names a CA, certificate or key). 0 or -errno (-EPROTO for OpenSSL errors, why set). */
int probe_tls_new(struct probe_env *env, const struct probe_http_cfg *cfg, const char *host,
                  struct probe_tls **out, char *why, size_t cap);
void probe_tls_free(struct probe_tls *t);

enum probe_tls_rc {
    PROBE_TLS_OK = 0,     /* progress made / operation complete */
    PROBE_TLS_WANT_READ,  /* wait for EPOLLIN */
    PROBE_TLS_WANT_WRITE, /* ciphertext still to send: wait for EPOLLOUT */
    PROBE_TLS_EOF,        /* the peer closed (TLS close_notify or TCP FIN) */
    PROBE_TLS_ERROR,      /* why set */
};

/* Moves ciphertext between fd and the BIOs and advances the handshake. */
enum probe_tls_rc probe_tls_handshake(struct probe_tls *t, int fd, char *why, size_t cap);
/* Encrypts buf and sends as much ciphertext as fd takes. */
enum probe_tls_rc probe_tls_write(struct probe_tls *t, int fd, const void *buf, size_t len,
                                  char *why, size_t cap);
/* Sends pending ciphertext; OK when all is sent. */
enum probe_tls_rc probe_tls_flush(struct probe_tls *t, int fd, char *why, size_t cap);
/* Reads plaintext into buf: OK with *got > 0, WANT_READ, EOF or ERROR. */
enum probe_tls_rc probe_tls_read(struct probe_tls *t, int fd, void *buf, size_t cap_buf,
                                 size_t *got, char *why, size_t cap);

/* Creates the shared client SSL_CTX (TLS 1.2 or later, no verification). NULL on error. */
void *probe_ssl_ctx_new(void);
void probe_ssl_ctx_free(void *ctx);

#endif
