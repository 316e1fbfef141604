/*
 * test_taskid.c - unit tests for common/taskid.c (UUIDv7 task ids).
 *
 * Checks the RFC 9562 bit layout, the canonical text form, uniqueness and
 * time ordering, and what taskid_valid() refuses.
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
#include <time.h>

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

static void test_taskid_sets_version_7(void **state)
{
    char id[TASKID_LEN + 1];

    for (int i = 0; i < 1000; i++) {
        assert_int_equal(taskid_new(id), 0);
        assert_int_equal(id[14], '7'); /* high nibble of byte 6 */
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

static void test_taskid_encodes_unix_ms_in_first_48_bits(void **state)
{
    char id[TASKID_LEN + 1];
    uint64_t ms = UINT64_C(0x0123456789ab);

    assert_int_equal(taskid_new_at(id, ms), 0);
    assert_memory_equal(id, "01234567-89ab-7", 15);

    /* taskid_new() stamps the current time, within a generous window. */
    struct timespec ts;
    assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
    uint64_t before = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    assert_int_equal(taskid_new(id), 0);
    char hex[13];
    memcpy(hex, id, 8);
    memcpy(hex + 8, id + 9, 4);
    hex[12] = '\0';
    uint64_t stamped = strtoull(hex, NULL, 16);
    assert_in_range(stamped, before, before + 5000);
}

static void test_taskid_random_bits_vary(void **state)
{
    char a[TASKID_LEN + 1], b[TASKID_LEN + 1];

    /* Same millisecond: only the 74 random bits can tell them apart. */
    assert_int_equal(taskid_new_at(a, 42), 0);
    assert_int_equal(taskid_new_at(b, 42), 0);
    assert_memory_equal(a, b, 15);
    assert_string_not_equal(a, b);
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

static void test_taskid_sorts_by_time(void **state)
{
    char prev[TASKID_LEN + 1], cur[TASKID_LEN + 1];
    /* Steps that cross every hex digit and byte boundary of the timestamp. */
    uint64_t ms = 0;

    assert_int_equal(taskid_new_at(prev, ms), 0);
    for (int i = 0; i < 2000; i++) {
        ms += (uint64_t)1 << (i % 40); /* stays below 2^48 */
        ms += (uint64_t)i;
        assert_int_equal(taskid_new_at(cur, ms), 0);
        assert_true(strcmp(prev, cur) < 0);
        memcpy(prev, cur, sizeof(cur));
    }
    /* Consecutive milliseconds also sort, whatever the random bits. */
    for (uint64_t t = 1700000000000u; t < 1700000001000u; t++) {
        assert_int_equal(taskid_new_at(prev, t), 0);
        assert_int_equal(taskid_new_at(cur, t + 1), 0);
        assert_true(strcmp(prev, cur) < 0);
    }
}

static void test_taskid_uses_low_48_bits_of_time(void **state)
{
    char id[TASKID_LEN + 1];

    assert_int_equal(taskid_new_at(id, UINT64_MAX), 0);
    assert_memory_equal(id, "ffffffff-ffff-7", 15);
    assert_true(taskid_valid(id));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_taskid_has_canonical_lowercase_form),
        cmocka_unit_test(test_taskid_sets_version_7),
        cmocka_unit_test(test_taskid_sets_variant_10),
        cmocka_unit_test(test_taskid_encodes_unix_ms_in_first_48_bits),
        cmocka_unit_test(test_taskid_random_bits_vary),
        cmocka_unit_test(test_taskid_unique_over_10000_ids),
        cmocka_unit_test(test_taskid_sorts_by_time),
        cmocka_unit_test(test_taskid_uses_low_48_bits_of_time),
        cmocka_unit_test(test_taskid_valid_accepts_canonical_text),
        cmocka_unit_test(test_taskid_valid_rejects_uppercase),
        cmocka_unit_test(test_taskid_valid_rejects_wrong_length),
        cmocka_unit_test(test_taskid_valid_rejects_misplaced_dashes),
        cmocka_unit_test(test_taskid_valid_rejects_non_hex),
        cmocka_unit_test(test_taskid_valid_rejects_embedded_nul),
        cmocka_unit_test(test_taskid_valid_rejects_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
