/* HTTP/1.x response heads: the status line and the response framing rules of RFC 9112 6.3,
 * which depend on the request's method (HEAD, CONNECT) and on the status (1xx, 204, 304).
 * The line engine and field rules are shared with requests (http1_head.c). */
#include "http1_priv.h"

#include <string.h>

void http1_resp_init(struct http1_msg *m, struct http1_hdr *hdrs, uint32_t max_hdrs,
                     const struct http1_limits *lim, enum http1_method req)
{
    http1_head_init(m, hdrs, max_hdrs, lim, true);
    m->method = req;
}

enum http1_rc http1_resp_parse(struct http1_msg *m, const uint8_t *buf, size_t len)
{
    return http1_head_parse(m, buf, len);
}

/* status-line = HTTP-version SP status-code SP [reason-phrase] (RFC 9112 4); a missing
 * SP after the code is tolerated, as the reason is optional. */
enum http1_err http1_status_line(struct http1_msg *m, const uint8_t *buf, uint32_t ls, uint32_t le)
{
    const uint8_t *s = buf + ls;
    uint32_t n = le - ls;

    m->start = ls;
    if (n < 8 || memcmp(s, "HTTP/", 5) != 0 || !http1_is(s[5], HTTP1_C_DIGIT) || s[6] != '.' ||
        !http1_is(s[7], HTTP1_C_DIGIT))
        return HTTP1_ERR_STATUS_LINE;
    if (s[5] != '1' || (s[7] != '0' && s[7] != '1'))
        return HTTP1_ERR_VERSION;
    m->version_minor = (uint8_t)(s[7] - '0');
    if (n < 12 || s[8] != ' ' || !http1_is(s[9], HTTP1_C_DIGIT) ||
        !http1_is(s[10], HTTP1_C_DIGIT) || !http1_is(s[11], HTTP1_C_DIGIT))
        return HTTP1_ERR_STATUS_LINE;
    m->status = (uint16_t)((s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0'));
    if (m->status < 100 || m->status > 599)
        return HTTP1_ERR_STATUS; /* RFC 9110 15: codes are 100..599 */
    m->reason_off = le;
    if (n == 12)
        return HTTP1_ERR_NONE;
    if (s[12] != ' ')
        return HTTP1_ERR_STATUS_LINE;
    for (uint32_t i = 13; i < n; i++)
        if (!http1_is(s[i], HTTP1_C_VALUE))
            return HTTP1_ERR_STATUS_LINE;
    m->reason_off = ls + 13;
    m->reason_len = n - 13;
    return HTTP1_ERR_NONE;
}

/* How the body ends when there is one (RFC 9112 6.3 items 4, 5, 8). */
static enum http1_body_kind resp_framing(const struct http1_msg *m)
{
    if (m->flags & HTTP1_F_HAS_TE) /* item 4: not chunked last: read until close */
        return m->te_chunked_last ? HTTP1_BODY_CHUNKED : HTTP1_BODY_CLOSE;
    if (m->flags & HTTP1_F_HAS_CL)
        return HTTP1_BODY_LENGTH;
    return HTTP1_BODY_CLOSE;
}

enum http1_err http1_resp_finish(struct http1_msg *m)
{
    /* RFC 9112 6.3 item 3: both "ought to be handled as an error"; the head is forwarded
     * unchanged, so the Content-Length cannot be removed: refuse (the proxy sends 502). */
    if ((m->flags & HTTP1_F_HAS_TE) && (m->flags & HTTP1_F_HAS_CL))
        return HTTP1_ERR_CL_AND_TE;
    if ((m->flags & HTTP1_F_HAS_TE) && m->te_chunked_last)
        m->flags |= HTTP1_F_CHUNKED;
    if (m->status == 101)
        m->body = HTTP1_BODY_TUNNEL; /* RFC 9110 15.2.2: the new protocol follows */
    else if (m->status < 200 || m->status == 204 || m->status == 304 || m->method == HTTP1_M_HEAD)
        m->body = HTTP1_BODY_NONE; /* RFC 9112 6.3 item 1 */
    else if (m->method == HTTP1_M_CONNECT && m->status < 300)
        m->body = HTTP1_BODY_TUNNEL; /* RFC 9112 6.3 item 2 */
    else
        m->body = resp_framing(m);
    return HTTP1_ERR_NONE;
}
