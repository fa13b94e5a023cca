/* Notify FIFO writer (keepalived's notify_fifo): one line per event, never blocking.
 *
 * The FIFO is opened O_RDWR|O_NONBLOCK, so opening never waits for a reader, writing never
 * raises SIGPIPE, and when no reader drains it (or it is full) the line is dropped and
 * counted instead of stalling the daemon. Each line goes out in one write of at most PIPE_BUF
 * bytes, so it is never interleaved or split. */
#ifndef NOSPOF_IO_FIFO_H
#define NOSPOF_IO_FIFO_H

#include <stdint.h>

struct io_fifo {
    int fd;         /* -1 when closed */
    uint64_t lines; /* written */
    uint64_t drops; /* lines dropped (FIFO full or write error) */
};

/* Creates path as a FIFO with mode 0600 when absent and opens it. 0 or -errno (-EEXIST when
 * path exists and is not a FIFO). On failure f->fd is -1. */
int io_fifo_open(struct io_fifo *f, const char *path);

/* Writes line plus '\n' in one write. 0; -EAGAIN when the FIFO is full (counted as a drop);
 * -EMSGSIZE when the line exceeds PIPE_BUF - 1 (dropped); -EBADF when closed; other -errno. */
int io_fifo_write_line(struct io_fifo *f, const char *line);

/* Closes the FIFO (the path stays); accepts a closed f. */
void io_fifo_close(struct io_fifo *f);

#endif
