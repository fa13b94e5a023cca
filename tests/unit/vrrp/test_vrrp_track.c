/* Unit tests for the tracking arithmetic (proto/vrrp/vrrp_track): hysteresis and every
 * effective-priority rule of keepalived.conf(5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>

#include "proto/vrrp/vrrp_track.h"

static void feed_rise_fall_hysteresis(void **state)
{
    struct vrrp_tracker t;

    vrrp_tracker_init(&t, 0, false, 2, 3, false);
    assert_true(t.up);
    assert_false(vrrp_tracker_feed(&t, true));
    assert_false(vrrp_tracker_feed(&t, false)); /* 1 of 3 */
    assert_false(vrrp_tracker_feed(&t, false)); /* 2 of 3 */
    assert_false(vrrp_tracker_feed(&t, true));  /* streak broken */
    assert_int_equal(t.streak, 0);
    assert_false(vrrp_tracker_feed(&t, false));
    assert_false(vrrp_tracker_feed(&t, false));
    assert_true(t.up);
    assert_true(vrrp_tracker_feed(&t, false)); /* third consecutive failure */
    assert_false(t.up);
    assert_false(vrrp_tracker_feed(&t, false)); /* stays down, no change reported */
    assert_false(vrrp_tracker_feed(&t, true));  /* 1 of 2 */
    assert_false(vrrp_tracker_feed(&t, false)); /* broken */
    assert_false(vrrp_tracker_feed(&t, true));
    assert_true(vrrp_tracker_feed(&t, true)); /* second consecutive success */
    assert_true(t.up);
}

static void init_fail_starts_down_and_defaults(void **state)
{
    struct vrrp_tracker t;

    vrrp_tracker_init(&t, -20, true, 0, 0, true);
    assert_false(t.up);
    assert_int_equal(t.rise, 1);
    assert_int_equal(t.fall, 1);
    assert_int_equal(t.weight, -20);
    assert_true(t.reverse);
    assert_true(vrrp_tracker_feed(&t, true));
    assert_true(t.up);
    assert_true(vrrp_tracker_feed(&t, false));
    assert_false(t.up);
}

/* Effective priority of base with one tracker in state up, weight w, reverse rev. */
static struct vrrp_prio one(uint8_t base, bool up, int w, bool rev)
{
    struct vrrp_tracker t;
    struct vrrp_track_ref r;

    vrrp_tracker_init(&t, w, rev, 1, 1, !up);
    r = vrrp_track_ref_default(&t);
    return vrrp_effective_priority(base, &r, 1, NULL, 0);
}

static void positive_weight_adds_while_up(void **state)
{
    struct vrrp_prio p = one(100, true, 20, false);

    assert_int_equal(p.priority, 120);
    assert_false(p.fault);
    assert_int_equal(p.total, 120);
    p = one(100, false, 20, false);
    assert_int_equal(p.priority, 100);
    assert_false(p.fault);
}

static void negative_weight_subtracts_while_down(void **state)
{
    assert_int_equal(one(100, true, -30, false).priority, 100);
    assert_int_equal(one(100, false, -30, false).priority, 70);
    assert_false(one(100, false, -30, false).fault);
}

static void reverse_inverts_direction(void **state)
{
    assert_int_equal(one(100, true, 20, true).priority, 80);    /* subtract while up */
    assert_int_equal(one(100, false, 20, true).priority, 100);  /* nothing while down */
    assert_int_equal(one(100, false, -30, true).priority, 130); /* add while down */
    assert_int_equal(one(100, true, -30, true).priority, 100);
}

static void weight_zero_means_fault(void **state)
{
    struct vrrp_prio p = one(100, false, 0, false);

    assert_true(p.fault);
    assert_int_equal(p.priority, 100);
    assert_false(one(100, true, 0, false).fault);
    /* "weight 0 reverse": down while the tracked thing is up, and vice versa. */
    assert_true(one(100, true, 0, true).fault);
    assert_false(one(100, false, 0, true).fault);
}

static void clamped_to_1_254(void **state)
{
    struct vrrp_prio p = one(250, true, 50, false);

    assert_int_equal(p.priority, 254);
    assert_int_equal(p.total, 300);
    p = one(10, false, -253, false);
    assert_int_equal(p.priority, 1);
    assert_int_equal(p.total, -243);
    assert_false(p.fault);
    assert_int_equal(one(1, true, -253, true).priority, 1);
}

static void owner_never_moves(void **state)
{
    assert_int_equal(one(255, false, -100, false).priority, 255);
    assert_int_equal(one(255, true, 100, true).priority, 255);
    assert_int_equal(one(254, true, 10, false).priority, 254); /* 264 does not reach 255 */
    struct vrrp_prio p = one(255, false, 0, false);
    assert_int_equal(p.priority, 255);
    assert_true(p.fault); /* only FAULT applies to an owner */
}

