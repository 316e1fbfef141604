/*
 * legacy_stream.h - what legacy (2025) responses say about a task, and what
 * their SSE streams carry.
 *
 * The task rows are the modern ones; this module maps them to the 2025-11-25
 * shapes: the Task object (ttl, pollInterval; a tool error reads as failed),
 * the outcome of tasks/result with its related-task _meta, the final answer
 * of a synchronous call without the 2026-only fields, notifications/tasks/
 * status, and the server-to-client requests of a task waiting for input,
 * with ids that route the client's answer back to the task from any
 * frontend.  Pure builders: no I/O, thread-safe; each returns new references.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_LEGACY_STREAM_H
#define TASKWIRE_LEGACY_STREAM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "store.h"

#define LEGACY_META_RELATED_TASK "io.modelcontextprotocol/related-task"
#define LEGACY_KEY_MAX           128 /* longest input request key routed back */

/* How a legacy request waits (NULL or .on false: a modern request). */
struct legacy_stream {
    bool on;          /* legacy answers; server-to-client requests on the stream */
    bool task_result; /* tasks/result: the outcome with related-task; leaving cancels nothing */
};

/* The 2025-11-25 status of 'row' ("working", ..., a completed tool error is "failed"). */
const char *legacy_status(const struct task_row *row);
/* The 2025-11-25 Task object of 'row'. */
json_t *legacy_task(const struct task_row *row);
/* notifications/tasks/status for 'row'. */
json_t *legacy_status_notification(const struct task_row *row);
/* The response to tasks/result 'id' for the terminal task 'row'. */
json_t *legacy_result_reply(const json_t *id, const struct task_row *row);
/* The response to a synchronous legacy tools/call 'id' whose task 'row' ended. */
json_t *legacy_call_reply(const json_t *id, const struct task_row *row);
/* Remove the 2026-only fields from the result of 'response' (modified in place). */
void legacy_strip(json_t *response);
/* Append to 'out' one JSON-RPC request per input request of 'row' not in 'asked' (then
 * added) that 'caps' allows; 'related' adds the related-task _meta. */
void legacy_input_messages(const struct task_row *row, const json_t *caps, json_t *asked,
                           bool related, json_t *out);
/* Split a response id "tw:<task id>:<key>": true with 'task' and 'key' filled. */
bool legacy_response_id(const json_t *id, char task[TASKID_LEN + 1], char key[LEGACY_KEY_MAX + 1]);

#endif
