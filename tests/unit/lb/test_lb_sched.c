/* Unit tests for the list-scanning IPVS schedulers (rr wrr lc wlc sed nq fo ovf), the name
 * tables, the dest helpers and the OVERLOAD rule: every research/lb.md 1.3 vector exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>

#include "lb_test_util.h"

/* Picks count times and compares the index sequence with want. */
static void expect_seq(struct lb_sched *s, const struct lb_dest *d, size_t n, const int *want,
                       size_t count)
{
    for (size_t i = 0; i < count; i++)
        assert_int_equal(lb_sched_pick(s, d, n, NULL, 0), want[i]);
}

static void init_plain(struct lb_sched *s, enum lb_sched_kind k, const struct lb_dest *d, size_t n)
{
    assert_int_equal(lb_sched_init(s, k, 0, NULL, 0, 0, 0), 0);
    assert_int_equal(lb_sched_update(s, d, n), 0);
}

static void names_roundtrip(void **state)
{
    static const char *const names[] = {"rr", "wrr",  "lc",    "wlc", "sed", "nq", "sh",
                                        "dh", "lblc", "lblcr", "mh",  "fo",  "ovf"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        enum lb_sched_kind k = lb_sched_kind_from_name(names[i]);

        assert_int_not_equal(k, LB_SCHED_NONE);
        assert_string_equal(lb_sched_kind_name(k), names[i]);
    }
    assert_int_equal(lb_sched_kind_from_name("twos"), LB_SCHED_NONE);
    assert_int_equal(lb_sched_kind_from_name("WLC"), LB_SCHED_NONE);
    assert_int_equal(lb_sched_kind_from_name("wlc"), LB_SCHED_WLC);
    assert_int_equal(lb_sched_flag_from_name("sh-port"), LB_F_SH_PORT);
    assert_int_equal(lb_sched_flag_from_name("sh-fallback"), LB_F_SH_FALLBACK);
    assert_int_equal(lb_sched_flag_from_name("mh-port"), LB_F_MH_PORT);
    assert_int_equal(lb_sched_flag_from_name("mh-fallback"), LB_F_MH_FALLBACK);
    assert_int_equal(lb_sched_flag_from_name("flag-1"), 0);
}

static void init_rejects_bad_storage(void **state)
{
    struct lb_sched s;
    uint64_t small[4];

    assert_int_equal(lb_sched_init(&s, LB_SCHED_NONE, 0, NULL, 0, 0, 0), -EINVAL);
    assert_int_equal(lb_sched_init(&s, LB_SCHED_MH, 0, NULL, 0, 10, 0), -EINVAL);
    assert_int_equal(lb_sched_init(&s, LB_SCHED_MH, 0, small, sizeof(small), 10, 0), -EINVAL);
    assert_int_equal(lb_sched_init(&s, LB_SCHED_LBLC, 0, (uint8_t *)small + 1, 1 << 20, 0, 0),
                     -EINVAL);
    assert_int_equal(lb_sched_storage_size(LB_SCHED_WLC, 1000, 1000), 0);
}

/* rr [A,B,C] -> A,B,C,A; with B at weight 0 -> A,C,A,C. */
static void rr_vectors(void **state)
{
    struct lb_dest d[3];
    struct lb_sched s;

    mk_dests(d, (const int32_t[]){1, 1, 1}, 3);
    init_plain(&s, LB_SCHED_RR, d, 3);
    expect_seq(&s, d, 3, (const int[]){0, 1, 2, 0, 1}, 5);
    mk_dests(d, (const int32_t[]){1, 0, 1}, 3);
    init_plain(&s, LB_SCHED_RR, d, 3);
    expect_seq(&s, d, 3, (const int[]){0, 2, 0, 2}, 4);
    d[0].overloaded = true;
    expect_seq(&s, d, 3, (const int[]){2, 2}, 2); /* the cursor dest itself is tried last */
    d[2].weight = 0;
    assert_int_equal(lb_sched_pick(&s, d, 3, NULL, 0), -1);
    assert_int_equal(lb_sched_pick(&s, d, 0, NULL, 0), -1);
}

/* ip_vs_rr_del_dest: removing the cursor dest moves the cursor to its predecessor; an added
 * dest (at the head) does not disturb the cursor. */
