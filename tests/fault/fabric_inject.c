/*
 * fabric_inject.c - puts garbage and duplicate job envelopes on the fabric.
 *
 * A test tool for tests/fault/test_fabric_garbage.sh.  It binds a ZeroMQ PUSH
 * socket (as a frontend does) and, once a worker has connected, sends a list
 * of malformed messages (not msgpack, empty, truncated, trailing bytes, wrong
 * top-level type, absurd lengths, unknown versions among them a
 * complete v1 envelope of the real task as an old frontend wrote it, bad,
 * duplicated and retired fields), then the same valid v2 envelope for one
 * task several times.  It prints how many of each it sent; every malformed
 * one must be counted and dropped by the worker.  When FABRIC_INJECT_SECRET_KEY_FILE
 * names the frontends' CURVE secret key, it binds as a CURVE server like them.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <msgpack.h>
#include <stdint.h>
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

/* Send what 'pk' packed into 'sb' as one malformed message, then reset 'sb'. */
static void send_packed(msgpack_sbuffer *sb)
{
    send_msg(sb->data, sb->size, 1);
    msgpack_sbuffer_clear(sb);
}

/*
 * A hand-made v2-shaped map: version 'v', 'id' unless it is NULL, attempt 0,
 * then 'extra_key' with the string 'extra_val' unless 'extra_key' is NULL.
 */
static void send_crafted(int64_t v, const char *id, const char *extra_key, const char *extra_val)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2 + (id != NULL) + (extra_key != NULL));
    pack_str(&pk, "v");
    msgpack_pack_int64(&pk, v);
    if (id) {
        pack_str(&pk, "id");
        pack_str(&pk, id);
    }
    pack_str(&pk, "attempt");
    msgpack_pack_int(&pk, 0);
    if (extra_key) {
        pack_str(&pk, extra_key);
        pack_str(&pk, extra_val);
    }
    send_packed(&sb);
    msgpack_sbuffer_destroy(&sb);
}

/* The v1 envelope an old frontend would push for the task: every v1 key, real values. */
static void send_v1(const char *id, const char *owner, const char *tool, const char *args)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 6);
    pack_str(&pk, "v");
    msgpack_pack_int(&pk, 1);
    pack_str(&pk, "id");
    pack_str(&pk, id);
    pack_str(&pk, "tool");
    pack_str(&pk, tool);
    pack_str(&pk, "owner");
    pack_str(&pk, owner);
    pack_str(&pk, "attempt");
    msgpack_pack_int(&pk, 0);
    pack_str(&pk, "args");
    pack_str(&pk, args);
    send_packed(&sb);
    msgpack_sbuffer_destroy(&sb);
}

/* A valid v2 envelope of 'id' with its "id" pair written twice. */
static void send_duplicate_id(const char *id)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    pack_str(&pk, "v");
    msgpack_pack_int(&pk, ENVELOPE_VERSION);
    pack_str(&pk, "id");
    pack_str(&pk, id);
    pack_str(&pk, "attempt");
    msgpack_pack_int(&pk, 0);
    pack_str(&pk, "id");
    pack_str(&pk, id);
    send_packed(&sb);
    msgpack_sbuffer_destroy(&sb);
}

static void usage(void)
{
    fprintf(stderr, "usage: fabric_inject BIND_ENDPOINT TASK_ID OWNER TOOL ARGS_JSON DUPLICATES\n"
                    "Binds a PUSH socket at BIND_ENDPOINT, waits for a worker, sends malformed\n"
                    "messages (among them the v1 envelope of TASK_ID made of OWNER, TOOL and\n"
                    "ARGS_JSON), then DUPLICATES copies of the valid v2 envelope of TASK_ID.\n"
                    "Prints \"malformed=N valid=M\".\n");
    exit(2);
}

/* Make 'sock' a CURVE server with the Z85 secret key in file 'path'; 0 or -1. */
static int curve_server(void *s, const char *path)
{
    char key[64] = "";
    FILE *f = fopen(path, "r");
    int one = 1;
    if (!f || !fgets(key, sizeof(key), f)) {
        fprintf(stderr, "fabric_inject: cannot read %s\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    key[strcspn(key, "\r\n")] = '\0';
    if (zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof(one)) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, key, strlen(key)) != 0) {
        fprintf(stderr, "fabric_inject: CURVE: %s\n", zmq_strerror(errno));
        return -1;
    }
    return 0;
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
    uint8_t valid[ENVELOPE_MAX_BYTES];
    size_t valid_len = 0;
    struct err e = {0};
    if (envelope_encode(&env, valid, sizeof(valid), &valid_len, &e) < 0) {
        fprintf(stderr, "fabric_inject: envelope_encode: %s\n", e.msg);
        return 1;
    }

    void *ctx = zmq_ctx_new();
    sock = zmq_socket(ctx, ZMQ_PUSH);
    int timeout = SEND_TIMEOUT_MS, linger = LINGER_MS;
    zmq_setsockopt(sock, ZMQ_SNDTIMEO, &timeout, sizeof(timeout));
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
    /* As a frontend, a CURVE server when the stack's fabric is authenticated. */
    const char *key_file = getenv("FABRIC_INJECT_SECRET_KEY_FILE");
    if (key_file && *key_file && curve_server(sock, key_file) != 0)
        return 1;
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
    uint8_t trailing[ENVELOPE_MAX_BYTES + 1];
    memcpy(trailing, valid, valid_len);
    trailing[valid_len] = 0x00;
    send_msg(trailing, valid_len + 1, 1);                 /* a byte after the map */
    send_msg("\x93\x01\x02\x03", 4, 1);                   /* an array, not a map */
    send_msg("\xdf\xff\xff\xff\xff", 5, 1);               /* a map claiming 2^32 pairs */
    send_msg("\xdb\xff\xff\xff\xff\x41", 6, 1);           /* a str claiming 4 GiB */
    unsigned char deep[40];
    memset(deep, 0x81, sizeof(deep));                     /* maps nested 40 deep */
    send_msg(deep, sizeof(deep), 1);
    /* No message over ENVELOPE_MAX_BYTES: once the worker's socket enforces it as
     * ZMQ_MAXMSGSIZE, ZeroMQ drops the connection instead of delivering it. */
    send_v1(env.task_id, argv[3], argv[4], argv[5]);      /* an old frontend's v1 envelope */
    send_crafted(1, env.task_id, NULL, NULL);             /* v1 */
    send_crafted(3, env.task_id, NULL, NULL);             /* unknown version */
    send_crafted(99, env.task_id, NULL, NULL);            /* unknown version */
    send_crafted(ENVELOPE_VERSION, NULL, NULL, NULL);     /* no id */
    send_crafted(ENVELOPE_VERSION, "NOT-A-UUID", NULL, NULL); /* bad id */
    send_crafted(ENVELOPE_VERSION, env.task_id, "args", argv[5]);  /* a retired key */
    send_crafted(ENVELOPE_VERSION, env.task_id, "owner", argv[3]); /* a retired key */
    send_crafted(ENVELOPE_VERSION, env.task_id, "trace", "");      /* an empty trace */
    send_duplicate_id(env.task_id);                       /* a duplicate key */

    /* ---- the same valid envelope, several times ---- */
    for (int i = 0; i < dups; i++)
        send_msg(valid, valid_len, 0);

    zmq_close(sock); /* lingers until the worker took everything, or LINGER_MS */
    zmq_ctx_term(ctx);
    printf("malformed=%d valid=%d\n", n_bad, n_valid);
    return 0;
}
