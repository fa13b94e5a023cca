/* Diagnostics list. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        abort(); /* config-time allocation: out of memory is fatal (DESIGN.md 7) */
    return q;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xrealloc(NULL, n), s, n);
}

void diag_add(struct diags *d, enum diag_level level, const char *file, unsigned line,
              const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
    }
    d->v[d->n++] = (struct diag){
        .level = level,
        .file = file ? xstrdup(file) : NULL,
        .line = line,
        .msg = xstrdup(buf),
    };
    if (level == DIAG_ERROR)
        d->errors++;
}

void diag_print(const struct diags *d, FILE *f)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct diag *g = &d->v[i];
        const char *lvl = g->level == DIAG_ERROR ? "error" : "warning";

        if (g->file && g->line)
            fprintf(f, "%s:%u: %s: %s\n", g->file, g->line, lvl, g->msg);
        else if (g->file)
            fprintf(f, "%s: %s: %s\n", g->file, lvl, g->msg);
        else
            fprintf(f, "%s: %s\n", lvl, g->msg);
    }
}

bool diag_has_errors(const struct diags *d)
{
    return d->errors > 0;
}

void diag_clear(struct diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].msg);
    }
    free(d->v);
    *d = (struct diags){0};
}
