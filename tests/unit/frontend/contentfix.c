/*
 * contentfix.c - the shared fixture of test_content, test_resources, test_prompts
 * and test_complete: registries, a fake task table behind the store, one call.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "contentfix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "content_methods.h"
#include "fakepq.h"
#include "mcpdefs.h"
#include "prompts.h"
#include "resources.h"
#include "store_row.h"
#include "taskapp.h"

static const unsigned char state_key[32] = "0123456789abcdef0123456789abcdef";

static char *xstrdup(const char *s)
{
    char *d = s ? strdup(s) : NULL;

    if (s && !d)
        fail_msg("out of memory");
    return d;
}

static struct task_row *table_find(struct contentfix *f, const char *id)
{
    for (int i = 0; i < f->ntasks; i++)
        if (strcmp(f->task[i].id, id) == 0)
            return &f->task[i];
    return NULL;
}

/* tw_get: WHERE id = $1 AND ($2 IS NULL OR owner = $2). */
static PGresult *serve_get(void *arg, const char *stmt, int n, const char *const *p)
{
    struct task_row *t = table_find(arg, p[0]);
    bool visible = t && (!p[1] || strcmp(t->owner, p[1]) == 0);

    (void)stmt;
    assert_int_equal(n, 2);
    return store_row_result(STORE_ROW_TASK, t, visible ? 1 : 0);
}

/* Newest first, then the greater id first (ORDER BY created_at DESC, id DESC). */
static int newest_first(const void *a, const void *b)
{
    const struct task_row *x = *(struct task_row *const *)a, *y = *(struct task_row *const *)b;
    int c = strcmp(y->created_at, x->created_at);

    return c ? c : strcmp(y->id, x->id);
}

/* The ids of 'rows' (n of them, at most 'max') as a one-column result. */
static PGresult *id_rows(struct task_row **rows, int n, int max)
{
    const char *ids[CF_TASKS];

    n = n < max ? n : max;
    for (int i = 0; i < n; i++)
        ids[i] = rows[i]->id;
    return fakepq_rows(1, n, ids);
}

/* tw_recent_ids: WHERE owner = $1 AND id::text LIKE $2 (a prefix and '%'), newest first,
 * LIMIT $3. */
static PGresult *serve_recent(void *arg, const char *stmt, int n, const char *const *p)
{
    struct contentfix *f = arg;
    struct task_row *rows[CF_TASKS];
    size_t plen = strlen(p[1]) - 1;
    int k = 0;

    (void)stmt;
    assert_int_equal(n, 3);
    assert_true(plen < strlen(p[1]) && p[1][plen] == '%');
    for (int i = 0; i < f->ntasks; i++)
        if (strcmp(f->task[i].owner, p[0]) == 0 && strncmp(f->task[i].id, p[1], plen) == 0)
            rows[k++] = &f->task[i];
    qsort(rows, (size_t)k, sizeof(rows[0]), newest_first);
    return id_rows(rows, k, atoi(p[2]));
}

/* tw_prefix_ids: WHERE owner = $1 AND id BETWEEN $2 AND $3, newest first, LIMIT $4 (the
 * table is far below the statement's 1000-row window). */
static PGresult *serve_prefix(void *arg, const char *stmt, int n, const char *const *p)
{
    struct contentfix *f = arg;
    struct task_row *rows[CF_TASKS];
    int k = 0;

    (void)stmt;
    assert_int_equal(n, 4);
    for (int i = 0; i < f->ntasks; i++)
        if (strcmp(f->task[i].owner, p[0]) == 0 && strcmp(f->task[i].id, p[1]) >= 0 &&
            strcmp(f->task[i].id, p[2]) <= 0)
            rows[k++] = &f->task[i];
    qsort(rows, (size_t)k, sizeof(rows[0]), newest_first);
    return id_rows(rows, k, atoi(p[3]));
}

/* Set up 'f': the registries as main.c builds them, and a store over fakepq serving the
 * table. */
void cf_start(struct contentfix *f, bool fixtures)
{
    memset(f, 0, sizeof(*f));
    resources_register(&f->reg, fixtures);
    assert_int_equal(taskapp_register(&f->reg, NULL), 0);
    prompts_register(&f->reg, fixtures);
    fakepq_reset();
    fakepq_serve(STORE_STMT_GET, serve_get, f);
    fakepq_serve(STORE_STMT_RECENT_IDS, serve_recent, f);
    fakepq_serve(STORE_STMT_PREFIX_IDS, serve_prefix, f);
    f->store = store_new_with_ops("dbname=none", "test_content", &fakepq_ops);
    assert_non_null(f->store);
}

