/*
 * exttool.h - run an external-process tool under the C tool API.
 *
 * The child gets the arguments as JSON on stdin and reports progress, status
 * and its final result as JSON lines on stdout (proto/tools-manifest.md;
 * parsed by worker/extproto.h); stderr is kept, bounded, for logs and error
 * text.  A non-zero exit is a tool error (isError: true), exit status 75 asks
 * for a retry.  Cancellation and the timeout send SIGTERM to the child's
 * process group, then SIGKILL after a grace period.  Talks to the task only
 * through tools.h; does not parse, store or decide anything about the task.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_EXTTOOL_H
#define TASKWIRE_EXTTOOL_H

#include <jansson.h>

#include "tools.h"

/* Run the tool described by 'spec' (the catalog's exec object, borrowed) with the
 * context's arguments.  Same contract as tool_run_fn; blocks until the child is reaped. */
json_t *exttool_run(struct tool_ctx *ctx, const json_t *spec, json_t **error);

#endif
