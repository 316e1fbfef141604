/*
 * taskjson.c - the JSON shapes of a task: DetailedTask, CreateTaskResult, the
 * answer of a synchronous call, the notifications of a listen stream.
 *
 * Built from a task row only; no store, no I/O.  Invariant: a reader sees
 * only the input requests its declared capabilities can answer.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "taskjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mcpdefs.h"
#include "reply.h"
#include "state.h"
#include "trace.h"

/* Add the Task fields of 'row' (taskId, status, statusMessage, times, ttlMs,
 * pollIntervalMs) to object 'o' (borrowed). */
void taskjson_fields(json_t *o, const struct task_row *row)
{
    json_object_set_new(o, "taskId", json_string(row->id));
    json_object_set_new(o, "status", json_string(taskstate_mcp(row->status)));
    if (row->status_message)
        json_object_set_new(o, "statusMessage", json_string(row->status_message));
    json_object_set_new(o, "createdAt", json_string(row->created_at));
    json_object_set_new(o, "lastUpdatedAt", json_string(row->updated_at));
    json_object_set_new(o, "ttlMs", json_integer(row->ttl_ms));
    json_object_set_new(o, "pollIntervalMs", json_integer(row->poll_interval_ms));
}

/* Add _meta[TW_META_TRACE] = {traceId, traceparent[, tracestate]} of the task's
 * stored "traceparent[,tracestate]" to result 'r', when it has a valid one. */
static void add_trace(json_t *r, const char *trace)
{
    char parent[TRACE_PARENT_LEN + 1];
    if (!trace || strlen(trace) < TRACE_PARENT_LEN)
        return;
    memcpy(parent, trace, TRACE_PARENT_LEN);
    parent[TRACE_PARENT_LEN] = '\0';
    if (!trace_parent_ok(parent) || (trace[TRACE_PARENT_LEN] && trace[TRACE_PARENT_LEN] != ','))
        return;
    json_t *t = json_pack("{s:s%, s:s}", "traceId", parent + 3, (size_t)TRACE_ID_LEN,
                          "traceparent", parent);
    if (t && trace[TRACE_PARENT_LEN] == ',')
        json_object_set_new(t, "tracestate", json_string(trace + TRACE_PARENT_LEN + 1));
    json_object_set_new(json_object_get(r, "_meta"), TW_META_TRACE, t);
}

/* True when the reading request may see input request 'r' (its capability). */
static bool can_answer(const json_t *caps, const json_t *r)
{
    const char *cap = mcp_capability_for_method(json_string_value(json_object_get(r, "method")));
    return !caps || (cap && json_is_object(json_object_get(caps, cap)));
}

/* The DetailedTask of 'row' as a tasks/get result; a new reference.  'caps'
 * (the reader's client capabilities, may be NULL = all) filters inputRequests. */
json_t *taskjson_detailed(const struct task_row *row, const json_t *caps)
{
    json_t *r = reply_result_new("complete");
    taskjson_fields(r, row);
    if (row->has_progress) {
        json_t *p = json_pack("{s:f}", "progress", row->progress);
        if (row->progress_total > 0)
            json_object_set_new(p, "total", json_real(row->progress_total));
        json_object_set_new(json_object_get(r, "_meta"), TW_META_PROGRESS, p);
    }
    add_trace(r, row->trace);
    const char *text = row->status == TASK_COMPLETED         ? row->result
                       : row->status == TASK_FAILED          ? row->error
                       : row->status == TASK_INPUT_REQUIRED ? row->input_requests
                                                             : NULL;
    json_t *inner = text ? json_loads(text, 0, NULL) : NULL;
    if (inner && row->status == TASK_COMPLETED) {
        json_object_set_new(inner, "resultType", json_string("complete"));
        json_object_set_new(r, "result", inner);
    } else if (inner && row->status == TASK_INPUT_REQUIRED) {
        const char *key;
        json_t *v, *tmp;
        json_object_foreach_safe(inner, tmp, key, v)
        {
            if (!can_answer(caps, v))
                json_object_del(inner, key);
        }
        json_object_set_new(r, "inputRequests", inner);
    } else if (inner) {
        json_object_set_new(r, "error", inner);
    }
    return r;
}


static json_t *notification(const char *method, json_t *params)
{
    return json_pack("{s:s, s:s, s:o}", "jsonrpc", "2.0", "method", method, "params", params);
}

