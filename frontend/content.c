/*
 * content.c - results, errors, cursors and URI templates for the content methods.
 *
 * Small pure helpers resources.c, prompts.c and complete.c build on, so the
 * three answer alike: every result carries resultType and serverInfo, store
 * failures map to the same errors as the task methods, and a list cursor we
 * never handed out is refused.  No I/O here; thread-safe.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "content.h"
#include "reply.h"

#include <string.h>

#include "log.h"
#include "mcpdefs.h"

/*
 * The response for a reader or completer that failed with 'rc' (and 'e'):
 * 503 "retry shortly" while the store is unreachable, else an internal
 * error whose detail goes to the log only.  Not for -CONTENT_ENOTFOUND,
 * whose answer depends on the method.
 */
json_t *content_failure(const struct rpc_request *req, int *status, int rc, const struct err *e)
{
    if (rc == -CONTENT_EUNAVAILABLE)
        return reply_error(req, status, RPC_EUNAVAILABLE, "Task store unavailable; retry shortly",
                             NULL);
    LOG_ERROR("content method failed", "method", req->method, "error", e->msg);
    return reply_error(req, status, RPC_EINTERNAL, "Internal error", NULL);
}

/* The -CONTENT_E* code for store code 'rc' (0 stays 0). */
int content_store_code(int rc)
{
    if (rc == 0)
        return 0;
    if (rc == -STORE_ENOTFOUND)
        return -CONTENT_ENOTFOUND;
    return rc == -STORE_EUNAVAILABLE ? -CONTENT_EUNAVAILABLE : -CONTENT_EINTERNAL;
}

/*
 * Check the cursor of a list request.  Every list here comes in one page
 * (the registries are small and fixed), so no cursor was ever handed out:
 * any cursor but an absent or null one is -32602, as the pagination rules
 * ask for an invalid cursor.  Returns NULL when the request may go on.
 */
json_t *content_check_cursor(const struct rpc_request *req, int *status)
{
    json_t *cursor = json_object_get(req->params, "cursor");
    if (!cursor || json_is_null(cursor))
        return NULL;
    return reply_error(req, status, RPC_EPARAMS,
                         "Invalid params: unknown cursor (this list comes in one page)", NULL);
}

/* True for a character a simple template variable's value may hold: anything
 * visible but the URI delimiters that would end the expression. */
static bool value_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f && c != '/' && c != '?' && c != '#';
}

/*
 * True when 'uri' matches 'uri_template' ("prefix{name}suffix", one simple
 * expression): the same prefix and suffix around a non-empty value of at
 * most CONTENT_VALUE_MAX - 1 bytes without '/', '?', '#', spaces or control
 * characters, copied to 'value' as it is (not percent-decoded).  A template
 * without an expression matches nothing.  Pure; thread-safe.
 */
bool content_match(const char *uri_template, const char *uri, char value[CONTENT_VALUE_MAX])
{
    const char *open = strchr(uri_template, '{');
    const char *close = open ? strchr(open, '}') : NULL;
    if (!close || !uri)
        return false;
    size_t pre = (size_t)(open - uri_template), suf = strlen(close + 1), n = strlen(uri);
    if (n < pre + suf + 1 || strncmp(uri, uri_template, pre) != 0 ||
        strcmp(uri + n - suf, close + 1) != 0)
        return false;
    size_t len = n - pre - suf;
    if (len >= CONTENT_VALUE_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!value_char((unsigned char)uri[pre + i]))
            return false;
    memcpy(value, uri + pre, len);
    value[len] = '\0';
    return true;
}

/*
 * Append to array 'values' the entries of the NULL-terminated 'list' that
 * start with 'prefix' (case-sensitive), in list order, at most 'max'; *more
 * is set when further entries match.  Pure apart from 'values'.
 */
void content_complete_list(const char *const *list, const char *prefix, json_t *values, size_t max,
                           bool *more)
{
    size_t n = strlen(prefix);
    *more = false;
    for (size_t i = 0; list && list[i]; i++) {
        if (strncmp(list[i], prefix, n) != 0)
            continue;
        if (json_array_size(values) >= max) {
            *more = true;
            return;
        }
        json_array_append_new(values, json_string(list[i]));
    }
}
