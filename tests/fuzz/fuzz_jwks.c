/*
 * fuzz_jwks.c - libFuzzer target for what a JWKS URL sends back (common/jwks.c,
 * common/jwks_remote.c).
 *
 * The input is an answer of an authorization server, as hostile as it likes:
 * the first line is a Cache-Control value, the second an Expires value, the
 * rest the body.  The body goes through jwks_set_parse() and, when it yields
 * a set, jwks_pick() for both algorithms with and without a kid; the headers
 * through jwks_remote_ttl_s().  Aborts when a contract breaks: a set with no
 * key, a picked key of another algorithm, an error code out of range, a
 * lifetime outside its clamp.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "jwks.h"
#include "jwks_remote.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_S INT64_C(1800000000)

/* Copy the line at *p (up to '\n' or the end) into out (cap bytes, cut); advance *p. */
static void take_line(const uint8_t **p, const uint8_t *end, char *out, size_t cap)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = (size_t)((nl ? nl : end) - *p);
    snprintf(out, cap, "%.*s", (int)n, (const char *)*p);
    *p = nl ? nl + 1 : end;
}

/* Pick every way a verifier does and check what comes back. */
static void pick_all(const struct jwks_set *set)
{
    static const enum jwks_alg algs[] = {JWKS_ALG_ES256, JWKS_ALG_RS256};
    static const char *const kids[] = {NULL, "k1", ""};
    for (size_t a = 0; a < 2; a++)
        for (size_t k = 0; k < 3; k++) {
            const struct jwks_key *key = NULL;
            struct err e = {0};
            int rc = jwks_pick(set, algs[a], kids[k], &key, &e);
            if (rc == 0 && (!key || key->alg != algs[a] || !key->jwk))
                abort();
            if (rc != 0 && rc != -JWKS_ENOKEY)
                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    struct jwks_response resp = {.status = 200};
    take_line(&p, end, resp.cache_control, sizeof(resp.cache_control));
    take_line(&p, end, resp.expires, sizeof(resp.expires));
    int64_t ttl = jwks_remote_ttl_s(&resp, NOW_S, 300, 5, 86400);
    if (ttl < 5 || ttl > 86400)
        abort();

    struct jwks_set *set = NULL;
    struct err e = {0};
    int rc = jwks_set_parse((const char *)p, (size_t)(end - p), "fuzz", &set, &e);
    if (rc == 0) {
        if (!set || jwks_set_count(set) < 1)
            abort();
        pick_all(set);
        jwks_set_put(set);
    } else if (set || (rc != -JWKS_EINVALID && rc != -JWKS_ENOMEM && rc != -JWKS_EFILE)) {
        abort();
    }
    return 0;
}
