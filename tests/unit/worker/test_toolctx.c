/*
 * test_toolctx.c - the tool API as a tool sees it, and the run state as the
 * runner sees it: progress coalescing for the heartbeat, stop waking a
 * sleeping tool, retry reasons, the outcome flags, log messages (queued,
 * bounded, taken by a due beat or by the outcome), stored answers handed back
 * to a re-run tool, the capability check, and the result helpers.
 *
 * No database: the context gets no store, so only paths that do not park a
 * task run here (parking is covered by the integration tests).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "toolctx.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "mcpdefs.h"
#include "utf8.h"

struct fixture {
    struct toolctx_state st; /* the run state */
    struct task_row row;     /* the task (strings point at literals) */
    struct tool_ctx ctx;     /* the context over both */
};

/* A context for a task with these arguments, capabilities and stored answers. */
static struct fixture *fixture_new(const char *args, const char *caps, const char *answers)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(toolctx_state_init(&f->st, NULL), 0);
    snprintf(f->row.id, sizeof(f->row.id), "0190a5d0-0000-7000-8000-000000000001");
    f->row.attempt = 2;
    f->row.tool = (char *)"t";
    f->row.args = (char *)args;
    f->row.client_caps = (char *)caps;
    f->row.input_responses = (char *)answers;
    toolctx_init(&f->ctx, &f->st, &f->row, NULL, NULL, "w1");
    return f;
}

static void fixture_free(struct fixture *f)
{
    toolctx_fini(&f->ctx);
    toolctx_state_fini(&f->st);
    free(f);
}

/* ---- the context ---- */

static void test_context_exposes_the_task(void **state)
{
    struct fixture *f = fixture_new("{\"n\":1}", "{\"elicitation\":{}}", NULL);
    assert_int_equal(json_integer_value(json_object_get(tool_args(&f->ctx), "n")), 1);
    assert_string_equal(tool_task_id(&f->ctx), "0190a5d0-0000-7000-8000-000000000001");
    assert_int_equal(tool_attempt(&f->ctx), 2);
    assert_true(json_is_object(json_object_get(tool_client_caps(&f->ctx), "elicitation")));
    tool_notify_tools_changed(&f->ctx); /* no publisher: nothing happens */
    fixture_free(f);

    f = fixture_new("not json", NULL, NULL);
    assert_null(tool_args(&f->ctx)); /* the runner turns this into an error */
    assert_null(tool_client_caps(&f->ctx));
    fixture_free(f);
}

/* ---- log messages ---- */

static void test_logs_wait_for_a_due_beat_then_go_once(void **state)
{
    struct fixture *f = fixture_new("{}", NULL, NULL);
    struct toolctx_beat b;
    tool_log(&f->ctx, "info", json_string("one"));
    tool_log(&f->ctx, "warning", json_pack("{s:i}", "n", 2));
    tool_log(&f->ctx, "loud", json_string("three")); /* not a level: info */
    tool_log(&f->ctx, "info", NULL);                 /* nothing to log */
    toolctx_state_beat(&f->st, false, &b);
    assert_null(b.logs);           /* not due: kept */
    assert_false(b.with_progress); /* logs are not progress */
    toolctx_state_beat(&f->st, true, &b);
    assert_non_null(b.logs);
    assert_string_equal(b.logs, "[{\"level\":\"info\",\"data\":\"one\"},"
                                "{\"level\":\"warning\",\"data\":{\"n\":2}},"
                                "{\"level\":\"info\",\"data\":\"three\"}]");
    free(b.logs);
    toolctx_state_beat(&f->st, true, &b);
    assert_null(b.logs); /* taken once */
    tool_log(&f->ctx, "debug", json_string("late"));
    char *rest = toolctx_state_take_logs(&f->st);
    assert_string_equal(rest, "[{\"level\":\"debug\",\"data\":\"late\"}]");
    free(rest);
    assert_null(toolctx_state_take_logs(&f->st));
    fixture_free(f);
}

