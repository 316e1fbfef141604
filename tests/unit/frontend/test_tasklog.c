/*
 * test_tasklog.c - a task's stored log messages as notifications/message:
 * numbering across reads, level filtering, and bad rows.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tasklog.h"

static void test_levels_rank_in_rfc5424_order(void **state)
{
    assert_int_equal(tasklog_level("debug"), 0);
    assert_int_equal(tasklog_level("info"), TASKLOG_INFO);
    assert_int_equal(tasklog_level("emergency"), 7);
    assert_int_equal(tasklog_level("loud"), -1);
    assert_int_equal(tasklog_level(NULL), -1);
}

static void test_messages_go_once_and_by_level(void **state)
{
    struct task_row r;
    memset(&r, 0, sizeof(r));
    /* Five were ever logged; the row keeps the last three (numbers 3, 4 and 5). */
    r.log = "[{\"level\":\"debug\",\"data\":\"d\"},{\"level\":\"info\",\"data\":{\"n\":4}},"
            "{\"level\":\"error\",\"data\":\"e\"}]";
    r.log_seq = 5;
    int64_t sent = 0;
    json_t *out = json_array();
    tasklog_messages(&r, TASKLOG_INFO, &sent, out);
    assert_int_equal(json_array_size(out), 2);
    json_t *first = json_array_get(out, 0);
    assert_string_equal(json_string_value(json_object_get(first, "method")),
                        "notifications/message");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(first, "params"), "level")), "info");
    assert_true(sent == 5);
    json_array_clear(out);
    tasklog_messages(&r, 0, &sent, out); /* nothing new */
    assert_int_equal(json_array_size(out), 0);
    sent = 3; /* seen up to number 3: only 4 and 5 are new */
    tasklog_messages(&r, 0, &sent, out);
    assert_int_equal(json_array_size(out), 2);
    json_array_clear(out);
    sent = 0;
    tasklog_messages(&r, 7, &sent, out); /* emergency only */
    assert_int_equal(json_array_size(out), 0);
    r.log = "not json";
    sent = 0;
    tasklog_messages(&r, 0, &sent, out);
    assert_int_equal(json_array_size(out), 0);
    r.log = NULL;
    tasklog_messages(&r, 0, &sent, out);
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_rank_in_rfc5424_order),
        cmocka_unit_test(test_messages_go_once_and_by_level),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
