/*
 * test_taskid.c - unit tests for common/taskid.c (UUIDv4 task ids).
 *
 * Checks the RFC 9562 bit layout, that 122 bits are random, the canonical
 * text form, uniqueness, and what taskid_valid() refuses.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "taskid.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MANY_IDS 10000

/* The value of one lowercase hex digit. */
static unsigned hexval(char c)
{
    return (c >= 'a') ? (unsigned)(c - 'a' + 10) : (unsigned)(c - '0');
}

static void test_taskid_has_canonical_lowercase_form(void **state)
{
    char id[TASKID_LEN + 1];

    assert_int_equal(taskid_new(id), 0);
    assert_int_equal(strlen(id), 36);
    for (size_t i = 0; i < TASKID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(id[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", id[i]));
    }
    assert_true(taskid_valid(id));
}

static void test_taskid_sets_version_4(void **state)
{
    char id[TASKID_LEN + 1];

    for (int i = 0; i < 1000; i++) {
        assert_int_equal(taskid_new(id), 0);
        assert_int_equal(id[14], '4'); /* high nibble of byte 6 */
    }
}

static void test_taskid_sets_variant_10(void **state)
{
    char id[TASKID_LEN + 1];

    for (int i = 0; i < 1000; i++) {
        assert_int_equal(taskid_new(id), 0);
        assert_int_equal(hexval(id[19]) >> 2, 2); /* top two bits of byte 8 are 0b10 */
    }
}

/* Every one of the 122 random bits takes both values over a few thousand ids. */
static void test_taskid_has_122_random_bits(void **state)
{
    unsigned char seen_one[16] = {0}, seen_zero[16] = {0};
    char id[TASKID_LEN + 1];
    for (int n = 0; n < 4000; n++) {
        assert_int_equal(taskid_new(id), 0);
        for (int i = 0, h = 0; i < 16; i++) {
            while (id[h] == '-')
                h++;
            unsigned char byte = (unsigned char)(hexval(id[h]) << 4 | hexval(id[h + 1]));
            h += 2;
            seen_one[i] |= byte;
            seen_zero[i] |= (unsigned char)~byte;
        }
    }
    int random_bits = 0;
    for (int i = 0; i < 16; i++)
        for (int bit = 0; bit < 8; bit++)
            random_bits += (seen_one[i] >> bit & 1) && (seen_zero[i] >> bit & 1);
    assert_int_equal(random_bits, 122);
}

static int cmp_id(const void *x, const void *y)
{
    return strcmp((const char *)x, (const char *)y);
}

static void test_taskid_unique_over_10000_ids(void **state)
{
    char(*ids)[TASKID_LEN + 1] = calloc(MANY_IDS, sizeof(*ids));

    assert_non_null(ids);
    for (int i = 0; i < MANY_IDS; i++)
        assert_int_equal(taskid_new(ids[i]), 0);
    qsort(ids, MANY_IDS, sizeof(*ids), cmp_id);
    for (int i = 1; i < MANY_IDS; i++)
        assert_string_not_equal(ids[i - 1], ids[i]);
    free(ids);
}

static void test_taskid_valid_accepts_canonical_text(void **state)
{
    assert_true(taskid_valid("01890a5d-ac96-774b-bcce-b302099a8057"));
    assert_true(taskid_valid("00000000-0000-0000-0000-000000000000")); /* any version */
    assert_true(taskid_valid("f81d4fae-7dec-11d0-a765-00a0c91e6bf6")); /* v1 */
}

static void test_taskid_valid_rejects_uppercase(void **state)
{
    assert_false(taskid_valid("01890A5D-AC96-774B-BCCE-B302099A8057"));
    assert_false(taskid_valid("01890a5d-ac96-774b-bcce-b302099a805F"));
}

static void test_taskid_valid_rejects_wrong_length(void **state)
{
    assert_false(taskid_valid(""));
    assert_false(taskid_valid("01890a5d-ac96-774b-bcce-b302099a805"));   /* 35 */
    assert_false(taskid_valid("01890a5d-ac96-774b-bcce-b302099a80570")); /* 37 */
    assert_false(taskid_valid("01890a5dac96774bbcceb302099a8057"));      /* no dashes */
    assert_false(taskid_valid("{01890a5d-ac96-774b-bcce-b302099a8057}"));
}

static void test_taskid_valid_rejects_misplaced_dashes(void **state)
{
    assert_false(taskid_valid("01890a5-dac96-774b-bcce-b302099a8057"));
    assert_false(taskid_valid("01890a5d-ac967-74b-bcce-b302099a8057"));
    assert_false(taskid_valid("01890a5d-ac96-774bb-cce-b302099a8057"));
    assert_false(taskid_valid("01890a5d-ac96-774b-bcceb-302099a8057"));
    assert_false(taskid_valid("01890a5d0ac96-774b-bcce-b302099a8057"));
    assert_false(taskid_valid("------------------------------------"));
}

static void test_taskid_valid_rejects_non_hex(void **state)
{
    assert_false(taskid_valid("01890a5g-ac96-774b-bcce-b302099a8057"));
    assert_false(taskid_valid("01890a5d-ac96-774b-bcce-b302099a805 "));
    assert_false(taskid_valid("01890a5d-ac96-774b-bcce-b302099a805\xff"));
    assert_false(taskid_valid("01890a5d-ac96-774b-bcce-b30209:a8057"));
}

static void test_taskid_valid_rejects_embedded_nul(void **state)
{
    char s[TASKID_LEN + 1];

    memcpy(s, "01890a5d-ac96-774b-bcce-b302099a8057", sizeof(s));
    s[20] = '\0';
    assert_false(taskid_valid(s));
}

static void test_taskid_valid_rejects_null(void **state)
{
    assert_false(taskid_valid(NULL));
}

static void test_taskid_prefix_range_pads_with_zeros_and_fs(void **state)
{
    char lo[TASKID_LEN + 1], hi[TASKID_LEN + 1];

    assert_true(taskid_prefix_range("", lo, hi));
    assert_string_equal(lo, "00000000-0000-0000-0000-000000000000");
    assert_string_equal(hi, "ffffffff-ffff-ffff-ffff-ffffffffffff");
    assert_true(taskid_prefix_range("3F2a", lo, hi)); /* either case */
    assert_string_equal(lo, "3f2a0000-0000-0000-0000-000000000000");
    assert_string_equal(hi, "3f2affff-ffff-ffff-ffff-ffffffffffff");
    assert_true(taskid_prefix_range("01890a5d-", lo, hi));
    assert_string_equal(lo, "01890a5d-0000-0000-0000-000000000000");
    assert_string_equal(hi, "01890a5d-ffff-ffff-ffff-ffffffffffff");
    assert_true(taskid_prefix_range("01890a5d-ac96-774b-bcce-b302099a8057", lo, hi));
    assert_string_equal(lo, "01890a5d-ac96-774b-bcce-b302099a8057");
    assert_string_equal(hi, "01890a5d-ac96-774b-bcce-b302099a8057");
}

static void test_taskid_prefix_range_rejects_what_no_id_starts_with(void **state)
{
    char lo[TASKID_LEN + 1], hi[TASKID_LEN + 1];

    assert_false(taskid_prefix_range(NULL, lo, hi));
    assert_false(taskid_prefix_range("g", lo, hi));
    assert_false(taskid_prefix_range("01890a5da", lo, hi));  /* no dash at offset 8 */
    assert_false(taskid_prefix_range("0189-", lo, hi));      /* a dash elsewhere */
    assert_false(taskid_prefix_range("%", lo, hi));
    assert_false(taskid_prefix_range("01890a5d-ac96-774b-bcce-b302099a80570", lo, hi)); /* 37 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_taskid_has_canonical_lowercase_form),
        cmocka_unit_test(test_taskid_sets_version_4),
        cmocka_unit_test(test_taskid_sets_variant_10),
        cmocka_unit_test(test_taskid_has_122_random_bits),
        cmocka_unit_test(test_taskid_unique_over_10000_ids),
        cmocka_unit_test(test_taskid_valid_accepts_canonical_text),
        cmocka_unit_test(test_taskid_valid_rejects_uppercase),
        cmocka_unit_test(test_taskid_valid_rejects_wrong_length),
        cmocka_unit_test(test_taskid_valid_rejects_misplaced_dashes),
        cmocka_unit_test(test_taskid_valid_rejects_non_hex),
        cmocka_unit_test(test_taskid_valid_rejects_embedded_nul),
        cmocka_unit_test(test_taskid_valid_rejects_null),
        cmocka_unit_test(test_taskid_prefix_range_pads_with_zeros_and_fs),
        cmocka_unit_test(test_taskid_prefix_range_rejects_what_no_id_starts_with),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
