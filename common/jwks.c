/*
 * jwks.c - JSON Web Key Sets from a file: loading, key choice and reloads.
 *
 * Keys are imported with cjose and kept only when they can verify one
 * algorithm of the allow-list.  Invariant: a key set is immutable once
 * built; a reload builds a new refcounted snapshot and swaps the pointer
 * under the cache's mutex, so verifiers holding the old one finish with it.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "jwks.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fileio.h"

#define JWKS_CLOCK_STEP_S 60   /* now_s this far back: the clock was set back */
#define JWKS_MIN_RSA_BITS 2048 /* RFC 7518 3.3 */

static const char *const alg_names[] = {
    [JWKS_ALG_ES256] = "ES256",
    [JWKS_ALG_RS256] = "RS256",
};

struct jwks_set {
    atomic_uint refs;       /* one per holder: the cache, and each verification using it */
    uint64_t serial;        /* unique to this set in the process (jwks_set_serial()) */
    size_t count;           /* usable keys in 'keys', at least 1 */
    struct jwks_key keys[]; /* in JWKS order */
};

/* The serial of the last set made (serials are never reused). */
static atomic_uint_fast64_t set_serials;

struct jwks_cache {
    char *path;                  /* own copy of the watched file's path */
    pthread_mutex_t lock;        /* guards set, stamp and checked_at_s */
    pthread_mutex_t reload_lock; /* held by the one thread re-reading the file */
    struct jwks_set *set;        /* current snapshot; the cache holds one reference */
    struct fileio_stamp stamp;   /* identity of the file 'set' came from */
    int64_t checked_at_s;        /* now_s of the last look at the file, INT64_MIN before any */
};

/* ---- key sets ---- */

/*
 * Parse an algorithm name of the allow-list.  Returns 0 with *alg set, or
 * -JWKS_ENOKEY (NULL, "none", "HS256", anything else).  Thread-safe.
 */
int jwks_alg_parse(const char *name, enum jwks_alg *alg)
{
    for (int a = JWKS_ALG_ES256; name && a <= JWKS_ALG_RS256; a++) {
        if (strcmp(name, alg_names[a]) == 0) {
            *alg = (enum jwks_alg)a;
            return 0;
        }
    }
    return -JWKS_ENOKEY;
}

/*
 * Drop one reference to 'set'; the last one releases its keys.  NULL is a
 * no-op.  Thread-safe.
 */
void jwks_set_put(struct jwks_set *set)
{
    size_t i;

    if (!set || atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) != 1)
        return;
    /* Last reference: no other thread can reach these jwks, so cjose's
     * non-atomic refcount is safe to touch here. */
    for (i = 0; i < set->count; i++) {
        cjose_jwk_release(set->keys[i].jwk);
        free(set->keys[i].kid);
    }
    free(set);
}

/* The key type and size of 'jwk' decide its one algorithm; 0 when none fits. */
static enum jwks_alg alg_of(cjose_jwk_t *jwk)
{
    cjose_err cerr;

    switch (cjose_jwk_get_kty(jwk, &cerr)) {
    case CJOSE_JWK_KTY_EC:
        return cjose_jwk_EC_get_curve(jwk, &cerr) == CJOSE_JWK_EC_P_256 ? JWKS_ALG_ES256 : 0;
    case CJOSE_JWK_KTY_RSA:
        return cjose_jwk_get_keysize(jwk, &cerr) >= JWKS_MIN_RSA_BITS ? JWKS_ALG_RS256 : 0;
    default: /* "oct" keys never verify anything on our allow-list */
        return 0;
    }
}

