/*
 * test_auth.c - unit tests for common/auth.c (bearer JWT verification).
 *
 * Each test works in its own mkdtemp directory with keys from devtoken_keygen();
 * hostile tokens are assembled by hand (base64url of JSON we write) and
 * signed with cjose where a valid signature is needed.  No network.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "auth.h"
#include "devtoken.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
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

#include <cjose/cjose.h>
#include <jansson.h>

#define ISS    "https://auth.example.com"
#define AUD    "https://mcp.example.com/mcp"
#define T0     INT64_C(1800000000) /* the "now" of most tests */
#define LEEWAY 60

struct fx {
    char dir[64];            /* mkdtemp directory holding every file below */
    char priv[128];          /* private JWK written by devtoken_keygen() */
    char jwks[128];          /* JWKS with its public half */
    char priv2[128];         /* a second, unrelated key */
    char jwks2[128];         /* and its JWKS */
    struct auth_verifier *v; /* verifier over 'jwks' */
    cjose_jwk_t *key;        /* the private key of 'priv', for hand-made tokens */
    cjose_jwk_t *key2;       /* the private key of 'priv2' */
    char kid[128];           /* kid of 'key' */
    char kid2[128];          /* kid of 'key2' */
};

/* ---- helpers ---- */

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    s = malloc((size_t)n + 1);
    assert_non_null(s);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static char *b64u(const void *data, size_t len)
{
    char *enc = NULL, *copy;
    size_t enc_len = 0;
    cjose_err cerr;

    assert_true(cjose_base64url_encode(data, len, &enc, &enc_len, &cerr));
    copy = xprintf("%.*s", (int)enc_len, enc);
    cjose_get_dealloc()(enc);
    return copy;
}

static unsigned char *b64u_dec(const char *s, size_t len, size_t *out_len)
{
    uint8_t *dec = NULL, *copy;
    cjose_err cerr;

    assert_true(cjose_base64url_decode(s, len, &dec, out_len, &cerr));
    copy = malloc(*out_len + 1);
    assert_non_null(copy);
    memcpy(copy, dec, *out_len);
    cjose_get_dealloc()(dec);
    return copy;
}

/* "Bearer " + b64u(hdr) "." b64u(claims) "." b64u(sig): no signing at all. */
static char *raw_token(const char *hdr, const char *claims, const void *sig, size_t sig_len)
{
    char *h = b64u(hdr, strlen(hdr)), *c = b64u(claims, strlen(claims));
    char *s = b64u(sig, sig_len), *out;

    out = xprintf("Bearer %s.%s.%s", h, c, s);
    free(h);
    free(c);
    free(s);
    return out;
}

/* "Bearer " + a JWS over 'claims' with protected header 'hdr', signed by 'jwk'. */
static char *signed_token(const cjose_jwk_t *jwk, const char *hdr_json, const char *claims)
{
    json_t *hdr = json_loads(hdr_json, 0, NULL);
    const char *compact = NULL;
    cjose_jws_t *jws;
    cjose_err cerr;
    char *out;

    assert_non_null(hdr);
    jws = cjose_jws_sign(jwk, hdr, (const uint8_t *)claims, strlen(claims), &cerr);
    assert_non_null(jws);
    assert_true(cjose_jws_export(jws, &compact, &cerr));
    out = xprintf("Bearer %s", compact);
    cjose_jws_release(jws);
    json_decref(hdr);
    return out;
}

/* Claims accepted at T0 unless a test changes one of them. */
static char *claims_with(const char *iss, const char *aud_json, int64_t exp, const char *extra)
{
    return xprintf("{\"iss\":\"%s\",\"aud\":%s,\"sub\":\"alice\",\"iat\":%lld,\"exp\":%lld%s%s}",
                   iss, aud_json, (long long)T0, (long long)exp, extra ? "," : "",
                   extra ? extra : "");
}

static char *good_claims(const char *extra)
{
    return claims_with(ISS, "\"" AUD "\"", T0 + 600, extra);
}

static char *es256_header(const char *kid)
{
    return xprintf("{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", kid);
}

static cjose_jwk_t *load_jwk(const char *path)
{
    char buf[8192];
    cjose_jwk_t *jwk;
    cjose_err cerr;
    ssize_t n;
    int fd;

    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    n = read(fd, buf, sizeof(buf));
    close(fd);
    assert_true(n > 0);
    jwk = cjose_jwk_import(buf, (size_t)n, &cerr);
    assert_non_null(jwk);
    return jwk;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path)
{
    json_t *j = json_load_file(path, 0, NULL);
    char *s;

    assert_non_null(j);
    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

/* Set the file's mtime to 'sec' seconds past the epoch (explicit, later). */
static void set_mtime(const char *path, time_t sec)
{
    struct timespec ts[2] = {{.tv_sec = sec}, {.tv_sec = sec}};

    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static struct auth_verifier *verifier_for(const char *jwks, int *code)
{
    struct auth_config cfg = {
        .jwks_file = jwks, .issuer = ISS, .audience = AUD, .leeway_s = LEEWAY};
    struct err e = {0};
    struct auth_verifier *v = auth_verifier_new(&cfg, &e);

    if (code)
        *code = v ? 0 : e.code;
    return v;
}

static int verify(struct auth_verifier *v, const char *header, int64_t now_s,
                  struct auth_principal *p)
{
    struct auth_principal scratch;
    struct err e = {0};
    int rc = auth_verify(v, header, now_s, p ? p : &scratch, &e);

    assert_int_equal(rc, e.code); /* err mirrors the return code */
    return rc;
}

/* Replace the character at 'pos' with a different base64url character that
 * changes the decoded bits (not only the unused trailing ones). */
static void flip_char(char *s, size_t pos)
{
    s[pos] = s[pos] == 'A' ? 'Q' : 'A';
}

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct err e = {0};
    const char *kid;
    cjose_err cerr;

    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_auth.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->priv, sizeof(f->priv), "%s/key.json", f->dir);
    snprintf(f->jwks, sizeof(f->jwks), "%s/jwks.json", f->dir);
    snprintf(f->priv2, sizeof(f->priv2), "%s/key2.json", f->dir);
    snprintf(f->jwks2, sizeof(f->jwks2), "%s/jwks2.json", f->dir);
    assert_int_equal(devtoken_keygen(f->priv, f->jwks, &e), 0);
    assert_int_equal(devtoken_keygen(f->priv2, f->jwks2, &e), 0);
    f->key = load_jwk(f->priv);
    f->key2 = load_jwk(f->priv2);
    kid = cjose_jwk_get_kid(f->key, &cerr);
    assert_non_null(kid);
    snprintf(f->kid, sizeof(f->kid), "%s", kid);
    kid = cjose_jwk_get_kid(f->key2, &cerr);
    assert_non_null(kid);
    snprintf(f->kid2, sizeof(f->kid2), "%s", kid);
    f->v = verifier_for(f->jwks, NULL);
    assert_non_null(f->v);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];

    auth_verifier_free(f->v);
    cjose_jwk_release(f->key);
    cjose_jwk_release(f->key2);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* ---- happy path ---- */

