/*
 * devtoken.c - development signing keys and ES256 access tokens.
 *
 * Key generation (P-256, kid = RFC 7638 thumbprint) and minting for the CLI
 * and the tests.  Nothing here verifies tokens (common/auth.c does) and no
 * daemon links it.  Private key material is wiped from buffers we free.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "devtoken.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth.h"
#include "fileio.h"

#define DEVTOKEN_MAX_JWK_BYTES (64 * 1024) /* a private JWK file larger than this is refused */

/* ---- keys ---- */

/* Set the RFC 7638 SHA-256 thumbprint of P-256 key 'jwk' as its kid. */
static int set_thumbprint_kid(cjose_jwk_t *jwk, struct err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    char *pub_text, *kid = NULL, canon[256];
    size_t kid_len;
    const char *x, *y;
    json_t *pub;
    cjose_err cerr;
    int rc = 0, n;

    pub_text = cjose_jwk_to_json(jwk, false, &cerr);
    if (!pub_text)
        return err_set(err, -DEVTOKEN_ENOMEM, "cannot export the public key");
    pub = json_loads(pub_text, 0, NULL);
    cjose_get_dealloc()(pub_text);
    x = json_string_value(json_object_get(pub, "x"));
    y = json_string_value(json_object_get(pub, "y"));
    if (!x || !y) {
        rc = err_set(err, -DEVTOKEN_ENOMEM, "cannot read the public key coordinates");
        goto out_free_pub;
    }
    /* Members in lexicographic order, no whitespace (RFC 7638 3.2). */
    n = snprintf(canon, sizeof(canon),
                 "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    if (n < 0 || (size_t)n >= sizeof(canon) ||
        EVP_Digest(canon, (size_t)n, md, &md_len, EVP_sha256(), NULL) != 1 ||
        !cjose_base64url_encode(md, md_len, &kid, &kid_len, &cerr) ||
        !cjose_jwk_set_kid(jwk, kid, kid_len, &cerr))
        rc = err_set(err, -DEVTOKEN_ECRYPTO, "cannot compute the key thumbprint");
    cjose_get_dealloc()(kid);
out_free_pub:
    json_decref(pub);
    return rc;
}

/* cjose_jwk_to_json() plus "alg":"ES256" and "use":"sig", as a new
 * malloc'd string (free with free()), or NULL. */
static char *jwk_text_with_alg(const cjose_jwk_t *jwk, bool priv, bool as_set)
{
    char *raw, *out = NULL;
    json_t *obj, *doc;
    cjose_err cerr;

    raw = cjose_jwk_to_json(jwk, priv, &cerr);
    if (!raw)
        return NULL;
    obj = json_loads(raw, 0, NULL);
    OPENSSL_cleanse(raw, strlen(raw));
    cjose_get_dealloc()(raw);
    if (!obj || json_object_set_new(obj, "alg", json_string("ES256")) != 0 ||
        json_object_set_new(obj, "use", json_string("sig")) != 0) {
        json_decref(obj);
        return NULL;
    }
    doc = as_set ? json_pack("{s:[o]}", "keys", obj) : obj; /* "o" steals obj */
    if (doc)
        out = json_dumps(doc, JSON_INDENT(2));
    json_decref(doc);
    return out;
}

/* Write 'text' to 'path' with 'mode' atomically; the fileio code as ours. */
static int write_key_file(const char *path, const char *text, mode_t mode, struct err *err)
{
    int rc = fileio_write_atomic(path, text, strlen(text), mode, err);

    if (rc)
        return err_recode(err, rc == -FILEIO_ENOMEM ? -DEVTOKEN_ENOMEM : -DEVTOKEN_EIO);
    return 0;
}

/*
 * Create a P-256 key whose kid is its RFC 7638 thumbprint.  Write the
 * private JWK ("alg":"ES256","use":"sig") to 'private_path' with mode 0600
 * and {"keys":[public JWK]} to 'jwks_path' with mode 0644, each through a
 * temporary file and rename(), private file first.
 *
 * Returns 0, -DEVTOKEN_EINVALID (missing or equal paths), -DEVTOKEN_ECRYPTO,
 * -DEVTOKEN_EIO or -DEVTOKEN_ENOMEM.  If the second write fails the new
 * private key is already in place and 'jwks_path' still holds the old set.
 * Borrows the paths; thread-safe.
 */
