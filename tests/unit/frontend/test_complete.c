/*
 * test_complete.c - unit tests for frontend/complete.c: references to prompts
 * and templates, fixed suggestion lists, and task ids completed from the
 * caller's own tasks only (store_task_ids over fakepq).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "complete.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "contentfix.h"
#include "fakepq.h"
#include "log.h"
#include "mcpdefs.h"

#define TASKS_REF "{\"type\":\"ref/resource\",\"uri\":\"taskwire://tasks/{taskId}\"}"

/* Tasks of alice (a..c, oldest first) and mallory (m) whose ids share prefixes. */
#define A1 "0b0c0000-0000-4000-8000-000000000001"
#define A2 "0b0d0000-0000-4000-8000-000000000002"
#define A3 "1b0c0000-0000-4000-8000-000000000003"
#define M1 "0b0c0000-0000-4000-8000-00000000000f"

static int fx_setup(void **state)
{
    struct contentfix *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    cf_start(f, true);
    cf_task(f, A1, CF_ALICE, TASK_COMPLETED, "2026-11-22T00:00:01.000Z");
    cf_task(f, A2, CF_ALICE, TASK_RUNNING, "2026-11-22T00:00:02.000Z");
    cf_task(f, A3, CF_ALICE, TASK_FAILED, "2026-11-22T00:00:03.000Z");
    cf_task(f, M1, CF_MALLORY, TASK_COMPLETED, "2026-11-22T00:00:04.000Z");
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct contentfix *f = *state;

    cf_stop(f);
    free(f);
    return 0;
}

/* completion/complete of 'ref' (JSON text) for argument 'arg' typed as 'value', by
 * 'owner'; returns the completion object of a complete result (borrowed). */
static json_t *complete(struct contentfix *f, const char *owner, const char *ref, const char *arg,
                        const char *value)
{
    char params[512];
    json_t *r;

    snprintf(params, sizeof(params),
             "{\"ref\":%s,\"argument\":{\"name\":\"%s\",\"value\":\"%s\"}}", ref, arg, value);
    cf_call(f, owner, CF_CAPS_NONE, "completion/complete", params);
    r = cf_result(f);
    cf_assert_result_type(r, "complete");
    assert_null(json_object_get(r, "ttlMs")); /* CompleteResult has no caching hints */
    assert_null(json_object_get(r, "cacheScope"));
    return json_object_get(r, "completion");
}

static void test_complete_prompt_argument_from_its_fixed_list(void **state)
{
    static const char ref[] = "{\"type\":\"ref/prompt\",\"name\":\"test_prompt_with_arguments\"}";
    struct contentfix *f = *state;

    cf_assert_json(complete(f, CF_ALICE, ref, "arg1", "test"),
                   "{\"values\":[\"testValue1\",\"testValue2\"],\"hasMore\":false,\"total\":2}");
    cf_assert_json(complete(f, CF_ALICE, ref, "arg1", "testValue2"),
                   "{\"values\":[\"testValue2\"],\"hasMore\":false,\"total\":1}");
    cf_assert_json(complete(f, CF_ALICE, ref, "arg1", "x"),
                   "{\"values\":[],\"hasMore\":false,\"total\":0}");
    cf_assert_json(complete(f, CF_ALICE, ref, "arg2", ""), /* no suggestions */
                   "{\"values\":[],\"hasMore\":false,\"total\":0}");
    assert_int_equal(fakepq_connects(), 0);
}

static void test_complete_task_ids_are_the_callers_newest_first(void **state)
{
    struct contentfix *f = *state;

    cf_assert_json(complete(f, CF_ALICE, TASKS_REF, "taskId", ""),
                   "{\"values\":[\"" A3 "\",\"" A2 "\",\"" A1 "\"],\"hasMore\":false,\"total\":3}");
    assert_string_equal(fakepq_param(STORE_STMT_RECENT_IDS, 0), CF_ALICE);
    assert_string_equal(fakepq_param(STORE_STMT_RECENT_IDS, 2), "101"); /* 100 and one more */
    cf_assert_json(complete(f, CF_ALICE, TASKS_REF, "taskId", "0"),
                   "{\"values\":[\"" A2 "\",\"" A1 "\"],\"hasMore\":false,\"total\":2}");
    cf_assert_json(complete(f, CF_ALICE, TASKS_REF, "taskId", "0B0C"),
                   "{\"values\":[\"" A1 "\"],\"hasMore\":false,\"total\":1}");
    assert_string_equal(fakepq_param(STORE_STMT_PREFIX_IDS, 0), CF_ALICE);
    cf_assert_json(complete(f, CF_MALLORY, TASKS_REF, "taskId", "0b0c"),
                   "{\"values\":[\"" M1 "\"],\"hasMore\":false,\"total\":1}");
    cf_assert_json(complete(f, CF_MALLORY, TASKS_REF, "taskId", "1"),
                   "{\"values\":[],\"hasMore\":false,\"total\":0}");
    /* Not the start of any id: nothing, without a query. */
    int execs = fakepq_execs_prepared();
    cf_assert_json(complete(f, CF_ALICE, TASKS_REF, "taskId", "zz"),
                   "{\"values\":[],\"hasMore\":false,\"total\":0}");
    assert_int_equal(fakepq_execs_prepared(), execs);
}