static void rr_cursor_across_updates(void **state)
{
    struct lb_dest d[4], e[4];
    struct lb_sched s;

    mk_dests(d, (const int32_t[]){1, 1, 1}, 3);
    init_plain(&s, LB_SCHED_RR, d, 3);
    expect_seq(&s, d, 3, (const int[]){0, 1}, 2); /* cursor on B */
    e[0] = d[0];
    e[1] = d[2]; /* B deleted: [A, C] */
    assert_int_equal(lb_sched_update(&s, e, 2), 0);
    expect_seq(&s, e, 2, (const int[]){1, 0}, 2); /* C (after A), then A */

    mk_dests(d, (const int32_t[]){1, 1, 1, 1}, 4); /* d[3] plays the new dest D */
    init_plain(&s, LB_SCHED_RR, d, 3);
    expect_seq(&s, d, 3, (const int[]){0, 1}, 2); /* cursor on B */
    e[0] = d[3];
    e[1] = d[0];
    e[2] = d[1];
    e[3] = d[2]; /* D added at the head: [D, A, B, C] */
    assert_int_equal(lb_sched_update(&s, e, 4), 0);
    expect_seq(&s, e, 4, (const int[]){3, 0, 1, 2}, 4); /* C, D, A, B */
}

/* wrr [A:4,B:3,C:2] -> A A B A B C A B C; [A:4,B:2] -> A A B; equal weights -> rr. */
static void wrr_vectors(void **state)
{
    static const int seq432[] = {0, 0, 1, 0, 1, 2, 0, 1, 2, 0, 0, 1, 0, 1, 2, 0, 1, 2};
    static const int seq42[] = {0, 0, 1, 0, 0, 1, 0, 0, 1};
    static const int seq111[] = {0, 1, 2, 0, 1, 2};
    struct lb_dest d[3];
    struct lb_sched s;

    mk_dests(d, (const int32_t[]){4, 3, 2}, 3);
    init_plain(&s, LB_SCHED_WRR, d, 3);
    assert_int_equal(s.u.wrr.di, 1);
    assert_int_equal(s.u.wrr.mw, 4);
    expect_seq(&s, d, 3, seq432, 18);
    mk_dests(d, (const int32_t[]){4, 2}, 2);
    init_plain(&s, LB_SCHED_WRR, d, 2);
    assert_int_equal(s.u.wrr.di, 2);
    assert_int_equal(s.u.wrr.mw, 3);
    expect_seq(&s, d, 2, seq42, 9);
    mk_dests(d, (const int32_t[]){5, 5, 5}, 3);
    init_plain(&s, LB_SCHED_WRR, d, 3);
    expect_seq(&s, d, 3, seq111, 6);
}

/* Re-weighting restarts at the head; cw = (cw/di)*di + 1 when di > 1 and cw fits. */
static void wrr_weight_change(void **state)
{
    struct lb_dest d[2];
    struct lb_sched s;

    mk_dests(d, (const int32_t[]){4, 2}, 2);
    init_plain(&s, LB_SCHED_WRR, d, 2);
    expect_seq(&s, d, 2, (const int[]){0, 0}, 2); /* cw is now 1 */
    assert_int_equal(s.u.wrr.cw, 1);
    lb_dest_set_weight(&d[0], 6);
    lb_dest_set_weight(&d[1], 4);
    assert_int_equal(lb_sched_update(&s, d, 2), 0);
    assert_int_equal(s.u.wrr.di, 2);
    assert_int_equal(s.u.wrr.mw, 5);
    assert_int_equal(s.u.wrr.cw, 1);
    assert_int_equal(s.u.wrr.cl, -1);
    expect_seq(&s, d, 2, (const int[]){0, 1, 0, 0, 1, 0, 1, 0}, 8);
    /* cw above the new mw drops to mw. */
    mk_dests(d, (const int32_t[]){9, 1}, 2);
    init_plain(&s, LB_SCHED_WRR, d, 2);
    assert_int_equal(s.u.wrr.cw, 9);
    lb_dest_set_weight(&d[0], 3);
    assert_int_equal(lb_sched_update(&s, d, 2), 0);
    assert_int_equal(s.u.wrr.cw, 3);
}

static void wrr_nothing_available(void **state)
{
    struct lb_dest d[2];
    struct lb_sched s;

    mk_dests(d, (const int32_t[]){0, 0}, 2);
    init_plain(&s, LB_SCHED_WRR, d, 2);
    assert_int_equal(s.u.wrr.mw, 0);
    assert_int_equal(lb_sched_pick(&s, d, 2, NULL, 0), -1);
    mk_dests(d, (const int32_t[]){3, 1}, 2);
    init_plain(&s, LB_SCHED_WRR, d, 2);
    d[0].overloaded = d[1].overloaded = true;
    assert_int_equal(lb_sched_pick(&s, d, 2, NULL, 0), -1);
    d[1].overloaded = false; /* only the weight-1 dest: found on the last pass (cw = 1) */
    expect_seq(&s, d, 2, (const int[]){1, 1, 1}, 3);
}

