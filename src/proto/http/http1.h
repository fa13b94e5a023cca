/* The HTTP/1.x parser of the L7 switch: request and response heads parsed in place into a
 * caller-provided header index, body framing decoded as byte ranges of the caller's input,
 * and the defences against request smuggling (RFC 9112 2.2, 3.2, 5, 6.1, 6.3, 7.1, 11.2).
 * Pure: no allocation, no I/O, no globals. Theory of operation: http1_req.c. */
#ifndef NOSPOF_PROTO_HTTP_HTTP1_H
#define NOSPOF_PROTO_HTTP_HTTP1_H

#include "http1-t.h"

/* Head parsing.
 *
 * Contract of http1_req_parse / http1_resp_parse: buf[0] is the first byte of the message
 * and buf[0..len) all bytes received so far. Across calls the caller passes the same bytes
 * again (it may move them: only offsets are kept) with len growing; the parser resumes where
 * it stopped and never rescans a complete line. Feeding one byte at a time gives the same
 * result, fields and error as feeding everything at once. Returns NEED_MORE until the empty
 * line ending the head was seen, then DONE (m->head_len says where the body starts; bytes
 * past it are not looked at), or ERROR with m->err and m->err_off. After DONE or ERROR it
 * returns the same result again. */

/* Prepares m to parse a request. hdrs[0..max_hdrs) is the caller's index array (kept by
 * pointer; it must outlive m); lim may be NULL for the defaults. */
void http1_req_init(struct http1_msg *m, struct http1_hdr *hdrs, uint32_t max_hdrs,
                    const struct http1_limits *lim);

/* Parses a request head (see the contract above). Framing: chunked when Transfer-Encoding
 * ends in chunked, else Content-Length, else no body. */
enum http1_rc http1_req_parse(struct http1_msg *m, const uint8_t *buf, size_t len);

/* Prepares m to parse the response to a request with method req (HEAD and CONNECT change
 * the framing). Same arguments as http1_req_init. */
void http1_resp_init(struct http1_msg *m, struct http1_hdr *hdrs, uint32_t max_hdrs,
                     const struct http1_limits *lim, enum http1_method req);

/* Parses a response head (see the contract above). A 1xx other than 101 is DONE with body
 * NONE: the caller forwards it and parses the next response from buf + head_len. */
enum http1_rc http1_resp_parse(struct http1_msg *m, const uint8_t *buf, size_t len);

/* Head queries (valid after DONE). */

/* True when the connection may carry another message after this one: not Connection:
 * close, not a body delimited by the close, and HTTP/1.1 or HTTP/1.0 with keep-alive. */
bool http1_keep_alive(const struct http1_msg *m);

/* True for an interim response (1xx other than 101) that a final response follows. */
bool http1_resp_interim(const struct http1_msg *m);

/* Index of the first field line at or after index from whose name equals name[0..len)
 * case-insensitively, or -1. Iterate duplicates with from = previous + 1. */
int http1_find_header(const struct http1_msg *m, const uint8_t *buf, const char *name, size_t len,
                      uint32_t from);

/* Index of the first field line at or after from with the recognised id, or -1. */
int http1_find_id(const struct http1_msg *m, enum http1_hdr_id id, uint32_t from);

/* Methods (RFC 9110 9.2). */

/* True for the idempotent methods (RFC 9110 9.2.2: GET, HEAD, OPTIONS, TRACE, PUT,
 * DELETE): a proxy may retry them after a failure on a reused connection. */
bool http1_method_idempotent(enum http1_method m);

/* True for the safe methods (RFC 9110 9.2.1: GET, HEAD, OPTIONS, TRACE). */
bool http1_method_safe(enum http1_method m);

/* Canonical name of a method ("GET"), "" for HTTP1_M_OTHER. */
const char *http1_method_name(enum http1_method m);

/* Errors. */

/* Stable short name of an error, for logs and counters ("bare_lf"). */
const char *http1_err_name(enum http1_err e);

/* Status a server or proxy answers a client whose request failed with e: 414, 431, 505 or
 * 400 (RFC 9112 3, 5; RFC 6585 5). For a response error the proxy answers 502 instead. */
unsigned http1_err_status(enum http1_err e);

/* Body framing.
 *
 * The decoder tells a proxy where a message body ends while it forwards the raw bytes, and
 * which of them are payload (chunk data) rather than framing (sizes, CRLFs, trailers). */

/* Prepares b for a body of the given kind (m->body) and length (m->content_length, used for
 * HTTP1_BODY_LENGTH); lim may be NULL (bounds chunk lines and the trailer section). */
void http1_body_init(struct http1_body *b, enum http1_body_kind kind, uint64_t length,
                     const struct http1_limits *lim);

/* Consumes p[0..len): out->used bytes belong to this message; payload ranges (offsets into
 * p) go to out->spans when given, and the call stops early (NEED_MORE, used < len) when that
 * array is full. Returns DONE once the body ended (bytes after used belong to the next
 * message), ERROR with b->err, else NEED_MORE. Any split of the input gives the same used
 * total, payload bytes and result. NONE ends at once; CLOSE and TUNNEL never end here. */
enum http1_rc http1_body_feed(struct http1_body *b, const uint8_t *p, size_t len,
                              struct http1_body_out *out);

/* The peer closed: DONE when the body ended or runs to the close, else ERROR with
 * HTTP1_ERR_TRUNCATED. */
enum http1_rc http1_body_eof(struct http1_body *b);

/* True once the body is complete. */
bool http1_body_done(const struct http1_body *b);

#endif