/* True when member 'name' of 'jwk' is base64url text (no padding) of min..max chars. */
static bool b64url_member(json_t *jwk, const char *name, size_t min, size_t max)
{
    const char *s = json_string_value(json_object_get(jwk, name));
    size_t n = s ? strlen(s) : 0;
    if (!s || n < min || n > max || n % 4 == 1)
        return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

/*
 * True when 'jwk' has the shape of a public key we can use, checked before
 * cjose sees it: cjose 0.6 aborts the process on some malformed members (an
 * EC coordinate that decodes to the wrong length), and a JWKS may come from
 * the network.  EC: P-256 with 43-character x and y; RSA: a 2048- to
 * 16384-bit n and an e of at most 64 bits.  Private members are never
 * accepted: a verifier needs none, and a set holding them is misconfigured.
 */
static bool jwk_shape_ok(json_t *jwk)
{
    static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
    for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
        if (json_object_get(jwk, private_members[i]))
            return false;
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    if (kty && strcmp(kty, "EC") == 0)
        return crv && strcmp(crv, "P-256") == 0 && b64url_member(jwk, "x", 43, 43) &&
               b64url_member(jwk, "y", 43, 43);
    if (kty && strcmp(kty, "RSA") == 0)
        return b64url_member(jwk, "n", 342, 2731) && b64url_member(jwk, "e", 2, 11);
    return false;
}

/*
 * Import one JWKS member into 'key'.  Returns 1 when usable, 0 when it must
 * be skipped (not a signing key, wrong type, shape or size, private members,
 * an "alg" off our list, or cjose cannot import it), -JWKS_ENOMEM.
 */
static int key_import(json_t *jwk_json, struct jwks_key *key)
{
    json_t *use_j, *alg_j, *kid_j;
    cjose_jwk_t *jwk;
    cjose_err cerr;
    enum jwks_alg alg;

    if (!json_is_object(jwk_json))
        return 0;
    use_j = json_object_get(jwk_json, "use");
    alg_j = json_object_get(jwk_json, "alg");
    kid_j = json_object_get(jwk_json, "kid");
    if (use_j && !(json_is_string(use_j) && strcmp(json_string_value(use_j), "sig") == 0))
        return 0;
    if ((alg_j && !json_is_string(alg_j)) || (kid_j && !json_is_string(kid_j)))
        return 0;
    if (!jwk_shape_ok(jwk_json))
        return 0;

    jwk = cjose_jwk_import_json((cjose_header_t *)jwk_json, &cerr);
    if (!jwk)
        return 0;
    alg = alg_of(jwk);
    if (!alg || (alg_j && strcmp(json_string_value(alg_j), alg_names[alg]) != 0)) {
        cjose_jwk_release(jwk);
        return 0;
    }
    key->kid = NULL;
    if (kid_j) {
        key->kid = strdup(json_string_value(kid_j));
        if (!key->kid) {
            cjose_jwk_release(jwk);
            return -JWKS_ENOMEM;
        }
    }
    key->jwk = jwk;
    key->alg = alg;
    return 1;
}

/* A new set (one reference) of the usable members of the "keys" array 'arr'. */
static int set_from_array(json_t *arr, const char *path, struct jwks_set **out, struct err *err)
{
    size_t n = json_array_size(arr), i;
    struct jwks_set *set;
    int rc;

    if (n > (SIZE_MAX - sizeof(*set)) / sizeof(set->keys[0]))
        return err_set(err, -JWKS_EINVALID, "JWKS %s has too many keys", path);
    set = malloc(sizeof(*set) + n * sizeof(set->keys[0]));
    if (!set)
        return err_set(err, -JWKS_ENOMEM, "out of memory loading %s", path);
    atomic_init(&set->refs, 1);
    set->serial = atomic_fetch_add_explicit(&set_serials, 1, memory_order_relaxed) + 1;
    set->count = 0;
    for (i = 0; i < n; i++) {
        rc = key_import(json_array_get(arr, i), &set->keys[set->count]);
        if (rc < 0) {
            err_set(err, rc, "out of memory loading %s", path);
            goto out_put_set;
        }
        set->count += (size_t)rc;
    }
    if (set->count == 0) {
        rc = err_set(err, -JWKS_EINVALID,
                     "JWKS %s has no usable key (%zu skipped: need EC P-256 or RSA >= 2048 "
                     "signing keys)",
                     path, n);
        goto out_put_set;
    }
    *out = set;
    return 0;

out_put_set:
    jwks_set_put(set);
    return rc;
}

/*
 * Parse 'len' bytes at 'text' (need not be NUL-terminated) as a JWKS into a
 * new set holding one reference, released with jwks_set_put(); 'what' names
 * the source in messages (a path or URL).  Members that are not usable
 * signature keys are skipped (see jwks_set_load()).  Returns 0 with *out
 * set, -JWKS_EINVALID (not JSON, no "keys" array, no usable key, over
 * JWKS_MAX_BYTES) or -JWKS_ENOMEM.  Borrows everything; thread-safe.
 */
int jwks_set_parse(const char *text, size_t len, const char *what, struct jwks_set **out,
                   struct err *err)
{
    json_error_t jerr;
    json_t *doc, *arr;
    int rc;

    if (len > JWKS_MAX_BYTES)
        return err_set(err, -JWKS_EINVALID, "JWKS %s is larger than %d bytes", what,
                       JWKS_MAX_BYTES);
    doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return err_set(err, -JWKS_EINVALID, "JWKS %s is not JSON (line %d: %s)", what, jerr.line,
                       jerr.text);
    arr = json_object_get(doc, "keys");
    if (json_is_array(arr))
        rc = set_from_array(arr, what, out, err);
    else
        rc = err_set(err, -JWKS_EINVALID, "JWKS %s has no \"keys\" array", what);
    json_decref(doc);
    return rc;
}

/* jwks_set_load(), also reporting the identity of the file read in *stamp. */
static int set_load(const char *path, struct jwks_set **out, struct fileio_stamp *stamp,
                    struct err *err)
{
    size_t len;
    char *text;
    int rc;

    rc = fileio_read(path, JWKS_MAX_BYTES, &text, &len, stamp, err);
    if (rc)
        return err_recode(err, rc == -FILEIO_ENOMEM ? -JWKS_ENOMEM : -JWKS_EFILE);
    rc = jwks_set_parse(text, len, path, out, err);
    free(text);
    return rc;
}

/*
 * Read and parse the JWKS at 'path' into a new set holding one reference,
 * released with jwks_set_put().  Members that are not usable signature keys
 * are skipped (see the file header; "use" must be absent or "sig", "alg"
 * absent or matching the key).
 *
 * Returns 0 with *out set, or -JWKS_EFILE (unreadable, not a regular file,
 * over JWKS_MAX_BYTES), -JWKS_EINVALID (not JSON, no "keys" array, no usable
 * key) or -JWKS_ENOMEM.  Borrows 'path'; thread-safe.
 */
int jwks_set_load(const char *path, struct jwks_set **out, struct err *err)
{
    return set_load(path, out, NULL, err);
}

/* Take one more reference to 'set', which the caller already holds.  Thread-safe. */
struct jwks_set *jwks_set_get(struct jwks_set *set)
{
    atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
    return set;
}

/* A number no other set of this process has had or will have (never 0): what a
 * verdict cache compares to know the keys it was verified with are still the
 * current ones.  Thread-safe. */
uint64_t jwks_set_serial(const struct jwks_set *set)
{
    return set->serial;
}

/* The number of usable keys in 'set' (at least 1).  Thread-safe. */
size_t jwks_set_count(const struct jwks_set *set)
{
    return set->count;
}

/*
 * Choose the key that verifies 'alg' under 'kid'.  Without a kid the set must
 * hold exactly one key, of that algorithm.  Returns 0 with *key borrowing
 * from 'set' (valid while the caller holds its reference), or -JWKS_ENOKEY
 * with 'err' saying whether the kid is unknown or its key is of another
 * algorithm.  Thread-safe.
 */
int jwks_pick(const struct jwks_set *set, enum jwks_alg alg, const char *kid,
              const struct jwks_key **key, struct err *err)
{
    bool kid_seen = false;
    size_t i;

    if (!kid) {
        if (set->count != 1)
            return err_set(err, -JWKS_ENOKEY, "token has no kid and the key set has %zu keys",
                           set->count);
        if (set->keys[0].alg != alg)
            return err_set(err, -JWKS_ENOKEY, "token alg does not fit the key");
        *key = &set->keys[0];
        return 0;
    }
    for (i = 0; i < set->count; i++) {
        if (!set->keys[i].kid || strcmp(set->keys[i].kid, kid) != 0)
            continue;
        kid_seen = true;
        if (set->keys[i].alg == alg) {
            *key = &set->keys[i];
            return 0;
        }
    }
    if (kid_seen)
        return err_set(err, -JWKS_ENOKEY, "token alg does not fit the key");
    return err_set(err, -JWKS_ENOKEY, "token kid is not in the key set");
}

/* ---- the watched file ---- */

/*
 * Create a cache over the JWKS at 'path', loaded now.  Returns a new cache
 * to release with jwks_cache_free(), or NULL with 'err' set to one of the
 * codes of jwks_set_load() (or -JWKS_ENOMEM).  Borrows 'path'.
 */
struct jwks_cache *jwks_cache_new(const char *path, struct err *err)
{
    struct jwks_cache *c = calloc(1, sizeof(*c));

    if (!c || !(c->path = strdup(path))) {
        err_set(err, -JWKS_ENOMEM, "out of memory loading %s", path);
        goto out_free_cache;
    }
    c->checked_at_s = INT64_MIN;
    if (set_load(c->path, &c->set, &c->stamp, err) != 0)
        goto out_free_cache;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        err_set(err, -JWKS_ENOMEM, "cannot create a mutex");
        goto out_put_set;
    }
    if (pthread_mutex_init(&c->reload_lock, NULL) != 0) {
        err_set(err, -JWKS_ENOMEM, "cannot create a mutex");
        goto out_destroy_lock;
    }
    return c;

out_destroy_lock:
    pthread_mutex_destroy(&c->lock);
out_put_set:
    jwks_set_put(c->set);
out_free_cache:
    if (c)
        free(c->path);
    free(c);
    return NULL;
}

