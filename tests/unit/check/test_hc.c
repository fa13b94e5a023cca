/* Unit tests for proto/check/hc: the health-checker core, with exact action lists and
 * times (keepalived semantics: warmup, retry, delay_before_retry, alpha, one success UP). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "proto/check/hc.h"

static const struct hc_cfg base_cfg = {
    .delay_loop_us = MONO_S(10),
    .connect_timeout_us = MONO_S(5),
    .retry = 2,
    .delay_before_retry_us = MONO_S(3),
    .warmup_us = MONO_S(10),
};

/* Runs one input and renders the actions as "up:initial start_probe ..." */
static const char *step(struct hc *h, enum hc_ev ev, bool ok, uint64_t rnd, mono_us now)
{
    static char buf[256];
    struct hc_in in = {.ev = ev, .ok = ok, .rnd = rnd};
    struct hc_acts a;
    size_t n = 0;

    hc_step(h, &in, now, &a);
    buf[0] = '\0';
    for (unsigned i = 0; i < a.n; i++) {
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "",
                              hc_act_name(a.a[i].kind));
        if (a.a[i].why != HC_WHY_NONE)
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, ":%s", hc_why_name(a.a[i].why));
    }
    return buf;
}

/* Ticks at the deadline and expects one probe start there. */
static void probe_at(struct hc *h, mono_us when)
{
    assert_int_equal(hc_deadline(h), when);
    assert_string_equal(step(h, HC_EV_TICK, false, 0, when - 1), "");
    assert_string_equal(step(h, HC_EV_TICK, false, 0, when), "start_probe");
}

static void start_not_alpha_is_up_with_warmup(void **state)
{
    struct hc h;

    hc_init(&h, &base_cfg);
    assert_int_equal(hc_deadline(&h), MONO_NEVER);
    /* rnd 7000003 % (10 s + 1) = 7000003 us */
    assert_string_equal(step(&h, HC_EV_START, false, 7000003, MONO_S(100)), "up:initial");
    assert_true(hc_is_up(&h));
    probe_at(&h, MONO_S(100) + 7000003);
    assert_string_equal(step(&h, HC_EV_RESULT, true, 0, MONO_S(108)), "");
    probe_at(&h, MONO_S(118));
}

/* A resumed START (reload, upgrade) keeps the carried DOWN verdict of a checker that has run:
 * no health action, and the first probe after the warmup draw; one success brings it UP. */
static void resume_keeps_carried_down(void **state)
{
    struct hc h;
    struct hc_in in = {.ev = HC_EV_START, .rnd = 2000000, .resume = true};
    struct hc_acts a;

    hc_init(&h, &base_cfg);
    h.up = false; /* carried over from the checker this one replaces */
    h.has_run = true;
    hc_step(&h, &in, MONO_S(50), &a);
    assert_int_equal(a.n, 0);
    assert_false(hc_is_up(&h));
    probe_at(&h, MONO_S(52));
    assert_string_equal(step(&h, HC_EV_RESULT, true, 0, MONO_S(53)), "up:probe_ok");
}

static void alpha_starts_down_one_success_up(void **state)
{
    struct hc_cfg c = base_cfg;
    struct hc h;

    c.alpha = true;
    c.warmup_us = 0;
    hc_init(&h, &c);
    assert_string_equal(step(&h, HC_EV_START, false, 12345, 0), "down:initial");
    assert_false(hc_is_up(&h));
    probe_at(&h, 0);
    assert_string_equal(step(&h, HC_EV_RESULT, true, 0, MONO_S(1)), "up:probe_ok");
    assert_true(hc_is_up(&h));
    probe_at(&h, MONO_S(11));
}

