/*
 * authcache.h - verdicts of verified bearer tokens, so a token is checked once.
 *
 * A fixed table of AUTHCACHE_SLOTS entries, direct-mapped by the SHA-256 of
 * the token: a verified token's principal is kept until the token's "exp" or
 * AUTHCACHE_TTL_S after it was verified, whichever is first, with the issuer
 * and the serial of the key set that verified it: the caller reuses a verdict
 * only while that issuer's current key set has the same serial, so a key
 * withdrawn from a JWKS stops admitting its tokens at once.  Only successful
 * verifications are stored; a colliding token replaces the entry.
 * Pure: no I/O, no clock (the caller passes the time).  Thread-safe.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_AUTHCACHE_H
#define TASKWIRE_AUTHCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"

#define AUTHCACHE_SLOTS 64 /* entries (each holds a principal, about 1.6 KB) */
#define AUTHCACHE_TTL_S 60 /* longest time a verdict is reused */
#define AUTHCACHE_KEY   32 /* bytes of a key: SHA-256 of the token */

struct authcache;

/* A new, empty cache (NULL when out of memory); release with authcache_free(). */
struct authcache *authcache_new(void);
/* Release 'c'; NULL is a no-op. */
void authcache_free(struct authcache *c);
/* The key of token 'token' ('len' bytes) into 'key'. */
void authcache_key(const char *token, size_t len, unsigned char key[AUTHCACHE_KEY]);
/* What a verification found: the principal, and what verified it. */
struct authcache_verdict {
    struct auth_principal p; /* the token's principal */
    const void *issuer;      /* the trusted issuer (the caller's, borrowed) */
    uint64_t keys_serial;    /* serial of the issuer's key set that verified it */
};

/* True with *out filled when 'key' has a verdict still valid at 'now_s'. */
bool authcache_get(struct authcache *c, const unsigned char key[AUTHCACHE_KEY], int64_t now_s,
                   struct authcache_verdict *out);
/* Keep verdict 'v', reached at 'now_s', under 'key'. */
void authcache_put(struct authcache *c, const unsigned char key[AUTHCACHE_KEY], int64_t now_s,
                   const struct authcache_verdict *v);

#endif
