/* The head engine shared by the request and response parsers: finds complete lines under
 * the size limits, checks line endings, indexes field lines and interprets the fields that
 * decide framing and connection handling (Host, Content-Length, Transfer-Encoding,
 * Connection, Upgrade, Expect). The theory of operation is in http1_req.c. */
#include "http1_priv.h"

#include <string.h>

/* Bits: 1 tchar, 2 field-value byte, 4 target byte, 8 hex, 16 digit, 32 SP/HTAB. */
const uint8_t http1_ctype[256] = {
    0,  0,  0,  0,  0,  0,  0,  0,  0,  34, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, 0, 0, 0, 0, 0, /* 0x10 */
    34, 7,  6,  7,  7,  7,  7,  7,  6,  6,  7, 7, 6, 7, 7, 6, /* 0x20 */
    31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 6, 6, 6, 6, 6, 6, /* 0x30 */
    6,  15, 15, 15, 15, 15, 15, 7,  7,  7,  7, 7, 7, 7, 7, 7, /* 0x40 */
    7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7, 6, 6, 6, 7, 7, /* 0x50 */
    7,  15, 15, 15, 15, 15, 15, 7,  7,  7,  7, 7, 7, 7, 7, 7, /* 0x60 */
    7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7, 6, 7, 6, 7, 0, /* 0x70 */
    2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2, 2, 2, 2, 2, 2, /* 0x80 */
    2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2, 2, 2, 2, 2, 2, /* 0x90 */
    2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2, 2, 2, 2, 2, 2, /* 0xa0 */
    2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2, 2, 2, 2, 2, 2, /* 0xb0 */
    2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2, 2, 2, 2, 2, 2, /* 0xc0 */
    2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2, 2, 2, 2, 2, 2, /* 0xd0 */
    2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2, 2, 2, 2, 2, 2, /* 0xe0 */
    2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2, 2, 2, 2, 2, 2, /* 0xf0 */
};

void http1_head_init(struct http1_msg *m, struct http1_hdr *hdrs, uint32_t max_hdrs,
                     const struct http1_limits *lim, bool is_resp)
{
    static const struct http1_limits def = HTTP1_LIMITS_DEFAULT;

    memset(m, 0, sizeof(*m));
    m->lim = lim ? *lim : def;
    m->hdrs = hdrs;
    m->max_hdrs = max_hdrs < m->lim.max_headers ? max_hdrs : m->lim.max_headers;
    m->host = -1;
    m->is_resp = is_resp;
    m->state = HTTP1_HS_START;
}

bool http1_ci_eq(const uint8_t *s, size_t n, const char *w, size_t wn)
{
    if (n != wn)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c + ('a' - 'A'));
        if (c != (uint8_t)w[i])
            return false;
    }
    return true;
}

#define CI_EQ(s, n, lit) http1_ci_eq((s), (n), lit, sizeof(lit) - 1)

/* Compares n bytes of a field name (checked to be tchar) or value (checked: no CR) with a
 * lowercase literal of n letters and dashes. OR-ing 0x20 folds case exactly for those: only
 * a CR would also fold to a dash, and neither holds one. */
static inline bool name_is(const uint8_t *s, uint32_t n, const char *lit)
{
    for (uint32_t i = 0; i < n; i++)
        if ((s[i] | 0x20) != (uint8_t)lit[i])
            return false;
    return true;
}

