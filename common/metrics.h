/*
 * metrics.h - counters and gauges in Prometheus text format 0.0.4.
 *
 * Metrics are registered at start-up (before threads), with fixed label
 * sets, then updated lock-free with atomics from any thread.  Never use task
 * or user ids as labels.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_METRICS_H
#define TASKWIRE_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

enum metric_type { METRIC_COUNTER, METRIC_GAUGE };

struct metric {
    const char *name;       /* e.g. "taskwire_tasks_created_total" */
    const char *help;       /* # HELP text */
    const char *labels;     /* e.g. "status=\"completed\"", or NULL */
    enum metric_type type;  /* counter or gauge */
    _Atomic int64_t value;  /* current value */
    struct metric *next;    /* registry list */
};

/* Define a static metric 'var'; register it with metrics_register(&var). */
#define METRIC_DEFINE(var, kind, metric_name, metric_labels, metric_help)                          \
    static struct metric var = {.name = metric_name, .help = metric_help,                          \
                                .labels = metric_labels, .type = kind}

/* Register 'm' (static storage) in the process-wide registry. Not thread-safe. */
void metrics_register(struct metric *m);
static inline void metrics_add(struct metric *m, int64_t n)
{
    atomic_fetch_add_explicit(&m->value, n, memory_order_relaxed);
}
static inline void metrics_set(struct metric *m, int64_t v)
{
    atomic_store_explicit(&m->value, v, memory_order_relaxed);
}
/* Render every registered metric; returns a new malloc'd string or NULL. */
char *metrics_render(void);

#endif
