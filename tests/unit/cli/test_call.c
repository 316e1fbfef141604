/*
 * test_call.c - the pure parts of 'taskwire call': key=value arguments, SSE
 * parsing, progress extraction, bar rendering, content descriptions, request
 * envelopes and routing-header encoding.  No network.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "call.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- key=value ---- */

static json_t *args_of(int n, const char **kv)
{
    json_t *args = NULL;
    struct err err = {0};
    assert_int_equal(call_build_args(NULL, (char *const *)kv, n, &args, &err), 0);
    assert_non_null(args);
    return args;
}

static void test_kv_numbers_become_json_numbers(void **state)
{
    const char *kv[] = {"n=42", "x=-1.5", "big=1e3", "zip=007"};
    json_t *a = args_of(4, kv);
    assert_true(json_is_integer(json_object_get(a, "n")));
    assert_int_equal(json_integer_value(json_object_get(a, "n")), 42);
    assert_true(json_is_real(json_object_get(a, "x")));
    assert_true(json_real_value(json_object_get(a, "x")) == -1.5);
    assert_true(json_real_value(json_object_get(a, "big")) == 1000.0);
    /* not valid JSON (leading zero), so a string, as typed */
    assert_string_equal(json_string_value(json_object_get(a, "zip")), "007");
    json_decref(a);
}

static void test_kv_literals_and_strings(void **state)
{
    const char *kv[] = {"t=true", "f=false", "z=null", "s=hello world", "q=\"42\"", "e=", "eq=a=b"};
    json_t *a = args_of(7, kv);
    assert_true(json_is_true(json_object_get(a, "t")));
    assert_true(json_is_false(json_object_get(a, "f")));
    assert_true(json_is_null(json_object_get(a, "z")));
    assert_string_equal(json_string_value(json_object_get(a, "s")), "hello world");
    assert_string_equal(json_string_value(json_object_get(a, "q")), "42");
    assert_string_equal(json_string_value(json_object_get(a, "e")), "");
    assert_string_equal(json_string_value(json_object_get(a, "eq")), "a=b");
    json_decref(a);
}

static void test_kv_objects_and_arrays(void **state)
{
    const char *kv[] = {"o={\"a\":[1,2],\"b\":{\"c\":null}}", "l=[1,\"x\"]"};
    json_t *a = args_of(2, kv);
    json_t *want =
        json_pack("{s:{s:[i,i], s:{s:n}}, s:[i,s]}", "o", "a", 1, 2, "b", "c", "l", 1, "x");
    assert_true(json_equal(a, want));
    json_decref(want);
    json_decref(a);
}

static void test_kv_repeated_key_replaces(void **state)
{
    const char *kv[] = {"k=1", "k=2"};
    json_t *a = args_of(2, kv);
    assert_int_equal(json_integer_value(json_object_get(a, "k")), 2);
    assert_int_equal(json_object_size(a), 1);
    json_decref(a);
}

static void test_kv_rejects_invalid(void **state)
{
    json_t *args = json_object();
    struct err err = {0};
    assert_int_equal(call_parse_kv(args, "novalue", &err), -CALL_EUSAGE);
    assert_non_null(strstr(err.msg, "key=value"));
    assert_int_equal(call_parse_kv(args, "=x", &err), -CALL_EUSAGE);
    assert_non_null(strstr(err.msg, "empty key"));
    assert_int_equal(call_parse_kv(args, "o={\"a\":", &err), -CALL_EUSAGE);
    assert_non_null(strstr(err.msg, "invalid JSON"));
    assert_int_equal(call_parse_kv(args, "l=[1,", &err), -CALL_EUSAGE);
    assert_int_equal(call_parse_kv(args, "s=caf\xff", &err), -CALL_EUSAGE);
    assert_int_equal(json_object_size(args), 0);
    json_decref(args);
}

static void test_args_json_then_kv_on_top(void **state)
{
    const char *kv[] = {"b=3"};
    json_t *a = NULL;
    struct err err = {0};
    assert_int_equal(call_build_args("{\"a\":1,\"b\":2}", (char *const *)kv, 1, &a, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(a, "a")), 1);
    assert_int_equal(json_integer_value(json_object_get(a, "b")), 3);
    json_decref(a);
    assert_int_equal(call_build_args("[1]", NULL, 0, &a, &err), -CALL_EUSAGE);
    assert_null(a);
    assert_int_equal(call_build_args("{", NULL, 0, &a, &err), -CALL_EUSAGE);
    assert_null(a);
}

/* ---- request envelope and headers ---- */

static void test_request_has_protocol_meta(void **state)
{
    json_t *params = json_pack("{s:s, s:{}, s:{s:s}}", "name", "echo", "arguments", "_meta",
                               "traceparent", "00-x");
    json_t *req = call_request_new(7, "tools/call", params, "tok-7");
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
    assert_int_equal(call_header_value("slow_compute", out, sizeof(out)), 0);
    assert_string_equal(out, "slow_compute");
    assert_int_equal(call_header_value("caf\xc3\xa9", out, sizeof(out)), 0);
    assert_string_equal(out, "=?base64?Y2Fmw6k=?=");
    assert_int_equal(call_header_value(" lead", out, sizeof(out)), 0);
    assert_string_equal(out, "=?base64?IGxlYWQ=?=");
    assert_int_equal(call_header_value("slow_compute", out, 5), -1);
}