/* The id of a field name (case-insensitive, RFC 9110 5.1), called once per field line. */
static enum http1_hdr_id hdr_id(const uint8_t *s, uint32_t n)
{
    switch (n) {
    case 2:
        return name_is(s, n, "te") ? HTTP1_H_TE : HTTP1_H_OTHER;
    case 4:
        return name_is(s, n, "host") ? HTTP1_H_HOST : HTTP1_H_OTHER;
    case 6:
        return name_is(s, n, "expect") ? HTTP1_H_EXPECT : HTTP1_H_OTHER;
    case 7:
        if (name_is(s, n, "upgrade"))
            return HTTP1_H_UPGRADE;
        return name_is(s, n, "trailer") ? HTTP1_H_TRAILER : HTTP1_H_OTHER;
    case 10:
        if (name_is(s, n, "connection"))
            return HTTP1_H_CONNECTION;
        return name_is(s, n, "keep-alive") ? HTTP1_H_KEEP_ALIVE : HTTP1_H_OTHER;
    case 14:
        return name_is(s, n, "content-length") ? HTTP1_H_CONTENT_LENGTH : HTTP1_H_OTHER;
    case 16:
        return name_is(s, n, "proxy-connection") ? HTTP1_H_PROXY_CONNECTION : HTTP1_H_OTHER;
    case 17:
        return name_is(s, n, "transfer-encoding") ? HTTP1_H_TRANSFER_ENCODING : HTTP1_H_OTHER;
    default:
        return HTTP1_H_OTHER;
    }
}

/* Cursor over the elements of a comma-separated list (RFC 9110 5.6.1). */
struct list_it {
    const uint8_t *v;
    uint32_t n;
    uint32_t i;
};

/* Next element, OWS trimmed (possibly empty); false after the last one. */
static bool list_next(struct list_it *it, const uint8_t **e, uint32_t *elen)
{
    uint32_t s = it->i, c = s;

    if (it->i > it->n)
        return false;
    while (c < it->n && it->v[c] != ',')
        c++;
    it->i = c + 1;
    while (s < c && http1_is(it->v[s], HTTP1_C_WS))
        s++;
    while (c > s && http1_is(it->v[c - 1], HTTP1_C_WS))
        c--;
    *e = it->v + s;
    *elen = c - s;
    return true;
}

/* Content-Length (RFC 9112 6.3 item 5, RFC 9110 8.6): every element 1*DIGIT; identical
 * values (repeated lines or a list) fold into one, different ones are refused. */
static enum http1_err content_length(struct http1_msg *m, const uint8_t *v, uint32_t n)
{
    struct list_it it = {v, n, 0};
    const uint8_t *e;
    uint32_t el;

    while (list_next(&it, &e, &el)) {
        uint64_t x = 0;
        if (el == 0)
            return HTTP1_ERR_CL_INVALID;
        for (uint32_t k = 0; k < el; k++) {
            if (!http1_is(e[k], HTTP1_C_DIGIT))
                return HTTP1_ERR_CL_INVALID;
            uint64_t d = (uint64_t)(e[k] - '0');
            if (x > (HTTP1_LENGTH_MAX - d) / 10)
                return HTTP1_ERR_CL_OVERFLOW;
            x = x * 10 + d;
        }
        if (m->flags & HTTP1_F_HAS_CL) {
            if (x != m->content_length)
                return HTTP1_ERR_CL_DIFFERENT; /* RFC 9110 8.6: differing values */
            m->flags |= HTTP1_F_CL_FOLDED;
        }
        m->flags |= HTTP1_F_HAS_CL;
        m->content_length = x;
    }
    return HTTP1_ERR_NONE;
}

/* One transfer coding: a token, optionally with parameters (RFC 9112 7.3); chunked takes
 * none and may appear once (RFC 9112 6.1). */
static enum http1_err te_coding(struct http1_msg *m, const uint8_t *e, uint32_t el)
{
    uint32_t k = 0;

    while (k < el && http1_is(e[k], HTTP1_C_TCHAR))
        k++;
    if (k == 0)
        return HTTP1_ERR_TE_INVALID;
    for (uint32_t j = k; j < el; j++)
        if (!http1_is(e[j], HTTP1_C_TCHAR | HTTP1_C_WS) && e[j] != ';' && e[j] != '=')
            return HTTP1_ERR_TE_INVALID;
    if (!CI_EQ(e, k, "chunked")) {
        m->te_chunked_last = false;
        return HTTP1_ERR_NONE;
    }
    if (k < el)
        return HTTP1_ERR_TE_INVALID;
    if (m->te_seen_chunked)
        return HTTP1_ERR_TE_CHUNKED_TWICE; /* RFC 9112 6.1: MUST NOT apply chunked twice */
    m->te_seen_chunked = m->te_chunked_last = true;
    return HTTP1_ERR_NONE;
}

