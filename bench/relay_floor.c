/* The floor: the least work a user-space TCP relay can do per request, as a reference row for
 * bench/tcp_proxy.sh and bench/http_proxy.sh. Not a product: no timeouts, no backpressure
 * beyond what small request/response traffic needs, no error recovery, one backend, and a
 * blocking connect per accepted client. What it measures is the kernel's cost of relaying
 * (one recv and one send per direction per request) with nothing else on top, so a proxy's
 * distance to it is the part of its cost that design can still remove.
 *
 * usage: relay_floor epoll|uring|uring-ms LISTEN_IP PORT DEST_IP DEST_PORT [THREADS]
 *   epoll     level-triggered epoll, recv and send syscalls (the shape of nospof's data plane)
 *   uring     io_uring: a recv SQE per direction, its completion submits a send SQE
 *   uring-ms  io_uring: multishot recv into a provided-buffer ring, the send as a syscall
 * Each thread has its own SO_REUSEPORT listener. Runs until killed. IPv4 only. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

#define BUF_SIZE 16384

/* One direction of a relayed connection: bytes read from fd are written to peer. */
struct half {
    int fd, peer;
    char buf[BUF_SIZE];
};

static struct sockaddr_in listen_sa, dest_sa;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static int listener(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&listen_sa, sizeof listen_sa) < 0 || listen(fd, 1024) < 0)
        die("listen");
    return fd;
}

/* Connects client fd c to the backend and returns its two halves, both non-blocking. */
static void pair_up(int c, struct half **to_server, struct half **to_client)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    if (s < 0 || connect(s, (struct sockaddr *)&dest_sa, sizeof dest_sa) < 0)
        die("connect");
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(s, F_SETFL, O_NONBLOCK);
    fcntl(c, F_SETFL, O_NONBLOCK);
    *to_server = malloc(sizeof **to_server);
    *to_client = malloc(sizeof **to_client);
    if (!*to_server || !*to_client)
        die("malloc");
    (*to_server)->fd = c;
    (*to_server)->peer = s;
    (*to_client)->fd = s;
    (*to_client)->peer = c;
}

/* Requests and responses here are far below the socket buffer, so one send carries them. */
static void forward(int peer, const char *buf, ssize_t n)
{
    if (send(peer, buf, (size_t)n, MSG_NOSIGNAL) != n)
        fprintf(stderr, "relay_floor: short send\n");
}

static void *epoll_thread(void *unused)
{
    int lfd = listener(), ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, evs[256];

    (void)unused;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            struct half *h = evs[i].data.ptr, *a, *b;
            if (!h) {
                int c = accept4(lfd, NULL, NULL, 0);
                if (c < 0)
                    continue;
                pair_up(c, &a, &b);
                struct epoll_event ea = {.events = EPOLLIN, .data.ptr = a};
                struct epoll_event eb = {.events = EPOLLIN, .data.ptr = b};
                epoll_ctl(ep, EPOLL_CTL_ADD, a->fd, &ea);
                epoll_ctl(ep, EPOLL_CTL_ADD, b->fd, &eb);
                continue;
            }
            ssize_t r = recv(h->fd, h->buf, sizeof h->buf, 0);
            if (r > 0)
                forward(h->peer, h->buf, r);
            else if (r == 0 || errno != EAGAIN)
                close(h->fd); /* the peer half sees the reset; the experiment leaks it */
        }
    }
    return NULL;
}

#ifdef HAVE_LIBURING
enum {
    UD_ACCEPT = 0,
    UD_SEND = 1
}; /* user_data: 0 the listener, else a half, low bit set: a send */

static void uring_init(struct io_uring *ring)
{
    struct io_uring_params p = {.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN};
    if (io_uring_queue_init_params(4096, ring, &p) < 0)
        die("io_uring_queue_init_params");
}

static struct io_uring_sqe *sqe_get(struct io_uring *ring)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

    if (!sqe) {
        io_uring_submit(ring);
        sqe = io_uring_get_sqe(ring);
    }
    return sqe;
}

static void arm_accept(struct io_uring *ring)
{
    struct io_uring_sqe *sqe = sqe_get(ring);

    io_uring_prep_multishot_accept(sqe, listener(), NULL, NULL, 0);
    io_uring_sqe_set_data64(sqe, UD_ACCEPT);
}

static void arm_recv(struct io_uring *ring, struct half *h)
{
    struct io_uring_sqe *sqe = sqe_get(ring);

    io_uring_prep_recv(sqe, h->fd, h->buf, sizeof h->buf, 0);
    io_uring_sqe_set_data(sqe, h);
}

static void uring_complete(struct io_uring *ring, const struct io_uring_cqe *cqe)
{
    uint64_t ud = cqe->user_data;
    struct half *h = (struct half *)(uintptr_t)(ud & ~(uint64_t)UD_SEND), *a, *b;

    if (ud == UD_ACCEPT) {
        if (cqe->res >= 0) {
            pair_up(cqe->res, &a, &b);
            arm_recv(ring, a);
            arm_recv(ring, b);
        }
        return;
    }
    if (ud & UD_SEND) { /* the send is done: read the next request or response */
        arm_recv(ring, h);
        return;
    }
    if (cqe->res <= 0) {
        close(h->fd);
        return;
    }
    struct io_uring_sqe *sqe = sqe_get(ring);
    io_uring_prep_send(sqe, h->peer, h->buf, (size_t)cqe->res, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)h | UD_SEND);
}

