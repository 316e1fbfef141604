/*
 * test_gcra.c - unit tests for frontend/gcra.c: the limit of a rate and a
 * burst (shared among frontends), and the arithmetic of one take.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "gcra.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#define SEC 1000000LL /* microseconds in a second */

/* ---- gcra_limit_of ---- */

static void test_limit_of_rate_and_burst(void **state)
{
    (void)state;
    struct gcra_limit l = gcra_limit_of(10, 5, 1);
    assert_int_equal(l.interval_us, 100000);
    assert_int_equal(l.burst, 5);
}

static void test_limit_of_zero_rate_is_no_limit(void **state)
{
    (void)state;
    struct gcra_limit l = gcra_limit_of(0, 5, 1);
    assert_int_equal(l.interval_us, 0);
    int64_t tat = 0, retry = -1;
    for (int i = 0; i < 1000; i++)
        assert_true(gcra_take(&l, SEC, &tat, &retry));
    assert_int_equal(retry, 0);
    assert_int_equal(tat, 0);
}

static void test_limit_of_share_divides_rate_and_burst(void **state)
{
    (void)state;
    struct gcra_limit l = gcra_limit_of(10, 6, 2); /* 5/s, burst 3 per frontend */
    assert_int_equal(l.interval_us, 200000);
    assert_int_equal(l.burst, 3);
    l = gcra_limit_of(10, 1, 4); /* the burst never drops below 1 */
    assert_int_equal(l.burst, 1);
    l = gcra_limit_of(10, 0, 0); /* burst < 1 counts as 1, share < 1 as 1 */
    assert_int_equal(l.burst, 1);
    assert_int_equal(l.interval_us, 100000);
    l = gcra_limit_of(5000000, 1, 1); /* faster than 1 µs: clamped to 1 µs */
    assert_int_equal(l.interval_us, 1);
}

/* ---- gcra_take ---- */

static void test_take_allows_the_burst_then_refuses(void **state)
{
    (void)state;
    struct gcra_limit l = gcra_limit_of(10, 5, 1);
    int64_t now = 1000 * SEC, tat = 0, retry = 0;
    for (int i = 0; i < 5; i++)
        assert_true(gcra_take(&l, now, &tat, &retry));
    assert_int_equal(tat, now + 5 * 100000);
    int64_t kept = tat;
    assert_false(gcra_take(&l, now, &tat, &retry));
    assert_int_equal(retry, 100); /* the next request passes one interval later */
    assert_int_equal(tat, kept);  /* a refusal stores nothing */
}

static void test_take_retry_after_is_exact_and_rounded_up(void **state)
{
    (void)state;
    struct gcra_limit l = gcra_limit_of(10, 5, 1);
    int64_t now = 1000 * SEC, tat = 0, retry = 0;
    for (int i = 0; i < 5; i++)
        assert_true(gcra_take(&l, now, &tat, &retry));
    assert_false(gcra_take(&l, now + 35000, &tat, &retry)); /* 65 ms to go */
    assert_int_equal(retry, 65);
    assert_false(gcra_take(&l, now + 99999, &tat, &retry)); /* 1 µs to go: 1 ms */
    assert_int_equal(retry, 1);
    assert_true(gcra_take(&l, now + 100000, &tat, &retry));
    assert_int_equal(retry, 0);
}

static void test_take_refills_at_the_sustained_rate(void **state)
{
    (void)state;
    struct gcra_limit l = gcra_limit_of(10, 5, 1);
    int64_t now = 1000 * SEC, tat = 0, retry = 0;
    for (int i = 0; i < 5; i++)
        assert_true(gcra_take(&l, now, &tat, &retry));
    /* 350 ms later three intervals have passed: three more, not four. */
    now += 350000;
    for (int i = 0; i < 3; i++)
        assert_true(gcra_take(&l, now, &tat, &retry));
    assert_false(gcra_take(&l, now, &tat, &retry));
    assert_int_equal(retry, 50);
}

static void test_take_steady_rate_never_refused(void **state)
{
    (void)state;
    struct gcra_limit l = gcra_limit_of(10, 1, 1);
    int64_t now = 1000 * SEC, tat = 0, retry = 0;
    for (int i = 0; i < 100; i++, now += 100000)
        assert_true(gcra_take(&l, now, &tat, &retry));
    int allowed = 0; /* twice the rate: half refused */
    for (int i = 0; i < 100; i++, now += 50000)
        allowed += gcra_take(&l, now, &tat, &retry);
    assert_int_equal(allowed, 50);
}

static void test_take_stale_tat_is_a_full_bucket(void **state)
{
    (void)state;
    struct gcra_limit l = gcra_limit_of(1, 3, 1);
    int64_t now = 1000 * SEC, tat = now - 3600 * SEC, retry = 0;
    for (int i = 0; i < 3; i++)
        assert_true(gcra_take(&l, now, &tat, &retry));
    assert_false(gcra_take(&l, now, &tat, &retry));
    assert_int_equal(retry, 1000);
}

static void test_script_is_the_same_algorithm(void **state)
{
    (void)state;
    /* The script reads Redis's clock, stores with an expiry and answers {allowed, retry}. */
    assert_non_null(strstr(GCRA_SCRIPT, "redis.call('TIME')"));
    assert_non_null(strstr(GCRA_SCRIPT, "'PX'"));
    assert_non_null(strstr(GCRA_SCRIPT, "new_tat - B * T"));
    assert_non_null(strstr(GCRA_SCRIPT, "return {1, 0}"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_of_rate_and_burst),
        cmocka_unit_test(test_limit_of_zero_rate_is_no_limit),
        cmocka_unit_test(test_limit_of_share_divides_rate_and_burst),
        cmocka_unit_test(test_take_allows_the_burst_then_refuses),
        cmocka_unit_test(test_take_retry_after_is_exact_and_rounded_up),
        cmocka_unit_test(test_take_refills_at_the_sustained_rate),
        cmocka_unit_test(test_take_steady_rate_never_refused),
        cmocka_unit_test(test_take_stale_tat_is_a_full_bucket),
        cmocka_unit_test(test_script_is_the_same_algorithm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