static void test_auth_verifies_minted_token_and_fills_principal(void **state)
{
    struct fx *f = *state;
    struct auth_principal p;
    struct err e = {0};
    char *tok = NULL, *hdr;

    assert_int_equal(
        devtoken_mint(f->priv, ISS, AUD, "alice", "mcp:tools tasks:read", T0, 600, &tok, &e), 0);
    hdr = xprintf("Bearer %s", tok);
    assert_int_equal(verify(f->v, hdr, T0 + 10, &p), 0);
    assert_string_equal(p.subject, "alice");
    assert_string_equal(p.scopes, "mcp:tools tasks:read");
    assert_string_equal(p.client_id, "taskwire-cli");
    assert_int_equal(p.expires_at, T0 + 600);
    assert_true(auth_has_scope(&p, "tasks:read"));
    free(hdr);
    free(tok);
}

static void test_auth_accepts_scheme_in_any_case_and_extra_spaces(void **state)
{
    struct fx *f = *state;
    struct err e = {0};
    char *tok = NULL, *hdr;

    assert_int_equal(devtoken_mint(f->priv, ISS, AUD, "alice", NULL, T0, 600, &tok, &e), 0);
    hdr = xprintf("bEARER    %s", tok);
    assert_int_equal(verify(f->v, hdr, T0, NULL), 0);
    free(hdr);
    free(tok);
}

static void test_auth_mint_without_scope_leaves_scopes_empty(void **state)
{
    struct fx *f = *state;
    struct auth_principal p;
    struct err e = {0};
    char *tok = NULL, *hdr;

    assert_int_equal(devtoken_mint(f->priv, ISS, AUD, "bob", NULL, T0, 60, &tok, &e), 0);
    hdr = xprintf("Bearer %s", tok);
    assert_int_equal(verify(f->v, hdr, T0, &p), 0);
    assert_string_equal(p.scopes, "");
    assert_false(auth_has_scope(&p, "mcp:tools"));
    free(hdr);
    free(tok);
}

static void test_auth_uses_azp_when_client_id_is_absent(void **state)
{
    struct fx *f = *state;
    struct auth_principal p;
    char *hdr = es256_header(f->kid), *claims = good_claims("\"azp\":\"web-app\"");
    char *tok = signed_token(f->key, hdr, claims);

    assert_int_equal(verify(f->v, tok, T0, &p), 0);
    assert_string_equal(p.client_id, "web-app");
    free(tok);
    free(claims);
    free(hdr);
}

static void test_auth_accepts_only_at_jwt_typ_from_a_strict_issuer(void **state)
{
    static const char *const typs[] = {"\"typ\":\"at+jwt\",", "\"typ\":\"application/AT+JWT\",",
                                       "\"typ\":\"JWT\",", "", "\"typ\":\"dpop+jwt\","};
    static const int want[] = {0, 0, -AUTH_EINVALID, -AUTH_EINVALID, -AUTH_EINVALID};
    struct fx *f = *state;
    char *claims = good_claims("\"scope\":\"mcp:tools\"");
    size_t i;

    for (i = 0; i < sizeof(typs) / sizeof(typs[0]); i++) {
        char *hdr = xprintf("{%s\"alg\":\"ES256\",\"kid\":\"%s\"}", typs[i], f->kid);
        char *tok = signed_token(f->key, hdr, claims);
        enum auth_reason why;
        struct auth_principal p;

        assert_int_equal(auth_check(f->v, tok, T0, &p, &why, NULL), want[i]);
        assert_int_equal(why, want[i] ? AUTH_REASON_TYP : AUTH_REASON_NONE);
        free(tok);
        free(hdr);
    }
    free(claims);
}

static void test_auth_accepts_missing_kid_with_one_key(void **state)
{
    struct fx *f = *state;
    char *claims = good_claims(NULL);
    char *tok = signed_token(f->key, "{\"alg\":\"ES256\",\"typ\":\"at+jwt\"}", claims);

    assert_int_equal(verify(f->v, tok, T0, NULL), 0);
    free(tok);
    free(claims);
}

/* ---- iss / aud ---- */

static void test_auth_rejects_wrong_audience(void **state)
{
    struct fx *f = *state;
    struct err e = {0};
    char *tok = NULL, *hdr;

    assert_int_equal(devtoken_mint(f->priv, ISS, "https://other.example.com/mcp", "alice", NULL, T0,
                                   600, &tok, &e),
                     0);
    hdr = xprintf("Bearer %s", tok);
    assert_int_equal(verify(f->v, hdr, T0, NULL), -AUTH_EINVALID);
    free(hdr);
    free(tok);
}

static void test_auth_accepts_audience_in_array(void **state)
{
    struct fx *f = *state;
    char *hdr = es256_header(f->kid);
    char *claims = claims_with(ISS, "[\"https://x.example\",\"" AUD "\"]", T0 + 600, NULL);
    char *tok = signed_token(f->key, hdr, claims);

    assert_int_equal(verify(f->v, tok, T0, NULL), 0);
    free(tok);
    free(claims);
    free(hdr);
}

static void test_auth_rejects_audience_array_without_us(void **state)
{
    static const char *const auds[] = {
        "[\"https://x.example\"]",
        "[]",
        "[\"" AUD "\",42]",
        "42",
        "null",
        "\"" AUD "/\"", /* no normalisation: exact strings only */
    };
    struct fx *f = *state;
    char *hdr = es256_header(f->kid);
    size_t i;

    for (i = 0; i < sizeof(auds) / sizeof(auds[0]); i++) {
        char *claims = claims_with(ISS, auds[i], T0 + 600, NULL);
        char *tok = signed_token(f->key, hdr, claims);

        assert_int_equal(verify(f->v, tok, T0, NULL), -AUTH_EINVALID);
        free(tok);
        free(claims);
    }
    free(hdr);
}

static void test_auth_rejects_wrong_issuer(void **state)
{
    struct fx *f = *state;
    struct err e = {0};
    char *tok = NULL, *hdr;

    assert_int_equal(devtoken_mint(f->priv, ISS "/", AUD, "alice", NULL, T0, 600, &tok, &e), 0);
    hdr = xprintf("Bearer %s", tok);
    assert_int_equal(verify(f->v, hdr, T0, NULL), -AUTH_EINVALID);
    free(hdr);
    free(tok);
}

/* ---- exp / nbf / iat ---- */

