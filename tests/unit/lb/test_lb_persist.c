/* Unit tests for persistence templates: granularity masks (IPv4 netmask, IPv6 prefix),
 * timeout and re-arm, controlled connections, quiesced and removed dests, a full table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "lb_test_util.h"
#include "proto/lb/lb_persist.h"

static uint64_t storage[1 << 12];

static struct ip_addr ip(const char *s)
{
    struct ip_addr a;

    assert_true(ip_addr_parse(s, &a));
    return a;
}

static void init_p(struct lb_persist *p, uint32_t cap, uint32_t mask4, uint8_t plen6, bool eq)
{
    assert_int_equal(
        lb_persist_init(p, storage, sizeof(storage), cap, MONO_S(300), mask4, plen6, eq), 0);
}

static void granularity(void **state)
{
    struct lb_dest d[3];
    struct lb_persist p;
    struct ip_addr a = ip("192.0.2.10"), b = ip("192.0.2.99"), c = ip("198.51.100.10");
    struct ip_addr v1 = ip("2001:db8:1:2::1"), v2 = ip("2001:db8:1:2:ffff::5");
    struct ip_addr v3 = ip("2001:db8:1:3::1");

    mk_dests(d, (const int32_t[]){1, 1, 1}, 3);
    init_p(&p, 64, 0xffffff00u, 64, true);
    assert_int_equal(lb_persist_lookup(&p, d, 3, &a, 0), -1);
    assert_int_equal(lb_persist_bind(&p, d, 2, &a, 0), 0);
    assert_int_equal(lb_persist_lookup(&p, d, 3, &b, 1), 2); /* same /24 */
    assert_int_equal(lb_persist_lookup(&p, d, 3, &c, 1), -1);
    assert_int_equal(lb_persist_bind(&p, d, 1, &v1, 0), 0);
    assert_int_equal(lb_persist_lookup(&p, d, 3, &v2, 1), 1); /* same /64 */
    assert_int_equal(lb_persist_lookup(&p, d, 3, &v3, 1), -1);
    assert_int_equal(p.count, 2);
    {
        struct ip_addr m = lb_persist_mask(&p, &b);
        assert_true(ip_addr_eq(&m, &(struct ip_addr){.family = IP_V4, .b = {192, 0, 2, 0}}));
    }
    init_p(&p, 64, 0, 0, true); /* defaults: /32 and /128 */
    assert_int_equal(lb_persist_bind(&p, d, 0, &a, 0), 0);
    assert_int_equal(lb_persist_lookup(&p, d, 3, &b, 1), -1);
    assert_int_equal(lb_persist_lookup(&p, d, 3, &a, 1), 0);
    assert_int_equal(lb_persist_init(&p, storage, sizeof(storage), 64, MONO_S(1), 0, 129, true),
                     -EINVAL);
    assert_int_equal(lb_persist_init(&p, storage, 8, 64, MONO_S(1), 0, 0, true), -EINVAL);
}

/* A template lives timeout after its last use; a hit re-arms it. */
static void timeout_and_rearm(void **state)
{
    struct lb_dest d[2];
    struct lb_persist p;
    struct ip_addr a = ip("192.0.2.10");

    mk_dests(d, (const int32_t[]){1, 1}, 2);
    init_p(&p, 64, 0, 0, true);
    assert_int_equal(lb_persist_bind(&p, d, 1, &a, 0), 0);
    assert_int_equal(lb_persist_lookup(&p, d, 2, &a, MONO_S(299)), 1);
    assert_int_equal(lb_persist_lookup(&p, d, 2, &a, MONO_S(598)), 1);
    assert_int_equal(lb_persist_expire(&p, MONO_S(897)), 0);
    assert_int_equal(lb_persist_lookup(&p, d, 2, &a, MONO_S(898)), -1);
    assert_int_equal(p.count, 0);
}

/* Connections made through a template keep it past its deadline. */
static void controlled_connections(void **state)
{
    struct lb_dest d[2];
    struct lb_persist p;
    struct ip_addr a = ip("192.0.2.10"), b = ip("192.0.2.11"), none = ip("203.0.113.1");

    mk_dests(d, (const int32_t[]){1, 1}, 2);
    init_p(&p, 64, 0, 0, true);
    assert_int_equal(lb_persist_bind(&p, d, 0, &a, 0), 0);
    assert_int_equal(lb_persist_bind(&p, d, 1, &b, 0), 0);
    assert_int_equal(lb_persist_control(&p, &a, 1), 0);
    assert_int_equal(lb_persist_control(&p, &none, 1), -ENOENT);
    assert_int_equal(lb_persist_expire(&p, MONO_S(400)), 1); /* b only */
    assert_int_equal(lb_persist_lookup(&p, d, 2, &a, MONO_S(400)), 0);
    assert_int_equal(lb_persist_control(&p, &a, -1), 0);
    assert_int_equal(lb_persist_control(&p, &a, -1), 0); /* never below 0 */
    assert_int_equal(lb_persist_expire(&p, MONO_S(699)), 0);
    assert_int_equal(lb_persist_expire(&p, MONO_S(700)), 1);
    assert_int_equal(p.count, 0);
}

/* expire_quiescent: a template to a weight-0 dest is dropped; without it, it is kept. A
 * template to a removed dest is always dropped. OVERLOAD does not break persistence. */
static void quiesce_and_removal(void **state)
{
    struct lb_dest d[2];
    struct lb_persist p;
    struct ip_addr a = ip("192.0.2.10");

    mk_dests(d, (const int32_t[]){1, 1}, 2);
    init_p(&p, 64, 0, 0, true);
    assert_int_equal(lb_persist_bind(&p, d, 1, &a, 0), 0);
    d[1].overloaded = true;
    assert_int_equal(lb_persist_lookup(&p, d, 2, &a, 1), 1);
    lb_dest_set_weight(&d[1], 0);
    assert_int_equal(lb_persist_lookup(&p, d, 2, &a, 2), -1);
    assert_int_equal(p.count, 0);
    init_p(&p, 64, 0, 0, false);
    assert_int_equal(lb_persist_bind(&p, d, 1, &a, 0), 0);
    assert_int_equal(lb_persist_lookup(&p, d, 2, &a, 1), 1);      /* IPVS default behaviour */
    assert_int_equal(lb_persist_lookup(&p, &d[0], 1, &a, 2), -1); /* dest removed */
    assert_int_equal(p.count, 0);
}

static void full_table(void **state)
{
    struct lb_dest d[1];
    struct lb_persist p;

    mk_dests(d, (const int32_t[]){1}, 1);
    init_p(&p, 16, 0, 0, true);
    for (uint8_t i = 1; i <= 14; i++) {
        struct ip_addr a = {.family = IP_V4, .b = {192, 0, 2, i}};
        assert_int_equal(lb_persist_bind(&p, d, 0, &a, 0), 0);
    }
    {
        struct ip_addr a = {.family = IP_V4, .b = {192, 0, 2, 15}};
        struct ip_addr old = {.family = IP_V4, .b = {192, 0, 2, 3}};
        assert_int_equal(lb_persist_bind(&p, d, 0, &a, 0), -ENOSPC);
        assert_int_equal(lb_persist_bind(&p, d, 0, &old, 5), 0); /* re-binding still works */
    }
    assert_int_equal(lb_persist_expire(&p, MONO_S(300)), 13);
    assert_int_equal(p.count, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(granularity),
        cmocka_unit_test(timeout_and_rearm),
        cmocka_unit_test(controlled_connections),
        cmocka_unit_test(quiesce_and_removal),
        cmocka_unit_test(full_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
