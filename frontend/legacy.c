/*
 * legacy.c - legacy sessions, legacy-only methods and the bridge to the
 * modern dispatch.
 *
 * Rules this file keeps:
 *   - a session id that does not verify, has expired or belongs to another
 *     principal is 404 (the client must initialize again); a request
 *     without one is served with no client capabilities (lenient, as the
 *     official SDKs' stateless servers do);
 *   - handler errors go out in HTTP 200, transport errors keep their 4xx
 *     and a store outage its 503;
 *   - results lose resultType, ttlMs, cacheScope and the serverInfo _meta;
 *     ping, logging/setLevel and resources/(un)subscribe answer exactly {};
 *   - task augmentation (params.task) exists only on 2025-11-25 sessions,
 *     is refused (-32601) on tools that never run as tasks, and is needed
 *     (-32601 without it) by task-required tools; a 2025-06-18 session runs
 *     every tool synchronously;
 *   - a client's answer to a server-to-client request is stored like
 *     tasks/update for the task named by its id, for that task's owner
 *     only; a JSON-RPC error as the answer ends the input round, and the
 *     task, with a tool error.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "legacy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "legacy_tasks.h"
#include "log.h"
#include "mcpdefs.h"
#include "tasklog.h"

/* ---- results and errors ---- */

/* Legacy statuses for what the modern dispatch answered: errors in 200 (but a store
 * outage stays 503 and a body limit 413), a missing resource as -32002. */
static void map_error(const struct legacy_req *x, struct mcp_outcome *oc)
{
    json_t *error = json_object_get(oc->reply, "error");
    if (!error)
        return;
    if (oc->status != 503 && oc->status != 413)
        oc->status = 200;
    json_t *uri = json_object_get(json_object_get(error, "data"), "uri");
    if (strcmp(x->req->method, "resources/read") == 0 &&
        json_integer_value(json_object_get(error, "code")) == MCP_EPARAMS && uri) {
        json_t *data = json_pack("{s:O}", "uri", uri);
        json_decref(oc->reply);
        legacy_fail(x, oc, RPC_ERESOURCE, "Resource not found", data);
    }
}

/* Run 'x' through the modern dispatch with the session's capabilities. */
static void run_modern(const struct legacy_req *x, struct mcp_outcome *oc)
{
    struct rpc_request mreq = *x->req;
    mreq.client_caps = x->caps;
    mcp_handle(x->mc, &mreq, oc);
}

/* Make a modern reply in *oc a legacy one: 2026-only fields out, legacy error status. */
static void to_legacy(const struct legacy_req *x, struct mcp_outcome *oc)
{
    if (oc->kind != MCP_REPLY)
        return;
    legacy_strip(oc->reply);
    map_error(x, oc);
}

/* Run 'x' through the modern dispatch and answer as legacy. */
static void passthrough(const struct legacy_req *x, struct mcp_outcome *oc)
{
    run_modern(x, oc);
    to_legacy(x, oc);
}

/* ---- initialize ---- */

/* True when the modern dispatch of 'srv' serves 'method' (a method of its table). */
static bool served(const struct mcp_server *srv, const char *method)
{
    struct mcp_call c = {.srv = srv, .probe = true};
    struct rpc_request req = {.method = method};
    struct mcp_outcome out;
    mcp_handle(&c, &req, &out);
    json_decref(out.reply);
    return out.status != rpc_error_http_status(RPC_EMETHOD);
}