/* Transfer-Encoding: a list of codings; empty elements are ignored (RFC 9110 5.6.1). */
static enum http1_err transfer_encoding(struct http1_msg *m, const uint8_t *v, uint32_t n)
{
    struct list_it it = {v, n, 0};
    const uint8_t *e;
    uint32_t el;
    bool any = false;

    /* RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing. */
    if (m->version_minor == 0)
        return HTTP1_ERR_TE_HTTP10;
    m->flags |= HTTP1_F_HAS_TE;
    while (list_next(&it, &e, &el)) {
        if (el == 0)
            continue;
        enum http1_err err = te_coding(m, e, el);
        if (err)
            return err;
        any = true;
    }
    return any ? HTTP1_ERR_NONE : HTTP1_ERR_TE_INVALID;
}

/* Connection options (RFC 9110 7.6.1): close, keep-alive and upgrade become flags; any other
 * option names a hop-by-hop field and sets HTTP1_F_CONN_OTHER, so that a proxy searches the
 * Connection lines only for messages that have one. */
static void connection(struct http1_msg *m, const uint8_t *v, uint32_t n)
{
    struct list_it it = {v, n, 0};
    const uint8_t *e;
    uint32_t el;

    /* The usual single option first. A value holds no CR (checked), so name_is is exact. */
    if (n == 10 && name_is(v, n, "keep-alive")) {
        m->flags |= HTTP1_F_CONN_KEEP_ALIVE;
        return;
    }
    if (n == 5 && name_is(v, n, "close")) {
        m->flags |= HTTP1_F_CONN_CLOSE;
        return;
    }
    while (list_next(&it, &e, &el)) {
        if (CI_EQ(e, el, "close"))
            m->flags |= HTTP1_F_CONN_CLOSE;
        else if (CI_EQ(e, el, "keep-alive"))
            m->flags |= HTTP1_F_CONN_KEEP_ALIVE;
        else if (CI_EQ(e, el, "upgrade"))
            m->flags |= HTTP1_F_CONN_UPGRADE;
        else if (el)
            m->flags |= HTTP1_F_CONN_OTHER;
    }
}

/* Expect (RFC 9110 10.1.1): only 100-continue is defined; it is ignored in HTTP/1.0. */
static void expect(struct http1_msg *m, const uint8_t *v, uint32_t n)
{
    if (m->is_resp || m->version_minor == 0 || n == 0)
        return;
    if (CI_EQ(v, n, "100-continue"))
        m->flags |= HTTP1_F_EXPECT_CONTINUE;
    else
        m->flags |= HTTP1_F_EXPECT_OTHER;
}

/* Interprets the field just indexed at hdrs[idx]. */
static enum http1_err field_meaning(struct http1_msg *m, const uint8_t *buf, uint32_t idx)
{
    const struct http1_hdr *h = &m->hdrs[idx];
    const uint8_t *v = buf + h->value_off;

    switch ((enum http1_hdr_id)h->id) {
    case HTTP1_H_HOST:
        if (m->is_resp)
            return HTTP1_ERR_NONE;
        if (m->host >= 0)
            return HTTP1_ERR_DUP_HOST; /* RFC 9112 3.2: more than one Host is a 400 */
        m->host = (int32_t)idx;
        return HTTP1_ERR_NONE;
    case HTTP1_H_CONTENT_LENGTH:
        return content_length(m, v, h->value_len);
    case HTTP1_H_TRANSFER_ENCODING:
        return transfer_encoding(m, v, h->value_len);
    case HTTP1_H_CONNECTION:
        connection(m, v, h->value_len);
        return HTTP1_ERR_NONE;
    case HTTP1_H_UPGRADE:
        m->flags |= HTTP1_F_UPGRADE;
        return HTTP1_ERR_NONE;
    case HTTP1_H_EXPECT:
        expect(m, v, h->value_len);
        return HTTP1_ERR_NONE;
    case HTTP1_H_OTHER:
    case HTTP1_H_KEEP_ALIVE:
    case HTTP1_H_TE:
    case HTTP1_H_TRAILER:
    case HTTP1_H_PROXY_CONNECTION:
        break;
    }
    return HTTP1_ERR_NONE;
}

