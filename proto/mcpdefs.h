/*
 * mcpdefs.h - MCP 2026-07-28 names and error codes shared by every process.
 *
 * The only place JSON-RPC and MCP error codes are written as numbers: C code
 * uses the constants, SQL text uses MCP_SQL() of them.  Also the one mapping
 * from a server-to-client request method to the client capability it needs.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_MCPDEFS_H
#define TASKWIRE_MCPDEFS_H

#define MCP_PROTOCOL_VERSION "2026-07-28"
#define MCP_META_PROTOCOL_VERSION "io.modelcontextprotocol/protocolVersion"
#define MCP_META_CLIENT_CAPS "io.modelcontextprotocol/clientCapabilities"
#define MCP_META_CLIENT_INFO "io.modelcontextprotocol/clientInfo"
#define MCP_META_SERVER_INFO "io.modelcontextprotocol/serverInfo"
#define MCP_META_SUBSCRIPTION_ID "io.modelcontextprotocol/subscriptionId"
#define MCP_EXT_TASKS "io.modelcontextprotocol/tasks"
#define MCP_META_LOG_LEVEL "io.modelcontextprotocol/logLevel" /* lowest level a request wants */
#define TW_META_PROGRESS "dev.taskwire/progress" /* {progress, total} on tasks/get */
#define TW_META_TRACE "dev.taskwire/trace" /* {traceId, traceparent[, tracestate]} on tasks/get */
/* MCP Apps (io.modelcontextprotocol/ui, ext-apps specification 2026-01-26). */
#define MCP_EXT_UI "io.modelcontextprotocol/ui"       /* the extension's identifier */
#define MCP_UI_MIME_TYPE "text/html;profile=mcp-app"  /* the mimeType of an App's HTML */
#define MCP_UI_META_RESOURCE_URI "ui/resourceUri"     /* deprecated flat _meta key of a tool's
                                                         App, still written by the official
                                                         registerAppTool for older hosts */
#define TW_TASK_APP_URI "ui://taskwire/task"          /* the task view App every task tool
                                                         names in _meta.ui.resourceUri */

/* JSON-RPC 2.0 and MCP error codes. */
#define MCP_EPARSE (-32700)
#define MCP_EINVALID_REQUEST (-32600)
#define MCP_EMETHOD (-32601)
#define MCP_EPARAMS (-32602)
#define MCP_EINTERNAL (-32603)
#define MCP_EHEADER (-32020)     /* HeaderMismatch */
#define MCP_ECAPABILITY (-32021) /* MissingRequiredClientCapability */
#define MCP_EVERSION (-32022)    /* UnsupportedProtocolVersion */
/* 2025-era codes, used only on legacy sessions. */
#define MCP_ESESSION (-32001)        /* session not found (as the official SDKs answer) */
#define MCP_ERESOURCE_MISSING (-32002) /* resources/read: resource not found (2025-11-25) */


/* A code as SQL text, for error objects built inside statements: MCP_SQL(MCP_EINTERNAL)
 * is "(-32603)". */
#define MCP_SQL(code) MCP_SQL_(code)
#define MCP_SQL_(code) #code

/* The client capability ("elicitation", "sampling", "roots") a server-to-client
 * request 'method' needs, or NULL for NULL or an unknown method.  No allocation. */
const char *mcp_capability_for_method(const char *method);

#endif
