/*
 * test_zap.c - the fabric admits only allow-listed worker keys: a real CURVE server
 * socket on loopback with the ZAP handler, and real client sockets; then the
 * handler's verdict alone (zap_decide) on requests built frame by frame.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zmq.h>

#include "clock.h"
#include "fabkeys.h"
#include "metrics.h"
#include "zap.h"

struct server {
    void *zctx, *push;         /* the frontend side */
    struct zap *zap;           /* its authenticator */
    struct fabkeys_allow *allow; /* admitted keys */
    char endpoint[64];         /* where it listens */
    char public[41];           /* its public key */
};

static char worker_pub[41], worker_sec[41]; /* admitted */
static char other_pub[41], other_sec[41];   /* not admitted */

static void server_up(struct server *s)
{
    char secret[41];
    int zero = 0;
    assert_int_equal(fabkeys_generate(s->public, secret, NULL), 0);
    assert_non_null(s->allow = fabkeys_allow_parse(worker_pub, strlen(worker_pub), NULL));
    s->zctx = zmq_ctx_new();
    assert_non_null(s->zap = zap_start(s->zctx, s->allow, NULL));
    s->push = zmq_socket(s->zctx, ZMQ_PUSH);
    zmq_setsockopt(s->push, ZMQ_LINGER, &zero, sizeof(zero));
    assert_int_equal(fabkeys_set_server(s->push, secret, NULL), 0);
    assert_int_equal(zmq_bind(s->push, "tcp://127.0.0.1:*"), 0);
    size_t len = sizeof(s->endpoint);
    assert_int_equal(zmq_getsockopt(s->push, ZMQ_LAST_ENDPOINT, s->endpoint, &len), 0);
}

static void server_down(struct server *s)
{
    zmq_close(s->push);
    zap_stop(s->zap);
    zmq_ctx_term(s->zctx);
    fabkeys_allow_free(s->allow);
}