/*
 * Release 'c' and its reference to the current set (sets still held by
 * callers of jwks_cache_get() live on).  NULL is a no-op.  Must not run
 * concurrently with jwks_cache_get() on the same cache.
 */
void jwks_cache_free(struct jwks_cache *c)
{
    if (!c)
        return;
    jwks_set_put(c->set);
    pthread_mutex_destroy(&c->reload_lock);
    pthread_mutex_destroy(&c->lock);
    free(c->path);
    free(c);
}

/* True, and the look recorded, when 'now_s' is due for a look at the file. */
static bool look_due(struct jwks_cache *c, int64_t now_s)
{
    bool due;

    pthread_mutex_lock(&c->lock);
    /* Threads a second out of step around a boundary cause no extra looks;
     * a clock set back by more than a minute must not freeze reloads. */
    if (now_s > c->checked_at_s)
        due = true;
    else /* checked_at_s >= now_s, so the unsigned difference is exact */
        due = (uint64_t)c->checked_at_s - (uint64_t)now_s > JWKS_CLOCK_STEP_S;
    if (due)
        c->checked_at_s = now_s;
    pthread_mutex_unlock(&c->lock);
    return due;
}

/*
 * Look at the file when 'now_s' is a later second than the last look (or
 * the clock went back by more than a minute), and reload it if its identity
 * changed and it parses.  A failed reload keeps the last good set and is
 * retried on the next look.  Only one thread reloads at a time; others go on
 * with the current set.
 */
