/* The packet data plane's kernel half: LVS-NAT (destination NAT) for TCP and UDP, in two TC
 * programs that share flow maps with user space (nat_abi.h has the layouts).
 *
 * Theory of operation. A connection has two flow entries, written by user space when it
 * schedules the connection's first packet:
 * - nat_fwd, keyed by client -> VIP: at INGRESS the destination becomes the real server. The
 *   rewrite is before routing, so the kernel then routes the packet to the real server
 *   (forwarding it, or delivering it locally when the real server is on this host).
 * - nat_rev, keyed by real server -> client: at EGRESS the source becomes the VIP. The rewrite
 *   is after routing, so a source that is a local address (the VIP) is never seen by the
 *   input path, which would drop it as a martian.
 * On loopback a packet passes egress then ingress; each program looks only at its own map.
 *
 * A packet to a service (nat_svcs) with no flow is the first of a new one: a TCP SYN or any
 * UDP datagram goes up to user space whole through the ring buffer and is dropped here. User
 * space picks a real server with the IPVS scheduler, writes both entries and re-injects the
 * rewritten packet through a raw socket marked NAT_MARK_PASS. A TCP segment without SYN and
 * without a flow is dropped (a stale connection, as IPVS does). A SYN that finds a flow whose
 * FIN or RST was seen, either way, is a new connection on a reused 4-tuple and goes up again.
 *
 * The programs never block and never allocate: two hash lookups per packet, a per-CPU counter
 * and the checksum fix-ups (incremental, so CHECKSUM_PARTIAL packets of local senders stay
 * correct). IP fragments and IPv6 packets with extension headers are passed unchanged. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "nat_abi.h"

char LICENSE[] SEC("license") = "GPL";

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, NAT_MAX_FLOWS);
    __type(key, struct nat_key);
    __type(value, struct nat_flow);
} nat_fwd SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, NAT_MAX_FLOWS);
    __type(key, struct nat_key);
    __type(value, struct nat_flow);
} nat_rev SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, NAT_MAX_SVCS);
    __type(key, struct nat_svc_key);
    __type(value, struct nat_svc);
} nat_svcs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, NAT_UPCALL_RING);
} nat_upcalls SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, NAT_MAX_DESTS);
    __type(key, __u32);
    __type(value, struct nat_dest_ctr);
} nat_dctr SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, NAT_CTR__COUNT);
    __type(key, __u32);
    __type(value, __u64);
} nat_ctr SEC(".maps");

/* Where the parsed packet's fields are, as offsets from skb->data. */
struct pkt {
    struct nat_key key;
    __u32 l3;      /* network header */
    __u32 l4;      /* transport header */
    __u32 csum;    /* transport checksum field */
    __u32 saddr;   /* source address field */
    __u32 daddr;   /* destination address field */
    __u32 alen;    /* address length: 4 or 16 */
    __u8 tcpflags; /* TCP flag byte (octet 13), 0 for UDP */
    __u8 udp0;     /* IPv4 UDP without a checksum: leave it zero */
};

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_ACK 0x10

static __always_inline void count(__u32 idx)
{
    __u64 *c = bpf_map_lookup_elem(&nat_ctr, &idx);

    if (c)
        *c += 1;
}

/* Makes the first len bytes linear, so direct access reaches them; 0 or -1. */
static __always_inline int pull(struct __sk_buff *skb, __u32 len)
{
    if ((void *)(long)skb->data + len <= (void *)(long)skb->data_end)
        return 0;
    if (len > skb->len)
        return -1;
    if (bpf_skb_pull_data(skb, len) < 0)
        return -1;
    return (void *)(long)skb->data + len <= (void *)(long)skb->data_end ? 0 : -1;
}

static __always_inline int parse_l4(struct __sk_buff *skb, struct pkt *p)
{
    if (p->key.proto == IPPROTO_TCP) {
        if (pull(skb, p->l4 + sizeof(struct tcphdr)) < 0)
            return -1;
        struct tcphdr *th = (void *)(long)skb->data + p->l4;
        if ((void *)(th + 1) > (void *)(long)skb->data_end)
            return -1;
        p->key.sport = th->source;
        p->key.dport = th->dest;
        p->tcpflags = ((__u8 *)th)[13];
        p->csum = p->l4 + 16;
        return 0;
    }
    if (p->key.proto == IPPROTO_UDP) {
        if (pull(skb, p->l4 + sizeof(struct udphdr)) < 0)
            return -1;
        struct udphdr *uh = (void *)(long)skb->data + p->l4;
        if ((void *)(uh + 1) > (void *)(long)skb->data_end)
            return -1;
        p->key.sport = uh->source;
        p->key.dport = uh->dest;
        p->udp0 = p->key.family == NAT_AF_INET && uh->check == 0;
        p->csum = p->l4 + 6;
        return 0;
    }
    return -1;
}

