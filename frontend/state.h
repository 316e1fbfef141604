/*
 * state.h - integrity-protected MRTR requestState.
 *
 * An InputRequiredResult hands the client an opaque requestState that it
 * echoes on its retry, which may reach any frontend.  The state names the
 * durable task behind the round and is bound to the principal, the method,
 * the tool, a digest of the arguments and an expiry, under an HMAC-SHA256
 * key shared by all frontends.  No I/O, no global state; thread-safe.
 * Verification is fuzzed (tests/fuzz/fuzz_state.c).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_STATE_H
#define TASKWIRE_STATE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "taskid.h"

#define STATE_KEY_MIN 32  /* bytes of key material required */
#define STATE_MAX_LEN 1024

enum state_error {
    STATE_EINVALID = 1, /* malformed or tampered */
    STATE_EEXPIRED,     /* past its expiry */
    STATE_EMISMATCH,    /* valid, but for another principal, tool or arguments */
    STATE_EINTERNAL,    /* out of memory or a digest failure while checking */
};

struct state_binding {
    const char *owner;    /* principal */
    const char *method;   /* "tools/call" */
    const char *tool;     /* tool name */
    const json_t *args;   /* arguments object (digested canonically) */
};

/* A new state string (caller frees; NULL when out of memory) for 'task_id' bound to 'b',
 * valid until 'expires_s'. */
char *state_sign(const unsigned char *key, size_t key_len, const char *task_id,
                 const struct state_binding *b, int64_t expires_s);
/* Verify untrusted 'state' at time 'now_s' against 'b': 0 and the task id copied out,
 * or -STATE_E* with 'err' set. */
MUST_CHECK int state_verify(const unsigned char *key, size_t key_len, const char *state,
                            const struct state_binding *b, int64_t now_s,
                            char task_id[TASKID_LEN + 1], struct err *err);

#endif
