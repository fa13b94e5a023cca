/* The contract between the packet data plane's BPF programs (nat.bpf.c, run by the kernel at
 * TC ingress and egress) and user space (io/pkt_nat.c, daemon/dp/dp_pkt.c): map layouts,
 * upcall records and counter indexes. Included by both sides, so only fixed-width kernel
 * types (linux/types.h) and no padding the two compilers could lay out differently.
 *
 * Addresses are in network order; an IPv4 address is word 0 of a 4-word array with the other
 * words zero. Ports are in network order. */
#ifndef NOSPOF_IO_BPF_NAT_ABI_H
#define NOSPOF_IO_BPF_NAT_ABI_H

#include <linux/types.h>

/* Sizes of the maps (the flow maps can be resized by user space before loading). */
#define NAT_MAX_FLOWS   65536u /* per direction; LRU: the least recently used is evicted */
#define NAT_MAX_SVCS    4096u
#define NAT_MAX_DESTS   8192u /* dest ids at or above this are not counted per dest */
#define NAT_UPCALL_MAX  2048u /* first packets of this size or more are dropped (IP header on) */
#define NAT_UPCALL_RING (4u << 20)

/* skb->mark of the packets user space re-injects (raw socket SO_MARK): the programs let them
 * through untouched, so a re-injected packet cannot loop back up. */
#define NAT_MARK_PASS 0x6e6f7370u /* "nosp" */

#define NAT_AF_INET  4
#define NAT_AF_INET6 6

/* A flow direction's 5-tuple as seen on the wire. */
struct nat_key {
    __u32 saddr[4];
    __u32 daddr[4];
    __be16 sport;
    __be16 dport;
    __u8 family; /* NAT_AF_INET or NAT_AF_INET6 */
    __u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
    __u8 pad[2];
};

/* Flags the programs set on a flow direction (atomically OR-ed). */
#define NAT_F_FIN  0x1u /* a FIN went this way */
#define NAT_F_RST  0x2u /* a RST went this way */
#define NAT_F_SEEN 0x4u /* a packet went this way after the first (reply seen, for reverse) */

/* What to write into a matching packet: the new destination (forward map, at ingress: client
 * to VIP becomes client to real server) or the new source (reverse map, at egress: real server
 * to client becomes VIP to client). */
struct nat_flow {
    __u32 addr[4];
    __be16 port;
    __u16 pad;
    __u32 dest;  /* the dest id (per-dest counters) */
    __u32 flags; /* NAT_F_* */
    __u32 pad2;
    __u64 last_ns; /* bpf_ktime_get_ns of the last packet */
};

/* A virtual service handled by the packet plane: VIP, port, protocol. */
struct nat_svc_key {
    __u32 addr[4];
    __be16 port;
    __u8 family;
    __u8 proto;
};

struct nat_svc {
    __u32 id; /* user space's index of the service */
    __u32 pad;
};

/* A new flow's first packet, sent up through the ring buffer for scheduling. */
struct nat_upcall {
    __u32 ifindex;
    __u32 len; /* bytes of pkt in use: the packet from its IP header */
    __u8 pkt[NAT_UPCALL_MAX];
};

/* Per-dest counters (per-CPU array indexed by dest id). */
struct nat_dest_ctr {
    __u64 pkts_in, bytes_in;   /* client -> real server */
    __u64 pkts_out, bytes_out; /* real server -> client */
};

/* Global counters (per-CPU array). */
enum nat_ctr {
    NAT_CTR_UPCALLS = 0,  /* first packets sent up */
    NAT_CTR_UPCALL_DROPS, /* ring full: the packet was dropped (the client retransmits) */
    NAT_CTR_TOO_BIG,      /* a first packet over NAT_UPCALL_MAX: dropped */
    NAT_CTR_NO_FLOW,      /* TCP non-SYN to a service with no flow: dropped */
    NAT_CTR_FWD,          /* packets rewritten client -> real server */
    NAT_CTR_REV,          /* packets rewritten real server -> client */
    NAT_CTR_FRAGMENTS,    /* IPv4 fragments seen at ingress: passed as they are */
    NAT_CTR__COUNT,
};

#endif
