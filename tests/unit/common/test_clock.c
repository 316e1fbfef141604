/*
 * test_clock.c - monotonic time, deadlines and sleeps measured on one clock.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>

#include <cmocka.h>

#include "clock.h"

static void test_clock_deadline_is_normalised_and_ahead(void **state)
{
    for (int64_t ms = 0; ms <= 2500; ms += 999) {
        int64_t before = clock_now_ms();
        struct timespec t = clock_deadline_in(ms);
        assert_true(t.tv_nsec >= 0 && t.tv_nsec < 1000000000L);
        int64_t at = (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
        assert_true(at >= before + ms);
        assert_true(at <= clock_now_ms() + ms);
    }
    struct timespec past = clock_deadline_in(-5); /* negative means now */
    assert_true((int64_t)past.tv_sec * 1000 + past.tv_nsec / 1000000 <= clock_now_ms());
}

static void test_clock_sleep_waits_at_least_its_time(void **state)
{
    int64_t t0 = clock_now_ms();
    clock_sleep_ms(30);
    assert_true(clock_now_ms() - t0 >= 30);
    t0 = clock_now_ms();
    clock_sleep_ms(-1); /* returns at once */
    clock_sleep_ms(0);
    assert_true(clock_now_ms() - t0 < 1000);
}

static void test_clock_condition_times_out_on_the_monotonic_clock(void **state)
{
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv;
    assert_int_equal(clock_cond_init(&cv), 0);
    int64_t t0 = clock_now_ms();
    struct timespec until = clock_deadline_in(40);
    pthread_mutex_lock(&mu);
    int rc;
    while ((rc = pthread_cond_timedwait(&cv, &mu, &until)) == 0)
        ;
    pthread_mutex_unlock(&mu);
    assert_int_equal(rc, ETIMEDOUT);
    int64_t waited = clock_now_ms() - t0;
    assert_true(waited >= 39 && waited < 5000);
    pthread_cond_destroy(&cv);
}

static void test_clock_wall_time_is_after_2026(void **state)
{
    assert_true(clock_wall_ms() > 1767225600000LL); /* 2026-01-01T00:00:00Z */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_deadline_is_normalised_and_ahead),
        cmocka_unit_test(test_clock_sleep_waits_at_least_its_time),
        cmocka_unit_test(test_clock_condition_times_out_on_the_monotonic_clock),
        cmocka_unit_test(test_clock_wall_time_is_after_2026),
    };
    return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
