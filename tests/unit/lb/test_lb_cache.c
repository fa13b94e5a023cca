/* Unit tests for lblc and lblcr (locality caches): hits, the lblc overload rule (research/lb.md
 * 1.3), replication and set expiry, removed dests, a full table, and the GC by time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "lb_test_util.h"

static uint64_t storage[1 << 14];

static void init_cache(struct lb_sched *s, enum lb_sched_kind k, uint32_t cap,
                       const struct lb_dest *d, size_t n)
{
    assert_int_equal(lb_sched_init(s, k, 0, storage, sizeof(storage), 0, cap), 0);
    assert_int_equal(lb_sched_update(s, d, n), 0);
}

static int pick_dst(struct lb_sched *s, const struct lb_dest *d, size_t n, const char *dst,
                    mono_us now)
{
    struct lb_key k = mk_key("198.51.100.1", 1234, dst);

    return lb_sched_pick(s, d, n, &k, now);
}

/* lblc keeps a destination on its dest while that dest is not overloaded in the lblc sense,
 * ignoring the OVERLOAD flag, and reschedules on weight 0 or removal. */
static void lblc_hits_and_reschedules(void **state)
{
    struct lb_dest d[2];
    struct lb_sched s;

    mk_dests(d, (const int32_t[]){1, 1}, 2);
    init_cache(&s, LB_SCHED_LBLC, 64, d, 2);
    assert_int_equal(pick_dst(&s, d, 2, "203.0.113.1", 0), 0); /* wlc tie: A */
    assert_int_equal(lb_sched_cache_count(&s), 1);
    d[0].inactive = 50; /* B is now less loaded but the cache wins */
    assert_int_equal(pick_dst(&s, d, 2, "203.0.113.1", 1), 0);
    assert_int_equal(pick_dst(&s, d, 2, "203.0.113.2", 1), 1); /* a new address: wlc */
    assert_int_equal(lb_sched_cache_count(&s), 2);
    d[0].overloaded = true; /* not consulted on a hit */
    assert_int_equal(pick_dst(&s, d, 2, "203.0.113.1", 2), 0);
    d[0].overloaded = false;
    d[0].weight = 0;
    assert_int_equal(pick_dst(&s, d, 2, "203.0.113.1", 3), 1);
    d[0].weight = 1; /* the entry now points at B */
    assert_int_equal(pick_dst(&s, d, 2, "203.0.113.1", 4), 1);
    assert_int_equal(lb_sched_update(&s, &d[0], 1), 0); /* B removed */
    assert_int_equal(pick_dst(&s, &d[0], 1, "203.0.113.1", 5), 0);
    assert_int_equal(lb_sched_cache_count(&s), 2);
}

/* Cached A(w2, act3) with C(w4, act1): 1*2 < 4, so A is overloaded -> reschedule (wlc: C).
 * With C at act2 (4 < 4 false) and nobody else under half load, A stays. */
static void lblc_overload_rule(void **state)
{
    struct lb_dest d[3];
    struct lb_sched s;

    mk_dests(d, (const int32_t[]){2, 2, 4}, 3);
    d[1].active = 1; /* B: 2 < 2 false */
    d[2].active = 2;
    init_cache(&s, LB_SCHED_LBLC, 64, d, 3);
    assert_int_equal(pick_dst(&s, d, 3, "203.0.113.7", 0), 0);
    d[0].active = 3;
    assert_int_equal(pick_dst(&s, d, 3, "203.0.113.7", 1), 0);
    d[2].active = 1;
    assert_int_equal(pick_dst(&s, d, 3, "203.0.113.7", 2), 2);
    d[0].active = 0;
    assert_int_equal(pick_dst(&s, d, 3, "203.0.113.7", 3), 2); /* replaced entry sticks */
}

static const struct lb_lblcr_entry *lblcr_entry(const struct lb_sched *s)
{
    const struct lb_lblcr_entry *e = s->u.cache.slots;

    for (uint32_t i = 0; i < s->u.cache.cap; i++)
        if (e[i].addr.family != IP_NONE)
            return &e[i];
    return NULL;
}

/* lblcr adds the wlc minimum to the set when the set's best is overloaded, prefers the least
 * loaded member, and drops the most loaded member of an old multi-member set. */
