/*
 * content_methods.h - the resources, prompts and completion methods, as mcp.c sees them.
 *
 * One table names the handlers of resources.c, prompts.c and complete.c, and
 * one function says what a served struct content advertises in
 * server/discover (resources and completions always, prompts when there are
 * any), so mcp.c dispatches and advertises them without knowing each module.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CONTENT_METHODS_H
#define TASKWIRE_CONTENT_METHODS_H

#include <jansson.h>
#include <stdbool.h>

#include "content.h"

/* True when 'method' is one of the content methods. */
bool content_methods_serves(const char *method);
/* The response to 'req' when it is a content method (new reference), else NULL. */
json_t *content_methods_handle(const struct content_call *cc, const struct rpc_request *req,
                               int *status);
/* Add the capabilities of serving 'c' (NULL: nothing) to the ServerCapabilities 'caps'. */
void content_methods_capabilities(const struct content *c, bool prompts_list_changed, json_t *caps);

#endif
