/*
 * test_jwks_remote.c - unit tests for common/jwks_remote.c (fetched key sets).
 *
 * The transport is a script of answers (status, body, cache headers) and
 * the clock is the 'now_ms' each test passes to jwks_remote_step(), so the
 * cache rules are checked without a network or a thread: when a fetch
 * happens, what lifetime an answer gets, what an unknown kid may trigger,
 * and that an outage keeps the last good set.  One test runs the real
 * thread against the script.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "jwks_remote.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjose/cjose.h>

#define URL "https://as.example.com/jwks"
#define S   1000 /* ms per second, for readable times */

/* One scripted answer. */
struct answer {
    long status;               /* HTTP status, 0 = transport failure */
    const char *body;          /* body text */
    const char *cache_control; /* header values ("" = absent) */
    const char *expires;
    const char *date;
};

/* The scripted transport: answers in turn, the last one repeated. */
struct script {
    struct answer answers[8]; /* what to answer */
    int count;                /* answers in the script */
    atomic_int calls;         /* fetches made */
};

static char *jwks_a, *jwks_b; /* two JWKS documents with one key each (kids "a", "b") */

static int fake_fetch(void *arg, const char *url, const char *ca_file, struct jwks_response *resp,
                      struct err *err)
{
    struct script *s = arg;
    int n = atomic_fetch_add(&s->calls, 1);
    const struct answer *a = &s->answers[n < s->count ? n : s->count - 1];

    assert_string_equal(url, URL);
    assert_null(ca_file);
    if (a->status == 0)
        return err_set(err, -JWKS_REMOTE_EFETCH, "connection refused");
    resp->status = a->status;
    resp->body = strdup(a->body ? a->body : "");
    resp->len = strlen(resp->body);
    snprintf(resp->cache_control, sizeof(resp->cache_control), "%s",
             a->cache_control ? a->cache_control : "");
    snprintf(resp->expires, sizeof(resp->expires), "%s", a->expires ? a->expires : "");
    snprintf(resp->date, sizeof(resp->date), "%s", a->date ? a->date : "");
    return 0;
}

static char *jwks_with(const char *kid)
{
    cjose_err cerr;
    cjose_jwk_t *k = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
    char *pub, *doc;

    assert_non_null(k);
    assert_true(cjose_jwk_set_kid(k, kid, strlen(kid), &cerr));
    pub = cjose_jwk_to_json(k, false, &cerr);
    assert_non_null(pub);
    doc = malloc(strlen(pub) + 16);
    assert_non_null(doc);
    sprintf(doc, "{\"keys\":[%s]}", pub);
    cjose_get_dealloc()(pub);
    cjose_jwk_release(k);
    return doc;
}

static int group_setup(void **state)
{
    (void)state;
    jwks_a = jwks_with("a");
    jwks_b = jwks_with("b");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    free(jwks_a);
    free(jwks_b);
    return 0;
}

static struct jwks_remote *manual(struct script *s, int64_t ttl_s, int64_t cooldown_s)
{
    struct jwks_remote_cfg cfg = {URL, NULL, ttl_s, cooldown_s, fake_fetch, s, true};
    struct err e = {0};
    struct jwks_remote *r = jwks_remote_new(&cfg, &e);

    assert_non_null(r);
    return r;
}

/* True when the current set has a key with 'kid'. */
static bool has_kid(struct jwks_remote *r, const char *kid)
{
    struct jwks_set *set = jwks_remote_get(r);
    const struct jwks_key *key;
    bool yes = set && jwks_pick(set, JWKS_ALG_ES256, kid, &key, NULL) == 0;

    jwks_set_put(set);
    return yes;
}

/* ---- lifetimes ---- */

static int64_t ttl(const char *cc, const char *expires, const char *date)
{
    struct jwks_response r = {0};
    snprintf(r.cache_control, sizeof(r.cache_control), "%s", cc);
    snprintf(r.expires, sizeof(r.expires), "%s", expires);
    snprintf(r.date, sizeof(r.date), "%s", date);
    /* now: Sun, 06 Nov 1994 08:49:37 GMT */
    return jwks_remote_ttl_s(&r, 784111777, 300, 5, 86400);
}

static void test_jwks_remote_ttl_follows_cache_control(void **state)
{
    (void)state;
    assert_int_equal(ttl("", "", ""), 300); /* no headers: the default */
    assert_int_equal(ttl("public, max-age=600", "", ""), 600);
    assert_int_equal(ttl("max-age=\"120\"", "", ""), 120);
    assert_int_equal(ttl("MAX-AGE=60, must-revalidate", "", ""), 60);
    assert_int_equal(ttl("max-age=1", "", ""), 5);              /* the floor: the cooldown */
    assert_int_equal(ttl("max-age=99999999999999", "", ""), 86400); /* the ceiling */
    assert_int_equal(ttl("no-store", "", ""), 5);
    assert_int_equal(ttl("private, no-cache", "", ""), 5);
    assert_int_equal(ttl("max-age=abc", "", ""), 5); /* malformed: stale */
    assert_int_equal(ttl("public", "", ""), 300);    /* nothing about age */
    /* Cache-Control wins over Expires */
    assert_int_equal(ttl("max-age=700", "Sun, 06 Nov 1994 09:49:37 GMT", ""), 700);
}

