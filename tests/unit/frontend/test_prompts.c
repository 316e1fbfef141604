/*
 * test_prompts.c - unit tests for frontend/prompts.c and the fixture prompts of
 * content_fixtures.c: the list, argument checks, every fixture's messages,
 * task_summary over the caller's own tasks, and the MRTR prompt's signed
 * requestState (bound to caller, method, prompt and arguments).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "prompts.h"

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

#define IRR "test_input_required_result_prompt"
#define ANSWER "{\"user_context\":{\"action\":\"accept\",\"content\":{\"context\":\"test context\"}}}"

static int with_fixtures(void **state)
{
    struct contentfix *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    cf_start(f, true);
    *state = f;
    return 0;
}

static int without_fixtures(void **state)
{
    struct contentfix *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    cf_start(f, false);
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

/* The messages of the last complete prompts/get result, which has no caching hints. */
static json_t *messages(struct contentfix *f)
{
    json_t *r = cf_result(f);

    cf_assert_result_type(r, "complete");
    assert_null(json_object_get(r, "ttlMs"));
    assert_null(json_object_get(r, "cacheScope"));
    return json_object_get(r, "messages");
}

/* ---- prompts/list ---- */

static void test_prompts_list_without_fixtures_is_task_summary(void **state)
{
    struct contentfix *f = *state;
    json_t *r;

    cf_call(f, CF_ALICE, CF_CAPS_NONE, "prompts/list", NULL);
    r = cf_result(f);
    cf_assert_result_type(r, "complete");
    assert_int_equal(json_integer_value(json_object_get(r, "ttlMs")), CF_LIST_TTL_MS);
    assert_string_equal(cf_str(r, "cacheScope"), "public");
    assert_int_equal(json_array_size(json_object_get(r, "prompts")), 1);
    r = json_array_get(json_object_get(r, "prompts"), 0);
    assert_string_equal(cf_str(r, "name"), "task_summary");
    cf_str(r, "title");
    cf_assert_json(json_object_get(r, "arguments"),
                   "[{\"name\":\"taskId\",\"description\":\"The id of one of your tasks\","
                   "\"required\":true}]");
}

static void test_prompts_list_with_fixtures_describes_every_prompt(void **state)
{
    static const char *const names[] = {"task_summary",
                                        "test_simple_prompt",
                                        "test_prompt_with_arguments",
                                        "test_prompt_with_embedded_resource",
                                        "test_prompt_with_image",
                                        IRR};
    struct contentfix *f = *state;
    json_t *list;

    cf_call(f, CF_ALICE, CF_CAPS_NONE, "prompts/list", NULL);
    list = json_object_get(cf_result(f), "prompts");
    assert_int_equal(json_array_size(list), sizeof(names) / sizeof(names[0]));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        json_t *p = json_array_get(list, i);

        assert_string_equal(cf_str(p, "name"), names[i]);
        assert_true(strlen(cf_str(p, "description")) > 0);
    }
    assert_null(json_object_get(json_array_get(list, 1), "arguments")); /* none: no key */
    cf_assert_json(json_object_get(json_array_get(list, 2), "arguments"),
                   "[{\"name\":\"arg1\",\"description\":\"First test argument\",\"required\":true},"
                   "{\"name\":\"arg2\",\"description\":\"Second test argument\","
                   "\"required\":true}]");
}

/* ---- checks before any prompt runs ---- */

static void test_prompts_get_checks_name_and_arguments(void **state)
{
    static const struct {
        const char *params; /* prompts/get params */
        const char *message; /* the -32602 message */
    } bad[] = {
        {"{}", "Invalid params: \"name\" must be a string"},
        {"{\"name\":3}", "Invalid params: \"name\" must be a string"},
        {"{\"name\":\"no_such_prompt\"}", "Unknown prompt"},
        {"{\"name\":\"test_prompt_with_arguments\",\"arguments\":[]}",
         "Invalid params: \"arguments\" must be an object"},
        {"{\"name\":\"test_prompt_with_arguments\",\"arguments\":{\"arg1\":\"a\",\"arg2\":2}}",
         "Invalid params: prompt arguments must be strings"},
        {"{\"name\":\"test_prompt_with_arguments\",\"arguments\":{\"arg1\":\"a\"}}",
         "Invalid params: missing required argument 'arg2'"},
        {"{\"name\":\"test_prompt_with_arguments\"}",
         "Invalid params: missing required argument 'arg1'"},
    };
    struct contentfix *f = *state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cf_call(f, CF_ALICE, CF_CAPS_NONE, "prompts/get", bad[i].params);
        assert_string_equal(cf_str(cf_error(f, 200, MCP_EPARAMS), "message"), bad[i].message);
    }
}

/* ---- the fixtures ---- */

