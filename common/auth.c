/*
 * auth.c - bearer JWT verification against the keys of trusted issuers.
 *
 * Checks the header shape, the JOSE header (alg allow-list, crit, kid),
 * picks the trusted issuer named by "iss" (auth_trust.c), checks its typ
 * rule, the signature through cjose with a key of that issuer, then
 * aud/exp/nbf/iat, the principal and the scopes.  It does not fetch keys
 * itself (jwks_remote.c does, in the background), introspect opaque
 * tokens, mint tokens (common/devtoken) or log.  Invariant: no error
 * message ever quotes the token, and every refusal names its reason.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "auth.h"
#include "auth_trust.h"
#include "authcache.h"
#include "b64.h"
#include "clock.h"
#include "jwks.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjose/cjose.h>
#include <jansson.h>

#define AUTH_ES256_SIG_BYTES 64   /* r || s, 32 bytes each (RFC 7518 3.4) */

struct auth_verifier {
    struct auth_trust trust;  /* the trusted issuers and their keys (immutable) */
    struct authcache *cache;  /* verdicts of tokens verified lately */
};

static const char *const reason_names[AUTH_REASON_COUNT] = {
    [AUTH_REASON_NONE] = "none",         [AUTH_REASON_MISSING] = "missing",
    [AUTH_REASON_MALFORMED] = "malformed", [AUTH_REASON_ISSUER] = "issuer",
    [AUTH_REASON_KEY] = "key",           [AUTH_REASON_SIGNATURE] = "signature",
    [AUTH_REASON_TYP] = "typ",           [AUTH_REASON_AUDIENCE] = "audience",
    [AUTH_REASON_EXPIRED] = "expired",   [AUTH_REASON_CLAIMS] = "claims",
    [AUTH_REASON_INTERNAL] = "internal",
};

/* What one verification found out, passed between the steps. */
struct token_check {
    enum auth_reason reason;          /* why it failed (set with the error) */
    uint64_t keys_serial;             /* serial of the key set the signature was checked with */
    const struct auth_trusted *ti;    /* the issuer named by "iss" */
    const char *typ;                  /* the header's typ, NULL when absent (borrows hdr) */
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
 * Create a verifier from 'cfg' (borrowed; nothing in it is kept): the
 * issuers are checked and copied, JWKS files loaded and the fetchers of
 * JWKS URLs started (auth_trust_init()).  Returns a new verifier to release
 * with auth_verifier_free(), or NULL with 'err' set: -AUTH_ECONFIG when cfg
 * is incomplete or inconsistent or a JWKS file unusable; -AUTH_ENOMEM.
 */
struct auth_verifier *auth_verifier_new(const struct auth_config *cfg, struct err *err)
{
    struct auth_verifier *v = calloc(1, sizeof(*v));