/* The server capabilities a session of 'version' gets: only what works there. */
static json_t *server_capabilities(const struct mcp_server *srv, const char *version)
{
    /* The MCP Apps extension, as on server/discover: the task view is always served
     * (clients that did not declare the extension ignore this). */
    json_t *c = json_pack("{s:{s:b}, s:{}, s:{s:{}}}", "tools", "listChanged", 0, "logging",
                          "extensions", MCP_EXT_UI);
    if (strcmp(version, ERA_LEGACY_LATEST) == 0)
        json_object_set_new(
            c, "tasks",
            json_pack("{s:{}, s:{}, s:{s:{s:{}}}}", "list", "cancel", "requests", "tools", "call"));
    if (served(srv, "resources/list"))
        json_object_set_new(c, "resources",
                            json_pack("{s:b, s:b}", "subscribe", 0, "listChanged", 0));
    if (served(srv, "prompts/list"))
        json_object_set_new(c, "prompts", json_pack("{s:b}", "listChanged", 0));
    if (served(srv, "completion/complete"))
        json_object_set_new(c, "completions", json_object());
    return c;
}

/*
 * initialize: negotiate the version (echo a legacy one served, else offer
 * the latest), keep the declared capabilities in a signed session id for
 * this principal, and describe the server.
 */
static void do_initialize(const struct legacy_call *lc, const struct legacy_req *x,
                          struct legacy_outcome *out)
{
    const json_t *params = x->req->params;
    const char *version =
        era_negotiate(json_string_value(json_object_get(params, "protocolVersion")));
    const struct mcp_server *srv = lc->mc->srv;
    struct session s = {.caps = session_caps_from_json(json_object_get(params, "capabilities")),
                        .expires_s = (int64_t)time(NULL) + srv->session_ttl_s};
    snprintf(s.version, sizeof(s.version), "%s", version);
    if (session_sign(srv->state_key, srv->state_key_len, &s, lc->mc->owner, out->session_id) < 0) {
        out->session_id[0] = '\0';
        legacy_fail(x, &out->oc, RPC_EINTERNAL, "Cannot open a session; retry", NULL);
        return;
    }
    json_t *r = json_pack("{s:s, s:o, s:{s:s, s:s}, s:s}", "protocolVersion", version,
                          "capabilities", server_capabilities(srv, version), "serverInfo", "name",
                          "taskwire", "version", TASKWIRE_VERSION, "instructions",
                          strcmp(version, ERA_LEGACY_LATEST) == 0
                              ? "Long-running tools run as durable tasks; task-required tools "
                                "need task augmentation (poll tasks/get, then tasks/result)."
                              : "Long-running tools run as durable tasks and answer when done.");
    legacy_succeed(x, &out->oc, r);
}

/* ---- methods answered here ---- */

/* ping, resources/subscribe, resources/unsubscribe: exactly {}. */
static void do_empty(const struct legacy_req *x, struct mcp_outcome *oc)
{
    if (strncmp(x->req->method, "resources/", 10) == 0 && !served(x->mc->srv, "resources/list")) {
        legacy_fail(x, oc, RPC_EMETHOD, "Method not found", NULL);
        return;
    }
    legacy_succeed(x, oc, json_object());
}

/*
 * logging/setLevel: {} for a valid level.  The level cannot be remembered
 * without frontend state (the session id is fixed at initialize): legacy
 * streams send info and above whatever was set.
 */
static void do_set_level(const struct legacy_req *x, struct mcp_outcome *oc)
{
    const char *level = json_string_value(json_object_get(x->req->params, "level"));
    if (tasklog_level(level) < 0) {
        legacy_fail(x, oc, RPC_EPARAMS, "Invalid params: unknown logging level", NULL);
        return;
    }
    legacy_succeed(x, oc, json_object());
}

static const char *task_support(enum tool_policy p)
{
    return p == TOOL_TASK_REQUIRED   ? "required"
           : p == TOOL_TASK_OPTIONAL ? "optional"
                                     : "forbidden";
}

