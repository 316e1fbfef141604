/*
 * redispatch.h - push queued tasks again when no worker claimed them.
 *
 * A job whose push failed (no worker connected, pipes full) or whose message
 * died with a worker stays queued in PostgreSQL.  Every frontend runs this
 * thread: it takes the queued tasks whose last push is older than the
 * interval (FOR UPDATE SKIP LOCKED, so frontends share the work) and pushes
 * them again.  Idle workers claiming straight from PostgreSQL are the other
 * half of "no job starves".
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_REDISPATCH_H
#define TASKWIRE_REDISPATCH_H

#include <stdint.h>

#include "dispatch.h"

struct redispatcher;

/* Start the thread: every 'interval_ms', re-push tasks queued that long. */
struct redispatcher *redispatch_start(const char *pg_dsn, struct dispatch *fabric,
                                      int64_t interval_ms);
/* Stop the thread and free; NULL is a no-op. */
void redispatch_stop(struct redispatcher *r);

#endif