int devtoken_keygen(const char *private_path, const char *jwks_path, struct err *err)
{
    char *priv_text, *set_text;
    cjose_jwk_t *jwk;
    cjose_err cerr;
    int rc;

    if (!private_path || !*private_path || !jwks_path || !*jwks_path ||
        strcmp(private_path, jwks_path) == 0)
        return err_set(err, -DEVTOKEN_EINVALID, "keygen needs two different paths");
    jwk = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
    if (!jwk)
        return err_set(err, -DEVTOKEN_ECRYPTO, "cannot create a P-256 key");
    rc = set_thumbprint_kid(jwk, err);
    if (rc)
        goto out_release_jwk;

    priv_text = jwk_text_with_alg(jwk, true, false);
    if (!priv_text) {
        rc = err_set(err, -DEVTOKEN_ENOMEM, "cannot serialise the private key");
        goto out_release_jwk;
    }
    set_text = jwk_text_with_alg(jwk, false, true);
    if (!set_text) {
        rc = err_set(err, -DEVTOKEN_ENOMEM, "cannot serialise the JWKS");
        goto out_free_priv_text;
    }
    rc = write_key_file(private_path, priv_text, 0600, err);
    if (rc == 0)
        rc = write_key_file(jwks_path, set_text, 0644, err);
    free(set_text);
out_free_priv_text:
    OPENSSL_cleanse(priv_text, strlen(priv_text));
    free(priv_text);
out_release_jwk:
    cjose_jwk_release(jwk);
    return rc;
}

/* ---- tokens ---- */

/* Read the P-256 private JWK at 'path' into a new cjose key (*jwk). */
static int load_private_key(const char *path, cjose_jwk_t **jwk, struct err *err)
{
    char *text;
    size_t len;
    cjose_err cerr;
    int rc;

    rc = fileio_read(path, DEVTOKEN_MAX_JWK_BYTES, &text, &len, NULL, err);
    if (rc)
        return err_recode(err, rc == -FILEIO_ENOMEM ? -DEVTOKEN_ENOMEM : -DEVTOKEN_EKEY);
    *jwk = cjose_jwk_import(text, len, &cerr);
    OPENSSL_cleanse(text, len);
    free(text);
    if (!*jwk || cjose_jwk_get_kty(*jwk, &cerr) != CJOSE_JWK_KTY_EC ||
        cjose_jwk_EC_get_curve(*jwk, &cerr) != CJOSE_JWK_EC_P_256) {
        cjose_jwk_release(*jwk);
        *jwk = NULL;
        return err_set(err, -DEVTOKEN_EKEY, "%s is not a P-256 private JWK", path);
    }
    return 0;
}

/* The compact JSON claims of a token as a new malloc'd string in *payload. */
static int claims_text(const char *issuer, const char *audience, const char *subject,
                       const char *scope, int64_t now_s, int64_t ttl_s, char **payload,
                       struct err *err)
{
    unsigned char rnd[16];
    char jti[2 * sizeof(rnd) + 1];
    json_t *claims;
    size_t i;
    int rc = 0;

    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return err_set(err, -DEVTOKEN_ECRYPTO, "random generator failed");
    for (i = 0; i < sizeof(rnd); i++)
        snprintf(jti + 2 * i, 3, "%02x", rnd[i]);
    claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "iss", issuer, "aud", audience, "sub",
                       subject, "iat", (json_int_t)now_s, "nbf", (json_int_t)now_s, "exp",
                       (json_int_t)(now_s + ttl_s), "jti", jti);
    if (!claims || (scope && json_object_set_new(claims, "scope", json_string(scope)) != 0) ||
        json_object_set_new(claims, "client_id", json_string(DEVTOKEN_CLIENT_ID)) != 0)
        rc = err_set(err, -DEVTOKEN_EINVALID, "cannot build claims (not UTF-8, or out of memory)");
    else if (!(*payload = json_dumps(claims, JSON_COMPACT)))
        rc = err_set(err, -DEVTOKEN_ENOMEM, "out of memory building claims");
    json_decref(claims);
    return rc;
}

