/*
 * auth.h - bearer JWT verification (OAuth 2.1 resource server).
 *
 * The verifier checks the signature (keys from a watched JWKS file, see
 * common/jwks.h; ES256/RS256 allow-list), iss, aud, exp/nbf/iat with leeway,
 * and yields a principal and its scopes.  The JWKS file is re-read when it
 * is replaced or rewritten.  Minting development tokens is common/devtoken.h;
 * nothing here signs.  Error messages never quote the token.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_AUTH_H
#define TASKWIRE_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define AUTH_MAX_HEADER 8192               /* bytes of an Authorization header we look at */
#define AUTH_TIME_LIMIT ((int64_t)1 << 62) /* NumericDates are clamped to +-this (seconds) */

enum auth_error {
    AUTH_EMISSING = 1, /* no Authorization header, or not a Bearer one */
    AUTH_EMALFORMED,   /* not three base64url segments, bad JSON, too long */
    AUTH_EINVALID,     /* bad signature, unknown kid, alg/typ not allowed, bad claims */
    AUTH_EEXPIRED,     /* exp passed, or nbf not reached (beyond leeway) */
    AUTH_ECONFIG,      /* verifier configuration or JWKS file unusable */
    AUTH_ENOMEM,       /* an allocation failed */
};

struct auth_config {
    const char *jwks_file; /* path of a JWKS document ({"keys":[...]}) */
    const char *issuer;    /* required exact "iss" */
    const char *audience;  /* required member of "aud" (string or array) */
    int leeway_s;          /* clock skew allowed on exp/nbf/iat */
};

struct auth_principal {
    char subject[256];   /* "sub": the task owner */
    char client_id[256]; /* "client_id" or "azp", may be empty */
    char scopes[1024];   /* space-separated "scope" claim, may be empty */
    int64_t expires_at;  /* "exp", Unix seconds */
};

struct auth_verifier;

/* Load the JWKS and keep a copy of 'cfg' strings; release with auth_verifier_free().
 * Returns NULL with 'err' set (-AUTH_ECONFIG or -AUTH_ENOMEM). */
struct auth_verifier *auth_verifier_new(const struct auth_config *cfg, struct err *err);
/* Release; NULL is a no-op.  Not concurrently with auth_verify(). */
void auth_verifier_free(struct auth_verifier *v);
/* Verify a full "Authorization" header value ("Bearer <jwt>") at Unix time 'now_s'
 * (which also paces JWKS reloads: at most one look at the file per later second).
 * Thread-safe.  Returns 0 and fills *out, or -AUTH_E* with *out zeroed and 'err' set. */
MUST_CHECK int auth_verify(struct auth_verifier *v, const char *authorization, int64_t now_s,
                           struct auth_principal *out, struct err *err);
/* True when the principal's space-separated scopes contain 'scope' exactly. */
bool auth_has_scope(const struct auth_principal *p, const char *scope);

#endif
