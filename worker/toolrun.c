/*
 * toolrun.c - the code behind a tool name: exec spec, built-in, fixture.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "toolrun.h"

#include "exttool.h"
#include "fixtures.h"
#include "mcpdefs.h"
#include "toolctx.h"

/* The built-in or fixture implementation of 'tool', or NULL. */
static const struct tool_impl *find_impl(const char *tool)
{
    const struct tool_impl *impl = tools_find(tool);
    return impl ? impl : fixtures_find(tool);
}

/* Run the code of the tool of 'ctx': its exec spec, its built-in or fixture C code,
 * or an error. */
json_t *toolrun_invoke(const struct catalog *catalog, struct tool_ctx *ctx, json_t **error)
{
    const char *tool = ctx->row->tool;
    const struct tool_desc *desc = catalog_find(catalog, tool);
    const struct tool_impl *impl = find_impl(tool);
    *error = NULL;
    if (!tool_args(ctx))
        *error = tool_error(MCP_EINTERNAL, "stored arguments are not JSON");
    else if (desc && desc->exec)
        return exttool_run(ctx, desc->exec, error);
    else if (impl)
        return impl->run(ctx, error);
    else
        *error = tool_error(MCP_EINTERNAL, "tool not available on this worker");
    return NULL;
}

/* True when this worker runs tool 'name'. */
bool toolrun_available(const struct catalog *catalog, const char *name)
{
    const struct tool_desc *d = catalog_find(catalog, name);
    return d && !d->frontend && (d->exec || find_impl(name));
}