static void test_auth_rejects_expired_beyond_leeway(void **state)
{
    struct fx *f = *state;
    char *hdr = es256_header(f->kid);
    char *claims = claims_with(ISS, "\"" AUD "\"", T0 - LEEWAY - 1, NULL);
    char *tok = signed_token(f->key, hdr, claims);

    assert_int_equal(verify(f->v, tok, T0, NULL), -AUTH_EEXPIRED);
    free(tok);
    free(claims);
    free(hdr);
}

static void test_auth_accepts_expired_within_leeway(void **state)
{
    struct fx *f = *state;
    char *hdr = es256_header(f->kid);
    char *claims = claims_with(ISS, "\"" AUD "\"", T0 - LEEWAY, NULL);
    char *tok = signed_token(f->key, hdr, claims);

    assert_int_equal(verify(f->v, tok, T0, NULL), 0);
    assert_int_equal(verify(f->v, tok, T0 + 1, NULL), -AUTH_EEXPIRED);
    free(tok);
    free(claims);
    free(hdr);
}

static void test_auth_rounds_fractional_exp_and_nbf_safely(void **state)
{
    struct fx *f = *state;
    char *hdr = es256_header(f->kid);
    char *extra = xprintf("\"nbf\":%lld.5", (long long)(T0 + LEEWAY));
    char *claims = claims_with(ISS, "\"" AUD "\"", T0 + 100, extra);
    char *tok = signed_token(f->key, hdr, claims);

    /* nbf = T0+60.5: valid from T0+0.5 with leeway, so not at T0, yes at T0+1 */
    assert_int_equal(verify(f->v, tok, T0, NULL), -AUTH_EEXPIRED);
    assert_int_equal(verify(f->v, tok, T0 + 1, NULL), 0);
    free(tok);
    free(claims);
    free(extra);
    free(hdr);
}

static void test_auth_rejects_missing_or_non_numeric_exp(void **state)
{
    struct fx *f = *state;
    char *hdr = es256_header(f->kid);
    char *no_exp = xprintf("{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"alice\"}", ISS, AUD);
    char *str_exp = xprintf("{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"a\",\"exp\":\"%lld\"}", ISS,
                            AUD, (long long)(T0 + 600));
    char *t1 = signed_token(f->key, hdr, no_exp), *t2 = signed_token(f->key, hdr, str_exp);

    assert_int_equal(verify(f->v, t1, T0, NULL), -AUTH_EINVALID);
    assert_int_equal(verify(f->v, t2, T0, NULL), -AUTH_EINVALID);
    free(t1);
    free(t2);
    free(no_exp);
    free(str_exp);
    free(hdr);
}

static void test_auth_rejects_nbf_in_future(void **state)
{
    struct fx *f = *state;
    char *hdr = es256_header(f->kid);
    char *late = xprintf("\"nbf\":%lld", (long long)(T0 + LEEWAY + 1));
    char *edge = xprintf("\"nbf\":%lld", (long long)(T0 + LEEWAY));
    char *c1 = good_claims(late), *c2 = good_claims(edge);
    char *t1 = signed_token(f->key, hdr, c1), *t2 = signed_token(f->key, hdr, c2);

    assert_int_equal(verify(f->v, t1, T0, NULL), -AUTH_EEXPIRED);
    assert_int_equal(verify(f->v, t2, T0, NULL), 0);
    free(t1);
    free(t2);
    free(c1);
    free(c2);
    free(late);
    free(edge);
    free(hdr);
}

static void test_auth_rejects_iat_far_future(void **state)
{
    struct fx *f = *state;
    char *hdr = es256_header(f->kid);
    char *claims = xprintf("{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"a\",\"iat\":%lld,"
                           "\"exp\":%lld}",
                           ISS, AUD, (long long)(T0 + 3600), (long long)(T0 + 7200));
    char *tok = signed_token(f->key, hdr, claims);

    assert_int_equal(verify(f->v, tok, T0, NULL), -AUTH_EINVALID);
    free(tok);
    free(claims);
    free(hdr);
}

/* ---- sub / scope / client_id ---- */

static void test_auth_rejects_bad_subject(void **state)
{
    struct fx *f = *state;
    char *hdr = es256_header(f->kid), long_sub[300], *claims, *tok;
    const char *subs[] = {"\"\"", "\"ali\\u0001ce\"", "42", NULL};
    size_t i;

    memset(long_sub, 'a', sizeof(long_sub));
    long_sub[0] = '"';
    long_sub[257] = '"'; /* 256 bytes between the quotes */
    long_sub[258] = '\0';
    subs[3] = long_sub;
    for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        claims = xprintf("{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":%s,\"exp\":%lld}", ISS, AUD,
                         subs[i], (long long)(T0 + 600));
        tok = signed_token(f->key, hdr, claims);
        assert_int_equal(verify(f->v, tok, T0, NULL), -AUTH_EINVALID);
        free(tok);
        free(claims);
    }
    claims =
        xprintf("{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":%lld}", ISS, AUD, (long long)(T0 + 600));
    tok = signed_token(f->key, hdr, claims);
    assert_int_equal(verify(f->v, tok, T0, NULL), -AUTH_EINVALID);
    free(tok);
    free(claims);

    long_sub[256] = '"'; /* 255 bytes fit */
    long_sub[257] = '\0';
    claims = xprintf("{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":%s,\"exp\":%lld}", ISS, AUD, long_sub,
                     (long long)(T0 + 600));
    tok = signed_token(f->key, hdr, claims);
    assert_int_equal(verify(f->v, tok, T0, NULL), 0);
    free(tok);
    free(claims);
    free(hdr);
}

static void test_auth_rejects_oversized_or_non_string_scope(void **state)
{
    struct fx *f = *state;
    char *hdr = es256_header(f->kid), scope[1100], *extra, *claims, *tok;
    struct auth_principal p;

    memset(scope, 'a', sizeof(scope));
    scope[1024] = '\0'; /* 1024 bytes: one too many */
    extra = xprintf("\"scope\":\"%s\"", scope);
    claims = good_claims(extra);
    tok = signed_token(f->key, hdr, claims);
    assert_int_equal(verify(f->v, tok, T0, NULL), -AUTH_EINVALID);
    free(tok);
    free(claims);
    free(extra);

    scope[1023] = '\0';
    extra = xprintf("\"scope\":\"%s\"", scope);
    claims = good_claims(extra);
    tok = signed_token(f->key, hdr, claims);
    assert_int_equal(verify(f->v, tok, T0, &p), 0);
    assert_int_equal(strlen(p.scopes), 1023);
    free(tok);
    free(claims);
    free(extra);

    claims = good_claims("\"scope\":[\"mcp:tools\",\"mcp:tasks\"]");
    tok = signed_token(f->key, hdr, claims);
    assert_int_equal(verify(f->v, tok, T0, &p), 0); /* an array is joined (Okta's scp) */
    assert_string_equal(p.scopes, "mcp:tools mcp:tasks");
    free(tok);
    free(claims);

    static const char *const bad[] = {"\"scope\":[\"a b\"]", "\"scope\":[\"\"]",
                                      "\"scope\":[1]", "\"scope\":{}", "\"scope\":7",
                                      "\"scope\":[\"a\\u0001\"]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        claims = good_claims(bad[i]);
        tok = signed_token(f->key, hdr, claims);
        assert_int_equal(verify(f->v, tok, T0, NULL), -AUTH_EINVALID);
        free(tok);
        free(claims);
    }
    /* an array of 1023 bytes joined fits, one more byte does not */
    extra = xprintf("\"scope\":[\"%.511s\",\"%.510s\"]", scope, scope);
    claims = good_claims(extra);
    tok = signed_token(f->key, hdr, claims);
    assert_int_equal(verify(f->v, tok, T0, &p), 0);
    assert_int_equal(strlen(p.scopes), 1022);
    free(tok);
    free(claims);
    free(extra);
    extra = xprintf("\"scope\":[\"%.512s\",\"%.511s\"]", scope, scope);
    claims = good_claims(extra);
    tok = signed_token(f->key, hdr, claims);
    assert_int_equal(verify(f->v, tok, T0, NULL), -AUTH_EINVALID);
    free(tok);
    free(claims);
    free(extra);
    free(hdr);
}

