/*
 * test_reaper.c - unit tests for frontend/reaper.c: the deadline of each
 * phase, and sweeps that shut down exactly the connections past theirs
 * (each once, counted), driven with the test's own clock and a recording
 * shutdown function instead of shutdown(2).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "reaper.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "overload.h"

static const struct reaper_cfg cfg = {.header_ms = 10000, .body_ms = 30000, .idle_ms = 15000};

static int shut_fds[16]; /* what the fake shut down, in order */
static int shut_n;       /* how many */

static void fake_shut(int fd)
{
    if (shut_n < 16)
        shut_fds[shut_n] = fd;
    shut_n++;
}

static void test_deadline_of_each_phase(void **state)
{
    (void)state;
    assert_int_equal(reaper_deadline(&cfg, REAPER_HEADERS, 1000), 11000);
    assert_int_equal(reaper_deadline(&cfg, REAPER_BODY, 1000), 31000);
    assert_int_equal(reaper_deadline(&cfg, REAPER_IDLE, 1000), 26000);
    assert_int_equal(reaper_deadline(&cfg, REAPER_BUSY, 1000), 0);
    const struct reaper_cfg off = {0, 0, 0};
    assert_int_equal(reaper_deadline(&off, REAPER_HEADERS, 1000), 0);
    assert_int_equal(reaper_deadline(&off, REAPER_BODY, 1000), 0);
}

static void test_sweep_shuts_only_late_connections_once(void **state)
{
    (void)state;
    shut_n = 0;
    struct reaper *r = reaper_new(&cfg, fake_shut, false);
    assert_non_null(r);
    struct reaper_conn *slow = reaper_track(r, 5, 0);     /* never completes its headers */
    struct reaper_conn *body = reaper_track(r, 6, 0);     /* headers at 1 s, body never */
    struct reaper_conn *busy = reaper_track(r, 7, 0);     /* handled by the application */
    struct reaper_conn *kept = reaper_track(r, 8, 0);     /* answered, kept alive */
    assert_true(slow && body && busy && kept);
    reaper_set_phase(r, body, REAPER_BODY, 1000);
    reaper_set_phase(r, busy, REAPER_BUSY, 500);
    reaper_set_phase(r, kept, REAPER_IDLE, 2000);
    int64_t headers0 = overload_count(OVERLOAD_REAP_HEADERS);
    int64_t body0 = overload_count(OVERLOAD_REAP_BODY);
    assert_int_equal(reaper_sweep(r, 9999), 0);
    assert_int_equal(reaper_sweep(r, 10000), 1); /* the header deadline */
    assert_int_equal(shut_fds[0], 5);
    assert_int_equal(reaper_sweep(r, 20000), 0); /* each connection once */
    assert_int_equal(reaper_sweep(r, 27000), 1); /* the kept-alive one: idle + headers */
    assert_int_equal(shut_fds[1], 8);
    assert_int_equal(reaper_sweep(r, 31000), 1); /* the body deadline */
    assert_int_equal(shut_fds[2], 6);
    assert_int_equal(reaper_sweep(r, 1000000), 0); /* a busy connection is never reaped */
    assert_int_equal(shut_n, 3);
    assert_int_equal(overload_count(OVERLOAD_REAP_HEADERS), headers0 + 2);
    assert_int_equal(overload_count(OVERLOAD_REAP_BODY), body0 + 1);
    reaper_forget(r, slow);
    reaper_forget(r, body);
    reaper_forget(r, busy);
    reaper_forget(r, kept);
    reaper_forget(r, NULL);
    reaper_free(r);
}

static void test_new_request_on_a_kept_connection_gets_new_deadlines(void **state)
{
    (void)state;
    shut_n = 0;
    struct reaper *r = reaper_new(&cfg, fake_shut, false);
    struct reaper_conn *c = reaper_track(r, 9, 0);
    reaper_set_phase(r, c, REAPER_BUSY, 100);
    reaper_set_phase(r, c, REAPER_IDLE, 5000);
    reaper_set_phase(r, c, REAPER_BODY, 20000); /* the next request's headers arrived */
    assert_int_equal(reaper_sweep(r, 49999), 0);
    assert_int_equal(reaper_sweep(r, 50000), 1);
    reaper_forget(r, c);
    reaper_free(r);
    reaper_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline_of_each_phase),
        cmocka_unit_test(test_sweep_shuts_only_late_connections_once),
        cmocka_unit_test(test_new_request_on_a_kept_connection_gets_new_deadlines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
