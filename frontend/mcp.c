/*
 * mcp.c - MCP 2026-07-28 methods and the Tasks extension, over the store.
 *
 * tools/call on a task tool commits the task row first, then answers the
 * flat CreateTaskResult, then pushes the job without blocking: a full or
 * empty fabric leaves the task queued for an idle worker, never an error.
 * Tasks are read with the caller as owner, so a foreign task is exactly as
 * invisible as an unknown one (-32602).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "mcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "content_methods.h"
#include "createq.h"
#include "log.h"
#include "metrics.h"
#include "hub.h"
#include "schema.h"
#include "scopes.h"
#include "state.h"
#include "taskid.h"
#include "taskjson.h"
#include "reply.h"
#include "mcpdefs.h"
#include "toolserve.h"

METRIC_DEFINE(m_created, METRIC_COUNTER, "taskwire_tasks_created_total", NULL,
              "Tasks committed by tools/call");
METRIC_DEFINE(m_push_fail, METRIC_COUNTER, "taskwire_fabric_push_failures_total", NULL,
              "Jobs left queued because no worker could take them at once");
METRIC_DEFINE(m_cancels, METRIC_COUNTER, "taskwire_tasks_cancelled_total", NULL,
              "Tasks moved to cancelled by tasks/cancel");
METRIC_HISTOGRAM_DEFINE(m_dispatch, "taskwire_dispatch_duration_seconds", NULL,
                        "Time to hand a task's envelope to the fabric (or find no worker)",
                        metrics_bounds_fast);

/* Register the frontend's task metrics; call once before serving. */
void mcp_metrics_register(void)
{
    metrics_register(&m_created);
    metrics_register(&m_push_fail);
    metrics_register(&m_cancels);
    metrics_register(&m_dispatch);
    reply_metrics_register();
}

static json_t *missing_tasks_capability(const struct rpc_request *req, int *status)
{
    json_t *data = json_pack("{s:{s:{s:{}}}}", "requiredCapabilities", "extensions",
                             MCP_EXT_TASKS);
    return reply_error(req, status, RPC_ECAPABILITY,
                       "Missing required client capability: extensions." MCP_EXT_TASKS, data);
}

static json_t *do_discover(struct mcp_call *c, const struct rpc_request *req, int *status)
{
    json_t *r = reply_result_new("complete");
    json_object_set_new(r, "supportedVersions", json_pack("[s]", MCP_PROTOCOL_VERSION));
    /* MCP Apps is advertised to every caller, not only to hosts that declare it: serving
     * the task view is a fixed property of the server (like the Tasks extension), and this
     * answer is cached publicly.  Clients without the extension ignore it. */
    json_t *caps = json_pack("{s:{s:b}, s:{s:{}, s:{}}}", "tools", "listChanged",
                             c->srv->tools_list_changed, "extensions", MCP_EXT_TASKS, MCP_EXT_UI);
    content_methods_capabilities(c->srv->content, c->srv->prompts_list_changed, caps);
    json_object_set_new(r, "capabilities", caps);
    json_object_set_new(r, "instructions",
                        json_string("Long-running tools run as durable tasks: call the tool, "
                                    "then poll tasks/get with the returned taskId."));
    reply_cache(r, c->srv->list_ttl_ms, "public");
    return reply_ok(req, status, r);
}

/* tools/list: the tools the caller's scopes allow; "private" when that differs by caller. */
static json_t *do_tools_list(struct mcp_call *c, const struct rpc_request *req, int *status)
{
    json_t *r = reply_result_new("complete"), *all = catalog_list(c->srv->catalog), *t;
    json_t *tools = json_array();
    size_t i;
    json_array_foreach(all, i, t)
    {
        const struct tool_desc *d =
            catalog_find(c->srv->catalog, json_string_value(json_object_get(t, "name")));
        if (d && scopes_tool_allowed(c->principal, d))
            json_array_append(tools, t);
    }
    json_decref(all);
    json_object_set_new(r, "tools", tools);
    reply_cache(r, c->srv->list_ttl_ms, c->srv->tools_private ? "private" : "public");
    return reply_ok(req, status, r);
}

