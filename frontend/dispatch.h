/*
 * dispatch.h - the frontend's end of the fabric: a bound ZeroMQ PUSH socket.
 *
 * Sends never block: when no worker is connected or every pipe is full the
 * send fails with -EAGAIN and the task simply stays queued in PostgreSQL,
 * where an idle worker or the redispatcher finds it.  One socket per
 * process, used under a mutex (sends take microseconds).  This is the one
 * place that turns a task into a job envelope (proto/envelope.h): its id,
 * attempt and trace, never its arguments or owner.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_DISPATCH_H
#define TASKWIRE_DISPATCH_H

#include "err.h"

/* CURVE on the fabric: the frontends' server secret key and the worker keys admitted. */
struct dispatch_curve {
    const char *secret_key;            /* Z85 server secret key (borrowed) */
    const struct fabkeys_allow *allow; /* admitted worker public keys (borrowed; outlives it) */
};

struct dispatch;

/* Bind a PUSH socket at 'endpoint' (e.g. "tcp://0.0.0.0:7100"), a CURVE server admitting only
 * 'curve->allow' keys, or plain when 'curve' is NULL (insecure).  NULL with err set. */
struct dispatch *dispatch_new(const char *endpoint, const struct dispatch_curve *curve,
                              struct err *err);
/* Close the socket (linger 0) and free; NULL is a no-op. */
void dispatch_free(struct dispatch *d);
/* Push the job envelope of task 'task_id' without blocking: 0, -EAGAIN (no room / no
 * peer), or -EPROTO.  'trace' may be NULL; one an envelope cannot carry is left out. */
MUST_CHECK int dispatch_push_task(struct dispatch *d, const char *task_id, int attempt,
                                  const char *trace);

#endif
