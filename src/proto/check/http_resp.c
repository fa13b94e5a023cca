/* HTTP/1.x response parser for the HTTP_GET / SSL_GET checks (see http_resp.h).
 *
 * Theory of operation: the head, chunk-size lines, the CRLF after each chunk and the trailer
 * are read one line at a time into r->line (bytes past HTTP_RESP_LINE_MAX are counted, not
 * kept); each complete line moves the state. Body bytes are never copied: a feed call returns
 * the body bytes of the current input as one span. Message framing follows RFC 9112 section
 * 6.3: 1xx, 204 and 304 responses have no body; Transfer-Encoding chunked wins over
 * Content-Length; otherwise Content-Length; otherwise the body runs to the end of the stream.
 * Bare LF line endings are tolerated (RFC 9112 section 2.2). */
#include "http_resp.h"

#include <string.h>

void http_resp_init(struct http_resp *r)
{
    memset(r, 0, sizeof(*r));
    r->state = HTTP_RESP_S_STATUS;
}

bool http_resp_head_done(const struct http_resp *r)
{
    return r->head_done;
}

const char *http_resp_err_name(enum http_resp_err e)
{
    switch (e) {
    case HTTP_RESP_ERR_NONE:
        return "none";
    case HTTP_RESP_ERR_STATUS_LINE:
        return "bad status line";
    case HTTP_RESP_ERR_HEADER:
        return "bad header";
    case HTTP_RESP_ERR_TOO_LONG:
        return "head too long";
    case HTTP_RESP_ERR_CHUNK:
        return "bad chunk";
    case HTTP_RESP_ERR_TRUNCATED:
        return "truncated body";
    }
    return "?";
}

