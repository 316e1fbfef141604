/*
 * metrics.c - the metric registry and its text exposition.
 *
 * Metrics sharing a name are rendered under one # HELP / # TYPE header, in
 * registration order; register all series of one name together.  Histogram
 * buckets are counted per bucket and summed into the cumulative le= series
 * when rendered, so one observation is two atomic adds and one store.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct metric *head, **tail = &head;

const double metrics_bounds_fast[12] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                        0.1,   0.25,   0.5,   1,    2.5,   10};
const double metrics_bounds_slow[14] = {0.01, 0.05, 0.1, 0.25, 0.5, 1,   2.5,
                                        5,    10,   30,  60,   300, 900, 3600};

METRIC_DEFINE(m_build, METRIC_GAUGE, "taskwire_build_info", "version=\"" TASKWIRE_VERSION "\"",
              "Always 1; the version label names the build");

/*
 * Append 'm' to the process-wide registry.  'm' must have static storage and
 * must not be registered twice.  Not thread-safe: call before any thread
 * reads or renders metrics.
 */
void metrics_register(struct metric *m)
{
    m->next = NULL;
    *tail = m;
    tail = &m->next;
}

/* Register the build info gauge (value 1).  Call once, at start-up. */
void metrics_build_info_register(void)
{
    metrics_set(&m_build, 1);
    metrics_register(&m_build);
}

/*
 * Count one observation of 'seconds' (negative values count as 0) in the
 * first bucket whose bound is >= it (none: only +Inf), the count and the sum.
 */
void metrics_observe(struct metric *m, double seconds)
{
    if (!(seconds > 0))
        seconds = 0;
    int i = 0;
    while (i < m->nbounds && seconds > m->bounds[i])
        i++;
    if (i < m->nbounds)
        atomic_fetch_add_explicit(&m->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_us, (int64_t)(seconds * 1e6), memory_order_relaxed);
    atomic_fetch_add_explicit(&m->value, 1, memory_order_relaxed);
}

/* The _bucket, _sum and _count lines of histogram 'm'. */
static void render_histogram(FILE *f, struct metric *m)
{
    const char *sep = m->labels ? "," : "";
    const char *labels = m->labels ? m->labels : "";
    long long cum = 0;
    for (int i = 0; i < m->nbounds; i++) {
        cum += (long long)atomic_load_explicit(&m->bucket[i], memory_order_relaxed);
        fprintf(f, "%s_bucket{%s%sle=\"%g\"} %lld\n", m->name, labels, sep, m->bounds[i], cum);
    }
    long long count = (long long)atomic_load_explicit(&m->value, memory_order_relaxed);
    if (count < cum) /* an observation between its bucket add and its count add */
        count = cum;
    fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} %lld\n", m->name, labels, sep, count);
    double sum = (double)atomic_load_explicit(&m->sum_us, memory_order_relaxed) / 1e6;
    if (m->labels) {
        fprintf(f, "%s_sum{%s} %.6f\n", m->name, labels, sum);
        fprintf(f, "%s_count{%s} %lld\n", m->name, labels, count);
    } else {
        fprintf(f, "%s_sum %.6f\n%s_count %lld\n", m->name, sum, m->name, count);
    }
}

static const char *type_name(enum metric_type t)
{
    return t == METRIC_COUNTER ? "counter" : t == METRIC_GAUGE ? "gauge" : "histogram";
}

/*
 * Render the registry as Prometheus text format 0.0.4.  Safe to call from
 * any thread once registration is over.  Returns a new string (caller frees)
 * or NULL when out of memory.
 */
