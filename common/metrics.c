/*
 * metrics.c - the metric registry and its text exposition.
 *
 * Metrics sharing a name are rendered under one # HELP / # TYPE header, in
 * registration order; register all series of one name together.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct metric *head, **tail = &head;

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
        if (!last || strcmp(last, m->name) != 0)
            fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name,
                    m->type == METRIC_COUNTER ? "counter" : "gauge");
        last = m->name;
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
