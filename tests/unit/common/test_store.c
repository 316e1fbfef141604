/*
 * test_store.c - unit tests for common/store.c, store_conn.c and store_row.c
 * against the libpq seam, without a server.
 *
 * Every store here runs over fakepq (tests/unit/common/fakepq.h), which
 * answers each statement as the test scripts it: rows, rows affected, an
 * error with a SQLSTATE, or a connection that drops.  Each test ends by
 * checking that every result was cleared, every connection finished and
 * every scripted reply consumed.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "store.h"
#include "store_seam.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fakepq.h"

#define ID    "0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"
#define CLAIM "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d" /* a claim token */
#define ID2   "1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5" /* a second task */
#define OTHER "ffffffff-0000-4000-8000-000000000001"

/* ---- fixture ---- */

static int fx_setup(void **state)
{
    fakepq_reset();
    *state = store_new_with_ops("dbname=none", "test_store", &fakepq_ops);
    return *state ? 0 : -1;
}

static int fx_teardown(void **state)
{
    store_free(*state);
    assert_int_equal(fakepq_live_results(), 0);
    assert_int_equal(fakepq_open_conns(), 0);
    assert_int_equal(fakepq_pending(), 0);
    fakepq_reset();
    return 0;
}

/* A task row with every field set, as tasks/get would read it. */
static struct task_row full_row(void)
{
    static char owner[] = "alice", tool[] = "slow.echo", args[] = "{\"n\":1}";
    static char msg[] = "halfway", result[] = "{\"content\":[]}", error[] = "{\"code\":-1}";
    static char reqs[] = "{\"q\":{}}", resps[] = "{\"q\":1}", worker[] = "w-1";
    static char trace[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    static char caps[] = "{\"elicitation\":{}}", log[] = "[{\"level\":\"info\",\"data\":1}]";
    struct task_row t = {
        .status = TASK_INPUT_REQUIRED,
        .owner = owner,
        .tool = tool,
        .args = args,
        .status_message = msg,
        .has_progress = true,
        .progress = 0.5,
        .progress_total = 2,
        .result = result,
        .error = error,
        .input_requests = reqs,
        .input_responses = resps,
        .attempt = 2,
        .max_attempts = 3,
        .worker_id = worker,
        .trace = trace,
        .ttl_ms = INT64_C(86400000000),
        .poll_interval_ms = 1500,
        .client_caps = caps,
        .log = log,
        .log_seq = 7,
        .created_us = INT64_C(1795000000123456),
    };

    snprintf(t.id, sizeof(t.id), "%s", ID);
    snprintf(t.claim, sizeof(t.claim), "%s", CLAIM);
    snprintf(t.created_at, sizeof(t.created_at), "2026-11-22T00:47:48.123Z");
    snprintf(t.updated_at, sizeof(t.updated_at), "2026-11-22T00:48:00.000Z");
    return t;
}

/* A queued task with only the fields a new one has. */
static struct task_row queued_row(const char *id)
{
    static char owner[] = "alice", tool[] = "echo", args[] = "{}";
    struct task_row t = {.status = TASK_QUEUED,
                         .owner = owner,
                         .tool = tool,
                         .args = args,
                         .max_attempts = 3,
                         .ttl_ms = 60000,
                         .poll_interval_ms = 1000};

