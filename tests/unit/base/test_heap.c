/* Unit tests for base/heap: order, arbitrary removal, re-keying, fixed storage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>

#include "base/heap.h"
#include "base/rng.h"

struct item {
    int key;
    struct heap_node node;
};

static struct item *item_of(struct heap_node *n)
{
    return (struct item *)((char *)n - offsetof(struct item, node));
}

static bool item_less(const struct heap_node *a, const struct heap_node *b)
{
    return item_of((struct heap_node *)a)->key < item_of((struct heap_node *)b)->key;
}

static void pops_in_key_order(void **state)
{
    static const int keys[] = {5, 3, 9, 1, 7, 3, 8, 0, 2};
    struct item it[9] = {0};
    struct heap h;

    heap_init(&h, item_less, NULL, 0);
    for (int i = 0; i < 9; i++) {
        it[i].key = keys[i];
        assert_int_equal(heap_push(&h, &it[i].node), 0);
        assert_true(heap_contains(&it[i].node));
    }
    assert_int_equal(heap_len(&h), 9);
    static const int want[] = {0, 1, 2, 3, 3, 5, 7, 8, 9};
    for (int i = 0; i < 9; i++) {
        struct heap_node *n = heap_pop(&h);
        assert_non_null(n);
        assert_int_equal(item_of(n)->key, want[i]);
        assert_false(heap_contains(n));
    }
    assert_null(heap_pop(&h));
    assert_null(heap_top(&h));
    heap_fini(&h);
}

static void remove_and_update_keep_order(void **state)
{
    struct item it[6] = {{.key = 10}, {.key = 20}, {.key = 30},
                         {.key = 40}, {.key = 50}, {.key = 60}};
    struct heap h;

    heap_init(&h, item_less, NULL, 0);
    for (int i = 0; i < 6; i++)
        heap_push(&h, &it[i].node);
    heap_remove(&h, &it[2].node); /* 30 gone */
    assert_false(heap_contains(&it[2].node));
    heap_remove(&h, &it[2].node); /* no-op when absent */
    it[5].key = 5;                /* 60 -> 5: moves up */
    heap_update(&h, &it[5].node);
    it[0].key = 45; /* 10 -> 45: moves down */
    heap_update(&h, &it[0].node);
    static const int want[] = {5, 20, 40, 45, 50};
    for (int i = 0; i < 5; i++)
        assert_int_equal(item_of(heap_pop(&h))->key, want[i]);
    assert_int_equal(heap_len(&h), 0);
    heap_fini(&h);
}

static void fixed_storage_reports_full_and_fini_resets(void **state)
{
    struct heap_node *store[2];
    struct item it[3] = {{.key = 1}, {.key = 2}, {.key = 3}};
    struct heap h;

    heap_init(&h, item_less, store, 2);
    assert_int_equal(heap_push(&h, &it[0].node), 0);
    assert_int_equal(heap_push(&h, &it[1].node), 0);
    assert_int_equal(heap_push(&h, &it[2].node), -ENOSPC);
    assert_false(heap_contains(&it[2].node));
    heap_fini(&h);
    assert_false(heap_contains(&it[0].node));
    assert_false(heap_contains(&it[1].node));
    heap_fini(NULL);
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Random pushes, removals and re-keys against a sorted reference. */
static void random_ops_match_reference(void **state)
{
    enum { N = 500 };
    static struct item it[N];
    int ref[N], nref = 0;
    struct rng r;
    struct heap h;

    rng_seed(&r, 7);
    heap_init(&h, item_less, NULL, 0);
    for (int i = 0; i < N; i++) {
        it[i] = (struct item){.key = (int)rng_below(&r, 1000)};
        heap_push(&h, &it[i].node);
    }
    for (int i = 0; i < N; i += 3)
        heap_remove(&h, &it[i].node);
    for (int i = 1; i < N; i += 3) {
        it[i].key = (int)rng_below(&r, 1000);
        heap_update(&h, &it[i].node);
    }
    for (int i = 0; i < N; i++)
        if (heap_contains(&it[i].node))
            ref[nref++] = it[i].key;
    qsort(ref, (size_t)nref, sizeof(int), cmp_int);
    assert_int_equal(heap_len(&h), nref);
    for (int i = 0; i < nref; i++)
        assert_int_equal(item_of(heap_pop(&h))->key, ref[i]);
    heap_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pops_in_key_order),
        cmocka_unit_test(remove_and_update_keep_order),
        cmocka_unit_test(fixed_storage_reports_full_and_fini_resets),
        cmocka_unit_test(random_ops_match_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
