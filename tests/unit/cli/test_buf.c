/*
 * test_buf.c - cli/buf.c: the growable byte buffer and its limit.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_buf_appends_and_stays_nul_terminated(void **state)
{
    struct buf b = {0};
    char big[1000];
    memset(big, 'x', sizeof(big));
    assert_int_equal(buf_append(&b, "ab", 2, 100), 0);
    assert_int_equal(buf_append(&b, "", 0, 100), 0);
    assert_int_equal(buf_append(&b, "c", 1, 100), 0);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "abc");
    assert_int_equal(buf_append(&b, big, sizeof(big), 2000), 0); /* grows past 256 */
    assert_int_equal(b.len, 1003);
    assert_int_equal(b.data[b.len], '\0');
    assert_true(b.cap > b.len);
    buf_fini(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    buf_fini(&b); /* twice is fine */
}

static void test_buf_refuses_to_pass_the_limit_and_keeps_what_it_had(void **state)
{
    struct buf b = {0};
    assert_int_equal(buf_append(&b, "12345", 5, 8), 0);
    assert_int_equal(buf_append(&b, "6789", 4, 8), -BUF_ETOOBIG);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "12345");
    assert_int_equal(buf_append(&b, "678", 3, 8), 0); /* exactly the limit */
    assert_string_equal(b.data, "12345678");
    assert_int_equal(buf_append(&b, "9", 1, 8), -BUF_ETOOBIG);
    assert_int_equal(buf_append(&b, "x", SIZE_MAX, SIZE_MAX - 1), -BUF_ETOOBIG);
    buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_appends_and_stays_nul_terminated),
        cmocka_unit_test(test_buf_refuses_to_pass_the_limit_and_keeps_what_it_had),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
