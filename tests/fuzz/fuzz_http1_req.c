/* libFuzzer target for the HTTP/1.x request parser and the body decoder (proto/http).
 *
 * Input: one control byte (bits 0-1 pick the limits), then the bytes of a connection. The
 * head is parsed all at once, one byte at a time (alternating two buffers, so only offsets
 * can survive between calls) and in two pieces split at a point taken from the control
 * byte; all three must agree on every public field, the index and the error. When the head
 * is complete the rest is decoded as its body all at once, one byte per call, and without a
 * span array; they must agree on the bytes used, the payload and the result. Any difference
 * or out-of-range offset aborts. fuzz_http1_resp.c includes this file with RESPONSE set. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto/http/http1.h"

#ifndef FUZZ_HTTP1_RESPONSE
#define FUZZ_HTTP1_RESPONSE 0
#endif

enum { CAP = 70000, MAXH = 128 };

struct head {
    enum http1_rc rc;
    struct http1_msg m;
    struct http1_hdr h[MAXH];
};

static uint8_t bufs[2][CAP];
static struct head runs[3];

static const struct http1_limits limits[4] = {
    HTTP1_LIMITS_DEFAULT,
    {64, 256, 4},
    {16, 64, 2},
    {8192, 65536, 100},
};

static enum http1_rc parse(struct head *r, const uint8_t *buf, size_t len)
{
    return FUZZ_HTTP1_RESPONSE ? http1_resp_parse(&r->m, buf, len)
                               : http1_req_parse(&r->m, buf, len);
}

static void init(struct head *r, uint8_t ctl)
{
    const struct http1_limits *lim = &limits[ctl & 3];
    static const enum http1_method reqs[4] = {HTTP1_M_GET, HTTP1_M_HEAD, HTTP1_M_CONNECT,
                                              HTTP1_M_POST};
    memset(r->h, 0, sizeof(r->h));
    if (FUZZ_HTTP1_RESPONSE)
        http1_resp_init(&r->m, r->h, (ctl & 4) ? 3 : MAXH, lim, reqs[(ctl >> 3) & 3]);
    else
        http1_req_init(&r->m, r->h, (ctl & 4) ? 3 : MAXH, lim);
}

/* Feeds data growing by `step` bytes per call (step 0: all at once, then split at `split`). */
static void run_head(struct head *r, uint8_t ctl, const uint8_t *data, size_t size, size_t step,
                     size_t split)
{
    init(r, ctl);
    r->rc = HTTP1_NEED_MORE;
    if (step == 0) {
        memcpy(bufs[0], data, size);
        if (split < size)
            r->rc = parse(r, bufs[0], split);
        if (r->rc == HTTP1_NEED_MORE)
            r->rc = parse(r, bufs[0], size);
        return;
    }
    for (size_t n = 1; n <= size && r->rc == HTTP1_NEED_MORE; n++) {
        memcpy(bufs[n & 1], data, n);
        r->rc = parse(r, bufs[n & 1], n);
    }
}

static void check_span(uint32_t off, uint32_t len, size_t head_len)
{
    if ((uint64_t)off + len > head_len)
        abort();
}

static void same_head(const struct head *a, const struct head *b)
{
    const struct http1_msg *x = &a->m, *y = &b->m;

    if (a->rc != b->rc || x->err != y->err || x->err_off != y->err_off)
        abort();
    if (a->rc != HTTP1_DONE)
        return;
    if (x->start != y->start || x->head_len != y->head_len ||
        x->version_minor != y->version_minor || x->method != y->method ||
        x->method_len != y->method_len || x->form != y->form || x->target_off != y->target_off ||
        x->target_len != y->target_len || x->authority_off != y->authority_off ||
        x->authority_len != y->authority_len || x->status != y->status ||
        x->reason_off != y->reason_off || x->reason_len != y->reason_len || x->flags != y->flags ||
        x->body != y->body || x->content_length != y->content_length || x->host != y->host ||
        x->nhdrs != y->nhdrs || memcmp(a->h, b->h, x->nhdrs * sizeof(a->h[0])) != 0)
        abort();
    for (uint32_t i = 0; i < x->nhdrs; i++) {
        check_span(a->h[i].name_off, a->h[i].name_len, x->head_len);
        check_span(a->h[i].value_off, a->h[i].value_len, x->head_len);
    }
    check_span(x->target_off, x->target_len, x->head_len);
    check_span(x->authority_off, x->authority_len, x->head_len);
    check_span(x->reason_off, x->reason_len, x->head_len);
}

struct body_run {
    enum http1_rc rc;
    enum http1_err err;
    size_t used, plen;
    uint64_t payload;
    uint8_t bytes[CAP];
};

static struct body_run bodies[3];

/* Decodes p[0..len) as the body of m in steps of `step` bytes, spans on or off. */
static void run_body(struct body_run *r, const struct http1_msg *m, uint8_t ctl, const uint8_t *p,
                     size_t len, size_t step, bool spans_on)
{
    struct http1_body b;
    struct http1_span spans[8];
    size_t off = 0;

    http1_body_init(&b, m->body, m->content_length, &limits[ctl & 3]);
    r->rc = HTTP1_NEED_MORE;
    r->plen = 0;
    while (off < len && r->rc == HTTP1_NEED_MORE) {
        size_t n = len - off < step ? len - off : step;
        struct http1_body_out o = {.spans = spans_on ? spans : NULL, .max_spans = 8};
        r->rc = http1_body_feed(&b, p + off, n, &o);
        if (o.used > n || (o.used == 0 && r->rc == HTTP1_NEED_MORE) || (spans_on && o.nspans > 8))
            abort();
        for (size_t i = 0; spans_on && i < o.nspans; i++) {
            if (spans[i].off + spans[i].len > o.used || spans[i].len == 0)
                abort();
            memcpy(r->bytes + r->plen, p + off + spans[i].off, spans[i].len);
            r->plen += spans[i].len;
        }
        off += o.used;
    }
    if (r->rc == HTTP1_NEED_MORE && len > 0)
        r->rc = http1_body_eof(&b);
    r->used = off;
    r->err = b.err;
    r->payload = b.payload;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    data++;
    size--;
    if (size > CAP)
        size = CAP;
    size_t split = size ? (size_t)ctl * 31 % (size + 1) : 0;

    run_head(&runs[0], ctl, data, size, 0, size);
    run_head(&runs[1], ctl, data, size, 1, 0);
    run_head(&runs[2], ctl, data, size, 0, split);
    same_head(&runs[0], &runs[1]);
    same_head(&runs[0], &runs[2]);
    if (runs[0].rc != HTTP1_DONE)
        return 0;

    const uint8_t *rest = data + runs[0].m.head_len;
    size_t rlen = size - runs[0].m.head_len;
    run_body(&bodies[0], &runs[0].m, ctl, rest, rlen, (size_t)-1, true);
    run_body(&bodies[1], &runs[0].m, ctl, rest, rlen, 1, true);
    run_body(&bodies[2], &runs[0].m, ctl, rest, rlen, 7, false);
    for (int i = 1; i < 3; i++)
        if (bodies[i].rc != bodies[0].rc || bodies[i].err != bodies[0].err ||
            bodies[i].used != bodies[0].used || bodies[i].payload != bodies[0].payload)
            abort();
    if (bodies[1].plen != bodies[0].plen || bodies[0].plen != bodies[0].payload ||
        memcmp(bodies[0].bytes, bodies[1].bytes, bodies[0].plen) != 0)
        abort();
    return 0;
}
