/*
 * test_authcache.c - a token's verdict is reused only while it is still true.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "authcache.h"

static struct authcache_verdict verdict(const char *subject, int64_t exp, uint64_t serial)
{
    struct authcache_verdict v;
    memset(&v, 0, sizeof(v));
    snprintf(v.p.subject, sizeof(v.p.subject), "%s", subject);
    v.p.expires_at = exp;
    v.issuer = &v; /* any pointer: only handed back */
    v.keys_serial = serial;
    return v;
}

static void test_authcache_hit_until_ttl_or_exp(void **state)
{
    struct authcache *c = authcache_new();
    unsigned char k[AUTHCACHE_KEY];
    struct authcache_verdict in = verdict("alice", 1000 + 3600, 7), out;

    assert_non_null(c);
    authcache_key("tok-a", 5, k);
    assert_false(authcache_get(c, k, 1000, &out)); /* nothing kept yet */
    authcache_put(c, k, 1000, &in);
    assert_true(authcache_get(c, k, 1000, &out));
    assert_string_equal(out.p.subject, "alice");
    assert_int_equal(out.keys_serial, 7);
    assert_true(authcache_get(c, k, 1000 + AUTHCACHE_TTL_S - 1, &out));
    assert_false(authcache_get(c, k, 1000 + AUTHCACHE_TTL_S, &out)); /* verified again */
    /* A token expiring sooner is dropped at its exp, not at the TTL. */
    in = verdict("bob", 1010, 7);
    authcache_put(c, k, 1000, &in);
    assert_true(authcache_get(c, k, 1009, &out));
    assert_false(authcache_get(c, k, 1010, &out));
    /* An expired token is never kept. */
    in = verdict("carol", 999, 7);
    authcache_key("tok-c", 5, k);
    authcache_put(c, k, 1000, &in);
    assert_false(authcache_get(c, k, 1000, &out));
    authcache_free(c);
}

static void test_authcache_other_tokens_miss(void **state)
{
    struct authcache *c = authcache_new();
    unsigned char a[AUTHCACHE_KEY], b[AUTHCACHE_KEY];
    struct authcache_verdict in = verdict("alice", 5000, 1), out;
    int hits = 0;
    char tok[16];

    authcache_key("tok-a", 5, a);
    authcache_key("tok-b", 5, b);
    assert_memory_not_equal(a, b, AUTHCACHE_KEY);
    authcache_put(c, a, 1000, &in);
    assert_false(authcache_get(c, b, 1000, &out));
    /* Many other tokens: each is found only under its own key, and the table stays
     * bounded (colliding entries replace each other). */
    for (int i = 0; i < 4 * AUTHCACHE_SLOTS; i++) {
        snprintf(tok, sizeof(tok), "t%d", i);
        authcache_key(tok, strlen(tok), b);
        in = verdict(tok, 5000, 1);
        authcache_put(c, b, 1000, &in);
    }
    for (int i = 0; i < 4 * AUTHCACHE_SLOTS; i++) {
        snprintf(tok, sizeof(tok), "t%d", i);
        authcache_key(tok, strlen(tok), b);
        if (authcache_get(c, b, 1000, &out)) {
            assert_string_equal(out.p.subject, tok);
            hits++;
        }
    }
    assert_true(hits > 0 && hits <= AUTHCACHE_SLOTS);
    authcache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_authcache_hit_until_ttl_or_exp),
        cmocka_unit_test(test_authcache_other_tokens_miss),
    };
    return cmocka_run_group_tests_name("authcache", tests, NULL, NULL);
}
