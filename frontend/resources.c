/*
 * resources.c - the resources methods, and the caller's tasks as resources.
 *
 * A read looks for a fixed resource with exactly that URI, then for the
 * first template that matches it, whose reader builds the contents.  The
 * task reader reads through the store's owner-filtered get, so a foreign
 * task is exactly as invisible as an unknown one.  Task ids are completed
 * from the caller's own tasks only (store_task_ids).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "resources.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "content_fixtures.h"
#include "taskstate.h"

static int read_task(const struct content_call *cc, const char *uri, const char *id,
                     struct content_read *out, struct err *err);

static const struct template_def task_template = {
    .uri_template = RESOURCES_TASK_PREFIX "{taskId}",
    .name = "task",
    .title = "Task",
    .description = "One of your tasks as JSON: its status, progress, result or error and "
                   "times.  Readable only by the principal that created the task.",
    .mime_type = "application/json",
    .read = read_task,
    .complete = resources_complete_task_id,
};

/*
 * Register what this module serves in 'c': the task template, then (with
 * 'fixtures') the conformance suite's resources and template.  Call once at
 * start-up, before any thread reads 'c'.
 */
void resources_register(struct content *c, bool fixtures)
{
    size_t nr = 0, nt = 0;
    const struct resource_def *r = fixtures ? content_fixture_resources(&nr) : NULL;
    const struct template_def *t = fixtures ? content_fixture_templates(&nt) : NULL;
    /* The tables are fixed at compile time: more than fits is a programming error. */
    assert(c->nresources + nr <= CONTENT_MAX && c->ntemplates + 1 + nt <= CONTENT_MAX);
    c->templates[c->ntemplates++] = &task_template;
    for (size_t i = 0; i < nr; i++)
        c->resources[c->nresources++] = &r[i];
    for (size_t i = 0; i < nt; i++)
        c->templates[c->ntemplates++] = &t[i];
}

/* ---- the caller's tasks ---- */

/* The task document of 'row': what a client (or a model) wants to know; a new reference. */
static json_t *task_document(const struct task_row *row)
{
    json_t *d = json_pack("{s:s, s:s*, s:s}", "taskId", row->id, "tool", row->tool, "status",
                          taskstate_mcp(row->status));
    if (row->status_message)
        json_object_set_new(d, "statusMessage", json_string(row->status_message));
    if (row->has_progress) {
        json_t *p = json_pack("{s:f}", "progress", row->progress);
        if (row->progress_total > 0)
            json_object_set_new(p, "total", json_real(row->progress_total));
        json_object_set_new(d, "progress", p);
    }
    const char *text = row->status == TASK_COMPLETED ? row->result
                       : row->status == TASK_FAILED  ? row->error
                                                     : NULL;
    json_t *outcome = text ? json_loads(text, 0, NULL) : NULL;
    if (outcome)
        json_object_set_new(d, row->status == TASK_COMPLETED ? "result" : "error", outcome);
    json_object_set_new(d, "createdAt", json_string(row->created_at));
    json_object_set_new(d, "lastUpdatedAt", json_string(row->updated_at));
    return d;
}

/*
 * The reader of taskwire://tasks/{taskId}: the caller's task 'id' as one
 * application/json text, private to the caller, fresh for the task's poll
 * interval.  An id that is malformed, unknown, expired or another
 * principal's is -CONTENT_ENOTFOUND alike.
 */
static int read_task(const struct content_call *cc, const char *uri, const char *id,
                     struct content_read *out, struct err *err)
{
    struct task_row row;
    int rc = store_task_get(cc->store, id, cc->owner, &row, err);
    if (rc < 0)
        return content_store_code(rc);
    json_t *doc = task_document(&row);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    json_decref(doc);
    out->contents = text ? json_pack("[{s:s, s:s, s:s}]", "uri", uri, "mimeType",
                                     "application/json", "text", text)
                         : NULL;
    out->ttl_ms = row.poll_interval_ms;
    out->scope = "private";
    free(text);
    task_row_fini(&row);
    if (!out->contents)
        return err_set(err, -CONTENT_EINTERNAL, "out of memory");
    return 0;
}

/*
 * Complete a task id for the caller: their own visible tasks whose id starts
 * with 'prefix', newest first, at most 'max' (and CONTENT_COMPLETE_MAX),
 * with *more when there are others.  Returns 0 or -CONTENT_E* with 'err'.
 * Uses the caller's store; runs on the thread that owns it.
 */
int resources_complete_task_id(const struct content_call *cc, const char *prefix, json_t *values,
                               size_t max, bool *more, struct err *err)
{
    char ids[CONTENT_COMPLETE_MAX + 1][TASKID_LEN + 1];
    size_t want = max < CONTENT_COMPLETE_MAX ? max : CONTENT_COMPLETE_MAX;
    int n = 0;
    *more = false;
    int rc = store_task_ids(cc->store, cc->owner, prefix, (int)want + 1, ids, &n, err);
    if (rc < 0)
        return content_store_code(rc);
    for (int i = 0; i < n && (size_t)i < want; i++)
        json_array_append_new(values, json_string(ids[i]));
    *more = (size_t)n > want;
    return 0;
}

