/*
 * legacy_stream.c - 2025-11-25 shapes of task rows and stream messages.
 *
 * A completed task whose result is a tool error reads as "failed" with the
 * tool's text as statusMessage (the 2025-11-25 tasks page: a tool call
 * result with isError "should reach failed"); tasks/result still returns
 * that CallToolResult.  Server-to-client request ids are
 * "tw:<task id>:<input key>", so the client's answer names the task and the
 * key, and any frontend can store it for the task's owner.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "legacy_stream.h"

#include <stdio.h>
#include <string.h>

#include "mcp.h"
#include "taskjson.h"
#include "mcpdefs.h"

#define ID_PREFIX "tw:"

/* True when the stored CallToolResult of a completed 'row' is a tool error. */
static bool tool_error(const struct task_row *row, json_t **result)
{
    *result =
        row->status == TASK_COMPLETED && row->result ? json_loads(row->result, 0, NULL) : NULL;
    return json_is_true(json_object_get(*result, "isError"));
}

/* The legacy status of 'row'; see legacy_stream.h. */
const char *legacy_status(const struct task_row *row)
{
    json_t *result;
    bool failed = tool_error(row, &result);
    json_decref(result);
    return failed ? "failed" : taskstate_mcp(row->status);
}

/* The first text of a CallToolResult's content, or NULL (borrowed from 'result'). */
static const char *first_text(const json_t *result)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(result, "content"), i, c)
    {
        const char *text = json_string_value(json_object_get(c, "text"));
        if (text)
            return text;
    }
    return NULL;
}

/* Set statusMessage on Task 't': the tool's error text, the protocol error's message,
 * or the stored status message. */
static void status_message(json_t *t, const struct task_row *row)
{
    json_t *result, *error = NULL;
    const char *msg = row->status_message;
    if (tool_error(row, &result) && first_text(result))
        msg = first_text(result);
    else if (row->status == TASK_FAILED && (error = json_loads(row->error, 0, NULL)) &&
             json_string_value(json_object_get(error, "message")))
        msg = json_string_value(json_object_get(error, "message"));
    if (msg)
        json_object_set_new(t, "statusMessage", json_string(msg));
    json_decref(result);
    json_decref(error);
}

/*
 * The Task object of 'row' (new reference): taskId, status, statusMessage
 * when there is one, createdAt, lastUpdatedAt, ttl (always present: the
 * retention in ms, never null here) and pollInterval.  Pure.
 */
json_t *legacy_task(const struct task_row *row)
{
    json_t *t =
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "taskId", row->id, "status", legacy_status(row),
                  "createdAt", row->created_at, "lastUpdatedAt", row->updated_at, "ttl",
                  (json_int_t)row->ttl_ms, "pollInterval", (json_int_t)row->poll_interval_ms);
    if (t)
        status_message(t, row);
    return t;
}

/* notifications/tasks/status carrying the Task of 'row' (new reference). */
json_t *legacy_status_notification(const struct task_row *row)
{
    return json_pack("{s:s, s:s, s:o}", "jsonrpc", "2.0", "method", "notifications/tasks/status",
                     "params", legacy_task(row));
}

/* Add _meta[related-task] = {taskId} to object 'o' (kept when 'o' is not an object). */
static void relate(json_t *o, const char *task_id)
{
    json_t *meta = json_object_get(o, "_meta");
    if (!json_is_object(o))
        return;
    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(o, "_meta", meta);
    }
    json_object_set_new(meta, LEGACY_META_RELATED_TASK, json_pack("{s:s}", "taskId", task_id));
}

/*
 * The response to tasks/result 'id' for terminal task 'row': its
 * CallToolResult (a tool error too) with _meta related-task; its JSON-RPC
 * error (related-task in error.data._meta when data is absent or an
 * object); or for a cancelled task a -32603 error saying so.  New reference.
 */
json_t *legacy_result_reply(const json_t *id, const struct task_row *row)
{
    json_t *inner = NULL;
    if (row->status == TASK_COMPLETED && (inner = json_loads(row->result, 0, NULL))) {
        relate(inner, row->id);
        return rpc_result_response(id, inner);
    }
    if (row->status == TASK_FAILED && (inner = json_loads(row->error, 0, NULL))) {
        if (!json_object_get(inner, "data"))
            json_object_set_new(inner, "data", json_object());
        relate(json_object_get(inner, "data"), row->id);
        return json_pack("{s:s, s:O?, s:o}", "jsonrpc", "2.0", "id", id, "error", inner);
    }
    json_t *data = json_object();
    relate(data, row->id);
    return rpc_error_response(id, RPC_EINTERNAL, "Task was cancelled", data);
}

