/* HTTP/1.x request heads: the request line, the target forms and the end-of-head checks.
 *
 * Theory of operation (the whole proto/http parser).
 *
 * A fast proxy keeps a message head in one buffer anyway, because it forwards those bytes
 * unchanged; so the parser works in place on that buffer and keeps no copy. The caller
 * passes buf[0..len), everything received for this message so far, and calls again with
 * the same bytes plus more. The parser keeps two offsets: the start of the current line and
 * how far it has scanned for its LF. A call resumes the LF search (memchr) where the last one
 * stopped, so each byte is searched once whatever the split; a line is interpreted only when
 * complete, which is why feeding one byte at a time gives exactly the result of feeding the
 * whole head at once. Offsets (never pointers) go into the caller's fixed array of
 * struct http1_hdr {name, value}, so the buffer may move between calls, and no request
 * allocates anything. Well-known fields get an id at index time, so a proxy finds Host or
 * the hop-by-hop fields without comparing names again.
 *
 * Limits are parameters (struct http1_limits: 8 KiB per line, 64 KiB per head, 100 fields
 * by default). The LF search never looks past the nearer of the line limit and the head
 * limit, so an attacker cannot make the parser scan more than that, and the reported limit
 * (URI_TOO_LONG for a request line, LINE_TOO_LONG, HEAD_TOO_LONG) depends only on which
 * bound comes first, not on how the bytes arrived.
 *
 * Defences (each a distinct enum http1_err, so a proxy counts them and answers 400/414/431/
 * 505; see docs/http.md). The head is forwarded as received, so anything two parsers could
 * read differently is refused rather than repaired:
 *  - line endings: CRLF only; bare LF and bare CR are refused (RFC 9112 2.2 allows a
 *    recipient to accept LF, but the next hop might not); obs-fold and whitespace before
 *    the first field are refused (RFC 9112 5.2, 2.2);
 *  - field syntax: names are tokens, whitespace before the colon is a 400 (RFC 9112 5.1),
 *    values hold no NUL/CTL/DEL (RFC 9110 5.5);
 *  - framing (RFC 9112 6.1, 6.3, 11.2): Content-Length with Transfer-Encoding, differing
 *    Content-Length values, non-digit or overflowing lengths, a request whose last coding is
 *    not chunked, chunked twice, Transfer-Encoding in HTTP/1.0. Identical Content-Length
 *    repeats are folded (RFC 9110 8.6 permits it; every hop computes the same length, so
 *    there is nothing to smuggle; HTTP1_F_CL_FOLDED lets a stricter proxy refuse them);
 *  - Host: required once in HTTP/1.1, never twice (RFC 9112 3.2);
 *  - body: chunk sizes (hex, at most 16 digits, below 2^63), extensions without CR/LF/CTL,
 *    the CRLF after data, trailer lines as strict as header lines (http1_body.c).
 *
 * The body decoder is separate (http1_body.c) because body bytes need no buffering: it is a
 * byte-wise state machine over whatever the proxy has just read, returning the number of
 * bytes that belong to the message and the ranges that are payload, so the proxy forwards
 * the raw bytes and knows where the next message starts. */
#include "http1_priv.h"

#include <string.h>

void http1_req_init(struct http1_msg *m, struct http1_hdr *hdrs, uint32_t max_hdrs,
                    const struct http1_limits *lim)
{
    http1_head_init(m, hdrs, max_hdrs, lim, false);
}

enum http1_rc http1_req_parse(struct http1_msg *m, const uint8_t *buf, size_t len)
{
    return http1_head_parse(m, buf, len);
}

#define IS_LIT(s, n, lit) ((n) == sizeof(lit) - 1 && memcmp((s), lit, sizeof(lit) - 1) == 0)

/* The method id; methods are case-sensitive (RFC 9110 9.1). */
static enum http1_method method_id(const uint8_t *s, uint32_t n)
{
    static const enum http1_method ids[] = {
        HTTP1_M_GET,     HTTP1_M_HEAD,    HTTP1_M_POST,  HTTP1_M_PUT,   HTTP1_M_DELETE,
        HTTP1_M_CONNECT, HTTP1_M_OPTIONS, HTTP1_M_TRACE, HTTP1_M_PATCH,
    };

    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        const char *name = http1_method_name(ids[i]);
        if (strlen(name) == n && memcmp(s, name, n) == 0)
            return ids[i];
    }
    return HTTP1_M_OTHER;
}

/* authority-form = uri-host ":" port (RFC 9112 3.2.3): no userinfo, no path. */
static bool authority_form(const uint8_t *t, uint32_t n)
{
    uint32_t c = n, digits = 0;

    while (c > 0 && http1_is(t[c - 1], HTTP1_C_DIGIT)) {
        c--;
        digits++;
    }
    if (digits == 0 || digits > 5 || c < 2 || t[c - 1] != ':')
        return false;
    for (uint32_t i = 0; i + 1 < c; i++)
        if (t[i] == '/' || t[i] == '?' || t[i] == '#' || t[i] == '@')
            return false;
    return true;
}

