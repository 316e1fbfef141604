/*
 * mcp.h - MCP method dispatch for one checked request.
 *
 * Runs after http.c authenticated the caller and rpc.c validated the
 * envelope and headers.  Answers server/discover, tools/list, tools/call
 * (creating durable tasks) and the Tasks extension methods from the store.
 * Holds no per-client state: any frontend answers any request.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_MCP_H_FRONTEND
#define TASKWIRE_MCP_H_FRONTEND

#include <jansson.h>
#include <stdint.h>

#include "catalog.h"
#include "dispatch.h"
#include "notify.h"
#include "rpc.h"
#include "store.h"

/* Process-wide, read-only after start-up. */
struct mcp_server {
    const struct catalog *catalog; /* tools served */
    struct dispatch *fabric;       /* job push socket (thread-safe) */
    int64_t task_ttl_ms;           /* ttlMs given to new tasks */
    int64_t poll_interval_ms;      /* pollIntervalMs given to new tasks */
    int64_t list_ttl_ms;           /* caching ttlMs of tools/list and server/discover */
};

/* What one request brings: its thread's connections and its caller. */
struct mcp_call {
    const struct mcp_server *srv; /* shared */
    struct store *store;          /* this thread's store */
    struct notify_pub *pub;       /* this thread's event publisher */
    const char *owner;            /* authenticated principal */
    const char *traceparent;      /* W3C trace context of the request, or NULL */
    rpc_header_fn *header;        /* reads a request header (for Mcp-Param-*) */
    void *header_arg;             /* its argument */
};

/* Handle 'req'; returns the whole JSON-RPC response (new reference) and sets
 * *http_status.  Never returns NULL except when out of memory. */
json_t *mcp_handle(struct mcp_call *c, const struct rpc_request *req, int *http_status);

/* Metrics the frontend exports (registered by mcp_metrics_register). */
void mcp_metrics_register(void);

#endif
