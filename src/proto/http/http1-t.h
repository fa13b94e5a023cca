/* Types of the HTTP/1.x message parser (proto/http): the head parser for requests and
 * responses, its header index, its limits and error reasons, and the body framing decoder.
 * See http1.h for the calls and http1_req.c for the theory of operation.
 *
 * Ownership: every structure here is caller-owned (stack, connection object or pool); the
 * parser never allocates. Offsets in struct http1_msg and struct http1_hdr count from the
 * first byte of the caller's buffer (buf[0] is the first byte of the message). */
#ifndef NOSPOF_PROTO_HTTP_HTTP1_T_H
#define NOSPOF_PROTO_HTTP_HTTP1_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Default bounds (struct http1_limits); a NULL limits pointer means these. */
#define HTTP1_MAX_LINE_DEFAULT    8192u  /* one start line or field line, CRLF included */
#define HTTP1_MAX_HEAD_DEFAULT    65536u /* the whole head (or trailer section) */
#define HTTP1_MAX_HEADERS_DEFAULT 100u   /* field lines in one head */
#define HTTP1_LIMITS_DEFAULT                                                                       \
    {                                                                                              \
        HTTP1_MAX_LINE_DEFAULT, HTTP1_MAX_HEAD_DEFAULT, HTTP1_MAX_HEADERS_DEFAULT                  \
    }

/* Chunk sizes have at most this many hex digits (leading zeros count). */
#define HTTP1_CHUNK_DIGITS_MAX 16u
/* Largest Content-Length or chunk size accepted (2^63 - 1). */
#define HTTP1_LENGTH_MAX UINT64_C(0x7fffffffffffffff)

struct http1_limits {
    uint32_t max_line;    /* bytes of one line, CRLF included (request line: 414 beyond) */
    uint32_t max_head;    /* bytes of the head from buf[0] through the empty line */
    uint32_t max_headers; /* field lines; also bounded by the caller's index array */
};

/* Result of an incremental call (DESIGN.md 7). */
enum http1_rc {
    HTTP1_NEED_MORE = 0, /* give more bytes */
    HTTP1_DONE,          /* the head (or the body) is complete */
    HTTP1_ERROR,         /* malformed or over a limit; see the err field */
};

/* Why a message was refused. Each names one defence; http1_err_status() maps it to the
 * status a proxy answers a client with (a bad response is a 502 for the client). */
enum http1_err {
    HTTP1_ERR_NONE = 0,
    /* start line */
    HTTP1_ERR_METHOD,       /* method is not a token followed by one SP */
    HTTP1_ERR_TARGET,       /* request-target has a bad byte or the wrong form for the method */
    HTTP1_ERR_REQUEST_LINE, /* not "method SP target SP version" (extra/missing SP) */
    HTTP1_ERR_VERSION,      /* not HTTP/1.0 or HTTP/1.1 (505) */
    HTTP1_ERR_STATUS_LINE,  /* not "HTTP/1.x SP 3DIGIT [SP reason]" */
    HTTP1_ERR_STATUS,       /* status code outside 100..599 */
    /* sizes */
    HTTP1_ERR_URI_TOO_LONG,     /* request line over max_line (414) */
    HTTP1_ERR_LINE_TOO_LONG,    /* field, status or chunk line over max_line (431) */
    HTTP1_ERR_HEAD_TOO_LONG,    /* head over max_head (431) */
    HTTP1_ERR_TOO_MANY_HEADERS, /* more than max_headers field lines (431) */
    HTTP1_ERR_TRAILER_TOO_LONG, /* trailer section over max_head */
    /* line syntax (RFC 9112 2.2, 5) */
    HTTP1_ERR_BARE_LF,            /* LF not preceded by CR */
    HTTP1_ERR_BARE_CR,            /* CR not followed by LF */
    HTTP1_ERR_OBS_FOLD,           /* a field line starts with SP/HTAB (obs-fold) */
    HTTP1_ERR_HEADER_NAME,        /* empty name or a byte outside tchar */
    HTTP1_ERR_SPACE_BEFORE_COLON, /* whitespace between field name and colon */
    HTTP1_ERR_NO_COLON,           /* field line without a colon */
    HTTP1_ERR_HEADER_VALUE,       /* NUL, control byte or DEL in a field value */
    /* request semantics (RFC 9112 3.2) */
    HTTP1_ERR_NO_HOST,  /* HTTP/1.1 request without Host */
    HTTP1_ERR_DUP_HOST, /* more than one Host field line */
    /* framing (RFC 9112 6.1, 6.3; RFC 9110 8.6) */
    HTTP1_ERR_CL_INVALID,       /* Content-Length element not 1*DIGIT */
    HTTP1_ERR_CL_OVERFLOW,      /* Content-Length above HTTP1_LENGTH_MAX */
    HTTP1_ERR_CL_DIFFERENT,     /* Content-Length values that differ */
    HTTP1_ERR_CL_AND_TE,        /* Content-Length together with Transfer-Encoding */
    HTTP1_ERR_TE_INVALID,       /* Transfer-Encoding without a valid coding token */
    HTTP1_ERR_TE_NOT_CHUNKED,   /* request whose final transfer coding is not chunked */
    HTTP1_ERR_TE_CHUNKED_TWICE, /* chunked applied more than once */
    HTTP1_ERR_TE_HTTP10,        /* Transfer-Encoding in an HTTP/1.0 message */
    HTTP1_ERR_CHUNK_SIZE,       /* chunk size empty or not hex */
    HTTP1_ERR_CHUNK_OVERFLOW,   /* chunk size above HTTP1_LENGTH_MAX */
    HTTP1_ERR_CHUNK_DIGITS,     /* more than HTTP1_CHUNK_DIGITS_MAX hex digits */
    HTTP1_ERR_CHUNK_EXT,        /* control byte or stray text in a chunk extension */
    HTTP1_ERR_CHUNK_CRLF,       /* chunk data not followed by CRLF */
    HTTP1_ERR_TRUNCATED,        /* end of stream inside a delimited body */
};
#define HTTP1_ERR_COUNT (HTTP1_ERR_TRUNCATED + 1)

