/*
 * fixtures.c - the conformance fixture tools, written against the C tool API.
 *
 * Behaviour follows what the official MCP conformance suite asserts
 * (tests/conformance/SCENARIOS.md).  Served only with TASKWIRE_FIXTURES=true.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fixtures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "mcpdefs.h"

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

/* Ask for 'requests' (stolen) with status 'message'; on success *answers holds them.
 * Returns false when the tool must return at once (parked for input, cancelled, or
 * *error set). */
static bool ask(struct tool_ctx *ctx, json_t *requests, const char *message, json_t **answers,
                json_t **error)
{
    *answers = tool_request_input(ctx, requests, message, error);
    return *answers != NULL;
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static json_t *run_greet(struct tool_ctx *ctx, json_t **error)
{
    const char *name = json_string_value(json_object_get(tool_args(ctx), "name"));
    return tool_text_resultf(false, "Hello, %s!", name ? name : "world");
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
    return tool_text_resultf(false, "Computed %s in %g s", label ? label : "result", seconds);
}

/* bench_probe (tests/bench): returns the wall-clock microsecond it started at, so the
 * benchmark measures dispatch latency; with hold, runs until cancelled (at most an hour)
 * and logs the microsecond it saw the cancel at, for the cancel latency. */
static json_t *run_bench_probe(struct tool_ctx *ctx, json_t **error)
{
    int64_t started = clock_wall_us();
    if (json_is_true(json_object_get(tool_args(ctx), "hold")) && !tool_sleep_ms(ctx, 3600 * 1000)) {
        char seen[24];
        snprintf(seen, sizeof(seen), "%lld", (long long)clock_wall_us());
        LOG_INFO("bench probe saw the cancel", "task_id", tool_task_id(ctx), "seen_at_us", seen);
        return NULL;
    }
    json_t *r = tool_text_resultf(false, "%lld", (long long)started);
    json_object_set_new(r, "structuredContent",
                        json_pack("{s:I}", "startedAtUs", (json_int_t)started));
    return r;
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
    *error = tool_error(MCP_EINTERNAL, "Internal error: simulated protocol failure");
    return NULL;
}

static json_t *run_confirm_delete(struct tool_ctx *ctx, json_t **error)
{
    const char *file = json_string_value(json_object_get(tool_args(ctx), "filename"));
    char msg[512];
    snprintf(msg, sizeof(msg), "Delete %s?", file ? file : "the file");
    json_t *answers;
    if (!ask(ctx, json_pack("{s:o}", "confirm", elicit(msg, "confirm", "boolean")),
             "waiting for confirmation", &answers, error))
        return NULL;
    json_t *answer = json_object_get(answers, "confirm");
    bool yes = accepted(answer) &&
               !json_is_false(json_object_get(json_object_get(answer, "content"), "confirm"));
    json_decref(answers);
    return tool_text_resultf(false, yes ? "Deleted %s" : "Kept %s", file ? file : "the file");
}

static json_t *run_multi_input(struct tool_ctx *ctx, json_t **error)
{
    json_t *requests = json_pack("{s:o, s:o}", "name", elicit("Your name?", "name", "string"),
                                 "color", elicit("Favourite colour?", "color", "string"));
    json_t *answers;
    if (!ask(ctx, requests, "waiting for two answers", &answers, error))
        return NULL;
    const char *name = first_string(json_object_get(answers, "name"));
    const char *color = first_string(json_object_get(answers, "color"));
    json_t *r =
        tool_text_resultf(false, "%s likes %s", name ? name : "someone", color ? color : "colours");
    json_decref(answers);
    return r;
}

static json_t *run_tool_with_task(struct tool_ctx *ctx, json_t **error)
{
    json_t *answers;
    if (!ask(ctx, json_pack("{s:o}", "user_name", elicit("What is your name?", "name", "string")),
             "waiting for a name", &answers, error))
        return NULL;
    const char *name = first_string(json_object_get(answers, "user_name"));
    json_t *r = tool_text_resultf(false, "Hello, %s! The task is done.", name ? name : "stranger");
    json_decref(answers);
    if (!tool_sleep_ms(ctx, 200)) {
        json_decref(r);
        return NULL;
    }
    return r;
}

/* flaky_job: a retryable failure on each of the first 'failures' attempts. */
static json_t *run_flaky_job(struct tool_ctx *ctx, json_t **error)
{
    const json_t *f = json_object_get(tool_args(ctx), "failures");
    int failures = f ? (int)json_integer_value(f) : 1;
    int attempt = tool_attempt(ctx);
    if (attempt <= failures) {
        char msg[64];
        snprintf(msg, sizeof(msg), "simulated transient failure on attempt %d", attempt);
        tool_retry_later(ctx, msg);
        return NULL;
    }
    return tool_text_resultf(false, "succeeded on attempt %d", attempt);
}

static json_t *run_text(struct tool_ctx *ctx, json_t **error)
{
    return tool_text_result("ok", false);
}

static json_t *run_streaming_elicitation(struct tool_ctx *ctx, json_t **error)
{
    json_t *answers;
    if (!ask(ctx, json_pack("{s:o}", "input", elicit("Please provide input", "value", "string")),
             "waiting for input", &answers, error))
        return NULL;
    const char *v = first_string(json_object_get(answers, "input"));
    json_t *r = tool_text_resultf(false, "Received: %s", v ? v : "(nothing)");
    json_decref(answers);
    return r;
}

static json_t *run_trigger_tool_change(struct tool_ctx *ctx, json_t **error)
{
    tool_notify_tools_changed(ctx);
    return tool_text_result("Tools list change signalled", false);
}

/* The prompts served do not change; this only signals listeners, as the suite asks. */
static json_t *run_trigger_prompt_change(struct tool_ctx *ctx, json_t **error)
{
    tool_notify_prompts_changed(ctx);
    return tool_text_result("Prompts list change signalled", false);
}

/* ---- content fixtures ---- */

#define PNG_1X1                                                                                    \
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJg" \
    "gg=="
#define WAV_MIN "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="

static json_t *content_result(json_t *content)
{
    return json_pack("{s:o, s:b}", "content", content, "isError", 0);
}

static json_t *run_simple_text(struct tool_ctx *ctx, json_t **error)
{
    return tool_text_result("This is a simple text response for testing.", false);
}

static json_t *run_image(struct tool_ctx *ctx, json_t **error)
{
    return content_result(
        json_pack("[{s:s, s:s, s:s}]", "type", "image", "data", PNG_1X1, "mimeType", "image/png"));
}

static json_t *run_audio(struct tool_ctx *ctx, json_t **error)
{
    return content_result(
        json_pack("[{s:s, s:s, s:s}]", "type", "audio", "data", WAV_MIN, "mimeType", "audio/wav"));
}

static json_t *run_embedded_resource(struct tool_ctx *ctx, json_t **error)
{
    return content_result(json_pack("[{s:s, s:{s:s, s:s, s:s}}]", "type", "resource", "resource",
                                    "uri", "test://embedded-resource", "mimeType", "text/plain",
                                    "text", "This is an embedded resource content."));
}

static json_t *run_mixed_content(struct tool_ctx *ctx, json_t **error)
{
    return content_result(json_pack(
        "[{s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:{s:s, s:s, s:s}}]", "type", "text", "text",
        "Multiple content types test:", "type", "image", "data", PNG_1X1, "mimeType", "image/png",
        "type", "resource", "resource", "uri", "test://mixed-content-resource", "mimeType",
        "application/json", "text", "{\"test\":\"data\",\"value\":123}"));
}

static json_t *run_error_handling(struct tool_ctx *ctx, json_t **error)
{
    return tool_text_result("This tool intentionally returns an error for testing", true);
}

/* Three progress reports far enough apart that each is written and streamed. */
static json_t *run_with_progress(struct tool_ctx *ctx, json_t **error)
{
    for (int step = 0; step <= 2; step++) {
        char msg[64];
        snprintf(msg, sizeof(msg), "Completed step %d of 100", step * 50);
        tool_progress(ctx, step * 50, 100, msg);
        if (!tool_sleep_ms(ctx, 400))
            return NULL;
    }
    return tool_text_result("progress-test-1", false);
}

/* ---- MRTR fixtures ---- */

static json_t *sampling(const char *text, int max_tokens)
{
    return json_pack("{s:s, s:{s:[{s:s, s:{s:s, s:s}}], s:i}}", "method", "sampling/createMessage",
                     "params", "messages", "role", "user", "content", "type", "text", "text", text,
                     "maxTokens", max_tokens);
}

static json_t *roots_request(void)
{
    return json_pack("{s:s, s:{}}", "method", "roots/list", "params");
}

static const char *sampled_text(const json_t *answer)
{
    return json_string_value(json_object_get(json_object_get(answer, "content"), "text"));
}

static size_t root_count(const json_t *answer)
{
    return json_array_size(json_object_get(answer, "roots"));
}

static json_t *run_irr_elicitation(struct tool_ctx *ctx, json_t **error)
{
    json_t *a;
    if (!ask(ctx, json_pack("{s:o}", "user_name", elicit("What is your name?", "name", "string")),
             "waiting for input", &a, error))
        return NULL;
    json_t *r = tool_text_resultf(false, "Hello, %s!",
                                  or_empty(first_string(json_object_get(a, "user_name"))));
    json_decref(a);
    return r;
}

static json_t *run_irr_sampling(struct tool_ctx *ctx, json_t **error)
{
    json_t *a;
    if (!ask(ctx,
             json_pack("{s:o}", "sample_request", sampling("What is the capital of France?", 100)),
             "waiting for input", &a, error))
        return NULL;
    json_t *r = tool_text_resultf(false, "Sampling result: %s",
                                  or_empty(sampled_text(json_object_get(a, "sample_request"))));
    json_decref(a);
    return r;
}

static json_t *run_irr_list_roots(struct tool_ctx *ctx, json_t **error)
{
    json_t *a;
    if (!ask(ctx, json_pack("{s:o}", "roots_request", roots_request()), "waiting for input", &a,
             error))
        return NULL;
    json_t *r = tool_text_resultf(false, "Found %zu root(s)",
                                  root_count(json_object_get(a, "roots_request")));
    json_decref(a);
    return r;
}

/* request_state and tampered_state: one confirmation; taskwire always signs the state. */
static json_t *run_irr_confirm(struct tool_ctx *ctx, json_t **error)
{
    json_t *a;
    if (!ask(ctx, json_pack("{s:o}", "confirm", elicit("Please confirm", "ok", "boolean")),
             "waiting for input", &a, error))
        return NULL;
    json_decref(a);
    return tool_text_result("state-ok: requestState validated", false);
}

static json_t *run_irr_multiple_inputs(struct tool_ctx *ctx, json_t **error)
{
    json_t *a;
    json_t *requests =
        json_pack("{s:o, s:o, s:o}", "user_name", elicit("What is your name?", "name", "string"),
                  "greeting", sampling("Generate a greeting", 50), "client_roots", roots_request());
    if (!ask(ctx, requests, "waiting for input", &a, error))
        return NULL;
    char text[512];
    snprintf(text, sizeof(text), "Name: %s; Greeting: %s; Roots: %zu",
             or_empty(first_string(json_object_get(a, "user_name"))),
             or_empty(sampled_text(json_object_get(a, "greeting"))),
             root_count(json_object_get(a, "client_roots")));
    json_decref(a);
    return tool_text_result(text, false);
}

static json_t *run_irr_multi_round(struct tool_ctx *ctx, json_t **error)
{
    json_t *a1, *a2;
    if (!ask(ctx,
             json_pack("{s:o}", "step1", elicit("Step 1: What is your name?", "name", "string")),
             "waiting for input", &a1, error))
        return NULL;
    if (!ask(ctx,
             json_pack("{s:o}", "step2",
                       elicit("Step 2: What is your favorite color?", "color", "string")),
             "waiting for input", &a2, error)) {
        json_decref(a1);
        return NULL;
    }
    json_t *r = tool_text_resultf(false, "Multi-round complete for %s who likes %s",
                                  or_empty(first_string(json_object_get(a1, "step1"))),
                                  or_empty(first_string(json_object_get(a2, "step2"))));
    json_decref(a1);
    json_decref(a2);
    return r;
}

/* Asks only for what the client declared: elicitation and/or sampling. */
static json_t *run_irr_capabilities(struct tool_ctx *ctx, json_t **error)
{
    const json_t *caps = tool_client_caps(ctx);
    json_t *requests = json_object();
    if (json_is_object(json_object_get(caps, "elicitation")))
        json_object_set_new(requests, "elicit_input",
                            elicit("Elicitation input", "value", "string"));
    if (json_is_object(json_object_get(caps, "sampling")))
        json_object_set_new(requests, "sample_input", sampling("Sample request", 50));
    if (json_object_size(requests) == 0) {
        json_decref(requests);
        return tool_text_result("No input kind was declared", false);
    }
    json_t *a;
    if (!ask(ctx, requests, "waiting for input", &a, error))
        return NULL;
    json_decref(a);
    return tool_text_result("Capabilities respected", false);
}

static json_t *run_custom_header(struct tool_ctx *ctx, json_t **error)
{
    const char *v = json_string_value(json_object_get(tool_args(ctx), "value"));
    return tool_text_result(v ? v : "", false);
}

/* ---- legacy (2025-11-25) fixtures: input through server-to-client requests ---- */

/* Three info messages about 50 ms apart, then a text result. */
static json_t *run_tool_with_logging(struct tool_ctx *ctx, json_t **error)
{
    static const char *const steps[] = {"Tool execution started", "Tool processing data",
                                        "Tool execution completed"};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        tool_log(ctx, "info", json_string(steps[i]));
        if (i + 1 < sizeof(steps) / sizeof(steps[0]) && !tool_sleep_ms(ctx, 50))
            return NULL;
    }
    return tool_text_result("Tool with logging executed successfully", false);
}

