/*
 * test_rpc.c - JSON-RPC framing, the MCP envelope and routing headers.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "mcpdefs.h"
#include "rpc.h"

#define META                                                                                      \
    "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","                      \
    "\"io.modelcontextprotocol/clientCapabilities\":{}}"

static int parse(const char *body, struct rpc_request *req)
{
    struct err e = {0};
    return rpc_parse(body, strlen(body), req, &e);
}

static void test_rpc_rejects_malformed_json(void **state)
{
    struct rpc_request req;
    assert_int_equal(parse("{\"jsonrpc\":\"2.0\",", &req), -RPC_EPARSE);
    rpc_request_fini(&req);
    assert_int_equal(parse("", &req), -RPC_EPARSE);
    rpc_request_fini(&req);
    assert_int_equal(rpc_error_code(RPC_EPARSE), -32700);
    assert_int_equal(rpc_error_http_status(RPC_EPARSE), 400);
}

/* U+0000 is valid JSON: never -32700.  In params it is -32602 with the JSON pointer
 * (PostgreSQL cannot store it, and C strings would stop at it); in the envelope -32600. */
static void test_rpc_refuses_nul_with_its_place(void **state)
{
    struct rpc_request req;
    struct err e = {0};
    const char *b = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{"
                    "\"name\":\"echo\",\"arguments\":{\"text\":\"a\\u0000b\"}}}";
    assert_int_equal(rpc_parse(b, strlen(b), &req, &e), -RPC_EPARAMS);
    assert_string_equal(e.msg,
                        "Invalid params: /params/arguments/text: strings may not contain U+0000");
    assert_int_equal(json_integer_value(req.id), 7);
    rpc_request_fini(&req);
    b = "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"tools/call\",\"params\":{"
        "\"name\":\"echo\\u0000evil\"}}";
    assert_int_equal(rpc_parse(b, strlen(b), &req, &e), -RPC_EPARAMS);
    assert_string_equal(e.msg, "Invalid params: /params/name: strings may not contain U+0000");
    rpc_request_fini(&req);
    b = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\\u0000\"}";
    assert_int_equal(rpc_parse(b, strlen(b), &req, &e), -RPC_EINVALID);
    assert_string_equal(e.msg, "Invalid request: /method: strings may not contain U+0000");
    rpc_request_fini(&req);
    /* jansson refuses U+0000 in a member name; the answer is still -32602 with the id */
    b = "{\"jsonrpc\":\"2.0\",\"id\":\"k\\\\u0000\",\"method\":\"tools/call\",\"params\":"
        "{\"arguments\":{\"a\\u0000b\":1}}}";
    assert_int_equal(rpc_parse(b, strlen(b), &req, &e), -RPC_EPARAMS);
    assert_string_equal(e.msg, "Invalid params: member names may not contain U+0000");
    assert_string_equal(json_string_value(req.id), "k\\u0000");
    rpc_request_fini(&req);
    b = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"text\":\"\\\\u0000\"}}";
    assert_int_equal(rpc_parse(b, strlen(b), &req, &e), 0); /* an escaped backslash */
    rpc_request_fini(&req);
}

static void test_rpc_rejects_batch(void **state)
{
    struct rpc_request req;
    assert_int_equal(parse("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}]", &req),
                     -RPC_EINVALID);
    rpc_request_fini(&req);
    assert_int_equal(rpc_error_code(RPC_EINVALID), -32600);
}

static void test_rpc_rejects_posted_response(void **state)
{
    struct rpc_request req;
    struct err e = {0};
    const char *b = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}";
    assert_int_equal(rpc_parse(b, strlen(b), &req, &e), -RPC_EINVALID);
    assert_non_null(strstr(e.msg, "responses"));
    assert_non_null(req.id); /* the error response can still carry the id */
    rpc_request_fini(&req);
}

static void test_rpc_rejects_bad_shapes(void **state)
{
    const char *bad[] = {
        "{\"id\":1,\"method\":\"x\"}",                               /* no jsonrpc */
        "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"x\"}",           /* wrong version */
        "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"x\"}",        /* null id */
        "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"x\"}",         /* fractional id */
        "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"x\"}",          /* object id */
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}",               /* method not string */
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}",            /* empty method */
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":[]}", /* params array */
        "\"just a string\"",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct rpc_request req;
        assert_int_equal(parse(bad[i], &req), -RPC_EINVALID);
        rpc_request_fini(&req);
    }
}

