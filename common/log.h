/*
 * log.h - JSON-lines logging to stderr.
 *
 * One line per event, written with a single write(2) so lines from several
 * threads never interleave.  No allocation on the logging path.  Context is
 * given as NULL-terminated key/value string pairs.  Never pass tokens,
 * arguments or results: log sizes and ids instead.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_LOG_H
#define TASKWIRE_LOG_H

#include <stdbool.h>

enum log_level { LOGL_DEBUG, LOGL_INFO, LOGL_WARN, LOGL_ERROR };

#define LOG_EINVALID 1 /* returned negated: not a level name */

/* Set the service name ("frontend", "worker", "taskwire"), the threshold and the format.
 * Call once from main() before any thread starts. */
void log_init(const char *svc, enum log_level min, bool text);
/* Parse "debug|info|warn|error" into *out; returns 0 or -LOG_EINVALID. */
int log_level_parse(const char *s, enum log_level *out);
/* Make this thread's lines carry "trace_id" and "span_id" (copied, cut to 32 and 16
 * bytes); NULL for either stops it.  trace.h is the way to call this. */
void log_set_trace(const char *trace_id, const char *span_id);
/* Write one line: msg, then key/value pairs of strings, ended by a NULL key.
 * A NULL value is written as null.  Lines past 4 KiB are truncated and marked. */
void log_msg(enum log_level level, const char *msg, ...);

#define LOG_DEBUG(...) log_msg(LOGL_DEBUG, __VA_ARGS__, (const char *)0)
#define LOG_INFO(...)  log_msg(LOGL_INFO, __VA_ARGS__, (const char *)0)
#define LOG_WARN(...)  log_msg(LOGL_WARN, __VA_ARGS__, (const char *)0)
#define LOG_ERROR(...) log_msg(LOGL_ERROR, __VA_ARGS__, (const char *)0)

#endif
