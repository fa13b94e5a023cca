/* Internals shared by the files of proto/http: byte classes, the line-based head engine
 * (http1_head.c) and the start-line and end-of-head hooks of requests (http1_req.c) and
 * responses (http1_resp.c). Not part of the module's API. */
#ifndef NOSPOF_PROTO_HTTP_HTTP1_PRIV_H
#define NOSPOF_PROTO_HTTP_HTTP1_PRIV_H

#include "http1.h"

/* Byte classes (RFC 9110 5.6.2 tchar, 5.5 field-vchar; RFC 9112 3.2 target bytes). */
#define HTTP1_C_TCHAR  0x01 /* token character */
#define HTTP1_C_VALUE  0x02 /* HTAB, SP, VCHAR, obs-text: allowed in field values */
#define HTTP1_C_TARGET 0x04 /* VCHAR: allowed in a request-target */
#define HTTP1_C_HEX    0x08
#define HTTP1_C_DIGIT  0x10
#define HTTP1_C_WS     0x20 /* SP or HTAB */

/* Class bits of every byte (read-only table in http1_head.c). */
extern const uint8_t http1_ctype[256];

static inline bool http1_is(uint8_t c, uint8_t cls)
{
    return (http1_ctype[c] & cls) != 0;
}

/* States of the head parser (struct http1_msg.state). */
enum http1_head_state {
    HTTP1_HS_START = 0, /* before or on the start line */
    HTTP1_HS_FIELDS,    /* on a field line or the final empty line */
    HTTP1_HS_DONE,
    HTTP1_HS_ERROR,
};

/* Shared init of requests and responses. */
void http1_head_init(struct http1_msg *m, struct http1_hdr *hdrs, uint32_t max_hdrs,
                     const struct http1_limits *lim, bool is_resp);

/* The head engine: finds complete lines under the limits and hands them to the start-line
 * and field-line code; on the empty line calls the end-of-head hook. */
enum http1_rc http1_head_parse(struct http1_msg *m, const uint8_t *buf, size_t len);

/* Start lines: buf[ls..le) is the line without its CRLF. Return HTTP1_ERR_NONE or why not. */
enum http1_err http1_req_line(struct http1_msg *m, const uint8_t *buf, uint32_t ls, uint32_t le);
enum http1_err http1_status_line(struct http1_msg *m, const uint8_t *buf, uint32_t ls, uint32_t le);

/* End-of-head checks and framing decisions. */
enum http1_err http1_req_finish(struct http1_msg *m);
enum http1_err http1_resp_finish(struct http1_msg *m);

/* True when s[0..n) equals the lower-case word w[0..wn) ignoring ASCII case. */
bool http1_ci_eq(const uint8_t *s, size_t n, const char *w, size_t wn);

#endif
