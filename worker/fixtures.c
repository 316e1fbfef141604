/*
 * fixtures.c - the conformance fixture tools, written against the C tool API.
 *
 * Behaviour follows what the official MCP conformance suite asserts
 * (tests/conformance/SCENARIOS.md).  Served only with TASKWIRE_FIXTURES=true.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tools.h"

/* An elicitation/create input request asking for one string or boolean field. */
static json_t *elicit(const char *message, const char *field, const char *type)
{
    return json_pack("{s:s, s:{s:s, s:s, s:{s:s, s:{s:{s:s}}, s:[s]}}}", "method",
                     "elicitation/create", "params", "mode", "form", "message", message,
                     "requestedSchema", "type", "object", "properties", field, "type", type,
                     "required", field);
}

/* The first string value in an ElicitResult's content, or NULL. */
static const char *first_string(const json_t *answer)
{
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(answer, "content"), key, v)
    {
        if (json_is_string(v))
            return json_string_value(v);
    }
    return NULL;
}

static bool accepted(const json_t *answer)
{
    const char *action = json_string_value(json_object_get(answer, "action"));
    return action && strcmp(action, "accept") == 0;
}

static json_t *run_greet(struct tool_ctx *ctx, json_t **error)
{
    const char *name = json_string_value(json_object_get(tool_args(ctx), "name"));
    char text[512];
    snprintf(text, sizeof(text), "Hello, %s!", name ? name : "world");
    return tool_text_result(text, false);
}

static json_t *run_slow_compute(struct tool_ctx *ctx, json_t **error)
{
    const json_t *args = tool_args(ctx);
    double seconds = json_number_value(json_object_get(args, "seconds"));
    const char *label = json_string_value(json_object_get(args, "label"));
    int steps = seconds > 0 ? (int)ceil(seconds * 4) : 0;
    for (int i = 1; i <= steps; i++) {
        if (!tool_sleep_ms(ctx, (int64_t)llround(seconds * 1000 / steps)))
            return NULL;
        tool_progress(ctx, i, steps, "computing");
    }
    char text[512];
    snprintf(text, sizeof(text), "Computed %s in %g s", label ? label : "result", seconds);
    return tool_text_result(text, false);
}

static json_t *run_failing_job(struct tool_ctx *ctx, json_t **error)
{
    if (!tool_sleep_ms(ctx, 1000))
        return NULL;
    return tool_text_result("The job failed: simulated tool error", true);
}

static json_t *run_protocol_error_job(struct tool_ctx *ctx, json_t **error)
{
    if (!tool_sleep_ms(ctx, 200))
        return NULL;
    *error = json_pack("{s:i, s:s}", "code", -32603, "message",
                       "Internal error: simulated protocol failure");
    return NULL;
}

static json_t *run_confirm_delete(struct tool_ctx *ctx, json_t **error)
{
    const char *file = json_string_value(json_object_get(tool_args(ctx), "filename"));
    char msg[512];
    snprintf(msg, sizeof(msg), "Delete %s?", file ? file : "the file");
    json_t *answers =
        tool_request_input(ctx, json_pack("{s:o}", "confirm", elicit(msg, "confirm", "boolean")),
                           "waiting for confirmation", error);
    if (!answers)
        return NULL;
    json_t *answer = json_object_get(answers, "confirm");
    bool yes = accepted(answer) &&
               !json_is_false(json_object_get(json_object_get(answer, "content"), "confirm"));
    snprintf(msg, sizeof(msg), yes ? "Deleted %s" : "Kept %s", file ? file : "the file");
    json_decref(answers);
    return tool_text_result(msg, false);
}

static json_t *run_multi_input(struct tool_ctx *ctx, json_t **error)
{
    json_t *requests = json_pack("{s:o, s:o}", "name", elicit("Your name?", "name", "string"),
                                 "color", elicit("Favourite colour?", "color", "string"));
    json_t *answers = tool_request_input(ctx, requests, "waiting for two answers", error);
    if (!answers)
        return NULL;
    const char *name = first_string(json_object_get(answers, "name"));
    const char *color = first_string(json_object_get(answers, "color"));
    char text[512];
    snprintf(text, sizeof(text), "%s likes %s", name ? name : "someone", color ? color : "colours");
    json_decref(answers);
    return tool_text_result(text, false);
}

static json_t *run_tool_with_task(struct tool_ctx *ctx, json_t **error)
{
    json_t *answers = tool_request_input(
        ctx, json_pack("{s:o}", "user_name", elicit("What is your name?", "name", "string")),
        "waiting for a name", error);
    if (!answers)
        return NULL;
    const char *name = first_string(json_object_get(answers, "user_name"));
    char text[512];
    snprintf(text, sizeof(text), "Hello, %s! The task is done.", name ? name : "stranger");
    json_decref(answers);
    if (!tool_sleep_ms(ctx, 200))
        return NULL;
    return tool_text_result(text, false);
}

static json_t *run_text(struct tool_ctx *ctx, json_t **error)
{
    return tool_text_result("ok", false);
}

static json_t *run_streaming_elicitation(struct tool_ctx *ctx, json_t **error)
{
    json_t *answers = tool_request_input(
        ctx, json_pack("{s:o}", "input", elicit("Please provide input", "value", "string")),
        "waiting for input", error);
    if (!answers)
        return NULL;
    const char *v = first_string(json_object_get(answers, "input"));
    char text[512];
    snprintf(text, sizeof(text), "Received: %s", v ? v : "(nothing)");
    json_decref(answers);
    return tool_text_result(text, false);
}

static json_t *run_trigger_tool_change(struct tool_ctx *ctx, json_t **error)
{
    tool_notify_tools_changed(ctx);
    return tool_text_result("Tools list change signalled", false);
}

static const struct tool_impl fixtures[] = {
    {"confirm_delete", run_confirm_delete},
    {"failing_job", run_failing_job},
    {"greet", run_greet},
    {"multi_input", run_multi_input},
    {"protocol_error_job", run_protocol_error_job},
    {"slow_compute", run_slow_compute},
    {"test_logging_tool", run_text},
    {"test_missing_capability", run_text},
    {"test_streaming_elicitation", run_streaming_elicitation},
    {"test_tool_with_task", run_tool_with_task},
    {"test_trigger_tool_change", run_trigger_tool_change},
};

const struct tool_impl *fixtures_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
        if (strcmp(fixtures[i].name, name) == 0)
            return &fixtures[i];
    return NULL;
}
