/*
 * test_auth_issuers.c - unit tests for several trusted issuers (common/auth.c, auth_trust.c).
 *
 * Each issuer has its own keys, audiences, claims and typ rule, and one
 * issuer's key never verifies another's token.  The JWKS URL issuer runs
 * over a scripted transport and the test's clock (manual_fetch), so a key
 * rotation at the authorization server is followed step by step: an
 * unknown kid is refused at once, asks for a fetch, and verifies after it.
 * Every refusal names its reason.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "auth.h"

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
#include <jansson.h>

#define RES   "https://mcp.example.com/mcp"
#define AS    "https://as.example.com"
#define IDP   "https://idp.example.com/v2.0"
#define JWKSU "https://as.example.com/jwks"
#define T0    INT64_C(1800000000)

struct fx {
    char dir[64];          /* mkdtemp directory */
    char file_a[128];      /* JWKS file of issuer AS */
    char file_b[128];      /* JWKS file of issuer IDP */
    cjose_jwk_t *ka;       /* AS's key, kid "ka" */
    cjose_jwk_t *kb;       /* IDP's key, kid "kb" */
    cjose_jwk_t *kc;       /* a rotated key, kid "kc" */
    char *jwks_remote;     /* what the scripted URL answers (swapped by tests) */
    int fetches;           /* how often it was asked */
};

/* ---- helpers ---- */

static cjose_jwk_t *make_key(const char *kid)
{
    cjose_err cerr;
    cjose_jwk_t *k = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
    assert_non_null(k);
    assert_true(cjose_jwk_set_kid(k, kid, strlen(kid), &cerr));
    return k;
}

/* A JWKS document (malloc'd) with the public halves of keys k1 and k2 (k2 may be NULL). */
static char *jwks_of(cjose_jwk_t *k1, cjose_jwk_t *k2)
{
    cjose_err cerr;
    char *p1 = cjose_jwk_to_json(k1, false, &cerr), *p2 = k2 ? cjose_jwk_to_json(k2, false, &cerr) : NULL;
    char *doc = malloc(strlen(p1) + (p2 ? strlen(p2) : 0) + 32);

    assert_non_null(doc);
    sprintf(doc, "{\"keys\":[%s%s%s]}", p1, p2 ? "," : "", p2 ? p2 : "");
    cjose_get_dealloc()(p1);
    if (p2)
        cjose_get_dealloc()(p2);
    return doc;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* "Bearer " + a JWS over 'claims' with header 'hdr', signed by 'k'. */
static char *sign(const cjose_jwk_t *k, const char *hdr, const char *claims)
{
    json_t *h = json_loads(hdr, 0, NULL);
    const char *compact = NULL;
    cjose_err cerr;
    cjose_jws_t *jws;
    char *out;

    assert_non_null(h);
    jws = cjose_jws_sign(k, h, (const uint8_t *)claims, strlen(claims), &cerr);
    assert_non_null(jws);
    assert_true(cjose_jws_export(jws, &compact, &cerr));
    out = malloc(strlen(compact) + 8);
    assert_non_null(out);
    sprintf(out, "Bearer %s", compact);
    cjose_jws_release(jws);
    json_decref(h);
    return out;
}

/* A token of 'iss' for 'aud' signed by 'k' with typ 'typ' (NULL: none) and 'extra' claims. */
static char *token(const cjose_jwk_t *k, const char *kid, const char *typ, const char *iss,
                   const char *aud, const char *extra)
{
    char hdr[128], claims[1024];
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"%s%s%s}", kid,
             typ ? ",\"typ\":\"" : "", typ ? typ : "", typ ? "\"" : "");
    snprintf(claims, sizeof(claims),
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"alice\",\"iat\":%lld,\"exp\":%lld%s%s}", iss,
             aud, (long long)T0, (long long)T0 + 600, extra ? "," : "", extra ? extra : "");
    return sign(k, hdr, claims);
}

