/*
 * call.h - 'taskwire call': one MCP 2026-07-28 tool call, followed to its end.
 *
 * call_run() posts tools/call (repeating it for MRTR input rounds), follows a
 * CreateTaskResult by polling tasks/get, answers elicitations from the
 * terminal, sends tasks/cancel on SIGINT or at the deadline, and prints the
 * result.  The pieces live beside it: args.c (the arguments), client.c
 * (HTTP), sse.c (event streams), elicit.c (prompts), ui.c (the terminal).
 * It never picks exit codes: cli/main.c maps -CALL_E* to them.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CLI_CALL_H
#define TASKWIRE_CLI_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

enum call_error {
    CALL_EUSAGE = 1, /* bad arguments or settings */
    CALL_ETRANSPORT, /* no connection, timeout, HTTP error without JSON-RPC body, not JSON */
    CALL_ERPC,       /* the server answered with a JSON-RPC error */
    CALL_ETOOL,      /* isError result, task failed/cancelled/timed out, input impossible */
    CALL_EINTR,      /* SIGINT; the task (if any) was sent tasks/cancel */
    CALL_ENOMEM,     /* allocation failed */
    CALL_EAUTH,      /* the server refused the token or its scopes (never retried) */
};

struct call_opts {
    const char *url;   /* MCP endpoint, e.g. http://127.0.0.1:8700/mcp */
    const char *token; /* bearer token, or NULL/"" for none */
    const char *tool;  /* tool name (params.name) */
    json_t *args;      /* borrowed: the arguments object */
    bool progress;     /* draw progress on stderr */
    int64_t timeout_s; /* overall deadline in seconds, 0 = none */
};

/* Call the tool and print its result; 0 or -CALL_E* with a printable line in err. */
MUST_CHECK int call_run(const struct call_opts *o, struct err *err);

#endif
