/*
 * era.c - classify a POSTed message into the modern or the legacy era.
 *
 * The rules, in order (the first that applies wins):
 *   1. a body rpc_parse() refused is ERA_INVALID, except a well-formed
 *      JSON-RPC response without a modern version header, which is a legacy
 *      client answering a server-to-client request;
 *   2. params._meta naming a protocol version (the "claim", whatever its
 *      value) is modern: the modern checks then judge that version;
 *   3. a notification is a notification in either era;
 *   4. initialize is the legacy handshake;
 *   5. otherwise the MCP-Protocol-Version header decides: absent or legacy
 *      is legacy, the modern one is modern (its checks ask for _meta), any
 *      other value is a version nobody serves.
 * A header never turns a claim into legacy, and _meta without the claim
 * (a progressToken, related-task) never makes a request modern.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "era.h"

#include <string.h>

#include "mcpdefs.h"

/* True when 'root' is one JSON-RPC 2.0 response object (result or error, no method). */
static bool is_response(const json_t *root)
{
    const json_t *id = json_object_get(root, "id");
    const char *v = json_string_value(json_object_get(root, "jsonrpc"));
    bool result = json_is_object(json_object_get(root, "result"));
    bool error = json_is_object(json_object_get(root, "error"));
    return json_is_object(root) && v && strcmp(v, "2.0") == 0 && !json_object_get(root, "method") &&
           result != error && (json_is_string(id) || json_is_integer(id));
}

/*
 * Copy the value of header 'h' into 'out' without the HTTP optional white
 * space (SP, HTAB) around it.  Returns false when 'h' is NULL or the value
 * does not fit in 'cap' bytes with its NUL.  Pure.
 */
bool era_header_value(const char *h, char *out, size_t cap)
{
    if (!h || cap == 0)
        return false;
    while (*h == ' ' || *h == '\t')
        h++;
    size_t n = strlen(h);
    while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
        n--;
    if (n >= cap)
        return false;
    memcpy(out, h, n);
    out[n] = '\0';
    return true;
}

/* True for the legacy versions served: 2025-11-25 (with tasks) and 2025-06-18. */
bool era_legacy_version(const char *v)
{
    return v && (strcmp(v, ERA_LEGACY_LATEST) == 0 || strcmp(v, ERA_LEGACY_PREVIOUS) == 0);
}

/*
 * The protocolVersion of a legacy InitializeResult: the version the client
 * asked for when it is a legacy one served, else the latest legacy one (a
 * counter-offer, as the 2025-11-25 lifecycle requires; the client decides
 * whether it can use it).  Returns a static string.
 */
const char *era_negotiate(const char *requested)
{
    return era_legacy_version(requested) ? requested : ERA_LEGACY_LATEST;
}

/* ["2026-07-28", "2025-11-25", "2025-06-18"] (new reference; NULL when out of memory). */
json_t *era_supported_versions(void)
{
    return json_pack("[s, s, s]", MCP_PROTOCOL_VERSION, ERA_LEGACY_LATEST, ERA_LEGACY_PREVIOUS);
}

/*
 * Classify a POSTed message: 'req' and 'parse_rc' are what rpc_parse()
 * gave for the body (on failure req->root may still hold the parsed JSON),
 * 'version_header' the MCP-Protocol-Version header or NULL.  The rules are
 * in the file header.  Pure and thread-safe.
 */
enum era_kind era_classify(const struct rpc_request *req, int parse_rc, const char *version_header)
{
    char hv[32];
    bool has_header = version_header != NULL;
    bool header_ok = has_header && era_header_value(version_header, hv, sizeof(hv));
    bool modern_header = header_ok && strcmp(hv, MCP_PROTOCOL_VERSION) == 0;
    bool legacy_header = header_ok && era_legacy_version(hv);
    if (parse_rc < 0)
        return parse_rc == -RPC_EINVALID && (!has_header || legacy_header) && is_response(req->root)
                   ? ERA_LEGACY_RESPONSE
                   : ERA_INVALID;
    if (req->meta && json_object_get(req->meta, MCP_META_PROTOCOL_VERSION))
        return ERA_MODERN;
    if (!req->id)
        return ERA_NOTIFICATION;
    if (strcmp(req->method, "initialize") == 0)
        return ERA_LEGACY_INIT;
    if (!has_header || legacy_header)
        return ERA_LEGACY_REQUEST;
    return modern_header ? ERA_MODERN : ERA_BAD_VERSION;
}
