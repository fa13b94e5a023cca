/* Parsing and formatting of the upgrade hand-over records (see upgrade_rec.h). */
#include "upgrade_rec.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A cursor over one record. */
struct cur {
    const char *p, *end;
};

/* The next space-separated token; false when there is none (empty or at the end). */
static bool token(struct cur *c, const char **tok, size_t *n)
{
    const char *s = c->p;
    while (c->p < c->end && *c->p != ' ')
        c->p++;
    *tok = s;
    *n = (size_t)(c->p - s);
    if (c->p < c->end)
        c->p++; /* the separator */
    return *n > 0;
}

static bool is(const char *tok, size_t n, const char *word)
{
    return n == strlen(word) && memcmp(tok, word, n) == 0;
}

/* A decimal integer token in [lo, hi] ("-1" allowed when lo < 0). */
static bool number(struct cur *c, long lo, long hi, long *out)
{
    const char *t;
    size_t n;
    long v = 0;
    bool neg = false;

    if (!token(c, &t, &n))
        return false;
    if (t[0] == '-') {
        neg = true;
        t++;
        n--;
    }
    if (n == 0 || n > 9)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (t[i] < '0' || t[i] > '9')
            return false;
        v = v * 10 + (t[i] - '0');
    }
    v = neg ? -v : v;
    if (v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* The rest of the record as text (NAME, KEY, message): 1..UPGRADE_TEXT_MAX printable bytes. */
static bool rest(struct cur *c, char *out)
{
    size_t n = (size_t)(c->end - c->p);

    if (n == 0 || n > UPGRADE_TEXT_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)c->p[i] < 0x20 || c->p[i] == 0x7f)
            return false;
    memcpy(out, c->p, n);
    out[n] = '\0';
    c->p = c->end;
    return true;
}

static bool at_end(const struct cur *c)
{
    return c->p == c->end && c->end[-1] != ' ';
}

static bool parse_vrrp(struct cur *c, struct upgrade_rec *r)
{
    const char *t;
    size_t n;

    if (!token(c, &t, &n))
        return false;
    if (is(t, n, "MASTER"))
        r->vrrp_state = UPGRADE_MASTER;
    else if (is(t, n, "BACKUP"))
        r->vrrp_state = UPGRADE_BACKUP;
    else if (is(t, n, "FAULT"))
        r->vrrp_state = UPGRADE_FAULT;
    else
        return false;
    return rest(c, r->text);
}

static bool parse_checks(struct cur *c, char *out)
{
    const char *t;
    size_t n;

    if (!token(c, &t, &n) || n > UPGRADE_MAX_CHECKS)
        return false;
    if (is(t, n, "-")) {
        out[0] = '\0';
        return true;
    }
    for (size_t i = 0; i < n; i++)
        if (!strchr("UDud", t[i]) || t[i] == '\0')
            return false;
    memcpy(out, t, n);
    out[n] = '\0';
    return true;
}

static bool parse_rs(struct cur *c, struct upgrade_rec *r)
{
    long up, disabled, weight;

    if (!number(c, 0, 1, &up) || !number(c, 0, 1, &disabled) || !number(c, -1, 65535, &weight))
        return false;
    r->up = up;
    r->disabled = disabled;
    r->admin_weight = (int)weight;
    return parse_checks(c, r->checks) && rest(c, r->text);
}

static bool parse_body(struct cur *c, const char *kind, size_t kn, struct upgrade_rec *r)
{
    long v;

    if (is(kind, kn, "nospof-upgrade")) {
        r->kind = UPGRADE_HELLO;
        if (!number(c, 1, 1000000, &v))
            return false;
        r->version = (unsigned)v;
    } else if (is(kind, kn, "fds")) {
        r->kind = UPGRADE_FDS;
        if (!number(c, 1, 64, &v))
            return false;
        r->nfds = (unsigned)v;
    } else if (is(kind, kn, "vrrp")) {
        r->kind = UPGRADE_VRRP;
        return parse_vrrp(c, r);
    } else if (is(kind, kn, "rs")) {
        r->kind = UPGRADE_RS;
        return parse_rs(c, r);
    } else if (is(kind, kn, "end")) {
        r->kind = UPGRADE_END;
    } else if (is(kind, kn, "ready")) {
        r->kind = UPGRADE_READY;
        if (!number(c, 1, 0x7fffffff, &v))
            return false;
        r->pid = v;
    } else if (is(kind, kn, "error")) {
        r->kind = UPGRADE_ERROR;
        return rest(c, r->text);
    } else {
        return false;
    }
    return at_end(c);
}

int upgrade_rec_parse(const char *line, size_t len, struct upgrade_rec *out)
{
    struct cur c = {line, line + len};
    const char *kind;
    size_t kn;

    memset(out, 0, sizeof(*out));
    if (len == 0 || !token(&c, &kind, &kn))
        return -EINVAL;
    return parse_body(&c, kind, kn, out) ? 0 : -EINVAL;
}

static const char *state_word(enum upgrade_vrrp_state s)
{
    return s == UPGRADE_MASTER ? "MASTER" : s == UPGRADE_FAULT ? "FAULT" : "BACKUP";
}

static int format_rec(const struct upgrade_rec *r, char *buf, size_t cap)
{
    switch (r->kind) {
    case UPGRADE_HELLO:
        return snprintf(buf, cap, "nospof-upgrade %u", r->version);
    case UPGRADE_FDS:
        return snprintf(buf, cap, "fds %u", r->nfds);
    case UPGRADE_VRRP:
        return snprintf(buf, cap, "vrrp %s %s", state_word(r->vrrp_state), r->text);
    case UPGRADE_RS:
        return snprintf(buf, cap, "rs %d %d %d %s %s", r->up, r->disabled, r->admin_weight,
                        r->checks[0] ? r->checks : "-", r->text);
    case UPGRADE_END:
        return snprintf(buf, cap, "end");
    case UPGRADE_READY:
        return snprintf(buf, cap, "ready %ld", r->pid);
    case UPGRADE_ERROR:
        return snprintf(buf, cap, "error %s", r->text);
    }
    return -1;
}

size_t upgrade_rec_format(const struct upgrade_rec *r, char *buf, size_t cap)
{
    struct upgrade_rec check;
    int n = format_rec(r, buf, cap);

    if (n <= 0 || (size_t)n >= cap || upgrade_rec_parse(buf, (size_t)n, &check) != 0) {
        if (cap)
            buf[0] = '\0';
        return 0;
    }
    return (size_t)n;
}