/* ---- SSE ---- */

/* Collects dispatched events as "event|data" lines. */
struct events {
    char got[8][256]; /* each event as "type|data" */
    int n;            /* events seen */
    int stop_after;   /* return 1 once n reaches this (0: never) */
};

static int collect(void *ctx, const char *event, const char *data, size_t len)
{
    struct events *ev = ctx;
    assert_int_equal(strlen(data), len);
    if (ev->n < 8)
        snprintf(ev->got[ev->n], sizeof(ev->got[0]), "%s|%s", event, data);
    ev->n++;
    return ev->stop_after && ev->n >= ev->stop_after ? 1 : 0;
}

static void feed_all(struct call_sse *p, const char *s, struct events *ev)
{
    assert_int_equal(call_sse_feed(p, s, strlen(s), collect, ev), 0);
}

static void test_sse_joins_multiline_data(void **state)
{
    struct call_sse p;
    struct events ev = {0};
    call_sse_init(&p);
    feed_all(&p, "event: message\ndata: {\"a\":\ndata: 1}\n\ndata:x\n\n", &ev);
    assert_int_equal(ev.n, 2);
    assert_string_equal(ev.got[0], "message|{\"a\":\n1}");
    assert_string_equal(ev.got[1], "message|x");
    call_sse_fini(&p);
}

static void test_sse_skips_comments_and_unknown_fields(void **state)
{
    struct call_sse p;
    struct events ev = {0};
    call_sse_init(&p);
    feed_all(&p, ": keep-alive\n\nid: 3\nretry: 10\nfoo: bar\ndata: y\n\n: bye\n\n", &ev);
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.got[0], "message|y");
    call_sse_fini(&p);
}

static void test_sse_accepts_crlf_and_cr(void **state)
{
    struct call_sse p;
    struct events ev = {0};
    call_sse_init(&p);
    feed_all(&p, "event: ping\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\rdata:d\n\n", &ev);
    assert_int_equal(ev.n, 3);
    assert_string_equal(ev.got[0], "ping|a\nb");
    assert_string_equal(ev.got[1], "message|c");
    assert_string_equal(ev.got[2], "message|d");
    call_sse_fini(&p);
}

static void test_sse_partial_chunks_byte_by_byte(void **state)
{
    const char *s = "\xef\xbb\xbf"
                    "data: {\"id\":1}\r\n\r\n: c\r\ndata: two\r\n";
    struct call_sse p;
    struct events ev = {0};
    call_sse_init(&p);
    for (size_t i = 0; s[i]; i++)
        assert_int_equal(call_sse_feed(&p, s + i, 1, collect, &ev), 0);
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.got[0], "message|{\"id\":1}");
    /* a blank line ended by a lone CR dispatches; the LF in the next piece belongs to it */
    assert_int_equal(call_sse_feed(&p, "\r", 1, collect, &ev), 0);
    assert_int_equal(ev.n, 2);
    assert_string_equal(ev.got[1], "message|two");
    assert_int_equal(call_sse_feed(&p, "\n", 1, collect, &ev), 0);
    assert_int_equal(ev.n, 2);
    call_sse_fini(&p);
}

static void test_sse_split_in_the_middle_of_a_field(void **state)
{
    struct call_sse p;
    struct events ev = {0};
    call_sse_init(&p);
    feed_all(&p, "da", &ev);
    feed_all(&p, "ta: hel", &ev);
    feed_all(&p, "lo\n", &ev);
    assert_int_equal(ev.n, 0);
    feed_all(&p, "\n", &ev);
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.got[0], "message|hello");
    call_sse_fini(&p);
}

static void test_sse_callback_can_stop(void **state)
{
    const char *s = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
    struct call_sse p;
    struct events ev = {.stop_after = 2};
    call_sse_init(&p);
    assert_int_equal(call_sse_feed(&p, s, strlen(s), collect, &ev), 1);
    assert_int_equal(ev.n, 2);
    call_sse_fini(&p);
}

static void test_sse_refuses_oversized_lines(void **state)
{
    char big[300];
    struct call_sse p;
    struct events ev = {0};
    memset(big, 'x', sizeof(big));
    call_sse_init(&p);
    p.max_bytes = 100;
    assert_int_equal(call_sse_feed(&p, "data: ", 6, collect, &ev), 0);
    assert_int_equal(call_sse_feed(&p, big, sizeof(big), collect, &ev), -CALL_ETRANSPORT);
    call_sse_fini(&p);
}

/* ---- progress ---- */

static void test_progress_from_meta(void **state)
{
    json_t *task = json_pack("{s:s, s:s, s:{s:{s:i, s:i}}}", "status", "working", "statusMessage",
                             "step 1/9", "_meta", TW_META_PROGRESS, "progress", 3, "total", 8);
    double p = -1, t = -1;
    assert_true(call_progress_extract(task, &p, &t));
    assert_true(p == 3 && t == 8);
    json_decref(task);
}

