/*
 * test_quota.c - unit tests for frontend/quota.c: the overrides file (what
 * it accepts, what it refuses and how it says so), how a principal's limits
 * resolve from the settings, its scopes and its own entry, and which rate
 * budget a method draws on.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "quota.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

/* The settings every test starts from. */
static const struct quota_set defaults = {
    .per_s = {20, 100, 50}, .burst = {40, 200, 100}, .max_sync = 16, .max_listen = 16,
    .max_live = 500};

/* The table of 'json' (NULL: none), which must parse. */
static struct quota *table(const char *json)
{
    struct err e = {0};
    struct quota *q = quota_new(&defaults, json, json ? strlen(json) : 0, &e);
    if (!q)
        fail_msg("quota_new: %s", e.msg);
    return q;
}

/* quota_new on 'json' must fail with -QUOTA_EINVALID and a message containing 'part'. */
static void refused(const char *json, const char *part)
{
    struct err e = {0};
    struct quota *q = quota_new(&defaults, json, strlen(json), &e);
    assert_null(q);
    assert_int_equal(e.code, -QUOTA_EINVALID);
    if (!strstr(e.msg, part))
        fail_msg("message \"%s\" does not contain \"%s\"", e.msg, part);
}

/* ---- parsing ---- */

static void test_no_file_gives_the_settings(void **state)
{
    (void)state;
    struct quota *q = table(NULL);
    struct quota_set s;
    quota_resolve(q, "alice", "taskwire:tools", &s);
    assert_memory_equal(&s, &defaults, sizeof(s));
    quota_free(q);
}

static void test_empty_object_and_empty_maps_are_fine(void **state)
{
    (void)state;
    quota_free(table("{}"));
    quota_free(table("{\"scopes\": {}, \"principals\": {}}"));
}

static void test_malformed_files_are_refused_with_a_reason(void **state)
{
    (void)state;
    refused("{", "not JSON");
    refused("[]", "want an object");
    refused("{\"users\": {}}", "unknown member \"users\"");
    refused("{\"scopes\": []}", "\"scopes\" must be an object");
    refused("{\"principals\": {\"alice\": 3}}", "principals \"alice\"");
    refused("{\"principals\": {\"\": {}}}", "want a name");
    refused("{\"principals\": {\"alice\": {\"rate-create\": 3}}}",
            "unknown limit \"rate-create\"");
    refused("{\"principals\": {\"alice\": {\"max-live-tasks\": -1}}}",
            "max-live-tasks must be an integer");
    refused("{\"principals\": {\"alice\": {\"max-live-tasks\": 1.5}}}",
            "max-live-tasks must be an integer");
    refused("{\"principals\": {\"alice\": {\"max-live-tasks\": \"9\"}}}",
            "max-live-tasks must be an integer");
    refused("{\"principals\": {\"a\": {}, \"a\": {}}}", "not JSON"); /* duplicate keys */
}

/* ---- resolution ---- */

static void test_principal_entry_overrides_only_what_it_names(void **state)
{
    (void)state;
    struct quota *q = table("{\"principals\": {\"alice\": {\"rate-create-per-s\": 1000, "
                            "\"max-live-tasks\": 0}}}");
    struct quota_set s;
    quota_resolve(q, "alice", NULL, &s);
    assert_int_equal(s.per_s[QUOTA_CREATE], 1000);
    assert_int_equal(s.max_live, 0); /* 0: no limit */
    assert_int_equal(s.burst[QUOTA_CREATE], 40);
    assert_int_equal(s.max_sync, 16);
    quota_resolve(q, "bob", NULL, &s); /* others keep the settings */
    assert_memory_equal(&s, &defaults, sizeof(s));
    quota_resolve(q, "alic", NULL, &s); /* exact names only */
    assert_int_equal(s.per_s[QUOTA_CREATE], 20);
    quota_free(q);
}

