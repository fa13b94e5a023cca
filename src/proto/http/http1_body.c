/* Body framing decoder (RFC 9112 6.3, 7.1): Content-Length, chunked with extensions and
 * trailers, and close-delimited bodies. A byte-wise state machine over the caller's latest
 * input, so it needs no buffer and resumes at any split point; payload runs are reported as
 * spans of the input in one step (chunk data and Content-Length bodies are never walked
 * byte by byte), everything else (size lines, CRLFs, trailers) is framing and is validated
 * as strictly as the head: bare CR or LF, control bytes in extensions, oversized size lines,
 * more than 16 hex digits or sizes from 2^63 are errors. */
#include "http1_priv.h"

enum http1_body_state {
    BS_LENGTH = 0, /* Content-Length payload */
    BS_CLOSE,      /* payload until the connection closes */
    BS_SIZE,       /* first hex digit of a chunk size */
    BS_SIZE_MORE,  /* more digits, extension, or CR */
    BS_EXT_BWS,    /* whitespace after the size: only ';' may follow */
    BS_EXT,        /* chunk extension up to CR */
    BS_SIZE_LF,    /* LF ending the size line */
    BS_DATA,       /* chunk data */
    BS_DATA_CR,    /* CR after the data */
    BS_DATA_LF,    /* LF after the data */
    BS_T_START,    /* start of a trailer line, or the final CRLF */
    BS_T_NAME,     /* trailer field name */
    BS_T_NAME_WS,  /* whitespace after a name */
    BS_T_VALUE,    /* trailer field value */
    BS_T_LF,       /* LF ending a trailer line */
    BS_T_END_LF,   /* LF ending the message */
    BS_DONE,
    BS_ERROR,
};

void http1_body_init(struct http1_body *b, enum http1_body_kind kind, uint64_t length,
                     const struct http1_limits *lim)
{
    static const struct http1_limits def = HTTP1_LIMITS_DEFAULT;

    *b = (struct http1_body){.kind = kind, .lim = lim ? *lim : def, .remaining = length};
    switch (kind) {
    case HTTP1_BODY_NONE:
        b->state = BS_DONE;
        break;
    case HTTP1_BODY_LENGTH:
        b->state = length ? BS_LENGTH : BS_DONE;
        break;
    case HTTP1_BODY_CHUNKED:
        b->state = BS_SIZE;
        break;
    case HTTP1_BODY_CLOSE:
    case HTTP1_BODY_TUNNEL:
        b->state = BS_CLOSE;
        break;
    }
}

bool http1_body_done(const struct http1_body *b)
{
    return b->state == BS_DONE;
}

enum http1_rc http1_body_eof(struct http1_body *b)
{
    if (b->state == BS_CLOSE)
        b->state = BS_DONE;
    if (b->state == BS_DONE)
        return HTTP1_DONE;
    if (b->state != BS_ERROR) {
        b->err = HTTP1_ERR_TRUNCATED;
        b->state = BS_ERROR;
    }
    return HTTP1_ERROR;
}

/* Adds one hex digit to the chunk size (RFC 9112 7.1: chunk-size = 1*HEXDIG). */
static enum http1_err size_digit(struct http1_body *b, uint8_t c)
{
    uint64_t d = (uint64_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);

    if (++b->digits > HTTP1_CHUNK_DIGITS_MAX)
        return HTTP1_ERR_CHUNK_DIGITS;
    if (b->remaining > (HTTP1_LENGTH_MAX - d) / 16)
        return HTTP1_ERR_CHUNK_OVERFLOW;
    b->remaining = b->remaining * 16 + d;
    b->state = BS_SIZE_MORE;
    return HTTP1_ERR_NONE;
}

/* The LF closing a size line: data follows, or the trailer section after the last chunk. */
static void size_line_end(struct http1_body *b)
{
    b->chunks++;
    b->line_len = 0;
    b->state = b->remaining ? BS_DATA : BS_T_START;
}

/* One byte of a chunk-size line (RFC 9112 7.1, 7.1.1). */
static enum http1_err size_byte(struct http1_body *b, uint8_t c)
{
    if (++b->line_len > b->lim.max_line)
        return HTTP1_ERR_LINE_TOO_LONG;
    if (c == '\n' && b->state != BS_SIZE_LF)
        return HTTP1_ERR_BARE_LF;
    if (b->state == BS_SIZE)
        return http1_is(c, HTTP1_C_HEX) ? size_digit(b, c) : HTTP1_ERR_CHUNK_SIZE;
    if (b->state == BS_SIZE_MORE) {
        if (http1_is(c, HTTP1_C_HEX))
            return size_digit(b, c);
        if (c != ';' && c != '\r' && !http1_is(c, HTTP1_C_WS))
            return HTTP1_ERR_CHUNK_SIZE;
        b->state = c == ';' ? BS_EXT : c == '\r' ? BS_SIZE_LF : BS_EXT_BWS;
        return HTTP1_ERR_NONE;
    }
    if (b->state == BS_EXT_BWS) { /* chunk-ext = *( BWS ";" ... ): only ';' may follow */
        if (c == ';')
            b->state = BS_EXT;
        return c == ';' || http1_is(c, HTTP1_C_WS) ? HTTP1_ERR_NONE : HTTP1_ERR_CHUNK_EXT;
    }
    if (b->state == BS_EXT) { /* no CTL; a quoted string cannot hide a CR or LF */
        if (c == '\r')
            b->state = BS_SIZE_LF;
        return c == '\r' || http1_is(c, HTTP1_C_VALUE) ? HTTP1_ERR_NONE : HTTP1_ERR_CHUNK_EXT;
    }
    if (c != '\n') /* BS_SIZE_LF */
        return HTTP1_ERR_BARE_CR;
    size_line_end(b);
    return HTTP1_ERR_NONE;
}