static void test_progress_from_status_message(void **state)
{
    json_t *task =
        json_pack("{s:s, s:s}", "status", "working", "statusMessage", "resizing: step 3/8 (42 MB)");
    double p = -1, t = -1;
    assert_true(call_progress_extract(task, &p, &t));
    assert_true(p == 3 && t == 8);
    json_decref(task);
    assert_true(call_progress_from_text("12/40 files, 1/2 done", &p, &t));
    assert_true(p == 12 && t == 40);
    assert_false(call_progress_from_text("and/or 3/ /4", &p, &t));
    assert_false(call_progress_from_text(NULL, &p, &t));
    task = json_pack("{s:s}", "status", "working");
    assert_false(call_progress_extract(task, &p, &t));
    json_decref(task);
}

/* ---- bar ---- */

static void test_bar_at_0_50_100_percent(void **state)
{
    char buf[200];
    size_t n = call_bar_render(buf, sizeof(buf), 0, 8, "step 0/8", 0.0);
    assert_string_equal(buf, "[------------------------------]   0%  step 0/8  (0.0s)");
    assert_int_equal(n, strlen(buf));
    call_bar_render(buf, sizeof(buf), 4, 8, "step 4/8", 3.14);
    assert_string_equal(buf, "[###############---------------]  50%  step 4/8  (3.1s)");
    call_bar_render(buf, sizeof(buf), 8, 8, NULL, 10);
    assert_string_equal(buf, "[##############################] 100%  (10.0s)");
    /* beyond the total is clamped */
    call_bar_render(buf, sizeof(buf), 9, 8, "", 1);
    assert_string_equal(buf, "[##############################] 100%  (1.0s)");
}

static void test_bar_with_total_zero_is_indeterminate(void **state)
{
    char buf[200];
    call_bar_render(buf, sizeof(buf), 5, 0, "warming up", 2);
    assert_string_equal(buf, "[------------------------------]   ?%  warming up  (2.0s)");
}

static void test_bar_strips_control_characters_and_truncates(void **state)
{
    char buf[200];
    char small[16];
    call_bar_render(buf, sizeof(buf), 1, 2, "evil\033[2Jtext\n", 0);
    assert_null(strchr(buf, '\033'));
    assert_null(strchr(buf, '\n'));
    size_t n = call_bar_render(small, sizeof(small), 1, 2, "x", 0);
    assert_int_equal(n, sizeof(small) - 1);
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

/* ---- content ---- */

static void test_content_descriptions(void **state)
{
    char buf[200];
    json_t *img =
        json_pack("{s:s, s:s, s:s}", "type", "image", "mimeType", "image/png", "data", "aGVsbG8=");
    call_content_describe(img, buf, sizeof(buf));
    assert_string_equal(buf, "[image image/png, 8 bytes base64]");
    json_decref(img);
    json_t *link = json_pack("{s:s, s:s}", "type", "resource_link", "uri", "file:///a.txt");
    call_content_describe(link, buf, sizeof(buf));
    assert_string_equal(buf, "[resource_link file:///a.txt]");
    json_decref(link);
    json_t *res = json_pack("{s:s, s:{s:s, s:s, s:s}}", "type", "resource", "resource", "uri",
                            "mem://x", "mimeType", "text/plain", "text", "abc");
    call_content_describe(res, buf, sizeof(buf));
    assert_string_equal(buf, "[resource mem://x text/plain, 3 chars text]");
    json_decref(res);
    json_t *odd = json_pack("{s:s}", "type", "hologram");
    call_content_describe(odd, buf, sizeof(buf));
    assert_string_equal(buf, "[hologram]");
    json_decref(odd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kv_numbers_become_json_numbers),
        cmocka_unit_test(test_kv_literals_and_strings),
        cmocka_unit_test(test_kv_objects_and_arrays),
        cmocka_unit_test(test_kv_repeated_key_replaces),
        cmocka_unit_test(test_kv_rejects_invalid),
        cmocka_unit_test(test_args_json_then_kv_on_top),
        cmocka_unit_test(test_request_has_protocol_meta),
        cmocka_unit_test(test_header_value_plain_or_base64),
        cmocka_unit_test(test_sse_joins_multiline_data),
        cmocka_unit_test(test_sse_skips_comments_and_unknown_fields),
        cmocka_unit_test(test_sse_accepts_crlf_and_cr),
        cmocka_unit_test(test_sse_partial_chunks_byte_by_byte),
        cmocka_unit_test(test_sse_split_in_the_middle_of_a_field),
        cmocka_unit_test(test_sse_callback_can_stop),
        cmocka_unit_test(test_sse_refuses_oversized_lines),
        cmocka_unit_test(test_progress_from_meta),
        cmocka_unit_test(test_progress_from_status_message),
        cmocka_unit_test(test_bar_at_0_50_100_percent),
        cmocka_unit_test(test_bar_with_total_zero_is_indeterminate),
        cmocka_unit_test(test_bar_strips_control_characters_and_truncates),
        cmocka_unit_test(test_content_descriptions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
