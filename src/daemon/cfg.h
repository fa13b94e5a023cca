/* Config loading: file -> conf_tree -> validated struct cfg. */
#ifndef NOSPOF_DAEMON_CFG_H
#define NOSPOF_DAEMON_CFG_H

#include "base/diag.h"
#include "cfg-t.h"
#include "conf_tree.h"

/* Validates a tree into a new cfg. Every problem is a diag with file:line: errors for what
 * nospof refuses (bad values, missing required keywords, DR/TUN...), warnings for keywords
 * keepalived knows that nospof does not implement yet (naming the keyword), and the loud
 * warnings keepalived users need (state MASTER clearing nopreempt, vrrp_strict without
 * accept...). Returns the cfg (never NULL); the caller checks diag_has_errors(). */
struct cfg *cfg_from_tree(const struct conf_tree *tree, struct diags *diags);

/* conf_parse_file + cfg_from_tree. Returns NULL only if nothing could be read. */
struct cfg *cfg_load_file(const char *path, const struct conf_opts *opts, struct diags *diags);

/* Shared ownership across threads (the VRRP and LB managers read one config): cfg_hold adds
 * a holder and returns cfg; cfg_release drops one and frees the cfg with the last. A loaded
 * cfg has one holder. Accepts NULL (release). */
struct cfg *cfg_hold(struct cfg *cfg);
void cfg_release(struct cfg *cfg);

/* Frees a cfg at once, whatever its holders; accepts NULL. */
void cfg_free(struct cfg *cfg);

/* Lookups by name; NULL when absent. */
const struct cfg_script *cfg_find_script(const struct cfg *cfg, const char *name);
const struct cfg_track_file *cfg_find_track_file(const struct cfg *cfg, const char *name);
const struct cfg_instance *cfg_find_instance(const struct cfg *cfg, const char *name);

#endif