/* Push the job of a committed (or resumed) task; failure only costs latency. */
static void push_job(const struct mcp_call *c, const char *id, int attempt)
{
    int64_t start_us = clock_now_us();
    if (dispatch_push_task(c->srv->fabric, id, attempt, c->traceparent) < 0)
        metrics_add(&m_push_fail, 1);
    metrics_observe(&m_dispatch, (double)(clock_now_us() - start_us) / 1e6);
}

/*
 * Store answers 'responses' (an inputResponses map, borrowed; NULL: none)
 * of the caller for task 'id': only outstanding keys count, waiters and
 * listeners are told, and the task is pushed again once no question is
 * left.  Returns 0 or the store's negative code with 'e' set
 * (-STORE_ENOTFOUND for an unknown or foreign task).  Uses the call's
 * connections.
 */
int mcp_answer(struct mcp_call *c, const char *id, const json_t *responses, struct err *e)
{
    char *text = responses ? json_dumps(responses, JSON_COMPACT) : strdup("{}");
    bool resumed = false;
    int attempt = 0;
    int rc = text ? store_task_answer(c->store, id, c->owner, text, &resumed, &attempt, e)
                  : -STORE_EINTERNAL;
    free(text);
    if (rc < 0)
        return rc;
    notify_publish(c->pub, NOTIFY_CHANGED, id);
    if (resumed) /* the last answer queued it again: push it at once */
        push_job(c, id, attempt);
    return 0;
}

/* True when every value of an inputResponses map is an object. */
static bool responses_valid(const json_t *responses)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)responses, key, v)
    {
        if (!json_is_object(v))
            return false;
    }
    return json_is_object(responses);
}

/*
 * A tools/call retry carrying requestState (MRTR): verify it, store the
 * answers on the task behind the round, then either hand out that task
 * (CreateTaskResult) or wait for it again like a synchronous call.
 */
static json_t *mrtr_retry(struct mcp_call *c, const struct rpc_request *req, int *status,
                          const struct tool_desc *tool, const json_t *args, bool as_task,
                          bool *wait_for)
{
    json_t *rs = json_object_get(req->params, "requestState");
    json_t *responses = json_object_get(req->params, "inputResponses");
    if (!json_is_string(rs) || (responses && !responses_valid(responses)))
        return reply_error(req, status, RPC_EPARAMS,
                           "Invalid params: requestState must be a string and inputResponses "
                           "an object of result objects",
                           NULL);
    struct state_binding b = {c->owner, "tools/call", tool->name, args};
    char id[TASKID_LEN + 1];
    struct err e = {0};
    int rc = state_verify(c->srv->state_key, c->srv->state_key_len, json_string_value(rs), &b,
                          (int64_t)time(NULL), id, &e);
    if (rc < 0)
        return reply_error(req, status, rc == -STATE_EINTERNAL ? RPC_EINTERNAL : RPC_EPARAMS,
                           e.msg, NULL);
    rc = mcp_answer(c, id, responses, &e);
    if (rc < 0)
        return reply_store_error(req, status, rc, &e);
    if (as_task) {
        struct task_row row;
        if ((rc = store_task_get(c->store, id, c->owner, &row, &e)) < 0)
            return reply_store_error(req, status, rc, &e);
        json_t *reply = taskjson_create_reply(req->id, &row);
        task_row_fini(&row);
        return reply;
    }
    *wait_for = true;
    c->reveal_task = false;
    memcpy(c->created, id, sizeof(c->created));
    return NULL;
}