/* ---- tampering and algorithm attacks ---- */

static void test_auth_rejects_tampered_payload(void **state)
{
    struct fx *f = *state;
    struct err e = {0};
    char *tok = NULL, *hdr, *d1, *d2, *claims, *evil, *enc, *forged;
    unsigned char *raw;
    size_t len;

    assert_int_equal(devtoken_mint(f->priv, ISS, AUD, "alice", "mcp:tools", T0, 600, &tok, &e), 0);
    hdr = xprintf("Bearer %s", tok);
    d1 = strchr(hdr, '.');
    d2 = strchr(d1 + 1, '.');
    raw = b64u_dec(d1 + 1, (size_t)(d2 - d1 - 1), &len);
    claims = xprintf("%.*s", (int)len, (const char *)raw);
    evil = strstr(claims, "alice");
    assert_non_null(evil);
    memcpy(evil, "mallo", 5); /* the same claims but for another subject */
    enc = b64u(claims, strlen(claims));
    forged = xprintf("%.*s.%s%s", (int)(d1 - hdr), hdr, enc, d2);
    assert_int_equal(verify(f->v, forged, T0, NULL), -AUTH_EINVALID);
    free(forged);
    free(enc);
    free(claims);
    free(raw);
    free(hdr);
    free(tok);
}

static void test_auth_rejects_tampered_signature(void **state)
{
    struct fx *f = *state;
    struct err e = {0};
    char *tok = NULL, *hdr;

    assert_int_equal(devtoken_mint(f->priv, ISS, AUD, "alice", NULL, T0, 600, &tok, &e), 0);
    hdr = xprintf("Bearer %s", tok);
    flip_char(hdr, (size_t)(strrchr(hdr, '.') - hdr) + 20);
    assert_int_equal(verify(f->v, hdr, T0, NULL), -AUTH_EINVALID);
    free(hdr);
    free(tok);
}

static void test_auth_rejects_non_canonical_base64url(void **state)
{
    struct fx *f = *state;
    struct err e = {0};
    char *tok = NULL, *hdr;
    size_t len;

    assert_int_equal(devtoken_mint(f->priv, ISS, AUD, "alice", NULL, T0, 600, &tok, &e), 0);
    hdr = xprintf("Bearer %s", tok);
    len = strlen(hdr);
    /* 64 bytes -> 86 chars: the last char carries 2 unused bits; set one. */
    assert_int_equal(strlen(strrchr(hdr, '.') + 1), 86);
    hdr[len - 1] = (char)(hdr[len - 1] == 'A' ? 'B' : hdr[len - 1] == 'Q' ? 'R' : 'B');
    assert_int_equal(verify(f->v, hdr, T0, NULL), -AUTH_EMALFORMED);
    free(hdr);
    free(tok);
}

static void test_auth_rejects_alg_none(void **state)
{
    struct fx *f = *state;
    char *claims = good_claims(NULL), *h, *c, *tok;

    h = b64u("{\"alg\":\"none\",\"typ\":\"JWT\"}", 27);
    c = b64u(claims, strlen(claims));
    tok = xprintf("Bearer %s.%s.", h, c); /* the classic unsecured JWT */
    assert_int_equal(verify(f->v, tok, T0, NULL), -AUTH_EMALFORMED);
    free(tok);
    tok = raw_token("{\"alg\":\"none\",\"typ\":\"JWT\"}", claims, "x", 1);
    assert_int_equal(verify(f->v, tok, T0, NULL), -AUTH_EINVALID);
    free(tok);
    tok = raw_token("{\"alg\":\"NONE\"}", claims, "x", 1);
    assert_int_equal(verify(f->v, tok, T0, NULL), -AUTH_EINVALID);
    free(tok);
    free(h);
    free(c);
    free(claims);
}

static void test_auth_rejects_hs256_signed_with_public_key(void **state)
{
    struct fx *f = *state;
    char *claims = good_claims(NULL), *pub_text, *hdr, *tok;
    const char *x;
    unsigned char *x_raw;
    size_t x_len;
    json_t *set, *pub;
    cjose_jwk_t *oct;
    cjose_err cerr;

    set = json_load_file(f->jwks, 0, NULL);
    pub = json_array_get(json_object_get(set, "keys"), 0);
    pub_text = json_dumps(pub, JSON_COMPACT);
    x = json_string_value(json_object_get(pub, "x"));
    x_raw = b64u_dec(x, strlen(x), &x_len);
    hdr = xprintf("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", f->kid);

    /* HMAC key = the public JWK text, the x coordinate text, its raw bytes. */
    const struct {
        const void *key;
        size_t len;
    } secrets[] = {{pub_text, strlen(pub_text)}, {x, strlen(x)}, {x_raw, x_len}};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        oct = cjose_jwk_create_oct_spec(secrets[i].key, secrets[i].len, &cerr);
        assert_non_null(oct);
        tok = signed_token(oct, hdr, claims);
        assert_int_equal(verify(f->v, tok, T0, NULL), -AUTH_EINVALID);
        free(tok);
        cjose_jwk_release(oct);
    }
    free(hdr);
    free(x_raw);
    free(pub_text);
    json_decref(set);
    free(claims);
}

