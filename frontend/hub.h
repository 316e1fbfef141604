/*
 * hub.h - where HTTP requests wait for task changes without holding a thread.
 *
 * A request that must wait (a synchronous tools/call, an SSE progress stream,
 * a subscriptions/listen stream) registers a waiter and suspends its MHD
 * connection.  The hub resumes it when a change event for one of its keys
 * arrives over Redis pub/sub, when its next tick is due (keep-alives,
 * deadlines), when the client hangs up, or at shutdown.  No PostgreSQL
 * polling: while Redis is unreachable, ticks stand in for events.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_HUB_H
#define TASKWIRE_HUB_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "taskid.h"

#define HUB_MAX_KEYS 64          /* task ids one waiter may watch */
#define HUB_TOOLS_KEY "*tools"   /* the key of tools/list changes */

/* Flags reported by hub_take(). */
enum {
    HUB_CHANGED = 1,  /* an event for one of the keys arrived */
    HUB_TICK = 2,     /* the tick interval passed */
    HUB_GONE = 4,     /* the client hung up */
    HUB_SHUTDOWN = 8, /* the frontend is stopping */
};

struct hub_waiter {
    struct MHD_Connection *conn;         /* the waiting connection */
    char keys[HUB_MAX_KEYS][TASKID_LEN + 1]; /* task ids (or HUB_TOOLS_KEY) watched */
    int nkeys;                           /* used entries of keys */
    int64_t tick_ms;                     /* tick interval */
    /* Guarded by the hub's mutex. */
    int64_t next_tick_ms;                /* monotonic time of the next tick */
    unsigned flags;                      /* pending HUB_* flags */
    uint64_t changed;                    /* bit i: an event for keys[i] arrived */
    bool suspended;                      /* the connection is suspended */
    struct hub_waiter *prev, *next;      /* hub list */
};

struct hub;

/* Start the hub: a Redis subscriber at 'redis_addr' and a ticker thread. */
struct hub *hub_new(const char *redis_addr);
/* Resume every waiter with HUB_SHUTDOWN and wait up to 'grace_ms' for all to leave. */
void hub_shutdown(struct hub *h, int64_t grace_ms);
/* Stop the threads and free; no waiter may remain. */
void hub_free(struct hub *h);
/* Register 'w' (keys, conn and tick_ms set by the caller). */
void hub_add(struct hub *h, struct hub_waiter *w);
/* Unregister 'w'; it must not be suspended. */
void hub_remove(struct hub *h, struct hub_waiter *w);
/* From an MHD callback: suspend w's connection unless flags are already
 * pending.  Returns true when suspended. */
bool hub_suspend(struct hub *h, struct hub_waiter *w);
/* Read and clear w's pending flags; *changed gets the bits of the keys that
 * had events (may be NULL). */
unsigned hub_take(struct hub *h, struct hub_waiter *w, uint64_t *changed);
/* Deliver an event for 'key' as if it came from Redis (used for local changes). */
void hub_event(struct hub *h, const char *key);
/* True while change events arrive over Redis (else ticks must stand in). */
bool hub_live(const struct hub *h);
/* Waiters currently registered (for metrics and tests). */
int hub_count(struct hub *h);

#endif
