/* Types of the HTTP/1.x response parser used by the HTTP_GET and SSL_GET health checks. */
#ifndef NOSPOF_PROTO_CHECK_HTTP_RESP_T_H
#define NOSPOF_PROTO_CHECK_HTTP_RESP_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest status line or header line kept for parsing; longer header lines are accepted but
 * only their first HTTP_RESP_LINE_MAX bytes are looked at (a longer status line is an error). */
#define HTTP_RESP_LINE_MAX 512
/* Bound on the whole head (status line + headers) and on a trailer section. */
#define HTTP_RESP_HEAD_MAX 65536

enum http_resp_rc {
    HTTP_RESP_NEED_MORE = 0, /* feed more bytes (or call http_resp_eof) */
    HTTP_RESP_DONE,          /* the whole response has been parsed */
    HTTP_RESP_ERROR,         /* malformed; see http_resp.err */
};

enum http_resp_err {
    HTTP_RESP_ERR_NONE = 0,
    HTTP_RESP_ERR_STATUS_LINE, /* not "HTTP/1.x NNN ..." */
    HTTP_RESP_ERR_HEADER,      /* a header line without ':' or a bad Content-Length */
    HTTP_RESP_ERR_TOO_LONG,    /* head or trailer larger than HTTP_RESP_HEAD_MAX */
    HTTP_RESP_ERR_CHUNK,       /* bad chunk size line or missing CRLF after a chunk */
    HTTP_RESP_ERR_TRUNCATED,   /* end of stream before the announced end of the body */
};

/* Parser position (private except where noted). */
enum http_resp_state {
    HTTP_RESP_S_STATUS = 0,
    HTTP_RESP_S_HEADER,
    HTTP_RESP_S_BODY_LEN,   /* Content-Length body */
    HTTP_RESP_S_BODY_EOF,   /* body delimited by the end of the stream */
    HTTP_RESP_S_CHUNK_SIZE, /* chunk size line (extensions ignored) */
    HTTP_RESP_S_CHUNK_DATA,
    HTTP_RESP_S_CHUNK_END, /* the CRLF after a chunk's data */
    HTTP_RESP_S_TRAILER,
    HTTP_RESP_S_DONE,
    HTTP_RESP_S_ERROR,
};

struct http_resp {
    /* results, valid once the head is parsed */
    unsigned status;         /* 100..999 */
    uint8_t version_minor;   /* 0 or 1 (HTTP/1.x) */
    bool chunked;            /* Transfer-Encoding: chunked */
    bool has_length;         /* Content-Length present */
    uint64_t content_length; /* when has_length */
    uint64_t body_bytes;     /* body bytes delivered so far (after de-chunking) */
    enum http_resp_err err;
    /* private */
    enum http_resp_state state;
    uint64_t remaining; /* body or chunk bytes left */
    size_t head_bytes;  /* bytes of head/trailer seen */
    size_t line_len;    /* bytes in line (may exceed what is kept) */
    bool head_done;     /* the final response's head is parsed */
    char line[HTTP_RESP_LINE_MAX];
};

/* What one http_resp_feed call did: used input bytes, and at most one span of body bytes
 * (pointing into the input) that the caller should consume (digest, size bound). */
struct http_resp_out {
    size_t used;
    const uint8_t *body;
    size_t body_len;
};

#endif
