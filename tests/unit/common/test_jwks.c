/*
 * test_jwks.c - unit tests for common/jwks.c (key sets, key choice, reloads).
 *
 * Keys are made with cjose once per run (two P-256, one P-384, one RSA-2048
 * and one RSA-1024) and written as JWKS documents into a mkdtemp directory.
 * Verification itself is tested in test_auth.c.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "jwks.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>

#define T0 INT64_C(1800000000)

/* Keys made once for the whole run (RSA generation is slow). */
static struct {
    cjose_jwk_t *ec1;     /* P-256 */
    cjose_jwk_t *ec2;     /* another P-256 */
    cjose_jwk_t *ec384;   /* P-384: not on the allow-list */
    cjose_jwk_t *rsa;     /* RSA 2048 */
    cjose_jwk_t *rsa1024; /* RSA 1024: too small */
} made;

struct fx {
    char dir[64];         /* mkdtemp directory */
    char path[128];       /* the JWKS file most tests write */
    cjose_jwk_t *ec1;     /* made.ec1, and so on */
    cjose_jwk_t *ec2;     /* made.ec2 */
    cjose_jwk_t *ec384;   /* made.ec384 */
    cjose_jwk_t *rsa;     /* made.rsa */
    cjose_jwk_t *rsa1024; /* made.rsa1024 */
};

static int keys_setup(void **state)
{
    static const uint8_t e65537[] = {1, 0, 1};
    cjose_err cerr;

    (void)state;
    made.ec1 = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
    made.ec2 = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
    made.ec384 = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_384, &cerr);
    made.rsa = cjose_jwk_create_RSA_random(2048, e65537, sizeof(e65537), &cerr);
    made.rsa1024 = cjose_jwk_create_RSA_random(1024, e65537, sizeof(e65537), &cerr);
    return made.ec1 && made.ec2 && made.ec384 && made.rsa && made.rsa1024 ? 0 : -1;
}

static int keys_teardown(void **state)
{
    (void)state;
    cjose_jwk_release(made.ec1);
    cjose_jwk_release(made.ec2);
    cjose_jwk_release(made.ec384);
    cjose_jwk_release(made.rsa);
    cjose_jwk_release(made.rsa1024);
    return 0;
}

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_jwks.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/jwks.json", f->dir);
    f->ec1 = made.ec1;
    f->ec2 = made.ec2;
    f->ec384 = made.ec384;
    f->rsa = made.rsa;
    f->rsa1024 = made.rsa1024;
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* The public JWK of 'jwk' with optional "kid", "alg" and "use" members. */
static json_t *pub(const cjose_jwk_t *jwk, const char *kid, const char *alg, const char *use)
{
    cjose_err cerr;
    char *text = cjose_jwk_to_json(jwk, false, &cerr);
    json_t *j;

    assert_non_null(text);
    j = json_loads(text, 0, NULL);
    cjose_get_dealloc()(text);
    assert_non_null(j);
    if (kid)
        json_object_set_new(j, "kid", json_string(kid));
    if (alg)
        json_object_set_new(j, "alg", json_string(alg));
    if (use)
        json_object_set_new(j, "use", json_string(use));
    return j;
}

/* Write {"keys": keys} (stolen) to 'path' with mtime 'mtime_s' (0: leave it). */
static void write_set(const char *path, json_t *keys, time_t mtime_s)
{
    json_t *doc = json_pack("{s:o}", "keys", keys);

    assert_non_null(doc);
    assert_int_equal(json_dump_file(doc, path, 0), 0);
    json_decref(doc);
    if (mtime_s) {
        struct timespec ts[2] = {{.tv_sec = mtime_s}, {.tv_sec = mtime_s}};
        assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
    }
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    assert_true(fputs(text, fp) >= 0);
    assert_int_equal(fclose(fp), 0);
}

static int load_code(const char *path)
{
    struct jwks_set *set = NULL;
    struct err e = {0};
    int rc = jwks_set_load(path, &set, &e);

    assert_int_equal(rc, e.code);
    if (rc == 0)
        jwks_set_put(set);
    else
        assert_null(set);
    return rc;
}

/* The key jwks_pick() chooses, or NULL with its code in *rc. */
static const struct jwks_key *pick(const struct jwks_set *set, enum jwks_alg alg, const char *kid,
                                   int *rc, struct err *e)
{
    const struct jwks_key *key = NULL;

    *rc = jwks_pick(set, alg, kid, &key, e);
    return *rc == 0 ? key : NULL;
}

