/*
 * session.c - sign and verify legacy Mcp-Session-Id tokens.
 *
 * Payload (44 bytes): format 1, version code, capability bits (16-bit big
 * endian), the first 16 bytes of SHA-256 over the principal, issue time and
 * expiry (64-bit big endian Unix seconds), an 8-byte random nonce.  The MAC
 * key is HMAC-SHA256(shared key, SESSION_LABEL), so a session id can never
 * be mistaken for a requestState or anything else signed with the shared
 * key.  Comparison is constant-time; the principal is checked after the MAC.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "session.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "era.h"
#include "mcpdefs.h"

#define SESSION_LABEL  "taskwire/mcp-session-id/v1"
#define SESSION_PREFIX "s1."
#define PAYLOAD_LEN    44
#define PRINCIPAL_LEN  16
#define MAC_LEN        32
#define UI_EXT         "io.modelcontextprotocol/ui"
#define UI_MIME        "text/html;profile=mcp-app"

/* Byte offsets in the payload. */
enum {
    P_FORMAT = 0,
    P_VERSION = 1,
    P_CAPS = 2,
    P_PRINCIPAL = 4,
    P_IAT = 20,
    P_EXP = 28,
    P_NONCE = 36
};

static void put64(unsigned char *p, int64_t v)
{
    for (int i = 7; i >= 0; i--, v = (int64_t)((uint64_t)v >> 8))
        p[i] = (unsigned char)(v & 0xff);
}

static int64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

/* The MAC of 'n' bytes at 'data' under the session key derived from 'key': 0 or -1. */
static int mac_of(const unsigned char *key, size_t key_len, const unsigned char *data, size_t n,
                  unsigned char out[MAC_LEN])
{
    unsigned char derived[MAC_LEN];
    unsigned len = 0, len2 = 0;
    if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)SESSION_LABEL,
              strlen(SESSION_LABEL), derived, &len) ||
        len != MAC_LEN)
        return -1;
    bool ok = HMAC(EVP_sha256(), derived, MAC_LEN, data, n, out, &len2) && len2 == MAC_LEN;
    OPENSSL_cleanse(derived, sizeof(derived));
    return ok ? 0 : -1;
}

/* The first PRINCIPAL_LEN bytes of SHA-256 over "principal|" + 'principal': 0 or -1. */
static int principal_hash(const char *principal, unsigned char out[PRINCIPAL_LEN])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
              EVP_DigestUpdate(ctx, "principal|", 10) &&
              EVP_DigestUpdate(ctx, principal, strlen(principal)) &&
              EVP_DigestFinal_ex(ctx, md, NULL);
    EVP_MD_CTX_free(ctx);
    if (ok)
        memcpy(out, md, PRINCIPAL_LEN);
    return ok ? 0 : -1;
}

/*
 * Sign session 's' for 'principal' (both borrowed) into 'out', issued now
 * (the issue time is informational; the expiry is s->expires_s).  Returns 0,
 * -SESSION_EINVALID for a version that is not a legacy one served, or
 * -SESSION_EINTERNAL (no randomness, digest failure).  Thread-safe.
 */
int session_sign(const unsigned char *key, size_t key_len, const struct session *s,
                 const char *principal, char out[SESSION_MAX_LEN + 1])
{
    unsigned char p[PAYLOAD_LEN], mac[MAC_LEN];
    if (!era_legacy_version(s->version))
        return -SESSION_EINVALID;
    p[P_FORMAT] = 1;
    p[P_VERSION] = strcmp(s->version, ERA_LEGACY_LATEST) == 0 ? 1 : 2;
    p[P_CAPS] = (unsigned char)(s->caps >> 8 & 0xff);
    p[P_CAPS + 1] = (unsigned char)(s->caps & 0xff);
    put64(p + P_IAT, (int64_t)time(NULL));
    put64(p + P_EXP, s->expires_s);
    if (principal_hash(principal, p + P_PRINCIPAL) < 0 || RAND_bytes(p + P_NONCE, 8) != 1 ||
        mac_of(key, key_len, p, sizeof(p), mac) < 0)
        return -SESSION_EINTERNAL;
    size_t o = strlen(SESSION_PREFIX);
    memcpy(out, SESSION_PREFIX, o);
    o += b64url_encode(p, sizeof(p), out + o);
    out[o++] = '.';
    b64url_encode(mac, sizeof(mac), out + o);
    return 0;
}

/* Split 'token' into its payload and MAC: 0, or -SESSION_EINVALID. */
static int split(const char *token, unsigned char p[PAYLOAD_LEN], unsigned char mac[MAC_LEN])
{
    size_t len = token ? strnlen(token, SESSION_MAX_LEN + 1) : 0;
    size_t pre = strlen(SESSION_PREFIX);
    if (len < pre || len > SESSION_MAX_LEN || memcmp(token, SESSION_PREFIX, pre) != 0)
        return -SESSION_EINVALID;
    const char *body = token + pre, *dot = memchr(body, '.', len - pre);
    if (!dot)
        return -SESSION_EINVALID;
    unsigned char pbuf[B64_DECODED_MAX(SESSION_MAX_LEN)], mbuf[B64_DECODED_MAX(SESSION_MAX_LEN)];
    long plen = b64_decode(body, (size_t)(dot - body), true, pbuf, sizeof(pbuf));
    long mlen = b64_decode(dot + 1, len - pre - (size_t)(dot - body) - 1, true, mbuf, sizeof(mbuf));
    if (plen != PAYLOAD_LEN || mlen != MAC_LEN)
        return -SESSION_EINVALID;
    memcpy(p, pbuf, PAYLOAD_LEN);
    memcpy(mac, mbuf, MAC_LEN);
    return 0;
}

