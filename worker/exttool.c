/*
 * exttool.c - external-process tools (being written; see exttool.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "exttool.h"

json_t *exttool_run(struct tool_ctx *ctx, const json_t *spec, json_t **error)
{
    *error = json_pack("{s:i, s:s}", "code", -32603, "message",
                       "external-process tools are not available in this build");
    return NULL;
}