char *metrics_render(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    const char *last = NULL;
    for (struct metric *m = head; m; m = m->next) {
        /* The header even when every series is hidden: the family stays discoverable. */
        if (!last || strcmp(last, m->name) != 0)
            fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name,
                    type_name(m->type));
        last = m->name;
        if (atomic_load_explicit(&m->hidden, memory_order_relaxed))
            continue;
        if (m->type == METRIC_HISTOGRAM) {
            render_histogram(f, m);
            continue;
        }
        long long v = (long long)atomic_load_explicit(&m->value, memory_order_relaxed);
        if (m->labels)
            fprintf(f, "%s{%s} %lld\n", m->name, m->labels, v);
        else
            fprintf(f, "%s %lld\n", m->name, v);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Write label="value" into 'buf', escaping \, " and newline; false if it does not fit. */
bool metrics_label(char *buf, size_t n, const char *label, const char *value)
{
    size_t o = 0;
    int w = snprintf(buf, n, "%s=\"", label);
    if (w < 0 || (size_t)w >= n)
        return false;
    o = (size_t)w;
    for (const char *p = value; *p; p++) {
        const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;
        size_t k = esc ? 2 : 1;
        if (o + k + 2 > n)
            return false;
        memcpy(buf + o, esc ? esc : p, k);
        o += k;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return true;
}

/* The labels text of series 'key' of a set: label="key"[,extra]; NULL when out of memory. */
static char *set_labels(const char *label, const char *key, const char *extra)
{
    size_t n = strlen(label) + 2 * strlen(key) + (extra ? strlen(extra) : 0) + 8;
    char *l = malloc(n);
    if (!l)
        return NULL;
    if (!metrics_label(l, n, label, key)) {
        free(l);
        return NULL;
    }
    if (extra) {
        strcat(l, ",");
        strcat(l, extra);
    }
    return l;
}

/*
 * Build the n series of a set and register them, in key order.  The
 * series stay registered for the life of the process (the registry keeps
 * pointers to them), so they are never freed.  On failure nothing has been
 * registered and everything allocated is released.
 */
int metrics_set_init(struct metric_set *s, enum metric_type type, const char *name,
                     const char *help, const char *label, const char *extra,
                     const char *const *keys, int n, const double *bounds, int nbounds)
{
    memset(s, 0, sizeof(*s));
    s->keys = calloc((size_t)(n ? n : 1), sizeof(*s->keys));
    s->m = calloc((size_t)(n ? n : 1), sizeof(*s->m));
    if (!s->keys || !s->m)
        goto out_free;
    for (int i = 0; i < n; i++) {
        char *l = set_labels(label, keys[i], extra);
        if (!l || !(s->keys[i] = strdup(keys[i]))) {
            free(l);
            goto out_free;
        }
        struct metric *m = &s->m[i];
        *m = (struct metric){.name = name, .help = help, .labels = l, .type = type};
        if (type == METRIC_HISTOGRAM) {
            m->bounds = bounds;
            m->nbounds = nbounds < METRICS_MAX_BUCKETS ? nbounds : METRICS_MAX_BUCKETS;
        }
        s->n = i + 1;
    }
    for (int i = 0; i < n; i++)
        metrics_register(&s->m[i]);
    return 0;
out_free:
    for (int i = 0; i < s->n; i++) {
        free((char *)s->m[i].labels);
        free(s->keys[i]);
    }
    free(s->keys);
    free(s->m);
    memset(s, 0, sizeof(*s));
    return -METRICS_ENOMEM;
}

/* The series of 'key', or NULL (a value outside the set never gets a series). */
struct metric *metrics_set_get(const struct metric_set *s, const char *key)
{
    if (!key)
        return NULL;
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->keys[i], key) == 0)
            return &s->m[i];
    return NULL;
}

/* Hide (true) or show every series of the set. */
void metrics_set_hide(struct metric_set *s, bool hidden)
{
    for (int i = 0; i < s->n; i++)
        atomic_store_explicit(&s->m[i].hidden, hidden, memory_order_relaxed);
}

/* Set every series of the set to 0. */
void metrics_set_zero(struct metric_set *s)
{
    for (int i = 0; i < s->n; i++)
        metrics_set(&s->m[i], 0);
}
