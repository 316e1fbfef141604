/*
 * threadconn.c - per-thread PostgreSQL and Redis handles in thread-specific data.
 *
 * The first call on a thread fixes its pair: later calls return it whatever
 * settings they pass (a process serves one database and one Redis).  The
 * pthread key's destructor closes both when the thread ends.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "threadconn.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_key_t conn_key;
static pthread_once_t conn_once = PTHREAD_ONCE_INIT;

static void conn_free(void *p)
{
    struct threadconn *tc = p;
    if (!tc)
        return;
    store_free(tc->store);
    notify_pub_free(tc->pub);
    free(tc);
}

static void conn_key_init(void)
{
    pthread_key_create(&conn_key, conn_free);
}

/*
 * The calling thread's connections, made on its first call from 'pg_dsn'
 * (libpq connection string) and 'redis_addr' ("host:port", "" = publish
 * nothing).  Returns a pair borrowed for the life of the thread, or NULL
 * when out of memory (the next call tries again).
 */
struct threadconn *threadconn_get(const char *pg_dsn, const char *redis_addr)
{
    pthread_once(&conn_once, conn_key_init);
    struct threadconn *tc = pthread_getspecific(conn_key);
    if (tc)
        return tc;
    if (!(tc = calloc(1, sizeof(*tc))))
        return NULL;
    tc->store = store_new(pg_dsn, "taskwire-frontend");
    tc->pub = notify_pub_new(redis_addr);
    if (!tc->store || !tc->pub || pthread_setspecific(conn_key, tc) != 0) {
        conn_free(tc);
        return NULL;
    }
    return tc;
}

/* Close and free the calling thread's pair now; a later threadconn_get makes a new one. */
void threadconn_release(void)
{
    pthread_once(&conn_once, conn_key_init);
    conn_free(pthread_getspecific(conn_key));
    pthread_setspecific(conn_key, NULL);
}
