/* Builders of the no_accept filter's nfnetlink messages (see nft_msg.h for the table).
 *
 * Theory of operation: an nf_tables change is a batch, NFNL_MSG_BATCH_BEGIN ... BATCH_END,
 * that the kernel applies as one transaction. Every message in between carries an nfgenmsg
 * header (the family: inet for the table, chains and rules) and netlink attributes; rules are
 * lists of expressions that load packet or metadata bytes into registers, compare or look
 * them up in a set, and end with a verdict. Registers: NFT_REG_1 holds an address (16 bytes
 * at most), and a concatenated key address . interface takes the interface index in the
 * 32-bit register that follows (NFT_REG_2), which is how the kernel reads a 20-byte key from
 * NFT_REG_1. The writers below stop at the buffer's end and flag the batch as overflowed
 * instead of writing past it. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "base/addr.h"
#include "nft_msg.h"

/* nft's datatype numbers (its include/datatype.h), so that `nft list` prints the sets. */
#define NFT_TYPE_IPADDR  7
#define NFT_TYPE_IP6ADDR 8
#define NFT_TYPE_IFINDEX 20
#define NFT_TYPE_BITS    6

#define NFT_CHAIN_PRIO (-1) /* before the usual filter chains (priority 0), as keepalived */

#define ICMPV6_PROTO 58
#define ND_SOLICIT   135
#define ND_ADVERT    136
#define OFF4_SADDR   12
#define OFF4_DADDR   16
#define OFF6_SADDR   8
#define OFF6_DADDR   24

/* Batch-local ids of the three sets, for the rules and elements of the batch creating them. */
enum { SET_ID_V4 = 1, SET_ID_V6, SET_ID_V6LL };

/* ------------------------------------------------------------------ writers */

static struct nlmsghdr *cur(struct nft_batch *b)
{
    return (struct nlmsghdr *)(b->buf + b->cur);
}

static size_t room(const struct nft_batch *b)
{
    return b->cap - b->cur;
}

static void msg_start(struct nft_batch *b, uint16_t type, uint16_t flags, uint8_t family,
                      uint16_t res_id)
{
    struct nlmsghdr *nlh;
    struct nfgenmsg *g;

    if (b->overflow || b->cap - b->len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*g))) {
        b->overflow = true;
        return;
    }
    b->cur = b->len;
    nlh = mnl_nlmsg_put_header(b->buf + b->len);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
    nlh->nlmsg_seq = b->seq++;
    g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
    g->nfgen_family = family;
    g->version = NFNETLINK_V0;
    g->res_id = htons(res_id);
    if (flags & NLM_F_ACK)
        b->acks++;
}

static void msg_end(struct nft_batch *b)
{
    if (!b->overflow)
        b->len += MNL_ALIGN(cur(b)->nlmsg_len);
}

/* Starts an nf_tables message of type with flags (NLM_F_ACK added) in the inet family. */
static void nft_start(struct nft_batch *b, uint16_t type, uint16_t flags)
{
    msg_start(b, (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | type), (uint16_t)(flags | NLM_F_ACK),
              NFPROTO_INET, 0);
}

static void put(struct nft_batch *b, uint16_t type, size_t len, const void *data)
{
    if (!b->overflow && !mnl_attr_put_check(cur(b), room(b), type, len, data))
        b->overflow = true;
}

static void put_str(struct nft_batch *b, uint16_t type, const char *s)
{
    put(b, type, strlen(s) + 1, s);
}

static void put_be32(struct nft_batch *b, uint16_t type, uint32_t v)
{
    uint32_t be = htonl(v);
    put(b, type, sizeof(be), &be);
}

static struct nlattr *nest(struct nft_batch *b, uint16_t type)
{
    struct nlattr *a = NULL;

    if (!b->overflow && !(a = mnl_attr_nest_start_check(cur(b), room(b), type)))
        b->overflow = true;
    return a;
}

static void nest_end(struct nft_batch *b, struct nlattr *a)
{
    if (!b->overflow)
        mnl_attr_nest_end(cur(b), a);
}