/* Release everything first, then assert, so a failure cannot leak into the next test. */
void cf_stop(struct contentfix *f)
{
    int live, open, pending, unscripted;

    store_free(f->store);
    f->store = NULL;
    live = fakepq_live_results();
    open = fakepq_open_conns();
    pending = fakepq_pending();
    unscripted = fakepq_unscripted();
    for (int i = 0; i < f->ntasks; i++)
        task_row_fini(&f->task[i]);
    f->ntasks = 0;
    rpc_request_fini(&f->req);
    json_decref(f->reply);
    f->reply = NULL;
    fakepq_reset();
    assert_int_equal(live, 0);
    assert_int_equal(open, 0);
    assert_int_equal(pending, 0);
    assert_int_equal(unscripted, 0);
}

/* A task of 'owner' in 'status' (a completed one has a result, a failed one an error). */
struct task_row *cf_task(struct contentfix *f, const char *id, const char *owner,
                         enum task_status status, const char *created_at)
{
    struct task_row *t;

    assert_true(f->ntasks < CF_TASKS);
    t = &f->task[f->ntasks++];
    memset(t, 0, sizeof(*t));
    snprintf(t->id, sizeof(t->id), "%s", id);
    t->status = status;
    t->owner = xstrdup(owner);
    t->tool = xstrdup("t.report");
    t->args = xstrdup("{\"text\":\"q3\"}");
    t->client_caps = xstrdup("{}");
    if (status == TASK_COMPLETED)
        t->result = xstrdup("{\"content\":[{\"type\":\"text\",\"text\":\"done\"}],"
                            "\"isError\":false}");
    if (status == TASK_FAILED)
        t->error = xstrdup("{\"code\":-32603,\"message\":\"boom\"}");
    t->max_attempts = 3;
    snprintf(t->created_at, sizeof(t->created_at), "%s", created_at);
    snprintf(t->updated_at, sizeof(t->updated_at), "2026-11-22T01:00:00.000Z");
    t->ttl_ms = 3600000;
    t->poll_interval_ms = CF_POLL_MS;
    return t;
}

/* Run 'method' as mcp.c would after the envelope checks: parse, build the call, dispatch. */
json_t *cf_call(struct contentfix *f, const char *owner, const char *caps, const char *method,
                const char *params)
{
    char body[8192];
    int n = snprintf(body, sizeof(body),
                     "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"%s\",\"params\":%s}", method,
                     params ? params : "{}");
    json_t *p, *meta;

    assert_true(n > 0 && (size_t)n < sizeof(body));
    rpc_request_fini(&f->req);
    json_decref(f->reply);
    assert_int_equal(rpc_parse(body, (size_t)n, &f->req, NULL), 0);
    p = f->req.params;
    meta = json_pack("{s:s, s:o}", MCP_META_PROTOCOL_VERSION, MCP_PROTOCOL_VERSION,
                     MCP_META_CLIENT_CAPS, json_loads(caps, 0, NULL));
    assert_non_null(meta);
    json_object_set_new(p, "_meta", meta);
    f->req.meta = meta;
    f->req.client_caps = json_object_get(meta, MCP_META_CLIENT_CAPS);
    struct content_call cc = {&f->reg,   f->store, owner, state_key, sizeof(state_key), 600,
                              CF_LIST_TTL_MS};
    f->status = -1;
    f->reply = content_methods_handle(&cc, &f->req, &f->status);
    assert_non_null(f->reply);
    assert_int_equal(json_integer_value(json_object_get(f->reply, "id")), 7);
    return f->reply;
}

json_t *cf_result(struct contentfix *f)
{
    json_t *r = json_object_get(f->reply, "result");

    if (!r) {
        char *text = json_dumps(f->reply, JSON_COMPACT);
        fail_msg("expected a result, got %s (HTTP %d)", text, f->status);
    }
    assert_int_equal(f->status, 200);
    return r;
}

json_t *cf_error(struct contentfix *f, int status, int code)
{
    json_t *e = json_object_get(f->reply, "error");

    if (!e) {
        char *text = json_dumps(f->reply, JSON_COMPACT);
        fail_msg("expected error %d, got %s", code, text);
    }
    assert_int_equal(json_integer_value(json_object_get(e, "code")), code);
    assert_int_equal(f->status, status);
    assert_null(json_object_get(f->reply, "result"));
    return e;
}

const char *cf_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    if (!s)
        fail_msg("\"%s\" is not a string", key);
    return s;
}

void cf_assert_json(const json_t *o, const char *want)
{
    char *got = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_t *w = json_loads(want, JSON_DECODE_ANY, NULL);
    char *norm = w ? json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;

    assert_non_null(norm);
    if (!got || strcmp(got, norm) != 0)
        fail_msg("JSON differs:\n got  %s\n want %s", got ? got : "(null)", norm);
    free(got);
    free(norm);
    json_decref(w);
}

void cf_assert_result_type(const json_t *r, const char *type)
{
    json_t *info = json_object_get(json_object_get(r, "_meta"), MCP_META_SERVER_INFO);

    assert_string_equal(cf_str(r, "resultType"), type);
    assert_string_equal(cf_str(info, "name"), "taskwire");
    assert_string_equal(cf_str(info, "version"), TASKWIRE_VERSION);
}
