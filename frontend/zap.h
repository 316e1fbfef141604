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

#include "err.h"
#include "fabkeys.h"

enum zap_error {
    ZAP_ESOCKET = 1, /* the handler socket could not be bound */
    ZAP_ETHREAD,     /* the thread could not start */
    ZAP_ENOMEM,      /* allocation failed */
};

struct zap;

/* Start the handler on context 'zctx' (before any CURVE socket binds) admitting the keys
 * of 'allow' (borrowed; must outlive the handler).  NULL with err set. */
struct zap *zap_start(void *zctx, const struct fabkeys_allow *allow, struct err *err);
/* Stop the thread, close its socket and free; call before zmq_ctx_term.  NULL is a no-op. */
void zap_stop(struct zap *z);
/* Register the handler's metrics; call once before serving. */
void zap_metrics_register(void);

#endif
