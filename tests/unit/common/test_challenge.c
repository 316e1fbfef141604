/*
 * test_challenge.c - unit tests for common/challenge.c (RFC 6750 Bearer challenges).
 *
 * What the frontend writes must read back the same through the parser the
 * CLI uses; the parser must also take challenges written by other servers
 * (bare tokens, escapes, odd spacing, a second challenge) and refuse text
 * that is no challenge.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "challenge.h"

#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#define PRM "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"

static void test_challenge_formats_missing_token_without_error(void **state)
{
    char buf[CHALLENGE_MAX];
    struct challenge c = {.scope = "mcp:tools mcp:tasks", .resource_metadata = PRM};

    (void)state;
    assert_int_equal(challenge_format(&c, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "Bearer scope=\"mcp:tools mcp:tasks\", resource_metadata=\"" PRM "\"");
}

static void test_challenge_formats_every_parameter_in_order(void **state)
{
    char buf[CHALLENGE_MAX];
    struct challenge c = {"insufficient_scope", "mcp:tools tools:private", PRM,
                          "the token lacks a scope"};

    (void)state;
    assert_int_equal(challenge_format(&c, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "Bearer error=\"insufficient_scope\", scope=\"mcp:tools "
                             "tools:private\", resource_metadata=\"" PRM
                             "\", error_description=\"the token lacks a scope\"");
    struct challenge none = {0};
    assert_int_equal(challenge_format(&none, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "Bearer");
}

static void test_challenge_refuses_values_that_need_escaping(void **state)
{
    char buf[CHALLENGE_MAX];
    static const char *const bad[] = {"a\"b", "a\\b", "a\nb", "caf\xc3\xa9", "\x7f"};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct challenge c = {.error = "invalid_token", .scope = bad[i]};
        assert_int_equal(challenge_format(&c, buf, sizeof(buf)), -CHALLENGE_EINVALID);
        assert_false(challenge_value_ok(bad[i]));
    }
    assert_false(challenge_value_ok(NULL));
    assert_true(challenge_value_ok("mcp:tools x!#$%&'()*+,-./:;<=>?@[]^_`{|}~"));
}

static void test_challenge_reports_a_small_buffer(void **state)
{
    char buf[40];
    struct challenge c = {.error = "invalid_token", .resource_metadata = PRM};

    (void)state;
    assert_int_equal(challenge_format(&c, buf, sizeof(buf)), -CHALLENGE_ETOOLONG);
    assert_int_equal(challenge_format(&c, buf, 7), -CHALLENGE_ETOOLONG);
}

static void test_challenge_reads_back_what_it_writes(void **state)
{
    char buf[CHALLENGE_MAX], out[256];
    struct challenge c = {"invalid_token", "mcp:tools mcp:tasks", PRM, "token rejected"};

    (void)state;
    assert_int_equal(challenge_format(&c, buf, sizeof(buf)), 0);
    assert_int_equal(challenge_param(buf, "error", out, sizeof(out)), 0);
    assert_string_equal(out, "invalid_token");
    assert_int_equal(challenge_param(buf, "scope", out, sizeof(out)), 0);
    assert_string_equal(out, "mcp:tools mcp:tasks");
    assert_int_equal(challenge_param(buf, "RESOURCE_METADATA", out, sizeof(out)), 0);
    assert_string_equal(out, PRM);
    assert_int_equal(challenge_param(buf, "error_description", out, sizeof(out)), 0);
    assert_string_equal(out, "token rejected");
    assert_int_equal(challenge_param(buf, "realm", out, sizeof(out)), -CHALLENGE_ENOTFOUND);
}

static void test_challenge_reads_tokens_escapes_and_spacing(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(challenge_param("bearer  error=invalid_token ,scope = \"a b\"", "scope", out,
                                     sizeof(out)),
                     0);
    assert_string_equal(out, "a b");
    assert_int_equal(challenge_param("Bearer error=invalid_token", "error", out, sizeof(out)), 0);
    assert_string_equal(out, "invalid_token");
    assert_int_equal(
        challenge_param("Bearer realm=\"a \\\"quoted\\\" \\\\ one\"", "realm", out, sizeof(out)), 0);
    assert_string_equal(out, "a \"quoted\" \\ one");
    assert_int_equal(challenge_param("Bearer a=1,,, b=2", "b", out, sizeof(out)), 0);
    assert_string_equal(out, "2");
    assert_int_equal(challenge_param("Bearer a=1, a=2", "a", out, sizeof(out)), 0);
    assert_string_equal(out, "1"); /* the first one counts */
}

static void test_challenge_stops_at_the_next_challenge(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(challenge_param("Bearer a=1, DPoP scope=\"x\"", "scope", out, sizeof(out)),
                     -CHALLENGE_ENOTFOUND);
    assert_int_equal(challenge_param("Bearer", "scope", out, sizeof(out)), -CHALLENGE_ENOTFOUND);
    assert_int_equal(challenge_param("Bearer ", "scope", out, sizeof(out)), -CHALLENGE_ENOTFOUND);
}

static void test_challenge_refuses_what_is_not_a_bearer_challenge(void **state)
{
    char out[64];
    static const char *const bad[] = {
        "",          "Basic realm=\"x\"", "Bearerx scope=a", "Bearer scope=\"unterminated",
        "Bearer scope=\"a\\", "Bearer scope=", "Bearer =x",  "Bearer scope=\"a\nb\"",
        "Bearer scope=a\"b\"", "Bearer a=1 b=2",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(challenge_param(bad[i], "scope", out, sizeof(out)) < 0, 1);
    assert_int_equal(challenge_param("Bearer scope=\"unterminated", "scope", out, sizeof(out)),
                     -CHALLENGE_EINVALID);
    assert_int_equal(challenge_param(NULL, "scope", out, sizeof(out)), -CHALLENGE_EINVALID);
    assert_int_equal(challenge_param("Bearer scope=a", "scope", out, 0), -CHALLENGE_EINVALID);
}

static void test_challenge_reports_a_value_too_long_for_the_buffer(void **state)
{
    char out[4];

    (void)state;
    assert_int_equal(challenge_param("Bearer scope=\"abcd\"", "scope", out, sizeof(out)),
                     -CHALLENGE_ETOOLONG);
    assert_int_equal(challenge_param("Bearer scope=abc", "scope", out, sizeof(out)), 0);
    assert_string_equal(out, "abc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_challenge_formats_missing_token_without_error),
        cmocka_unit_test(test_challenge_formats_every_parameter_in_order),
        cmocka_unit_test(test_challenge_refuses_values_that_need_escaping),
        cmocka_unit_test(test_challenge_reports_a_small_buffer),
        cmocka_unit_test(test_challenge_reads_back_what_it_writes),
        cmocka_unit_test(test_challenge_reads_tokens_escapes_and_spacing),
        cmocka_unit_test(test_challenge_stops_at_the_next_challenge),
        cmocka_unit_test(test_challenge_refuses_what_is_not_a_bearer_challenge),
        cmocka_unit_test(test_challenge_reports_a_value_too_long_for_the_buffer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