static void test_complete_task_id_of_task_summary_too(void **state)
{
    struct contentfix *f = *state;

    cf_assert_json(complete(f, CF_ALICE, "{\"type\":\"ref/prompt\",\"name\":\"task_summary\"}",
                            "taskId", "1b"),
                   "{\"values\":[\"" A3 "\"],\"hasMore\":false,\"total\":1}");
}

static void test_complete_says_when_there_are_more_than_100(void **state)
{
    static char ids[101][TASKID_LEN + 1];
    const char *rows[101];
    struct contentfix *f = *state;
    json_t *c;

    for (int i = 0; i < 101; i++) {
        snprintf(ids[i], sizeof(ids[i]), "0b0c0000-0000-4000-8000-%012d", i);
        rows[i] = ids[i];
    }
    fakepq_reply_rows(STORE_STMT_RECENT_IDS, fakepq_rows(1, 101, rows));
    c = complete(f, CF_ALICE, TASKS_REF, "taskId", "");
    assert_int_equal(json_array_size(json_object_get(c, "values")), 100);
    assert_true(json_is_true(json_object_get(c, "hasMore")));
    assert_null(json_object_get(c, "total"));
}

static void test_complete_refuses_what_it_cannot_name(void **state)
{
    static const struct {
        const char *params;  /* completion/complete params */
        const char *message; /* the -32602 message */
    } bad[] = {
        {"{\"ref\":{\"type\":\"ref/prompt\",\"name\":\"nope\"},"
         "\"argument\":{\"name\":\"a\",\"value\":\"\"}}",
         "Invalid params: unknown prompt"},
        {"{\"ref\":{\"type\":\"ref/prompt\",\"name\":\"test_prompt_with_arguments\"},"
         "\"argument\":{\"name\":\"arg9\",\"value\":\"\"}}",
         "Invalid params: the prompt has no such argument"},
        {"{\"ref\":{\"type\":\"ref/resource\",\"uri\":\"taskwire://tasks/{taskId}\"},"
         "\"argument\":{\"name\":\"id\",\"value\":\"\"}}",
         "Invalid params: the resource template has no such variable"},
        {"{\"ref\":{\"type\":\"ref/resource\",\"uri\":\"test://static-text\"},"
         "\"argument\":{\"name\":\"id\",\"value\":\"\"}}",
         "Invalid params: no resource template has this uri"},
        {"{\"ref\":{\"type\":\"ref/tool\",\"name\":\"x\"},\"argument\":{\"name\":\"a\",\"value\":\"\"}}",
         "Invalid params: ref must be {type:\"ref/prompt\", name} or {type:\"ref/resource\", uri}"},
        {"{\"ref\":{\"type\":\"ref/prompt\",\"name\":\"task_summary\"},"
         "\"argument\":{\"name\":\"taskId\"}}",
         "Invalid params: completion/complete needs ref.type, argument.name and argument.value "
         "strings"},
        {"{}", "Invalid params: completion/complete needs ref.type, argument.name and "
               "argument.value strings"},
    };
    struct contentfix *f = *state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cf_call(f, CF_ALICE, CF_CAPS_NONE, "completion/complete", bad[i].params);
        assert_string_equal(cf_str(cf_error(f, 200, MCP_EPARAMS), "message"), bad[i].message);
    }
    /* The fixture template exists but completes nothing. */
    cf_assert_json(complete(f, CF_ALICE,
                            "{\"type\":\"ref/resource\",\"uri\":\"test://template/{id}/data\"}",
                            "id", "1"),
                   "{\"values\":[],\"hasMore\":false,\"total\":0}");
}

static void test_complete_task_ids_while_the_store_is_down_is_503(void **state)
{
    struct contentfix *f = *state;

    fakepq_fail_connects(1);
    cf_call(f, CF_ALICE, CF_CAPS_NONE, "completion/complete",
            "{\"ref\":" TASKS_REF ",\"argument\":{\"name\":\"taskId\",\"value\":\"\"}}");
    cf_error(f, 503, MCP_EINTERNAL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_complete_prompt_argument_from_its_fixed_list),
        T(test_complete_task_ids_are_the_callers_newest_first),
        T(test_complete_task_id_of_task_summary_too),
        T(test_complete_says_when_there_are_more_than_100),
        T(test_complete_refuses_what_it_cannot_name),
        T(test_complete_task_ids_while_the_store_is_down_is_503),
    };
    log_init("test_complete", LOGL_ERROR, true);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
