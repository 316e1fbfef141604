/*
 * guard.c - rate limits before a request runs, tickets before it waits.
 *
 * The tickets of each principal are counted in a small hash table (an entry
 * lives while its principal holds a ticket), the tickets of the frontend in
 * one total; both under one mutex, held for a few instructions.  The rate
 * limits are ratelimit.c's; this file only picks the budget and words the
 * refusal.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "guard.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "overload.h"

#define GUARD_BUCKETS 1024    /* hash buckets of the per-principal counts */
#define GUARD_RETRY_MS 1000   /* Retry-After of a refused ticket: no better guess exists */

/* The tickets one principal holds on this frontend. */
struct holder {
    struct holder *next;     /* next in its bucket */
    int held[GUARD_KINDS];   /* tickets per kind */
    char owner[];            /* the principal */
};

struct guard {
    struct guard_cfg cfg;                   /* settings */
    pthread_mutex_t mu;                     /* guards what follows */
    struct holder *buckets[GUARD_BUCKETS];  /* principals holding tickets */
    int waits;                              /* tickets held on this frontend */
};

/* A guard over a copy of 'cfg' (whose pointers it borrows).  NULL when out of memory. */
struct guard *guard_new(const struct guard_cfg *cfg)
{
    struct guard *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->cfg = *cfg;
    if (g->cfg.frontends < 1)
        g->cfg.frontends = 1;
    pthread_mutex_init(&g->mu, NULL);
    overload_metrics_register();
    ratelimit_metrics_register();
    return g;
}

/* Release the guard (and any count left behind); NULL is a no-op. */
void guard_free(struct guard *g)
{
    if (!g)
        return;
    for (int i = 0; i < GUARD_BUCKETS; i++)
        for (struct holder *h = g->buckets[i], *next; h; h = next) {
            next = h->next;
            free(h);
        }
    pthread_mutex_destroy(&g->mu);
    free(g);
}

/* ---- refusals ---- */

/* A refusal: status, a JSON-RPC error -32603 with data {reason, retryAfterMs[, limit,
 * budget]}, and Retry-After in whole seconds (rounded up). */
static void refuse(struct guard_refusal *out, const json_t *id, int status, const char *msg,
                   const char *reason, int64_t limit, const char *budget, int64_t retry_ms)
{
    json_t *data = json_pack("{s:s, s:I}", "reason", reason, "retryAfterMs", (json_int_t)retry_ms);
    if (data && limit > 0)
        json_object_set_new(data, "limit", json_integer(limit));
    if (data && budget)
        json_object_set_new(data, "budget", json_string(budget));
    out->status = status;
    out->reply = rpc_error_response(id, status == 429 ? RPC_ELIMITED : RPC_EUNAVAILABLE, msg, data);
    out->retry_after_s = retry_ms <= 0 ? 1 : (retry_ms + 999) / 1000;
}

/*
 * Resolve the limits of principal 'p' into *lim, then charge the request to
 * its rate budget (quota_budget_of() its method; an unparsable body, with
 * parse_rc < 0, is "other").  Returns true when the request may run;
 * otherwise false with *out holding the 429 (Retry-After: the budget's own
 * wait, rounded up to whole seconds).  Thread-safe.
 */
bool guard_admit(struct guard *g, const struct auth_principal *p, const struct rpc_request *req,
                 int parse_rc, struct quota_set *lim, struct guard_refusal *out)
{
    quota_resolve(g->cfg.limits, p->subject, p->scopes, lim);
    const char *method = parse_rc == 0 ? req->method : NULL;
    enum quota_budget b = quota_budget_of(method, parse_rc == 0 ? req->params : NULL);
    int64_t retry_ms = 0;
    if (ratelimit_take(g->cfg.rate, p->subject, b, lim, &retry_ms, NULL))
        return true;
    static const enum overload_reason reasons[QUOTA_BUDGETS] = {
        OVERLOAD_RATE_CREATE, OVERLOAD_RATE_READ, OVERLOAD_RATE_OTHER};
    overload_note(reasons[b]);
    char msg[160];
    snprintf(msg, sizeof(msg), "Too many requests: over the %s rate limit; retry after %lld ms",
             quota_budget_name(b), (long long)retry_ms);
    refuse(out, req->id, 429, msg, "rate_limited", 0, quota_budget_name(b), retry_ms);
    return false;
}

/* ---- tickets ---- */

static unsigned bucket_of(const char *owner)
{
    unsigned h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)owner; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % GUARD_BUCKETS;
}

/* The holder of 'owner' (made when 'make'), or NULL; caller holds the mutex. */
static struct holder *holder_of(struct guard *g, const char *owner, bool make)
{
    struct holder **at = &g->buckets[bucket_of(owner)];
    for (struct holder *h = *at; h; h = h->next)
        if (strcmp(h->owner, owner) == 0)
            return h;
    if (!make)
        return NULL;
    size_t n = strlen(owner) + 1;
    struct holder *h = calloc(1, sizeof(*h) + n);
    if (!h)
        return NULL;
    memcpy(h->owner, owner, n);
    h->next = *at;
    *at = h;
    return h;
}