static int script_fetch(void *arg, const char *url, const char *ca, struct jwks_response *r,
                        struct err *err)
{
    struct fx *f = arg;
    (void)ca;
    (void)err;
    assert_string_equal(url, JWKSU);
    f->fetches++;
    r->status = 200;
    r->body = strdup(f->jwks_remote);
    r->len = strlen(r->body);
    return 0;
}

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char *doc;

    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_auth_iss.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->file_a, sizeof(f->file_a), "%s/a.json", f->dir);
    snprintf(f->file_b, sizeof(f->file_b), "%s/b.json", f->dir);
    f->ka = make_key("ka");
    f->kb = make_key("kb");
    f->kc = make_key("kc");
    doc = jwks_of(f->ka, NULL);
    write_file(f->file_a, doc);
    free(doc);
    doc = jwks_of(f->kb, NULL);
    write_file(f->file_b, doc);
    free(doc);
    f->jwks_remote = jwks_of(f->ka, NULL);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    unlink(f->file_a);
    unlink(f->file_b);
    rmdir(f->dir);
    cjose_jwk_release(f->ka);
    cjose_jwk_release(f->kb);
    cjose_jwk_release(f->kc);
    free(f->jwks_remote);
    free(f);
    return 0;
}

/* Two file issuers: AS (strict, scope) and IDP (lenient, scp array, oid, prefix, 2 audiences). */
static struct auth_verifier *two_issuers(struct fx *f)
{
    static const char *const aud_a[] = {RES};
    static const char *const aud_b[] = {"api-guid", RES};
    struct auth_issuer is[] = {
        {.issuer = AS, .jwks_file = f->file_a, .audiences = aud_a, .naudiences = 1},
        {.issuer = IDP, .jwks_file = f->file_b, .audiences = aud_b, .naudiences = 2,
         .scope_claim = "scp", .principal_claim = "oid", .principal_prefix = "idp|",
         .typ_lenient = true},
    };
    struct auth_config cfg = {.leeway_s = 60, .issuers = is, .nissuers = 2};
    struct err e = {0};
    struct auth_verifier *v = auth_verifier_new(&cfg, &e);
    if (!v)
        fail_msg("%s", e.msg);
    return v;
}

static int check(struct auth_verifier *v, const char *tok, struct auth_principal *p,
                 enum auth_reason *why)
{
    struct auth_principal scratch;
    return auth_check(v, tok, T0, p ? p : &scratch, why, NULL);
}

/* ---- several issuers ---- */

static void test_auth_issuers_each_verify_with_their_own_keys(void **state)
{
    struct fx *f = *state;
    struct auth_verifier *v = two_issuers(f);
    struct auth_principal p;
    enum auth_reason why;
    char *t;

    t = token(f->ka, "ka", "at+jwt", AS, RES, "\"scope\":\"mcp:tools\"");
    assert_int_equal(check(v, t, &p, &why), 0);
    assert_int_equal(why, AUTH_REASON_NONE);
    assert_string_equal(p.subject, "alice");
    assert_string_equal(p.scopes, "mcp:tools");
    free(t);
    /* IDP: prefix + oid, the scp array joined, its second audience */
    t = token(f->kb, "kb", "at+jwt", IDP, "api-guid",
              "\"oid\":\"0af3\",\"scp\":[\"mcp:tools\",\"mcp:tasks\"]");
    assert_int_equal(check(v, t, &p, &why), 0);
    assert_string_equal(p.subject, "idp|0af3");
    assert_string_equal(p.scopes, "mcp:tools mcp:tasks");
    free(t);
    /* AS's key does not verify IDP's tokens, nor the other way round */
    t = token(f->ka, "ka", "at+jwt", IDP, RES, "\"oid\":\"x\"");
    assert_int_equal(check(v, t, NULL, &why), -AUTH_EINVALID);
    assert_int_equal(why, AUTH_REASON_KEY);
    free(t);
    t = token(f->kb, "ka", "at+jwt", AS, RES, NULL);
    assert_int_equal(check(v, t, NULL, &why), -AUTH_EINVALID);
    assert_int_equal(why, AUTH_REASON_SIGNATURE);
    free(t);
    /* IDP's token without its principal claim */
    t = token(f->kb, "kb", "at+jwt", IDP, RES, NULL);
    assert_int_equal(check(v, t, NULL, &why), -AUTH_EINVALID);
    assert_int_equal(why, AUTH_REASON_CLAIMS);
    free(t);
    /* the second audience belongs to IDP only */
    t = token(f->ka, "ka", "at+jwt", AS, "api-guid", NULL);
    assert_int_equal(check(v, t, NULL, &why), -AUTH_EINVALID);
    assert_int_equal(why, AUTH_REASON_AUDIENCE);
    free(t);
    auth_verifier_free(v);
}