static void test_logs_are_bounded(void **state)
{
    struct fixture *f = fixture_new("{}", NULL, NULL);
    char big[TOOLCTX_LOG_MAX + 10];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    tool_log(&f->ctx, "error", json_string(big));
    for (int i = 0; i < STORE_LOG_KEEP + 5; i++)
        tool_log(&f->ctx, "info", json_integer(i));
    char *text = toolctx_state_take_logs(&f->st);
    json_t *logs = json_loads(text, 0, NULL);
    assert_int_equal(json_array_size(logs), STORE_LOG_KEEP); /* the oldest went first */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(logs, 0), "data")), 5);
    json_decref(logs);
    free(text);

    tool_log(&f->ctx, "error", json_string(big)); /* too big: replaced by a note */
    text = toolctx_state_take_logs(&f->st);
    logs = json_loads(text, 0, NULL);
    const char *note = json_string_value(json_object_get(json_array_get(logs, 0), "data"));
    assert_non_null(strstr(note, "was dropped"));
    json_decref(logs);
    free(text);

    tool_log(&f->ctx, "info", json_stringn("a\0b", 3)); /* jsonb cannot hold it */
    text = toolctx_state_take_logs(&f->st);
    assert_non_null(strstr(text, "NUL character was dropped"));
    free(text);

    tool_log(&f->ctx, "info", json_string("gone"));
    toolctx_state_reset(&f->st); /* a new run starts without the old run's logs */
    assert_null(toolctx_state_take_logs(&f->st));
    fixture_free(f);
}

static void test_stopped_run_keeps_its_logs_for_the_outcome(void **state)
{
    struct fixture *f = fixture_new("{}", NULL, NULL);
    struct toolctx_beat b;
    tool_log(&f->ctx, "info", json_string("kept"));
    toolctx_state_stop(&f->st);
    toolctx_state_beat(&f->st, true, &b);
    assert_false(b.live);
    assert_null(b.logs); /* a beat that is not live takes nothing */
    char *text = toolctx_state_take_logs(&f->st);
    assert_non_null(text);
    free(text);
    fixture_free(f);
}

/* ---- progress and the heartbeat ---- */

static void test_progress_is_coalesced_for_the_heartbeat(void **state)
{
    struct fixture *f = fixture_new("{}", NULL, NULL);
    struct toolctx_beat b;
    toolctx_state_beat(&f->st, true, &b);
    assert_true(b.live);
    assert_false(b.with_progress); /* nothing reported yet */

    tool_progress(&f->ctx, 1, 10, "one");
    tool_progress(&f->ctx, 2, 10, NULL); /* keeps the message */
    toolctx_state_beat(&f->st, false, &b);
    assert_true(b.live);
    assert_false(b.with_progress); /* not due: left for a later beat */
    toolctx_state_beat(&f->st, true, &b);
    assert_true(b.with_progress);
    assert_true(b.progress == 2 && b.total == 10);
    assert_string_equal(b.message, "one");
    toolctx_state_beat(&f->st, true, &b);
    assert_false(b.with_progress); /* taken once */

    tool_progress(&f->ctx, 3, 10, "three");
    double progress, total;
    toolctx_state_last_progress(&f->st, &progress, &total);
    assert_true(progress == 3 && total == 10); /* not yet written: stored with the outcome */
    toolctx_state_beat(&f->st, true, &b);
    assert_string_equal(b.message, "three");
    toolctx_state_last_progress(&f->st, &progress, &total);
    assert_true(progress == -1); /* written by the heartbeat: leave it */
    fixture_free(f);
}

static void test_progress_message_is_cut_at_a_character(void **state)
{
    struct fixture *f = fixture_new("{}", NULL, NULL);
    char msg[601] = "";
    for (int i = 0; i < 200; i++)
        strcat(msg, "\xe2\x82\xac"); /* €: 600 bytes */
    tool_progress(&f->ctx, 1, 0, msg);
    struct toolctx_beat b;
    toolctx_state_beat(&f->st, true, &b);
    assert_int_equal(strlen(b.message), 255);
    assert_true(utf8_valid(b.message, strlen(b.message)));
    fixture_free(f);
}

