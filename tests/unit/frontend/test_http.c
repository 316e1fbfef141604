/*
 * test_http.c - the HTTP layer's pure parts: Content-Length parsing and
 * start-up errors.
 *
 * A Content-Length that fails to parse takes the same path as one over the
 * limit (413 before the body is read), so every way to fail must be refused
 * here rather than read as a small number.  A header field holding NUL, CR
 * or LF is refused whole (400), never read up to its NUL, and "%00" in a URL
 * is never decoded into one.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http.h"
#include "httpcheck.h"

static void test_http_content_length_reads_plain_decimals(void **state)
{
    (void)state;
    int64_t len = -1;
    assert_int_equal(http_content_length("0", &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(http_content_length("1048576", &len), 0);
    assert_int_equal(len, 1048576);
    assert_int_equal(http_content_length("007", &len), 0);
    assert_int_equal(len, 7);
    assert_int_equal(http_content_length("9223372036854775807", &len), 0);
    assert_true(len == INT64_MAX);
}

static void test_http_content_length_refuses_overflow(void **state)
{
    (void)state;
    int64_t len = 42;
    assert_int_equal(http_content_length("9223372036854775808", &len), -HTTP_ELENGTH);
    assert_int_equal(http_content_length("99999999999999999999999999", &len), -HTTP_ELENGTH);
    assert_int_equal(len, 42); /* untouched on failure */
}

static void test_http_content_length_refuses_anything_but_digits(void **state)
{
    (void)state;
    const char *bad[] = {"", " 12", "12 ", "+12", "-1", "-0", "12abc", "0x10", "1e3",
                         "12,13", "١٢", "\t5", "5\n"};
    int64_t len = 42;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(http_content_length(bad[i], &len), -HTTP_ELENGTH);
    assert_int_equal(http_content_length(NULL, &len), -HTTP_ELENGTH);
    assert_int_equal(len, 42);
}

static void test_http_field_clean_refuses_nul_cr_lf_anywhere(void **state)
{
    (void)state;
    static const char token[] = "Bearer abc.def.ghi\0junk";
    assert_true(httpcheck_field_clean("Bearer abc.def.ghi", 18));
    assert_true(httpcheck_field_clean("", 0));
    assert_true(httpcheck_field_clean(NULL, 0));
    assert_true(httpcheck_field_clean("a\tb c", 5)); /* tab and space are field content */
    assert_false(httpcheck_field_clean(token, sizeof(token) - 1)); /* a C string would stop at 18 */
    assert_false(httpcheck_field_clean("\0", 1));
    assert_false(httpcheck_field_clean("tools/list\r", 11));
    assert_false(httpcheck_field_clean("a\nb", 3));
    assert_true(httpcheck_field_clean(token, 18)); /* only the bytes given count */
}

static void test_http_unescape_decodes_all_but_nul(void **state)
{
    (void)state;
    char a[] = "/mcp%2Fx%20y%41", b[] = "/mcp%00anything", c[] = "/bad%zz%4%", d[] = "%",
         e[] = "%2f%2F";
    assert_int_equal(httpcheck_unescape(a), 9);
    assert_string_equal(a, "/mcp/x yA");
    assert_int_equal(httpcheck_unescape(b), 15); /* kept: never routed as "/mcp" */
    assert_string_equal(b, "/mcp%00anything");
    assert_int_equal(httpcheck_unescape(c), 10);
    assert_string_equal(c, "/bad%zz%4%");
    assert_int_equal(httpcheck_unescape(d), 1);
    assert_string_equal(d, "%");
    assert_int_equal(httpcheck_unescape(e), 2);
    assert_string_equal(e, "//");
}

static void test_http_start_names_a_bad_address(void **state)
{
    (void)state;
    struct http_cfg cfg = {.listen = "not-an-address", .threads = 1,
                           .max_body_bytes = 1024, .max_connections = 4,
                           .pg_dsn = "", .redis_addr = ""};
    struct err e = {0};
    assert_null(http_start(&cfg, &e));
    assert_int_equal(e.code, -HTTP_EADDR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_content_length_reads_plain_decimals),
        cmocka_unit_test(test_http_content_length_refuses_overflow),
        cmocka_unit_test(test_http_content_length_refuses_anything_but_digits),
        cmocka_unit_test(test_http_field_clean_refuses_nul_cr_lf_anywhere),
        cmocka_unit_test(test_http_unescape_decodes_all_but_nul),
        cmocka_unit_test(test_http_start_names_a_bad_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