/* Sign 'payload' with 'jwk' (header alg ES256, typ at+jwt, its kid); the compact
 * JWS goes to *token as a new malloc'd string. */
static int sign_compact(cjose_jwk_t *jwk, const char *payload, const char *key_path, char **token,
                        struct err *err)
{
    const char *kid, *compact;
    cjose_header_t *hdr;
    cjose_jws_t *jws;
    cjose_err cerr;
    int rc;

    kid = cjose_jwk_get_kid(jwk, &cerr);
    hdr = cjose_header_new(&cerr);
    if (!hdr || !cjose_header_set(hdr, CJOSE_HDR_ALG, CJOSE_HDR_ALG_ES256, &cerr) ||
        !cjose_header_set(hdr, "typ", "at+jwt", &cerr) ||
        (kid && !cjose_header_set(hdr, CJOSE_HDR_KID, kid, &cerr))) {
        cjose_header_release(hdr);
        return err_set(err, -DEVTOKEN_ENOMEM, "out of memory building the token header");
    }
    jws = cjose_jws_sign(jwk, hdr, (const uint8_t *)payload, strlen(payload), &cerr);
    if (!jws || !cjose_jws_export(jws, &compact, &cerr)) {
        rc = err_set(err, -DEVTOKEN_ECRYPTO, "cannot sign with %s", key_path);
        goto out_release_jws;
    }
    *token = strdup(compact);
    rc = *token ? 0 : err_set(err, -DEVTOKEN_ENOMEM, "out of memory copying the token");
out_release_jws:
    cjose_jws_release(jws);
    cjose_header_release(hdr);
    return rc;
}

/*
 * Sign an ES256 access token with the private JWK at 'private_path':
 * header {"alg":"ES256","typ":"at+jwt","kid"} and claims iss, aud, sub, iat
 * and nbf (now_s), exp (now_s + ttl_s), a random 128-bit hex jti, scope (when
 * not NULL) and client_id DEVTOKEN_CLIENT_ID.
 *
 * Returns 0 and a new malloc'd token in *token (caller frees), or
 * -DEVTOKEN_EINVALID (missing argument, ttl_s <= 0, times out of range,
 * claims not UTF-8), -DEVTOKEN_EKEY (unreadable or non-P-256 private key),
 * -DEVTOKEN_ECRYPTO (randomness, signing) or -DEVTOKEN_ENOMEM, with *token
 * NULL.  Borrows all strings; thread-safe.
 */
int devtoken_mint(const char *private_path, const char *issuer, const char *audience,
                  const char *subject, const char *scope, int64_t now_s, int64_t ttl_s,
                  char **token, struct err *err)
{
    cjose_jwk_t *jwk;
    char *payload = NULL;
    int rc;

    if (!token)
        return err_set(err, -DEVTOKEN_EINVALID, "devtoken_mint needs somewhere to put the token");
    *token = NULL;
    if (!private_path || !issuer || !*issuer || !audience || !*audience || !subject || !*subject)
        return err_set(err, -DEVTOKEN_EINVALID,
                       "minting needs a key, issuer, audience and subject");
    if (ttl_s <= 0 || ttl_s > AUTH_TIME_LIMIT || now_s < -AUTH_TIME_LIMIT ||
        now_s > AUTH_TIME_LIMIT)
        return err_set(err, -DEVTOKEN_EINVALID, "token lifetime out of range");

    rc = load_private_key(private_path, &jwk, err);
    if (rc)
        return rc;
    rc = claims_text(issuer, audience, subject, scope, now_s, ttl_s, &payload, err);
    if (rc == 0)
        rc = sign_compact(jwk, payload, private_path, token, err);
    free(payload);
    cjose_jwk_release(jwk);
    return rc;
}
