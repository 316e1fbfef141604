/*
 * auth.c - bearer JWT verification against a JWKS file, and dev-token minting.
 *
 * Checks the header shape, the JOSE header (alg allow-list, typ, crit, kid),
 * the signature through cjose, then iss/aud/exp/nbf/iat/sub/scope.  It does
 * not fetch keys over the network, introspect opaque tokens, or log.
 * Invariant: a key set is immutable once built; a reload builds a new
 * refcounted snapshot and swaps the pointer under the verifier's mutex.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "auth.h"
#include "b64.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjose/cjose.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define AUTH_MAX_JWKS_BYTES  (1024 * 1024)      /* a JWKS file larger than this is refused */
#define AUTH_MAX_JWK_BYTES   (64 * 1024)        /* same for a private JWK file */
#define AUTH_MAX_LEEWAY_S    3600               /* larger skew is a configuration mistake */
#define AUTH_CLOCK_STEP_S    60                 /* now_s this far back: the clock was set back */
#define AUTH_TIME_LIMIT      ((int64_t)1 << 62) /* NumericDates are clamped to +-this */
#define AUTH_MIN_RSA_BITS    2048               /* RFC 7518 3.3 */
#define AUTH_ES256_SIG_BYTES 64                 /* r || s, 32 bytes each (RFC 7518 3.4) */
#define AUTH_MINT_CLIENT_ID  "taskwire-cli"

/* The algorithms on the allow-list; each usable key verifies exactly one. */
enum auth_alg {
    AUTH_ALG_ES256 = 1, /* ECDSA P-256 with SHA-256 */
    AUTH_ALG_RS256,     /* RSASSA-PKCS1-v1_5 with SHA-256 */
};

static const char *const auth_alg_names[] = {
    [AUTH_ALG_ES256] = "ES256",
    [AUTH_ALG_RS256] = "RS256",
};

struct auth_key {
    cjose_jwk_t *jwk;  /* owned reference, released with the key set */
    char *kid;         /* the JWK's "kid" (own copy), or NULL when it has none */
    enum auth_alg alg; /* the one algorithm this key may verify */
};

struct auth_keyset {
    atomic_uint refs;       /* the verifier's reference plus one per auth_verify using it */
    size_t count;           /* usable keys in 'keys', at least 1 */
    struct auth_key keys[]; /* in JWKS order */
};

/* What we compare to notice that the JWKS file was replaced or rewritten. */
struct file_stamp {
    struct timespec mtime; /* st_mtim */
    dev_t dev;             /* st_dev */
    ino_t ino;             /* st_ino: changes when a new file is renamed into place */
    off_t size;            /* st_size */
};

struct auth_verifier {
    char *jwks_file;             /* own copy of cfg->jwks_file */
    char *issuer;                /* own copy of cfg->issuer */
    char *audience;              /* own copy of cfg->audience */
    int leeway_s;                /* skew allowed on exp/nbf/iat, 0..AUTH_MAX_LEEWAY_S */
    pthread_mutex_t lock;        /* guards keys, stamp and checked_at_s */
    pthread_mutex_t reload_lock; /* held by the one thread re-reading the file */
    struct auth_keyset *keys;    /* current snapshot; the verifier holds one reference */
    struct file_stamp stamp;     /* identity of the file 'keys' came from */
    int64_t checked_at_s;        /* now_s of the last look at the file, INT64_MIN before any */
};

/* The three segments of a compact JWS, pointing into the header value. */
struct token_parts {
    const char *compact; /* start of the token */
    size_t compact_len;  /* its length */
    const char *seg[3];  /* header, payload, signature (base64url, not NUL-terminated) */
    size_t len[3];       /* length of each segment, all > 0 */
};

/* ---- small helpers ---- */

/* strerror() is not thread-safe, and reloads run on request threads. */
static const char *errno_text(int e, char *buf, size_t len)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    return strerror_r(e, buf, len);
#else
    if (strerror_r(e, buf, len) != 0)
        snprintf(buf, len, "errno %d", e);
    return buf;
#endif
}

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

