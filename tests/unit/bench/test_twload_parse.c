/*
 * test_twload_parse.c - twload's pure parts: HTTP response framing (lengths, chunks,
 * closes, refusals), the event-stream data line, the log-linear histogram, request templates,
 * the JSON-RPC reply skim (with decoys) and bench_probe's cancel log line.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "twload_parse.h"

/* Parse 'text' as it arrives one byte at a time: the result of the last call, and the
 * number of calls that returned 0 before it. */
static int parse_bytewise(struct twload_http *h, char *buf, const char *text, size_t *waits)
{
    size_t n = strlen(text);
    int rc = 0;
    twload_http_reset(h);
    *waits = 0;
    for (size_t i = 1; i <= n; i++) {
        memcpy(buf, text, i);
        rc = twload_http_parse(h, buf, i);
        if (rc != 0)
            return rc;
        (*waits)++;
    }
    return rc;
}

static void test_http_frames_a_content_length_response_arriving_byte_by_byte(void **state)
{
    (void)state;
    const char *text = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       "content-length:  7 \r\n\r\n{\"a\":1}";
    char buf[256];
    struct twload_http h;
    size_t waits;
    assert_int_equal(parse_bytewise(&h, buf, text, &waits), 1);
    assert_int_equal(waits, strlen(text) - 1); /* complete exactly at the last byte */
    assert_int_equal(h.status, 200);
    assert_int_equal(h.content_length, 7);
    assert_false(h.chunked);
    assert_false(h.close);
    assert_false(h.event_stream);
    assert_int_equal(h.msg_len, strlen(text));
    assert_int_equal(h.body_len, 7);
    assert_memory_equal(buf + h.body_off, "{\"a\":1}", 7);
}

static void test_http_dechunks_a_body_with_extensions_and_trailers(void **state)
{
    (void)state;
    const char *text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "4;ext=1\r\n{\"a\"\r\n"
                       "A\r\n:\"0123456\"\r\n"
                       "1\r\n}\r\n"
                       "0\r\nX-Trailer: yes\r\n\r\n";
    char buf[512];
    struct twload_http h;
    size_t waits;
    assert_int_equal(parse_bytewise(&h, buf, text, &waits), 1);
    assert_int_equal(waits, strlen(text) - 1);
    assert_true(h.chunked);
    assert_int_equal(h.msg_len, strlen(text));
    assert_int_equal(h.body_len, 15);
    assert_memory_equal(buf + h.body_off, "{\"a\":\"0123456\"}", 15);

    const char *plain = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
    assert_int_equal(parse_bytewise(&h, buf, plain, &waits), 1);
    assert_int_equal(h.body_len, 2);
    assert_memory_equal(buf + h.body_off, "ok", 2);
}

