/*
 * fuzz_rpc.c - libFuzzer target: JSON-RPC parsing, envelope and header checks.
 *
 * The first input line (up to a newline) holds the routing headers, the rest
 * is the body, so header decoding is fuzzed along with the body.  The line is
 * the Mcp-Name header, optionally followed by "\x1f" and the Mcp-Method header
 * and by another "\x1f" and the MCP-Protocol-Version header; left out, those
 * are the body's method and the served version, and "\x1f" alone between them
 * leaves the header out.  A refused request is answered as the HTTP layer
 * does (its message and, for an unsupported version, the data), and the
 * answer must be made: a message cut in the middle of a character falls back
 * to a generic one, never to no answer (abort()).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Split the header line at "\x1f" into up to three NUL-terminated fields;
 * returns how many there were. */
static int split_fields(char *line, char *field[3])
{
    int n = 0;
    field[n++] = line;
    for (char *p = line; *p && n < 3; p++)
        if (*p == '\x1f') {
            *p = '\0';
            field[n++] = p + 1;
        }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
    char line[257] = "";
    char *field[3] = {line, NULL, NULL};
    int nfields = 1;
    const char *body = (const char *)data;
    size_t len = size;
    if (nl) {
        size_t n = (size_t)(nl - data);
        memcpy(line, data, n);
        line[n] = '\0';
        nfields = split_fields(line, field);
        body = (const char *)nl + 1;
        len = size - n - 1;
    }
    struct rpc_request req;
    struct err e = {0};
    int rc = rpc_parse(body, len, &req, &e);
    json_t *data_out = NULL;
    if (rc == 0) {
        struct rpc_headers h = {"2026-07-28", req.method, field[0]};
        if (nfields > 1)
            h.method = *field[1] ? field[1] : NULL;
        if (nfields > 2)
            h.protocol_version = *field[2] ? field[2] : NULL;
        if ((rc = rpc_check_envelope(&req, &h, &e)) == 0 &&
            (rc = rpc_check_headers(&req, &h, &e)) == 0)
            (void)rpc_has_capability(&req, "elicitation");
        (void)rpc_has_capability(&req, "extensions/io.modelcontextprotocol/tasks");
        if (rc == -RPC_EVERSION) {
            const char *v = req.protocol_version ? req.protocol_version : h.protocol_version;
            data_out = json_pack("{s:[s], s:s?}", "supported", "2026-07-28", "requested", v);
        }
    }
    if (rc > 0 || rc < -(RPC_ERROR_COUNT - 1))
        abort();
    json_t *r = rc < 0 ? rpc_error_response(req.id, (enum rpc_error)-rc, e.msg, data_out)
                       : rpc_error_response(req.id, RPC_EINVALID, "x", NULL);
    if (!r)
        abort(); /* an answer could not be made for a refused request */
    json_decref(r);
    rpc_request_fini(&req);
    return 0;
}