/* tools/list: the modern list, with execution.taskSupport on 2025-11-25 sessions. */
static void do_tools_list(const struct legacy_req *x, struct mcp_outcome *oc)
{
    passthrough(x, oc);
    bool tasks = strcmp(x->version, ERA_LEGACY_LATEST) == 0;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(json_object_get(oc->reply, "result"), "tools"), i, t)
    {
        const struct tool_desc *d =
            catalog_find(x->mc->srv->catalog, json_string_value(json_object_get(t, "name")));
        if (tasks && d) {
            json_object_set_new(t, "execution",
                                json_pack("{s:s}", "taskSupport", task_support(d->policy)));
        } else if (!tasks) {
            json_object_del(t, "execution");
            json_object_del(t, "icons");
        }
    }
}

/* The ttl of a task asked for with 'task' ({ttl?}), clamped to [1 s, the server's]. */
static int64_t task_ttl(const struct mcp_server *srv, const json_t *task)
{
    const json_t *ttl = json_object_get(task, "ttl");
    json_int_t v = json_is_integer(ttl) ? json_integer_value(ttl) : srv->task_ttl_ms;
    return v < 1000 ? 1000 : v > srv->task_ttl_ms ? srv->task_ttl_ms : v;
}

/* A flat modern CreateTaskResult reply made the nested 2025-11-25 one: {task: Task}. */
static void nest_task(json_t *reply)
{
    json_t *r = json_object_get(reply, "result");
    if (!json_is_string(json_object_get(r, "taskId")))
        return;
    json_t *t = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O}", "taskId", json_object_get(r, "taskId"),
                          "status", json_object_get(r, "status"), "createdAt",
                          json_object_get(r, "createdAt"), "lastUpdatedAt",
                          json_object_get(r, "lastUpdatedAt"), "ttl", json_object_get(r, "ttlMs"),
                          "pollInterval", json_object_get(r, "pollIntervalMs"));
    if (t && json_object_get(r, "statusMessage"))
        json_object_set(t, "statusMessage", json_object_get(r, "statusMessage"));
    if (t)
        json_object_set_new(reply, "result", json_pack("{s:o}", "task", t));
}

/*
 * tools/call: choose task or synchronous from params.task, the tool's
 * policy and the session's version (see the file header), then run the
 * modern tools/call in that mode.
 */
static void do_tools_call(const struct legacy_req *x, struct mcp_outcome *oc)
{
    struct mcp_call *mc = x->mc;
    const struct tool_desc *tool =
        catalog_find(mc->srv->catalog, json_string_value(json_object_get(x->req->params, "name")));
    const json_t *task = json_object_get(x->req->params, "task");
    bool tasks = strcmp(x->version, ERA_LEGACY_LATEST) == 0;
    mc->task_mode = MCP_TASK_SYNC;
    if (tool && tasks && json_is_object(task)) {
        if (tool->policy == TOOL_TASK_NEVER) {
            legacy_fail(x, oc, RPC_EMETHOD, "Task augmentation is not supported by this tool",
                        NULL);
            return;
        }
        mc->task_mode = MCP_TASK_HANDOUT;
        mc->task_ttl_ms = task_ttl(mc->srv, task);
    } else if (tool && tasks && tool->policy == TOOL_TASK_REQUIRED) {
        legacy_fail(x, oc, RPC_EMETHOD, "Task augmentation required for tools/call requests", NULL);
        return;
    }
    run_modern(x, oc);
    if (oc->kind == MCP_REPLY && mc->task_mode == MCP_TASK_HANDOUT)
        nest_task(oc->reply);
    to_legacy(x, oc);
}

/* ---- answers to server-to-client requests ---- */