static void test_prompts_get_fixtures(void **state)
{
    struct contentfix *f = *state;

    cf_call(f, CF_ALICE, CF_CAPS_NONE, "prompts/get",
            "{\"name\":\"test_simple_prompt\",\"arguments\":null}");
    cf_assert_json(messages(f), "[{\"role\":\"user\",\"content\":{\"type\":\"text\","
                                "\"text\":\"This is a simple prompt for testing.\"}}]");
    cf_call(f, CF_ALICE, CF_CAPS_NONE, "prompts/get",
            "{\"name\":\"test_prompt_with_arguments\",\"arguments\":{\"arg1\":\"testValue1\","
            "\"arg2\":\"testValue2\",\"extra\":\"ignored\"}}");
    cf_assert_json(messages(f),
                   "[{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":\"Prompt with "
                   "arguments: arg1='testValue1', arg2='testValue2'\"}}]");
    cf_call(f, CF_ALICE, CF_CAPS_NONE, "prompts/get",
            "{\"name\":\"test_prompt_with_embedded_resource\","
            "\"arguments\":{\"resourceUri\":\"test://example-resource\"}}");
    cf_assert_json(json_array_get(messages(f), 0),
                   "{\"role\":\"user\",\"content\":{\"type\":\"resource\",\"resource\":{"
                   "\"uri\":\"test://example-resource\",\"mimeType\":\"text/plain\","
                   "\"text\":\"Embedded resource content for testing.\"}}}");
    cf_call(f, CF_ALICE, CF_CAPS_NONE, "prompts/get", "{\"name\":\"test_prompt_with_image\"}");
    json_t *image = json_object_get(json_array_get(messages(f), 0), "content");
    assert_string_equal(cf_str(image, "type"), "image");
    assert_string_equal(cf_str(image, "mimeType"), "image/png");
    assert_true(strlen(cf_str(image, "data")) > 0);
    assert_int_equal(fakepq_connects(), 0);
}

/* ---- task_summary ---- */

static void test_prompts_task_summary_embeds_the_callers_task(void **state)
{
    struct contentfix *f = *state;
    json_t *m, *res;

    cf_task(f, CF_TASK, CF_ALICE, TASK_COMPLETED, "2026-11-22T00:47:48.123Z");
    cf_call(f, CF_ALICE, CF_CAPS_NONE, "prompts/get",
            "{\"name\":\"task_summary\",\"arguments\":{\"taskId\":\"" CF_TASK "\"}}");
    m = messages(f);
    assert_int_equal(json_array_size(m), 2);
    res = json_object_get(json_object_get(json_array_get(m, 0), "content"), "resource");
    assert_string_equal(cf_str(json_object_get(json_array_get(m, 0), "content"), "type"),
                        "resource");
    assert_string_equal(cf_str(res, "uri"), "taskwire://tasks/" CF_TASK);
    assert_string_equal(cf_str(res, "mimeType"), "application/json");
    assert_non_null(strstr(cf_str(res, "text"), "\"completed\""));
    assert_string_equal(cf_str(json_object_get(json_array_get(m, 1), "content"), "type"), "text");
    assert_string_equal(fakepq_param(STORE_STMT_GET, 1), CF_ALICE);
}

static void test_prompts_task_summary_of_a_task_not_the_callers_is_not_found(void **state)
{
    static const char *const ids[] = {CF_TASK, CF_UNKNOWN, "junk"};
    struct contentfix *f = *state;

    cf_task(f, CF_TASK, CF_ALICE, TASK_COMPLETED, "2026-11-22T00:47:48.123Z");
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char params[160];

        snprintf(params, sizeof(params),
                 "{\"name\":\"task_summary\",\"arguments\":{\"taskId\":\"%s\"}}", ids[i]);
        cf_call(f, CF_MALLORY, CF_CAPS_NONE, "prompts/get", params);
        cf_assert_json(cf_error(f, 200, MCP_EPARAMS),
                       "{\"code\":-32602,\"message\":\"Failed to retrieve task: Task not "
                       "found\"}");
    }
}

/* ---- the MRTR prompt ---- */

/* Round 1 of the MRTR prompt for 'owner' with 'args' (JSON text): asserts the
 * InputRequiredResult and returns its requestState (caller frees). */
static char *round_one(struct contentfix *f, const char *owner, const char *args)
{
    char params[256];
    json_t *r;

    snprintf(params, sizeof(params), "{\"name\":\"" IRR "\",\"arguments\":%s}", args);
    cf_call(f, owner, CF_CAPS_ELICIT, "prompts/get", params);
    r = cf_result(f);
    cf_assert_result_type(r, "input_required");
    assert_null(json_object_get(r, "ttlMs"));
    assert_null(json_object_get(r, "messages"));
    cf_assert_json(json_object_get(r, "inputRequests"),
                   "{\"user_context\":{\"method\":\"elicitation/create\",\"params\":{"
                   "\"message\":\"What context should the prompt use?\",\"requestedSchema\":{"
                   "\"type\":\"object\",\"properties\":{\"context\":{\"type\":\"string\"}},"
                   "\"required\":[\"context\"]}}}}");
    return strdup(cf_str(r, "requestState"));
}