/* True when the client declared capability 'cap' ("sampling", "elicitation"). */
static bool declared(const struct tool_ctx *ctx, const char *cap)
{
    return json_is_object(json_object_get(tool_client_caps(ctx), cap));
}

static json_t *run_sampling(struct tool_ctx *ctx, json_t **error)
{
    const char *prompt = json_string_value(json_object_get(tool_args(ctx), "prompt"));
    if (!declared(ctx, "sampling"))
        return tool_text_result("Sampling is not supported by this client", false);
    json_t *a;
    if (!ask(ctx, json_pack("{s:o}", "sample", sampling(or_empty(prompt), 100)),
             "waiting for the client's model", &a, error))
        return NULL;
    json_t *r = tool_text_resultf(false, "LLM response: %s",
                                  or_empty(sampled_text(json_object_get(a, "sample"))));
    json_decref(a);
    return r;
}

/* Ask for 'schema' (stolen) with 'message'; the text result names the action and content
 * after 'prefix'. */
static json_t *elicit_schema(struct tool_ctx *ctx, const char *message, json_t *schema,
                             const char *prefix, json_t **error)
{
    if (!declared(ctx, "elicitation")) {
        json_decref(schema);
        return tool_text_result("Elicitation is not supported by this client", false);
    }
    json_t *a, *req = json_pack("{s:s, s:{s:s, s:o}}", "method", "elicitation/create", "params",
                                "message", message, "requestedSchema", schema);
    if (!ask(ctx, json_pack("{s:o}", "form", req), "waiting for the user", &a, error))
        return NULL;
    json_t *answer = json_object_get(a, "form");
    const json_t *given = json_object_get(answer, "content");
    char *content = given ? json_dumps(given, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
    json_t *r = tool_text_resultf(false, "%s: action=%s, content=%s", prefix,
                                  or_empty(json_string_value(json_object_get(answer, "action"))),
                                  or_empty(content));
    free(content);
    json_decref(a);
    return r;
}

static json_t *run_elicitation(struct tool_ctx *ctx, json_t **error)
{
    const char *message = json_string_value(json_object_get(tool_args(ctx), "message"));
    json_t *schema =
        json_pack("{s:s, s:{s:{s:s, s:s}}, s:[s]}", "type", "object", "properties", "response",
                  "type", "string", "description", "User's response", "required", "response");
    return elicit_schema(ctx, message ? message : "Please respond", schema, "User response", error);
}

/* SEP-1034: every primitive type with a default. */
static json_t *run_elicitation_defaults(struct tool_ctx *ctx, json_t **error)
{
    json_t *schema =
        json_pack("{s:s, s:{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:i}, s:{s:s, s:s, s:f},"
                  " s:{s:s, s:s, s:[s, s, s], s:s}, s:{s:s, s:s, s:b}}, s:[]}",
                  "type", "object", "properties", "name", "type", "string", "description",
                  "User name", "default", "John Doe", "age", "type", "integer", "description",
                  "User age", "default", 30, "score", "type", "number", "description", "User score",
                  "default", 95.5, "status", "type", "string", "description", "User status", "enum",
                  "active", "inactive", "pending", "default", "active", "verified", "type",
                  "boolean", "description", "Verification status", "default", 1, "required");
    return elicit_schema(ctx, "Please review and update the form fields with defaults", schema,
                         "Elicitation completed", error);
}

/* A [{const, title}, ...] list of three options. */
static json_t *titled(const char *v1, const char *t1, const char *v2, const char *t2,
                      const char *v3, const char *t3)
{
    return json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "const", v1, "title", t1, "const", v2,
                     "title", t2, "const", v3, "title", t3);
}

