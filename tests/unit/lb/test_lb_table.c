/* Unit tests for the hashing schedulers (sh, dh, mh) and their hashes: SipHash-2-4 and the
 * kernel's 64-bit hsiphash (SipHash-1-3) against published known-answer vectors, hash_32,
 * exact bucket fills, lookups, fallback and port flags, Maglev shares and disruption. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>

#include "lb_test_util.h"
#include "proto/lb/lb_hash.h"

#define K0 0x0706050403020100ull
#define K1 0x0f0e0d0c0b0a0908ull

static uint64_t storage[1 << 13];

/* The SipHash paper's vectors (key 00..0f, message 00 01 .. of length len) and the kernel's
 * lib/siphash_kunit.c hsiphash vectors for 64-bit (SipHash-1-3, low 32 bits). */
static void siphash_known_answers(void **state)
{
    uint8_t in[64];

    for (int i = 0; i < 64; i++)
        in[i] = (uint8_t)i;
    assert_true(lb_siphash(2, 4, K0, K1, in, 0) == 0x726fdb47dd0e0e31ull);
    assert_true(lb_siphash(2, 4, K0, K1, in, 1) == 0x74f839c593dc67fdull);
    assert_true(lb_siphash(2, 4, K0, K1, in, 8) == 0x93f5f5799a932462ull);
    assert_true(lb_siphash(2, 4, K0, K1, in, 15) == 0xa129ca6149be45e5ull);
    assert_true(lb_siphash(2, 4, K0, K1, in, 32) == 0x7127512f72f27cceull);
    assert_true(lb_siphash(2, 4, K0, K1, in, 63) == 0x958a324ceb064572ull);
    assert_int_equal((uint32_t)lb_siphash(1, 3, K0, K1, in, 0), 0x050fc4dcu);
    assert_int_equal((uint32_t)lb_siphash(1, 3, K0, K1, in, 4), 0x88d38328u);
    assert_int_equal((uint32_t)lb_siphash(1, 3, K0, K1, in, 8), 0x8d299a8eu);
    assert_int_equal((uint32_t)lb_siphash(1, 3, K0, K1, in, 15), 0x2a519956u);
    assert_int_equal((uint32_t)lb_siphash(1, 3, K0, K1, in, 63), 0xb7bbb3a8u);
    assert_int_equal(lb_hsiphash_u32(0x03020100u, K0, K1), 0x88d38328u);
}

static void hash32_and_fold(void **state)
{
    struct ip_addr a;

    assert_int_equal(lb_hash_32(0xc0000201u, 8), 50);
    assert_int_equal(lb_hash_32(0xc0000202u, 8), 148);
    assert_int_equal(lb_hash_32(0xc6336407u, 8), 171);
    assert_int_equal(lb_hash_32(0xc0000201u + 80, 8), 193);
    ip_addr_parse("192.0.2.1", &a);
    assert_int_equal(lb_addr_fold(&a), 0xc0000201u);
    ip_addr_parse("2001:db8::1:2", &a);
    assert_int_equal(lb_addr_fold(&a), 0x20010db8u ^ 0x00010002u);
}

static void init_tab(struct lb_sched *s, enum lb_sched_kind k, uint32_t flags,
                     const struct lb_dest *d, size_t n)
{
    assert_int_equal(lb_sched_init(s, k, flags, storage, sizeof(storage), (uint32_t)n, 0), 0);
    assert_int_equal(lb_sched_update(s, d, n), 0);
}

static int pick_for(struct lb_sched *s, const struct lb_dest *d, size_t n, const char *client,
                    uint16_t port, const char *dst)
{
    struct lb_key k = mk_key(client, port, dst);

    return lb_sched_pick(s, d, n, &k, 0);
}

