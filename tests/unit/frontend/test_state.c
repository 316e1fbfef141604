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

/* Made by tests/fuzz/make_state_corpus.py, an independent implementation of the
 * format (its seeds "valid" and "valid-args"): pins the wire format. */
static void test_state_accepts_states_from_an_independent_signer(void **state)
{
    static const unsigned char fuzz_key[32] = "taskwire-fuzz-state-key-32-bytes";
    const char *plain = "djF8MDFhMjAwY2MtNWQ5My00OGE5LWJhOTAtZGY4NTNiNzU5ZjcyfDIwMDAwMDAwMDB8MD"
                        "AxMTIyMzM0NDU1NjY3N3wxNzc2ODlmOGZkOThhNTdlMTM4NDA5NDRjNzJhMTRkMGUxODgz"
                        "NzViODNmNzRjM2I1ZDE1ZTRkY2E2OTA1OWRj.HkaoqQNFByzHrLkgNi-g93QZzeW5zYF_HPbTQ22_kng";
    const char *with_args = "djF8MDFhMjAwY2MtNWQ5My00OGE5LWJhOTAtZGY4NTNiNzU5ZjcyfDIwMDAwMDAwMDB8MD"
                            "AxMTIyMzM0NDU1NjY3N3wyOTA3MzA0ZDk2MjExYzJjMjIyMjIwNTcwMDY5NTdhMWZiZTY4"
                            "MGQxZGYyYTFiNWY1ZWFkM2NkZTI3YjA2ZDU1.6j0x-wEuW0uhOLcWC295wcTCgE3BD-kxKKf3toJ3rbI";
    char id[TASKID_LEN + 1];
    assert_int_equal(verify(plain, "alice", "{}", 1800000000, fuzz_key, id), 0);
    assert_string_equal(id, "01a200cc-5d93-48a9-ba90-df853b759f72");
    assert_int_equal(verify(with_args, "alice", "{\"text\":\"hi\",\"n\":1}", 1800000000,
                            fuzz_key, id),
                     0);
    assert_int_equal(verify(plain, "alice", "{}", 2000000001, fuzz_key, id), -STATE_EEXPIRED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_round_trip_any_key_order),
        cmocka_unit_test(test_state_rejects_tampering),
        cmocka_unit_test(test_state_expires),
        cmocka_unit_test(test_state_is_bound_to_owner_and_arguments),
        cmocka_unit_test(test_state_accepts_states_from_an_independent_signer),
    };
    return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
