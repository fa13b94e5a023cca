/* Small pure helpers around a parsed head: keep-alive and interim predicates, header
 * lookup in the index, method properties (RFC 9110 9.2) and error names and statuses. */
#include "http1_priv.h"

bool http1_keep_alive(const struct http1_msg *m)
{
    if (m->flags & HTTP1_F_CONN_CLOSE)
        return false;
    if (m->body == HTTP1_BODY_CLOSE || m->body == HTTP1_BODY_TUNNEL)
        return false;
    /* RFC 9112 9.3: 1.1 persists by default, 1.0 only with keep-alive. */
    return m->version_minor >= 1 || (m->flags & HTTP1_F_CONN_KEEP_ALIVE);
}

bool http1_resp_interim(const struct http1_msg *m)
{
    return m->is_resp && m->status >= 100 && m->status < 200 && m->status != 101;
}

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

int http1_find_header(const struct http1_msg *m, const uint8_t *buf, const char *name, size_t len,
                      uint32_t from)
{
    for (uint32_t i = from; i < m->nhdrs; i++) {
        const struct http1_hdr *h = &m->hdrs[i];
        size_t k = 0;
        if (h->name_len != len)
            continue;
        while (k < len && lower(buf[h->name_off + k]) == lower((uint8_t)name[k]))
            k++;
        if (k == len)
            return (int)i;
    }
    return -1;
}

int http1_find_id(const struct http1_msg *m, enum http1_hdr_id id, uint32_t from)
{
    for (uint32_t i = from; i < m->nhdrs; i++)
        if (m->hdrs[i].id == (uint8_t)id)
            return (int)i;
    return -1;
}

bool http1_method_idempotent(enum http1_method m)
{
    /* RFC 9110 9.2.2: PUT, DELETE and the safe methods. */
    return http1_method_safe(m) || m == HTTP1_M_PUT || m == HTTP1_M_DELETE;
}

bool http1_method_safe(enum http1_method m)
{
    /* RFC 9110 9.2.1 */
    return m == HTTP1_M_GET || m == HTTP1_M_HEAD || m == HTTP1_M_OPTIONS || m == HTTP1_M_TRACE;
}

const char *http1_method_name(enum http1_method m)
{
    switch (m) {
    case HTTP1_M_GET:
        return "GET";
    case HTTP1_M_HEAD:
        return "HEAD";
    case HTTP1_M_POST:
        return "POST";
    case HTTP1_M_PUT:
        return "PUT";
    case HTTP1_M_DELETE:
        return "DELETE";
    case HTTP1_M_CONNECT:
        return "CONNECT";
    case HTTP1_M_OPTIONS:
        return "OPTIONS";
    case HTTP1_M_TRACE:
        return "TRACE";
    case HTTP1_M_PATCH:
        return "PATCH";
    case HTTP1_M_OTHER:
        break;
    }
    return "";
}

const char *http1_err_name(enum http1_err e)
{
    static const char *const names[HTTP1_ERR_COUNT] = {
        [HTTP1_ERR_NONE] = "none",
        [HTTP1_ERR_METHOD] = "method",
        [HTTP1_ERR_TARGET] = "target",
        [HTTP1_ERR_REQUEST_LINE] = "request_line",
        [HTTP1_ERR_VERSION] = "version",
        [HTTP1_ERR_STATUS_LINE] = "status_line",
        [HTTP1_ERR_STATUS] = "status",
        [HTTP1_ERR_URI_TOO_LONG] = "uri_too_long",
        [HTTP1_ERR_LINE_TOO_LONG] = "line_too_long",
        [HTTP1_ERR_HEAD_TOO_LONG] = "head_too_long",
        [HTTP1_ERR_TOO_MANY_HEADERS] = "too_many_headers",
        [HTTP1_ERR_TRAILER_TOO_LONG] = "trailer_too_long",
        [HTTP1_ERR_BARE_LF] = "bare_lf",
        [HTTP1_ERR_BARE_CR] = "bare_cr",
        [HTTP1_ERR_OBS_FOLD] = "obs_fold",
        [HTTP1_ERR_HEADER_NAME] = "header_name",
        [HTTP1_ERR_SPACE_BEFORE_COLON] = "space_before_colon",
        [HTTP1_ERR_NO_COLON] = "no_colon",
        [HTTP1_ERR_HEADER_VALUE] = "header_value",
        [HTTP1_ERR_NO_HOST] = "no_host",
        [HTTP1_ERR_DUP_HOST] = "dup_host",
        [HTTP1_ERR_CL_INVALID] = "cl_invalid",
        [HTTP1_ERR_CL_OVERFLOW] = "cl_overflow",
        [HTTP1_ERR_CL_DIFFERENT] = "cl_different",
        [HTTP1_ERR_CL_AND_TE] = "cl_and_te",
        [HTTP1_ERR_TE_INVALID] = "te_invalid",
        [HTTP1_ERR_TE_NOT_CHUNKED] = "te_not_chunked",
        [HTTP1_ERR_TE_CHUNKED_TWICE] = "te_chunked_twice",
        [HTTP1_ERR_TE_HTTP10] = "te_http10",
        [HTTP1_ERR_CHUNK_SIZE] = "chunk_size",
        [HTTP1_ERR_CHUNK_OVERFLOW] = "chunk_overflow",
        [HTTP1_ERR_CHUNK_DIGITS] = "chunk_digits",
        [HTTP1_ERR_CHUNK_EXT] = "chunk_ext",
        [HTTP1_ERR_CHUNK_CRLF] = "chunk_crlf",
        [HTTP1_ERR_TRUNCATED] = "truncated",
    };
    return (unsigned)e < HTTP1_ERR_COUNT && names[e] ? names[e] : "?";
}

unsigned http1_err_status(enum http1_err e)
{
    if (e == HTTP1_ERR_URI_TOO_LONG)
        return 414; /* RFC 9112 3: request line longer than the server parses */
    if (e == HTTP1_ERR_LINE_TOO_LONG || e == HTTP1_ERR_HEAD_TOO_LONG ||
        e == HTTP1_ERR_TOO_MANY_HEADERS || e == HTTP1_ERR_TRAILER_TOO_LONG)
        return 431; /* RFC 6585 5 */
    if (e == HTTP1_ERR_VERSION)
        return 505; /* RFC 9110 15.6.6 */
    return 400;
}
