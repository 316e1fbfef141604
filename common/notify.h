/*
 * notify.h - fast wake-ups over Redis pub/sub (never the truth).
 *
 * A frontend publishes "task changed" events (cancel, input answered) on one
 * channel; each worker subscribes and wakes the slot running that task.  If
 * Redis is down nothing is lost: publishing fails quietly and workers still
 * see the change at their next conditional write or heartbeat.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_NOTIFY_H
#define TASKWIRE_NOTIFY_H

#include <stdbool.h>

#include "err.h"

#define NOTIFY_CHANNEL "taskwire:task-events"

/* Kinds of events; the payload is "<kind> <task id>". */
#define NOTIFY_CANCEL "cancel"   /* tasks/cancel committed */
#define NOTIFY_CHANGED "changed" /* status, progress or result changed */
#define NOTIFY_TOOLS "tools"     /* the tools list changed (key is ignored) */
#define NOTIFY_RESYNC "resync"   /* local only: (re)subscribed, events may have been missed */

struct notify_pub;

/* A publisher for Redis at "host:port" (NULL or "" disables it).  Connects lazily;
 * one per thread. */
struct notify_pub *notify_pub_new(const char *addr);
void notify_pub_free(struct notify_pub *p);
/* Publish '<kind> <task_id>'; returns 0, or -1 when Redis is unreachable (best effort). */
int notify_publish(struct notify_pub *p, const char *kind, const char *task_id);

/* Called on the subscriber thread for every event received. */
typedef void notify_cb(void *arg, const char *kind, const char *task_id);

struct notify_sub;

/* Start a thread subscribed at 'addr' that calls cb(arg, ...) per event and
 * reconnects every second while Redis is away; after every (re)subscription it
 * calls cb(arg, NOTIFY_RESYNC, "") since events may have been missed.  NULL
 * when addr is empty. */
struct notify_sub *notify_sub_start(const char *addr, notify_cb *cb, void *arg);
/* Stop the thread (within about a second) and free; NULL is a no-op. */
void notify_sub_stop(struct notify_sub *s);
/* True while the subscription is established (for metrics and tests). */
bool notify_sub_connected(const struct notify_sub *s);

#endif
