/* The keepalived.conf reader: bytes -> preprocessed logical lines -> a tree of nodes.
 *
 * Theory of operation. A file (or buffer) is a frame; frames stack for includes. Each
 * physical line is checked (length, NUL), decommented and trimmed; a line starting with an
 * include keyword is handled right there (so, as in keepalived, @ and $ cannot build include
 * lines). Every other line goes through process_line(), the preprocessor pipeline in
 * keepalived's order: @id conditional, $NAME= definition, ~SEQ/~SEQx/~LST repetition, then
 * $NAME / ${NAME} substitution; a line changed by substitution is split at the newlines of
 * multiline values and each piece re-enters the pipeline. What survives is tokenised (normal
 * or script-style quoting, chosen by the first word of each brace-delimited piece) and fed to
 * the builder, which turns words and unquoted braces into nodes.
 *
 * Robustness: every expansion is bounded (include depth and count, pipeline depth, total
 * logical lines, substitutions per line, expanded line length, block depth), so no input
 * can hang or exhaust memory; a bound that trips is an error diag and the rest is skipped.
 *
 * Memory: nodes, argv and file names live in an arena owned by the tree; definitions and
 * scratch buffers are malloc'd for the duration of one parse and freed before returning.
 * Allocation failure aborts (config-time allocation, DESIGN.md 7). */
#include "daemon/conf_tree.h"
#include "base/bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/rng.h"

/* Fuzz builds (the conventional FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION) use lower
 * expansion budgets so that each input runs in milliseconds; the logic is the same. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define CONF_LINES_MAX 20000
#define CONF_SUBST_LEN (16 * 1024)
#else
#define CONF_LINES_MAX 4000000      /* logical lines processed in one parse */
#define CONF_SUBST_LEN (256 * 1024) /* bytes of one line after substitution */
#endif

enum {
    CONF_LINE_MAX = 1024,      /* a physical line plus its newline (keepalived MAXBUF) */
    CONF_INCLUDE_DEPTH = 32,   /* nested include levels */
    CONF_INCLUDE_FILES = 4096, /* files opened by includes in one parse */
    CONF_EXPAND_DEPTH = 64,    /* nested pipeline re-entries (substitution, ~SEQ) */
    CONF_SUBST_MAX = 1000,     /* substitutions in one line */
    CONF_BLOCK_DEPTH = 64,     /* nested { } blocks kept in the tree */
    CONF_FILE_MAX = 64 * 1024 * 1024,
};

/* include_check bits (keepalived.conf(5): includer/m/w/b/a) */
enum {
    INC_READABLE = 1,
    INC_MATCH = 2,
    INC_WILDCARD = 4,
    INC_BRACE = 8,
};

static const char conf_ws[] = " \t\f\n\r\v";

enum { CONF_DIAGS_MAX = 200 }; /* diagnostics kept from one parse */

/* ---- memory -------------------------------------------------------------------------- */

struct arena_chunk {
    struct arena_chunk *next;
    size_t cap, used;
    max_align_t data[];
};

