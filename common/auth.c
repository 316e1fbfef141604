/*
 * auth.c - bearer JWT verification against a watched JWKS file.
 *
 * Checks the header shape, the JOSE header (alg allow-list, typ, crit, kid),
 * the signature through cjose with a key from common/jwks, then
 * iss/aud/exp/nbf/iat/sub/scope.  It does not fetch keys over the network,
 * introspect opaque tokens, mint tokens (common/devtoken) or log.
 * Invariant: no error message ever quotes the token.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "auth.h"
#include "b64.h"
#include "jwks.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjose/cjose.h>
#include <jansson.h>

#define AUTH_MAX_LEEWAY_S    3600 /* larger skew is a configuration mistake */
#define AUTH_ES256_SIG_BYTES 64   /* r || s, 32 bytes each (RFC 7518 3.4) */

struct auth_verifier {
    char *issuer;            /* own copy of cfg->issuer */
    char *audience;          /* own copy of cfg->audience */
    int leeway_s;            /* skew allowed on exp/nbf/iat, 0..AUTH_MAX_LEEWAY_S */
    struct jwks_cache *keys; /* the watched JWKS file (thread-safe) */
};

/* The three segments of a compact JWS, pointing into the header value. */
struct token_parts {
    const char *compact; /* start of the token */
    size_t compact_len;  /* its length */
    const char *seg[3];  /* header, payload, signature (base64url, not NUL-terminated) */
    size_t len[3];       /* length of each segment, all > 0 */
};

/*
 * Strict unpadded base64url decode (common/b64.c): each byte string has
 * exactly one accepted encoding (no malleable signatures).  Returns 0 with a
 * new malloc'd buffer (one spare byte, NUL-terminated), -AUTH_EMALFORMED or
 * -AUTH_ENOMEM.
 */
