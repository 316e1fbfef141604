/*
 * zap.h - who may connect to the fabric: the ZeroMQ authentication handler.
 *
 * With CURVE on, every worker connecting to a frontend's PUSH socket proves
 * it holds the secret key of a public key; this handler (ZAP, ZeroMQ RFC 27)
 * admits it only when that public key is on the allow-list.  A peer without
 * the frontend's public key never completes the handshake at all.  One
 * thread per frontend, on the fabric's ZeroMQ context.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_ZAP_H
#define TASKWIRE_ZAP_H

#include <stddef.h>

#include "err.h"
#include "fabkeys.h"

enum zap_error {
    ZAP_ESOCKET = 1, /* the handler socket could not be bound */
    ZAP_ETHREAD,     /* the thread could not start */
    ZAP_ENOMEM,      /* allocation failed */
};

#define ZAP_FRAMES    7  /* frames of a ZAP 1.0 request (RFC 27) */
#define ZAP_FRAME_MAX 64 /* bytes kept of each frame */

struct zap;

/* One request: its frames (copied, bounded) and how many arrived. */
struct zap_request {
    char frame[ZAP_FRAMES][ZAP_FRAME_MAX]; /* version, request id, domain, address, identity,
                                              mechanism, credentials (each cut) */
    size_t len[ZAP_FRAMES];                /* bytes of each frame as received (before the cut) */
    int n; /* frames received (more than ZAP_FRAMES are counted, dropped) */
};

/* The answer to one request. */
struct zap_verdict {
    const char *code; /* status code: "200", "400" or "500" */
    const char *text; /* status text sent back */
    const char *why;  /* reason logged for a refusal; NULL when admitted */
};

/* Start the handler on context 'zctx' (before any CURVE socket binds) admitting the keys
 * of 'allow' (borrowed; must outlive the handler).  NULL with err set. */
struct zap *zap_start(void *zctx, const struct fabkeys_allow *allow, struct err *err);
/* Stop the thread, close its socket and free; call before zmq_ctx_term.  NULL is a no-op. */
void zap_stop(struct zap *z);
/* Add one received frame of 'n' bytes to 'q' (start with q->n = 0).  Pure. */
void zap_request_add(struct zap_request *q, const void *data, size_t n);
/* Decide request 'q': 200 only for a CURVE client whose key is on 'allow'.  Pure (what the
 * handler does with a received request; fuzzed). */
struct zap_verdict zap_decide(const struct zap_request *q, const struct fabkeys_allow *allow);
/* Register the handler's metrics; call once before serving. */
void zap_metrics_register(void);

#endif
