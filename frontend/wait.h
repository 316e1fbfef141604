/*
 * wait.h - requests that wait: synchronous tools/call and subscriptions/listen.
 *
 * A synchronous call waits for its task to end (or to ask for input) and
 * answers with JSON, or with an SSE stream of progress and log messages
 * followed by the answer; a legacy (2025) call or tasks/result also sends
 * the task's input requests as server-to-client requests, and tasks/result
 * its status changes; a listen stream sends task, tools-list and prompts-list changes
 * until its deadline or shutdown.  While there is nothing to do the connection is
 * parked in the hub, not holding a thread.  PostgreSQL is read only when an
 * event (or a tick without Redis, or the periodic safety read) says
 * something may have changed.
 *
 * wait.c decides what to send and when; http.c writes it (this module never
 * builds an HTTP response).  A wait runs on the MHD thread of its connection
 * and uses that thread's connections (threadconn).  A synchronous call whose
 * client leaves, or that times out, cancels its task; a legacy tasks/result
 * never does (the task is the client's).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_WAIT_H
#define TASKWIRE_WAIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "bytebuf.h"
#include "hub.h"
#include "legacy_stream.h"
#include "mcp.h"
#include "rpc.h"
#include "store.h"

#define WAIT_TICK_MS 1000      /* the hub ticks a waiter every second */
#define WAIT_KEEPALIVE_TICKS 15 /* ticks between SSE keep-alive comments */
#define WAIT_SAFETY_TICKS 15    /* ticks between reads no event asked for */

/* Process-wide settings, read-only while serving. */
struct wait_cfg {
    struct hub *hub;              /* where waiting requests park (borrowed) */
    const struct mcp_server *mcp; /* builds replies, signs requestState (borrowed) */
    const char *pg_dsn;           /* for this thread's store (threadconn) */
    const char *redis_addr;       /* for this thread's publisher (threadconn) */
    int64_t sync_timeout_ms;      /* longest wait of a synchronous tools/call */
    int64_t listen_max_ms;        /* longest life of a subscriptions/listen stream */
};

/* What the request hands over when mcp_handle() said it must wait. */
struct wait_request {
    struct MHD_Connection *conn;   /* the connection to park */
    const struct rpc_request *req; /* the checked request (id, _meta, capabilities) */
    struct mcp_outcome *oc;        /* MCP_WAIT or MCP_LISTEN; oc->listen is stolen */
    const char *owner;             /* the authenticated caller (copied) */
    bool sse;                      /* the client accepts text/event-stream */
    const struct legacy_stream *legacy; /* a legacy (2025) request (copied), or NULL */
};

/* What the HTTP layer must do next. */
enum wait_step {
    WAIT_SUSPENDED, /* parked: return to MHD; wait_resume() runs when it resumes */
    WAIT_REPLY,     /* answer HTTP 200 with *reply (a new reference) */
    WAIT_STREAM,    /* answer HTTP 200 with an event stream read through wait_read() */
    WAIT_CLOSE,     /* the client left: close without answering */
};

/* wait_read() codes besides a byte count. */
enum wait_error {
    WAIT_EEND = 1, /* the stream is complete */
    WAIT_EGONE,    /* the client left: abort the stream */
};

enum wait_mode {
    WAIT_MODE_JSON,     /* synchronous tools/call answered with JSON when the task ends */
    WAIT_MODE_SSE_CALL, /* synchronous tools/call streaming progress, then the answer */
    WAIT_MODE_LISTEN,   /* subscriptions/listen stream */
};

/* One waiting request; lives in the request's context (fields private to wait.c). */
struct wait {
    const struct wait_cfg *cfg;   /* settings (borrowed) */
    enum wait_mode mode;          /* what kind of wait */
    struct hub_waiter hw;         /* registered in the hub from wait_start to wait_fini */
    bool started;                 /* the first look ran */
    bool answered;                /* the final answer was produced */
    bool finished;                /* nothing more will be appended to 'out' */
    json_t *id;                   /* the request's JSON-RPC id (owned reference) */
    json_t *token;                /* progressToken of an SSE call, or NULL (owned) */
    json_t *listen;               /* accepted listen filter, or NULL (owned) */
    json_t *caps;                 /* the request's client capabilities, or NULL (owned) */
    bool reveal_task;             /* answer CreateTaskResult (not the result) when it ends */
    char owner[256];              /* the caller */
    char task_id[TASKID_LEN + 1]; /* a call's task */
    int64_t deadline_ms;          /* give up (monotonic) */
    double sent_progress;         /* last progress streamed, -1 = none */
    char sent[HUB_MAX_KEYS][STORE_TS_LEN + 16]; /* listen: last state sent per key */
    struct legacy_stream legacy;  /* legacy answers, requests on the stream (legacy.c) */
    json_t *asked;                /* legacy: input request keys sent on this stream (owned) */
    int log_level;                /* lowest log level streamed (tasklog.h rank), -1 = none */
    int64_t log_sent;             /* number of the last log message streamed */
    const char *last_status;      /* tasks/result: the legacy status last seen (static) */
    int ticks;                    /* ticks since the last stream bytes */
    unsigned safety_ticks;        /* ticks counted towards the next safety read */
    struct bytebuf out;           /* stream bytes not yet handed to MHD */
};

/* Register 'r' as wait 'w' (fini with wait_fini) and take the first step. */
enum wait_step wait_start(struct wait *w, const struct wait_cfg *cfg,
                          const struct wait_request *r, json_t **reply);
/* MHD called the request again after the hub resumed a JSON wait: the next step. */
enum wait_step wait_resume(struct wait *w, json_t **reply);
/* Stream bytes into 'buf': a count, 0 when parked, -WAIT_EEND or -WAIT_EGONE. */
long wait_read(struct wait *w, char *buf, size_t max);
/* Leave the hub, cancel a call nobody will hear the answer of, release. */
void wait_fini(struct wait *w);

#endif
