/* The probe runner interface. Each probe kind lives in its own file (io/probe_tcp.c,
 * probe_http.c, ...) and is reached through probe_start(), which dispatches on cfg->kind.
 *
 * Contract: probe_start() starts the probe on loop and returns 0 (done will be called exactly
 * once, later, from the loop -- never from inside probe_start), or -errno (done is never
 * called). The probe frees itself after done returns. probe_cancel() stops a running probe
 * without calling done and frees it. cfg must stay valid until done or cancel. The timeout is
 * a hard bound: a probe that has not finished by then reports ok = false, "timeout" (HTTP_GET
 * and SSL_GET with several urls apply it to each url's fetch; UDP_CHECK without
 * require_reply reports ok when the timeout passes with no ICMP error, as keepalived does;
 * MISC_CHECK passes it to the script runner, so give misc_timeout). */
#ifndef NOSPOF_IO_PROBE_H
#define NOSPOF_IO_PROBE_H

#include "base/rng.h"
#include "io/loop.h"
#include "io/probe-t.h"

struct io_scripts;

/* Shared resources the probes may need: the script runner (MISC_CHECK) and an OpenSSL
 * client context (SSL_GET), both owned by the caller. */
struct probe_env {
    struct io_loop *loop;
    struct io_scripts *scripts;
    void *ssl_ctx;         /* SSL_CTX *, created by probe_env_init */
    const char *router_id; /* for SMTP HELO default */
    struct rng rng;        /* DNS ids, ICMP sequence numbers, UDP payloads: seeded from
                            * getrandom by probe_env_init; tests may reseed it */
};

int probe_env_init(struct probe_env *env, struct io_loop *loop, struct io_scripts *scripts);
void probe_env_fini(struct probe_env *env);

int probe_start(struct probe_env *env, const struct probe_cfg *cfg, mono_us timeout_us,
                probe_done_fn *done, void *ctx, struct probe **out);
void probe_cancel(struct probe *p);

const char *probe_kind_name(enum probe_kind k); /* "TCP_CHECK", "HTTP_GET", ... */

#endif
