/* Unit tests for the emit-only JSON writer (base/json). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

/* Takes the text and compares it with want. */
static void expect(struct json_w *w, const char *want)
{
    size_t len = 99;
    char *s = json_w_take(w, &len);

    assert_string_equal(s, want);
    assert_int_equal(len, strlen(want));
    free(s);
}

static void nested_document_with_commas(void **state)
{
    struct json_w w = {0};

    json_obj_begin(&w);
    json_key(&w, "name");
    json_str(&w, "VI_1");
    json_key(&w, "prio");
    json_int(&w, -5);
    json_key(&w, "vips");
    json_arr_begin(&w);
    json_str(&w, "192.0.2.1");
    json_str(&w, "2001:db8::1");
    json_arr_end(&w);
    json_key(&w, "empty");
    json_obj_begin(&w);
    json_obj_end(&w);
    json_key(&w, "none");
    json_arr_begin(&w);
    json_arr_end(&w);
    json_key(&w, "m");
    json_arr_begin(&w);
    json_obj_begin(&w);
    json_key(&w, "a");
    json_null(&w);
    json_obj_end(&w);
    json_obj_begin(&w);
    json_obj_end(&w);
    json_arr_begin(&w);
    json_bool(&w, true);
    json_bool(&w, false);
    json_arr_end(&w);
    json_arr_end(&w);
    json_obj_end(&w);
    expect(&w, "{\"name\":\"VI_1\",\"prio\":-5,\"vips\":[\"192.0.2.1\",\"2001:db8::1\"],"
               "\"empty\":{},\"none\":[],\"m\":[{\"a\":null},{},[true,false]]}");
}

static void string_escaping(void **state)
{
    struct json_w w = {0};

    json_str(&w, "q\"b\\s/ n\n r\r t\t b\b f\f x\x01 y\x1f z\x7f");
    expect(&w, "\"q\\\"b\\\\s/ n\\n r\\r t\\t b\\b f\\f x\\u0001 y\\u001f z\x7f\"");
    json_str(&w, "caf\xc3\xa9 \xed\x95\x9c\xea\xb8\x80"); /* UTF-8 passes through */
    expect(&w, "\"caf\xc3\xa9 \xed\x95\x9c\xea\xb8\x80\"");
    json_strn(&w, "a\0b", 3);
    expect(&w, "\"a\\u0000b\"");
    json_str(&w, "");
    expect(&w, "\"\"");
    json_str(&w, NULL);
    expect(&w, "null");
    json_obj_begin(&w);
    json_key(&w, "k\"ey");
    json_str(&w, "v");
    json_obj_end(&w);
    expect(&w, "{\"k\\\"ey\":\"v\"}");
}

static void numbers(void **state)
{
    struct json_w w = {0};

    json_arr_begin(&w);
    json_int(&w, INT64_MIN);
    json_int(&w, INT64_MAX);
    json_int(&w, 0);
    json_uint(&w, UINT64_MAX);
    json_double(&w, 0.1);
    json_double(&w, 1.5);
    json_double(&w, 3.0);
    json_double(&w, -2.5e-7);
    json_double(&w, 1.0 / 3.0);
    json_double(&w, 1e300);
    json_double(&w, NAN);
    json_double(&w, INFINITY);
    json_arr_end(&w);
    expect(&w, "[-9223372036854775808,9223372036854775807,0,18446744073709551615,0.1,1.5,3,"
               "-2.5e-07,0.3333333333333333,1e+300,null,null]");
}

static void top_level_scalars_and_reuse(void **state)
{
    struct json_w w;

    json_w_init(&w);
    assert_string_equal(json_w_cstr(&w), "");
    json_uint(&w, 7);
    assert_string_equal(json_w_cstr(&w), "7");
    json_w_free(&w);
    assert_string_equal(json_w_cstr(&w), "");
    assert_null(w.buf);
    json_w_free(NULL);
    expect(&w, ""); /* take on an empty writer gives "" */
    json_bool(&w, false);
    expect(&w, "false");
}

static void growth_keeps_content(void **state)
{
    struct json_w w = {0};
    char *s;
    size_t len;

    json_arr_begin(&w);
    for (int i = 0; i < 5000; i++)
        json_str(&w, "abcdefgh");
    json_arr_end(&w);
    s = json_w_take(&w, &len);
    assert_int_equal(len, 2 + 5000 * 10 + 4999);
    assert_memory_equal(s, "[\"abcdefgh\",\"abcdefgh\",", 23);
    assert_string_equal(s + len - 12, ",\"abcdefgh\"]");
    free(s);
}

static void deep_nesting(void **state)
{
    struct json_w w = {0};
    char want[2 * JSON_MAX_DEPTH + 1];

    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        json_arr_begin(&w);
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        json_arr_end(&w);
    memset(want, '[', JSON_MAX_DEPTH);
    memset(want + JSON_MAX_DEPTH, ']', JSON_MAX_DEPTH);
    want[2 * JSON_MAX_DEPTH] = '\0';
    expect(&w, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nested_document_with_commas),
        cmocka_unit_test(string_escaping),
        cmocka_unit_test(numbers),
        cmocka_unit_test(top_level_scalars_and_reuse),
        cmocka_unit_test(growth_keeps_content),
        cmocka_unit_test(deep_nesting),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