/* lc: A(act1)=256 vs B(inact300)=300 -> A, weights ignored, ties keep the first. */
static void lc_vectors(void **state)
{
    struct lb_dest d[3];
    struct lb_sched s;

    mk_dests(d, (const int32_t[]){1, 100, 1}, 3);
    d[0].active = 1;
    d[1].inactive = 300;
    d[2].active = 1;
    init_plain(&s, LB_SCHED_LC, d, 3);
    assert_int_equal(lb_sched_pick(&s, d, 3, NULL, 0), 0);
    d[0].weight = 0; /* quiesced: skipped; B (300) vs C (256) */
    assert_int_equal(lb_sched_pick(&s, d, 3, NULL, 0), 2);
    d[2].overloaded = true;
    assert_int_equal(lb_sched_pick(&s, d, 3, NULL, 0), 1);
}

/* wlc: A(w1,act1)=256 vs B(w2,act1,inact100)=356: 256*2 > 356*1 -> B. */
static void wlc_vectors(void **state)
{
    struct lb_dest d[2];
    struct lb_sched s;

    mk_dests(d, (const int32_t[]){1, 2}, 2);
    d[0].active = 1;
    d[1].active = 1;
    d[1].inactive = 100;
    init_plain(&s, LB_SCHED_WLC, d, 2);
    assert_int_equal(lb_sched_pick(&s, d, 2, NULL, 0), 1);
    d[1].inactive = 256; /* 256*2 = 512 vs 512*1: tie keeps A */
    assert_int_equal(lb_sched_pick(&s, d, 2, NULL, 0), 0);
    mk_dests(d, (const int32_t[]){0, 1}, 2); /* the first candidate needs weight > 0 */
    d[1].active = 5;
    assert_int_equal(lb_sched_pick(&s, d, 2, NULL, 0), 1);
    d[1].overloaded = true;
    assert_int_equal(lb_sched_pick(&s, d, 2, NULL, 0), -1);
}

/* sed: A(w1,act0) -> 1/1, B(w3,act1) -> 2/3 -> B; nq on the same input -> A (idle). */
static void sed_nq_vectors(void **state)
{
    struct lb_dest d[2];
    struct lb_sched s;

    mk_dests(d, (const int32_t[]){1, 3}, 2);
    d[1].active = 1;
    d[0].inactive = 1000; /* sed and nq ignore inactive connections */
    init_plain(&s, LB_SCHED_SED, d, 2);
    assert_int_equal(lb_sched_pick(&s, d, 2, NULL, 0), 1);
    init_plain(&s, LB_SCHED_NQ, d, 2);
    assert_int_equal(lb_sched_pick(&s, d, 2, NULL, 0), 0);
    d[0].active = 1; /* nobody idle: nq is sed: 2/1 vs 2/3 -> B */
    assert_int_equal(lb_sched_pick(&s, d, 2, NULL, 0), 1);
    d[0].active = 0;
    d[0].weight = 0; /* an idle quiesced dest is skipped */
    assert_int_equal(lb_sched_pick(&s, d, 2, NULL, 0), 1);
}

/* ovf [A:w3 act3, B:w2 act0] -> A (3 <= 3); A at act4 -> B. */
static void ovf_vectors(void **state)
{
    struct lb_dest d[2];
    struct lb_sched s;

    mk_dests(d, (const int32_t[]){3, 2}, 2);
    d[0].active = 3;
    init_plain(&s, LB_SCHED_OVF, d, 2);
    assert_int_equal(lb_sched_pick(&s, d, 2, NULL, 0), 0);
    d[0].active = 4;
    assert_int_equal(lb_sched_pick(&s, d, 2, NULL, 0), 1);
    d[1].active = 3;
    assert_int_equal(lb_sched_pick(&s, d, 2, NULL, 0), -1);
}

/* fo: highest weight, ties keep the first, OVERLOAD skipped, weight 0 never chosen. */
static void fo_vectors(void **state)
{
    struct lb_dest d[3];
    struct lb_sched s;

    mk_dests(d, (const int32_t[]){2, 5, 5}, 3);
    d[1].active = 1000;
    init_plain(&s, LB_SCHED_FO, d, 3);
    assert_int_equal(lb_sched_pick(&s, d, 3, NULL, 0), 1);
    d[1].overloaded = true;
    assert_int_equal(lb_sched_pick(&s, d, 3, NULL, 0), 2);
    mk_dests(d, (const int32_t[]){0, 0, 0}, 3);
    assert_int_equal(lb_sched_pick(&s, d, 3, NULL, 0), -1);
}