/* Drop the holder of 'owner' once it holds nothing; caller holds the mutex. */
static void holder_release(struct guard *g, const char *owner)
{
    for (struct holder **at = &g->buckets[bucket_of(owner)]; *at; at = &(*at)->next) {
        struct holder *h = *at;
        if (strcmp(h->owner, owner) != 0)
            continue;
        for (int k = 0; k < GUARD_KINDS; k++)
            if (h->held[k])
                return;
        *at = h->next;
        free(h);
        return;
    }
}

/* This frontend's share of a per-principal cap (0: no cap). */
static int64_t share_of(const struct guard *g, int64_t cap)
{
    return cap <= 0 ? 0 : (cap + g->cfg.frontends - 1) / g->cfg.frontends;
}

/* Refuse a ticket: 503 for the frontend's budget, else 429 for the principal's cap. */
static void refuse_ticket(struct guard_refusal *out, const json_t *id, enum guard_wait kind,
                          bool budget, int64_t cap)
{
    if (budget) {
        overload_note(OVERLOAD_STREAMS);
        refuse(out, id, 503, "Server busy: no room for another long-lived request; retry shortly",
               "stream_budget", 0, NULL, GUARD_RETRY_MS);
    } else if (kind == GUARD_LISTEN) {
        overload_note(OVERLOAD_MAX_LISTEN);
        refuse(out, id, 429, "Too many subscriptions/listen streams open for this principal",
               "max_listen_streams", cap, NULL, GUARD_RETRY_MS);
    } else {
        overload_note(OVERLOAD_MAX_SYNC);
        refuse(out, id, 429, "Too many synchronous calls waiting for this principal; retry "
               "later, or call the tool as a task", "max_sync_calls", cap, NULL, GUARD_RETRY_MS);
    }
}

/*
 * Take a ticket of 'kind' for 'owner', whose limits are 'lim': refused when
 * this frontend holds max_waits tickets already (503), or 'owner' holds its
 * share of the cap of that kind here (429: max-sync-calls or
 * max-listen-streams divided by the number of frontends, rounded up).  On
 * success fills *t (give it back with guard_leave()) and returns true;
 * otherwise returns false with *out filled (a reply for request id 'id').
 * Running out of memory for the count refuses too (503).  Thread-safe.
 */
bool guard_enter(struct guard *g, const char *owner, const struct quota_set *lim,
                 enum guard_wait kind, const json_t *id, struct guard_ticket *t,
                 struct guard_refusal *out)
{
    int64_t cap = kind == GUARD_LISTEN ? lim->max_listen : lim->max_sync;
    int64_t mine = share_of(g, cap);
    pthread_mutex_lock(&g->mu);
    bool full = g->cfg.max_waits > 0 && g->waits >= g->cfg.max_waits;
    struct holder *h = full ? NULL : holder_of(g, owner, true);
    bool capped = h && mine > 0 && h->held[kind] >= mine;
    if (h && !capped) {
        h->held[kind]++;
        g->waits++;
    }
    pthread_mutex_unlock(&g->mu);
    if (!h || capped) {
        refuse_ticket(out, id, kind, !h, cap);
        return false;
    }
    t->held = true;
    t->kind = kind;
    snprintf(t->owner, sizeof(t->owner), "%s", owner);
    return true;
}

/* Give ticket 't' back; a ticket not held is left alone.  Thread-safe. */
void guard_leave(struct guard *g, struct guard_ticket *t)
{
    if (!t->held)
        return;
    pthread_mutex_lock(&g->mu);
    struct holder *h = holder_of(g, t->owner, false);
    if (h && h->held[t->kind] > 0) {
        h->held[t->kind]--;
        g->waits--;
        holder_release(g, t->owner);
    }
    pthread_mutex_unlock(&g->mu);
    t->held = false;
}

/*
 * The admit_wait hook of an mcp_call (mcp.h): take a GUARD_SYNC ticket for
 * the gate's owner into the gate's ticket before a call commits a task it
 * will wait for.  NULL when admitted (or a ticket is held already); else the
 * refusal reply (a new reference) with *status set.
 */
json_t *guard_gate(void *gate, const struct rpc_request *req, int *status)
{
    struct guard_gate *gg = gate;
    struct guard_refusal r;
    if (gg->ticket->held ||
        guard_enter(gg->guard, gg->owner, gg->lim, GUARD_SYNC, req->id, gg->ticket, &r))
        return NULL;
    *status = r.status;
    return r.reply;
}

/* Tickets of 'kind' held by 'owner' on this frontend now.  Thread-safe. */
int guard_held(struct guard *g, const char *owner, enum guard_wait kind)
{
    pthread_mutex_lock(&g->mu);
    struct holder *h = holder_of(g, owner, false);
    int n = h ? h->held[kind] : 0;
    pthread_mutex_unlock(&g->mu);
    return n;
}
