/*
 * exttool.h - run an external-process tool under the C tool API.
 *
 * The child gets the arguments as JSON on stdin and reports progress, status
 * and its final result as JSON lines on stdout (proto/tools-manifest.md);
 * stderr is kept, bounded, for logs and error text.  A non-zero exit is a tool
 * error (isError: true).  Cancellation and the timeout send SIGTERM to the
 * child's process group, then SIGKILL after a grace period.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_EXTTOOL_H
#define TASKWIRE_EXTTOOL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "tools.h"

#define EXTTOOL_EXIT_RETRY 75 /* EX_TEMPFAIL: a transient failure, retried after a backoff */

#define EXTTOOL_EPROTO      1   /* returned negated: a line that is not a protocol message */
#define EXTTOOL_MESSAGE_MAX 255 /* bytes of a status message kept (the runner keeps 255) */

/* What one stdout line of a child says. */
enum exttool_event_kind {
    EXTTOOL_EV_BLANK,    /* an empty or all-white-space line: nothing to do */
    EXTTOOL_EV_PROGRESS, /* {"progress": n, "total"?: m, "message"?: s} */
    EXTTOOL_EV_STATUS,   /* {"status": s} */
    EXTTOOL_EV_RESULT,   /* {"result": CallToolResult} */
};

struct exttool_event {
    enum exttool_event_kind kind;          /* what the line is */
    double progress;                       /* PROGRESS: work done, >= 0 */
    double total;                          /* PROGRESS: total work, > 0, or 0 when not given */
    bool has_message;                      /* PROGRESS, STATUS: 'message' is set */
    char message[EXTTOOL_MESSAGE_MAX + 1]; /* NUL-terminated, cut at a UTF-8 boundary */
    json_t *result;                        /* RESULT: the CallToolResult (new reference) */
};

/* Run the tool described by 'spec' (the catalog's exec object) with the
 * context's arguments.  Same contract as tool_run_fn. */
json_t *exttool_run(struct tool_ctx *ctx, const json_t *spec, json_t **error);

/* Parse one stdout line ('len' bytes, without its '\n'; need not be NUL-terminated).
 * 0 with *out filled, or -EXTTOOL_EPROTO with err saying why (never quoting the line). */
MUST_CHECK int exttool_parse_line(const char *line, size_t len, struct exttool_event *out,
                                  struct err *err);

/* Release what an event holds; safe on a zeroed or failed event. */
void exttool_event_fini(struct exttool_event *ev);

#endif
