/*
 * legacy_tasks.c - tasks/get, tasks/result, tasks/list and tasks/cancel (2025-11-25).
 *
 * Every read is by owner, so another principal's task is exactly as
 * unknown as a missing one (-32602).  tasks/result answers at once for a
 * terminal task and otherwise waits like a synchronous call (wait.c),
 * parked in the hub without a thread.  tasks/cancel moves the task to
 * cancelled before it answers, and refuses a terminal one (-32602): the
 * reverse of the idempotent 2026 acknowledgement.  tasks/list pages by an
 * opaque keyset cursor (cursor.c) in creation order.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "legacy_tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "era.h"
#include "log.h"
#include "scopes.h"

/*
 * Fill *oc with error 'e' for the request of 'x': message 'msg' and 'data'
 * (stolen, may be NULL).  The status is 200 (legacy handler errors), 503
 * for RPC_EUNAVAILABLE (retry later).
 */
void legacy_fail(const struct legacy_req *x, struct mcp_outcome *oc, enum rpc_error e,
                 const char *msg, json_t *data)
{
    oc->kind = MCP_REPLY;
    oc->reply = rpc_error_response(x->req->id, e, msg, data);
    oc->status = e == RPC_EUNAVAILABLE ? rpc_error_http_status(e) : 200;
}

/* Fill *oc with result 'result' (stolen) for the request of 'x', in HTTP 200. */
void legacy_succeed(const struct legacy_req *x, struct mcp_outcome *oc, json_t *result)
{
    oc->kind = MCP_REPLY;
    oc->reply = rpc_result_response(x->req->id, result);
    oc->status = 200;
}

/* Answer a store failure: unknown or foreign is -32602, an outage 503, the rest -32603. */
static void store_failed(const struct legacy_req *x, struct mcp_outcome *oc, int rc,
                         const struct err *e)
{
    if (rc == -STORE_ENOTFOUND) {
        legacy_fail(x, oc, RPC_EPARAMS, "Failed to retrieve task: Task not found", NULL);
        return;
    }
    if (rc == -STORE_EUNAVAILABLE) {
        legacy_fail(x, oc, RPC_EUNAVAILABLE, "Task store unavailable; retry shortly", NULL);
        return;
    }
    LOG_ERROR("task store error", "error", e->msg, "method", x->req->method);
    legacy_fail(x, oc, RPC_EINTERNAL, "Internal error", NULL);
}

/* The taskId parameter, or NULL after answering -32602. */
static const char *task_id(const struct legacy_req *x, struct mcp_outcome *oc)
{
    const char *id = json_string_value(json_object_get(x->req->params, "taskId"));
    if (!id)
        legacy_fail(x, oc, RPC_EPARAMS, "Invalid params: \"taskId\" must be a string", NULL);
    return id;
}

/* Read the caller's task named by the request into *row (any principal's for an operator
 * when 'any'): true, or false after answering. */
static bool read_task(const struct legacy_req *x, struct mcp_outcome *oc, struct task_row *row,
                      bool any)
{
    const char *id = task_id(x, oc);
    const char *owner = any ? scopes_task_owner(x->mc->principal, x->mc->owner) : x->mc->owner;
    struct err e = {0};
    int rc = id ? store_task_get_brief(x->mc->store, id, owner, row, &e) : 0;
    if (rc < 0)
        store_failed(x, oc, rc, &e);
    return id && rc == 0;
}

static void do_get(const struct legacy_req *x, struct mcp_outcome *oc, struct legacy_stream *st)
{
    struct task_row row;
    (void)st;
    if (!read_task(x, oc, &row, true))
        return;
    legacy_succeed(x, oc, legacy_task(&row));
    task_row_fini(&row);
}

/* tasks/result: the outcome now, or a wait for it (never cancelled by the client leaving). */
static void do_result(const struct legacy_req *x, struct mcp_outcome *oc, struct legacy_stream *st)
{
    struct task_row row;
    if (!read_task(x, oc, &row, false)) /* a wait follows the caller's own tasks only */
        return;
    if (taskstate_terminal(row.status)) {
        oc->kind = MCP_REPLY;
        oc->reply = legacy_result_reply(x->req->id, &row);
        oc->status = 200;
    } else {
        oc->kind = MCP_WAIT;
        memcpy(oc->task_id, row.id, sizeof(oc->task_id));
        st->on = st->task_result = true;
    }
    task_row_fini(&row);
}

