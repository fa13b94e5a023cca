/* Emit-only JSON writer (RFC 8259). One growable buffer, a bit per nesting level recording
 * whether a separator is due, and a flag for "value after key". */
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void json_w_init(struct json_w *w)
{
    memset(w, 0, sizeof(*w));
}

void json_w_free(struct json_w *w)
{
    if (!w)
        return;
    free(w->buf);
    json_w_init(w);
}

/* Makes room for n more bytes plus the terminating NUL. */
static void reserve(struct json_w *w, size_t n)
{
    size_t cap;

    if (w->len + n + 1 <= w->cap)
        return;
    cap = w->cap ? w->cap : 256;
    while (cap < w->len + n + 1)
        cap *= 2;
    w->buf = realloc(w->buf, cap);
    if (!w->buf)
        abort(); /* out of memory is fatal (DESIGN.md 7) */
    w->cap = cap;
}

static void put(struct json_w *w, const char *s, size_t n)
{
    reserve(w, n);
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void putc_(struct json_w *w, char c)
{
    put(w, &c, 1);
}

char *json_w_take(struct json_w *w, size_t *len)
{
    char *s;

    reserve(w, 0);
    w->buf[w->len] = '\0';
    s = w->buf;
    if (len)
        *len = w->len;
    json_w_init(w);
    return s;
}

const char *json_w_cstr(const struct json_w *w)
{
    return w->buf ? w->buf : "";
}

/* Writes the separator a new member or element needs at the current depth. */
static void before_item(struct json_w *w)
{
    uint64_t bit;

    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth == 0)
        return;
    bit = UINT64_C(1) << (w->depth - 1);
    if (w->has_items & bit)
        putc_(w, ',');
    w->has_items |= bit;
}

static void open_(struct json_w *w, char c)
{
    before_item(w);
    if (w->depth >= JSON_MAX_DEPTH)
        abort(); /* deeper nesting is a caller bug */
    putc_(w, c);
    w->depth++;
    w->has_items &= ~(UINT64_C(1) << (w->depth - 1));
}

static void close_(struct json_w *w, char c)
{
    if (w->depth == 0 || w->after_key)
        abort(); /* nothing open, or a key without its value: a caller bug */
    w->depth--;
    putc_(w, c);
}

void json_obj_begin(struct json_w *w)
{
    open_(w, '{');
}

void json_obj_end(struct json_w *w)
{
    close_(w, '}');
}

void json_arr_begin(struct json_w *w)
{
    open_(w, '[');
}

void json_arr_end(struct json_w *w)
{
    close_(w, ']');
}

/* Appends the escaped body of a string (without quotes). RFC 8259 7: quote, backslash and
 * U+0000..U+001F must be escaped. */
static void put_escaped(struct json_w *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        size_t elen = 2;

        put(w, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            elen = 6;
            break;
        }
        put(w, esc, elen);
    }
    put(w, s + run, n - run);
}

void json_strn(struct json_w *w, const char *s, size_t n)
{
    if (!s) {
        json_null(w);
        return;
    }
    before_item(w);
    putc_(w, '"');
    put_escaped(w, s, n);
    putc_(w, '"');
}

void json_str(struct json_w *w, const char *s)
{
    json_strn(w, s, s ? strlen(s) : 0);
}

void json_key(struct json_w *w, const char *key)
{
    if (w->after_key)
        abort(); /* two keys in a row */
    json_str(w, key);
    putc_(w, ':');
    w->after_key = true;
}

/* Writes a scalar token already formatted. */
static void scalar(struct json_w *w, const char *tok, size_t n)
{
    before_item(w);
    put(w, tok, n);
}

void json_int(struct json_w *w, int64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof(b), "%" PRId64, v);

    scalar(w, b, (size_t)n);
}

void json_uint(struct json_w *w, uint64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof(b), "%" PRIu64, v);

    scalar(w, b, (size_t)n);
}

void json_double(struct json_w *w, double v)
{
    char b[32];
    int n = 0;

    if (!isfinite(v)) {
        json_null(w);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(b, sizeof(b), "%.*g", prec, v);
        if (strtod(b, NULL) == v)
            break;
    }
    scalar(w, b, (size_t)n);
}

void json_bool(struct json_w *w, bool v)
{
    if (v)
        scalar(w, "true", 4);
    else
        scalar(w, "false", 5);
}

void json_null(struct json_w *w)
{
    scalar(w, "null", 4);
}