static __always_inline int parse_v4(struct __sk_buff *skb, struct pkt *p)
{
    if (pull(skb, p->l3 + sizeof(struct iphdr)) < 0)
        return -1;
    struct iphdr *ip = (void *)(long)skb->data + p->l3;
    if ((void *)(ip + 1) > (void *)(long)skb->data_end || ip->version != 4 || ip->ihl < 5)
        return -1;
    if (ip->frag_off & bpf_htons(0x3fff)) /* MF or an offset: not the whole datagram */
        return 1;
    p->key.family = NAT_AF_INET;
    p->key.proto = ip->protocol;
    p->key.saddr[0] = ip->saddr;
    p->key.daddr[0] = ip->daddr;
    p->saddr = p->l3 + 12;
    p->daddr = p->l3 + 16;
    p->alen = 4;
    p->l4 = p->l3 + ip->ihl * 4;
    return parse_l4(skb, p);
}

static __always_inline int parse_v6(struct __sk_buff *skb, struct pkt *p)
{
    if (pull(skb, p->l3 + sizeof(struct ipv6hdr)) < 0)
        return -1;
    struct ipv6hdr *ip6 = (void *)(long)skb->data + p->l3;
    if ((void *)(ip6 + 1) > (void *)(long)skb->data_end || ip6->version != 6)
        return -1;
    p->key.family = NAT_AF_INET6;
    p->key.proto = ip6->nexthdr; /* an extension header is not TCP/UDP: passed */
    __builtin_memcpy(p->key.saddr, &ip6->saddr, 16);
    __builtin_memcpy(p->key.daddr, &ip6->daddr, 16);
    p->saddr = p->l3 + 8;
    p->daddr = p->l3 + 24;
    p->alen = 16;
    p->l4 = p->l3 + sizeof(struct ipv6hdr);
    return parse_l4(skb, p);
}

/* 0: p describes a TCP or UDP packet; 1: a fragment; -1: anything else. Interfaces are
 * Ethernet or loopback (user space attaches to no other), so the IP header follows 14 bytes
 * of MAC header. */
static __always_inline int parse(struct __sk_buff *skb, struct pkt *p)
{
    __builtin_memset(p, 0, sizeof(*p));
    p->l3 = ETH_HLEN;
    if (skb->protocol == bpf_htons(ETH_P_IP))
        return parse_v4(skb, p);
    if (skb->protocol == bpf_htons(ETH_P_IPV6))
        return parse_v6(skb, p);
    return -1;
}

/* Replaces the address at off (p->alen bytes, old value in old) and the port at port_off with
 * f's, fixing the IPv4 header checksum and the transport checksum (pseudo-header included). */
static __always_inline void rewrite(struct __sk_buff *skb, const struct pkt *p, __u32 off,
                                    const __u32 *old, __u32 port_off, __be16 old_port,
                                    const struct nat_flow *f)
{
    __u64 mangled = p->key.proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
    __s64 diff;

    if (p->alen == 4) {
        diff = bpf_csum_diff((__be32 *)old, 4, (__be32 *)f->addr, 4, 0);
        bpf_l3_csum_replace(skb, p->l3 + 10, 0, diff, 0);
        bpf_skb_store_bytes(skb, off, f->addr, 4, 0);
    } else {
        diff = bpf_csum_diff((__be32 *)old, 16, (__be32 *)f->addr, 16, 0);
        bpf_skb_store_bytes(skb, off, f->addr, 16, 0);
    }
    if (!p->udp0)
        bpf_l4_csum_replace(skb, p->csum, 0, diff, BPF_F_PSEUDO_HDR | mangled);
    if (old_port != f->port) {
        if (!p->udp0)
            bpf_l4_csum_replace(skb, p->csum, old_port, f->port, 2 | mangled);
        bpf_skb_store_bytes(skb, port_off, &f->port, 2, 0);
    }
}

/* Records a packet on flow direction f: time, FIN/RST flags, per-dest bytes. */
static __always_inline void account(struct __sk_buff *skb, const struct pkt *p, struct nat_flow *f,
                                    int out)
{
    __u32 flags = NAT_F_SEEN;

    if (p->tcpflags & TCPF_FIN)
        flags |= NAT_F_FIN;
    if (p->tcpflags & TCPF_RST)
        flags |= NAT_F_RST;
    if ((f->flags & flags) != flags)
        __sync_fetch_and_or(&f->flags, flags);
    f->last_ns = bpf_ktime_get_ns();

    __u32 d = f->dest;
    struct nat_dest_ctr *c = bpf_map_lookup_elem(&nat_dctr, &d);
    if (!c)
        return;
    if (out) {
        c->pkts_out++;
        c->bytes_out += skb->len - p->l3;
    } else {
        c->pkts_in++;
        c->bytes_in += skb->len - p->l3;
    }
}

