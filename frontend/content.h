/*
 * content.h - what resources.c, prompts.c and complete.c share: the shapes
 * of served content, the call context mcp.c hands them, and result helpers.
 *
 * Resources, resource templates and prompts are static definitions (the
 * structs below) gathered into one struct content at start-up and only read
 * afterwards, so any thread may serve from it.  Only a template's reader, a
 * prompt's get function or an argument's completer may touch the store, and
 * always with the caller as owner.  Results are the 2026-07-28 shapes
 * (resultType, serverInfo _meta, caching hints where the schema has them); a
 * legacy layer strips what older clients do not know.  Nothing here is era-
 * or transport-specific, and nothing keeps state between requests.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CONTENT_H
#define TASKWIRE_CONTENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "reply.h"
#include "rpc.h"
#include "store.h"

#define CONTENT_MAX          16  /* entries of each kind one registry holds */
#define CONTENT_MAX_ARGS     4   /* arguments of one prompt */
#define CONTENT_COMPLETE_MAX 100 /* completion values one answer carries (the spec's cap) */
#define CONTENT_VALUE_MAX    256 /* bytes of a template variable's value, with the NUL */

enum content_error {
    CONTENT_ENOTFOUND = 1, /* no such resource or task for this caller */
    CONTENT_EUNAVAILABLE,  /* the store is unreachable: retry shortly */
    CONTENT_EINTERNAL,     /* out of memory, or a store failure */
};

struct content_call;

/* A fixed resource: listed by resources/list, read by its exact URI. */
struct resource_def {
    const char *uri;         /* the URI */
    const char *name;        /* programmatic name */
    const char *title;       /* display name, or NULL */
    const char *description; /* or NULL */
    const char *mime_type;   /* MIME type of the contents */
    const char *text;        /* text contents, or NULL when 'blob' holds them */
    const char *blob;        /* base64 contents (when 'text' is NULL) */
    const char *meta;        /* _meta of its list entry and of its contents (a JSON object
                                as text), or NULL */
};

/* What reading one resource produced. */
struct content_read {
    json_t *contents;  /* the contents array (new reference) */
    int64_t ttl_ms;    /* caching hint of the read */
    const char *scope; /* "public" or "private" (static string) */
};

/* Read resource 'uri' (borrowed) that a template matched with variable value
 * 'value': 0 with *out filled, or -CONTENT_E* with 'err' set. */
typedef int content_read_fn(const struct content_call *cc, const char *uri, const char *value,
                            struct content_read *out, struct err *err);
/* Append to array 'values' the candidates that start with 'prefix', at most
 * 'max'; set *more when there are others.  0, or -CONTENT_E* with 'err' set. */
typedef int content_complete_fn(const struct content_call *cc, const char *prefix, json_t *values,
                                size_t max, bool *more, struct err *err);

/* A resource template with exactly one simple variable: "prefix{name}suffix". */
struct template_def {
    const char *uri_template;      /* RFC 6570 level 1, one expression */
    const char *name;              /* programmatic name */
    const char *title;             /* display name, or NULL */
    const char *description;       /* or NULL */
    const char *mime_type;         /* MIME type of every resource it matches, or NULL */
    content_read_fn *read;         /* reads a matching URI */
    content_complete_fn *complete; /* completes the variable, or NULL: no suggestions */
};

/* One argument of a prompt. */
struct prompt_arg {
    const char *name;              /* argument name; NULL ends the list */
    const char *description;       /* or NULL */
    bool required;                 /* prompts/get fails without it */
    content_complete_fn *complete; /* suggestions, or NULL (then 'values' is used) */
    const char *const *values;     /* fixed suggestions (NULL-terminated), or NULL */
};

/* Answer prompts/get for the prompt, whose name and arguments ('args': an object of
 * strings, never NULL) were checked: the whole response (new reference) and *status. */
typedef json_t *prompt_get_fn(const struct content_call *cc, const struct rpc_request *req,
                              const json_t *args, int *status);

/* A prompt. */
struct prompt_def {
    const char *name;                         /* programmatic name */
    const char *title;                        /* display name, or NULL */
    const char *description;                  /* non-empty (clients show it) */
    struct prompt_arg args[CONTENT_MAX_ARGS]; /* arguments, ended by a NULL name */
    prompt_get_fn *get;                       /* builds the answer */
};

/* Everything served besides tools, in list order; built at start-up, then read-only. */
struct content {
    const struct resource_def *resources[CONTENT_MAX]; /* fixed resources */
    size_t nresources;                                 /* used entries */
    const struct template_def *templates[CONTENT_MAX]; /* resource templates */
    size_t ntemplates;                                 /* used entries */
    const struct prompt_def *prompts[CONTENT_MAX];     /* prompts */
    size_t nprompts;                                   /* used entries */
};

/* What one request brings to a content method (mcp.c builds it per request). */
struct content_call {
    const struct content *reg;      /* what is served (shared, read-only) */
    struct store *store;            /* this thread's store */
    const char *owner;              /* the authenticated caller */
    const unsigned char *state_key; /* HMAC key of requestState, shared by frontends */
    size_t state_key_len;           /* bytes of state_key */
    int64_t state_ttl_s;            /* how long a requestState stays valid */
    int64_t list_ttl_ms;            /* caching ttlMs of lists and of fixed resources */
};

/* A content method: the whole response to 'req' (new reference) and *status. */
typedef json_t *content_method_fn(const struct content_call *cc, const struct rpc_request *req,
                                  int *status);

/* Error response for a failed reader or completer ('rc' not -CONTENT_ENOTFOUND). */
json_t *content_failure(const struct rpc_request *req, int *status, int rc, const struct err *e);
/* -CONTENT_E* for a store code (-STORE_ENOTFOUND is -CONTENT_ENOTFOUND). */
int content_store_code(int rc);
/* NULL when a list request's cursor is acceptable, else its error response. */
json_t *content_check_cursor(const struct rpc_request *req, int *status);
/* Whether 'uri' matches 'uri_template'; the variable's value is copied to 'value'. */
bool content_match(const char *uri_template, const char *uri, char value[CONTENT_VALUE_MAX]);
/* Append to 'values' the entries of NULL-terminated 'list' that start with 'prefix'. */
void content_complete_list(const char *const *list, const char *prefix, json_t *values, size_t max,
                           bool *more);

#endif
