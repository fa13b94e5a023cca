/* The no_accept filter adapter (see nft.h for the contracts, nft_msg.h for the table).
 *
 * Theory of operation: each change is one nf_tables batch built by nft_msg.c, sent in one
 * sendmsg, and answered by one ACK per message (NETLINK_CAP_ACK keeps them small). The
 * answers are read with poll() bounded by timeout_ms; the first error ends the wait (a batch
 * the kernel refuses as a whole, for lack of CAP_NET_ADMIN, answers only once), and answers
 * left over from an earlier batch are told apart by their sequence numbers and drained before
 * the next one. The kernel only ever holds what the mirror says: a set change that fails is
 * repaired by rebuilding the table from the mirror in one transaction. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "base/addr.h"
#include "nft.h"
#include "nft_msg.h"

#define NFT_TIMEOUT_MS 1000
#define NFT_RX_CAP     8192

void nft_filter_init(struct nft_filter *f)
{
    memset(f, 0, sizeof(*f));
    f->timeout_ms = NFT_TIMEOUT_MS;
}

static int nft_open(struct nft_filter *f)
{
    int on = 1;

    if (f->sock != NULL)
        return 0;
    f->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (f->sock == NULL)
        return -errno;
    if (mnl_socket_bind(f->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
        int err = -errno;
        mnl_socket_close(f->sock);
        f->sock = NULL;
        return err;
    }
    (void)mnl_socket_setsockopt(f->sock, NETLINK_CAP_ACK, &on, sizeof(on));
    f->portid = mnl_socket_get_portid(f->sock);
    if (f->seq == 0)
        f->seq = 1;
    return 0;
}

/* Reads what is left from a batch whose wait ended early. */
static void nft_drain(struct nft_filter *f, uint8_t *buf)
{
    for (int i = 0; i < 64; i++)
        if (mnl_socket_recvfrom(f->sock, buf, NFT_RX_CAP) < 0 && errno != EINTR)
            return;
}

/* Counts the ACKs of batch b in one datagram; *err takes the first error. */
static void nft_count_acks(const struct nft_batch *b, const uint8_t *buf, ssize_t n, unsigned *acks,
                           int *err)
{
    const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
    int len = (int)n;

    for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
        if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq < b->first_seq ||
            nlh->nlmsg_seq >= b->seq || mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nlmsgerr))
            continue;
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
        (*acks)++;
        if (e->error != 0 && *err == 0)
            *err = e->error;
    }
}

