/*
 * catalog.c - the built-in tool definitions.
 *
 * Definitions are JSON text parsed once at start-up, so what tools/list shows
 * is exactly what arguments are validated against.  Kept sorted by name,
 * which gives tools/list a deterministic order.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "catalog.h"
#include "catalog_fixtures.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mcpdefs.h"

struct catalog {
    struct tool_desc *tools; /* sorted by name */
    size_t count;            /* entries in tools */
    size_t cap;              /* allocated entries */
};

#define CATALOG_MAX_TOOLS 4096

static const struct builtin builtins[] = {
    {"{\"name\":\"echo\",\"title\":\"Echo\","
     "\"description\":\"Returns its text argument unchanged. A quick way to check that "
     "workers answer; runs as a task only when the client asks for tasks.\","
     "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
     "\"text\":{\"type\":\"string\",\"maxLength\":65536,\"description\":\"Text to return.\"}},"
     "\"required\":[\"text\"],\"additionalProperties\":false}}",
     TOOL_TASK_OPTIONAL},
    {"{\"name\":\"sleep\",\"title\":\"Sleep\","
     "\"description\":\"Waits for the given number of seconds in equal steps, reporting "
     "progress after each step. Useful to try long-running tasks, progress and cancellation.\","
     "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
     "\"seconds\":{\"type\":\"number\",\"minimum\":0,\"maximum\":86400,\"default\":5,"
     "\"description\":\"Total time to wait, in seconds.\"},"
     "\"steps\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000,\"default\":5,"
     "\"description\":\"Number of progress steps.\"}},"
     "\"additionalProperties\":false}}",
     TOOL_TASK_REQUIRED},
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct tool_desc *)a)->name, ((const struct tool_desc *)b)->name);
}

/* True for names MCP clients accept: [A-Za-z0-9_.-]{1,128}. */
static bool valid_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return false;
    }
    return true;
}

/*
 * Name the task view App in the _meta of 'definition' (a tool that may run
 * as a task) unless it names an App of its own: _meta.ui.resourceUri, and
 * the flat "ui/resourceUri" that the official registerAppTool() of
 * @modelcontextprotocol/ext-apps 2.0.4 still writes beside it for hosts
 * that only read the deprecated key.  Hosts without MCP Apps ignore both.
 */
static void link_task_view(json_t *definition)
{
    json_t *meta = json_object_get(definition, "_meta");
    if (!meta) {
        meta = json_object();
        json_object_set_new(definition, "_meta", meta);
    }
    if (!json_is_object(meta) || json_object_get(meta, "ui"))
        return;
    json_object_set_new(meta, "ui", json_pack("{s:s}", "resourceUri", TW_TASK_APP_URI));
    json_object_set_new(meta, MCP_UI_META_RESOURCE_URI, json_string(TW_TASK_APP_URI));
}

/*
 * Add one tool, keeping the array sorted, with its inputSchema compiled
 * (schema_compile()).  Takes ownership of 'definition' and 'exec' whatever
 * the outcome.  Returns 0, or -CATALOG_EINVALID with 'err' set for an
 * invalid or duplicate name, a missing inputSchema or one the validator
 * refuses ("tool NAME: inputSchema at #/...: ..."), too many tools, or
 * -CATALOG_ENOMEM.  A tool that may run as a task gets the task view App
 * in its _meta (link_task_view()).  Not thread-safe: call at start-up only.
 */
int catalog_add(struct catalog *c, json_t *definition, enum tool_policy policy, json_t *exec,
                struct err *err)
{
    const char *name = json_string_value(json_object_get(definition, "name"));
    const json_t *schema = json_object_get(definition, "inputSchema");
    struct schema *compiled = NULL;
    struct err e = {0};
    int rc = 0;
    if (!valid_name(name))
        rc = err_set(err, -CATALOG_EINVALID, "tool name '%.128s' is not [A-Za-z0-9_.-]{1,128}",
                     name ? name : "(missing)");
    else if (!json_is_object(schema))
        rc = err_set(err, -CATALOG_EINVALID, "tool %s: inputSchema must be an object", name);
    else if (catalog_find(c, name))
        rc = err_set(err, -CATALOG_EINVALID, "tool %s is defined twice", name);
    else if (c->count == CATALOG_MAX_TOOLS)
        rc = err_set(err, -CATALOG_EINVALID, "more than %d tools", CATALOG_MAX_TOOLS);
    else if ((rc = schema_compile(schema, &compiled, &e)) < 0)
        rc = err_set(err, rc == -SCHEMA_ENOMEM ? -CATALOG_ENOMEM : -CATALOG_EINVALID,
                     "tool %s: inputSchema %s", name, e.msg);
    if (rc == 0 && c->count == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        struct tool_desc *t = realloc(c->tools, cap * sizeof(*t));
        if (!t)
            rc = err_set(err, -CATALOG_ENOMEM, "out of memory");
        else {
            c->tools = t;
            c->cap = cap;
        }
    }
    if (rc < 0) {
        schema_free(compiled);
        json_decref(definition);
        json_decref(exec);
        return rc;
    }
    if (policy != TOOL_TASK_NEVER)
        link_task_view(definition);
    size_t at = 0;
    while (at < c->count && strcmp(c->tools[at].name, name) < 0)
        at++;
    memmove(&c->tools[at + 1], &c->tools[at], (c->count - at) * sizeof(*c->tools));
    c->tools[at] = (struct tool_desc){.name = name, .definition = definition,
                                      .input_schema = schema, .schema = compiled,
                                      .policy = policy,
                                      .max_attempts = 3, .exec = exec};
    c->count++;
    return 0;
}