static void maybe_reload(struct jwks_cache *c, int64_t now_s)
{
    struct jwks_set *fresh, *old;
    struct fileio_stamp known, seen;

    if (!look_due(c, now_s) || pthread_mutex_trylock(&c->reload_lock) != 0)
        return;
    pthread_mutex_lock(&c->lock);
    known = c->stamp; /* only reload_lock holders write it */
    pthread_mutex_unlock(&c->lock);
    if (fileio_stamp_of(c->path, &seen) != 0 || fileio_stamp_equal(&seen, &known))
        goto out_unlock_reload;
    if (set_load(c->path, &fresh, &seen, NULL) != 0)
        goto out_unlock_reload;

    pthread_mutex_lock(&c->lock);
    old = c->set;
    c->set = fresh;
    c->stamp = seen;
    pthread_mutex_unlock(&c->lock);
    jwks_set_put(old);

out_unlock_reload:
    pthread_mutex_unlock(&c->reload_lock);
}

/*
 * The current key set, as a new reference the caller releases with
 * jwks_set_put().  When 'now_s' (Unix seconds) is due for a look (at most
 * one per later second), the file is checked first and reloaded if it was
 * replaced or rewritten.  Thread-safe: any number of threads may call this.
 */
struct jwks_set *jwks_cache_get(struct jwks_cache *c, int64_t now_s)
{
    struct jwks_set *set;

    maybe_reload(c, now_s);
    pthread_mutex_lock(&c->lock);
    set = c->set;
    atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&c->lock);
    return set;
}
