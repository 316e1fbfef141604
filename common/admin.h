/*
 * admin.h - the small operator HTTP server every process runs.
 *
 * GET /metrics (Prometheus text), /healthz (alive) and /readyz (the ready
 * callback says yes), on its own port so it is never exposed through the
 * public ingress.  One thread, owned by the server; it takes no request
 * bodies and keeps nothing between requests.
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

struct admin_server;

/* Listen on "host:port"; a new server to stop with admin_stop(), or NULL with 'err' set
 * (-ADMIN_E*).  'ready' and 'arg' are borrowed for the server's life. */
struct admin_server *admin_start(const char *addr, admin_ready_fn *ready, void *arg,
                                 struct err *err);
/* Stop and free; NULL is a no-op. */
void admin_stop(struct admin_server *a);
/* Parse "host:port" (IPv4, "localhost", or "*"/"" host for all interfaces); 0 or
 * -ADMIN_EADDR. */
int admin_parse_addr(const char *addr, struct sockaddr_in *sa);
/* True for the methods the admin port answers (GET, HEAD); others get 405. */
bool admin_method_allowed(const char *method);

#endif