static void lblcr_replication_and_expiry(void **state)
{
    struct lb_dest d[2];
    struct lb_sched s;
    const struct lb_lblcr_entry *e;

    mk_dests(d, (const int32_t[]){1, 1}, 2);
    init_cache(&s, LB_SCHED_LBLCR, 64, d, 2);
    lb_sched_set_expiration(&s, MONO_S(100));
    assert_int_equal(pick_dst(&s, d, 2, "203.0.113.9", 0), 0);
    e = lblcr_entry(&s);
    assert_non_null(e);
    assert_int_equal(e->size, 1);
    d[0].active = 2; /* A: 2 > 1, and B: 0*2 < 1 -> overloaded: add B */
    assert_int_equal(pick_dst(&s, d, 2, "203.0.113.9", MONO_S(10)), 1);
    assert_int_equal(e->size, 2);
    assert_int_equal(e->dest_id[0], 2); /* newest first */
    assert_int_equal(e->dest_id[1], 1);
    assert_true(e->lastmod == MONO_S(10));
    assert_int_equal(pick_dst(&s, d, 2, "203.0.113.9", MONO_S(50)), 1); /* set minimum */
    assert_int_equal(e->size, 2);
    assert_int_equal(pick_dst(&s, d, 2, "203.0.113.9", MONO_S(110)), 1); /* not after yet */
    assert_int_equal(e->size, 2);
    assert_int_equal(pick_dst(&s, d, 2, "203.0.113.9", MONO_S(110) + 1), 1);
    assert_int_equal(e->size, 1); /* A, the most loaded, was dropped */
    assert_int_equal(e->dest_id[0], 2);
    assert_int_equal(lb_sched_update(&s, &d[0], 1), 0); /* B removed from the service */
    d[0].active = 0;
    assert_int_equal(pick_dst(&s, &d[0], 1, "203.0.113.9", MONO_S(120)), 0);
    assert_int_equal(e->size, 1);
    assert_int_equal(e->dest_id[0], 1);
}

/* A full table refuses new entries but the pick still answers. */
static void cache_full(void **state)
{
    struct lb_dest d[1];
    struct lb_sched s;
    char dst[32];

    mk_dests(d, (const int32_t[]){1}, 1);
    init_cache(&s, LB_SCHED_LBLC, 16, d, 1);
    for (unsigned i = 1; i <= 20; i++) {
        snprintf(dst, sizeof(dst), "203.0.113.%u", i);
        assert_int_equal(pick_dst(&s, d, 1, dst, 0), 0);
    }
    assert_int_equal(lb_sched_cache_count(&s), 14); /* 7/8 of 16 */
}

/* Every 30th GC run sweeps entries idle for the expiration; in between, only a table above
 * max_size (cap/2) loses entries idle for 6 min, at most min((count-max)*4/3, max/2). */
static void cache_gc(void **state)
{
    struct lb_dest d[1];
    struct lb_sched s;
    char dst[32];

    mk_dests(d, (const int32_t[]){1}, 1);
    init_cache(&s, LB_SCHED_LBLC, 16, d, 1);
    lb_sched_set_expiration(&s, MONO_S(3600));
    for (unsigned i = 1; i <= 3; i++) {
        snprintf(dst, sizeof(dst), "203.0.113.%u", i);
        pick_dst(&s, d, 1, dst, 0);
    }
    for (int run = 1; run < 30; run++)
        assert_int_equal(lb_sched_gc(&s, MONO_S(7200)), 0);
    assert_int_equal(lb_sched_gc(&s, MONO_S(7200)), 3);
    assert_int_equal(lb_sched_cache_count(&s), 0);

    init_cache(&s, LB_SCHED_LBLC, 16, d, 1);
    for (unsigned i = 1; i <= 12; i++) {
        snprintf(dst, sizeof(dst), "2001:db8::%u", i);
        pick_dst(&s, d, 1, dst, i <= 6 ? 0 : MONO_S(600));
    }
    assert_int_equal(lb_sched_cache_count(&s), 12);
    assert_int_equal(lb_sched_gc(&s, MONO_S(720)), 4); /* goal min(4*4/3, 4) */
    assert_int_equal(lb_sched_cache_count(&s), 8);
    assert_int_equal(lb_sched_gc(&s, MONO_S(720)), 0); /* 8 <= max_size */
    {
        const struct lb_lblc_entry *e = s.u.cache.slots;
        int recent = 0;

        for (uint32_t i = 0; i < s.u.cache.cap; i++)
            recent += e[i].addr.family != IP_NONE && e[i].lastuse == MONO_S(600);
        assert_int_equal(recent, 6); /* the 4 dropped were all idle ones */
    }
    assert_int_equal(lb_sched_gc(&s, MONO_S(720)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lblc_hits_and_reschedules),
        cmocka_unit_test(lblc_overload_rule),
        cmocka_unit_test(lblcr_replication_and_expiry),
        cmocka_unit_test(cache_full),
        cmocka_unit_test(cache_gc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