/* sh [A:2,B:1] -> A,A,B,A,A,B,... (171/85); [A:1,B:0] -> B holds 128 buckets. */
static void sh_fill(void **state)
{
    struct lb_dest d[2];
    struct lb_sched s;
    int count[2] = {0, 0};

    mk_dests(d, (const int32_t[]){2, 1}, 2);
    init_tab(&s, LB_SCHED_SH, 0, d, 2);
    for (unsigned i = 0; i < LB_TAB_SIZE; i++) {
        assert_int_equal(s.u.tab.bucket[i], i % 3 == 2 ? 1 : 0);
        count[s.u.tab.bucket[i]]++;
    }
    assert_int_equal(count[0], 171);
    assert_int_equal(count[1], 85);
    mk_dests(d, (const int32_t[]){1, 0}, 2);
    assert_int_equal(lb_sched_update(&s, d, 2), 0);
    for (unsigned i = 0; i < LB_TAB_SIZE; i++)
        assert_int_equal(s.u.tab.bucket[i], (int)(i % 2));
    assert_int_equal(lb_sched_update(&s, d, 0), 0);
    assert_int_equal(s.u.tab.bucket[7], -1);
    assert_int_equal(pick_for(&s, d, 0, "192.0.2.1", 0, "192.0.2.1"), -1);
}

/* bucket = hash_32(addr (+ port), 8): 192.0.2.1 -> 50 (B), 192.0.2.2 -> 148 (A); with sh-port
 * and port 80, 192.0.2.1 -> 193 (A). */
static void sh_lookup_and_port(void **state)
{
    struct lb_dest d[2];
    struct lb_sched s;

    mk_dests(d, (const int32_t[]){2, 1}, 2);
    init_tab(&s, LB_SCHED_SH, 0, d, 2);
    assert_int_equal(pick_for(&s, d, 2, "192.0.2.1", 80, "203.0.113.1"), 1);
    assert_int_equal(pick_for(&s, d, 2, "192.0.2.2", 80, "203.0.113.1"), 0);
    init_tab(&s, LB_SCHED_SH, LB_F_SH_PORT, d, 2);
    assert_int_equal(pick_for(&s, d, 2, "192.0.2.1", 80, "203.0.113.1"), 0);
}

/* Without fallback an unavailable bucket gives nothing; with it the probe finds A. */
static void sh_fallback(void **state)
{
    struct lb_dest d[2];
    struct lb_sched s;

    mk_dests(d, (const int32_t[]){1, 0}, 2);
    init_tab(&s, LB_SCHED_SH, 0, d, 2);
    assert_int_equal(pick_for(&s, d, 2, "192.0.2.1", 0, "203.0.113.1"), 0);  /* 50: A */
    assert_int_equal(pick_for(&s, d, 2, "192.0.2.5", 0, "203.0.113.1"), -1); /* 185: B */
    init_tab(&s, LB_SCHED_SH, LB_F_SH_FALLBACK, d, 2);
    assert_int_equal(pick_for(&s, d, 2, "192.0.2.5", 0, "203.0.113.1"), 0);
    d[0].overloaded = true;
    assert_int_equal(pick_for(&s, d, 2, "192.0.2.5", 0, "203.0.113.1"), -1);
}

/* dh ignores weights (plain round robin fill) and hashes the destination address. */
static void dh_fill_and_lookup(void **state)
{
    struct lb_dest d[3];
    struct lb_sched s;

    mk_dests(d, (const int32_t[]){5, 1, 1}, 3);
    init_tab(&s, LB_SCHED_DH, LB_F_SH_FALLBACK, d, 3);
    for (unsigned i = 0; i < LB_TAB_SIZE; i++)
        assert_int_equal(s.u.tab.bucket[i], (int)(i % 3));
    assert_int_equal(pick_for(&s, d, 3, "192.0.2.9", 0, "198.51.100.7"), 0); /* 171 */
    assert_int_equal(pick_for(&s, d, 3, "192.0.2.9", 0, "192.0.2.1"), 2);    /* 50 */
    d[2].weight = 0; /* no fallback for dh, even with the sh flag */
    assert_int_equal(pick_for(&s, d, 3, "192.0.2.9", 0, "192.0.2.1"), -1);
}

