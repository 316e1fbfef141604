/*
 * rpc.c - JSON-RPC 2.0 request parsing, MCP envelope checks, responses.
 *
 * Turns one HTTP body into a struct rpc_request and checks it in the order
 * the official SDKs use: JSON-RPC shape, protocol version, _meta envelope,
 * routing headers.  Capability and method checks belong to mcp.c.  Batches
 * (JSON arrays) and posted responses are rejected with -32600.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b64.h"
#include "mcpdefs.h"
#include "schema.h"
#include "utf8.h"

/* The one table from our errors to JSON-RPC codes and HTTP statuses. */
static const struct {
    int code;   /* JSON-RPC error code */
    int status; /* HTTP status */
} error_map[RPC_ERROR_COUNT] = {
    [RPC_EPARSE] = {MCP_EPARSE, 400},           [RPC_EINVALID] = {MCP_EINVALID_REQUEST, 400},
    [RPC_EMETA] = {MCP_EPARAMS, 400},           [RPC_EHEADER] = {MCP_EHEADER, 400},
    [RPC_EVERSION] = {MCP_EVERSION, 400},       [RPC_ECAPABILITY] = {MCP_ECAPABILITY, 400},
    [RPC_EMETHOD] = {MCP_EMETHOD, 404},         [RPC_EPARAMS] = {MCP_EPARAMS, 200},
    [RPC_EINTERNAL] = {MCP_EINTERNAL, 500},     [RPC_EUNAVAILABLE] = {MCP_EINTERNAL, 503},
    [RPC_ETOOLARGE] = {MCP_EINVALID_REQUEST, 413}, [RPC_ESESSION] = {MCP_ESESSION, 404},
    [RPC_ERESOURCE] = {MCP_ERESOURCE_MISSING, 200}, [RPC_ELEGACY] = {MCP_EINVALID_REQUEST, 400},
    [RPC_ELIMITED] = {MCP_EINTERNAL, 429},
};

/* The JSON-RPC code of 'e' from the one table; -32603 for anything outside it. */
int rpc_error_code(enum rpc_error e)
{
    return (unsigned)e < RPC_ERROR_COUNT && e ? error_map[e].code : MCP_EINTERNAL;
}

/* The HTTP status of 'e' from the one table; 500 for anything outside it. */
int rpc_error_http_status(enum rpc_error e)
{
    return (unsigned)e < RPC_ERROR_COUNT && e ? error_map[e].status : 500;
}

/*
 * jansson 2.14 refuses U+0000 in a member name even with JSON_ALLOW_NUL, yet
 * the body is valid JSON: answer -32602, not -32700.  A copy with every
 * \u0000 escape made \u0001 is parsed only to find the request's id.
 */
