/*
 * fakeconn.h - fake connections for unit tests of the hub and of wait.c.
 *
 * fakeconn_ops acts on a struct fakeconn (cast to struct MHD_Connection *)
 * instead of libmicrohttpd: it counts suspends and resumes and reports a
 * socket the test controls, so a test can close the peer to play a client
 * that hangs up.  Counters are guarded by one mutex; waits have deadlines.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_TEST_FAKECONN_H
#define TASKWIRE_TEST_FAKECONN_H

#include <stdbool.h>

#include "hub.h"

#define FAKECONN_DEADLINE_MS 10000 /* far longer than any wait in a test should take */

/* A connection as the hub sees it. */
struct fakeconn {
    int fd;       /* socket reported to the hub, or -1 */
    int suspends; /* suspend calls */
    int resumes;  /* resume calls */
};

/* Hub ops that act on struct fakeconn. */
extern const struct hub_conn_ops fakeconn_ops;

/* The connection the hub sees for 'c'. */
struct MHD_Connection *fakeconn_conn(struct fakeconn *c);
/* Read a counter of any fake connection under the mutex. */
int fakeconn_count(const int *counter);
/* Wait until 'c' was resumed at least 'n' times; false at FAKECONN_DEADLINE_MS. */
bool fakeconn_wait_resumes(struct fakeconn *c, int n);
/* Give 'c' one end of a new socket pair; returns the peer (close it to hang up). */
int fakeconn_socket(struct fakeconn *c);

#endif
