/*
 * test_catalog.c - the tool catalog: every tool that may run as a task names
 * the task view App, tools that never do name nothing, a tool's own App is
 * kept, and tools the frontend answers itself are never tasks and are
 * listed like the others.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "catalog.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mcpdefs.h"

/* What catalog_add_frontend() is given; the catalog never looks inside. */
struct tool_frontend {
    int marker; /* unused */
};

static const struct tool_frontend served = {1};

#define SCHEMA "\"inputSchema\":{\"type\":\"object\"}"

static struct catalog *new_catalog(bool fixtures)
{
    struct err e = {0};
    struct catalog *c = catalog_new(fixtures, &e);

    if (!c)
        fail_msg("catalog_new: %s", e.msg);
    return c;
}

static void add(struct catalog *c, const char *json, enum tool_policy policy)
{
    struct err e = {0};

    if (catalog_add(c, json_loads(json, 0, NULL), policy, NULL, &e) < 0)
        fail_msg("catalog_add: %s", e.msg);
}

/* The _meta of tool 'name' (borrowed; NULL when it has none). */
static json_t *meta_of(const struct catalog *c, const char *name)
{
    const struct tool_desc *t = catalog_find(c, name);

    assert_non_null(t);
    return json_object_get(t->definition, "_meta");
}

/* _meta names the task view App, in the nested key and the deprecated flat one. */
static void assert_names_the_task_view(const json_t *meta)
{
    assert_non_null(meta);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(meta, "ui"), "resourceUri")),
        TW_TASK_APP_URI);
    assert_string_equal(json_string_value(json_object_get(meta, MCP_UI_META_RESOURCE_URI)),
                        TW_TASK_APP_URI);
    assert_int_equal(json_object_size(meta), 2);
}

static void test_catalog_task_tools_name_the_task_view_app(void **state)
{
    struct catalog *c = new_catalog(true);

    assert_names_the_task_view(meta_of(c, "sleep"));        /* required */
    assert_names_the_task_view(meta_of(c, "echo"));         /* optional */
    assert_names_the_task_view(meta_of(c, "slow_compute")); /* a fixture, optional */
    assert_null(meta_of(c, "greet"));                       /* never a task: no App */
    add(c, "{\"name\":\"t.new\"," SCHEMA "}", TOOL_TASK_REQUIRED);
    assert_names_the_task_view(meta_of(c, "t.new"));
    catalog_free(c);
}

static void test_catalog_keeps_an_app_and_other_meta_a_tool_brings(void **state)
{
    struct catalog *c = new_catalog(false);

    add(c, "{\"name\":\"t.own\"," SCHEMA ",\"_meta\":{\"ui\":{\"resourceUri\":\"ui://x/y\"}}}",
        TOOL_TASK_OPTIONAL);
    add(c, "{\"name\":\"t.other\"," SCHEMA ",\"_meta\":{\"x.y/z\":1}}", TOOL_TASK_OPTIONAL);
    assert_int_equal(json_object_size(meta_of(c, "t.own")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(meta_of(c, "t.own"), "ui"), "resourceUri")),
                        "ui://x/y");
    assert_int_equal(json_integer_value(json_object_get(meta_of(c, "t.other"), "x.y/z")), 1);
    assert_non_null(json_object_get(meta_of(c, "t.other"), "ui"));
    catalog_free(c);
}

static void test_catalog_frontend_tools_are_never_tasks_and_are_listed_in_order(void **state)
{
    struct catalog *c = new_catalog(false);
    struct err e = {0};
    json_t *list;

    assert_int_equal(catalog_add_frontend(
                         c, json_loads("{\"name\":\"a.first\"," SCHEMA "}", 0, NULL), &served, &e),
                     0);
    const struct tool_desc *t = catalog_find(c, "a.first");
    assert_non_null(t);
    assert_ptr_equal(t->frontend, &served);
    assert_int_equal(t->policy, TOOL_TASK_NEVER);
    assert_null(t->exec);
    assert_null(json_object_get(t->definition, "_meta")); /* not a task: no App of its own */
    assert_null(catalog_find(c, "sleep")->frontend);      /* workers run every other tool */
    list = catalog_list(c);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")),
                        "a.first");
    json_decref(list);
    /* A taken name is refused like any duplicate (the definition is released). */
    assert_int_equal(catalog_add_frontend(c, json_loads("{\"name\":\"sleep\"," SCHEMA "}", 0, NULL),
                                          &served, &e),
                     -CATALOG_EINVALID);
    assert_null(catalog_find(c, "sleep")->frontend);
    catalog_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalog_task_tools_name_the_task_view_app),
        cmocka_unit_test(test_catalog_keeps_an_app_and_other_meta_a_tool_brings),
        cmocka_unit_test(test_catalog_frontend_tools_are_never_tasks_and_are_listed_in_order),
    };
    return cmocka_run_group_tests_name("catalog", tests, NULL, NULL);
}
