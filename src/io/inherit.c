/* The registry of sockets inherited over a binary upgrade (see inherit.h). */
#include "io/inherit.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/addr.h"
#include "io/log.h"

struct inherited {
    int fd;
    int type; /* SOCK_STREAM or SOCK_DGRAM */
    bool listening;
    struct ip_addr addr; /* family IP_NONE for a UNIX socket */
    uint16_t port;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct inherited *items;
static size_t nitems;

static int sockopt_int(int fd, int name)
{
    int v = 0;
    socklen_t len = sizeof(v);
    return getsockopt(fd, SOL_SOCKET, name, &v, &len) == 0 ? v : -1;
}

/* Reads what fd is bound to into it. 0 or -errno. */
static int describe(int fd, struct inherited *it)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    memset(it, 0, sizeof(*it));
    it->fd = fd;
    it->type = sockopt_int(fd, SO_TYPE);
    it->listening = sockopt_int(fd, SO_ACCEPTCONN) == 1;
    if (it->type != SOCK_STREAM && it->type != SOCK_DGRAM)
        return -ENOTSOCK;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -errno;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
        it->addr = ip_addr_from_v4((const uint8_t *)&sin->sin_addr);
        it->port = ntohs(sin->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
        it->addr = ip_addr_from_v6(sin6->sin6_addr.s6_addr);
        it->port = ntohs(sin6->sin6_port);
    } else if (ss.ss_family == AF_UNIX && len > offsetof(struct sockaddr_un, sun_path)) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)&ss;
        size_t n = strnlen(sun->sun_path, len - offsetof(struct sockaddr_un, sun_path));
        if (n == 0 || n >= sizeof(it->path))
            return -EAFNOSUPPORT; /* abstract or unnamed */
        memcpy(it->path, sun->sun_path, n);
    } else {
        return -EAFNOSUPPORT;
    }
    return 0;
}

int io_inherit_add(int fd)
{
    struct inherited it;
    int err = describe(fd, &it);

    if (err) {
        close(fd);
        return err;
    }
    pthread_mutex_lock(&mu);
    struct inherited *v = realloc(items, (nitems + 1) * sizeof(*items));
    if (v) {
        items = v;
        items[nitems++] = it;
    }
    pthread_mutex_unlock(&mu);
    if (!v) {
        close(fd);
        return -ENOMEM;
    }
    return 0;
}

/* Removes item i (the lock held) and returns its fd. */
static int take_at(size_t i)
{
    int fd = items[i].fd;
    items[i] = items[--nitems];
    if (nitems == 0) {
        free(items);
        items = NULL;
    }
    return fd;
}

int io_inherit_take_inet(int type, const struct ip_addr *addr, uint16_t port)
{
    int fd = -1;

    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < nitems; i++) {
        const struct inherited *it = &items[i];
        if (it->type == type && it->port == port && ip_addr_eq(&it->addr, addr) &&
            (type != SOCK_STREAM || it->listening)) {
            fd = take_at(i);
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    return fd;
}

int io_inherit_take_unix(const char *path)
{
    int fd = -1;

    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < nitems; i++) {
        if (items[i].addr.family == IP_NONE && items[i].listening &&
            strcmp(items[i].path, path) == 0) {
            fd = take_at(i);
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    return fd;
}

size_t io_inherit_close_rest(void)
{
    size_t n;

    pthread_mutex_lock(&mu);
    n = nitems;
    for (size_t i = 0; i < nitems; i++) {
        char a[IP_ADDR_STRLEN];
        const struct inherited *it = &items[i];
        if (it->addr.family == IP_NONE)
            log_notice("upgrade: inherited socket %s is not used by this configuration; closed",
                       it->path);
        else
            log_notice("upgrade: inherited %s socket %s port %u is not used by this "
                       "configuration; closed",
                       it->type == SOCK_STREAM ? "tcp" : "udp",
                       ip_addr_format(&it->addr, a, sizeof(a)), it->port);
        close(it->fd);
    }
    free(items);
    items = NULL;
    nitems = 0;
    pthread_mutex_unlock(&mu);
    return n;
}

size_t io_inherit_count(void)
{
    pthread_mutex_lock(&mu);
    size_t n = nitems;
    pthread_mutex_unlock(&mu);
    return n;
}
