/*
 * test_era.c - which era a POSTed message belongs to: the classification
 * table, version negotiation and header trimming.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "era.h"

#define CLAIM "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}"

/* One row of the table: a body, a version header (NULL: none) and the era it is. */
struct row {
    const char *body;   /* the POSTed bytes */
    const char *header; /* MCP-Protocol-Version, or NULL */
    enum era_kind want; /* the classification */
};

static const struct row table[] = {
    /* a claim is modern whatever the header or method */
    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{" CLAIM "}}", NULL,
     ERA_MODERN},
    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{" CLAIM "}}",
     "2025-11-25", ERA_MODERN},
    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"_meta\":{"
     "\"io.modelcontextprotocol/protocolVersion\":\"v999\"}}}",
     "v999", ERA_MODERN},
    /* initialize without a claim is the legacy handshake, with or without a header */
    {"{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{}}", NULL,
     ERA_LEGACY_INIT},
    {"{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\"}", "2025-11-25", ERA_LEGACY_INIT},
    {"{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\"}", "2026-07-28", ERA_LEGACY_INIT},
    /* notifications of either era */
    {"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", NULL, ERA_NOTIFICATION},
    {"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\"}", "2026-07-28",
     ERA_NOTIFICATION},
    /* requests without a claim: the header decides */
    {"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}", NULL, ERA_LEGACY_REQUEST},
    {"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}", " 2025-06-18\t",
     ERA_LEGACY_REQUEST},
    {"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{\"_meta\":{"
     "\"progressToken\":1}}}",
     "2025-11-25", ERA_LEGACY_REQUEST},
    {"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}", "2026-07-28", ERA_MODERN},
    {"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}", "2024-11-05", ERA_BAD_VERSION},
    {"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}", "", ERA_BAD_VERSION},
    /* responses from a legacy client */
    {"{\"jsonrpc\":\"2.0\",\"id\":\"tw:x:y\",\"result\":{}}", NULL, ERA_LEGACY_RESPONSE},
    {"{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-1,\"message\":\"no\"}}", "2025-11-25",
     ERA_LEGACY_RESPONSE},
    {"{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}", "2026-07-28", ERA_INVALID},
    {"{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{},\"error\":{}}", NULL, ERA_INVALID},
    {"{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}", NULL, ERA_INVALID},
    {"{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":3}", NULL, ERA_INVALID},
    {"{\"jsonrpc\":\"1.0\",\"id\":7,\"result\":{}}", NULL, ERA_INVALID},
    /* whatever rpc_parse refuses otherwise */
    {"not json", NULL, ERA_INVALID},
    {"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", NULL, ERA_INVALID},
};

static void test_era_classification_table(void **state)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        struct rpc_request req;
        int rc = rpc_parse(table[i].body, strlen(table[i].body), &req, NULL);
        enum era_kind got = era_classify(&req, rc, table[i].header);
        if (got != table[i].want)
            fail_msg("row %zu (%s, header %s): got %d, want %d", i, table[i].body,
                     table[i].header ? table[i].header : "none", got, table[i].want);
        rpc_request_fini(&req);
    }
}

static void test_era_negotiates_legacy_versions(void **state)
{
    assert_string_equal(era_negotiate("2025-11-25"), "2025-11-25");
    assert_string_equal(era_negotiate("2025-06-18"), "2025-06-18");
    assert_string_equal(era_negotiate("2025-03-26"), ERA_LEGACY_LATEST); /* a counter-offer */
    assert_string_equal(era_negotiate("2026-07-28"), ERA_LEGACY_LATEST);
    assert_string_equal(era_negotiate(NULL), ERA_LEGACY_LATEST);
    assert_true(era_legacy_version("2025-06-18"));
    assert_false(era_legacy_version("2026-07-28"));
    assert_false(era_legacy_version(NULL));
    json_t *v = era_supported_versions();
    assert_int_equal(json_array_size(v), 3);
    assert_string_equal(json_string_value(json_array_get(v, 0)), "2026-07-28");
    json_decref(v);
}

static void test_era_header_value_is_trimmed_and_bounded(void **state)
{
    char out[12];
    assert_true(era_header_value(" \t2025-11-25 ", out, sizeof(out)));
    assert_string_equal(out, "2025-11-25");
    assert_false(era_header_value("2025-11-25-and-more", out, sizeof(out)));
    assert_false(era_header_value(NULL, out, sizeof(out)));
    assert_true(era_header_value("", out, sizeof(out)));
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_era_classification_table),
        cmocka_unit_test(test_era_negotiates_legacy_versions),
        cmocka_unit_test(test_era_header_value_is_trimmed_and_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