    snprintf(t.id, sizeof(t.id), "%s", id);
    return t;
}

static void assert_str_or_null(const char *got, const char *want)
{
    if (!want)
        assert_null(got);
    else
        assert_string_equal(got, want);
}

static void assert_rows_equal(const struct task_row *a, const struct task_row *b)
{
    assert_string_equal(a->id, b->id);
    assert_int_equal(a->status, b->status);
    assert_str_or_null(a->owner, b->owner);
    assert_str_or_null(a->tool, b->tool);
    assert_str_or_null(a->args, b->args);
    assert_str_or_null(a->status_message, b->status_message);
    assert_int_equal(a->has_progress, b->has_progress);
    assert_true(a->progress == b->progress);
    assert_true(a->progress_total == b->progress_total);
    assert_str_or_null(a->result, b->result);
    assert_str_or_null(a->error, b->error);
    assert_str_or_null(a->input_requests, b->input_requests);
    assert_str_or_null(a->input_responses, b->input_responses);
    assert_int_equal(a->attempt, b->attempt);
    assert_string_equal(a->claim, b->claim);
    assert_int_equal(a->max_attempts, b->max_attempts);
    assert_str_or_null(a->worker_id, b->worker_id);
    assert_str_or_null(a->trace, b->trace);
    assert_string_equal(a->created_at, b->created_at);
    assert_string_equal(a->updated_at, b->updated_at);
    assert_int_equal(a->ttl_ms, b->ttl_ms);
    assert_int_equal(a->poll_interval_ms, b->poll_interval_ms);
    assert_str_or_null(a->client_caps, b->client_caps);
    assert_str_or_null(a->log, b->log);
    assert_true(a->log_seq == b->log_seq);
    assert_true(a->created_us == b->created_us);
}

/* ---- one call per statement, for the failure table ---- */

/* Pass 'rc' on, releasing *row when the call that returned it filled it. */
static int fini_if_ok(int rc, struct task_row *row)
{
    if (rc == 0)
        task_row_fini(row);
    return rc;
}

/* A store call that runs 'stmt' first; returns what the call returned. */
struct call {
    const char *name; /* for messages */
    const char *stmt; /* the statement it runs first */
    int (*run)(struct store *st, struct err *e);
};

static int call_create(struct store *st, struct err *e)
{
    struct task_new t = {.id = ID,
                         .owner = "alice",
                         .tool = "echo",
                         .args = "{}",
                         .ttl_ms = 1000,
                         .poll_interval_ms = 1000,
                         .max_attempts = 1};
    struct task_row row;

    return fini_if_ok(store_task_create(st, &t, &row, e), &row);
}

static int call_get(struct store *st, struct err *e)
{
    struct task_row row;

    return fini_if_ok(store_task_get(st, ID, "alice", &row, e), &row);
}

static int call_cancel(struct store *st, struct err *e)
{
    bool changed;

    return store_task_cancel(st, ID, "alice", &changed, e);
}

static int call_claim(struct store *st, struct err *e)
{
    struct task_row row;

    return fini_if_ok(store_task_claim(st, ID, "w-1", 30000, 0, &row, e), &row);
}

static int call_claim_next(struct store *st, struct err *e)
{
    struct task_row row;

    return fini_if_ok(store_task_claim_next(st, "w-1", 30000, 0, &row, e), &row);
}

static int call_heartbeat(struct store *st, struct err *e)
{
    return store_task_heartbeat(st, ID, "w-1", CLAIM, 30000, NULL, -1, 0, NULL, e);
}

static int call_finish(struct store *st, struct err *e)
{
    return store_task_finish(st, ID, "w-1", CLAIM, TASK_COMPLETED, "{}", NULL, -1, 0, NULL, e);
}

static int call_request_input(struct store *st, struct err *e)
{
    return store_task_request_input(st, ID, "w-1", CLAIM, "{\"q\":{}}", NULL, e);
}

static int call_answer(struct store *st, struct err *e)
{
    bool resumed;
    int attempt;

    return store_task_answer(st, ID, "alice", "{\"q\":1}", &resumed, &attempt, e);
}

static int call_retry(struct store *st, struct err *e)
{
    bool failed;

    return store_task_retry(st, ID, "w-1", CLAIM, "flaky", &failed, e);
}

static int call_redispatch(struct store *st, struct err *e)
{
    struct task_row *rows = NULL;
    int n = -1, rc = store_redispatch(st, 5000, 10, &rows, &n, e);

    for (int i = 0; i < n; i++)
        task_row_fini(&rows[i]);
    free(rows);
    return rc;
}

static int call_task_ids(struct store *st, struct err *e)
{
    char ids[4][TASKID_LEN + 1];
    int n;

    return store_task_ids(st, "alice", "0b0c", 4, ids, &n, e);
}

static int call_recent_ids(struct store *st, struct err *e)
{
    char ids[4][TASKID_LEN + 1];
    int n;

    return store_task_ids(st, "alice", "", 4, ids, &n, e);
}

static int call_release(struct store *st, struct err *e)
{
    return store_task_release(st, ID, "w-1", CLAIM, e);
}

static int call_sweep(struct store *st, struct err *e)
{
    struct sweep_counts c;

    return store_sweep(st, 100, 30000, &c, NULL, NULL, e);
}

static int call_list(struct store *st, struct err *e)
{
    struct task_row *rows = NULL;
    int n = -1, rc = store_task_list(st, "alice", 0, NULL, 10, &rows, &n, e);

    for (int i = 0; i < n; i++)
        task_row_fini(&rows[i]);
    free(rows);
    return rc;
}

static int call_end_input(struct store *st, struct err *e)
{
    return store_task_end_input(st, ID, "alice", "{\"content\":[],\"isError\":true}", e);
}

static int call_finish_claim(struct store *st, struct err *e)
{
    const struct task_outcome o = {ID, "w-1", CLAIM, TASK_COMPLETED, "{}", NULL, -1, 0, NULL};
    struct task_row next;
    bool claimed;
    int rc = store_task_finish_claim(st, &o, ID2, 1000, 0, &next, &claimed, e);
    if (claimed)
        task_row_fini(&next);
    return rc;
}

static const struct call calls[] = {
    {"create", STORE_STMT_CREATE, call_create},
    {"get", STORE_STMT_GET, call_get},
    {"cancel", STORE_STMT_CANCEL, call_cancel},
    {"claim", STORE_STMT_CLAIM, call_claim},
    {"claim_next", STORE_STMT_CLAIM_NEXT, call_claim_next},
    {"heartbeat", STORE_STMT_HEARTBEAT, call_heartbeat},
    {"finish", STORE_STMT_FINISH, call_finish},
    {"finish_claim", STORE_STMT_FINISH_CLAIM, call_finish_claim},
    {"request_input", STORE_STMT_REQUEST_INPUT, call_request_input},
    {"answer", STORE_STMT_ANSWER, call_answer},
    {"retry", STORE_STMT_RETRY, call_retry},
    {"redispatch", STORE_STMT_REDISPATCH, call_redispatch},
    {"release", STORE_STMT_RELEASE, call_release},
    {"sweep", STORE_STMT_SWEEP_LEASES, call_sweep},
    {"task_ids", STORE_STMT_PREFIX_IDS, call_task_ids},
    {"recent_ids", STORE_STMT_RECENT_IDS, call_recent_ids},
    {"list", STORE_STMT_LIST, call_list},
    {"end_input", STORE_STMT_END_INPUT, call_end_input},
};
#define NCALLS (sizeof(calls) / sizeof(calls[0]))

/* ---- connecting ---- */

static void test_store_connects_lazily_and_prepares_every_statement_once(void **state)
{
    struct store *st = *state;
    struct err e = {0};

    assert_int_equal(fakepq_connects(), 0);
    fakepq_reply_affected(STORE_STMT_HEARTBEAT, 1);
    fakepq_reply_affected(STORE_STMT_HEARTBEAT, 1);
    assert_int_equal(call_heartbeat(st, &e), 0);
    assert_int_equal(call_heartbeat(st, &e), 0);
    assert_int_equal(fakepq_connects(), 1);
    assert_int_equal(fakepq_prepares(), 24);
    assert_int_equal(fakepq_execs(STORE_STMT_HEARTBEAT), 2);
}

/* Every session gets its timeouts and generic plans (README, Performance: a claim or create
 * with an optional limit was planned again at every execution), and synchronous_commit = off
 * only in relaxed mode. */
static void test_store_sessions_use_generic_plans_and_relax_commits_only_when_asked(void **state)
{
    static const char base[] = "SET statement_timeout = '10s'; SET lock_timeout = '5s';"
                               " SET plan_cache_mode = force_generic_plan";
    struct store *st = *state;

    assert_true(store_ping(st));
    assert_int_equal(fakepq_execs(base), 1);
    store_set_relaxed_commit(true);
    struct store *relaxed = store_new_with_ops("dbname=fake", "test", &fakepq_ops);
    assert_non_null(relaxed);
    assert_true(store_ping(relaxed));
    store_set_relaxed_commit(false);
    assert_int_equal(fakepq_execs("SET statement_timeout = '10s'; SET lock_timeout = '5s';"
                                  " SET plan_cache_mode = force_generic_plan;"
                                  " SET synchronous_commit = off"),
                     1);
    assert_int_equal(fakepq_execs(base), 1);
    store_free(relaxed);
}

static void test_store_unreachable_database_is_unavailable(void **state)
{
    struct store *st = *state;
    struct err e = {0};

    fakepq_fail_connects(1);
    assert_int_equal(call_get(st, &e), -STORE_EUNAVAILABLE);
    assert_int_equal(e.code, -STORE_EUNAVAILABLE);
    assert_string_equal(e.msg, "database unreachable: fakepq: connection refused");
    assert_int_equal(fakepq_execs(STORE_STMT_GET), 0);
    assert_int_equal(fakepq_open_conns(), 0); /* the failed connection is finished */
}

/* Creates written together against a server that is away: each task is unavailable,
 * with its own error, and none is tried again on its own. */
static void test_store_create_many_fails_every_task_when_unreachable(void **state)
{
    struct store *st = *state;
    struct task_new t[3];
    struct task_row out[3];
    int rcs[3];
    struct err errs[3] = {0};
    for (int i = 0; i < 3; i++)
        t[i] = (struct task_new){.id = ID, .owner = "alice", .tool = "echo", .args = "{}",
                                 .ttl_ms = 1000, .poll_interval_ms = 100, .max_attempts = 1};
    fakepq_fail_connects(2);
    store_task_create_many(st, t, 3, out, rcs, errs);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rcs[i], -STORE_EUNAVAILABLE);
        assert_int_equal(errs[i].code, -STORE_EUNAVAILABLE);
    }
    assert_int_equal(fakepq_execs(STORE_STMT_CREATE), 0);
    assert_int_equal(fakepq_connects(), 1); /* one try: the call gives up, not each task */
}

static void test_store_unmigrated_schema_is_internal_and_not_kept(void **state)
{
    struct store *st = *state;
    struct err e = {0};

    fakepq_fail_prepare(STORE_STMT_ANSWER);
    assert_int_equal(call_heartbeat(st, &e), -STORE_EINTERNAL);
    assert_non_null(strstr(e.msg, "prepare tw_answer"));
    assert_non_null(strstr(e.msg, "(schema not migrated?)"));
    assert_null(strstr(e.msg, "LINE 1")); /* first line only */
    assert_int_equal(fakepq_open_conns(), 0);
    /* The next call connects again and succeeds. */
    fakepq_reply_affected(STORE_STMT_HEARTBEAT, 1);
    assert_int_equal(call_heartbeat(st, &e), 0);
    assert_int_equal(fakepq_connects(), 2);
}

