/*
 * tools.c - the built-in tools (echo, sleep), written against the C tool
 * API, and their lookup by name.
 *
 * Knows nothing of slots, the store, fixtures or external processes: a tool
 * sees only tools.h.  Invariant: the tables are static and read-only, so lookups are
 * thread-safe.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "tools.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/*
 * sleep: wait 'seconds' in 'steps' equal parts, reporting "step i/n" after
 * each; stops within milliseconds of a cancel.
 */
static json_t *run_sleep(struct tool_ctx *ctx, json_t **error)
{
    const json_t *args = tool_args(ctx);
    const json_t *js = json_object_get(args, "seconds"), *jn = json_object_get(args, "steps");
    double seconds = js ? json_number_value(js) : 5;
    long steps = jn ? (long)json_number_value(jn) : 5;
    int64_t step_ms = (int64_t)llround(seconds * 1000.0 / (double)steps);
    char msg[64];

    snprintf(msg, sizeof(msg), "step 0/%ld", steps);
    tool_progress(ctx, 0, (double)steps, msg);
    for (long i = 1; i <= steps; i++) {
        if (!tool_sleep_ms(ctx, step_ms))
            return NULL;
        snprintf(msg, sizeof(msg), "step %ld/%ld", i, steps);
        tool_progress(ctx, (double)i, (double)steps, msg);
    }
    json_t *r = tool_text_resultf(false, "Slept %g s in %ld steps.", seconds, steps);
    json_object_set_new(r, "structuredContent",
                        json_pack("{s:f, s:I}", "seconds", seconds, "steps", (json_int_t)steps));
    return r;
}

/* echo: the text argument back, unchanged. */
static json_t *run_echo(struct tool_ctx *ctx, json_t **error)
{
    const char *text = json_string_value(json_object_get(tool_args(ctx), "text"));
    return tool_text_result(text ? text : "", false);
}

static const struct tool_impl builtins[] = {
    {"echo", run_echo},
    {"sleep", run_sleep},
};

/*
 * The entry of 'table' ('n' entries) called 'name': a pointer into the
 * table, or NULL for NULL or a name not in it.  Pure; thread-safe.
 */
const struct tool_impl *tools_lookup(const struct tool_impl *table, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

/*
 * The built-in tool called 'name': a pointer into a static table (never
 * freed), or NULL for NULL or a name that is not built in (a fixture, an
 * external tool, or unknown).  Thread-safe.
 */
const struct tool_impl *tools_find(const char *name)
{
    return tools_lookup(builtins, sizeof(builtins) / sizeof(builtins[0]), name);
}
