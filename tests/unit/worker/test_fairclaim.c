/*
 * test_fairclaim.c - unit tests for worker/fairclaim.c: the running cap each
 * claim carries, and the fair claim a refused pushed task falls back to.
 *
 * The store runs over fakepq (tests/unit/common/fakepq.h): the claim by id
 * and the fair claim are scripted, and the caps they were sent are read back
 * from their parameters.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fairclaim.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "fakepq.h"

#define PUSHED "0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"
#define FAIREST "ffffffff-0000-4000-8000-000000000001"

static int fx_setup(void **state)
{
    fakepq_reset();
    *state = store_new_with_ops("dbname=none", "test_fairclaim", &fakepq_ops);
    return *state ? 0 : -1;
}

static int fx_teardown(void **state)
{
    store_free(*state);
    assert_int_equal(fakepq_live_results(), 0);
    assert_int_equal(fakepq_pending(), 0);
    fakepq_reset();
    return 0;
}

/* A queued task row with id 'id' of owner alice, as a claim returns it. */
static void reply_task(const char *stmt, const char *id)
{
    static char owner[] = "alice", tool[] = "sleep", args[] = "{}";
    struct task_row t = {.status = TASK_RUNNING, .owner = owner, .tool = tool, .args = args,
                         .attempt = 1, .max_attempts = 3, .ttl_ms = 1000, .poll_interval_ms = 100};
    strcpy(t.id, id);
    strcpy(t.created_at, "2026-11-22T00:47:48.123Z");
    strcpy(t.updated_at, "2026-11-22T00:47:48.123Z");
    fakepq_reply_tasks(stmt, &t, 1);
}

/* ---- fairclaim_cap ---- */

static void test_fairclaim_no_cap_and_no_reserve_leave_every_claim_uncapped(void **state)
{
    (void)state;
    struct fairclaim fc = {.max_running = 0, .reserved = 0};
    for (int idle = 1; idle <= 4; idle++)
        assert_int_equal(fairclaim_cap(&fc, idle, 4), 0);
}

static void test_fairclaim_the_last_free_slots_take_only_owners_with_nothing_running(void **state)
{
    (void)state;
    struct fairclaim fc = {.max_running = 0, .reserved = 2};
    assert_int_equal(fairclaim_cap(&fc, 4, 4), 0);
    assert_int_equal(fairclaim_cap(&fc, 3, 4), 0);
    assert_int_equal(fairclaim_cap(&fc, 2, 4), 1);
    assert_int_equal(fairclaim_cap(&fc, 1, 4), 1);
}

static void test_fairclaim_the_owner_cap_applies_to_the_other_slots(void **state)
{
    (void)state;
    struct fairclaim fc = {.max_running = 5, .reserved = 1};
    assert_int_equal(fairclaim_cap(&fc, 4, 4), 5);
    assert_int_equal(fairclaim_cap(&fc, 2, 4), 5);
    assert_int_equal(fairclaim_cap(&fc, 1, 4), 1);
}

static void test_fairclaim_a_worker_never_reserves_all_its_slots(void **state)
{
    (void)state;
    struct fairclaim fc = {.max_running = 0, .reserved = 8};
    assert_int_equal(fairclaim_cap(&fc, 1, 1), 0); /* one slot: open to anyone */
    assert_int_equal(fairclaim_cap(&fc, 4, 4), 0); /* the first of four: open */
    assert_int_equal(fairclaim_cap(&fc, 3, 4), 1);
}

/* ---- fairclaim_take ---- */

static void test_fairclaim_a_pushed_task_is_claimed_with_the_slot_cap(void **state)
{
    struct fairclaim fc = {.quiet_ms = 500};
    struct task_row row;
    reply_task(STORE_STMT_CLAIM, PUSHED);
    assert_int_equal(fairclaim_take(&fc, *state, PUSHED, "w-1", 3000, 1, &row, NULL), 0);
    assert_string_equal(row.id, PUSHED);
    assert_string_equal(fakepq_param(STORE_STMT_CLAIM, 3), "1");
    assert_int_equal(fakepq_execs(STORE_STMT_CLAIM_NEXT), 0);
    task_row_fini(&row);
}

