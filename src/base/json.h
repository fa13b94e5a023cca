/* Emit-only JSON writer for the control socket, state dumps and metrics.
 *
 * Calls append tokens in document order; separators (',' and ':') are inserted
 * automatically, so a caller writes json_obj_begin, then key/value pairs, then json_obj_end.
 * Output is compact (no whitespace). Misuse that would produce invalid JSON (nesting deeper
 * than JSON_MAX_DEPTH, ending a container that is not open) and allocation failure abort.
 * Strings are written as given: bytes >= 0x80 pass through, so UTF-8 stays UTF-8. */
#ifndef NOSPOF_BASE_JSON_H
#define NOSPOF_BASE_JSON_H

#include "json-t.h"

/* Makes w an empty writer (same as zero-initialising it). */
void json_w_init(struct json_w *w);

/* Frees w's buffer and leaves it empty and reusable. Accepts NULL. */
void json_w_free(struct json_w *w);

/* Hands the text (NUL-terminated, "" if nothing was written) to the caller, who frees it with
 * free(); stores its length in *len when len is not NULL. w is left empty and reusable. */
char *json_w_take(struct json_w *w, size_t *len);

/* The text written so far (NUL-terminated), valid until the next call on w. */
const char *json_w_cstr(const struct json_w *w);

void json_obj_begin(struct json_w *w);
void json_obj_end(struct json_w *w);
void json_arr_begin(struct json_w *w);
void json_arr_end(struct json_w *w);

/* Writes an object member name; the next value call gives its value. */
void json_key(struct json_w *w, const char *key);

/* String values: quotes, backslash and control characters are escaped (\" \\ \n \r \t \b
 * \f, others as \u00XX); all other bytes are copied. json_strn takes n bytes of s (which may
 * contain NUL, written as \u0000). A NULL s writes null. */
void json_str(struct json_w *w, const char *s);
void json_strn(struct json_w *w, const char *s, size_t n);

void json_int(struct json_w *w, int64_t v);
void json_uint(struct json_w *w, uint64_t v);
/* Shortest "%.Ng" form that reads back as v; NaN and infinities (not JSON) write null. */
void json_double(struct json_w *w, double v);
void json_bool(struct json_w *w, bool v);
void json_null(struct json_w *w);

#endif