/* The retry of the MRTR prompt with 'state', 'answers' and 'args'. */
static void retry(struct contentfix *f, const char *owner, const char *state, const char *answers,
                  const char *args)
{
    char params[2048];

    snprintf(params, sizeof(params),
             "{\"name\":\"" IRR "\",\"arguments\":%s,\"requestState\":\"%s\","
             "\"inputResponses\":%s}",
             args, state, answers);
    cf_call(f, owner, CF_CAPS_ELICIT, "prompts/get", params);
}

static void test_prompts_mrtr_asks_then_completes_with_the_answer(void **state)
{
    struct contentfix *f = *state;
    char *rs = round_one(f, CF_ALICE, "{}");

    retry(f, CF_ALICE, rs, ANSWER, "{}");
    cf_assert_json(messages(f), "[{\"role\":\"user\",\"content\":{\"type\":\"text\","
                                "\"text\":\"Prompt with context: test context\"}}]");
    free(rs);
    assert_int_equal(fakepq_connects(), 0); /* nothing stored between the rounds */
}

static void test_prompts_mrtr_asks_again_without_a_usable_answer(void **state)
{
    struct contentfix *f = *state;
    char *rs = round_one(f, CF_ALICE, "{}");

    retry(f, CF_ALICE, rs, "{\"user_context\":{\"action\":\"decline\"}}", "{}");
    cf_assert_result_type(cf_result(f), "input_required");
    assert_string_not_equal(cf_str(cf_result(f), "requestState"), rs);
    retry(f, CF_ALICE, rs, "{\"wrong_key\":{\"action\":\"accept\"}}", "{}");
    cf_assert_result_type(cf_result(f), "input_required");
    /* An answer without the state this server handed out does not count either. */
    cf_call(f, CF_ALICE, CF_CAPS_ELICIT, "prompts/get",
            "{\"name\":\"" IRR "\",\"inputResponses\":" ANSWER "}");
    cf_assert_result_type(cf_result(f), "input_required");
    free(rs);
}

static void test_prompts_mrtr_refuses_a_state_of_another_caller_or_call(void **state)
{
    struct contentfix *f = *state;
    char *rs = round_one(f, CF_ALICE, "{}"), tampered[1100];

    retry(f, CF_MALLORY, rs, ANSWER, "{}"); /* another principal */
    assert_string_equal(cf_str(cf_error(f, 200, MCP_EPARAMS), "message"),
                        "requestState does not belong to this caller, tool and arguments");
    retry(f, CF_ALICE, rs, ANSWER, "{\"x\":\"1\"}"); /* other arguments */
    cf_error(f, 200, MCP_EPARAMS);
    snprintf(tampered, sizeof(tampered), "%s-TAMPERED", rs);
    retry(f, CF_ALICE, tampered, ANSWER, "{}");
    assert_string_equal(cf_str(cf_error(f, 200, MCP_EPARAMS), "message"), "Invalid requestState");
    cf_call(f, CF_ALICE, CF_CAPS_ELICIT, "prompts/get",
            "{\"name\":\"" IRR "\",\"requestState\":5,\"inputResponses\":" ANSWER "}");
    cf_error(f, 200, MCP_EPARAMS);
    free(rs);
}

static void test_prompts_mrtr_needs_the_elicitation_capability(void **state)
{
    struct contentfix *f = *state;
    json_t *e;

    cf_call(f, CF_ALICE, CF_CAPS_NONE, "prompts/get", "{\"name\":\"" IRR "\"}");
    e = cf_error(f, 400, MCP_ECAPABILITY);
    cf_assert_json(json_object_get(e, "data"), "{\"requiredCapabilities\":{\"elicitation\":{}}}");
}

#define F(name) cmocka_unit_test_setup_teardown(name, with_fixtures, fx_teardown)
#define N(name) cmocka_unit_test_setup_teardown(name, without_fixtures, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        N(test_prompts_list_without_fixtures_is_task_summary),
        F(test_prompts_list_with_fixtures_describes_every_prompt),
        F(test_prompts_get_checks_name_and_arguments),
        F(test_prompts_get_fixtures),
        N(test_prompts_task_summary_embeds_the_callers_task),
        N(test_prompts_task_summary_of_a_task_not_the_callers_is_not_found),
        F(test_prompts_mrtr_asks_then_completes_with_the_answer),
        F(test_prompts_mrtr_asks_again_without_a_usable_answer),
        F(test_prompts_mrtr_refuses_a_state_of_another_caller_or_call),
        F(test_prompts_mrtr_needs_the_elicitation_capability),
    };
    log_init("test_prompts", LOGL_ERROR, true);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
