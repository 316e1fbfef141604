/*
 * redispatch.c - the frontend's redispatch thread.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "redispatch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

#define REDISPATCH_BATCH 200

struct redispatcher {
    pthread_t thread;        /* the loop */
    atomic_bool stop;        /* ask it to end */
    struct store *store;     /* its own connection */
    struct dispatch *fabric; /* where jobs go (thread-safe) */
    int64_t interval_ms;     /* pass period and staleness threshold */
};

METRIC_DEFINE(m_redispatched, METRIC_COUNTER, "taskwire_redispatches_total", NULL,
              "Queued tasks pushed again because no worker claimed them in time");

static void push_row(struct redispatcher *r, const struct task_row *row)
{
    if (dispatch_push_task(r->fabric, row->id, row->attempt, row->trace) == 0)
        metrics_add(&m_redispatched, 1);
}

static void *loop(void *arg)
{
    struct redispatcher *r = arg;
    while (!atomic_load(&r->stop)) {
        struct task_row *rows = NULL;
        int n = 0;
        if (store_redispatch(r->store, r->interval_ms, REDISPATCH_BATCH, &rows, &n, NULL) == 0) {
            for (int i = 0; i < n; i++) {
                push_row(r, &rows[i]);
                task_row_fini(&rows[i]);
            }
            free(rows);
        }
        /* Sleep in short steps so a stop is prompt. */
        for (int64_t slept = 0; slept < r->interval_ms && !atomic_load(&r->stop); slept += 100)
            clock_sleep_ms(100);
    }
    return NULL;
}

/*
 * Start the redispatch thread with its own PostgreSQL connection.  Returns
 * NULL when out of resources.
 */
struct redispatcher *redispatch_start(const char *pg_dsn, struct dispatch *fabric,
                                      int64_t interval_ms)
{
    struct redispatcher *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->fabric = fabric;
    r->interval_ms = interval_ms;
    r->store = store_new(pg_dsn, "taskwire-frontend-redispatch");
    metrics_register(&m_redispatched);
    if (!r->store || pthread_create(&r->thread, NULL, loop, r) != 0) {
        store_free(r->store);
        free(r);
        return NULL;
    }
    return r;
}

void redispatch_stop(struct redispatcher *r)
{
    if (!r)
        return;
    atomic_store(&r->stop, true);
    pthread_join(r->thread, NULL);
    store_free(r->store);
    free(r);
}
