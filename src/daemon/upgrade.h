/* Binary upgrade without dropping anything: `nospofctl upgrade [BINARY]`.
 *
 * Theory of operation. The running (old) nospofd forks and executes the new binary with the
 * same options plus `--upgrade-fd N`, the child's end of a SOCK_SEQPACKET socketpair. Over it
 * the old process hands over (upgrade_rec.h):
 *   - every listening socket: the data plane's per-worker SO_REUSEPORT TCP listeners and UDP
 *     service sockets, the control socket, the status listener (SCM_RIGHTS; the new process
 *     adopts them through io/inherit.h instead of binding, so a connection queued in a
 *     listener's backlog during the switch is accepted by the new process, never reset);
 *   - the state of every VRRP instance (a MASTER resumes as MASTER in the new process at once:
 *     an advert, no GARP, the VIPs never leave the interface);
 *   - the health and admin state of every real server (a server that was down stays down
 *     until its check passes; `nospofctl weight/disable` survive).
 * The new process loads the config, starts its managers on what it inherited and answers
 * "ready PID". Only then does the old one let go: it tells systemd the new MAINPID, stops
 * accepting (closing its copies of the sockets), stops VRRP without a priority-0 advert and
 * without touching the VIPs (vmgr_request_abandon), stops its checks, and lets its
 * established connections finish (HTTP clients get "Connection: close" on their next
 * response) for up to nospof_upgrade_drain_timeout before it exits. If the new process fails
 * or stays silent (UPGRADE_READY_TIMEOUT_MS), it is killed and the old one carries on as if
 * nothing happened: nothing is given up before "ready". */
#ifndef NOSPOF_DAEMON_UPGRADE_H
#define NOSPOF_DAEMON_UPGRADE_H

#include <stddef.h>
#include <sys/types.h>

#include "upgrade_rec.h"

#define UPGRADE_READY_TIMEOUT_MS 30000
#define UPGRADE_MSG_TIMEOUT_MS   5000

/* What one process hands over: records and the descriptors (owned, closed by _free). */
struct upgrade_state {
    struct upgrade_rec *recs;
    size_t nrecs, caprecs;
    int *fds;
    size_t nfds, capfds;
};

/* Appends a copy of r. Aborts on out-of-memory, like the rest of the daemon. */
void upgrade_state_add(struct upgrade_state *st, const struct upgrade_rec *r);

/* Appends a duplicate (F_DUPFD_CLOEXEC) of fd. 0 or -errno. */
int upgrade_state_add_fd(struct upgrade_state *st, int fd);

/* The VRRP record of instance name, or NULL. */
const struct upgrade_rec *upgrade_state_vrrp(const struct upgrade_state *st, const char *name);

/* The real-server record of key, or NULL. */
const struct upgrade_rec *upgrade_state_rs(const struct upgrade_state *st, const char *key);

/* Frees the records and closes the descriptors; st is empty afterwards. Accepts NULL. */
void upgrade_state_free(struct upgrade_state *st);

/* Called while the old side waits for the new process (about once a second): lets the caller
 * keep its systemd watchdog fed. */
typedef void upgrade_wait_fn(void *ctx);

/* The descriptor number of the hand-over socket in the new process (--upgrade-fd). */
#define UPGRADE_CHILD_FD 3

/* Old side: executes argv[0] with argv (NULL-terminated; it must ask for --upgrade-fd
 * UPGRADE_CHILD_FD) in a child that keeps no other descriptor than 0-2 and the socket, with
 * an empty signal mask, and hands st over. Returns the new process's pid once it reported ready;
 * else -errno with a reason in err (the child was killed and reaped; nothing changed). */
pid_t upgrade_start(char *const *argv, const struct upgrade_state *st, upgrade_wait_fn *wait,
                    void *ctx, char *err, size_t errcap);

/* New side: receives the hand-over on sock into st (records; descriptors are filed with
 * io_inherit_add). 0, or -errno with a reason in err. */
int upgrade_receive(int sock, struct upgrade_state *st, char *err, size_t errcap);

/* New side: tells the old process we serve now (pid) or why we give up (msg); closes sock. */
void upgrade_ready(int sock);
void upgrade_fail(int sock, const char *msg);

#endif