static void test_scopes_apply_and_the_most_generous_wins(void **state)
{
    (void)state;
    struct quota *q = table("{\"scopes\": {"
                            "\"bulk\": {\"rate-create-per-s\": 200, \"max-sync-calls\": 4},"
                            "\"more\": {\"rate-create-per-s\": 300, \"max-sync-calls\": 2},"
                            "\"free\": {\"max-live-tasks\": 0}}}");
    struct quota_set s;
    quota_resolve(q, "carol", "tools bulk", &s);
    assert_int_equal(s.per_s[QUOTA_CREATE], 200);
    assert_int_equal(s.max_sync, 4); /* a scope may also lower a limit */
    quota_resolve(q, "carol", "more  bulk", &s);
    assert_int_equal(s.per_s[QUOTA_CREATE], 300);
    assert_int_equal(s.max_sync, 4);
    quota_resolve(q, "carol", "bulk free", &s);
    assert_int_equal(s.max_live, 0);
    quota_resolve(q, "carol", "bul", &s); /* whole scope names only */
    assert_int_equal(s.per_s[QUOTA_CREATE], 20);
    quota_free(q);
}

static void test_principal_wins_over_its_scopes(void **state)
{
    (void)state;
    struct quota *q = table("{\"scopes\": {\"bulk\": {\"rate-read-per-s\": 500}},"
                            "\"principals\": {\"dave\": {\"rate-read-per-s\": 5}}}");
    struct quota_set s;
    quota_resolve(q, "dave", "bulk", &s);
    assert_int_equal(s.per_s[QUOTA_READ], 5);
    quota_free(q);
}

static void test_every_limit_name_is_known(void **state)
{
    (void)state;
    struct quota *q = table("{\"principals\": {\"e\": {"
                            "\"rate-create-per-s\": 1, \"rate-create-burst\": 2,"
                            "\"rate-read-per-s\": 3, \"rate-read-burst\": 4,"
                            "\"rate-other-per-s\": 5, \"rate-other-burst\": 6,"
                            "\"max-sync-calls\": 7, \"max-listen-streams\": 8,"
                            "\"max-live-tasks\": 9}}}");
    struct quota_set s;
    quota_resolve(q, "e", NULL, &s);
    const struct quota_set want = {.per_s = {1, 3, 5}, .burst = {2, 4, 6}, .max_sync = 7,
                                   .max_listen = 8, .max_live = 9};
    assert_memory_equal(&s, &want, sizeof(s));
    quota_free(q);
}

/* ---- budgets ---- */

static void test_budget_of_methods(void **state)
{
    (void)state;
    json_t *plain = json_object(), *retry = json_pack("{s:s}", "requestState", "x");
    assert_int_equal(quota_budget_of("tools/call", plain), QUOTA_CREATE);
    assert_int_equal(quota_budget_of("tools/call", retry), QUOTA_OTHER); /* an MRTR round */
    assert_int_equal(quota_budget_of("tasks/get", plain), QUOTA_READ);
    assert_int_equal(quota_budget_of("tasks/result", plain), QUOTA_READ);
    assert_int_equal(quota_budget_of("tasks/list", plain), QUOTA_READ);
    assert_int_equal(quota_budget_of("resources/read", plain), QUOTA_READ);
    assert_int_equal(quota_budget_of("subscriptions/listen", plain), QUOTA_READ);
    assert_int_equal(quota_budget_of("tasks/cancel", plain), QUOTA_OTHER);
    assert_int_equal(quota_budget_of("tools/list", plain), QUOTA_OTHER);
    assert_int_equal(quota_budget_of(NULL, NULL), QUOTA_OTHER);
    assert_string_equal(quota_budget_name(QUOTA_CREATE), "create");
    assert_string_equal(quota_budget_name(QUOTA_READ), "read");
    assert_string_equal(quota_budget_name(QUOTA_OTHER), "other");
    json_decref(plain);
    json_decref(retry);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_file_gives_the_settings),
        cmocka_unit_test(test_empty_object_and_empty_maps_are_fine),
        cmocka_unit_test(test_malformed_files_are_refused_with_a_reason),
        cmocka_unit_test(test_principal_entry_overrides_only_what_it_names),
        cmocka_unit_test(test_scopes_apply_and_the_most_generous_wins),
        cmocka_unit_test(test_principal_wins_over_its_scopes),
        cmocka_unit_test(test_every_limit_name_is_known),
        cmocka_unit_test(test_budget_of_methods),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
