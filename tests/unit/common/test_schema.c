/*
 * test_schema.c - tool argument validation.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "schema.h"

static const char *sleep_schema =
    "{\"type\":\"object\",\"properties\":{\"seconds\":{\"type\":\"number\",\"minimum\":0,"
    "\"maximum\":86400},\"steps\":{\"type\":\"integer\",\"minimum\":1},\"mode\":{\"enum\":"
    "[\"a\",\"b\"]},\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":3},"
    "\"maxItems\":2}},\"required\":[\"seconds\"],\"additionalProperties\":false}";

static int check(const char *args, struct err *e)
{
    json_t *schema = json_loads(sleep_schema, 0, NULL), *v = json_loads(args, 0, NULL);
    assert_non_null(schema);
    assert_non_null(v);
    int rc = schema_validate(schema, v, e);
    json_decref(schema);
    json_decref(v);
    return rc;
}

static void test_schema_accepts_valid(void **state)
{
    struct err e = {0};
    assert_int_equal(check("{\"seconds\":2}", &e), 0);
    assert_int_equal(check("{\"seconds\":2.5,\"steps\":3,\"mode\":\"b\",\"tags\":[\"x\"]}", &e),
                     0);
    assert_int_equal(check("{\"seconds\":1,\"steps\":3.0}", &e), 0); /* 3.0 is an integer */
}

static void test_schema_names_the_bad_argument(void **state)
{
    struct err e = {0};
    assert_int_equal(check("{\"seconds\":\"2\"}", &e), -SCHEMA_EINVALID);
    assert_string_equal(e.msg, "arguments/seconds must be of type number, not a string");
    assert_int_equal(check("{\"seconds\":90000}", &e), -SCHEMA_EINVALID);
    assert_non_null(strstr(e.msg, "arguments/seconds must be <= 86400"));
    assert_int_equal(check("{}", &e), -SCHEMA_EINVALID);
    assert_non_null(strstr(e.msg, "arguments/seconds is required"));
    assert_int_equal(check("{\"seconds\":1,\"steps\":1.5}", &e), -SCHEMA_EINVALID);
    assert_int_equal(check("{\"seconds\":1,\"bogus\":1}", &e), -SCHEMA_EINVALID);
    assert_non_null(strstr(e.msg, "arguments/bogus is not an accepted argument"));
    assert_int_equal(check("{\"seconds\":1,\"mode\":\"c\"}", &e), -SCHEMA_EINVALID);
    assert_int_equal(check("{\"seconds\":1,\"tags\":[\"long\"]}", &e), -SCHEMA_EINVALID);
    assert_non_null(strstr(e.msg, "arguments/tags/0"));
    assert_int_equal(check("{\"seconds\":1,\"tags\":[\"a\",\"b\",\"c\"]}", &e), -SCHEMA_EINVALID);
    assert_int_equal(check("[]", &e), -SCHEMA_EINVALID);
}

static void test_schema_depth_is_bounded(void **state)
{
    json_t *schema = json_loads("{\"type\":\"array\"}", 0, NULL);
    json_t *inner = json_loads("{\"items\":{}}", 0, NULL);
    /* A self-similar schema nested 100 levels deep must not recurse forever. */
    json_t *deep = json_object(), *cur = deep;
    for (int i = 0; i < 100; i++) {
        json_t *next = json_object();
        json_object_set_new(cur, "items", next);
        json_object_set_new(cur, "type", json_string("array"));
        cur = next;
    }
    json_t *v = json_array(), *vc = v;
    for (int i = 0; i < 100; i++) {
        json_t *next = json_array();
        json_array_append_new(vc, next);
        vc = next;
    }
    struct err e = {0};
    assert_int_equal(schema_validate(deep, v, &e), -SCHEMA_EINVALID);
    assert_non_null(strstr(e.msg, "nested too deeply"));
    json_decref(v);
    json_decref(deep);
    json_decref(inner);
    json_decref(schema);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_accepts_valid),
        cmocka_unit_test(test_schema_names_the_bad_argument),
        cmocka_unit_test(test_schema_depth_is_bounded),
    };
    return cmocka_run_group_tests_name("schema", tests, NULL, NULL);
}
