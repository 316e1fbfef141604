/*
 * test_sse.c - cli/sse.c: the Server-Sent Events parser, fed in pieces.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "sse.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

static void feed_all(struct sse *p, const char *s, struct events *ev)
{
    assert_int_equal(sse_feed(p, s, strlen(s), collect, ev), 0);
}

static void test_sse_joins_multiline_data(void **state)
{
    struct sse p;
    struct events ev = {0};
    sse_init(&p);
    feed_all(&p, "event: message\ndata: {\"a\":\ndata: 1}\n\ndata:x\n\n", &ev);
    assert_int_equal(ev.n, 2);
    assert_string_equal(ev.got[0], "message|{\"a\":\n1}");
    assert_string_equal(ev.got[1], "message|x");
    sse_fini(&p);
}

static void test_sse_skips_comments_and_unknown_fields(void **state)
{
    struct sse p;
    struct events ev = {0};
    sse_init(&p);
    feed_all(&p, ": keep-alive\n\nid: 3\nretry: 10\nfoo: bar\ndata: y\n\n: bye\n\n", &ev);
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.got[0], "message|y");
    sse_fini(&p);
}

static void test_sse_accepts_crlf_and_cr(void **state)
{
    struct sse p;
    struct events ev = {0};
    sse_init(&p);
    feed_all(&p, "event: ping\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\rdata:d\n\n", &ev);
    assert_int_equal(ev.n, 3);
    assert_string_equal(ev.got[0], "ping|a\nb");
    assert_string_equal(ev.got[1], "message|c");
    assert_string_equal(ev.got[2], "message|d");
    sse_fini(&p);
}

static void test_sse_partial_chunks_byte_by_byte(void **state)
{
    const char *s = "\xef\xbb\xbf"
                    "data: {\"id\":1}\r\n\r\n: c\r\ndata: two\r\n";
    struct sse p;
    struct events ev = {0};
    sse_init(&p);
    for (size_t i = 0; s[i]; i++)
        assert_int_equal(sse_feed(&p, s + i, 1, collect, &ev), 0);
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.got[0], "message|{\"id\":1}");
    /* a blank line ended by a lone CR dispatches; the LF in the next piece belongs to it */
    assert_int_equal(sse_feed(&p, "\r", 1, collect, &ev), 0);
    assert_int_equal(ev.n, 2);
    assert_string_equal(ev.got[1], "message|two");
    assert_int_equal(sse_feed(&p, "\n", 1, collect, &ev), 0);
    assert_int_equal(ev.n, 2);
    sse_fini(&p);
}

static void test_sse_split_in_the_middle_of_a_field(void **state)
{
    struct sse p;
    struct events ev = {0};
    sse_init(&p);
    feed_all(&p, "da", &ev);
    feed_all(&p, "ta: hel", &ev);
    feed_all(&p, "lo\n", &ev);
    assert_int_equal(ev.n, 0);
    feed_all(&p, "\n", &ev);
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.got[0], "message|hello");
    sse_fini(&p);
}

static void test_sse_callback_can_stop(void **state)
{
    const char *s = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
    struct sse p;
    struct events ev = {.stop_after = 2};
    sse_init(&p);
    assert_int_equal(sse_feed(&p, s, strlen(s), collect, &ev), 1);
    assert_int_equal(ev.n, 2);
    sse_fini(&p);
}

static void test_sse_refuses_oversized_lines(void **state)
{
    char big[300];
    struct sse p;
    struct events ev = {0};
    memset(big, 'x', sizeof(big));
    sse_init(&p);
    p.max_bytes = 100;
    assert_int_equal(sse_feed(&p, "data: ", 6, collect, &ev), 0);
    assert_int_equal(sse_feed(&p, big, sizeof(big), collect, &ev), -SSE_ETOOLONG);
    sse_fini(&p);
}

static void test_sse_line_limit_does_not_depend_on_splits(void **state)
{
    /* a 101-byte comment line: over a limit of 100 whether or not it is split */
    char line[128];
    struct sse whole, split;
    struct events ev = {0};
    snprintf(line, sizeof(line), ": %099d\n", 0);
    sse_init(&whole);
    sse_init(&split);
    whole.max_bytes = split.max_bytes = 100;
    assert_int_equal(sse_feed(&whole, line, strlen(line), collect, &ev), -SSE_ETOOLONG);
    assert_int_equal(sse_feed(&split, line, 50, collect, &ev), 0);
    assert_int_equal(sse_feed(&split, line + 50, strlen(line) - 50, collect, &ev), -SSE_ETOOLONG);
    /* a line of exactly the limit is fine either way */
    sse_fini(&whole);
    sse_init(&whole);
    whole.max_bytes = 100;
    snprintf(line, sizeof(line), ": %098d\n\n", 0);
    assert_int_equal(sse_feed(&whole, line, strlen(line), collect, &ev), 0);
    assert_int_equal(ev.n, 0);
    sse_fini(&whole);
    sse_fini(&split);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sse_joins_multiline_data),
        cmocka_unit_test(test_sse_skips_comments_and_unknown_fields),
        cmocka_unit_test(test_sse_accepts_crlf_and_cr),
        cmocka_unit_test(test_sse_partial_chunks_byte_by_byte),
        cmocka_unit_test(test_sse_split_in_the_middle_of_a_field),
        cmocka_unit_test(test_sse_callback_can_stop),
        cmocka_unit_test(test_sse_refuses_oversized_lines),
        cmocka_unit_test(test_sse_line_limit_does_not_depend_on_splits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
