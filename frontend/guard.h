/*
 * guard.h - admission control: per-principal rate limits and caps, and the stream budget.
 *
 * Every authenticated message is charged to one rate budget of its
 * principal (quota.h) before it runs; over the rate it is refused with 429
 * and Retry-After.  A request that will wait (a synchronous call, a 2025
 * tasks/result, a subscriptions/listen stream) takes a ticket first: refused
 * with 429 when its principal holds the most it may, or with 503 when this
 * frontend's budget of long-lived requests (a share of its connections) is
 * spent, so long waits can never take the slots short requests need.
 *
 * The caps per principal are counted per frontend, each frontend allowing
 * its share (the cap divided by the number of frontends, rounded up): they
 * protect this frontend's connections, need no Redis round trip on every
 * stream, and vanish with a frontend that dies.  Refusals are JSON-RPC errors
 * -32603 (the only code 2026-07-28 leaves for a server condition outside the
 * reserved ranges) with data.reason and data.retryAfterMs; each is counted
 * and reported through overload.h.  Thread-safe (one mutex for the counts).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_GUARD_H
#define TASKWIRE_GUARD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "quota.h"
#include "ratelimit.h"
#include "rpc.h"

/* What the guard needs; everything borrowed for its life. */
struct guard_cfg {
    const struct quota *limits; /* limits per principal */
    struct ratelimit *rate;      /* rate buckets */
    int frontends;               /* the caps per principal are divided among them */
    int max_waits;               /* long-lived requests this frontend holds at once; 0 = no cap */
};

/* What a ticket is for. */
enum guard_wait {
    GUARD_SYNC,   /* a synchronous tools/call, or a 2025 tasks/result, waiting for its task */
    GUARD_LISTEN, /* a subscriptions/listen stream */
    GUARD_KINDS
};

/* A long-lived request's place; lives in the request context. */
struct guard_ticket {
    bool held;            /* taken, not yet given back */
    enum guard_wait kind; /* what it counts as */
    char owner[256];      /* whose */
};

/* A refusal to answer. */
struct guard_refusal {
    int status;            /* 429 (this principal) or 503 (this frontend) */
    json_t *reply;         /* the JSON-RPC error response (new reference) */
    int64_t retry_after_s; /* the Retry-After header, seconds (at least 1) */
};

/* What guard_gate() (an mcp_call admit_wait hook) needs. */
struct guard_gate {
    struct guard *guard;           /* the guard */
    const struct quota_set *lim;  /* the caller's limits */
    const char *owner;             /* the caller */
    struct guard_ticket *ticket;   /* where the ticket goes */
};

struct guard;

/* A guard over 'cfg' (copied); NULL when out of memory. */
struct guard *guard_new(const struct guard_cfg *cfg);
/* Release; NULL is a no-op.  No ticket may be held any more. */
void guard_free(struct guard *g);
/* Resolve p's limits into *lim and charge the request's rate budget (the method only when
 * parse_rc is 0): true to go on, else false with *out filled. */
bool guard_admit(struct guard *g, const struct auth_principal *p, const struct rpc_request *req,
                 int parse_rc, struct quota_set *lim, struct guard_refusal *out);
/* Take a ticket of 'kind' for 'owner' under 'lim' into *t: true, or false with *out filled
 * (a JSON-RPC error for request id 'id'). */
bool guard_enter(struct guard *g, const char *owner, const struct quota_set *lim,
                 enum guard_wait kind, const json_t *id, struct guard_ticket *t,
                 struct guard_refusal *out);
/* Give a held ticket back (not held: a no-op). */
void guard_leave(struct guard *g, struct guard_ticket *t);
/* An mcp_call admit_wait hook over a struct guard_gate: NULL, or the refusal reply. */
json_t *guard_gate(void *gate, const struct rpc_request *req, int *status);
/* Tickets of 'kind' 'owner' holds on this frontend now (for tests). */
int guard_held(struct guard *g, const char *owner, enum guard_wait kind);

#endif