static void test_auth_issuers_lenient_typ_needs_the_scope_claim(void **state)
{
    struct fx *f = *state;
    struct auth_verifier *v = two_issuers(f);
    enum auth_reason why;
    char *t;

    t = token(f->kb, "kb", "JWT", IDP, RES, "\"oid\":\"o\",\"scp\":\"mcp:tools\"");
    assert_int_equal(check(v, t, NULL, &why), 0);
    free(t);
    t = token(f->kb, "kb", NULL, IDP, RES, "\"oid\":\"o\",\"scp\":\"mcp:tools\"");
    assert_int_equal(check(v, t, NULL, &why), 0);
    free(t);
    /* an ID token (typ JWT, no scope claim) stays refused */
    t = token(f->kb, "kb", "JWT", IDP, RES, "\"oid\":\"o\"");
    assert_int_equal(check(v, t, NULL, &why), -AUTH_EINVALID);
    assert_int_equal(why, AUTH_REASON_TYP);
    free(t);
    t = token(f->kb, "kb", "dpop+jwt", IDP, RES, "\"oid\":\"o\",\"scp\":\"mcp:tools\"");
    assert_int_equal(check(v, t, NULL, &why), -AUTH_EINVALID);
    assert_int_equal(why, AUTH_REASON_TYP);
    free(t);
    /* the strict issuer refuses typ JWT even with a scope */
    t = token(f->ka, "ka", "JWT", AS, RES, "\"scope\":\"mcp:tools\"");
    assert_int_equal(check(v, t, NULL, &why), -AUTH_EINVALID);
    assert_int_equal(why, AUTH_REASON_TYP);
    free(t);
    auth_verifier_free(v);
}

static void test_auth_issuers_name_the_reason_of_each_refusal(void **state)
{
    struct fx *f = *state;
    struct auth_verifier *v = two_issuers(f);
    enum auth_reason why;
    struct auth_principal p;
    char *t;

    assert_int_equal(auth_check(v, NULL, T0, &p, &why, NULL), -AUTH_EMISSING);
    assert_int_equal(why, AUTH_REASON_MISSING);
    assert_int_equal(auth_check(v, "Bearer x.y.z", T0, &p, &why, NULL), -AUTH_EMALFORMED);
    assert_int_equal(why, AUTH_REASON_MALFORMED);
    t = token(f->ka, "ka", "at+jwt", "https://evil.example.com", RES, NULL);
    assert_int_equal(check(v, t, NULL, &why), -AUTH_EINVALID);
    assert_int_equal(why, AUTH_REASON_ISSUER);
    free(t);
    t = token(f->ka, "nope", "at+jwt", AS, RES, NULL);
    assert_int_equal(check(v, t, NULL, &why), -AUTH_EINVALID);
    assert_int_equal(why, AUTH_REASON_KEY);
    free(t);
    t = token(f->ka, "ka", "at+jwt", AS, RES, NULL);
    assert_int_equal(auth_check(v, t, T0 + 3600, &p, &why, NULL), -AUTH_EEXPIRED);
    assert_int_equal(why, AUTH_REASON_EXPIRED);
    free(t);
    t = token(f->ka, "ka", "at+jwt", AS, RES, "\"scope\":5");
    assert_int_equal(check(v, t, NULL, &why), -AUTH_EINVALID);
    assert_int_equal(why, AUTH_REASON_CLAIMS);
    free(t);
    assert_int_equal(auth_check(NULL, "x", T0, &p, &why, NULL), -AUTH_ECONFIG);
    assert_int_equal(why, AUTH_REASON_INTERNAL);
    auth_verifier_free(v);
}

