/*
 * dispatch.c - push job envelopes to the workers over ZeroMQ.
 *
 * Builds the v2 envelope of a task (id, attempt, trace) on the stack and
 * sends it; nothing else in the frontend fills an envelope.
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

#define DISPATCH_SNDHWM 64 /* messages queued per worker pipe before sends fail */

struct dispatch {
    void *zctx;            /* ZeroMQ context, owned */
    void *push;            /* bound PUSH socket, owned */
    pthread_mutex_t lock;  /* serialises use of 'push' across HTTP threads */
};

/*
 * Create the context and bind the PUSH socket.  ZMQ_IMMEDIATE keeps messages
 * off pipes of workers that are not connected yet.  Returns NULL with 'err'
 * set when the endpoint cannot be bound.
 */
struct dispatch *dispatch_new(const char *endpoint, struct err *err)
{
    struct dispatch *d = calloc(1, sizeof(*d));
    if (!d) {
        err_set(err, -ENOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&d->lock, NULL);
    int hwm = DISPATCH_SNDHWM, one = 1, zero = 0;
    if (!(d->zctx = zmq_ctx_new()) || !(d->push = zmq_socket(d->zctx, ZMQ_PUSH)))
        goto out_free;
    zmq_setsockopt(d->push, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(d->push, ZMQ_IMMEDIATE, &one, sizeof(one));
    zmq_setsockopt(d->push, ZMQ_LINGER, &zero, sizeof(zero));
    if (zmq_bind(d->push, endpoint) != 0)
        goto out_free;
    return d;

out_free:
    err_set(err, -EINVAL, "cannot bind fabric socket %s: %s", endpoint, zmq_strerror(errno));
    dispatch_free(d);
    return NULL;
}

void dispatch_free(struct dispatch *d)
{
    if (!d)
        return;
    if (d->push)
        zmq_close(d->push);
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