/*
 * Add a tool that the frontend answers itself through 'impl' (see
 * catalog.h): never a task, no exec spec.  Takes ownership of 'definition'
 * whatever the outcome; returns what catalog_add() returns.  Start-up only.
 */
int catalog_add_frontend(struct catalog *c, json_t *definition, const struct tool_frontend *impl,
                         struct err *err)
{
    const char *name = json_string_value(json_object_get(definition, "name"));
    int rc = catalog_add(c, definition, TOOL_TASK_NEVER, NULL, err);
    if (rc == 0)
        ((struct tool_desc *)catalog_find(c, name))->frontend = impl;
    return rc;
}

/* Add a table of built-in definitions. */
static int add_table(struct catalog *c, const struct builtin *table, size_t n, struct err *err)
{
    for (size_t i = 0; i < n; i++) {
        json_error_t jerr;
        json_t *def = json_loads(table[i].json, 0, &jerr);
        if (!def)
            return err_set(err, -CATALOG_EINVALID, "built-in tool %zu: %s", i, jerr.text);
        int rc = catalog_add(c, def, table[i].policy, NULL, err);
        if (rc < 0)
            return rc;
        struct tool_desc *t = (struct tool_desc *)catalog_find(c, json_string_value(
                                                                     json_object_get(def, "name")));
        t->input_first = table[i].input_first;
        t->requires = table[i].requires;
        if ((rc = catalog_set_scopes(c, t->name, table[i].scopes, err)) < 0)
            return rc;
    }
    return 0;
}

/*
 * Build the catalog of built-in tools, plus the conformance fixtures
 * (catalog_fixtures.c) when 'fixtures' is true.  Returns a new catalog or
 * NULL with 'err' set.
 */
struct catalog *catalog_new(bool fixtures, struct err *err)
{
    struct catalog *c = calloc(1, sizeof(*c));
    if (!c) {
        err_set(err, -CATALOG_ENOMEM, "out of memory");
        return NULL;
    }
    size_t nfix = 0;
    const struct builtin *fix = fixtures ? catalog_fixture_table(&nfix) : NULL;
    if (add_table(c, builtins, sizeof(builtins) / sizeof(builtins[0]), err) < 0 ||
        add_table(c, fix, nfix, err) < 0) {
        catalog_free(c);
        return NULL;
    }
    return c;
}

void catalog_free(struct catalog *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->count; i++) {
        schema_free(c->tools[i].schema);
        json_decref(c->tools[i].definition);
        json_decref(c->tools[i].exec);
        free(c->tools[i].scopes);
    }
    free(c->tools);
    free(c);
}

/* RFC 6749 3.3 scope-token characters: %x21 / %x23-5B / %x5D-7E. */
static bool scope_char(char ch)
{
    return ch >= 0x21 && ch <= 0x7e && ch != '"' && ch != '\\';
}

/*
 * True when 'scopes' holds 1..CATALOG_MAX_SCOPES scope tokens of
 * 1..CATALOG_MAX_SCOPE_LEN bytes, separated by exactly one space, with no
 * space at either end.  Pure.
 */
bool catalog_scopes_valid(const char *scopes)
{
    size_t count = 0, len = 0;
    const char *p;

    if (!scopes || !*scopes)
        return false;
    for (p = scopes;; p++) {
        if (*p == ' ' || *p == '\0') {
            if (len == 0 || ++count > CATALOG_MAX_SCOPES)
                return false;
            len = 0;
            if (*p == '\0')
                return true;
        } else if (!scope_char(*p) || ++len > CATALOG_MAX_SCOPE_LEN) {
            return false;
        }
    }
}

/*
 * Make the tool called 'name' need 'scopes' (see catalog_scopes_valid();
 * NULL or "" leaves it needing none) on top of the scope every tool needs:
 * callers without them neither see it in tools/list nor may call it.
 * Copies 'scopes'.  Returns 0, or -CATALOG_EINVALID (no such tool, invalid
 * scopes) or -CATALOG_ENOMEM.  Not thread-safe: call at start-up only.
 */
int catalog_set_scopes(struct catalog *c, const char *name, const char *scopes, struct err *err)
{
    struct tool_desc *t = (struct tool_desc *)catalog_find(c, name);
    char *copy = NULL;

    if (!t)
        return err_set(err, -CATALOG_EINVALID, "no tool %.128s", name ? name : "(null)");
    if (scopes && *scopes && !catalog_scopes_valid(scopes))
        return err_set(err, -CATALOG_EINVALID,
                       "tool %s: scopes must be 1 to %d scope tokens of at most %d bytes",
                       t->name, CATALOG_MAX_SCOPES, CATALOG_MAX_SCOPE_LEN);
    if (scopes && *scopes && !(copy = strdup(scopes)))
        return err_set(err, -CATALOG_ENOMEM, "out of memory");
    free(t->scopes);
    t->scopes = copy;
    return 0;
}

/* True when at least one tool needs scopes of its own.  Thread-safe after start-up. */
bool catalog_has_tool_scopes(const struct catalog *c)
{
    for (size_t i = 0; i < c->count; i++)
        if (c->tools[i].scopes)
            return true;
    return false;
}

const struct tool_desc *catalog_find(const struct catalog *c, const char *name)
{
    struct tool_desc key = {.name = name};
    return name && c->count ? bsearch(&key, c->tools, c->count, sizeof(key), by_name) : NULL;
}

json_t *catalog_list(const struct catalog *c)
{
    json_t *tools = json_array();
    for (size_t i = 0; tools && i < c->count; i++)
        json_array_append(tools, c->tools[i].definition);
    return tools;
}
