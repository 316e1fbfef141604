/*
 * test_resources.c - unit tests for frontend/resources.c (and the fixture
 * resources of content_fixtures.c): lists, fixed reads, template reads, and
 * the caller's tasks as resources, readable by their owner only.
 *
 * The store runs over fakepq (contentfix.c) with a small task table whose
 * serve functions honour the owner condition as the SQL does.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "resources.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "contentfix.h"
#include "fakepq.h"
#include "log.h"
#include "mcpdefs.h"

#define TASK_URI "taskwire://tasks/" CF_TASK
#define PNG_1X1                                                                                    \
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJg" \
    "gg=="

static int with_fixtures(void **state)
{
    struct contentfix *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    cf_start(f, true);
    *state = f;
    return 0;
}

static int without_fixtures(void **state)
{
    struct contentfix *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    cf_start(f, false);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct contentfix *f = *state;

    cf_stop(f);
    free(f);
    return 0;
}

/* Assert the public caching hints of a list or a fixed resource. */
static void assert_public(const json_t *r)
{
    assert_int_equal(json_integer_value(json_object_get(r, "ttlMs")), CF_LIST_TTL_MS);
    assert_string_equal(cf_str(r, "cacheScope"), "public");
}

/* The one contents item of the last resources/read result. */
static json_t *only_contents(struct contentfix *f)
{
    json_t *c = json_object_get(cf_result(f), "contents");

    assert_int_equal(json_array_size(c), 1);
    return json_array_get(c, 0);
}

/* ---- lists ---- */

static void test_resources_list_has_only_the_task_view_without_fixtures_never_tasks(void **state)
{
    struct contentfix *f = *state;
    json_t *r, *list;

    cf_task(f, CF_TASK, CF_ALICE, TASK_COMPLETED, "2026-11-22T00:47:48.123Z");
    cf_call(f, CF_ALICE, CF_CAPS_NONE, "resources/list", NULL);
    r = cf_result(f);
    cf_assert_result_type(r, "complete");
    assert_public(r);
    list = json_object_get(r, "resources");
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(cf_str(json_array_get(list, 0), "uri"), TW_TASK_APP_URI);
    assert_int_equal(fakepq_connects(), 0); /* no database involved */
}

static void test_resources_list_has_the_fixtures_in_order_without_null_fields(void **state)
{
    struct contentfix *f = *state;
    json_t *r;

    cf_call(f, CF_ALICE, CF_CAPS_NONE, "resources/list", NULL);
    r = cf_result(f);
    assert_public(r);
    /* The fixtures, then the task view App (registered after them; test_taskapp.c). */
    r = json_object_get(r, "resources");
    assert_int_equal(json_array_size(r), 4);
    assert_string_equal(cf_str(json_array_get(r, 3), "uri"), TW_TASK_APP_URI);
    json_array_remove(r, 3);
    cf_assert_json(r,
                   "[{\"uri\":\"test://static-text\",\"name\":\"static-text\","
                   "\"title\":\"Static Text Resource\","
                   "\"description\":\"A static text resource for testing\","
                   "\"mimeType\":\"text/plain\"},"
                   "{\"uri\":\"test://static-binary\",\"name\":\"static-binary\","
                   "\"description\":\"A static binary resource (image) for testing\","
                   "\"mimeType\":\"image/png\"},"
                   "{\"uri\":\"test://watched-resource\",\"name\":\"watched-resource\","
                   "\"description\":\"A resource to subscribe to (its content does not change)\","
                   "\"mimeType\":\"text/plain\"}]");
}

