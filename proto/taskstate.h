/*
 * taskstate.h - the task lifecycle: internal states, their MCP names, and
 * which moves are allowed.
 *
 * queued and running both read as MCP "working".  Terminal states never
 * change again.  The SQL in common/store.c enforces the same table with
 * conditional UPDATEs; this module is its specification and its unit test.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_TASKSTATE_H
#define TASKWIRE_TASKSTATE_H

#include <stdbool.h>

enum task_status {
    TASK_QUEUED,         /* durable, waiting for a worker */
    TASK_RUNNING,        /* claimed by one worker under a lease */
    TASK_INPUT_REQUIRED, /* the tool waits for tasks/update */
    TASK_COMPLETED,      /* terminal: a CallToolResult (maybe isError) */
    TASK_FAILED,         /* terminal: a JSON-RPC error */
    TASK_CANCELLED,      /* terminal: tasks/cancel won */
};
#define TASK_STATUS_COUNT 6

/* The name stored in PostgreSQL ("queued", ...); NULL for an invalid value. */
const char *taskstate_name(enum task_status s);
/* Parse a stored name; returns 0 or -1. */
int taskstate_parse(const char *name, enum task_status *out);
/* The MCP Tasks status ("working", "input_required", ...). */
const char *taskstate_mcp(enum task_status s);
/* True for completed, failed and cancelled. */
bool taskstate_terminal(enum task_status s);
/* True when the lifecycle allows from -> to. */
bool taskstate_can_move(enum task_status from, enum task_status to);

#endif