/* End the input round of task 'task' with a tool error saying the client refused 'key'. */
static int refuse(const struct legacy_req *x, const char *task, const char *key,
                  const json_t *error, struct err *e)
{
    char text[512];
    snprintf(text, sizeof(text), "The client refused input request '%s': %s (code %lld)", key,
             json_is_string(json_object_get(error, "message"))
                 ? json_string_value(json_object_get(error, "message"))
                 : "no message",
             (long long)json_integer_value(json_object_get(error, "code")));
    json_t *result =
        json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text", text, "isError", 1);
    char *json = result ? json_dumps(result, JSON_COMPACT) : NULL;
    json_decref(result);
    int rc = json ? store_task_end_input(x->mc->store, task, x->mc->owner, json, e)
                  : err_set(e, -STORE_EINTERNAL, "out of memory");
    free(json);
    if (rc == 0) {
        notify_publish(x->mc->pub, NOTIFY_CHANGED, task);
    } else if (rc == -STORE_ENOTFOUND) { /* no longer waiting is fine; not the caller's is not */
        struct task_row row;
        if ((rc = store_task_get(x->mc->store, task, x->mc->owner, &row, e)) == 0)
            task_row_fini(&row);
    }
    return rc;
}

/*
 * A client's JSON-RPC response to one of our requests: its id names the
 * task and the input key.  A result is stored like tasks/update, an error
 * ends the round; both only for the task's owner.  202 when taken; 400 for
 * an id we did not issue or a task the caller cannot see; 503 while the
 * store is away.
 */
static void do_response(const struct legacy_req *x, struct mcp_outcome *oc)
{
    const json_t *root = x->req->root;
    char task[TASKID_LEN + 1], key[LEGACY_KEY_MAX + 1];
    struct err e = {0};
    int rc;
    if (!legacy_response_id(json_object_get(root, "id"), task, key)) {
        legacy_fail(x, oc, RPC_ELEGACY,
                    "Invalid request: not an answer to a request of this "
                    "server",
                    NULL);
        oc->status = rpc_error_http_status(RPC_ELEGACY);
        return;
    }
    json_t *result = json_object_get(root, "result");
    if (result) {
        json_t *responses = json_pack("{s:O}", key, result);
        rc = responses ? mcp_answer(x->mc, task, responses, &e) : -STORE_EINTERNAL;
        json_decref(responses);
    } else {
        rc = refuse(x, task, key, json_object_get(root, "error"), &e);
    }
    if (rc == 0) {
        oc->kind = MCP_REPLY;
        oc->status = 202;
        return;
    }
    enum rpc_error code = rc == -STORE_EUNAVAILABLE ? RPC_EUNAVAILABLE
                          : rc == -STORE_ENOTFOUND  ? RPC_ELEGACY
                                                    : RPC_EINTERNAL;
    if (code == RPC_EINTERNAL)
        LOG_ERROR("cannot store a client's answer", "task_id", task, "error", e.msg);
    legacy_fail(x, oc, code,
                code == RPC_ELEGACY        ? "Invalid request: no such request"
                : code == RPC_EUNAVAILABLE ? "Task store unavailable; retry shortly"
                                           : "Internal error",
                NULL);
    oc->status = rpc_error_http_status(code);
}

/* ---- sessions and dispatch ---- */

/* 400 -32022 for a version header naming no version served, with the ones that are. */
static void bad_version(const struct legacy_call *lc, const struct legacy_req *x,
                        struct mcp_outcome *oc)
{
    char v[64];
    json_t *data = json_pack("{s:o, s:s?}", "supported", era_supported_versions(), "requested",
                             era_header_value(lc->version_header, v, sizeof(v)) ? v : NULL);
    legacy_fail(x, oc, RPC_EVERSION, "Unsupported protocol version", data);
    oc->status = rpc_error_http_status(RPC_EVERSION);
}

/*
 * The session of the message into *s: the verified Mcp-Session-Id, or with
 * none an empty one at the header's version (2025-11-25 without a header).
 * False after answering 404 (unknown, expired, another principal's) or 500.
 */
