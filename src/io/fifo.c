/* Notify FIFO writer (see fifo.h). */
#include "io/fifo.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int io_fifo_open(struct io_fifo *f, const char *path)
{
    struct stat st;

    *f = (struct io_fifo){.fd = -1};
    if (mkfifo(path, 0600) != 0) {
        if (errno != EEXIST)
            return -errno;
        if (stat(path, &st) != 0)
            return -errno;
        if (!S_ISFIFO(st.st_mode))
            return -EEXIST; /* never open a device or regular file by mistake */
    }
    f->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (f->fd < 0)
        return -errno;
    int err = fstat(f->fd, &st) != 0 ? -errno : S_ISFIFO(st.st_mode) ? 0 : -EEXIST;
    if (err)
        io_fifo_close(f);
    return err;
}

int io_fifo_write_line(struct io_fifo *f, const char *line)
{
    char buf[PIPE_BUF];
    size_t n = strlen(line);

    if (f->fd < 0)
        return -EBADF;
    if (n + 1 > sizeof(buf)) {
        f->drops++;
        return -EMSGSIZE;
    }
    memcpy(buf, line, n);
    buf[n++] = '\n';
    ssize_t w = write(f->fd, buf, n);
    if (w == (ssize_t)n) {
        f->lines++;
        return 0;
    }
    f->drops++;
    return w < 0 ? -errno : -EIO; /* a pipe write <= PIPE_BUF is never partial */
}

void io_fifo_close(struct io_fifo *f)
{
    if (f && f->fd >= 0)
        close(f->fd);
    if (f)
        f->fd = -1;
}