static void test_stopped_run_is_not_live(void **state)
{
    struct fixture *f = fixture_new("{}", NULL, NULL);
    tool_progress(&f->ctx, 1, 2, "x");
    assert_false(tool_cancelled(&f->ctx));
    toolctx_state_stop(&f->st);
    toolctx_state_stop(&f->st); /* idempotent */
    assert_true(tool_cancelled(&f->ctx));
    struct toolctx_beat b;
    toolctx_state_beat(&f->st, true, &b);
    assert_false(b.live);
    assert_false(b.with_progress); /* a stopped run's lease is not renewed */
    struct toolctx_outcome out;
    toolctx_state_outcome(&f->st, &out);
    assert_true(out.stopped);
    assert_false(out.parked);

    toolctx_state_reset(&f->st); /* the next run starts clean */
    assert_false(tool_cancelled(&f->ctx));
    toolctx_state_beat(&f->st, true, &b);
    assert_true(b.live);
    assert_false(b.with_progress);
    assert_string_equal(b.message, "");
    fixture_free(f);
}

/* ---- sleeping and stopping ---- */

static void *stop_later(void *arg)
{
    clock_sleep_ms(100);
    toolctx_state_stop(arg);
    return NULL;
}

static void test_stop_wakes_a_sleeping_tool(void **state)
{
    struct fixture *f = fixture_new("{}", NULL, NULL);
    int64_t t0 = clock_now_ms();
    assert_true(tool_sleep_ms(&f->ctx, 30));
    assert_true(clock_now_ms() - t0 >= 30);

    pthread_t thread;
    t0 = clock_now_ms();
    assert_int_equal(pthread_create(&thread, NULL, stop_later, &f->st), 0);
    assert_false(tool_sleep_ms(&f->ctx, 60000));
    int64_t waited = clock_now_ms() - t0;
    pthread_join(thread, NULL);
    assert_true(waited >= 90 && waited < 5000);
    assert_false(tool_sleep_ms(&f->ctx, 60000)); /* at once once stopped */
    fixture_free(f);
}

/* ---- retries ---- */

static void test_retry_keeps_a_reason(void **state)
{
    struct fixture *f = fixture_new("{}", NULL, NULL);
    struct toolctx_outcome out;
    toolctx_state_outcome(&f->st, &out);
    assert_string_equal(out.retry, "");
    tool_retry_later(&f->ctx, NULL);
    toolctx_state_outcome(&f->st, &out);
    assert_string_equal(out.retry, "retryable failure");
    tool_retry_later(&f->ctx, "");
    toolctx_state_outcome(&f->st, &out);
    assert_string_equal(out.retry, "retryable failure");
    tool_retry_later(&f->ctx, "backend busy");
    toolctx_state_outcome(&f->st, &out);
    assert_string_equal(out.retry, "backend busy");
    assert_false(out.stopped);

    char reason[701] = "";
    for (int i = 0; i < 350; i++)
        strcat(reason, "\xc3\xa9"); /* é: 700 bytes; PostgreSQL refuses a split one */
    tool_retry_later(&f->ctx, reason);
    toolctx_state_outcome(&f->st, &out);
    assert_int_equal(strlen(out.retry), 254);
    assert_true(utf8_valid(out.retry, strlen(out.retry)));
    fixture_free(f);
}

/* ---- input requests ---- */

static json_t *elicit(void)
{
    return json_pack("{s:s, s:{s:s}}", "method", "elicitation/create", "params", "message", "?");
}

