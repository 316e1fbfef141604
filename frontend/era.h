/*
 * era.h - which MCP era a POSTed message belongs to, and the versions served.
 *
 * One endpoint serves two eras: the 2026-07-28 wire (every request carries
 * its protocol version in params._meta) and the 2025-11-25 / 2025-06-18
 * wire (a session opened with initialize).  The era is decided per message
 * from the body first and the MCP-Protocol-Version header second, never
 * from frontend memory, so any frontend classifies any message the same
 * way.  Pure: no I/O, no allocation; unit tested and fuzzed.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_ERA_H
#define TASKWIRE_ERA_H

#include <jansson.h>
#include <stdbool.h>

#include "rpc.h"

#define ERA_LEGACY_LATEST   "2025-11-25" /* the legacy version offered when another is asked */
#define ERA_LEGACY_PREVIOUS "2025-06-18" /* the other legacy version served (no tasks) */

/* What a POSTed message is, in classification order (see era_classify()). */
enum era_kind {
    ERA_INVALID,         /* not a message we take: answer the parse error */
    ERA_MODERN,          /* a 2026-07-28 request: the modern path, unchanged */
    ERA_NOTIFICATION,    /* a notification of either era: 202, nothing else */
    ERA_LEGACY_INIT,     /* initialize without a modern claim: opens a legacy session */
    ERA_LEGACY_RESPONSE, /* a client's response to a server-to-client request (legacy) */
    ERA_LEGACY_REQUEST,  /* a request without a claim and no modern header: legacy */
    ERA_BAD_VERSION,     /* no claim, and a version header that names no served version */
};

/* Classify message 'req' (rpc_parse() result 'parse_rc') given the MCP-Protocol-Version
 * header (NULL when absent). */
enum era_kind era_classify(const struct rpc_request *req, int parse_rc, const char *version_header);
/* True for a legacy version served ("2025-11-25", "2025-06-18"). */
bool era_legacy_version(const char *v);
/* The version to answer a legacy initialize asking for 'requested' (may be NULL). */
const char *era_negotiate(const char *requested);
/* Copy header 'h' without surrounding white space into 'out' (capacity 'cap'); false
 * when absent or too long. */
bool era_header_value(const char *h, char *out, size_t cap);
/* Every version served, newest first, as a JSON array (new reference). */
json_t *era_supported_versions(void);

#endif
