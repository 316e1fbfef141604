/*
 * createq.h - group commit of the tasks a frontend's threads create at once.
 *
 * A thread that creates a task queues it and, when no other thread is
 * writing, writes it together with every task queued behind it (at most
 * 'max_batch') in one statement and one commit on its own connection.  While
 * that runs, the next tasks queue up for the next writer.  Alone, a task is
 * written at once, as store_task_create() would: nothing waits for company.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CREATEQ_H
#define TASKWIRE_CREATEQ_H

#include "err.h"
#include "store.h"

struct createq;

/* Writes t[0..n) through 'st' as store_task_create_many() does (the seam of the tests). */
typedef void createq_write_fn(struct store *st, const struct task_new *t, int n,
                              struct task_row *out, int *rcs, struct err *errs);

/* A queue writing at most max_batch (>= 1) tasks per statement through 'write' (NULL:
 * store_task_create_many); NULL when out of memory. */
struct createq *createq_new(int max_batch, createq_write_fn *write);
void createq_free(struct createq *q);

/* store_task_create(st, t, out, err), perhaps in one commit with tasks other threads
 * create at the same time; 'st' is the caller's own connection. */
MUST_CHECK int createq_create(struct createq *q, struct store *st, const struct task_new *t,
                              struct task_row *out, struct err *err);

/* Tasks queued now, not yet taken by a writer (for tests). */
int createq_waiting(struct createq *q);

/* Register the queue's metrics (once per process). */
void createq_metrics_register(void);

#endif