/* The CRLF after chunk data (RFC 9112 7.1: chunk = chunk-size ... CRLF chunk-data CRLF). */
static enum http1_err data_end_byte(struct http1_body *b, uint8_t c)
{
    if (b->state == BS_DATA_CR) {
        if (c == '\r') {
            b->state = BS_DATA_LF;
            return HTTP1_ERR_NONE;
        }
        return c == '\n' ? HTTP1_ERR_BARE_LF : HTTP1_ERR_CHUNK_CRLF;
    }
    if (c != '\n')
        return HTTP1_ERR_BARE_CR;
    b->state = BS_SIZE;
    b->digits = 0;
    b->line_len = 0;
    return HTTP1_ERR_NONE;
}

/* First byte of a trailer line: a name, or the CR of the final empty line. */
static enum http1_err trailer_start(struct http1_body *b, uint8_t c)
{
    if (c == '\r')
        b->state = BS_T_END_LF;
    else if (http1_is(c, HTTP1_C_TCHAR))
        b->state = BS_T_NAME;
    else if (c == '\n')
        return HTTP1_ERR_BARE_LF;
    else
        return http1_is(c, HTTP1_C_WS) ? HTTP1_ERR_OBS_FOLD : HTTP1_ERR_HEADER_NAME;
    return HTTP1_ERR_NONE;
}

/* A trailer field name (RFC 9112 7.1.2: trailer fields follow the field-line rules). */
static enum http1_err trailer_name(struct http1_body *b, uint8_t c)
{
    if (c == ':') {
        if (b->state == BS_T_NAME_WS)
            return HTTP1_ERR_SPACE_BEFORE_COLON; /* RFC 9112 5.1 */
        b->state = BS_T_VALUE;
        return HTTP1_ERR_NONE;
    }
    if (http1_is(c, HTTP1_C_WS)) {
        b->state = BS_T_NAME_WS;
        return HTTP1_ERR_NONE;
    }
    if (b->state == BS_T_NAME && http1_is(c, HTTP1_C_TCHAR))
        return HTTP1_ERR_NONE;
    if (c == '\n')
        return HTTP1_ERR_BARE_LF;
    return c == '\r' && b->state == BS_T_NAME ? HTTP1_ERR_NO_COLON : HTTP1_ERR_HEADER_NAME;
}

/* One byte of the trailer section, bounded like a head. */
static enum http1_err trailer_byte(struct http1_body *b, uint8_t c)
{
    if (++b->trailer_len > b->lim.max_head)
        return HTTP1_ERR_TRAILER_TOO_LONG;
    if (++b->line_len > b->lim.max_line)
        return HTTP1_ERR_LINE_TOO_LONG;
    if (b->state == BS_T_START)
        return trailer_start(b, c);
    if (b->state == BS_T_NAME || b->state == BS_T_NAME_WS)
        return trailer_name(b, c);
    if (b->state == BS_T_VALUE) {
        if (c == '\r')
            b->state = BS_T_LF;
        else if (c == '\n')
            return HTTP1_ERR_BARE_LF;
        return c == '\r' || http1_is(c, HTTP1_C_VALUE) ? HTTP1_ERR_NONE : HTTP1_ERR_HEADER_VALUE;
    }
    if (c != '\n') /* BS_T_LF, BS_T_END_LF */
        return HTTP1_ERR_BARE_CR;
    b->state = b->state == BS_T_LF ? BS_T_START : BS_DONE;
    b->line_len = 0;
    return HTTP1_ERR_NONE;
}

/* One framing byte in any non-payload state. */
static enum http1_err framing_byte(struct http1_body *b, uint8_t c)
{
    if (b->state <= BS_SIZE_LF)
        return size_byte(b, c);
    if (b->state <= BS_DATA_LF)
        return data_end_byte(b, c);
    return trailer_byte(b, c);
}

/* Payload bytes at p[i..len): records a span and returns how many were taken. */
static size_t payload(struct http1_body *b, size_t i, size_t len, struct http1_body_out *out)
{
    size_t n = len - i;

    if (b->state != BS_CLOSE && b->remaining < n)
        n = (size_t)b->remaining;
    if (out->spans && out->max_spans)
        out->spans[out->nspans++] = (struct http1_span){.off = i, .len = n};
    b->payload += n;
    if (b->state == BS_CLOSE)
        return n;
    b->remaining -= n;
    if (b->remaining == 0)
        b->state = b->state == BS_LENGTH ? BS_DONE : BS_DATA_CR;
    return n;
}

static bool is_payload(uint8_t state)
{
    return state == BS_LENGTH || state == BS_CLOSE || state == BS_DATA;
}

enum http1_rc http1_body_feed(struct http1_body *b, const uint8_t *p, size_t len,
                              struct http1_body_out *out)
{
    size_t i = 0;
    bool report = out->spans && out->max_spans;

    out->nspans = 0;
    while (i < len && b->state != BS_DONE && b->state != BS_ERROR) {
        if (is_payload(b->state)) {
            if (report && out->nspans == out->max_spans)
                break;
            i += payload(b, i, len, out);
            continue;
        }
        enum http1_err e = framing_byte(b, p[i++]);
        if (e) {
            b->err = e;
            b->state = BS_ERROR;
        }
    }
    out->used = i;
    if (b->state == BS_DONE)
        return HTTP1_DONE;
    return b->state == BS_ERROR ? HTTP1_ERROR : HTTP1_NEED_MORE;
}