/* The next page after the decoded cursor (or from the start); false after answering. */
static bool read_page(const struct legacy_req *x, struct mcp_outcome *oc, struct task_row **rows,
                      int *n)
{
    json_t *cursor = json_object_get(x->req->params, "cursor");
    int64_t us = 0;
    char after[TASKID_LEN + 1];
    if (cursor &&
        (!json_is_string(cursor) || cursor_decode(json_string_value(cursor), &us, after) < 0)) {
        legacy_fail(x, oc, RPC_EPARAMS, "Invalid params: invalid cursor", NULL);
        return false;
    }
    struct err e = {0};
    int rc = store_task_list(x->mc->store, x->mc->owner, us, cursor ? after : NULL,
                             LEGACY_LIST_PAGE + 1, rows, n, &e);
    if (rc < 0)
        store_failed(x, oc, rc, &e);
    return rc == 0;
}

/* tasks/list: the caller's tasks, oldest first, LEGACY_LIST_PAGE at a time. */
static void do_list(const struct legacy_req *x, struct mcp_outcome *oc, struct legacy_stream *st)
{
    struct task_row *rows = NULL;
    int n = 0;
    (void)st;
    if (!read_page(x, oc, &rows, &n))
        return;
    json_t *tasks = json_array();
    for (int i = 0; i < n && i < LEGACY_LIST_PAGE; i++)
        json_array_append_new(tasks, legacy_task(&rows[i]));
    json_t *result = json_pack("{s:o}", "tasks", tasks);
    char next[CURSOR_MAX_LEN + 1];
    if (n > LEGACY_LIST_PAGE && cursor_encode(rows[LEGACY_LIST_PAGE - 1].created_us,
                                              rows[LEGACY_LIST_PAGE - 1].id, next) == 0)
        json_object_set_new(result, "nextCursor", json_string(next));
    for (int i = 0; i < n; i++)
        task_row_fini(&rows[i]);
    free(rows);
    legacy_succeed(x, oc, result);
}

/* tasks/cancel: cancelled before the answer (the Task), -32602 when already terminal. */
static void do_cancel(const struct legacy_req *x, struct mcp_outcome *oc, struct legacy_stream *st)
{
    const char *id = task_id(x, oc);
    bool changed = false;
    struct err e = {0};
    struct task_row row;
    (void)st;
    if (!id)
        return;
    int rc = mcp_cancel_for(x->mc, id, &changed, &e);
    if (rc == 0)
        rc = store_task_get(x->mc->store, id, scopes_task_owner(x->mc->principal, x->mc->owner),
                            &row, &e);
    if (rc < 0) {
        store_failed(x, oc, rc, &e);
        return;
    }
    if (changed) {
        legacy_succeed(x, oc, legacy_task(&row));
    } else {
        char msg[96];
        snprintf(msg, sizeof(msg), "Cannot cancel task: already in terminal status '%s'",
                 legacy_status(&row));
        legacy_fail(x, oc, RPC_EPARAMS, msg, NULL);
    }
    task_row_fini(&row);
}

/*
 * If 'x' is tasks/get, tasks/result, tasks/list or tasks/cancel, answer it
 * into *oc (a tasks/result still running becomes MCP_WAIT with *st set) and
 * return true; a 2025-06-18 session gets -32601.  Returns false for any
 * other method (nothing is filled).
 */
bool legacy_tasks_handle(const struct legacy_req *x, struct mcp_outcome *oc,
                         struct legacy_stream *st)
{
    static const struct {
        const char *method; /* JSON-RPC method */
        void (*fn)(const struct legacy_req *, struct mcp_outcome *,
                   struct legacy_stream *); /* its handler */
    } methods[] = {
        {"tasks/get", do_get},
        {"tasks/result", do_result},
        {"tasks/list", do_list},
        {"tasks/cancel", do_cancel},
    };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (strcmp(x->req->method, methods[i].method) != 0)
            continue;
        if (strcmp(x->version, ERA_LEGACY_LATEST) != 0)
            legacy_fail(x, oc, RPC_EMETHOD, "Method not found", NULL);
        else
            methods[i].fn(x, oc, st);
        return true;
    }
    return false;
}