static void stamp_from_stat(struct file_stamp *s, const struct stat *st)
{
    s->mtime = st->st_mtim;
    s->dev = st->st_dev;
    s->ino = st->st_ino;
    s->size = st->st_size;
}

static bool stamp_equal(const struct file_stamp *a, const struct file_stamp *b)
{
    return a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->dev == b->dev && a->ino == b->ino && a->size == b->size;
}

/*
 * Read a whole regular file of at most 'max' bytes into a new malloc'd,
 * NUL-terminated buffer.  'stamp' (may be NULL) gets the identity of the file
 * that was read.  Returns 0, -AUTH_ECONFIG or -AUTH_ENOMEM.
 */
static int read_file(const char *path, size_t max, char **out, size_t *out_len,
                     struct file_stamp *stamp, struct err *err)
{
    char ebuf[128];
    struct stat st;
    char *buf;
    size_t got = 0;
    ssize_t n;
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return err_set(err, -AUTH_ECONFIG, "cannot open %s: %s", path,
                       errno_text(errno, ebuf, sizeof(ebuf)));
    if (fstat(fd, &st) != 0) {
        rc = err_set(err, -AUTH_ECONFIG, "cannot stat %s: %s", path,
                     errno_text(errno, ebuf, sizeof(ebuf)));
        goto out_close_fd;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uintmax_t)st.st_size > max) {
        rc =
            err_set(err, -AUTH_ECONFIG, "%s is not a regular file of at most %zu bytes", path, max);
        goto out_close_fd;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        rc = err_set(err, -AUTH_ENOMEM, "out of memory reading %s", path);
        goto out_close_fd;
    }
    while (got < (size_t)st.st_size) {
        n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = err_set(err, -AUTH_ECONFIG, "cannot read %s: %s", path,
                         errno_text(errno, ebuf, sizeof(ebuf)));
            goto out_free_buf;
        }
        if (n == 0) /* shrank while we read: parse what we have, JSON will judge it */
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    if (stamp)
        stamp_from_stat(stamp, &st);
    close(fd);
    *out = buf;
    *out_len = got;
    return 0;

out_free_buf:
    OPENSSL_cleanse(buf, (size_t)st.st_size);
    free(buf);
out_close_fd:
    close(fd);
    return rc;
}

/* ---- key sets ---- */

static void keyset_put(struct auth_keyset *set)
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

static struct auth_keyset *keyset_get(struct auth_verifier *v)
{
    struct auth_keyset *set;

    pthread_mutex_lock(&v->lock);
    set = v->keys;
    atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&v->lock);
    return set;
}

/*
 * Import one JWKS member into 'key'.  Returns 1 when usable, 0 when it must
 * be skipped (not a signing key, wrong type or size, an "alg" off our list,
 * or cjose cannot import it), -AUTH_ENOMEM.
 */
static int key_import(json_t *jwk_json, struct auth_key *key)
{
    json_t *use_j, *alg_j, *kid_j;
    cjose_jwk_t *jwk;
    cjose_err cerr;
    enum auth_alg alg;

    if (!json_is_object(jwk_json))
        return 0;
    use_j = json_object_get(jwk_json, "use");
    alg_j = json_object_get(jwk_json, "alg");
    kid_j = json_object_get(jwk_json, "kid");
    if (use_j && !(json_is_string(use_j) && strcmp(json_string_value(use_j), "sig") == 0))
        return 0;
    if ((alg_j && !json_is_string(alg_j)) || (kid_j && !json_is_string(kid_j)))
        return 0;

    jwk = cjose_jwk_import_json((cjose_header_t *)jwk_json, &cerr);
    if (!jwk)
        return 0;
    switch (cjose_jwk_get_kty(jwk, &cerr)) {
    case CJOSE_JWK_KTY_EC:
        if (cjose_jwk_EC_get_curve(jwk, &cerr) != CJOSE_JWK_EC_P_256)
            goto out_release_jwk;
        alg = AUTH_ALG_ES256;
        break;
    case CJOSE_JWK_KTY_RSA:
        if (cjose_jwk_get_keysize(jwk, &cerr) < AUTH_MIN_RSA_BITS)
            goto out_release_jwk;
        alg = AUTH_ALG_RS256;
        break;
    default: /* "oct" keys never verify anything on our allow-list */
        goto out_release_jwk;
    }
    if (alg_j && strcmp(json_string_value(alg_j), auth_alg_names[alg]) != 0)
        goto out_release_jwk;

    key->kid = NULL;
    if (kid_j) {
        key->kid = strdup(json_string_value(kid_j));
        if (!key->kid) {
            cjose_jwk_release(jwk);
            return -AUTH_ENOMEM;
        }
    }
    key->jwk = jwk;
    key->alg = alg;
    return 1;

out_release_jwk:
    cjose_jwk_release(jwk);
    return 0;
}

