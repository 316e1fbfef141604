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
 * The hub owns nothing it is given: waiters are the caller's memory, linked
 * in between hub_add() and hub_remove().  It acts on connections only through
 * a struct hub_conn_ops (libmicrohttpd by default), so tests can drive it
 * without a server.  Every function is thread-safe.
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
#define HUB_PROMPTS_KEY "*prompts" /* the key of prompts/list changes */

/* Flags reported by hub_take(). */
enum {
    HUB_CHANGED = 1,  /* an event for one of the keys arrived */
    HUB_TICK = 2,     /* the tick interval passed */
    HUB_GONE = 4,     /* the client hung up */
    HUB_SHUTDOWN = 8, /* the frontend is stopping */
};

/* One waiting request: the caller's memory, linked into the hub while registered. */
struct hub_waiter {
    struct MHD_Connection *conn;         /* the waiting connection */
    char keys[HUB_MAX_KEYS][TASKID_LEN + 1]; /* task ids (or HUB_*_KEY) watched */
    int nkeys;                           /* used entries of keys */
    int64_t tick_ms;                     /* tick interval */
    /* Guarded by the hub's mutex. */
    int64_t next_tick_ms;                /* monotonic time of the next tick */
    unsigned flags;                      /* pending HUB_* flags */
    uint64_t changed;                    /* bit i: an event for keys[i] arrived */
    bool suspended;                      /* the connection is suspended */
    struct hub_waiter *prev, *next;      /* hub list */
};

/* What the hub does to a waiting connection; the default drives libmicrohttpd. */
struct hub_conn_ops {
    void (*suspend)(struct MHD_Connection *conn); /* park it (MHD_suspend_connection) */
    void (*resume)(struct MHD_Connection *conn);  /* hand it back (MHD_resume_connection) */
    int (*fd)(struct MHD_Connection *conn);       /* its socket, or -1 when unknown */
};

struct hub;

/* Start the hub: a Redis subscriber at 'redis_addr' ("" = none) and a ticker thread;
 * 'ops' (borrowed, NULL = libmicrohttpd) acts on connections.  NULL when out of resources. */
struct hub *hub_new(const char *redis_addr, const struct hub_conn_ops *ops);
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
