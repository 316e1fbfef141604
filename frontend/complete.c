/*
 * complete.c - completion/complete over the prompts and templates of the registry.
 *
 * Finds what the reference names, then asks the argument's completer (which
 * may read the caller's rows of the store) or filters its fixed list.
 * Nothing is remembered between requests.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "complete.h"

#include <stdio.h>
#include <string.h>

#include "prompts.h"

/* Where the suggestions for one argument come from. */
struct source {
    content_complete_fn *complete; /* a completer, or NULL */
    const char *const *values;     /* else a fixed list (NULL-terminated), or NULL: none */
};

/* True when 'uri_template' has one expression and it names 'arg'. */
static bool template_variable_is(const char *uri_template, const char *arg)
{
    const char *open = strchr(uri_template, '{');
    const char *close = open ? strchr(open, '}') : NULL;
    return close && (size_t)(close - open - 1) == strlen(arg) &&
           strncmp(open + 1, arg, strlen(arg)) == 0;
}

/* The source of argument 'arg' of prompt 'name': NULL, or an error message. */
static const char *prompt_source(const struct content *c, const char *name, const char *arg,
                                 struct source *src)
{
    const struct prompt_def *p = prompts_find(c, name);
    if (!p)
        return "Invalid params: unknown prompt";
    for (const struct prompt_arg *a = p->args; a < p->args + CONTENT_MAX_ARGS && a->name; a++) {
        if (strcmp(a->name, arg) == 0) {
            *src = (struct source){a->complete, a->values};
            return NULL;
        }
    }
    return "Invalid params: the prompt has no such argument";
}

/* The source of variable 'arg' of the template whose uriTemplate is 'uri': NULL, or an
 * error message. */
static const char *template_source(const struct content *c, const char *uri, const char *arg,
                                   struct source *src)
{
    for (size_t i = 0; i < c->ntemplates; i++) {
        const struct template_def *t = c->templates[i];
        if (strcmp(t->uri_template, uri) != 0)
            continue;
        if (!template_variable_is(t->uri_template, arg))
            return "Invalid params: the resource template has no such variable";
        *src = (struct source){t->complete, NULL};
        return NULL;
    }
    return "Invalid params: no resource template has this uri";
}

/* Find the source params.ref and params.argument name; *value gets the typed text.
 * NULL, or an error message. */
static const char *find_source(const struct content *c, const json_t *params, struct source *src,
                               const char **value)
{
    json_t *ref = json_object_get(params, "ref"), *argument = json_object_get(params, "argument");
    const char *type = json_string_value(json_object_get(ref, "type"));
    const char *arg = json_string_value(json_object_get(argument, "name"));
    *value = json_string_value(json_object_get(argument, "value"));
    if (!type || !arg || !*value)
        return "Invalid params: completion/complete needs ref.type, argument.name and "
               "argument.value strings";
    const char *name = json_string_value(json_object_get(ref, "name"));
    const char *uri = json_string_value(json_object_get(ref, "uri"));
    if (strcmp(type, "ref/prompt") == 0 && name)
        return prompt_source(c, name, arg, src);
    if (strcmp(type, "ref/resource") == 0 && uri)
        return template_source(c, uri, arg, src);
    return "Invalid params: ref must be {type:\"ref/prompt\", name} or "
           "{type:\"ref/resource\", uri}";
}

/*
 * completion/complete: the suggestions for the referenced argument that
 * start with argument.value, as {completion: {values, hasMore, total?}}
 * (total when every match is in values).  context.arguments is not needed by
 * any completer here and is ignored.  Uses the caller's store for task ids.
 */
json_t *complete_complete(const struct content_call *cc, const struct rpc_request *req, int *status)
{
    struct source src = {0};
    const char *value = NULL;
    const char *bad = find_source(cc->reg, req->params, &src, &value);
    if (bad)
        return reply_error(req, status, RPC_EPARAMS, bad, NULL);
    json_t *values = json_array();
    bool more = false;
    struct err e = {0};
    int rc = 0;
    if (src.complete)
        rc = src.complete(cc, value, values, CONTENT_COMPLETE_MAX, &more, &e);
    else
        content_complete_list(src.values, value, values, CONTENT_COMPLETE_MAX, &more);
    if (rc < 0) {
        json_decref(values);
        return content_failure(req, status, rc, &e);
    }
    json_t *completion = json_pack("{s:o, s:b}", "values", values, "hasMore", more);
    if (!more)
        json_object_set_new(completion, "total", json_integer((json_int_t)json_array_size(values)));
    json_t *r = reply_result_new("complete");
    json_object_set_new(r, "completion", completion);
    return reply_ok(req, status, r);
}
