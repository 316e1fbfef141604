/*
 * test_state.c - MRTR requestState: integrity, expiry and binding.
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

#include "state.h"

static const unsigned char key[32] = "0123456789abcdef0123456789abcdef";
static const char *task = "01a200cc-5d93-78a9-ba90-df853b759f72";

static int verify(const char *st, const char *owner, const char *args_json, int64_t now,
                  const unsigned char *k, char *out)
{
    json_t *args = json_loads(args_json, 0, NULL);
    struct state_binding b = {owner, "tools/call", "greet", args};
    struct err e = {0};
    int rc = state_verify(k, 32, st, &b, now, out, &e);
    json_decref(args);
    return rc;
}

static char *sign(const char *owner, const char *args_json, int64_t expires)
{
    json_t *args = json_loads(args_json, 0, NULL);
    struct state_binding b = {owner, "tools/call", "greet", args};
    char *st = state_sign(key, sizeof(key), task, &b, expires);
    json_decref(args);
    assert_non_null(st);
    return st;
}

static void test_state_round_trip_any_key_order(void **state)
{
    char *st = sign("alice", "{\"a\":1,\"b\":[1,2]}", 2000);
    char id[TASKID_LEN + 1];
    assert_int_equal(verify(st, "alice", "{\"b\":[1,2],\"a\":1}", 1000, key, id), 0);
    assert_string_equal(id, task);
    free(st);
}

static void test_state_rejects_tampering(void **state)
{
    char *st = sign("alice", "{}", 2000);
    char id[TASKID_LEN + 1];
    for (size_t i = 0; i < strlen(st); i++) {
        char *t = strdup(st);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        assert_int_not_equal(verify(t, "alice", "{}", 1000, key, id), 0);
        free(t);
    }
    unsigned char other[32] = {1};
    assert_int_equal(verify(st, "alice", "{}", 1000, other, id), -STATE_EINVALID);
    assert_int_equal(verify("", "alice", "{}", 1000, key, id), -STATE_EINVALID);
    assert_int_equal(verify("no-dot-here", "alice", "{}", 1000, key, id), -STATE_EINVALID);
    assert_int_equal(verify(NULL, "alice", "{}", 1000, key, id), -STATE_EINVALID);
    free(st);
}

static void test_state_expires(void **state)
{
    char *st = sign("alice", "{}", 2000);
    char id[TASKID_LEN + 1];
    assert_int_equal(verify(st, "alice", "{}", 2000, key, id), 0);
    assert_int_equal(verify(st, "alice", "{}", 2001, key, id), -STATE_EEXPIRED);
    free(st);
}

static void test_state_is_bound_to_owner_and_arguments(void **state)
{
    char *st = sign("alice", "{\"name\":\"x\"}", 2000);
    char id[TASKID_LEN + 1];
    assert_int_equal(verify(st, "mallory", "{\"name\":\"x\"}", 1000, key, id), -STATE_EMISMATCH);
    assert_int_equal(verify(st, "alice", "{\"name\":\"y\"}", 1000, key, id), -STATE_EMISMATCH);
    assert_null(strstr(st, "alice")); /* nothing readable about the caller */
    free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_round_trip_any_key_order),
        cmocka_unit_test(test_state_rejects_tampering),
        cmocka_unit_test(test_state_expires),
        cmocka_unit_test(test_state_is_bound_to_owner_and_arguments),
    };
    return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