/* ---- algorithms and loading ---- */

static void test_jwks_alg_parse_accepts_only_the_allow_list(void **state)
{
    enum jwks_alg alg = 0;

    (void)state;
    assert_int_equal(jwks_alg_parse("ES256", &alg), 0);
    assert_int_equal(alg, JWKS_ALG_ES256);
    assert_int_equal(jwks_alg_parse("RS256", &alg), 0);
    assert_int_equal(alg, JWKS_ALG_RS256);
    assert_int_equal(jwks_alg_parse("none", &alg), -JWKS_ENOKEY);
    assert_int_equal(jwks_alg_parse("HS256", &alg), -JWKS_ENOKEY);
    assert_int_equal(jwks_alg_parse("es256", &alg), -JWKS_ENOKEY);
    assert_int_equal(jwks_alg_parse("PS256", &alg), -JWKS_ENOKEY);
    assert_int_equal(jwks_alg_parse(NULL, &alg), -JWKS_ENOKEY);
    assert_int_equal(alg, JWKS_ALG_RS256); /* untouched by failures */
}

static void test_jwks_set_load_reports_unreadable_files(void **state)
{
    struct fx *f = *state;
    char big[160];
    int fd;

    assert_int_equal(load_code("/nonexistent/jwks.json"), -JWKS_EFILE);
    assert_int_equal(load_code(f->dir), -JWKS_EFILE); /* a directory */
    snprintf(big, sizeof(big), "%s/big.json", f->dir);
    fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, JWKS_MAX_BYTES + 1), 0);
    close(fd);
    assert_int_equal(load_code(big), -JWKS_EFILE);
}

static void test_jwks_set_load_rejects_documents_without_a_usable_key(void **state)
{
    struct fx *f = *state;
    static const char *const docs[] = {
        "",
        "not json",
        "{\"keys\":[]}",
        "{\"keys\":{}}",
        "[]",
        "{\"keys\":[1,\"x\",null]}",
        "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}]}",
        "{\"keys\":[],\"keys\":[]}", /* duplicate members are refused */
        /* A coordinate of the wrong length: cjose 0.6 aborted the process on this one. */
        "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"k1\",\"crv\":\"P-256\","
        "\"x\":\"QSZHoRde38bax-age=ntm9V3_M6e_MgtCpRAPIxgALw\","
        "\"y\":\"Qh6kGUhGc_W8htOnFcHDSUq0w-WTi0cmceqUmOFrDd0\",\"alg\":\"ES256\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
        "\"x\":\"QSZHoRde38bXir5ZimJtm9V3_M6e_MgtCpRAPIxgALwA\","
        "\"y\":\"Qh6kGUhGc_W8htOnFcHDSUq0w-WTi0cmceqUmOFrDd0\"}]}",
        /* A private member: a verifier's set never holds one. */
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
        "\"x\":\"QSZHoRde38bXir5ZimJtm9V3_M6e_MgtCpRAPIxgALw\","
        "\"y\":\"Qh6kGUhGc_W8htOnFcHDSUq0w-WTi0cmceqUmOFrDd0\","
        "\"d\":\"870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"sXch\",\"e\":\"AQAB\"}]}",
    };

    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        write_text(f->path, docs[i]);
        assert_int_equal(load_code(f->path), -JWKS_EINVALID);
    }
}

static void test_jwks_set_load_keeps_only_usable_signature_keys(void **state)
{
    struct fx *f = *state;
    struct jwks_set *set = NULL;
    struct err e = {0};
    json_t *keys = json_array();

    json_array_append_new(keys, pub(f->ec1, "ec1", NULL, NULL));       /* kept */
    json_array_append_new(keys, pub(f->rsa, "rsa", "RS256", "sig"));   /* kept */
    json_array_append_new(keys, pub(f->ec2, "enc", NULL, "enc"));      /* not for signatures */
    json_array_append_new(keys, pub(f->ec2, "lie", "RS256", NULL));    /* alg does not fit */
    json_array_append_new(keys, pub(f->ec2, "ps", "PS256", NULL));     /* alg off the list */
    json_array_append_new(keys, pub(f->ec384, "p384", NULL, NULL));    /* curve off the list */
    json_array_append_new(keys, pub(f->rsa1024, "small", NULL, NULL)); /* under 2048 bits */
    json_array_append_new(keys, json_pack("{s:s, s:s}", "kty", "oct", "k", "c2VjcmV0"));
    json_array_append_new(keys, json_pack("{s:s, s:i}", "kty", "EC", "kid", 7));
    json_array_append_new(keys, json_string("junk"));
    write_set(f->path, keys, 0);

    assert_int_equal(jwks_set_load(f->path, &set, &e), 0);
    assert_int_equal(jwks_set_count(set), 2);
    jwks_set_put(set);
}

