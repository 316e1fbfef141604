/*
 * contentfix.h - a content call over fakepq for the tests of the content methods.
 *
 * A struct content registered as the frontend registers it (with or without
 * the conformance fixtures), a store over fakepq whose serve functions keep
 * a small task table and answer tw_get, tw_recent_ids and tw_prefix_ids as
 * their SQL would (owner condition included), and a helper that parses one
 * 2026-07-28 request and runs it through content_methods_handle(), as
 * mcp.c does.  Single-threaded tests only.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_TEST_CONTENTFIX_H
#define TASKWIRE_TEST_CONTENTFIX_H

#include <jansson.h>
#include <stdbool.h>

#include "content.h"
#include "rpc.h"
#include "store.h"

#define CF_ALICE   "alice"
#define CF_MALLORY "mallory"
#define CF_TASK    "0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3" /* alice's task, in most tests */
#define CF_OTHER   "5d1a7b9e-2c3f-4e8a-9b0c-1d2e3f405162" /* mallory's task */
#define CF_UNKNOWN "ffffffff-0000-4000-8000-000000000001" /* in no table */
#define CF_LIST_TTL_MS 60000                             /* caching ttlMs of lists */
#define CF_POLL_MS     1500                              /* poll interval of table tasks */
#define CF_TASKS       16                                /* tasks one test can hold */
#define CF_CAPS_NONE   "{}"
#define CF_CAPS_ELICIT "{\"elicitation\":{}}"

struct contentfix {
    struct content reg;              /* what is served */
    struct store *store;             /* over fakepq */
    struct task_row task[CF_TASKS];  /* the table the serve functions read */
    int ntasks;                      /* rows in task */
    struct rpc_request req;          /* the last request */
    json_t *reply;                   /* its response (owned) */
    int status;                      /* its HTTP status */
};

/* Set up 'f' (zeroed memory): registries (with fixtures when asked) and the store. */
void cf_start(struct contentfix *f, bool fixtures);
/* Release everything, then assert that every store result and connection was released,
 * every scripted reply used and nothing ran unscripted. */
void cf_stop(struct contentfix *f);
/* Put a task of 'owner' in 'status' created at 'created_at' (ISO text) in the table. */
struct task_row *cf_task(struct contentfix *f, const char *id, const char *owner,
                         enum task_status status, const char *created_at);
/* Run 'method' from 'owner' declaring 'caps' with params 'params' (JSON object text, the
 * _meta envelope is added); the reply is f->reply (borrowed), its status f->status. */
json_t *cf_call(struct contentfix *f, const char *owner, const char *caps, const char *method,
                const char *params);
/* The result of the last reply, asserting HTTP 200 and no error (borrowed). */
json_t *cf_result(struct contentfix *f);
/* Assert that the last reply is an error with 'code' in HTTP 'status'; returns it (borrowed). */
json_t *cf_error(struct contentfix *f, int status, int code);
/* The string member 'key' of 'o', failing the test when it is not one. */
const char *cf_str(const json_t *o, const char *key);
/* Assert that 'o' serialises (compact, keys sorted) to exactly 'want'. */
void cf_assert_json(const json_t *o, const char *want);
/* Assert that result 'r' has resultType 'type' and _meta serverInfo. */
void cf_assert_result_type(const json_t *r, const char *type);

#endif
