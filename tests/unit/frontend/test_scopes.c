/*
 * test_scopes.c - the scope model (frontend/scopes.c): what each method
 * needs, the per-tool scopes, the operator scope, and a legacy client's
 * response (no method), which once crashed the frontend.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "scopes.h"

/* A principal holding the space-separated 'scopes'. */
static struct auth_principal holding(const char *scopes)
{
    struct auth_principal p;
    memset(&p, 0, sizeof(p));
    snprintf(p.subject, sizeof(p.subject), "alice");
    snprintf(p.scopes, sizeof(p.scopes), "%s", scopes);
    return p;
}

/* Decide 'method' with the JSON 'params' (may be NULL) for 'p' against catalog 'c'. */
static struct scope_decision decide(const struct catalog *c, const char *method,
                                    const char *params, const struct auth_principal *p)
{
    struct scope_decision d;
    json_t *j = params ? json_loads(params, 0, NULL) : NULL;
    scopes_decide(c, method, j, p, &d);
    json_decref(j);
    return d;
}

static void test_scopes_per_method(void **state)
{
    (void)state;
    struct auth_principal tools = holding("mcp:tools");
    struct auth_principal tasks = holding("mcp:tasks");
    struct scope_decision d = decide(NULL, "tools/list", "{}", &tools);
    assert_true(d.allowed);
    assert_string_equal(d.needed, "mcp:tools");
    d = decide(NULL, "tools/list", "{}", &tasks);
    assert_false(d.allowed);
    d = decide(NULL, "tasks/list", "{}", &tools);
    assert_false(d.allowed);
    assert_string_equal(d.needed, "mcp:tasks");
    d = decide(NULL, "tasks/get", "{\"taskId\":\"x\"}", &tasks);
    assert_true(d.allowed);
    d = decide(NULL, "ping", NULL, &tasks);
    assert_true(d.allowed);
    assert_string_equal(d.needed, "");
    d = decide(NULL, "subscriptions/listen", "{\"notifications\":{\"taskIds\":[\"x\"]}}", &tools);
    assert_false(d.allowed);
    assert_string_equal(d.needed, "mcp:tools mcp:tasks");
}

/* A legacy client's JSON-RPC response has no method and no params: it is part of a tool
 * call (mcp:tools), and deciding it must not touch the missing method. */
static void test_scopes_legacy_response(void **state)
{
    (void)state;
    struct auth_principal tools = holding("mcp:tools");
    struct auth_principal none = holding("");
    struct scope_decision d = decide(NULL, NULL, NULL, &tools);
    assert_true(d.allowed);
    assert_string_equal(d.needed, "mcp:tools");
    d = decide(NULL, NULL, NULL, &none);
    assert_false(d.allowed);
}

static void test_scopes_operator(void **state)
{
    (void)state;
    struct auth_principal op = holding("mcp:operator");
    struct auth_principal alice = holding("mcp:tools mcp:tasks");
    assert_true(decide(NULL, "tasks/get", "{}", &op).allowed);
    assert_true(decide(NULL, "tasks/cancel", "{}", &op).allowed);
    assert_false(decide(NULL, "tasks/list", "{}", &op).allowed);
    assert_false(decide(NULL, "tasks/update", "{}", &op).allowed);
    assert_null(scopes_task_owner(&op, "alice"));
    assert_string_equal(scopes_task_owner(&alice, "alice"), "alice");
    assert_string_equal(scopes_task_owner(NULL, "alice"), "alice");
}

static void test_scopes_tool_scopes(void **state)
{
    (void)state;
    struct err e = {0};
    struct catalog *c = catalog_new(false, &e);
    assert_non_null(c);
    assert_int_equal(catalog_set_scopes(c, "sleep", "tools:sleep", &e), 0);
    struct auth_principal plain = holding("mcp:tools");
    struct auth_principal sleeper = holding("mcp:tools tools:sleep");
    struct scope_decision d = decide(c, "tools/call", "{\"name\":\"sleep\"}", &plain);
    assert_false(d.allowed);
    assert_string_equal(d.needed, "mcp:tools tools:sleep");
    assert_true(decide(c, "tools/call", "{\"name\":\"sleep\"}", &sleeper).allowed);
    assert_true(decide(c, "tools/call", "{\"name\":\"no-such-tool\"}", &plain).allowed);
    assert_false(scopes_tool_allowed(&plain, catalog_find(c, "sleep")));
    assert_true(scopes_tool_allowed(&sleeper, catalog_find(c, "sleep")));
    assert_true(scopes_tool_allowed(NULL, catalog_find(c, "sleep"))); /* auth off */
    catalog_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scopes_per_method),
        cmocka_unit_test(test_scopes_legacy_response),
        cmocka_unit_test(test_scopes_operator),
        cmocka_unit_test(test_scopes_tool_scopes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
