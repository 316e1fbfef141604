/*
 * test_reply.c - the shapes every handler answers with: results with resultType
 * and serverInfo, caching hints, and one mapping of store failures to errors.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mcpdefs.h"
#include "reply.h"
#include "store.h"

static struct rpc_request request(json_t *id)
{
    struct rpc_request req = {.id = id, .method = "tasks/get"};
    return req;
}

static void test_reply_result_carries_type_and_server_info(void **state)
{
    json_t *r = reply_result_new("task");
    assert_string_equal(json_string_value(json_object_get(r, "resultType")), "task");
    json_t *info = json_object_get(json_object_get(r, "_meta"), MCP_META_SERVER_INFO);
    assert_string_equal(json_string_value(json_object_get(info, "name")), "taskwire");
    reply_cache(r, -5, "private");
    assert_int_equal(json_integer_value(json_object_get(r, "ttlMs")), 0);
    assert_string_equal(json_string_value(json_object_get(r, "cacheScope")), "private");
    json_decref(r);
}

static void test_reply_store_failures_read_the_same_for_every_method(void **state)
{
    json_t *id = json_integer(7);
    struct rpc_request req = request(id);
    struct err e = {0};
    int status = 0;
    struct {
        int rc, http, code;
    } cases[] = {
        {-STORE_ENOTFOUND, 200, MCP_EPARAMS},
        {-STORE_EUNAVAILABLE, 503, MCP_EINTERNAL},
        {-STORE_EINTERNAL, 500, MCP_EINTERNAL},
        {-STORE_EINVALID, 500, MCP_EINTERNAL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(e.msg, sizeof(e.msg), "secret detail %zu", i);
        json_t *r = reply_store_error(&req, &status, cases[i].rc, &e);
        json_t *error = json_object_get(r, "error");
        assert_int_equal(status, cases[i].http);
        assert_int_equal(json_integer_value(json_object_get(error, "code")), cases[i].code);
        assert_int_equal(json_integer_value(json_object_get(r, "id")), 7);
        assert_null(strstr(json_string_value(json_object_get(error, "message")), "secret"));
        json_decref(r);
    }
    json_t *r = reply_store_error(&req, &status, -STORE_EUNAVAILABLE, &e);
    assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
                           "retry"));
    json_decref(r);
    json_decref(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_result_carries_type_and_server_info),
        cmocka_unit_test(test_reply_store_failures_read_the_same_for_every_method),
    };
    return cmocka_run_group_tests_name("reply", tests, NULL, NULL);
}
