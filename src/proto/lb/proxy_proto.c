/* PROXY protocol v1/v2 encoders (see proxy_proto.h). Formats by hand so that the pure layer
 * needs no stdio: IPv4 as dotted decimal, IPv6 as the RFC 5952 canonical text. */
#include "proto/lb/proxy_proto.h"

#include <string.h>

#include "base/bytes.h"

/* Spec section 2.2: the 12-byte v2 signature. */
static const uint8_t v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                   0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

struct text {
    char buf[PROXY_V1_MAX + 1];
    size_t len;
};

static void put_str(struct text *t, const char *s)
{
    size_t n = strlen(s);

    memcpy(t->buf + t->len, s, n);
    t->len += n;
}

static void put_dec(struct text *t, unsigned v)
{
    char tmp[10];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        t->buf[t->len++] = tmp[--n];
}

static void put_hex(struct text *t, unsigned v)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[4];
    size_t n = 0;

    do {
        tmp[n++] = digits[v & 15];
        v >>= 4;
    } while (v);
    while (n)
        t->buf[t->len++] = tmp[--n];
}

static void put_v4(struct text *t, const uint8_t *b)
{
    for (int i = 0; i < 4; i++) {
        if (i)
            t->buf[t->len++] = '.';
        put_dec(t, b[i]);
    }
}

/* The longest run (>= 2) of zero groups, leftmost on a tie (RFC 5952 section 4.2). */
static void zero_run(const uint8_t *b, int *start, int *len)
{
    *start = -1;
    *len = 0;
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && get_be16(b + 2 * j) == 0)
            j++;
        if (j - i > *len && j - i >= 2) {
            *start = i;
            *len = j - i;
        }
        i = j > i ? j : i + 1;
    }
}

static void put_v6(struct text *t, const uint8_t *b)
{
    int zs, zl;

    zero_run(b, &zs, &zl);
    for (int i = 0; i < 8; i++) {
        if (i == zs) {
            put_str(t, "::");
            i += zl - 1;
            continue;
        }
        if (i && i != zs + zl)
            t->buf[t->len++] = ':';
        put_hex(t, get_be16(b + 2 * i));
    }
}

static void put_addr(struct text *t, const struct ip_addr *a)
{
    if (a->family == IP_V4)
        put_v4(t, a->b);
    else
        put_v6(t, a->b);
}

static bool describable(const struct proxy_conn *c)
{
    return (c->src.family == IP_V4 || c->src.family == IP_V6) && c->src.family == c->dst.family;
}

size_t proxy_v1_encode(const struct proxy_conn *c, uint8_t *out, size_t cap)
{
    struct text t = {.len = 0};

    if (c->dgram)
        return 0;
    if (!describable(c)) {
        put_str(&t, "PROXY UNKNOWN\r\n");
    } else {
        put_str(&t, c->src.family == IP_V4 ? "PROXY TCP4 " : "PROXY TCP6 ");
        put_addr(&t, &c->src);
        t.buf[t.len++] = ' ';
        put_addr(&t, &c->dst);
        t.buf[t.len++] = ' ';
        put_dec(&t, c->src_port);
        t.buf[t.len++] = ' ';
        put_dec(&t, c->dst_port);
        put_str(&t, "\r\n");
    }
    if (t.len > cap)
        return 0;
    memcpy(out, t.buf, t.len);
    return t.len;
}

size_t proxy_v2_encode(const struct proxy_conn *c, uint8_t *out, size_t cap)
{
    bool ok = describable(c);
    size_t alen = !ok ? 0 : c->src.family == IP_V4 ? 4 : 16;
    size_t body = ok ? 2 * alen + 4 : 0;

    if (16 + body > cap)
        return 0;
    memcpy(out, v2_sig, sizeof(v2_sig));
    /* Spec 2.2: high nibble version 2; low nibble 0x1 PROXY, 0x0 LOCAL. */
    out[12] = ok ? 0x21 : 0x20;
    /* Family 0x1 INET / 0x2 INET6 (high nibble); transport 0x1 STREAM / 0x2 DGRAM. */
    out[13] = !ok ? 0x00 : (uint8_t)((alen == 4 ? 0x10 : 0x20) | (c->dgram ? 0x02 : 0x01));
    put_be16(out + 14, (uint16_t)body);
    if (!ok)
        return 16;
    memcpy(out + 16, c->src.b, alen);
    memcpy(out + 16 + alen, c->dst.b, alen);
    put_be16(out + 16 + 2 * alen, c->src_port);
    put_be16(out + 18 + 2 * alen, c->dst_port);
    return 16 + body;
}