static void test_jwks_remote_ttl_falls_back_to_expires(void **state)
{
    (void)state;
    /* against Date when there is one, else against now */
    assert_int_equal(ttl("", "Sun, 06 Nov 1994 09:49:37 GMT", "Sun, 06 Nov 1994 09:39:37 GMT"),
                     600);
    assert_int_equal(ttl("", "Sun, 06 Nov 1994 09:49:37 GMT", ""), 3600);
    assert_int_equal(ttl("", "Sun, 06 Nov 1994 09:49:37 GMT", "garbage"), 3600);
    assert_int_equal(ttl("", "0", ""), 5);     /* unreadable: already expired */
    assert_int_equal(ttl("", "Thu, 01 Jan 1970 00:00:00 GMT", ""), 5);
    assert_int_equal(ttl("public", "Sun, 06 Nov 1994 08:59:37 GMT", ""), 600);
}

static void test_jwks_remote_parses_imf_fixdate_only(void **state)
{
    int64_t t;

    (void)state;
    assert_int_equal(jwks_remote_http_date("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
    assert_int_equal(t, 784111777);
    assert_int_equal(jwks_remote_http_date("Thu, 01 Jan 1970 00:00:00 GMT", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(jwks_remote_http_date("Tue, 29 Feb 2028 23:59:59 GMT", &t), 0);
    assert_int_equal(t, 1835481599);
    static const char *const bad[] = {
        "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Foo 1994 08:49:37 GMT",  "Sun, 00 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT ", "Sun, 0x Nov 1994 08:49:37 GMT", "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(jwks_remote_http_date(bad[i], &t), -1);
    assert_int_equal(jwks_remote_http_date(NULL, &t), -1);
}

/* ---- the cache ---- */

static void test_jwks_remote_fetches_at_start_and_when_the_lifetime_ends(void **state)
{
    struct script s = {.answers = {{200, NULL, "max-age=60", NULL, NULL}}, .count = 1};
    struct jwks_remote *r;

    (void)state;
    s.answers[0].body = jwks_a;
    r = manual(&s, 300, 5);
    assert_null(jwks_remote_get(r)); /* nothing before the first fetch */
    assert_int_equal(jwks_remote_step(r, 1000 * S), 1060 * S);
    assert_int_equal(s.calls, 1);
    assert_true(has_kid(r, "a"));
    assert_int_equal(jwks_remote_step(r, 1059 * S), 1060 * S); /* still fresh */
    assert_int_equal(s.calls, 1);
    assert_int_equal(jwks_remote_step(r, 1060 * S), 1120 * S);
    assert_int_equal(s.calls, 2);
    jwks_remote_free(r);
}

static void test_jwks_remote_unknown_kid_refetches_at_most_once_per_cooldown(void **state)
{
    struct script s = {.count = 2};
    struct jwks_remote *r;

    (void)state;
    s.answers[0] = (struct answer){200, jwks_a, NULL, NULL, NULL};
    s.answers[1] = (struct answer){200, jwks_b, NULL, NULL, NULL};
    r = manual(&s, 300, 5);
    assert_int_equal(jwks_remote_step(r, 0), 300 * S);
    jwks_remote_kick(r); /* 2 s after the first fetch: must wait for the cooldown */
    assert_int_equal(jwks_remote_step(r, 2 * S), 5 * S);
    assert_int_equal(s.calls, 1);
    jwks_remote_kick(r); /* kicks coalesce */
    jwks_remote_kick(r);
    assert_int_equal(jwks_remote_step(r, 5 * S), 305 * S);
    assert_int_equal(s.calls, 2);
    assert_true(has_kid(r, "b")); /* the rotated key */
    assert_false(has_kid(r, "a"));
    assert_int_equal(jwks_remote_step(r, 6 * S), 305 * S); /* no kick left */
    assert_int_equal(s.calls, 2);
    jwks_remote_kick(r); /* a later kick: the cooldown has passed */
    assert_int_equal(jwks_remote_step(r, 20 * S), 320 * S);
    assert_int_equal(s.calls, 3);
    jwks_remote_free(r);
}

static void test_jwks_remote_keeps_the_last_good_set_through_an_outage(void **state)
{
    struct script s = {.count = 5};
    struct jwks_remote *r;
    int64_t next;

    (void)state;
    s.answers[0] = (struct answer){200, jwks_a, "max-age=10", NULL, NULL};
    s.answers[1] = (struct answer){0, NULL, NULL, NULL, NULL};      /* connection refused */
    s.answers[2] = (struct answer){503, "down", NULL, NULL, NULL};  /* an error status */
    s.answers[3] = (struct answer){200, "{\"keys\":[]}", NULL, NULL, NULL}; /* no usable key */
    s.answers[4] = (struct answer){200, jwks_b, NULL, NULL, NULL};
    r = manual(&s, 300, 5);
    next = jwks_remote_step(r, 0);
    assert_int_equal(next, 10 * S);
    for (int i = 1; i <= 3; i++) {
        int64_t at = next;
        next = jwks_remote_step(r, at);
        assert_int_equal(s.calls, i + 1);
        assert_true(has_kid(r, "a")); /* kept */
        assert_true(next - at >= 5 * S);
    }
    assert_int_equal(next - 10 * S > 15 * S, 1); /* retries spread out */
    jwks_remote_step(r, next);
    assert_true(has_kid(r, "b"));
    jwks_remote_free(r);
}

static void test_jwks_remote_retries_a_first_fetch_that_fails(void **state)
{
    struct script s = {.count = 2};
    struct jwks_remote *r;

    (void)state;
    s.answers[0] = (struct answer){0, NULL, NULL, NULL, NULL};
    s.answers[1] = (struct answer){200, jwks_a, NULL, NULL, NULL};
    r = manual(&s, 300, 5);
    assert_int_equal(jwks_remote_step(r, 0), 5 * S);
    assert_null(jwks_remote_get(r));
    jwks_remote_kick(r); /* a token arrived meanwhile: still bound by the cooldown */
    assert_int_equal(jwks_remote_step(r, 1 * S), 5 * S);
    jwks_remote_step(r, 5 * S);
    assert_true(has_kid(r, "a"));
    jwks_remote_free(r);
}

static void test_jwks_remote_refuses_bad_configuration(void **state)
{
    static const char *const urls[] = {"http://as.example.com/jwks", "https://", "", "file:///x"};
    struct jwks_remote_cfg cfg = {URL, NULL, 300, 5, fake_fetch, NULL, true};
    struct err e = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        cfg.url = urls[i];
        assert_null(jwks_remote_new(&cfg, &e));
        assert_int_equal(e.code, -JWKS_REMOTE_ECONFIG);
    }
    cfg.url = NULL;
    assert_null(jwks_remote_new(&cfg, &e));
    cfg.url = URL;
    cfg.cooldown_s = 301; /* longer than the default lifetime */
    assert_null(jwks_remote_new(&cfg, &e));
    cfg.cooldown_s = 0;
    assert_null(jwks_remote_new(&cfg, &e));
    cfg.cooldown_s = 5;
    cfg.default_ttl_s = 86401;
    assert_null(jwks_remote_new(&cfg, &e));
    assert_int_equal(e.code, -JWKS_REMOTE_ECONFIG);
    jwks_remote_free(NULL);
}

static void test_jwks_remote_thread_fetches_and_answers_a_kick(void **state)
{
    struct script s = {.count = 2};
    struct jwks_remote_cfg cfg = {URL, NULL, 300, 1, fake_fetch, &s, false};
    struct err e = {0};
    struct jwks_remote *r;

    (void)state;
    s.answers[0] = (struct answer){200, jwks_a, NULL, NULL, NULL};
    s.answers[1] = (struct answer){200, jwks_b, NULL, NULL, NULL};
    r = jwks_remote_new(&cfg, &e);
    assert_non_null(r);
    assert_true(jwks_remote_wait(r, 5000));
    assert_true(has_kid(r, "a"));
    jwks_remote_kick(r);
    for (int i = 0; i < 300 && !has_kid(r, "b"); i++)
        usleep(10000);
    assert_true(has_kid(r, "b")); /* within the 1 s cooldown and a fetch */
    assert_int_equal(s.calls, 2);
    jwks_remote_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jwks_remote_ttl_follows_cache_control),
        cmocka_unit_test(test_jwks_remote_ttl_falls_back_to_expires),
        cmocka_unit_test(test_jwks_remote_parses_imf_fixdate_only),
        cmocka_unit_test(test_jwks_remote_fetches_at_start_and_when_the_lifetime_ends),
        cmocka_unit_test(test_jwks_remote_unknown_kid_refetches_at_most_once_per_cooldown),
        cmocka_unit_test(test_jwks_remote_keeps_the_last_good_set_through_an_outage),
        cmocka_unit_test(test_jwks_remote_retries_a_first_fetch_that_fails),
        cmocka_unit_test(test_jwks_remote_refuses_bad_configuration),
        cmocka_unit_test(test_jwks_remote_thread_fetches_and_answers_a_kick),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
