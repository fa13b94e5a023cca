/* The keepalived-grammar reader: text -> a tree of lines, each remembering file:line.
 *
 * This layer knows the lexical rules of keepalived.conf (research/vrrp.md 1.6): comments,
 * the two quoting regimes, braces anywhere, include with globs, $NAME macros, @id
 * conditionals, ~SEQ/~LST. It knows no keyword's meaning beyond which keywords take
 * script-style quoting. Meaning is given by the validators (cfg_*.c). */
#ifndef NOSPOF_DAEMON_CONF_TREE_H
#define NOSPOF_DAEMON_CONF_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include "base/diag.h"

/* One logical line: a keyword, its arguments, and the block that follows it, if any.
 * "vrrp_instance VI_1 {" gives argv = {"vrrp_instance", "VI_1"} and has_block. Inside a
 * value block ("virtual_ipaddress { ... }") each line is a child whose argv are its words. */
struct conf_node {
    const char *file;        /* path as opened (owned by the tree) */
    unsigned line;           /* 1-based line of the keyword */
    unsigned argc;           /* >= 1 */
    char **argv;             /* argv[0] is the keyword; quotes removed, escapes applied */
    bool has_block;          /* a { ... } followed (possibly empty) */
    struct conf_node *child; /* first node of the block */
    struct conf_node *next;  /* next sibling */
};

struct conf_tree {
    struct conf_node *first; /* first top-level node */
    void *arena;             /* private: owns every node and string */
};

struct conf_opts {
    const char *config_id; /* for @id lines; NULL = hostname up to the first dot */
};

/* Reads path (and its includes) into *out. Lexical errors (unmatched quote or brace, a
 * missing include with a strict include variant, a line over 1024 bytes...) go to diags as
 * errors with file:line; the tree still holds everything that could be read. Returns 0, or
 * a negative errno if path itself cannot be read (also reported in diags). */
int conf_parse_file(const char *path, const struct conf_opts *opts, struct conf_tree *out,
                    struct diags *diags);

/* The same from memory; name is used as the file name in nodes and diagnostics, and
 * relative includes resolve against the current directory. */
int conf_parse_buffer(const char *name, const char *text, size_t len, const struct conf_opts *opts,
                      struct conf_tree *out, struct diags *diags);

/* Frees everything the tree owns; accepts a zeroed tree. */
void conf_tree_free(struct conf_tree *t);

#endif
