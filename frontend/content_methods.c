/*
 * content_methods.c - dispatch and capabilities of the content methods.
 *
 * The method table of resources/list, resources/templates/list,
 * resources/read, prompts/list, prompts/get and completion/complete, and
 * their server/discover capabilities.  listChanged is advertised for prompts
 * only when the caller says a change can really be signalled; resources
 * never advertise listChanged or subscribe (the list is fixed).  Pure;
 * thread-safe.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "content_methods.h"

#include <string.h>

#include "complete.h"
#include "prompts.h"
#include "resources.h"

/* The handler of 'method', or NULL when it is not a content method. */
static content_method_fn *handler_of(const char *method)
{
    static const struct {
        const char *method;    /* JSON-RPC method */
        content_method_fn *fn; /* its handler */
    } methods[] = {
        {"resources/list", resources_list}, {"resources/templates/list", resources_templates_list},
        {"resources/read", resources_read}, {"prompts/list", prompts_list},
        {"prompts/get", prompts_get},       {"completion/complete", complete_complete},
    };
    for (size_t i = 0; method && i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strcmp(method, methods[i].method) == 0)
            return methods[i].fn;
    return NULL;
}

/* True when 'method' is resources/list, resources/templates/list, resources/read,
 * prompts/list, prompts/get or completion/complete.  Pure; thread-safe. */
bool content_methods_serves(const char *method)
{
    return handler_of(method) != NULL;
}

/*
 * Answer 'req' when its method is one of the content methods: the whole
 * response (new reference) with *status set.  NULL (and *status untouched)
 * for any other method.
 */
json_t *content_methods_handle(const struct content_call *cc, const struct rpc_request *req,
                               int *status)
{
    content_method_fn *fn = handler_of(req->method);
    return fn ? fn(cc, req, status) : NULL;
}

/*
 * Add to ServerCapabilities 'caps' what serving 'c' means: "resources" and
 * "completions" ({}), and "prompts" ({listChanged}) when 'c' has prompts.
 * Nothing when 'c' is NULL.
 */
void content_methods_capabilities(const struct content *c, bool prompts_list_changed, json_t *caps)
{
    if (!c)
        return;
    json_object_set_new(caps, "resources", json_object());
    if (c->nprompts > 0)
        json_object_set_new(caps, "prompts",
                            json_pack("{s:b}", "listChanged", prompts_list_changed));
    json_object_set_new(caps, "completions", json_object());
}
