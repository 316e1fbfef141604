/*
 * fabric.c - the worker's PULL socket, its endpoints and dns:// resolution.
 *
 * Keeps the list of endpoints the socket is connected to and brings it in
 * line with the configured entries on every refresh: new addresses are
 * connected, addresses a name no longer has are disconnected, and nothing is
 * dropped while a name fails to resolve.  Receiving is one envelope at a
 * time with a receive high-water mark of 1, so a busy worker leaves queued
 * messages to its peers.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fabric.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "envelope.h"
#include "fabkeys.h"
#include "log.h"
#include "metrics.h"

#define FABRIC_MAX_EPS 256 /* frontends one worker connects to */
#define FABRIC_EP_LEN  80  /* "tcp://[v6 address]:port" */

struct fabric {
    const char *connect;                     /* TASKWIRE_FABRIC_CONNECT (borrowed) */
    void *zctx, *pull;                       /* ZeroMQ context and PULL socket (NULL once closed) */
    char eps[FABRIC_MAX_EPS][FABRIC_EP_LEN]; /* endpoints the PULL socket is connected to */
    int neps;                                /* used entries of eps */
};

METRIC_DEFINE(m_garbage, METRIC_COUNTER, "taskwire_fabric_envelopes_dropped_total", NULL,
              "Envelopes dropped as garbage, truncated or of an unknown version");

/* Append 'ep' to a list unless present; 0, or -FABRIC_EFULL. */
static int list_add(char list[][FABRIC_EP_LEN], int *n, const char *ep)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(list[i], ep) == 0)
            return 0;
    if (*n == FABRIC_MAX_EPS)
        return -FABRIC_EFULL;
    snprintf(list[(*n)++], FABRIC_EP_LEN, "%s", ep);
    return 0;
}

/* True when 'ep' is one of the 'n' entries of 'list'. */
static bool list_has(char list[][FABRIC_EP_LEN], int n, const char *ep)
{
    for (int i = 0; i < n; i++)
        if (strcmp(list[i], ep) == 0)
            return true;
    return false;
}

/* Resolve "dns://host:port" into tcp endpoints; false when the name does not resolve. */
static bool resolve_entry(const char *entry, char list[][FABRIC_EP_LEN], int *n)
{
    char host[256];
    const char *hp = entry + 6, *colon = strrchr(hp, ':');
    if (!colon || (size_t)(colon - hp) >= sizeof(host))
        return false;
    memcpy(host, hp, (size_t)(colon - hp));
    host[colon - hp] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
        return false;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char ip[INET6_ADDRSTRLEN], ep[FABRIC_EP_LEN];
        void *addr = ai->ai_family == AF_INET
                         ? (void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                         : (void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        if (!inet_ntop(ai->ai_family, addr, ip, sizeof(ip)))
            continue;
        snprintf(ep, sizeof(ep), ai->ai_family == AF_INET ? "tcp://%s:%s" : "tcp://[%s]:%s", ip,
                 colon + 1);
        list_add(list, n, ep);
    }
    freeaddrinfo(res);
    return true;
}

/*
 * The endpoints 'connect' names now, into 'want' (*n entries): static
 * entries as they are, dns:// entries resolved.  *complete is false when a
 * name did not resolve.  0, or -FABRIC_ENOMEM.
 */
static int wanted(const char *connect, char want[][FABRIC_EP_LEN], int *n, bool *complete)
{
    char *list = strdup(connect), *save = NULL;
    if (!list)
        return -FABRIC_ENOMEM;
    *n = 0;
    *complete = true;
    for (char *ep = strtok_r(list, ",", &save); ep; ep = strtok_r(NULL, ",", &save)) {
        while (*ep == ' ')
            ep++;
        if (!*ep)
            continue;
        if (strncmp(ep, "dns://", 6) == 0) {
            if (!resolve_entry(ep, want, n)) {
                *complete = false;
                LOG_WARN("fabric name does not resolve; keeping current connections", "entry", ep);
            }
        } else if (list_add(want, n, ep) < 0) {
            break;
        }
    }
    free(list);
    return 0;
}

/*
 * Connect the wanted endpoints not yet connected and disconnect the current
 * ones no longer wanted (kept instead when the wanted list is incomplete);
 * the result becomes f->eps.  0, or the last -FABRIC_ECONNECT with err set.
 */
static int apply(struct fabric *f, char want[][FABRIC_EP_LEN], int n, bool complete,
                 char next[][FABRIC_EP_LEN], struct err *err)
{
    int nn = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        bool have = list_has(f->eps, f->neps, want[i]);
        if (!have && zmq_connect(f->pull, want[i]) != 0) {
            rc = err_set(err, -FABRIC_ECONNECT, "cannot connect to fabric endpoint '%s': %s",
                         want[i], zmq_strerror(errno));
            continue;
        }
        if (!have)
            LOG_INFO("fabric: connected", "endpoint", want[i]);
        list_add(next, &nn, want[i]);
    }
    for (int j = 0; j < f->neps; j++) {
        if (list_has(want, n, f->eps[j]))
            continue;
        if (complete) {
            zmq_disconnect(f->pull, f->eps[j]);
            LOG_INFO("fabric: disconnected (address gone)", "endpoint", f->eps[j]);
        } else {
            list_add(next, &nn, f->eps[j]);
        }
    }
    memcpy(f->eps, next, (size_t)nn * FABRIC_EP_LEN);
    f->neps = nn;
    return rc;
}