/* ---- failures, statement by statement ---- */

/* What each kind of SQLSTATE becomes when the connection stays up. */
static const struct {
    const char *sqlstate; /* as PostgreSQL reports it */
    int code;             /* what the store returns */
} kept_conn_states[] = {
    {"22P02", -STORE_EINVALID},  /* invalid_text_representation (bad uuid, bad JSON) */
    {"22001", -STORE_EINVALID},  /* string_data_right_truncation */
    {"23502", -STORE_EINVALID},  /* not_null_violation */
    {"23514", -STORE_EINVALID},  /* check_violation */
    {"42P01", -STORE_EINTERNAL}, /* undefined_table */
    {"57014", -STORE_EINTERNAL}, /* query_canceled: statement_timeout */
    {"55P03", -STORE_EINTERNAL}, /* lock_not_available: lock_timeout */
    {"40001", -STORE_EINTERNAL}, /* serialization_failure */
    {"53300", -STORE_EINTERNAL}, /* too_many_connections */
    {"XX000", -STORE_EINTERNAL}, /* internal_error */
};

static void test_store_maps_every_statement_failure_by_sqlstate(void **state)
{
    struct store *st = *state;

    for (size_t c = 0; c < NCALLS; c++) {
        for (size_t k = 0; k < sizeof(kept_conn_states) / sizeof(kept_conn_states[0]); k++) {
            struct err e = {0};
            int rc;

            fakepq_reply_error(calls[c].stmt, kept_conn_states[k].sqlstate,
                               "ERROR:  scripted\nDETAIL:  more\n");
            rc = calls[c].run(st, &e);
            if (rc != kept_conn_states[k].code)
                fail_msg("%s with SQLSTATE %s returned %d", calls[c].name,
                         kept_conn_states[k].sqlstate, rc);
            assert_int_equal(e.code, rc);
            assert_non_null(strstr(e.msg, calls[c].stmt));
            assert_non_null(strstr(e.msg, "ERROR:  scripted"));
            assert_null(strstr(e.msg, "DETAIL"));
            assert_int_equal(fakepq_live_results(), 0);
        }
    }
    assert_int_equal(fakepq_connects(), 1); /* none of these loses the connection */
    assert_int_equal(fakepq_unscripted(), 0);
}

/* SQLSTATEs that mean the connection is gone: the store reconnects and sends
 * the statement once more; when that fails the same way, it is unavailable. */
static const char *const lost_conn_states[] = {"08006", "08003", "57P01", "57P02", "57P03", NULL};

static void test_store_lost_connection_states_are_unavailable_after_one_retry(void **state)
{
    struct store *st = *state;
    int connects = 0;

    for (size_t c = 0; c < NCALLS; c++) {
        for (size_t k = 0; k < sizeof(lost_conn_states) / sizeof(lost_conn_states[0]); k++) {
            struct err e = {0};
            int rc, execs = fakepq_execs(calls[c].stmt);

            fakepq_reply_error(calls[c].stmt, lost_conn_states[k], NULL);
            fakepq_reply_error(calls[c].stmt, lost_conn_states[k], NULL);
            rc = calls[c].run(st, &e);
            if (rc != -STORE_EUNAVAILABLE)
                fail_msg("%s with SQLSTATE %s returned %d", calls[c].name,
                         lost_conn_states[k] ? lost_conn_states[k] : "(none)", rc);
            assert_int_equal(e.code, -STORE_EUNAVAILABLE);
            assert_string_equal(e.msg, "database connection lost");
            assert_int_equal(fakepq_execs(calls[c].stmt), execs + 2);
            connects += 2;
            assert_int_equal(fakepq_connects(), connects);
            assert_int_equal(fakepq_open_conns(), 0);
        }
    }
}

static void test_store_dropped_connection_is_unavailable_and_the_next_call_reconnects(void **state)
{
    struct store *st = *state;
    struct err e = {0};

    fakepq_reply_affected(STORE_STMT_HEARTBEAT, 1);
    assert_int_equal(call_heartbeat(st, &e), 0);
    /* The server goes away mid-call and is still away for the retry. */
    fakepq_reply_drop(STORE_STMT_FINISH);
    fakepq_fail_connects(1);
    assert_int_equal(call_finish(st, &e), -STORE_EUNAVAILABLE);
    assert_int_equal(e.code, -STORE_EUNAVAILABLE);
    assert_int_equal(fakepq_connects(), 2);
    assert_int_equal(fakepq_open_conns(), 0);
    /* It is back: the next call opens a new connection and prepares again. */
    fakepq_reply_affected(STORE_STMT_FINISH, 1);
    assert_int_equal(call_finish(st, &e), 0);
    assert_int_equal(fakepq_connects(), 3);
    assert_int_equal(fakepq_open_conns(), 1);
    assert_int_equal(fakepq_prepares(), 48);
}

static void test_store_sends_a_statement_again_on_a_fresh_connection_after_a_drop(void **state)
{
    struct store *st = *state;
    struct err e = {0};

    fakepq_reply_drop(STORE_STMT_FINISH);
    fakepq_reply_affected(STORE_STMT_FINISH, 1);
    assert_int_equal(call_finish(st, &e), 0);
    assert_int_equal(fakepq_execs(STORE_STMT_FINISH), 2);
    assert_int_equal(fakepq_connects(), 2);
    assert_int_equal(fakepq_open_conns(), 1);
    /* Dropped twice in one call: unavailable, no third try. */
    fakepq_reply_drop(STORE_STMT_FINISH);
    fakepq_reply_drop(STORE_STMT_FINISH);
    assert_int_equal(call_finish(st, &e), -STORE_EUNAVAILABLE);
    assert_int_equal(fakepq_execs(STORE_STMT_FINISH), 4);
}

static void test_store_failure_inside_a_sweep_stops_it(void **state)
{
    static const char *const order[] = {STORE_STMT_SWEEP_LEASES, STORE_STMT_SWEEP_EXPIRED,
                                        STORE_STMT_QUEUE_STATS};
    struct store *st = *state;

    for (int fail = 0; fail < 3; fail++) {
        struct err e = {0};

        for (int i = 0; i < fail; i++) {
            if (i == 0)
                fakepq_reply_rows(order[i], store_row_result(STORE_ROW_DISPATCH, NULL, 0));
            else
                fakepq_reply_affected(order[i], 0);
        }
        fakepq_reply_error(order[fail], "XX000", NULL);
        assert_int_equal(call_sweep(st, &e), -STORE_EINTERNAL);
        assert_non_null(strstr(e.msg, order[fail]));
    }
    assert_int_equal(fakepq_unscripted(), 0);
}

/* ---- conditional writes ---- */

static void test_store_conditional_writes_that_match_nothing_are_lost(void **state)
{
    static const struct call owned[] = {
        {"heartbeat", STORE_STMT_HEARTBEAT, call_heartbeat},
        {"finish", STORE_STMT_FINISH, call_finish},
        {"request_input", STORE_STMT_REQUEST_INPUT, call_request_input},
        {"release", STORE_STMT_RELEASE, call_release},
    };
    struct store *st = *state;

    for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
        struct err e = {0};

        fakepq_reply_affected(owned[i].stmt, 0);
        assert_int_equal(owned[i].run(st, &e), -STORE_ELOST);
        assert_int_equal(e.code, -STORE_ELOST);
        fakepq_reply_affected(owned[i].stmt, 1);
        assert_int_equal(owned[i].run(st, &e), 0);
    }
}

