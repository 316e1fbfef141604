/*
 * test_taskapp.c - unit tests for frontend/taskapp.c: the CSP hashes filled
 * into a page, the pages refused, and the task view App as resources/list
 * and resources/read serve it (a self-contained document whose CSP allows
 * exactly its own script and style, a _meta.ui.csp naming no domain).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "taskapp.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "contentfix.h"
#include "mcpdefs.h"

#define HEAD                                                                                       \
    "<meta content=\"script-src 'sha256-{{script-sha256}}'; style-src "                            \
    "'sha256-{{style-sha256}}'\">"
#define X_HASH "D6IGS8VMvCoyaR/l0h9tERrBTATY01CoPS7l6xDv0kI=" /* SHA-256 of "x()" */
#define A_HASH "X1RutGBrXCt9KkSaXMK7tHftWiRscFHOhxsS8tv8hBk=" /* SHA-256 of "a{}" */

static int fx_setup(void **state)
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

/* ---- building a document ---- */

static void test_taskapp_build_fills_the_hashes_of_the_script_and_style(void **state)
{
    char out[512];
    struct err e = {0};
    const char *want = "<meta content=\"script-src 'sha256-" X_HASH "'; style-src 'sha256-" A_HASH
                       "'\"><style>a{}</style><script>x()</script>";
    long n = taskapp_build(HEAD "<style>a{}</style><script>x()</script>", out, sizeof(out), &e);

    assert_int_equal(n, (long)strlen(want));
    assert_string_equal(out, want);
}

static void test_taskapp_build_refuses_a_page_it_cannot_serve(void **state)
{
    const char *bad[] = {
        HEAD "<style>a{}</style>",                                                   /* no script */
        HEAD "<style>a{}</style><script>x()</script><script>y()</script>",           /* two */
        HEAD "<style>a{}</style><script>x()",                                        /* unclosed */
        "<meta content=\"{{style-sha256}}\"><style>a{}</style><script>x()</script>", /* a hole
                                                                                      missing */
        HEAD HEAD "<style>a{}</style><script>x()</script>",                          /* twice */
        "<meta content=\"{{style-sha256}}\"><style>a{}</style><script>'{{script-sha256}}'"
        "</script>", /* a hole inside the code it would hash */
    };
    char out[512];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err e = {0};
        if (taskapp_build(bad[i], out, sizeof(out), &e) != -CONTENT_EINTERNAL)
            fail_msg("page %zu was accepted", i);
        assert_true(e.msg[0] != '\0');
    }
    struct err e = {0};
    assert_int_equal(taskapp_build(HEAD "<style>a{}</style><script>x()</script>", out, 100, &e),
                     -CONTENT_EINTERNAL); /* does not fit */
}

/* ---- the App as served ---- */

/* The CSP hash source of the text between 'open' and 'close' in 'doc', as the browser
 * computes it (base64 of SHA-256), into 'out'. */
static void hash_of_element(const char *doc, const char *open, const char *close, char out[64])
{
    const char *a = strstr(doc, open);
    const char *b = a ? strstr(a, close) : NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    assert_non_null(b);
    a += strlen(open);
    assert_int_equal(EVP_Digest(a, (size_t)(b - a), md, &n, EVP_sha256(), NULL), 1);
    snprintf(out, 64, "'sha256-");
    EVP_EncodeBlock((unsigned char *)out + 8, md, (int)n);
    strcat(out, "'");
}

static void test_taskapp_is_a_self_contained_page_whose_csp_allows_only_its_code(void **state)
{
    struct contentfix *f = *state;
    json_t *c;
    const char *doc;
    char script[64], style[64];
    const char *outside[] = {"http:", "https:", "src=",   "href=",          "@import",   "url(",
                             "{{",    "\r",     "fetch(", "XMLHttpRequest", "WebSocket", "eval("};

    cf_call(f, CF_ALICE, CF_CAPS_NONE, "resources/read", "{\"uri\":\"" TW_TASK_APP_URI "\"}");
    c = json_array_get(json_object_get(cf_result(f), "contents"), 0);
    assert_string_equal(cf_str(c, "uri"), TW_TASK_APP_URI);
    assert_string_equal(cf_str(c, "mimeType"), MCP_UI_MIME_TYPE);
    cf_assert_json(json_object_get(c, "_meta"), TASKAPP_META);
    assert_string_equal(cf_str(cf_result(f), "cacheScope"), "public");
    doc = cf_str(c, "text");
    assert_int_equal(strncmp(doc, "<!DOCTYPE html>", 15), 0);
    for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++)
        if (strstr(doc, outside[i]))
            fail_msg("the page contains \"%s\"", outside[i]);
    /* Its policy: nothing by default, no connections, its own script and style by hash. */
    assert_non_null(strstr(doc, "http-equiv=\"Content-Security-Policy\""));
    assert_non_null(strstr(doc, "default-src 'none'"));
    assert_non_null(strstr(doc, "connect-src 'none'"));
    assert_null(strstr(doc, "unsafe-"));
    hash_of_element(doc, "<script>", "</script>", script);
    hash_of_element(doc, "<style>", "</style>", style);
    assert_non_null(strstr(doc, script));
    assert_non_null(strstr(doc, style));
    /* The App speaks to its host only, and calls only its own tools. */
    assert_non_null(strstr(doc, "ui/initialize"));
    assert_non_null(strstr(doc, "taskwire_task_status"));
    assert_non_null(strstr(doc, "taskwire_task_cancel"));
}

static void test_taskapp_is_listed_with_its_meta(void **state)
{
    struct contentfix *f = *state;
    json_t *entry;

    cf_call(f, CF_ALICE, CF_CAPS_NONE, "resources/list", NULL);
    entry = json_array_get(json_object_get(cf_result(f), "resources"), 0);
    assert_string_equal(cf_str(entry, "uri"), TW_TASK_APP_URI);
    assert_string_equal(cf_str(entry, "name"), "task-view");
    assert_string_equal(cf_str(entry, "mimeType"), MCP_UI_MIME_TYPE);
    cf_assert_json(json_object_get(entry, "_meta"), TASKAPP_META);
    assert_null(json_object_get(entry, "text")); /* the list never carries contents */
}

static void test_taskapp_registers_once_per_registry(void **state)
{
    struct content c;
    struct err e = {0};

    memset(&c, 0, sizeof(c));
    assert_int_equal(taskapp_register(&c, &e), 0);
    assert_int_equal(c.nresources, 1);
    assert_string_equal(c.resources[0]->uri, TW_TASK_APP_URI);
    c.nresources = CONTENT_MAX;
    assert_int_equal(taskapp_register(&c, &e), -CONTENT_EINTERNAL); /* full */
}

#define F(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_taskapp_build_fills_the_hashes_of_the_script_and_style),
        cmocka_unit_test(test_taskapp_build_refuses_a_page_it_cannot_serve),
        F(test_taskapp_is_a_self_contained_page_whose_csp_allows_only_its_code),
        F(test_taskapp_is_listed_with_its_meta),
        cmocka_unit_test(test_taskapp_registers_once_per_registry),
    };
    return cmocka_run_group_tests_name("taskapp", tests, NULL, NULL);
}
