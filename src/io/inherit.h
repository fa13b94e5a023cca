/* Sockets inherited from the previous nospofd during a binary upgrade (`nospofctl upgrade`).
 *
 * The old process hands its listening sockets over SCM_RIGHTS (daemon/upgrade.c); the new one
 * files each here under the key the kernel reports for it (getsockname and SO_TYPE, never
 * what a message claims), and every place that would bind a socket asks here first: the data
 * plane's per-worker SO_REUSEPORT listeners and UDP service sockets, the control socket and
 * the status listener. Taking an inherited socket instead of binding a new one is what makes
 * the upgrade lossless: a connection queued on a listener stays queued, because the socket
 * itself lives on in the new process. What nobody took once the new process is ready is closed
 * by io_inherit_close_rest (and logged), so a listener the new config dropped goes away.
 *
 * A process-wide registry (there is one upgrade per process life), guarded by a mutex: the
 * data-plane workers take their sockets on their own threads. */
#ifndef NOSPOF_IO_INHERIT_H
#define NOSPOF_IO_INHERIT_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr-t.h"

/* Files fd (ownership passes to the registry). The socket's type, family, address, port or
 * UNIX path are read from the kernel. 0, or -errno (fd closed) when it is not a bound socket
 * the registry understands. */
int io_inherit_add(int fd);

/* Takes an inherited IPv4/IPv6 socket of type (SOCK_STREAM or SOCK_DGRAM) bound to addr:port;
 * the caller owns the returned fd. A stream socket is only returned if it listens. -1 when
 * there is none left. */
int io_inherit_take_inet(int type, const struct ip_addr *addr, uint16_t port);

/* Takes an inherited listening UNIX stream socket bound to path; -1 when none. */
int io_inherit_take_unix(const char *path);

/* Closes every socket nobody took, logging each at notice level. Returns how many. */
size_t io_inherit_close_rest(void);

/* How many sockets are filed and not taken yet. */
size_t io_inherit_count(void);

#endif