/* SEP-1330: untitled, titled and legacy single-select enums, untitled and titled multi. */
static json_t *run_elicitation_enums(struct tool_ctx *ctx, json_t **error)
{
    json_t *props = json_pack(
        "{s:{s:s, s:s, s:[s, s, s]}, s:{s:s, s:s, s:o}, s:{s:s, s:s, s:[s, s, s], s:[s, s, s]},"
        " s:{s:s, s:s, s:i, s:i, s:{s:s, s:[s, s, s]}}, s:{s:s, s:s, s:i, s:i, s:{s:o}}}",
        "untitledSingle", "type", "string", "description", "Select one option", "enum", "option1",
        "option2", "option3", "titledSingle", "type", "string", "description",
        "Select one option with titles", "oneOf",
        titled("value1", "First Option", "value2", "Second Option", "value3", "Third Option"),
        "legacyEnum", "type", "string", "description", "Select one option (legacy)", "enum", "opt1",
        "opt2", "opt3", "enumNames", "Option One", "Option Two", "Option Three", "untitledMulti",
        "type", "array", "description", "Select multiple options", "minItems", 1, "maxItems", 3,
        "items", "type", "string", "enum", "option1", "option2", "option3", "titledMulti", "type",
        "array", "description", "Select multiple options with titles", "minItems", 1, "maxItems", 3,
        "items", "anyOf",
        titled("value1", "First Choice", "value2", "Second Choice", "value3", "Third Choice"));
    json_t *schema =
        json_pack("{s:s, s:o, s:[]}", "type", "object", "properties", props, "required");
    return elicit_schema(ctx, "Please select options from the enum fields", schema,
                         "Elicitation completed", error);
}

