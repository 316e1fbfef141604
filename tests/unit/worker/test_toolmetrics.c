/*
 * test_toolmetrics.c - unit tests for worker/toolmetrics.c: one series per
 * catalog tool and none for any other name, outcomes counted with and
 * without the tool label, and the cluster gauges by tool shown only by the
 * statistics leader, with 0 for the tools a pass did not name.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "toolmetrics.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "metrics.h"

/* True when the exposition 'text' has the line 'line' (whole). */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p += n)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

static void test_toolmetrics_counts_catalog_tools_only(void **state)
{
    toolmetrics_ran("echo", 0.2, TOOLMETRICS_COMPLETED);
    toolmetrics_ran("echo", 20, TOOLMETRICS_FAILED);
    toolmetrics_ran("not_in_the_catalog", 1, TOOLMETRICS_COMPLETED);
    toolmetrics_claimed("echo", clock_wall_ms() * 1000 - 1500000);
    toolmetrics_claimed("not_in_the_catalog", 1);
    char *t = metrics_render();
    assert_non_null(t);
    assert_true(has_line(t, "taskwire_tool_runs_total{tool=\"echo\",status=\"completed\"} 1"));
    assert_true(has_line(t, "taskwire_tool_runs_total{tool=\"echo\",status=\"failed\"} 1"));
    assert_true(has_line(t, "taskwire_task_duration_seconds_count{tool=\"echo\"} 2"));
    assert_true(has_line(t, "taskwire_task_duration_seconds_bucket{tool=\"echo\",le=\"0.25\"} 1"));
    assert_true(has_line(t, "taskwire_queue_wait_seconds_bucket{tool=\"echo\",le=\"1\"} 0"));
    assert_true(has_line(t, "taskwire_queue_wait_seconds_bucket{tool=\"echo\",le=\"2.5\"} 1"));
    /* the unlabelled counters count every outcome, tool or not */
    assert_true(has_line(t, "taskwire_tasks_finished_total{status=\"completed\"} 2"));
    assert_true(has_line(t, "taskwire_tasks_finished_total{status=\"failed\"} 1"));
    assert_null(strstr(t, "not_in_the_catalog"));
    free(t);
}

static void test_toolmetrics_cluster_gauges_only_on_the_leader(void **state)
{
    char *t = metrics_render();
    assert_true(has_line(t, "# TYPE taskwire_tool_queue_depth gauge"));
    assert_null(strstr(t, "taskwire_tool_queue_depth{")); /* hidden until a pass leads */
    free(t);

    struct tool_stats s = {.tool = "echo", .queued = 5, .oldest_queued_s = 42.7, .running = 2};
    struct tool_stats other = {.tool = "not_in_the_catalog", .queued = 9};
    toolmetrics_stats_tool(NULL, &s);
    toolmetrics_stats_tool(NULL, &other);
    toolmetrics_stats_end(true);
    t = metrics_render();
    assert_true(has_line(t, "taskwire_tool_queue_depth{tool=\"echo\"} 5"));
    assert_true(has_line(t, "taskwire_tool_queue_oldest_age_seconds{tool=\"echo\"} 42"));
    assert_true(has_line(t, "taskwire_tool_tasks_running{tool=\"echo\"} 2"));
    assert_true(has_line(t, "taskwire_tool_tasks_input_required{tool=\"echo\"} 0"));
    assert_true(has_line(t, "taskwire_tool_queue_depth{tool=\"sleep\"} 0"));
    assert_null(strstr(t, "not_in_the_catalog"));
    free(t);

    toolmetrics_stats_end(true); /* a pass that named no tool: all back to 0 */
    t = metrics_render();
    assert_true(has_line(t, "taskwire_tool_queue_depth{tool=\"echo\"} 0"));
    free(t);

    toolmetrics_stats_end(false); /* the lock went elsewhere */
    t = metrics_render();
    assert_null(strstr(t, "taskwire_tool_queue_depth{"));
    free(t);
}

int main(void)
{
    struct err e = {0};
    struct catalog *c = catalog_new(false, &e);
    if (!c || toolmetrics_init(c, 4) < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toolmetrics_counts_catalog_tools_only),
        cmocka_unit_test(test_toolmetrics_cluster_gauges_only_on_the_leader),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    catalog_free(c);
    return rc;
}