/* Add _meta.subscriptionId = id to 'o'. */
static json_t *with_subscription(json_t *o, const json_t *id)
{
    json_t *meta = json_object_get(o, "_meta");
    if (!meta) {
        meta = json_object();
        json_object_set_new(o, "_meta", meta);
    }
    json_object_set(meta, MCP_META_SUBSCRIPTION_ID, (json_t *)id);
    return o;
}

/* The flat CreateTaskResult of 'row' as a response to 'id' (both borrowed); a new
 * reference. */
json_t *taskjson_create_reply(const json_t *id, const struct task_row *row)
{
    json_t *r = reply_result_new("task");
    taskjson_fields(r, row);
    return rpc_result_response(id, r);
}

/*
 * The InputRequiredResult of an MRTR round: the outstanding requests the
 * caller declared a capability for, and a requestState naming the task,
 * bound to the caller, the tool and the stored arguments.
 */
json_t *taskjson_input_required_reply(const unsigned char *key, size_t key_len, int64_t ttl_s,
                                      const json_t *id, const struct task_row *row,
                                      const json_t *caps)
{
    json_t *detailed = taskjson_detailed(row, caps);
    json_t *requests = json_incref(json_object_get(detailed, "inputRequests"));
    json_decref(detailed);
    json_t *args = json_loads(row->args, 0, NULL);
    struct state_binding b = {row->owner, "tools/call", row->tool, args};
    char *state = state_sign(key, key_len, row->id, &b, (int64_t)time(NULL) + ttl_s);
    json_decref(args);
    json_t *r = reply_result_new("input_required");
    json_object_set_new(r, "inputRequests", requests ? requests : json_object());
    if (state)
        json_object_set_new(r, "requestState", json_string(state));
    free(state);
    return rpc_result_response(id, r);
}

/*
 * The answer to a synchronous tools/call whose task ended: its
 * CallToolResult, its JSON-RPC error, or an error saying it was cancelled.
 */
json_t *taskjson_sync_reply(const json_t *id, const struct task_row *row)
{
    json_t *inner = NULL;
    if (row->status == TASK_COMPLETED && (inner = json_loads(row->result, 0, NULL))) {
        json_t *meta = json_pack("{s:{s:s, s:s}}", MCP_META_SERVER_INFO, "name", "taskwire",
                                 "version", TASKWIRE_VERSION);
        json_object_set_new(inner, "resultType", json_string("complete"));
        json_object_set_new(inner, "_meta", meta);
        return rpc_result_response(id, inner);
    }
    if (row->status == TASK_FAILED && (inner = json_loads(row->error, 0, NULL)))
        return json_pack("{s:s, s:O?, s:o}", "jsonrpc", "2.0", "id", id, "error", inner);
    return rpc_error_response(id, RPC_EINTERNAL, "The call was cancelled", NULL);
}

/* notifications/progress for 'token' with the progress and message of 'row'; a new
 * reference. */
json_t *taskjson_progress(const json_t *token, const struct task_row *row)
{
    json_t *p = json_pack("{s:O, s:f}", "progressToken", token, "progress", row->progress);
    if (row->progress_total > 0)
        json_object_set_new(p, "total", json_real(row->progress_total));
    if (row->status_message)
        json_object_set_new(p, "message", json_string(row->status_message));
    return notification("notifications/progress", p);
}

/* The first message of listen stream 'id': the filter it accepted; a new reference. */
json_t *taskjson_listen_ack(const json_t *id, const json_t *accepted)
{
    json_t *p = json_pack("{s:O}", "notifications", accepted);
    return notification("notifications/subscriptions/acknowledged", with_subscription(p, id));
}

/* notifications/tasks with the DetailedTask of 'row' on listen stream 'id'; a new
 * reference. */
json_t *taskjson_task_notification(const json_t *id, const struct task_row *row)
{
    json_t *p = taskjson_detailed(row, NULL);
    json_object_del(p, "resultType");
    return notification("notifications/tasks", with_subscription(p, id));
}

/* notifications/<list>/list_changed ('list': "tools" or "prompts", borrowed) on listen
 * stream 'id'; a new reference. */
json_t *taskjson_list_changed(const json_t *id, const char *list)
{
    char method[64];
    snprintf(method, sizeof(method), "notifications/%s/list_changed", list);
    return notification(method, with_subscription(json_object(), id));
}

/* The result that ends listen stream 'id' gracefully; a new reference. */
json_t *taskjson_listen_close(const json_t *id)
{
    return rpc_result_response(id, with_subscription(reply_result_new("complete"), id));
}
