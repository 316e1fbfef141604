/*
 * metrics.h - counters, gauges and histograms in Prometheus text format 0.0.4.
 *
 * Metrics are registered at start-up (before threads), with fixed label
 * sets, then updated lock-free with atomics from any thread.  Never use task
 * or user ids as labels; a label value must come from a bounded set fixed at
 * start-up (a catalog tool name, a status), never from a request.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_METRICS_H
#define TASKWIRE_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

#define METRICS_MAX_BUCKETS 16 /* finite upper bounds of one histogram */
#define METRICS_ENOMEM      1  /* returned negated: out of memory */

struct metric {
    const char *name;       /* e.g. "taskwire_tasks_created_total" */
    const char *help;       /* # HELP text */
    const char *labels;     /* e.g. "status=\"completed\"", or NULL */
    enum metric_type type;  /* counter, gauge or histogram */
    _Atomic int64_t value;  /* current value; for a histogram, the count of observations */
    const double *bounds;   /* histogram: increasing finite upper bounds (seconds), else NULL */
    int nbounds;            /* entries of 'bounds', <= METRICS_MAX_BUCKETS */
    _Atomic int64_t bucket[METRICS_MAX_BUCKETS]; /* histogram: observations <= bounds[i]
                                                    (not cumulative; summed when rendered) */
    _Atomic int64_t sum_us; /* histogram: sum of observations, millionths */
    _Atomic bool hidden;    /* no sample rendered, only the # HELP/# TYPE header (a gauge
                               this process does not compute now) */
    struct metric *next;    /* registry list */
};

/* Define a static metric 'var'; register it with metrics_register(&var). */
#define METRIC_DEFINE(var, kind, metric_name, metric_labels, metric_help)                          \
    static struct metric var = {.name = metric_name, .help = metric_help,                          \
                                .labels = metric_labels, .type = kind}
/* Entries of the bounds array 'b' (an array, not a pointer). */
#define METRICS_NBOUNDS(b) ((int)(sizeof(b) / sizeof((b)[0])))
/* Define a static histogram 'var' with upper bounds 'b' (a static array). */
#define METRIC_HISTOGRAM_DEFINE(var, metric_name, metric_labels, metric_help, b)                   \
    static struct metric var = {.name = metric_name, .help = metric_help,                          \
                                .labels = metric_labels, .type = METRIC_HISTOGRAM,                 \
                                .bounds = b, .nbounds = METRICS_NBOUNDS(b)}

/* Bounds (seconds) for fast things: HTTP requests, dispatch, claims. */
extern const double metrics_bounds_fast[12];
/* Bounds (seconds) for slow things: queue waits, task runs. */
extern const double metrics_bounds_slow[14];

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
/* Record one observation of 'seconds' in histogram 'm'. Thread-safe. */
void metrics_observe(struct metric *m, double seconds);
/* Register taskwire_build_info{version="..."} 1. Not thread-safe; call at start-up. */
void metrics_build_info_register(void);
/* Render every registered metric; returns a new malloc'd string or NULL. */
char *metrics_render(void);

/*
 * A family of series of one name told apart by one label whose values are
 * fixed at start-up (e.g. tool="..." for every catalog tool).  A value not
 * in the set has no series: metrics_set_get() returns NULL for it.
 */
struct metric_set {
    int n;              /* series */
    char **keys;        /* label value of each series (owned) */
    struct metric *m;   /* the series (owned; registered, so never freed) */
};

/* Build and register one series of 'name' per value in keys[0..n), labelled
 * label="value" followed by 'extra' (e.g. "status=\"failed\"", or NULL).  'bounds'
 * (nbounds entries) is used when 'type' is METRIC_HISTOGRAM.  Not thread-safe;
 * call at start-up.  0 or -METRICS_ENOMEM. */
MUST_CHECK int metrics_set_init(struct metric_set *s, enum metric_type type,
                                const char *name, const char *help, const char *label,
                                const char *extra, const char *const *keys, int n,
                                const double *bounds, int nbounds);
/* The series for label value 'key', or NULL when 'key' is not in the set. */
struct metric *metrics_set_get(const struct metric_set *s, const char *key);
/* Show or hide every series of the set (hidden series are not rendered). */
void metrics_set_hide(struct metric_set *s, bool hidden);
/* Set every series of the set to 0. */
void metrics_set_zero(struct metric_set *s);
/* Write label="value" into buf (value escaped as the text format needs); false when it
 * does not fit. */
bool metrics_label(char *buf, size_t n, const char *label, const char *value);

#endif