static void test_auth_rejects_token_from_unknown_key(void **state)
{
    struct fx *f = *state;
    struct err e = {0};
    char *tok = NULL, *bearer, *hdr, *claims, *forged;

    assert_int_equal(devtoken_mint(f->priv2, ISS, AUD, "alice", NULL, T0, 600, &tok, &e), 0);
    bearer = xprintf("Bearer %s", tok);
    assert_int_equal(verify(f->v, bearer, T0, NULL), -AUTH_EINVALID);

    /* The other key again, now claiming our kid: the signature must fail. */
    hdr = es256_header(f->kid);
    claims = good_claims(NULL);
    forged = signed_token(f->key2, hdr, claims);
    assert_int_equal(verify(f->v, forged, T0, NULL), -AUTH_EINVALID);
    free(forged);
    free(claims);
    free(hdr);
    free(bearer);
    free(tok);
}

static char *two_key_jwks(struct fx *f, const char *name)
{
    json_t *a = json_load_file(f->jwks, 0, NULL), *b = json_load_file(f->jwks2, 0, NULL);
    char *path = xprintf("%s/%s", f->dir, name);

    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(json_array_extend(json_object_get(a, "keys"), json_object_get(b, "keys")), 0);
    assert_int_equal(json_dump_file(a, path, 0), 0);
    json_decref(a);
    json_decref(b);
    return path;
}

static void test_auth_rejects_missing_kid_with_two_keys(void **state)
{
    struct fx *f = *state;
    char *path = two_key_jwks(f, "both.json"), *claims = good_claims(NULL);
    char *hdr2 = es256_header(f->kid2);
    char *no_kid = signed_token(f->key, "{\"alg\":\"ES256\",\"typ\":\"at+jwt\"}", claims);
    char *with_kid = signed_token(f->key2, hdr2, claims);
    struct auth_verifier *v = verifier_for(path, NULL);

    assert_non_null(v);
    assert_int_equal(verify(v, no_kid, T0, NULL), -AUTH_EINVALID);
    assert_int_equal(verify(v, with_kid, T0, NULL), 0);
    auth_verifier_free(v);
    free(with_kid);
    free(no_kid);
    free(hdr2);
    free(claims);
    free(path);
}

static void test_auth_rejects_es256_signature_of_wrong_length(void **state)
{
    struct fx *f = *state;
    unsigned char *sig, padded[128];
    char *tok = NULL, *enc, *bad, *dot;
    struct err e = {0};
    size_t sig_len;

    assert_int_equal(devtoken_mint(f->priv, ISS, AUD, "alice", NULL, T0, 600, &tok, &e), 0);
    dot = strrchr(tok, '.');
    sig = b64u_dec(dot + 1, strlen(dot + 1), &sig_len);
    assert_int_equal(sig_len, 64);

    /* A trailing extra byte: cjose would read r and s from the first 64. */
    sig = realloc(sig, 65);
    assert_non_null(sig);
    sig[64] = 0;
    enc = b64u(sig, 65);
    bad = xprintf("Bearer %.*s.%s", (int)(dot - tok), tok, enc);
    assert_int_equal(verify(f->v, bad, T0, NULL), -AUTH_EINVALID);
    free(bad);
    free(enc);

    /* r and s zero-extended to 64 bytes each: same integers, 128 bytes. */
    memset(padded, 0, sizeof(padded));
    memcpy(padded + 32, sig, 32);
    memcpy(padded + 96, sig + 32, 32);
    enc = b64u(padded, sizeof(padded));
    bad = xprintf("Bearer %.*s.%s", (int)(dot - tok), tok, enc);
    assert_int_equal(verify(f->v, bad, T0, NULL), -AUTH_EINVALID);
    free(bad);
    free(enc);

    enc = b64u(sig, 63);
    bad = xprintf("Bearer %.*s.%s", (int)(dot - tok), tok, enc);
    assert_int_equal(verify(f->v, bad, T0, NULL), -AUTH_EINVALID);
    free(bad);
    free(enc);
    free(sig);
    free(tok);
}

static void test_auth_rejects_disallowed_header_members(void **state)
{
    /* Signed with our key (the only one in the set, so no kid needed): only
     * the header check can reject them. */
    static const char *const signed_hdrs[] = {
        "{\"alg\":\"ES256\",\"typ\":\"JOSE\"}",
        "{\"alg\":\"ES256\",\"typ\":7}",
        "{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"exp\":1}",
        "{\"alg\":\"ES384\"}",
        "{\"alg\":\"ES256\",\"kid\":42}",
    };
    /* Not signable by cjose: a dummy signature, rejected before it matters. */
    static const char *const raw_hdrs[] = {
        "{\"alg\":\"es256\"}",
        "{\"alg\":\"PS256\"}",
        "{\"typ\":\"at+jwt\"}",
        "{\"alg\":[\"ES256\"]}",
    };
    struct fx *f = *state;
    unsigned char sig[64] = {1};
    char *claims = good_claims(NULL);
    size_t i;

    for (i = 0; i < sizeof(signed_hdrs) / sizeof(signed_hdrs[0]); i++) {
        char *tok = signed_token(f->key, signed_hdrs[i], claims);

        assert_int_equal(verify(f->v, tok, T0, NULL), -AUTH_EINVALID);
        free(tok);
    }
    for (i = 0; i < sizeof(raw_hdrs) / sizeof(raw_hdrs[0]); i++) {
        char *tok = raw_token(raw_hdrs[i], claims, sig, sizeof(sig));

        assert_int_equal(verify(f->v, tok, T0, NULL), -AUTH_EINVALID);
        free(tok);
    }
    free(claims);
}

static void test_auth_rejects_header_that_is_not_a_json_object(void **state)
{
    static const char *const hdrs[] = {
        "{\"alg\":\"ES256\",\"alg\":\"none\"}", /* duplicate member */
        "[\"ES256\"]",
        "{\"alg\":\"ES256\"",
        "",
    };
    struct fx *f = *state;
    unsigned char sig[64] = {1};
    char *claims = good_claims(NULL);
    size_t i;

    for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
        char *tok = raw_token(hdrs[i], claims, sig, sizeof(sig));

        assert_int_equal(verify(f->v, tok, T0, NULL), -AUTH_EMALFORMED);
        free(tok);
    }
    free(claims);
}

static void test_auth_rejects_signed_claims_that_are_not_an_object(void **state)
{
    struct fx *f = *state;
    char *hdr = es256_header(f->kid);
    char *t1 = signed_token(f->key, hdr, "[1,2]");
    char *t2 = signed_token(f->key, hdr, "{\"sub\":\"a\",\"sub\":\"b\"}");

    assert_int_equal(verify(f->v, t1, T0, NULL), -AUTH_EMALFORMED);
    assert_int_equal(verify(f->v, t2, T0, NULL), -AUTH_EMALFORMED);
    free(t1);
    free(t2);
    free(hdr);
}

/* ---- header shape ---- */

static void test_auth_rejects_missing_header(void **state)
{
    struct fx *f = *state;

    assert_int_equal(verify(f->v, NULL, T0, NULL), -AUTH_EMISSING);
    assert_int_equal(verify(f->v, "", T0, NULL), -AUTH_EMISSING);
}