struct arena {
    struct arena_chunk *head;
};

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort(); /* config-time allocation: out of memory is fatal */
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        abort();
    return q;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void *arena_alloc(struct arena *a, size_t n)
{
    const size_t align = _Alignof(max_align_t);
    struct arena_chunk *c = a->head;

    n = (n + align - 1) & ~(align - 1);
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        c = xmalloc(sizeof(*c) + cap);
        c->cap = cap;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

static char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* A growable NUL-terminated byte string. */
struct sbuf {
    char *p;
    size_t n, cap;
};

static void sbuf_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sbuf_putc(struct sbuf *b, char c)
{
    sbuf_put(b, &c, 1);
}

static void sbuf_reset(struct sbuf *b)
{
    b->n = 0;
    sbuf_put(b, "", 0);
}

/* ---- parse context ------------------------------------------------------------------- */

struct where {
    const char *file; /* arena copy */
    unsigned line;
};

struct frame {
    const char *path; /* arena copy, as opened */
    const char *text;
    size_t len, pos;
    unsigned lineno;   /* of the last line returned */
    bool relative_cwd; /* relative includes resolve against the cwd */
    unsigned checks;   /* include_check setting (INC_*), inherited by included files */
    char *pwd;         /* ${_PWD}, computed on first use */
};

struct conf_def {
    char *name;
    char *value; /* lines of a multiline value are joined by '\n' */
};

struct block {
    struct conf_node **tail; /* where the next child links */
    struct conf_node *last;  /* last node of this level, for a '{' on the next line */
    struct where at;         /* the line that opened it */
    const char *keyword;     /* NULL for a discarded block */
    bool discard;            /* contents are parsed but not linked */
};

struct ctx {
    struct arena *arena;
    struct diags *diags;
    char config_id[256];
    struct rng rng;
    struct conf_def *defs;
    size_t ndefs, capdefs;
    struct block *stack; /* stack[0] is the top level */
    size_t depth, capstack;
    char **words; /* pending words of the current piece (arena strings) */
    size_t nwords, capwords;
    struct where wat;   /* where the pending words started */
    bool line_has_node; /* a node was made on the current logical line */
    struct frame *frames[CONF_INCLUDE_DEPTH + 1];
    unsigned nframes;
    unsigned files_opened;
    unsigned long lines;
    unsigned reports;
    bool budget_hit; /* stop the whole parse */
    bool abort_line; /* stop expanding the current physical line */
};

/* diag_add with a cap, so that an expansion repeating a bad line cannot flood the list. */
__attribute__((format(printf, 5, 6))) static void
report(struct ctx *c, enum diag_level level, const char *file, unsigned line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (++c->reports > CONF_DIAGS_MAX) {
        if (c->reports == CONF_DIAGS_MAX + 1)
            diag_add(c->diags, DIAG_ERROR, file, line,
                     "too many diagnostics; the rest are "
                     "not shown");
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    diag_add(c->diags, level, file, line, "%s", msg);
}

static void process_line(struct ctx *c, struct frame *f, char *s, const struct where *w,
                         unsigned depth);

static bool is_ws(char ch)
{
    return ch && strchr(conf_ws, ch) != NULL;
}

static char *trim(char *s)
{
    while (is_ws(*s))
        s++;
    size_t n = strlen(s);
    while (n && is_ws(s[n - 1]))
        s[--n] = '\0';
    return s;
}

static bool is_name_start(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}

static bool is_name_char(char ch)
{
    return is_name_start(ch) || (ch >= '0' && ch <= '9');
}

static size_t name_len(const char *s)
{
    size_t n = 0;
    if (!is_name_start(s[0]))
        return 0;
    while (is_name_char(s[n]))
        n++;
    return n;
}

/* ---- definitions --------------------------------------------------------------------- */

static struct conf_def *def_find(struct ctx *c, const char *name, size_t n)
{
    for (size_t i = 0; i < c->ndefs; i++)
        if (strlen(c->defs[i].name) == n && !memcmp(c->defs[i].name, name, n))
            return &c->defs[i];
    return NULL;
}

static void def_set(struct ctx *c, const char *name, size_t n, const char *value)
{
    struct conf_def *d = def_find(c, name, n);

    if (!d) {
        if (c->ndefs == c->capdefs) {
            c->capdefs = c->capdefs ? c->capdefs * 2 : 16;
            c->defs = xrealloc(c->defs, c->capdefs * sizeof(*c->defs));
        }
        d = &c->defs[c->ndefs++];
        d->name = xstrndup(name, n);
    } else {
        free(d->value);
    }
    d->value = xstrndup(value, strlen(value));
}

/* ---- the builder: words and braces -> nodes ------------------------------------------ */

static struct block *top(struct ctx *c)
{
    return &c->stack[c->depth];
}

static void b_word(struct ctx *c, const char *s, size_t n, const struct where *w)
{
    if (c->nwords + 1 >= c->capwords) {
        c->capwords = c->capwords ? c->capwords * 2 : 16;
        c->words = xrealloc(c->words, c->capwords * sizeof(*c->words));
    }
    if (!c->nwords)
        c->wat = *w;
    c->words[c->nwords++] = arena_strndup(c->arena, s, n);
}

static void include_check(struct ctx *c, const struct conf_node *n);

static void b_flush(struct ctx *c)
{
    if (!c->nwords)
        return;
    struct conf_node *n = arena_alloc(c->arena, sizeof(*n));
    *n = (struct conf_node){.file = c->wat.file, .line = c->wat.line, .argc = c->nwords};
    n->argv = arena_alloc(c->arena, (c->nwords + 1) * sizeof(*n->argv));
    memcpy(n->argv, c->words, c->nwords * sizeof(*n->argv));
    n->argv[c->nwords] = NULL;
    struct block *b = top(c);
    if (!b->discard) {
        *b->tail = n;
        b->tail = &n->next;
    }
    b->last = n;
    c->nwords = 0;
    c->line_has_node = true;
    if (!strcmp(n->argv[0], "include_check"))
        include_check(c, n);
}

static void b_push(struct ctx *c, struct conf_node *owner, const struct where *w)
{
    bool discard = !owner || top(c)->discard;

    if (!discard && c->depth >= CONF_BLOCK_DEPTH) {
        report(c, DIAG_ERROR, w->file, w->line, "blocks nested deeper than %d", CONF_BLOCK_DEPTH);
        discard = true;
    }
    if (c->depth + 1 >= c->capstack) {
        c->capstack *= 2;
        c->stack = xrealloc(c->stack, c->capstack * sizeof(*c->stack));
    }
    c->depth++;
    *top(c) = (struct block){
        .tail = owner ? &owner->child : NULL,
        .at = owner ? (struct where){owner->file, owner->line} : *w,
        .keyword = owner ? owner->argv[0] : NULL,
        .discard = discard,
    };
    if (owner)
        owner->has_block = true;
}

/* '{': opens a block for the words before it on this line, or for the previous node when
 * the brace starts a line ("vrrp_instance X" newline "{"). */
static void b_open(struct ctx *c, const struct where *w)
{
    struct conf_node *prev = top(c)->last;

    if (c->nwords) {
        b_flush(c);
        b_push(c, top(c)->last, w);
    } else if (!c->line_has_node && prev && !prev->has_block) {
        b_push(c, prev, w);
    } else {
        report(c, DIAG_ERROR, w->file, w->line, "'{' without a keyword");
        b_push(c, NULL, w);
    }
}

static void b_close(struct ctx *c, const struct where *w)
{
    b_flush(c);
    if (c->depth == 0) {
        report(c, DIAG_ERROR, w->file, w->line, "Extra '}' found");
        return;
    }
    c->depth--;
}

/* ---- tokenising ---------------------------------------------------------------------- */

static const char *const script_keywords[] = {
    "script",
    "notify",
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
    "notify_deleted",
    "notify_master_rx_lower_pri",
    "misc_path",
    "quorum_up",
    "quorum_down",
    "notify_up",
    "notify_down",
    "notify_fifo_script",
    "vrrp_notify_fifo_script",
    "lvs_notify_fifo_script",
    "startup_script",
    "shutdown_script",
};

static bool is_script_keyword(const char *w)
{
    for (size_t i = 0; i < sizeof(script_keywords) / sizeof(script_keywords[0]); i++)
        if (!strcmp(w, script_keywords[i]))
            return true;
    return false;
}

static int hexval(char ch)
{
    return hex_digit_value(ch);
}

/* Shell-like escape at p (p[0] == '\\') for script keywords; appends the byte, returns the
 * position after the escape. A NUL result is dropped and flagged. */
static const char *script_escape(const char *p, struct sbuf *b, bool *nul)
{
    static const char simple[] = "a\ab\bE\033f\fn\nr\rt\tv\v";
    const char *q = p + 1;
    unsigned v = 0;
    int i = 0;

    if (!*q) {
        sbuf_putc(b, '\\');
        return q;
    }
    const char *s = strchr(simple, *q);
    if (s && (s - simple) % 2 == 0) {
        sbuf_putc(b, s[1]);
        return q + 1;
    }
    if (*q == 'x' && hexval(q[1]) >= 0) {
        for (q++; i < 2 && hexval(*q) >= 0; i++, q++)
            v = v * 16 + (unsigned)hexval(*q);
    } else if (*q >= '0' && *q <= '7') {
        for (; i < 3 && *q >= '0' && *q <= '7'; i++, q++)
            v = v * 8 + (unsigned)(*q - '0');
    } else if (*q == 'c' && q[1]) {
        v = (unsigned char)q[1] & 0x1f;
        q += 2;
    } else {
        v = (unsigned char)*q++;
    }
    if ((v & 0xff) == 0)
        *nul = true;
    else
        sbuf_putc(b, (char)v);
    return q;
}

/* Normal words: '\#' '\!' '\"' give the character; '\\' stays as is (paired as decomment()
 * pairs it); any other backslash is literal. */
static const char *normal_escape(const char *p, struct sbuf *b)
{
    if (p[1] == '#' || p[1] == '!' || p[1] == '"') {
        sbuf_putc(b, p[1]);
        return p + 2;
    }
    if (p[1] == '\\') {
        sbuf_put(b, p, 2);
        return p + 2;
    }
    sbuf_putc(b, '\\');
    return p + 1;
}

struct word_state {
    char quote;  /* 0, '"' or '\'' */
    bool script; /* shell-like quoting regime */
    bool nul;
};

/* Reads one word starting at p into b; stops at whitespace or an unquoted brace. */
static const char *read_word(const char *p, struct sbuf *b, struct word_state *st)
{
    while (*p) {
        char ch = *p;
        if (!st->quote) {
            if (is_ws(ch) || ch == '{' || ch == '}')
                break;
            if (ch == '"' || (st->script && ch == '\'')) {
                st->quote = ch;
                p++;
                continue;
            }
            const char *end = ch == '$' && p[1] == '{' ? strchr(p, '}') : NULL;
            if (end) { /* an undefined ${NAME} stays one piece of the word */
                sbuf_put(b, p, (size_t)(end - p) + 1);
                p = end + 1;
                continue;
            }
        } else if (ch == st->quote) {
            st->quote = 0;
            p++;
            continue;
        }
        if (ch == '\\' && st->quote != '\'')
            p = st->script ? script_escape(p, b, &st->nul) : normal_escape(p, b);
        else
            sbuf_putc(b, *p++);
    }
    return p;
}

/* Splits one logical line into words and braces for the builder. */
static void tokenize(struct ctx *c, const char *s, const struct where *w)
{
    struct sbuf b = {0};
    struct word_state st = {0};
    bool unmatched = false, nul = false;
    size_t piece_words = 0;

    c->line_has_node = false;
    while (*s) {
        if (is_ws(*s)) {
            s++;
        } else if (*s == '{' || *s == '}') {
            if (*s++ == '{')
                b_open(c, w);
            else
                b_close(c, w);
            piece_words = 0;
            st.script = false;
        } else {
            sbuf_reset(&b);
            st.quote = 0;
            s = read_word(s, &b, &st);
            unmatched |= st.quote != 0;
            b_word(c, b.p, b.n, w);
            if (++piece_words == 1)
                st.script = is_script_keyword(b.p);
        }
    }
    b_flush(c);
    nul |= st.nul;
    if (unmatched)
        report(c, DIAG_ERROR, w->file, w->line, "unmatched quote");
    if (nul)
        report(c, DIAG_WARNING, w->file, w->line, "escape giving a NUL byte dropped");
    free(b.p);
}

/* ---- preprocessing ------------------------------------------------------------------- */

/* Cuts s at the first '#' or '!' outside double quotes; a backslash pairs with the next
 * character ("\#" is a literal '#', "\"" does not open a quote). Idempotent. */
static char *decomment(char *s)
{
    bool inq = false;

    for (char *p = s; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
        } else if (*p == '"') {
            inq = !inq;
        } else if (!inq && (*p == '#' || *p == '!')) {
            *p = '\0';
            break;
        }
    }
    return s;
}

static bool budget(struct ctx *c, const struct where *w)
{
    if (c->budget_hit || c->abort_line)
        return false;
    if (++c->lines <= CONF_LINES_MAX)
        return true;
    c->budget_hit = true;
    report(c, DIAG_ERROR, w->file, w->line,
           "configuration expands to more than %d lines; the rest is ignored", CONF_LINES_MAX);
    return false;
}

/* Returns the next physical line of f, decommented and trimmed, or NULL at the end.
 * A rejected line (too long, NUL byte) is reported and returned as "". */
static char *frame_next(struct ctx *c, struct frame *f, char buf[CONF_LINE_MAX])
{
    if (f->pos >= f->len)
        return NULL;
    const char *start = f->text + f->pos;
    const char *nl = memchr(start, '\n', f->len - f->pos);
    size_t n = nl ? (size_t)(nl - start) : f->len - f->pos;

    f->pos += n + (nl != NULL);
    f->lineno++;
    if (n >= CONF_LINE_MAX) {
        report(c, DIAG_ERROR, f->path, f->lineno, "line too long (over %d bytes), ignored",
               CONF_LINE_MAX - 1);
        buf[0] = '\0';
        return buf;
    }
    if (memchr(start, '\0', n)) {
        report(c, DIAG_ERROR, f->path, f->lineno, "NUL byte in line, ignored");
        buf[0] = '\0';
        return buf;
    }
    memcpy(buf, start, n);
    buf[n] = '\0';
    return trim(decomment(buf));
}

/* Removes a trailing '\' (and the blanks before it); true if there was one. */
static bool cut_continuation(char *s)
{
    size_t n = strlen(s);
    if (!n || s[n - 1] != '\\')
        return false;
    s[n - 1] = '\0';
    trim(s);
    return true;
}

/* Appends the continuation lines of a multiline definition to value (NULL: skip them). */
static void read_continuation(struct ctx *c, struct frame *f, struct sbuf *value)
{
    char buf[CONF_LINE_MAX];
    char *s;
    bool more = true;

    while (more && f && (s = frame_next(c, f, buf))) {
        if (!*s)
            continue;
        more = cut_continuation(s);
        if (value && *s) {
            if (value->n)
                sbuf_putc(value, '\n');
            sbuf_put(value, s, strlen(s));
        }
    }
}

static bool is_definition(const char *s)
{
    size_t n = s[0] == '$' ? name_len(s + 1) : 0;
    return n && s[1 + n] == '=';
}

/* "$NAME=value", multiline when the value ends in '\' and f gives the following lines. */
static void define(struct ctx *c, struct frame *f, char *s)
{
    size_t n = name_len(s + 1);
    char *v = trim(s + n + 2);
    struct sbuf value = {0};

    sbuf_reset(&value);
    if (cut_continuation(v)) {
        sbuf_put(&value, v, strlen(v));
        read_continuation(c, f, &value);
    } else {
        sbuf_put(&value, v, strlen(v));
    }
    def_set(c, s + 1, n, value.p);
    free(value.p);
}

/* "@id rest" / "@^id rest": returns rest when the line applies, else NULL. */
static char *conditional(struct ctx *c, char *s)
{
    bool neg = s[1] == '^';
    char *id = s + 1 + neg;
    size_t n = strcspn(id, conf_ws);
    bool match = strlen(c->config_id) == n && !memcmp(id, c->config_id, n);

    return match != neg ? id + n : NULL;
}

static const char *frame_pwd(struct ctx *c)
{
    struct frame *f = c->frames[c->nframes - 1];
    char buf[PATH_MAX];

    if (f->pwd)
        return f->pwd;
    const char *slash = strrchr(f->path, '/');
    if (f->relative_cwd || !slash) {
        const char *cwd = getcwd(buf, sizeof(buf)) ? buf : ".";
        f->pwd = xstrndup(cwd, strlen(cwd));
        return f->pwd;
    }
    char *dir = xstrndup(f->path, slash == f->path ? 1 : (size_t)(slash - f->path));
    f->pwd = realpath(dir, NULL);
    if (f->pwd)
        free(dir);
    else
        f->pwd = dir;
    return f->pwd;
}

/* Value of a built-in ${_NAME args}, written to out; false if name is no built-in. */
static bool builtin(struct ctx *c, const char *name, size_t n, const char *args, struct sbuf *out)
{
#define IS(lit) (n == sizeof(lit) - 1 && !memcmp(name, lit, n))
    char num[32];

    if (IS("_PWD")) {
        const char *p = frame_pwd(c);
        sbuf_put(out, p, strlen(p));
    } else if (IS("_INSTANCE")) {
        sbuf_put(out, c->config_id, strlen(c->config_id));
    } else if (IS("_HASH")) {
        sbuf_put(out, "\\#", 2);
    } else if (IS("_BANG")) {
        sbuf_put(out, "\\!", 2);
    } else if (IS("_ENV")) {
        const char *e = *args ? getenv(args) : NULL;
        sbuf_put(out, e ? e : "", e ? strlen(e) : 0);
    } else if (IS("_RANDOM")) {
        char *end;
        unsigned long lo = 0, hi = 32767;
        if (*args)
            lo = strtoul(args, &end, 10), args = end;
        if (*trim((char *)args))
            hi = strtoul(args, NULL, 10);
        if (lo > hi)
            hi = lo;
        snprintf(num, sizeof(num), "%lu", lo + (unsigned long)rng_below(&c->rng, hi - lo + 1));
        sbuf_put(out, num, strlen(num));
    } else {
        return false;
    }
    return true;
#undef IS
}

/* Recognises $NAME (followed by whitespace or the end) or ${NAME [args]} at s[0] == '$'.
 * Appends the value to out and returns the length of the reference, or 0 if none. */
static size_t reference(struct ctx *c, const char *s, struct sbuf *out)
{
    bool braced = s[1] == '{';
    size_t n = name_len(s + 1 + braced);
    const char *name = s + 1 + braced, *after = name + n;
    struct conf_def *d = NULL;

    if (!n)
        return 0;
    if (!braced) {
        d = !*after || is_ws(*after) ? def_find(c, name, n) : NULL;
        if (d)
            sbuf_put(out, d->value, strlen(d->value));
        return d ? 1 + n : 0;
    }
    const char *end = strchr(after, '}');
    if (!end || (end != after && !is_ws(*after)) || end - after >= CONF_LINE_MAX)
        return 0;
    if (end == after && (d = def_find(c, name, n))) {
        sbuf_put(out, d->value, strlen(d->value));
        return (size_t)(end - s) + 1;
    }
    char args[CONF_LINE_MAX];
    memcpy(args, after, (size_t)(end - after));
    args[end - after] = '\0';
    return builtin(c, name, n, trim(args), out) ? (size_t)(end - s) + 1 : 0;
}

/* Replaces references in s recursively (a value is rescanned where it was inserted) up to
 * the first newline: the lines of a multiline value are substituted one by one later, when
 * the definitions they depend on have been made. Returns a malloc'd result, or NULL when
 * nothing changed; *failed when a bound tripped (reported). */
static char *substitute(struct ctx *c, const char *s, const struct where *w, bool *failed)
{
    struct sbuf cur = {0}, val = {0};
    unsigned count = 0;

    *failed = false;
    sbuf_put(&cur, s, strlen(s));
    for (size_t i = 0; i < cur.n && cur.p[i] != '\n'; i++) {
        if (cur.p[i] != '$')
            continue;
        sbuf_reset(&val);
        size_t ref = reference(c, cur.p + i, &val);
        if (!ref)
            continue;
        if (++count > CONF_SUBST_MAX || cur.n - ref + val.n > CONF_SUBST_LEN) {
            report(c, DIAG_ERROR, w->file, w->line,
                   "substitution does not end (over %d replacements or %d bytes)", CONF_SUBST_MAX,
                   CONF_SUBST_LEN);
            *failed = true;
            break;
        }
        struct sbuf next = {0};
        sbuf_put(&next, cur.p, i);
        sbuf_put(&next, val.p, val.n);
        sbuf_put(&next, cur.p + i + ref, cur.n - i - ref);
        free(cur.p);
        cur = next;
        i--; /* rescan from the inserted value */
    }
    free(val.p);
    if (!count || *failed) {
        free(cur.p);
        return NULL;
    }
    return cur.p;
}

/* Runs one expanded copy of body through the pipeline. */
static void run_body(struct ctx *c, const char *body, const struct where *w, unsigned depth)
{
    char *copy = xstrndup(body, strlen(body));
    process_line(c, NULL, copy, w, depth + 1);
    free(copy);
}

static bool parse_ll(char *s, long long *v)
{
    char *end;
    s = trim(s);
    errno = 0;
    *v = strtoll(s, &end, 0);
    return *s && !*end && !errno && *v > LLONG_MIN / 4 && *v < LLONG_MAX / 4;
}

/* ~SEQ(var, [start, [step,]] end): fields holds the comma-split spec. */
static bool seq_expand(struct ctx *c, char **fld, int nf, bool hex, const char *body,
                       const struct where *w, unsigned depth)
{
    long long v[3], start, step, end;
    char *var = trim(fld[0]), num[32];

    if (nf < 2 || nf > 4 || name_len(var) != strlen(var))
        return false;
    for (int i = 1; i < nf; i++)
        if (!parse_ll(fld[i], &v[i - 1]))
            return false;
    end = v[nf - 2];
    start = nf >= 3 ? v[0] : (end > 0 ? 1 : end < 0 ? -1 : 0);
    step = nf == 4 ? v[1] : (end >= start ? 1 : -1);
    if (step == 0)
        return false;
    for (long long x = start; step > 0 ? x <= end : x >= end; x += step) {
        if (hex)
            snprintf(num, sizeof(num), "%s%llx", x < 0 ? "-" : "", x < 0 ? -x : x);
        else
            snprintf(num, sizeof(num), "%lld", x);
        def_set(c, var, strlen(var), num);
        run_body(c, body, w, depth);
        if (c->budget_hit || c->abort_line)
            break;
    }
    return true;
}

/* Splits s at top-level commas (not inside {...}) into at most max fields. */
static int split_fields(char *s, char **fld, int max)
{
    int n = 0, nest = 0;

    fld[n++] = s;
    for (; *s; s++) {
        if (*s == '{')
            nest++;
        else if (*s == '}')
            nest--;
        else if (*s == ',' && nest == 0) {
            if (n == max)
                return -1;
            *s = '\0';
            fld[n++] = s + 1;
        }
    }
    return nest == 0 ? n : -1;
}

/* One ~LST item: "x" or "{x, y}"; splits into parts, returns their count or -1. */
static int lst_item(char *s, char **part, int max)
{
    s = trim(s);
    size_t n = strlen(s);
    if (*s != '{')
        return n && !strchr(s, '}') ? (part[0] = s, 1) : -1;
    if (n < 2 || s[n - 1] != '}')
        return -1;
    s[n - 1] = '\0';
    int k = split_fields(s + 1, part, max);
    for (int i = 0; i < k; i++)
        if (*(part[i] = trim(part[i])) == '{')
            return -1;
    return k;
}

enum { LST_VARS = 16, SEQ_FIELDS = 4096 };

/* ~LST(var | {v1, v2}, val | {a, b}, ...) */
static bool lst_expand(struct ctx *c, char **fld, int nf, const char *body, const struct where *w,
                       unsigned depth)
{
    char *var[LST_VARS], *val[LST_VARS];
    int nv = lst_item(fld[0], var, LST_VARS);

    if (nv < 1 || nf < 2)
        return false;
    for (int i = 0; i < nv; i++)
        if (name_len(var[i]) != strlen(var[i]))
            return false;
    for (int i = 1; i < nf && !c->budget_hit && !c->abort_line; i++) {
        if (lst_item(fld[i], val, LST_VARS) != nv)
            return false;
        for (int k = 0; k < nv; k++)
            def_set(c, var[k], strlen(var[k]), val[k]);
        run_body(c, body, w, depth);
    }
    return true;
}

/* "~SEQ(...)", "~SEQx(...)" or "~LST(...)" then a body; false if s is none of these. */
static bool repetition(struct ctx *c, char *s, const struct where *w, unsigned depth)
{
    bool hex = !strncmp(s, "~SEQx(", 6), lst = !strncmp(s, "~LST(", 5);
    bool seq = !strncmp(s, "~SEQ(", 5);
    char *open = s + (hex ? 6 : 5), *close;

    if (!hex && !lst && !seq)
        return false;
    if (!(close = strchr(open, ')'))) {
        report(c, DIAG_ERROR, w->file, w->line, "missing ')' in %.4s", s);
        return true;
    }
    *close = '\0';
    bool failed;
    char *sub = substitute(c, open, w, &failed);
    if (failed)
        return true;
    char *spec = sub ? sub : open, *body = trim(close + 1);
    char **fld = xmalloc(SEQ_FIELDS * sizeof(*fld));
    int nf = split_fields(spec, fld, SEQ_FIELDS);
    bool ok = nf > 0 && (lst ? lst_expand(c, fld, nf, body, w, depth)
                             : seq_expand(c, fld, nf, hex, body, w, depth));
    if (!ok)
        report(c, DIAG_ERROR, w->file, w->line, "invalid %s specification",
               lst   ? "~LST"
               : hex ? "~SEQx"
                     : "~SEQ");
    free(fld);
    free(sub);
    return true;
}

/* The preprocessor pipeline for one logical line (see the file comment). f is the frame
 * the line was read from, so that a multiline definition can read on; NULL for lines made
 * by expansion. s is modified. */
static void process_line(struct ctx *c, struct frame *f, char *s, const struct where *w,
                         unsigned depth)
{
    if (!budget(c, w))
        return;
    if (depth > CONF_EXPAND_DEPTH) {
        report(c, DIAG_ERROR, w->file, w->line, "expansion nested deeper than %d",
               CONF_EXPAND_DEPTH);
        c->abort_line = true;
        return;
    }
    s = trim(decomment(s));
    if (*s == '@') {
        char *rest = conditional(c, s);
        if (!rest) {
            if (is_definition(trim(s + strcspn(s, conf_ws))) && cut_continuation(s))
                read_continuation(c, f, NULL);
            return;
        }
        s = trim(rest);
    }
    if (!*s)
        return;
    if (is_definition(s)) {
        define(c, f, s);
        return;
    }
    if (*s == '~' && repetition(c, s, w, depth))
        return;
    bool failed = false;
    char *sub = strchr(s, '$') ? substitute(c, s, w, &failed) : NULL;
    if (failed)
        return;
    if (!sub) {
        tokenize(c, s, w);
        return;
    }
    for (char *p = sub, *nl; p; p = nl) {
        if ((nl = strchr(p, '\n')))
            *nl++ = '\0';
        process_line(c, NULL, p, w, depth + 1);
    }
    free(sub);
}

/* ---- files and includes -------------------------------------------------------------- */

/* Reads a regular file whole. Returns 0 or -errno. */
static int read_whole(const char *path, char **text, size_t *len)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    int err = 0;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0)
        err = -errno;
    else if (S_ISDIR(st.st_mode))
        err = -EISDIR;
    else if (!S_ISREG(st.st_mode))
        err = -EINVAL;
    else if (st.st_size > CONF_FILE_MAX)
        err = -EFBIG;
    *text = err ? NULL : xmalloc((size_t)st.st_size + 1);
    *len = 0;
    while (!err && *len < (size_t)st.st_size) {
        ssize_t r = read(fd, *text + *len, (size_t)st.st_size - *len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            err = r < 0 ? -errno : 0;
            break;
        }
        *len += (size_t)r;
    }
    close(fd);
    if (err) {
        free(*text);
        *text = NULL;
    }
    return err;
}

