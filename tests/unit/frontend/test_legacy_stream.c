/*
 * test_legacy_stream.c - task rows in 2025-11-25 shapes: statuses (a tool
 * error reads failed), the Task object, tasks/result outcomes with
 * related-task, stripping 2026-only fields, server-to-client requests of a
 * task waiting for input, and routing ids back.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "legacy_stream.h"

#define ID "01a200cc-5d93-48a9-ba90-df853b759f72"

static struct task_row row_of(enum task_status st)
{
    struct task_row r;
    memset(&r, 0, sizeof(r));
    strcpy(r.id, ID);
    r.status = st;
    strcpy(r.created_at, "2026-11-27T10:00:00.000Z");
    strcpy(r.updated_at, "2026-11-27T10:00:01.000Z");
    r.ttl_ms = 60000;
    r.poll_interval_ms = 1000;
    return r;
}

/* 'j' (stolen) as compact JSON with sorted keys, compared with 'want'. */
static void assert_json(json_t *j, const char *want)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    assert_non_null(text);
    if (strcmp(text, want) != 0)
        fail_msg("got  %s\nwant %s", text, want);
    free(text);
}

static void test_statuses_map_to_2025(void **state)
{
    struct task_row r = row_of(TASK_QUEUED);
    assert_string_equal(legacy_status(&r), "working");
    r.status = TASK_RUNNING;
    assert_string_equal(legacy_status(&r), "working");
    r.status = TASK_INPUT_REQUIRED;
    assert_string_equal(legacy_status(&r), "input_required");
    r.status = TASK_COMPLETED;
    r.result = "{\"content\":[],\"isError\":false}";
    assert_string_equal(legacy_status(&r), "completed");
    r.result = "{\"content\":[{\"type\":\"text\",\"text\":\"boom\"}],\"isError\":true}";
    assert_string_equal(legacy_status(&r), "failed");
    r.status = TASK_FAILED;
    r.result = NULL;
    assert_string_equal(legacy_status(&r), "failed");
    r.status = TASK_CANCELLED;
    assert_string_equal(legacy_status(&r), "cancelled");
}

static void test_task_object(void **state)
{
    struct task_row r = row_of(TASK_RUNNING);
    assert_json(legacy_task(&r), "{\"createdAt\":\"2026-11-27T10:00:00.000Z\",\"lastUpdatedAt\":"
                                 "\"2026-11-27T10:00:01.000Z\",\"pollInterval\":1000,\"status\":"
                                 "\"working\",\"taskId\":\"" ID "\",\"ttl\":60000}");
    r.status = TASK_COMPLETED;
    r.status_message = "completed";
    r.result = "{\"content\":[{\"type\":\"image\"},{\"type\":\"text\",\"text\":\"boom\"}],"
               "\"isError\":true}";
    json_t *t = legacy_task(&r);
    assert_string_equal(json_string_value(json_object_get(t, "status")), "failed");
    assert_string_equal(json_string_value(json_object_get(t, "statusMessage")), "boom");
    json_decref(t);
    r = row_of(TASK_FAILED);
    r.error = "{\"code\":-32603,\"message\":\"it broke\"}";
    t = legacy_task(&r);
    assert_string_equal(json_string_value(json_object_get(t, "statusMessage")), "it broke");
    json_decref(t);
    assert_json(legacy_status_notification(&r),
                "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/tasks/status\",\"params\":{"
                "\"createdAt\":\"2026-11-27T10:00:00.000Z\",\"lastUpdatedAt\":\"2026-11-27T10:"
                "00:01.000Z\",\"pollInterval\":1000,\"status\":\"failed\",\"statusMessage\":"
                "\"it broke\",\"taskId\":\"" ID "\",\"ttl\":60000}}");
}

static void test_result_replies_carry_related_task(void **state)
{
    json_t *id = json_integer(6);
    struct task_row r = row_of(TASK_COMPLETED);
    r.result = "{\"content\":[],\"isError\":true,\"_meta\":{\"x\":1}}";
    assert_json(legacy_result_reply(id, &r),
                "{\"id\":6,\"jsonrpc\":\"2.0\",\"result\":{\"_meta\":{\"io.modelcontextprotocol/"
                "related-task\":{\"taskId\":\"" ID
                "\"},\"x\":1},\"content\":[],\"isError\":true}}");
    r = row_of(TASK_FAILED);
    r.error = "{\"code\":-32603,\"message\":\"no\"}";
    assert_json(legacy_result_reply(id, &r),
                "{\"error\":{\"code\":-32603,\"data\":{\"_meta\":{\"io.modelcontextprotocol/"
                "related-task\":{\"taskId\":\"" ID "\"}}},\"message\":\"no\"},\"id\":6,"
                "\"jsonrpc\":\"2.0\"}");
    r = row_of(TASK_CANCELLED);
    json_t *c = legacy_result_reply(id, &r);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "error"), "code")),
                     -32603);
    json_decref(c);
    json_decref(id);
}