/*
 * Verify 'token' (untrusted; at most SESSION_MAX_LEN bytes looked at) for
 * 'principal' at 'now_s'.  Returns 0 and fills *out, or -SESSION_EINVALID
 * (malformed, tampered, another key, unknown format or version),
 * -SESSION_EEXPIRED, -SESSION_EPRINCIPAL (issued to someone else) or
 * -SESSION_EINTERNAL, with 'err' set.  Thread-safe.
 */
int session_verify(const unsigned char *key, size_t key_len, const char *token,
                   const char *principal, int64_t now_s, struct session *out, struct err *err)
{
    unsigned char p[PAYLOAD_LEN], mac[MAC_LEN], want[MAC_LEN], who[PRINCIPAL_LEN];
    if (split(token, p, mac) < 0)
        return err_set(err, -SESSION_EINVALID, "Session not found");
    if (mac_of(key, key_len, p, sizeof(p), want) < 0)
        return err_set(err, -SESSION_EINTERNAL, "Cannot check the session; retry");
    if (CRYPTO_memcmp(mac, want, MAC_LEN) != 0 || p[P_FORMAT] != 1 ||
        (p[P_VERSION] != 1 && p[P_VERSION] != 2))
        return err_set(err, -SESSION_EINVALID, "Session not found");
    if (now_s > get64(p + P_EXP))
        return err_set(err, -SESSION_EEXPIRED, "Session expired; initialize again");
    if (principal_hash(principal, who) < 0)
        return err_set(err, -SESSION_EINTERNAL, "Cannot check the session; retry");
    if (CRYPTO_memcmp(who, p + P_PRINCIPAL, PRINCIPAL_LEN) != 0)
        return err_set(err, -SESSION_EPRINCIPAL, "Session not found");
    memset(out, 0, sizeof(*out));
    strcpy(out->version, p[P_VERSION] == 1 ? ERA_LEGACY_LATEST : ERA_LEGACY_PREVIOUS);
    out->caps = (unsigned)p[P_CAPS] << 8 | p[P_CAPS + 1];
    out->expires_s = get64(p + P_EXP);
    return 0;
}

/* True when the UI extension settings 'ui' list the MCP Apps MIME type. */
static bool ui_declared(const json_t *ui)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(ui, "mimeTypes"), i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), UI_MIME) == 0)
            return true;
    }
    return false;
}

/*
 * The SESSION_CAP_* bits of an initialize "capabilities" object: an
 * elicitation object means form mode (2025-06-18 had no modes) unless it
 * names modes, in which case each named mode counts.  Pure.
 */
unsigned session_caps_from_json(const json_t *caps)
{
    unsigned bits = 0;
    const json_t *el = json_object_get(caps, "elicitation");
    const json_t *form = json_object_get(el, "form"), *url = json_object_get(el, "url");
    if (json_is_object(el) && (json_is_object(form) || !url))
        bits |= SESSION_CAP_ELICIT_FORM;
    if (json_is_object(el) && json_is_object(url))
        bits |= SESSION_CAP_ELICIT_URL;
    const json_t *sampling = json_object_get(caps, "sampling");
    if (json_is_object(sampling))
        bits |= SESSION_CAP_SAMPLING;
    if (json_is_object(json_object_get(sampling, "tools")))
        bits |= SESSION_CAP_SAMPLING_TOOLS;
    if (json_is_object(json_object_get(caps, "roots")))
        bits |= SESSION_CAP_ROOTS;
    if (ui_declared(json_object_get(json_object_get(caps, "extensions"), UI_EXT)))
        bits |= SESSION_CAP_UI;
    return bits;
}

/* The clientCapabilities object (2026 shape) for 'caps' (new reference). */
json_t *session_caps_to_json(unsigned caps)
{
    json_t *o = json_object();
    if (caps & (SESSION_CAP_ELICIT_FORM | SESSION_CAP_ELICIT_URL)) {
        json_t *el = json_object();
        if (caps & SESSION_CAP_ELICIT_FORM)
            json_object_set_new(el, "form", json_object());
        if (caps & SESSION_CAP_ELICIT_URL)
            json_object_set_new(el, "url", json_object());
        json_object_set_new(o, "elicitation", el);
    }
    if (caps & SESSION_CAP_SAMPLING)
        json_object_set_new(o, "sampling",
                            caps & SESSION_CAP_SAMPLING_TOOLS ? json_pack("{s:{}}", "tools")
                                                              : json_object());
    if (caps & SESSION_CAP_ROOTS)
        json_object_set_new(o, "roots", json_object());
    if (caps & SESSION_CAP_UI)
        json_object_set_new(o, "extensions",
                            json_pack("{s:{s:[s]}}", UI_EXT, "mimeTypes", UI_MIME));
    return o;
}