static void process_frame(struct ctx *c, struct frame *f);

static void include_file(struct ctx *c, const char *path, unsigned checks, const struct where *w)
{
    char *text;
    size_t len;
    int err;

    if (++c->files_opened > CONF_INCLUDE_FILES) {
        if (c->files_opened == CONF_INCLUDE_FILES + 1)
            report(c, DIAG_ERROR, w->file, w->line, "more than %d included files",
                   CONF_INCLUDE_FILES);
        return;
    }
    if ((err = read_whole(path, &text, &len)) < 0) {
        report(c, checks & INC_READABLE ? DIAG_ERROR : DIAG_WARNING, w->file, w->line,
               "include '%s': %s", path, strerror(-err));
        return;
    }
    struct frame fr = {
        .path = arena_strndup(c->arena, path, strlen(path)),
        .text = text,
        .len = len,
        .checks = c->frames[c->nframes - 1]->checks,
    };
    c->frames[c->nframes++] = &fr;
    process_frame(c, &fr);
    c->nframes--;
    free(fr.pwd);
    free(text);
}

/* The directory part of the current file, glob-escaped, with a trailing '/'; "" when
 * relative paths resolve against the cwd. */
static void include_dir(struct ctx *c, struct sbuf *out)
{
    struct frame *f = c->frames[c->nframes - 1];
    const char *slash = strrchr(f->path, '/');

    if (f->relative_cwd || !slash)
        return;
    for (const char *p = f->path; p <= slash; p++) {
        if (strchr("\\*?[]{}", *p))
            sbuf_putc(out, '\\');
        sbuf_putc(out, *p);
    }
}