/*
 * Read and parse the JWKS at 'path' into a new key set holding one reference.
 * Returns 0 and fills *out and *stamp, or -AUTH_ECONFIG / -AUTH_ENOMEM.
 */
static int keyset_load(const char *path, struct auth_keyset **out, struct file_stamp *stamp,
                       struct err *err)
{
    struct auth_keyset *set;
    json_error_t jerr;
    json_t *doc, *arr;
    size_t len, i, n;
    char *text;
    int rc;

    rc = read_file(path, AUTH_MAX_JWKS_BYTES, &text, &len, stamp, err);
    if (rc)
        return rc;
    doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!doc) {
        return err_set(err, -AUTH_ECONFIG, "JWKS %s is not JSON (line %d: %s)", path, jerr.line,
                       jerr.text);
    }
    arr = json_object_get(doc, "keys");
    if (!json_is_array(arr)) {
        rc = err_set(err, -AUTH_ECONFIG, "JWKS %s has no \"keys\" array", path);
        goto out_free_doc;
    }
    n = json_array_size(arr);
    if (n > (SIZE_MAX - sizeof(*set)) / sizeof(set->keys[0])) {
        rc = err_set(err, -AUTH_ECONFIG, "JWKS %s has too many keys", path);
        goto out_free_doc;
    }
    set = malloc(sizeof(*set) + n * sizeof(set->keys[0]));
    if (!set) {
        rc = err_set(err, -AUTH_ENOMEM, "out of memory loading %s", path);
        goto out_free_doc;
    }
    atomic_init(&set->refs, 1);
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
        rc = err_set(err, -AUTH_ECONFIG,
                     "JWKS %s has no usable key (%zu skipped: need EC P-256 or RSA >= 2048 "
                     "signing keys)",
                     path, n);
        goto out_put_set;
    }
    json_decref(doc);
    *out = set;
    return 0;

out_put_set:
    keyset_put(set);
out_free_doc:
    json_decref(doc);
    return rc;
}

/*
 * Look at the JWKS file when 'now_s' is a later second than the last look
 * (or the clock was set back), and swap in a new key set if the file changed
 * and parses.  A failed reload keeps the last good set and is retried on the
 * next look.  Only one thread reloads at a time; others go on with the
 * current set.
 */
static void keyset_maybe_reload(struct auth_verifier *v, int64_t now_s)
{
    struct auth_keyset *fresh, *old;
    struct file_stamp known, seen;
    struct stat st;
    bool due;

    pthread_mutex_lock(&v->lock);
    /* Threads a second out of step around a boundary cause no extra looks;
     * a clock set back by more than a minute must not freeze reloads. */
    if (now_s > v->checked_at_s)
        due = true;
    else /* checked_at_s >= now_s, so the unsigned difference is exact */
        due = (uint64_t)v->checked_at_s - (uint64_t)now_s > AUTH_CLOCK_STEP_S;
    if (due)
        v->checked_at_s = now_s;
    pthread_mutex_unlock(&v->lock);
    if (!due || pthread_mutex_trylock(&v->reload_lock) != 0)
        return;

    pthread_mutex_lock(&v->lock);
    known = v->stamp; /* only reload_lock holders write it */
    pthread_mutex_unlock(&v->lock);
    if (stat(v->jwks_file, &st) != 0)
        goto out_unlock_reload;
    stamp_from_stat(&seen, &st);
    if (stamp_equal(&seen, &known))
        goto out_unlock_reload;
    if (keyset_load(v->jwks_file, &fresh, &seen, NULL) != 0)
        goto out_unlock_reload;

    pthread_mutex_lock(&v->lock);
    old = v->keys;
    v->keys = fresh;
    v->stamp = seen;
    pthread_mutex_unlock(&v->lock);
    keyset_put(old);

out_unlock_reload:
    pthread_mutex_unlock(&v->reload_lock);
}

