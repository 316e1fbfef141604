/*
 * mcp.h - MCP 2026-07-28 names and error codes shared by every process.
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
#define TW_META_PROGRESS "dev.taskwire/progress" /* {progress, total} on tasks/get */

/* JSON-RPC 2.0 and MCP error codes. */
#define MCP_EPARSE (-32700)
#define MCP_EINVALID_REQUEST (-32600)
#define MCP_EMETHOD (-32601)
#define MCP_EPARAMS (-32602)
#define MCP_EINTERNAL (-32603)
#define MCP_EHEADER (-32020)     /* HeaderMismatch */
#define MCP_ECAPABILITY (-32021) /* MissingRequiredClientCapability */
#define MCP_EVERSION (-32022)    /* UnsupportedProtocolVersion */

#endif