static void test_auth_rejects_non_bearer_scheme(void **state)
{
    struct fx *f = *state;

    assert_int_equal(verify(f->v, "Basic xyz", T0, NULL), -AUTH_EMISSING);
    assert_int_equal(verify(f->v, "Bearerabc.def.ghi", T0, NULL), -AUTH_EMISSING);
    assert_int_equal(verify(f->v, "Token abc.def.ghi", T0, NULL), -AUTH_EMISSING);
}

static void test_auth_rejects_empty_bearer_token(void **state)
{
    struct fx *f = *state;

    assert_int_equal(verify(f->v, "Bearer ", T0, NULL), -AUTH_EMALFORMED);
    assert_int_equal(verify(f->v, "Bearer", T0, NULL), -AUTH_EMALFORMED);
    assert_int_equal(verify(f->v, "Bearer    ", T0, NULL), -AUTH_EMALFORMED);
}

static void test_auth_rejects_wrong_segment_count_or_alphabet(void **state)
{
    static const char *const bad[] = {
        "Bearer abc.def",     "Bearer abc.def.ghi.jkl", "Bearer abc..ghi",
        "Bearer .def.ghi",    "Bearer abc.def.",        "Bearer ..",
        "Bearer abc.d+f.ghi", "Bearer abc.def.gh=",     "Bearer abc.def.ghi ",
        "Bearer abc.def.g/i", "Bearer abc.de f.ghi",    "Bearer abc.def.ghi\t",
        "Bearer a.b.c", /* 4n+1 lengths */
    };
    struct fx *f = *state;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(verify(f->v, bad[i], T0, NULL), -AUTH_EMALFORMED);
}

static void test_auth_rejects_oversized_header(void **state)
{
    struct fx *f = *state;
    char *big = malloc(9001);

    assert_non_null(big);
    memset(big, 'A', 9000);
    memcpy(big, "Bearer ", 7);
    big[4000] = '.';
    big[6000] = '.';
    big[9000] = '\0';
    assert_int_equal(verify(f->v, big, T0, NULL), -AUTH_EMALFORMED);
    big[AUTH_MAX_HEADER + 1] = '\0'; /* one byte over the cap */
    assert_int_equal(verify(f->v, big, T0, NULL), -AUTH_EMALFORMED);
    free(big);
}

static void test_auth_error_messages_never_quote_the_token(void **state)
{
    struct fx *f = *state;
    struct auth_principal p;
    struct err e = {0};
    char *tok = NULL, *hdr, *sig;

    assert_int_equal(devtoken_mint(f->priv2, ISS, AUD, "alice", NULL, T0, 600, &tok, &e), 0);
    hdr = xprintf("Bearer %s", tok);
    sig = strrchr(tok, '.') + 1;
    assert_int_equal(auth_verify(f->v, hdr, T0, &p, &e), -AUTH_EINVALID);
    assert_null(strstr(e.msg, sig));
    assert_null(strstr(e.msg, f->kid2));
    assert_int_equal(auth_verify(f->v, hdr, T0 + 99999, &p, &e), -AUTH_EINVALID);
    assert_null(strstr(e.msg, sig));
    assert_string_equal(p.subject, ""); /* a failed verify leaves an empty principal */
    free(hdr);
    free(tok);
}

/* ---- RS256 and key selection ---- */

static char *rsa_jwks(struct fx *f, cjose_jwk_t **priv, const char *kid, const char *alg)
{
    static const uint8_t e65537[] = {1, 0, 1};
    json_t *pub, *set = json_load_file(f->jwks, 0, NULL);
    char *text, *path = xprintf("%s/rsa-%s.json", f->dir, alg);
    cjose_err cerr;

    *priv = cjose_jwk_create_RSA_random(2048, e65537, sizeof(e65537), &cerr);
    assert_non_null(*priv);
    assert_true(cjose_jwk_set_kid(*priv, kid, strlen(kid), &cerr));
    text = cjose_jwk_to_json(*priv, false, &cerr);
    pub = json_loads(text, 0, NULL);
    cjose_get_dealloc()(text);
    assert_non_null(pub);
    json_object_set_new(pub, "alg", json_string(alg));
    json_array_append_new(json_object_get(set, "keys"), pub);
    assert_int_equal(json_dump_file(set, path, 0), 0);
    json_decref(set);
    return path;
}

static void test_auth_verifies_rs256_and_matches_kty_to_alg(void **state)
{
    struct fx *f = *state;
    char *claims = good_claims(NULL), *path, *tok, *hdr;
    struct auth_principal p;
    struct auth_verifier *v;
    unsigned char sig[256] = {1};
    cjose_jwk_t *rsa;

    path = rsa_jwks(f, &rsa, "rsa-1", "RS256");
    v = verifier_for(path, NULL);
    assert_non_null(v);

    tok = signed_token(rsa, "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"rsa-1\"}", claims);
    assert_int_equal(verify(v, tok, T0, &p), 0);
    assert_string_equal(p.subject, "alice");
    free(tok);

    /* RS256 naming the EC key, ES256 naming the RSA key, PS256 with RSA. */
    hdr = xprintf("{\"alg\":\"RS256\",\"kid\":\"%s\"}", f->kid);
    tok = raw_token(hdr, claims, sig, sizeof(sig));
    assert_int_equal(verify(v, tok, T0, NULL), -AUTH_EINVALID);
    free(tok);
    free(hdr);
    tok = raw_token("{\"alg\":\"ES256\",\"kid\":\"rsa-1\"}", claims, sig, 64);
    assert_int_equal(verify(v, tok, T0, NULL), -AUTH_EINVALID);
    free(tok);
    tok = signed_token(rsa, "{\"alg\":\"PS256\",\"kid\":\"rsa-1\"}", claims);
    assert_int_equal(verify(v, tok, T0, NULL), -AUTH_EINVALID);
    free(tok);

    auth_verifier_free(v);
    cjose_jwk_release(rsa);
    free(path);
    free(claims);
}

static void test_auth_ignores_key_whose_alg_differs_from_token(void **state)
{
    struct fx *f = *state;
    char *claims = good_claims(NULL), *path, *tok;
    struct auth_verifier *v;
    cjose_jwk_t *rsa;

    /* An RSA key labelled "alg":"PS256" may not verify RS256 tokens. */
    path = rsa_jwks(f, &rsa, "rsa-ps", "PS256");
    v = verifier_for(path, NULL);
    assert_non_null(v); /* the EC key keeps the set usable */
    tok = signed_token(rsa, "{\"alg\":\"RS256\",\"kid\":\"rsa-ps\"}", claims);
    assert_int_equal(verify(v, tok, T0, NULL), -AUTH_EINVALID);
    free(tok);
    auth_verifier_free(v);
    cjose_jwk_release(rsa);
    free(path);
    free(claims);
}

