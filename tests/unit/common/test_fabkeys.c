/*
 * test_fabkeys.c - the fabric's CURVE keys: strict Z85, derived public keys, and the
 * allow-list of worker keys.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fabkeys.h"

static void test_fabkeys_generated_pairs_decode_and_derive(void **state)
{
    char pub[FABKEYS_Z85_LEN + 1], sec[FABKEYS_Z85_LEN + 1], again[FABKEYS_Z85_LEN + 1];
    uint8_t raw[FABKEYS_KEY_LEN];
    assert_int_equal(fabkeys_generate(pub, sec, NULL), 0);
    assert_int_equal(strlen(pub), FABKEYS_Z85_LEN);
    assert_int_equal(fabkeys_decode(pub, raw, NULL), 0);
    assert_int_equal(fabkeys_public_of(sec, again, NULL), 0);
    assert_string_equal(again, pub);
}

static void test_fabkeys_refuses_anything_but_40_z85_characters(void **state)
{
    uint8_t raw[FABKEYS_KEY_LEN];
    struct err e = {0};
    char key[FABKEYS_Z85_LEN + 2];
    memset(key, '0', FABKEYS_Z85_LEN);
    key[FABKEYS_Z85_LEN] = '\0';
    assert_int_equal(fabkeys_decode(key, raw, NULL), 0); /* all zeros is a valid key text */
    key[FABKEYS_Z85_LEN - 1] = '\0';
    assert_int_equal(fabkeys_decode(key, raw, &e), -FABKEYS_EINVALID); /* 39 characters */
    key[FABKEYS_Z85_LEN - 1] = '0';
    key[FABKEYS_Z85_LEN] = '0';
    key[FABKEYS_Z85_LEN + 1] = '\0';
    assert_int_equal(fabkeys_decode(key, raw, NULL), -FABKEYS_EINVALID); /* 41 characters */
    key[FABKEYS_Z85_LEN] = '\0';
    key[7] = '~'; /* not in the Z85 alphabet */
    assert_int_equal(fabkeys_decode(key, raw, &e), -FABKEYS_EINVALID);
    assert_null(strstr(e.msg, key)); /* never quoted */
    key[7] = ' ';
    assert_int_equal(fabkeys_decode(key, raw, NULL), -FABKEYS_EINVALID);
    assert_int_equal(fabkeys_decode(NULL, raw, NULL), -FABKEYS_EINVALID);
    char pub[FABKEYS_Z85_LEN + 1];
    assert_int_equal(fabkeys_public_of("short", pub, NULL), -FABKEYS_EINVALID);
}

static void test_fabkeys_allow_list_lines_comments_and_duplicates(void **state)
{
    char a[FABKEYS_Z85_LEN + 1], b[FABKEYS_Z85_LEN + 1], c[FABKEYS_Z85_LEN + 1], sec[41];
    uint8_t ka[FABKEYS_KEY_LEN], kb[FABKEYS_KEY_LEN], kc[FABKEYS_KEY_LEN];
    assert_int_equal(fabkeys_generate(a, sec, NULL), 0);
    assert_int_equal(fabkeys_generate(b, sec, NULL), 0);
    assert_int_equal(fabkeys_generate(c, sec, NULL), 0);
    assert_int_equal(fabkeys_decode(a, ka, NULL), 0);
    assert_int_equal(fabkeys_decode(b, kb, NULL), 0);
    assert_int_equal(fabkeys_decode(c, kc, NULL), 0);
    char text[512];
    snprintf(text, sizeof(text), "# workers\n\n  %s  \r\n%s\n# old key, rotating out\n%s", a, b, a);
    struct fabkeys_allow *list = fabkeys_allow_parse(text, strlen(text), NULL);
    assert_non_null(list);
    assert_int_equal(fabkeys_allow_count(list), 2); /* a listed twice counts once */
    assert_true(fabkeys_allow_has(list, ka));
    assert_true(fabkeys_allow_has(list, kb));
    assert_false(fabkeys_allow_has(list, kc));
    fabkeys_allow_free(list);
    fabkeys_allow_free(NULL);
}

static void test_fabkeys_allow_list_refuses_bad_lines_and_emptiness(void **state)
{
    struct err e = {0};
    char good[FABKEYS_Z85_LEN + 1], sec[41], text[256];
    assert_int_equal(fabkeys_generate(good, sec, NULL), 0);
    snprintf(text, sizeof(text), "%s\nnot-a-key\n", good);
    assert_null(fabkeys_allow_parse(text, strlen(text), &e));
    assert_non_null(strstr(e.msg, "line 2"));
    assert_null(strstr(e.msg, "not-a-key"));
    assert_null(fabkeys_allow_parse("# nothing\n\n", 12, &e));
    assert_null(fabkeys_allow_parse("", 0, &e));
    assert_false(fabkeys_allow_has(NULL, (const uint8_t *)good));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fabkeys_generated_pairs_decode_and_derive),
        cmocka_unit_test(test_fabkeys_refuses_anything_but_40_z85_characters),
        cmocka_unit_test(test_fabkeys_allow_list_lines_comments_and_duplicates),
        cmocka_unit_test(test_fabkeys_allow_list_refuses_bad_lines_and_emptiness),
    };
    return cmocka_run_group_tests_name("fabkeys", tests, NULL, NULL);
}