/* ---- reading ---- */

/* Set the _meta of resource 'def' (if it has one) on 'o', its list entry or contents. */
static void with_meta(json_t *o, const struct resource_def *def)
{
    json_t *meta = def->meta ? json_loads(def->meta, 0, NULL) : NULL;
    if (meta)
        json_object_set_new(o, "_meta", meta);
}

/* The contents of fixed resource 'def': public, fresh for the list TTL. */
static int read_fixed(const struct content_call *cc, const struct resource_def *def,
                      struct content_read *out, struct err *err)
{
    out->contents = json_pack("[{s:s, s:s, s:s}]", "uri", def->uri, "mimeType", def->mime_type,
                              def->text ? "text" : "blob", def->text ? def->text : def->blob);
    with_meta(json_array_get(out->contents, 0), def);
    out->ttl_ms = cc->list_ttl_ms;
    out->scope = "public";
    return out->contents ? 0 : err_set(err, -CONTENT_EINTERNAL, "out of memory");
}

/*
 * Read resource 'uri' for the caller: a fixed resource with exactly that
 * URI, else the first template that matches it.  Returns 0 with *out (the
 * caller owns out->contents), -CONTENT_ENOTFOUND when nothing serves it for
 * this caller, or another -CONTENT_E* with 'err' set.
 */
int resources_read_uri(const struct content_call *cc, const char *uri, struct content_read *out,
                       struct err *err)
{
    const struct content *c = cc->reg;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; uri && i < c->nresources; i++)
        if (strcmp(c->resources[i]->uri, uri) == 0)
            return read_fixed(cc, c->resources[i], out, err);
    char value[CONTENT_VALUE_MAX];
    for (size_t i = 0; uri && i < c->ntemplates; i++)
        if (content_match(c->templates[i]->uri_template, uri, value))
            return c->templates[i]->read(cc, uri, value, out, err);
    return err_set(err, -CONTENT_ENOTFOUND, "no such resource");
}

/*
 * resources/read: the contents of params.uri with its caching hints, or
 * -32602 "Resource not found" with data.uri (the legacy layer turns that
 * into -32002).  Uses the caller's store.
 */
json_t *resources_read(const struct content_call *cc, const struct rpc_request *req, int *status)
{
    const char *uri = json_string_value(json_object_get(req->params, "uri"));
    if (!uri)
        return reply_error(req, status, RPC_EPARAMS, "Invalid params: \"uri\" must be a string",
                             NULL);
    struct content_read rd;
    struct err e = {0};
    int rc = resources_read_uri(cc, uri, &rd, &e);
    if (rc == -CONTENT_ENOTFOUND)
        return reply_error(req, status, RPC_EPARAMS, "Resource not found",
                             json_pack("{s:s}", "uri", uri));
    if (rc < 0)
        return content_failure(req, status, rc, &e);
    json_t *r = reply_result_new("complete");
    json_object_set_new(r, "contents", rd.contents);
    reply_cache(r, rd.ttl_ms, rd.scope);
    return reply_ok(req, status, r);
}

/* ---- lists ---- */

/* resources/list: the fixed resources, in registry order; public. */
json_t *resources_list(const struct content_call *cc, const struct rpc_request *req, int *status)
{
    json_t *bad = content_check_cursor(req, status);
    if (bad)
        return bad;
    json_t *list = json_array();
    for (size_t i = 0; i < cc->reg->nresources; i++) {
        const struct resource_def *d = cc->reg->resources[i];
        json_t *entry = json_pack("{s:s, s:s, s:s*, s:s*, s:s}", "uri", d->uri, "name", d->name,
                                  "title", d->title, "description", d->description, "mimeType",
                                  d->mime_type);
        with_meta(entry, d);
        json_array_append_new(list, entry);
    }
    json_t *r = reply_result_new("complete");
    json_object_set_new(r, "resources", list);
    reply_cache(r, cc->list_ttl_ms, "public");
    return reply_ok(req, status, r);
}

/* resources/templates/list: the templates, in registry order; public. */
json_t *resources_templates_list(const struct content_call *cc, const struct rpc_request *req,
                                 int *status)
{
    json_t *bad = content_check_cursor(req, status);
    if (bad)
        return bad;
    json_t *list = json_array();
    for (size_t i = 0; i < cc->reg->ntemplates; i++) {
        const struct template_def *d = cc->reg->templates[i];
        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:s*, s:s*, s:s*}", "uriTemplate",
                                        d->uri_template, "name", d->name, "title", d->title,
                                        "description", d->description, "mimeType", d->mime_type));
    }
    json_t *r = reply_result_new("complete");
    json_object_set_new(r, "resourceTemplates", list);
    reply_cache(r, cc->list_ttl_ms, "public");
    return reply_ok(req, status, r);
}