/*
 * Bring the PULL socket's connections in line with the connect string:
 * static tcp:// endpoints, and "dns://name:port" entries resolved now.  New
 * addresses are connected, gone ones disconnected; while a name fails to
 * resolve nothing is dropped.  Called at start and every fabric-resolve-ms,
 * from the receive loop's thread.  Returns 0; -FABRIC_ECONNECT when an
 * endpoint was refused (the others are connected); -FABRIC_ENOENDPOINT when
 * no endpoint is connected; -FABRIC_ENOMEM.  'err' (may be NULL) says which.
 */
int fabric_refresh(struct fabric *f, struct err *err)
{
    char(*want)[FABRIC_EP_LEN] = calloc(FABRIC_MAX_EPS, FABRIC_EP_LEN);
    char(*next)[FABRIC_EP_LEN] = calloc(FABRIC_MAX_EPS, FABRIC_EP_LEN);
    int n = 0, rc;
    bool complete = true;
    if (!f->pull)
        rc = err_set(err, -FABRIC_ESOCKET, "the fabric socket is closed");
    else if (!want || !next || wanted(f->connect, want, &n, &complete) < 0)
        rc = err_set(err, -FABRIC_ENOMEM, "out of memory");
    else if ((rc = apply(f, want, n, complete, next, err)) == 0 && f->neps == 0)
        rc = err_set(err, -FABRIC_ENOENDPOINT, "no fabric endpoint (TASKWIRE_FABRIC_CONNECT)");
    free(next);
    free(want);
    return rc;
}

/*
 * Create the PULL socket (receive high-water mark 1, no message larger than an
 * envelope, no linger), a CURVE client of the frontends when 'curve' is given,
 * and connect it as fabric_refresh() does.  'connect' is borrowed and must
 * outlive the fabric.  Returns a new fabric (fabric_free() it), or NULL with
 * 'err' set (the fabric_refresh() codes, -FABRIC_ESOCKET or -FABRIC_EKEY).
 */
struct fabric *fabric_new(const char *connect, const struct fabric_curve *curve, struct err *err)
{
    int hwm = 1, zero = 0;
    int64_t max = ENVELOPE_MAX_BYTES;
    struct fabric *f = calloc(1, sizeof(*f));
    if (!f) {
        err_set(err, -FABRIC_ENOMEM, "out of memory");
        return NULL;
    }
    metrics_register(&m_garbage);
    f->connect = connect;
    if (!(f->zctx = zmq_ctx_new()) || !(f->pull = zmq_socket(f->zctx, ZMQ_PULL))) {
        err_set(err, -FABRIC_ESOCKET, "cannot create ZeroMQ socket");
        goto out_free;
    }
    zmq_setsockopt(f->pull, ZMQ_RCVHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(f->pull, ZMQ_MAXMSGSIZE, &max, sizeof(max));
    zmq_setsockopt(f->pull, ZMQ_LINGER, &zero, sizeof(zero));
    struct err ke = {0};
    if (curve && fabkeys_set_client(f->pull, curve->server_key, curve->secret_key, &ke) < 0) {
        err_set(err, -FABRIC_EKEY, "%s", ke.msg);
        goto out_free;
    }
    if (fabric_refresh(f, err) < 0)
        goto out_free;
    return f;

out_free:
    fabric_free(f);
    return NULL;
}

/*
 * Receive one envelope if one arrives within 'timeout_ms'.  Returns true with
 * the task id copied into 'task_id'; false on timeout, on a closed socket, or
 * for an envelope dropped as garbage (counted and logged).
 */
bool fabric_receive(struct fabric *f, long timeout_ms, char task_id[TASKID_LEN + 1])
{
    if (!f->pull)
        return false;
    zmq_pollitem_t item = {f->pull, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, timeout_ms) <= 0 || !(item.revents & ZMQ_POLLIN))
        return false;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    int n = zmq_msg_recv(&msg, f->pull, ZMQ_DONTWAIT);
    if (n < 0) {
        zmq_msg_close(&msg);
        return false;
    }
    struct err e = {0};
    int rc = fabric_parse(zmq_msg_data(&msg), zmq_msg_size(&msg), task_id, &e);
    zmq_msg_close(&msg);
    if (rc < 0) {
        metrics_add(&m_garbage, 1);
        LOG_WARN("dropped an envelope", "error", e.msg);
        return false;
    }
    return true;
}

/*
 * Read one frame received from the fabric ('len' bytes at 'buf'): a job
 * envelope (proto/envelope.c decodes and checks every field).  Returns 0
 * with the task id copied into 'task_id', or envelope_decode()'s negative
 * code with 'err' set and 'task_id' untouched.  Each frame stands alone (a
 * multipart message is read frame by frame).  Pure: no I/O, no logging,
 * no metrics; thread-safe.
 */
int fabric_parse(const void *buf, size_t len, char task_id[TASKID_LEN + 1], struct err *err)
{
    struct envelope env;
    int rc = envelope_decode(buf, len, &env, err);
    if (rc < 0)
        return rc;
    snprintf(task_id, TASKID_LEN + 1, "%s", env.task_id);
    return 0;
}

/* Close the socket (pending messages are dropped: LINGER 0); idempotent. */
void fabric_close(struct fabric *f)
{
    if (f && f->pull) {
        zmq_close(f->pull);
        f->pull = NULL;
    }
}

/* Close the socket, terminate the context and free; NULL is a no-op. */
void fabric_free(struct fabric *f)
{
    if (!f)
        return;
    fabric_close(f);
    if (f->zctx)
        zmq_ctx_term(f->zctx);
    free(f);
}