/* "include_check [[+|-]OPTION...]" (global_defs): sets, adds or removes include checks for
 * the rest of the current file and the files it includes; no option means all. */
static void include_check(struct ctx *c, const struct conf_node *n)
{
    static const char *const names[] = {"readable", "match", "wildcard_match", "brace_match"};
    if (!c->nframes)
        return;
    unsigned *checks = &c->frames[c->nframes - 1]->checks;
    char mode = '=';
    bool cleared = false;

    for (unsigned i = 1; i < n->argc; i++) {
        const char *w = n->argv[i];
        if (*w == '+' || *w == '-')
            mode = *w++;
        if (!*w)
            continue;
        unsigned only = 0;
        for (unsigned k = 0; k < 4; k++)
            if (!strcmp(w, names[k]))
                only = 1u << k;
        if (!only)
            report(c, DIAG_ERROR, n->file, n->line, "include_check: unknown option '%s'", w);
        else if (mode == '-')
            *checks &= ~only;
        else if (mode == '+')
            *checks |= only | INC_READABLE;
        else if (!cleared)
            *checks = only | INC_READABLE, cleared = true;
        else
            *checks |= only | INC_READABLE;
    }
    if (n->argc == 1)
        *checks = INC_READABLE | INC_MATCH | INC_WILDCARD | INC_BRACE;
}

