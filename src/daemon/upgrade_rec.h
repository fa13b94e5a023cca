/* The records of the binary-upgrade hand-over (daemon/upgrade.c), one text line each.
 *
 * The old nospofd sends, in this order, each as one SOCK_SEQPACKET message:
 *   nospof-upgrade 1                      hello: the protocol version
 *   fds N                                 N listening sockets ride on this message (SCM_RIGHTS)
 *   vrrp STATE NAME                       an instance's state: MASTER, BACKUP or FAULT
 *   rs UP DISABLED WEIGHT CHECKS KEY      a real server's health and admin state
 *   end
 * and the new one answers with one of
 *   ready PID                             it serves now; the old one may let go
 *   error TEXT                            it gave up (the old one carries on)
 * UP and DISABLED are 0 or 1; WEIGHT is the nospofctl weight, -1 for the configured one;
 * CHECKS has one letter per checker: U/D up/down after a probe, u/d before any probe ("-"
 * when the server has no checker); KEY (the rest of the line) is the stable dest key of the
 * load-balancer manager ("VS|role|ADDR:PORT"). Fields are separated by one space; NAME and
 * KEY run to the end of the line. Pure code: no syscalls. */
#ifndef NOSPOF_DAEMON_UPGRADE_REC_H
#define NOSPOF_DAEMON_UPGRADE_REC_H

#include <stdbool.h>
#include <stddef.h>

#define UPGRADE_PROTO_VERSION 1
#define UPGRADE_MAX_CHECKS    32
#define UPGRADE_TEXT_MAX      255

enum upgrade_rec_kind {
    UPGRADE_HELLO = 0,
    UPGRADE_FDS,
    UPGRADE_VRRP,
    UPGRADE_RS,
    UPGRADE_END,
    UPGRADE_READY,
    UPGRADE_ERROR,
};

enum upgrade_vrrp_state { UPGRADE_BACKUP = 0, UPGRADE_MASTER, UPGRADE_FAULT };

struct upgrade_rec {
    enum upgrade_rec_kind kind;
    unsigned version; /* HELLO */
    unsigned nfds;    /* FDS: 1..64 */
    enum upgrade_vrrp_state vrrp_state;
    bool up, disabled;                   /* RS */
    int admin_weight;                    /* RS: -1, or 0..65535 */
    char checks[UPGRADE_MAX_CHECKS + 1]; /* RS: "" when the server has no checker */
    long pid;                            /* READY */
    char text[UPGRADE_TEXT_MAX + 1];     /* VRRP name, RS key, ERROR message */
};

/* Parses one record of len bytes (no newline; not NUL-terminated). 0, or -EINVAL for anything
 * malformed: unknown kind, a field out of range, missing or trailing fields, control bytes,
 * an empty or too long NAME/KEY. */
int upgrade_rec_parse(const char *line, size_t len, struct upgrade_rec *out);

/* Formats r into buf (cap bytes, NUL-terminated). Returns the length, or 0 when it does not
 * fit or r is not valid (so that whatever is sent parses). */
size_t upgrade_rec_format(const struct upgrade_rec *r, char *buf, size_t cap);

#endif