static void failures_retry_then_down(void **state)
{
    struct hc_cfg c = base_cfg;
    struct hc h;

    c.warmup_us = 0;
    hc_init(&h, &c);
    step(&h, HC_EV_START, false, 0, 0);
    probe_at(&h, 0);
    assert_string_equal(step(&h, HC_EV_RESULT, false, 0, MONO_S(1)), ""); /* retry 1 */
    probe_at(&h, MONO_S(4));
    assert_string_equal(step(&h, HC_EV_RESULT, false, 0, MONO_S(5)), ""); /* retry 2 */
    probe_at(&h, MONO_S(8));
    assert_string_equal(step(&h, HC_EV_RESULT, false, 0, MONO_S(9)), "down:retries_spent");
    /* DOWN after having run: re-probed every delay_before_retry */
    probe_at(&h, MONO_S(19));
    assert_string_equal(step(&h, HC_EV_RESULT, false, 0, MONO_S(19)), "");
    probe_at(&h, MONO_S(22));
    assert_string_equal(step(&h, HC_EV_RESULT, true, 0, MONO_S(23)), "up:probe_ok");
    probe_at(&h, MONO_S(33));
    assert_int_equal(h.probes, 5);
    assert_int_equal(h.failures, 4);
}

static void success_resets_retries(void **state)
{
    struct hc_cfg c = base_cfg;
    struct hc h;

    c.warmup_us = 0;
    c.retry = 1;
    hc_init(&h, &c);
    step(&h, HC_EV_START, false, 0, 0);
    probe_at(&h, 0);
    assert_string_equal(step(&h, HC_EV_RESULT, false, 0, 0), "");
    probe_at(&h, MONO_S(3));
    assert_string_equal(step(&h, HC_EV_RESULT, true, 0, MONO_S(3)), "");
    probe_at(&h, MONO_S(13));
    assert_string_equal(step(&h, HC_EV_RESULT, false, 0, MONO_S(13)), "");
    probe_at(&h, MONO_S(16));
    assert_string_equal(step(&h, HC_EV_RESULT, false, 0, MONO_S(16)), "down:retries_spent");
    assert_false(hc_is_up(&h));
}

static void retry_zero_alpha_failure_waits_delay_loop(void **state)
{
    struct hc_cfg c = base_cfg;
    struct hc h;

    c.warmup_us = 0;
    c.retry = 0;
    c.alpha = true;
    hc_init(&h, &c);
    step(&h, HC_EV_START, false, 0, 0);
    probe_at(&h, 0);
    /* not run yet and no retry: the first failure keeps DOWN, next probe after delay_loop */
    assert_string_equal(step(&h, HC_EV_RESULT, false, 0, MONO_S(1)), "");
    probe_at(&h, MONO_S(11));
}

static void lost_result_is_cancelled_and_failed(void **state)
{
    struct hc_cfg c = base_cfg;
    struct hc h;

    c.warmup_us = 0;
    c.retry = 0;
    hc_init(&h, &c);
    step(&h, HC_EV_START, false, 0, 0);
    probe_at(&h, 0);
    assert_int_equal(hc_deadline(&h), MONO_S(5) + HC_PROBE_GRACE_US);
    assert_string_equal(step(&h, HC_EV_TICK, false, 0, MONO_S(6)),
                        "cancel_probe down:retries_spent");
    /* a late result of the cancelled probe is ignored */
    assert_string_equal(step(&h, HC_EV_RESULT, true, 0, MONO_S(7)), "");
    probe_at(&h, MONO_S(16));
}

static void stop_cancels_and_disarms(void **state)
{
    struct hc h;

    hc_init(&h, &base_cfg);
    step(&h, HC_EV_START, false, 0, 0);
    probe_at(&h, 0);
    assert_string_equal(step(&h, HC_EV_STOP, false, 0, 1), "cancel_probe");
    assert_int_equal(hc_deadline(&h), MONO_NEVER);
    assert_string_equal(step(&h, HC_EV_TICK, false, 0, MONO_S(100)), "");
    assert_string_equal(step(&h, HC_EV_START, false, 5, MONO_S(200)), "up:initial");
    assert_int_equal(hc_deadline(&h), MONO_S(200) + 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(start_not_alpha_is_up_with_warmup),
        cmocka_unit_test(alpha_starts_down_one_success_up),
        cmocka_unit_test(resume_keeps_carried_down),
        cmocka_unit_test(failures_retry_then_down),
        cmocka_unit_test(success_resets_retries),
        cmocka_unit_test(retry_zero_alpha_failure_waits_delay_loop),
        cmocka_unit_test(lost_result_is_cancelled_and_failed),
        cmocka_unit_test(stop_cancels_and_disarms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
