/*
 * test_utf8.c - the one UTF-8 decoder: strict validation, cuts that never
 * split a character, sanitising arbitrary bytes, counting characters.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

static size_t seq(const char *s)
{
    return utf8_seq_len((const unsigned char *)s, strlen(s));
}

static void test_utf8_accepts_each_length(void **state)
{
    assert_int_equal(seq("a"), 1);
    assert_int_equal(seq("\xc3\xa9"), 2);         /* é */
    assert_int_equal(seq("\xe2\x82\xac"), 3);     /* € */
    assert_int_equal(seq("\xf0\x9f\x98\x80"), 4); /* 😀 */
    assert_int_equal(seq("\xf4\x8f\xbf\xbf"), 4); /* U+10FFFF */
    assert_true(utf8_valid("caf\xc3\xa9 \xe2\x82\xac", 9));
    assert_true(utf8_valid("", 0));
}

static void test_utf8_rejects_overlong_surrogates_and_range(void **state)
{
    assert_int_equal(seq("\xc0\xaf"), 0); /* overlong '/' */
    assert_int_equal(seq("\xc1\xbf"), 0);
    assert_int_equal(seq("\xe0\x80\xaf"), 0);     /* overlong, 3 bytes */
    assert_int_equal(seq("\xf0\x80\x80\xaf"), 0); /* overlong, 4 bytes */
    assert_int_equal(seq("\xed\xa0\x80"), 0);     /* U+D800 */
    assert_int_equal(seq("\xed\xbf\xbf"), 0);     /* U+DFFF */
    assert_int_equal(seq("\xf4\x90\x80\x80"), 0); /* U+110000 */
    assert_int_equal(seq("\xf5\x80\x80\x80"), 0);
    assert_int_equal(seq("\x80"), 0); /* stray continuation */
    assert_int_equal(seq("\xff"), 0);
    assert_false(utf8_valid("ok\xc3", 3)); /* truncated at the end */
    assert_false(utf8_valid("\xe2\x82", 2));
}

static void test_utf8_never_reads_past_the_length(void **state)
{
    /* A lead byte whose continuation lies past 'n' is invalid, even if memory follows. */
    const unsigned char s[] = {0xe2, 0x82, 0xac};
    assert_int_equal(utf8_seq_len(s, 2), 0);
    assert_int_equal(utf8_seq_len(s, 3), 3);
}

static void test_utf8_cuts_never_split_a_character(void **state)
{
    const char *s = "ab\xe2\x82\xac"
                    "cd"; /* a b € c d: 7 bytes */
    assert_int_equal(utf8_prefix_len(s, 7, 10), 7);
    assert_int_equal(utf8_prefix_len(s, 7, 5), 5);
    assert_int_equal(utf8_prefix_len(s, 7, 4), 2); /* inside the euro sign */
    assert_int_equal(utf8_prefix_len(s, 7, 3), 2);
    assert_int_equal(utf8_prefix_len(s, 7, 2), 2);
    assert_int_equal(utf8_prefix_len(s, 7, 0), 0);

    char dst[5];
    assert_int_equal(utf8_copy(dst, sizeof(dst), s), 2);
    assert_string_equal(dst, "ab");
    assert_int_equal(utf8_copy(dst, sizeof(dst), "abc"), 3);
    assert_string_equal(dst, "abc");
    char one[1];
    assert_int_equal(utf8_copy(one, sizeof(one), "x"), 0);
    assert_string_equal(one, "");
}

static void test_utf8_sanitize_replaces_bad_bytes_and_nul(void **state)
{
    const char in[] = {'o', 'k', '\0', '\xff', '\xc3', '\xa9', '\xe2', '\x82'};
    char out[3 * sizeof(in) + 1];
    size_t n = utf8_sanitize(out, in, sizeof(in));
    assert_int_equal(n, strlen(out));
    assert_string_equal(out, "ok\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd");
    assert_true(utf8_valid(out, n));
    assert_int_equal(utf8_sanitize(out, "", 0), 0);
    assert_string_equal(out, "");
}

static void test_utf8_counts_characters_not_bytes(void **state)
{
    assert_int_equal(utf8_count("caf\xc3\xa9", 5), 4);
    assert_int_equal(utf8_count("\xf0\x9f\x98\x80\xe2\x82\xac", 7), 2);
    assert_int_equal(utf8_count("", 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_accepts_each_length),
        cmocka_unit_test(test_utf8_rejects_overlong_surrogates_and_range),
        cmocka_unit_test(test_utf8_never_reads_past_the_length),
        cmocka_unit_test(test_utf8_cuts_never_split_a_character),
        cmocka_unit_test(test_utf8_sanitize_replaces_bad_bytes_and_nul),
        cmocka_unit_test(test_utf8_counts_characters_not_bytes),
    };
    return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