/* The tool a tools/call names; NULL after building the error reply. */
static const struct tool_desc *named_tool(const struct mcp_call *c, const struct rpc_request *req,
                                          int *status, json_t **reply)
{
    json_t *name = json_object_get(req->params, "name");
    if (!json_is_string(name)) {
        *reply = reply_error(req, status, RPC_EPARAMS, "Invalid params: \"name\" must be a string",
                             NULL);
        return NULL;
    }
    const struct tool_desc *tool = catalog_find(c->srv->catalog, json_string_value(name));
    if (!tool)
        *reply = reply_error(req, status, RPC_EPARAMS, "Unknown tool", NULL);
    return tool;
}

/*
 * Check a call of 'tool' with 'args' (the request's arguments object, NULL
 * when absent, which validates as {}): the input schema, the Mcp-Param
 * headers (when the call has headers) and the capabilities the tool needs.
 * Returns NULL with *as_task set (by c->task_mode, or under MCP_TASK_AUTO by
 * the policy and the declared extension) when the call may go on, else the
 * error reply.
 */
static json_t *check_tool_call(const struct mcp_call *c, const struct rpc_request *req,
                               int *status, const struct tool_desc *tool, const json_t *args,
                               bool *as_task)
{
    struct err e = {0};
    json_t *empty = json_object();
    int rc = schema_validate(tool->schema, args ? args : empty, &e);
    json_decref(empty);
    if (rc < 0) {
        char msg[300];
        snprintf(msg, sizeof(msg), "Invalid arguments: %s", e.msg);
        return reply_error(req, status, rc == -SCHEMA_ENOMEM ? RPC_EINTERNAL : RPC_EPARAMS, msg,
                           NULL);
    }
    if (c->header &&
        rpc_check_param_headers(tool->input_schema, args, c->header, c->header_arg, &e) < 0)
        return reply_error(req, status, RPC_EHEADER, e.msg, NULL);
    bool declared = rpc_has_capability(req, "extensions/" MCP_EXT_TASKS);
    *as_task = c->task_mode == MCP_TASK_AUTO ? declared && tool->policy != TOOL_TASK_NEVER
                                             : c->task_mode == MCP_TASK_HANDOUT;
    if (c->task_mode == MCP_TASK_AUTO && !declared && tool->policy == TOOL_TASK_REQUIRED)
        return missing_tasks_capability(req, status);
    if (tool->requires && !rpc_has_capability(req, tool->requires)) {
        char msg[128];
        snprintf(msg, sizeof(msg), "Missing required client capability: %s", tool->requires);
        return reply_error(req, status, RPC_ECAPABILITY, msg,
                           json_pack("{s:{s:{}}}", "requiredCapabilities", tool->requires));
    }
    return NULL;
}

/*
 * Commit a new task for a checked call of 'tool' with 'args_text', push its
 * job, and answer CreateTaskResult, or set *wait_for (and c->created) when
 * the HTTP layer must wait for it.  Returns the reply, NULL when waiting.
 */
