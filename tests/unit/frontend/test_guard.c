/*
 * test_guard.c - unit tests for frontend/guard.c: the accounting of tickets
 * (caps per principal shared among frontends, the frontend's budget of
 * long-lived requests), the refusals (429 or 503, Retry-After, the JSON-RPC
 * error with data.retryAfterMs) and their counts, and the rate charge of
 * guard_admit() over the in-process limiter (no Redis configured).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "guard.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "overload.h"

/* What every test uses: limits, an in-process limiter and a guard over them. */
struct fx {
    struct quota *limits;   /* the settings below, no overrides */
    struct ratelimit *rate; /* in process only */
    struct guard *guard;    /* 2 frontends, 'max_waits' long-lived requests */
    json_t *id;             /* a request id */
};

static const struct quota_set settings = {
    .per_s = {1, 100, 100}, .burst = {2, 200, 200}, .max_sync = 4, .max_listen = 3,
    .max_live = 10};

static int setup_with(void **state, int max_waits)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct err e = {0};
    if (!f || !(f->limits = quota_new(&settings, NULL, 0, &e)) ||
        !(f->rate = ratelimit_new(NULL, 1)))
        return -1;
    struct guard_cfg cfg = {f->limits, f->rate, 2, max_waits};
    if (!(f->guard = guard_new(&cfg)))
        return -1;
    f->id = json_integer(7);
    *state = f;
    return 0;
}

static int fx_setup(void **state) { return setup_with(state, 0); }
static int fx_setup_budget(void **state) { return setup_with(state, 3); }

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    guard_free(f->guard);
    ratelimit_free(f->rate);
    quota_free(f->limits);
    json_decref(f->id);
    free(f);
    return 0;
}

/* The error data member 'key' of refusal 'r' as an integer (-1: absent). */
static json_int_t data_int(const struct guard_refusal *r, const char *key)
{
    json_t *v = json_object_get(json_object_get(json_object_get(r->reply, "error"), "data"), key);
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

static const char *data_str(const struct guard_refusal *r, const char *key)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(r->reply, "error"), "data"), key));
}

/* ---- tickets ---- */

static void test_cap_is_shared_among_frontends(void **state)
{
    struct fx *f = *state;
    struct guard_ticket t[3] = {0};
    struct guard_refusal r = {0};
    /* max-sync-calls 4 over 2 frontends: 2 here. */
    assert_true(guard_enter(f->guard, "alice", &settings, GUARD_SYNC, f->id, &t[0], &r));
    assert_true(guard_enter(f->guard, "alice", &settings, GUARD_SYNC, f->id, &t[1], &r));
    assert_int_equal(guard_held(f->guard, "alice", GUARD_SYNC), 2);
    int64_t before = overload_count(OVERLOAD_MAX_SYNC);
    assert_false(guard_enter(f->guard, "alice", &settings, GUARD_SYNC, f->id, &t[2], &r));
    assert_false(t[2].held);
    assert_int_equal(r.status, 429);
    assert_int_equal(r.retry_after_s, 1);
    assert_string_equal(data_str(&r, "reason"), "max_sync_calls");
    assert_int_equal(data_int(&r, "retryAfterMs"), 1000);
    assert_int_equal(data_int(&r, "limit"), 4);
    assert_int_equal(json_integer_value(json_object_get(r.reply, "id")), 7);
    assert_int_equal(overload_count(OVERLOAD_MAX_SYNC), before + 1);
    json_decref(r.reply);
    /* Another principal, and another kind, are not affected. */
    struct guard_ticket b = {0}, l = {0};
    assert_true(guard_enter(f->guard, "bob", &settings, GUARD_SYNC, f->id, &b, &r));
    assert_true(guard_enter(f->guard, "alice", &settings, GUARD_LISTEN, f->id, &l, &r));
    /* A ticket given back makes room again. */
    guard_leave(f->guard, &t[0]);
    assert_false(t[0].held);
    assert_true(guard_enter(f->guard, "alice", &settings, GUARD_SYNC, f->id, &t[2], &r));
    guard_leave(f->guard, &t[1]);
    guard_leave(f->guard, &t[2]);
    guard_leave(f->guard, &b);
    guard_leave(f->guard, &l);
    guard_leave(f->guard, &l); /* not held any more: a no-op */
    assert_int_equal(guard_held(f->guard, "alice", GUARD_SYNC), 0);
    assert_int_equal(guard_held(f->guard, "alice", GUARD_LISTEN), 0);
}

static void test_listen_cap_rounds_up_and_is_reported(void **state)
{
    struct fx *f = *state;
    struct guard_ticket t[3] = {0};
    struct guard_refusal r = {0};
    /* max-listen-streams 3 over 2 frontends: 2 here (rounded up). */
    assert_true(guard_enter(f->guard, "carol", &settings, GUARD_LISTEN, f->id, &t[0], &r));
    assert_true(guard_enter(f->guard, "carol", &settings, GUARD_LISTEN, f->id, &t[1], &r));
    assert_false(guard_enter(f->guard, "carol", &settings, GUARD_LISTEN, f->id, &t[2], &r));
    assert_int_equal(r.status, 429);
    assert_string_equal(data_str(&r, "reason"), "max_listen_streams");
    json_decref(r.reply);
    guard_leave(f->guard, &t[0]);
    guard_leave(f->guard, &t[1]);
}

