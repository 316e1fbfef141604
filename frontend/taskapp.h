/*
 * taskapp.h - the task view App: the resource ui://taskwire/task.
 *
 * An MCP App (io.modelcontextprotocol/ui) that a host renders next to a call
 * of a task tool (every such tool names it in _meta.ui.resourceUri): one
 * self-contained HTML document (taskapp.html, inline CSS and JS, nothing
 * fetched) that shows the task's live status, progress, status message and
 * result or error, and cancels it, through the host's tools/call of the
 * tools in apptools.h.  Served as text/html;profile=mcp-app with
 * _meta.ui.csp naming no domain at all, and a Content-Security-Policy meta
 * tag of its own that allows exactly its one inline script and one inline
 * style by their SHA-256 hashes (filled in at start-up by taskapp_build()).
 * The same for every caller: listed by resources/list, public to cache.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_TASKAPP_H
#define TASKWIRE_TASKAPP_H

#include <stddef.h>

#include "content.h"
#include "err.h"

/* The _meta of the App's list entry and contents: a CSP with no domains, a border. */
#define TASKAPP_META                                                                               \
    "{\"ui\":{\"csp\":{\"connectDomains\":[],\"resourceDomains\":[],\"frameDomains\":[],"          \
    "\"baseUriDomains\":[]},\"prefersBorder\":true}}"

/* Add ui://taskwire/task to 'c', building its document on the first call: 0, or
 * -CONTENT_EINTERNAL with 'err' set when the embedded page cannot be served. */
MUST_CHECK int taskapp_register(struct content *c, struct err *err);
/* Fill the CSP hashes of 'page' (its only <script> and <style>) into 'out' ('cap' bytes):
 * the document's length, or -CONTENT_EINTERNAL with 'err' set. */
MUST_CHECK long taskapp_build(const char *page, char *out, size_t cap, struct err *err);

#endif
