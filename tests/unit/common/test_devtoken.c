/*
 * test_devtoken.c - unit tests for common/devtoken.c (development keys and tokens).
 *
 * Each test works in its own mkdtemp directory.  Minted tokens are taken
 * apart here (base64url and JSON) rather than verified with common/auth.c,
 * so these tests say what is written, not only that it verifies.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "devtoken.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjose/cjose.h>
#include <jansson.h>
#include <openssl/evp.h>

#define ISS "https://auth.example.com"
#define AUD "https://mcp.example.com/mcp"
#define T0  INT64_C(1800000000)

struct fx {
    char dir[64];   /* mkdtemp directory */
    char priv[128]; /* private JWK written by devtoken_keygen() */
    char jwks[128]; /* JWKS with its public half */
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct err e = {0};

    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_devtoken.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->priv, sizeof(f->priv), "%s/key.json", f->dir);
    snprintf(f->jwks, sizeof(f->jwks), "%s/jwks.json", f->dir);
    assert_int_equal(devtoken_keygen(f->priv, f->jwks, &e), 0);
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

/* The JSON object in base64url segment 'seg' (length 'len') of a token. */
static json_t *segment_json(const char *seg, size_t len)
{
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    cjose_err cerr;
    json_t *j;

    assert_true(cjose_base64url_decode(seg, len, &raw, &raw_len, &cerr));
    j = json_loadb((const char *)raw, raw_len, 0, NULL);
    cjose_get_dealloc()(raw);
    assert_non_null(j);
    return j;
}

