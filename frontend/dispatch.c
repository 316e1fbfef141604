/*
 * dispatch.c - push job envelopes to the workers over ZeroMQ.
 *
 * Builds the v2 envelope of a task (id, attempt, trace) on the stack and
 * sends it; nothing else in the frontend fills an envelope.  The socket is a
 * CURVE server unless the operator chose an insecure fabric: only workers
 * whose key is admitted complete the handshake and receive jobs.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "dispatch.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "envelope.h"
#include "zap.h"

#define DISPATCH_SNDHWM 64 /* messages queued per worker pipe before sends fail */

struct dispatch {
    void *zctx;            /* ZeroMQ context, owned */
    void *push;            /* bound PUSH socket, owned */
    struct zap *zap;       /* CURVE handshake authenticator, or NULL when insecure */
    pthread_mutex_t lock;  /* serialises use of 'push' across HTTP threads */
};

/* Small limits on the socket: a bounded queue per worker, no message from a peer larger
 * than an envelope (a PUSH socket receives none; this bounds what a hostile peer can make
 * the frontend allocate), nothing kept at close. */
static void set_limits(void *push)
{
    int hwm = DISPATCH_SNDHWM, one = 1, zero = 0;
    int64_t max = ENVELOPE_MAX_BYTES;
    zmq_setsockopt(push, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(push, ZMQ_RCVHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(push, ZMQ_MAXMSGSIZE, &max, sizeof(max));
    zmq_setsockopt(push, ZMQ_IMMEDIATE, &one, sizeof(one));
    zmq_setsockopt(push, ZMQ_LINGER, &zero, sizeof(zero));
}

/*
 * Create the context and bind the PUSH socket.  ZMQ_IMMEDIATE keeps messages
 * off pipes of workers that are not connected yet.  With 'curve', the ZAP
 * handler starts first and the socket is a CURVE server, so a peer without
 * the server key or an admitted worker key never gets a message.  Returns
 * NULL with 'err' set when the keys are unusable or the endpoint cannot be
 * bound.
 */
struct dispatch *dispatch_new(const char *endpoint, const struct dispatch_curve *curve,
                              struct err *err)
{
    struct dispatch *d = calloc(1, sizeof(*d));
    if (!d) {
        err_set(err, -ENOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&d->lock, NULL);
    if (!(d->zctx = zmq_ctx_new()) || !(d->push = zmq_socket(d->zctx, ZMQ_PUSH))) {
        err_set(err, -ENOMEM, "cannot create the fabric socket: %s", zmq_strerror(errno));
        goto out_free;
    }
    set_limits(d->push);
    if (curve && (!(d->zap = zap_start(d->zctx, curve->allow, err)) ||
                  fabkeys_set_server(d->push, curve->secret_key, err) < 0))
        goto out_free;
    if (zmq_bind(d->push, endpoint) != 0) {
        err_set(err, -EINVAL, "cannot bind fabric socket %s: %s", endpoint, zmq_strerror(errno));
        goto out_free;
    }
    return d;

out_free:
    dispatch_free(d);
    return NULL;
}

void dispatch_free(struct dispatch *d)
{
    if (!d)
        return;
    if (d->push)
        zmq_close(d->push);
    zap_stop(d->zap);
    if (d->zctx)
        zmq_ctx_term(d->zctx);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

/*
 * Push the job envelope of task 'task_id' (canonical UUID text) at attempt
 * 'attempt' to the next worker, never blocking.  'trace' (W3C
 * traceparent[,tracestate]) may be NULL; a trace the envelope cannot carry
 * (too long, not printable ASCII) is left out rather than cut, since a worker
 * reads the task's trace from its row anyway.  Borrows every argument.
 * Thread-safe.  Returns 0, -EAGAIN when no worker can take it now, or
 * -EPROTO when no envelope can be made of the arguments (an id that is not
 * 36 bytes of UUID text, an attempt out of range).
 */
int dispatch_push_task(struct dispatch *d, const char *task_id, int attempt, const char *trace)
{
    struct envelope env = {.version = ENVELOPE_VERSION};
    uint8_t buf[ENVELOPE_MAX_BYTES];
    size_t len;

    if (attempt < 0 || (unsigned)attempt > ENVELOPE_MAX_ATTEMPT ||
        strnlen(task_id, sizeof(env.task_id)) != ENVELOPE_TASK_ID_LEN)
        return -EPROTO;
    env.attempt = (uint32_t)attempt;
    memcpy(env.task_id, task_id, ENVELOPE_TASK_ID_LEN + 1);
    if (envelope_trace_ok(trace))
        snprintf(env.trace, sizeof(env.trace), "%s", trace);
    if (envelope_encode(&env, buf, sizeof(buf), &len, NULL) < 0)
        return -EPROTO;
    pthread_mutex_lock(&d->lock);
    int rc = zmq_send(d->push, buf, len, ZMQ_DONTWAIT);
    int saved = errno;
    pthread_mutex_unlock(&d->lock);
    return rc < 0 ? -(saved == EAGAIN ? EAGAIN : saved) : 0;
}
