/*
 * threadconn.h - the PostgreSQL connection and Redis publisher of this thread.
 *
 * Neither libpq nor hiredis handles may be shared between threads, so each
 * libmicrohttpd pool thread (and the admin thread) owns one pair, opened on
 * first use and freed when the thread exits.  Both connect lazily: getting
 * the pair never blocks on the network.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_THREADCONN_H
#define TASKWIRE_THREADCONN_H

#include "notify.h"
#include "store.h"

/* One thread's connections. */
struct threadconn {
    struct store *store;    /* this thread's PostgreSQL connection */
    struct notify_pub *pub; /* this thread's Redis publisher */
};

/* This thread's pair (borrowed; freed at thread exit), made on first use from
 * 'pg_dsn' and 'redis_addr'; NULL when out of memory. */
struct threadconn *threadconn_get(const char *pg_dsn, const char *redis_addr);
/* Free this thread's pair now (for threads that never exit, such as a test's main). */
void threadconn_release(void);

#endif
