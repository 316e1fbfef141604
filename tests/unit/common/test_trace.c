/*
 * test_trace.c - unit tests for common/trace.c: traceparent validation, new
 * spans continuing a caller's trace or starting one, the task row form, and
 * the trace ids on log lines.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "trace.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

#define TP "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

static void test_trace_parent_ok_accepts_version_00_only(void **state)
{
    assert_true(trace_parent_ok(TP));
    assert_false(trace_parent_ok(NULL));
    assert_false(trace_parent_ok(""));
    assert_false(trace_parent_ok("00-00000000000000000000000000000000-b7ad6b7169203331-01"));
    assert_false(trace_parent_ok("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01"));
    assert_false(trace_parent_ok("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"));
    assert_false(trace_parent_ok("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
    assert_false(trace_parent_ok(TP "x"));
}

static void test_trace_begin_keeps_the_trace_and_makes_a_new_span(void **state)
{
    struct trace_ctx t;
    trace_begin(&t, TP, "congo=t61rcWkgMzE");
    assert_string_equal(t.trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert_int_equal(strlen(t.span_id), 16);
    assert_string_not_equal(t.span_id, "b7ad6b7169203331");
    assert_string_equal(t.caller, "b7ad6b7169203331");
    assert_true(trace_parent_ok(t.parent));
    assert_int_equal(strncmp(t.parent + 36, t.span_id, 16), 0);
    assert_string_equal(t.state, "congo=t61rcWkgMzE");
    char want[200];
    snprintf(want, sizeof(want), "%s,congo=t61rcWkgMzE", t.parent);
    assert_string_equal(t.task, want);
}

static void test_trace_begin_without_a_valid_parent_starts_a_trace(void **state)
{
    struct trace_ctx a, b;
    trace_begin(&a, NULL, "ignored=1");
    trace_begin(&b, "not a traceparent", NULL);
    assert_true(trace_parent_ok(a.parent));
    assert_true(trace_parent_ok(b.parent));
    assert_string_not_equal(a.trace_id, b.trace_id);
    assert_string_equal(a.state, ""); /* a tracestate without its traceparent is dropped */
    assert_string_equal(a.caller, ""); /* a root span */
    char id[TRACE_SPAN_LEN + 1];
    trace_new_span_id(id);
    assert_int_equal(strspn(id, "0123456789abcdef"), TRACE_SPAN_LEN);
    assert_string_equal(a.task, a.parent);
}

static void test_trace_begin_task_reads_the_row_form(void **state)
{
    struct trace_ctx t;
    trace_begin_task(&t, TP ",a=1,b=2");
    assert_string_equal(t.trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert_string_equal(t.state, "a=1,b=2");
    trace_begin_task(&t, TP);
    assert_string_equal(t.trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert_string_equal(t.state, "");
    trace_begin_task(&t, TP "junk");
    assert_string_not_equal(t.trace_id, "0af7651916cd43dd8448eb211c80319c");
    trace_begin_task(&t, NULL);
    assert_true(trace_parent_ok(t.parent));
}

static void test_trace_log_lines_carry_the_ids_until_the_end(void **state)
{
    int fds[2], saved = dup(STDERR_FILENO);
    assert_int_equal(pipe(fds), 0);
    dup2(fds[1], STDERR_FILENO);
    struct trace_ctx t;
    trace_begin(&t, TP, NULL);
    log_init("test", LOGL_INFO, false);
    trace_log_begin(&t);
    log_msg(LOGL_INFO, "inside", "k", "v", (const char *)0);
    trace_log_end();
    log_msg(LOGL_INFO, "outside", (const char *)0);
    dup2(saved, STDERR_FILENO);
    close(fds[1]);
    char buf[2048] = {0};
    ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    assert_true(n > 0);
    char want[128];
    snprintf(want, sizeof(want), "\"trace_id\":\"%s\",\"span_id\":\"%s\"", t.trace_id, t.span_id);
    char *second = strstr(buf, "outside");
    assert_non_null(second);
    char *hit = strstr(buf, want);
    assert_non_null(hit);
    assert_true(hit < second);
    assert_null(strstr(second, "trace_id"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_parent_ok_accepts_version_00_only),
        cmocka_unit_test(test_trace_begin_keeps_the_trace_and_makes_a_new_span),
        cmocka_unit_test(test_trace_begin_without_a_valid_parent_starts_a_trace),
        cmocka_unit_test(test_trace_begin_task_reads_the_row_form),
        cmocka_unit_test(test_trace_log_lines_carry_the_ids_until_the_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
