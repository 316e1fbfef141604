/*
 * test_session.c - legacy Mcp-Session-Id: round trip, tampering, keys,
 * expiry, principal binding, and the capability bits.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "session.h"

static const unsigned char key[32] = "0123456789abcdef0123456789abcdef";

static void sign(const char *version, unsigned caps, int64_t expires, const char *who,
                 char out[SESSION_MAX_LEN + 1])
{
    struct session s = {.caps = caps, .expires_s = expires};
    strcpy(s.version, version);
    assert_int_equal(session_sign(key, sizeof(key), &s, who, out), 0);
}

static void test_session_round_trip(void **state)
{
    char t[SESSION_MAX_LEN + 1];
    struct session s;
    struct err e = {0};
    unsigned caps = SESSION_CAP_ELICIT_FORM | SESSION_CAP_SAMPLING | SESSION_CAP_UI;
    sign("2025-11-25", caps, 2000, "alice", t);
    assert_int_equal(session_verify(key, sizeof(key), t, "alice", 1000, &s, &e), 0);
    assert_string_equal(s.version, "2025-11-25");
    assert_int_equal(s.caps, caps);
    assert_true(s.expires_s == 2000);
    for (const char *p = t; *p; p++) /* the transport's rule: visible ASCII only */
        assert_true(*p >= 0x21 && *p <= 0x7e);
    sign("2025-06-18", 0, 2000, "alice", t);
    assert_int_equal(session_verify(key, sizeof(key), t, "alice", 1000, &s, &e), 0);
    assert_string_equal(s.version, "2025-06-18");
    char t2[SESSION_MAX_LEN + 1];
    sign("2025-06-18", 0, 2000, "alice", t2);
    assert_string_not_equal(t, t2); /* the nonce */
}

static void test_session_refuses_tampering_and_other_keys(void **state)
{
    char t[SESSION_MAX_LEN + 1];
    struct session s;
    sign("2025-11-25", SESSION_CAP_ROOTS, 2000, "alice", t);
    for (size_t i = 0; i < strlen(t); i++) {
        char c[SESSION_MAX_LEN + 1];
        strcpy(c, t);
        c[i] = c[i] == 'A' ? 'B' : 'A';
        assert_int_not_equal(session_verify(key, sizeof(key), c, "alice", 1000, &s, NULL), 0);
    }
    unsigned char other[32] = {1};
    assert_int_equal(session_verify(other, sizeof(other), t, "alice", 1000, &s, NULL),
                     -SESSION_EINVALID);
    const char *junk[] = {NULL, "", "s1.", "s1..", "s2.AAAA.AAAA", "garbage", "s1.AAAA.AAAA"};
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        assert_int_equal(session_verify(key, sizeof(key), junk[i], "alice", 1000, &s, NULL),
                         -SESSION_EINVALID);
    char longer[SESSION_MAX_LEN + 20];
    snprintf(longer, sizeof(longer), "%sAAAAAAAAAAAAAAAAAA", t);
    assert_int_equal(session_verify(key, sizeof(key), longer, "alice", 1000, &s, NULL),
                     -SESSION_EINVALID);
}

static void test_session_expires_and_binds_the_principal(void **state)
{
    char t[SESSION_MAX_LEN + 1];
    struct session s;
    struct err e = {0};
    sign("2025-11-25", 0, 2000, "alice", t);
    assert_int_equal(session_verify(key, sizeof(key), t, "alice", 2000, &s, &e), 0);
    assert_int_equal(session_verify(key, sizeof(key), t, "alice", 2001, &s, &e), -SESSION_EEXPIRED);
    assert_int_equal(session_verify(key, sizeof(key), t, "bob", 1000, &s, &e), -SESSION_EPRINCIPAL);
    assert_string_equal(e.msg, "Session not found"); /* says nothing of whose it is */
    assert_int_equal(session_verify(key, sizeof(key), t, "alic", 1000, &s, NULL),
                     -SESSION_EPRINCIPAL);
}

static void test_session_signs_only_legacy_versions(void **state)
{
    char t[SESSION_MAX_LEN + 1];
    struct session s = {.expires_s = 10};
    strcpy(s.version, "2026-07-28");
    assert_int_equal(session_sign(key, sizeof(key), &s, "alice", t), -SESSION_EINVALID);
}

static void test_session_capability_bits(void **state)
{
    json_t *caps = json_loads("{\"elicitation\":{},\"sampling\":{\"tools\":{}},\"roots\":"
                              "{\"listChanged\":true},\"extensions\":{\"io.modelcontextprotocol/"
                              "ui\":{\"mimeTypes\":[\"text/html;profile=mcp-app\"]}}}",
                              0, NULL);
    unsigned bits = session_caps_from_json(caps);
    assert_int_equal(bits, SESSION_CAP_ELICIT_FORM | SESSION_CAP_SAMPLING |
                               SESSION_CAP_SAMPLING_TOOLS | SESSION_CAP_ROOTS | SESSION_CAP_UI);
    json_decref(caps);
    caps = json_loads("{\"elicitation\":{\"url\":{}},\"extensions\":{\"io.modelcontextprotocol/"
                      "ui\":{\"mimeTypes\":[\"text/html\"]},\"io.modelcontextprotocol/tasks\":{}}}",
                      0, NULL);
    assert_int_equal(session_caps_from_json(caps), SESSION_CAP_ELICIT_URL);
    json_decref(caps);
    assert_int_equal(session_caps_from_json(NULL), 0);

    json_t *o = session_caps_to_json(SESSION_CAP_ELICIT_FORM | SESSION_CAP_ELICIT_URL |
                                     SESSION_CAP_SAMPLING | SESSION_CAP_ROOTS);
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"elicitation\":{\"form\":{},\"url\":{}},\"roots\":{},"
                              "\"sampling\":{}}");
    free(text);
    json_decref(o);
    o = session_caps_to_json(0);
    assert_int_equal(json_object_size(o), 0); /* no session: no capabilities */
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_round_trip),
        cmocka_unit_test(test_session_refuses_tampering_and_other_keys),
        cmocka_unit_test(test_session_expires_and_binds_the_principal),
        cmocka_unit_test(test_session_signs_only_legacy_versions),
        cmocka_unit_test(test_session_capability_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
