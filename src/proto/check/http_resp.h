/* A resumable HTTP/1.x response parser for health checks: status line, headers, then a body
 * framed by Content-Length, chunked transfer coding, or the end of the stream (RFC 9112
 * section 6.3). It never allocates and keeps only one line at a time; body bytes are handed
 * back as spans of the caller's input. Pure. */
#ifndef NOSPOF_PROTO_CHECK_HTTP_RESP_H
#define NOSPOF_PROTO_CHECK_HTTP_RESP_H

#include "http_resp-t.h"

/* Resets r for a new response. */
void http_resp_init(struct http_resp *r);

/* Consumes bytes from buf[0..len). Stops after the first body span, at the end of the
 * response, on an error, or when the input is used up; out->used says how much was consumed
 * (call again with the rest). Returns NEED_MORE, DONE or ERROR (r->err then says why); after
 * DONE or ERROR it consumes nothing and returns the same code. */
enum http_resp_rc http_resp_feed(struct http_resp *r, const uint8_t *buf, size_t len,
                                 struct http_resp_out *out);

/* The peer closed the stream: DONE when the body was delimited by the close (or the response
 * was complete), otherwise ERROR with HTTP_RESP_ERR_TRUNCATED. */
enum http_resp_rc http_resp_eof(struct http_resp *r);

/* True once the status line and headers have been parsed. */
bool http_resp_head_done(const struct http_resp *r);

/* Stable name of an error, for logs. */
const char *http_resp_err_name(enum http_resp_err e);

#endif
