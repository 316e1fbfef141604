/*
 * fabric.h - the worker's end of the ZeroMQ fabric: one PULL socket
 * connected to every frontend.
 *
 * TASKWIRE_FABRIC_CONNECT lists tcp:// endpoints and dns://name:port entries;
 * a dns:// entry stands for every address the name has (a Kubernetes headless
 * Service names every frontend pod) and is resolved again on each
 * fabric_refresh().  Receiving decodes one envelope and hands back only the
 * task id: the runner claims the task in PostgreSQL before trusting anything.
 * Does not claim, run or sweep.  Invariant: while a name fails to resolve,
 * no endpoint is dropped.  One thread at a time (ZeroMQ sockets are not
 * thread-safe).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_FABRIC_H
#define TASKWIRE_FABRIC_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "taskid.h"

enum fabric_error {
    FABRIC_ENOMEM = 1,  /* allocation failed */
    FABRIC_ESOCKET,     /* the ZeroMQ context or socket could not be created */
    FABRIC_ECONNECT,    /* an endpoint was refused by zmq_connect() */
    FABRIC_ENOENDPOINT, /* nothing to connect to */
    FABRIC_EFULL,       /* more endpoints than FABRIC_MAX_EPS */
    FABRIC_EKEY,        /* the CURVE keys are unusable */
};

/* CURVE on the fabric: the frontends' public key and this worker's secret key (Z85). */
struct fabric_curve {
    const char *server_key; /* the frontends' Z85 public key (borrowed) */
    const char *secret_key; /* this worker's Z85 secret key (borrowed) */
};

struct fabric;

/* Create the PULL socket, a CURVE client when 'curve' is not NULL (else plain, insecure),
 * and connect it to every entry of 'connect' (borrowed; must outlive the fabric); NULL
 * with err set. */
struct fabric *fabric_new(const char *connect, const struct fabric_curve *curve,
                          struct err *err);
/* Resolve the dns:// entries again; connect new addresses, disconnect gone ones. */
MUST_CHECK int fabric_refresh(struct fabric *f, struct err *err);
/* Wait up to 'timeout_ms' for one envelope; true with its task id copied out. */
bool fabric_receive(struct fabric *f, long timeout_ms, char task_id[TASKID_LEN + 1]);
/* Read one received frame as a job envelope: 0 with its task id copied out, or
 * envelope_decode()'s negative code with err set.  Pure (what fabric_receive() does with a
 * frame; fuzzed). */
MUST_CHECK int fabric_parse(const void *buf, size_t len, char task_id[TASKID_LEN + 1],
                            struct err *err);
/* Stop receiving: close the socket now (shutdown); later receives return false. */
void fabric_close(struct fabric *f);
/* Close and free; NULL is a no-op. */
void fabric_free(struct fabric *f);

#endif
