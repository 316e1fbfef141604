/*
 * fuzz_legacy.c - libFuzzer target for what the legacy (2025) era parses from
 * untrusted bytes: Mcp-Session-Id tokens (frontend/session.c), tasks/list
 * cursors (frontend/cursor.c), the era classification of a POSTed body
 * (frontend/era.c) and the routing ids of client responses
 * (frontend/legacy_stream.c).
 *
 * Every input is tried as each of them.  As a session id it is verified with
 * a fixed key at a fixed time for principal "alice"; an input starting with
 * '!' is a payload the harness signs itself (an independent implementation of
 * the key derivation and MAC), so mutations reach the checks behind the MAC.
 * As a cursor, whatever decodes must encode back to the same text.  As a
 * body, the classification must be one of the kinds, a response only when
 * rpc_parse refused the body, modern whenever the body claims a version.
 * Every input then checks the session round trip (verifies for its
 * principal until its expiry, never for another).  A broken contract calls
 * abort().  Seeds: corpus/legacy/ (make_legacy_corpus.py).
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
#include "cursor.h"
#include "era.h"
#include "legacy_stream.h"
#include "mcpdefs.h"
#include "session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW_S INT64_C(1800000000)
#define FUZZ_LABEL "taskwire/mcp-session-id/v1"

static const unsigned char fuzz_key[32] = "taskwire-fuzz-sessn-key-32-bytes";

/* "s1." base64url(payload) "." base64url(HMAC(HMAC(key, label), payload)). */
static char *sign_payload(const uint8_t *p, size_t n)
{
    unsigned char derived[32], mac[32];
    unsigned len = 0;
    if (!HMAC(EVP_sha256(), fuzz_key, sizeof(fuzz_key), (const unsigned char *)FUZZ_LABEL,
              strlen(FUZZ_LABEL), derived, &len) ||
        !HMAC(EVP_sha256(), derived, sizeof(derived), p, n, mac, &len))
        abort();
    char *out = malloc(3 + B64_ENCODED_MAX(n) + B64_ENCODED_MAX(32) + 1);
    if (!out)
        abort();
    memcpy(out, "s1.", 3);
    size_t o = 3 + b64url_encode(p, n, out + 3);
    out[o++] = '.';
    b64url_encode(mac, sizeof(mac), out + o);
    return out;
}

/* Verify 'token' for 'who' at 'now' and check the result's contract; returns the code. */
static int verify_checked(const char *token, const char *who, int64_t now)
{
    struct session s;
    struct err e = {0};
    memset(&s, 'x', sizeof(s));
    int rc = session_verify(fuzz_key, sizeof(fuzz_key), token, who, now, &s, &e);
    switch (-rc) {
    case 0:
        if (!era_legacy_version(s.version) || s.caps > 0xffff || e.code != 0 || now > s.expires_s)
            abort();
        break;
    case SESSION_EINVALID:
    case SESSION_EEXPIRED:
    case SESSION_EPRINCIPAL:
    case SESSION_EINTERNAL:
        if (e.code != rc || e.msg[0] == '\0')
            abort();
        break;
    default:
        abort();
    }
    return rc;
}

/* A session signed for "alice" verifies until its expiry, and never for anyone else. */
static void check_round_trip(unsigned caps)
{
    char t[SESSION_MAX_LEN + 1];
    struct session s = {.caps = caps & 0x3f, .expires_s = FUZZ_NOW_S + 60};
    strcpy(s.version, caps & 0x40 ? ERA_LEGACY_PREVIOUS : ERA_LEGACY_LATEST);
    if (session_sign(fuzz_key, sizeof(fuzz_key), &s, "alice", t) != 0 ||
        verify_checked(t, "alice", FUZZ_NOW_S + 60) != 0 ||
        verify_checked(t, "alice", FUZZ_NOW_S + 61) != -SESSION_EEXPIRED ||
        verify_checked(t, "alice2", FUZZ_NOW_S) != -SESSION_EPRINCIPAL)
        abort();
}

/* Whatever decodes as a cursor encodes back to exactly the same text. */
static void check_cursor(const char *text)
{
    int64_t us;
    char id[TASKID_LEN + 1], again[CURSOR_MAX_LEN + 1];
    if (cursor_decode(text, &us, id) != 0)
        return;
    if (cursor_encode(us, id, again) != 0 || strcmp(again, text) != 0)
        abort();
}

/* The classification of 'data' as a body, under each kind of version header. */
static void check_body(const uint8_t *data, size_t size)
{
    static const char *const headers[] = {NULL, "2025-11-25", "2026-07-28", "1999-01-01"};
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        struct rpc_request req;
        int rc = rpc_parse((const char *)data, size, &req, NULL);
        enum era_kind k = era_classify(&req, rc, headers[i]);
        bool claim = rc == 0 && req.meta && json_object_get(req.meta, MCP_META_PROTOCOL_VERSION);
        if (k > ERA_BAD_VERSION || (k == ERA_LEGACY_RESPONSE && rc == 0) ||
            (claim && k != ERA_MODERN) || (rc < 0 && k != ERA_INVALID && k != ERA_LEGACY_RESPONSE))
            abort();
        char task[TASKID_LEN + 1], key[LEGACY_KEY_MAX + 1];
        if (k == ERA_LEGACY_RESPONSE &&
            legacy_response_id(json_object_get(req.root, "id"), task, key) &&
            (!taskid_valid(task) || key[0] == '\0' || strlen(key) > LEGACY_KEY_MAX))
            abort();
        rpc_request_fini(&req);
    }
}

/*
 * libFuzzer entry point: one input per call.  Returns 0; aborts when a
 * result breaks a contract of session.c, cursor.c, era.c or the response ids.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    char *token = size > 0 && data[0] == '!' ? sign_payload(data + 1, size - 1) : NULL;
    (void)verify_checked(token ? token : text, "alice", FUZZ_NOW_S);
    free(token);
    check_cursor(text);
    check_body(data, size);
    check_round_trip(size > 0 ? data[size - 1] : 0);
    free(text);
    return 0;
}
