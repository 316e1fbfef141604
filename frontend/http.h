/*
 * http.h - the frontend's HTTP servers (libmicrohttpd).
 *
 * The public server answers POST /mcp plus /healthz and /readyz; the admin
 * server (a separate port, never behind the public ingress) answers
 * /metrics, /healthz and /readyz.  Each pool thread owns its own PostgreSQL
 * connection and Redis publisher.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_HTTP_H
#define TASKWIRE_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "err.h"
#include "mcp.h"

struct http_cfg {
    const char *listen;         /* "host:port" of the public server */
    const char *admin_listen;   /* "host:port" of the admin server, or "" for none */
    int threads;                /* MHD thread pool size */
    int64_t max_body_bytes;     /* larger bodies get 413 */
    int max_connections;        /* concurrent connections before refusing */
    const char *pg_dsn;         /* each thread opens its own store */
    const char *redis_addr;     /* each thread opens its own publisher */
    struct auth_verifier *auth; /* NULL when TASKWIRE_AUTH=none */
    const char *allowed_origins; /* Origin allow-list (see rpc_origin_allowed) */
    const char *allowed_hosts;   /* Host allow-list (see rpc_host_allowed) */
    int64_t sync_timeout_ms;    /* longest wait of a synchronous tools/call */
    int64_t listen_max_ms;      /* longest life of a subscriptions/listen stream */
    const struct mcp_server *mcp; /* method dispatch */
};

struct http_server;

/* Start both servers; NULL with err set (e.g. the port is taken). */
struct http_server *http_start(const struct http_cfg *cfg, struct err *err);
/* Stop accepting new connections (for graceful shutdown). */
void http_quiesce(struct http_server *s);
/* Finish in-flight requests, stop the threads and free; NULL is a no-op. */
void http_stop(struct http_server *s);

#endif