/* [A:w0, B:w1 OVERLOAD, C:w1]: every scheduler that can choose returns C. */
static void quiesced_and_overloaded_skipped_everywhere(void **state)
{
    static const enum lb_sched_kind kinds[] = {
        LB_SCHED_RR, LB_SCHED_WRR, LB_SCHED_LC, LB_SCHED_WLC, LB_SCHED_SED,  LB_SCHED_NQ,
        LB_SCHED_FO, LB_SCHED_OVF, LB_SCHED_SH, LB_SCHED_MH,  LB_SCHED_LBLC, LB_SCHED_LBLCR,
    };
    static uint64_t storage[1 << 14];
    struct lb_dest d[3];
    struct lb_sched s;

    mk_dests(d, (const int32_t[]){0, 1, 1}, 3);
    d[1].overloaded = true;
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        uint32_t flags = LB_F_SH_FALLBACK | LB_F_MH_FALLBACK;

        assert_true(lb_sched_storage_size(kinds[k], 3, 64) <= sizeof(storage));
        assert_int_equal(lb_sched_init(&s, kinds[k], flags, storage, sizeof(storage), 3, 64), 0);
        assert_int_equal(lb_sched_update(&s, d, 3), 0);
        for (unsigned c = 1; c < 60; c++) {
            char client[32];
            struct lb_key key;

            snprintf(client, sizeof(client), "198.51.100.%u", c);
            key = mk_key(client, (uint16_t)(1000 + c), client);
            assert_int_equal(lb_sched_pick(&s, d, 3, &key, 0), 2);
        }
    }
}

/* Set at total >= u on bind; clear on unbind below l, or below 3/4 u when l is 0. */
static void overload_thresholds(void **state)
{
    struct lb_dest d;

    mk_dests(&d, (const int32_t[]){1}, 1);
    lb_dest_set_thresholds(&d, 10, 0);
    d.active = 5;
    d.inactive = 4; /* 9 */
    lb_dest_update_overload(&d, LB_CONN_BOUND);
    assert_false(d.overloaded);
    d.inactive = 5; /* 10 */
    lb_dest_update_overload(&d, LB_CONN_BOUND);
    assert_true(d.overloaded);
    d.inactive = 3; /* 8: 32 < 30 is false */
    lb_dest_update_overload(&d, LB_CONN_UNBOUND);
    assert_true(d.overloaded);
    d.inactive = 2; /* 7: 28 < 30 */
    lb_dest_update_overload(&d, LB_CONN_UNBOUND);
    assert_false(d.overloaded);

    lb_dest_set_thresholds(&d, 10, 5);
    d.active = 10;
    d.inactive = 0;
    lb_dest_update_overload(&d, LB_CONN_BOUND);
    assert_true(d.overloaded);
    d.active = 5;
    lb_dest_update_overload(&d, LB_CONN_UNBOUND);
    assert_true(d.overloaded); /* 5 < 5 is false */
    d.active = 4;
    lb_dest_update_overload(&d, LB_CONN_BOUND); /* bind never clears */
    assert_true(d.overloaded);
    lb_dest_update_overload(&d, LB_CONN_UNBOUND);
    assert_false(d.overloaded);

    d.active = 20; /* editing thresholds: raising u clears, lowering keeps */
    lb_dest_update_overload(&d, LB_CONN_BOUND);
    assert_true(d.overloaded);
    lb_dest_set_thresholds(&d, 8, 0);
    assert_true(d.overloaded);
    lb_dest_set_thresholds(&d, 30, 0);
    assert_false(d.overloaded);
    lb_dest_set_thresholds(&d, 0, 0);
    lb_dest_update_overload(&d, LB_CONN_BOUND);
    assert_false(d.overloaded); /* u = 0: never overloaded */
}

static void set_weight_keeps_last_weight(void **state)
{
    struct lb_dest d;

    mk_dests(&d, (const int32_t[]){7}, 1);
    lb_dest_set_weight(&d, 0);
    assert_int_equal(d.weight, 0);
    assert_int_equal(d.last_weight, 7);
    lb_dest_set_weight(&d, 70000);
    assert_int_equal(d.weight, LB_WEIGHT_MAX);
    assert_int_equal(d.last_weight, LB_WEIGHT_MAX);
    lb_dest_set_weight(&d, -3);
    assert_int_equal(d.weight, 0);
    assert_int_equal(d.last_weight, LB_WEIGHT_MAX);
    assert_int_equal(lb_dest_find(&d, 1, 1, 5), 0);
    assert_int_equal(lb_dest_find(&d, 1, 2, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_roundtrip),
        cmocka_unit_test(init_rejects_bad_storage),
        cmocka_unit_test(rr_vectors),
        cmocka_unit_test(rr_cursor_across_updates),
        cmocka_unit_test(wrr_vectors),
        cmocka_unit_test(wrr_weight_change),
        cmocka_unit_test(wrr_nothing_available),
        cmocka_unit_test(lc_vectors),
        cmocka_unit_test(wlc_vectors),
        cmocka_unit_test(sed_nq_vectors),
        cmocka_unit_test(ovf_vectors),
        cmocka_unit_test(fo_vectors),
        cmocka_unit_test(quiesced_and_overloaded_skipped_everywhere),
        cmocka_unit_test(overload_thresholds),
        cmocka_unit_test(set_weight_keeps_last_weight),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