static bool open_session(const struct legacy_call *lc, const struct legacy_req *x,
                         struct session *s, struct mcp_outcome *oc)
{
    const struct mcp_server *srv = lc->mc->srv;
    struct err e = {0};
    memset(s, 0, sizeof(*s));
    if (!lc->session_id) {
        char v[sizeof(s->version)];
        bool given = era_header_value(lc->version_header, v, sizeof(v)) && era_legacy_version(v);
        snprintf(s->version, sizeof(s->version), "%s", given ? v : ERA_LEGACY_LATEST);
        return true;
    }
    int rc = session_verify(srv->state_key, srv->state_key_len, lc->session_id, lc->mc->owner,
                            (int64_t)time(NULL), s, &e);
    if (rc == 0)
        return true;
    enum rpc_error code = rc == -SESSION_EINTERNAL ? RPC_EINTERNAL : RPC_ESESSION;
    legacy_fail(x, oc, code, e.msg, NULL);
    oc->status = rpc_error_http_status(code);
    return false;
}

/* Answer a request of an open session: tasks methods, methods answered here, the rest
 * through the modern dispatch. */
static void dispatch(const struct legacy_req *x, struct legacy_outcome *out)
{
    static const struct {
        const char *method;                                          /* JSON-RPC method */
        void (*fn)(const struct legacy_req *, struct mcp_outcome *); /* its handler */
    } methods[] = {
        {"ping", do_empty},
        {"logging/setLevel", do_set_level},
        {"resources/subscribe", do_empty},
        {"resources/unsubscribe", do_empty},
        {"tools/list", do_tools_list},
        {"tools/call", do_tools_call},
    };
    /* 2026-only methods: a legacy session has no discover, listen or MRTR task update. */
    static const char *const modern_only[] = {"server/discover", "subscriptions/listen",
                                              "tasks/update"};
    if (legacy_tasks_handle(x, &out->oc, &out->stream))
        return;
    for (size_t i = 0; i < sizeof(modern_only) / sizeof(modern_only[0]); i++)
        if (strcmp(x->req->method, modern_only[i]) == 0) {
            legacy_fail(x, &out->oc, RPC_EMETHOD, "Method not found", NULL);
            return;
        }
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strcmp(x->req->method, methods[i].method) == 0) {
            methods[i].fn(x, &out->oc);
            return;
        }
    passthrough(x, &out->oc);
}

/*
 * Answer legacy message 'req' of 'kind' into *out (any memory; it is
 * overwritten): ERA_LEGACY_INIT opens a session (out->session_id),
 * ERA_LEGACY_REQUEST and ERA_LEGACY_RESPONSE are served within theirs,
 * ERA_BAD_VERSION is refused.  A request that must wait comes back as
 * MCP_WAIT with out->stream (legacy) and out->caps (the session's
 * capabilities) for wait.c.  Uses the call's connections; release *out with
 * legacy_outcome_fini().
 */
void legacy_handle(const struct legacy_call *lc, enum era_kind kind, const struct rpc_request *req,
                   struct legacy_outcome *out)
{
    memset(out, 0, sizeof(*out));
    out->oc.status = 200;
    struct legacy_req x = {lc->mc, req, ERA_LEGACY_LATEST, NULL};
    struct session s;
    if (kind == ERA_BAD_VERSION) {
        bad_version(lc, &x, &out->oc);
        return;
    }
    if (kind == ERA_LEGACY_INIT) {
        do_initialize(lc, &x, out);
        return;
    }
    if (!open_session(lc, &x, &s, &out->oc))
        return;
    out->caps = session_caps_to_json(s.caps);
    x.version = s.version;
    x.caps = out->caps;
    if (kind == ERA_LEGACY_RESPONSE) {
        do_response(&x, &out->oc);
        return;
    }
    dispatch(&x, out);
    if (out->oc.kind == MCP_WAIT)
        out->stream.on = true;
}

/* Release the reply (unless taken: set out->oc.reply to NULL first) and capabilities. */
void legacy_outcome_fini(struct legacy_outcome *out)
{
    json_decref(out->oc.reply);
    json_decref(out->oc.listen);
    json_decref(out->caps);
    memset(out, 0, sizeof(*out));
}