    if (!v) {
        err_set(err, -AUTH_ENOMEM, "out of memory creating the auth verifier");
        return NULL;
    }
    if (!(v->cache = authcache_new())) {
        free(v);
        err_set(err, -AUTH_ENOMEM, "out of memory creating the auth verifier");
        return NULL;
    }
    if (auth_trust_init(&v->trust, cfg, err) < 0) {
        authcache_free(v->cache);
        free(v);
        return NULL;
    }
    return v;
}

/*
 * Release 'v', its key caches and fetch threads.  NULL is a no-op.  Must
 * not run concurrently with auth_verify() on the same verifier.
 */
void auth_verifier_free(struct auth_verifier *v)
{
    if (!v)
        return;
    auth_trust_fini(&v->trust);
    authcache_free(v->cache);
    free(v);
}

/*
 * Wait up to 'timeout_ms' in all for every JWKS URL's first good fetch (at
 * start-up; never on a request thread).  True when every issuer has keys.
 */
bool auth_verifier_wait_keys(struct auth_verifier *v, int64_t timeout_ms)
{
    bool all = true;
    int64_t until = clock_now_ms() + timeout_ms;

    for (size_t i = 0; i < v->trust.count; i++) {
        struct jwks_remote *r = v->trust.issuers[i].remote;
        int64_t left = until - clock_now_ms();
        if (r && !jwks_remote_wait(r, left > 0 ? left : 0))
            all = false;
    }
    return all;
}

/* Run the fetch steps due at monotonic 'now_ms' of every JWKS URL of a verifier made
 * with manual_fetch (unit tests). */
void auth_verifier_refresh(struct auth_verifier *v, int64_t now_ms)
{
    for (size_t i = 0; i < v->trust.count; i++)
        if (v->trust.issuers[i].remote)
            (void)jwks_remote_step(v->trust.issuers[i].remote, now_ms);
}

/* The metric label of reason 'r' (a fixed lower-case word).  Pure. */
const char *auth_reason_name(enum auth_reason r)
{
    return r >= 0 && r < AUTH_REASON_COUNT && reason_names[r] ? reason_names[r] : "internal";
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

/* Check the JOSE header; *kid and *typ borrow from 'hdr' and may be NULL. */
static int check_header(json_t *hdr, enum jwks_alg *alg, const char **kid, const char **typ,
                        enum auth_reason *why, struct err *err)
{
    json_t *typ_j, *kid_j;

    *why = AUTH_REASON_SIGNATURE;
    if (jwks_alg_parse(json_string_value(json_object_get(hdr, "alg")), alg) != 0)
        return err_set(err, -AUTH_EINVALID, "token alg is not ES256 or RS256");
    /* RFC 7515 4.1.11: we understand no extension, so any "crit" is fatal. */
    if (json_object_get(hdr, "crit"))
        return err_set(err, -AUTH_EINVALID, "token header has a crit member");
    *why = AUTH_REASON_MALFORMED;
    kid_j = json_object_get(hdr, "kid");
    if (kid_j && !json_is_string(kid_j))
        return err_set(err, -AUTH_EINVALID, "token kid is not a string");
    typ_j = json_object_get(hdr, "typ");
    if (typ_j && !json_is_string(typ_j))
        return err_set(err, -AUTH_EINVALID, "token typ is not a string");
    *kid = json_string_value(kid_j);
    *typ = json_string_value(typ_j);
    *why = AUTH_REASON_NONE;
    return 0;
}

/*
 * Decode 'len' base64url bytes at 'seg' as a JSON object into *out (a new
 * reference, NULL on failure); 'what' names it in messages.
 */
static int decode_object(const char *seg, size_t len, const char *what, json_t **out,
                         struct err *err)
{
    unsigned char *text;
    size_t n;
    int rc = b64url_decode(seg, len, &text, &n);

    *out = NULL;
    if (rc)
        return err_set(err, rc, "token %s is not base64url", what);
    *out = json_loadb((const char *)text, n, JSON_REJECT_DUPLICATES, NULL);
    free(text);
    if (json_is_object(*out))
        return 0;
    json_decref(*out);
    *out = NULL;
    return err_set(err, -AUTH_EMALFORMED, "token %s is not a JSON object", what);
}

/*
 * RFC 9068 2.1: typ must be at+jwt (or application/at+jwt, any case).  A
 * lenient issuer also passes "JWT" or no typ, but only for a token that
 * carries its scope claim (an ID token, typ JWT, does not).
 */
static int check_typ(const struct auth_trusted *ti, const char *typ, const json_t *claims,
                     struct err *err)
{
    if (typ && (strcasecmp(typ, "at+jwt") == 0 || strcasecmp(typ, "application/at+jwt") == 0))
        return 0;
    if (ti->typ_lenient && (!typ || strcasecmp(typ, "JWT") == 0) &&
        json_object_get(claims, ti->scope_claim))
        return 0;
    return err_set(err, -AUTH_EINVALID, "token typ is not at+jwt");
}

/*
 * Check the signature of 't' with the key of issuer 'ti' that its header
 * selects, from the issuer's current set.  An unknown kid (or no set yet)
 * of a JWKS URL asks its fetcher for an early fetch; this thread does not
 * wait for it.  'sig_len' is the decoded signature length.  Thread-safe.
 */
static int check_signature(const struct auth_trusted *ti, const struct token_parts *t,
                           enum jwks_alg alg, const char *kid, size_t sig_len, int64_t now_s,
                           struct token_check *tc, struct err *err)
{
    const struct jwks_key *key = NULL;
    struct jwks_set *set = auth_trust_keys(ti, now_s);
    enum auth_reason *why = &tc->reason;
    cjose_jws_t *jws;
    cjose_err cerr;
    int rc = 0;

    *why = AUTH_REASON_KEY;
    if (!set || jwks_pick(set, alg, kid, &key, err) != 0) {
        if (!set)
            err_set(err, -AUTH_EINVALID, "no keys of the token's issuer yet");
        if (ti->remote)
            jwks_remote_kick(ti->remote);
        rc = err_recode(err, -AUTH_EINVALID);
        goto out_put_set;
    }
    *why = AUTH_REASON_SIGNATURE;
    /* cjose splits any length into r and s, so a padded or extended
     * signature of a valid one would verify: insist on exactly 64 bytes. */
    if (alg == JWKS_ALG_ES256 && sig_len != AUTH_ES256_SIG_BYTES) {
        rc = err_set(err, -AUTH_EINVALID, "ES256 signature is %zu bytes, not 64", sig_len);
        goto out_put_set;
    }
    jws = cjose_jws_import(t->compact, t->compact_len, &cerr);
    if (!jws) {
        *why = AUTH_REASON_MALFORMED;
        rc = err_set(err, cerr.code == CJOSE_ERR_NO_MEMORY ? -AUTH_ENOMEM : -AUTH_EMALFORMED,
                     "token cannot be parsed as a JWS");
        goto out_put_set;
    }
    if (!cjose_jws_verify(jws, key->jwk, &cerr))
        rc = err_set(err, cerr.code == CJOSE_ERR_NO_MEMORY ? -AUTH_ENOMEM : -AUTH_EINVALID,
                     "token signature does not verify");
    cjose_jws_release(jws);
    if (rc == 0) {
        *why = AUTH_REASON_NONE;
        tc->keys_serial = jwks_set_serial(set);
    }
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

/* True when "aud" names one of the issuer's audiences (a string, or an array of
 * strings holding one). */
static bool aud_contains(const json_t *aud, const struct auth_trusted *ti)
{
    bool found = false;
    size_t i, a;

    if (!json_is_string(aud) && !json_is_array(aud))
        return false;
    for (i = 0; i < (json_is_array(aud) ? json_array_size(aud) : 1); i++) {
        const char *s = json_is_array(aud) ? json_string_value(json_array_get(aud, i))
                                           : json_string_value(aud);
        if (!s)
            return false; /* a malformed array is not trusted at all */
        for (a = 0; a < ti->naudiences; a++)
            found = found || strcmp(s, ti->audiences[a]) == 0;
    }
    return found;
}

/*
 * The scope claim 'j' (a space-separated string, or an array of scope
 * strings as Okta and Entra send) as one space-separated string in 'dst'.
 * False for any other shape, a control character, an empty or spaced array
 * member, or more than cap-1 bytes.
 */
static bool copy_scopes(const json_t *j, char *dst, size_t cap)
{
    size_t len = 0, i;
    const json_t *v;

    if (!json_is_array(j))
        return copy_text(j, dst, cap, true);
    dst[0] = '\0';
    json_array_foreach(j, i, v)
    {
        const char *s = json_string_value(v);
        size_t n = s ? json_string_length(v) : 0;
        if (n == 0 || strchr(s, ' ') || len + (len > 0) + n >= cap ||
            !copy_text(v, dst + len + (len > 0), cap - len - (len > 0), false))
            return false;
        if (len > 0)
            dst[len] = ' ';
        len += (len > 0) + n;
    }
    return true;
}

/* The task owner: the issuer's prefix and its principal claim, printable, < 256 bytes. */
static bool copy_principal(const struct auth_trusted *ti, const json_t *claims,
                           struct auth_principal *p)
{
    size_t n = strlen(ti->prefix);

    if (n >= sizeof(p->subject))
        return false;
    memcpy(p->subject, ti->prefix, n);
    return copy_text(json_object_get(claims, ti->principal_claim), p->subject + n,
                     sizeof(p->subject) - n, false);
}

/* exp, nbf and iat at 'now_s' with the leeway; *exp gets "exp". */
static int check_times(const json_t *claims, int64_t now_s, int leeway_s, int64_t *exp,
                       enum auth_reason *why, struct err *err)
{
    int64_t nbf, iat;
    json_t *j;

    *why = AUTH_REASON_CLAIMS;
    j = json_object_get(claims, "exp");
    if (!j || !numeric_date(j, false, exp))
        return err_set(err, -AUTH_EINVALID, "token exp is missing or not a number");
    j = json_object_get(claims, "nbf");
    if (j && !numeric_date(j, true, &nbf))
        return err_set(err, -AUTH_EINVALID, "token nbf is not a number");
    j = json_object_get(claims, "iat");
    if (j && !numeric_date(j, true, &iat))
        return err_set(err, -AUTH_EINVALID, "token iat is not a number");
    if (j && iat - leeway_s > now_s)
        return err_set(err, -AUTH_EINVALID, "token iat is in the future");
    *why = AUTH_REASON_EXPIRED;
    if (now_s > *exp + leeway_s)
        return err_set(err, -AUTH_EEXPIRED, "token expired");
    if (json_object_get(claims, "nbf") && now_s < nbf - leeway_s)
        return err_set(err, -AUTH_EEXPIRED, "token not valid yet (nbf)");
    *why = AUTH_REASON_NONE;
    return 0;
}

/* Validate the claims of a token whose signature has been checked. */
static int check_claims(const struct auth_trusted *ti, int leeway_s, const json_t *claims,
                        int64_t now_s, struct auth_principal *p, enum auth_reason *why,
                        struct err *err)
{
    json_t *j;
    int rc;

    *why = AUTH_REASON_AUDIENCE;
    if (!aud_contains(json_object_get(claims, "aud"), ti))
        return err_set(err, -AUTH_EINVALID, "token aud does not name this server");
    if ((rc = check_times(claims, now_s, leeway_s, &p->expires_at, why, err)) < 0)
        return rc;
    *why = AUTH_REASON_CLAIMS;
    if (!copy_principal(ti, claims, p))
        return err_set(err, -AUTH_EINVALID,
                       "token %.40s is missing or not a printable string of at most 255 bytes "
                       "(with its prefix)",
                       ti->principal_claim);
    j = json_object_get(claims, "client_id");
    if (!j)
        j = json_object_get(claims, "azp");
    if (j && !copy_text(j, p->client_id, sizeof(p->client_id), true))
        return err_set(err, -AUTH_EINVALID,
                       "token client_id/azp is not a printable string "
                       "of at most 255 bytes");
    j = json_object_get(claims, ti->scope_claim);
    if (j && !copy_scopes(j, p->scopes, sizeof(p->scopes)))
        return err_set(err, -AUTH_EINVALID,
                       "token %.40s is not a scope string or array of at most 1023 bytes",
                       ti->scope_claim);
    *why = AUTH_REASON_NONE;
    return 0;
}

/*
 * The checks of a split token: JOSE header, claims decoded, issuer chosen
 * by "iss", its typ rule, the signature with its keys, then the claims.
 */
static int check_token(struct auth_verifier *v, const struct token_parts *t, int64_t now_s,
                       struct auth_principal *p, struct token_check *tc, struct err *err)
{
    json_t *hdr = NULL, *claims = NULL;
    unsigned char *sig;
    size_t sig_len;
    enum jwks_alg alg = JWKS_ALG_ES256; /* set by check_header(); quiets -Wmaybe-uninitialized */
    const char *kid = NULL;
    int rc;

    tc->reason = AUTH_REASON_MALFORMED;
    if ((rc = decode_object(t->seg[0], t->len[0], "header", &hdr, err)) < 0 ||
        (rc = check_header(hdr, &alg, &kid, &tc->typ, &tc->reason, err)) < 0)
        goto out_free;
    tc->reason = AUTH_REASON_MALFORMED;
    if ((rc = b64url_decode(t->seg[2], t->len[2], &sig, &sig_len)) < 0) {
        err_set(err, rc, "token signature is not base64url");
        goto out_free;
    }
    free(sig); /* only its length matters here; cjose decodes it again */
    if ((rc = decode_object(t->seg[1], t->len[1], "claims", &claims, err)) < 0)
        goto out_free;
    tc->reason = AUTH_REASON_ISSUER;
    tc->ti = auth_trust_find(&v->trust, json_string_value(json_object_get(claims, "iss")));
    if (!tc->ti) {
        rc = err_set(err, -AUTH_EINVALID, "token iss is not a trusted issuer");
        goto out_free;
    }
    tc->reason = AUTH_REASON_TYP;
    if ((rc = check_typ(tc->ti, tc->typ, claims, err)) < 0 ||
        (rc = check_signature(tc->ti, t, alg, kid, sig_len, now_s, tc, err)) < 0)
        goto out_free;
    rc = check_claims(tc->ti, v->trust.leeway_s, claims, now_s, p, &tc->reason, err);
out_free:
    json_decref(claims);
    json_decref(hdr);
    return rc;
}

/* True with *out filled when the token of 'key' was verified lately with the key set its
 * issuer still has (authcache.h). */
static bool cached_verdict(struct auth_verifier *v, const unsigned char *key, int64_t now_s,
                           struct auth_principal *out)
{
    struct authcache_verdict c;
    if (!authcache_get(v->cache, key, now_s, &c))
        return false;
    struct jwks_set *set = auth_trust_keys(c.issuer, now_s);
    bool same = set && jwks_set_serial(set) == c.keys_serial;
    jwks_set_put(set);
    if (same)
        *out = c.p;
    return same;
}

/*
 * Verify the Authorization header value 'authorization' ("Bearer <jwt>") at
 * Unix time 'now_s', which also paces JWKS file reloads (at most one look
 * at a file per distinct later second), and say in *reason (may be NULL)
 * which check refused it.
 *
 * Returns 0 and fills *out (*reason AUTH_REASON_NONE).  Otherwise *out is
 * zeroed and the result is -AUTH_EMISSING (no header, other scheme),
 * -AUTH_EMALFORMED (too long, not three canonical base64url segments,
 * header or claims not a JSON object), -AUTH_EINVALID (alg/typ/crit/kid,
 * untrusted iss, no key, signature, aud, sub, iat, claim types),
 * -AUTH_EEXPIRED (exp or nbf beyond the leeway) or -AUTH_ENOMEM; 'err' (may
 * be NULL) never quotes the token.  'authorization' is borrowed.
 * Thread-safe: any number of threads may verify with one verifier; none
 * waits for the network.
 */
int auth_check(struct auth_verifier *v, const char *authorization, int64_t now_s,
               struct auth_principal *out, enum auth_reason *reason, struct err *err)
{
    struct token_check tc = {.reason = AUTH_REASON_INTERNAL};
    struct token_parts t = {0};
    struct auth_principal p;
    int rc;

    if (!v || !out) {
        if (reason)
            *reason = AUTH_REASON_INTERNAL;
        return err_set(err, -AUTH_ECONFIG, "auth_verify needs a verifier and a principal");
    }
    memset(out, 0, sizeof(*out));
    memset(&p, 0, sizeof(p));
    unsigned char key[AUTHCACHE_KEY];
    rc = split_header(authorization, &t, err);
    if (rc) {
        tc.reason = rc == -AUTH_EMISSING ? AUTH_REASON_MISSING : AUTH_REASON_MALFORMED;
    } else {
        /* A token verified lately is not verified again (authcache.h). */
        authcache_key(t.compact, t.compact_len, key);
        if (cached_verdict(v, key, now_s, out)) {
            if (reason)
                *reason = AUTH_REASON_NONE;
            return 0;
        }
        rc = check_token(v, &t, now_s, &p, &tc, err);
        if (rc == 0)
            authcache_put(v->cache, key, now_s,
                          &(struct authcache_verdict){p, tc.ti, tc.keys_serial});
    }
    if (rc == 0)
        *out = p;
    else if (rc == -AUTH_ENOMEM)
        tc.reason = AUTH_REASON_INTERNAL;
    if (reason)
        *reason = rc == 0 ? AUTH_REASON_NONE : tc.reason;
    return rc;
}

/* auth_check() without the reason.  Thread-safe. */
int auth_verify(struct auth_verifier *v, const char *authorization, int64_t now_s,
                struct auth_principal *out, struct err *err)
{
    return auth_check(v, authorization, now_s, out, NULL, err);
}

/*
 * True when 'scope' is one of the space-separated tokens of p->scopes,
 * compared exactly ("mcp:tools" does not match "mcp:tools:admin"), or when
 * p->all_scopes (TASKWIRE_AUTH=none).  False for NULL or empty arguments.
 * Borrows both; thread-safe.
 */
bool auth_has_scope(const struct auth_principal *p, const char *scope)
{
    const char *s, *end;
    size_t want, n;

    if (!p || !scope || !*scope)
        return false;
    if (p->all_scopes)
        return true;
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
