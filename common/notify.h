/*
 * notify.h - fast wake-ups over Redis pub/sub (never the truth).
 *
 * A frontend or worker publishes "task changed" events (cancel, input
 * answered, progress, outcome, tools or prompts list) on one channel; subscribers wake
 * whoever waits for that task.  If Redis is down nothing is lost: publishing
 * fails quietly and receivers still see the change at their next
 * conditional write, heartbeat or safety read.  The payload is
 * "<kind> <task id>"; notify_parse() is its only reader (pure, no I/O).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_NOTIFY_H
#define TASKWIRE_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "taskid.h"

#define NOTIFY_CHANNEL "taskwire:task-events"

/* Kinds of events; the payload is "<kind> <task id>". */
#define NOTIFY_CANCEL "cancel"   /* tasks/cancel committed */
#define NOTIFY_CHANGED "changed" /* status, progress or result changed */
#define NOTIFY_TOOLS "tools"     /* the tools list changed (key is ignored) */
#define NOTIFY_PROMPTS "prompts" /* the prompts list changed (key is ignored) */
#define NOTIFY_RESYNC "resync"   /* local only: (re)subscribed, events may have been missed */

enum notify_error {
    NOTIFY_EUNAVAILABLE = 1, /* publishing disabled, or Redis unreachable: nothing was sent */
    NOTIFY_EINVALID,         /* an address or payload that is not what it must be */
};

/* One event as read from the channel. */
struct notify_event {
    const char *kind;             /* NOTIFY_CANCEL, _CHANGED, _TOOLS or _PROMPTS (static) */
    char task_id[TASKID_LEN + 1]; /* canonical task id */
};

/* Parse the 'len' bytes at 'payload' (need not be NUL-terminated) as exactly
 * "<kind> <task id>" with a kind of the wire (not NOTIFY_RESYNC).  0, or
 * -NOTIFY_EINVALID with *out zeroed.  No I/O, no allocation; thread-safe. */
MUST_CHECK int notify_parse(const char *payload, size_t len, struct notify_event *out);
struct redisReply;
/* Read one reply of the subscription (hiredis) as an event: a pub/sub "message" whose
 * payload notify_parse() accepts.  0, or -NOTIFY_EINVALID.  No I/O (fuzzed). */
MUST_CHECK int notify_reply_event(const struct redisReply *r, struct notify_event *out);

struct notify_pub;

/* A publisher for Redis at "host:port" (NULL, "" or no port disables it).  Connects
 * lazily; one per thread.  NULL only when out of memory. */
struct notify_pub *notify_pub_new(const char *addr);
/* Close and free; NULL is a no-op. */
void notify_pub_free(struct notify_pub *p);
/* Publish '<kind> <task_id>'; 0, or -NOTIFY_EUNAVAILABLE (best effort: callers may ignore it). */
int notify_publish(struct notify_pub *p, const char *kind, const char *task_id);

/* Called on the subscriber thread for every valid event received; both strings are
 * borrowed for the call only. */
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