static void test_answered_requests_return_exactly_their_answers(void **state)
{
    struct fixture *f = fixture_new("{}", "{\"elicitation\":{}}",
                                    "{\"a\":{\"action\":\"accept\"},\"b\":{\"action\":\"decline\"},"
                                    "\"old\":{\"action\":\"x\"}}");
    json_t *error = NULL;
    json_t *answers = tool_request_input(
        &f->ctx, json_pack("{s:o, s:o}", "a", elicit(), "b", elicit()), "waiting", &error);
    assert_null(error);
    assert_non_null(answers);
    assert_int_equal(json_object_size(answers), 2); /* not "old" */
    assert_string_equal(json_string_value(json_object_get(json_object_get(answers, "b"), "action")),
                        "decline");
    json_decref(answers);
    struct toolctx_outcome out;
    toolctx_state_outcome(&f->st, &out);
    assert_false(out.parked || out.stopped);
    fixture_free(f);
}

static void assert_capability_error(json_t *error, const char *cap)
{
    assert_non_null(error);
    assert_int_equal(json_integer_value(json_object_get(error, "code")), MCP_ECAPABILITY);
    json_t *required = json_object_get(json_object_get(error, "data"), "requiredCapabilities");
    assert_true(json_is_object(json_object_get(required, cap)));
    json_decref(error);
}

static void test_missing_capability_is_an_error(void **state)
{
    /* Already answered, but the client never declared sampling: still refused. */
    struct fixture *f = fixture_new("{}", "{\"elicitation\":{}}", "{\"s\":{}}");
    json_t *error = NULL;
    json_t *sampling = json_pack("{s:s, s:{}}", "method", "sampling/createMessage", "params");
    assert_null(tool_request_input(&f->ctx, json_pack("{s:o}", "s", sampling), "w", &error));
    assert_capability_error(error, "sampling");

    /* An unknown method needs a capability no client has; reported as elicitation. */
    json_t *odd = json_pack("{s:s}", "method", "odd/method");
    assert_null(tool_request_input(&f->ctx, json_pack("{s:o}", "s", odd), "w", &error));
    assert_capability_error(error, "elicitation");
    fixture_free(f);

    f = fixture_new("{}", NULL, NULL); /* no capabilities at all */
    assert_null(tool_request_input(&f->ctx, json_pack("{s:o}", "a", elicit()), "w", &error));
    assert_capability_error(error, "elicitation");
    struct toolctx_outcome out;
    toolctx_state_outcome(&f->st, &out);
    assert_false(out.parked || out.stopped); /* nothing was written */
    fixture_free(f);
}

/* ---- results ---- */

static void test_result_helpers(void **state)
{
    json_t *r = tool_text_resultf(true, "exit status %d", 3);
    assert_true(json_is_true(json_object_get(r, "isError")));
    json_t *item = json_array_get(json_object_get(r, "content"), 0);
    assert_string_equal(json_string_value(json_object_get(item, "type")), "text");
    assert_string_equal(json_string_value(json_object_get(item, "text")), "exit status 3");
    json_decref(r);
    r = tool_text_result("ok", false);
    assert_true(json_is_false(json_object_get(r, "isError")));
    json_decref(r);
    json_t *e = tool_error(MCP_EINTERNAL, "cannot start tool %s", "t");
    assert_int_equal(json_integer_value(json_object_get(e, "code")), MCP_EINTERNAL);
    assert_string_equal(json_string_value(json_object_get(e, "message")), "cannot start tool t");
    assert_int_equal(json_object_size(e), 2);
    json_decref(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_context_exposes_the_task),
        cmocka_unit_test(test_logs_wait_for_a_due_beat_then_go_once),
        cmocka_unit_test(test_logs_are_bounded),
        cmocka_unit_test(test_stopped_run_keeps_its_logs_for_the_outcome),
        cmocka_unit_test(test_progress_is_coalesced_for_the_heartbeat),
        cmocka_unit_test(test_progress_message_is_cut_at_a_character),
        cmocka_unit_test(test_stopped_run_is_not_live),
        cmocka_unit_test(test_stop_wakes_a_sleeping_tool),
        cmocka_unit_test(test_retry_keeps_a_reason),
        cmocka_unit_test(test_answered_requests_return_exactly_their_answers),
        cmocka_unit_test(test_missing_capability_is_an_error),
        cmocka_unit_test(test_result_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
