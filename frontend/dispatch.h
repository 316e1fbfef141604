/*
 * dispatch.h - the frontend's end of the fabric: a bound ZeroMQ PUSH socket.
 *
 * Sends never block: when no worker is connected or every pipe is full the
 * send fails with -EAGAIN and the task simply stays queued in PostgreSQL,
 * where an idle worker or the redispatcher finds it.  One socket per
 * process, used under a mutex (sends take microseconds).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_DISPATCH_H
#define TASKWIRE_DISPATCH_H

#include "envelope.h"
#include "err.h"

struct dispatch;

/* Bind a PUSH socket at 'endpoint' (e.g. "tcp://0.0.0.0:7100"). NULL with err set. */
struct dispatch *dispatch_new(const char *endpoint, struct err *err);
/* Close the socket (linger 0) and free; NULL is a no-op. */
void dispatch_free(struct dispatch *d);
/* Encode and push one job without blocking: 0, -EAGAIN (no room / no peer), or -EPROTO. */
MUST_CHECK int dispatch_push(struct dispatch *d, const struct envelope *env);

#endif
