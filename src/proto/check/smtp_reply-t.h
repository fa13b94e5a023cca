/* Types of the SMTP reply parser used by SMTP_CHECK. */
#ifndef NOSPOF_PROTO_CHECK_SMTP_REPLY_T_H
#define NOSPOF_PROTO_CHECK_SMTP_REPLY_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 5321 section 4.5.3.1.5: a reply line is at most 512 octets with its CRLF. */
#define SMTP_LINE_MAX 512
/* A reply longer than this many lines is refused (a peer that never ends its reply). */
#define SMTP_LINES_MAX 64
/* Bytes of the first line's text kept for logs. */
#define SMTP_TEXT_MAX 64

enum smtp_reply_rc {
    SMTP_REPLY_NEED_MORE = 0,
    SMTP_REPLY_DONE,
    SMTP_REPLY_ERROR, /* not "DDD-text" / "DDD text", codes differ, or too long */
};

struct smtp_reply {
    unsigned code;            /* valid after DONE */
    char text[SMTP_TEXT_MAX]; /* first line's text, NUL-terminated, truncated */
    /* private */
    unsigned lines;
    size_t line_len;
    char head[4]; /* first four bytes of the current line */
    size_t text_len;
    bool done, error;
};

#endif