/* Waits for every ACK of b, or its first error. */
static int nft_wait(struct nft_filter *f, const struct nft_batch *b, uint8_t *buf)
{
    struct pollfd p = {.fd = mnl_socket_get_fd(f->sock), .events = POLLIN};
    unsigned acks = 0;
    int err = 0;

    while (acks < b->acks && err == 0) {
        ssize_t n = mnl_socket_recvfrom(f->sock, buf, NFT_RX_CAP);
        if (n >= 0) {
            nft_count_acks(b, buf, n, &acks, &err);
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return -errno;
        int r = poll(&p, 1, f->timeout_ms);
        if (r == 0)
            return -ETIMEDOUT;
        if (r < 0 && errno != EINTR)
            return -errno;
    }
    return err;
}

/* Sends batch b and collects its answers. */
static int nft_talk(struct nft_filter *f, struct nft_batch *b)
{
    uint8_t *rx = malloc(NFT_RX_CAP);
    int rc;

    if (rx == NULL)
        return -ENOMEM;
    nft_drain(f, rx);
    f->seq = b->seq;
    rc = mnl_socket_sendto(f->sock, b->buf, b->len) < 0 ? -errno : nft_wait(f, b, rx);
    free(rx);
    return rc;
}

/* Builds a batch with fill(b, ctx) and runs it. */
static int nft_run(struct nft_filter *f, size_t nelems,
                   void (*fill)(struct nft_batch *b, const void *ctx), const void *ctx)
{
    size_t cap = nft_batch_size_hint(nelems);
    uint8_t *buf;
    struct nft_batch b;
    int rc = nft_open(f);

    if (rc < 0)
        return rc;
    if ((buf = malloc(cap)) == NULL)
        return -ENOMEM;
    nft_batch_begin(&b, buf, cap, f->seq);
    fill(&b, ctx);
    rc = nft_batch_end(&b);
    if (rc == 0)
        rc = nft_talk(f, &b);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------ whole table */

static void fill_replace(struct nft_batch *b, const void *ctx)
{
    const struct nft_filter *f = ctx;
    struct nft_vip *v = malloc((f->n + 1) * sizeof(*v));

    if (v == NULL) {
        b->overflow = true;
        return;
    }
    for (size_t i = 0; i < f->n; i++)
        v[i] = f->ents[i].vip;
    nft_batch_table_replace(b);
    nft_batch_elems(b, v, f->n, true, true);
    free(v);
}

int nft_filter_sync(struct nft_filter *f)
{
    int rc = nft_run(f, f->n, fill_replace, f);

    f->live = rc == 0;
    return rc;
}

static void fill_delete(struct nft_batch *b, const void *ctx)
{
    (void)ctx;
    nft_batch_table_delete(b);
}

int nft_filter_delete(struct nft_filter *f)
{
    f->live = false;
    return nft_run(f, 0, fill_delete, NULL);
}

void nft_filter_close(struct nft_filter *f)
{
    if (f == NULL)
        return;
    if (f->sock != NULL)
        mnl_socket_close(f->sock);
    free(f->ents);
    nft_filter_init(f);
}

/* ------------------------------------------------------------------ elements */

static bool vip_eq(const struct nft_vip *a, const struct nft_vip *b)
{
    if (!ip_addr_eq(&a->addr, &b->addr))
        return false;
    return !ip_addr_is_v6_linklocal(&a->addr) || a->ifindex == b->ifindex;
}

static struct nft_entry *find(struct nft_filter *f, const struct nft_vip *v)
{
    for (size_t i = 0; i < f->n; i++)
        if (vip_eq(&f->ents[i].vip, v))
            return &f->ents[i];
    return NULL;
}

/* Adds v to the mirror (refs 0). Returns it, or NULL when out of memory. */
static struct nft_entry *insert(struct nft_filter *f, const struct nft_vip *v)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 16;
        struct nft_entry *e = realloc(f->ents, cap * sizeof(*e));
        if (e == NULL)
            return NULL;
        f->ents = e;
        f->cap = cap;
    }
    f->ents[f->n] = (struct nft_entry){.vip = *v};
    return &f->ents[f->n++];
}

struct elems_ctx {
    const struct nft_vip *v;
    size_t n;
    bool add;
};

static void fill_elems(struct nft_batch *b, const void *ctx)
{
    const struct elems_ctx *c = ctx;
    nft_batch_elems(b, c->v, c->n, c->add, false);
}

/* Sends the n changed addresses when live; repairs the table if that fails. */
static int push(struct nft_filter *f, const struct nft_vip *v, size_t n, bool add)
{
    struct elems_ctx c = {v, n, add};
    int rc;

    if (!f->live || n == 0)
        return 0;
    rc = nft_run(f, n, fill_elems, &c);
    if (rc < 0 && nft_filter_sync(f) == 0)
        return 0;
    return rc;
}

int nft_filter_hold(struct nft_filter *f, const struct nft_vip *v, size_t n)
{
    struct nft_vip *fresh = malloc((n + 1) * sizeof(*fresh));
    size_t k = 0;
    int rc;

    if (fresh == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct nft_entry *e = find(f, &v[i]);
        if (e == NULL && (e = insert(f, &v[i])) == NULL) {
            free(fresh);
            return -ENOMEM;
        }
        if (e->refs++ == 0)
            fresh[k++] = v[i];
    }
    rc = push(f, fresh, k, true);
    free(fresh);
    return rc;
}

int nft_filter_release(struct nft_filter *f, const struct nft_vip *v, size_t n)
{
    struct nft_vip *gone = malloc((n + 1) * sizeof(*gone));
    size_t k = 0;
    int rc;

    if (gone == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct nft_entry *e = find(f, &v[i]);
        if (e == NULL || --e->refs > 0)
            continue;
        gone[k++] = e->vip;
        *e = f->ents[--f->n]; /* order does not matter */
    }
    rc = push(f, gone, k, false);
    free(gone);
    return rc;
}