static void test_resources_templates_list_has_the_task_template_first(void **state)
{
    struct contentfix *f = *state;
    json_t *r, *list;

    cf_call(f, CF_ALICE, CF_CAPS_NONE, "resources/templates/list", NULL);
    r = cf_result(f);
    cf_assert_result_type(r, "complete");
    assert_public(r);
    list = json_object_get(r, "resourceTemplates");
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(cf_str(json_array_get(list, 0), "uriTemplate"),
                        "taskwire://tasks/{taskId}");
    assert_string_equal(cf_str(json_array_get(list, 0), "name"), "task");
    assert_string_equal(cf_str(json_array_get(list, 0), "mimeType"), "application/json");
    cf_str(json_array_get(list, 0), "description");
    cf_assert_json(json_array_get(list, 1),
                   "{\"uriTemplate\":\"test://template/{id}/data\",\"name\":\"template\","
                   "\"title\":\"Resource Template\","
                   "\"description\":\"A resource template with parameter substitution\","
                   "\"mimeType\":\"application/json\"}");
}

static void test_resources_templates_list_without_fixtures_has_only_tasks(void **state)
{
    struct contentfix *f = *state;
    json_t *list;

    cf_call(f, CF_ALICE, CF_CAPS_NONE, "resources/templates/list", NULL);
    list = json_object_get(cf_result(f), "resourceTemplates");
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(cf_str(json_array_get(list, 0), "uriTemplate"),
                        "taskwire://tasks/{taskId}");
}

/* ---- fixed and fixture reads ---- */

static void test_resources_read_fixed_text_and_blob(void **state)
{
    struct contentfix *f = *state;

    cf_call(f, CF_ALICE, CF_CAPS_NONE, "resources/read", "{\"uri\":\"test://static-text\"}");
    cf_assert_json(only_contents(f), "{\"uri\":\"test://static-text\",\"mimeType\":\"text/plain\","
                                     "\"text\":\"This is the content of the static text "
                                     "resource.\"}");
    cf_assert_result_type(cf_result(f), "complete");
    assert_public(cf_result(f));
    cf_call(f, CF_ALICE, CF_CAPS_NONE, "resources/read", "{\"uri\":\"test://static-binary\"}");
    cf_assert_json(only_contents(f), "{\"uri\":\"test://static-binary\",\"mimeType\":\"image/png\","
                                     "\"blob\":\"" PNG_1X1 "\"}");
    assert_int_equal(fakepq_connects(), 0);
}

static void test_resources_read_fixture_template_names_the_id(void **state)
{
    struct contentfix *f = *state;

    cf_call(f, CF_ALICE, CF_CAPS_NONE, "resources/read", "{\"uri\":\"test://template/123/data\"}");
    cf_assert_json(only_contents(f),
                   "{\"uri\":\"test://template/123/data\",\"mimeType\":\"application/json\","
                   "\"text\":\"{\\\"id\\\":\\\"123\\\",\\\"templateTest\\\":true,"
                   "\\\"data\\\":\\\"Data for ID: 123\\\"}\"}");
    assert_public(cf_result(f));
}

/* ---- the caller's tasks ---- */

/* The task document of the last read (new reference). */
static json_t *task_doc(struct contentfix *f)
{
    json_t *c = only_contents(f);
    json_t *doc = json_loads(cf_str(c, "text"), 0, NULL);

    assert_string_equal(cf_str(c, "uri"), TASK_URI);
    assert_string_equal(cf_str(c, "mimeType"), "application/json");
    assert_non_null(doc);
    return doc;
}

static void test_resources_read_task_is_the_callers_task_private_and_short_lived(void **state)
{
    struct contentfix *f = *state;
    json_t *r, *doc;

    cf_task(f, CF_TASK, CF_ALICE, TASK_COMPLETED, "2026-11-22T00:47:48.123Z");
    cf_call(f, CF_ALICE, CF_CAPS_NONE, "resources/read", "{\"uri\":\"" TASK_URI "\"}");
    r = cf_result(f);
    cf_assert_result_type(r, "complete");
    assert_int_equal(json_integer_value(json_object_get(r, "ttlMs")), CF_POLL_MS);
    assert_string_equal(cf_str(r, "cacheScope"), "private");
    doc = task_doc(f);
    cf_assert_json(doc, "{\"taskId\":\"" CF_TASK "\",\"tool\":\"t.report\","
                        "\"status\":\"completed\",\"result\":{\"content\":[{\"type\":\"text\","
                        "\"text\":\"done\"}],\"isError\":false},"
                        "\"createdAt\":\"2026-11-22T00:47:48.123Z\","
                        "\"lastUpdatedAt\":\"2026-11-22T01:00:00.000Z\"}");
    json_decref(doc);
    assert_int_equal(fakepq_execs(STORE_STMT_GET), 1);
    assert_string_equal(fakepq_param(STORE_STMT_GET, 0), CF_TASK);
    assert_string_equal(fakepq_param(STORE_STMT_GET, 1), CF_ALICE); /* owner-filtered */
}

