/*
 * resources.h - resources/list, resources/templates/list and resources/read.
 *
 * Outside fixtures taskwire serves one resource template,
 * taskwire://tasks/{taskId}: reading it returns the caller's own task as
 * JSON (status, progress, result or error, times) with cacheScope
 * "private" and the task's poll interval as ttlMs.  Per-task resources are
 * never listed, only their template.  With TASKWIRE_FIXTURES the
 * conformance suite's resources and template are served too
 * (content_fixtures.c).  A URI nothing serves and a task of another
 * principal read exactly alike: -32602 "Resource not found" with data.uri,
 * never an empty contents list.  Lists come in one page and are the same
 * for every caller (cacheScope "public").
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_RESOURCES_H
#define TASKWIRE_RESOURCES_H

#include <jansson.h>
#include <stdbool.h>

#include "content.h"

#define RESOURCES_TASK_PREFIX "taskwire://tasks/" /* + a task id: the caller's task */

/* Add the served resources and templates to 'c' (fixtures too when asked). */
void resources_register(struct content *c, bool fixtures);

/* resources/list: the fixed resources (content_method_fn). */
json_t *resources_list(const struct content_call *cc, const struct rpc_request *req, int *status);
/* resources/templates/list: the templates (content_method_fn). */
json_t *resources_templates_list(const struct content_call *cc, const struct rpc_request *req,
                                 int *status);
/* resources/read (content_method_fn). */
json_t *resources_read(const struct content_call *cc, const struct rpc_request *req, int *status);

/* Read 'uri' for the caller: 0 with *out (the caller owns out->contents), or -CONTENT_E*. */
MUST_CHECK int resources_read_uri(const struct content_call *cc, const char *uri,
                                  struct content_read *out, struct err *err);
/* Complete a task id: the caller's own tasks whose id starts with 'prefix', newest first
 * (content_complete_fn). */
int resources_complete_task_id(const struct content_call *cc, const char *prefix, json_t *values,
                               size_t max, bool *more, struct err *err);

#endif
