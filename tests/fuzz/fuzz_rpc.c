/*
 * fuzz_rpc.c - libFuzzer target: JSON-RPC parsing, envelope and header checks.
 *
 * The first input line (up to a newline) is used as the Mcp-Name header, the
 * rest as the body, so header decoding is fuzzed along with the body.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
    char name[257] = "";
    const char *body = (const char *)data;
    size_t len = size;
    if (nl) {
        size_t n = (size_t)(nl - data);
        memcpy(name, data, n);
        name[n] = '\0';
        body = (const char *)nl + 1;
        len = size - n - 1;
    }
    struct rpc_request req;
    struct err e;
    if (rpc_parse(body, len, &req, &e) == 0) {
        struct rpc_headers h = {"2026-07-28", req.method, name};
        if (rpc_check_envelope(&req, &h, &e) == 0 && rpc_check_headers(&req, &h, &e) == 0)
            (void)rpc_has_capability(&req, "elicitation");
        (void)rpc_has_capability(&req, "extensions/io.modelcontextprotocol/tasks");
    }
    json_t *r = rpc_error_response(req.id, RPC_EINVALID, "x", NULL);
    json_decref(r);
    rpc_request_fini(&req);
    return 0;
}
