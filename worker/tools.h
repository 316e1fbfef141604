/*
 * tools.h - the C tool API, and the lookup of the built-in tools.
 *
 * A tool is a run function given a context: its arguments, a way to report
 * progress and log messages, to sleep while staying responsive to
 * cancellation, and to ask whether it should stop.  It returns a
 * CallToolResult (a tool error is a result with isError true) or a JSON-RPC
 * error for protocol-level failure.  Progress and logs are recorded in memory
 * and written by the heartbeat thread, so a chatty tool costs no extra
 * commits.  The context functions and result helpers are implemented by
 * worker/toolctx.c only; tools_find() and tools_lookup() by worker/tools.c.
 * Tools include this header and nothing of the runner.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_TOOLS_H
#define TASKWIRE_TOOLS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct tool_ctx;

/* Returns a CallToolResult (new reference), or NULL and sets *error to a JSON-RPC
 * error object (new reference).  When the context is cancelled, the return value
 * is discarded. */
typedef json_t *tool_run_fn(struct tool_ctx *ctx, json_t **error);

struct tool_impl {
    const char *name; /* must match a catalog entry */
    tool_run_fn *run; /* the code */
};

/* The built-in implementation of 'name' (static), or NULL (worker/tools.c). */
const struct tool_impl *tools_find(const char *name);
/* The entry called 'name' among the 'n' of 'table' (borrowed), or NULL. */
const struct tool_impl *tools_lookup(const struct tool_impl *table, size_t n, const char *name);

/* The arguments object (borrowed). */
const json_t *tool_args(const struct tool_ctx *ctx);
/* The task id (borrowed). */
const char *tool_task_id(const struct tool_ctx *ctx);
/* The W3C traceparent naming this run's span, or NULL (borrowed). */
const char *tool_traceparent(const struct tool_ctx *ctx);
/* The W3C tracestate of the task's trace, or NULL (borrowed). */
const char *tool_tracestate(const struct tool_ctx *ctx);
/* This run's attempt number (1 for the first run; re-runs after input keep it). */
int tool_attempt(const struct tool_ctx *ctx);
/* Record progress and a status message (msg may be NULL); cheap, coalesced. */
void tool_progress(struct tool_ctx *ctx, double progress, double total, const char *msg);
/* Log a message for the client (notifications/message): 'level' is an MCP logging level
 * ("debug" ... "emergency"; anything else logs as "info"), 'data' any JSON (stolen).
 * Kept with the task (the last 64) and written with the next heartbeat or the outcome. */
void tool_log(struct tool_ctx *ctx, const char *level, json_t *data);
/* True once the task was cancelled, its lease lost, or the worker is shutting down. */
bool tool_cancelled(struct tool_ctx *ctx);
/* Sleep up to 'ms', waking at once on cancellation; returns false when cancelled. */
bool tool_sleep_ms(struct tool_ctx *ctx, int64_t ms);

/* Ask the client for input.  'requests' (stolen) is an inputRequests map
 * {key: {"method": "elicitation/create", "params": {...}}}.  When every key
 * was already answered (the tool re-runs after the answers came), returns
 * the answers for exactly these keys (new reference).  Otherwise the task is
 * parked in input_required, the slot is freed, and NULL is returned: the
 * tool must then return NULL at once; it runs again from the start once the
 * client answered, so everything before a request must be safe to repeat.
 * NULL with *error set (new reference, an MCP_ECAPABILITY JSON-RPC error) when
 * the client did not declare the capability a request needs.  A key is never
 * asked twice over the task's life. */
json_t *tool_request_input(struct tool_ctx *ctx, json_t *requests, const char *message,
                           json_t **error);
/* The capabilities the client declared when it created the task (borrowed). */
const json_t *tool_client_caps(const struct tool_ctx *ctx);

/* End this attempt with a retryable failure: the task is queued again after an
 * exponential backoff with jitter (about 1 s, 2 s, 4 s, ... at most 5 min), or fails
 * with 'message' at its last attempt.  The tool must return NULL right after. */
void tool_retry_later(struct tool_ctx *ctx, const char *message);
/* Tell every listener that the tools list changed (notifications/tools/list_changed). */
void tool_notify_tools_changed(struct tool_ctx *ctx);
/* Tell every listener that the prompts list changed (notifications/prompts/list_changed). */
void tool_notify_prompts_changed(struct tool_ctx *ctx);

/* A CallToolResult with one text item (new reference). */
json_t *tool_text_result(const char *text, bool is_error);
/* tool_text_result() of a printf-style text (cut at 511 bytes; new reference). */
PRINTF_LIKE(2, 3) json_t *tool_text_resultf(bool is_error, const char *fmt, ...);
/* A JSON-RPC error object {code, message} (new reference); 'code' is an MCP_E* of
 * proto/mcpdefs.h, the message printf-style, cut at 511 bytes. */
PRINTF_LIKE(2, 3) json_t *tool_error(int code, const char *fmt, ...);

#endif
