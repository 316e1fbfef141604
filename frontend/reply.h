/*
 * reply.h - the shapes every MCP method handler answers with.
 *
 * A result carries resultType and _meta serverInfo; cacheable results carry
 * ttlMs and cacheScope; an error takes its HTTP status from rpc.c's one
 * table; a store failure becomes the same answer whichever method met it.
 * Pure apart from the metric of store outages and the log line of an
 * internal error; thread-safe.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_REPLY_H
#define TASKWIRE_REPLY_H

#include <jansson.h>
#include <stdint.h>

#include "err.h"
#include "rpc.h"

/* A result object of 'type' ("complete", "task", ...) with _meta serverInfo (new reference). */
json_t *reply_result_new(const char *type);
/* Set ttlMs (negative counts as 0) and cacheScope ("public" or "private") on result 'r'. */
void reply_cache(json_t *r, int64_t ttl_ms, const char *scope);
/* The success response to 'req' carrying 'result' (stolen); *status = 200 (new reference). */
json_t *reply_ok(const struct rpc_request *req, int *status, json_t *result);
/* The error response to 'req' of kind 'e' with 'msg' (borrowed) and 'data' (stolen, may be
 * NULL); *status from rpc.c's table (new reference). */
json_t *reply_error(const struct rpc_request *req, int *status, enum rpc_error e, const char *msg,
                    json_t *data);
/* The answer for a task store failure 'rc' (-STORE_E*, with 'e'): not found -32602, unreachable
 * 503 "retry shortly" (counted), anything else 500 with the detail logged (new reference). */
json_t *reply_store_error(const struct rpc_request *req, int *status, int rc, const struct err *e);
/* Register the metrics this module counts; call once before serving. */
void reply_metrics_register(void);

#endif
