/*
 * test_metrics.c - unit tests for common/metrics.c: histograms, label sets
 * (a value outside the set makes no series), hidden series, label escaping
 * and the text exposition of each.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "metrics.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const double bounds[] = {0.1, 1, 10};
METRIC_HISTOGRAM_DEFINE(m_hist, "t_latency_seconds", "kind=\"a\"", "test histogram", bounds);
METRIC_DEFINE(m_plain, METRIC_COUNTER, "t_plain_total", NULL, "test counter");

/* True when 'text' has the line 'line' (whole). */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p += n)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

static void test_metrics_histogram_renders_cumulative_buckets_sum_and_count(void **state)
{
    metrics_observe(&m_hist, 0.05);
    metrics_observe(&m_hist, 0.5);
    metrics_observe(&m_hist, 0.5);
    metrics_observe(&m_hist, 100);
    metrics_observe(&m_hist, -3); /* counted as 0 */
    char *t = metrics_render();
    assert_non_null(t);
    assert_true(has_line(t, "# TYPE t_latency_seconds histogram"));
    assert_true(has_line(t, "t_latency_seconds_bucket{kind=\"a\",le=\"0.1\"} 2"));
    assert_true(has_line(t, "t_latency_seconds_bucket{kind=\"a\",le=\"1\"} 4"));
    assert_true(has_line(t, "t_latency_seconds_bucket{kind=\"a\",le=\"10\"} 4"));
    assert_true(has_line(t, "t_latency_seconds_bucket{kind=\"a\",le=\"+Inf\"} 5"));
    assert_true(has_line(t, "t_latency_seconds_sum{kind=\"a\"} 101.050000"));
    assert_true(has_line(t, "t_latency_seconds_count{kind=\"a\"} 5"));
    assert_true(has_line(t, "t_plain_total 0"));
    free(t);
}

static void test_metrics_set_has_a_series_per_key_and_none_for_others(void **state)
{
    static struct metric_set s;
    const char *keys[] = {"echo", "slow"};
    assert_int_equal(metrics_set_init(&s, METRIC_COUNTER, "t_runs_total", "test set", "tool",
                                      "status=\"ok\"", keys, 2, NULL, 0),
                     0);
    assert_null(metrics_set_get(&s, "evil\"tool"));
    assert_null(metrics_set_get(&s, NULL));
    metrics_add(metrics_set_get(&s, "slow"), 3);
    char *t = metrics_render();
    assert_true(has_line(t, "t_runs_total{tool=\"echo\",status=\"ok\"} 0"));
    assert_true(has_line(t, "t_runs_total{tool=\"slow\",status=\"ok\"} 3"));
    assert_null(strstr(t, "evil"));
    free(t);
    metrics_set_hide(&s, true);
    t = metrics_render();
    assert_true(has_line(t, "# TYPE t_runs_total counter"));
    assert_null(strstr(t, "t_runs_total{"));
    free(t);
    metrics_set_hide(&s, false);
    metrics_set_zero(&s);
    t = metrics_render();
    assert_true(has_line(t, "t_runs_total{tool=\"slow\",status=\"ok\"} 0"));
    free(t);
}

static void test_metrics_label_escapes_and_refuses_what_does_not_fit(void **state)
{
    char buf[32];
    assert_true(metrics_label(buf, sizeof(buf), "tool", "a\"b\\c\nd"));
    assert_string_equal(buf, "tool=\"a\\\"b\\\\c\\nd\"");
    assert_false(metrics_label(buf, 8, "tool", "longer than that"));
}

static void test_metrics_build_info_names_the_version(void **state)
{
    metrics_build_info_register();
    char *t = metrics_render();
    assert_true(has_line(t, "taskwire_build_info{version=\"" TASKWIRE_VERSION "\"} 1"));
    free(t);
}

int main(void)
{
    metrics_register(&m_hist);
    metrics_register(&m_plain);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_histogram_renders_cumulative_buckets_sum_and_count),
        cmocka_unit_test(test_metrics_set_has_a_series_per_key_and_none_for_others),
        cmocka_unit_test(test_metrics_label_escapes_and_refuses_what_does_not_fit),
        cmocka_unit_test(test_metrics_build_info_names_the_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
