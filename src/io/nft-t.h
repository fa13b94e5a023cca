/* Types of the no_accept packet filter (src/io/nft.h): the nftables table `inet nospof` that
 * drops traffic to and from the VIPs of masters which do not own their addresses and run with
 * accept mode off (keepalived's no_accept and vrrp_strict).
 *
 * The adapter mirrors the table's set elements in memory, with a reference count per element,
 * so that two holders of one address (two instances, or one instance across a reload) keep it
 * in the kernel until the last lets go, and so that the whole table can be rebuilt from the
 * mirror in one atomic transaction. */
#ifndef NOSPOF_IO_NFT_T_H
#define NOSPOF_IO_NFT_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr-t.h"

/* The table's name, in the inet family. One nospofd per network namespace owns it. */
#define NFT_TABLE_NAME "nospof"

/* Its sets: IPv4 VIPs, IPv6 VIPs, and IPv6 link-local VIPs keyed by address and the index of
 * the interface they live on (a link-local address only means something on its link). */
#define NFT_SET_V4   "vips4"
#define NFT_SET_V6   "vips6"
#define NFT_SET_V6LL "vips6ll"

/* One filtered address. ifindex is used only for an IPv6 link-local address (fe80::/10). */
struct nft_vip {
    struct ip_addr addr;
    int ifindex;
};

struct nft_entry {
    struct nft_vip vip;
    unsigned refs;
};

/* A batch of nfnetlink messages under construction (src/io/nft_msg.h). Every message but
 * the batch delimiters asks for an ACK: acks counts them, and their sequence numbers run from
 * first_seq to seq - 1. overflow is set, and nothing more is written, once cap is reached. */
struct nft_batch {
    uint8_t *buf;
    size_t cap, len;
    size_t cur; /* offset of the message being built */
    uint32_t first_seq, seq;
    unsigned acks;
    bool overflow;
};

struct mnl_socket;

/* The filter of one daemon. Owned by the caller (embed it); nft_filter_init() fills it without
 * any system call, the socket is opened on first use, nft_filter_close() releases it. Not
 * thread-safe: one user (the VRRP manager's thread) at a time. */
struct nft_filter {
    struct mnl_socket *sock;
    uint32_t portid;
    uint32_t seq;           /* sequence number of the last message sent */
    struct nft_entry *ents; /* the mirror: every held address (refs > 0) */
    size_t n, cap;
    bool live;      /* our table is in the kernel and holds exactly the mirror */
    int timeout_ms; /* bound on each wait for the kernel's answers (default 1000) */
};

#endif
