/*
 * test_args.c - cli/args.c: --args JSON and key=value arguments of 'taskwire call'.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "args.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- key=value ---- */

static json_t *args_of(int n, const char **kv)
{
    json_t *args = NULL;
    struct err err = {0};
    assert_int_equal(args_build(NULL, (char *const *)kv, n, &args, &err), 0);
    assert_non_null(args);
    return args;
}

static void test_kv_numbers_become_json_numbers(void **state)
{
    const char *kv[] = {"n=42", "x=-1.5", "big=1e3", "zip=007"};
    json_t *a = args_of(4, kv);
    assert_true(json_is_integer(json_object_get(a, "n")));
    assert_int_equal(json_integer_value(json_object_get(a, "n")), 42);
    assert_true(json_is_real(json_object_get(a, "x")));
    assert_true(json_real_value(json_object_get(a, "x")) == -1.5);
    assert_true(json_real_value(json_object_get(a, "big")) == 1000.0);
    /* not valid JSON (leading zero), so a string, as typed */
    assert_string_equal(json_string_value(json_object_get(a, "zip")), "007");
    json_decref(a);
}

static void test_kv_literals_and_strings(void **state)
{
    const char *kv[] = {"t=true", "f=false", "z=null", "s=hello world", "q=\"42\"", "e=", "eq=a=b"};
    json_t *a = args_of(7, kv);
    assert_true(json_is_true(json_object_get(a, "t")));
    assert_true(json_is_false(json_object_get(a, "f")));
    assert_true(json_is_null(json_object_get(a, "z")));
    assert_string_equal(json_string_value(json_object_get(a, "s")), "hello world");
    assert_string_equal(json_string_value(json_object_get(a, "q")), "42");
    assert_string_equal(json_string_value(json_object_get(a, "e")), "");
    assert_string_equal(json_string_value(json_object_get(a, "eq")), "a=b");
    json_decref(a);
}

static void test_kv_objects_and_arrays(void **state)
{
    const char *kv[] = {"o={\"a\":[1,2],\"b\":{\"c\":null}}", "l=[1,\"x\"]"};
    json_t *a = args_of(2, kv);
    json_t *want =
        json_pack("{s:{s:[i,i], s:{s:n}}, s:[i,s]}", "o", "a", 1, 2, "b", "c", "l", 1, "x");
    assert_true(json_equal(a, want));
    json_decref(want);
    json_decref(a);
}

static void test_kv_repeated_key_replaces(void **state)
{
    const char *kv[] = {"k=1", "k=2"};
    json_t *a = args_of(2, kv);
    assert_int_equal(json_integer_value(json_object_get(a, "k")), 2);
    assert_int_equal(json_object_size(a), 1);
    json_decref(a);
}

static void test_kv_rejects_invalid(void **state)
{
    json_t *args = json_object();
    struct err err = {0};
    assert_int_equal(args_parse_kv(args, "novalue", &err), -ARGS_EINVALID);
    assert_non_null(strstr(err.msg, "key=value"));
    assert_int_equal(args_parse_kv(args, "=x", &err), -ARGS_EINVALID);
    assert_non_null(strstr(err.msg, "empty key"));
    assert_int_equal(args_parse_kv(args, "o={\"a\":", &err), -ARGS_EINVALID);
    assert_non_null(strstr(err.msg, "invalid JSON"));
    assert_int_equal(args_parse_kv(args, "l=[1,", &err), -ARGS_EINVALID);
    assert_int_equal(args_parse_kv(args, "s=caf\xff", &err), -ARGS_EINVALID);
    assert_int_equal(json_object_size(args), 0);
    json_decref(args);
}

static void test_args_json_then_kv_on_top(void **state)
{
    const char *kv[] = {"b=3"};
    json_t *a = NULL;
    struct err err = {0};
    assert_int_equal(args_build("{\"a\":1,\"b\":2}", (char *const *)kv, 1, &a, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(a, "a")), 1);
    assert_int_equal(json_integer_value(json_object_get(a, "b")), 3);
    json_decref(a);
    assert_int_equal(args_build("[1]", NULL, 0, &a, &err), -ARGS_EINVALID);
    assert_null(a);
    assert_int_equal(args_build("{", NULL, 0, &a, &err), -ARGS_EINVALID);
    assert_null(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kv_numbers_become_json_numbers),
        cmocka_unit_test(test_kv_literals_and_strings),
        cmocka_unit_test(test_kv_objects_and_arrays),
        cmocka_unit_test(test_kv_repeated_key_replaces),
        cmocka_unit_test(test_kv_rejects_invalid),
        cmocka_unit_test(test_args_json_then_kv_on_top),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