static int nul_in_name(const char *buf, size_t len, struct rpc_request *req, struct err *err)
{
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return err_set(err, -RPC_EINTERNAL, "out of memory");
    memcpy(copy, buf, len);
    for (size_t i = 0; i + 6 <= len; i++) {
        if (copy[i] != '\\')
            continue;
        if (memcmp(copy + i, "\\u0000", 6) == 0)
            copy[i + 5] = '1';
        i++; /* the escaped character starts no escape of its own */
    }
    json_t *root = json_loadb(copy, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    json_t *id = json_object_get(root, "id");
    free(copy);
    req->root = root;
    if (id && (json_is_string(id) || json_is_integer(id)))
        req->id = id;
    return err_set(err, -RPC_EPARAMS, "Invalid params: member names may not contain U+0000");
}

/*
 * Parse exactly 'len' bytes at 'buf' as one JSON-RPC 2.0 request or
 * notification.  Returns 0 and fills *req (release with rpc_request_fini),
 * or -RPC_EPARSE / -RPC_EINVALID with 'err' set, or -RPC_EPARAMS for U+0000
 * in a string or name (valid JSON that cannot be stored or used as a C
 * string; the message has its JSON pointer).  On failure *req may still
 * hold the id of a well-formed object, so the error response can carry it.
 * Thread-safe.
 */
int rpc_parse(const char *buf, size_t len, struct rpc_request *req, struct err *err)
{
    json_error_t jerr;
    memset(req, 0, sizeof(*req));
    req->root =
        json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!req->root && strstr(jerr.text, "NUL byte in object key"))
        return nul_in_name(buf, len, req, err);
    if (!req->root)
        return err_set(err, -RPC_EPARSE, "Parse error: %s (at byte %d)", jerr.text,
                       jerr.position);
    if (!json_is_object(req->root))
        return err_set(err, -RPC_EINVALID, "Invalid request: the body must be one JSON-RPC "
                                           "object (batches are not supported)");
    json_t *id = json_object_get(req->root, "id");
    if (id && (json_is_string(id) || json_is_integer(id)))
        req->id = id;
    const char *jsonrpc = json_string_value(json_object_get(req->root, "jsonrpc"));
    if (!jsonrpc || strcmp(jsonrpc, "2.0") != 0)
        return err_set(err, -RPC_EINVALID, "Invalid request: \"jsonrpc\" must be \"2.0\"");
    if (id && !req->id)
        return err_set(err, -RPC_EINVALID,
                       "Invalid request: \"id\" must be a string or an integer");
    struct err nul = {0};
    if (schema_check_nul(req->root, "", &nul) < 0) {
        bool in_params = strncmp(nul.msg, "/params/", 8) == 0;
        return err_set(err, in_params ? -RPC_EPARAMS : -RPC_EINVALID, "%s: %s",
                       in_params ? "Invalid params" : "Invalid request", nul.msg);
    }
    json_t *method = json_object_get(req->root, "method");
    if (!method) {
        bool response = json_object_get(req->root, "result") || json_object_get(req->root, "error");
        return err_set(err, -RPC_EINVALID, response ? "Invalid request: clients must not post "
                                                      "JSON-RPC responses"
                                                    : "Invalid request: \"method\" is missing");
    }
    if (!json_is_string(method) || json_string_length(method) == 0)
        return err_set(err, -RPC_EINVALID, "Invalid request: \"method\" must be a string");
    req->method = json_string_value(method);
    json_t *params = json_object_get(req->root, "params");
    if (params && !json_is_object(params))
        return err_set(err, -RPC_EINVALID, "Invalid request: \"params\" must be an object");
    if (!params) {
        params = json_object();
        if (!params || json_object_set_new(req->root, "params", params) < 0)
            return err_set(err, -RPC_EINTERNAL, "out of memory");
    }
    req->params = params;
    json_t *meta = json_object_get(params, "_meta");
    if (json_is_object(meta)) {
        req->meta = meta;
        req->protocol_version =
            json_string_value(json_object_get(meta, MCP_META_PROTOCOL_VERSION));
        json_t *caps = json_object_get(meta, MCP_META_CLIENT_CAPS);
        req->client_caps = json_is_object(caps) ? caps : NULL;
    }
    return 0;
}

/* Release the parsed body (every borrowed pointer in 'req' dies with it) and zero
 * 'req'; safe on a zeroed or already finished request. */
void rpc_request_fini(struct rpc_request *req)
{
    json_decref(req->root);
    memset(req, 0, sizeof(*req));
}

