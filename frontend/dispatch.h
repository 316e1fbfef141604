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

struct dispatch;

/* Bind a PUSH socket at 'endpoint' (e.g. "tcp://0.0.0.0:7100"). NULL with err set. */
struct dispatch *dispatch_new(const char *endpoint, struct err *err);
/* Close the socket (linger 0) and free; NULL is a no-op. */
void dispatch_free(struct dispatch *d);
/* Push the job envelope of task 'task_id' without blocking: 0, -EAGAIN (no room / no
 * peer), or -EPROTO.  'trace' may be NULL; one an envelope cannot carry is left out. */
MUST_CHECK int dispatch_push_task(struct dispatch *d, const char *task_id, int attempt,
                                  const char *trace);

#endif
