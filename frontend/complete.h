/*
 * complete.h - completion/complete: suggestions for prompt and template arguments.
 *
 * A ref/prompt names a prompt and one of its arguments; a ref/resource
 * names a resource template by its exact uriTemplate and its variable.
 * Suggestions come from the argument's completer (task ids: the caller's own
 * tasks only, newest first) or its fixed list, filtered by the typed prefix;
 * none is an empty list.  An unknown prompt, template or argument is -32602.
 * At most CONTENT_COMPLETE_MAX values, with hasMore when there are others.
 * CompleteResult carries no caching hints.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_COMPLETE_H
#define TASKWIRE_COMPLETE_H

#include <jansson.h>

#include "content.h"

/* completion/complete (content_method_fn). */
json_t *complete_complete(const struct content_call *cc, const struct rpc_request *req,
                          int *status);

#endif