/* NFTA_DATA_VALUE inside a nest of type (a compared value, a set key). */
static void put_value(struct nft_batch *b, uint16_t type, const void *data, size_t len)
{
    struct nlattr *n = nest(b, type);
    put(b, NFTA_DATA_VALUE, len, data);
    nest_end(b, n);
}

/* ------------------------------------------------------------------ expressions */

/* Opens one expression of a rule; the caller writes its data and calls expr_end(). */
static struct nlattr *expr_start(struct nft_batch *b, const char *name, struct nlattr **data)
{
    struct nlattr *e = nest(b, NFTA_LIST_ELEM);
    put_str(b, NFTA_EXPR_NAME, name);
    *data = nest(b, NFTA_EXPR_DATA);
    return e;
}

static void expr_end(struct nft_batch *b, struct nlattr *e, struct nlattr *data)
{
    nest_end(b, data);
    nest_end(b, e);
}

static void expr_meta(struct nft_batch *b, uint32_t key, uint32_t dreg)
{
    struct nlattr *d, *e = expr_start(b, "meta", &d);
    put_be32(b, NFTA_META_KEY, key);
    put_be32(b, NFTA_META_DREG, dreg);
    expr_end(b, e, d);
}

static void expr_payload(struct nft_batch *b, uint32_t base, uint32_t off, uint32_t len)
{
    struct nlattr *d, *e = expr_start(b, "payload", &d);
    put_be32(b, NFTA_PAYLOAD_DREG, NFT_REG_1);
    put_be32(b, NFTA_PAYLOAD_BASE, base);
    put_be32(b, NFTA_PAYLOAD_OFFSET, off);
    put_be32(b, NFTA_PAYLOAD_LEN, len);
    expr_end(b, e, d);
}

static void expr_cmp(struct nft_batch *b, uint32_t op, const void *data, size_t len)
{
    struct nlattr *d, *e = expr_start(b, "cmp", &d);
    put_be32(b, NFTA_CMP_SREG, NFT_REG_1);
    put_be32(b, NFTA_CMP_OP, op);
    put_value(b, NFTA_CMP_DATA, data, len);
    expr_end(b, e, d);
}

static void expr_lookup(struct nft_batch *b, const char *set, uint32_t set_id)
{
    struct nlattr *d, *e = expr_start(b, "lookup", &d);
    put_str(b, NFTA_LOOKUP_SET, set);
    put_be32(b, NFTA_LOOKUP_SET_ID, set_id);
    put_be32(b, NFTA_LOOKUP_SREG, NFT_REG_1);
    expr_end(b, e, d);
}

