/* SMTP reply parser (see smtp_reply.h). Lines end with LF (a CR before it is ignored, RFC
 * 5321 section 2.3.8 requires CRLF but bare LF costs nothing to accept). The code of every
 * line of a multiline reply must be the same (RFC 5321 section 4.2.1). */
#include "smtp_reply.h"

#include <string.h>

void smtp_reply_init(struct smtp_reply *r)
{
    memset(r, 0, sizeof(*r));
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A complete line: its first four bytes are in r->head. */
static void on_line(struct smtp_reply *r)
{
    size_t n = r->line_len;
    unsigned code;

    if (n < 3 || !is_digit(r->head[0]) || !is_digit(r->head[1]) || !is_digit(r->head[2]) ||
        (n > 3 && r->head[3] != ' ' && r->head[3] != '-') || r->head[0] < '2' || r->head[0] > '5') {
        r->error = true; /* RFC 5321 section 4.2: Reply-code = %x32-35 %x30-35 %x30-39 */
        return;
    }
    code = (unsigned)((r->head[0] - '0') * 100 + (r->head[1] - '0') * 10 + (r->head[2] - '0'));
    if (r->lines > 0 && code != r->code) {
        r->error = true;
        return;
    }
    r->code = code;
    r->lines++;
    if (n == 3 || r->head[3] == ' ')
        r->done = true;
    else if (r->lines >= SMTP_LINES_MAX)
        r->error = true;
    r->line_len = 0;
}

static void add_byte(struct smtp_reply *r, char c)
{
    if (c == '\r')
        return;
    if (r->line_len < 4)
        r->head[r->line_len] = c;
    else if (r->lines == 0 && r->text_len + 1 < SMTP_TEXT_MAX)
        r->text[r->text_len++] = c;
    if (++r->line_len > SMTP_LINE_MAX)
        r->error = true;
}

enum smtp_reply_rc smtp_reply_feed(struct smtp_reply *r, const uint8_t *buf, size_t len,
                                   size_t *used)
{
    size_t i = 0;

    while (i < len && !r->done && !r->error) {
        char c = (char)buf[i++];
        if (c == '\n')
            on_line(r);
        else
            add_byte(r, c);
    }
    *used = i;
    if (r->error)
        return SMTP_REPLY_ERROR;
    return r->done ? SMTP_REPLY_DONE : SMTP_REPLY_NEED_MORE;
}