static void test_zero_cap_is_no_cap(void **state)
{
    struct fx *f = *state;
    struct quota_set free_lim = settings;
    free_lim.max_sync = 0;
    struct guard_ticket t[50] = {{0}};
    struct guard_refusal r = {0};
    for (int i = 0; i < 50; i++)
        assert_true(guard_enter(f->guard, "dave", &free_lim, GUARD_SYNC, f->id, &t[i], &r));
    for (int i = 0; i < 50; i++)
        guard_leave(f->guard, &t[i]);
    assert_int_equal(guard_held(f->guard, "dave", GUARD_SYNC), 0);
}

static void test_budget_of_the_frontend_refuses_with_503(void **state)
{
    struct fx *f = *state;
    struct quota_set free_lim = settings;
    free_lim.max_sync = free_lim.max_listen = 0;
    struct guard_ticket t[4] = {0};
    struct guard_refusal r = {0};
    assert_true(guard_enter(f->guard, "a", &free_lim, GUARD_SYNC, f->id, &t[0], &r));
    assert_true(guard_enter(f->guard, "b", &free_lim, GUARD_LISTEN, f->id, &t[1], &r));
    assert_true(guard_enter(f->guard, "c", &free_lim, GUARD_SYNC, f->id, &t[2], &r));
    int64_t before = overload_count(OVERLOAD_STREAMS);
    assert_false(guard_enter(f->guard, "d", &free_lim, GUARD_LISTEN, f->id, &t[3], &r));
    assert_int_equal(r.status, 503);
    assert_string_equal(data_str(&r, "reason"), "stream_budget");
    assert_int_equal(overload_count(OVERLOAD_STREAMS), before + 1);
    json_decref(r.reply);
    guard_leave(f->guard, &t[1]);
    assert_true(guard_enter(f->guard, "d", &free_lim, GUARD_LISTEN, f->id, &t[3], &r));
    guard_leave(f->guard, &t[0]);
    guard_leave(f->guard, &t[2]);
    guard_leave(f->guard, &t[3]);
}

static void test_gate_takes_one_ticket_per_request(void **state)
{
    struct fx *f = *state;
    struct guard_ticket t = {0};
    struct guard_gate gate = {f->guard, &settings, "erin", &t};
    struct rpc_request req = {.id = f->id, .method = "tools/call"};
    int status = 200;
    assert_null(guard_gate(&gate, &req, &status));
    assert_true(t.held);
    assert_null(guard_gate(&gate, &req, &status)); /* held already: nothing more taken */
    assert_int_equal(guard_held(f->guard, "erin", GUARD_SYNC), 1);
    struct guard_ticket t2 = {0};
    struct guard_gate gate2 = {f->guard, &settings, "erin", &t2};
    assert_null(guard_gate(&gate2, &req, &status));
    struct guard_ticket t3 = {0};
    struct guard_gate gate3 = {f->guard, &settings, "erin", &t3};
    json_t *refusal = guard_gate(&gate3, &req, &status);
    assert_non_null(refusal);
    assert_int_equal(status, 429);
    json_decref(refusal);
    guard_leave(f->guard, &t);
    guard_leave(f->guard, &t2);
}

/* ---- rates ---- */

static void test_admit_charges_the_budget_of_the_method(void **state)
{
    struct fx *f = *state;
    struct auth_principal p = {.subject = "frank"};
    json_t *params = json_object();
    struct rpc_request create = {.id = f->id, .method = "tools/call", .params = params};
    struct rpc_request read = {.id = f->id, .method = "tasks/get", .params = params};
    struct quota_set lim;
    struct guard_refusal r = {0};
    /* The create budget: 1/s, burst 2 (in process, one frontend sharing it). */
    assert_true(guard_admit(f->guard, &p, &create, 0, &lim, &r));
    assert_int_equal(lim.max_live, 10); /* the limits were resolved */
    assert_true(guard_admit(f->guard, &p, &create, 0, &lim, &r));
    int64_t before = overload_count(OVERLOAD_RATE_CREATE);
    assert_false(guard_admit(f->guard, &p, &create, 0, &lim, &r));
    assert_int_equal(r.status, 429);
    assert_string_equal(data_str(&r, "reason"), "rate_limited");
    assert_string_equal(data_str(&r, "budget"), "create");
    assert_in_range(data_int(&r, "retryAfterMs"), 1, 1000);
    assert_int_equal(r.retry_after_s, 1);
    assert_int_equal(overload_count(OVERLOAD_RATE_CREATE), before + 1);
    json_decref(r.reply);
    /* Reads have their own budget, and other principals their own buckets. */
    assert_true(guard_admit(f->guard, &p, &read, 0, &lim, &r));
    struct auth_principal q = {.subject = "grace"};
    assert_true(guard_admit(f->guard, &q, &create, 0, &lim, &r));
    json_decref(params);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cap_is_shared_among_frontends, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_listen_cap_rounds_up_and_is_reported, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_zero_cap_is_no_cap, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_budget_of_the_frontend_refuses_with_503,
                                        fx_setup_budget, fx_teardown),
        cmocka_unit_test_setup_teardown(test_gate_takes_one_ticket_per_request, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_admit_charges_the_budget_of_the_method, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
