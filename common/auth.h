/*
 * auth.h - bearer JWT verification (OAuth 2.1 resource server, RFC 9068 profile).
 *
 * The verifier trusts one or more issuers, each with its own keys (a watched
 * JWKS file, common/jwks.h, or a JWKS URL fetched in the background,
 * common/jwks_remote.h), accepted audiences, scope claim and typ rule.  It
 * checks the signature (ES256/RS256 allow-list), typ, iss, aud,
 * exp/nbf/iat with leeway, and yields a principal and its scopes.  Minting
 * development tokens is common/devtoken.h; nothing here signs.  Error
 * messages never quote the token.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_AUTH_H
#define TASKWIRE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "jwks_remote.h"

#define AUTH_MAX_HEADER 8192               /* bytes of an Authorization header we look at */
#define AUTH_TIME_LIMIT ((int64_t)1 << 62) /* NumericDates are clamped to +-this (seconds) */
#define AUTH_MAX_ISSUERS   16              /* trusted issuers of one verifier */
#define AUTH_MAX_AUDIENCES 8               /* accepted audiences of one issuer */

enum auth_error {
    AUTH_EMISSING = 1, /* no Authorization header, or not a Bearer one */
    AUTH_EMALFORMED,   /* not three base64url segments, bad JSON, too long */
    AUTH_EINVALID,     /* bad signature, unknown kid, alg/typ not allowed, bad claims */
    AUTH_EEXPIRED,     /* exp passed, or nbf not reached (beyond leeway) */
    AUTH_ECONFIG,      /* verifier configuration or JWKS file unusable */
    AUTH_ENOMEM,       /* an allocation failed */
};

/* Which check refused a token: for logs and metric labels, never for the client. */
enum auth_reason {
    AUTH_REASON_NONE = 0,  /* accepted */
    AUTH_REASON_MISSING,   /* no Authorization header, or not Bearer */
    AUTH_REASON_MALFORMED, /* not a compact JWS of JSON objects, too long */
    AUTH_REASON_ISSUER,    /* iss is not a trusted issuer */
    AUTH_REASON_KEY,       /* no key for its kid and alg (yet): unknown kid, keys not fetched */
    AUTH_REASON_SIGNATURE, /* alg off the list, crit, or the signature does not verify */
    AUTH_REASON_TYP,       /* typ is not at+jwt (and the issuer is not lenient) */
    AUTH_REASON_AUDIENCE,  /* aud does not name this resource */
    AUTH_REASON_EXPIRED,   /* exp passed or nbf not reached */
    AUTH_REASON_CLAIMS,    /* exp/iat/sub/client_id/scope missing or of the wrong shape */
    AUTH_REASON_INTERNAL,  /* out of memory, or no usable configuration */
    AUTH_REASON_COUNT      /* number of reasons */
};

/* One trusted authorization server. */
struct auth_issuer {
    const char *issuer;            /* exact "iss" */
    const char *jwks_file;         /* its keys from this watched file, or NULL */
    const char *jwks_uri;          /* its keys from this https:// URL, or NULL */
    const char *const *audiences;  /* accepted "aud" values, 1..AUTH_MAX_AUDIENCES */
    size_t naudiences;             /* entries in audiences */
    const char *scope_claim;       /* claim holding the scopes (string or array); NULL: "scope" */
    const char *principal_claim;   /* claim naming the principal; NULL: "sub" */
    const char *principal_prefix;  /* put before it to make the task owner; NULL: "" */
    bool typ_lenient;              /* also accept typ "JWT" or none when the scope claim is
                                      there (identity providers without RFC 9068) */
    bool advertise;                /* list it in the resource metadata (the frontend's
                                      business; the verifier ignores it) */
};

struct auth_config {
    const char *jwks_file;  /* one-issuer shorthand: a JWKS file ... */
    const char *issuer;     /* ... for this "iss" (NULL: no shorthand issuer) ... */
    const char *audience;   /* ... and this "aud" */
    int leeway_s;           /* clock skew allowed on exp/nbf/iat */
    const struct auth_issuer *issuers; /* further issuers (after the shorthand one) */
    size_t nissuers;        /* entries in issuers */
    const char *ca_file;    /* CA bundle for JWKS URLs, NULL: the system's */
    int64_t jwks_ttl_s;     /* lifetime of fetched keys without cache headers (0: 300) */
    int64_t jwks_cooldown_s; /* least time between fetches of one URL (0: 5) */
    jwks_fetch_fn *fetch;   /* transport of JWKS URLs, NULL: libcurl (a test seam) */
    void *fetch_arg;        /* its argument */
    bool manual_fetch;      /* no fetch threads: tests call auth_verifier_refresh() */
};

struct auth_principal {
    char subject[256];   /* the task owner: principal_prefix + the principal claim */
    char client_id[256]; /* "client_id" or "azp", may be empty */
    char scopes[1024];   /* the scope claim as space-separated scopes, may be empty */
    int64_t expires_at;  /* "exp", Unix seconds */
    bool all_scopes;     /* holds every scope (TASKWIRE_AUTH=none); 'scopes' is then empty */
};

struct auth_verifier;

/* Check 'cfg', load the JWKS files, start the fetchers of JWKS URLs, copy every string;
 * release with auth_verifier_free().  NULL with 'err' set (-AUTH_ECONFIG, -AUTH_ENOMEM). */
struct auth_verifier *auth_verifier_new(const struct auth_config *cfg, struct err *err);
/* Check 'cfg' as auth_verifier_new() does, without loading keys: 0 or -AUTH_ECONFIG. */
MUST_CHECK int auth_config_check(const struct auth_config *cfg, struct err *err);
/* Release; NULL is a no-op.  Not concurrently with auth_verify(). */
void auth_verifier_free(struct auth_verifier *v);
/* Verify a full "Authorization" header value ("Bearer <jwt>") at Unix time 'now_s'
 * (which also paces JWKS reloads: at most one look at the file per later second).
 * Thread-safe.  Returns 0 and fills *out, or -AUTH_E* with *out zeroed and 'err' set. */
MUST_CHECK int auth_verify(struct auth_verifier *v, const char *authorization, int64_t now_s,
                           struct auth_principal *out, struct err *err);
/* auth_verify(), also naming the check that refused the token in *reason (may be NULL). */
MUST_CHECK int auth_check(struct auth_verifier *v, const char *authorization, int64_t now_s,
                          struct auth_principal *out, enum auth_reason *reason,
                          struct err *err);
/* The metric label of 'r' ("missing", "signature", ...). */
const char *auth_reason_name(enum auth_reason r);
/* Wait up to 'timeout_ms' for the first keys of every JWKS URL; true when all came. */
bool auth_verifier_wait_keys(struct auth_verifier *v, int64_t timeout_ms);
/* Run the fetch steps due at monotonic 'now_ms' of a manual_fetch verifier (tests). */
void auth_verifier_refresh(struct auth_verifier *v, int64_t now_ms);
/* True when the principal's space-separated scopes contain 'scope' exactly (or it holds
 * all scopes). */
bool auth_has_scope(const struct auth_principal *p, const char *scope);

#endif
