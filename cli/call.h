/*
 * call.h - 'taskwire call': an MCP 2026-07-28 client for one tool call, over libcurl.
 *
 * call_run() posts tools/call, follows a CreateTaskResult by polling tasks/get,
 * answers elicitations from the terminal and prints the result.  The parsing
 * and formatting pieces below it are pure (no I/O, no globals) so that they can
 * be unit tested.  It never picks exit codes: cli/main.c maps -CALL_E* to them.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CALL_H
#define TASKWIRE_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "mcpdefs.h"

#define CALL_BAR_CELLS        30                      /* '#'/'-' cells between the brackets */
#define CALL_SSE_MAX_BYTES    (16u << 20)             /* longest SSE line or event we buffer */

enum call_error {
    CALL_EUSAGE = 1, /* bad arguments or settings */
    CALL_ETRANSPORT, /* no connection, timeout, HTTP error without JSON-RPC body, not JSON */
    CALL_ERPC,       /* the server answered with a JSON-RPC error */
    CALL_ETOOL,      /* isError result, task failed/cancelled/timed out, input impossible */
    CALL_EINTR,      /* SIGINT; the task (if any) was sent tasks/cancel */
    CALL_ENOMEM,     /* allocation failed */
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

/* ---- pure helpers (tested in tests/unit/cli/test_call.c) ---- */

/* Parse one argument value: JSON if it is valid JSON, else a string.  New reference in *out. */
MUST_CHECK int call_parse_value(const char *text, json_t **out, struct err *err);
/* Parse "key=value" and set it in the object 'args' (borrowed). */
MUST_CHECK int call_parse_kv(json_t *args, const char *kv, struct err *err);
/* Build the arguments object from --args JSON (may be NULL) then n key=value strings. */
MUST_CHECK int call_build_args(const char *args_json, char *const *kv, int n, json_t **out,
                               struct err *err);
/* A JSON-RPC request with the protocol _meta merged into 'params' (stolen); new reference. */
json_t *call_request_new(json_int_t id, const char *method, json_t *params,
                         const char *progress_token);
/* Encode a header value (Mcp-Name) as itself or as =?base64?...?=; -1 if it does not fit. */
MUST_CHECK int call_header_value(const char *value, char *out, size_t size);

/* Server-Sent Events parser state: feed it bytes in any pieces. */
struct call_sse {
    char *line;       /* bytes of the line being read, not NUL-terminated */
    size_t line_len;  /* bytes used in line */
    size_t line_cap;  /* bytes allocated for line */
    char *data;       /* "data" of the event being built, lines joined with '\n' */
    size_t data_len;  /* bytes used in data */
    size_t data_cap;  /* bytes allocated for data */
    bool has_data;    /* a data field was seen since the last dispatch */
    bool after_cr;    /* the last byte was CR, so a following LF ends nothing */
    bool started;     /* past the first line (where a BOM is skipped) */
    char event[64];   /* "event" field of the event being built, "" = "message" */
    size_t max_bytes; /* limit for line and data */
};

/* Called once per complete event; return 0 to go on, 1 to stop feeding. */
typedef int call_sse_cb(void *ctx, const char *event, const char *data, size_t len);

/* Start an empty parser. */
void call_sse_init(struct call_sse *p);
/* Release its buffers; the struct may be initialised again. */
void call_sse_fini(struct call_sse *p);
/* Parse 'len' bytes; 0 when all used, 1 when 'cb' asked to stop, -CALL_E* on error. */
MUST_CHECK int call_sse_feed(struct call_sse *p, const char *buf, size_t len, call_sse_cb *cb,
                             void *ctx);

/* Find "a/b" (first pair of integers around a '/') in text; true if found. */
bool call_progress_from_text(const char *text, double *progress, double *total);
/* Progress of a task/tasks/get result: _meta progress, else statusMessage "a/b". */
bool call_progress_extract(const json_t *task, double *progress, double *total);
/* Render "[###---]  50%  label  (3.1s)" into buf; returns strlen(buf). */
size_t call_bar_render(char *buf, size_t size, double progress, double total, const char *label,
                       double elapsed_s);
/* Describe a non-text content item ("[image image/png, 1234 bytes base64]"); strlen(buf). */
size_t call_content_describe(const json_t *item, char *buf, size_t size);

#endif
