/*
 * fuzz_fabric.c - libFuzzer target for the fabric receive paths: what a
 * worker does with a frame its PULL socket received (worker/fabric.c
 * fabric_parse: envelope decode and field checks) and what a frontend's
 * authentication handler does with a multipart ZAP request
 * (frontend/zap.c zap_request_add and zap_decide), with the allow-list it
 * decides against (common/fabkeys.c fabkeys_allow_parse).
 *
 * Input: frames, each a 2-byte big-endian length and that many bytes (a
 * short tail is the last frame).  Frame 0 is allow-list text; when it is
 * refused, a list of one fixed key is used.  Frames 1… are one ZAP request,
 * and each of them is also one frame received by a worker.  Contracts
 * checked, abort() when broken: the verdict is "200" exactly when the
 * request is seven frames, "1.0", mechanism "CURVE" and a 32-byte key on the
 * list (computed here from the frames as received, not from the handler's
 * cut copies), and every refusal says why; a worker frame is accepted exactly
 * when envelope_decode() accepts it, with that task id, and a refused one
 * leaves the task id alone with an envelope error code.  No I/O.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "fabkeys.h"
#include "fabric.h"
#include "taskid.h"
#include "zap.h"

#define MAX_FRAMES 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key the fallback allow-list holds (40 characters of Z85). */
static const char fallback_key[] = "EK-!5^]n(}xG0qQo33UqcKk/cnMVBg?8kJGaq#eW";

/* One frame of the input. */
struct frame {
    const uint8_t *data; /* borrowed from the input */
    size_t len;          /* bytes */
};

/* Split the input into at most MAX_FRAMES frames; returns how many. */
static size_t split(const uint8_t *data, size_t size, struct frame *f)
{
    size_t n = 0, at = 0;
    while (at < size && n < MAX_FRAMES) {
        size_t len = size - at >= 2 ? (size_t)data[at] << 8 | data[at + 1] : 0;
        at += size - at >= 2 ? 2 : size - at;
        if (len > size - at)
            len = size - at;
        f[n].data = data + at;
        f[n++].len = len;
        at += len;
    }
    return n;
}

/* The ZAP request of frames 1… must get the verdict the rules give for them. */
static void check_zap(const struct frame *f, size_t n, const struct fabkeys_allow *allow)
{
    struct zap_request q;
    q.n = 0;
    for (size_t i = 1; i < n; i++)
        zap_request_add(&q, f[i].data, f[i].len);
    struct zap_verdict v = zap_decide(&q, allow);
    const struct frame *r = f + 1;
    bool admit = n - 1 == ZAP_FRAMES && r[0].len == 3 && memcmp(r[0].data, "1.0", 3) == 0 &&
                 r[5].len == 5 && memcmp(r[5].data, "CURVE", 5) == 0 &&
                 r[6].len == FABKEYS_KEY_LEN && fabkeys_allow_has(allow, r[6].data);
    if (!v.code || !v.text || admit != (strcmp(v.code, "200") == 0) || admit != (v.why == NULL))
        abort();
    if (!admit && strcmp(v.code, "400") != 0 && strcmp(v.code, "500") != 0)
        abort();
}

/* A worker frame: accepted exactly as envelope_decode() accepts it. */
static void check_worker(const struct frame *f)
{
    char id[TASKID_LEN + 1], again[TASKID_LEN + 1];
    struct envelope env;
    struct err e = {0}, e2 = {0};
    memset(id, 'x', sizeof(id));
    int rc = fabric_parse(f->data, f->len, id, &e);
    int want = envelope_decode(f->data, f->len, &env, &e2);
    if (rc != want)
        abort();
    if (rc < 0) {
        if (e.code != rc || rc < -ENVELOPE_EFIELD || id[0] != 'x' || id[TASKID_LEN] != 'x')
            abort(); /* a refused frame touched the task id */
        return;
    }
    if (strcmp(id, env.task_id) != 0 || !taskid_valid(id))
        abort();
    if (fabric_parse(f->data, f->len, again, &e) != 0 || strcmp(again, id) != 0)
        abort(); /* each frame stands alone */
}

/*
 * libFuzzer entry point: one input per call.  Returns 0; aborts when a
 * contract in the file comment is broken.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct frame f[MAX_FRAMES];
    size_t n = split(data, size, f);
    struct err e = {0};
    struct fabkeys_allow *allow =
        n ? fabkeys_allow_parse((const char *)f[0].data, f[0].len, &e) : NULL;
    if (!allow && !(allow = fabkeys_allow_parse(fallback_key, sizeof(fallback_key) - 1, &e)))
        return 0; /* out of memory */
    if (fabkeys_allow_count(allow) == 0)
        abort(); /* an accepted list holds a key */
    if (n > 1)
        check_zap(f, n, allow);
    for (size_t i = 1; i < n; i++)
        check_worker(&f[i]);
    fabkeys_allow_free(allow);
    return 0;
}