static void test_strip_removes_2026_fields_only(void **state)
{
    json_t *resp = json_loads("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"resultType\":"
                              "\"complete\",\"ttlMs\":5,\"cacheScope\":\"public\",\"tools\":[],"
                              "\"_meta\":{\"io.modelcontextprotocol/serverInfo\":{}}}}",
                              0, NULL);
    legacy_strip(resp);
    assert_json(resp, "{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":{\"tools\":[]}}");
    resp = json_loads("{\"result\":{\"_meta\":{\"io.modelcontextprotocol/serverInfo\":{},"
                      "\"keep\":1}}}",
                      0, NULL);
    legacy_strip(resp);
    assert_json(resp, "{\"result\":{\"_meta\":{\"keep\":1}}}");
    resp = json_loads("{\"error\":{\"code\":1,\"resultType\":\"x\"}}", 0, NULL);
    legacy_strip(resp); /* errors are left alone */
    assert_json(resp, "{\"error\":{\"code\":1,\"resultType\":\"x\"}}");
    legacy_strip(NULL);
}

static void test_input_requests_become_routable_requests(void **state)
{
    struct task_row r = row_of(TASK_INPUT_REQUIRED);
    r.input_requests = "{\"a\":{\"method\":\"elicitation/create\",\"params\":{\"message\":\"?\"}},"
                       "\"b\":{\"method\":\"sampling/createMessage\",\"params\":{}},"
                       "\"c\":{\"method\":\"roots/list\"}}";
    json_t *caps = json_loads("{\"elicitation\":{},\"roots\":{}}", 0, NULL);
    json_t *asked = json_object(), *out = json_array();
    legacy_input_messages(&r, caps, asked, true, out);
    assert_json(json_incref(out),
                "[{\"id\":\"tw:" ID ":a\",\"jsonrpc\":\"2.0\",\"method\":\"elicitation/create\","
                "\"params\":{\"_meta\":{\"io.modelcontextprotocol/related-task\":{\"taskId\":\"" ID
                "\"}},\"message\":\"?\"}},{\"id\":\"tw:" ID ":c\",\"jsonrpc\":\"2.0\",\"method\":"
                "\"roots/list\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/related-task\":{"
                "\"taskId\":\"" ID "\"}}}}]");
    json_array_clear(out);
    legacy_input_messages(&r, caps, asked, false, out); /* asked once per stream */
    assert_int_equal(json_array_size(out), 0);
    r.status = TASK_RUNNING;
    json_object_clear(asked);
    legacy_input_messages(&r, caps, asked, false, out); /* only while waiting for input */
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);
    json_decref(asked);
    json_decref(caps);
}

static void test_response_ids_route_back(void **state)
{
    char task[TASKID_LEN + 1], key[LEGACY_KEY_MAX + 1];
    json_t *id = json_string("tw:" ID ":user:name");
    assert_true(legacy_response_id(id, task, key));
    assert_string_equal(task, ID);
    assert_string_equal(key, "user:name");
    json_decref(id);
    const char *bad[] = {"tw:" ID ":",
                         "tw:" ID,
                         "xx:" ID ":k",
                         "tw:01a200cc:k",
                         "tw:01A200CC-5D93-48A9-BA90-DF853B759F72:k",
                         ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        id = json_string(bad[i]);
        assert_false(legacy_response_id(id, task, key));
        json_decref(id);
    }
    char longkey[LEGACY_KEY_MAX + 64];
    snprintf(longkey, sizeof(longkey), "tw:" ID ":%0*d", LEGACY_KEY_MAX + 1, 0);
    id = json_string(longkey);
    assert_false(legacy_response_id(id, task, key));
    json_decref(id);
    id = json_integer(7);
    assert_false(legacy_response_id(id, task, key));
    json_decref(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statuses_map_to_2025),
        cmocka_unit_test(test_task_object),
        cmocka_unit_test(test_result_replies_carry_related_task),
        cmocka_unit_test(test_strip_removes_2026_fields_only),
        cmocka_unit_test(test_input_requests_become_routable_requests),
        cmocka_unit_test(test_response_ids_route_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
