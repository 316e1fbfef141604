/*
 * test_notify.c - unit tests for common/notify.c without Redis.
 *
 * notify_parse() is the only reader of what arrives on the event channel,
 * so it is tested here as a parser of untrusted input: the kinds that
 * travel, the ones that must not, malformed ids, sizes and separators, and
 * the replies notify_reply_event() takes an event from.  The
 * disabled publisher and subscriber paths need no server either.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "notify.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#define ID "0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"

/* notify_parse() of the NUL-terminated 's'; checks *ev is zeroed on failure. */
static int parse(const char *s, struct notify_event *ev)
{
    int rc = notify_parse(s, strlen(s), ev);

    if (rc != 0) {
        assert_int_equal(rc, -NOTIFY_EINVALID);
        assert_null(ev->kind);
        assert_string_equal(ev->task_id, "");
    }
    return rc;
}

/* Every payload of payloads[0..n) is refused. */
static void assert_all_invalid(const char *const *payloads, size_t n)
{
    struct notify_event ev;

    for (size_t i = 0; i < n; i++) {
        if (parse(payloads[i], &ev) != -NOTIFY_EINVALID)
            fail_msg("accepted \"%s\"", payloads[i]);
    }
}

static void test_notify_parse_accepts_each_wire_kind(void **state)
{
    static const char *const kinds[] = {NOTIFY_CANCEL, NOTIFY_CHANGED, NOTIFY_TOOLS,
                                        NOTIFY_PROMPTS};
    struct notify_event ev;
    char payload[64];

    (void)state;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        snprintf(payload, sizeof(payload), "%s %s", kinds[i], ID);
        assert_int_equal(parse(payload, &ev), 0);
        assert_string_equal(ev.kind, kinds[i]);
        /* A static name, not a pointer into the payload. */
        assert_true(ev.kind < payload || ev.kind >= payload + sizeof(payload));
        assert_string_equal(ev.task_id, ID);
    }
}

static void test_notify_parse_rejects_unknown_kinds(void **state)
{
    static const char *const payloads[] = {
        NOTIFY_RESYNC " " ID, /* local only: never believed from the wire */
        "Cancel " ID,         "CANCEL " ID, "cancelled " ID, "cance " ID, "change " ID,
        "tool " ID,           "delete " ID, " " ID,          "x " ID,
    };
    (void)state;
    assert_all_invalid(payloads, sizeof(payloads) / sizeof(payloads[0]));
}

static void test_notify_parse_rejects_bad_task_ids(void **state)
{
    static const char *const payloads[] = {
        "cancel 0B0C1D2E-3F40-4A5B-8C6D-7E8F90A1B2C3",  /* not canonical (uppercase) */
        "cancel 0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c",   /* one short */
        "cancel 0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3a", /* one long */
        "cancel 0b0c1d2e03f40-4a5b-8c6d-7e8f90a1b2c3",  /* dash missing */
        "cancel 0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2cg",  /* not hex */
        "cancel 0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c ",  /* trailing space inside */
        "cancel ../../../../../../../../../etc/passw",  /* 36 bytes of something else */
        "cancel *",
        "cancel ",
    };
    (void)state;
    assert_all_invalid(payloads, sizeof(payloads) / sizeof(payloads[0]));
}

static void test_notify_parse_rejects_other_separators_and_extras(void **state)
{
    static const char *const payloads[] = {
        "cancel  " ID,    /* two spaces */
        "cancel\t" ID,    /* a tab */
        " cancel " ID,    /* leading space */
        "cancel " ID " ", /* trailing space */
        "cancel " ID "\n", "cancel " ID " extra", "cancel-" ID, "cancel" ID,
    };
    (void)state;
    assert_all_invalid(payloads, sizeof(payloads) / sizeof(payloads[0]));
}

static void test_notify_parse_rejects_empty_and_overlong_payloads(void **state)
{
    struct notify_event ev;
    char big[4096];

    (void)state;
    assert_int_equal(parse("", &ev), -NOTIFY_EINVALID);
    assert_int_equal(parse(" ", &ev), -NOTIFY_EINVALID);
    assert_int_equal(parse("cancel", &ev), -NOTIFY_EINVALID);
    assert_int_equal(notify_parse(NULL, 0, &ev), -NOTIFY_EINVALID);
    assert_int_equal(notify_parse(NULL, 10, &ev), -NOTIFY_EINVALID);

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(parse(big, &ev), -NOTIFY_EINVALID);
    snprintf(big, sizeof(big), "changed %s", ID);
    memset(big + strlen(big), 'f', 100); /* an id that goes on */
    big[8 + 36 + 100] = '\0';
    assert_int_equal(parse(big, &ev), -NOTIFY_EINVALID);
    memset(big, 'c', 3000); /* a kind that goes on */
    snprintf(big + 3000, sizeof(big) - 3000, " %s", ID);
    assert_int_equal(parse(big, &ev), -NOTIFY_EINVALID);
}

static void test_notify_parse_reads_only_len_bytes(void **state)
{
    struct notify_event ev;
    char buf[128];
    size_t n;

    (void)state;
    n = (size_t)snprintf(buf, sizeof(buf), "changed %s", ID);
    /* Not NUL-terminated: what follows the payload is not read. */
    memcpy(buf + n, "JUNKJUNK", 8);
    assert_int_equal(notify_parse(buf, n, &ev), 0);
    assert_string_equal(ev.task_id, ID);
    /* A NUL inside the stated length is a bad byte, not an end. */
    buf[n - 1] = '\0';
    assert_int_equal(notify_parse(buf, n, &ev), -NOTIFY_EINVALID);
    assert_null(ev.kind);
    /* One byte short of the payload is a short id. */
    assert_int_equal(notify_parse("changed " ID, strlen("changed " ID) - 1, &ev), -NOTIFY_EINVALID);
}

