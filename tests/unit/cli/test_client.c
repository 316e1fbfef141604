/*
 * test_client.c - the pure parts of cli/client.c: request envelopes and
 * routing-header encoding.  No network.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "client.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "mcpdefs.h"

/* ---- request envelope and headers ---- */

static void test_request_has_protocol_meta(void **state)
{
    json_t *params = json_pack("{s:s, s:{}, s:{s:s}}", "name", "echo", "arguments", "_meta",
                               "traceparent", "00-x");
    json_t *req = client_request_new(7, "tools/call", params, "tok-7");
    assert_non_null(req);
    assert_string_equal(json_string_value(json_object_get(req, "jsonrpc")), "2.0");
    assert_int_equal(json_integer_value(json_object_get(req, "id")), 7);
    assert_string_equal(json_string_value(json_object_get(req, "method")), "tools/call");
    json_t *meta = json_object_get(json_object_get(req, "params"), "_meta");
    assert_string_equal(
        json_string_value(json_object_get(meta, "io.modelcontextprotocol/protocolVersion")),
        "2026-07-28");
    json_t *caps = json_object_get(meta, "io.modelcontextprotocol/clientCapabilities");
    assert_non_null(json_object_get(json_object_get(caps, "extensions"), MCP_EXT_TASKS));
    json_t *info = json_object_get(meta, "io.modelcontextprotocol/clientInfo");
    assert_string_equal(json_string_value(json_object_get(info, "name")), "taskwire-cli");
    assert_string_equal(json_string_value(json_object_get(meta, "progressToken")), "tok-7");
    assert_string_equal(json_string_value(json_object_get(meta, "traceparent")), "00-x");
    json_decref(req);
}

static void test_header_value_plain_or_base64(void **state)
{
    char out[64];
    assert_int_equal(client_header_value("slow_compute", out, sizeof(out)), 0);
    assert_string_equal(out, "slow_compute");
    assert_int_equal(client_header_value("caf\xc3\xa9", out, sizeof(out)), 0);
    assert_string_equal(out, "=?base64?Y2Fmw6k=?=");
    assert_int_equal(client_header_value(" lead", out, sizeof(out)), 0);
    assert_string_equal(out, "=?base64?IGxlYWQ=?=");
    assert_int_equal(client_header_value("slow_compute", out, 5), -CLIENT_EUSAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_has_protocol_meta),
        cmocka_unit_test(test_header_value_plain_or_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
