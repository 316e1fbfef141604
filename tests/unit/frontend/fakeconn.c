/*
 * fakeconn.c - fake connections for unit tests of the hub and of wait.c.
 *
 * The hub calls suspend and resume with its own mutex held, so these only
 * take the fake's mutex and never call back into the hub.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fakeconn.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "clock.h"

static pthread_mutex_t fake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fake_cv; /* broadcast on every resume (monotonic clock) */
static pthread_once_t fake_once = PTHREAD_ONCE_INIT;

static void fake_init(void)
{
    if (clock_cond_init(&fake_cv) != 0)
        abort();
}

static struct fakeconn *fake(struct MHD_Connection *conn)
{
    return (struct fakeconn *)conn;
}

static void fake_suspend(struct MHD_Connection *conn)
{
    pthread_mutex_lock(&fake_mu);
    fake(conn)->suspends++;
    pthread_mutex_unlock(&fake_mu);
}

static void fake_resume(struct MHD_Connection *conn)
{
    pthread_once(&fake_once, fake_init);
    pthread_mutex_lock(&fake_mu);
    fake(conn)->resumes++;
    pthread_cond_broadcast(&fake_cv);
    pthread_mutex_unlock(&fake_mu);
}

static int fake_fd(struct MHD_Connection *conn)
{
    return fake(conn)->fd;
}

const struct hub_conn_ops fakeconn_ops = {fake_suspend, fake_resume, fake_fd};

/* The pointer the hub is given for 'c'; it is never dereferenced as MHD's. */
struct MHD_Connection *fakeconn_conn(struct fakeconn *c)
{
    return (struct MHD_Connection *)c;
}

/* The value of 'counter' (a field of a struct fakeconn), read under the mutex. */
int fakeconn_count(const int *counter)
{
    pthread_mutex_lock(&fake_mu);
    int n = *counter;
    pthread_mutex_unlock(&fake_mu);
    return n;
}

/* Wait on the condition, with a deadline, until 'c' was resumed 'n' times. */
bool fakeconn_wait_resumes(struct fakeconn *c, int n)
{
    pthread_once(&fake_once, fake_init);
    int64_t until = clock_now_ms() + FAKECONN_DEADLINE_MS;
    pthread_mutex_lock(&fake_mu);
    while (c->resumes < n && clock_now_ms() < until) {
        struct timespec ts = clock_deadline_in(100);
        pthread_cond_timedwait(&fake_cv, &fake_mu, &ts);
    }
    bool ok = c->resumes >= n;
    pthread_mutex_unlock(&fake_mu);
    return ok;
}

/* A socket pair: one end becomes c->fd (the caller closes it), the other is returned. */
int fakeconn_socket(struct fakeconn *c)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        abort();
    c->fd = sv[0];
    return sv[1];
}