static int b64url_decode(const char *in, size_t len, unsigned char **out, size_t *out_len)
{
    unsigned char *buf = malloc(B64_DECODED_MAX(len) + 1);
    if (!buf)
        return -AUTH_ENOMEM;
    long n = b64_decode(in, len, true, buf, B64_DECODED_MAX(len));
    if (n < 0) {
        free(buf);
        return -AUTH_EMALFORMED;
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = (size_t)n;
    return 0;
}

/* ---- verifier ---- */

/*
 * Create a verifier: copy the strings of 'cfg' and load cfg->jwks_file.
 *
 * 'cfg' is borrowed; nothing in it is kept.  leeway_s must be 0..3600.
 * Returns a new verifier to release with auth_verifier_free(), or NULL with
 * 'err' set: -AUTH_ECONFIG when cfg is incomplete or the JWKS unreadable,
 * not JSON, or without any usable key (see common/jwks.h); -AUTH_ENOMEM.
 * Thread-safe (keeps no global state).
 */
struct auth_verifier *auth_verifier_new(const struct auth_config *cfg, struct err *err)
{
    struct auth_verifier *v;
    struct err e = {0};

    if (!cfg || !cfg->jwks_file || !*cfg->jwks_file || !cfg->issuer || !*cfg->issuer ||
        !cfg->audience || !*cfg->audience) {
        err_set(err, -AUTH_ECONFIG, "auth needs a JWKS file, an issuer and an audience");
        return NULL;
    }
    if (cfg->leeway_s < 0 || cfg->leeway_s > AUTH_MAX_LEEWAY_S) {
        err_set(err, -AUTH_ECONFIG, "auth leeway must be 0..%d seconds", AUTH_MAX_LEEWAY_S);
        return NULL;
    }
    v = calloc(1, sizeof(*v));
    if (!v) {
        err_set(err, -AUTH_ENOMEM, "out of memory creating the auth verifier");
        return NULL;
    }
    v->issuer = strdup(cfg->issuer);
    v->audience = strdup(cfg->audience);
    if (!v->issuer || !v->audience) {
        err_set(err, -AUTH_ENOMEM, "out of memory creating the auth verifier");
        goto out_free_verifier;
    }
    v->leeway_s = cfg->leeway_s;
    v->keys = jwks_cache_new(cfg->jwks_file, &e);
    if (!v->keys) {
        if (err)
            *err = e;
        err_recode(err, e.code == -JWKS_ENOMEM ? -AUTH_ENOMEM : -AUTH_ECONFIG);
        goto out_free_verifier;
    }
    return v;

out_free_verifier:
    free(v->issuer);
    free(v->audience);
    free(v);
    return NULL;
}

/*
 * Release 'v' and its key cache.  NULL is a no-op.  Must not run
 * concurrently with auth_verify() on the same verifier.
 */
void auth_verifier_free(struct auth_verifier *v)
{
    if (!v)
        return;
    jwks_cache_free(v->keys);
    free(v->issuer);
    free(v->audience);
    free(v);
}

/* ---- verification ---- */

/* Split "Bearer <jwt>" and check the token's alphabet and shape. */
static int split_header(const char *authorization, struct token_parts *t, struct err *err)
{
    const char *p, *tok;
    size_t n, scheme_len;
    int dots = 0;

    if (!authorization || !*authorization)
        return err_set(err, -AUTH_EMISSING, "no Authorization header");
    n = strnlen(authorization, (size_t)AUTH_MAX_HEADER + 1);
    if (n > AUTH_MAX_HEADER)
        return err_set(err, -AUTH_EMALFORMED, "Authorization header longer than %d bytes",
                       AUTH_MAX_HEADER);
    scheme_len = strcspn(authorization, " ");
    if (scheme_len != 6 || strncasecmp(authorization, "Bearer", 6) != 0)
        return err_set(err, -AUTH_EMISSING, "Authorization scheme is not Bearer");

    tok = authorization + 6;
    while (*tok == ' ')
        tok++;
    t->compact = tok;
    t->seg[0] = tok;
    for (p = tok; *p; p++) {
        if (*p == '.') {
            if (dots == 2)
                goto out_malformed;
            t->len[dots] = (size_t)(p - t->seg[dots]);
            t->seg[++dots] = p + 1;
        } else if (!b64url_char((unsigned char)*p)) {
            goto out_malformed;
        }
    }
    if (dots != 2)
        goto out_malformed;
    t->len[2] = (size_t)(p - t->seg[2]);
    t->compact_len = (size_t)(p - tok);
    if (t->len[0] == 0 || t->len[1] == 0 || t->len[2] == 0)
        goto out_malformed;
    return 0;

out_malformed:
    return err_set(err, -AUTH_EMALFORMED, "bearer token is not three base64url segments");
}

/* Check the JOSE header; *kid borrows from 'hdr' and may be NULL. */
static int check_header(json_t *hdr, enum jwks_alg *alg, const char **kid, struct err *err)
{
    const char *alg_s, *typ;
    json_t *typ_j, *kid_j;

    alg_s = json_string_value(json_object_get(hdr, "alg"));
    if (jwks_alg_parse(alg_s, alg) != 0)
        return err_set(err, -AUTH_EINVALID, "token alg is not ES256 or RS256");

    typ_j = json_object_get(hdr, "typ");
    if (typ_j) {
        typ = json_string_value(typ_j);
        if (!typ || (strcasecmp(typ, "at+jwt") != 0 && strcasecmp(typ, "application/at+jwt") != 0 &&
                     strcasecmp(typ, "JWT") != 0))
            return err_set(err, -AUTH_EINVALID, "token typ is not at+jwt");
    }
    /* RFC 7515 4.1.11: we understand no extension, so any "crit" is fatal. */
    if (json_object_get(hdr, "crit"))
        return err_set(err, -AUTH_EINVALID, "token header has a crit member");

    kid_j = json_object_get(hdr, "kid");
    if (kid_j && !json_is_string(kid_j))
        return err_set(err, -AUTH_EINVALID, "token kid is not a string");
    *kid = kid_j ? json_string_value(kid_j) : NULL;
    return 0;
}

/*
 * Decode and check the JOSE header of 't'.  Returns 0 with *hdr a new
 * reference (the caller releases it) that *kid borrows from, or an error
 * with *hdr NULL.
 */
static int parse_header(const struct token_parts *t, json_t **hdr, enum jwks_alg *alg,
                        const char **kid, struct err *err)
{
    unsigned char *text;
    size_t len;
    int rc;

    *hdr = NULL;
    rc = b64url_decode(t->seg[0], t->len[0], &text, &len);
    if (rc)
        return err_set(err, rc, "token header is not base64url");
    *hdr = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
    free(text);
    if (!json_is_object(*hdr))
        rc = err_set(err, -AUTH_EMALFORMED, "token header is not a JSON object");
    else
        rc = check_header(*hdr, alg, kid, err);
    if (rc) {
        json_decref(*hdr);
        *hdr = NULL;
    }
    return rc;
}

/*
 * Check the signature of 't' with the key its header selects, from the key
 * set current at 'now_s' (which may reload the JWKS first).  'sig_len' is
 * the decoded signature length.  Thread-safe: uses a referenced snapshot.
 */
static int check_signature(struct auth_verifier *v, const struct token_parts *t, enum jwks_alg alg,
                           const char *kid, size_t sig_len, int64_t now_s, struct err *err)
{
    const struct jwks_key *key = NULL;
    struct jwks_set *set;
    cjose_jws_t *jws;
    cjose_err cerr;
    int rc;

    set = jwks_cache_get(v->keys, now_s);
    rc = jwks_pick(set, alg, kid, &key, err);
    if (rc) {
        rc = err_recode(err, -AUTH_EINVALID);
        goto out_put_set;
    }
    /* cjose splits any length into r and s, so a padded or extended
     * signature of a valid one would verify: insist on exactly 64 bytes. */
    if (alg == JWKS_ALG_ES256 && sig_len != AUTH_ES256_SIG_BYTES) {
        rc = err_set(err, -AUTH_EINVALID, "ES256 signature is %zu bytes, not 64", sig_len);
        goto out_put_set;
    }
    jws = cjose_jws_import(t->compact, t->compact_len, &cerr);
    if (!jws) {
        rc = err_set(err, cerr.code == CJOSE_ERR_NO_MEMORY ? -AUTH_ENOMEM : -AUTH_EMALFORMED,
                     "token cannot be parsed as a JWS");
        goto out_put_set;
    }
    if (!cjose_jws_verify(jws, key->jwk, &cerr))
        rc = err_set(err, cerr.code == CJOSE_ERR_NO_MEMORY ? -AUTH_ENOMEM : -AUTH_EINVALID,
                     "token signature does not verify");
    cjose_jws_release(jws);
out_put_set:
    jwks_set_put(set);
    return rc;
}

/*
 * Read a NumericDate (integer or real seconds).  Reals are rounded down, or
 * up when 'round_up', so integer comparisons with now_s stay exact; values
 * are clamped to +-2^62 so adding a leeway cannot overflow.
 */
static bool numeric_date(const json_t *j, bool round_up, int64_t *out)
{
    double d;
    int64_t t;

    if (json_is_integer(j)) {
        json_int_t i = json_integer_value(j);
        *out = i > AUTH_TIME_LIMIT ? AUTH_TIME_LIMIT : i < -AUTH_TIME_LIMIT ? -AUTH_TIME_LIMIT : i;
        return true;
    }
    if (!json_is_real(j))
        return false;
    d = json_real_value(j);
    if (d >= (double)AUTH_TIME_LIMIT) {
        *out = AUTH_TIME_LIMIT;
    } else if (d <= -(double)AUTH_TIME_LIMIT) {
        *out = -AUTH_TIME_LIMIT;
    } else {
        t = (int64_t)d; /* truncates toward zero */
        if (round_up && (double)t < d)
            t++;
        else if (!round_up && (double)t > d)
            t--;
        *out = t;
    }
    return true;
}

/* Copy a JSON string of 1..cap-1 bytes (0.. when 'allow_empty') without
 * control characters into 'dst'.  False when 'j' is anything else. */
static bool copy_text(const json_t *j, char *dst, size_t cap, bool allow_empty)
{
    const char *s = json_string_value(j);
    size_t len, i;

    if (!s)
        return false;
    len = json_string_length(j);
    if ((len == 0 && !allow_empty) || len >= cap)
        return false;
    for (i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
    return true;
}

/* True when "aud" is our audience or an array of strings holding it. */
static bool aud_contains(const json_t *aud, const char *audience)
{
    bool found = false;
    size_t i;

    if (json_is_string(aud))
        return strcmp(json_string_value(aud), audience) == 0;
    if (!json_is_array(aud))
        return false;
    for (i = 0; i < json_array_size(aud); i++) {
        const char *s = json_string_value(json_array_get(aud, i));

        if (!s)
            return false; /* a malformed array is not trusted at all */
        if (strcmp(s, audience) == 0)
            found = true;
    }
    return found;
}

/* Validate the claims of a token whose signature has been checked. */
static int check_claims(const struct auth_verifier *v, const json_t *claims, int64_t now_s,
                        struct auth_principal *p, struct err *err)
{
    const char *iss;
    int64_t exp, nbf, iat;
    json_t *j;

    iss = json_string_value(json_object_get(claims, "iss"));
    if (!iss || strcmp(iss, v->issuer) != 0)
        return err_set(err, -AUTH_EINVALID, "token iss is not the configured issuer");
    if (!aud_contains(json_object_get(claims, "aud"), v->audience))
        return err_set(err, -AUTH_EINVALID, "token aud does not name this server");

    j = json_object_get(claims, "exp");
    if (!j || !numeric_date(j, false, &exp))
        return err_set(err, -AUTH_EINVALID, "token exp is missing or not a number");
    if (now_s > exp + v->leeway_s)
        return err_set(err, -AUTH_EEXPIRED, "token expired");
    j = json_object_get(claims, "nbf");
    if (j && !numeric_date(j, true, &nbf))
        return err_set(err, -AUTH_EINVALID, "token nbf is not a number");
    if (j && now_s < nbf - v->leeway_s)
        return err_set(err, -AUTH_EEXPIRED, "token not valid yet (nbf)");
    j = json_object_get(claims, "iat");
    if (j && !numeric_date(j, true, &iat))
        return err_set(err, -AUTH_EINVALID, "token iat is not a number");
    if (j && iat - v->leeway_s > now_s)
        return err_set(err, -AUTH_EINVALID, "token iat is in the future");

    if (!copy_text(json_object_get(claims, "sub"), p->subject, sizeof(p->subject), false))
        return err_set(err, -AUTH_EINVALID,
                       "token sub is missing or not a printable string "
                       "of at most 255 bytes");
    j = json_object_get(claims, "client_id");
    if (!j)
        j = json_object_get(claims, "azp");
    if (j && !copy_text(j, p->client_id, sizeof(p->client_id), true))
        return err_set(err, -AUTH_EINVALID,
                       "token client_id/azp is not a printable string "
                       "of at most 255 bytes");
    j = json_object_get(claims, "scope");
    if (j && !copy_text(j, p->scopes, sizeof(p->scopes), true))
        return err_set(err, -AUTH_EINVALID,
                       "token scope is not a printable string of at "
                       "most 1023 bytes");
    p->expires_at = exp;
    return 0;
}

/*
 * Verify the Authorization header value 'authorization' ("Bearer <jwt>") at
 * Unix time 'now_s', which also paces JWKS reloads (at most one look at the
 * file per distinct later second).
 *
 * Returns 0 and fills *out.  Otherwise *out is zeroed and the result is
 * -AUTH_EMISSING (no header, other scheme), -AUTH_EMALFORMED (too long, not
 * three canonical base64url segments, header or claims not a JSON object),
 * -AUTH_EINVALID (alg/typ/crit/kid/key, signature, iss, aud, sub, iat,
 * claim types), -AUTH_EEXPIRED (exp or nbf beyond the leeway) or
 * -AUTH_ENOMEM; 'err' (may be NULL) never quotes the token.
 * 'authorization' is borrowed.  Thread-safe: any number of threads may
 * verify with one verifier.
 */
int auth_verify(struct auth_verifier *v, const char *authorization, int64_t now_s,
                struct auth_principal *out, struct err *err)
{
    struct auth_principal p;
    struct token_parts t = {0};
    unsigned char *claims_text, *sig;
    size_t claims_len, sig_len;
    json_t *hdr, *claims;
    enum jwks_alg alg = JWKS_ALG_ES256; /* set by parse_header(); quiets -Wmaybe-uninitialized */
    const char *kid = NULL;
    int rc;

    if (!v || !out)
        return err_set(err, -AUTH_ECONFIG, "auth_verify needs a verifier and a principal");
    memset(out, 0, sizeof(*out));
    memset(&p, 0, sizeof(p));
    rc = split_header(authorization, &t, err);
    if (rc)
        return rc;
    rc = parse_header(&t, &hdr, &alg, &kid, err);
    if (rc)
        return rc;

    rc = b64url_decode(t.seg[2], t.len[2], &sig, &sig_len);
    if (rc) {
        err_set(err, rc, "token signature is not base64url");
        goto out_free_hdr;
    }
    free(sig); /* only its length matters here; cjose decodes it again */
    rc = b64url_decode(t.seg[1], t.len[1], &claims_text, &claims_len);
    if (rc) {
        err_set(err, rc, "token payload is not base64url");
        goto out_free_hdr;
    }
    rc = check_signature(v, &t, alg, kid, sig_len, now_s, err);
    if (rc)
        goto out_free_claims_text;

    claims = json_loadb((const char *)claims_text, claims_len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(claims)) {
        rc = err_set(err, -AUTH_EMALFORMED, "token claims are not a JSON object");
        goto out_free_claims;
    }
    rc = check_claims(v, claims, now_s, &p, err);
    if (rc == 0)
        *out = p;

out_free_claims:
    json_decref(claims);
out_free_claims_text:
    free(claims_text);
out_free_hdr:
    json_decref(hdr);
    return rc;
}

/*
 * True when 'scope' is one of the space-separated tokens of p->scopes,
 * compared exactly ("mcp:tools" does not match "mcp:tools:admin").  False for
 * NULL or empty arguments.  Borrows both; thread-safe.
 */
bool auth_has_scope(const struct auth_principal *p, const char *scope)
{
    const char *s, *end;
    size_t want, n;

    if (!p || !scope || !*scope)
        return false;
    want = strlen(scope);
    s = p->scopes;
    end = p->scopes + strnlen(p->scopes, sizeof(p->scopes));
    while (s < end) {
        while (s < end && *s == ' ')
            s++;
        n = 0;
        while (s + n < end && s[n] != ' ')
            n++;
        if (n == want && memcmp(s, scope, n) == 0)
            return true;
        s += n;
    }
    return false;
}