/* Trim HTTP optional white space (SP, HTAB) from both ends into [*b, *e). */
static void trim_ows(const char *s, const char **b, const char **e)
{
    *b = s;
    *e = s + strlen(s);
    while (*b < *e && (**b == ' ' || **b == '\t'))
        (*b)++;
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

/*
 * True when header value 'header' carries 'body_value'.  Surrounding OWS is
 * ignored; "=?base64?X?=" is decoded first; otherwise the value must be
 * plain visible ASCII (spaces allowed inside) and equal byte for byte
 * (values are case-sensitive).
 */
bool rpc_header_matches(const char *header, const char *body_value)
{
    const char *b, *e;
    if (!header || !body_value)
        return false;
    trim_ows(header, &b, &e);
    size_t n = (size_t)(e - b);
    static const char pre[] = "=?base64?", post[] = "?=";
    if (n >= sizeof(pre) - 1 + sizeof(post) - 1 && strncmp(b, pre, sizeof(pre) - 1) == 0 &&
        strncmp(e - 2, post, 2) == 0) {
        const char *pb = b + sizeof(pre) - 1, *pe = e - 2;
        unsigned char buf[4096];
        long len = b64_decode(pb, (size_t)(pe - pb), false, buf, sizeof(buf));
        return len >= 0 && (size_t)len == strlen(body_value) &&
               memcmp(buf, body_value, (size_t)len) == 0;
    }
    for (const char *p = b; p < e; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            return false;
    return n == strlen(body_value) && memcmp(b, body_value, n) == 0;
}

/*
 * Check the protocol version in the MCP-Protocol-Version header and in
 * _meta, then the rest of the _meta envelope.  Order matters for clients that
 * detect the protocol era from the error: a version mismatch between header
 * and body is -32020, an unknown version -32022, a missing _meta field
 * -32602.  Notifications are not checked (no header rules apply to them).
 */
int rpc_check_envelope(const struct rpc_request *req, const struct rpc_headers *h,
                       struct err *err)
{
    const char *b, *e;
    if (!req->id)
        return 0;
    const char *body = req->protocol_version, *hdr = h->protocol_version;
    if (hdr && body && !rpc_header_matches(hdr, body))
        return err_set(err, -RPC_EHEADER,
                       "Header mismatch: MCP-Protocol-Version header does not match "
                       "_meta protocolVersion '%.64s'",
                       body);
    const char *version = body;
    char hbuf[64];
    if (!version && hdr) {
        trim_ows(hdr, &b, &e);
        snprintf(hbuf, sizeof(hbuf), "%.*s", (int)(e - b), b);
        version = hbuf;
    }
    if (version && strcmp(version, MCP_PROTOCOL_VERSION) != 0)
        return err_set(err, -RPC_EVERSION, "Unsupported protocol version");
    if (!req->meta)
        return err_set(err, -RPC_EMETA, "Invalid params: params._meta is required");
    if (!json_is_string(json_object_get(req->meta, MCP_META_PROTOCOL_VERSION)))
        return err_set(err, -RPC_EMETA,
                       "Invalid params: _meta[\"" MCP_META_PROTOCOL_VERSION "\"] is required");
    if (!req->client_caps)
        return err_set(err, -RPC_EMETA,
                       "Invalid params: _meta[\"" MCP_META_CLIENT_CAPS "\"] must be an object");
    if (!hdr)
        return err_set(err, -RPC_EHEADER, "Header mismatch: MCP-Protocol-Version header is "
                                          "required");
    return 0;
}

/* The body value Mcp-Name must carry for 'method', or NULL when none applies.
 * *required tells whether the header must be present. */
static const char *name_for(const struct rpc_request *req, bool *required)
{
    static const struct {
        const char *method; /* JSON-RPC method */
        const char *param;  /* params member mirrored in Mcp-Name */
        bool required;      /* core-table methods must send it */
    } table[] = {
        {"tools/call", "name", true},        {"prompts/get", "name", true},
        {"resources/read", "uri", true},     {"tasks/get", "taskId", false},
        {"tasks/update", "taskId", false},   {"tasks/cancel", "taskId", false},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(req->method, table[i].method) == 0) {
            *required = table[i].required;
            return json_string_value(json_object_get(req->params, table[i].param));
        }
    }
    *required = false;
    return NULL;
}

/*
 * Check Mcp-Method (required, equal to the body method) and Mcp-Name (equal
 * to params.name, params.uri or params.taskId; required on tools/call,
 * prompts/get and resources/read; checked when present on the tasks methods).
 */
int rpc_check_headers(const struct rpc_request *req, const struct rpc_headers *h,
                      struct err *err)
{
    if (!req->id)
        return 0;
    if (!h->method)
        return err_set(err, -RPC_EHEADER, "Header mismatch: Mcp-Method header is required");
    if (!rpc_header_matches(h->method, req->method))
        return err_set(err, -RPC_EHEADER,
                       "Header mismatch: Mcp-Method header does not match body method '%.64s'",
                       req->method);
    bool required;
    const char *value = name_for(req, &required);
    if (!h->name) {
        if (required)
            return err_set(err, -RPC_EHEADER, "Header mismatch: Mcp-Name header is required "
                                              "for %s",
                           req->method);
        return 0;
    }
    if (value && !rpc_header_matches(h->name, value))
        return err_set(err, -RPC_EHEADER,
                       "Header mismatch: Mcp-Name header does not match body value '%.64s'",
                       value);
    if (!value && (required || strncmp(req->method, "tasks/", 6) == 0))
        return err_set(err, -RPC_EHEADER,
                       "Header mismatch: Mcp-Name header given but the body has no value");
    return 0;
}

/*
 * True when _meta clientCapabilities holds an object at 'path', a
 * '/'-separated walk such as "elicitation" or "extensions/<id>"; the last
 * step may contain '/' (extension ids do), so "extensions/" consumes the rest.
 */
bool rpc_has_capability(const struct rpc_request *req, const char *path)
{
    if (!req->client_caps)
        return false;
    if (strncmp(path, "extensions/", 11) == 0)
        return json_is_object(
            json_object_get(json_object_get(req->client_caps, "extensions"), path + 11));
    return json_is_object(json_object_get(req->client_caps, path));
}

/* Compare an Mcp-Param header with the argument value it mirrors. */
static bool param_matches(const char *header, const json_t *value)
{
    if (json_is_string(value))
        return rpc_header_matches(header, json_string_value(value));
    const char *b, *e;
    trim_ows(header, &b, &e);
    char text[64];
    if ((size_t)(e - b) >= sizeof(text))
        return false;
    memcpy(text, b, (size_t)(e - b));
    text[e - b] = '\0';
    if (json_is_boolean(value))
        return strcmp(text, json_is_true(value) ? "true" : "false") == 0;
    if (json_is_number(value)) {
        char *end;
        double d = strtod(text, &end);
        return end != text && *end == '\0' && d == json_number_value(value);
    }
    return false;
}

/* Walk properties chains of 'schema' with the matching 'args' objects. */
static int check_params(const json_t *schema, const json_t *args, rpc_header_fn *lookup,
                        void *arg, int depth, struct err *err)
{
    const json_t *props = json_object_get(schema, "properties");
    const char *key;
    json_t *prop;
    if (depth > 8 || !json_is_object(props) || !json_is_object(args))
        return 0;
    json_object_foreach((json_t *)props, key, prop)
    {
        const json_t *value = json_object_get(args, key);
        if (!value || json_is_null(value))
            continue;
        const char *hname = json_string_value(json_object_get(prop, "x-mcp-header"));
        if (hname) {
            char full[160];
            snprintf(full, sizeof(full), "Mcp-Param-%s", hname);
            const char *h = lookup(arg, full);
            if (!h)
                return err_set(err, -RPC_EHEADER, "Header mismatch: %.140s header is required",
                               full);
            if (!param_matches(h, value))
                return err_set(err, -RPC_EHEADER,
                               "Header mismatch: %.140s header does not match argument '%.64s'",
                               full, key);
        }
        int rc = check_params(prop, value, lookup, arg, depth + 1, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/*
 * Check every Mcp-Param-{Name} header a tools/call must carry: for each
 * argument present (and not null) whose schema property, reached through
 * "properties" only, declares "x-mcp-header", the header must be present and
 * carry the same value (strings byte for byte after base64-sentinel decoding,
 * numbers numerically, booleans as true/false).  Returns 0 or -RPC_EHEADER.
 */
int rpc_check_param_headers(const json_t *input_schema, const json_t *args, rpc_header_fn *lookup,
                            void *arg, struct err *err)
{
    return check_params(input_schema, args, lookup, arg, 0, err);
}

/* Lowercased host part of "host[:port]" or "[v6]:port" into out; false if too long. */
static bool host_part(const char *s, size_t n, char *out, size_t cap)
{
    size_t len = n;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        len = close ? (size_t)(close - s) + 1 : n;
    } else {
        const char *colon = memchr(s, ':', n);
        if (colon)
            len = (size_t)(colon - s);
    }
    if (len == 0 || len >= cap)
        return false;
    for (size_t i = 0; i < len; i++)
        out[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
    out[len] = '\0';
    return true;
}

static bool is_loopback(const char *host)
{
    return strcmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ||
           strcmp(host, "[::1]") == 0;
}

/* True when 'host' (lowercase, no port) is in the comma list 'allowed'. */
static bool in_list(const char *host, const char *allowed, bool origins, const char *origin)
{
    const char *p = allowed;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && *p == ' ')
            p++, n--;
        while (n && p[n - 1] == ' ')
            n--;
        if ((n == 1 && *p == '*') || (n == 8 && strncmp(p, "loopback", 8) == 0 && is_loopback(host)))
            return true;
        if (origins ? (n == strlen(origin) && strncasecmp(p, origin, n) == 0)
                    : (n == strlen(host) && strncasecmp(p, host, n) == 0))
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

/*
 * True when Host header 'host' (port ignored) is in the comma-separated
 * 'allowed' list; a missing Host (HTTP/1.0) is allowed.  Pure; thread-safe.
 */
bool rpc_host_allowed(const char *host, const char *allowed)
{
    char h[256];
    if (!host)
        return true; /* HTTP/1.0 without Host: nothing to rebind */
    const char *b, *e;
    trim_ows(host, &b, &e);
    return host_part(b, (size_t)(e - b), h, sizeof(h)) && in_list(h, allowed, false, NULL);
}

/*
 * True when Origin header 'origin' names an allowed origin; no Origin (not a
 * browser) is allowed, a non-http(s) origin only under "*".  Pure; thread-safe.
 */
bool rpc_origin_allowed(const char *origin, const char *allowed)
{
    char h[256];
    if (!origin)
        return true; /* not a browser */
    const char *sep = strstr(origin, "://");
    if (!sep || (strncmp(origin, "http://", 7) != 0 && strncmp(origin, "https://", 8) != 0))
        return in_list("", allowed, true, origin);
    const char *hs = sep + 3;
    return host_part(hs, strcspn(hs, "/"), h, sizeof(h)) && in_list(h, allowed, true, origin);
}

/*
 * A JSON-RPC error response (new reference; NULL when out of memory) with
 * the code of 'e', 'message' (borrowed; replaced by a generic one when it is
 * not valid UTF-8) and 'data' (stolen, may be NULL).  'id' is borrowed.
 */
json_t *rpc_error_response(const json_t *id, enum rpc_error e, const char *message, json_t *data)
{
    /* Decided up front, not from a failed json_pack(): that also fails when out of
     * memory, and must then give NULL rather than a reply with another message. */
    if (!message || !utf8_valid(message, strlen(message))) /* a cut or echoed value */
        message = e == RPC_EPARSE ? "Parse error" : "Invalid request";
    json_t *error = json_pack("{s:i, s:s}", "code", rpc_error_code(e), "message", message);
    if (error && data) {
        if (json_object_set_new(error, "data", data) < 0) { /* 'data' is released */
            json_decref(error);
            return NULL;
        }
    } else {
        json_decref(data);
    }
    return json_pack("{s:s, s:O?, s:o}", "jsonrpc", "2.0", "id", id, "error", error);
}

/* A JSON-RPC result response (new reference); steals 'result', borrows 'id'. */
json_t *rpc_result_response(const json_t *id, json_t *result)
{
    return json_pack("{s:s, s:O?, s:o}", "jsonrpc", "2.0", "id", id, "result", result);
}
