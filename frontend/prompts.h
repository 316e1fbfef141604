/*
 * prompts.h - prompts/list and prompts/get.
 *
 * Outside fixtures taskwire serves one prompt, task_summary {taskId}: it
 * embeds the caller's task (the taskwire://tasks/{taskId} resource) and asks
 * the model to summarise it; a task that is not the caller's is -32602 like
 * an unknown one.  With TASKWIRE_FIXTURES the conformance suite's prompts
 * are served too, among them an MRTR prompt answering InputRequiredResult.
 * prompts/get checks the name and the arguments (an object of strings, the
 * required ones present) before the prompt sees them.  The list comes in
 * one page and is the same for every caller (cacheScope "public").
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_PROMPTS_H
#define TASKWIRE_PROMPTS_H

#include <jansson.h>
#include <stdbool.h>

#include "content.h"

/* Add the served prompts to 'c' (fixtures too when asked). */
void prompts_register(struct content *c, bool fixtures);
/* The prompt called 'name' in 'c', or NULL. */
const struct prompt_def *prompts_find(const struct content *c, const char *name);

/* prompts/list (content_method_fn). */
json_t *prompts_list(const struct content_call *cc, const struct rpc_request *req, int *status);
/* prompts/get (content_method_fn). */
json_t *prompts_get(const struct content_call *cc, const struct rpc_request *req, int *status);

#endif
