/*
 * test_taskstate.c - the task lifecycle table.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "taskstate.h"

static void test_taskstate_terminal_states_never_move(void **state)
{
    enum task_status terminal[] = {TASK_COMPLETED, TASK_FAILED, TASK_CANCELLED};
    for (int i = 0; i < 3; i++) {
        assert_true(taskstate_terminal(terminal[i]));
        for (int to = 0; to < TASK_STATUS_COUNT; to++)
            assert_false(taskstate_can_move(terminal[i], (enum task_status)to));
    }
}

static void test_taskstate_cancel_from_any_live_state(void **state)
{
    assert_true(taskstate_can_move(TASK_QUEUED, TASK_CANCELLED));
    assert_true(taskstate_can_move(TASK_RUNNING, TASK_CANCELLED));
    assert_true(taskstate_can_move(TASK_INPUT_REQUIRED, TASK_CANCELLED));
}

static void test_taskstate_lifecycle_edges(void **state)
{
    assert_true(taskstate_can_move(TASK_QUEUED, TASK_RUNNING));
    assert_true(taskstate_can_move(TASK_RUNNING, TASK_QUEUED)); /* lease lost / released */
    assert_true(taskstate_can_move(TASK_RUNNING, TASK_COMPLETED));
    assert_true(taskstate_can_move(TASK_RUNNING, TASK_INPUT_REQUIRED));
    assert_true(taskstate_can_move(TASK_INPUT_REQUIRED, TASK_RUNNING));
    assert_false(taskstate_can_move(TASK_QUEUED, TASK_COMPLETED)); /* must run first */
    assert_false(taskstate_can_move(TASK_QUEUED, TASK_INPUT_REQUIRED));
    assert_false(taskstate_can_move(TASK_RUNNING, TASK_RUNNING));
    assert_false(taskstate_can_move((enum task_status)99, TASK_RUNNING));
}

static void test_taskstate_names(void **state)
{
    assert_string_equal(taskstate_mcp(TASK_QUEUED), "working");
    assert_string_equal(taskstate_mcp(TASK_RUNNING), "working");
    assert_string_equal(taskstate_mcp(TASK_INPUT_REQUIRED), "input_required");
    for (int s = 0; s < TASK_STATUS_COUNT; s++) {
        enum task_status back;
        assert_int_equal(taskstate_parse(taskstate_name((enum task_status)s), &back), 0);
        assert_int_equal(back, s);
    }
    enum task_status x;
    assert_int_equal(taskstate_parse("working", &x), -1); /* MCP names are not stored names */
    assert_null(taskstate_name((enum task_status)42));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_taskstate_terminal_states_never_move),
        cmocka_unit_test(test_taskstate_cancel_from_any_live_state),
        cmocka_unit_test(test_taskstate_lifecycle_edges),
        cmocka_unit_test(test_taskstate_names),
    };
    return cmocka_run_group_tests_name("taskstate", tests, NULL, NULL);
}
