/*
 * fabkeys.h - CURVE key material of the ZeroMQ fabric.
 *
 * Frontends hold one server key pair (shared by every frontend, so a worker
 * needs one public key whatever frontend it reaches) and accept only the
 * worker public keys of an allow-list file; workers hold a client key pair
 * and the frontends' public key.  Keys travel as 40-character Z85 text
 * (what `taskwire fabric-keygen` writes).  This module checks, decodes and
 * derives keys and loads the allow-list; it does not open sockets beyond
 * applying the options to one.  Error texts never quote key material.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_FABKEYS_H
#define TASKWIRE_FABKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define FABKEYS_Z85_LEN  40  /* characters of a Z85 key, without the NUL */
#define FABKEYS_KEY_LEN  32  /* bytes of a Curve25519 key */
#define FABKEYS_MAX_KEYS 1024 /* worker public keys an allow-list may hold */

enum fabkeys_error {
    FABKEYS_EINVALID = 1, /* not a 40-character Z85 key, or an allow-list line that is not one */
    FABKEYS_ENOMEM,       /* allocation failed */
    FABKEYS_ENOCURVE,     /* this libzmq was built without CURVE */
    FABKEYS_ESOCKET,      /* ZeroMQ refused a CURVE socket option */
};

/* Decode the Z85 key 'z85' (exactly 40 characters) into 'out'; 0 or -FABKEYS_EINVALID. */
MUST_CHECK int fabkeys_decode(const char *z85, uint8_t out[FABKEYS_KEY_LEN], struct err *err);
/* The Z85 public key of the Z85 secret key 'secret' into 'public' (41 bytes with the NUL). */
MUST_CHECK int fabkeys_public_of(const char *secret, char public[FABKEYS_Z85_LEN + 1],
                                 struct err *err);
/* A new key pair as Z85 text (41 bytes each with the NUL). */
MUST_CHECK int fabkeys_generate(char public[FABKEYS_Z85_LEN + 1],
                                char secret[FABKEYS_Z85_LEN + 1], struct err *err);

/* The worker public keys frontends accept. */
struct fabkeys_allow;

/* Parse allow-list text ('len' bytes): one Z85 public key per line, blank lines and
 * '#' comments ignored; at least one key.  NULL with err set (naming the line). */
struct fabkeys_allow *fabkeys_allow_parse(const char *text, size_t len, struct err *err);
/* True when the 32-byte public key 'key' is on the list.  Thread-safe (read-only). */
bool fabkeys_allow_has(const struct fabkeys_allow *a, const uint8_t key[FABKEYS_KEY_LEN]);
/* Keys on the list. */
size_t fabkeys_allow_count(const struct fabkeys_allow *a);
/* Free; NULL is a no-op. */
void fabkeys_allow_free(struct fabkeys_allow *a);

/* Make ZeroMQ socket 'sock' a CURVE server with the Z85 secret key 'secret'. */
MUST_CHECK int fabkeys_set_server(void *sock, const char *secret, struct err *err);
/* Make 'sock' a CURVE client of the server with Z85 public key 'server' using the client
 * Z85 secret key 'secret' (its public key is derived). */
MUST_CHECK int fabkeys_set_client(void *sock, const char *server, const char *secret,
                                  struct err *err);

#endif
