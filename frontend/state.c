/*
 * state.c - sign and verify MRTR requestState.
 *
 * Layout: base64url(payload) "." base64url(HMAC-SHA256(key, payload)), where
 * payload is "v1|task id|expiry|nonce|hex sha256(owner|method|tool|canonical args)";
 * the random nonce makes every round's state different.
 * The binding is hashed, not stored, so the state reveals nothing about the
 * principal or the arguments.  Comparison is constant-time.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "state.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"

/* The canonical text of 'args' ("{}" for NULL) in a new string, or NULL when out of memory.
 * Not json_dumps(): jansson 2.14 drops an object key whose output buffer failed to grow and
 * still succeeds; json_dumpb() into a buffer of the exact size never has to grow one. */
static char *canonical_args(const json_t *args)
{
    const size_t flags = JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY;
    size_t n;
    char *text;

    if (!args)
        return strdup("{}");
    n = json_dumpb(args, NULL, 0, flags);
    if (n == 0 || !(text = malloc(n + 1)))
        return NULL;
    if (json_dumpb(args, text, n, flags) != n) {
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

/* Hex SHA-256 of the binding, with the arguments in canonical form: 0 or -STATE_EINTERNAL. */
static int binding_digest(const struct state_binding *b, char out[65])
{
    char *args = canonical_args(b->args);
    if (!args)
        return -STATE_EINTERNAL;
    unsigned char md[SHA256_DIGEST_LENGTH];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    const char *parts[] = {b->owner, "|", b->method, "|", b->tool, "|", args};
    for (size_t i = 0; ok && i < sizeof(parts) / sizeof(parts[0]); i++)
        ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]));
    ok = ok && EVP_DigestFinal_ex(ctx, md, NULL);
    EVP_MD_CTX_free(ctx);
    free(args);
    for (int i = 0; ok && i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return ok ? 0 : -STATE_EINTERNAL;
}

/* Digits (at most 20, as scanned) to seconds: 0, or -STATE_EINVALID past LLONG_MAX. */
static int parse_expiry(const char *digits, long long *out)
{
    errno = 0;
    char *end = NULL;
    long long v = strtoll(digits, &end, 10);
    if (errno == ERANGE || end == digits || *end != '\0')
        return -STATE_EINVALID;
    *out = v;
    return 0;
}

/*
 * Sign a state for the round backed by task 'task_id', bound to 'b' (all
 * borrowed), valid until 'expires_s' (Unix seconds).  Returns a new string
 * the caller frees, or NULL when out of memory or randomness.  Thread-safe.
 */
char *state_sign(const unsigned char *key, size_t key_len, const char *task_id,
                 const struct state_binding *b, int64_t expires_s)
{
    char digest[65], payload[192];
    unsigned char nonce[8];
    if (binding_digest(b, digest) < 0 || RAND_bytes(nonce, sizeof(nonce)) != 1)
        return NULL;
    int n = snprintf(payload, sizeof(payload), "v1|%s|%lld|%02x%02x%02x%02x%02x%02x%02x%02x|%s",
                     task_id, (long long)expires_s, nonce[0], nonce[1], nonce[2], nonce[3],
                     nonce[4], nonce[5], nonce[6], nonce[7], digest);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (n < 0 || (size_t)n >= sizeof(payload) ||
        !HMAC(EVP_sha256(), key, (int)key_len, (unsigned char *)payload, (size_t)n, mac, &mac_len))
        return NULL;
    char *out = malloc(2 * sizeof(payload) + 64);
    if (!out)
        return NULL;
    size_t o = b64url_encode((unsigned char *)payload, (size_t)n, out);
    out[o++] = '.';
    b64url_encode(mac, mac_len, out + o);
    return out;
}

/*
 * Verify 'state' (untrusted; NUL-terminated, at most STATE_MAX_LEN bytes
 * looked at) against binding 'b' at 'now_s'.  Returns 0 and copies the task
 * id into 'task_id', or -STATE_EINVALID (malformed, tampered, wrong key),
 * -STATE_EEXPIRED, -STATE_EMISMATCH (another principal, tool or arguments)
 * or -STATE_EINTERNAL (out of memory), with 'err' set.  Thread-safe.
 */
int state_verify(const unsigned char *key, size_t key_len, const char *state,
                 const struct state_binding *b, int64_t now_s, char task_id[TASKID_LEN + 1],
                 struct err *err)
{
    size_t len = state ? strnlen(state, STATE_MAX_LEN + 1) : 0;
    const char *dot = len ? memchr(state, '.', len) : NULL;
    if (!dot || len > STATE_MAX_LEN)
        return err_set(err, -STATE_EINVALID, "Invalid requestState");
    unsigned char payload[STATE_MAX_LEN], mac[64], want[EVP_MAX_MD_SIZE];
    long plen = b64_decode(state, (size_t)(dot - state), true, payload, sizeof(payload) - 1);
    long mlen = b64_decode(dot + 1, len - (size_t)(dot - state) - 1, true, mac, sizeof(mac));
    unsigned wlen = 0;
    if (plen <= 0 || mlen != 32)
        return err_set(err, -STATE_EINVALID, "Invalid requestState");
    /* HMAC() fails for want of memory (or a broken OpenSSL), never because of the state:
     * the client should retry, not start the call again. */
    if (!HMAC(EVP_sha256(), key, (int)key_len, payload, (size_t)plen, want, &wlen) || wlen != 32)
        return err_set(err, -STATE_EINTERNAL, "Cannot check requestState; retry");
    if (CRYPTO_memcmp(mac, want, 32) != 0)
        return err_set(err, -STATE_EINVALID, "Invalid requestState");
    payload[plen] = '\0';
    char id[TASKID_LEN + 2], expiry[21], nonce[20], digest[66];
    long long expires = 0;
    if (sscanf((char *)payload, "v1|%37[^|]|%20[0-9]|%19[0-9a-f]|%65s", id, expiry, nonce,
               digest) != 4 ||
        !taskid_valid(id) || parse_expiry(expiry, &expires) < 0)
        return err_set(err, -STATE_EINVALID, "Invalid requestState");
    if (now_s > expires)
        return err_set(err, -STATE_EEXPIRED, "requestState has expired; start the call again");
    char have[65];
    if (binding_digest(b, have) < 0)
        return err_set(err, -STATE_EINTERNAL, "Cannot check requestState; retry");
    if (strcmp(have, digest) != 0)
        return err_set(err, -STATE_EMISMATCH,
                       "requestState does not belong to this caller, tool and arguments");
    memcpy(task_id, id, TASKID_LEN + 1);
    return 0;
}
