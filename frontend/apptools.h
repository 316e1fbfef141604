/*
 * apptools.h - the tools of the task view App, answered by the frontend.
 *
 * The App (taskapp.h) cannot reach tasks/get or tasks/cancel: an MCP Apps
 * host proxies only tools/call and resources/read for its View.  So two
 * tools give it what it needs, both with _meta.ui.visibility ["app"]
 * (hosts keep them from the model and let only the App call them):
 *
 *   taskwire_task_status {taskId}  the caller's task as structuredContent:
 *                                  its DetailedTask fields, progress as
 *                                  {progress, total}, plus a text summary;
 *   taskwire_task_cancel {taskId}  cancels it like tasks/cancel, then the
 *                                  same answer with "cancelled" (whether
 *                                  this call cancelled it).
 *
 * Both read and write through the owner-filtered store calls, so another
 * principal's task answers exactly like an unknown one (the -32602 of
 * tasks/get), and both are answered at once by the frontend (toolserve.h),
 * never as tasks, for clients of either era.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_APPTOOLS_H
#define TASKWIRE_APPTOOLS_H

#include "catalog.h"
#include "err.h"

#define APPTOOLS_STATUS "taskwire_task_status" /* reads a task */
#define APPTOOLS_CANCEL "taskwire_task_cancel" /* cancels a task */

/* Add the App's tools to 'c' (start-up only): 0, or catalog_add()'s error. */
MUST_CHECK int apptools_register(struct catalog *c, struct err *err);

#endif
