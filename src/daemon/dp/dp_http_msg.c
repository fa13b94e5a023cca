/* The pure pieces of the HTTP switch (dp_http.h): route matching, the sticky cookie, head
 * rewriting (hop-by-hop removal and header insertion before the final CRLF, no rebuild of the
 * rest), generated error responses and the latency histogram. No I/O, no allocation. */
#include "daemon/dp/dp_http.h"

#include <stdio.h>
#include <string.h>

#include "proto/http/http1.h"

/* ---- routing ---- */

static int lower(int ch)
{
    return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

static bool ieq(const uint8_t *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lower((unsigned char)b[i]))
            return false;
    return true;
}

/* Strips ":port" (not inside an IPv6 literal) and one trailing dot. */
static size_t host_len(const uint8_t *h, size_t n)
{
    for (size_t i = n; i-- > 0;) {
        if (h[i] == ']')
            break;
        if (h[i] == ':') {
            n = i;
            break;
        }
    }
    if (n && h[n - 1] == '.')
        n--;
    return n;
}

static bool host_match(const struct dp_http_route *r, const uint8_t *h, size_t n)
{
    size_t rl = strlen(r->host);

    if (!rl)
        return true;
    if (!r->wildcard)
        return n == rl && ieq(h, r->host, n);
    return n > rl && ieq(h + n - rl, r->host, rl); /* ".example.com": at least one label */
}

static bool path_match(const struct dp_http_route *r, const uint8_t *p, size_t n)
{
    size_t rl = strlen(r->path);

    return rl <= n && memcmp(p, r->path, rl) == 0;
}

uint32_t dp_http_route(const struct dp_http *h, const uint8_t *host, size_t hlen,
                       const uint8_t *path, size_t plen)
{
    size_t n = host ? host_len(host, hlen) : 0;

    for (size_t i = 0; i < h->nroutes; i++) {
        const struct dp_http_route *r = &h->routes[i];
        if (host_match(r, host, n) && path_match(r, path, plen))
            return r->group < h->ngroups ? r->group : 0;
    }
    return 0;
}

/* ---- cookie ---- */

static int hexval(uint8_t ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

static bool parse_id(const uint8_t *v, size_t n, uint32_t *id)
{
    uint32_t x = 0;

    if (n != 8)
        return false;
    for (size_t i = 0; i < n; i++) {
        int d = hexval(v[i]);
        if (d < 0)
            return false;
        x = x << 4 | (uint32_t)d;
    }
    *id = x;
    return true;
}

bool dp_http_cookie_find(const uint8_t *v, size_t len, const char *name, uint32_t *id)
{
    size_t nl = strlen(name), i = 0;

    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == ';'))
            i++;
        size_t end = i;
        while (end < len && v[end] != ';')
            end++;
        if (end - i > nl && v[i + nl] == '=' && memcmp(v + i, name, nl) == 0 &&
            parse_id(v + i + nl + 1, end - i - nl - 1, id))
            return true;
        i = end;
    }
    return false;
}

