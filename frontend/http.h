/*
 * http.h - the frontend's HTTP servers (libmicrohttpd).
 *
 * The public server answers POST /mcp, /healthz, /readyz and the OAuth
 * resource metadata (GET /.well-known/oauth-protected-resource[/mcp]); the admin
 * server (a separate port, never behind the public ingress) answers
 * /metrics, /healthz and /readyz.  This module is transport only: limits,
 * headers, authentication and response writing; mcp.c decides what a
 * request means and wait.c runs the requests that wait.  Each pool thread
 * owns its own PostgreSQL connection and Redis publisher (threadconn).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_HTTP_H
#define TASKWIRE_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "guard.h"
#include "httpcheck.h" /* the header and URL checks every request goes through */
#include "mcp.h"
#include "oauth.h"

struct http_cfg {
    const char *listen;         /* "host:port" of the public server */
    const char *admin_listen;   /* "host:port" of the admin server, or "" for none */
    int threads;                /* MHD thread pool size */
    int64_t max_body_bytes;     /* larger bodies get 413 */
    int max_connections;        /* concurrent connections before refusing */
    const char *pg_dsn;         /* each thread opens its own store */
    const char *redis_addr;     /* each thread opens its own publisher */
    const struct oauth *oauth;  /* authentication, scopes and the resource metadata */
    const char *allowed_origins; /* Origin allow-list (see rpc_origin_allowed) */
    const char *allowed_hosts;   /* Host allow-list (see rpc_host_allowed) */
    int64_t sync_timeout_ms;    /* longest wait of a synchronous tools/call */
    int64_t listen_max_ms;      /* longest life of a subscriptions/listen stream */
    const struct mcp_server *mcp; /* method dispatch */
    struct guard *guard;        /* rate limits and caps per principal (NULL: none) */
    int max_connections_per_address; /* connections from one client address; 0 = no cap */
    int idle_timeout_s;         /* a connection idle this long is closed (keep-alive too) */
    int64_t header_timeout_ms;  /* request headers must be complete within this */
    int64_t body_timeout_ms;    /* a request body must be complete within this after them */
};

enum http_error {
    HTTP_EADDR = 1, /* the listen address is not host:port */
    HTTP_ELISTEN,   /* the address cannot be bound */
    HTTP_ENOMEM,    /* out of memory */
    HTTP_EHUB,      /* the waiter hub could not start */
    HTTP_ELENGTH,   /* a Content-Length that is not a plain decimal up to INT64_MAX */
};

struct http_server;

/* Start both servers (cfg's strings and pointers borrowed); NULL with err set. */
struct http_server *http_start(const struct http_cfg *cfg, struct err *err);
/* Stop accepting new connections (for graceful shutdown). */
void http_quiesce(struct http_server *s);
/* Finish in-flight requests, stop the threads and free; NULL is a no-op. */
void http_stop(struct http_server *s);
/* Parse a Content-Length header value (digits only, no overflow) into *len. */
MUST_CHECK int http_content_length(const char *value, int64_t *len);

#endif
