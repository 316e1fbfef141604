/*
 * fuzz_state.c - libFuzzer target for requestState verification (frontend/state.c).
 *
 * Input: up to three lines, "STATE\nOWNER\nARGS".  STATE is verified with a
 * fixed test key at a fixed time against the binding (OWNER, default
 * "alice"; tool "greet"; ARGS parsed as JSON, absent or invalid = {}).  A
 * STATE line starting with '!' is a payload the harness signs itself, so
 * mutations also reach the parser behind the MAC.  Every input then checks
 * the round trip: a state signed for the same binding verifies, expires one
 * second after its expiry, and refuses another owner.  Any broken contract
 * calls abort().  The seeds in corpus/state/ come from make_state_corpus.py,
 * an independent implementation of the format.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "state.h"
#include "taskid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW_S INT64_C(1800000000) /* the seeds expire at 2000000000 or 1700000000 */
#define FUZZ_TASK "01a200cc-5d93-48a9-ba90-df853b759f72"

static const unsigned char fuzz_key[32] = "taskwire-fuzz-state-key-32-bytes";

/* Splits an input into lines without reading past it. */
struct cursor {
    const uint8_t *data; /* the input */
    size_t size;         /* its length */
    size_t off;          /* start of the next line */
    bool done;           /* no line is left */
};

/* The next line as a new NUL-terminated string; NULL when none is left. */
static char *next_line(struct cursor *c)
{
    if (c->done)
        return NULL;
    const uint8_t *start = c->data + c->off;
    const uint8_t *nl = memchr(start, '\n', c->size - c->off);
    size_t n = nl ? (size_t)(nl - start) : c->size - c->off;
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, start, n);
    s[n] = '\0';
    c->off += n + (nl ? 1 : 0);
    c->done = !nl;
    return s;
}

/* "!payload" becomes base64url(payload) "." base64url(HMAC-SHA256(key, payload)). */
static char *sign_payload(const char *payload)
{
    size_t n = strlen(payload);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (!HMAC(EVP_sha256(), fuzz_key, sizeof(fuzz_key), (const unsigned char *)payload, n, mac,
              &mac_len))
        abort();
    char *out = malloc(B64_ENCODED_MAX(n) + B64_ENCODED_MAX(mac_len) + 1);
    if (!out)
        abort();
    size_t o = b64url_encode((const unsigned char *)payload, n, out);
    out[o++] = '.';
    b64url_encode(mac, mac_len, out + o);
    return out;
}

/* Verify and check the contract of the result; returns the code. */
static int verify_checked(const char *state, const struct state_binding *b, int64_t now_s,
                          char task_id[TASKID_LEN + 1])
{
    struct err e = {0};
    memset(task_id, 'x', TASKID_LEN + 1);
    int rc = state_verify(fuzz_key, sizeof(fuzz_key), state, b, now_s, task_id, &e);
    switch (-rc) {
    case 0:
        if (task_id[TASKID_LEN] != '\0' || !taskid_valid(task_id) || e.code != 0)
            abort();
        break;
    case STATE_EINVALID:
    case STATE_EEXPIRED:
    case STATE_EMISMATCH:
    case STATE_EINTERNAL:
        if (e.code != rc || e.msg[0] == '\0')
            abort();
        break;
    default:
        abort(); /* a code outside the contract */
    }
    return rc;
}

/* A state signed for binding 'b' verifies until its expiry and for its owner only. */
static void check_round_trip(const struct state_binding *b)
{
    char *st = state_sign(fuzz_key, sizeof(fuzz_key), FUZZ_TASK, b, FUZZ_NOW_S + 60);
    if (!st)
        abort();
    char id[TASKID_LEN + 1];
    if (verify_checked(st, b, FUZZ_NOW_S + 60, id) != 0 || strcmp(id, FUZZ_TASK) != 0)
        abort();
    if (verify_checked(st, b, FUZZ_NOW_S + 61, id) != -STATE_EEXPIRED)
        abort();
    size_t n = strlen(b->owner);
    char *other = malloc(n + 2);
    if (!other)
        abort();
    memcpy(other, b->owner, n);
    memcpy(other + n, "x", 2);
    struct state_binding ob = *b;
    ob.owner = other;
    if (verify_checked(st, &ob, FUZZ_NOW_S, id) != -STATE_EMISMATCH)
        abort();
    free(other);
    free(st);
}

/*
 * libFuzzer entry point: one input per call.  Returns 0; aborts when a
 * result breaks state_verify's or state_sign's contract.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cursor c = {data, size, 0, false};
    char *state = next_line(&c);
    char *owner = next_line(&c);
    json_t *args = c.done ? NULL
                          : json_loadb((const char *)data + c.off, size - c.off, 0, NULL);
    if (state[0] == '!') {
        char *signed_state = sign_payload(state + 1);
        free(state);
        state = signed_state;
    }
    struct state_binding b = {owner ? owner : "alice", "tools/call", "greet", args};
    char id[TASKID_LEN + 1];
    (void)verify_checked(state, &b, FUZZ_NOW_S, id);
    check_round_trip(&b);
    json_decref(args);
    free(owner);
    free(state);
    return 0;
}
