/*
 * fabkeys.c - Z85 keys, key pairs and the worker allow-list for CURVE.
 *
 * Decoding and derivation are libzmq's (zmq_z85_decode, zmq_curve_public,
 * zmq_curve_keypair); this file adds the strict checks around them (exact
 * length, the Z85 alphabet, no stray characters) and the allow-list, kept
 * sorted for binary search.  Invariant: no key byte and no line of a key file
 * ever reaches an error message or a log.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fabkeys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>


struct fabkeys_allow {
    size_t n;                           /* keys */
    uint8_t keys[][FABKEYS_KEY_LEN];    /* sorted, no duplicates */
};

/* The 85 characters of the Z85 alphabet (ZeroMQ RFC 32). */
static bool z85_char(char c)
{
    static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   ".-:+=^!/*?&<>()[]{}@%$#";
    return c != '\0' && strchr(alphabet, c) != NULL;
}

/*
 * Decode 'z85' into the 32 bytes of 'out'.  Exactly 40 characters of the
 * Z85 alphabet are accepted; anything else is -FABKEYS_EINVALID.  Pure.
 */
int fabkeys_decode(const char *z85, uint8_t out[FABKEYS_KEY_LEN], struct err *err)
{
    if (!z85 || strnlen(z85, FABKEYS_Z85_LEN + 1) != FABKEYS_Z85_LEN)
        return err_set(err, -FABKEYS_EINVALID, "a fabric key must be %d characters of Z85 text",
                       FABKEYS_Z85_LEN);
    for (size_t i = 0; i < FABKEYS_Z85_LEN; i++)
        if (!z85_char(z85[i]))
            return err_set(err, -FABKEYS_EINVALID, "a fabric key holds a character outside Z85");
    if (!zmq_z85_decode(out, z85))
        return err_set(err, -FABKEYS_EINVALID, "a fabric key does not decode as Z85");
    return 0;
}

/* Derive the public key of a secret key; both as Z85 text. */
int fabkeys_public_of(const char *secret, char public[FABKEYS_Z85_LEN + 1], struct err *err)
{
    uint8_t raw[FABKEYS_KEY_LEN];
    int rc = fabkeys_decode(secret, raw, err);
    if (rc < 0)
        return rc;
    if (zmq_curve_public(public, secret) != 0)
        return err_set(err, errno == ENOTSUP ? -FABKEYS_ENOCURVE : -FABKEYS_EINVALID,
                       "cannot derive a public key: %s", zmq_strerror(errno));
    return 0;
}

/* A fresh Curve25519 key pair from libzmq's random source. */
int fabkeys_generate(char public[FABKEYS_Z85_LEN + 1], char secret[FABKEYS_Z85_LEN + 1],
                     struct err *err)
{
    if (!zmq_has("curve"))
        return err_set(err, -FABKEYS_ENOCURVE, "this libzmq has no CURVE support");
    if (zmq_curve_keypair(public, secret) != 0)
        return err_set(err, -FABKEYS_ENOCURVE, "cannot make a key pair: %s", zmq_strerror(errno));
    return 0;
}

static int key_cmp(const void *a, const void *b)
{
    return memcmp(a, b, FABKEYS_KEY_LEN);
}

/* Decode one allow-list line (trimmed of blanks) into 'out'; 1 for a key, 0 for a
 * blank or comment line, or -FABKEYS_EINVALID. */
static int parse_line(const char *line, size_t len, uint8_t out[FABKEYS_KEY_LEN])
{
    while (len && (line[0] == ' ' || line[0] == '\t'))
        line++, len--;
    while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
        len--;
    if (len == 0 || line[0] == '#')
        return 0;
    char z85[FABKEYS_Z85_LEN + 1];
    if (len != FABKEYS_Z85_LEN)
        return -FABKEYS_EINVALID;
    memcpy(z85, line, len);
    z85[len] = '\0';
    return fabkeys_decode(z85, out, NULL) < 0 ? -FABKEYS_EINVALID : 1;
}

/*
 * Parse allow-list text into a new list (sorted, duplicates merged).  NULL
 * with 'err' set for a line that is not a key (its number is named, never its
 * text), for no key at all, for more than FABKEYS_MAX_KEYS keys, or no memory.
 */
