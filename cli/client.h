/*
 * client.h - JSON-RPC over MCP Streamable HTTP for 'taskwire call', on libcurl.
 *
 * One client is one endpoint and one reused curl handle (keep-alive).
 * client_request() POSTs one request with the per-request _meta and routing
 * headers this protocol needs and returns its result, whether the reply is
 * application/json or an event stream (progress notifications on the stream
 * go to the ui).  It never retries: tools/call is not idempotent, and the
 * caller decides what a failure means.  client_request_new() and
 * client_header_value() are pure and unit tested.  Not thread-safe.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CLI_CLIENT_H
#define TASKWIRE_CLI_CLIENT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bytebuf.h"
#include "err.h"
#include "sse.h"
#include "ui.h"

enum client_error {
    CLIENT_EUSAGE = 1, /* the caller's input cannot be sent (name too long for Mcp-Name) */
    CLIENT_ETRANSPORT, /* no connection, timeout, HTTP error without JSON-RPC body, not JSON */
    CLIENT_ERPC,       /* the server answered with a JSON-RPC error */
    CLIENT_EINTR,      /* *interrupted became non-zero during the transfer */
    CLIENT_ENOMEM,     /* allocation failed */
    CLIENT_EAUTH,      /* 401, or 403/400 with a Bearer challenge: the token or its scopes */
};

/* What a client is made from; every pointer is borrowed and must outlive the client. */
struct client_opts {
    const char *url;                          /* MCP endpoint */
    const char *token;                        /* bearer token, or NULL/"" for none */
    int64_t deadline_ms;                      /* monotonic overall deadline, 0 = none */
    const volatile sig_atomic_t *interrupted; /* non-zero aborts a transfer; may be NULL */
    struct ui *ui;                            /* where progress notifications go */
};

/* One endpoint, one curl handle, and the state of the request in flight. */
struct client {
    CURL *curl;                               /* reused for every request (keep-alive) */
    char curl_err[CURL_ERROR_SIZE];           /* libcurl's detail for the last failure */
    const char *url;                          /* borrowed */
    const char *token;                        /* borrowed; NULL for none */
    json_int_t next_id;                       /* JSON-RPC id of the next request */
    int64_t deadline_ms;                      /* overall deadline, 0 = none; caller may change */
    bool abort_on_interrupt;                  /* *interrupted aborts; caller may clear it */
    const volatile sig_atomic_t *interrupted; /* borrowed SIGINT flag, or NULL */
    struct ui *ui;                            /* borrowed: where progress notifications go */
    /* per request */
    json_int_t want_id;         /* id of the request in flight */
    struct bytebuf body;            /* JSON reply body */
    bool sse;                   /* the reply is text/event-stream */
    struct sse sse_p;           /* its parser */
    json_t *response;           /* the JSON-RPC response found on the stream */
    int write_error;            /* -CLIENT_E* raised inside the write callback */
    char content_type[128];     /* reply Content-Type */
    char www_authenticate[1024]; /* reply WWW-Authenticate (CHALLENGE_MAX) */
};

/* Set up 'c' (caller-allocated) and libcurl; 0 or -CLIENT_ENOMEM.  Pair with client_fini. */
MUST_CHECK int client_init(struct client *c, const struct client_opts *o, struct err *err);
/* Release what client_init made. */
void client_fini(struct client *c);
/* POST one request and wait for its result (new reference); 0 or -CLIENT_E*. */
MUST_CHECK int client_request(struct client *c, const char *method, const char *name,
                              json_t *params, const char *progress_token, int64_t timeout_ms,
                              json_t **result, struct err *err);

/* ---- pure helpers ---- */

/* A JSON-RPC request with the protocol _meta merged into 'params' (stolen); new reference. */
json_t *client_request_new(json_int_t id, const char *method, json_t *params,
                           const char *progress_token);
/* Encode a header value (Mcp-Name) as itself or as =?base64?...?=; -CLIENT_EUSAGE if it
 * does not fit in 'size' bytes. */
MUST_CHECK int client_header_value(const char *value, char *out, size_t size);

#endif