static const struct tool_impl fixtures[] = {
    {"bench_probe", run_bench_probe},
    {"confirm_delete", run_confirm_delete},
    {"failing_job", run_failing_job},
    {"flaky_job", run_flaky_job},
    {"greet", run_greet},
    {"json_schema_2020_12_tool", run_text},
    {"multi_input", run_multi_input},
    {"protocol_error_job", run_protocol_error_job},
    {"slow_compute", run_slow_compute},
    {"test_audio_content", run_audio},
    {"test_custom_header", run_custom_header},
    {"test_embedded_resource", run_embedded_resource},
    {"test_elicitation", run_elicitation},
    {"test_elicitation_sep1034_defaults", run_elicitation_defaults},
    {"test_elicitation_sep1330_enums", run_elicitation_enums},
    {"test_error_handling", run_error_handling},
    {"test_image_content", run_image},
    {"test_input_required_result_capabilities", run_irr_capabilities},
    {"test_input_required_result_elicitation", run_irr_elicitation},
    {"test_input_required_result_list_roots", run_irr_list_roots},
    {"test_input_required_result_multi_round", run_irr_multi_round},
    {"test_input_required_result_multiple_inputs", run_irr_multiple_inputs},
    {"test_input_required_result_request_state", run_irr_confirm},
    {"test_input_required_result_sampling", run_irr_sampling},
    {"test_input_required_result_tampered_state", run_irr_confirm},
    {"test_logging_tool", run_text},
    {"test_missing_capability", run_text},
    {"test_multiple_content_types", run_mixed_content},
    {"test_sampling", run_sampling},
    {"test_simple_text", run_simple_text},
    {"test_streaming_elicitation", run_streaming_elicitation},
    {"test_tool_with_task", run_tool_with_task},
    {"test_tool_with_logging", run_tool_with_logging},
    {"test_tool_with_progress", run_with_progress},
    {"test_trigger_prompt_change", run_trigger_prompt_change},
    {"test_trigger_tool_change", run_trigger_tool_change},
};

/*
 * The fixture tool called 'name': a pointer into a static table (never
 * freed), or NULL for NULL or an unknown name.  Thread-safe.
 */
const struct tool_impl *fixtures_find(const char *name)
{
    return tools_lookup(fixtures, sizeof(fixtures) / sizeof(fixtures[0]), name);
}
