/*
 * devtoken.h - development signing keys and bearer tokens ('taskwire keygen/token').
 *
 * Creates a P-256 key pair as JWK files and signs ES256 access tokens with
 * it, so a local stack and the tests can authenticate without a real
 * authorization server.  The daemons never use this: they only verify
 * (common/auth.h).  Production tokens come from a real authorization server.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_DEVTOKEN_H
#define TASKWIRE_DEVTOKEN_H

#include <stdint.h>

#include "err.h"

#define DEVTOKEN_CLIENT_ID "taskwire-cli" /* the client_id claim of minted tokens */

enum devtoken_error {
    DEVTOKEN_EINVALID = 1, /* a missing or out-of-range argument */
    DEVTOKEN_EKEY,         /* the private key file is unreadable or not a P-256 private JWK */
    DEVTOKEN_EIO,          /* a key file cannot be written */
    DEVTOKEN_ECRYPTO,      /* key generation, randomness or signing failed */
    DEVTOKEN_ENOMEM,       /* an allocation failed */
};

/* Create a new P-256 key: the private JWK at 'private_path' (mode 0600) and a
 * JWKS with its public half at 'jwks_path' (mode 0644).  Both get the same kid. */
MUST_CHECK int devtoken_keygen(const char *private_path, const char *jwks_path, struct err *err);
/* Sign an ES256 access token (typ at+jwt) with the private JWK at 'private_path'.
 * 'scope' may be NULL.  Returns 0 and a new malloc'd string in *token (caller frees). */
MUST_CHECK int devtoken_mint(const char *private_path, const char *issuer, const char *audience,
                             const char *subject, const char *scope, int64_t now_s, int64_t ttl_s,
                             char **token, struct err *err);

#endif