static void test_auth_issuers_reason_names_are_metric_labels(void **state)
{
    (void)state;
    assert_string_equal(auth_reason_name(AUTH_REASON_MISSING), "missing");
    assert_string_equal(auth_reason_name(AUTH_REASON_TYP), "typ");
    assert_string_equal(auth_reason_name(AUTH_REASON_AUDIENCE), "audience");
    assert_string_equal(auth_reason_name(AUTH_REASON_KEY), "key");
    for (int r = 0; r < AUTH_REASON_COUNT; r++)
        for (const char *c = auth_reason_name((enum auth_reason)r); *c; c++)
            assert_true(*c >= 'a' && *c <= 'z');
    assert_string_equal(auth_reason_name(AUTH_REASON_COUNT), "internal");
}

/* ---- configuration ---- */

static void test_auth_issuers_refuse_unsafe_configurations(void **state)
{
    struct fx *f = *state;
    static const char *const aud[] = {RES}, *const empty_aud[] = {""};
    struct auth_issuer a = {.issuer = AS, .jwks_file = f->file_a, .audiences = aud, .naudiences = 1};
    struct auth_issuer list[17];
    struct auth_config cfg = {.issuers = list, .nissuers = 2};
    struct err e = {0};

    (void)state;
    list[0] = list[1] = a;
    list[1].principal_prefix = "b|";
    assert_int_equal(auth_config_check(&cfg, &e), -AUTH_ECONFIG); /* the same issuer twice */
    assert_non_null(strstr(e.msg, "listed twice"));
    list[1].issuer = IDP;
    list[1].principal_prefix = NULL;
    assert_int_equal(auth_config_check(&cfg, &e), -AUTH_ECONFIG); /* owners could collide */
    assert_non_null(strstr(e.msg, "principal prefix"));
    list[1].principal_prefix = "";
    assert_int_equal(auth_config_check(&cfg, &e), -AUTH_ECONFIG); /* "" equals none */
    list[1].principal_prefix = "idp|";
    assert_int_equal(auth_config_check(&cfg, &e), 0);
    list[1].jwks_uri = JWKSU; /* both sources */
    assert_int_equal(auth_config_check(&cfg, &e), -AUTH_ECONFIG);
    list[1].jwks_file = NULL;
    list[1].jwks_uri = "http://as.example.com/jwks";
    assert_int_equal(auth_config_check(&cfg, &e), -AUTH_ECONFIG);
    assert_non_null(strstr(e.msg, "https"));
    list[1].jwks_uri = NULL; /* neither */
    assert_int_equal(auth_config_check(&cfg, &e), -AUTH_ECONFIG);
    list[1].jwks_file = f->file_b;
    list[1].naudiences = 0;
    assert_int_equal(auth_config_check(&cfg, &e), -AUTH_ECONFIG);
    list[1].audiences = empty_aud;
    list[1].naudiences = 1;
    assert_int_equal(auth_config_check(&cfg, &e), -AUTH_ECONFIG);
    list[1].audiences = aud;
    list[1].principal_prefix = "bad\nprefix";
    assert_int_equal(auth_config_check(&cfg, &e), -AUTH_ECONFIG);
    list[1].principal_prefix = "idp|";
    cfg.leeway_s = 3601;
    assert_int_equal(auth_config_check(&cfg, &e), -AUTH_ECONFIG);
    cfg.leeway_s = 0;
    cfg.nissuers = 0;
    assert_int_equal(auth_config_check(&cfg, &e), -AUTH_ECONFIG); /* nobody trusted */
    for (int i = 0; i < 17; i++)
        list[i] = a;
    cfg.nissuers = 17;
    assert_int_equal(auth_config_check(&cfg, &e), -AUTH_ECONFIG);
    assert_non_null(strstr(e.msg, "more than 16"));
    /* the shorthand issuer counts as the first one */
    cfg = (struct auth_config){.jwks_file = f->file_b, .issuer = AS, .audience = RES,
                               .issuers = &a, .nissuers = 1};
    assert_int_equal(auth_config_check(&cfg, &e), -AUTH_ECONFIG);
    assert_null(auth_verifier_new(&cfg, &e));
}

