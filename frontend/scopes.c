/*
 * scopes.c - the scope model: which OAuth scopes each request needs.
 *
 * A decision lists every scope the request needs (what a 403 challenge
 * names, RFC 6750 3.1), not only the missing ones.  Requests that need no
 * scope are still authenticated: scopes narrow what a valid token may do,
 * they never replace the token.  Task reads and cancels accept the
 * operator scope in place of mcp:tasks, and then see every principal's
 * tasks (scopes_task_owner()).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "scopes.h"

#include <stdio.h>
#include <string.h>

#include "resources.h"

/* What a method needs. */
enum need {
    NEED_NONE,            /* a valid token */
    NEED_TOOLS,           /* mcp:tools */
    NEED_TASKS,           /* mcp:tasks */
    NEED_TASKS_OR_ANY,    /* mcp:tasks, or mcp:operator for any principal's task */
};

static const struct {
    const char *method; /* JSON-RPC method */
    enum need need;     /* what it needs (tools/call adds the tool's own scopes) */
} table[] = {
    {"tools/list", NEED_TOOLS},
    {"tools/call", NEED_TOOLS},
    {"subscriptions/listen", NEED_TOOLS},
    {"resources/list", NEED_TOOLS},
    {"resources/templates/list", NEED_TOOLS},
    {"resources/read", NEED_TOOLS},
    {"resources/subscribe", NEED_TOOLS},
    {"resources/unsubscribe", NEED_TOOLS},
    {"prompts/list", NEED_TOOLS},
    {"prompts/get", NEED_TOOLS},
    {"completion/complete", NEED_TOOLS},
    {"tasks/get", NEED_TASKS_OR_ANY},
    {"tasks/cancel", NEED_TASKS_OR_ANY},
    {"tasks/update", NEED_TASKS},
    {"tasks/result", NEED_TASKS},
    {"tasks/list", NEED_TASKS},
};

static bool has(const struct auth_principal *p, const char *scope)
{
    return !p || auth_has_scope(p, scope);
}

/* True when every space-separated scope of 'scopes' is held by 'p'. */
static bool has_all(const struct auth_principal *p, const char *scopes)
{
    char one[CATALOG_MAX_SCOPE_LEN + 1];
    const char *s = scopes;

    while (s && *s) {
        size_t n = strcspn(s, " ");
        if (n >= sizeof(one))
            return false;
        memcpy(one, s, n);
        one[n] = '\0';
        if (!has(p, one))
            return false;
        s += n;
        s += *s == ' ';
    }
    return true;
}

/* Add 'scope' to d->needed (space-separated). */
static void need(struct scope_decision *d, const char *scope)
{
    size_t len = strlen(d->needed);
    snprintf(d->needed + len, sizeof(d->needed) - len, "%s%s", len ? " " : "", scope);
}

/* True when 'p' may see and call 'tool': mcp:tools and every scope of the tool's own. */
bool scopes_tool_allowed(const struct auth_principal *p, const struct tool_desc *tool)
{
    return has(p, SCOPE_TOOLS) && has_all(p, tool->scopes);
}

/*
 * The owner that task reads (tasks/get) and cancels (tasks/cancel) use for
 * caller 'p': NULL, meaning any principal's task, when 'p' holds the
 * operator scope; else 'owner'.  NULL 'p' (no caller to judge) gives
 * 'owner'.  Borrows both; pure.
 */
const char *scopes_task_owner(const struct auth_principal *p, const char *owner)
{
    return p && auth_has_scope(p, SCOPE_OPERATOR) ? NULL : owner;
}

/* The extra need of a method's parameters: task ids to listen to, a task resource, the
 * completion of a task id. */
static bool touches_tasks(const char *method, const json_t *params)
{
    const char *uri;

    if (strcmp(method, "subscriptions/listen") == 0)
        return json_object_get(json_object_get(params, "notifications"), "taskIds") != NULL;
    if (strcmp(method, "resources/read") == 0) {
        uri = json_string_value(json_object_get(params, "uri"));
        return uri && strncmp(uri, RESOURCES_TASK_PREFIX, strlen(RESOURCES_TASK_PREFIX)) == 0;
    }
    if (strcmp(method, "completion/complete") == 0) {
        uri = json_string_value(json_object_get(json_object_get(params, "ref"), "uri"));
        return uri && strncmp(uri, RESOURCES_TASK_PREFIX, strlen(RESOURCES_TASK_PREFIX)) == 0;
    }
    return false;
}

/*
 * Decide whether caller 'p' (NULL: one holding every scope) may send a
 * request of 'method' with 'params' (borrowed, may be NULL), by the model
 * in scopes.h; 'method' NULL is a legacy client's response to a server
 * request (part of a tool call: mcp:tools).  A tools/call of a tool of 'c'
 * that has its own scopes needs them too; an unknown tool needs mcp:tools
 * only (dispatch then answers "Unknown tool").  Fills *d.  Pure.
 */
void scopes_decide(const struct catalog *c, const char *method, const json_t *params,
                   const struct auth_principal *p, struct scope_decision *d)
{
    enum need n = method ? NEED_NONE : NEED_TOOLS;

    memset(d, 0, sizeof(*d));
    for (size_t i = 0; method && i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(method, table[i].method) == 0)
            n = table[i].need;
    d->allowed = true;
    if (n == NEED_TOOLS) {
        need(d, SCOPE_TOOLS);
        d->allowed = has(p, SCOPE_TOOLS);
    } else if (n == NEED_TASKS || n == NEED_TASKS_OR_ANY) {
        need(d, SCOPE_TASKS);
        d->allowed = has(p, SCOPE_TASKS) || (n == NEED_TASKS_OR_ANY && has(p, SCOPE_OPERATOR));
    }
    if (n == NEED_TOOLS && method && touches_tasks(method, params)) {
        need(d, SCOPE_TASKS);
        d->allowed = d->allowed && has(p, SCOPE_TASKS);
    }
    if (method && strcmp(method, "tools/call") == 0 && c) {
        const struct tool_desc *t =
            catalog_find(c, json_string_value(json_object_get(params, "name")));
        if (t && t->scopes) {
            need(d, t->scopes);
            d->allowed = d->allowed && has_all(p, t->scopes);
        }
    }
}