/* Methods the parser recognises (RFC 9110 9.3, RFC 5789); everything else is OTHER and
 * keeps its bytes at buf[start .. start+method_len). */
enum http1_method {
    HTTP1_M_OTHER = 0,
    HTTP1_M_GET,
    HTTP1_M_HEAD,
    HTTP1_M_POST,
    HTTP1_M_PUT,
    HTTP1_M_DELETE,
    HTTP1_M_CONNECT,
    HTTP1_M_OPTIONS,
    HTTP1_M_TRACE,
    HTTP1_M_PATCH,
};

/* Form of the request-target (RFC 9112 3.2). */
enum http1_form {
    HTTP1_FORM_NONE = 0,  /* responses */
    HTTP1_FORM_ORIGIN,    /* "/path?query" */
    HTTP1_FORM_ABSOLUTE,  /* "http://host/path" (proxies; Host is then ignored) */
    HTTP1_FORM_AUTHORITY, /* "host:port", CONNECT only */
    HTTP1_FORM_ASTERISK,  /* "*", OPTIONS only */
};

/* How the message body is delimited (RFC 9112 6.3). */
enum http1_body_kind {
    HTTP1_BODY_NONE = 0, /* no body: the message ends with its head */
    HTTP1_BODY_LENGTH,   /* content_length bytes */
    HTTP1_BODY_CHUNKED,  /* chunked transfer coding, then trailers */
    HTTP1_BODY_CLOSE,    /* response body runs to the end of the connection */
    HTTP1_BODY_TUNNEL,   /* 101 or a 2xx to CONNECT: raw bytes both ways from here */
};

/* Field names the parser recognises (id of struct http1_hdr); hop-by-hop ones included so
 * a proxy can find them without comparing names again. */
enum http1_hdr_id {
    HTTP1_H_OTHER = 0,
    HTTP1_H_HOST,
    HTTP1_H_CONTENT_LENGTH,
    HTTP1_H_TRANSFER_ENCODING,
    HTTP1_H_CONNECTION,
    HTTP1_H_UPGRADE,
    HTTP1_H_EXPECT,
    HTTP1_H_KEEP_ALIVE,
    HTTP1_H_TE,
    HTTP1_H_TRAILER,
    HTTP1_H_PROXY_CONNECTION,
};