static void test_store_retry_of_a_task_no_longer_owned_is_lost(void **state)
{
    struct store *st = *state;
    struct err e = {0};
    bool failed = true;

    fakepq_reply_rows(STORE_STMT_RETRY, store_row_result(STORE_ROW_DISPATCH, NULL, 0));
    assert_int_equal(store_task_retry(st, ID, "w-1", CLAIM, "flaky", &failed, &e), -STORE_ELOST);
    assert_false(failed);
    fakepq_reply_value(STORE_STMT_RETRY, "queued");
    assert_int_equal(store_task_retry(st, ID, "w-1", CLAIM, "flaky", &failed, &e), 0);
    assert_false(failed);
    fakepq_reply_value(STORE_STMT_RETRY, "failed");
    assert_int_equal(store_task_retry(st, ID, "w-1", CLAIM, "flaky", &failed, &e), 0);
    assert_true(failed);
    assert_string_equal(fakepq_param(STORE_STMT_RETRY, 2), CLAIM);
    assert_string_equal(fakepq_param(STORE_STMT_RETRY, 3), "flaky");
}

/* ---- create and duplicates ---- */

static void test_store_create_of_an_existing_id_reads_it_back_by_sqlstate(void **state)
{
    struct task_row want = queued_row(ID), got;
    struct task_new t = {.id = ID,
                         .owner = "alice",
                         .tool = "echo",
                         .args = "{}",
                         .ttl_ms = 1000,
                         .poll_interval_ms = 1000,
                         .max_attempts = 3};
    struct store *st = *state;
    struct err e = {0};

    /* The wording of the message does not matter, only SQLSTATE 23505. */
    fakepq_reply_error(STORE_STMT_CREATE, STORE_SQLSTATE_UNIQUE, "ERROR:  something else\n");
    fakepq_reply_tasks(STORE_STMT_GET, &want, 1);
    assert_int_equal(store_task_create(st, &t, &got, &e), 0);
    assert_rows_equal(&got, &want);
    assert_string_equal(fakepq_param(STORE_STMT_GET, 0), ID);
    assert_string_equal(fakepq_param(STORE_STMT_GET, 1), "alice");
    task_row_fini(&got);
}

static void test_store_create_refused_otherwise_is_invalid_whatever_the_message(void **state)
{
    struct task_new t = {.id = ID,
                         .owner = "alice",
                         .tool = "echo",
                         .args = "{",
                         .ttl_ms = 1000,
                         .poll_interval_ms = 1000,
                         .max_attempts = 3};
    struct store *st = *state;
    struct task_row got;
    struct err e = {0};

    fakepq_reply_error(STORE_STMT_CREATE, "23502",
                       "ERROR:  duplicate key value violates unique constraint\n");
    assert_int_equal(store_task_create(st, &t, &got, &e), -STORE_EINVALID);
    assert_int_equal(fakepq_execs(STORE_STMT_GET), 0);
    assert_non_null(strstr(e.msg, "tw_create"));
}

static void test_store_create_sends_every_field(void **state)
{
    struct task_row want = queued_row(ID), got;
    struct task_new t = {.id = ID,
                         .owner = "alice",
                         .tool = "echo",
                         .args = "{\"a\":1}",
                         .trace = NULL,
                         .ttl_ms = INT64_C(5000000000),
                         .poll_interval_ms = 1500,
                         .max_attempts = 4,
                         .client_caps = "{\"sampling\":{}}",
                         .input_responses = NULL};
    static const char *const want_params[] = {
        ID,           "alice", "echo", "{\"a\":1}",         NULL,
        "5000000000", "1500",  "4",    "{\"sampling\":{}}", NULL};
    struct store *st = *state;
    struct err e = {0};

    fakepq_reply_tasks(STORE_STMT_CREATE, &want, 1);
    assert_int_equal(store_task_create(st, &t, &got, &e), 0);
    for (int i = 0; i < 10; i++)
        assert_str_or_null(fakepq_param(STORE_STMT_CREATE, i), want_params[i]);
    task_row_fini(&got);
}

/* ---- reading rows ---- */

static void test_store_reads_every_column_of_a_task_row(void **state)
{
    struct task_row want = full_row(), got;
    struct store *st = *state;
    struct err e = {0};

    fakepq_reply_tasks(STORE_STMT_GET, &want, 1);
    assert_int_equal(store_task_get(st, ID, "alice", &got, &e), 0);
    assert_rows_equal(&got, &want);
    task_row_fini(&got);
}

static void test_store_reads_sql_nulls_as_absent_fields(void **state)
{
    struct task_row want = queued_row(ID), got;
    struct store *st = *state;
    struct err e = {0};
    PGresult *r;

    want.progress_total = 7; /* no progress: the total is not read either */
    fakepq_reply_tasks(STORE_STMT_GET, &want, 1);
    assert_int_equal(store_task_get(st, ID, NULL, &got, &e), 0);
    assert_null(got.status_message);
    assert_null(got.result);
    assert_null(got.worker_id);
    assert_null(got.trace);
    assert_false(got.has_progress);
    assert_true(got.progress == 0 && got.progress_total == 0);
    assert_string_equal(got.created_at, "");
    task_row_fini(&got);

    /* Progress without a total: total 0 (unknown). */
    want = full_row();
    r = store_row_result(STORE_ROW_TASK, &want, 1);
    assert_int_equal(PQsetvalue(r, 0, PQfnumber(r, "progress_total"), NULL, -1), 1);
    fakepq_reply_rows(STORE_STMT_GET, r);
    assert_int_equal(store_task_get(st, ID, NULL, &got, &e), 0);
    assert_true(got.has_progress);
    assert_true(got.progress == 0.5 && got.progress_total == 0);
    task_row_fini(&got);
}

static void test_store_refuses_rows_it_cannot_read(void **state)
{
    struct task_row want = full_row(), got;
    struct store *st = *state;
    struct err e = {0};
    PGresult *r;

    r = store_row_result(STORE_ROW_TASK, &want, 1);
    assert_int_equal(PQsetvalue(r, 0, PQfnumber(r, "status"), (char *)"paused", 6), 1);
    fakepq_reply_rows(STORE_STMT_GET, r);
    assert_int_equal(store_task_get(st, ID, NULL, &got, &e), -STORE_EINTERNAL);
    assert_string_equal(e.msg, "unknown status in row");
    assert_null(got.owner); /* zeroed, nothing leaked */

    /* A result of another shape is never read at the wrong positions. */
    fakepq_reply_rows(STORE_STMT_GET, store_row_result(STORE_ROW_DISPATCH, &want, 1));
    assert_int_equal(store_task_get(st, ID, NULL, &got, &e), -STORE_EINTERNAL);
    assert_non_null(strstr(e.msg, "columns"));
}

static void test_store_get_of_a_malformed_id_asks_nothing(void **state)
{
    struct store *st = *state;
    struct task_row got;
    struct err e = {0};
    int attempt = -1;
    bool b;

    assert_int_equal(store_task_get(st, "not-a-uuid", NULL, &got, &e), -STORE_ENOTFOUND);
    assert_int_equal(store_task_cancel(st, ID "x", "alice", &b, &e), -STORE_ENOTFOUND);
    assert_int_equal(store_task_claim(st, "", "w-1", 1000, 0, &got, &e), -STORE_ENOTFOUND);
    assert_int_equal(store_task_answer(st, "{}", "alice", "{}", &b, &attempt, &e),
                     -STORE_ENOTFOUND);
    assert_int_equal(attempt, 0);
    assert_int_equal(fakepq_connects(), 0);
}