static void fail(struct http_resp *r, enum http_resp_err e)
{
    r->err = e;
    r->state = HTTP_RESP_S_ERROR;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Case-insensitive comparison of s[0..n) with the lower-case word w. */
static bool word_eq(const char *s, size_t n, const char *w)
{
    size_t i;

    for (i = 0; i < n && w[i]; i++)
        if (lower(s[i]) != w[i])
            return false;
    return i == n && w[i] == '\0';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 9112 section 4: status-line = HTTP-version SP status-code SP [ reason-phrase ]. */
static void on_status_line(struct http_resp *r, const char *s, size_t n)
{
    if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || !is_digit(s[7]) || s[8] != ' ' ||
        !is_digit(s[9]) || !is_digit(s[10]) || !is_digit(s[11]) || (n > 12 && s[12] != ' ') ||
        s[9] == '0') {
        fail(r, HTTP_RESP_ERR_STATUS_LINE);
        return;
    }
    r->version_minor = (uint8_t)(s[7] - '0');
    r->status = (unsigned)((s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0'));
    r->state = HTTP_RESP_S_HEADER;
}

/* Content-Length = 1*DIGIT (RFC 9110 section 8.6); a repeated header must agree. */
static void on_content_length(struct http_resp *r, const char *v, size_t n)
{
    uint64_t len = 0;

    if (n == 0) {
        fail(r, HTTP_RESP_ERR_HEADER);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(v[i]) || len > (UINT64_MAX - 9) / 10) {
            fail(r, HTTP_RESP_ERR_HEADER);
            return;
        }
        len = len * 10 + (uint64_t)(v[i] - '0');
    }
    if (r->has_length && r->content_length != len) {
        fail(r, HTTP_RESP_ERR_HEADER);
        return;
    }
    r->has_length = true;
    r->content_length = len;
}

/* Transfer-Encoding: the response is chunked when chunked is the final coding (RFC 9112
 * section 6.3 rule 4). */
static void on_transfer_encoding(struct http_resp *r, const char *v, size_t n)
{
    r->chunked = n >= 7 && word_eq(v + n - 7, 7, "chunked") &&
                 (n == 7 || v[n - 8] == ',' || is_space(v[n - 8]));
}

static void on_header_line(struct http_resp *r, const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    size_t name_len, vlen;
    const char *v;

    if (colon == NULL || colon == s) {
        fail(r, HTTP_RESP_ERR_HEADER);
        return;
    }
    name_len = (size_t)(colon - s);
    v = colon + 1;
    vlen = n - name_len - 1;
    while (vlen > 0 && is_space(*v)) {
        v++;
        vlen--;
    }
    while (vlen > 0 && is_space(v[vlen - 1]))
        vlen--;
    if (word_eq(s, name_len, "content-length"))
        on_content_length(r, v, vlen);
    else if (word_eq(s, name_len, "transfer-encoding"))
        on_transfer_encoding(r, v, vlen);
}

/* The empty line after the headers: pick the body framing (RFC 9112 section 6.3). */
static void on_head_end(struct http_resp *r)
{
    if (r->status >= 100 && r->status < 200 && r->status != 101) {
        /* an interim response: the final one follows */
        r->state = HTTP_RESP_S_STATUS;
        r->chunked = r->has_length = false;
        r->content_length = 0;
        return;
    }
    r->head_done = true;
    if (r->status < 200 || r->status == 204 || r->status == 304)
        r->state = HTTP_RESP_S_DONE;
    else if (r->chunked)
        r->state = HTTP_RESP_S_CHUNK_SIZE;
    else if (r->has_length) {
        r->remaining = r->content_length;
        r->state = r->remaining ? HTTP_RESP_S_BODY_LEN : HTTP_RESP_S_DONE;
    } else
        r->state = HTTP_RESP_S_BODY_EOF;
}

static int hex_val(char c)
{
    if (is_digit(c))
        return c - '0';
    c = lower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* chunk-size = 1*HEXDIG, then optional chunk extensions (RFC 9112 section 7.1). */
static void on_chunk_size(struct http_resp *r, const char *s, size_t n)
{
    uint64_t size = 0;
    size_t i = 0;

    for (; i < n && hex_val(s[i]) >= 0; i++) {
        if (i >= 15) {
            fail(r, HTTP_RESP_ERR_CHUNK);
            return;
        }
        size = size * 16 + (uint64_t)hex_val(s[i]);
    }
    if (i == 0 || (i < n && s[i] != ';' && !is_space(s[i]))) {
        fail(r, HTTP_RESP_ERR_CHUNK);
        return;
    }
    r->remaining = size;
    r->state = size ? HTTP_RESP_S_CHUNK_DATA : HTTP_RESP_S_TRAILER;
}

static void on_line(struct http_resp *r)
{
    size_t n = r->line_len < HTTP_RESP_LINE_MAX ? r->line_len : HTTP_RESP_LINE_MAX;
    const char *s = r->line;

    if (n > 0 && s[n - 1] == '\r' && r->line_len <= HTTP_RESP_LINE_MAX)
        n--;
    r->line_len = 0;
    switch (r->state) {
    case HTTP_RESP_S_STATUS:
        on_status_line(r, s, n);
        break;
    case HTTP_RESP_S_HEADER:
        if (n == 0)
            on_head_end(r);
        else
            on_header_line(r, s, n);
        break;
    case HTTP_RESP_S_CHUNK_SIZE:
        on_chunk_size(r, s, n);
        break;
    case HTTP_RESP_S_CHUNK_END:
        if (n != 0)
            fail(r, HTTP_RESP_ERR_CHUNK);
        else
            r->state = HTTP_RESP_S_CHUNK_SIZE;
        break;
    case HTTP_RESP_S_TRAILER:
        if (n == 0)
            r->state = HTTP_RESP_S_DONE;
        break;
    case HTTP_RESP_S_BODY_LEN:
    case HTTP_RESP_S_BODY_EOF:
    case HTTP_RESP_S_CHUNK_DATA:
    case HTTP_RESP_S_DONE:
    case HTTP_RESP_S_ERROR:
        break;
    }
}

/* Adds one byte to the current line; true when the line is complete. */
static bool line_byte(struct http_resp *r, uint8_t c)
{
    bool counted = r->state == HTTP_RESP_S_STATUS || r->state == HTTP_RESP_S_HEADER ||
                   r->state == HTTP_RESP_S_TRAILER;

    if (counted && ++r->head_bytes > HTTP_RESP_HEAD_MAX) {
        fail(r, HTTP_RESP_ERR_TOO_LONG);
        return false;
    }
    if (c == '\n')
        return true;
    if (r->line_len < HTTP_RESP_LINE_MAX)
        r->line[r->line_len] = (char)c;
    else if (r->state == HTTP_RESP_S_STATUS || r->state == HTTP_RESP_S_CHUNK_END) {
        fail(r, r->state == HTTP_RESP_S_STATUS ? HTTP_RESP_ERR_STATUS_LINE : HTTP_RESP_ERR_CHUNK);
        return false;
    }
    r->line_len++;
    return false;
}

static bool in_body(const struct http_resp *r)
{
    return r->state == HTTP_RESP_S_BODY_LEN || r->state == HTTP_RESP_S_BODY_EOF ||
           r->state == HTTP_RESP_S_CHUNK_DATA;
}

static enum http_resp_rc rc_of(const struct http_resp *r)
{
    if (r->state == HTTP_RESP_S_DONE)
        return HTTP_RESP_DONE;
    return r->state == HTTP_RESP_S_ERROR ? HTTP_RESP_ERROR : HTTP_RESP_NEED_MORE;
}

/* Hands back the body bytes available in buf[0..len) as one span. */
static size_t take_body(struct http_resp *r, const uint8_t *buf, size_t len,
                        struct http_resp_out *out)
{
    size_t n = len;

    if (r->state != HTTP_RESP_S_BODY_EOF && r->remaining < n)
        n = (size_t)r->remaining;
    out->body = buf;
    out->body_len = n;
    r->body_bytes += n;
    if (r->state != HTTP_RESP_S_BODY_EOF) {
        r->remaining -= n;
        if (r->remaining == 0)
            r->state = r->state == HTTP_RESP_S_BODY_LEN ? HTTP_RESP_S_DONE : HTTP_RESP_S_CHUNK_END;
    }
    return n;
}

enum http_resp_rc http_resp_feed(struct http_resp *r, const uint8_t *buf, size_t len,
                                 struct http_resp_out *out)
{
    size_t i = 0;

    memset(out, 0, sizeof(*out));
    while (i < len && r->state != HTTP_RESP_S_DONE && r->state != HTTP_RESP_S_ERROR) {
        if (in_body(r)) {
            i += take_body(r, buf + i, len - i, out);
            break;
        }
        if (line_byte(r, buf[i++]))
            on_line(r);
    }
    out->used = i;
    return rc_of(r);
}

enum http_resp_rc http_resp_eof(struct http_resp *r)
{
    if (r->state == HTTP_RESP_S_BODY_EOF)
        r->state = HTTP_RESP_S_DONE;
    else if (r->state != HTTP_RESP_S_DONE && r->state != HTTP_RESP_S_ERROR)
        fail(r, HTTP_RESP_ERR_TRUNCATED);
    return rc_of(r);
}
