/*
 * auth_trust.h - the issuers a verifier trusts, checked and copied, with their keys.
 *
 * A helper of auth.c (like store_row beside store): it turns a struct
 * auth_config into owned issuer records, each with its key source (a
 * watched JWKS file or a fetched JWKS URL), and finds the record of an
 * "iss".  Immutable after auth_trust_init(), so verifiers share it without
 * locks; the key sources are thread-safe themselves.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_AUTH_TRUST_H
#define TASKWIRE_AUTH_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "err.h"
#include "jwks.h"
#include "jwks_remote.h"

/* One trusted issuer, owned by its struct auth_trust. */
struct auth_trusted {
    char *issuer;              /* exact "iss" */
    char **audiences;          /* accepted "aud" values */
    size_t naudiences;         /* entries in audiences (at least 1) */
    char *scope_claim;         /* claim holding the scopes */
    char *principal_claim;     /* claim naming the principal */
    char *prefix;              /* put before the principal ("" for none) */
    bool typ_lenient;          /* also typ "JWT" or none, with the scope claim present */
    struct jwks_cache *file;   /* keys from a watched file, or NULL */
    struct jwks_remote *remote; /* keys from a URL, or NULL */
};

struct auth_trust {
    struct auth_trusted *issuers; /* in configuration order */
    size_t count;                 /* entries in issuers */
    int leeway_s;                 /* clock skew allowed on exp/nbf/iat */
};

/* Check and copy 'cfg' into *t and open every key source; 0 or -AUTH_ECONFIG/-AUTH_ENOMEM. */
MUST_CHECK int auth_trust_init(struct auth_trust *t, const struct auth_config *cfg,
                               struct err *err);
/* Stop the fetchers and release everything; a zeroed *t is a no-op. */
void auth_trust_fini(struct auth_trust *t);
/* The issuer whose identifier is exactly 'iss', or NULL. */
const struct auth_trusted *auth_trust_find(const struct auth_trust *t, const char *iss);
/* The issuer's current key set as a new reference, NULL when none was fetched yet. */
struct jwks_set *auth_trust_keys(const struct auth_trusted *ti, int64_t now_s);

#endif