static json_t *create_task(struct mcp_call *c, const struct rpc_request *req, int *status,
                           const struct tool_desc *tool, const char *args_text, bool as_task,
                           bool *wait_for)
{
    bool waits = !as_task || (tool->input_first && c->task_mode != MCP_TASK_HANDOUT);
    json_t *refused = waits && c->admit_wait ? c->admit_wait(c->admit_arg, req, status) : NULL;
    if (refused) /* no room to wait: refused before anything is committed */
        return refused;
    char id[TASKID_LEN + 1];
    if (taskid_new(id) < 0)
        return reply_error(req, status, RPC_EINTERNAL, "Internal error", NULL);
    char *caps = json_dumps(req->client_caps, JSON_COMPACT);
    /* A call may carry answers without a requestState (MRTR allows servers to keep
     * nothing between rounds): they answer the tool's questions up front. */
    json_t *given = json_object_get(req->params, "inputResponses");
    char *answers = responses_valid(given) ? json_dumps(given, JSON_COMPACT) : NULL;
    struct task_new t = {.id = id, .owner = c->owner, .tool = tool->name, .args = args_text,
                         .trace = c->traceparent,
                         .ttl_ms = !as_task           ? c->srv->sync_task_ttl_ms
                                   : c->task_ttl_ms > 0 ? c->task_ttl_ms
                                                        : c->srv->task_ttl_ms,
                         .poll_interval_ms = c->srv->poll_interval_ms,
                         .max_attempts = tool->max_attempts, .client_caps = caps,
                         .input_responses = answers, .max_live = c->max_live};
    struct task_row row;
    struct err e = {0};
    int rc = c->srv->creates ? createq_create(c->srv->creates, c->store, &t, &row, &e)
                             : store_task_create(c->store, &t, &row, &e);
    free(caps);
    free(answers);
    if (rc < 0)
        return reply_store_error(req, status, rc, &e);
    metrics_add(&m_created, 1);
    json_t *reply = NULL;
    if (!waits) {
        reply = taskjson_create_reply(req->id, &row);
    } else {
        /* Synchronous, or a task that asks for input before it is handed out:
         * the HTTP layer waits for the task to end or to ask for input. */
        *wait_for = true;
        c->reveal_task = as_task;
        memcpy(c->created, row.id, sizeof(c->created));
    }
    push_job(c, row.id, row.attempt);
    LOG_INFO("task created", "task_id", row.id, "tool", row.tool, "mode", as_task ? "task" : "sync");
    task_row_fini(&row);
    return reply;
}

/*
 * tools/call: find and check the tool, then answer a tool the frontend
 * serves itself, continue an MRTR round (requestState) or commit a new task.
 * Sets *wait_for when the answer must wait for the task.
 */
static json_t *do_tools_call(struct mcp_call *c, const struct rpc_request *req, int *status,
                             bool *wait_for)
{
    json_t *reply = NULL;
    const struct tool_desc *tool = named_tool(c, req, status, &reply);
    if (!tool)
        return reply;
    json_t *args = json_object_get(req->params, "arguments");
    if (args && !json_is_object(args))
        return reply_error(req, status, RPC_EPARAMS,
                           "Invalid params: \"arguments\" must be an object", NULL);
    bool as_task = false;
    if ((reply = check_tool_call(c, req, status, tool, args, &as_task)))
        return reply;
    if (tool->frontend) { /* answered here and now, never a task (toolserve.h) */
        struct toolserve_call tc = {c->store, c->pub, c->owner, req->client_caps};
        json_t *none = json_object();
        reply = tool->frontend->call(&tc, req, status, args ? args : none);
        json_decref(none);
        return reply;
    }
    json_t *used = args ? json_incref(args) : json_object();
    if (json_object_get(req->params, "requestState")) {
        reply = mrtr_retry(c, req, status, tool, used, as_task, wait_for);
    } else {
        char *args_text = json_dumps(used, JSON_COMPACT);
        reply = args_text ? create_task(c, req, status, tool, args_text, as_task, wait_for)
                          : reply_error(req, status, RPC_EINTERNAL, "Internal error", NULL);
        free(args_text);
    }
    json_decref(used);
    return reply;
}

/* The taskId of a tasks method request, or NULL after building the error reply. */
static const char *task_id_param(const struct rpc_request *req, int *status, json_t **reply)
{
    if (!rpc_has_capability(req, "extensions/" MCP_EXT_TASKS)) {
        *reply = missing_tasks_capability(req, status);
        return NULL;
    }
    const char *id = json_string_value(json_object_get(req->params, "taskId"));
    if (!id)
        *reply = reply_error(req, status, RPC_EPARAMS,
                             "Invalid params: \"taskId\" must be a string", NULL);
    return id;
}

static json_t *do_tasks_get(struct mcp_call *c, const struct rpc_request *req, int *status)
{
    json_t *reply = NULL;
    const char *id = task_id_param(req, status, &reply);
    if (!id)
        return reply;
    struct task_row row;
    struct err e = {0};
    int rc = store_task_get_brief(c->store, id, scopes_task_owner(c->principal, c->owner), &row,
                                  &e);
    if (rc < 0)
        return reply_store_error(req, status, rc, &e);
    reply = reply_ok(req, status, taskjson_detailed(&row, req->client_caps));
    task_row_fini(&row);
    return reply;
}

