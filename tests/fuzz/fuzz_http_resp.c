/* libFuzzer target for the HTTP response parser (proto/check/http_resp).
 *
 * The input is parsed whole and again split at a point taken from its first byte; both runs
 * must agree on the result, the status, the framing and the body (length and bytes), and
 * every body span must lie inside the input. Any difference aborts. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto/check/http_resp.h"

struct run {
    enum http_resp_rc rc;
    struct http_resp r;
    size_t body_len;
    uint8_t body[4096];
};

static void feed(struct run *x, const uint8_t *data, size_t size, size_t split)
{
    size_t off = 0;

    http_resp_init(&x->r);
    x->rc = HTTP_RESP_NEED_MORE;
    x->body_len = 0;
    while (off < size && x->rc == HTTP_RESP_NEED_MORE) {
        size_t end = off < split ? split : size;
        struct http_resp_out o;

        x->rc = http_resp_feed(&x->r, data + off, end - off, &o);
        if (o.used > end - off ||
            (o.body_len && (o.body < data + off || o.body + o.body_len > data + off + o.used)))
            abort();
        for (size_t i = 0; i < o.body_len && x->body_len < sizeof(x->body); i++)
            x->body[x->body_len++] = o.body[i];
        if (o.used == 0 && x->rc == HTTP_RESP_NEED_MORE)
            abort(); /* no progress */
        off += o.used;
    }
    if (x->rc == HTTP_RESP_NEED_MORE)
        x->rc = http_resp_eof(&x->r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct run a, b;
    size_t split = size ? data[0] % (size + 1) : 0;

    feed(&a, data, size, size);
    feed(&b, data, size, split);
    if (a.rc != b.rc || a.r.status != b.r.status || a.r.chunked != b.r.chunked ||
        a.r.body_bytes != b.r.body_bytes || a.body_len != b.body_len ||
        memcmp(a.body, b.body, a.body_len) != 0 || a.r.err != b.r.err)
        abort();
    return 0;
}
