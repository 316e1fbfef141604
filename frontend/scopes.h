/*
 * scopes.h - the scope model: which OAuth scopes each request needs.
 *
 * One table says what every method needs; both eras ask it, through one
 * call on the HTTP path before dispatch (http.c), and the methods that
 * depend on the caller's scopes (tools/list, task reads and cancels by an
 * operator) ask it again here.  The model, in full (README "Security"):
 *
 *   mcp:tools     tools/list, tools/call, resources, prompts, completions,
 *                 subscriptions/listen, answers to a legacy input request
 *   + tool scopes a tool's own "scopes" (tools manifest, built-in table),
 *                 to see it in tools/list and to call it
 *   mcp:tasks     the caller's own tasks: tasks/get, tasks/update,
 *                 tasks/cancel, tasks/result, tasks/list, listening to task
 *                 ids, reading taskwire://tasks/ resources and completing
 *                 their ids
 *   mcp:operator  tasks/get and tasks/cancel of any principal's task
 *   (none)        server/discover, initialize, ping, logging/setLevel,
 *                 notifications, unknown methods (answered -32601)
 *
 * Pure: no I/O, no state.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_SCOPES_H
#define TASKWIRE_SCOPES_H

#include <stdbool.h>

#include <jansson.h>

#include "auth.h"
#include "catalog.h"

#define SCOPE_TOOLS    "mcp:tools"    /* use the tools and content */
#define SCOPE_TASKS    "mcp:tasks"    /* read, answer and cancel one's own tasks */
#define SCOPE_OPERATOR "mcp:operator" /* read and cancel any principal's task */
#define SCOPES_BASIC   SCOPE_TOOLS " " SCOPE_TASKS /* scopes_supported, 401 challenges */

#define SCOPES_NEEDED_MAX 640 /* bytes of a decision's scope list, NUL included */

/* What one request needs, and whether the caller has it. */
struct scope_decision {
    bool allowed;                   /* the caller holds what the request needs */
    char needed[SCOPES_NEEDED_MAX]; /* every scope it needs, space-separated ("" = none) */
};

/* Decide for caller 'p' (NULL: every scope) a request of 'method' (NULL: a legacy
 * response to a server request) with 'params' against the tools of 'c'. */
void scopes_decide(const struct catalog *c, const char *method, const json_t *params,
                   const struct auth_principal *p, struct scope_decision *d);
/* True when 'p' (NULL: every scope) may see and call 'tool'. */
bool scopes_tool_allowed(const struct auth_principal *p, const struct tool_desc *tool);
/* The owner task reads and cancels filter on: NULL (any task) for an operator, else 'owner'. */
const char *scopes_task_owner(const struct auth_principal *p, const char *owner);

#endif
