/*
 * legacy_tasks.h - the 2025-11-25 task methods over the modern task store.
 *
 * tasks/get, tasks/result, tasks/list and tasks/cancel as a 2025-11-25
 * client expects them, on the same rows, owners and limits as the modern
 * tasks methods: a task created in one era is read in the other.  Only a
 * session that negotiated 2025-11-25 has them (2025-06-18 had no tasks).
 * Errors go out in HTTP 200 (a 2025 client reads no JSON-RPC error from a
 * 4xx), except a store outage (503, retry).  Uses only the call's
 * connections, so it runs on the thread that owns them.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_LEGACY_TASKS_H
#define TASKWIRE_LEGACY_TASKS_H

#include <jansson.h>
#include <stdbool.h>

#include "legacy_stream.h"
#include "mcp.h"
#include "rpc.h"

#define LEGACY_LIST_PAGE 50 /* tasks per tasks/list page */

/* One legacy request as the legacy handlers see it. */
struct legacy_req {
    struct mcp_call *mc;           /* the thread's connections, the caller, the server */
    const struct rpc_request *req; /* the request (borrowed) */
    const char *version;           /* the session's protocol version */
    json_t *caps;                  /* the session's clientCapabilities (borrowed) */
};

/* Answer 'x' if it is a tasks method: fills *oc (and *st for a tasks/result that waits);
 * false when it is not one. */
bool legacy_tasks_handle(const struct legacy_req *x, struct mcp_outcome *oc,
                         struct legacy_stream *st);
/* Fill *oc with the JSON-RPC error 'e' for 'x' in HTTP 200 (503 for RPC_EUNAVAILABLE). */
void legacy_fail(const struct legacy_req *x, struct mcp_outcome *oc, enum rpc_error e,
                 const char *msg, json_t *data);
/* Fill *oc with the result 'result' (stolen) for 'x' in HTTP 200. */
void legacy_succeed(const struct legacy_req *x, struct mcp_outcome *oc, json_t *result);

#endif
