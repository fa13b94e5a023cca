/* Messages with file descriptors over a UNIX SOCK_SEQPACKET socket (SCM_RIGHTS).
 *
 * Used by the binary upgrade (daemon/upgrade.c): each message is one datagram-like record of
 * at most IO_FDPASS_MAX_MSG bytes carrying up to IO_FDPASS_MAX_FDS descriptors. The kernel
 * duplicates the descriptors into the receiver, so the sender keeps its own. */
#ifndef NOSPOF_IO_FDPASS_H
#define NOSPOF_IO_FDPASS_H

#include <stddef.h>

#define IO_FDPASS_MAX_MSG 4096
#define IO_FDPASS_MAX_FDS 64

/* Sends len bytes (1..IO_FDPASS_MAX_MSG) and nfds (<= IO_FDPASS_MAX_FDS) descriptors as one
 * message, waiting at most timeout_ms for room. 0 or -errno. */
int io_fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds,
                   int timeout_ms);

/* Receives one message into buf (cap bytes; a longer one is an error, -EMSGSIZE) and its
 * descriptors into fds (cap_fds; the caller owns them, O_CLOEXEC set). Waits at most
 * timeout_ms. Returns the message length (0 when the peer closed), or -errno; on error any
 * received descriptor is closed and *nfds is 0. */
long io_fdpass_recv(int sock, void *buf, size_t cap, int *fds, size_t cap_fds, size_t *nfds,
                    int timeout_ms);

#endif
