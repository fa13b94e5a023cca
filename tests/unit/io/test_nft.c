/* Unit tests for io/nft and io/nft_msg: the no_accept filter's nfnetlink batches read back
 * attribute by attribute, and the adapter against the real kernel in a private network
 * namespace (skipped when not root or when the kernel has no nf_tables), where a UDP datagram
 * to a held address must be dropped and one to a released address delivered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "base/addr.h"
#include "io/nft.h"
#include "io/nft_msg.h"
#include "io/nl.h"
#include "netns_helper.h"

static struct nft_vip vip(const char *text, int ifindex)
{
    struct nft_vip v = {.ifindex = ifindex};
    assert_true(ip_addr_parse(text, &v.addr));
    return v;
}

/* The messages of a batch, in order. */
struct msgs {
    size_t n;
    const struct nlmsghdr *m[64];
};

static void split(const struct nft_batch *b, struct msgs *out)
{
    const struct nlmsghdr *nlh = (const struct nlmsghdr *)b->buf;
    int len = (int)b->len;

    out->n = 0;
    for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
        assert_true(out->n < 64);
        out->m[out->n++] = nlh;
    }
    assert_int_equal(len, 0);
}

static uint16_t nft_type(const struct nlmsghdr *nlh)
{
    return (uint16_t)(nlh->nlmsg_type & 0xff);
}

/* The attribute of type at the top level of an nf_tables message, or NULL. */
static const struct nlattr *attr(const struct nlmsghdr *nlh, uint16_t type)
{
    const struct nlattr *a;

    mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) if (mnl_attr_get_type(a) == type) return a;
    return NULL;
}

static const struct nlattr *nested(const struct nlattr *n, uint16_t type)
{
    const struct nlattr *a;

    mnl_attr_for_each_nested(a, n) if (mnl_attr_get_type(a) == type) return a;
    return NULL;
}

static const char *str(const struct nlmsghdr *nlh, uint16_t type)
{
    const struct nlattr *a = attr(nlh, type);
    assert_non_null(a);
    return mnl_attr_get_str(a);
}

static uint32_t be32(const struct nlattr *a)
{
    assert_non_null(a);
    return ntohl(mnl_attr_get_u32(a));
}

