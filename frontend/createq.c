/*
 * createq.c - group commit of the tasks a frontend's threads create at once.
 *
 * Leader and followers: each creating thread puts its task on a FIFO list
 * and sleeps on its own condition variable.  A thread that finds no writer
 * becomes the writer: it takes the oldest tasks (its own among them, or
 * not), writes them outside the lock, hands each its outcome and wakes its
 * thread, then wakes the oldest task still queued, whose thread writes the
 * next batch.  A task is acknowledged only after the commit that wrote it,
 * as before: the batch changes how many commits there are, not what a reply
 * promises.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "createq.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "metrics.h"

#define CREATEQ_BATCH_LIMIT 32 /* most tasks one statement writes, whatever max_batch says */

METRIC_DEFINE(m_writes, METRIC_COUNTER, "taskwire_create_writes_total", NULL,
              "Statements (commits) that wrote new tasks; taskwire_tasks_created_total over this"
              " is the tasks per commit");

void createq_metrics_register(void)
{
    metrics_register(&m_writes);
}

/* One task waiting to be written, on its creating thread's stack. */
struct createq_item {
    const struct task_new *t;
    struct task_row *out;
    struct err err;
    int rc;
    bool done;
    pthread_cond_t cv;         /* signalled when done, or when this item's thread must write */
    struct createq_item *next; /* queued after this one */
};

struct createq {
    pthread_mutex_t mu;        /* guards everything below and every queued item */
    struct createq_item *head; /* oldest queued task */
    struct createq_item *tail;
    bool writing; /* a thread is writing a batch now */
    int max_batch;
    createq_write_fn *write;
};

struct createq *createq_new(int max_batch, createq_write_fn *write)
{
    struct createq *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    pthread_mutex_init(&q->mu, NULL);
    q->max_batch = max_batch < 1                     ? 1
                   : max_batch > CREATEQ_BATCH_LIMIT ? CREATEQ_BATCH_LIMIT
                                                     : max_batch;
    q->write = write ? write : store_task_create_many;
    return q;
}

void createq_free(struct createq *q)
{
    if (!q)
        return;
    pthread_mutex_destroy(&q->mu);
    free(q);
}

int createq_waiting(struct createq *q)
{
    pthread_mutex_lock(&q->mu);
    int n = 0;
    for (const struct createq_item *it = q->head; it; it = it->next)
        n++;
    pthread_mutex_unlock(&q->mu);
    return n;
}

/* Take the oldest queued items, at most max_batch, into batch[]; caller holds the lock. */
static int take(struct createq *q, struct createq_item **batch)
{
    int n = 0;
    while (q->head && n < q->max_batch) {
        batch[n++] = q->head;
        q->head = q->head->next;
    }
    if (!q->head)
        q->tail = NULL;
    return n;
}

/* Write batch[0..n) through 'st' (the lock not held) and hand out the outcomes. */
static void write_batch(struct createq *q, struct store *st, struct createq_item **batch, int n)
{
    struct task_new t[CREATEQ_BATCH_LIMIT] = {0};
    struct task_row out[CREATEQ_BATCH_LIMIT];
    struct err errs[CREATEQ_BATCH_LIMIT] = {0};
    int rcs[CREATEQ_BATCH_LIMIT];
    for (int i = 0; i < n; i++)
        t[i] = *batch[i]->t;
    q->write(st, t, n, out, rcs, errs);
    metrics_add(&m_writes, 1);
    pthread_mutex_lock(&q->mu);
    for (int i = 0; i < n; i++) {
        struct createq_item *it = batch[i];
        it->rc = rcs[i];
        if (rcs[i] == 0)
            *it->out = out[i];
        else
            it->err = errs[i];
        it->done = true;
        pthread_cond_signal(&it->cv);
    }
    q->writing = false;
    if (q->head) /* the next writer */
        pthread_cond_signal(&q->head->cv);
    pthread_mutex_unlock(&q->mu);
}

int createq_create(struct createq *q, struct store *st, const struct task_new *t,
                   struct task_row *out, struct err *err)
{
    struct createq_item it = {.t = t, .out = out};
    pthread_cond_init(&it.cv, NULL);
    pthread_mutex_lock(&q->mu);
    if (q->tail)
        q->tail->next = &it;
    else
        q->head = &it;
    q->tail = &it;
    while (!it.done) {
        if (q->writing) {
            pthread_cond_wait(&it.cv, &q->mu);
            continue;
        }
        struct createq_item *batch[CREATEQ_BATCH_LIMIT];
        int n = take(q, batch);
        q->writing = true;
        pthread_mutex_unlock(&q->mu);
        write_batch(q, st, batch, n);
        pthread_mutex_lock(&q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    pthread_cond_destroy(&it.cv);
    if (it.rc < 0 && err)
        *err = it.err;
    return it.rc;
}
