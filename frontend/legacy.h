/*
 * legacy.h - the 2025-11-25 / 2025-06-18 era on the modern endpoint.
 *
 * A message era.c classified as legacy comes here: initialize opens a
 * session (a signed, stateless Mcp-Session-Id, session.c); later requests
 * bring it back, so any frontend knows the negotiated version and the
 * client's capabilities.  Methods both eras share run through the modern
 * dispatch (mcp_handle) with the session's capabilities, and their results
 * lose the 2026-only fields; what differs (initialize, ping,
 * logging/setLevel, tools/list's execution.taskSupport, task augmentation,
 * the tasks methods, client responses to server-to-client requests) is
 * answered here and in legacy_tasks.c.  No state in the frontend.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_LEGACY_H
#define TASKWIRE_LEGACY_H

#include <jansson.h>
#include <stdint.h>

#include "era.h"
#include "legacy_stream.h"
#include "mcp.h"
#include "rpc.h"
#include "session.h"

/* What the HTTP layer hands over for one legacy message. */
struct legacy_call {
    struct mcp_call *mc;        /* the thread's connections and the caller (header NULL) */
    const char *session_id;     /* Mcp-Session-Id header, or NULL */
    const char *version_header; /* MCP-Protocol-Version header, or NULL */
};

/* What a legacy message turned into. */
struct legacy_outcome {
    struct mcp_outcome oc;                /* MCP_REPLY (202 without reply: accepted) or
                                             MCP_WAIT */
    struct legacy_stream stream;          /* how an MCP_WAIT waits */
    json_t *caps;                         /* the session's clientCapabilities (owned) */
    char session_id[SESSION_MAX_LEN + 1]; /* initialize: the Mcp-Session-Id to send, or "" */
};

/* Answer legacy message 'req' of 'kind' (ERA_LEGACY_*, ERA_BAD_VERSION) into *out;
 * release it with legacy_outcome_fini(). */
void legacy_handle(const struct legacy_call *lc, enum era_kind kind, const struct rpc_request *req,
                   struct legacy_outcome *out);
/* Release what legacy_handle() left in *out (its reply and capabilities). */
void legacy_outcome_fini(struct legacy_outcome *out);

#endif
