/*
 * test_ui.c - the pure parts of cli/ui.c: progress extraction, bar rendering,
 * content descriptions.  Nothing is written to a terminal.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "ui.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "mcpdefs.h"

/* ---- progress ---- */

static void test_progress_from_meta(void **state)
{
    json_t *task = json_pack("{s:s, s:s, s:{s:{s:i, s:i}}}", "status", "working", "statusMessage",
                             "step 1/9", "_meta", TW_META_PROGRESS, "progress", 3, "total", 8);
    double p = -1, t = -1;
    assert_true(ui_progress_extract(task, &p, &t));
    assert_true(p == 3 && t == 8);
    json_decref(task);
}

static void test_progress_from_status_message(void **state)
{
    json_t *task =
        json_pack("{s:s, s:s}", "status", "working", "statusMessage", "resizing: step 3/8 (42 MB)");
    double p = -1, t = -1;
    assert_true(ui_progress_extract(task, &p, &t));
    assert_true(p == 3 && t == 8);
    json_decref(task);
    assert_true(ui_progress_from_text("12/40 files, 1/2 done", &p, &t));
    assert_true(p == 12 && t == 40);
    assert_false(ui_progress_from_text("and/or 3/ /4", &p, &t));
    assert_false(ui_progress_from_text(NULL, &p, &t));
    task = json_pack("{s:s}", "status", "working");
    assert_false(ui_progress_extract(task, &p, &t));
    json_decref(task);
}

/* ---- bar ---- */

static void test_bar_at_0_50_100_percent(void **state)
{
    char buf[200];
    size_t n = ui_bar_render(buf, sizeof(buf), 0, 8, "step 0/8", 0.0);
    assert_string_equal(buf, "[------------------------------]   0%  step 0/8  (0.0s)");
    assert_int_equal(n, strlen(buf));
    ui_bar_render(buf, sizeof(buf), 4, 8, "step 4/8", 3.14);
    assert_string_equal(buf, "[###############---------------]  50%  step 4/8  (3.1s)");
    ui_bar_render(buf, sizeof(buf), 8, 8, NULL, 10);
    assert_string_equal(buf, "[##############################] 100%  (10.0s)");
    /* beyond the total is clamped */
    ui_bar_render(buf, sizeof(buf), 9, 8, "", 1);
    assert_string_equal(buf, "[##############################] 100%  (1.0s)");
}

static void test_bar_with_total_zero_is_indeterminate(void **state)
{
    char buf[200];
    ui_bar_render(buf, sizeof(buf), 5, 0, "warming up", 2);
    assert_string_equal(buf, "[------------------------------]   ?%  warming up  (2.0s)");
}

static void test_bar_strips_control_characters_and_truncates(void **state)
{
    char buf[200];
    char small[16];
    ui_bar_render(buf, sizeof(buf), 1, 2, "evil\033[2Jtext\n", 0);
    assert_null(strchr(buf, '\033'));
    assert_null(strchr(buf, '\n'));
    size_t n = ui_bar_render(small, sizeof(small), 1, 2, "x", 0);
    assert_int_equal(n, sizeof(small) - 1);
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

/* ---- content ---- */

static void test_content_descriptions(void **state)
{
    char buf[200];
    json_t *img =
        json_pack("{s:s, s:s, s:s}", "type", "image", "mimeType", "image/png", "data", "aGVsbG8=");
    ui_content_describe(img, buf, sizeof(buf));
    assert_string_equal(buf, "[image image/png, 8 bytes base64]");
    json_decref(img);
    json_t *link = json_pack("{s:s, s:s}", "type", "resource_link", "uri", "file:///a.txt");
    ui_content_describe(link, buf, sizeof(buf));
    assert_string_equal(buf, "[resource_link file:///a.txt]");
    json_decref(link);
    json_t *res = json_pack("{s:s, s:{s:s, s:s, s:s}}", "type", "resource", "resource", "uri",
                            "mem://x", "mimeType", "text/plain", "text", "abc");
    ui_content_describe(res, buf, sizeof(buf));
    assert_string_equal(buf, "[resource mem://x text/plain, 3 chars text]");
    json_decref(res);
    json_t *odd = json_pack("{s:s}", "type", "hologram");
    ui_content_describe(odd, buf, sizeof(buf));
    assert_string_equal(buf, "[hologram]");
    json_decref(odd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_progress_from_meta),
        cmocka_unit_test(test_progress_from_status_message),
        cmocka_unit_test(test_bar_at_0_50_100_percent),
        cmocka_unit_test(test_bar_with_total_zero_is_indeterminate),
        cmocka_unit_test(test_bar_strips_control_characters_and_truncates),
        cmocka_unit_test(test_content_descriptions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
