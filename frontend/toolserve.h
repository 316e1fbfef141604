/*
 * toolserve.h - the contract of tools a frontend answers by itself.
 *
 * A few tools are cheap reads or writes of the task store that would gain
 * nothing from becoming durable tasks (the task view App's status and
 * cancel tools, apptools.c).  Their catalog entry (catalog_add_frontend())
 * points at a struct tool_frontend; tools/call checks their arguments like
 * any other tool's, then calls it instead of creating a task, for clients
 * of either era (the legacy layer runs tools/call through the same
 * dispatch).  Such a tool never runs as a task, holds no state between
 * calls and uses only the connections of the call.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_TOOLSERVE_H
#define TASKWIRE_TOOLSERVE_H

#include <jansson.h>

#include "notify.h"
#include "rpc.h"
#include "store.h"

/* What one call brings (mcp.c builds it per request). */
struct toolserve_call {
    struct store *store;    /* this thread's store */
    struct notify_pub *pub; /* this thread's event publisher */
    const char *owner;      /* the authenticated caller */
    const json_t *caps;     /* the caller's client capabilities (borrowed, may be NULL) */
};

/* Answer tools/call 'req' whose 'args' (an object, never NULL) passed the tool's input
 * schema: the whole response (new reference) with *status set. */
typedef json_t *toolserve_fn(const struct toolserve_call *tc, const struct rpc_request *req,
                             int *status, const json_t *args);

/* A tool the frontend answers itself (the catalog's opaque struct tool_frontend). */
struct tool_frontend {
    toolserve_fn *call; /* answers one call */
};

#endif
