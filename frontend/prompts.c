/*
 * prompts.c - the prompts methods, and a prompt about one of the caller's tasks.
 *
 * prompts/get validates what every prompt would (a known name, arguments
 * that are strings, required ones present), then hands over to the prompt's
 * get function.  task_summary reads its task through resources.c, so it
 * sees exactly what resources/read shows the caller and nothing of anyone
 * else's.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "prompts.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "content_fixtures.h"
#include "resources.h"

static json_t *get_task_summary(const struct content_call *cc, const struct rpc_request *req,
                                const json_t *args, int *status);

static const struct prompt_def task_summary = {
    .name = "task_summary",
    .title = "Summarise a task",
    .description = "Puts one of your tasks (status, progress, result or error) into the "
                   "conversation and asks for a short summary of where it stands.",
    .args = {{"taskId", "The id of one of your tasks", true, resources_complete_task_id, NULL}},
    .get = get_task_summary,
};

/*
 * Register what this module serves in 'c': task_summary, then (with
 * 'fixtures') the conformance suite's prompts.  Call once at start-up,
 * before any thread reads 'c'.
 */
void prompts_register(struct content *c, bool fixtures)
{
    size_t n = 0;
    const struct prompt_def *p = fixtures ? content_fixture_prompts(&n) : NULL;
    /* The tables are fixed at compile time: more than fits is a programming error. */
    assert(c->nprompts + 1 + n <= CONTENT_MAX);
    c->prompts[c->nprompts++] = &task_summary;
    for (size_t i = 0; i < n; i++)
        c->prompts[c->nprompts++] = &p[i];
}

/* The prompt called 'name' (may be NULL) in 'c', or NULL.  Thread-safe. */
const struct prompt_def *prompts_find(const struct content *c, const char *name)
{
    for (size_t i = 0; name && i < c->nprompts; i++)
        if (strcmp(c->prompts[i]->name, name) == 0)
            return c->prompts[i];
    return NULL;
}

/*
 * task_summary: the caller's task as an embedded resource, then the request
 * for a summary.  An id the caller cannot read is -32602.
 */
static json_t *get_task_summary(const struct content_call *cc, const struct rpc_request *req,
                                const json_t *args, int *status)
{
    const char *id = json_string_value(json_object_get(args, "taskId"));
    char uri[sizeof(RESOURCES_TASK_PREFIX) + TASKID_LEN];
    struct content_read rd;
    struct err e = {0};
    int rc = -CONTENT_ENOTFOUND;
    if (taskid_valid(id)) {
        snprintf(uri, sizeof(uri), RESOURCES_TASK_PREFIX "%s", id);
        rc = resources_read_uri(cc, uri, &rd, &e);
    }
    if (rc == -CONTENT_ENOTFOUND)
        return reply_error(req, status, RPC_EPARAMS, "Failed to retrieve task: Task not found",
                             NULL);
    if (rc < 0)
        return content_failure(req, status, rc, &e);
    json_t *messages =
        json_pack("[{s:s, s:{s:s, s:O}}, {s:s, s:{s:s, s:s}}]", "role", "user", "content", "type",
                  "resource", "resource", json_array_get(rd.contents, 0), "role", "user", "content",
                  "type", "text", "text",
                  "Summarise the task above in a few sentences: what it was asked to do, where it "
                  "stands now, and its result or error if it has ended.");
    json_decref(rd.contents);
    json_t *r = reply_result_new("complete");
    json_object_set_new(r, "description", json_string("A summary of one of your tasks"));
    json_object_set_new(r, "messages", messages);
    return reply_ok(req, status, r);
}

/* The Prompt object of 'p' for prompts/list; a new reference. */
static json_t *prompt_entry(const struct prompt_def *p)
{
    json_t *o = json_pack("{s:s, s:s*, s:s}", "name", p->name, "title", p->title, "description",
                          p->description);
    json_t *args = json_array();
    for (const struct prompt_arg *a = p->args; a < p->args + CONTENT_MAX_ARGS && a->name; a++)
        json_array_append_new(args, json_pack("{s:s, s:s*, s:b}", "name", a->name, "description",
                                              a->description, "required", a->required));
    if (json_array_size(args) > 0)
        json_object_set_new(o, "arguments", args);
    else
        json_decref(args);
    return o;
}

/* prompts/list: every prompt, in registry order; public. */
json_t *prompts_list(const struct content_call *cc, const struct rpc_request *req, int *status)
{
    json_t *bad = content_check_cursor(req, status);
    if (bad)
        return bad;
    json_t *list = json_array();
    for (size_t i = 0; i < cc->reg->nprompts; i++)
        json_array_append_new(list, prompt_entry(cc->reg->prompts[i]));
    json_t *r = reply_result_new("complete");
    json_object_set_new(r, "prompts", list);
    reply_cache(r, cc->list_ttl_ms, "public");
    return reply_ok(req, status, r);
}

/* NULL when 'args' (an object) suits prompt 'p', else the error response. */
static json_t *check_args(const struct prompt_def *p, const json_t *args,
                          const struct rpc_request *req, int *status)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)args, key, v)
    {
        if (!json_is_string(v))
            return reply_error(req, status, RPC_EPARAMS,
                                 "Invalid params: prompt arguments must be strings", NULL);
    }
    for (const struct prompt_arg *a = p->args; a < p->args + CONTENT_MAX_ARGS && a->name; a++) {
        if (a->required && !json_object_get(args, a->name)) {
            char msg[160];
            snprintf(msg, sizeof(msg), "Invalid params: missing required argument '%.64s'",
                     a->name);
            return reply_error(req, status, RPC_EPARAMS, msg, NULL);
        }
    }
    return NULL;
}

/*
 * prompts/get: find params.name, check params.arguments (absent or null is
 * {}), then let the prompt answer (a GetPromptResult, an
 * InputRequiredResult or an error).  An unknown name is -32602.
 */
json_t *prompts_get(const struct content_call *cc, const struct rpc_request *req, int *status)
{
    json_t *name = json_object_get(req->params, "name");
    if (!json_is_string(name))
        return reply_error(req, status, RPC_EPARAMS, "Invalid params: \"name\" must be a string",
                             NULL);
    const struct prompt_def *p = prompts_find(cc->reg, json_string_value(name));
    if (!p)
        return reply_error(req, status, RPC_EPARAMS, "Unknown prompt", NULL);
    json_t *args = json_object_get(req->params, "arguments");
    if (args && !json_is_null(args) && !json_is_object(args))
        return reply_error(req, status, RPC_EPARAMS,
                             "Invalid params: \"arguments\" must be an object", NULL);
    json_t *used = json_is_object(args) ? json_incref(args) : json_object();
    json_t *reply = check_args(p, used, req, status);
    if (!reply)
        reply = p->get(cc, req, used, status);
    json_decref(used);
    return reply;
}
