/*
 * rpc.h - JSON-RPC 2.0 framing and the MCP 2026-07-28 request envelope.
 *
 * Parses one HTTP body into a struct rpc_request, checks the routing headers
 * and the per-request _meta, and builds responses.  No I/O, no database, no
 * auth, so every rule here is unit-tested and fuzzed.  The one table that maps
 * errors to JSON-RPC codes and HTTP statuses lives in rpc.c.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_RPC_H
#define TASKWIRE_RPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Every way a request can fail, each with one JSON-RPC code and HTTP status. */
enum rpc_error {
    RPC_EPARSE = 1,    /* -32700 / 400: not JSON */
    RPC_EINVALID,      /* -32600 / 400: not one request object (batch, response, bad id) */
    RPC_EMETA,         /* -32602 / 400: _meta protocolVersion or clientCapabilities missing */
    RPC_EHEADER,       /* -32020 / 400: routing header missing, invalid or mismatched */
    RPC_EVERSION,      /* -32022 / 400: protocol version not served */
    RPC_ECAPABILITY,   /* -32021 / 400: the request needs a capability it did not declare */
    RPC_EMETHOD,       /* -32601 / 404: unknown or removed method */
    RPC_EPARAMS,       /* -32602 / 200: handler-level invalid params (unknown tool, task) */
    RPC_EINTERNAL,     /* -32603 / 500 */
    RPC_EUNAVAILABLE,  /* -32603 / 503: the task store is unreachable, or the frontend is
                          out of room for long-lived requests; retry */
    RPC_ETOOLARGE,     /* -32600 / 413: body over the limit */
    RPC_ESESSION,      /* -32001 / 404: legacy Mcp-Session-Id unknown, expired or foreign */
    RPC_ERESOURCE,     /* -32002 / 200: legacy resources/read of an unknown resource */
    RPC_ELEGACY,       /* -32600 / 400: a legacy message the server cannot take */
    RPC_ELIMITED,      /* -32603 / 429: over a rate limit or a cap of the principal; retry */
    RPC_ERROR_COUNT
};

struct rpc_request {
    json_t *root;                 /* the parsed body; owned */
    json_t *id;                   /* borrowed; NULL for a notification */
    const char *method;           /* borrowed from root */
    json_t *params;               /* borrowed; an object (empty when absent) */
    json_t *meta;                 /* borrowed params._meta object, or NULL */
    const char *protocol_version; /* borrowed _meta protocolVersion, or NULL */
    json_t *client_caps;          /* borrowed _meta clientCapabilities object, or NULL */
};

/* The routing headers as received (NULL when absent), names already matched
 * case-insensitively by the HTTP layer. */
struct rpc_headers {
    const char *protocol_version; /* MCP-Protocol-Version */
    const char *method;           /* Mcp-Method */
    const char *name;             /* Mcp-Name */
};

/* Parse one JSON-RPC request or notification from 'len' bytes. */
MUST_CHECK int rpc_parse(const char *buf, size_t len, struct rpc_request *req, struct err *err);
/* Release what rpc_parse allocated; safe on a zeroed request. */
void rpc_request_fini(struct rpc_request *req);
/* Check protocol version (header and _meta), then the _meta envelope. */
MUST_CHECK int rpc_check_envelope(const struct rpc_request *req, const struct rpc_headers *h,
                                  struct err *err);
/* Check Mcp-Method and Mcp-Name against the body. */
MUST_CHECK int rpc_check_headers(const struct rpc_request *req, const struct rpc_headers *h,
                                 struct err *err);
/* Compare a received header value with the body value (OWS trimmed, base64 sentinel
 * decoded); returns true when they match. */
bool rpc_header_matches(const char *header, const char *body_value);
/* Looks up a request header by name (case-insensitive); NULL when absent. */
typedef const char *rpc_header_fn(void *arg, const char *name);
/* Check Mcp-Param-{Name} headers of tools/call against the arguments whose schema
 * property declares "x-mcp-header": "{Name}". */
MUST_CHECK int rpc_check_param_headers(const json_t *input_schema, const json_t *args,
                                       rpc_header_fn *lookup, void *arg, struct err *err);
/* True when 'origin' (an Origin header value) names one of the comma-separated
 * 'allowed' origins ("*" allows all); "loopback" allows http(s) origins on
 * localhost, 127.0.0.1 and [::1] at any port. */
bool rpc_origin_allowed(const char *origin, const char *allowed);
/* True when 'host' (a Host header value) is in the comma-separated 'allowed'
 * hosts ("*" allows all; "loopback" allows localhost, 127.0.0.1, [::1]); ports ignored. */
bool rpc_host_allowed(const char *host, const char *allowed);
/* True when the request declared capability 'path' ("extensions/<id>", "elicitation"). */
bool rpc_has_capability(const struct rpc_request *req, const char *path);

/* The JSON-RPC code and HTTP status of an rpc_error. */
int rpc_error_code(enum rpc_error e);
int rpc_error_http_status(enum rpc_error e);
/* A response body {"jsonrpc","id","error":{code,message[,data]}}; steals 'data'.
 * 'id' is borrowed (NULL writes "id": null). */
json_t *rpc_error_response(const json_t *id, enum rpc_error e, const char *message, json_t *data);
/* A response body {"jsonrpc","id","result"}; steals 'result'. */
json_t *rpc_result_response(const json_t *id, json_t *result);

#endif