static void include_glob(struct ctx *c, char *pattern, unsigned checks, const struct where *w)
{
    struct sbuf full = {0};
    glob_t g;

    size_t n = strlen(pattern);
    if (n >= 2 && pattern[0] == '"' && pattern[n - 1] == '"') {
        pattern[n - 1] = '\0';
        pattern++;
    }
    sbuf_reset(&full);
    if (pattern[0] != '/')
        include_dir(c, &full);
    sbuf_put(&full, pattern, strlen(pattern));
    int r = glob(full.p, GLOB_BRACE, NULL, &g);
    if (r == 0) {
        for (size_t i = 0; i < g.gl_pathc && !c->budget_hit; i++)
            include_file(c, g.gl_pathv[i], checks, w);
    } else {
        bool wild = strpbrk(pattern, "*?[") != NULL, brace = strchr(pattern, '{') != NULL;
        bool strict = (checks & INC_WILDCARD) || (!wild && !brace && (checks & INC_MATCH)) ||
                      (brace && (checks & INC_BRACE));
        report(c, strict ? DIAG_ERROR : DIAG_WARNING, w->file, w->line,
               "include '%s': no file matches", full.p);
    }
    if (r == 0 || r == GLOB_NOMATCH)
        globfree(&g);
    free(full.p);
}

