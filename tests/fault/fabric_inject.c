/*
 * fabric_inject.c - puts garbage and duplicate job envelopes on the fabric.
 *
 * A test tool for tests/fault/test_fabric_garbage.sh.  It binds a ZeroMQ PUSH
 * socket (as a frontend does) and, once a worker has connected, sends a list
 * of malformed messages (not msgpack, empty, truncated, trailing bytes, wrong
 * top-level type, absurd lengths, an unknown version, bad fields), then the
 * same valid envelope for one task several times.  It prints how many of each
 * it sent; every malformed one must be counted and dropped by the worker.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "envelope.h"

#define SEND_TIMEOUT_MS 15000 /* how long to wait for a worker to connect */
#define LINGER_MS 5000        /* how long to keep undelivered messages on exit */

static void *sock;  /* the PUSH socket */
static int n_bad;   /* malformed messages sent */
static int n_valid; /* valid envelopes sent */

/* Send one message; exits on failure (no worker connected in time). */
static void send_msg(const void *buf, size_t len, int bad)
{
    if (zmq_send(sock, buf, len, 0) != (int)len) {
        fprintf(stderr, "fabric_inject: zmq_send: %s\n", zmq_strerror(errno));
        exit(1);
    }
    if (bad)
        n_bad++;
    else
        n_valid++;
}

static void pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

/* A hand-made envelope map: version 'v', and 'id' unless it is NULL. */
static void send_crafted(int64_t v, const char *id, const char *tool)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, id ? 6 : 5);
    pack_str(&pk, "v");
    msgpack_pack_int64(&pk, v);
    if (id) {
        pack_str(&pk, "id");
        pack_str(&pk, id);
    }
    pack_str(&pk, "tool");
    pack_str(&pk, tool);
    pack_str(&pk, "owner");
    pack_str(&pk, "fault");
    pack_str(&pk, "attempt");
    msgpack_pack_int(&pk, 0);
    pack_str(&pk, "args");
    pack_str(&pk, "{}");
    send_msg(sb.data, sb.size, 1);
    msgpack_sbuffer_destroy(&sb);
}

static void usage(void)
{
    fprintf(stderr, "usage: fabric_inject BIND_ENDPOINT TASK_ID OWNER TOOL ARGS_JSON DUPLICATES\n"
                    "Binds a PUSH socket at BIND_ENDPOINT, waits for a worker, sends malformed\n"
                    "messages, then DUPLICATES copies of the valid envelope of TASK_ID.\n"
                    "Prints \"malformed=N valid=M\".\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc != 7)
        usage();
    const char *endpoint = argv[1];
    int dups = atoi(argv[6]);

    struct envelope env;
    memset(&env, 0, sizeof(env));
    env.version = ENVELOPE_VERSION;
    snprintf(env.task_id, sizeof(env.task_id), "%s", argv[2]);
    snprintf(env.owner, sizeof(env.owner), "%s", argv[3]);
    snprintf(env.tool, sizeof(env.tool), "%s", argv[4]);
    env.args = argv[5];
    env.args_len = strlen(argv[5]);
    char *valid = NULL;
    size_t valid_len = 0;
    struct err e = {0};
    if (envelope_encode(&env, &valid, &valid_len, &e) < 0) {
        fprintf(stderr, "fabric_inject: envelope_encode: %s\n", e.msg);
        return 1;
    }

    void *ctx = zmq_ctx_new();
    sock = zmq_socket(ctx, ZMQ_PUSH);
    int timeout = SEND_TIMEOUT_MS, linger = LINGER_MS;
    zmq_setsockopt(sock, ZMQ_SNDTIMEO, &timeout, sizeof(timeout));
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_bind(sock, endpoint) != 0) {
        fprintf(stderr, "fabric_inject: bind %s: %s\n", endpoint, zmq_strerror(errno));
        return 1;
    }

    /* ---- malformed messages ---- */
    static const char text[] = "hello, fabric: this is not msgpack";
    send_msg(text, sizeof(text) - 1, 1);
    send_msg("", 0, 1);                                   /* empty */
    unsigned char noise[256];
    unsigned int seed = 12345;
    for (size_t i = 0; i < sizeof(noise); i++) {
        seed = seed * 1103515245u + 12345u;
        noise[i] = (unsigned char)(seed >> 16);
    }
    send_msg(noise, sizeof(noise), 1);                    /* random bytes */
    send_msg("\xc1", 1, 1);                               /* the reserved byte */
    send_msg(valid, valid_len / 2, 1);                    /* truncated */
    send_msg(valid, valid_len - 1, 1);                    /* one byte short */
    char *trailing = malloc(valid_len + 1);
    if (!trailing)
        return 1;
    memcpy(trailing, valid, valid_len);
    trailing[valid_len] = 0x00;
    send_msg(trailing, valid_len + 1, 1);                 /* a byte after the map */
    free(trailing);
    send_msg("\x93\x01\x02\x03", 4, 1);                   /* an array, not a map */
    send_msg("\xdf\xff\xff\xff\xff", 5, 1);               /* a map claiming 2^32 pairs */
    send_msg("\xdb\xff\xff\xff\xff\x41", 6, 1);           /* a str claiming 4 GiB */
    unsigned char deep[40];
    memset(deep, 0x81, sizeof(deep));                     /* maps nested 40 deep */
    send_msg(deep, sizeof(deep), 1);
    send_crafted(2, env.task_id, env.tool);               /* unknown version */
    send_crafted(99, env.task_id, env.tool);              /* unknown version */
    send_crafted(1, NULL, env.tool);                      /* no id */
    send_crafted(1, "NOT-A-UUID", env.tool);              /* bad id */
    send_crafted(1, env.task_id, "bad tool name!");       /* bad tool */

    /* ---- the same valid envelope, several times ---- */
    for (int i = 0; i < dups; i++)
        send_msg(valid, valid_len, 0);

    free(valid);
    zmq_close(sock); /* lingers until the worker took everything, or LINGER_MS */
    zmq_ctx_term(ctx);
    printf("malformed=%d valid=%d\n", n_bad, n_valid);
    return 0;
}