/* A PULL socket connected to the server: CURVE with 'secret' when not NULL, else plain. */
static void *client(void *zctx, const struct server *s, const char *secret)
{
    void *pull = zmq_socket(zctx, ZMQ_PULL);
    int zero = 0, timeout = 100;
    zmq_setsockopt(pull, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(pull, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
    if (secret)
        assert_int_equal(fabkeys_set_client(pull, s->public, secret, NULL), 0);
    assert_int_equal(zmq_connect(pull, s->endpoint), 0);
    return pull;
}

/* Metric value of the first line of the rendered registry that starts with 'line'. */
static long metric(const char *line)
{
    char *text = metrics_render();
    const char *at = strstr(text, line);
    long v = at ? strtol(at + strlen(line), NULL, 10) : -1;
    free(text);
    return v;
}

static int setup(void **state)
{
    zap_metrics_register();
    assert_int_equal(fabkeys_generate(worker_pub, worker_sec, NULL), 0);
    assert_int_equal(fabkeys_generate(other_pub, other_sec, NULL), 0);
    return 0;
}

static void test_zap_admitted_worker_gets_jobs_others_get_nothing(void **state)
{
    struct server s;
    server_up(&s);
    void *cctx = zmq_ctx_new();
    long refused0 = metric("taskwire_fabric_handshakes_total{outcome=\"refused\"} ");
    void *rogue = client(cctx, &s, other_sec); /* CURVE, key not on the list */
    void *plain = client(cctx, &s, NULL);       /* no CURVE at all */
    /* Wait (with a deadline) until the authenticator has refused the rogue key. */
    int64_t until = clock_now_ms() + 5000;
    while (metric("taskwire_fabric_handshakes_total{outcome=\"refused\"} ") == refused0 &&
           clock_now_ms() < until)
        clock_sleep_ms(10);
    assert_true(metric("taskwire_fabric_handshakes_total{outcome=\"refused\"} ") > refused0);
    void *worker = client(cctx, &s, worker_sec);
    /* The admitted worker receives a job; sends block until it is connected. */
    int timeout = 5000;
    zmq_setsockopt(s.push, ZMQ_SNDTIMEO, &timeout, sizeof(timeout));
    for (int i = 0; i < 3; i++)
        assert_int_equal(zmq_send(s.push, "job", 3, 0), 3);
    char buf[16];
    int got = 0;
    until = clock_now_ms() + 5000;
    while (got < 3 && clock_now_ms() < until)
        if (zmq_recv(worker, buf, sizeof(buf), 0) == 3)
            got++;
    assert_int_equal(got, 3); /* all three: nobody else had a pipe to share them with */
    assert_int_equal(zmq_recv(rogue, buf, sizeof(buf), ZMQ_DONTWAIT), -1);
    assert_int_equal(zmq_recv(plain, buf, sizeof(buf), ZMQ_DONTWAIT), -1);
    zmq_close(rogue);
    zmq_close(plain);
    zmq_close(worker);
    zmq_ctx_term(cctx);
    server_down(&s);
}

/* A ZAP request of 'n' frames: version, id, domain, address, identity, mechanism, key. */
static struct zap_request request(const char *version, const char *mechanism, const uint8_t *key,
                                  size_t key_len, int n)
{
    struct zap_request q;
    const char *text[] = {version, "id-1", "taskwire", "10.0.0.7", "", mechanism};
    q.n = 0;
    for (int i = 0; i < n; i++)
        if (i < 6)
            zap_request_add(&q, text[i], strlen(text[i]));
        else
            zap_request_add(&q, key, key_len);
    return q;
}

/* The verdict alone (no sockets): 200 only for an allow-listed CURVE key in a well-formed
 * request; frames are cut to ZAP_FRAME_MAX bytes but their length is kept. */
static void test_zap_decide_admits_only_listed_curve_keys(void **state)
{
    uint8_t key[FABKEYS_KEY_LEN], other[FABKEYS_KEY_LEN], big[100] = {0};
    char text[64];
    snprintf(text, sizeof(text), "%s\n", worker_pub);
    struct fabkeys_allow *allow = fabkeys_allow_parse(text, strlen(text), NULL);
    assert_non_null(allow);
    assert_int_equal(fabkeys_decode(worker_pub, key, NULL), 0);
    assert_int_equal(fabkeys_decode(other_pub, other, NULL), 0);
    struct zap_request q = request("1.0", "CURVE", key, sizeof(key), 7);
    struct zap_verdict v = zap_decide(&q, allow);
    assert_string_equal(v.code, "200");
    assert_null(v.why);
    q = request("1.0", "CURVE", other, sizeof(other), 7);
    assert_string_equal(zap_decide(&q, allow).code, "400");
    q = request("1.0", "NULL", key, 0, 7);
    assert_string_equal(zap_decide(&q, allow).code, "400");
    memcpy(big, key, sizeof(key)); /* the listed key, then more bytes */
    q = request("1.0", "CURVE", big, sizeof(big), 7);
    assert_int_equal(q.len[6], sizeof(big));
    assert_string_equal(zap_decide(&q, allow).code, "400");
    q = request("1.1", "CURVE", key, sizeof(key), 7);
    assert_string_equal(zap_decide(&q, allow).code, "500");
    q = request("1.0", "CURVE", key, sizeof(key), 6);
    assert_string_equal(zap_decide(&q, allow).code, "500");
    q = request("1.0", "CURVE", key, sizeof(key), 9); /* extra frames are counted */
    assert_int_equal(q.n, 9);
    v = zap_decide(&q, allow);
    assert_string_equal(v.code, "500");
    assert_non_null(v.why);
    fabkeys_allow_free(allow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zap_admitted_worker_gets_jobs_others_get_nothing),
        cmocka_unit_test(test_zap_decide_admits_only_listed_curve_keys),
    };
    return cmocka_run_group_tests_name("zap", tests, setup, NULL);
}
