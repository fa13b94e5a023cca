/* The emit-only JSON writer's state (see json.h). */
#ifndef NOSPOF_BASE_JSON_T_H
#define NOSPOF_BASE_JSON_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 64 /* nesting of objects and arrays */

/* A JSON text being written into a growable, always NUL-terminated buffer that the writer
 * owns until json_w_take. Zero-initialised ({0}) is a valid empty writer. */
struct json_w {
    char *buf;
    size_t len, cap;
    unsigned depth;     /* open objects and arrays */
    uint64_t has_items; /* bit d: the container at depth d+1 already holds a member */
    bool after_key;     /* a key was written; its value comes next */
};

#endif
