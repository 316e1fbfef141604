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
/* Register the Redis connection and error counters.  Call once, at start-up. */
void notify_metrics_register(void);
/* A Redis connection to host:port (connect and command timeouts in ms), authenticated with
 * the credentials of notify_set_auth(); NULL when unreachable or refused. */
struct redisContext *notify_redis_connect(const char *host, int port, int connect_ms,
                                          int command_ms);
/* Split a Redis address "host:port" (0 or -NOTIFY_EINVALID). */
MUST_CHECK int notify_split_addr(const char *addr, char *host, size_t cap, int *port);
/* Close and free; NULL is a no-op. */
void notify_pub_free(struct notify_pub *p);
/* The rule for Redis settings: a password is required unless 'insecure' or no address is
 * set; 0 or -NOTIFY_EINVALID with err saying which setting to add. */
MUST_CHECK int notify_check_auth(const char *addr, const char *password, bool insecure,
                                 struct err *err);
/* Credentials (ACL user, may be NULL/""; password, NULL/"" = none) every Redis connection of
 * this process sends with AUTH; warns when Redis at addr gets none.  Call from main() before
 * connecting, after notify_check_auth().  0 or -NOTIFY_EINVALID. */
MUST_CHECK int notify_set_auth(const char *addr, const char *user, const char *password);
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
