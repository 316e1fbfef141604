/*
 * admin.h - the small operator HTTP server every process runs.
 *
 * GET /metrics (Prometheus text), /healthz (alive) and /readyz (the ready
 * callback says yes), on its own port so it is never exposed through the
 * public ingress.  One thread, owned by the server; it takes no request
 * bodies and keeps nothing between requests.  A process may add its own
 * routes (the frontends' dashboard, frontend/dashboard.h): they are called
 * on that one thread for any URL the server does not answer itself, and
 * their replies carry a strict Content-Security-Policy and no-store.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_ADMIN_H
#define TASKWIRE_ADMIN_H

#include <netinet/in.h>
#include <stdbool.h>

#include "err.h"

enum admin_error {
    ADMIN_EADDR = 1, /* not "host:port" with an IPv4 host, "localhost", "*" or "" */
    ADMIN_ELISTEN,   /* the port cannot be listened on (in use, no permission) */
    ADMIN_ENOMEM,    /* an allocation failed */
};

/* Called on the admin thread for /readyz. */
typedef bool admin_ready_fn(void *arg);

/* What a route sees of a request (strings borrowed for the call; NULL when absent). */
struct admin_request {
    const char *method;     /* "GET", "POST"... */
    const char *url;        /* path without the query */
    const char *id;         /* the "id" query argument */
    const char *csrf;       /* the X-Taskwire-Dashboard header */
    const char *fetch_site; /* the Sec-Fetch-Site header */
};

/* What a route answers. */
struct admin_reply {
    unsigned status;  /* HTTP status */
    const char *type; /* Content-Type (static) */
    const char *body; /* the body: static, or 'owned' */
    size_t len;       /* its length */
    char *owned;      /* malloc'd body the server frees after sending, or NULL */
};

/* Answer the request 'rq' into *out: true when handled, false for a 404.  Called on the
 * admin thread only (one at a time). */
typedef bool admin_route_fn(void *arg, const struct admin_request *rq, struct admin_reply *out);

struct admin_server;

/* Listen on "host:port"; a new server to stop with admin_stop(), or NULL with 'err' set
 * (-ADMIN_E*).  'ready' and 'arg' are borrowed for the server's life. */
struct admin_server *admin_start(const char *addr, admin_ready_fn *ready, void *arg,
                                 struct err *err);
/* admin_start() with routes: 'route' (may be NULL) answers what the server does not. */
struct admin_server *admin_start_routes(const char *addr, admin_ready_fn *ready, void *arg,
                                        admin_route_fn *route, void *route_arg, struct err *err);
/* Stop and free; NULL is a no-op. */
void admin_stop(struct admin_server *a);
/* Parse "host:port" (IPv4, "localhost", or "*"/"" host for all interfaces); 0 or
 * -ADMIN_EADDR. */
int admin_parse_addr(const char *addr, struct sockaddr_in *sa);
/* True for the methods /metrics, /healthz and /readyz answer (GET, HEAD); others get 405. */
bool admin_method_allowed(const char *method);

#endif