/* ---- configuration ---- */

static void test_auth_verifier_new_rejects_bad_config(void **state)
{
    struct fx *f = *state;
    struct auth_config cfg = {.jwks_file = f->jwks, .issuer = ISS, .audience = AUD, .leeway_s = -1};
    static const char *const docs[] = {
        "not json",
        "{\"keys\":[]}",
        "{\"keys\":{}}",
        "[]",
        "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}]}",
    };
    char *path = xprintf("%s/bad.json", f->dir);
    struct err e = {0};
    size_t i;
    int code;

    assert_null(auth_verifier_new(&cfg, &e));
    assert_int_equal(e.code, -AUTH_ECONFIG);
    assert_null(auth_verifier_new(NULL, &e));
    cfg.leeway_s = 0;
    cfg.audience = "";
    assert_null(auth_verifier_new(&cfg, &e));
    assert_int_equal(e.code, -AUTH_ECONFIG);
    assert_null(verifier_for("/nonexistent/jwks.json", &code));
    assert_int_equal(code, -AUTH_ECONFIG);
    assert_null(verifier_for(f->dir, &code)); /* a directory */
    assert_int_equal(code, -AUTH_ECONFIG);
    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        write_text(path, docs[i]);
        assert_null(verifier_for(path, &code));
        assert_int_equal(code, -AUTH_ECONFIG);
    }
    free(path);
}

static void test_auth_verifier_new_skips_unusable_keys(void **state)
{
    struct fx *f = *state;
    char *good = read_text(f->jwks), *doc, *path = xprintf("%s/mixed.json", f->dir);
    char *claims = good_claims(NULL), *hdr = es256_header(f->kid), *tok;
    struct auth_verifier *v;
    json_t *set;

    set = json_loads(good, 0, NULL);
    assert_non_null(set);
    json_array_insert_new(json_object_get(set, "keys"), 0,
                          json_pack("{s:s, s:s}", "kty", "oct", "k", "c2VjcmV0"));
    json_array_insert_new(json_object_get(set, "keys"), 0, json_string("junk"));
    json_array_insert_new(json_object_get(set, "keys"), 0,
                          json_pack("{s:s, s:s}", "kty", "OKP", "crv", "Ed25519"));
    doc = json_dumps(set, 0);
    write_text(path, doc);
    v = verifier_for(path, NULL);
    assert_non_null(v);
    tok = signed_token(f->key, hdr, claims);
    assert_int_equal(verify(v, tok, T0, NULL), 0); /* one usable key: kid optional */
    auth_verifier_free(v);
    free(tok);
    free(hdr);
    free(claims);
    free(doc);
    json_decref(set);
    free(path);
    free(good);
}

/* ---- JWKS reload ---- */

static void test_auth_reloads_jwks_when_mtime_changes(void **state)
{
    struct fx *f = *state;
    char *old_tok = NULL, *new_tok = NULL, *old_hdr, *new_hdr, *saved;
    char *new_priv = xprintf("%s/key3.json", f->dir);
    struct err e = {0};
    struct stat st;

    assert_int_equal(devtoken_mint(f->priv, ISS, AUD, "alice", NULL, T0, 600, &old_tok, &e), 0);
    old_hdr = xprintf("Bearer %s", old_tok);
    assert_int_equal(verify(f->v, old_hdr, T0, NULL), 0);

    /* Rotate: a new key replaces the JWKS (rename), mtime pushed later. */
    assert_int_equal(stat(f->jwks, &st), 0);
    assert_int_equal(devtoken_keygen(new_priv, f->jwks, &e), 0);
    set_mtime(f->jwks, st.st_mtim.tv_sec + 10);
    assert_int_equal(devtoken_mint(new_priv, ISS, AUD, "alice", NULL, T0, 600, &new_tok, &e), 0);
    new_hdr = xprintf("Bearer %s", new_tok);

    /* Same second as the last look: the file is not looked at again. */
    assert_int_equal(verify(f->v, new_hdr, T0, NULL), -AUTH_EINVALID);
    assert_int_equal(verify(f->v, old_hdr, T0, NULL), 0);
    /* One second later it is, and the old key is gone. */
    assert_int_equal(verify(f->v, new_hdr, T0 + 1, NULL), 0);
    assert_int_equal(verify(f->v, old_hdr, T0 + 1, NULL), -AUTH_EINVALID);

    /* A broken rewrite keeps the last good set. */
    saved = read_text(f->jwks);
    write_text(f->jwks, "{\"keys\":[");
    set_mtime(f->jwks, st.st_mtim.tv_sec + 20);
    assert_int_equal(verify(f->v, new_hdr, T0 + 2, NULL), 0);
    write_text(f->jwks, "{\"keys\":[]}");
    set_mtime(f->jwks, st.st_mtim.tv_sec + 30);
    assert_int_equal(verify(f->v, new_hdr, T0 + 3, NULL), 0);
    unlink(f->jwks);
    assert_int_equal(verify(f->v, new_hdr, T0 + 4, NULL), 0);
    /* ...and a fixed file is picked up again. */
    write_text(f->jwks, saved);
    set_mtime(f->jwks, st.st_mtim.tv_sec + 40);
    assert_int_equal(verify(f->v, new_hdr, T0 + 5, NULL), 0);

    free(saved);
    free(new_hdr);
    free(old_hdr);
    free(new_tok);
    free(old_tok);
    free(new_priv);
}

static void test_auth_reload_checks_again_after_clock_steps_back(void **state)
{
    struct fx *f = *state;
    char *old_tok = NULL, *new_tok = NULL, *old_hdr, *new_hdr;
    char *new_priv = xprintf("%s/key4.json", f->dir);
    struct err e = {0};
    struct stat st;

    /* A look at the file at T0+1000 (the token is expired by then, but its
     * signature is checked first). */
    assert_int_equal(devtoken_mint(f->priv, ISS, AUD, "alice", NULL, T0, 600, &old_tok, &e), 0);
    old_hdr = xprintf("Bearer %s", old_tok);
    assert_int_equal(verify(f->v, old_hdr, T0 + 1000, NULL), -AUTH_EEXPIRED);

    assert_int_equal(stat(f->jwks, &st), 0);
    assert_int_equal(devtoken_keygen(new_priv, f->jwks, &e), 0);
    set_mtime(f->jwks, st.st_mtim.tv_sec + 10);
    assert_int_equal(devtoken_mint(new_priv, ISS, AUD, "alice", NULL, T0, 2000, &new_tok, &e), 0);
    new_hdr = xprintf("Bearer %s", new_tok);

    /* Threads straddling a second boundary: a few seconds back is no look... */
    assert_int_equal(verify(f->v, new_hdr, T0 + 990, NULL), -AUTH_EINVALID);
    /* ...but a clock set back by more than a minute does not freeze reloads. */
    assert_int_equal(verify(f->v, new_hdr, T0, NULL), 0);
    free(new_hdr);
    free(old_hdr);
    free(new_tok);
    free(old_tok);
    free(new_priv);
}

