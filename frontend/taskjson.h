/*
 * taskjson.h - the JSON shapes of a task, built from its row.
 *
 * DetailedTask (tasks/get, notifications/tasks), CreateTaskResult, the
 * answer of a synchronous tools/call, MRTR's InputRequiredResult, and the
 * notifications of SSE streams.  No store, no I/O; thread-safe.  Every
 * function returns a new reference and borrows its arguments.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_TASKJSON_H
#define TASKWIRE_TASKJSON_H

#include <jansson.h>

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Add the Task fields of 'row' to object 'o'. */
void taskjson_fields(json_t *o, const struct task_row *row);
/* The DetailedTask of 'row' as a result; 'caps' (may be NULL = all) filters inputRequests. */
json_t *taskjson_detailed(const struct task_row *row, const json_t *caps);
/* InputRequiredResult for the round backed by task 'row' (waiting for input):
 * its outstanding inputRequests the caller can answer and a requestState signed
 * with the shared 'key', valid for 'ttl_s' seconds (new reference). */
json_t *taskjson_input_required_reply(const unsigned char *key, size_t key_len, int64_t ttl_s,
                                      const json_t *id, const struct task_row *row,
                                      const json_t *caps);
/* The flat CreateTaskResult of 'row' as a response (new reference). */
json_t *taskjson_create_reply(const json_t *id, const struct task_row *row);
/* The response of a synchronous tools/call whose task 'row' ended (new reference). */
json_t *taskjson_sync_reply(const json_t *id, const struct task_row *row);
/* notifications/progress for 'row' on the call's stream (new reference). */
json_t *taskjson_progress(const json_t *token, const struct task_row *row);
/* notifications/subscriptions/acknowledged for listen request 'id' (new reference). */
json_t *taskjson_listen_ack(const json_t *id, const json_t *accepted);
/* notifications/tasks with the DetailedTask of 'row' (new reference). */
json_t *taskjson_task_notification(const json_t *id, const struct task_row *row);
/* notifications/<list>/list_changed ("tools" or "prompts") on listen stream 'id' (new
 * reference). */
json_t *taskjson_list_changed(const json_t *id, const char *list);
/* The graceful end of listen stream 'id': its result (new reference). */
json_t *taskjson_listen_close(const json_t *id);


#endif
