/*
 * quota.h - the limits of each principal: defaults, overrides per scope and per principal.
 *
 * Every limit is a frontend setting (its default); a JSON file may override
 * any of them per scope or per principal, with the settings' own names:
 *
 *   {"scopes":     {"taskwire:bulk": {"rate-create-per-s": 200, "max-live-tasks": 10000}},
 *    "principals": {"alice": {"rate-create-per-s": 1000, "rate-create-burst": 1000}}}
 *
 * A limit a principal's scopes override takes the most generous value among
 * those scopes (0, no limit, being the most generous); a principal's own
 * entry wins over everything.  The table is parsed once and read-only after,
 * so any thread may resolve from it.  Also here: which rate budget a method
 * draws on.  Pure: no I/O (the caller reads the file), unit tested and fuzzed.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_QUOTA_H
#define TASKWIRE_QUOTA_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define QUOTA_MAX_ENTRIES 100000 /* most scopes plus principals one file may name */

/* The rate budgets: each principal has one bucket of each. */
enum quota_budget {
    QUOTA_CREATE, /* tools/call that creates a task */
    QUOTA_READ,   /* tasks/get, tasks/result, tasks/list, resources/read, subscriptions/listen */
    QUOTA_OTHER,  /* everything else, unparsable bodies included */
    QUOTA_BUDGETS
};

/* One principal's limits; every 0 means "no limit". */
struct quota_set {
    int64_t per_s[QUOTA_BUDGETS]; /* sustained requests a second, per budget */
    int64_t burst[QUOTA_BUDGETS]; /* requests at once, per budget */
    int64_t max_sync;              /* concurrent synchronous calls (and 2025 tasks/result waits) */
    int64_t max_listen;            /* concurrent subscriptions/listen streams */
    int64_t max_live;              /* live (queued, running, input_required) tasks */
};

enum quota_error {
    QUOTA_EINVALID = 1, /* the overrides are not the JSON described above */
    QUOTA_ENOMEM,       /* out of memory */
};

struct quota;

/* The table of 'defaults' (copied) and the overrides in json[0..len) (NULL: none);
 * NULL with 'err' set (-QUOTA_EINVALID naming the bad member, or -QUOTA_ENOMEM). */
struct quota *quota_new(const struct quota_set *defaults, const char *json, size_t len,
                          struct err *err);
/* Release; NULL is a no-op. */
void quota_free(struct quota *l);
/* The limits of 'principal' with space-separated 'scopes' (either may be NULL) into *out. */
void quota_resolve(const struct quota *l, const char *principal, const char *scopes,
                    struct quota_set *out);
/* The budget a request of 'method' (NULL: unparsable) with 'params' draws on. */
enum quota_budget quota_budget_of(const char *method, const json_t *params);
/* The name of a budget ("create", "read", "other"). */
const char *quota_budget_name(enum quota_budget b);

#endif
