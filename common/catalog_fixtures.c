/*
 * catalog_fixtures.c - the conformance fixture tool definitions.
 *
 * Names and behaviour follow the official MCP conformance suite
 * (tests/conformance/SCENARIOS.md); implementations are in worker/fixtures.c.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "catalog_fixtures.h"

#define OBJ(props) "{\"type\":\"object\",\"properties\":{" props "}}"
#define OBJ_REQ(props, req) "{\"type\":\"object\",\"properties\":{" props "},\"required\":[" req "]}"
#define TOOL(name, desc, schema)                                                                  \
    "{\"name\":\"" name "\",\"description\":\"" desc "\",\"inputSchema\":" schema "}"

static const struct builtin fixtures[] = {
    /* ---- Tasks extension (tasks-* scenarios) ---- */
    {TOOL("greet", "Greets someone by name (synchronous).",
          OBJ_REQ("\"name\":{\"type\":\"string\"}", "\"name\"")),
     TOOL_TASK_NEVER},
    {TOOL("slow_compute", "Computes slowly for the given seconds; can run as a task.",
          OBJ("\"seconds\":{\"type\":\"number\",\"minimum\":0,\"maximum\":3600},"
              "\"label\":{\"type\":\"string\"}")),
     TOOL_TASK_OPTIONAL},
    {TOOL("failing_job", "A task that ends with a tool error (isError) after about a second.",
          OBJ("")),
     TOOL_TASK_REQUIRED},
    {TOOL("protocol_error_job", "A task that ends failed with a JSON-RPC error.", OBJ("")),
     TOOL_TASK_REQUIRED},
    /* Optional, not required: sorted first, it is the tool http-header-validation calls
     * without the extension, where it answers with an InputRequiredResult. */
    {TOOL("confirm_delete", "Asks the user to confirm before deleting a file.",
          OBJ("\"filename\":{\"type\":\"string\"}")),
     TOOL_TASK_OPTIONAL},
    {TOOL("multi_input", "Asks two questions at once.", OBJ("")), TOOL_TASK_OPTIONAL},
    {TOOL("test_tool_with_task", "Asks for a name first (MRTR), then runs as a task.", OBJ("")),
     TOOL_TASK_REQUIRED, true},
    /* ---- taskwire's own test fixtures ---- */
    {TOOL("flaky_job", "Fails with a retryable error on its first attempts, then succeeds.",
          OBJ("\"failures\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":10}")),
     TOOL_TASK_OPTIONAL},
    {TOOL("bench_probe", "Benchmark probe: returns when it started; with hold, runs until cancelled.",
          OBJ("\"hold\":{\"type\":\"boolean\"}")),
     TOOL_TASK_OPTIONAL},
    /* ---- stateless core (server-stateless scenario) ---- */
    {TOOL("test_missing_capability", "Needs the sampling capability.", OBJ("")), TOOL_TASK_NEVER,
     false, "sampling"},
    {TOOL("test_streaming_elicitation", "Asks for input through an InputRequiredResult.",
          OBJ("")),
     TOOL_TASK_NEVER},
    {TOOL("test_logging_tool", "Would log; sends no notifications/message.", OBJ("")),
     TOOL_TASK_NEVER},
    {TOOL("test_trigger_tool_change", "Signals that the tools list changed.", OBJ("")),
     TOOL_TASK_NEVER},
    {TOOL("test_trigger_prompt_change", "Signals that the prompts list changed.", OBJ("")),
     TOOL_TASK_NEVER},
    /* ---- content (tools-call-* scenarios) ---- */
    {TOOL("test_simple_text", "Returns a simple text response.", OBJ("")), TOOL_TASK_NEVER},
    {TOOL("test_image_content", "Returns a small PNG image.", OBJ("")), TOOL_TASK_NEVER},
    {TOOL("test_audio_content", "Returns a small WAV clip.", OBJ("")), TOOL_TASK_NEVER},
    {TOOL("test_embedded_resource", "Returns an embedded text resource.", OBJ("")),
     TOOL_TASK_NEVER},
    {TOOL("test_multiple_content_types", "Returns text, image and resource content.", OBJ("")),
     TOOL_TASK_NEVER},
    {TOOL("test_error_handling", "Always returns a tool error (isError).", OBJ("")),
     TOOL_TASK_NEVER},
    {TOOL("test_tool_with_progress", "Reports progress three times, then returns.", OBJ("")),
     TOOL_TASK_NEVER},
    /* ---- MRTR (input-required-result-* scenarios) ---- */
    {TOOL("test_input_required_result_elicitation", "Asks for a name, then greets.", OBJ("")),
     TOOL_TASK_NEVER},
    {TOOL("test_input_required_result_sampling", "Asks the client's model a question.", OBJ("")),
     TOOL_TASK_NEVER},
    {TOOL("test_input_required_result_list_roots", "Asks for the client's roots.", OBJ("")),
     TOOL_TASK_NEVER},
    {TOOL("test_input_required_result_request_state", "Asks for confirmation with state.",
          OBJ("")),
     TOOL_TASK_NEVER},
    {TOOL("test_input_required_result_multiple_inputs", "Asks three kinds of input at once.",
          OBJ("")),
     TOOL_TASK_NEVER},
    {TOOL("test_input_required_result_multi_round", "Asks two questions in two rounds.", OBJ("")),
     TOOL_TASK_NEVER},
    {TOOL("test_input_required_result_tampered_state", "Rejects a tampered requestState.",
          OBJ("")),
     TOOL_TASK_NEVER},
    {TOOL("test_input_required_result_capabilities",
          "Asks only for input kinds the client declared.", OBJ("")),
     TOOL_TASK_NEVER},
    /* ---- legacy 2025-11-25 scenarios (server-to-client requests, logging) ---- */
    {TOOL("test_tool_with_logging", "Logs three info messages while it runs.", OBJ("")),
     TOOL_TASK_NEVER},
    {TOOL("test_sampling", "Asks the client's model to answer a prompt (sampling).",
          OBJ_REQ("\"prompt\":{\"type\":\"string\",\"description\":\"The prompt\"}",
                  "\"prompt\"")),
     TOOL_TASK_NEVER},
    {TOOL("test_elicitation", "Asks the user for a response (elicitation).",
          OBJ_REQ("\"message\":{\"type\":\"string\",\"description\":\"What to ask\"}",
                  "\"message\"")),
     TOOL_TASK_NEVER},
    {TOOL("test_elicitation_sep1034_defaults",
          "Asks for a form whose fields all have defaults (SEP-1034).", OBJ("")),
     TOOL_TASK_NEVER},
    {TOOL("test_elicitation_sep1330_enums",
          "Asks for a form of single and multiple choice enums (SEP-1330).", OBJ("")),
     TOOL_TASK_NEVER},
    /* ---- schemas and headers ---- */
    {TOOL("json_schema_2020_12_tool", "Tool with JSON Schema 2020-12 features",
          "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"type\":\"object\","
          "\"$defs\":{\"address\":{\"$anchor\":\"addressDef\",\"type\":\"object\","
          "\"properties\":{\"street\":{\"type\":\"string\"},\"city\":{\"type\":\"string\"}}}},"
          "\"properties\":{\"name\":{\"type\":\"string\"},\"address\":{\"$ref\":"
          "\"#/$defs/address\"},\"contactMethod\":{\"type\":\"string\",\"enum\":[\"phone\","
          "\"email\"]},\"phone\":{\"type\":\"string\"},\"email\":{\"type\":\"string\"}},"
          "\"allOf\":[{\"anyOf\":[{\"required\":[\"phone\"]},{\"required\":[\"email\"]}]}],"
          "\"if\":{\"properties\":{\"contactMethod\":{\"const\":\"phone\"}},"
          "\"required\":[\"contactMethod\"]},\"then\":{\"required\":[\"phone\"]},"
          "\"else\":{\"required\":[\"email\"]},\"additionalProperties\":false}"),
     TOOL_TASK_NEVER},
    {TOOL("test_custom_header", "Echoes a value that is mirrored into the Mcp-Param-Value header",
          OBJ_REQ("\"value\":{\"type\":\"string\",\"x-mcp-header\":\"Value\"}", "\"value\"")),
     TOOL_TASK_NEVER},
};

const struct builtin *catalog_fixture_table(size_t *n)
{
    *n = sizeof(fixtures) / sizeof(fixtures[0]);
    return fixtures;
}
