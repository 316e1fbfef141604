/*
 * test_content.c - unit tests for frontend/content.c and content_methods.c: the
 * helpers every content method shares, and what mcp.c dispatches and advertises.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "content.h"
#include "reply.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "content_methods.h"
#include "contentfix.h"
#include "log.h"
#include "mcpdefs.h"

#define TASK_TEMPLATE "taskwire://tasks/{taskId}"

static void test_content_match_takes_the_value_between_prefix_and_suffix(void **state)
{
    char v[CONTENT_VALUE_MAX];

    assert_true(content_match(TASK_TEMPLATE, "taskwire://tasks/" CF_TASK, v));
    assert_string_equal(v, CF_TASK);
    assert_true(content_match("test://template/{id}/data", "test://template/123/data", v));
    assert_string_equal(v, "123");
    assert_true(content_match("test://template/{id}/data", "test://template/%2F/data", v));
    assert_string_equal(v, "%2F"); /* not decoded */
}

static void test_content_match_refuses_what_the_expression_cannot_hold(void **state)
{
    static const char *const bad[] = {
        "test://template//data",         /* empty value */
        "test://template/1/2/data",      /* '/' in the value */
        "test://template/1?x/data",      /* '?' */
        "test://template/1#x/data",      /* '#' */
        "test://template/1 2/data",      /* a space */
        "test://template/1\x01/data",    /* a control character */
        "test://template/123/datum",     /* another suffix */
        "test://templates/123/data",     /* another prefix */
        "test://template/data",          /* too short for both */
    };
    char v[CONTENT_VALUE_MAX], longer[CONTENT_VALUE_MAX + 40];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (content_match("test://template/{id}/data", bad[i], v))
            fail_msg("matched %s", bad[i]);
    assert_false(content_match("test://fixed", "test://fixed", v)); /* no expression */
    assert_false(content_match(TASK_TEMPLATE, NULL, v));
    memset(longer, 'a', sizeof(longer));
    memcpy(longer, "taskwire://tasks/", 17);
    longer[17 + CONTENT_VALUE_MAX - 1] = '\0'; /* a value of CONTENT_VALUE_MAX - 1 bytes */
    assert_true(content_match(TASK_TEMPLATE, longer, v));
    assert_int_equal(strlen(v), CONTENT_VALUE_MAX - 1);
    longer[17 + CONTENT_VALUE_MAX - 1] = 'a';
    longer[17 + CONTENT_VALUE_MAX] = '\0'; /* one more */
    assert_false(content_match(TASK_TEMPLATE, longer, v));
}

static void test_content_complete_list_filters_by_prefix_up_to_max(void **state)
{
    static const char *const list[] = {"alpha", "beta", "alps", "al", NULL};
    json_t *values = json_array();
    bool more = true;

    content_complete_list(list, "al", values, 10, &more);
    cf_assert_json(values, "[\"alpha\",\"alps\",\"al\"]");
    assert_false(more);
    json_array_clear(values);
    content_complete_list(list, "al", values, 2, &more);
    cf_assert_json(values, "[\"alpha\",\"alps\"]");
    assert_true(more);
    json_array_clear(values);
    content_complete_list(list, "Al", values, 10, &more); /* case-sensitive */
    content_complete_list(NULL, "", values, 10, &more);
    assert_int_equal(json_array_size(values), 0);
    assert_false(more);
    json_decref(values);
}

static void test_content_result_carries_result_type_server_info_and_hints(void **state)
{
    json_t *r = reply_result_new("complete");

    cf_assert_result_type(r, "complete");
    reply_cache(r, -5, "private");
    assert_int_equal(json_integer_value(json_object_get(r, "ttlMs")), 0);
    assert_string_equal(cf_str(r, "cacheScope"), "private");
    json_decref(r);
}

static void test_content_store_codes(void **state)
{
    assert_int_equal(content_store_code(0), 0);
    assert_int_equal(content_store_code(-STORE_ENOTFOUND), -CONTENT_ENOTFOUND);
    assert_int_equal(content_store_code(-STORE_EUNAVAILABLE), -CONTENT_EUNAVAILABLE);
    assert_int_equal(content_store_code(-STORE_EINTERNAL), -CONTENT_EINTERNAL);
    assert_int_equal(content_store_code(-STORE_EINVALID), -CONTENT_EINTERNAL);
}

/* ---- through content_methods_handle ---- */

static int fx_setup(void **state)
{
    struct contentfix *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    cf_start(f, true);
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

static void test_content_lists_refuse_any_cursor(void **state)
{
    static const char *const lists[] = {"resources/list", "resources/templates/list",
                                        "prompts/list"};
    struct contentfix *f = *state;

    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        cf_call(f, CF_ALICE, CF_CAPS_NONE, lists[i], "{\"cursor\":\"abc\"}");
        assert_string_equal(cf_str(cf_error(f, 200, MCP_EPARAMS), "message"),
                            "Invalid params: unknown cursor (this list comes in one page)");
        cf_call(f, CF_ALICE, CF_CAPS_NONE, lists[i], "{\"cursor\":7}");
        cf_error(f, 200, MCP_EPARAMS);
        cf_call(f, CF_ALICE, CF_CAPS_NONE, lists[i], "{\"cursor\":null}");
        cf_result(f);
    }
}

static void test_content_methods_handle_only_its_methods(void **state)
{
    struct contentfix *f = *state;
    struct rpc_request req;
    const char body[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}";
    struct content_call cc = {&f->reg, f->store, CF_ALICE, NULL, 0, 0, 0};
    int status = -1;

    assert_int_equal(rpc_parse(body, strlen(body), &req, NULL), 0);
    assert_null(content_methods_handle(&cc, &req, &status));
    assert_int_equal(status, -1);
    rpc_request_fini(&req);
}

static void test_content_methods_capabilities(void **state)
{
    struct contentfix *f = *state;
    struct content none = {0};
    json_t *caps = json_object();

    content_methods_capabilities(NULL, true, caps);
    cf_assert_json(caps, "{}");
    content_methods_capabilities(&f->reg, true, caps);
    cf_assert_json(caps, "{\"resources\":{},\"prompts\":{\"listChanged\":true},"
                         "\"completions\":{}}");
    json_object_clear(caps);
    content_methods_capabilities(&f->reg, false, caps);
    cf_assert_json(caps, "{\"resources\":{},\"prompts\":{\"listChanged\":false},"
                         "\"completions\":{}}");
    json_object_clear(caps);
    content_methods_capabilities(&none, true, caps); /* no prompts: none advertised */
    cf_assert_json(caps, "{\"resources\":{},\"completions\":{}}");
    json_decref(caps);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_match_takes_the_value_between_prefix_and_suffix),
        cmocka_unit_test(test_content_match_refuses_what_the_expression_cannot_hold),
        cmocka_unit_test(test_content_complete_list_filters_by_prefix_up_to_max),
        cmocka_unit_test(test_content_result_carries_result_type_server_info_and_hints),
        cmocka_unit_test(test_content_store_codes),
        T(test_content_lists_refuse_any_cursor),
        T(test_content_methods_handle_only_its_methods),
        T(test_content_methods_capabilities),
    };
    log_init("test_content", LOGL_ERROR, true);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