/*
 * Remove what 2025 results do not have from response 'response' (its
 * "result" object; an error response is left alone): resultType, ttlMs,
 * cacheScope and _meta serverInfo, and a _meta left empty.  Pure.
 */
void legacy_strip(json_t *response)
{
    json_t *r = json_object_get(response, "result");
    if (!json_is_object(r))
        return;
    json_object_del(r, "resultType");
    json_object_del(r, "ttlMs");
    json_object_del(r, "cacheScope");
    json_t *meta = json_object_get(r, "_meta");
    json_object_del(meta, MCP_META_SERVER_INFO);
    if (json_is_object(meta) && json_object_size(meta) == 0)
        json_object_del(r, "_meta");
}

/* The final answer of a synchronous legacy call: taskjson_sync_reply() stripped. */
json_t *legacy_call_reply(const json_t *id, const struct task_row *row)
{
    json_t *r = taskjson_sync_reply(id, row);
    legacy_strip(r);
    return r;
}

/* One server-to-client request for input request 'r' under 'key' of task 'task_id'. */
static json_t *input_message(const char *task_id, const char *key, const json_t *r, bool related)
{
    char id[sizeof(ID_PREFIX) + TASKID_LEN + 1 + LEGACY_KEY_MAX + 1];
    snprintf(id, sizeof(id), ID_PREFIX "%s:%s", task_id, key);
    json_t *params = json_is_object(json_object_get(r, "params"))
                         ? json_deep_copy(json_object_get(r, "params"))
                         : json_object();
    if (related)
        relate(params, task_id);
    return json_pack("{s:s, s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "method",
                     json_object_get(r, "method"), "params", params);
}

/*
 * Append to array 'out' a JSON-RPC request for each outstanding input
 * request of 'row' (waiting for input) whose key is not in object 'asked'
 * and whose method the client capabilities 'caps' allow; each key sent is
 * added to 'asked', so a stream asks once.  Keys longer than LEGACY_KEY_MAX
 * are skipped (their answers could not be routed).  Pure.
 */
void legacy_input_messages(const struct task_row *row, const json_t *caps, json_t *asked,
                           bool related, json_t *out)
{
    json_t *requests = row->status == TASK_INPUT_REQUIRED && row->input_requests
                           ? json_loads(row->input_requests, 0, NULL)
                           : NULL;
    const char *key;
    json_t *r;
    json_object_foreach(requests, key, r)
    {
        const char *method = json_string_value(json_object_get(r, "method"));
        const char *cap = mcp_capability_for_method(method);
        if (json_object_get(asked, key) || strlen(key) > LEGACY_KEY_MAX || !cap ||
            !json_is_object(json_object_get(caps, cap)))
            continue;
        json_array_append_new(out, input_message(row->id, key, r, related));
        json_object_set_new(asked, key, json_true());
    }
    json_decref(requests);
}

/*
 * Split response id 'id' (untrusted) of the form "tw:<task id>:<key>" into
 * 'task' and 'key' (1 to LEGACY_KEY_MAX bytes).  False for any other id.
 * Pure.
 */
bool legacy_response_id(const json_t *id, char task[TASKID_LEN + 1], char key[LEGACY_KEY_MAX + 1])
{
    const char *s = json_string_value(id);
    size_t pre = strlen(ID_PREFIX);
    if (!s || strncmp(s, ID_PREFIX, pre) != 0 || strlen(s) < pre + TASKID_LEN + 2 ||
        s[pre + TASKID_LEN] != ':')
        return false;
    const char *k = s + pre + TASKID_LEN + 1;
    size_t klen = strlen(k);
    if (klen == 0 || klen > LEGACY_KEY_MAX)
        return false;
    memcpy(task, s + pre, TASKID_LEN);
    task[TASKID_LEN] = '\0';
    memcpy(key, k, klen + 1);
    return taskid_valid(task);
}
