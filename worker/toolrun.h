/*
 * toolrun.h - which code runs a tool: its exec spec (an external process),
 * its built-in C code, or a conformance fixture.
 *
 * The runner (worker/runner.c) calls toolrun_invoke() for every task; the
 * registry (worker/registry.c) asks toolrun_available() which tools this
 * worker runs.  No state; thread-safe.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_TOOLRUN_H
#define TASKWIRE_TOOLRUN_H

#include <jansson.h>
#include <stdbool.h>

#include "catalog.h"
#include "tools.h"

/* Run the code of the tool of 'ctx': its result (caller owns it), or NULL with *error set
 * (caller owns it) to a JSON-RPC error object. */
json_t *toolrun_invoke(const struct catalog *catalog, struct tool_ctx *ctx, json_t **error);
/* True when this worker has code for tool 'name' of 'catalog' (and the frontend does not
 * answer it itself). */
bool toolrun_available(const struct catalog *catalog, const char *name);

#endif