struct fabkeys_allow *fabkeys_allow_parse(const char *text, size_t len, struct err *err)
{
    struct fabkeys_allow *a = malloc(sizeof(*a) + FABKEYS_MAX_KEYS * FABKEYS_KEY_LEN);
    if (!a) {
        err_set(err, -FABKEYS_ENOMEM, "out of memory");
        return NULL;
    }
    a->n = 0;
    size_t lineno = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len;
        lineno++;
        uint8_t key[FABKEYS_KEY_LEN];
        int rc = parse_line(text + at, end - at, key);
        if (rc == 1 && a->n == FABKEYS_MAX_KEYS)
            rc = err_set(err, -FABKEYS_EINVALID, "more than %d keys (line %zu)", FABKEYS_MAX_KEYS,
                         lineno);
        else if (rc < 0)
            rc = err_set(err, -FABKEYS_EINVALID, "line %zu is not a Z85 public key", lineno);
        if (rc < 0) {
            free(a);
            return NULL;
        }
        if (rc == 1)
            memcpy(a->keys[a->n++], key, FABKEYS_KEY_LEN);
        at = end + 1;
    }
    if (a->n == 0) {
        err_set(err, -FABKEYS_EINVALID, "no worker public key in the allow-list");
        free(a);
        return NULL;
    }
    qsort(a->keys, a->n, FABKEYS_KEY_LEN, key_cmp);
    size_t out = 1;
    for (size_t i = 1; i < a->n; i++)
        if (key_cmp(a->keys[i], a->keys[out - 1]) != 0)
            memcpy(a->keys[out++], a->keys[i], FABKEYS_KEY_LEN);
    a->n = out;
    return a;
}

/* True when 'key' is on the list (binary search). */
bool fabkeys_allow_has(const struct fabkeys_allow *a, const uint8_t key[FABKEYS_KEY_LEN])
{
    return a && bsearch(key, a->keys, a->n, FABKEYS_KEY_LEN, key_cmp) != NULL;
}

size_t fabkeys_allow_count(const struct fabkeys_allow *a)
{
    return a ? a->n : 0;
}

void fabkeys_allow_free(struct fabkeys_allow *a)
{
    free(a);
}

/* Set a string CURVE option; 0 or -FABKEYS_ESOCKET. */
static int set_key(void *sock, int option, const char *z85, const char *what, struct err *err)
{
    if (zmq_setsockopt(sock, option, z85, FABKEYS_Z85_LEN) != 0)
        return err_set(err, errno == EINVAL && !zmq_has("curve") ? -FABKEYS_ENOCURVE
                                                                  : -FABKEYS_ESOCKET,
                       "cannot set the fabric %s: %s", what, zmq_strerror(errno));
    return 0;
}

/*
 * Make 'sock' (before bind) a CURVE server: every peer must complete the
 * CURVE handshake, and the context's ZAP handler decides who is admitted.
 */
int fabkeys_set_server(void *sock, const char *secret, struct err *err)
{
    uint8_t raw[FABKEYS_KEY_LEN];
    int one = 1, rc = fabkeys_decode(secret, raw, err);
    if (rc < 0)
        return rc;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof(one)) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, "taskwire", 8) != 0)
        return err_set(err, -FABKEYS_ESOCKET, "cannot make the fabric a CURVE server: %s",
                       zmq_strerror(errno));
    return set_key(sock, ZMQ_CURVE_SECRETKEY, secret, "secret key", err);
}

/* Make 'sock' (before connect) a CURVE client of the server key 'server'. */
int fabkeys_set_client(void *sock, const char *server, const char *secret, struct err *err)
{
    char public[FABKEYS_Z85_LEN + 1];
    uint8_t raw[FABKEYS_KEY_LEN];
    int rc;
    if ((rc = fabkeys_decode(server, raw, err)) < 0 || (rc = fabkeys_public_of(secret, public, err)) < 0)
        return rc;
    if ((rc = set_key(sock, ZMQ_CURVE_SERVERKEY, server, "server key", err)) < 0 ||
        (rc = set_key(sock, ZMQ_CURVE_PUBLICKEY, public, "public key", err)) < 0 ||
        (rc = set_key(sock, ZMQ_CURVE_SECRETKEY, secret, "secret key", err)) < 0)
        return rc;
    return 0;
}
