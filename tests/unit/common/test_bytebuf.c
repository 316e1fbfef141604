/*
 * test_bytebuf.c - the byte buffer: appends, draining in pieces, growth, the limit,
 * overflow, and the NUL kept after the bytes.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bytebuf.h"

static void test_bytebuf_reads_back_what_was_appended_in_pieces(void **state)
{
    (void)state;
    struct bytebuf b = {0};
    assert_int_equal(bytebuf_append(&b, "hello ", 6, BYTEBUF_NO_LIMIT), 0);
    assert_int_equal(bytebuf_append(&b, "world", 5, BYTEBUF_NO_LIMIT), 0);
    assert_int_equal(bytebuf_unread(&b), 11);
    char out[16] = "";
    assert_int_equal(bytebuf_read(&b, out, 4), 4);
    assert_memory_equal(out, "hell", 4);
    assert_int_equal(bytebuf_unread(&b), 7);
    assert_int_equal(bytebuf_append(&b, "!", 1, BYTEBUF_NO_LIMIT), 0);
    assert_int_equal(bytebuf_read(&b, out, sizeof(out)), 8);
    assert_memory_equal(out, "o world!", 8);
    assert_int_equal(bytebuf_unread(&b), 0);
    assert_int_equal(b.len, 0); /* drained: starts over, storage kept */
    assert_non_null(b.data);
    assert_int_equal(bytebuf_read(&b, out, sizeof(out)), 0);
    bytebuf_fini(&b);
    assert_null(b.data);
    assert_int_equal(b.cap, 0);
}

static void test_bytebuf_grows_past_its_first_allocation(void **state)
{
    (void)state;
    struct bytebuf b = {0};
    char chunk[1000];
    for (int i = 0; i < 10; i++) {
        memset(chunk, 'a' + i, sizeof(chunk));
        assert_int_equal(bytebuf_append(&b, chunk, sizeof(chunk), BYTEBUF_NO_LIMIT), 0);
    }
    assert_int_equal(bytebuf_unread(&b), 10000);
    assert_true(b.cap >= 10000);
    for (int i = 0; i < 10; i++)
        assert_int_equal(b.data[i * 1000 + 999], 'a' + i);
    bytebuf_fini(&b);
}

static void test_bytebuf_refuses_a_size_that_would_overflow(void **state)
{
    (void)state;
    struct bytebuf b = {0};
    assert_int_equal(bytebuf_append(&b, "abc", 3, BYTEBUF_NO_LIMIT), 0);
    char *data = b.data;
    assert_int_equal(bytebuf_append(&b, "x", SIZE_MAX - 1, BYTEBUF_NO_LIMIT), -BYTEBUF_ETOOBIG);
    assert_int_equal(bytebuf_append(&b, "x", SIZE_MAX / 2 + 1, BYTEBUF_NO_LIMIT), -BYTEBUF_ENOMEM);
    assert_ptr_equal(b.data, data); /* unchanged */
    assert_int_equal(bytebuf_unread(&b), 3);
    assert_int_equal(bytebuf_append(&b, NULL, 0, BYTEBUF_NO_LIMIT), 0);
    assert_int_equal(bytebuf_unread(&b), 3);
    bytebuf_fini(&b);
    bytebuf_fini(&b); /* twice is harmless */
}

static void test_bytebuf_appends_and_stays_nul_terminated(void **state)
{
    (void)state;
    struct bytebuf b = {0};
    char big[1000];
    memset(big, 'x', sizeof(big));
    assert_int_equal(bytebuf_append(&b, "ab", 2, 100), 0);
    assert_int_equal(bytebuf_append(&b, "", 0, 100), 0);
    assert_int_equal(bytebuf_append(&b, "c", 1, 100), 0);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "abc");
    assert_int_equal(bytebuf_append(&b, big, sizeof(big), 2000), 0); /* grows past 256 */
    assert_int_equal(b.len, 1003);
    assert_int_equal(b.data[b.len], '\0');
    assert_true(b.cap > b.len);
    char out[2000];
    assert_int_equal(bytebuf_read(&b, out, sizeof(out)), 1003);
    assert_string_equal(b.data, ""); /* drained: still a string */
    bytebuf_fini(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void test_bytebuf_refuses_to_pass_the_limit_and_keeps_what_it_had(void **state)
{
    (void)state;
    struct bytebuf b = {0};
    assert_int_equal(bytebuf_append(&b, "12345", 5, 8), 0);
    assert_int_equal(bytebuf_append(&b, "6789", 4, 8), -BYTEBUF_ETOOBIG);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "12345");
    assert_int_equal(bytebuf_append(&b, "678", 3, 8), 0); /* exactly the limit */
    assert_string_equal(b.data, "12345678");
    assert_int_equal(bytebuf_append(&b, "9", 1, 8), -BYTEBUF_ETOOBIG);
    assert_int_equal(bytebuf_append(&b, "x", SIZE_MAX, SIZE_MAX), -BYTEBUF_ETOOBIG);
    assert_string_equal(b.data, "12345678");
    bytebuf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytebuf_reads_back_what_was_appended_in_pieces),
        cmocka_unit_test(test_bytebuf_grows_past_its_first_allocation),
        cmocka_unit_test(test_bytebuf_refuses_a_size_that_would_overflow),
        cmocka_unit_test(test_bytebuf_appends_and_stays_nul_terminated),
        cmocka_unit_test(test_bytebuf_refuses_to_pass_the_limit_and_keeps_what_it_had),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
