/*
 * tasklog.h - a task's log messages as notifications/message, for either era.
 *
 * Tools log with tool_log() (worker/tools.h); the worker keeps the last
 * STORE_LOG_KEEP messages in the task row with a running count.  A waiting
 * SSE response turns the messages it has not sent yet, at or above the
 * level its request asked for, into notifications/message.  Pure: no I/O;
 * thread-safe.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_TASKLOG_H
#define TASKWIRE_TASKLOG_H

#include <jansson.h>
#include <stdint.h>

#include "store.h"

#define TASKLOG_INFO 1 /* the level legacy streams send from (info) */

/* The rank of MCP logging level 'name' (debug 0 ... emergency 7), or -1. */
int tasklog_level(const char *name);
/* Append to array 'out' a notifications/message for each message of 'row' numbered
 * above *sent with a level of rank >= min_level; *sent becomes the last number. */
void tasklog_messages(const struct task_row *row, int min_level, int64_t *sent, json_t *out);

#endif