/* ---- choosing a key ---- */

static void test_jwks_pick_matches_kid_and_algorithm(void **state)
{
    struct fx *f = *state;
    const struct jwks_key *k;
    struct jwks_set *set = NULL;
    struct err e = {0};
    json_t *keys = json_array();
    int rc;

    json_array_append_new(keys, pub(f->ec1, "a", NULL, NULL));
    json_array_append_new(keys, pub(f->rsa, "a", NULL, NULL)); /* same kid, other algorithm */
    json_array_append_new(keys, pub(f->ec2, "b", NULL, NULL));
    write_set(f->path, keys, 0);
    assert_int_equal(jwks_set_load(f->path, &set, &e), 0);
    assert_int_equal(jwks_set_count(set), 3);

    k = pick(set, JWKS_ALG_ES256, "a", &rc, &e);
    assert_non_null(k);
    assert_int_equal(k->alg, JWKS_ALG_ES256);
    assert_string_equal(k->kid, "a");
    k = pick(set, JWKS_ALG_RS256, "a", &rc, &e);
    assert_non_null(k);
    assert_int_equal(k->alg, JWKS_ALG_RS256);
    k = pick(set, JWKS_ALG_ES256, "b", &rc, &e);
    assert_non_null(k);
    assert_string_equal(k->kid, "b");

    assert_null(pick(set, JWKS_ALG_RS256, "b", &rc, &e));
    assert_int_equal(rc, -JWKS_ENOKEY);
    assert_string_equal(e.msg, "token alg does not fit the key");
    assert_null(pick(set, JWKS_ALG_ES256, "zz", &rc, &e));
    assert_int_equal(rc, -JWKS_ENOKEY);
    assert_string_equal(e.msg, "token kid is not in the key set");
    assert_null(pick(set, JWKS_ALG_ES256, NULL, &rc, &e));
    assert_int_equal(rc, -JWKS_ENOKEY);
    assert_int_equal(e.code, -JWKS_ENOKEY);
    jwks_set_put(set);
}

static void test_jwks_pick_without_kid_needs_one_key_of_that_algorithm(void **state)
{
    struct fx *f = *state;
    struct jwks_set *set = NULL;
    struct err e = {0};
    int rc;

    write_set(f->path, json_pack("[o]", pub(f->ec1, NULL, NULL, NULL)), 0);
    assert_int_equal(jwks_set_load(f->path, &set, &e), 0);
    assert_non_null(pick(set, JWKS_ALG_ES256, NULL, &rc, &e));
    assert_null(pick(set, JWKS_ALG_RS256, NULL, &rc, &e));
    assert_int_equal(rc, -JWKS_ENOKEY);
    /* A key without a kid is never chosen by kid. */
    assert_null(pick(set, JWKS_ALG_ES256, "ec1", &rc, &e));
    assert_int_equal(rc, -JWKS_ENOKEY);
    jwks_set_put(set);
}

/* ---- the watched file ---- */

/* The kid of the only key of 'set' (borrowed from the set). */
static const char *only_kid(const struct jwks_set *set)
{
    const struct jwks_key *k = NULL;
    int rc;

    assert_int_equal(jwks_set_count(set), 1);
    k = pick(set, JWKS_ALG_ES256, NULL, &rc, NULL);
    assert_non_null(k);
    return k->kid;
}

/* A cache over f->path holding only ec1 as "one"; *mtime_s gets the file's mtime. */
static struct jwks_cache *cache_of_one(struct fx *f, time_t *mtime_s)
{
    struct jwks_cache *c;
    struct err e = {0};
    struct stat st;

    write_set(f->path, json_pack("[o]", pub(f->ec1, "one", NULL, NULL)), 0);
    assert_int_equal(stat(f->path, &st), 0);
    *mtime_s = st.st_mtim.tv_sec;
    c = jwks_cache_new(f->path, &e);
    assert_non_null(c);
    return c;
}