size_t dp_http_cookie_line(char *out, size_t cap, const char *name, uint32_t id)
{
    int n = snprintf(out, cap, "Set-Cookie: %s=%08x; Path=/\r\n", name, id);

    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* ---- head rewriting ---- */

/* True when the name of field line i equals one of the tokens of the Connection lines. Without
 * HTTP1_F_CONN_OTHER the only options are close, keep-alive and upgrade, and the callers
 * drop Keep-Alive and Upgrade fields by id: only a field named Close is left to check. */
static bool named_by_connection(const struct http1_msg *m, const uint8_t *buf, uint32_t i)
{
    const struct http1_hdr *h = &m->hdrs[i];

    if (!(m->flags & HTTP1_F_CONN_OTHER))
        return (m->flags & HTTP1_F_CONN_CLOSE) && h->name_len == 5 &&
               ieq(buf + h->name_off, "close", 5);

    for (int c = http1_find_id(m, HTTP1_H_CONNECTION, 0); c >= 0;
         c = http1_find_id(m, HTTP1_H_CONNECTION, (uint32_t)c + 1)) {
        const uint8_t *v = buf + m->hdrs[c].value_off;
        size_t n = m->hdrs[c].value_len, k = 0;
        while (k < n) {
            while (k < n && (v[k] == ' ' || v[k] == '\t' || v[k] == ','))
                k++;
            size_t s = k;
            while (k < n && v[k] != ',' && v[k] != ' ' && v[k] != '\t')
                k++;
            if (k - s == h->name_len && ieq(buf + h->name_off, (const char *)v + s, k - s))
                return true;
        }
    }
    return false;
}

bool dp_http_hop_by_hop(const struct http1_msg *m, const uint8_t *buf, uint32_t i,
                        bool keep_upgrade)
{
    switch (m->hdrs[i].id) {
    case HTTP1_H_CONNECTION:
    case HTTP1_H_UPGRADE:
        return !keep_upgrade;
    case HTTP1_H_KEEP_ALIVE:
    case HTTP1_H_PROXY_CONNECTION:
    case HTTP1_H_TE:
        return true;
    case HTTP1_H_HOST:
    case HTTP1_H_CONTENT_LENGTH:
    case HTTP1_H_TRANSFER_ENCODING:
        return false; /* framing and routing fields cannot be dropped by a Connection token */
    default:
        return !keep_upgrade && named_by_connection(m, buf, i);
    }
}

static bool put(uint8_t *out, size_t cap, size_t *pos, const void *p, size_t n)
{
    if (*pos + n > cap)
        return false;
    memcpy(out + *pos, p, n);
    *pos += n;
    return true;
}

/* Field lines are contiguous (the parser refuses obs-fold, and no empty line comes before the
 * end of the head), so line i ends where line i + 1 starts, and the last one where the final
 * CRLF does. Kept lines are copied in runs: one copy per stretch between dropped lines. */
size_t dp_http_rewrite(const struct http1_msg *m, const uint8_t *buf, bool keep_upgrade,
                       const char *extra, size_t elen, uint8_t *out, size_t cap)
{
    uint32_t end = m->head_len - 2; /* the final CRLF (the parser refuses bare LF) */
    uint32_t run = m->start;        /* start of the stretch of kept bytes not yet copied */
    size_t pos = 0;

    for (uint32_t i = 0; i < m->nhdrs; i++) {
        if (!dp_http_hop_by_hop(m, buf, i, keep_upgrade))
            continue;
        uint32_t s = m->hdrs[i].name_off;
        uint32_t e = i + 1 < m->nhdrs ? m->hdrs[i + 1].name_off : end;
        if (!put(out, cap, &pos, buf + run, s - run))
            return 0;
        run = e;
    }
    if (!put(out, cap, &pos, buf + run, end - run) || !put(out, cap, &pos, extra, elen) ||
        !put(out, cap, &pos, "\r\n", 2))
        return 0;
    return pos;
}

bool dp_http_head_as_is(const struct http1_msg *m, const uint8_t *buf)
{
    if (m->flags & (HTTP1_F_CONN_CLOSE | HTTP1_F_CONN_UPGRADE | HTTP1_F_CONN_OTHER))
        return false; /* Connection says more than keep-alive */
    for (uint32_t i = 0; i < m->nhdrs; i++)
        if (m->hdrs[i].id != HTTP1_H_CONNECTION && dp_http_hop_by_hop(m, buf, i, false))
            return false;
    return true;
}

#define PUT_LIT(lit) put((uint8_t *)out, cap, &pos, lit, sizeof(lit) - 1)

/* Built with copies, not snprintf: this runs for every forwarded request. */
size_t dp_http_fwd_headers(uint32_t opts, const char *cli, bool v6, char *out, size_t cap)
{
    size_t pos = 0, clen = strlen(cli);
    bool ok = true;

    if (opts & DP_HTTP_XFF)
        ok = PUT_LIT("X-Forwarded-For: ") && put((uint8_t *)out, cap, &pos, cli, clen) &&
             PUT_LIT("\r\n");
    if (ok && (opts & DP_HTTP_XFP))
        ok = PUT_LIT("X-Forwarded-Proto: http\r\n");
    if (ok && (opts & DP_HTTP_FWD))
        ok = PUT_LIT("Forwarded: for=") && (!v6 || PUT_LIT("\"[")) &&
             put((uint8_t *)out, cap, &pos, cli, clen) && (!v6 || PUT_LIT("]\"")) &&
             PUT_LIT(";proto=http\r\n");
    return ok ? pos : 0;
}

/* ---- generated responses ---- */

static const char *reason(unsigned status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}

size_t dp_http_error_response(unsigned status, bool close, char *out, size_t cap)
{
    const char *r = reason(status);
    int n = snprintf(out, cap,
                     "HTTP/1.1 %u %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-cache\r\n%s\r\n%u %s\n",
                     status, r, strlen(r) + 5, close ? "Connection: close\r\n" : "", status, r);

    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* ---- latency histogram ---- */

unsigned dp_http_lat_bucket(uint64_t us)
{
    unsigned i = 0;

    while (i + 1 < DP_HTTP_LAT_BUCKETS && us >= (UINT64_C(16) << i))
        i++;
    return i;
}

uint64_t dp_http_lat_bound(unsigned i)
{
    return i + 1 < DP_HTTP_LAT_BUCKETS ? UINT64_C(16) << i : UINT64_MAX;
}

uint64_t dp_http_lat_quantile(const uint64_t *h, double p)
{
    uint64_t total = 0, acc = 0;

    for (unsigned i = 0; i < DP_HTTP_LAT_BUCKETS; i++)
        total += h[i];
    if (!total)
        return 0;
    double want = p * (double)total;
    unsigned i;
    for (i = 0; i < DP_HTTP_LAT_BUCKETS - 1; i++) {
        acc += h[i];
        if ((double)acc >= want)
            break;
    }
    return i + 1 < DP_HTTP_LAT_BUCKETS ? dp_http_lat_bound(i)
                                       : dp_http_lat_bound(DP_HTTP_LAT_BUCKETS - 2);
}
