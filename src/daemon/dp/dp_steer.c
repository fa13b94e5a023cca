/* Client-address steering across the workers of a persistent service.
 *
 * Persistence templates live in each worker's own table (share-nothing). The kernel spreads
 * connections over the SO_REUSEPORT group by a hash of the 4-tuple, so two connections of
 * one client (two source ports) could land on two workers and be scheduled independently,
 * breaking persistence. For a service with persistence_timeout, a classic BPF program on the
 * reuseport group (SO_ATTACH_REUSEPORT_CBPF) picks the socket from the client's address
 * instead, masked by persistence_granularity: every connection (or UDP datagram) of one
 * client, or of one granularity block, reaches the same worker and so the same template.
 * The program returns an index into the group; an index past its end (a worker still
 * binding) makes the kernel fall back to its own hash. Other services keep the 4-tuple hash,
 * which spreads even a single client's connections over all workers.
 *
 * The program reads the source address relative to the network header (SKF_NET_OFF), which
 * the kernel provides for reuseport programs; IPv6 addresses are folded by XOR of the four
 * masked words. */
#include "daemon/dp/dp_priv.h"

#include <errno.h>
#include <linux/filter.h>
#include <string.h>
#include <sys/socket.h>

#define IP4_SRC_OFF 12 /* RFC 791: source address at octet 12 of the IPv4 header */
#define IP6_SRC_OFF 8  /* RFC 8200: source address at octet 8 of the IPv6 header */

/* The mask of IPv6 word i (0..3, network order words) for a prefix of plen bits. */
static uint32_t v6_word_mask(unsigned i, unsigned plen)
{
    if (plen >= 32 * (i + 1))
        return 0xffffffffu;
    if (plen <= 32 * i)
        return 0;
    return 0xffffffffu << (32 - (plen - 32 * i));
}

unsigned dp_steer_program(const struct dp_svc *svc, unsigned n, struct sock_filter *p)
{
    unsigned k = 0;

    if (svc->addr.family == IP_V4) {
        uint32_t mask = svc->persist_v4_mask ? svc->persist_v4_mask : 0xffffffffu;
        p[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                              (uint32_t)(SKF_NET_OFF + IP4_SRC_OFF));
        p[k++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, mask);
    } else {
        unsigned plen = svc->persist_v6_prefix ? svc->persist_v6_prefix : 128;
        p[k++] = (struct sock_filter)BPF_STMT(BPF_LDX | BPF_W | BPF_IMM, 0);
        for (unsigned i = 0; i < 4; i++) {
            p[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                                  (uint32_t)(SKF_NET_OFF + IP6_SRC_OFF + 4 * i));
            p[k++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, v6_word_mask(i, plen));
            p[k++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0);
            p[k++] = (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0);
        }
    }
    /* Spread the masked address before the modulo: a block of consecutive clients (one /24)
     * would otherwise all share their low bits with the worker count. */
    p[k++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 0x9e3779b1u);
    p[k++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16);
    p[k++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n);
    p[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_A, 0);
    return k;
}

int dp_steer_sync(struct dp_wsvc *ws)
{
    const struct dp_svc *svc = ws->svc;
    unsigned n = ws->w->dp->nworkers;
    bool want = svc && svc->persist_timeout_us > 0 && n > 1;
    struct sock_filter prog[DP_STEER_MAX_INSNS];

    if (ws->fd < 0 || want == ws->steered)
        return 0;
    if (!want) { /* persistence went away on a reload: back to the kernel's 4-tuple hash */
        int zero = 0;
        if (setsockopt(ws->fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &zero, sizeof(zero)) != 0 &&
            errno != ENOENT)
            return -errno;
        ws->steered = false;
        return 0;
    }
    struct sock_fprog fp = {.len = (unsigned short)dp_steer_program(svc, n, prog), .filter = prog};
    if (setsockopt(ws->fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fp, sizeof(fp)) != 0)
        return -errno;
    ws->steered = true;
    return 0;
}