static void test_fairclaim_no_cap_is_sent_as_null(void **state)
{
    struct fairclaim fc = {.quiet_ms = 500};
    struct task_row row;
    reply_task(STORE_STMT_CLAIM, PUSHED);
    assert_int_equal(fairclaim_take(&fc, *state, PUSHED, "w-1", 3000, 0, &row, NULL), 0);
    assert_int_equal(fakepq_nparams(STORE_STMT_CLAIM), 4);
    assert_null(fakepq_param(STORE_STMT_CLAIM, 3));
    task_row_fini(&row);
}

static void test_fairclaim_a_refused_task_falls_back_to_the_fairest_one(void **state)
{
    struct fairclaim fc = {.quiet_ms = 500};
    struct task_row row;
    fakepq_reply_tasks(STORE_STMT_CLAIM, NULL, 0); /* its owner is at the cap */
    reply_task(STORE_STMT_CLAIM_NEXT, FAIREST);
    assert_int_equal(fairclaim_take(&fc, *state, PUSHED, "w-1", 3000, 1, &row, NULL), 0);
    assert_string_equal(row.id, FAIREST);
    assert_string_equal(fakepq_param(STORE_STMT_CLAIM_NEXT, 2), "1");
    task_row_fini(&row);
}

static void test_fairclaim_an_empty_fallback_keeps_the_next_ones_quiet(void **state)
{
    struct fairclaim fc = {.quiet_ms = 60000};
    struct task_row row;
    fakepq_reply_tasks(STORE_STMT_CLAIM, NULL, 0);
    fakepq_reply_tasks(STORE_STMT_CLAIM_NEXT, NULL, 0);
    assert_int_equal(fairclaim_take(&fc, *state, PUSHED, "w-1", 3000, 1, &row, NULL),
                     -STORE_ENOTFOUND);
    fakepq_reply_tasks(STORE_STMT_CLAIM, NULL, 0);
    assert_int_equal(fairclaim_take(&fc, *state, PUSHED, "w-1", 3000, 1, &row, NULL),
                     -STORE_ENOTFOUND);
    assert_int_equal(fakepq_execs(STORE_STMT_CLAIM), 2);
    assert_int_equal(fakepq_execs(STORE_STMT_CLAIM_NEXT), 1);
    assert_false(fairclaim_may_fall_back(&fc, clock_now_ms()));
    assert_true(fairclaim_may_fall_back(&fc, clock_now_ms() + 60001));
}

static void test_fairclaim_a_failed_claim_does_not_fall_back(void **state)
{
    struct fairclaim fc = {.quiet_ms = 500};
    struct task_row row;
    fakepq_reply_error(STORE_STMT_CLAIM, "22P02", "bad input");
    assert_int_equal(fairclaim_take(&fc, *state, PUSHED, "w-1", 3000, 0, &row, NULL),
                     -STORE_EINVALID);
    assert_int_equal(fakepq_execs(STORE_STMT_CLAIM_NEXT), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fairclaim_no_cap_and_no_reserve_leave_every_claim_uncapped),
        cmocka_unit_test(test_fairclaim_the_last_free_slots_take_only_owners_with_nothing_running),
        cmocka_unit_test(test_fairclaim_the_owner_cap_applies_to_the_other_slots),
        cmocka_unit_test(test_fairclaim_a_worker_never_reserves_all_its_slots),
        cmocka_unit_test_setup_teardown(test_fairclaim_a_pushed_task_is_claimed_with_the_slot_cap,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_fairclaim_no_cap_is_sent_as_null, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_fairclaim_a_refused_task_falls_back_to_the_fairest_one,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_fairclaim_an_empty_fallback_keeps_the_next_ones_quiet,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_fairclaim_a_failed_claim_does_not_fall_back, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
