/*
 * mcp.h - MCP method dispatch for one checked request.
 *
 * Runs after http.c authenticated the caller and rpc.c validated the
 * envelope and headers.  Answers server/discover, tools/list, tools/call
 * (creating durable tasks) and the Tasks extension methods from the store,
 * and hands the resources, prompts and completion methods to
 * content_methods.c.
 * Holds no per-client state: any frontend answers any request.  Requests
 * that must wait are only described here (MCP_WAIT, MCP_LISTEN); wait.c
 * runs them with the reply builders below.  Every function uses only the
 * connections it is given, so it runs on the thread that owns them; the
 * builders are pure and return new references the caller releases.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_MCP_H_FRONTEND
#define TASKWIRE_MCP_H_FRONTEND

#include <jansson.h>
#include <stdint.h>

#include "auth.h"
#include "catalog.h"
#include "dispatch.h"
#include "notify.h"
#include "rpc.h"
#include "store.h"

struct content;

/* Process-wide, read-only after start-up. */
struct mcp_server {
    const struct catalog *catalog; /* tools served */
    struct dispatch *fabric;       /* job push socket (thread-safe) */
    int64_t task_ttl_ms;           /* ttlMs given to new tasks */
    int64_t sync_task_ttl_ms;      /* lifetime of the task behind a synchronous call */
    int64_t poll_interval_ms;      /* pollIntervalMs given to new tasks */
    int64_t list_ttl_ms;           /* caching ttlMs of server/discover, lists, fixed resources */
    const unsigned char *state_key; /* HMAC key of MRTR requestState, shared by frontends */
    size_t state_key_len;          /* bytes of state_key */
    int64_t state_ttl_s;           /* how long a requestState stays valid */
    bool tools_list_changed;       /* advertise tools.listChanged (a tool can signal it) */
    int64_t session_ttl_s;         /* lifetime of a legacy Mcp-Session-Id */
    const struct content *content; /* resources, templates and prompts (NULL: none served) */
    bool prompts_list_changed;     /* advertise prompts.listChanged (a tool can signal it) */
    bool tools_private;            /* tools/list depends on the caller's scopes */
    struct createq *creates;       /* group commit of new tasks (NULL: one commit each) */
};

/* How a tools/call decides between a task and a synchronous answer. */
enum mcp_task_mode {
    MCP_TASK_AUTO,    /* 2026-07-28: the tool's policy and the declared extension decide */
    MCP_TASK_SYNC,    /* synchronous whatever the policy (a legacy call without params.task) */
    MCP_TASK_HANDOUT, /* a task answered at once with CreateTaskResult (legacy params.task) */
};

/* What one request brings: its thread's connections and its caller. */
struct mcp_call {
    const struct mcp_server *srv; /* shared */
    struct store *store;          /* this thread's store */
    struct notify_pub *pub;       /* this thread's event publisher */
    const char *owner;            /* authenticated principal */
    const struct auth_principal *principal; /* its scopes (scopes.h); NULL: every scope */
    const char *traceparent;      /* W3C trace context of the request, or NULL */
    rpc_header_fn *header;        /* reads a request header (for Mcp-Param-*); NULL: the
                                     request has none to check (legacy) */
    void *header_arg;             /* its argument */
    char created[TASKID_LEN + 1]; /* out: the task a synchronous call created */
    bool reveal_task;             /* out: hand the task out after its first input round */
    enum mcp_task_mode task_mode; /* in: task or synchronous (MCP_TASK_AUTO: modern rules) */
    int64_t task_ttl_ms;          /* in: ttl of a task the call creates, 0 = the server's */
    bool probe;                   /* in: only find the method (a 404 status when unknown);
                                     run nothing (tools/call and listen are not probed) */
    int max_live;                 /* in: the caller's cap on live tasks, 0 = none */
    json_t *(*admit_wait)(void *arg, const struct rpc_request *req, int *status);
                                  /* in: asked before committing a task the call will wait
                                     for: NULL to go on, or the refusal reply; NULL: always */
    void *admit_arg;              /* its argument */
};

/* What a request turned into. */
enum mcp_kind {
    MCP_REPLY,  /* answer now with 'reply' */
    MCP_WAIT,   /* a synchronous tools/call: wait for task 'task_id' to end */
    MCP_LISTEN, /* subscriptions/listen: stream changes of 'listen' */
};

struct mcp_outcome {
    enum mcp_kind kind;            /* see above */
    json_t *reply;                 /* MCP_REPLY: the whole response (new reference) */
    int status;                    /* MCP_REPLY: HTTP status */
    char task_id[TASKID_LEN + 1];  /* MCP_WAIT: the task to wait for */
    bool reveal_task;              /* MCP_WAIT: answer CreateTaskResult (not the result) once
                                      the task no longer waits for its first input */
    json_t *listen;                /* MCP_LISTEN: the accepted filter, {"taskIds":[...],
                                      "toolsListChanged":true, "promptsListChanged":true}
                                      (new reference) */
};

/* Handle 'req' (borrowed) into *out; the caller owns out->reply and out->listen. */
void mcp_handle(struct mcp_call *c, const struct rpc_request *req, struct mcp_outcome *out);
/* Store answers 'responses' (an inputResponses map) of the caller for task 'id', wake
 * whoever waits, and push the task again when no question is left. */
MUST_CHECK int mcp_answer(struct mcp_call *c, const char *id, const json_t *responses,
                          struct err *err);
/* Cancel task 'id' for the caller of 'c' (any principal's for an operator), as
 * mcp_cancel_task() does. */
MUST_CHECK int mcp_cancel_for(struct mcp_call *c, const char *id, bool *changed,
                              struct err *err);
/* Cancel task 'id' of 'owner'; if that changed it, publish the cancel and log 'why'. */
MUST_CHECK int mcp_cancel_task(struct store *st, struct notify_pub *pub, const char *id,
                               const char *owner, const char *why, bool *changed,
                               struct err *err);

/* Metrics the frontend exports (registered by mcp_metrics_register). */
void mcp_metrics_register(void);

#endif
