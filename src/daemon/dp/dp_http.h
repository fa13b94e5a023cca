/* The HTTP (L7) switch of the data plane: the pure pieces of the engine (routing, the
 * sticky cookie, head rewriting) that dp_http.c uses and unit tests call directly.
 *
 * The engine itself (dp_http.c) runs on the same workers as the L4 proxy; its theory of
 * operation is at the top of dp_http.c and in docs/http.md. */
#ifndef NOSPOF_DAEMON_DP_HTTP_H
#define NOSPOF_DAEMON_DP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/dp/dp_snap-t.h"
#include "proto/http/http1-t.h"

/* The group index for a request to host[0..hlen) (a Host value or an absolute-form
 * authority: case-insensitive, a ":port" and one trailing dot ignored) and target
 * path[0..plen): the first route of h whose host (exact, or "*.suffix" matching any name
 * that ends in ".suffix") and path prefix both match, else 0 (the default group). */
uint32_t dp_http_route(const struct dp_http *h, const uint8_t *host, size_t hlen,
                       const uint8_t *path, size_t plen);

/* Looks for name=VALUE in a Cookie field value v[0..len) (pairs separated by ";" and
 * optional spaces, RFC 6265 4.2.1) where VALUE is 8 lower-case hex digits; true and *id
 * set when found. */
bool dp_http_cookie_find(const uint8_t *v, size_t len, const char *name, uint32_t *id);

/* Writes the field line "Set-Cookie: name=%08x; Path=/\r\n" for id into out[0..cap).
 * Returns its length, 0 when it does not fit. */
size_t dp_http_cookie_line(char *out, size_t cap, const char *name, uint32_t id);

/* True when field line i of m (buf is its buffer) is hop-by-hop and must not be forwarded
 * (RFC 9110 7.6.1): Connection, Proxy-Connection, Keep-Alive, TE, Upgrade (kept when
 * keep_upgrade: a protocol switch) and every field the Connection lines name. */
bool dp_http_hop_by_hop(const struct http1_msg *m, const uint8_t *buf, uint32_t i,
                        bool keep_upgrade);

/* Copies the head of m (buf[0..m->head_len)) into out[0..cap): the start line and every
 * field line unchanged except hop-by-hop ones (dropped), then extra[0..elen) (complete
 * field lines), then the empty line. keep_upgrade keeps Connection and Upgrade (101 and
 * upgrade requests). Returns the length written, 0 when it does not fit. */
size_t dp_http_rewrite(const struct http1_msg *m, const uint8_t *buf, bool keep_upgrade,
                       const char *extra, size_t elen, uint8_t *out, size_t cap);

/* True when the head of m (in buf) may go to a kept-alive HTTP/1.1 peer unchanged (when there is
 * also nothing to insert): it has no hop-by-hop field but a Connection field whose only option is
 * keep-alive, which then states what the proxy would say itself (RFC 9110 7.6.1 lets an
 * intermediary replace Connection with its own options). The usual keep-alive response. */
bool dp_http_head_as_is(const struct http1_msg *m, const uint8_t *buf);

/* The headers a request gets (X-Forwarded-For, X-Forwarded-Proto, Forwarded per the
 * DP_HTTP_* bits in opts) for client address text cli: written into out[0..cap) as
 * complete field lines. Returns the length, 0 when nothing or it does not fit. An IPv6
 * address is quoted and bracketed in Forwarded (RFC 7239 6). */
size_t dp_http_fwd_headers(uint32_t opts, const char *cli, bool v6, char *out, size_t cap);

/* A complete generated response for status (400, 408, 413, 414, 431, 501, 502, 503, 504,
 * 505) with a short text body, "Connection: close" when close: written into out[0..cap).
 * Returns its length, 0 when it does not fit. */
size_t dp_http_error_response(unsigned status, bool close, char *out, size_t cap);

/* The latency bucket of a duration (see dp_dest_stats.http_lat). */
unsigned dp_http_lat_bucket(uint64_t us);

/* The upper bound in microseconds of bucket i (UINT64_MAX for the last). */
uint64_t dp_http_lat_bound(unsigned i);

/* The p-quantile (0 < p <= 1) of histogram h[0..DP_HTTP_LAT_BUCKETS): the upper bound of
 * the bucket holding it (for the open last bucket: its lower bound, "at least"), 0 for an
 * empty histogram. */
uint64_t dp_http_lat_quantile(const uint64_t *h, double p);

#endif
