/*
 * admin.c - /metrics, /healthz and /readyz on a separate port.
 *
 * libmicrohttpd with one internal polling thread and a small connection
 * limit: operators and probes only, never the public.  Knows nothing of
 * tasks; readiness is whatever the callback says, other URLs are whatever
 * the route callback answers (with the security headers below).  The
 * built-in paths (/metrics, /healthz, /readyz) answer only GET and HEAD: any
 * other method is 405 there.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "admin.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

struct admin_server {
    struct MHD_Daemon *daemon; /* one internal thread */
    admin_ready_fn *ready;     /* /readyz callback */
    void *arg;                 /* its argument */
    admin_route_fn *route;     /* other URLs, or NULL */
    void *route_arg;           /* its argument */
};

/* Every routed reply: nothing from elsewhere, nothing inline, never framed or cached. */
#define ROUTE_CSP                                                                                 \
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self';" \
    " base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/*
 * Parse "host:port" into an IPv4 address.  "localhost" means 127.0.0.1; an
 * empty host or "*" means every interface.  Returns 0 with *sa filled, or
 * -ADMIN_EADDR (no colon, a port outside 0..65535 or not a number, a host
 * that is not an IPv4 address).  Borrows 'addr'; thread-safe.
 */
int admin_parse_addr(const char *addr, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    if (!colon || (size_t)(colon - addr) >= sizeof(host))
        return -ADMIN_EADDR;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end || port < 0 || port > 65535)
        return -ADMIN_EADDR;
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    if (!*host || strcmp(host, "*") == 0)
        sa->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return -ADMIN_EADDR;
    return 0;
}

/*
 * True for the methods the built-in paths answer: GET, and HEAD (which a
 * server must support wherever it supports GET, RFC 9110 9.1).  They are
 * read-only, so anything else is refused.  Pure; thread-safe.
 */
bool admin_method_allowed(const char *method)
{
    return method && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* 405 with Allow: GET, HEAD. */
static enum MHD_Result refuse_method(struct MHD_Connection *conn)
{
    static const char body[] = "method not allowed\n";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result rc = MHD_queue_response(conn, 405, r);
    MHD_destroy_response(r);
    return rc;
}

/* Ask the route callback; true when it answered (the reply is queued). */
static bool routed(struct admin_server *a, struct MHD_Connection *conn, const char *url,
                   const char *method)
{
    if (!a->route)
        return false;
    const struct admin_request rq = {
        method, url, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "id"),
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Taskwire-Dashboard"),
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site")};
    struct admin_reply out = {0};
    if (!a->route(a->route_arg, &rq, &out))
        return false;
    struct MHD_Response *r = MHD_create_response_from_buffer(out.len, (void *)out.body,
                                                             MHD_RESPMEM_MUST_COPY);
    free(out.owned);
    if (!r)
        return false;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, out.type);
    MHD_add_response_header(r, "Content-Security-Policy", ROUTE_CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_queue_response(conn, out.status, r);
    MHD_destroy_response(r);
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct admin_server *a = cls;
    static const char text[] = "text/plain; charset=utf-8";
    if (*upload_data_size) { /* nothing here takes a body */
        *upload_data_size = 0;
        return MHD_YES;
    }
    bool builtin = strcmp(url, "/metrics") == 0 || strcmp(url, "/healthz") == 0 ||
                   strcmp(url, "/readyz") == 0;
    if (builtin && !admin_method_allowed(method))
        return refuse_method(conn);
    if (strcmp(url, "/metrics") == 0) {
        char *body = metrics_render();
        if (!body)
            return reply(conn, 500, text, "out of memory\n");
        enum MHD_Result rc = reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", body);
        free(body);
        return rc;
    }
    if (strcmp(url, "/healthz") == 0)
        return reply(conn, 200, text, "ok\n");
    if (strcmp(url, "/readyz") == 0)
        return a->ready(a->arg) ? reply(conn, 200, text, "ready\n")
                                : reply(conn, 503, text, "not ready\n");
    return routed(a, conn, url, method) ? MHD_YES : reply(conn, 404, text, "not found\n");
}

/*
 * Start the admin server on 'addr' with one internal thread.  'ready' is
 * called on that thread for each /readyz.  Returns a new server (stop it
 * with admin_stop()), or NULL with 'err' set to -ADMIN_EADDR,
 * -ADMIN_ELISTEN or -ADMIN_ENOMEM.
 */
struct admin_server *admin_start(const char *addr, admin_ready_fn *ready, void *arg,
                                 struct err *err)
{
    return admin_start_routes(addr, ready, arg, NULL, NULL, err);
}

/* admin_start() whose other URLs 'route' answers ('route' and 'route_arg' are borrowed
 * for the server's life). */
struct admin_server *admin_start_routes(const char *addr, admin_ready_fn *ready, void *arg,
                                        admin_route_fn *route, void *route_arg, struct err *err)
{
    struct sockaddr_in sa;
    if (admin_parse_addr(addr, &sa) < 0) {
        err_set(err, -ADMIN_EADDR, "invalid admin address '%s' (want host:port)", addr);
        return NULL;
    }
    struct admin_server *a = calloc(1, sizeof(*a));
    if (!a) {
        err_set(err, -ADMIN_ENOMEM, "out of memory");
        return NULL;
    }
    a->ready = ready;
    a->arg = arg;
    a->route = route;
    a->route_arg = route_arg;
    a->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
                                 on_request, a, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!a->daemon) {
        err_set(err, -ADMIN_ELISTEN, "cannot listen on %s (address in use?)", addr);
        free(a);
        return NULL;
    }
    return a;
}

/* Stop the server (waiting for its thread) and free it; NULL is a no-op. */
void admin_stop(struct admin_server *a)
{
    if (!a)
        return;
    MHD_stop_daemon(a->daemon);
    free(a);
}