/* Message flags (struct http1_msg.flags). */
#define HTTP1_F_CONN_CLOSE      (1u << 0)  /* Connection: close */
#define HTTP1_F_CONN_KEEP_ALIVE (1u << 1)  /* Connection: keep-alive */
#define HTTP1_F_CONN_UPGRADE    (1u << 2)  /* Connection: upgrade */
#define HTTP1_F_UPGRADE         (1u << 3)  /* an Upgrade field is present */
#define HTTP1_F_EXPECT_CONTINUE (1u << 4)  /* Expect: 100-continue in an HTTP/1.1 request */
#define HTTP1_F_EXPECT_OTHER    (1u << 5)  /* another expectation (a server may answer 417) */
#define HTTP1_F_HAS_CL          (1u << 6)  /* Content-Length present (content_length valid) */
#define HTTP1_F_HAS_TE          (1u << 7)  /* Transfer-Encoding present */
#define HTTP1_F_CHUNKED         (1u << 8)  /* chunked is the final transfer coding */
#define HTTP1_F_CL_FOLDED       (1u << 9)  /* identical Content-Length values were folded */
#define HTTP1_F_CONN_OTHER      (1u << 10) /* a Connection option naming another field */

/* One field line: name and value (OWS trimmed) as offsets into the caller's buffer. */
struct http1_hdr {
    uint32_t name_off;
    uint32_t name_len;
    uint32_t value_off;
    uint32_t value_len;
    uint8_t id; /* enum http1_hdr_id */
};

/* A parsed head. Public fields are valid once the parse returned DONE (err on ERROR). */
struct http1_msg {
    /* start line */
    uint32_t start;           /* offset of the start line (after skipped empty lines) */
    uint32_t head_len;        /* bytes from buf[0] through the empty line ending the head */
    uint8_t version_minor;    /* 0 or 1 */
    enum http1_method method; /* request: parsed method; response: the request's method */
    uint32_t method_len;      /* request: method bytes at buf[start] */
    enum http1_form form;     /* request: form of the target */
    uint32_t target_off;      /* request-target */
    uint32_t target_len;
    uint32_t authority_off; /* absolute- or authority-form: the authority, else 0/0 */
    uint32_t authority_len;
    uint16_t status;     /* response: 100..599 */
    uint32_t reason_off; /* response: reason phrase (may be empty) */
    uint32_t reason_len;
    /* fields and framing */
    uint32_t flags;            /* HTTP1_F_* */
    enum http1_body_kind body; /* how the body is delimited */
    uint64_t content_length;   /* when HTTP1_F_HAS_CL */
    int32_t host;              /* index of the Host field line, -1 when none */
    uint32_t nhdrs;            /* entries used in hdrs */
    struct http1_hdr *hdrs;    /* caller's index array */
    enum http1_err err;        /* reason when ERROR */
    uint32_t err_off;          /* offset of the line holding the error */
    /* private */
    struct http1_limits lim;
    uint32_t max_hdrs; /* min(caller array, lim.max_headers) */
    uint32_t pos;      /* bytes scanned so far */
    uint32_t line;     /* offset of the current line */
    uint8_t state;     /* enum http1_head_state (http1_priv.h) */
    bool is_resp;
    bool te_seen_chunked; /* chunked appeared in Transfer-Encoding */
    bool te_chunked_last; /* ... and is the last coding seen so far */
};

/* A payload byte range inside the input of one http1_body_feed call. */
struct http1_span {
    size_t off;
    size_t len;
};

/* What one http1_body_feed call did. The caller sets spans/max_spans (spans may be NULL
 * when it only needs to know where the message ends); the call sets used and nspans. */
struct http1_body_out {
    struct http1_span *spans; /* in: array for payload ranges, or NULL */
    size_t max_spans;         /* in: its capacity */
    size_t nspans;            /* out: ranges written */
    size_t used;              /* out: input bytes that belong to this message */
};

/* Body framing decoder state. */
struct http1_body {
    enum http1_body_kind kind;
    enum http1_err err;
    uint64_t payload; /* payload bytes seen so far (after de-chunking) */
    uint64_t chunks;  /* chunks seen, the last (empty) one included */
    /* private */
    struct http1_limits lim;
    uint64_t remaining; /* bytes left in the body or the current chunk */
    uint32_t line_len;  /* bytes of the current chunk-size or trailer line */
    uint32_t trailer_len;
    uint8_t digits; /* hex digits of the current chunk size */
    uint8_t state;  /* enum http1_body_state (http1_body.c) */
};

#endif