/* Syntax of a field name up to its colon (RFC 9112 5, 5.1, 5.2); returns the colon's offset
 * in *colon. */
static enum http1_err field_name(const uint8_t *buf, uint32_t ls, uint32_t le, uint32_t *colon)
{
    uint32_t i = ls;

    /* RFC 9112 5.2: obs-fold (and whitespace before the first field, 2.2) is refused. */
    if (http1_is(buf[ls], HTTP1_C_WS))
        return HTTP1_ERR_OBS_FOLD;
    while (i < le && http1_is(buf[i], HTTP1_C_TCHAR))
        i++;
    if (i == le)
        return HTTP1_ERR_NO_COLON;
    if (http1_is(buf[i], HTTP1_C_WS)) {
        uint32_t j = i;
        while (j < le && http1_is(buf[j], HTTP1_C_WS))
            j++;
        /* RFC 9112 5.1: whitespace between name and colon MUST be answered with 400. */
        return j < le && buf[j] == ':' ? HTTP1_ERR_SPACE_BEFORE_COLON : HTTP1_ERR_HEADER_NAME;
    }
    if (buf[i] == '\r')
        return HTTP1_ERR_BARE_CR; /* RFC 9112 2.2: bare CR is invalid */
    if (buf[i] != ':' || i == ls)
        return HTTP1_ERR_HEADER_NAME;
    *colon = i;
    return HTTP1_ERR_NONE;
}

#define BYTES(b) (UINT64_C(0x0101010101010101) * (b))

/* Whether one of the 8 bytes in x is a control byte (below 0x20, or DEL). Exact as a
 * boolean: the borrow trick flags a byte below n only when some byte really is below n. */
static bool has_ctl(uint64_t x)
{
    uint64_t del = x ^ BYTES(0x7f);

    return (((x - BYTES(0x20)) & ~x) | ((del - BYTES(0x01)) & ~del)) & BYTES(0x80);
}

/* Checks the bytes of a field value (RFC 9110 5.5: no NUL, CTL or DEL; HTAB is allowed; a CR
 * is a bare CR, RFC 9112 2.2), eight at a time until a word holds a control byte (a tab, or
 * an error), then one by one. */
static enum http1_err value_bytes(const uint8_t *v, uint32_t n)
{
    uint32_t k = 0;

    for (; k + 8 <= n; k += 8) {
        uint64_t x;
        memcpy(&x, v + k, sizeof(x));
        if (has_ctl(x))
            break;
    }
    for (; k < n; k++)
        if (!http1_is(v[k], HTTP1_C_VALUE))
            return v[k] == '\r' ? HTTP1_ERR_BARE_CR : HTTP1_ERR_HEADER_VALUE;
    return HTTP1_ERR_NONE;
}

/* A field line buf[ls..le) (no CRLF): syntax, index entry, meaning. */
static enum http1_err field_line(struct http1_msg *m, const uint8_t *buf, uint32_t ls, uint32_t le)
{
    uint32_t colon = 0, vs, ve = le;
    enum http1_err e = field_name(buf, ls, le, &colon);