/* ---- verifier ---- */

/*
 * Create a verifier: copy the strings of 'cfg' and load cfg->jwks_file.
 *
 * 'cfg' is borrowed; nothing in it is kept.  leeway_s must be 0..3600.
 * Returns a new verifier to release with auth_verifier_free(), or NULL with
 * 'err' set: -AUTH_ECONFIG when cfg is incomplete or the JWKS unreadable,
 * not JSON, or without any usable key (EC P-256 or RSA >= 2048 bits, "use"
 * absent or "sig", "alg" absent or matching); -AUTH_ENOMEM.
 * Thread-safe (keeps no global state).
 */
struct auth_verifier *auth_verifier_new(const struct auth_config *cfg, struct err *err)
{
    struct auth_verifier *v;

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
    v->jwks_file = strdup(cfg->jwks_file);
    v->issuer = strdup(cfg->issuer);
    v->audience = strdup(cfg->audience);
    if (!v->jwks_file || !v->issuer || !v->audience) {
        err_set(err, -AUTH_ENOMEM, "out of memory creating the auth verifier");
        goto out_free_verifier;
    }
    v->leeway_s = cfg->leeway_s;
    v->checked_at_s = INT64_MIN;
    if (keyset_load(v->jwks_file, &v->keys, &v->stamp, err) != 0)
        goto out_free_verifier;
    if (pthread_mutex_init(&v->lock, NULL) != 0) {
        err_set(err, -AUTH_ECONFIG, "cannot create a mutex");
        goto out_put_keys;
    }
    if (pthread_mutex_init(&v->reload_lock, NULL) != 0) {
        err_set(err, -AUTH_ECONFIG, "cannot create a mutex");
        goto out_destroy_lock;
    }
    return v;

out_destroy_lock:
    pthread_mutex_destroy(&v->lock);
out_put_keys:
    keyset_put(v->keys);
out_free_verifier:
    free(v->jwks_file);
    free(v->issuer);
    free(v->audience);
    free(v);
    return NULL;
}

/*
 * Release 'v' and its key set.  NULL is a no-op.  Must not run concurrently
 * with auth_verify() on the same verifier.
 */