static void test_http_reads_close_and_event_stream_and_empty_bodies(void **state)
{
    (void)state;
    char buf[256];
    struct twload_http h;
    size_t waits;
    assert_int_equal(parse_bytewise(&h, buf,
                                    "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\n"
                                    "Content-Type: text/event-stream\r\nContent-Length: 0\r\n\r\n",
                                    &waits),
                     1);
    assert_int_equal(h.status, 429);
    assert_true(h.close);
    assert_true(h.event_stream);
    assert_int_equal(h.body_len, 0);

    /* HTTP/1.0 closes unless it says keep-alive */
    assert_int_equal(
        parse_bytewise(&h, buf, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", &waits), 1);
    assert_true(h.close);
    assert_int_equal(parse_bytewise(&h, buf,
                                    "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
                                    "Content-Length: 0\r\n\r\n",
                                    &waits),
                     1);
    assert_false(h.close);

    assert_int_equal(parse_bytewise(&h, buf, "HTTP/1.1 204 No Content\r\n\r\n", &waits), 1);
    assert_int_equal(h.body_len, 0);
    assert_int_equal(h.msg_len, strlen("HTTP/1.1 204 No Content\r\n\r\n"));
}

static void test_http_without_length_runs_until_the_connection_closes(void **state)
{
    (void)state;
    char buf[256] = "HTTP/1.1 200 OK\r\nServer: x\r\n\r\n{\"partial\":";
    struct twload_http h;
    twload_http_reset(&h);
    assert_int_equal(twload_http_parse(&h, buf, strlen(buf)), 0);
    assert_true(h.until_close);
    assert_int_equal(h.hdr_len, strlen("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n"));
}

static void test_http_refuses_what_is_not_a_response(void **state)
{
    (void)state;
    static const char *bad[] = {
        "GET / HTTP/1.1\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\n folded: line\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n",
    };
    char buf[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct twload_http h;
        twload_http_reset(&h);
        snprintf(buf, sizeof(buf), "%s", bad[i]);
        int rc = twload_http_parse(&h, buf, strlen(buf));
        if (rc != -TWLOAD_EPROTO)
            fail_msg("case %zu: %d instead of -TWLOAD_EPROTO", i, rc);
    }
    /* a header block that never ends */
    char *big = malloc(TWLOAD_HTTP_MAX_HEADER + 100);
    assert_non_null(big);
    memcpy(big, "HTTP/1.1 200 OK\r\n", 17);
    memset(big + 17, 'x', TWLOAD_HTTP_MAX_HEADER + 83);
    struct twload_http h;
    twload_http_reset(&h);
    assert_int_equal(twload_http_parse(&h, big, TWLOAD_HTTP_MAX_HEADER + 100), -TWLOAD_ETOOBIG);
    free(big);
}

static void test_sse_takes_the_last_data_line(void **state)
{
    (void)state;
    const char *body = "event: message\r\ndata: {\"first\":1}\r\n\r\nid: 2\ndata:{\"last\":2}\n\n";
    const char *d;
    size_t n;
    assert_int_equal(twload_sse_last_data(body, strlen(body), &d, &n), 0);
    assert_int_equal(n, 10);
    assert_memory_equal(d, "{\"last\":2}", 10);
    assert_int_equal(twload_sse_last_data("event: x\n\n", 10, &d, &n), -TWLOAD_EPROTO);
}

static void test_hist_buckets_are_exact_below_256_and_contiguous_above(void **state)
{
    (void)state;
    for (uint64_t v = 0; v < 256; v++) {
        assert_int_equal(twload_hist_index(v), v);
        assert_int_equal(twload_hist_highest(v), v);
    }
    /* every bucket ends right before the next one starts; each is under 0.8 % wide */
    for (size_t i = 0; i + 1 < TWLOAD_HIST_BUCKETS; i++) {
        uint64_t hi = twload_hist_highest(i);
        assert_int_equal(twload_hist_index(hi), i);
        assert_int_equal(twload_hist_index(hi + 1), i + 1);
        if (i > 256) {
            uint64_t lo = twload_hist_highest(i - 1) + 1;
            assert_true((double)(hi - lo + 1) / (double)lo <= 1.0 / 128 + 1e-12);
        }
    }
    assert_int_equal(twload_hist_index(UINT64_MAX), TWLOAD_HIST_BUCKETS - 1);
}

static void test_hist_percentiles_of_1_to_100000(void **state)
{
    (void)state;
    struct twload_hist *h = malloc(sizeof(*h));
    assert_non_null(h);
    twload_hist_init(h);
    assert_int_equal(twload_hist_percentile(h, 50), 0);
    for (uint64_t v = 100000; v >= 1; v--)
        twload_hist_record(h, v);
    assert_int_equal(h->n, 100000);
    assert_int_equal(h->min_us, 1);
    assert_int_equal(h->max_us, 100000);
    assert_int_equal(h->sum_us / h->n, 50000);
    static const double pct[] = {50, 90, 99, 99.9};
    for (size_t i = 0; i < 4; i++) {
        double want = pct[i] * 1000;
        double got = (double)twload_hist_percentile(h, pct[i]);
        assert_true(got >= want && got <= want * 1.008); /* at or just above, never below */
    }
    assert_int_equal(twload_hist_percentile(h, 100), 100000);
    assert_int_equal(twload_hist_percentile(h, 0.0001), 1);
    free(h);
}

static void test_hist_merges_and_caps_at_the_largest_sample(void **state)
{
    (void)state;
    struct twload_hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    assert_non_null(a);
    assert_non_null(b);
    twload_hist_init(a);
    twload_hist_init(b);
    twload_hist_record(a, 1000);
    twload_hist_record(b, 5);
    twload_hist_record(b, 1001);
    twload_hist_merge(a, b);
    assert_int_equal(a->n, 3);
    assert_int_equal(a->min_us, 5);
    assert_int_equal(a->max_us, 1001);
    /* 1000 and 1001 share a bucket whose top is 1003: the top is capped at the max */
    assert_int_equal(twload_hist_percentile(a, 99), 1001);
    assert_int_equal(twload_hist_percentile(a, 33), 5);
    twload_hist_record(a, UINT64_MAX); /* clamped, not lost */
    assert_int_equal(a->max_us, (UINT64_C(1) << TWLOAD_HIST_BITS) - 1);
    free(a);
    free(b);
}

/* A template piece of a string literal. */
#define P(s) ((struct twload_piece){s, sizeof(s) - 1})

static void test_req_build_fills_the_holes_and_the_content_length(void **state)
{
    (void)state;
    struct twload_tmpl t = {
        P("POST /mcp HTTP/1.1\r\nHost: h\r\nMcp-Name: "),
        P("{\"id\":"),
        P(",\"params\":{\"taskId\":\""),
        P("\"}}"),
    };
    char out[512];
    const char *id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    long n = twload_req_build(out, sizeof(out), &t, 4711, id, strlen(id));
    assert_true(n > 0);
    out[n] = '\0';
    const char *want_body = "{\"id\":4711,\"params\":{\"taskId\":"
                            "\"0f8fad5b-d9cb-469f-a165-70867728950e\"}}";
    char want[512];
    snprintf(want, sizeof(want),
             "POST /mcp HTTP/1.1\r\nHost: h\r\nMcp-Name: %s\r\nContent-Length: %zu\r\n\r\n%s", id,
             strlen(want_body), want_body);
    assert_string_equal(out, want);
    assert_true((size_t)n <= twload_req_size(&t, strlen(id)));

    /* a create: the name is only in the header */
    struct twload_tmpl c = {P("H: "), P("{\"id\":"), P(",\"x\":1}"), {NULL, 0}};
    n = twload_req_build(out, sizeof(out), &c, 0, "echo", 4);
    assert_true(n > 0);
    out[n] = '\0';
    assert_string_equal(out, "H: echo\r\nContent-Length: 14\r\n\r\n{\"id\":0,\"x\":1}");
    assert_int_equal(twload_req_build(out, 20, &c, 0, "echo", 4), -TWLOAD_ETOOBIG);
}

static void test_task_id_ok_takes_only_header_and_json_safe_ids(void **state)
{
    (void)state;
    assert_true(twload_task_id_ok("0f8fad5b-d9cb-469f-a165-70867728950e", 36));
    assert_true(twload_task_id_ok("a_B.c:d~9", 9));
    assert_false(twload_task_id_ok("", 0));
    assert_false(twload_task_id_ok("a\"b", 3));
    assert_false(twload_task_id_ok("a b", 3));
    assert_false(twload_task_id_ok("a\r\n", 3));
    char longid[TWLOAD_TASK_ID_MAX + 2];
    memset(longid, 'a', sizeof(longid));
    assert_true(twload_task_id_ok(longid, TWLOAD_TASK_ID_MAX));
    assert_false(twload_task_id_ok(longid, TWLOAD_TASK_ID_MAX + 1));
}

static void test_reply_reads_a_create_task_result(void **state)
{
    (void)state;
    const char *body =
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"resultType\":\"task\","
        "\"taskId\":\"786512e2-9e0d-44bd-8f29-789f320fe840\",\"status\":\"working\","
        "\"createdAt\":\"2026-07-28T10:30:00Z\",\"ttlMs\":null,\"pollIntervalMs\":5000,"
        "\"_meta\":{\"io.modelcontextprotocol/serverInfo\":{\"name\":\"t\",\"version\":\"1\"}}}}";
    struct twload_reply r;
    assert_int_equal(twload_reply_parse(body, strlen(body), &r), 0);
    assert_false(r.is_error);
    assert_true(r.has_result);
    assert_string_equal(r.task_id, "786512e2-9e0d-44bd-8f29-789f320fe840");
    assert_int_equal(r.status, TWLOAD_ST_WORKING);
    assert_false(twload_status_terminal(r.status));
    assert_false(r.has_started_at);
}

static void test_reply_reads_the_probe_start_of_a_completed_task_past_decoys(void **state)
{
    (void)state;
    /* "status" and "taskId" inside the tool's result, strings with escaped quotes and
     * brackets: none of them is taken for the task's own members */
    const char *body =
        " {\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{\"resultType\":\"complete\","
        "\"taskId\":\"t-1\",\"result\":{\"content\":[{\"type\":\"text\",\"text\":"
        "\"\\\"status\\\":\\\"failed\\\"}]{\"}],\"isError\":false,\"status\":\"failed\","
        "\"structuredContent\":{\"taskId\":\"other\",\"startedAtUs\":1753699200123456}},"
        "\"status\":\"completed\",\"lastUpdatedAt\":\"2026-07-28T10:30:00Z\"}}\n";
    struct twload_reply r;
    assert_int_equal(twload_reply_parse(body, strlen(body), &r), 0);
    assert_string_equal(r.task_id, "t-1");
    assert_int_equal(r.status, TWLOAD_ST_COMPLETED);
    assert_true(twload_status_terminal(r.status));
    assert_true(r.has_started_at);
    assert_int_equal(r.started_at_us, 1753699200123456);

    const char *failed = "{\"result\":{\"status\":\"failed\",\"error\":{\"code\":-32603}}}";
    assert_int_equal(twload_reply_parse(failed, strlen(failed), &r), 0);
    assert_false(r.is_error); /* the task's error, not the reply's */
    assert_int_equal(r.status, TWLOAD_ST_FAILED);
    const char *odd = "{\"result\":{\"status\":\"paused\"}}";
    assert_int_equal(twload_reply_parse(odd, strlen(odd), &r), 0);
    assert_int_equal(r.status, TWLOAD_ST_OTHER);
}

static void test_reply_reads_an_error_and_refuses_what_is_not_an_object(void **state)
{
    (void)state;
    const char *body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"message\":\"Task not found\","
                       "\"code\":-32602,\"data\":{\"x\":[1,2,{\"code\":5}]}}}";
    struct twload_reply r;
    assert_int_equal(twload_reply_parse(body, strlen(body), &r), 0);
    assert_true(r.is_error);
    assert_int_equal(r.error_code, -32602);
    assert_false(r.has_result);
    assert_string_equal(r.task_id, "");

    static const char *bad[] = {"",
                                "[]",
                                "null",
                                "{\"result\":{\"taskId\":\"abc}",
                                "{\"a\":1 \"b\":2}",
                                "{\"a\" 1}",
                                "{\"result\":{,}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (twload_reply_parse(bad[i], strlen(bad[i]), &r) != -TWLOAD_EPROTO)
            fail_msg("case %zu accepted: %s", i, bad[i]);
    /* a task id that could break a header or a JSON string is left out */
    const char *evil = "{\"result\":{\"taskId\":\"a\\\"b\\r\\n\"}}";
    assert_int_equal(twload_reply_parse(evil, strlen(evil), &r), 0);
    assert_string_equal(r.task_id, "");
}

static void test_probe_line_is_read_only_from_bench_probe_cancel_lines(void **state)
{
    (void)state;
    char id[TWLOAD_TASK_ID_MAX + 1];
    int64_t at = 0;
    const char *line = "{\"ts\":\"2026-07-28T10:30:00.123Z\",\"level\":\"info\","
                       "\"msg\":\"bench probe saw the cancel\",\"task_id\":\"t-9\","
                       "\"seen_at_us\":1753699200999999}\n";
    assert_true(twload_probe_line(line, strlen(line), id, &at));
    assert_string_equal(id, "t-9");
    assert_int_equal(at, 1753699200999999);
    const char *logged = "{\"level\":\"info\",\"msg\":\"bench probe saw the cancel\","
                         "\"task_id\":\"t-8\",\"seen_at_us\":\"1753699200000001\"}";
    assert_true(twload_probe_line(logged, strlen(logged), id, &at)); /* as taskwire logs it */
    assert_string_equal(id, "t-8");
    assert_int_equal(at, 1753699200000001);
    const char *not_num = "{\"msg\":\"bench probe saw the cancel\",\"task_id\":\"t\","
                          "\"seen_at_us\":\"soon\"}";
    assert_false(twload_probe_line(not_num, strlen(not_num), id, &at));
    const char *other = "{\"msg\":\"task finished\",\"task_id\":\"t-9\",\"seen_at_us\":1}";
    assert_false(twload_probe_line(other, strlen(other), id, &at));
    const char *no_time = "{\"msg\":\"bench probe saw the cancel\",\"task_id\":\"t-9\"}";
    assert_false(twload_probe_line(no_time, strlen(no_time), id, &at));
    assert_false(twload_probe_line("not json", 8, id, &at));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_frames_a_content_length_response_arriving_byte_by_byte),
        cmocka_unit_test(test_http_dechunks_a_body_with_extensions_and_trailers),
        cmocka_unit_test(test_http_reads_close_and_event_stream_and_empty_bodies),
        cmocka_unit_test(test_http_without_length_runs_until_the_connection_closes),
        cmocka_unit_test(test_http_refuses_what_is_not_a_response),
        cmocka_unit_test(test_sse_takes_the_last_data_line),
        cmocka_unit_test(test_hist_buckets_are_exact_below_256_and_contiguous_above),
        cmocka_unit_test(test_hist_percentiles_of_1_to_100000),
        cmocka_unit_test(test_hist_merges_and_caps_at_the_largest_sample),
        cmocka_unit_test(test_req_build_fills_the_holes_and_the_content_length),
        cmocka_unit_test(test_task_id_ok_takes_only_header_and_json_safe_ids),
        cmocka_unit_test(test_reply_reads_a_create_task_result),
        cmocka_unit_test(test_reply_reads_the_probe_start_of_a_completed_task_past_decoys),
        cmocka_unit_test(test_reply_reads_an_error_and_refuses_what_is_not_an_object),
        cmocka_unit_test(test_probe_line_is_read_only_from_bench_probe_cancel_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