static void override_weight_per_instance(void **state)
{
    struct vrrp_tracker t;
    struct vrrp_track_ref refs[2];

    vrrp_tracker_init(&t, 0, false, 1, 1, false);
    vrrp_tracker_feed(&t, false); /* down */
    refs[0] = (struct vrrp_track_ref){.tracker = &t, .weight = -10};
    refs[1] = (struct vrrp_track_ref){.tracker = &t, .weight = -15};
    struct vrrp_prio p = vrrp_effective_priority(100, refs, 2, NULL, 0);
    assert_int_equal(p.priority, 75);
    assert_false(p.fault); /* the tracker's own weight 0 is overridden */
    p = vrrp_effective_priority(100, NULL, 0, NULL, 0);
    assert_int_equal(p.priority, 100);
    assert_int_equal(p.total, 100);
}

static struct vrrp_prio file(uint8_t base, int value, int weight, bool rev)
{
    struct vrrp_track_file_val f = {.value = value, .weight = weight, .reverse = rev};

    return vrrp_effective_priority(base, NULL, 0, &f, 1);
}

static void file_value_times_weight(void **state)
{
    assert_int_equal(file(100, 3, 10, false).priority, 130);
    assert_int_equal(file(100, -4, 10, false).priority, 60);
    assert_int_equal(file(100, 3, -10, false).priority, 70);
    assert_int_equal(file(100, 3, 10, true).priority, 70);
    assert_int_equal(file(100, 0, 10, false).priority, 100);
    assert_false(file(100, -4, 10, false).fault);
}

static void file_below_minus_253_is_fault(void **state)
{
    struct vrrp_prio p = file(100, -253, 1, false);

    assert_false(p.fault);
    assert_int_equal(p.priority, 1);
    assert_true(file(100, -254, 1, false).fault);
    assert_true(file(100, -1, 254, false).fault); /* the man page's weight 254 idiom */
    assert_true(file(100, 1, 254, true).fault);
    assert_false(file(100, 1, 254, false).fault);
    assert_int_equal(file(100, 1, 254, false).priority, 254);
    assert_true(file(255, -300, 1, false).fault);
    assert_int_equal(file(255, -300, 1, false).priority, 255);
}

static void file_weight_zero(void **state)
{
    assert_true(file(100, 5, 0, false).fault);
    assert_true(file(100, -1, 0, false).fault);
    assert_false(file(100, 0, 0, false).fault);
    assert_int_equal(file(100, 5, 0, false).priority, 100);
    assert_true(file(100, 0, 0, true).fault);
    assert_false(file(100, 5, 0, true).fault);
}

static void file_extremes_do_not_overflow(void **state)
{
    struct vrrp_track_file_val f[3] = {
        {.value = INT_MAX, .weight = INT_MAX},
        {.value = INT_MAX, .weight = INT_MAX},
        {.value = INT_MIN, .weight = 1},
    };
    struct vrrp_prio p = vrrp_effective_priority(100, NULL, 0, f, 2);

    assert_int_equal(p.priority, 254);
    assert_false(p.fault);
    assert_true(p.total > 254);
    p = vrrp_effective_priority(100, NULL, 0, f + 2, 1);
    assert_true(p.fault);
    assert_int_equal(p.priority, 1);
    assert_true(p.total < 0);
}

static void mixed_trackers_and_files(void **state)
{
    struct vrrp_tracker up, down;
    struct vrrp_track_ref refs[2];
    struct vrrp_track_file_val f = {.value = 2, .weight = -5};

    vrrp_tracker_init(&up, 10, false, 1, 1, false);
    vrrp_tracker_init(&down, -20, false, 1, 1, true);
    refs[0] = vrrp_track_ref_default(&up);
    refs[1] = vrrp_track_ref_default(&down);
    struct vrrp_prio p = vrrp_effective_priority(100, refs, 2, &f, 1);
    assert_int_equal(p.priority, 80); /* 100 + 10 - 20 - 10 */
    assert_int_equal(p.total, 80);
    assert_false(p.fault);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(feed_rise_fall_hysteresis),
        cmocka_unit_test(init_fail_starts_down_and_defaults),
        cmocka_unit_test(positive_weight_adds_while_up),
        cmocka_unit_test(negative_weight_subtracts_while_down),
        cmocka_unit_test(reverse_inverts_direction),
        cmocka_unit_test(weight_zero_means_fault),
        cmocka_unit_test(clamped_to_1_254),
        cmocka_unit_test(owner_never_moves),
        cmocka_unit_test(override_weight_per_instance),
        cmocka_unit_test(file_value_times_weight),
        cmocka_unit_test(file_below_minus_253_is_fault),
        cmocka_unit_test(file_weight_zero),
        cmocka_unit_test(file_extremes_do_not_overflow),
        cmocka_unit_test(mixed_trackers_and_files),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
