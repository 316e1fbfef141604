/*
 * admin.h - the small operator HTTP server every process runs.
 *
 * GET /metrics (Prometheus text), /healthz (alive) and /readyz (the ready
 * callback says yes), on its own port so it is never exposed through the
 * public ingress.  One thread.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_ADMIN_H
#define TASKWIRE_ADMIN_H

#include <netinet/in.h>
#include <stdbool.h>

#include "err.h"

/* Called on the admin thread for /readyz. */
typedef bool admin_ready_fn(void *arg);

struct admin_server;

/* Listen on "host:port"; NULL with err set. */
struct admin_server *admin_start(const char *addr, admin_ready_fn *ready, void *arg,
                                 struct err *err);
/* Stop and free; NULL is a no-op. */
void admin_stop(struct admin_server *a);
/* Parse "host:port" (IPv4, "localhost", or "*"/"" host for all interfaces); 0 or -1. */
int admin_parse_addr(const char *addr, struct sockaddr_in *sa);

#endif
