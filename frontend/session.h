/*
 * session.h - the stateless, signed Mcp-Session-Id of legacy (2025) sessions.
 *
 * A legacy client declares its capabilities and negotiates its version once,
 * in initialize; every later request may reach any frontend.  So the session
 * id carries them, with the principal it was issued to (hashed), its expiry
 * and a nonce, under an HMAC-SHA256 key derived from the key shared by all
 * frontends (TASKWIRE_STATE_KEY) with a label of its own.  Nothing is stored:
 * a session ends when it expires.  Layout:
 *   "s1." base64url(payload) "." base64url(HMAC)
 * which is visible ASCII (0x21-0x7E) as the transport requires.  No I/O, no
 * global state; thread-safe; fuzzed (tests/fuzz/fuzz_legacy.c).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_SESSION_H
#define TASKWIRE_SESSION_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SESSION_MAX_LEN 160 /* longest token accepted, and the buffer to sign into */

/* Client capabilities a legacy client declares in initialize, as bits. */
enum session_cap {
    SESSION_CAP_ELICIT_FORM = 1 << 0,    /* elicitation (form mode) */
    SESSION_CAP_ELICIT_URL = 1 << 1,     /* elicitation.url */
    SESSION_CAP_SAMPLING = 1 << 2,       /* sampling */
    SESSION_CAP_SAMPLING_TOOLS = 1 << 3, /* sampling.tools */
    SESSION_CAP_ROOTS = 1 << 4,          /* roots */
    SESSION_CAP_UI = 1 << 5,             /* extensions["io.modelcontextprotocol/ui"] with
                                            text/html;profile=mcp-app */
};

enum session_error {
    SESSION_EINVALID = 1, /* malformed, tampered or signed with another key */
    SESSION_EEXPIRED,     /* past its expiry */
    SESSION_EPRINCIPAL,   /* valid, but issued to another principal */
    SESSION_EINTERNAL,    /* out of memory, randomness or a digest failure */
};

/* What a session id says. */
struct session {
    char version[16];  /* negotiated protocol version ("2025-11-25" or "2025-06-18") */
    unsigned caps;     /* SESSION_CAP_* bits */
    int64_t expires_s; /* Unix seconds after which it is refused */
};

/* Sign 's' for 'principal' into 'out' (SESSION_MAX_LEN + 1 bytes): 0 or -SESSION_E*. */
MUST_CHECK int session_sign(const unsigned char *key, size_t key_len, const struct session *s,
                            const char *principal, char out[SESSION_MAX_LEN + 1]);
/* Verify untrusted 'token' for 'principal' at 'now_s': 0 and *out, or -SESSION_E*. */
MUST_CHECK int session_verify(const unsigned char *key, size_t key_len, const char *token,
                              const char *principal, int64_t now_s, struct session *out,
                              struct err *err);
/* The SESSION_CAP_* bits of an initialize's "capabilities" object (borrowed; may be NULL). */
unsigned session_caps_from_json(const json_t *caps);
/* The 2026-style clientCapabilities object the bits stand for (new reference). */
json_t *session_caps_to_json(unsigned caps);

#endif