/* ---- a JWKS URL and a key rotation ---- */

static void test_auth_issuers_follow_a_key_rotation_at_the_url(void **state)
{
    struct fx *f = *state;
    static const char *const aud[] = {RES};
    struct auth_issuer is = {.issuer = AS, .jwks_uri = JWKSU, .audiences = aud, .naudiences = 1};
    struct auth_config cfg = {.issuers = &is, .nissuers = 1, .jwks_ttl_s = 300,
                              .jwks_cooldown_s = 5, .fetch = script_fetch, .fetch_arg = f,
                              .manual_fetch = true};
    struct err e = {0};
    struct auth_verifier *v = auth_verifier_new(&cfg, &e);
    char *old_tok = token(f->ka, "ka", "at+jwt", AS, RES, NULL);
    char *new_tok = token(f->kc, "kc", "at+jwt", AS, RES, NULL);
    enum auth_reason why;

    assert_non_null(v);
    assert_int_equal(check(v, old_tok, NULL, &why), -AUTH_EINVALID); /* no keys yet */
    assert_int_equal(why, AUTH_REASON_KEY);
    auth_verifier_refresh(v, 1000);
    assert_int_equal(f->fetches, 1);
    assert_int_equal(check(v, old_tok, NULL, &why), 0);
    /* the authorization server publishes kc and signs with it */
    free(f->jwks_remote);
    f->jwks_remote = jwks_of(f->kc, f->ka);
    assert_int_equal(check(v, new_tok, NULL, &why), -AUTH_EINVALID); /* refused at once... */
    assert_int_equal(why, AUTH_REASON_KEY);
    auth_verifier_refresh(v, 3000); /* ...the cooldown holds the fetch back... */
    assert_int_equal(f->fetches, 1);
    auth_verifier_refresh(v, 6000); /* ...then the unknown kid is fetched */
    assert_int_equal(f->fetches, 2);
    assert_int_equal(check(v, new_tok, NULL, &why), 0);
    assert_int_equal(check(v, old_tok, NULL, &why), 0); /* still published */
    /* kc alone: the old key goes at the end of the set's lifetime */
    free(f->jwks_remote);
    f->jwks_remote = jwks_of(f->kc, NULL);
    auth_verifier_refresh(v, 300000);
    assert_int_equal(f->fetches, 2);
    auth_verifier_refresh(v, 306000);
    assert_int_equal(f->fetches, 3);
    assert_int_equal(check(v, old_tok, NULL, &why), -AUTH_EINVALID);
    assert_int_equal(check(v, new_tok, NULL, &why), 0);
    free(old_tok);
    free(new_tok);
    auth_verifier_free(v);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_auth_issuers_each_verify_with_their_own_keys),
        T(test_auth_issuers_lenient_typ_needs_the_scope_claim),
        T(test_auth_issuers_name_the_reason_of_each_refusal),
        T(test_auth_issuers_reason_names_are_metric_labels),
        T(test_auth_issuers_refuse_unsafe_configurations),
        T(test_auth_issuers_follow_a_key_rotation_at_the_url),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