static void test_rpc_rejects_duplicate_keys(void **state)
{
    struct rpc_request req;
    assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"x\"}", &req),
                     -RPC_EPARSE);
    rpc_request_fini(&req);
}

static void test_rpc_accepts_id_zero_large_and_string(void **state)
{
    const char *ok[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"tools/list\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1795305682882,\"method\":\"tools/list\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":\"server-discover-probe-1\",\"method\":\"tools/list\"}",
    };
    for (size_t i = 0; i < 3; i++) {
        struct rpc_request req;
        assert_int_equal(parse(ok[i], &req), 0);
        assert_non_null(req.id);
        assert_string_equal(req.method, "tools/list");
        assert_true(json_is_object(req.params)); /* absent params read as {} */
        rpc_request_fini(&req);
    }
}

static void test_rpc_notification_has_no_id(void **state)
{
    struct rpc_request req;
    assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}", &req), 0);
    assert_null(req.id);
    struct rpc_headers h = {0};
    struct err e = {0};
    assert_int_equal(rpc_check_envelope(&req, &h, &e), 0); /* no header rules */
    rpc_request_fini(&req);
}

static int envelope(const char *body, const char *hversion, struct err *e)
{
    struct rpc_request req;
    assert_int_equal(parse(body, &req), 0);
    struct rpc_headers h = {.protocol_version = hversion};
    int rc = rpc_check_envelope(&req, &h, e);
    rpc_request_fini(&req);
    return rc;
}

static void test_rpc_envelope_requires_meta(void **state)
{
    struct err e = {0};
    assert_int_equal(envelope("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}",
                              "2026-07-28", &e),
                     -RPC_EMETA);
    assert_int_equal(
        envelope("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":"
                 "{\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
                 "2026-07-28", &e),
        -RPC_EMETA);
    assert_int_equal(
        envelope("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":"
                 "{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}",
                 "2026-07-28", &e),
        -RPC_EMETA);
    assert_int_equal(rpc_error_http_status(RPC_EMETA), 400);
    assert_int_equal(rpc_error_code(RPC_EMETA), -32602);
}

static void test_rpc_envelope_accepts_without_client_info(void **state)
{
    struct err e = {0};
    assert_int_equal(envelope("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
                              "\"params\":{" META "}}",
                              "2026-07-28", &e),
                     0);
}

