/*
 * test_b64.c - strict base64: one accepted encoding per byte string.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "b64.h"

static long dec(const char *in, bool url, unsigned char *out)
{
    return b64_decode(in, strlen(in), url, out, 64);
}

static void test_b64_standard_needs_padding(void **state)
{
    unsigned char out[64];
    assert_int_equal(dec("SGVsbG8=", false, out), 5);
    assert_memory_equal(out, "Hello", 5);
    assert_int_equal(dec("SGVsbG8", false, out), -B64_EINVALID);     /* padding missing */
    assert_int_equal(dec("SGVs!!!bG8=", false, out), -B64_EINVALID); /* bad characters */
    assert_int_equal(dec("SGVsbG9=", false, out), -B64_EINVALID);    /* stray trailing bits */
    /* The URL alphabet in the standard form. */
    assert_int_equal(dec("SGVsbG8-", false, out), -B64_EINVALID);
    assert_int_equal(dec("", false, out), 0);
}

static void test_b64_url_has_no_padding(void **state)
{
    unsigned char out[64];
    assert_int_equal(dec("SGVsbG8", true, out), 5);
    assert_int_equal(dec("SGVsbG8=", true, out), -B64_EINVALID);
    assert_int_equal(dec("SGVsb", true, out), -B64_EINVALID); /* 4k+1 characters */
    assert_int_equal(dec("_-8", true, out), 2);
    assert_true(b64url_char('_'));
    assert_false(b64url_char('+'));
    assert_false(b64url_char('='));
}

static void test_b64_round_trip_and_capacity(void **state)
{
    unsigned char in[64] = {0}, out[64];
    char text[B64_ENCODED_MAX(64)];
    for (size_t n = 0; n <= sizeof(in); n++) {
        for (size_t i = 0; i < n; i++)
            in[i] = (unsigned char)(i * 37 + n);
        size_t len = b64url_encode(in, n, text);
        assert_int_equal(strlen(text), len);
        assert_int_equal(b64_decode(text, len, true, out, sizeof(out)), (long)n);
        assert_memory_equal(in, out, n);
        if (n > 0) /* one byte too little room is refused, not overrun */
            assert_int_equal(b64_decode(text, len, true, out, n - 1), -B64_EINVALID);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_standard_needs_padding),
        cmocka_unit_test(test_b64_url_has_no_padding),
        cmocka_unit_test(test_b64_round_trip_and_capacity),
    };
    return cmocka_run_group_tests_name("b64", tests, NULL, NULL);
}
