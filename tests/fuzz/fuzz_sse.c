/*
 * fuzz_sse.c - libFuzzer target for the Server-Sent Events parser (cli/sse.c).
 *
 * Feeds each input to fresh parsers in several splits derived from the input
 * (all at once, byte by byte, two halves, pseudo-random chunks) and requires
 * the same events and the same outcome from every split, so split handling
 * (CR|LF, BOM, partial lines, the size limit) is fuzzed along with the
 * grammar.  The limit is lowered to FUZZ_SSE_MAX bytes so inputs can pass it.
 * Every event must also keep the parser's contract (see check_event); any
 * breach calls abort() so both libFuzzer and the corpus replay notice.
 * A campaign: tests/fuzz/campaign sse.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "sse.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SSE_MAX        256        /* parser limit for a line and an event's data */
#define FUZZ_TRANSCRIPT_MAX (8u << 20) /* bytes of events recorded for one split */

/* What one split produced: every event in order, then the outcome. */
struct transcript {
    struct bytebuf events; /* per event: name, NUL, 8 length bytes, data */
    int stop_after;    /* the callback stops after this many events (0: never) */
    int count;         /* events seen */
};

/* FNV-1a of the input: picks the callback's stop point and the random splits. */
static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return h;
}

/* The contract of one dispatched event; aborts when it is broken. */
static void check_event(const char *event, const char *data, size_t len)
{
    size_t elen = strlen(event);
    if (elen == 0 || elen >= sizeof(((struct sse *)0)->event))
        abort(); /* an event type is never empty ("message") and fits its field */
    if (memchr(event, '\r', elen) || memchr(event, '\n', elen))
        abort(); /* line terminators never reach a field */
    if (len > FUZZ_SSE_MAX || data[len] != '\0')
        abort(); /* bounded and NUL-terminated */
    if (memchr(data, '\r', len))
        abort(); /* data lines are joined with LF only */
}

static int record(void *ctx, const char *event, const char *data, size_t len)
{
    struct transcript *t = ctx;
    uint64_t n = len;

    check_event(event, data, len);
    if (bytebuf_append(&t->events, event, strlen(event) + 1, FUZZ_TRANSCRIPT_MAX) != 0 ||
        bytebuf_append(&t->events, (const char *)&n, sizeof(n), FUZZ_TRANSCRIPT_MAX) != 0 ||
        bytebuf_append(&t->events, data, len, FUZZ_TRANSCRIPT_MAX) != 0)
        abort();
    t->count++;
    return t->stop_after && t->count >= t->stop_after ? 1 : 0;
}

/* Feed 'data' to a new parser in the pieces listed in 'cuts' (ascending ends), then a
 * blank line to flush the last event; returns the parser's last result. */
static int run_split(const uint8_t *data, size_t size, const size_t *cuts, size_t ncuts,
                     struct transcript *t)
{
    struct sse p;
    size_t from = 0;
    int rc = 0;

    sse_init(&p);
    p.max_bytes = FUZZ_SSE_MAX;
    for (size_t i = 0; i <= ncuts && rc == 0; i++) {
        size_t to = i < ncuts ? cuts[i] : size;
        rc = sse_feed(&p, (const char *)data + from, to - from, record, t);
        from = to;
    }
    if (rc == 0)
        rc = sse_feed(&p, "\n\n", 2, record, t);
    sse_fini(&p);
    if (rc != 0 && rc != 1 && rc != -SSE_ETOOLONG)
        abort(); /* -SSE_ENOMEM cannot happen under FUZZ_SSE_MAX */
    return rc;
}

/* Run one split and require the same events and outcome as the reference run. */
static void same_as(const uint8_t *data, size_t size, const size_t *cuts, size_t ncuts,
                    const struct transcript *ref, int ref_rc)
{
    struct transcript t = {.stop_after = ref->stop_after};
    int rc = run_split(data, size, cuts, ncuts, &t);

    if (rc != ref_rc || t.count != ref->count || t.events.len != ref->events.len ||
        (t.events.len > 0 && memcmp(t.events.data, ref->events.data, t.events.len) != 0))
        abort();
    bytebuf_fini(&t.events);
}

/*
 * libFuzzer entry point: one input per call.  Returns 0; aborts when an event
 * breaks the parser's contract or when two splits of the input disagree.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t h = fnv1a(data, size);
    struct transcript ref = {.stop_after = (int)(h % 16 < 8 ? h % 16 : 0)};
    size_t *cuts = calloc(size ? size : 1, sizeof(*cuts));
    size_t n;

    if (!cuts)
        return 0;
    int ref_rc = run_split(data, size, NULL, 0, &ref); /* all at once */

    for (n = 0; n + 1 < size; n++) /* byte by byte */
        cuts[n] = n + 1;
    same_as(data, size, cuts, n, &ref, ref_rc);

    cuts[0] = size ? (size_t)(h >> 8) % size : 0; /* two halves */
    same_as(data, size, cuts, 1, &ref, ref_rc);

    uint64_t x = h | 1; /* chunks of 1..32 bytes from a xorshift of the hash */
    size_t at = 0;
    for (n = 0; size > 0; n++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        at += 1 + (size_t)(x % 32);
        if (at >= size)
            break;
        cuts[n] = at;
    }
    same_as(data, size, cuts, n, &ref, ref_rc);

    bytebuf_fini(&ref.events);
    free(cuts);
    return 0;
}