/* Replace f->path with ec2 as "two", its mtime 'mtime_s'. */
static void rotate_to_two(struct fx *f, time_t mtime_s)
{
    write_set(f->path, json_pack("[o]", pub(f->ec2, "two", NULL, NULL)), mtime_s);
}

/* The kid of the cache's only key at 'now_s'. */
static void assert_current_kid(struct jwks_cache *c, int64_t now_s, const char *kid)
{
    struct jwks_set *s = jwks_cache_get(c, now_s);

    assert_string_equal(only_kid(s), kid);
    jwks_set_put(s);
}

static void test_jwks_cache_swaps_the_set_in_a_later_second_only(void **state)
{
    struct fx *f = *state;
    struct jwks_set *s1, *s2, *s3;
    time_t mtime_s;
    struct jwks_cache *c = cache_of_one(f, &mtime_s);

    s1 = jwks_cache_get(c, T0);
    assert_string_equal(only_kid(s1), "one");
    rotate_to_two(f, mtime_s + 10);
    s2 = jwks_cache_get(c, T0); /* same second: no look at the file */
    assert_ptr_equal(s2, s1);
    s3 = jwks_cache_get(c, T0 + 1);
    assert_string_equal(only_kid(s3), "two");
    /* The old snapshot stays valid for whoever still holds it. */
    assert_string_equal(only_kid(s1), "one");
    jwks_set_put(s1);
    jwks_set_put(s2);
    jwks_cache_free(c);
    assert_string_equal(only_kid(s3), "two"); /* outlives the cache too */
    jwks_set_put(s3);
}

static void test_jwks_cache_keeps_the_last_good_set(void **state)
{
    struct fx *f = *state;
    time_t mtime_s;
    struct jwks_cache *c = cache_of_one(f, &mtime_s);
    struct timespec ts[2];

    write_text(f->path, "{\"keys\":[");
    ts[0] = ts[1] = (struct timespec){.tv_sec = mtime_s + 10};
    assert_int_equal(utimensat(AT_FDCWD, f->path, ts, 0), 0);
    assert_current_kid(c, T0 + 1, "one");
    unlink(f->path);
    assert_current_kid(c, T0 + 2, "one");
    /* A fixed file is picked up at the next look. */
    rotate_to_two(f, mtime_s + 20);
    assert_current_kid(c, T0 + 3, "two");
    jwks_cache_free(c);
}

static void test_jwks_cache_looks_again_after_the_clock_steps_back(void **state)
{
    struct fx *f = *state;
    time_t mtime_s;
    struct jwks_cache *c = cache_of_one(f, &mtime_s);

    assert_current_kid(c, T0 + 1000, "one");
    rotate_to_two(f, mtime_s + 10);
    /* A few seconds back: threads out of step, no look. */
    assert_current_kid(c, T0 + 990, "one");
    /* Over a minute back: the clock was set back, look. */
    assert_current_kid(c, T0, "two");
    jwks_cache_free(c);
}

static void test_jwks_cache_new_reports_load_errors(void **state)
{
    struct fx *f = *state;
    struct err e = {0};

    assert_null(jwks_cache_new("/nonexistent/jwks.json", &e));
    assert_int_equal(e.code, -JWKS_EFILE);
    write_text(f->path, "{\"keys\":[]}");
    assert_null(jwks_cache_new(f->path, &e));
    assert_int_equal(e.code, -JWKS_EINVALID);
    assert_null(jwks_cache_new(f->path, NULL));
    jwks_cache_free(NULL);
    jwks_set_put(NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_jwks_alg_parse_accepts_only_the_allow_list),
        T(test_jwks_set_load_reports_unreadable_files),
        T(test_jwks_set_load_rejects_documents_without_a_usable_key),
        T(test_jwks_set_load_keeps_only_usable_signature_keys),
        T(test_jwks_pick_matches_kid_and_algorithm),
        T(test_jwks_pick_without_kid_needs_one_key_of_that_algorithm),
        T(test_jwks_cache_swaps_the_set_in_a_later_second_only),
        T(test_jwks_cache_keeps_the_last_good_set),
        T(test_jwks_cache_looks_again_after_the_clock_steps_back),
        T(test_jwks_cache_new_reports_load_errors),
    };

    return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