/* Sends the packet from its IP header up to user space; the caller drops it. */
static __always_inline void upcall(struct __sk_buff *skb, const struct pkt *p)
{
    __u32 len = skb->len - p->l3;

    if (len >= NAT_UPCALL_MAX || len < 20) {
        count(NAT_CTR_TOO_BIG);
        return;
    }
    struct nat_upcall *u = bpf_ringbuf_reserve(&nat_upcalls, sizeof(*u), 0);
    if (!u) {
        count(NAT_CTR_UPCALL_DROPS);
        return;
    }
    u->ifindex = skb->ifindex;
    u->len = len;
    /* the same len (20 <= len < NAT_UPCALL_MAX), in a form the verifier sees as 1..MAX */
    if (bpf_skb_load_bytes(skb, p->l3, u->pkt, ((len - 1) & (NAT_UPCALL_MAX - 1)) + 1) < 0) {
        bpf_ringbuf_discard(u, 0);
        count(NAT_CTR_UPCALL_DROPS);
        return;
    }
    bpf_ringbuf_submit(u, 0);
    count(NAT_CTR_UPCALLS);
}

static __always_inline int new_flow(struct __sk_buff *skb, const struct pkt *p)
{
    struct nat_svc_key sk = {.port = p->key.dport, .family = p->key.family, .proto = p->key.proto};

    __builtin_memcpy(sk.addr, p->key.daddr, 16);
    if (!bpf_map_lookup_elem(&nat_svcs, &sk))
        return TC_ACT_OK;
    if (p->key.proto == IPPROTO_TCP &&
        (p->tcpflags & (TCPF_SYN | TCPF_ACK | TCPF_RST)) != TCPF_SYN) {
        count(NAT_CTR_NO_FLOW);
        return TC_ACT_SHOT;
    }
    upcall(skb, p);
    return TC_ACT_SHOT;
}

/* Whether the connection of p's forward flow f has ended: a FIN or RST went either way. The
 * real server's direction is flagged on its nat_rev entry (real server -> client), which is
 * where a refusal (the server's RST to the SYN) is seen. */
static __always_inline int closed(const struct pkt *p, const struct nat_flow *f)
{
    struct nat_key rk = {
        .sport = f->port, .dport = p->key.sport, .family = p->key.family, .proto = p->key.proto};

    if (f->flags & (NAT_F_FIN | NAT_F_RST))
        return 1;
    __builtin_memcpy(rk.saddr, f->addr, 16);
    __builtin_memcpy(rk.daddr, p->key.saddr, 16);
    struct nat_flow *r = bpf_map_lookup_elem(&nat_rev, &rk);
    return r && (r->flags & (NAT_F_FIN | NAT_F_RST));
}

SEC("tc")
int nat_in(struct __sk_buff *skb)
{
    struct pkt p;

    if (skb->mark == NAT_MARK_PASS)
        return TC_ACT_OK;
    int r = parse(skb, &p);
    if (r == 1)
        count(NAT_CTR_FRAGMENTS);
    if (r != 0)
        return TC_ACT_OK;
    struct nat_flow *f = bpf_map_lookup_elem(&nat_fwd, &p.key);
    if (!f)
        return new_flow(skb, &p);
    if ((p.tcpflags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN && closed(&p, f))
        return new_flow(skb, &p); /* a new connection on a closed one's 4-tuple */
    account(skb, &p, f, 0);
    rewrite(skb, &p, p.daddr, p.key.daddr, p.l4 + 2, p.key.dport, f);
    count(NAT_CTR_FWD);
    return TC_ACT_OK;
}

SEC("tc")
int nat_out(struct __sk_buff *skb)
{
    struct pkt p;

    if (skb->mark == NAT_MARK_PASS)
        return TC_ACT_OK;
    if (parse(skb, &p) != 0)
        return TC_ACT_OK;
    struct nat_flow *f = bpf_map_lookup_elem(&nat_rev, &p.key);
    if (!f)
        return TC_ACT_OK;
    account(skb, &p, f, 1);
    rewrite(skb, &p, p.saddr, p.key.saddr, p.l4, p.key.sport, f);
    count(NAT_CTR_REV);
    return TC_ACT_OK;
}
