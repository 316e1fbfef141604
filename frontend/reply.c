/*
 * reply.c - results, caching hints and errors shared by every method handler.
 *
 * One place decides what a result looks like and how a store failure reads
 * to a client, so tasks, tools, resources, prompts and completions answer
 * alike.  It does not choose which error a request deserves; the handlers
 * do.  Invariant: a store outage is always 503 with a retry hint, never a
 * 500, and its detail never reaches the client.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "reply.h"

#include "log.h"
#include "mcpdefs.h"
#include "metrics.h"
#include "overload.h"
#include "store.h"

METRIC_DEFINE(m_store_down, METRIC_COUNTER, "taskwire_store_unavailable_total", NULL,
              "Requests answered 503 because PostgreSQL was unreachable");

/* Register taskwire_store_unavailable_total; call once before serving. */
void reply_metrics_register(void)
{
    metrics_register(&m_store_down);
}

/* A result object {resultType: type, _meta: {serverInfo}}; a new reference. */
json_t *reply_result_new(const char *type)
{
    return json_pack("{s:s, s:{s:{s:s, s:s}}}", "resultType", type, "_meta", MCP_META_SERVER_INFO,
                     "name", "taskwire", "version", TASKWIRE_VERSION);
}

/* Set the caching hints of result 'r' (borrowed). */
void reply_cache(json_t *r, int64_t ttl_ms, const char *scope)
{
    json_object_set_new(r, "ttlMs", json_integer(ttl_ms < 0 ? 0 : ttl_ms));
    json_object_set_new(r, "cacheScope", json_string(scope));
}

/* The success response to 'req' carrying 'result' (stolen); sets *status to 200. */
json_t *reply_ok(const struct rpc_request *req, int *status, json_t *result)
{
    *status = 200;
    return rpc_result_response(req->id, result);
}

/* The error response to 'req' of kind 'e'; *status gets the HTTP status of the kind. */
json_t *reply_error(const struct rpc_request *req, int *status, enum rpc_error e, const char *msg,
                    json_t *data)
{
    *status = rpc_error_http_status(e);
    return rpc_error_response(req->id, e, msg, data);
}

/*
 * The response for a store call that failed with 'rc': -STORE_ENOTFOUND is
 * the -32602 every task method gives an unknown or foreign task;
 * -STORE_ELIMIT (the caller's cap on live tasks) is 429, counted in
 * overload.h; -STORE_EUNAVAILABLE is 503 "retry shortly" and counted; anything else is
 * 500 "Internal error" with e->msg logged, not answered.
 */
json_t *reply_store_error(const struct rpc_request *req, int *status, int rc, const struct err *e)
{
    switch (-rc) {
    case STORE_ENOTFOUND:
        return reply_error(req, status, RPC_EPARAMS, "Failed to retrieve task: Task not found",
                           NULL);
    case STORE_ELIMIT:
        overload_note(OVERLOAD_MAX_LIVE);
        return reply_error(req, status, RPC_ELIMITED,
                           "Too many live tasks for this principal; retry once some have ended",
                           json_pack("{s:s, s:i}", "reason", "max_live_tasks", "retryAfterMs",
                                     1000));
    case STORE_EUNAVAILABLE:
        metrics_add(&m_store_down, 1);
        return reply_error(req, status, RPC_EUNAVAILABLE, "Task store unavailable; retry shortly",
                           NULL);
    default:
        LOG_ERROR("task store error", "error", e ? e->msg : "", "method", req->method);
        return reply_error(req, status, RPC_EINTERNAL, "Internal error", NULL);
    }
}