static void test_resources_read_task_shows_progress_message_and_error(void **state)
{
    struct contentfix *f = *state;
    struct task_row *t = cf_task(f, CF_TASK, CF_ALICE, TASK_RUNNING, "2026-11-22T00:47:48.123Z");
    json_t *doc;

    t->has_progress = true;
    t->progress = 2;
    t->progress_total = 8;
    t->status_message = strdup("page 2 of 8");
    cf_call(f, CF_ALICE, CF_CAPS_NONE, "resources/read", "{\"uri\":\"" TASK_URI "\"}");
    doc = task_doc(f);
    assert_string_equal(cf_str(doc, "status"), "working");
    assert_string_equal(cf_str(doc, "statusMessage"), "page 2 of 8");
    cf_assert_json(json_object_get(doc, "progress"), "{\"progress\":2.0,\"total\":8.0}");
    assert_null(json_object_get(doc, "result"));
    json_decref(doc);

    t->status = TASK_FAILED;
    t->error = strdup("{\"code\":-32603,\"message\":\"boom\"}");
    cf_call(f, CF_ALICE, CF_CAPS_NONE, "resources/read", "{\"uri\":\"" TASK_URI "\"}");
    doc = task_doc(f);
    assert_string_equal(cf_str(doc, "status"), "failed");
    cf_assert_json(json_object_get(doc, "error"), "{\"code\":-32603,\"message\":\"boom\"}");
    json_decref(doc);
}

/* Assert that the last reply is -32602 "Resource not found" in HTTP 200 with data.uri =
 * 'uri'; returns the error without data.uri as compact text (caller frees), so answers
 * for different URIs can be compared. */
static char *not_found(struct contentfix *f, const char *uri)
{
    json_t *e = json_deep_copy(cf_error(f, 200, MCP_EPARAMS));
    char *text;

    assert_string_equal(cf_str(e, "message"), "Resource not found");
    assert_string_equal(cf_str(json_object_get(e, "data"), "uri"), uri);
    json_object_del(json_object_get(e, "data"), "uri");
    text = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(e);
    return text;
}

static void test_resources_read_foreign_unknown_and_malformed_tasks_read_alike(void **state)
{
    static const char *const uris[] = {
        "taskwire://tasks/" CF_OTHER,             /* mallory's */
        "taskwire://tasks/" CF_UNKNOWN,           /* nobody's */
        "taskwire://tasks/not-a-task",            /* malformed */
        "taskwire://tasks/0B0C1D2E-3F40-4A5B-8C6D-7E8F90A1B2C3", /* not canonical */
        "test://nonexistent-resource-for-conformance-testing",
        "taskwire://tasks/",
    };
    struct contentfix *f = *state;
    char *first = NULL;

    cf_task(f, CF_TASK, CF_ALICE, TASK_COMPLETED, "2026-11-22T00:47:48.123Z");
    cf_task(f, CF_OTHER, CF_MALLORY, TASK_COMPLETED, "2026-11-22T00:47:48.123Z");
    for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
        char params[256], *got;

        snprintf(params, sizeof(params), "{\"uri\":\"%s\"}", uris[i]);
        cf_call(f, CF_ALICE, CF_CAPS_NONE, "resources/read", params);
        assert_null(json_object_get(f->reply, "result")); /* never empty contents */
        got = not_found(f, uris[i]);
        if (!first)
            first = got;
        else {
            assert_string_equal(got, first);
            free(got);
        }
    }
    free(first);
    /* Only the two well-formed ids reached the store, both as alice's. */
    assert_int_equal(fakepq_execs(STORE_STMT_GET), 2);
    assert_string_equal(fakepq_param(STORE_STMT_GET, 1), CF_ALICE);
    /* And mallory reads her own task but not alice's. */
    cf_call(f, CF_MALLORY, CF_CAPS_NONE, "resources/read",
            "{\"uri\":\"taskwire://tasks/" CF_OTHER "\"}");
    cf_result(f);
    cf_call(f, CF_MALLORY, CF_CAPS_NONE, "resources/read", "{\"uri\":\"" TASK_URI "\"}");
    free(not_found(f, TASK_URI));
}