static void test_store_missing_rows_are_not_found(void **state)
{
    struct store *st = *state;
    struct err e = {0};

    fakepq_reply_tasks(STORE_STMT_GET, NULL, 0);
    assert_int_equal(call_get(st, &e), -STORE_ENOTFOUND);
    fakepq_reply_tasks(STORE_STMT_CLAIM, NULL, 0);
    assert_int_equal(call_claim(st, &e), -STORE_ENOTFOUND);
    fakepq_reply_tasks(STORE_STMT_CLAIM_NEXT, NULL, 0);
    assert_int_equal(call_claim_next(st, &e), -STORE_ENOTFOUND);
    assert_string_equal(e.msg, "no such task");
}

/* ---- calls made of two statements ---- */

static void test_store_cancel_is_idempotent_for_finished_tasks(void **state)
{
    struct task_row done = queued_row(ID);
    struct store *st = *state;
    struct err e = {0};
    bool changed = false;

    fakepq_reply_value(STORE_STMT_CANCEL, ID);
    assert_int_equal(store_task_cancel(st, ID, "alice", &changed, &e), 0);
    assert_true(changed);
    assert_int_equal(fakepq_execs(STORE_STMT_GET), 0);

    done.status = TASK_COMPLETED;
    fakepq_reply_tasks(STORE_STMT_CANCEL, NULL, 0);
    fakepq_reply_tasks(STORE_STMT_GET, &done, 1);
    assert_int_equal(store_task_cancel(st, ID, "alice", &changed, &e), 0);
    assert_false(changed);

    fakepq_reply_tasks(STORE_STMT_CANCEL, NULL, 0);
    fakepq_reply_tasks(STORE_STMT_GET, NULL, 0);
    assert_int_equal(store_task_cancel(st, OTHER, "alice", &changed, &e), -STORE_ENOTFOUND);
    assert_false(changed);
    assert_string_equal(fakepq_param(STORE_STMT_GET, 0), OTHER);
    assert_string_equal(fakepq_param(STORE_STMT_GET, 1), "alice");
}

static void test_store_answer_resumes_only_when_queued_again(void **state)
{
    static const char *const still_waiting[] = {"input_required", "2"};
    static const char *const queued[] = {"queued", "3"};
    struct task_row done = queued_row(ID);
    struct store *st = *state;
    struct err e = {0};
    bool resumed = true;
    int attempt = -1;

    fakepq_reply_row(STORE_STMT_ANSWER, 2, still_waiting);
    assert_int_equal(store_task_answer(st, ID, "alice", "{}", &resumed, &attempt, &e), 0);
    assert_false(resumed);
    assert_int_equal(attempt, 0);
    fakepq_reply_row(STORE_STMT_ANSWER, 2, queued);
    assert_int_equal(store_task_answer(st, ID, "alice", "{}", &resumed, &attempt, &e), 0);
    assert_true(resumed);
    assert_int_equal(attempt, 3); /* for the job envelope, without reading the row */
    /* Not waiting for input: left alone; unknown: not found. */
    fakepq_reply_tasks(STORE_STMT_ANSWER, NULL, 0);
    fakepq_reply_tasks(STORE_STMT_GET, &done, 1);
    assert_int_equal(store_task_answer(st, ID, "alice", "{}", &resumed, &attempt, &e), 0);
    assert_false(resumed);
    assert_int_equal(attempt, 0);
    fakepq_reply_tasks(STORE_STMT_ANSWER, NULL, 0);
    fakepq_reply_tasks(STORE_STMT_GET, NULL, 0);
    assert_int_equal(store_task_answer(st, ID, "mallory", "{}", &resumed, &attempt, &e),
                     -STORE_ENOTFOUND);
}

/* ---- parameters ---- */

static void test_store_finish_puts_the_outcome_in_its_column(void **state)
{
    struct store *st = *state;
    struct err e = {0};

    fakepq_reply_affected(STORE_STMT_FINISH, 1);
    assert_int_equal(
        store_task_finish(st, ID, "w-1", CLAIM, TASK_COMPLETED, "{\"r\":1}", "done", 1, 4, NULL, &e),
        0);
    assert_string_equal(fakepq_param(STORE_STMT_FINISH, 2), CLAIM);
    assert_string_equal(fakepq_param(STORE_STMT_FINISH, 3), "completed");
    assert_string_equal(fakepq_param(STORE_STMT_FINISH, 4), "{\"r\":1}");
    assert_null(fakepq_param(STORE_STMT_FINISH, 5));
    assert_string_equal(fakepq_param(STORE_STMT_FINISH, 6), "done");
    assert_string_equal(fakepq_param(STORE_STMT_FINISH, 7), "1");
    assert_string_equal(fakepq_param(STORE_STMT_FINISH, 8), "4");

    fakepq_reply_affected(STORE_STMT_FINISH, 1);
    assert_int_equal(
        store_task_finish(st, ID, "w-1", CLAIM, TASK_FAILED, "{\"code\":1}", NULL, -1, 0, NULL, &e), 0);
    assert_string_equal(fakepq_param(STORE_STMT_FINISH, 3), "failed");
    assert_null(fakepq_param(STORE_STMT_FINISH, 4));
    assert_string_equal(fakepq_param(STORE_STMT_FINISH, 5), "{\"code\":1}");
    assert_null(fakepq_param(STORE_STMT_FINISH, 7)); /* progress unchanged */
    assert_null(fakepq_param(STORE_STMT_FINISH, 8));

    /* Only outcomes can be finished; nothing is sent otherwise. */
    assert_int_equal(store_task_finish(st, ID, "w-1", CLAIM, TASK_RUNNING, "{}", NULL, -1, 0, NULL, &e),
                     -STORE_EINVALID);
    assert_int_equal(fakepq_execs(STORE_STMT_FINISH), 2);
}

/* The reply of a finish and claim: 'row' claimed (NULL: none), outcome 'stored' ("t"/"f"). */
static void reply_finish_claim(const struct task_row *row, const char *stored)
{
    PGresult *r = store_row_result(STORE_ROW_TASK_AND_ONE, row, row ? 1 : 0);
    for (int col = 0; !row && col < STORE_TASK_NCOLS; col++)
        assert_true(PQsetvalue(r, 0, col, NULL, -1));
    assert_true(PQsetvalue(r, 0, STORE_TASK_NCOLS, (char *)stored, 1));
    fakepq_reply_rows(STORE_STMT_FINISH_CLAIM, r);
}

/* Under load an outcome's commit claims the slot's next task: the finish's parameters,
 * then the pushed task, lease and cap; whether each happened is told apart. */