static void replace_batch_has_table_chains_sets_rules_elements(void **state)
{
    static uint8_t buf[16384];
    const struct nft_vip v[] = {vip("192.0.2.10", 2), vip("2001:db8::10", 2), vip("fe80::10", 7),
                                vip("198.51.100.1", 2)};
    struct nft_batch b;
    struct msgs m;
    static const uint16_t want[] = {
        NFT_MSG_NEWTABLE,   NFT_MSG_DELTABLE,   NFT_MSG_NEWTABLE,   NFT_MSG_NEWCHAIN,
        NFT_MSG_NEWCHAIN,   NFT_MSG_NEWSET,     NFT_MSG_NEWSET,     NFT_MSG_NEWSET,
        NFT_MSG_NEWRULE,    NFT_MSG_NEWRULE,    NFT_MSG_NEWRULE,    NFT_MSG_NEWRULE,
        NFT_MSG_NEWRULE,    NFT_MSG_NEWRULE,    NFT_MSG_NEWRULE,    NFT_MSG_NEWRULE,
        NFT_MSG_NEWSETELEM, NFT_MSG_NEWSETELEM, NFT_MSG_NEWSETELEM,
    };
    (void)state;

    nft_batch_begin(&b, buf, sizeof(buf), 100);
    nft_batch_table_replace(&b);
    nft_batch_elems(&b, v, 4, true, true);
    assert_int_equal(nft_batch_end(&b), 0);
    split(&b, &m);
    assert_int_equal(m.n, 2 + sizeof(want) / sizeof(want[0]));
    assert_int_equal(m.m[0]->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
    assert_int_equal(m.m[m.n - 1]->nlmsg_type, NFNL_MSG_BATCH_END);
    for (size_t i = 0; i < m.n; i++)
        assert_int_equal(m.m[i]->nlmsg_seq, 100 + i);
    assert_int_equal(b.acks, m.n - 2);
    assert_int_equal(b.seq, 100 + m.n);
    for (size_t i = 1; i + 1 < m.n; i++) {
        const struct nfgenmsg *g = mnl_nlmsg_get_payload(m.m[i]);
        assert_int_equal(m.m[i]->nlmsg_type >> 8, NFNL_SUBSYS_NFTABLES);
        assert_int_equal(nft_type(m.m[i]), want[i - 1]);
        assert_int_equal(g->nfgen_family, NFPROTO_INET);
        assert_true(m.m[i]->nlmsg_flags & NLM_F_ACK);
    }
    assert_string_equal(str(m.m[1], NFTA_TABLE_NAME), "nospof");
    assert_true(m.m[1]->nlmsg_flags & NLM_F_CREATE);
    assert_false(m.m[1]->nlmsg_flags & NLM_F_EXCL);

    /* chain in: input hook, priority -1, policy accept */
    assert_string_equal(str(m.m[4], NFTA_CHAIN_NAME), "in");
    const struct nlattr *hook = attr(m.m[4], NFTA_CHAIN_HOOK);
    assert_int_equal(be32(nested(hook, NFTA_HOOK_HOOKNUM)), NF_INET_LOCAL_IN);
    assert_int_equal((int32_t)be32(nested(hook, NFTA_HOOK_PRIORITY)), -1);
    assert_int_equal(be32(attr(m.m[4], NFTA_CHAIN_POLICY)), NF_ACCEPT);
    assert_string_equal(str(m.m[5], NFTA_CHAIN_NAME), "out");

    /* sets: key lengths 4, 16, 16 + 4 */
    assert_string_equal(str(m.m[6], NFTA_SET_NAME), "vips4");
    assert_int_equal(be32(attr(m.m[6], NFTA_SET_KEY_LEN)), 4);
    assert_string_equal(str(m.m[7], NFTA_SET_NAME), "vips6");
    assert_int_equal(be32(attr(m.m[7], NFTA_SET_KEY_LEN)), 16);
    assert_string_equal(str(m.m[8], NFTA_SET_NAME), "vips6ll");
    assert_int_equal(be32(attr(m.m[8], NFTA_SET_KEY_LEN)), 20);

    /* the first rule: chain in, ends with drop */
    assert_string_equal(str(m.m[9], NFTA_RULE_CHAIN), "in");
    assert_string_equal(str(m.m[13], NFTA_RULE_CHAIN), "out");
}

/* The keys of the element message at m (one list of keys). */
static size_t keys(const struct nlmsghdr *m, uint8_t out[][20], size_t *lens, size_t cap)
{
    const struct nlattr *list = attr(m, NFTA_SET_ELEM_LIST_ELEMENTS), *e;
    size_t n = 0;

    assert_non_null(list);
    mnl_attr_for_each_nested(e, list)
    {
        const struct nlattr *k = nested(nested(e, NFTA_SET_ELEM_KEY), NFTA_DATA_VALUE);
        assert_non_null(k);
        assert_true(n < cap);
        lens[n] = mnl_attr_get_payload_len(k);
        memcpy(out[n], mnl_attr_get_payload(k), lens[n]);
        n++;
    }
    return n;
}

static void element_keys_per_set(void **state)
{
    static uint8_t buf[4096];
    const struct nft_vip v[] = {vip("192.0.2.10", 2), vip("fe80::10", 7), vip("2001:db8::10", 2),
                                vip("198.51.100.1", 2)};
    uint8_t k[4][20];
    size_t len[4];
    uint32_t idx = 7;
    struct nft_batch b;
    struct msgs m;
    (void)state;

    nft_batch_begin(&b, buf, sizeof(buf), 1);
    nft_batch_elems(&b, v, 4, false, false);
    assert_int_equal(nft_batch_end(&b), 0);
    split(&b, &m);
    assert_int_equal(m.n, 5); /* begin, three sets, end */
    for (size_t i = 1; i <= 3; i++) {
        assert_int_equal(nft_type(m.m[i]), NFT_MSG_DELSETELEM);
        assert_null(attr(m.m[i], NFTA_SET_ELEM_LIST_SET_ID)); /* existing sets: by name */
    }
    assert_string_equal(str(m.m[1], NFTA_SET_ELEM_LIST_SET), "vips4");
    assert_int_equal(keys(m.m[1], k, len, 4), 2);
    assert_int_equal(len[0], 4);
    assert_memory_equal(k[0], v[0].addr.b, 4);
    assert_memory_equal(k[1], v[3].addr.b, 4);
    assert_string_equal(str(m.m[2], NFTA_SET_ELEM_LIST_SET), "vips6");
    assert_int_equal(keys(m.m[2], k, len, 4), 1);
    assert_int_equal(len[0], 16);
    assert_memory_equal(k[0], v[2].addr.b, 16);
    assert_string_equal(str(m.m[3], NFTA_SET_ELEM_LIST_SET), "vips6ll");
    assert_int_equal(keys(m.m[3], k, len, 4), 1);
    assert_int_equal(len[0], 20);
    assert_memory_equal(k[0], v[1].addr.b, 16);
    assert_memory_equal(k[0] + 16, &idx, 4); /* host order, as meta iif loads it */
}

static void no_elements_no_message_and_overflow_is_reported(void **state)
{
    static uint8_t buf[4096];
    uint8_t small[600];
    struct nft_batch b;
    (void)state;

    nft_batch_begin(&b, buf, sizeof(buf), 1);
    nft_batch_elems(&b, NULL, 0, true, false);
    assert_int_equal(nft_batch_end(&b), 0);
    assert_int_equal(b.acks, 0);
    assert_int_equal(b.len, 2 * 20); /* begin and end only */

    nft_batch_begin(&b, small, sizeof(small), 1);
    nft_batch_table_replace(&b);
    assert_int_equal(nft_batch_end(&b), -ENOSPC);
    assert_int_equal(b.len, 0);
    assert_true(nft_batch_size_hint(0) >= sizeof(buf));
}

/* ------------------------------------------------------------------ kernel */

static bool kernel_ok;
static struct nft_filter filt;

static int kernel_setup(void **state)
{
    struct nl nl;
    (void)state;

    if (!netns_is_root() || unshare(CLONE_NEWNET) < 0 || nl_open(&nl) < 0)
        return 0;
    (void)nl_link_set_up(&nl, 1, true);
    nl_close(&nl);
    nft_filter_init(&filt);
    kernel_ok = nft_filter_sync(&filt) == 0;
    return 0;
}

static int kernel_teardown(void **state)
{
    (void)state;
    nft_filter_close(&filt);
    return 0;
}

/* Sends a datagram from 127.0.0.1 to 192.0.2.10 on lo; true if it arrived. */
static bool udp_arrives(void)
{
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(4242)};
    struct sockaddr_in src = {.sin_family = AF_INET};
    int rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    char c = 'x';
    bool ok;

    inet_pton(AF_INET, "192.0.2.10", &dst.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &src.sin_addr);
    assert_int_equal(bind(rx, (struct sockaddr *)&dst, sizeof(dst)), 0);
    assert_int_equal(bind(tx, (struct sockaddr *)&src, sizeof(src)), 0);
    assert_int_equal(sendto(tx, &c, 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1);
    ok = netns_wait_readable(rx, 300);
    close(rx);
    close(tx);
    return ok;
}

static void held_address_is_dropped_released_one_passes(void **state)
{
    const struct nft_vip v = vip("192.0.2.10", 1);
    struct nl nl;
    (void)state;

    if (!kernel_ok)
        skip();
    assert_int_equal(nl_open(&nl), 0);
    assert_int_equal(netns_addr_add(&nl, 1, "192.0.2.10", 32), 0);
    nl_close(&nl);
    assert_true(udp_arrives());
    assert_int_equal(nft_filter_hold(&filt, &v, 1), 0);
    assert_int_equal(nft_filter_hold(&filt, &v, 1), 0); /* a second holder */
    assert_false(udp_arrives());
    assert_int_equal(nft_filter_release(&filt, &v, 1), 0);
    assert_false(udp_arrives()); /* one holder left */
    assert_int_equal(nft_filter_release(&filt, &v, 1), 0);
    assert_true(udp_arrives());
    assert_int_equal(filt.n, 0);
}

static void sync_replaces_and_delete_removes(void **state)
{
    const struct nft_vip v[] = {vip("192.0.2.10", 1), vip("2001:db8::1", 1), vip("fe80::1", 1)};
    struct nft_filter other;
    (void)state;

    if (!kernel_ok)
        skip();
    /* another process's table (an upgrade's old one) is replaced with our mirror */
    assert_int_equal(nft_filter_hold(&filt, v, 3), 0);
    nft_filter_init(&other);
    assert_int_equal(nft_filter_sync(&other), 0);
    assert_true(udp_arrives()); /* the other, empty table replaced ours */
    assert_int_equal(nft_filter_sync(&filt), 0);
    assert_false(udp_arrives());
    nft_filter_close(&other);
    /* a release the kernel cannot apply (its element is gone) repairs the table */
    assert_int_equal(nft_filter_release(&filt, v, 3), 0);
    assert_true(udp_arrives());
    assert_int_equal(nft_filter_delete(&filt), 0);
    assert_false(filt.live);
    assert_int_equal(nft_filter_delete(&filt), -ENOENT);
    assert_int_equal(nft_filter_hold(&filt, v, 1), 0); /* not live: mirror only */
    assert_true(udp_arrives());
    assert_int_equal(nft_filter_sync(&filt), 0);
    assert_false(udp_arrives());
    assert_int_equal(nft_filter_release(&filt, v, 1), 0);
    assert_int_equal(nft_filter_delete(&filt), 0);
    nft_filter_close(NULL);
}

int main(void)
{
    const struct CMUnitTest msg_tests[] = {
        cmocka_unit_test(replace_batch_has_table_chains_sets_rules_elements),
        cmocka_unit_test(element_keys_per_set),
        cmocka_unit_test(no_elements_no_message_and_overflow_is_reported),
    };
    const struct CMUnitTest kernel_tests[] = {
        cmocka_unit_test(held_address_is_dropped_released_one_passes),
        cmocka_unit_test(sync_replaces_and_delete_removes),
    };
    int rc = cmocka_run_group_tests_name("nft_msg", msg_tests, NULL, NULL);
    return rc |
           cmocka_run_group_tests_name("nft_kernel", kernel_tests, kernel_setup, kernel_teardown);
}
