/* Unit tests for tools/probestat: gap and outage accounting of vipprobe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "probestat.h"

static struct probe_stats st; /* large: static */

/* Sends every 10 ms from t=0; replies 1 ms later except for sends in [drop_from, drop_to). */
static void run_steady(uint32_t n, uint32_t drop_from, uint32_t drop_to)
{
    probe_stats_init(&st, 30000);
    for (uint32_t i = 0; i < n; i++) {
        int64_t t = (int64_t)i * 10000;

        assert_int_equal(probe_stats_sent(&st, t), i);
        if (i < drop_from || i >= drop_to)
            assert_true(probe_stats_reply(&st, (uint16_t)i, t + 1000));
    }
    probe_stats_finish(&st);
}

static void steady_run_has_no_outage(void **state)
{
    run_steady(100, 0, 0);
    assert_int_equal(st.received, 100);
    assert_int_equal(probe_stats_lost(&st), 0);
    assert_int_equal(st.max_gap_us, 10000);
    assert_int_equal(st.n_outages, 0);
    assert_int_equal(st.rtt_min_us, 1000);
    assert_int_equal(st.rtt_max_us, 1000);
}

static void dropped_replies_make_one_outage(void **state)
{
    /* Replies for 20..49 lost: last reply at 19*10+1 ms, next at 50*10+1 ms. */
    run_steady(100, 20, 50);
    assert_int_equal(st.received, 70);
    assert_int_equal(probe_stats_lost(&st), 30);
    assert_int_equal(st.max_gap_us, 310000);
    assert_int_equal(st.n_outages, 1);
    assert_int_equal(st.outages[0].start_us, 191000);
    assert_int_equal(st.outages[0].end_us, 501000);
    assert_false(st.outages[0].open);
}

static void short_loss_is_a_gap_but_not_an_outage(void **state)
{
    /* Two lost replies: a 30 ms gap, not longer than the 30 ms threshold. */
    run_steady(50, 10, 12);
    assert_int_equal(st.max_gap_us, 30000);
    assert_int_equal(st.n_outages, 0);
}

static void silence_at_the_end_is_an_open_outage(void **state)
{
    run_steady(100, 60, 100);
    assert_int_equal(st.n_outages, 1);
    assert_int_equal(st.outages[0].start_us, 591000);
    assert_int_equal(st.outages[0].end_us, 990000);
    assert_true(st.outages[0].open);
    assert_int_equal(st.max_gap_us, 399000);
}

static void silence_at_the_start_counts_from_the_first_send(void **state)
{
    run_steady(100, 0, 10);
    assert_int_equal(st.n_outages, 1);
    assert_int_equal(st.outages[0].start_us, 0);
    assert_int_equal(st.outages[0].end_us, 101000);
}

static void duplicates_and_unknown_numbers_are_ignored(void **state)
{
    probe_stats_init(&st, 30000);
    probe_stats_sent(&st, 0);
    probe_stats_sent(&st, 10000);
    assert_true(probe_stats_reply(&st, 1, 11000));
    assert_false(probe_stats_reply(&st, 1, 12000));
    assert_false(probe_stats_reply(&st, 7, 12000));
    assert_true(probe_stats_reply(&st, 0, 13000)); /* late reply, out of order */
    assert_int_equal(st.duplicates, 1);
    assert_int_equal(st.received, 2);
    assert_int_equal(st.max_gap_us, 11000);
    assert_int_equal(st.rtt_max_us, 13000);
}

static void sixteen_bit_wrap_matches_the_newest_send(void **state)
{
    probe_stats_init(&st, 30000);
    for (uint32_t i = 0; i < 70000; i++)
        probe_stats_sent(&st, (int64_t)i * 10);
    /* Full number 69999 has wire number 69999 - 65536 = 4463. */
    assert_true(probe_stats_reply(&st, 4463, 700000));
    assert_int_equal(st.rtt_min_us, 700000 - 699990);
    /* Wire number 4464 would be send 4464 (left the window) or 70000 (not sent yet). */
    assert_false(probe_stats_reply(&st, 4464, 700000));
    /* Oldest send still in the window. */
    assert_true(probe_stats_reply(&st, (uint16_t)(70000 - PROBE_WINDOW), 700001));
    assert_false(probe_stats_reply(&st, (uint16_t)(70000 - PROBE_WINDOW - 1), 700001));
}

static void outages_beyond_the_table_are_counted(void **state)
{
    probe_stats_init(&st, 30000);
    for (uint32_t i = 0; i < PROBE_MAX_OUTAGES + 5; i++) {
        int64_t t = (int64_t)i * 100000;
        uint32_t seq = probe_stats_sent(&st, t);

        probe_stats_reply(&st, (uint16_t)seq, t + 1000);
    }
    probe_stats_finish(&st);
    assert_int_equal(st.n_outages, PROBE_MAX_OUTAGES + 4);
    assert_int_equal(st.outages[PROBE_MAX_OUTAGES - 1].end_us,
                     (int64_t)PROBE_MAX_OUTAGES * 100000 + 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(steady_run_has_no_outage),
        cmocka_unit_test(dropped_replies_make_one_outage),
        cmocka_unit_test(short_loss_is_a_gap_but_not_an_outage),
        cmocka_unit_test(silence_at_the_end_is_an_open_outage),
        cmocka_unit_test(silence_at_the_start_counts_from_the_first_send),
        cmocka_unit_test(duplicates_and_unknown_numbers_are_ignored),
        cmocka_unit_test(sixteen_bit_wrap_matches_the_newest_send),
        cmocka_unit_test(outages_beyond_the_table_are_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
