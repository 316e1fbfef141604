/*
 * dashboard.c - the dashboard's routes: the page, its status and task
 * documents, and the cancel.
 *
 * The page and its assets are embedded at build time (embed.cmake) and
 * served as they are written.  The documents come from common/opstore.c, on
 * one connection owned by the admin thread.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "dashboard.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard_css.h"
#include "dashboard_html.h"
#include "dashboard_js.h"
#include "log.h"
#include "notify.h"
#include "opstore.h"
#include "taskid.h"

#define FAILURES_MINUTES 60 /* failures shown: the last hour's */
#define FAILURES_MAX 20     /* at most this many */

struct dashboard {
    struct opstore *os;     /* the admin thread's connection */
    struct notify_pub *pub; /* cancel events */
};

/* A dashboard; NULL only when out of memory. */
struct dashboard *dashboard_new(const char *pg_dsn, const char *redis_addr)
{
    struct dashboard *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->os = opstore_new(pg_dsn, "taskwire-dashboard");
    d->pub = notify_pub_new(redis_addr);
    if (!d->os || !d->pub) {
        dashboard_free(d);
        return NULL;
    }
    return d;
}

/* Free the dashboard. */
void dashboard_free(struct dashboard *d)
{
    if (!d)
        return;
    opstore_free(d->os);
    notify_pub_free(d->pub);
    free(d);
}

/* Answer a static asset. */
static bool asset(struct admin_reply *out, const char *type, const char *body, size_t len)
{
    *out = (struct admin_reply){200, type, body, len, NULL};
    return true;
}

/* Answer JSON 'doc' (taken) with 'status'. */
static bool json_reply(struct admin_reply *out, unsigned status, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text)
        text = strdup("{\"error\":\"out of memory\"}"), status = 500;
    *out = (struct admin_reply){status, "application/json", text, text ? strlen(text) : 0, text};
    return true;
}

/* Answer an error sentence as JSON. */
static bool error_reply(struct admin_reply *out, unsigned status, const char *msg)
{
    return json_reply(out, status, json_pack("{ss}", "error", msg));
}

/* GET /dashboard/api/status */
static bool get_status(struct dashboard *d, struct admin_reply *out)
{
    struct err e = {0};
    json_t *st = NULL, *failures = NULL;
    if (opstore_status(d->os, 5, &st, &e) < 0 ||
        opstore_failures(d->os, FAILURES_MINUTES, FAILURES_MAX, &failures, &e) < 0) {
        json_decref(st);
        return error_reply(out, 503, e.msg);
    }
    json_object_set_new(st, "failures", failures);
    return json_reply(out, 200, st);
}

/* GET /dashboard/api/task?id= */
static bool get_task(struct dashboard *d, const char *id, struct admin_reply *out)
{
    struct err e = {0};
    json_t *t = NULL;
    int rc = opstore_task(d->os, id, &t, &e);
    if (rc < 0)
        return error_reply(out, rc == -OPSTORE_ENOTFOUND ? 404 : 503, e.msg);
    return json_reply(out, 200, t);
}

/* POST /dashboard/api/cancel?id= (the CSRF rules are checked by the caller) */
static bool post_cancel(struct dashboard *d, const char *id, struct admin_reply *out)
{
    struct err e = {0};
    char *owner = NULL;
    int rc = opstore_cancel(d->os, id, &owner, &e);
    if (rc < 0)
        return error_reply(out, rc == -OPSTORE_ENOTFOUND ? 404 : 503, e.msg);
    bool changed = owner != NULL;
    if (changed) {
        notify_publish(d->pub, NOTIFY_CANCEL, id);
        LOG_INFO("task cancelled", "task_id", id, "reason", "dashboard");
    }
    free(owner);
    return json_reply(out, 200, json_pack("{sssb}", "id", id, "cancelled", changed));
}

/* A request may change something: the custom header, and no cross-site fetch. */
static bool same_origin(const struct admin_request *rq)
{
    return rq->csrf && strcmp(rq->csrf, "1") == 0 &&
           (!rq->fetch_site || strcmp(rq->fetch_site, "same-origin") == 0);
}

/* The admin route of the dashboard. */
bool dashboard_route(void *arg, const struct admin_request *rq, struct admin_reply *out)
{
    struct dashboard *d = arg;
    bool get = strcmp(rq->method, "GET") == 0, post = strcmp(rq->method, "POST") == 0;
    bool has_id = rq->id && taskid_valid(rq->id);
    if (get && strcmp(rq->url, "/dashboard") == 0)
        return asset(out, "text/html; charset=utf-8", dashboard_html, sizeof(dashboard_html) - 1);
    if (get && strcmp(rq->url, "/dashboard.js") == 0)
        return asset(out, "text/javascript; charset=utf-8", dashboard_js, sizeof(dashboard_js) - 1);
    if (get && strcmp(rq->url, "/dashboard.css") == 0)
        return asset(out, "text/css; charset=utf-8", dashboard_css, sizeof(dashboard_css) - 1);
    if (get && strcmp(rq->url, "/favicon.ico") == 0) { /* none, rather than a 404 logged */
        *out = (struct admin_reply){204, "image/x-icon", "", 0, NULL};
        return true;
    }
    if (get && strcmp(rq->url, "/dashboard/api/status") == 0)
        return get_status(d, out);
    if (strcmp(rq->url, "/dashboard/api/task") == 0 && get)
        return has_id ? get_task(d, rq->id, out) : error_reply(out, 400, "want ?id=<task id>");
    if (strcmp(rq->url, "/dashboard/api/cancel") != 0)
        return false;
    if (!post)
        return error_reply(out, 405, "POST only");
    if (!same_origin(rq))
        return error_reply(out, 403, "send the header " DASHBOARD_CSRF_HEADER ": 1 from the page");
    return has_id ? post_cancel(d, rq->id, out) : error_reply(out, 400, "want ?id=<task id>");
}
