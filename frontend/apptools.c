/*
 * apptools.c - taskwire_task_status and taskwire_task_cancel, for the task view App.
 *
 * Each call is one or two statements on the caller's own rows and an
 * immediate answer; nothing here creates a task, waits, or keeps state.
 * The structured answer is the DetailedTask tasks/get gives the same
 * caller, so the App and a Tasks client see one truth; the text content
 * sums it up for clients without MCP Apps.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "apptools.h"

#include <stdio.h>

#include "mcp.h"
#include "mcpdefs.h"
#include "reply.h"
#include "taskjson.h"
#include "toolserve.h"

/* The input schema both tools share: one task id. */
#define TASK_ID_INPUT                                                                              \
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"taskId\":{\"type\":\"string\","        \
    "\"minLength\":1,\"maxLength\":128,\"description\":\"The task's id, as tools/call "            \
    "returned it.\"}},\"required\":[\"taskId\"],\"additionalProperties\":false}"

/* The structuredContent both tools answer with. */
#define TASK_OUTPUT                                                                                \
    "\"outputSchema\":{\"type\":\"object\",\"properties\":{"                                       \
    "\"taskId\":{\"type\":\"string\"},\"status\":{\"type\":\"string\",\"enum\":[\"working\","      \
    "\"input_required\",\"completed\",\"failed\",\"cancelled\"]},"                                 \
    "\"statusMessage\":{\"type\":\"string\"},\"progress\":{\"type\":\"object\",\"properties\":{"   \
    "\"progress\":{\"type\":\"number\"},\"total\":{\"type\":\"number\"}},"                         \
    "\"required\":[\"progress\"]},\"pollIntervalMs\":{\"type\":\"integer\"},"                      \
    "\"ttlMs\":{\"type\":\"integer\"},\"createdAt\":{\"type\":\"string\"},"                        \
    "\"lastUpdatedAt\":{\"type\":\"string\"},\"result\":{\"type\":\"object\"},"                    \
    "\"error\":{\"type\":\"object\"},\"inputRequests\":{\"type\":\"object\"},"                     \
    "\"cancelled\":{\"type\":\"boolean\"}},\"required\":[\"taskId\",\"status\"]}"

/* Visible to the App only (MCP Apps: hosts keep it from the model). */
#define APP_ONLY                                                                                   \
    "\"_meta\":{\"ui\":{\"resourceUri\":\"" TW_TASK_APP_URI "\",\"visibility\":[\"app\"]}}"

/* ---- answers ---- */

/* The task's state for the App: the DetailedTask tasks/get gives a reader
 * with 'caps', without resultType and _meta, progress as {progress, total}. */
static json_t *task_state(const struct task_row *row, const json_t *caps)
{
    json_t *d = taskjson_detailed(row, caps);
    json_t *progress = json_incref(json_object_get(json_object_get(d, "_meta"), TW_META_PROGRESS));
    json_object_del(d, "_meta");
    json_object_del(d, "resultType");
    json_object_del(json_object_get(d, "result"), "resultType");
    if (progress)
        json_object_set_new(d, "progress", progress);
    return d;
}

/* One line about 'row' for the text content: "Task <id> is working (2 of 5): step 2/5". */
static void summary(const struct task_row *row, char *out, size_t cap)
{
    char progress[64] = "";
    if (row->has_progress && row->progress_total > 0)
        snprintf(progress, sizeof(progress), " (%g of %g)", row->progress, row->progress_total);
    else if (row->has_progress)
        snprintf(progress, sizeof(progress), " (%g)", row->progress);
    snprintf(out, cap, "Task %s is %s%s%s%.300s.", row->id, taskstate_mcp(row->status), progress,
             row->status_message ? ": " : "", row->status_message ? row->status_message : "");
}

/* The response to 'req' describing 'row' ('cancelled': 0/1 for the cancel tool, -1 for the
 * status tool); a new reference. */
