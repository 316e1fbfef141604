/*
 * taskstate.c - the task lifecycle table.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "taskstate.h"

#include <string.h>

static const char *const names[TASK_STATUS_COUNT] = {
    "queued", "running", "input_required", "completed", "failed", "cancelled",
};

static const char *const mcp_names[TASK_STATUS_COUNT] = {
    "working", "working", "input_required", "completed", "failed", "cancelled",
};

/* allowed[from][to]; see the lifecycle diagram in ../shared/design/architecture.md */
static const bool allowed[TASK_STATUS_COUNT][TASK_STATUS_COUNT] = {
    /*                 queued running input  done   failed cancel */
    [TASK_QUEUED]         = {false, true,  false, false, true,  true},
    [TASK_RUNNING]        = {true,  false, true,  true,  true,  true},
    [TASK_INPUT_REQUIRED] = {true,  true,  false, true,  true,  true},
};

const char *taskstate_name(enum task_status s)
{
    return (unsigned)s < TASK_STATUS_COUNT ? names[s] : NULL;
}

int taskstate_parse(const char *name, enum task_status *out)
{
    for (int i = 0; name && i < TASK_STATUS_COUNT; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum task_status)i;
            return 0;
        }
    }
    return -1;
}

const char *taskstate_mcp(enum task_status s)
{
    return (unsigned)s < TASK_STATUS_COUNT ? mcp_names[s] : NULL;
}

bool taskstate_terminal(enum task_status s)
{
    return s == TASK_COMPLETED || s == TASK_FAILED || s == TASK_CANCELLED;
}

/*
 * running -> queued is a lost lease or a graceful release; queued -> failed
 * is a sweeper giving up (max attempts) or an expired deadline.
 */
bool taskstate_can_move(enum task_status from, enum task_status to)
{
    if ((unsigned)from >= TASK_STATUS_COUNT || (unsigned)to >= TASK_STATUS_COUNT)
        return false;
    return allowed[from][to];
}
