/*
 * test_elicit.c - cli/elicit.c: typed answers checked against a property's
 * schema, and input requests that cannot be answered without a terminal.
 * Nothing is read from stdin.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "elicit.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The answer 'line' gives for a schema written as JSON; NULL when refused. */
static json_t *answer(const char *schema_json, const char *line)
{
    json_t *schema = json_loads(schema_json, 0, NULL);
    assert_non_null(schema);
    json_t *v = elicit_parse_answer(line, schema);
    json_decref(schema);
    return v;
}

static void test_answer_boolean_words(void **state)
{
    const char *yes[] = {"y", "YES", "true", "1"}, *no[] = {"n", "No", "FALSE", "0"};
    for (size_t i = 0; i < 4; i++) {
        json_t *v = answer("{\"type\":\"boolean\"}", yes[i]);
        assert_true(json_is_true(v));
        json_decref(v);
        v = answer("{\"type\":\"boolean\"}", no[i]);
        assert_true(json_is_false(v));
        json_decref(v);
    }
    assert_null(answer("{\"type\":\"boolean\"}", "maybe"));
}

static void test_answer_numbers_must_be_whole_and_finite(void **state)
{
    json_t *v = answer("{\"type\":\"integer\"}", "-42");
    assert_true(json_is_integer(v));
    assert_int_equal(json_integer_value(v), -42);
    json_decref(v);
    assert_null(answer("{\"type\":\"integer\"}", "4.5"));
    assert_null(answer("{\"type\":\"integer\"}", "12abc"));
    assert_null(answer("{\"type\":\"integer\"}", "99999999999999999999"));
    v = answer("{\"type\":\"number\"}", "2.5");
    assert_true(json_is_real(v) && json_real_value(v) == 2.5);
    json_decref(v);
    assert_null(answer("{\"type\":\"number\"}", "inf"));
    assert_null(answer("{\"type\":\"number\"}", "1e999"));
}

static void test_answer_string_is_taken_as_typed(void **state)
{
    json_t *v = answer("{\"type\":\"string\"}", "42");
    assert_string_equal(json_string_value(v), "42");
    json_decref(v);
    v = answer("{}", "true"); /* no type means string */
    assert_string_equal(json_string_value(v), "true");
    json_decref(v);
    assert_null(answer("{\"type\":\"string\"}", "caf\xff"));
}

static void test_answer_other_types_parse_as_argument_values(void **state)
{
    json_t *v = answer("{\"type\":\"array\"}", "[1,2]");
    assert_true(json_is_array(v) && json_array_size(v) == 2);
    json_decref(v);
    assert_null(answer("{\"type\":\"object\"}", "{\"a\":"));
}

static void test_answer_must_be_one_of_the_enum(void **state)
{
    const char *schema = "{\"type\":\"string\",\"enum\":[\"red\",\"blue\"]}";
    json_t *v = answer(schema, "blue");
    assert_string_equal(json_string_value(v), "blue");
    json_decref(v);
    assert_null(answer(schema, "green"));
    v = answer("{\"type\":\"integer\",\"enum\":[1,2]}", "2");
    assert_int_equal(json_integer_value(v), 2);
    json_decref(v);
    assert_null(answer("{\"type\":\"integer\",\"enum\":[1,2]}", "3"));
}

static void test_no_terminal_means_no_answer(void **state)
{
    struct ui u = {0};
    struct elicit e = {.ui = &u, .interactive = false};
    json_t *requests = json_pack("{s:{s:s, s:{s:s}}}", "q", "method", "elicitation/create",
                                 "params", "message", "Your name?");
    json_t *answered = json_object();
    json_t *responses = (json_t *)1;
    struct err err = {0};
    assert_int_equal(elicit_answer(&e, requests, answered, &responses, &err), -ELICIT_ECANNOT);
    assert_null(responses);
    assert_non_null(strstr(err.msg, "not a terminal"));
    assert_int_equal(json_object_size(answered), 0);
    json_decref(requests);
    json_decref(answered);
}

static void test_unknown_request_is_refused_with_a_clean_message(void **state)
{
    struct ui u = {0};
    struct elicit e = {.ui = &u, .interactive = true};
    json_t *requests = json_pack("{s:{s:s}}", "k\033[2J", "method", "sampling/\033]0;x\007create");
    json_t *answered = json_object();
    json_t *responses = NULL;
    struct err err = {0};
    assert_int_equal(elicit_answer(&e, requests, answered, &responses, &err), -ELICIT_ECANNOT);
    assert_null(responses);
    assert_non_null(strstr(err.msg, "cannot answer input request"));
    assert_null(strchr(err.msg, '\033'));
    assert_null(strchr(err.msg, '\007'));
    json_decref(requests);
    json_decref(answered);
}

static void test_answered_requests_are_skipped(void **state)
{
    struct ui u = {0};
    struct elicit e = {.ui = &u, .interactive = true};
    json_t *requests = json_pack("{s:{s:s}}", "done", "method", "sampling/createMessage");
    json_t *answered = json_pack("{s:b}", "done", 1);
    json_t *responses = NULL;
    assert_int_equal(elicit_answer(&e, requests, answered, &responses, NULL), 0);
    assert_int_equal(json_object_size(responses), 0);
    json_decref(responses);
    json_decref(requests);
    json_decref(answered);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer_boolean_words),
        cmocka_unit_test(test_answer_numbers_must_be_whole_and_finite),
        cmocka_unit_test(test_answer_string_is_taken_as_typed),
        cmocka_unit_test(test_answer_other_types_parse_as_argument_values),
        cmocka_unit_test(test_answer_must_be_one_of_the_enum),
        cmocka_unit_test(test_no_terminal_means_no_answer),
        cmocka_unit_test(test_unknown_request_is_refused_with_a_clean_message),
        cmocka_unit_test(test_answered_requests_are_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
