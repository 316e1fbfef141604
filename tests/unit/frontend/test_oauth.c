/*
 * test_oauth.c - the resource-server surface (frontend/oauth.c): the RFC
 * 9728 metadata URL and document, the RFC 6750 challenges of each refusal,
 * generic bodies (a refused token never says why), one Authorization
 * header, and the 403 of a scope decision.  A real verifier over a JWKS
 * file; tokens signed here with cjose.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cjose/cjose.h>
#include <jansson.h>

#include "oauth.h"

#define RES  "https://mcp.example.com/mcp"
#define ISS  "https://as.example.com"
#define META "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
#define T0   INT64_C(1800000000)

struct fx {
    char dir[64];                  /* mkdtemp directory */
    char file[128];                /* the JWKS file */
    cjose_jwk_t *key;              /* the signing key, kid "k1" */
    struct auth_verifier *verifier; /* trusts ISS for RES */
    struct oauth *oauth;           /* the surface under test */
};

/* "Bearer " + a JWS with typ 'typ' (NULL: none) over 'claims', signed by the key. */
static char *bearer(const struct fx *f, const char *typ, const char *claims)
{
    char hdr[128];
    const char *compact = NULL;
    cjose_err cerr;
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"k1\"%s%s%s}",
             typ ? ",\"typ\":\"" : "", typ ? typ : "", typ ? "\"" : "");
    json_t *h = json_loads(hdr, 0, NULL);
    cjose_jws_t *jws = cjose_jws_sign(f->key, h, (const uint8_t *)claims, strlen(claims), &cerr);
    assert_non_null(jws);
    assert_true(cjose_jws_export(jws, &compact, &cerr));
    char *out = malloc(strlen(compact) + 8);
    assert_non_null(out);
    sprintf(out, "Bearer %s", compact);
    cjose_jws_release(jws);
    json_decref(h);
    return out;
}

/* A token of ISS for 'aud' with scope 'scope', typ 'typ'. */
static char *token(const struct fx *f, const char *typ, const char *aud, const char *scope)
{
    char claims[512];
    snprintf(claims, sizeof(claims),
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"alice\",\"exp\":%lld,\"scope\":\"%s\"}", ISS,
             aud, (long long)T0 + 600, scope);
    return bearer(f, typ, claims);
}

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    cjose_err cerr;
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/tw-oauth-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->file, sizeof(f->file), "%s/jwks.json", f->dir);
    f->key = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
    assert_non_null(f->key);
    assert_true(cjose_jwk_set_kid(f->key, "k1", 2, &cerr));
    char *pub = cjose_jwk_to_json(f->key, false, &cerr);
    FILE *out = fopen(f->file, "w");
    assert_non_null(out);
    fprintf(out, "{\"keys\":[%s]}", pub);
    fclose(out);
    cjose_get_dealloc()(pub);
    struct auth_config ac = {.jwks_file = f->file, .issuer = ISS, .audience = RES, .leeway_s = 60};
    struct err e = {0};
    f->verifier = auth_verifier_new(&ac, &e);
    assert_non_null(f->verifier);
    const char *servers[] = {ISS};
    struct oauth_cfg oc = {RES, servers, 1, f->verifier};
    f->oauth = oauth_new(&oc, &e);
    assert_non_null(f->oauth);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    oauth_free(f->oauth);
    auth_verifier_free(f->verifier);
    cjose_jwk_release(f->key);
    unlink(f->file);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Authenticate with 'n' Authorization headers of value 'auth' (and a query token when
 * 'query'); true when accepted. */
static bool auth(const struct fx *f, int n, const char *auth, bool query, struct oauth_refusal *no)
{
    struct oauth_request r = {n, auth, query};
    struct auth_principal p;
    return oauth_authenticate(f->oauth, &r, T0, &p, no);
}