    if (e == HTTP1_ERR_NONE)
        e = value_bytes(buf + colon + 1, le - colon - 1);
    if (e)
        return e;
    vs = colon + 1;
    while (vs < ve && http1_is(buf[vs], HTTP1_C_WS))
        vs++;
    while (ve > vs && http1_is(buf[ve - 1], HTTP1_C_WS))
        ve--;
    if (m->nhdrs >= m->max_hdrs)
        return HTTP1_ERR_TOO_MANY_HEADERS;
    struct http1_hdr *h = &m->hdrs[m->nhdrs];
    h->name_off = ls;
    h->name_len = colon - ls;
    h->value_off = vs;
    h->value_len = ve - vs;
    h->id = (uint8_t)hdr_id(buf + ls, colon - ls);
    return field_meaning(m, buf, m->nhdrs++);
}

/* One complete line buf[ls..nl] (nl is its LF). */
static enum http1_err head_line(struct http1_msg *m, const uint8_t *buf, uint32_t ls, uint32_t nl)
{
    uint32_t le = nl - 1;
    enum http1_err e;

    /* RFC 9112 2.2: a recipient MAY accept a bare LF; we forward heads unchanged, so a
     * next hop that disagrees would see other lines: refuse (as for bare CR). */
    if (nl == ls || buf[le] != '\r')
        return HTTP1_ERR_BARE_LF;
    /* RFC 9112 2.2: bare CR is invalid. Field lines find it while checking their bytes. */
    if (m->state == HTTP1_HS_START && le > ls && memchr(buf + ls, '\r', le - ls))
        return HTTP1_ERR_BARE_CR;
    if (m->state == HTTP1_HS_START) {
        if (le == ls)
            return HTTP1_ERR_NONE; /* RFC 9112 2.2: empty lines before a start line */
        m->state = HTTP1_HS_FIELDS;
        return m->is_resp ? http1_status_line(m, buf, ls, le) : http1_req_line(m, buf, ls, le);
    }
    if (le > ls)
        return field_line(m, buf, ls, le);
    e = m->is_resp ? http1_resp_finish(m) : http1_req_finish(m);
    if (e == HTTP1_ERR_NONE) {
        m->state = HTTP1_HS_DONE;
        m->head_len = nl + 1;
    }
    return e;
}

static enum http1_rc head_fail(struct http1_msg *m, enum http1_err e)
{
    m->err = e;
    m->err_off = m->line;
    m->state = HTTP1_HS_ERROR;
    return HTTP1_ERROR;
}

/* The limit crossed by a line that has not ended before offset min(line, head limit). */
static enum http1_err limit_err(const struct http1_msg *m, size_t line_lim, size_t head_lim)
{
    if (line_lim > head_lim)
        return HTTP1_ERR_HEAD_TOO_LONG;
    if (m->state == HTTP1_HS_START && !m->is_resp)
        return HTTP1_ERR_URI_TOO_LONG;
    return HTTP1_ERR_LINE_TOO_LONG;
}

enum http1_rc http1_head_parse(struct http1_msg *m, const uint8_t *buf, size_t len)
{
    if (m->state == HTTP1_HS_DONE)
        return HTTP1_DONE;
    if (m->state == HTTP1_HS_ERROR)
        return HTTP1_ERROR;
    for (;;) {
        size_t line_lim = (size_t)m->line + m->lim.max_line;
        size_t head_lim = m->lim.max_head;
        size_t lim = line_lim < head_lim ? line_lim : head_lim;
        size_t end = len < lim ? len : lim;
        const uint8_t *lf = m->pos < end ? memchr(buf + m->pos, '\n', end - m->pos) : NULL;

        if (!lf) {
            if (len >= lim)
                return head_fail(m, limit_err(m, line_lim, head_lim));
            m->pos = (uint32_t)len;
            return HTTP1_NEED_MORE;
        }
        uint32_t nl = (uint32_t)(lf - buf);
        m->pos = nl + 1;
        enum http1_err e = head_line(m, buf, m->line, nl);
        if (e)
            return head_fail(m, e);
        if (m->state == HTTP1_HS_DONE)
            return HTTP1_DONE;
        m->line = m->pos;
    }
}