static void mh_counts(const struct lb_sched *s, int *count, size_t n)
{
    for (size_t i = 0; i < n; i++)
        count[i] = 0;
    for (uint32_t i = 0; i < LB_MH_TAB_SIZE; i++) {
        assert_true(s->u.mh.table[i] >= 0 && (size_t)s->u.mh.table[i] < n);
        count[s->u.mh.table[i]]++;
    }
}

/* Shares follow the populate rule exactly: `turns` slots per dest per round. */
static void mh_shares(void **state)
{
    struct lb_dest d[10];
    struct lb_sched s;
    int c[10];

    mk_dests(d, (const int32_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 10);
    init_tab(&s, LB_SCHED_MH, 0, d, 10);
    mh_counts(&s, c, 10);
    for (int i = 0; i < 10; i++) /* 4093 = 409 * 10 + 3 */
        assert_int_equal(c[i], i < 3 ? 410 : 409);
    mk_dests(d, (const int32_t[]){1, 2, 3}, 3); /* 682 rounds of 6, then one for A */
    init_tab(&s, LB_SCHED_MH, 0, d, 3);
    mh_counts(&s, c, 3);
    assert_int_equal(c[0], 683);
    assert_int_equal(c[1], 1364);
    assert_int_equal(c[2], 2046);
    mk_dests(d, (const int32_t[]){100, 10000}, 2); /* gcd 100, rshift 1: turns 1 and 50 */
    init_tab(&s, LB_SCHED_MH, 0, d, 2);
    assert_int_equal(s.u.mh.gcd, 100);
    assert_int_equal(s.u.mh.rshift, 1);
    mh_counts(&s, c, 2);
    assert_int_equal(c[0], 81);
    assert_int_equal(c[1], 4012);
}

/* Each dest's share of M is within one slot per turn of weight/sum * M. */
static void mh_balance(void **state)
{
    static const int32_t w[7] = {3, 1, 4, 1, 5, 9, 2};
    struct lb_dest d[7];
    struct lb_sched s;
    int c[7];
    double sum = 25;

    mk_dests(d, w, 7);
    init_tab(&s, LB_SCHED_MH, 0, d, 7);
    mh_counts(&s, c, 7);
    for (int i = 0; i < 7; i++) {
        double ideal = w[i] / sum * LB_MH_TAB_SIZE;

        assert_true(c[i] >= ideal - w[i] && c[i] <= ideal + w[i]);
    }
}

/* Removing one of 10 dests moves its own slots plus a small churn among the others. */
static void mh_disruption(void **state)
{
    static int16_t before[LB_MH_TAB_SIZE];
    struct lb_dest d[10], e[9];
    struct lb_sched s;
    int moved = 0, own = 0;

    mk_dests(d, (const int32_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 10);
    init_tab(&s, LB_SCHED_MH, 0, d, 10);
    for (uint32_t i = 0; i < LB_MH_TAB_SIZE; i++)
        before[i] = s.u.mh.table[i];
    for (int i = 0, j = 0; i < 10; i++)
        if (i != 4)
            e[j++] = d[i];
    assert_int_equal(lb_sched_update(&s, e, 9), 0);
    for (uint32_t i = 0; i < LB_MH_TAB_SIZE; i++) {
        uint32_t old_id = d[before[i]].id, new_id = e[s.u.mh.table[i]].id;

        own += old_id == 5;
        moved += old_id != new_id;
    }
    assert_int_equal(own, 409);
    printf("mh disruption: %d of %u slots moved (%d owned by the removed dest)\n", moved,
           LB_MH_TAB_SIZE, own);
    assert_true(moved >= own);
    assert_true(moved <= own + (int)LB_MH_TAB_SIZE / 25); /* 1/N plus at most 4% extra churn */
}

/* A drain to weight 0 keeps the table (built from last_weight); its clients get nothing, or
 * another dest with mh-fallback; the lookup is table[hsiphash(addr) % M]. */
static void mh_drain_lookup_fallback(void **state)
{
    static int16_t before[LB_MH_TAB_SIZE];
    struct lb_dest d[4];
    struct lb_sched s, f;
    int drained = 0, others = 0;

    mk_dests(d, (const int32_t[]){1, 1, 1, 1}, 4);
    init_tab(&s, LB_SCHED_MH, 0, d, 4);
    for (uint32_t i = 0; i < LB_MH_TAB_SIZE; i++)
        before[i] = s.u.mh.table[i];
    lb_dest_set_weight(&d[1], 0);
    assert_int_equal(lb_sched_update(&s, d, 4), 0);
    for (uint32_t i = 0; i < LB_MH_TAB_SIZE; i++)
        assert_int_equal(s.u.mh.table[i], before[i]);
    assert_int_equal(
        lb_sched_init(&f, LB_SCHED_MH, LB_F_MH_FALLBACK, storage + 4096, sizeof(storage) / 2, 4, 0),
        0);
    assert_int_equal(lb_sched_update(&f, d, 4), 0);
    for (unsigned c = 1; c < 255; c++) {
        char client[32];
        struct ip_addr a;
        uint32_t h;
        int want, got;

        snprintf(client, sizeof(client), "203.0.113.%u", c);
        ip_addr_parse(client, &a);
        h = lb_hsiphash_u32(lb_addr_fold(&a), 2654435761ull, 2654435761ull) % LB_MH_TAB_SIZE;
        want = before[h] == 1 ? -1 : before[h];
        got = pick_for(&s, d, 4, client, 0, "192.0.2.200");
        assert_int_equal(got, want);
        got = pick_for(&f, d, 4, client, 0, "192.0.2.200");
        assert_true(got >= 0 && got != 1);
        if (want < 0)
            drained++;
        else
            others += got == want;
    }
    assert_true(drained > 0);
    assert_int_equal(others, 254 - drained); /* fallback changes only the drained clients */
}

static void mh_port_and_empty(void **state)
{
    struct lb_dest d[4];
    struct lb_sched s;
    int seen[4] = {0, 0, 0, 0}, distinct = 0;

    mk_dests(d, (const int32_t[]){1, 1, 1, 1}, 4);
    init_tab(&s, LB_SCHED_MH, 0, d, 4);
    for (uint16_t p = 1000; p < 1064; p++)
        seen[pick_for(&s, d, 4, "198.51.100.9", p, "192.0.2.200")]++;
    for (int i = 0; i < 4; i++)
        distinct += seen[i] > 0;
    assert_int_equal(distinct, 1); /* without mh-port the port is ignored */
    init_tab(&s, LB_SCHED_MH, LB_F_MH_PORT, d, 4);
    for (uint16_t p = 1000; p < 1064; p++)
        seen[pick_for(&s, d, 4, "198.51.100.9", p, "192.0.2.200")]++;
    distinct = 0;
    for (int i = 0; i < 4; i++)
        distinct += seen[i] > 0;
    assert_int_equal(distinct, 4);
    mk_dests(d, (const int32_t[]){0, 0, 0, 0}, 4); /* no last_weight at all: empty table */
    assert_int_equal(lb_sched_update(&s, d, 4), 0);
    assert_int_equal(pick_for(&s, d, 4, "198.51.100.9", 1, "192.0.2.200"), -1);
    assert_int_equal(lb_sched_update(&s, d, 5), -E2BIG); /* max_dests is 4 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(siphash_known_answers),
        cmocka_unit_test(hash32_and_fold),
        cmocka_unit_test(sh_fill),
        cmocka_unit_test(sh_lookup_and_port),
        cmocka_unit_test(sh_fallback),
        cmocka_unit_test(dh_fill_and_lookup),
        cmocka_unit_test(mh_shares),
        cmocka_unit_test(mh_balance),
        cmocka_unit_test(mh_disruption),
        cmocka_unit_test(mh_drain_lookup_fallback),
        cmocka_unit_test(mh_port_and_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