static void *uring_thread(void *unused)
{
    struct io_uring ring;
    struct io_uring_cqe *cqe;

    (void)unused;
    uring_init(&ring);
    arm_accept(&ring);
    for (;;) {
        unsigned head, n = 0;
        io_uring_submit_and_wait(&ring, 1);
        io_uring_for_each_cqe(&ring, head, cqe)
        {
            uring_complete(&ring, cqe);
            n++;
        }
        io_uring_cq_advance(&ring, n);
    }
    return NULL;
}

#define MS_BUFS     4096
#define MS_BUF_SIZE 2048

/* A provided-buffer ring: the kernel picks a buffer per multishot recv completion. */
struct buf_pool {
    struct io_uring_buf_ring *br;
    char *mem;
    int added; /* buffers returned since the last advance */
};

static void pool_init(struct io_uring *ring, struct buf_pool *p)
{
    struct io_uring_buf_reg reg = {.ring_entries = MS_BUFS, .bgid = 0};

    p->mem = malloc((size_t)MS_BUFS * MS_BUF_SIZE);
    if (!p->mem || posix_memalign((void **)&p->br, 4096, MS_BUFS * sizeof(struct io_uring_buf)))
        die("malloc");
    io_uring_buf_ring_init(p->br);
    reg.ring_addr = (unsigned long)p->br;
    if (io_uring_register_buf_ring(ring, &reg, 0) < 0)
        die("io_uring_register_buf_ring");
    for (int i = 0; i < MS_BUFS; i++)
        io_uring_buf_ring_add(p->br, p->mem + (size_t)i * MS_BUF_SIZE, MS_BUF_SIZE,
                              (unsigned short)i, io_uring_buf_ring_mask(MS_BUFS), i);
    io_uring_buf_ring_advance(p->br, MS_BUFS);
    p->added = 0;
}

static void pool_give_back(struct buf_pool *p, unsigned bid)
{
    io_uring_buf_ring_add(p->br, p->mem + (size_t)bid * MS_BUF_SIZE, MS_BUF_SIZE,
                          (unsigned short)bid, io_uring_buf_ring_mask(MS_BUFS), p->added++);
}

static void arm_recv_ms(struct io_uring *ring, struct half *h)
{
    struct io_uring_sqe *sqe = sqe_get(ring);

    io_uring_prep_recv_multishot(sqe, h->fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = 0;
    io_uring_sqe_set_data(sqe, h);
}

static void ms_complete(struct io_uring *ring, struct buf_pool *pool,
                        const struct io_uring_cqe *cqe)
{
    struct half *h = io_uring_cqe_get_data(cqe), *a, *b;

    if (cqe->user_data == UD_ACCEPT) {
        if (cqe->res >= 0) {
            pair_up(cqe->res, &a, &b);
            arm_recv_ms(ring, a);
            arm_recv_ms(ring, b);
        }
        return;
    }
    if (cqe->res > 0) {
        unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
        forward(h->peer, pool->mem + (size_t)bid * MS_BUF_SIZE, cqe->res);
        pool_give_back(pool, bid);
    } else if (cqe->res != -ENOBUFS) {
        close(h->fd);
        return;
    }
    if (!(cqe->flags & IORING_CQE_F_MORE)) /* the kernel ended the multishot: re-arm it */
        arm_recv_ms(ring, h);
}

static void *uring_ms_thread(void *unused)
{
    struct io_uring ring;
    struct io_uring_cqe *cqe;
    struct buf_pool pool;

    (void)unused;
    uring_init(&ring);
    pool_init(&ring, &pool);
    arm_accept(&ring);
    for (;;) {
        unsigned head, n = 0;
        io_uring_submit_and_wait(&ring, 1);
        io_uring_for_each_cqe(&ring, head, cqe)
        {
            ms_complete(&ring, &pool, cqe);
            n++;
        }
        io_uring_buf_ring_advance(pool.br, pool.added);
        pool.added = 0;
        io_uring_cq_advance(&ring, n);
    }
    return NULL;
}
#endif

static void *(*thread_for(const char *mode))(void *)
{
    if (strcmp(mode, "epoll") == 0)
        return epoll_thread;
#ifdef HAVE_LIBURING
    if (strcmp(mode, "uring") == 0)
        return uring_thread;
    if (strcmp(mode, "uring-ms") == 0)
        return uring_ms_thread;
#endif
    return NULL;
}

static void parse_addr(const char *ip, const char *port, struct sockaddr_in *sa)
{
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)atoi(port));
    if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1) {
        fprintf(stderr, "relay_floor: bad IPv4 address '%s'\n", ip);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    void *(*run)(void *) = argc >= 6 ? thread_for(argv[1]) : NULL;
    int threads = argc > 6 ? atoi(argv[6]) : 1;
    pthread_t t;

    if (!run || threads < 1) {
        fprintf(stderr,
                "usage: %s epoll|uring|uring-ms LISTEN_IP PORT DEST_IP DEST_PORT "
                "[THREADS]\n(uring modes need a build with liburing)\n",
                argv[0]);
        return 2;
    }
    parse_addr(argv[2], argv[3], &listen_sa);
    parse_addr(argv[4], argv[5], &dest_sa);
    for (int i = 0; i < threads; i++)
        if (pthread_create(&t, NULL, run, NULL) != 0)
            die("pthread_create");
    pthread_exit(NULL);
}