static void test_resources_read_needs_a_string_uri(void **state)
{
    struct contentfix *f = *state;
    json_t *e;

    cf_call(f, CF_ALICE, CF_CAPS_NONE, "resources/read", "{\"uri\":5}");
    e = cf_error(f, 200, MCP_EPARAMS);
    assert_string_equal(cf_str(e, "message"), "Invalid params: \"uri\" must be a string");
    assert_null(json_object_get(e, "data"));
    cf_call(f, CF_ALICE, CF_CAPS_NONE, "resources/read", NULL);
    cf_error(f, 200, MCP_EPARAMS);
}

static void test_resources_read_task_while_the_store_is_down_is_503(void **state)
{
    struct contentfix *f = *state;

    fakepq_fail_connects(1);
    cf_call(f, CF_ALICE, CF_CAPS_NONE, "resources/read", "{\"uri\":\"" TASK_URI "\"}");
    assert_string_equal(cf_str(cf_error(f, 503, MCP_EINTERNAL), "message"),
                        "Task store unavailable; retry shortly");
    fakepq_reply_error(STORE_STMT_GET, "XX000", "ERROR:  something broke");
    cf_call(f, CF_ALICE, CF_CAPS_NONE, "resources/read", "{\"uri\":\"" TASK_URI "\"}");
    assert_string_equal(cf_str(cf_error(f, 500, MCP_EINTERNAL), "message"), "Internal error");
}

static void test_resources_read_uri_embeds_for_other_modules(void **state)
{
    struct contentfix *f = *state;
    struct content_call cc = {&f->reg, f->store, CF_ALICE, NULL, 0, 0, CF_LIST_TTL_MS};
    struct content_read rd;
    struct err e = {0};

    cf_task(f, CF_TASK, CF_ALICE, TASK_QUEUED, "2026-11-22T00:47:48.123Z");
    assert_int_equal(resources_read_uri(&cc, TASK_URI, &rd, &e), 0);
    assert_int_equal(json_array_size(rd.contents), 1);
    assert_string_equal(rd.scope, "private");
    json_decref(rd.contents);
    cc.owner = CF_MALLORY;
    assert_int_equal(resources_read_uri(&cc, TASK_URI, &rd, &e), -CONTENT_ENOTFOUND);
    assert_null(rd.contents);
}

#define F(name) cmocka_unit_test_setup_teardown(name, with_fixtures, fx_teardown)
#define N(name) cmocka_unit_test_setup_teardown(name, without_fixtures, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        N(test_resources_list_has_only_the_task_view_without_fixtures_never_tasks),
        F(test_resources_list_has_the_fixtures_in_order_without_null_fields),
        F(test_resources_templates_list_has_the_task_template_first),
        N(test_resources_templates_list_without_fixtures_has_only_tasks),
        F(test_resources_read_fixed_text_and_blob),
        F(test_resources_read_fixture_template_names_the_id),
        N(test_resources_read_task_is_the_callers_task_private_and_short_lived),
        N(test_resources_read_task_shows_progress_message_and_error),
        F(test_resources_read_foreign_unknown_and_malformed_tasks_read_alike),
        N(test_resources_read_needs_a_string_uri),
        N(test_resources_read_task_while_the_store_is_down_is_503),
        N(test_resources_read_uri_embeds_for_other_modules),
    };
    log_init("test_resources", LOGL_ERROR, true);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