static void test_rpc_envelope_version_rules(void **state)
{
    struct err e = {0};
    const char *v999 = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{"
                       "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"v999.0.0\","
                       "\"io.modelcontextprotocol/clientCapabilities\":{}}}}";
    assert_int_equal(envelope(v999, "v999.0.0", &e), -RPC_EVERSION);
    assert_int_equal(rpc_error_code(RPC_EVERSION), -32022);
    /* header and body disagree: a header mismatch, not a version error */
    const char *ok = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{" META
                     "}}";
    assert_int_equal(envelope(ok, "2025-11-25", &e), -RPC_EHEADER);
    /* header missing */
    assert_int_equal(envelope(ok, NULL, &e), -RPC_EHEADER);
    /* surrounding whitespace is tolerated */
    assert_int_equal(envelope(ok, " 2026-07-28\t", &e), 0);
}

static int headers(const char *method, const char *params, const char *hmethod,
                   const char *hname)
{
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":{%s%s" META "}}", method,
             params, *params ? "," : "");
    struct rpc_request req;
    assert_int_equal(parse(body, &req), 0);
    struct rpc_headers h = {.protocol_version = "2026-07-28", .method = hmethod, .name = hname};
    struct err e = {0};
    int rc = rpc_check_headers(&req, &h, &e);
    rpc_request_fini(&req);
    return rc;
}

static void test_rpc_headers_method_must_match_exactly(void **state)
{
    assert_int_equal(headers("tools/list", "", "tools/list", NULL), 0);
    assert_int_equal(headers("tools/list", "", NULL, NULL), -RPC_EHEADER);
    assert_int_equal(headers("tools/list", "", "TOOLS/LIST", NULL), -RPC_EHEADER);
    assert_int_equal(headers("tools/call", "\"name\":\"sleep\"", "tasks/get", "sleep"),
                     -RPC_EHEADER);
    assert_int_equal(rpc_error_code(RPC_EHEADER), -32020);
}

static void test_rpc_headers_name_rules(void **state)
{
    const char *call = "\"name\":\"sleep\"";
    assert_int_equal(headers("tools/call", call, "tools/call", "sleep"), 0);
    assert_int_equal(headers("tools/call", call, "tools/call", "  sleep "), 0);
    assert_int_equal(headers("tools/call", call, "tools/call", NULL), -RPC_EHEADER);
    assert_int_equal(headers("tools/call", call, "tools/call", "Sleep"), -RPC_EHEADER);
    const char *get = "\"taskId\":\"abc\"";
    assert_int_equal(headers("tasks/get", get, "tasks/get", "abc"), 0);
    assert_int_equal(headers("tasks/get", get, "tasks/get", NULL), 0); /* optional */
    assert_int_equal(headers("tasks/get", get, "tasks/get", "abd"), -RPC_EHEADER);
}

static void test_rpc_header_base64_sentinel(void **state)
{
    /* "héllo" in UTF-8 is aMOpbGxv */
    assert_true(rpc_header_matches("=?base64?aMOpbGxv?=", "h\xc3\xa9llo"));
    assert_false(rpc_header_matches("=?base64?aMOpbGxw?=", "h\xc3\xa9llo"));
    assert_false(rpc_header_matches("=?base64?!!!!?=", "x"));
    assert_false(rpc_header_matches("=?base64?aGk?=", "hi")); /* padding required */
    assert_true(rpc_header_matches("=?base64?aGk=?=", "hi"));
    /* literal values must be visible ASCII */
    assert_false(rpc_header_matches("h\xc3\xa9llo", "h\xc3\xa9llo"));
    assert_false(rpc_header_matches("a\x01" "b", "a\x01" "b"));
    assert_false(rpc_header_matches(NULL, "x"));
}

static void test_rpc_capabilities_from_request_only(void **state)
{
    struct rpc_request req;
    const char *b = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":"
                    "{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
                    "\"io.modelcontextprotocol/clientCapabilities\":{\"elicitation\":{},"
                    "\"extensions\":{\"io.modelcontextprotocol/tasks\":{}}}}}}";
    assert_int_equal(parse(b, &req), 0);
    assert_true(rpc_has_capability(&req, "elicitation"));
    assert_true(rpc_has_capability(&req, "extensions/io.modelcontextprotocol/tasks"));
    assert_false(rpc_has_capability(&req, "sampling"));
    assert_false(rpc_has_capability(&req, "extensions/io.modelcontextprotocol/ui"));
    rpc_request_fini(&req);
}

static void test_rpc_error_response_carries_id_and_data(void **state)
{
    json_t *id = json_integer(0);
    json_t *r = rpc_error_response(id, RPC_EVERSION, "Unsupported protocol version",
                                   json_pack("{s:[s]}", "supported", "2026-07-28"));
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 0);
    json_t *error = json_object_get(r, "error");
    assert_int_equal(json_integer_value(json_object_get(error, "code")), -32022);
    assert_non_null(json_object_get(json_object_get(error, "data"), "supported"));
    json_decref(r);
    json_decref(id);
    r = rpc_error_response(NULL, RPC_EPARSE, "Parse error", NULL);
    assert_true(json_is_null(json_object_get(r, "id")));
    json_decref(r);
}

static const char *fake_header(void *arg, const char *name)
{
    const char *const *h = arg; /* name, value, name, value, ..., NULL */
    for (; *h; h += 2)
        if (strcasecmp(h[0], name) == 0)
            return h[1];
    return NULL;
}

static int params(const char *args, const char **hdrs)
{
    json_t *schema = json_loads(
        "{\"type\":\"object\",\"properties\":{\"region\":{\"type\":\"string\","
        "\"x-mcp-header\":\"Region\"},\"n\":{\"type\":\"integer\",\"x-mcp-header\":\"N\"},"
        "\"flag\":{\"type\":\"boolean\",\"x-mcp-header\":\"Flag\"},\"inner\":{\"type\":"
        "\"object\",\"properties\":{\"zone\":{\"type\":\"string\",\"x-mcp-header\":"
        "\"Zone\"}}}}}",
        0, NULL);
    json_t *a = json_loads(args, 0, NULL);
    struct err e = {0};
    int rc = rpc_check_param_headers(schema, a, fake_header, (void *)hdrs, &e);
    json_decref(a);
    json_decref(schema);
    return rc;
}

