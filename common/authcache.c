/*
 * authcache.c - verdicts of verified bearer tokens (see authcache.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "authcache.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    unsigned char key[AUTHCACHE_KEY]; /* SHA-256 of the token */
    int64_t until_s;                  /* valid while now < until_s (0: empty) */
    struct authcache_verdict v;       /* what the verification gave */
};

struct authcache {
    pthread_mutex_t mu;                   /* guards slots */
    struct entry slots[AUTHCACHE_SLOTS]; /* direct-mapped by the key's first bytes */
};

/* A new, empty cache, or NULL when out of memory. */
struct authcache *authcache_new(void)
{
    struct authcache *c = calloc(1, sizeof(*c));
    if (c && pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

/* Release 'c'; NULL is a no-op.  Not concurrently with other calls on 'c'. */
void authcache_free(struct authcache *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static EVP_MD *sha256;                        /* fetched once: a fetch per request cost */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT; /* as much as the digest (perf) */

static void fetch_sha256(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* The SHA-256 of 'token' into 'key' (all zero if OpenSSL fails: then nothing matches,
 * since an empty slot is never valid).  Thread-safe. */
void authcache_key(const char *token, size_t len, unsigned char key[AUTHCACHE_KEY])
{
    unsigned int n = 0;
    pthread_once(&sha256_once, fetch_sha256);
    if (!sha256 || EVP_Digest(token, len, key, &n, sha256, NULL) != 1 || n != AUTHCACHE_KEY)
        memset(key, 0, AUTHCACHE_KEY);
}

static struct entry *slot_of(struct authcache *c, const unsigned char key[AUTHCACHE_KEY])
{
    return &c->slots[(((size_t)key[0] << 8) | key[1]) % AUTHCACHE_SLOTS];
}

/* True with *out filled when 'key' has a verdict still valid at 'now_s'.  Thread-safe. */
bool authcache_get(struct authcache *c, const unsigned char key[AUTHCACHE_KEY], int64_t now_s,
                   struct authcache_verdict *out)
{
    struct entry *e = slot_of(c, key);
    bool hit;
    pthread_mutex_lock(&c->mu);
    hit = now_s < e->until_s && memcmp(e->key, key, AUTHCACHE_KEY) == 0;
    if (hit)
        *out = e->v;
    pthread_mutex_unlock(&c->mu);
    return hit;
}

/* Keep 'v', reached at 'now_s', under 'key' until its exp or AUTHCACHE_TTL_S from now.
 * Thread-safe. */
void authcache_put(struct authcache *c, const unsigned char key[AUTHCACHE_KEY], int64_t now_s,
                   const struct authcache_verdict *v)
{
    struct entry *e = slot_of(c, key);
    int64_t until = now_s + AUTHCACHE_TTL_S;
    if (v->p.expires_at < until)
        until = v->p.expires_at;
    if (until <= now_s)
        return;
    pthread_mutex_lock(&c->mu);
    memcpy(e->key, key, AUTHCACHE_KEY);
    e->until_s = until;
    e->v = *v;
    pthread_mutex_unlock(&c->mu);
}