/* ---- threads ---- */

struct worker {
    struct auth_verifier *v; /* shared verifier */
    const char *header;      /* token every call verifies */
    int index;               /* worker number, spreads now_s */
    atomic_int *ok;          /* successful verifications, all workers */
};

#define WORKER_CALLS 2000

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct auth_principal p;
    int i;

    for (i = 0; i < WORKER_CALLS; i++) {
        int64_t now = T0 + i / 20 + w->index; /* seconds advance: reload checks happen */

        if (auth_verify(w->v, w->header, now, &p, NULL) == 0 && strcmp(p.subject, "alice") == 0)
            atomic_fetch_add(w->ok, 1);
    }
    return NULL;
}

struct toucher {
    const char *path;  /* JWKS to rewrite */
    const char *text;  /* its content (same keys) */
    atomic_bool *stop; /* set when the workers are done */
    int touches;       /* rewrites done */
};

static void *toucher_main(void *arg)
{
    struct toucher *t = arg;
    char tmp[256];

    snprintf(tmp, sizeof(tmp), "%s.tmp", t->path);
    while (!atomic_load(t->stop)) {
        FILE *fp = fopen(tmp, "w");

        if (!fp)
            break;
        fputs(t->text, fp);
        fclose(fp);
        if (rename(tmp, t->path) != 0)
            break;
        t->touches++;
        usleep(2000);
    }
    return NULL;
}

static void test_auth_verify_is_thread_safe(void **state)
{
    struct fx *f = *state;
    pthread_t threads[4], touch_thread;
    struct worker workers[4];
    struct toucher touch;
    atomic_bool stop = false;
    atomic_int ok = 0;
    struct err e = {0};
    char *tok = NULL, *hdr, *text;
    int i;

    assert_int_equal(devtoken_mint(f->priv, ISS, AUD, "alice", "mcp:tools", T0, 3600, &tok, &e), 0);
    hdr = xprintf("Bearer %s", tok);
    text = read_text(f->jwks);
    touch = (struct toucher){.path = f->jwks, .text = text, .stop = &stop};
    assert_int_equal(pthread_create(&touch_thread, NULL, toucher_main, &touch), 0);
    for (i = 0; i < 4; i++) {
        workers[i] = (struct worker){.v = f->v, .header = hdr, .index = i, .ok = &ok};
        assert_int_equal(pthread_create(&threads[i], NULL, worker_main, &workers[i]), 0);
    }
    for (i = 0; i < 4; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    atomic_store(&stop, true);
    assert_int_equal(pthread_join(touch_thread, NULL), 0);

    assert_int_equal(atomic_load(&ok), 4 * WORKER_CALLS);
    assert_true(touch.touches > 0);
    free(text);
    free(hdr);
    free(tok);
}

/* ---- scopes ---- */

static void test_auth_has_scope_matches_exact_tokens(void **state)
{
    struct auth_principal p = {0};

    (void)state;
    snprintf(p.scopes, sizeof(p.scopes), "mcp:tools:admin  tasks:read mcp:tool");
    assert_false(auth_has_scope(&p, "mcp:tools"));
    assert_true(auth_has_scope(&p, "mcp:tools:admin"));
    assert_true(auth_has_scope(&p, "tasks:read"));
    assert_true(auth_has_scope(&p, "mcp:tool"));
    assert_false(auth_has_scope(&p, "tasks"));
    assert_false(auth_has_scope(&p, "read"));
    assert_false(auth_has_scope(&p, ""));
    assert_false(auth_has_scope(&p, "tasks:read mcp:tool"));
    assert_false(auth_has_scope(&p, NULL));
    assert_false(auth_has_scope(NULL, "tasks:read"));
    snprintf(p.scopes, sizeof(p.scopes), "mcp:tools");
    assert_true(auth_has_scope(&p, "mcp:tools"));
    p.scopes[0] = '\0';
    assert_false(auth_has_scope(&p, "mcp:tools"));
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_auth_verifies_minted_token_and_fills_principal),
        T(test_auth_accepts_scheme_in_any_case_and_extra_spaces),
        T(test_auth_mint_without_scope_leaves_scopes_empty),
        T(test_auth_uses_azp_when_client_id_is_absent),
        T(test_auth_accepts_only_at_jwt_typ_from_a_strict_issuer),
        T(test_auth_accepts_missing_kid_with_one_key),
        T(test_auth_rejects_wrong_audience),
        T(test_auth_accepts_audience_in_array),
        T(test_auth_rejects_audience_array_without_us),
        T(test_auth_rejects_wrong_issuer),
        T(test_auth_rejects_expired_beyond_leeway),
        T(test_auth_accepts_expired_within_leeway),
        T(test_auth_rounds_fractional_exp_and_nbf_safely),
        T(test_auth_rejects_missing_or_non_numeric_exp),
        T(test_auth_rejects_nbf_in_future),
        T(test_auth_rejects_iat_far_future),
        T(test_auth_rejects_bad_subject),
        T(test_auth_rejects_oversized_or_non_string_scope),
        T(test_auth_rejects_tampered_payload),
        T(test_auth_rejects_tampered_signature),
        T(test_auth_rejects_non_canonical_base64url),
        T(test_auth_rejects_alg_none),
        T(test_auth_rejects_hs256_signed_with_public_key),
        T(test_auth_rejects_token_from_unknown_key),
        T(test_auth_rejects_missing_kid_with_two_keys),
        T(test_auth_rejects_es256_signature_of_wrong_length),
        T(test_auth_rejects_disallowed_header_members),
        T(test_auth_rejects_header_that_is_not_a_json_object),
        T(test_auth_rejects_signed_claims_that_are_not_an_object),
        T(test_auth_rejects_missing_header),
        T(test_auth_rejects_non_bearer_scheme),
        T(test_auth_rejects_empty_bearer_token),
        T(test_auth_rejects_wrong_segment_count_or_alphabet),
        T(test_auth_rejects_oversized_header),
        T(test_auth_error_messages_never_quote_the_token),
        T(test_auth_verifies_rs256_and_matches_kty_to_alg),
        T(test_auth_ignores_key_whose_alg_differs_from_token),
        T(test_auth_verifier_new_rejects_bad_config),
        T(test_auth_verifier_new_skips_unusable_keys),
        T(test_auth_reloads_jwks_when_mtime_changes),
        T(test_auth_reload_checks_again_after_clock_steps_back),
        T(test_auth_verify_is_thread_safe),
        T(test_auth_has_scope_matches_exact_tokens),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