static json_t *describe(const struct toolserve_call *tc, const struct rpc_request *req, int *status,
                        const struct task_row *row, int cancelled)
{
    char text[512];
    summary(row, text, sizeof(text));
    json_t *state = task_state(row, tc->caps);
    if (cancelled >= 0)
        json_object_set_new(state, "cancelled", json_boolean(cancelled));
    json_t *r = reply_result_new("complete");
    json_object_set_new(r, "content", json_pack("[{s:s, s:s}]", "type", "text", "text", text));
    json_object_set_new(r, "structuredContent", state);
    return reply_ok(req, status, r);
}

/* The caller's task named by 'args' (checked by the input schema) and the response about
 * it, or the -32602 of tasks/get for an unknown or foreign task. */
static json_t *read_and_describe(const struct toolserve_call *tc, const struct rpc_request *req,
                                 int *status, const json_t *args, int cancelled)
{
    const char *id = json_string_value(json_object_get(args, "taskId"));
    struct task_row row;
    struct err e = {0};
    int rc = store_task_get(tc->store, id, tc->owner, &row, &e);
    if (rc < 0)
        return reply_store_error(req, status, rc, &e);
    json_t *reply = describe(tc, req, status, &row, cancelled);
    task_row_fini(&row);
    return reply;
}

/* ---- the tools ---- */

/* taskwire_task_status: the task now (toolserve_fn). */
static json_t *task_status(const struct toolserve_call *tc, const struct rpc_request *req,
                           int *status, const json_t *args)
{
    return read_and_describe(tc, req, status, args, -1);
}

/* taskwire_task_cancel: cancel like tasks/cancel (ending a finished task is no error), then
 * the task as it is now (toolserve_fn). */
static json_t *task_cancel(const struct toolserve_call *tc, const struct rpc_request *req,
                           int *status, const json_t *args)
{
    const char *id = json_string_value(json_object_get(args, "taskId"));
    bool changed = false;
    struct err e = {0};
    int rc = mcp_cancel_task(tc->store, tc->pub, id, tc->owner, APPTOOLS_CANCEL, &changed, &e);
    if (rc < 0)
        return reply_store_error(req, status, rc, &e);
    return read_and_describe(tc, req, status, args, changed);
}

static const struct tool_frontend status_impl = {task_status};
static const struct tool_frontend cancel_impl = {task_cancel};

static const struct {
    const char *json;                 /* the Tool object */
    const struct tool_frontend *impl; /* how the frontend answers it */
} tools[] = {
    {"{\"name\":\"" APPTOOLS_STATUS "\",\"title\":\"Task status\",\"description\":\"The "
     "current state of one of your tasks: status, progress, status message, and its result "
     "or error once it has ended. Used by the task view (an MCP App) to follow a "
     "task.\"," TASK_ID_INPUT "," TASK_OUTPUT ",\"annotations\":{\"readOnlyHint\":true,"
     "\"idempotentHint\":true,\"openWorldHint\":false}," APP_ONLY "}",
     &status_impl},
    {"{\"name\":\"" APPTOOLS_CANCEL "\",\"title\":\"Cancel task\",\"description\":\"Cancels "
     "one of your tasks unless it has already ended, then returns its state. Used by the "
     "task view (an MCP App) for its Cancel button.\"," TASK_ID_INPUT "," TASK_OUTPUT
     ",\"annotations\":{\"readOnlyHint\":false,\"destructiveHint\":true,"
     "\"idempotentHint\":true,\"openWorldHint\":false}," APP_ONLY "}",
     &cancel_impl},
};

/*
 * Add taskwire_task_status and taskwire_task_cancel to 'c' as tools the
 * frontend answers itself.  Returns 0, or the negative code of
 * catalog_add() with 'err' set (a name a manifest took first).  Start-up
 * only; the definitions are static text.
 */
int apptools_register(struct catalog *c, struct err *err)
{
    for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
        json_error_t jerr;
        json_t *def = json_loads(tools[i].json, 0, &jerr);
        if (!def)
            return err_set(err, -CATALOG_EINVALID, "app tool %zu: %s", i, jerr.text);
        int rc = catalog_add_frontend(c, def, tools[i].impl, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}