/* Split a compact JWS into its header and claims objects. */
static void token_parts(const char *tok, json_t **hdr, json_t **claims)
{
    const char *dot1 = strchr(tok, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;

    assert_non_null(dot2);
    assert_null(strchr(dot2 + 1, '.'));
    *hdr = segment_json(tok, (size_t)(dot1 - tok));
    *claims = segment_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
}

static const char *member(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* ---- keygen ---- */

static void test_devtoken_keygen_writes_private_0600_and_public_0644(void **state)
{
    struct fx *f = *state;
    struct stat st;

    assert_int_equal(stat(f->priv, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(f->jwks, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
}

static void test_devtoken_keygen_writes_matching_public_jwks(void **state)
{
    struct fx *f = *state;
    json_t *priv = json_load_file(f->priv, 0, NULL), *set = json_load_file(f->jwks, 0, NULL);
    json_t *pub;

    assert_non_null(priv);
    assert_non_null(set);
    assert_int_equal(json_array_size(json_object_get(set, "keys")), 1);
    pub = json_array_get(json_object_get(set, "keys"), 0);
    assert_non_null(member(pub, "kid"));
    assert_string_equal(member(pub, "kid"), member(priv, "kid"));
    assert_string_equal(member(pub, "x"), member(priv, "x"));
    assert_string_equal(member(pub, "y"), member(priv, "y"));
    assert_string_equal(member(pub, "alg"), "ES256");
    assert_string_equal(member(pub, "use"), "sig");
    assert_string_equal(member(pub, "crv"), "P-256");
    assert_string_equal(member(priv, "alg"), "ES256");
    assert_null(json_object_get(pub, "d"));
    assert_non_null(json_object_get(priv, "d"));
    json_decref(priv);
    json_decref(set);
}

static void test_devtoken_keygen_kid_is_the_rfc7638_thumbprint(void **state)
{
    struct fx *f = *state;
    json_t *priv = json_load_file(f->priv, 0, NULL);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    char canon[256], *kid = NULL;
    size_t kid_len = 0;
    cjose_err cerr;
    int n;

    assert_non_null(priv);
    n = snprintf(canon, sizeof(canon),
                 "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", member(priv, "x"),
                 member(priv, "y"));
    assert_true(n > 0 && (size_t)n < sizeof(canon));
    assert_int_equal(EVP_Digest(canon, (size_t)n, md, &md_len, EVP_sha256(), NULL), 1);
    assert_true(cjose_base64url_encode(md, md_len, &kid, &kid_len, &cerr));
    assert_int_equal(strlen(member(priv, "kid")), kid_len);
    assert_memory_equal(member(priv, "kid"), kid, kid_len);
    cjose_get_dealloc()(kid);
    json_decref(priv);
}

static void test_devtoken_keygen_replaces_both_files_and_leaves_no_temporaries(void **state)
{
    struct fx *f = *state;
    json_t *before = json_load_file(f->jwks, 0, NULL), *after;
    struct err e = {0};
    struct dirent *d;
    DIR *dir;
    int files = 0;

    assert_int_equal(devtoken_keygen(f->priv, f->jwks, &e), 0);
    after = json_load_file(f->jwks, 0, NULL);
    assert_non_null(before);
    assert_non_null(after);
    assert_string_not_equal(member(json_array_get(json_object_get(before, "keys"), 0), "kid"),
                            member(json_array_get(json_object_get(after, "keys"), 0), "kid"));
    dir = opendir(f->dir);
    assert_non_null(dir);
    while ((d = readdir(dir)) != NULL)
        files += d->d_name[0] != '.';
    closedir(dir);
    assert_int_equal(files, 2); /* key.json and jwks.json, no *.XXXXXX left behind */
    json_decref(before);
    json_decref(after);
}

static void test_devtoken_keygen_rejects_bad_paths(void **state)
{
    struct fx *f = *state;
    char missing_dir[160];
    struct err e = {0};

    assert_int_equal(devtoken_keygen(f->priv, f->priv, &e), -DEVTOKEN_EINVALID);
    assert_int_equal(e.code, -DEVTOKEN_EINVALID);
    assert_int_equal(devtoken_keygen("", f->jwks, &e), -DEVTOKEN_EINVALID);
    assert_int_equal(devtoken_keygen(f->priv, NULL, &e), -DEVTOKEN_EINVALID);
    snprintf(missing_dir, sizeof(missing_dir), "%s/none/key.json", f->dir);
    assert_int_equal(devtoken_keygen(missing_dir, f->jwks, &e), -DEVTOKEN_EIO);
    assert_int_equal(e.code, -DEVTOKEN_EIO);
    assert_non_null(strstr(e.msg, missing_dir));
}

/* ---- mint ---- */

static void test_devtoken_mint_writes_the_documented_header_and_claims(void **state)
{
    struct fx *f = *state;
    json_t *priv = json_load_file(f->priv, 0, NULL), *hdr, *claims;
    struct err e = {0};
    char *tok = NULL;
    const char *jti;

    assert_int_equal(devtoken_mint(f->priv, ISS, AUD, "alice", "mcp:tools", T0, 600, &tok, &e), 0);
    token_parts(tok, &hdr, &claims);
    assert_string_equal(member(hdr, "alg"), "ES256");
    assert_string_equal(member(hdr, "typ"), "at+jwt");
    assert_string_equal(member(hdr, "kid"), member(priv, "kid"));
    assert_string_equal(member(claims, "iss"), ISS);
    assert_string_equal(member(claims, "aud"), AUD);
    assert_string_equal(member(claims, "sub"), "alice");
    assert_string_equal(member(claims, "scope"), "mcp:tools");
    assert_string_equal(member(claims, "client_id"), DEVTOKEN_CLIENT_ID);
    assert_int_equal(json_integer_value(json_object_get(claims, "iat")), T0);
    assert_int_equal(json_integer_value(json_object_get(claims, "nbf")), T0);
    assert_int_equal(json_integer_value(json_object_get(claims, "exp")), T0 + 600);
    jti = member(claims, "jti");
    assert_non_null(jti);
    assert_int_equal(strlen(jti), 32);
    assert_int_equal(strspn(jti, "0123456789abcdef"), 32);
    json_decref(hdr);
    json_decref(claims);
    json_decref(priv);
    free(tok);
}

static void test_devtoken_mint_without_scope_writes_no_scope_claim(void **state)
{
    struct fx *f = *state;
    struct err e = {0};
    json_t *hdr, *claims;
    char *tok = NULL;

    assert_int_equal(devtoken_mint(f->priv, ISS, AUD, "bob", NULL, T0, 60, &tok, &e), 0);
    token_parts(tok, &hdr, &claims);
    assert_null(json_object_get(claims, "scope"));
    json_decref(hdr);
    json_decref(claims);
    free(tok);
}

static void test_devtoken_mint_gives_each_token_a_fresh_jti(void **state)
{
    struct fx *f = *state;
    json_t *h1, *c1, *h2, *c2;
    struct err e = {0};
    char *t1 = NULL, *t2 = NULL;

    assert_int_equal(devtoken_mint(f->priv, ISS, AUD, "alice", NULL, T0, 60, &t1, &e), 0);
    assert_int_equal(devtoken_mint(f->priv, ISS, AUD, "alice", NULL, T0, 60, &t2, &e), 0);
    token_parts(t1, &h1, &c1);
    token_parts(t2, &h2, &c2);
    assert_string_not_equal(member(c1, "jti"), member(c2, "jti"));
    json_decref(h1);
    json_decref(c1);
    json_decref(h2);
    json_decref(c2);
    free(t1);
    free(t2);
}

static void test_devtoken_mint_rejects_bad_arguments(void **state)
{
    struct fx *f = *state;
    char *tok = (char *)"sentinel", missing[160];
    struct err e = {0};

    snprintf(missing, sizeof(missing), "%s/none.json", f->dir);
    assert_int_equal(devtoken_mint(missing, ISS, AUD, "a", NULL, T0, 60, &tok, &e), -DEVTOKEN_EKEY);
    assert_int_equal(e.code, -DEVTOKEN_EKEY);
    assert_null(tok);
    assert_int_equal(devtoken_mint(f->priv, ISS, AUD, "a", NULL, T0, 0, &tok, &e),
                     -DEVTOKEN_EINVALID);
    assert_int_equal(devtoken_mint(f->priv, ISS, AUD, NULL, NULL, T0, 60, &tok, &e),
                     -DEVTOKEN_EINVALID);
    assert_int_equal(devtoken_mint(f->priv, "", AUD, "a", NULL, T0, 60, &tok, &e),
                     -DEVTOKEN_EINVALID);
    assert_int_equal(devtoken_mint(f->priv, ISS, AUD, "a", NULL, INT64_MAX, 60, &tok, &e),
                     -DEVTOKEN_EINVALID);
    assert_int_equal(devtoken_mint(f->priv, ISS, AUD, "a", NULL, T0, 60, NULL, &e),
                     -DEVTOKEN_EINVALID);
    /* A JWKS is not a private JWK. */
    assert_int_equal(devtoken_mint(f->jwks, ISS, AUD, "a", NULL, T0, 60, &tok, &e), -DEVTOKEN_EKEY);
    assert_null(tok);
}

static void test_devtoken_mint_cannot_sign_with_a_public_key(void **state)
{
    struct fx *f = *state;
    json_t *set = json_load_file(f->jwks, 0, NULL);
    char pub_path[160], *tok = NULL;
    struct err e = {0};

    assert_non_null(set);
    snprintf(pub_path, sizeof(pub_path), "%s/public.json", f->dir);
    assert_int_equal(json_dump_file(json_array_get(json_object_get(set, "keys"), 0), pub_path, 0),
                     0);
    assert_int_equal(devtoken_mint(pub_path, ISS, AUD, "a", NULL, T0, 60, &tok, &e),
                     -DEVTOKEN_ECRYPTO);
    assert_null(tok);
    json_decref(set);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_devtoken_keygen_writes_private_0600_and_public_0644),
        T(test_devtoken_keygen_writes_matching_public_jwks),
        T(test_devtoken_keygen_kid_is_the_rfc7638_thumbprint),
        T(test_devtoken_keygen_replaces_both_files_and_leaves_no_temporaries),
        T(test_devtoken_keygen_rejects_bad_paths),
        T(test_devtoken_mint_writes_the_documented_header_and_claims),
        T(test_devtoken_mint_without_scope_writes_no_scope_claim),
        T(test_devtoken_mint_gives_each_token_a_fresh_jti),
        T(test_devtoken_mint_rejects_bad_arguments),
        T(test_devtoken_mint_cannot_sign_with_a_public_key),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