static json_t *do_tasks_cancel(struct mcp_call *c, const struct rpc_request *req, int *status)
{
    json_t *reply = NULL;
    const char *id = task_id_param(req, status, &reply);
    if (!id)
        return reply;
    bool changed;
    struct err e = {0};
    int rc = mcp_cancel_for(c, id, &changed, &e);
    if (rc < 0)
        return reply_store_error(req, status, rc, &e);
    return reply_ok(req, status, reply_result_new("complete"));
}

/*
 * tasks/update: store answers for outstanding keys (others are ignored, as
 * the extension says), then wake the worker waiting for them and anyone
 * listening.  The ack is empty; the status changes eventually.
 */
static json_t *do_tasks_update(struct mcp_call *c, const struct rpc_request *req, int *status)
{
    json_t *reply = NULL;
    const char *id = task_id_param(req, status, &reply);
    if (!id)
        return reply;
    json_t *responses = json_object_get(req->params, "inputResponses");
    if (!responses_valid(responses)) /* as an MRTR retry's answers are checked */
        return reply_error(req, status, RPC_EPARAMS,
                           "Invalid params: \"inputResponses\" must be an object of result "
                           "objects",
                           NULL);
    struct err e = {0};
    int rc = mcp_answer(c, id, responses, &e);
    if (rc < 0)
        return reply_store_error(req, status, rc, &e);
    return reply_ok(req, status, reply_result_new("complete"));
}

/*
 * Cancel task 'id' of 'owner' in the store.  When this call moved it to
 * cancelled (*changed), publish NOTIFY_CANCEL so the worker running it stops
 * and listeners hear of it, and log 'why' (borrowed; e.g. "tasks/cancel",
 * "timeout").  Cancelling a finished task is not an error: *changed is false.
 * Returns 0 or the store's negative code with 'err' set.  Uses the caller's
 * connections, so it runs on the thread that owns them.
 */
int mcp_cancel_task(struct store *st, struct notify_pub *pub, const char *id, const char *owner,
                    const char *why, bool *changed, struct err *err)
{
    *changed = false;
    int rc = store_task_cancel(st, id, owner, changed, err);
    if (rc < 0 || !*changed)
        return rc;
    notify_publish(pub, NOTIFY_CANCEL, id);
    LOG_INFO("task cancelled", "task_id", id, "reason", why);
    return 0;
}

/*
 * Cancel task 'id' for the caller of 'c' (tasks/cancel of either era): its
 * own task, or any principal's when it holds the operator scope (the
 * task's owner is read first, and the cancel is logged under it).  Counts
 * a cancel that changed the task.  Returns 0 (*changed says whether it
 * did) or the store's negative code (-STORE_ENOTFOUND for a task the
 * caller may not see).  Uses the call's connections.
 */
int mcp_cancel_for(struct mcp_call *c, const char *id, bool *changed, struct err *e)
{
    struct task_row row;
    int rc;
    *changed = false;
    if (scopes_task_owner(c->principal, c->owner)) {
        rc = mcp_cancel_task(c->store, c->pub, id, c->owner, "tasks/cancel", changed, e);
    } else if ((rc = store_task_get(c->store, id, NULL, &row, e)) == 0) {
        rc = mcp_cancel_task(c->store, c->pub, id, row.owner, "tasks/cancel by an operator",
                             changed, e);
        task_row_fini(&row);
    }
    if (rc == 0 && *changed)
        metrics_add(&m_cancels, 1);
    return rc;
}

