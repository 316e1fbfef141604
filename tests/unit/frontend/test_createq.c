/*
 * test_createq.c - group commit of new tasks: who writes, what one statement holds,
 * and that every creating thread gets its own outcome.
 *
 * The queue writes through a seam; here a fake that records each batch and can
 * hold the first one until the other threads have queued (createq_waiting), so
 * the batches are known without any sleep.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "clock.h"
#include "createq.h"
#include "taskid.h"

#define THREADS 8
#define DEADLINE_MS 10000

static struct createq *queue;  /* the queue under test */
static int hold_for;           /* the first write waits until this many tasks queue */
static int batches[THREADS];   /* tasks of each write, in order */
static int writes;             /* writes so far */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* The seam: answers each task with a row carrying its id, or -STORE_ELIMIT for a task
 * whose max_live is 1 (a refusal of its own). */
static void fake_write(struct store *st, const struct task_new *t, int n, struct task_row *out,
                       int *rcs, struct err *errs)
{
    (void)st;
    pthread_mutex_lock(&mu);
    bool first = writes == 0;
    batches[writes++] = n;
    pthread_mutex_unlock(&mu);
    int64_t until = clock_now_ms() + DEADLINE_MS;
    while (first && hold_for > 0 && createq_waiting(queue) < hold_for && clock_now_ms() < until)
        sched_yield();
    for (int i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        rcs[i] = t[i].max_live == 1 ? err_set(&errs[i], -STORE_ELIMIT, "capped %s", t[i].id) : 0;
        if (rcs[i] == 0)
            snprintf(out[i].id, sizeof(out[i].id), "%s", t[i].id);
    }
}

static int writes_so_far(void)
{
    pthread_mutex_lock(&mu);
    int n = writes;
    pthread_mutex_unlock(&mu);
    return n;
}

/* One creating thread: its own task, its own outcome. */
struct creator {
    pthread_t th;
    char id[TASKID_LEN + 1];
    int max_live;
    int rc;
    struct task_row row;
    struct err err;
};

static void *create_one(void *arg)
{
    struct creator *c = arg;
    struct task_new t = {.id = c->id, .owner = "o", .tool = "echo", .args = "{}",
                         .ttl_ms = 1000, .poll_interval_ms = 100, .max_attempts = 1,
                         .max_live = c->max_live};
    c->rc = createq_create(queue, NULL, &t, &c->row, &c->err);
    return NULL;
}

/* Start creator 0, which writes alone and holds its write until the others queue, then
 * creators 1..n-1; wait for all. */
static void run_creators(struct creator *c, int n, int max_batch)
{
    queue = createq_new(max_batch, fake_write);
    assert_non_null(queue);
    writes = 0;
    hold_for = n - 1;
    for (int i = 0; i < n; i++) {
        assert_int_equal(taskid_new(c[i].id), 0);
        assert_int_equal(pthread_create(&c[i].th, NULL, create_one, &c[i]), 0);
        if (i == 0) /* creator 0 is the writer before anyone else queues */
            while (writes_so_far() == 0)
                sched_yield();
    }
    for (int i = 0; i < n; i++)
        pthread_join(c[i].th, NULL);
    createq_free(queue);
}

static void test_createq_writes_alone_at_once(void **state)
{
    (void)state;
    struct creator c = {0};
    run_creators(&c, 1, 16);
    assert_int_equal(writes, 1);
    assert_int_equal(batches[0], 1);
    assert_int_equal(c.rc, 0);
    assert_string_equal(c.row.id, c.id);
}

static void test_createq_writes_concurrent_creates_in_one_statement(void **state)
{
    (void)state;
    struct creator c[THREADS] = {0};
    run_creators(c, THREADS, 16);
    assert_int_equal(writes, 2); /* the first alone, then every one that queued behind it */
    assert_int_equal(batches[1], THREADS - 1);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(c[i].rc, 0);
        assert_string_equal(c[i].row.id, c[i].id); /* each thread its own row */
    }
}

static void test_createq_keeps_each_statement_under_max_batch(void **state)
{
    (void)state;
    struct creator c[THREADS] = {0};
    run_creators(c, THREADS, 3);
    assert_int_equal(writes, 4); /* 1, then the 7 queued as 3 + 3 + 1 */
    assert_int_equal(batches[1], 3);
    assert_int_equal(batches[2], 3);
    assert_int_equal(batches[3], 1);
    for (int i = 0; i < THREADS; i++)
        assert_string_equal(c[i].row.id, c[i].id);
}

static void test_createq_gives_a_refusal_only_to_its_task(void **state)
{
    (void)state;
    struct creator c[THREADS] = {0};
    c[3].max_live = 1;
    run_creators(c, THREADS, 16);
    assert_int_equal(writes, 2);
    for (int i = 0; i < THREADS; i++) {
        if (i == 3) {
            assert_int_equal(c[i].rc, -STORE_ELIMIT);
            assert_non_null(strstr(c[i].err.msg, c[i].id));
        } else {
            assert_int_equal(c[i].rc, 0);
            assert_string_equal(c[i].row.id, c[i].id);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_createq_writes_alone_at_once),
        cmocka_unit_test(test_createq_writes_concurrent_creates_in_one_statement),
        cmocka_unit_test(test_createq_keeps_each_statement_under_max_batch),
        cmocka_unit_test(test_createq_gives_a_refusal_only_to_its_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