/* A string element of a reply (hiredis terminates its strings). */
static redisReply str_reply(const char *s)
{
    redisReply r = {.type = REDIS_REPLY_STRING, .str = (char *)s, .len = strlen(s)};
    return r;
}

/* What the subscriber makes of a reply: only a pub/sub "message" with a valid payload. */
static void test_notify_reply_event_takes_only_messages(void **state)
{
    redisReply el[3] = {str_reply("message"), str_reply(NOTIFY_CHANNEL),
                        str_reply("cancel " ID)};
    redisReply *elp[3] = {&el[0], &el[1], &el[2]};
    redisReply top = {.type = REDIS_REPLY_ARRAY, .elements = 3, .element = elp};
    struct notify_event ev;

    (void)state;
    assert_int_equal(notify_reply_event(&top, &ev), 0);
    assert_string_equal(ev.kind, NOTIFY_CANCEL);
    assert_string_equal(ev.task_id, ID);
    el[2] = str_reply("cancel not-an-id");
    assert_int_equal(notify_reply_event(&top, &ev), -NOTIFY_EINVALID);
    el[2] = str_reply("cancel " ID);
    el[0] = str_reply("subscribe"); /* the subscription's own confirmation */
    assert_int_equal(notify_reply_event(&top, &ev), -NOTIFY_EINVALID);
    el[0] = str_reply("message");
    el[2].type = REDIS_REPLY_STATUS;
    assert_int_equal(notify_reply_event(&top, &ev), -NOTIFY_EINVALID);
    el[2].type = REDIS_REPLY_STRING;
    top.elements = 2;
    assert_int_equal(notify_reply_event(&top, &ev), -NOTIFY_EINVALID);
    redisReply pong = {.type = REDIS_REPLY_STATUS, .str = "PONG", .len = 4};
    assert_int_equal(notify_reply_event(&pong, &ev), -NOTIFY_EINVALID);
}

/* ---- paths that need no server ---- */

static void test_notify_disabled_publisher_fails_at_once(void **state)
{
    static const char *const addrs[] = {NULL,    "",       "nocolon",    ":6379",
                                        "host:", "host:0", "host:65536", "host:12ab"};
    struct notify_pub *p;

    (void)state;
    for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        p = notify_pub_new(addrs[i]);
        assert_non_null(p);
        assert_int_equal(notify_publish(p, NOTIFY_CHANGED, ID), -NOTIFY_EUNAVAILABLE);
        notify_pub_free(p);
    }
    assert_int_equal(notify_publish(NULL, NOTIFY_CHANGED, ID), -NOTIFY_EUNAVAILABLE);
    notify_pub_free(NULL);
}

static void never_called(void *arg, const char *kind, const char *task_id)
{
    (void)arg;
    (void)kind;
    (void)task_id;
    fail();
}

static void test_notify_subscriber_needs_an_address(void **state)
{
    (void)state;
    assert_null(notify_sub_start(NULL, never_called, NULL));
    assert_null(notify_sub_start("", never_called, NULL));
    assert_null(notify_sub_start("redis", never_called, NULL));
    assert_false(notify_sub_connected(NULL));
    notify_sub_stop(NULL);
}

/* Secure by default: a Redis address needs a password unless the operator says insecure. */
static void test_notify_check_auth_requires_a_password(void **state)
{
    struct err e = {0};
    char big[600];

    (void)state;
    assert_int_equal(notify_check_auth("127.0.0.1:6379", NULL, false, &e), -NOTIFY_EINVALID);
    assert_non_null(strstr(e.msg, "TASKWIRE_REDIS_PASSWORD"));
    assert_int_equal(notify_check_auth("127.0.0.1:6379", "", false, &e), -NOTIFY_EINVALID);
    assert_int_equal(notify_check_auth("127.0.0.1:6379", "s3cret", false, &e), 0);
    assert_int_equal(notify_check_auth("127.0.0.1:6379", NULL, true, &e), 0);
    assert_int_equal(notify_check_auth("", NULL, false, &e), 0); /* Redis off */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(notify_check_auth("127.0.0.1:6379", big, true, &e), -NOTIFY_EINVALID);
    assert_int_equal(notify_set_auth("127.0.0.1:6379", NULL, big), -NOTIFY_EINVALID);
    assert_int_equal(notify_set_auth("127.0.0.1:6379", "taskwire", "s3cret"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_parse_accepts_each_wire_kind),
        cmocka_unit_test(test_notify_parse_rejects_unknown_kinds),
        cmocka_unit_test(test_notify_parse_rejects_bad_task_ids),
        cmocka_unit_test(test_notify_parse_rejects_other_separators_and_extras),
        cmocka_unit_test(test_notify_parse_rejects_empty_and_overlong_payloads),
        cmocka_unit_test(test_notify_parse_reads_only_len_bytes),
        cmocka_unit_test(test_notify_reply_event_takes_only_messages),
        cmocka_unit_test(test_notify_disabled_publisher_fails_at_once),
        cmocka_unit_test(test_notify_subscriber_needs_an_address),
        cmocka_unit_test(test_notify_check_auth_requires_a_password),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
