/*
 * fabric_rogue.c - what an attacker on the fabric network can try, as a test tool.
 *
 *   fabric_rogue pull ENDPOINT MS [SERVER_PUBLIC_KEY]
 *       connect a PULL socket (a CURVE client with a fresh key of its own when the
 *       server's public key is given, else plain) and count the messages it receives
 *       in MS milliseconds; prints "received=N".
 *   fabric_rogue frame HOST PORT HEX
 *       open a raw TCP connection, send the bytes HEX names, keep the connection a
 *       moment, close; prints "sent=N".
 *
 * For tests/fault/test_fabric_rogue.sh: neither may get a job or hurt a frontend.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int pull(const char *endpoint, long ms, const char *server_key)
{
    void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_PULL);
    int zero = 0, timeout = 100, n = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
    if (server_key) {
        char pub[41], sec[41];
        if (zmq_curve_keypair(pub, sec) != 0 ||
            zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_key, strlen(server_key)) != 0 ||
            zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40) != 0 ||
            zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40) != 0) {
            fprintf(stderr, "fabric_rogue: CURVE: %s\n", zmq_strerror(errno));
            return 1;
        }
    }
    if (zmq_connect(s, endpoint) != 0) {
        fprintf(stderr, "fabric_rogue: connect %s: %s\n", endpoint, zmq_strerror(errno));
        return 1;
    }
    char buf[4096];
    for (int64_t end = now_ms() + ms; now_ms() < end;)
        if (zmq_recv(s, buf, sizeof(buf), 0) >= 0)
            n++;
    printf("received=%d\n", n);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}

static int frame(const char *host, int port, const char *hex)
{
    size_t n = strlen(hex) / 2;
    unsigned char *bytes = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            fprintf(stderr, "fabric_rogue: bad hex\n");
            return 1;
        }
        bytes[i] = (unsigned char)v;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        fprintf(stderr, "fabric_rogue: connect %s:%d: %s\n", host, port, strerror(errno));
        return 1;
    }
    ssize_t sent = send(fd, bytes, n, MSG_NOSIGNAL);
    struct timespec pause = {0, 300 * 1000000L};
    nanosleep(&pause, NULL); /* let the frontend read and judge it */
    close(fd);
    free(bytes);
    printf("sent=%zd\n", sent);
    return sent == (ssize_t)n ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "pull") == 0)
        return pull(argv[2], atol(argv[3]), argc > 4 ? argv[4] : NULL);
    if (argc == 5 && strcmp(argv[1], "frame") == 0)
        return frame(argv[2], atoi(argv[3]), argv[4]);
    fprintf(stderr, "usage: fabric_rogue pull ENDPOINT MS [SERVER_KEY] | frame HOST PORT HEX\n");
    return 2;
}
