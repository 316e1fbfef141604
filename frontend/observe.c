/*
 * observe.c - request latency histograms and the request's trace.
 *
 * The method label takes only the names below ("other" for any other, "none"
 * when the body was not a JSON-RPC request), so a client cannot make series.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "observe.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "otlp.h"

/* The method label values; the last three are the catch-alls. */
static const char *const methods[] = {
    "initialize",
    "ping",
    "server/discover",
    "tools/list",
    "tools/call",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
    "tasks/list",
    "tasks/result",
    "subscriptions/listen",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "notification",
    "other",
    "none",
};
#define N_METHODS ((int)(sizeof(methods) / sizeof(methods[0])))
#define M_NOTIFY  (N_METHODS - 3)
#define M_OTHER   (N_METHODS - 2)
#define M_NONE    (N_METHODS - 1)

enum { CLASS_2XX, CLASS_4XX, CLASS_5XX, CLASSES };
static const char *const class_labels[CLASSES] = {
    "class=\"2xx\"",
    "class=\"4xx\"",
    "class=\"5xx\"",
};
static struct metric_set latency[CLASSES];

/* Register one histogram series per method and class (a failure leaves a class
 * without series: its requests are then not observed). */
void observe_metrics_register(void)
{
    for (int c = 0; c < CLASSES; c++)
        if (metrics_set_init(&latency[c], METRIC_HISTOGRAM,
                             "taskwire_http_request_duration_seconds",
                             "Time from a request's headers to the end of its response, by MCP "
                             "method and status class",
                             "method", class_labels[c], methods, N_METHODS, metrics_bounds_fast,
                             METRICS_NBOUNDS(metrics_bounds_fast)) < 0)
            LOG_WARN("out of memory: request latencies of a status class are not recorded");
}

/* Note the start of a request. */
void observe_begin(struct observe *o)
{
    o->start_us = clock_now_us();
    o->method = -1;
    o->trace.trace_id[0] = '\0';
}

/* The method's series index: a known name, a notification, another name, or none. */
static int method_index(const char *method)
{
    if (!method)
        return M_NONE;
    for (int i = 0; i < M_NOTIFY; i++)
        if (strcmp(methods[i], method) == 0)
            return i;
    return strncmp(method, "notifications/", 14) == 0 ? M_NOTIFY : M_OTHER;
}

/* Take the method and start the request's span. */
void observe_request(struct observe *o, const char *method, const json_t *meta)
{
    o->method = method_index(method);
    trace_begin(&o->trace, json_string_value(json_object_get(meta, "traceparent")),
                json_string_value(json_object_get(meta, "tracestate")));
    trace_log_begin(&o->trace);
}

/* Stop tagging this thread's log lines. */
void observe_handled(struct observe *o)
{
    (void)o;
    trace_log_end();
}

/* Export the request's span ("POST <method>"), when it was parsed (so has a trace). */
static void emit_span(const struct observe *o, int status, int64_t took_us)
{
    if (!o->trace.trace_id[0])
        return;
    struct otlp_span sp = {.end_us = clock_wall_ms() * 1000, .attr_key = "http.response.status_code"};
    sp.start_us = sp.end_us - took_us;
    memcpy(sp.trace_id, o->trace.trace_id, sizeof(sp.trace_id));
    memcpy(sp.span_id, o->trace.span_id, sizeof(sp.span_id));
    memcpy(sp.parent_id, o->trace.caller, sizeof(sp.parent_id));
    snprintf(sp.name, sizeof(sp.name), "POST %s", methods[o->method < 0 ? M_NONE : o->method]);
    snprintf(sp.attr_value, sizeof(sp.attr_value), "%d", status);
    otlp_emit(&sp);
}

/* Observe the request's latency under its method and status class, and export its span. */
void observe_finish(struct observe *o, int status)
{
    if (status <= 0)
        return;
    int64_t took_us = clock_now_us() - o->start_us;
    int c = status < 400 ? CLASS_2XX : status < 500 ? CLASS_4XX : CLASS_5XX;
    struct metric *m = metrics_set_get(&latency[c], methods[o->method < 0 ? M_NONE : o->method]);
    if (m)
        metrics_observe(m, (double)took_us / 1e6);
    emit_span(o, status, took_us);
}