static void test_oauth_metadata_url_inserts_the_well_known_path(void **state)
{
    (void)state;
    char url[256];
    struct err e = {0};
    assert_int_equal(oauth_metadata_url(RES, url, sizeof(url), &e), 0);
    assert_string_equal(url, META);
    assert_int_equal(oauth_metadata_url("http://127.0.0.1:8700/", url, sizeof(url), &e), 0);
    assert_string_equal(url, "http://127.0.0.1:8700/.well-known/oauth-protected-resource");
    assert_int_equal(oauth_metadata_url("https://h", url, sizeof(url), &e), 0);
    assert_string_equal(url, "https://h/.well-known/oauth-protected-resource");
    const char *bad[] = {"mcp.example.com/mcp", "https://h/mcp?x=1", "https://h/mcp#f",
                         "https://u@h/mcp", "https://h/m\"cp", "ftp://h/mcp", "https:///mcp"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(oauth_metadata_url(bad[i], url, sizeof(url), &e), -OAUTH_ECONFIG);
}

static void test_oauth_metadata_at_both_paths_only(void **state)
{
    struct fx *f = *state;
    size_t len = 0;
    const char *doc = oauth_metadata_for(f->oauth, "/.well-known/oauth-protected-resource/mcp",
                                         &len);
    assert_non_null(doc);
    assert_ptr_equal(oauth_metadata_for(f->oauth, OAUTH_METADATA_PATH, &len), doc);
    assert_null(oauth_metadata_for(f->oauth, "/.well-known/oauth-protected-resource/other", &len));
    assert_null(oauth_metadata_for(f->oauth, "/mcp", &len));
    json_t *j = json_loadb(doc, len, 0, NULL);
    assert_non_null(j);
    char *compact = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(compact, "{\"authorization_servers\":[\"" ISS "\"],"
                                 "\"bearer_methods_supported\":[\"header\"],"
                                 "\"resource\":\"" RES "\",\"resource_name\":\"taskwire\","
                                 "\"scopes_supported\":[\"mcp:tools\",\"mcp:tasks\"]}");
    free(compact);
    json_decref(j);
}

static void test_oauth_challenges_and_generic_bodies(void **state)
{
    struct fx *f = *state;
    struct oauth_refusal no, first;
    assert_false(auth(f, 0, NULL, false, &no));
    assert_int_equal(no.status, 401);
    assert_string_equal(no.challenge,
                        "Bearer scope=\"mcp:tools mcp:tasks\", resource_metadata=\"" META "\"");
    assert_false(auth(f, 1, "Bearer not.a.jwt", false, &first));
    assert_int_equal(first.status, 401);
    assert_string_equal(first.challenge, "Bearer error=\"invalid_token\", scope=\"mcp:tools "
                                         "mcp:tasks\", resource_metadata=\"" META "\"");
    char *typ_jwt = token(f, "JWT", RES, "mcp:tools");
    char *no_typ = token(f, NULL, RES, "mcp:tools");
    char *other_aud = token(f, "at+jwt", "https://elsewhere.example/mcp", "mcp:tools");
    const char *refused[] = {typ_jwt, no_typ, other_aud};
    for (size_t i = 0; i < 3; i++) { /* the same answer, whatever the reason */
        assert_false(auth(f, 1, refused[i], false, &no));
        assert_int_equal(no.status, 401);
        assert_string_equal(no.challenge, first.challenge);
        assert_string_equal(no.body, first.body);
    }
    char *good = token(f, "at+jwt", RES, "mcp:tools");
    assert_true(auth(f, 1, good, false, &no));
    assert_false(auth(f, 2, good, false, &no));
    assert_int_equal(no.status, 400);
    assert_non_null(strstr(no.challenge, "error=\"invalid_request\""));
    assert_false(auth(f, 1, good, true, &no));
    assert_int_equal(no.status, 400);
    free(typ_jwt);
    free(no_typ);
    free(other_aud);
    free(good);
}

static void test_oauth_403_names_the_needed_scopes(void **state)
{
    struct fx *f = *state;
    struct oauth_refusal no;
    struct scope_decision d = {.allowed = true};
    assert_true(oauth_authorize(f->oauth, &d, "tools/list", &no));
    d.allowed = false;
    snprintf(d.needed, sizeof(d.needed), "mcp:tools tools:count");
    assert_false(oauth_authorize(f->oauth, &d, "tools/call", &no));
    assert_int_equal(no.status, 403);
    assert_non_null(strstr(no.challenge, "error=\"insufficient_scope\""));
    assert_non_null(strstr(no.challenge, "scope=\"mcp:tools tools:count\""));
    assert_non_null(strstr(no.challenge, "resource_metadata=\"" META "\""));
    assert_non_null(strstr(no.body, "insufficient_scope"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oauth_metadata_url_inserts_the_well_known_path),
        cmocka_unit_test_setup_teardown(test_oauth_metadata_at_both_paths_only, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_oauth_challenges_and_generic_bodies, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_oauth_403_names_the_needed_scopes, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