static void test_rpc_param_headers(void **state)
{
    const char *ok[] = {"Mcp-Param-Region", "eu-west", "mcp-param-n", "42.0", "Mcp-Param-Flag",
                        "true", "Mcp-Param-Zone", "=?base64?YQ==?=", NULL};
    assert_int_equal(params("{\"region\":\"eu-west\",\"n\":42,\"flag\":true,"
                            "\"inner\":{\"zone\":\"a\"}}",
                            ok),
                     0);
    const char *none[] = {NULL};
    assert_int_equal(params("{}", none), 0);                   /* absent arguments */
    assert_int_equal(params("{\"region\":null}", none), 0);    /* null: no header */
    assert_int_equal(params("{\"region\":\"eu\"}", none), -RPC_EHEADER); /* header missing */
    const char *wrong[] = {"Mcp-Param-Region", "us", "Mcp-Param-N", "41", NULL};
    assert_int_equal(params("{\"region\":\"eu\"}", wrong), -RPC_EHEADER);
    assert_int_equal(params("{\"n\":42}", wrong), -RPC_EHEADER);
    const char *badflag[] = {"Mcp-Param-Flag", "True", NULL};
    assert_int_equal(params("{\"flag\":true}", badflag), -RPC_EHEADER);
    const char *ctl[] = {"Mcp-Param-Region", "e\x01u", NULL};
    assert_int_equal(params("{\"region\":\"e\\u0001u\"}", ctl), -RPC_EHEADER);
}

static void test_rpc_origin_and_host(void **state)
{
    assert_true(rpc_origin_allowed(NULL, "loopback"));
    assert_true(rpc_origin_allowed("http://localhost:3000", "loopback"));
    assert_true(rpc_origin_allowed("http://127.0.0.1", "loopback"));
    assert_true(rpc_origin_allowed("https://[::1]:8443", "loopback"));
    assert_false(rpc_origin_allowed("http://evil.example", "loopback"));
    assert_false(rpc_origin_allowed("http://localhost.evil.example", "loopback"));
    assert_false(rpc_origin_allowed("null", "loopback"));
    assert_true(rpc_origin_allowed("https://app.example", "https://app.example, loopback"));
    assert_false(rpc_origin_allowed("https://app.example", ""));
    assert_true(rpc_origin_allowed("https://anything", "*"));
    assert_true(rpc_host_allowed("127.0.0.1:8700", "loopback"));
    assert_true(rpc_host_allowed("LOCALHOST", "loopback"));
    assert_false(rpc_host_allowed("evil.example:8700", "loopback"));
    assert_true(rpc_host_allowed("mcp.example.com", "mcp.example.com"));
    assert_true(rpc_host_allowed("evil.example", "*"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpc_rejects_malformed_json),
        cmocka_unit_test(test_rpc_refuses_nul_with_its_place),
        cmocka_unit_test(test_rpc_rejects_batch),
        cmocka_unit_test(test_rpc_rejects_posted_response),
        cmocka_unit_test(test_rpc_rejects_bad_shapes),
        cmocka_unit_test(test_rpc_rejects_duplicate_keys),
        cmocka_unit_test(test_rpc_accepts_id_zero_large_and_string),
        cmocka_unit_test(test_rpc_notification_has_no_id),
        cmocka_unit_test(test_rpc_envelope_requires_meta),
        cmocka_unit_test(test_rpc_envelope_accepts_without_client_info),
        cmocka_unit_test(test_rpc_envelope_version_rules),
        cmocka_unit_test(test_rpc_headers_method_must_match_exactly),
        cmocka_unit_test(test_rpc_headers_name_rules),
        cmocka_unit_test(test_rpc_header_base64_sentinel),
        cmocka_unit_test(test_rpc_capabilities_from_request_only),
        cmocka_unit_test(test_rpc_error_response_carries_id_and_data),
        cmocka_unit_test(test_rpc_param_headers),
        cmocka_unit_test(test_rpc_origin_and_host),
    };
    return cmocka_run_group_tests_name("rpc", tests, NULL, NULL);
}
