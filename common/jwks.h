/*
 * jwks.h - JSON Web Key Sets from a file: loading, key choice and reloads.
 *
 * A key set keeps only signature keys we can use (EC P-256 for ES256, RSA
 * of at least 2048 bits for RS256); anything else in the file is skipped.
 * A set is immutable and refcounted once built.  A cache watches one file
 * and swaps in a new set when the file changes, keeping the last good set
 * when the new content is unusable.  No network fetches (common/jwks_remote.h
 * does those), no logging.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_JWKS_H
#define TASKWIRE_JWKS_H

#include <stddef.h>
#include <stdint.h>

#include <cjose/cjose.h>

#include "err.h"

#define JWKS_MAX_BYTES (1024 * 1024) /* a JWKS file larger than this is refused */

enum jwks_error {
    JWKS_EFILE = 1, /* the file cannot be read (missing, not regular, too large, I/O) */
    JWKS_EINVALID,  /* not JSON, no "keys" array, or not one usable key */
    JWKS_ENOKEY,    /* no key of the set fits the requested kid and algorithm */
    JWKS_ENOMEM,    /* an allocation failed */
};

/* The algorithms on the allow-list; each usable key verifies exactly one. */
enum jwks_alg {
    JWKS_ALG_ES256 = 1, /* ECDSA P-256 with SHA-256 */
    JWKS_ALG_RS256,     /* RSASSA-PKCS1-v1_5 with SHA-256 */
};

/* One usable key of a set; owned by the set. */
struct jwks_key {
    cjose_jwk_t *jwk;  /* the key, released with the set */
    char *kid;         /* its "kid", or NULL when it has none */
    enum jwks_alg alg; /* the one algorithm it may verify */
};

struct jwks_set;
struct jwks_cache;

/* Parse "ES256" or "RS256" into *alg; 0, or -JWKS_ENOKEY for any other name. */
MUST_CHECK int jwks_alg_parse(const char *name, enum jwks_alg *alg);
/* Load the JWKS at 'path' into a new set holding one reference (release with
 * jwks_set_put()). */
MUST_CHECK int jwks_set_load(const char *path, struct jwks_set **out, struct err *err);
/* Parse a JWKS document of 'len' bytes ('what' names its source in messages) into a new
 * set holding one reference. */
MUST_CHECK int jwks_set_parse(const char *text, size_t len, const char *what,
                              struct jwks_set **out, struct err *err);
/* Take one more reference to 'set' (which the caller holds); returns 'set'.  Thread-safe. */
struct jwks_set *jwks_set_get(struct jwks_set *set);
/* Number of usable keys in 'set' (at least 1). */
/* Unique to 'set' in this process, never 0 (keys changed = another serial). */
uint64_t jwks_set_serial(const struct jwks_set *set);
size_t jwks_set_count(const struct jwks_set *set);
/* Choose the key for (alg, kid) (kid NULL: the set must have exactly one key); *key
 * borrows from 'set'.  0 or -JWKS_ENOKEY. */
MUST_CHECK int jwks_pick(const struct jwks_set *set, enum jwks_alg alg, const char *kid,
                         const struct jwks_key **key, struct err *err);
/* Drop one reference; the last frees the set.  NULL is a no-op.  Thread-safe. */
void jwks_set_put(struct jwks_set *set);

/* Load 'path' now and watch it; NULL with 'err' set (-JWKS_E* in err->code). */
struct jwks_cache *jwks_cache_new(const char *path, struct err *err);
/* Release the cache and its reference to the current set; NULL is a no-op. */
void jwks_cache_free(struct jwks_cache *c);
/* The current set as a new reference, after looking at the file if 'now_s' (Unix
 * seconds) is due for a look.  Thread-safe; never NULL. */
struct jwks_set *jwks_cache_get(struct jwks_cache *c, int64_t now_s);

#endif
