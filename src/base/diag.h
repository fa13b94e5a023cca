/* Diagnostics: a growing list of "file:line: severity: message" records.
 *
 * The config parser and validator append to one list; the caller prints it and decides
 * (an error refuses the config, a warning does not). Allocation failure aborts. */
#ifndef NOSPOF_BASE_DIAG_H
#define NOSPOF_BASE_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum diag_level {
    DIAG_WARNING = 0,
    DIAG_ERROR = 1,
};

struct diag {
    enum diag_level level;
    char *file;    /* owned copy; NULL when not tied to a file */
    unsigned line; /* 0 when not tied to a line */
    char *msg;     /* owned */
};

struct diags {
    struct diag *v;
    size_t n, cap;
    size_t errors;
};

/* Appends a record; file may be NULL. printf-style message. */
void diag_add(struct diags *d, enum diag_level level, const char *file, unsigned line,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Writes every record as "file:line: error: msg" (or "warning:") to f, one per line. */
void diag_print(const struct diags *d, FILE *f);

bool diag_has_errors(const struct diags *d);

/* Frees the records and resets *d to empty; accepts an empty list. */
void diag_clear(struct diags *d);

#endif
