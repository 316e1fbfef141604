/*
 * otlp.c - spans to an OTLP/HTTP collector, JSON encoding, in batches.
 *
 * Producers copy a span into a fixed ring under a mutex; one thread takes
 * up to OTLP_BATCH at a time, encodes them with jansson and POSTs them with
 * libcurl (short timeouts).  A full ring drops the new span.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "otlp.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"

#define OTLP_BATCH      256  /* spans in one request at most */
#define OTLP_PERIOD_MS  200  /* longest wait before queued spans are sent */
#define OTLP_TIMEOUT_MS 2000 /* one export request at most */

METRIC_DEFINE(m_sent, METRIC_COUNTER, "taskwire_otlp_spans_total", "result=\"sent\"",
              "Spans exported with OTLP (sent) or lost (dropped: queue full or export failed)");
METRIC_DEFINE(m_dropped, METRIC_COUNTER, "taskwire_otlp_spans_total", "result=\"dropped\"",
              "Spans exported with OTLP (sent) or lost (dropped: queue full or export failed)");

static struct {
    bool on;                           /* otlp_start() succeeded */
    char url[512];                     /* <endpoint>/v1/traces */
    char service[64];                  /* resource service.name */
    pthread_t thread;                  /* the exporter */
    pthread_mutex_t mu;                /* guards what follows */
    pthread_cond_t cv;                 /* spans queued, or stop */
    bool stop;                         /* the exporter must flush and exit */
    struct otlp_span ring[OTLP_QUEUE]; /* queued spans */
    int head, count;                   /* first queued, how many */
} ex = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Register the export counters. */
void otlp_metrics_register(void)
{
    metrics_register(&m_sent);
    metrics_register(&m_dropped);
}

/* The span 's' as an OTLP JSON Span object (ids in hex, times as decimal strings). */
static json_t *span_json(const struct otlp_span *s)
{
    char start[24], end[24];
    snprintf(start, sizeof(start), "%lld", (long long)s->start_us * 1000);
    snprintf(end, sizeof(end), "%lld", (long long)s->end_us * 1000);
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:i, s:s, s:s}", "traceId", s->trace_id, "spanId", s->span_id,
                  "name", s->name, "kind", 1, "startTimeUnixNano", start, "endTimeUnixNano", end);
    if (o && s->parent_id[0])
        json_object_set_new(o, "parentSpanId", json_string(s->parent_id));
    if (o && s->attr_key[0])
        json_object_set_new(o, "attributes",
                            json_pack("[{s:s, s:{s:s}}]", "key", s->attr_key, "value",
                                      "stringValue", s->attr_value));
    return o;
}

/* The ExportTraceServiceRequest of spans[0..n). */
static json_t *request_json(const struct otlp_span *spans, int n)
{
    json_t *list = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(list, span_json(&spans[i]));
    return json_pack("{s:[{s:{s:[{s:s, s:{s:s}}]}, s:[{s:{s:s, s:s}, s:o}]}]}", "resourceSpans",
                     "resource", "attributes", "key", "service.name", "value", "stringValue",
                     ex.service, "scopeSpans", "scope", "name", "taskwire", "version",
                     TASKWIRE_VERSION, "spans", list);
}

/* POST spans[0..n) to the collector; true when it answered 2xx. */
static bool post(const struct otlp_span *spans, int n)
{
    json_t *req = request_json(spans, n);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    CURL *c = body ? curl_easy_init() : NULL;
    long status = 0;
    if (c) {
        struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_URL, ex.url);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)OTLP_TIMEOUT_MS);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        if (curl_easy_perform(c) == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
    }
    free(body);
    return status >= 200 && status < 300;
}

/* The exporter: wait for spans (or the period), send a batch, until stopped and empty. */
static void *export_main(void *arg)
{
    (void)arg;
    static struct otlp_span batch[OTLP_BATCH];
    pthread_mutex_lock(&ex.mu);
    for (;;) {
        while (!ex.count && !ex.stop) {
            struct timespec dl = clock_deadline_in(OTLP_PERIOD_MS);
            pthread_cond_timedwait(&ex.cv, &ex.mu, &dl);
        }
        if (!ex.count && ex.stop)
            break;
        int n = ex.count < OTLP_BATCH ? ex.count : OTLP_BATCH;
        for (int i = 0; i < n; i++)
            batch[i] = ex.ring[(ex.head + i) % OTLP_QUEUE];
        ex.head = (ex.head + n) % OTLP_QUEUE;
        ex.count -= n;
        pthread_mutex_unlock(&ex.mu);
        metrics_add(post(batch, n) ? &m_sent : &m_dropped, n);
        pthread_mutex_lock(&ex.mu);
    }
    pthread_mutex_unlock(&ex.mu);
    return NULL;
}

/* Start exporting to <endpoint>/v1/traces; off for NULL or "". */
int otlp_start(const char *endpoint, const char *service, struct err *err)
{
    if (!endpoint || !endpoint[0])
        return 0;
    size_t n = strlen(endpoint);
    while (n && endpoint[n - 1] == '/')
        n--;
    if ((strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0) ||
        n + 11 > sizeof(ex.url))
        return err_set(err, -OTLP_EINVALID, "OTLP endpoint '%s' is not an http(s) URL", endpoint);
    snprintf(ex.url, sizeof(ex.url), "%.*s/v1/traces", (int)n, endpoint);
    snprintf(ex.service, sizeof(ex.service), "%s", service);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (clock_cond_init(&ex.cv) != 0 || pthread_create(&ex.thread, NULL, export_main, NULL) != 0)
        return err_set(err, -OTLP_ESTART, "cannot start the OTLP export thread");
    ex.on = true;
    return 0;
}

/* Queue a copy of 's'; drop it when the ring is full. */
void otlp_emit(const struct otlp_span *s)
{
    if (!ex.on)
        return;
    pthread_mutex_lock(&ex.mu);
    bool full = ex.count == OTLP_QUEUE;
    if (!full) {
        ex.ring[(ex.head + ex.count) % OTLP_QUEUE] = *s;
        ex.count++;
        pthread_cond_signal(&ex.cv);
    }
    pthread_mutex_unlock(&ex.mu);
    if (full)
        metrics_add(&m_dropped, 1);
}

/* Flush and stop the exporter (a no-op when it never started). */
void otlp_stop(void)
{
    if (!ex.on)
        return;
    pthread_mutex_lock(&ex.mu);
    ex.stop = true;
    pthread_cond_signal(&ex.cv);
    pthread_mutex_unlock(&ex.mu);
    pthread_join(ex.thread, NULL);
    ex.on = false;
}
