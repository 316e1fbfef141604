/*
 * test_authhint.c - unit tests for cli/authhint.c (what 'taskwire call' says on 401/403/400).
 *
 * The line names exactly the scopes the token lacks (the challenge's less
 * the token's own, read without verifying), says whether a token was sent,
 * points at the metadata, and never prints what a hostile server could use
 * to write control characters to the terminal.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "authhint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjose/cjose.h>

#define PRM "http://127.0.0.1:8700/.well-known/oauth-protected-resource/mcp"

/* An unsigned JWT-shaped token whose claims are 'claims' (the CLI never verifies). */
static char *jwt_with(const char *claims)
{
    char *enc = NULL, *out;
    size_t len = 0;
    cjose_err cerr;

    assert_true(cjose_base64url_encode((const uint8_t *)claims, strlen(claims), &enc, &len, &cerr));
    out = malloc(len + 64);
    assert_non_null(out);
    snprintf(out, len + 64, "eyJhbGciOiJFUzI1NiJ9.%.*s.c2ln", (int)len, enc);
    cjose_get_dealloc()(enc);
    return out;
}

static void test_authhint_reads_the_token_scopes(void **state)
{
    char out[256];
    char *t1 = jwt_with("{\"scope\":\"mcp:tools mcp:tasks\"}");
    char *t2 = jwt_with("{\"scp\":[\"a\",\"b\"]}");
    char *t3 = jwt_with("{\"sub\":\"x\"}");
    char *t4 = jwt_with("{\"scope\":\"a\\u001bb\"}");

    (void)state;
    assert_int_equal(authhint_token_scopes(t1, out, sizeof(out)), 0);
    assert_string_equal(out, "mcp:tools mcp:tasks");
    assert_int_equal(authhint_token_scopes(t2, out, sizeof(out)), 0);
    assert_string_equal(out, "a b");
    assert_int_equal(authhint_token_scopes(t3, out, sizeof(out)), -1);
    assert_int_equal(authhint_token_scopes(t4, out, sizeof(out)), -1); /* not printable */
    assert_int_equal(authhint_token_scopes("not-a-jwt", out, sizeof(out)), -1);
    assert_int_equal(authhint_token_scopes("a..b", out, sizeof(out)), -1);
    assert_int_equal(authhint_token_scopes(NULL, out, sizeof(out)), -1);
    assert_int_equal(authhint_token_scopes(t1, out, 5), -1); /* does not fit */
    free(t1);
    free(t2);
    free(t3);
    free(t4);
}

static void test_authhint_names_the_missing_scopes_of_a_403(void **state)
{
    char out[512];
    char *tok = jwt_with("{\"scope\":\"mcp:tools\"}");

    (void)state;
    authhint_message(403,
                     "Bearer error=\"insufficient_scope\", scope=\"mcp:tools tools:private\", "
                     "resource_metadata=\"" PRM "\"",
                     tok, out, sizeof(out));
    assert_string_equal(out, "forbidden: the token lacks scope \"tools:private\" (this call needs "
                             "\"mcp:tools tools:private\"); metadata: " PRM);
    /* a token it cannot read: every scope of the challenge */
    authhint_message(403, "Bearer error=\"insufficient_scope\", scope=\"mcp:tasks\"", "opaque",
                     out, sizeof(out));
    assert_string_equal(out, "forbidden: the token lacks scope \"mcp:tasks\" (this call needs "
                             "\"mcp:tasks\")");
    free(tok);
}

static void test_authhint_tells_a_missing_token_from_a_refused_one(void **state)
{
    char out[512];
    const char *ch = "Bearer scope=\"mcp:tools mcp:tasks\", resource_metadata=\"" PRM "\"";

    (void)state;
    authhint_message(401, ch, NULL, out, sizeof(out));
    assert_non_null(strstr(out, "no token was sent"));
    assert_non_null(strstr(out, "wanted scope \"mcp:tools mcp:tasks\""));
    assert_non_null(strstr(out, "metadata: " PRM));
    authhint_message(401, "Bearer error=\"invalid_token\", scope=\"mcp:tools\"", "x.y.z", out,
                     sizeof(out));
    assert_non_null(strstr(out, "the token was refused"));
    authhint_message(401, "", "x.y.z", out, sizeof(out)); /* no challenge at all */
    assert_non_null(strstr(out, "wanted scope \"?\""));
    authhint_message(400, "Bearer error=\"invalid_request\"", "x", out, sizeof(out));
    assert_string_equal(out, "bad request (HTTP 400, invalid_request): send the token in one "
                             "Authorization header");
}

static void test_authhint_prints_nothing_unprintable_from_the_server(void **state)
{
    char out[512];

    (void)state;
    authhint_message(403, "Bearer scope=\"a\\\x1b[31mb\", resource_metadata=\"x\ty\"", NULL, out,
                     sizeof(out));
    for (const char *c = out; *c; c++)
        assert_true(*c >= 0x20 && *c < 0x7f);
    authhint_message(401, "Bearer scope=\"mcp:tools\"", NULL, out, 10); /* truncated, ended */
    assert_int_equal(strlen(out), 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_authhint_reads_the_token_scopes),
        cmocka_unit_test(test_authhint_names_the_missing_scopes_of_a_403),
        cmocka_unit_test(test_authhint_tells_a_missing_token_from_a_refused_one),
        cmocka_unit_test(test_authhint_prints_nothing_unprintable_from_the_server),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
