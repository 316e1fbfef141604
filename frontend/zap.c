/*
 * zap.c - the ZAP handler that admits allow-listed worker keys to the fabric.
 *
 * libzmq asks "inproc://zeromq.zap.01" about every CURVE handshake on the
 * context; this thread answers 200 for a client public key on the list and
 * 400 otherwise.  It does not look at addresses (workers move between pods)
 * and never logs key material.  Invariant: anything unexpected on the ZAP
 * socket is answered 500 or dropped, never admitted.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "zap.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_POLL_MS  200  /* how fast a stop is noticed */
#define ZAP_LOG_MS   1000 /* at most one refusal line per second */

struct zap {
    void *rep;                          /* the handler socket (REP) */
    const struct fabkeys_allow *allow;  /* admitted worker keys (borrowed) */
    pthread_t thread;                   /* answers requests */
    atomic_bool stop;                   /* ask the thread to end */
    int64_t last_log_ms;                /* last refusal logged (thread only) */
    int64_t unlogged;                   /* refusals since then (thread only) */
};

METRIC_DEFINE(m_admitted, METRIC_COUNTER, "taskwire_fabric_handshakes_total",
              "outcome=\"admitted\"", "CURVE handshakes on the fabric, by outcome");
METRIC_DEFINE(m_refused, METRIC_COUNTER, "taskwire_fabric_handshakes_total", "outcome=\"refused\"",
              "CURVE handshakes on the fabric, by outcome");

/* Register taskwire_fabric_handshakes_total. */
void zap_metrics_register(void)
{
    metrics_register(&m_admitted);
    metrics_register(&m_refused);
}

/* Receive one multipart request; false when nothing arrived or it broke off. */
static bool receive(void *rep, struct zap_request *q)
{
    int more = 1;
    q->n = 0;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, rep, 0) < 0) {
            zmq_msg_close(&m);
            return false;
        }
        zap_request_add(q, zmq_msg_data(&m), zmq_msg_size(&m));
        more = zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
    return true;
}

/* Send the six-frame reply to request 'q' with 'code' ("200", "400", "500"). */
static void send_reply(void *rep, const struct zap_request *q, const char *code, const char *text)
{
    size_t id_len = q->n > 1 ? (q->len[1] < ZAP_FRAME_MAX ? q->len[1] : ZAP_FRAME_MAX) : 0;
    zmq_send(rep, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(rep, q->frame[1], id_len, ZMQ_SNDMORE);
    zmq_send(rep, code, strlen(code), ZMQ_SNDMORE);
    zmq_send(rep, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(rep, "", 0, ZMQ_SNDMORE);
    zmq_send(rep, "", 0, 0);
}

/* Count a refusal and log at most one line a second (with how many went unlogged). */
static void note_refusal(struct zap *z, const char *why)
{
    metrics_add(&m_refused, 1);
    int64_t now = clock_now_ms();
    if (now - z->last_log_ms < ZAP_LOG_MS) {
        z->unlogged++;
        return;
    }
    char more[32];
    snprintf(more, sizeof(more), "%lld", (long long)z->unlogged);
    LOG_WARN("fabric handshake refused", "reason", why, "refused_since_last_line", more);
    z->last_log_ms = now;
    z->unlogged = 0;
}

/*
 * Add one received frame ('n' bytes at 'data') to request 'q': the first
 * ZAP_FRAMES are kept, each cut to ZAP_FRAME_MAX bytes with its full length
 * noted; later ones are only counted.  Start with q->n = 0.  Pure.
 */
void zap_request_add(struct zap_request *q, const void *data, size_t n)
{
    if (q->n < ZAP_FRAMES) {
        q->len[q->n] = n;
        memcpy(q->frame[q->n], data, n < ZAP_FRAME_MAX ? n : ZAP_FRAME_MAX);
    }
    q->n++;
}

/*
 * The answer to request 'q': "200" for a ZAP 1.0 request of exactly
 * ZAP_FRAMES frames from a CURVE client whose 32-byte public key is on
 * 'allow'; "400" for another mechanism or a key not on the list; "500" for a
 * malformed request.  'why' says why a request was refused (NULL when
 * admitted).  Pure: the caller sends, counts and logs.
 */
struct zap_verdict zap_decide(const struct zap_request *q, const struct fabkeys_allow *allow)
{
    if (q->n != ZAP_FRAMES || q->len[0] != 3 || memcmp(q->frame[0], "1.0", 3) != 0)
        return (struct zap_verdict){"500", "malformed request", "malformed ZAP request"};
    if (q->len[5] != 5 || memcmp(q->frame[5], "CURVE", 5) != 0 ||
        q->len[6] != FABKEYS_KEY_LEN)
        return (struct zap_verdict){"400", "CURVE required", "not a CURVE client"};
    if (!fabkeys_allow_has(allow, (const uint8_t *)q->frame[6]))
        return (struct zap_verdict){"400", "key not allowed", "worker key not on the allow-list"};
    return (struct zap_verdict){"200", "OK", NULL};
}

/* Answer one request, counting (and logging) refusals. */
static void decide(struct zap *z, const struct zap_request *q)
{
    struct zap_verdict v = zap_decide(q, z->allow);
    if (v.why)
        note_refusal(z, v.why);
    else
        metrics_add(&m_admitted, 1);
    send_reply(z->rep, q, v.code, v.text);
}

static void *zap_main(void *arg)
{
    struct zap *z = arg;
    while (!atomic_load(&z->stop)) {
        zmq_pollitem_t item = {z->rep, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, ZAP_POLL_MS) <= 0 || !(item.revents & ZMQ_POLLIN))
            continue;
        struct zap_request q;
        if (receive(z->rep, &q))
            decide(z, &q);
    }
    return NULL;
}

/*
 * Bind the handler socket on 'zctx' and start its thread.  Must run before
 * a CURVE server socket of the context accepts peers, or libzmq refuses the
 * handshakes for want of a handler.  Returns NULL with 'err' set.
 */
struct zap *zap_start(void *zctx, const struct fabkeys_allow *allow, struct err *err)
{
    struct zap *z = calloc(1, sizeof(*z));
    int zero = 0;
    if (!z) {
        err_set(err, -ZAP_ENOMEM, "out of memory");
        return NULL;
    }
    z->allow = allow;
    if (!(z->rep = zmq_socket(zctx, ZMQ_REP)) ||
        zmq_setsockopt(z->rep, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
        zmq_bind(z->rep, ZAP_ENDPOINT) != 0) {
        err_set(err, -ZAP_ESOCKET, "cannot start the fabric authenticator: %s",
                zmq_strerror(errno));
        goto out_close;
    }
    if (pthread_create(&z->thread, NULL, zap_main, z) != 0) {
        err_set(err, -ZAP_ETHREAD, "cannot start the fabric authenticator thread");
        goto out_close;
    }
    return z;

out_close:
    if (z->rep)
        zmq_close(z->rep);
    free(z);
    return NULL;
}

void zap_stop(struct zap *z)
{
    if (!z)
        return;
    atomic_store(&z->stop, true);
    pthread_join(z->thread, NULL);
    zmq_close(z->rep);
    free(z);
}
