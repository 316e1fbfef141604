/*
 * overload.c - refusal and reap counters, and their rate-limited warnings.
 *
 * Two atomic counts per reason: the metric (since start) and the window
 * (since the last warning).  Whoever notes an event after the window's end
 * wins a compare-and-swap on the next report time and writes the one line.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "overload.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"

#define REFUSED "taskwire_requests_refused_total"
#define REFUSED_HELP "Requests refused by a rate limit, a cap per principal or the stream budget"
#define REAPED "taskwire_connections_reaped_total"
#define REAPED_HELP "Connections closed because their headers or body missed the deadline"

METRIC_DEFINE(m_rate_create, METRIC_COUNTER, REFUSED, "reason=\"rate_create\"", REFUSED_HELP);
METRIC_DEFINE(m_rate_read, METRIC_COUNTER, REFUSED, "reason=\"rate_read\"", REFUSED_HELP);
METRIC_DEFINE(m_rate_other, METRIC_COUNTER, REFUSED, "reason=\"rate_other\"", REFUSED_HELP);
METRIC_DEFINE(m_max_sync, METRIC_COUNTER, REFUSED, "reason=\"max_sync_calls\"", REFUSED_HELP);
METRIC_DEFINE(m_max_listen, METRIC_COUNTER, REFUSED, "reason=\"max_listen_streams\"",
              REFUSED_HELP);
METRIC_DEFINE(m_max_live, METRIC_COUNTER, REFUSED, "reason=\"max_live_tasks\"", REFUSED_HELP);
METRIC_DEFINE(m_streams, METRIC_COUNTER, REFUSED, "reason=\"stream_budget\"", REFUSED_HELP);
METRIC_DEFINE(m_reap_headers, METRIC_COUNTER, REAPED, "deadline=\"headers\"", REAPED_HELP);
METRIC_DEFINE(m_reap_body, METRIC_COUNTER, REAPED, "deadline=\"body\"", REAPED_HELP);

/* Each reason's metric and label value, in enum order. */
static struct {
    struct metric *metric; /* counted since start */
    const char *name;      /* label value, and its name in the warning */
} const reasons[OVERLOAD_REASONS] = {
    [OVERLOAD_RATE_CREATE] = {&m_rate_create, "rate_create"},
    [OVERLOAD_RATE_READ] = {&m_rate_read, "rate_read"},
    [OVERLOAD_RATE_OTHER] = {&m_rate_other, "rate_other"},
    [OVERLOAD_MAX_SYNC] = {&m_max_sync, "max_sync_calls"},
    [OVERLOAD_MAX_LISTEN] = {&m_max_listen, "max_listen_streams"},
    [OVERLOAD_MAX_LIVE] = {&m_max_live, "max_live_tasks"},
    [OVERLOAD_STREAMS] = {&m_streams, "stream_budget"},
    [OVERLOAD_REAP_HEADERS] = {&m_reap_headers, "reaped_headers"},
    [OVERLOAD_REAP_BODY] = {&m_reap_body, "reaped_body"},
};

static atomic_long window[OVERLOAD_REASONS]; /* events since the last warning */
static _Atomic int64_t window_start_ms;      /* when that window began */
static _Atomic int64_t next_report_ms;       /* no warning before this */
static pthread_once_t metrics_once = PTHREAD_ONCE_INIT;

static void register_all(void)
{
    for (int i = 0; i < OVERLOAD_REASONS; i++)
        metrics_register(reasons[i].metric);
}

/* Register every refusal and reap metric; safe to call more than once. */
void overload_metrics_register(void)
{
    pthread_once(&metrics_once, register_all);
}

/* Write the warning for the window that ended at 'now' and start the next one. */
static void report(int64_t now)
{
    int64_t start = atomic_exchange(&window_start_ms, now);
    double secs = start > 0 && now > start ? (double)(now - start) / 1000.0 : 1.0;
    char line[600] = "", part[80];
    for (int i = 0; i < OVERLOAD_REASONS; i++) {
        long n = atomic_exchange(&window[i], 0);
        if (n == 0)
            continue;
        snprintf(part, sizeof(part), "%s%s=%ld (%.1f/s)", line[0] ? " " : "", reasons[i].name, n,
                 (double)n / secs);
        strncat(line, part, sizeof(line) - strlen(line) - 1);
    }
    char span[24];
    snprintf(span, sizeof(span), "%.1f", secs);
    LOG_WARN("overload: requests refused or connections reaped", "counts", line, "window_s",
             span);
}

/*
 * Count one event of 'reason': its metric, and the window of the next
 * warning.  The first event after a quiet spell is reported at once; later
 * ones at most every OVERLOAD_LOG_MS.  Thread-safe.
 */
void overload_note(enum overload_reason reason)
{
    if ((unsigned)reason >= OVERLOAD_REASONS)
        return;
    metrics_add(reasons[reason].metric, 1);
    atomic_fetch_add(&window[reason], 1);
    int64_t now = clock_now_ms(), next = atomic_load(&next_report_ms);
    if (now >= next &&
        atomic_compare_exchange_strong(&next_report_ms, &next, now + OVERLOAD_LOG_MS))
        report(now);
}

/* The label value of 'reason' (static). */
const char *overload_reason_name(enum overload_reason reason)
{
    return (unsigned)reason < OVERLOAD_REASONS ? reasons[reason].name : "unknown";
}

/* Events of 'reason' since start. */
int64_t overload_count(enum overload_reason reason)
{
    return (unsigned)reason < OVERLOAD_REASONS ? atomic_load(&reasons[reason].metric->value) : 0;
}
