/*
 * catalog.h - the tools taskwire serves: names, schemas and task policy.
 *
 * Frontends use the catalog to answer tools/list and to validate tools/call
 * before a task row exists; workers use the same catalog to find the code
 * that runs each tool.  Built once at start-up, then read-only, so it is
 * shared between threads without locks.  Every tool that may run as a task
 * names the task view App (TW_TASK_APP_URI) in _meta.ui.resourceUri; a few
 * tools are answered by the frontend itself (catalog_add_frontend()) and
 * never reach a worker.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CATALOG_H
#define TASKWIRE_CATALOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "schema.h"

/* Whether a tool runs as a task (server-side policy; not a wire field in 2026-07-28). */
enum tool_policy {
    TOOL_TASK_NEVER,    /* always answered synchronously */
    TOOL_TASK_OPTIONAL, /* a task for clients that declare the extension, else synchronous */
    TOOL_TASK_REQUIRED, /* only as a task; other clients get -32021 */
};

/* How a frontend answers a tool by itself (a cheap read of the store, never a task): defined by
 * the frontend (frontend/toolserve.h); the catalog only keeps the pointer. */
struct tool_frontend;

struct tool_desc {
    const char *name;        /* unique, [A-Za-z0-9_.-]{1,128} */
    json_t *definition;      /* the Tool object for tools/list (name, description,
                                inputSchema, ...); owned by the catalog */
    const json_t *input_schema; /* borrowed from definition */
    struct schema *schema;   /* input_schema compiled, for every tools/call; owned */
    enum tool_policy policy; /* task policy */
    int max_attempts;        /* claims allowed before a lost task fails */
    bool input_first;        /* asks for input (MRTR) before the task is handed out */
    const char *requires;    /* client capability it cannot work without ("sampling"), or NULL */
    json_t *exec;            /* external-process spec from a tools manifest (argv, timeout,
                                env, limits), or NULL for a built-in C tool; owned */
    const struct tool_frontend *frontend; /* answered by the frontend itself, never run by a
                                             worker; NULL for every other tool; borrowed */
    char *scopes;            /* OAuth scopes a caller needs to list and call it, on top of
                                the scope for every tool (space-separated), or NULL; owned */
};

enum catalog_error {
    CATALOG_EINVALID = 1, /* a bad or duplicate name, a missing or invalid inputSchema, too
                             many tools */
    CATALOG_ENOMEM,       /* allocation failed */
};

#define CATALOG_MAX_SCOPES     8  /* scopes one tool may need */
#define CATALOG_MAX_SCOPE_LEN  64 /* bytes of one scope */

struct catalog;

/* The built-in tools, plus the conformance fixture tools when 'fixtures' is true.
 * Returns NULL with err set on failure. */
struct catalog *catalog_new(bool fixtures, struct err *err);
void catalog_free(struct catalog *c);
/* Add a tool: takes ownership of 'definition' (a Tool object with name and
 * inputSchema) and of 'exec' (may be NULL).  Fails on a duplicate or invalid name or
 * an inputSchema that schema_compile() refuses. */
MUST_CHECK int catalog_add(struct catalog *c, json_t *definition, enum tool_policy policy,
                           json_t *exec, struct err *err);
/* Add a tool the frontend answers itself through 'impl' (borrowed; must outlive the catalog):
 * like catalog_add() with TOOL_TASK_NEVER and no exec spec. */
MUST_CHECK int catalog_add_frontend(struct catalog *c, json_t *definition,
                                    const struct tool_frontend *impl, struct err *err);
/* Make tool 'name' need 'scopes' (space-separated, 1..CATALOG_MAX_SCOPES of at most
 * CATALOG_MAX_SCOPE_LEN bytes; NULL or "": none).  0 or -CATALOG_E*; start-up only. */
MUST_CHECK int catalog_set_scopes(struct catalog *c, const char *name, const char *scopes,
                                  struct err *err);
/* True when 'scopes' is 1..CATALOG_MAX_SCOPES space-separated RFC 6749 scope tokens of at
 * most CATALOG_MAX_SCOPE_LEN bytes, one space between them. */
bool catalog_scopes_valid(const char *scopes);
/* True when some tool needs scopes of its own (tools/list then differs by caller). */
bool catalog_has_tool_scopes(const struct catalog *c);
/* The tool called 'name', or NULL. */
const struct tool_desc *catalog_find(const struct catalog *c, const char *name);
/* The tools/list "tools" array, sorted by name; a new reference. */
json_t *catalog_list(const struct catalog *c);

#endif