static void expr_verdict(struct nft_batch *b, uint32_t verdict)
{
    struct nlattr *d, *e = expr_start(b, "immediate", &d);
    put_be32(b, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
    struct nlattr *data = nest(b, NFTA_IMMEDIATE_DATA);
    struct nlattr *v = nest(b, NFTA_DATA_VERDICT);
    put_be32(b, NFTA_VERDICT_CODE, verdict);
    nest_end(b, v);
    nest_end(b, data);
    expr_end(b, e, d);
}

/* meta nfproto == proto (the inet family carries both; offsets differ). */
static void match_nfproto(struct nft_batch *b, uint8_t proto)
{
    expr_meta(b, NFT_META_NFPROTO, NFT_REG_1);
    expr_cmp(b, NFT_CMP_EQ, &proto, 1);
}

/* ------------------------------------------------------------------ table */

static void add_table(struct nft_batch *b, uint16_t type, uint16_t flags)
{
    nft_start(b, type, flags);
    put_str(b, NFTA_TABLE_NAME, NFT_TABLE_NAME);
    msg_end(b);
}

static void add_chain(struct nft_batch *b, const char *name, uint32_t hook)
{
    nft_start(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
    put_str(b, NFTA_CHAIN_TABLE, NFT_TABLE_NAME);
    put_str(b, NFTA_CHAIN_NAME, name);
    struct nlattr *h = nest(b, NFTA_CHAIN_HOOK);
    put_be32(b, NFTA_HOOK_HOOKNUM, hook);
    put_be32(b, NFTA_HOOK_PRIORITY, (uint32_t)NFT_CHAIN_PRIO);
    nest_end(b, h);
    put_be32(b, NFTA_CHAIN_POLICY, NF_ACCEPT);
    put_str(b, NFTA_CHAIN_TYPE, "filter");
    msg_end(b);
}

static void add_set(struct nft_batch *b, const char *name, uint32_t id, uint32_t type,
                    uint32_t key_len)
{
    nft_start(b, NFT_MSG_NEWSET, NLM_F_CREATE);
    put_str(b, NFTA_SET_TABLE, NFT_TABLE_NAME);
    put_str(b, NFTA_SET_NAME, name);
    put_be32(b, NFTA_SET_FLAGS, 0);
    put_be32(b, NFTA_SET_KEY_TYPE, type);
    put_be32(b, NFTA_SET_KEY_LEN, key_len);
    put_be32(b, NFTA_SET_ID, id);
    msg_end(b);
}

/* A rule of chain: its expressions are written by body(b, out) between the two calls. */
static struct nlattr *rule_start(struct nft_batch *b, const char *chain)
{
    nft_start(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
    put_str(b, NFTA_RULE_TABLE, NFT_TABLE_NAME);
    put_str(b, NFTA_RULE_CHAIN, chain);
    return nest(b, NFTA_RULE_EXPRESSIONS);
}

static void rule_end(struct nft_batch *b, struct nlattr *exprs)
{
    nest_end(b, exprs);
    msg_end(b);
}

/* ip daddr @vips4 drop (in), ip saddr @vips4 drop (out). */
static void rule_v4(struct nft_batch *b, bool out)
{
    struct nlattr *x = rule_start(b, out ? "out" : "in");
    match_nfproto(b, NFPROTO_IPV4);
    expr_payload(b, NFT_PAYLOAD_NETWORK_HEADER, out ? OFF4_SADDR : OFF4_DADDR, 4);
    expr_lookup(b, NFT_SET_V4, SET_ID_V4);
    expr_verdict(b, NF_DROP);
    rule_end(b, x);
}

/* icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept: a neighbour must still
 * resolve and probe the address (keepalived lets exactly these through). */
static void rule_nd(struct nft_batch *b, bool out)
{
    static const uint8_t icmp6 = ICMPV6_PROTO, lo = ND_SOLICIT, hi = ND_ADVERT;
    struct nlattr *x = rule_start(b, out ? "out" : "in");
    match_nfproto(b, NFPROTO_IPV6);
    expr_meta(b, NFT_META_L4PROTO, NFT_REG_1);
    expr_cmp(b, NFT_CMP_EQ, &icmp6, 1);
    expr_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
    expr_cmp(b, NFT_CMP_GTE, &lo, 1);
    expr_cmp(b, NFT_CMP_LTE, &hi, 1);
    expr_verdict(b, NF_ACCEPT);
    rule_end(b, x);
}

/* ip6 daddr . iif @vips6ll drop, or ip6 daddr @vips6 drop (and saddr/oif for out). */
static void rule_v6(struct nft_batch *b, bool out, bool ll)
{
    struct nlattr *x = rule_start(b, out ? "out" : "in");
    match_nfproto(b, NFPROTO_IPV6);
    expr_payload(b, NFT_PAYLOAD_NETWORK_HEADER, out ? OFF6_SADDR : OFF6_DADDR, 16);
    if (ll)
        expr_meta(b, out ? NFT_META_OIF : NFT_META_IIF, NFT_REG_2);
    expr_lookup(b, ll ? NFT_SET_V6LL : NFT_SET_V6, ll ? SET_ID_V6LL : SET_ID_V6);
    expr_verdict(b, NF_DROP);
    rule_end(b, x);
}

void nft_batch_table_replace(struct nft_batch *b)
{
    add_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE);
    add_table(b, NFT_MSG_DELTABLE, 0);
    add_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE);
    add_chain(b, "in", NF_INET_LOCAL_IN);
    add_chain(b, "out", NF_INET_LOCAL_OUT);
    add_set(b, NFT_SET_V4, SET_ID_V4, NFT_TYPE_IPADDR, 4);
    add_set(b, NFT_SET_V6, SET_ID_V6, NFT_TYPE_IP6ADDR, 16);
    add_set(b, NFT_SET_V6LL, SET_ID_V6LL, (NFT_TYPE_IP6ADDR << NFT_TYPE_BITS) | NFT_TYPE_IFINDEX,
            16 + 4);
    for (int out = 0; out <= 1; out++) {
        rule_v4(b, out);
        rule_nd(b, out);
        rule_v6(b, out, true);
        rule_v6(b, out, false);
    }
}

void nft_batch_table_delete(struct nft_batch *b)
{
    add_table(b, NFT_MSG_DELTABLE, 0);
}

/* ------------------------------------------------------------------ elements */

const char *nft_vip_set(const struct nft_vip *v)
{
    if (v->addr.family == IP_V4)
        return NFT_SET_V4;
    if (v->addr.family != IP_V6)
        return NULL;
    return ip_addr_is_v6_linklocal(&v->addr) ? NFT_SET_V6LL : NFT_SET_V6;
}

/* The key of v in its set: the address, then for a link-local one the interface index in host
 * order (as meta iif loads it). Returns its length. */
static size_t vip_key(const struct nft_vip *v, uint8_t key[20])
{
    uint32_t idx = (uint32_t)v->ifindex;

    if (v->addr.family == IP_V4) {
        memcpy(key, v->addr.b, 4);
        return 4;
    }
    memcpy(key, v->addr.b, 16);
    if (!ip_addr_is_v6_linklocal(&v->addr))
        return 16;
    memcpy(key + 16, &idx, 4);
    return 20;
}

static void elems_of_set(struct nft_batch *b, const struct nft_vip *v, size_t n, bool add,
                         const char *set, uint32_t set_id)
{
    struct nlattr *list;
    uint8_t key[20];
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        k += nft_vip_set(&v[i]) == set;
    if (k == 0)
        return;
    nft_start(b, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, add ? NLM_F_CREATE : 0);
    put_str(b, NFTA_SET_ELEM_LIST_TABLE, NFT_TABLE_NAME);
    put_str(b, NFTA_SET_ELEM_LIST_SET, set);
    if (set_id)
        put_be32(b, NFTA_SET_ELEM_LIST_SET_ID, set_id);
    list = nest(b, NFTA_SET_ELEM_LIST_ELEMENTS);
    for (size_t i = 0; i < n; i++) {
        if (nft_vip_set(&v[i]) != set)
            continue;
        struct nlattr *e = nest(b, NFTA_LIST_ELEM);
        put_value(b, NFTA_SET_ELEM_KEY, key, vip_key(&v[i], key));
        nest_end(b, e);
    }
    nest_end(b, list);
    msg_end(b);
}

void nft_batch_elems(struct nft_batch *b, const struct nft_vip *v, size_t n, bool add,
                     bool in_new_table)
{
    elems_of_set(b, v, n, add, NFT_SET_V4, in_new_table ? SET_ID_V4 : 0);
    elems_of_set(b, v, n, add, NFT_SET_V6, in_new_table ? SET_ID_V6 : 0);
    elems_of_set(b, v, n, add, NFT_SET_V6LL, in_new_table ? SET_ID_V6LL : 0);
}

/* ------------------------------------------------------------------ batch */

void nft_batch_begin(struct nft_batch *b, uint8_t *buf, size_t cap, uint32_t seq)
{
    *b = (struct nft_batch){.buf = buf, .cap = cap, .first_seq = seq, .seq = seq};
    msg_start(b, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
    msg_end(b);
}

int nft_batch_end(struct nft_batch *b)
{
    msg_start(b, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
    msg_end(b);
    if (b->overflow) {
        b->len = 0;
        return -ENOSPC;
    }
    return 0;
}

size_t nft_batch_size_hint(size_t n)
{
    return 8192 + n * 48; /* the table is under 4 KiB; an element takes at most 40 bytes */
}