/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 3.1) */
static bool scheme_char(uint8_t c)
{
    uint8_t l = c | 0x20;
    return (l >= 'a' && l <= 'z') || http1_is(c, HTTP1_C_DIGIT) || c == '+' || c == '-' || c == '.';
}

/* absolute-form (RFC 9112 3.2.2): scheme ":" ...; records the authority after "//". */
static bool absolute_form(struct http1_msg *m, const uint8_t *buf, uint32_t ts, uint32_t n)
{
    const uint8_t *t = buf + ts;
    uint32_t i = 1, a;

    if (!((t[0] | 0x20) >= 'a' && (t[0] | 0x20) <= 'z'))
        return false;
    while (i < n && scheme_char(t[i]))
        i++;
    if (i >= n || t[i] != ':')
        return false;
    if (i + 2 < n && t[i + 1] == '/' && t[i + 2] == '/') {
        a = i + 3;
        while (a < n && t[a] != '/' && t[a] != '?' && t[a] != '#')
            a++;
        m->authority_off = ts + i + 3;
        m->authority_len = a - (i + 3);
    }
    return true;
}

/* The form of the target and its agreement with the method (RFC 9112 3.2). */
static enum http1_err target_form(struct http1_msg *m, const uint8_t *buf, uint32_t ts, uint32_t n)
{
    if (m->method == HTTP1_M_CONNECT) { /* RFC 9112 3.2.3: CONNECT uses authority-form */
        if (!authority_form(buf + ts, n))
            return HTTP1_ERR_TARGET;
        m->form = HTTP1_FORM_AUTHORITY;
        m->authority_off = ts;
        m->authority_len = n;
    } else if (buf[ts] == '/') {
        m->form = HTTP1_FORM_ORIGIN;
    } else if (n == 1 && buf[ts] == '*') { /* RFC 9112 3.2.4: OPTIONS only */
        if (m->method != HTTP1_M_OPTIONS)
            return HTTP1_ERR_TARGET;
        m->form = HTTP1_FORM_ASTERISK;
    } else if (absolute_form(m, buf, ts, n)) {
        m->form = HTTP1_FORM_ABSOLUTE;
    } else {
        return HTTP1_ERR_TARGET;
    }
    return HTTP1_ERR_NONE;
}

/* request-line = method SP request-target SP HTTP-version (RFC 9112 3), single SPs. */
enum http1_err http1_req_line(struct http1_msg *m, const uint8_t *buf, uint32_t ls, uint32_t le)
{
    uint32_t i = ls, ts, t;

    m->start = ls;
    while (i < le && http1_is(buf[i], HTTP1_C_TCHAR))
        i++;
    if (i == le)
        return i == ls ? HTTP1_ERR_METHOD : HTTP1_ERR_REQUEST_LINE;
    if (i == ls || buf[i] != ' ')
        return HTTP1_ERR_METHOD;
    m->method_len = i - ls;
    m->method = method_id(buf + ls, i - ls);
    ts = t = i + 1;
    while (t < le && buf[t] != ' ') {
        if (!http1_is(buf[t], HTTP1_C_TARGET))
            return HTTP1_ERR_TARGET;
        t++;
    }
    if (t == ts || t == le)
        return HTTP1_ERR_REQUEST_LINE; /* empty target (double SP) or no version */
    m->target_off = ts;
    m->target_len = t - ts;
    if (le - (t + 1) != 8 || memcmp(buf + t + 1, "HTTP/1.", 7) != 0 ||
        (buf[t + 8] != '0' && buf[t + 8] != '1'))
        return HTTP1_ERR_VERSION;
    m->version_minor = (uint8_t)(buf[t + 8] - '0');
    return target_form(m, buf, ts, t - ts);
}

/* Framing of a request (RFC 9112 6.3 items 3, 4, 5, 7) and the Host rule (3.2). */
enum http1_err http1_req_finish(struct http1_msg *m)
{
    if (m->flags & HTTP1_F_HAS_TE) {
        /* RFC 9112 6.3 item 3 and 11.2: both present is a smuggling attempt. */
        if (m->flags & HTTP1_F_HAS_CL)
            return HTTP1_ERR_CL_AND_TE;
        /* RFC 9112 6.3 item 4: final coding not chunked in a request: 400. */
        if (!m->te_chunked_last)
            return HTTP1_ERR_TE_NOT_CHUNKED;
        m->flags |= HTTP1_F_CHUNKED;
        m->body = HTTP1_BODY_CHUNKED;
    } else if (m->flags & HTTP1_F_HAS_CL) {
        m->body = HTTP1_BODY_LENGTH;
    } else {
        m->body = HTTP1_BODY_NONE; /* RFC 9112 6.3 item 7 */
    }
    /* RFC 9112 3.2: a 1.1 request without Host gets a 400. */
    if (m->version_minor == 1 && m->host < 0)
        return HTTP1_ERR_NO_HOST;
    return HTTP1_ERR_NONE;
}
