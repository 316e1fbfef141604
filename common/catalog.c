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

#include <stdlib.h>
#include <string.h>

struct catalog {
    struct tool_desc *tools; /* sorted by name */
    size_t count;            /* entries in tools */
};

static const struct {
    const char *json;        /* the Tool object */
    enum tool_policy policy; /* task policy */
} builtins[] = {
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

/*
 * Build the catalog of built-in tools.  Returns a new catalog or NULL with
 * 'err' set (a malformed built-in definition is a programming error, but is
 * reported rather than asserted).
 */
struct catalog *catalog_new(struct err *err)
{
    size_t n = sizeof(builtins) / sizeof(builtins[0]);
    struct catalog *c = calloc(1, sizeof(*c));
    if (!c || !(c->tools = calloc(n, sizeof(*c->tools)))) {
        free(c);
        err_set(err, -1, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        json_error_t jerr;
        struct tool_desc *t = &c->tools[c->count];
        t->definition = json_loads(builtins[i].json, 0, &jerr);
        if (!t->definition) {
            err_set(err, -1, "built-in tool %zu: %s", i, jerr.text);
            catalog_free(c);
            return NULL;
        }
        c->count++;
        t->name = json_string_value(json_object_get(t->definition, "name"));
        t->input_schema = json_object_get(t->definition, "inputSchema");
        t->policy = builtins[i].policy;
        t->max_attempts = 3;
    }
    qsort(c->tools, c->count, sizeof(*c->tools), by_name);
    return c;
}

void catalog_free(struct catalog *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->count; i++)
        json_decref(c->tools[i].definition);
    free(c->tools);
    free(c);
}

const struct tool_desc *catalog_find(const struct catalog *c, const char *name)
{
    struct tool_desc key = {.name = name};
    return name ? bsearch(&key, c->tools, c->count, sizeof(key), by_name) : NULL;
}

json_t *catalog_list(const struct catalog *c)
{
    json_t *tools = json_array();
    for (size_t i = 0; tools && i < c->count; i++)
        json_array_append(tools, c->tools[i].definition);
    return tools;
}
