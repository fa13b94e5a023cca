/* Unit tests for base/addr and base/rng. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/addr.h"
#include "base/rng.h"

static void addr_parse_format_roundtrip(void **state)
{
    struct ip_addr a;
    char buf[IP_ADDR_STRLEN];

    assert_true(ip_addr_parse("192.0.2.10", &a));
    assert_int_equal(a.family, IP_V4);
    assert_string_equal(ip_addr_format(&a, buf, sizeof(buf)), "192.0.2.10");
    assert_true(ip_addr_parse("2001:db8::1", &a));
    assert_int_equal(a.family, IP_V6);
    assert_string_equal(ip_addr_format(&a, buf, sizeof(buf)), "2001:db8::1");
    assert_false(ip_addr_parse("192.0.2.300", &a));
    assert_int_equal(a.family, IP_NONE);
    assert_false(ip_addr_parse("", &a));
}

static void addr_compare_is_big_endian_unsigned(void **state)
{
    struct ip_addr lo, hi;

    ip_addr_parse("192.0.2.9", &lo);
    ip_addr_parse("192.0.2.10", &hi);
    assert_true(ip_addr_cmp(&lo, &hi) < 0);
    ip_addr_parse("10.0.0.1", &lo);
    ip_addr_parse("200.0.0.1", &hi);
    assert_true(ip_addr_cmp(&lo, &hi) < 0);
    assert_true(ip_addr_eq(&lo, &lo));
}

static void addr_classify(void **state)
{
    struct ip_addr a;

    ip_addr_parse("224.0.0.18", &a);
    assert_true(ip_addr_is_multicast(&a));
    ip_addr_parse("ff02::12", &a);
    assert_true(ip_addr_is_multicast(&a));
    ip_addr_parse("fe80::1", &a);
    assert_true(ip_addr_is_v6_linklocal(&a));
    ip_addr_parse("2001:db8::1", &a);
    assert_false(ip_addr_is_v6_linklocal(&a));
}

static void rng_is_reproducible_and_bounded(void **state)
{
    struct rng a, b;

    rng_seed(&a, 42);
    rng_seed(&b, 42);
    for (int i = 0; i < 1000; i++) {
        uint64_t x = rng_below(&a, 7);
        assert_int_equal(x, rng_below(&b, 7));
        assert_true(x < 7);
    }
    assert_int_equal(rng_below(&a, 0), 0);
    rng_seed(&b, 43);
    assert_int_not_equal(rng_next(&a), rng_next(&b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(addr_parse_format_roundtrip),
        cmocka_unit_test(addr_compare_is_big_endian_unsigned),
        cmocka_unit_test(addr_classify),
        cmocka_unit_test(rng_is_reproducible_and_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