/* subscriptions/listen: accept the filter parts we honour. */
static json_t *do_listen(struct mcp_call *c, const struct rpc_request *req, int *status,
                         json_t **accepted)
{
    json_t *filter = json_object_get(req->params, "notifications");
    if (filter && !json_is_object(filter))
        return reply_error(req, status, RPC_EPARAMS,
                           "Invalid params: \"notifications\" must be an object", NULL);
    json_t *ids = json_object_get(filter, "taskIds");
    if (ids && !json_is_array(ids))
        return reply_error(req, status, RPC_EPARAMS,
                           "Invalid params: \"taskIds\" must be an array", NULL);
    if (ids && !rpc_has_capability(req, "extensions/" MCP_EXT_TASKS))
        return missing_tasks_capability(req, status);
    if (json_array_size(ids) > HUB_MAX_KEYS - 2) /* a key each for the tools and prompts lists */
        return reply_error(req, status, RPC_EPARAMS, "Invalid params: too many taskIds", NULL);
    json_t *ok = json_object(), *ok_ids = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        struct task_row row;
        struct err e = {0};
        const char *id = json_string_value(v);
        bool dup = false;
        size_t k;
        json_t *seen;
        json_array_foreach(ok_ids, k, seen) dup = dup || json_equal(seen, v);
        if (dup)
            continue;
        int rc = id ? store_task_get(c->store, id, c->owner, &row, &e) : -STORE_ENOTFOUND;
        if (rc == 0) {
            json_array_append(ok_ids, v);
            task_row_fini(&row);
        } else if (rc != -STORE_ENOTFOUND) {
            json_decref(ok_ids);
            json_decref(ok);
            return reply_store_error(req, status, rc, &e);
        }
    }
    if (ids)
        json_object_set(ok, "taskIds", ok_ids);
    json_decref(ok_ids);
    if (json_is_true(json_object_get(filter, "toolsListChanged")))
        json_object_set_new(ok, "toolsListChanged", json_true());
    if (c->srv->prompts_list_changed && json_is_true(json_object_get(filter, "promptsListChanged")))
        json_object_set_new(ok, "promptsListChanged", json_true());
    *accepted = ok;
    return NULL;
}

/*
 * Dispatch one request whose envelope and headers were already checked into
 * *out: an immediate reply, a task to wait for, or a stream to open.
 */
void mcp_handle(struct mcp_call *c, const struct rpc_request *req, struct mcp_outcome *out)
{
    static const struct {
        const char *method;                                               /* JSON-RPC method */
        json_t *(*fn)(struct mcp_call *, const struct rpc_request *, int *); /* its handler */
    } methods[] = {
        {"server/discover", do_discover}, {"tools/list", do_tools_list},
        {"tasks/get", do_tasks_get},      {"tasks/update", do_tasks_update},
        {"tasks/cancel", do_tasks_cancel},
    };
    memset(out, 0, sizeof(*out));
    out->status = 200;
    if (strcmp(req->method, "tools/call") == 0) {
        bool wait_for = false;
        out->reply = do_tools_call(c, req, &out->status, &wait_for);
        if (wait_for) {
            out->kind = MCP_WAIT;
            out->reveal_task = c->reveal_task;
            memcpy(out->task_id, c->created, sizeof(out->task_id));
        }
        return;
    }
    if (strcmp(req->method, "subscriptions/listen") == 0) {
        out->reply = do_listen(c, req, &out->status, &out->listen);
        if (!out->reply)
            out->kind = MCP_LISTEN;
        return;
    }
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strcmp(req->method, methods[i].method) == 0) {
            out->reply = c->probe ? NULL : methods[i].fn(c, req, &out->status);
            return;
        }
    const struct mcp_server *srv = c->srv;
    if (srv && srv->content && content_methods_serves(req->method)) {
        struct content_call cc = {srv->content,       c->store,         c->owner, srv->state_key,
                                  srv->state_key_len, srv->state_ttl_s, srv->list_ttl_ms};
        out->reply = c->probe ? NULL : content_methods_handle(&cc, req, &out->status);
        return;
    }
    out->reply = reply_error(req, &out->status, RPC_EMETHOD, "Method not found", NULL);
}

