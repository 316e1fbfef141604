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
    {TOOL("confirm_delete", "Asks the user to confirm before deleting a file.",
          OBJ("\"filename\":{\"type\":\"string\"}")),
     TOOL_TASK_REQUIRED},
    {TOOL("multi_input", "Asks two questions at once.", OBJ("")), TOOL_TASK_REQUIRED},
    {TOOL("test_tool_with_task", "Asks for a name first (MRTR), then runs as a task.", OBJ("")),
     TOOL_TASK_REQUIRED, true},
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
};

const struct builtin *catalog_fixture_table(size_t *n)
{
    *n = sizeof(fixtures) / sizeof(fixtures[0]);
    return fixtures;
}
