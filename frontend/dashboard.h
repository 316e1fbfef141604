/*
 * dashboard.h - the live operator dashboard on the frontends' admin port.
 *
 * Routes of the admin server (common/admin.h), never of the public port:
 *   GET  /dashboard                the page (frontend/dashboard.html, with
 *                                  dashboard.js and dashboard.css beside it;
 *                                  no inline code, no external asset)
 *   GET  /dashboard/api/status     the status document of common/opstore.h
 *                                  plus "failures" (the last hour's, newest first)
 *   GET  /dashboard/api/task?id=   one task with its timeline
 *   POST /dashboard/api/cancel?id= cancel a task (any owner), as tasks/cancel
 * The page polls the status every second.  The cancel is refused (403)
 * without the header "X-Taskwire-Dashboard: 1" or with a Sec-Fetch-Site
 * other than same-origin: a page of another origin cannot send that header
 * without a CORS preflight the admin server never grants, so a cross-site
 * form or fetch cannot cancel anything.  Runs on the admin thread only.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_DASHBOARD_H
#define TASKWIRE_DASHBOARD_H

#include <stdbool.h>

#include "admin.h"

#define DASHBOARD_CSRF_HEADER "X-Taskwire-Dashboard" /* must be "1" on a cancel */

struct dashboard;

/* A dashboard reading PostgreSQL at 'pg_dsn' and telling workers about cancels on Redis at
 * 'redis_addr' ("" = not told: they stop at their next heartbeat); strings are copied.
 * NULL only when out of memory. */
struct dashboard *dashboard_new(const char *pg_dsn, const char *redis_addr);
/* The admin route (admin_route_fn); 'arg' is the dashboard. */
bool dashboard_route(void *arg, const struct admin_request *rq, struct admin_reply *out);
/* Free; NULL is a no-op.  After the admin server stopped. */
void dashboard_free(struct dashboard *d);

#endif
