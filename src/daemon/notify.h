/* Notifications of VRRP state changes: keepalived's notify scripts and FIFO lines.
 *
 * For a transition of an instance (or sync group) the notifier runs, in this order, the
 * state's own script (notify_master / notify_backup / notify_fault / notify_stop) with only
 * its configured arguments, then the generic `notify` script with four more arguments:
 * INSTANCE|GROUP, the name, the state word (MASTER BACKUP FAULT STOP) and the priority; and it
 * writes `INSTANCE "name" STATE PRIORITY` to notify_fifo and vrrp_notify_fifo. Scripts run
 * without a shell unless the command needs one, as the configured user (or script_user, or
 * keepalived_script, or root), with a timeout, never blocking the loop. With
 * enable_script_security a script that a non-root user could modify is refused (logged);
 * without it such a script still runs after a SECURITY warning, as keepalived does. */
#ifndef NOSPOF_DAEMON_NOTIFY_H
#define NOSPOF_DAEMON_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include "cfg-t.h"
#include "io/fifo.h"
#include "io/script.h"

struct notifier {
    struct io_scripts *scripts;      /* borrowed */
    const struct cfg_global *global; /* borrowed: script_user, security, FIFOs */
    struct io_fifo fifo;             /* notify_fifo */
    struct io_fifo vrrp_fifo;        /* vrrp_notify_fifo */
    uint64_t scripts_run, scripts_failed, scripts_refused;
};

enum notify_who {
    NOTIFY_INSTANCE,
    NOTIFY_GROUP,
};

/* Opens the FIFOs the global config names (and starts their *_fifo_script consumers).
 * Failures are logged; the notifier still works without them. */
void notify_init(struct notifier *n, struct io_scripts *scripts, const struct cfg_global *g);

/* Closes the FIFOs. Accepts a zeroed notifier. */
void notify_fini(struct notifier *n);

/* The word keepalived uses for a state in notifications ("MASTER", "BACKUP", "FAULT",
 * "STOP"); INIT reports as "BACKUP". */
const char *notify_state_word(enum vrrp_state s);

/* Formats a FIFO line without the newline: `INSTANCE "VI_1" MASTER 100`. Returns the length
 * (truncated to cap - 1 like snprintf). */
int notify_fifo_line(char *buf, size_t cap, enum notify_who who, const char *name, const char *word,
                     int priority);

/* Announces that instance or group `name` entered state `to` with `priority`:
 * specific is the state's own script (may be NULL or empty), generic the `notify` script. */
void notify_transition(struct notifier *n, enum notify_who who, const char *name,
                       const struct cfg_cmd *specific, const struct cfg_cmd *generic,
                       const char *word, int priority);

/* Runs one configured command with extra arguments (NULL-safe: an unset command does
 * nothing). Returns 0 when started or nothing to do, -errno otherwise (logged). */
int notify_run(struct notifier *n, const struct cfg_cmd *cmd, const char *const *extra,
               size_t nextra);

/* keepalived's enable_script_security for a command about to run as uid: true when it must be
 * refused (logged as an error); without the option an insecure root script is logged as a
 * SECURITY VIOLATION and allowed (false). */
bool notify_refuse_insecure(struct notifier *n, const char *cmdline, uid_t uid);

#endif