/* If s is an include line, handles it and returns true. */
static bool include_line(struct ctx *c, char *s, const struct where *w)
{
    static const struct {
        const char *kw;
        unsigned checks;
    } kinds[] = {
        {"include", 0},
        {"includer", INC_READABLE},
        {"includem", INC_READABLE | INC_MATCH},
        {"includew", INC_READABLE | INC_WILDCARD},
        {"includeb", INC_READABLE | INC_BRACE},
        {"includea", INC_READABLE | INC_MATCH | INC_WILDCARD | INC_BRACE},
    };
    size_t n = strcspn(s, conf_ws);

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strlen(kinds[i].kw) != n || memcmp(s, kinds[i].kw, n))
            continue;
        char *pattern = trim(s + n);
        if (!*pattern)
            report(c, DIAG_ERROR, w->file, w->line, "%s without a file name", kinds[i].kw);
        else if (c->nframes > CONF_INCLUDE_DEPTH)
            report(c, DIAG_ERROR, w->file, w->line, "includes nested deeper than %d",
                   CONF_INCLUDE_DEPTH);
        else
            include_glob(c, pattern, kinds[i].checks | c->frames[c->nframes - 1]->checks, w);
        return true;
    }
    return false;
}

static void process_frame(struct ctx *c, struct frame *f)
{
    char buf[CONF_LINE_MAX];
    char *s;

    while (!c->budget_hit && (s = frame_next(c, f, buf))) {
        struct where w = {f->path, f->lineno};
        c->abort_line = false;
        if (!*s || include_line(c, s, &w))
            continue;
        process_line(c, f, s, &w, 0);
    }
}