static void test_store_finish_claim_tells_the_outcome_and_the_claim_apart(void **state)
{
    struct store *st = *state;
    struct err e = {0};
    struct task_row next, queued = queued_row(ID2);
    const struct task_outcome o = {ID, "w-1", CLAIM, TASK_COMPLETED, "{\"r\":1}", "done", 1, 4,
                                   "[1]"};
    bool claimed;

    queued.status = TASK_RUNNING;
    reply_finish_claim(&queued, "t");
    assert_int_equal(store_task_finish_claim(st, &o, ID2, 30000, 2, &next, &claimed, &e), 0);
    assert_true(claimed);
    assert_string_equal(next.id, ID2);
    assert_int_equal(next.status, TASK_RUNNING);
    task_row_fini(&next);
    assert_int_equal(fakepq_nparams(STORE_STMT_FINISH_CLAIM), 13);
    const char *want[] = {ID, "w-1", CLAIM, "completed", "{\"r\":1}", NULL, "done", "1", "4",
                          "[1]", ID2, "30000", "2"};
    for (int i = 0; i < 13; i++)
        assert_str_or_null(fakepq_param(STORE_STMT_FINISH_CLAIM, i), want[i]);

    /* The outcome stored, the pushed task gone: no claim, no cap (0 = none). */
    reply_finish_claim(NULL, "t");
    assert_int_equal(store_task_finish_claim(st, &o, ID2, 30000, 0, &next, &claimed, &e), 0);
    assert_false(claimed);
    assert_null(fakepq_param(STORE_STMT_FINISH_CLAIM, 12));

    /* The outcome refused (cancelled, lease lost), the next task claimed all the same. */
    reply_finish_claim(&queued, "f");
    assert_int_equal(store_task_finish_claim(st, &o, ID2, 30000, 0, &next, &claimed, &e),
                     -STORE_ELOST);
    assert_true(claimed);
    task_row_fini(&next);

    /* Not an outcome: nothing is sent. */
    const struct task_outcome running = {ID, "w-1", CLAIM, TASK_RUNNING, "{}", NULL, -1, 0, NULL};
    assert_int_equal(store_task_finish_claim(st, &running, ID2, 30000, 0, &next, &claimed, &e),
                     -STORE_EINVALID);
    assert_false(claimed);
    assert_int_equal(fakepq_execs(STORE_STMT_FINISH_CLAIM), 3);
}

static void test_store_heartbeat_sends_progress_only_when_known(void **state)
{
    struct store *st = *state;
    struct err e = {0};

    fakepq_reply_affected(STORE_STMT_HEARTBEAT, 1);
    assert_int_equal(store_task_heartbeat(st, ID, "w-1", CLAIM, 30000, "step 2", 2, 0, NULL, &e), 0);
    assert_string_equal(fakepq_param(STORE_STMT_HEARTBEAT, 3), "30000");
    assert_string_equal(fakepq_param(STORE_STMT_HEARTBEAT, 4), "step 2");
    assert_string_equal(fakepq_param(STORE_STMT_HEARTBEAT, 5), "2");
    assert_null(fakepq_param(STORE_STMT_HEARTBEAT, 6)); /* total 0: unknown */
    fakepq_reply_affected(STORE_STMT_HEARTBEAT, 1);
    assert_int_equal(store_task_heartbeat(st, ID, "w-1", CLAIM, 30000, NULL, -1, 10, NULL, &e), 0);
    assert_null(fakepq_param(STORE_STMT_HEARTBEAT, 4));
    assert_null(fakepq_param(STORE_STMT_HEARTBEAT, 5));
    assert_null(fakepq_param(STORE_STMT_HEARTBEAT, 6));
}

/* ---- task ids of one owner ---- */