void auth_verifier_free(struct auth_verifier *v)
{
    if (!v)
        return;
    keyset_put(v->keys);
    pthread_mutex_destroy(&v->reload_lock);
    pthread_mutex_destroy(&v->lock);
    free(v->jwks_file);
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
static int check_header(json_t *hdr, enum auth_alg *alg, const char **kid, struct err *err)
{
    const char *alg_s, *typ;
    json_t *typ_j, *kid_j;

    alg_s = json_string_value(json_object_get(hdr, "alg"));
    if (alg_s && strcmp(alg_s, "ES256") == 0)
        *alg = AUTH_ALG_ES256;
    else if (alg_s && strcmp(alg_s, "RS256") == 0)
        *alg = AUTH_ALG_RS256;
    else
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

/* Choose the key for (alg, kid) in 'set'; *key borrows from the set. */
static int pick_key(const struct auth_keyset *set, enum auth_alg alg, const char *kid,
                    const struct auth_key **key, struct err *err)
{
    bool kid_seen = false;
    size_t i;

    if (!kid) {
        if (set->count != 1)
            return err_set(err, -AUTH_EINVALID, "token has no kid and the key set has %zu keys",
                           set->count);
        if (set->keys[0].alg != alg)
            return err_set(err, -AUTH_EINVALID, "token alg does not fit the key");
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
        return err_set(err, -AUTH_EINVALID, "token alg does not fit the key");
    return err_set(err, -AUTH_EINVALID, "token kid is not in the key set");
}

/*
 * Check the signature of 't' with the key its header selects.  'sig_len' is
 * the decoded signature length.  Thread-safe: uses a referenced snapshot.
 */
static int check_signature(struct auth_verifier *v, const struct token_parts *t, enum auth_alg alg,
                           const char *kid, size_t sig_len, struct err *err)
{
    const struct auth_key *key = NULL;
    struct auth_keyset *set;
    cjose_jws_t *jws;
    cjose_err cerr;
    int rc;

    set = keyset_get(v);
    rc = pick_key(set, alg, kid, &key, err);
    if (rc)
        goto out_put_set;
    /* cjose splits any length into r and s, so a padded or extended
     * signature of a valid one would verify: insist on exactly 64 bytes. */
    if (alg == AUTH_ALG_ES256 && sig_len != AUTH_ES256_SIG_BYTES) {
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
    keyset_put(set);
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
    unsigned char *hdr_text, *claims_text, *sig;
    size_t hdr_len, claims_len, sig_len;
    json_t *hdr, *claims;
    enum auth_alg alg = AUTH_ALG_ES256; /* set by check_header(); quiets -Wmaybe-uninitialized */
    const char *kid = NULL;
    int rc;

    if (!v || !out)
        return err_set(err, -AUTH_ECONFIG, "auth_verify needs a verifier and a principal");
    memset(out, 0, sizeof(*out));
    memset(&p, 0, sizeof(p));
    rc = split_header(authorization, &t, err);
    if (rc)
        return rc;

    rc = b64url_decode(t.seg[0], t.len[0], &hdr_text, &hdr_len);
    if (rc)
        return err_set(err, rc, "token header is not base64url");
    hdr = json_loadb((const char *)hdr_text, hdr_len, JSON_REJECT_DUPLICATES, NULL);
    free(hdr_text);
    if (!json_is_object(hdr)) {
        rc = err_set(err, -AUTH_EMALFORMED, "token header is not a JSON object");
        goto out_free_hdr;
    }
    rc = check_header(hdr, &alg, &kid, err);
    if (rc)
        goto out_free_hdr;

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

    keyset_maybe_reload(v, now_s);
    rc = check_signature(v, &t, alg, kid, sig_len, err);
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

/* ---- development keys and tokens ---- */

/*
 * Write 'len' bytes to 'path' through a temporary file in the same directory
 * that gets 'mode' (umask ignored), is fsync'ed, then renamed into place;
 * the directory is fsync'ed too.  Returns 0 or -AUTH_ECONFIG.
 */
static int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode,
                             struct err *err)
{
    char ebuf[128];
    size_t plen = strlen(path), done = 0;
    char *tmp, *slash;
    ssize_t n;
    int fd, dfd, rc;

    tmp = malloc(plen + sizeof(".XXXXXX"));
    if (!tmp)
        return err_set(err, -AUTH_ENOMEM, "out of memory writing %s", path);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".XXXXXX", sizeof(".XXXXXX"));
    fd = mkstemp(tmp); /* O_CREAT | O_EXCL, mode 0600 */
    if (fd < 0) {
        rc = err_set(err, -AUTH_ECONFIG, "cannot create a file beside %s: %s", path,
                     errno_text(errno, ebuf, sizeof(ebuf)));
        goto out_free_tmp;
    }
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fchmod(fd, mode) != 0)
        goto out_write_failed;
    while (done < len) {
        n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto out_write_failed;
        done += (size_t)n;
    }
    if (fsync(fd) != 0)
        goto out_write_failed;
    if (close(fd) != 0) {
        fd = -1;
        goto out_write_failed;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto out_write_failed;

    /* Make the rename itself durable. */
    slash = strrchr(tmp, '/');
    if (slash == tmp)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    dfd = open(slash ? tmp : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    free(tmp);
    return 0;

out_write_failed:
    rc = err_set(err, -AUTH_ECONFIG, "cannot write %s: %s", path,
                 errno_text(errno, ebuf, sizeof(ebuf)));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
out_free_tmp:
    free(tmp);
    return rc;
}

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
        return err_set(err, -AUTH_ENOMEM, "cannot export the public key");
    pub = json_loads(pub_text, 0, NULL);
    cjose_get_dealloc()(pub_text);
    x = json_string_value(json_object_get(pub, "x"));
    y = json_string_value(json_object_get(pub, "y"));
    if (!x || !y) {
        rc = err_set(err, -AUTH_ENOMEM, "cannot read the public key coordinates");
        goto out_free_pub;
    }
    /* Members in lexicographic order, no whitespace (RFC 7638 3.2). */
    n = snprintf(canon, sizeof(canon),
                 "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    if (n < 0 || (size_t)n >= sizeof(canon) ||
        EVP_Digest(canon, (size_t)n, md, &md_len, EVP_sha256(), NULL) != 1 ||
        !cjose_base64url_encode(md, md_len, &kid, &kid_len, &cerr) ||
        !cjose_jwk_set_kid(jwk, kid, kid_len, &cerr))
        rc = err_set(err, -AUTH_ECONFIG, "cannot compute the key thumbprint");
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

/*
 * Create a P-256 key whose kid is its RFC 7638 thumbprint.  Write the
 * private JWK ("alg":"ES256","use":"sig") to 'private_path' with mode 0600
 * and {"keys":[public JWK]} to 'jwks_path' with mode 0644, each through a
 * temporary file and rename(), private file first.
 *
 * Returns 0, -AUTH_ECONFIG (bad paths, I/O, crypto) or -AUTH_ENOMEM.  If the
 * second write fails the new private key is already in place and 'jwks_path'
 * still holds the old set.  Borrows the paths; thread-safe.
 */
int auth_keygen(const char *private_path, const char *jwks_path, struct err *err)
{
    char *priv_text, *set_text;
    cjose_jwk_t *jwk;
    cjose_err cerr;
    int rc;

    if (!private_path || !*private_path || !jwks_path || !*jwks_path ||
        strcmp(private_path, jwks_path) == 0)
        return err_set(err, -AUTH_ECONFIG, "keygen needs two different paths");
    jwk = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
    if (!jwk)
        return err_set(err, -AUTH_ECONFIG, "cannot create a P-256 key");
    rc = set_thumbprint_kid(jwk, err);
    if (rc)
        goto out_release_jwk;

    priv_text = jwk_text_with_alg(jwk, true, false);
    if (!priv_text) {
        rc = err_set(err, -AUTH_ENOMEM, "cannot serialise the private key");
        goto out_release_jwk;
    }
    set_text = jwk_text_with_alg(jwk, false, true);
    if (!set_text) {
        rc = err_set(err, -AUTH_ENOMEM, "cannot serialise the JWKS");
        goto out_free_priv_text;
    }
    rc = write_file_atomic(private_path, priv_text, strlen(priv_text), 0600, err);
    if (rc == 0)
        rc = write_file_atomic(jwks_path, set_text, strlen(set_text), 0644, err);
    free(set_text);
out_free_priv_text:
    OPENSSL_cleanse(priv_text, strlen(priv_text));
    free(priv_text);
out_release_jwk:
    cjose_jwk_release(jwk);
    return rc;
}

/*
 * Sign an ES256 access token with the private JWK at 'private_path':
 * header {"alg":"ES256","typ":"at+jwt","kid"} and claims iss, aud, sub, iat
 * and nbf (now_s), exp (now_s + ttl_s), a random 128-bit hex jti, scope (when
 * not NULL) and client_id "taskwire-cli".
 *
 * Returns 0 and a new malloc'd token in *token (caller frees), or
 * -AUTH_ECONFIG (missing argument, ttl_s <= 0, unreadable or non-P-256
 * private key, signing failure) or -AUTH_ENOMEM, with *token NULL.
 * Borrows all strings; thread-safe.
 */
int auth_mint(const char *private_path, const char *issuer, const char *audience,
              const char *subject, const char *scope, int64_t now_s, int64_t ttl_s, char **token,
              struct err *err)
{
    unsigned char rnd[16];
    char jti[2 * sizeof(rnd) + 1], *jwk_text, *payload;
    const char *kid, *compact;
    cjose_header_t *hdr;
    size_t jwk_len, i;
    json_t *claims;
    cjose_jws_t *jws;
    cjose_jwk_t *jwk;
    cjose_err cerr;
    int rc;

    if (!token)
        return err_set(err, -AUTH_ECONFIG, "auth_mint needs somewhere to put the token");
    *token = NULL;
    if (!private_path || !issuer || !*issuer || !audience || !*audience || !subject || !*subject)
        return err_set(err, -AUTH_ECONFIG, "minting needs a key, issuer, audience and subject");
    if (ttl_s <= 0 || ttl_s > AUTH_TIME_LIMIT || now_s < -AUTH_TIME_LIMIT ||
        now_s > AUTH_TIME_LIMIT)
        return err_set(err, -AUTH_ECONFIG, "token lifetime out of range");

    rc = read_file(private_path, AUTH_MAX_JWK_BYTES, &jwk_text, &jwk_len, NULL, err);
    if (rc)
        return rc;
    jwk = cjose_jwk_import(jwk_text, jwk_len, &cerr);
    OPENSSL_cleanse(jwk_text, jwk_len);
    free(jwk_text);
    if (!jwk || cjose_jwk_get_kty(jwk, &cerr) != CJOSE_JWK_KTY_EC ||
        cjose_jwk_EC_get_curve(jwk, &cerr) != CJOSE_JWK_EC_P_256) {
        rc = err_set(err, -AUTH_ECONFIG, "%s is not a P-256 private JWK", private_path);
        goto out_release_jwk;
    }

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        rc = err_set(err, -AUTH_ECONFIG, "random generator failed");
        goto out_release_jwk;
    }
    for (i = 0; i < sizeof(rnd); i++)
        snprintf(jti + 2 * i, 3, "%02x", rnd[i]);
    claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "iss", issuer, "aud", audience, "sub",
                       subject, "iat", (json_int_t)now_s, "nbf", (json_int_t)now_s, "exp",
                       (json_int_t)(now_s + ttl_s), "jti", jti);
    if (!claims || (scope && json_object_set_new(claims, "scope", json_string(scope)) != 0) ||
        json_object_set_new(claims, "client_id", json_string(AUTH_MINT_CLIENT_ID)) != 0) {
        rc = err_set(err, -AUTH_ECONFIG, "cannot build claims (not UTF-8, or out of memory)");
        goto out_free_claims;
    }
    payload = json_dumps(claims, JSON_COMPACT);
    if (!payload) {
        rc = err_set(err, -AUTH_ENOMEM, "out of memory building claims");
        goto out_free_claims;
    }

    kid = cjose_jwk_get_kid(jwk, &cerr);
    hdr = cjose_header_new(&cerr);
    if (!hdr || !cjose_header_set(hdr, CJOSE_HDR_ALG, CJOSE_HDR_ALG_ES256, &cerr) ||
        !cjose_header_set(hdr, "typ", "at+jwt", &cerr) ||
        (kid && !cjose_header_set(hdr, CJOSE_HDR_KID, kid, &cerr))) {
        rc = err_set(err, -AUTH_ENOMEM, "out of memory building the token header");
        goto out_release_hdr;
    }
    jws = cjose_jws_sign(jwk, hdr, (const uint8_t *)payload, strlen(payload), &cerr);
    if (!jws || !cjose_jws_export(jws, &compact, &cerr)) {
        rc = err_set(err, -AUTH_ECONFIG, "cannot sign with %s", private_path);
        goto out_release_jws;
    }
    *token = strdup(compact);
    rc = *token ? 0 : err_set(err, -AUTH_ENOMEM, "out of memory copying the token");

out_release_jws:
    cjose_jws_release(jws);
out_release_hdr:
    cjose_header_release(hdr);
    free(payload);
out_free_claims:
    json_decref(claims);
out_release_jwk:
    cjose_jwk_release(jwk);
    return rc;
}
