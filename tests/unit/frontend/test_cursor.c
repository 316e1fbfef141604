/*
 * test_cursor.c - tasks/list cursors: round trips, and nothing else decodes.
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
#include "cursor.h"

static const char *id = "01a200cc-5d93-48a9-ba90-df853b759f72";

static void test_cursor_round_trip(void **state)
{
    char c[CURSOR_MAX_LEN + 1], got[TASKID_LEN + 1];
    int64_t us = 0;
    assert_int_equal(cursor_encode(1795000000123456, id, c), 0);
    assert_int_equal(cursor_decode(c, &us, got), 0);
    assert_true(us == 1795000000123456);
    assert_string_equal(got, id);
    assert_int_equal(cursor_encode(0, id, c), 0);
    assert_int_equal(cursor_decode(c, &us, got), 0);
    assert_true(us == 0);
}

static void test_cursor_encode_refuses_bad_positions(void **state)
{
    char c[CURSOR_MAX_LEN + 1];
    assert_int_equal(cursor_encode(-1, id, c), -CURSOR_EINVALID);
    assert_int_equal(cursor_encode(1, "not-an-id", c), -CURSOR_EINVALID);
    assert_int_equal(cursor_encode(1, NULL, c), -CURSOR_EINVALID);
}

/* The cursor of a raw text (what a forger would send). */
static void forge(const char *text, char *out)
{
    strcpy(out, "c1.");
    b64url_encode((const unsigned char *)text, strlen(text), out + 3);
}

static void test_cursor_decode_refuses_anything_else(void **state)
{
    char c[CURSOR_MAX_LEN + 1], got[TASKID_LEN + 1], big[CURSOR_MAX_LEN + 10];
    int64_t us;
    const char *bad[] = {NULL, "", "c1.", "c2.MTIzfGFi", "c1.!!!!", "c1.MTIz"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(cursor_decode(bad[i], &us, got), -CURSOR_EINVALID);
    const char *texts[] = {"-5|01a200cc-5d93-48a9-ba90-df853b759f72",
                           "007|01a200cc-5d93-48a9-ba90-df853b759f72", /* not canonical */
                           "+7|01a200cc-5d93-48a9-ba90-df853b759f72",
                           " 7|01a200cc-5d93-48a9-ba90-df853b759f72",
                           "7|01A200CC-5D93-48A9-BA90-DF853B759F72", /* not canonical */
                           "7|01a200cc-5d93-48a9-ba90-df853b759f72x",
                           "99999999999999999999|01a200cc-5d93-48a9-ba90-df853b759f72"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        forge(texts[i], c);
        if (cursor_decode(c, &us, got) != -CURSOR_EINVALID)
            fail_msg("decoded %s", texts[i]);
    }
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "c1.", 3);
    assert_int_equal(cursor_decode(big, &us, got), -CURSOR_EINVALID);
    /* One changed character never decodes to another valid position. */
    assert_int_equal(cursor_encode(42, id, c), 0);
    for (size_t i = 3; i < strlen(c); i++) {
        char t[CURSOR_MAX_LEN + 1];
        strcpy(t, c);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        if (cursor_decode(t, &us, got) == 0)
            assert_false(us == 42 && strcmp(got, id) == 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cursor_round_trip),
        cmocka_unit_test(test_cursor_encode_refuses_bad_positions),
        cmocka_unit_test(test_cursor_decode_refuses_anything_else),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