static void test_store_task_ids_asks_for_the_owners_id_range_newest_first(void **state)
{
    static const char *const found[] = {ID, OTHER};
    char ids[3][TASKID_LEN + 1];
    struct store *st = *state;
    struct err e = {0};
    int n = -1;

    fakepq_reply_rows(STORE_STMT_PREFIX_IDS, fakepq_rows(1, 2, found));
    assert_int_equal(store_task_ids(st, "alice", "0B0C1d2E-3", 3, ids, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(ids[0], ID);
    assert_string_equal(ids[1], OTHER);
    assert_int_equal(fakepq_nparams(STORE_STMT_PREFIX_IDS), 4);
    assert_string_equal(fakepq_param(STORE_STMT_PREFIX_IDS, 0), "alice");
    assert_string_equal(fakepq_param(STORE_STMT_PREFIX_IDS, 1),
                        "0b0c1d2e-3000-0000-0000-000000000000");
    assert_string_equal(fakepq_param(STORE_STMT_PREFIX_IDS, 2),
                        "0b0c1d2e-3fff-ffff-ffff-ffffffffffff");
    assert_string_equal(fakepq_param(STORE_STMT_PREFIX_IDS, 3), "3");
    assert_int_equal(fakepq_execs(STORE_STMT_RECENT_IDS), 0);
}

static void test_store_task_ids_of_one_character_reads_the_newest_that_match(void **state)
{
    char ids[3][TASKID_LEN + 1];
    struct store *st = *state;
    struct err e = {0};
    int n = -1;

    fakepq_reply_rows(STORE_STMT_RECENT_IDS, fakepq_rows(1, 1, (const char *const[]){ID}));
    assert_int_equal(store_task_ids(st, "alice", "0", 3, ids, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(fakepq_param(STORE_STMT_RECENT_IDS, 1), "0%");
    fakepq_reply_rows(STORE_STMT_RECENT_IDS, fakepq_rows(1, 0, NULL));
    assert_int_equal(store_task_ids(st, "alice", "B", 3, ids, &n, &e), 0);
    assert_string_equal(fakepq_param(STORE_STMT_RECENT_IDS, 1), "b%"); /* lowercased */
    assert_int_equal(fakepq_execs(STORE_STMT_PREFIX_IDS), 0);
}

static void test_store_task_ids_without_a_prefix_reads_the_newest(void **state)
{
    static const char *const found[] = {ID, OTHER, ID};
    char ids[2][TASKID_LEN + 1];
    struct store *st = *state;
    struct err e = {0};
    int n = -1;

    /* More rows than asked for are not copied past 'max'. */
    fakepq_reply_rows(STORE_STMT_RECENT_IDS, fakepq_rows(1, 3, found));
    assert_int_equal(store_task_ids(st, "alice", "", 2, ids, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(ids[1], OTHER);
    assert_int_equal(fakepq_nparams(STORE_STMT_RECENT_IDS), 3);
    assert_string_equal(fakepq_param(STORE_STMT_RECENT_IDS, 0), "alice");
    assert_string_equal(fakepq_param(STORE_STMT_RECENT_IDS, 1), "%");
    assert_string_equal(fakepq_param(STORE_STMT_RECENT_IDS, 2), "2");
    assert_int_equal(fakepq_execs(STORE_STMT_PREFIX_IDS), 0);
}

static void test_store_task_ids_clamps_max(void **state)
{
    static char ids[STORE_IDS_MAX][TASKID_LEN + 1];
    struct store *st = *state;
    struct err e = {0};
    int n = -1;

    fakepq_reply_rows(STORE_STMT_RECENT_IDS, fakepq_rows(1, 0, NULL));
    fakepq_reply_rows(STORE_STMT_RECENT_IDS, fakepq_rows(1, 0, NULL));
    assert_int_equal(store_task_ids(st, "alice", "", 0, ids, &n, &e), 0);
    assert_string_equal(fakepq_param(STORE_STMT_RECENT_IDS, 2), "1");
    assert_int_equal(store_task_ids(st, "alice", "", STORE_IDS_MAX + 5, ids, &n, &e), 0);
    assert_int_equal(n, 0);
    assert_int_equal(atoi(fakepq_param(STORE_STMT_RECENT_IDS, 2)), STORE_IDS_MAX);
}

static void test_store_task_ids_of_an_impossible_prefix_finds_nothing_without_sql(void **state)
{
    static const char *const bad[] = {"g", "0b0c1d2e3", "x-", "%", "' OR 1=1 --", NULL};
    char ids[2][TASKID_LEN + 1];
    struct store *st = *state;
    struct err e = {0};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int n = -1;

        assert_int_equal(store_task_ids(st, "alice", bad[i], 2, ids, &n, &e), 0);
        assert_int_equal(n, 0);
    }
    assert_int_equal(fakepq_execs_prepared(), 0);
    assert_int_equal(fakepq_connects(), 0);
}

static void test_store_log_messages_ride_on_beats_and_outcomes(void **state)
{
    struct store *st = *state;
    struct err e = {0};

    fakepq_reply_affected(STORE_STMT_HEARTBEAT, 1);
    assert_int_equal(store_task_heartbeat(st, ID, "w-1", CLAIM, 30000, NULL, -1, 0, "[{}]", &e), 0);
    assert_int_equal(fakepq_nparams(STORE_STMT_HEARTBEAT), 8);
    assert_string_equal(fakepq_param(STORE_STMT_HEARTBEAT, 7), "[{}]");
    fakepq_reply_affected(STORE_STMT_FINISH, 1);
    assert_int_equal(store_task_finish(st, ID, "w-1", CLAIM, TASK_COMPLETED, "{}", NULL, -1, 0,
                                       "[{\"level\":\"info\"}]", &e),
                     0);
    assert_int_equal(fakepq_nparams(STORE_STMT_FINISH), 10);
    assert_string_equal(fakepq_param(STORE_STMT_FINISH, 9), "[{\"level\":\"info\"}]");
}

static void test_store_list_reads_a_page_after_a_position(void **state)
{
    struct store *st = *state;
    struct err e = {0};
    struct task_row in[2] = {full_row(), queued_row(OTHER)}, *rows = NULL;
    int n = -1;

    fakepq_reply_tasks(STORE_STMT_LIST, in, 2);
    assert_int_equal(store_task_list(st, "alice", 0, NULL, 51, &rows, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[1].id, OTHER);
    assert_string_equal(fakepq_param(STORE_STMT_LIST, 0), "alice");
    assert_string_equal(fakepq_param(STORE_STMT_LIST, 1), "0"); /* from the start */
    assert_string_equal(fakepq_param(STORE_STMT_LIST, 2), "00000000-0000-0000-0000-000000000000");
    assert_string_equal(fakepq_param(STORE_STMT_LIST, 3), "51");
    for (int i = 0; i < n; i++)
        task_row_fini(&rows[i]);
    free(rows);

    fakepq_reply_tasks(STORE_STMT_LIST, in, 0);
    assert_int_equal(store_task_list(st, "alice", 1795000000123456, ID, 5000, &rows, &n, &e), 0);
    assert_int_equal(n, 0);
    assert_null(rows);
    assert_string_equal(fakepq_param(STORE_STMT_LIST, 1), "1795000000123456");
    assert_string_equal(fakepq_param(STORE_STMT_LIST, 2), ID);
    assert_string_equal(fakepq_param(STORE_STMT_LIST, 3), "100"); /* at most STORE_LIST_MAX */

    assert_int_equal(store_task_list(st, "alice", 1, "nope", 5, &rows, &n, &e), -STORE_EINVALID);
    assert_int_equal(fakepq_execs(STORE_STMT_LIST), 2); /* nothing sent for a bad position */
}

static void test_store_end_input_is_for_the_owner_of_a_waiting_task(void **state)
{
    struct store *st = *state;
    struct err e = {0};

    fakepq_reply_value(STORE_STMT_END_INPUT, ID);
    assert_int_equal(store_task_end_input(st, ID, "alice", "{\"isError\":true}", &e), 0);
    assert_string_equal(fakepq_param(STORE_STMT_END_INPUT, 1), "alice");
    fakepq_reply_tasks(STORE_STMT_END_INPUT, NULL, 0); /* not waiting, foreign or unknown */
    assert_int_equal(store_task_end_input(st, ID, "bob", "{}", &e), -STORE_ENOTFOUND);
    assert_int_equal(store_task_end_input(st, "nope", "alice", "{}", &e), -STORE_ENOTFOUND);
    assert_int_equal(fakepq_execs(STORE_STMT_END_INPUT), 2);
}

/* ---- redispatch and sweep ---- */

static void test_store_redispatch_reads_dispatch_rows(void **state)
{
    struct task_row in[2] = {full_row(), queued_row(OTHER)}, *rows = NULL;
    struct store *st = *state;
    struct err e = {0};
    int n = 0;

    fakepq_reply_rows(STORE_STMT_REDISPATCH, store_row_result(STORE_ROW_DISPATCH, in, 2));
    assert_int_equal(store_redispatch(st, 5000, 10, &rows, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].id, ID);
    assert_string_equal(rows[0].tool, "slow.echo");
    assert_string_equal(rows[0].owner, "alice");
    assert_int_equal(rows[0].attempt, 2);
    assert_string_equal(rows[0].trace, in[0].trace);
    assert_null(rows[0].args); /* not selected */
    assert_string_equal(rows[1].id, OTHER);
    assert_null(rows[1].trace);
    assert_string_equal(fakepq_param(STORE_STMT_REDISPATCH, 0), "5000");
    assert_string_equal(fakepq_param(STORE_STMT_REDISPATCH, 1), "10");
    for (int i = 0; i < n; i++)
        task_row_fini(&rows[i]);
    free(rows);
}

static void test_store_redispatch_hands_back_nothing_on_failure(void **state)
{
    struct task_row in = full_row(), *rows = (struct task_row *)&in;
    struct store *st = *state;
    struct err e = {0};
    int n = 5;

    fakepq_reply_tasks(STORE_STMT_REDISPATCH, &in, 1); /* a task row is the wrong shape */
    assert_int_equal(store_redispatch(st, 5000, 10, &rows, &n, &e), -STORE_EINTERNAL);
    assert_null(rows);
    assert_int_equal(n, 0);
}

struct changed_ids {
    int n;           /* calls so far */
    char ids[4][64]; /* ids told, in order */
};

static void on_changed(void *arg, const char *task_id)
{
    struct changed_ids *c = arg;

    snprintf(c->ids[c->n++ % 4], sizeof(c->ids[0]), "%s", task_id);
}

static void test_store_sweep_counts_and_tells_each_changed_task(void **state)
{
    struct store *st = *state;
    struct changed_ids seen = {0};
    struct sweep_counts c;
    PGresAttDesc attrs[3] = {{.name = (char *)"status", .typlen = -1},
                             {.name = (char *)"id", .typlen = -1},
                             {.name = (char *)"x", .typlen = -1}};
    PGresult *swept = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresult *stats = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    struct err e = {0};

    assert_int_equal(PQsetResultAttrs(swept, 2, attrs), 1);
    assert_int_equal(PQsetvalue(swept, 0, 0, (char *)"queued", 6), 1);
    assert_int_equal(PQsetvalue(swept, 0, 1, (char *)ID, 36), 1);
    assert_int_equal(PQsetvalue(swept, 1, 0, (char *)"failed", 6), 1);
    assert_int_equal(PQsetvalue(swept, 1, 1, (char *)OTHER, 36), 1);
    assert_int_equal(PQsetResultAttrs(stats, 3, attrs), 1);
    assert_int_equal(PQsetvalue(stats, 0, 0, (char *)"12", 2), 1);
    assert_int_equal(PQsetvalue(stats, 0, 1, (char *)"3.25", 4), 1);
    assert_int_equal(PQsetvalue(stats, 0, 2, (char *)"4", 1), 1);
    fakepq_reply_rows(STORE_STMT_SWEEP_LEASES, swept);
    fakepq_reply_affected(STORE_STMT_SWEEP_EXPIRED, 7);
    fakepq_reply_rows(STORE_STMT_QUEUE_STATS, stats);

    assert_int_equal(store_sweep(st, 100, 30000, &c, on_changed, &seen, &e), 0);
    assert_int_equal(c.requeued, 1);
    assert_int_equal(c.failed, 1);
    assert_int_equal(c.expired, 7);
    assert_int_equal(c.queued, 12);
    assert_true(c.oldest_queued_s == 3.25);
    assert_int_equal(c.running, 4);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.ids[0], ID);
    assert_string_equal(seen.ids[1], OTHER);
    assert_string_equal(fakepq_param(STORE_STMT_SWEEP_LEASES, 0), "100");
    assert_string_equal(fakepq_param(STORE_STMT_SWEEP_LEASES, 1), "30000");
}

/* Records the tools store_tool_stats() tells of. */
struct seen_stats {
    int n;                 /* calls */
    char tool[2][16];      /* the first two tools */
    struct tool_stats last; /* the last call's numbers (tool not kept) */
};

static void on_stats(void *arg, const struct tool_stats *s)
{
    struct seen_stats *seen = arg;
    snprintf(seen->tool[seen->n++ % 2], sizeof(seen->tool[0]), "%s", s->tool);
    seen->last = *s;
}

static void test_store_tool_stats_only_for_the_lock_holder(void **state)
{
    struct store *st = *state;
    struct seen_stats seen = {0};
    bool leader = true;
    struct err e = {0};

    fakepq_reply_value(STORE_STMT_STATS_LEADER, "f");
    assert_int_equal(store_tool_stats(st, &leader, on_stats, &seen, &e), 0);
    assert_false(leader);
    assert_int_equal(seen.n, 0);
    assert_int_equal(fakepq_execs(STORE_STMT_TOOL_STATS), 0);

    PGresAttDesc attrs[5] = {{.name = (char *)"tool", .typlen = -1},
                             {.name = (char *)"q", .typlen = -1},
                             {.name = (char *)"a", .typlen = -1},
                             {.name = (char *)"r", .typlen = -1},
                             {.name = (char *)"i", .typlen = -1}};
    PGresult *rows = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    const char *v[2][5] = {{"echo", "3", "1.5", "2", "0"}, {"slow", "0", "0", "1", "4"}};
    assert_int_equal(PQsetResultAttrs(rows, 5, attrs), 1);
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 5; c++)
            assert_int_equal(PQsetvalue(rows, r, c, (char *)v[r][c], (int)strlen(v[r][c])), 1);
    fakepq_reply_value(STORE_STMT_STATS_LEADER, "t");
    fakepq_reply_rows(STORE_STMT_TOOL_STATS, rows);
    assert_int_equal(store_tool_stats(st, &leader, on_stats, &seen, &e), 0);
    assert_true(leader);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.tool[0], "echo");
    assert_string_equal(seen.tool[1], "slow");
    assert_int_equal(seen.last.queued, 0);
    assert_int_equal(seen.last.running, 1);
    assert_int_equal(seen.last.input_required, 4);
}

static void test_store_tool_stats_fails_without_the_database(void **state)
{
    struct store *st = *state;
    struct seen_stats seen = {0};
    bool leader = true;
    struct err e = {0};

    fakepq_fail_connects(2);
    assert_int_equal(store_tool_stats(st, &leader, on_stats, &seen, &e), -STORE_EUNAVAILABLE);
    assert_false(leader);
    assert_int_equal(seen.n, 0);
}

/* ---- ping ---- */

static void test_store_ping_reports_and_recovers(void **state)
{
    struct store *st = *state;

    assert_true(store_ping(st));
    fakepq_reply_error("SELECT 1", "XX000", NULL);
    assert_false(store_ping(st));
    assert_int_equal(fakepq_open_conns(), 1); /* an error is not a lost connection */
    fakepq_reply_error("SELECT 1", "57P01", NULL);
    assert_false(store_ping(st));
    assert_int_equal(fakepq_open_conns(), 0);
    assert_true(store_ping(st));
    assert_int_equal(fakepq_connects(), 2);
    fakepq_fail_connects(1);
    store_free(st);
    *state = st = store_new_with_ops("", NULL, &fakepq_ops);
    assert_false(store_ping(st));
}

/* ---- the default ops ---- */

static void test_store_new_uses_the_default_ops_a_test_sets(void **state)
{
    struct store *st;
    struct err e = {0};

    (void)state;
    store_seam_set_default_ops(&fakepq_ops);
    st = store_new("", "seam");
    store_seam_set_default_ops(NULL);
    assert_non_null(st);
    fakepq_reply_affected(STORE_STMT_RELEASE, 1);
    assert_int_equal(store_task_release(st, ID, "w-1", CLAIM, &e), 0);
    assert_int_equal(fakepq_execs(STORE_STMT_RELEASE), 1);
    store_free(st);
    store_free(NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_store_connects_lazily_and_prepares_every_statement_once),
        T(test_store_sessions_use_generic_plans_and_relax_commits_only_when_asked),
        T(test_store_unreachable_database_is_unavailable),
        T(test_store_create_many_fails_every_task_when_unreachable),
        T(test_store_unmigrated_schema_is_internal_and_not_kept),
        T(test_store_maps_every_statement_failure_by_sqlstate),
        T(test_store_lost_connection_states_are_unavailable_after_one_retry),
        T(test_store_dropped_connection_is_unavailable_and_the_next_call_reconnects),
        T(test_store_sends_a_statement_again_on_a_fresh_connection_after_a_drop),
        T(test_store_failure_inside_a_sweep_stops_it),
        T(test_store_conditional_writes_that_match_nothing_are_lost),
        T(test_store_retry_of_a_task_no_longer_owned_is_lost),
        T(test_store_create_of_an_existing_id_reads_it_back_by_sqlstate),
        T(test_store_create_refused_otherwise_is_invalid_whatever_the_message),
        T(test_store_create_sends_every_field),
        T(test_store_reads_every_column_of_a_task_row),
        T(test_store_reads_sql_nulls_as_absent_fields),
        T(test_store_refuses_rows_it_cannot_read),
        T(test_store_get_of_a_malformed_id_asks_nothing),
        T(test_store_missing_rows_are_not_found),
        T(test_store_cancel_is_idempotent_for_finished_tasks),
        T(test_store_answer_resumes_only_when_queued_again),
        T(test_store_finish_puts_the_outcome_in_its_column),
        T(test_store_finish_claim_tells_the_outcome_and_the_claim_apart),
        T(test_store_heartbeat_sends_progress_only_when_known),
        T(test_store_task_ids_asks_for_the_owners_id_range_newest_first),
        T(test_store_task_ids_of_one_character_reads_the_newest_that_match),
        T(test_store_task_ids_without_a_prefix_reads_the_newest),
        T(test_store_task_ids_clamps_max),
        T(test_store_task_ids_of_an_impossible_prefix_finds_nothing_without_sql),
        T(test_store_log_messages_ride_on_beats_and_outcomes),
        T(test_store_list_reads_a_page_after_a_position),
        T(test_store_end_input_is_for_the_owner_of_a_waiting_task),
        T(test_store_redispatch_reads_dispatch_rows),
        T(test_store_redispatch_hands_back_nothing_on_failure),
        T(test_store_sweep_counts_and_tells_each_changed_task),
        T(test_store_tool_stats_only_for_the_lock_holder),
        T(test_store_tool_stats_fails_without_the_database),
        T(test_store_ping_reports_and_recovers),
        T(test_store_new_uses_the_default_ops_a_test_sets),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