/* ---- entry points -------------------------------------------------------------------- */

static void ctx_init(struct ctx *c, const struct conf_opts *opts, struct conf_tree *out,
                     struct diags *diags)
{
    struct utsname u;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a: deterministic ${_RANDOM} per config id */

    *c = (struct ctx){.diags = diags};
    *out = (struct conf_tree){0};
    c->arena = xmalloc(sizeof(*c->arena));
    c->arena->head = NULL;
    out->arena = c->arena;
    if (opts && opts->config_id)
        snprintf(c->config_id, sizeof(c->config_id), "%s", opts->config_id);
    else if (uname(&u) == 0)
        snprintf(c->config_id, sizeof(c->config_id), "%.*s", (int)strcspn(u.nodename, "."),
                 u.nodename);
    for (const char *p = c->config_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    rng_seed(&c->rng, h);
    c->capstack = 16;
    c->stack = xmalloc(c->capstack * sizeof(*c->stack));
    c->stack[0] = (struct block){.tail = &out->first};
}

/* Reports unclosed blocks and frees the parse-time state. */
static void ctx_finish(struct ctx *c)
{
    b_flush(c);
    for (; c->depth > 0; c->depth--) {
        struct block *b = top(c);
        if (b->keyword)
            report(c, DIAG_ERROR, b->at.file, b->at.line,
                   "missing '}' for the '%s' block opened here", b->keyword);
        else
            report(c, DIAG_ERROR, b->at.file, b->at.line, "missing '}' for the '{' here");
    }
    for (size_t i = 0; i < c->ndefs; i++) {
        free(c->defs[i].name);
        free(c->defs[i].value);
    }
    free(c->defs);
    free(c->stack);
    free(c->words);
}

static void parse_frame(struct ctx *c, struct frame *f)
{
    c->frames[c->nframes++] = f;
    process_frame(c, f);
    c->nframes--;
    ctx_finish(c);
    free(f->pwd);
}

int conf_parse_file(const char *path, const struct conf_opts *opts, struct conf_tree *out,
                    struct diags *diags)
{
    struct ctx c;
    char *text;
    size_t len;

    ctx_init(&c, opts, out, diags);
    int err = read_whole(path, &text, &len);
    if (err < 0) {
        diag_add(diags, DIAG_ERROR, path, 0, "cannot read configuration: %s", strerror(-err));
        ctx_finish(&c);
        return err;
    }
    struct frame f = {
        .path = arena_strndup(c.arena, path, strlen(path)),
        .text = text,
        .len = len,
    };
    parse_frame(&c, &f);
    free(text);
    return 0;
}

int conf_parse_buffer(const char *name, const char *text, size_t len, const struct conf_opts *opts,
                      struct conf_tree *out, struct diags *diags)
{
    struct ctx c;

    ctx_init(&c, opts, out, diags);
    struct frame f = {
        .path = arena_strndup(c.arena, name, strlen(name)),
        .text = text,
        .len = len,
        .relative_cwd = true,
    };
    parse_frame(&c, &f);
    return 0;
}

void conf_tree_free(struct conf_tree *t)
{
    struct arena *a = t ? t->arena : NULL;

    if (a) {
        for (struct arena_chunk *c = a->head, *next; c; c = next) {
            next = c->next;
            free(c);
        }
        free(a);
    }
    if (t)
        *t = (struct conf_tree){0};
}
