/*
 * fuzz_envelope.c - libFuzzer target for proto/envelope.c (job envelope v2).
 *
 * Decodes arbitrary bytes.  A refusal must carry a decode error code and leave
 * the struct zeroed.  Whatever is accepted must encode again, decode to the
 * same struct, and re-encode to the same bytes (the encoding is canonical),
 * and encoding into any shorter buffer must fail without writing past it.
 * Any mismatch calls abort() so both libFuzzer and the corpus replay notice.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "envelope.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True when two decoded envelopes hold the same values. */
static int same_envelope(const struct envelope *a, const struct envelope *b)
{
    return a->version == b->version && strcmp(a->task_id, b->task_id) == 0 &&
           a->attempt == b->attempt && strcmp(a->trace, b->trace) == 0 &&
           a->deadline_ms == b->deadline_ms;
}

/* True when every byte of 'env' is zero. */
static int zeroed(const struct envelope *env)
{
    static const struct envelope zero;

    return memcmp(env, &zero, sizeof(zero)) == 0;
}

/*
 * libFuzzer entry point: one input per call.  Returns 0; aborts when a
 * refused input leaves anything in the envelope or an unexpected code, or
 * when an accepted one does not survive encode -> decode -> encode unchanged.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct envelope first, second;
    uint8_t enc1[ENVELOPE_MAX_BYTES], enc2[ENVELOPE_MAX_BYTES];
    size_t len1 = 0, len2 = 0;
    struct err e;

    memset(&first, 0xa5, sizeof(first));
    if (envelope_decode(data, size, &first, &e) != 0) {
        if (!zeroed(&first) || e.code > -ENVELOPE_EGARBAGE || e.code < -ENVELOPE_EFIELD)
            abort();
        return 0;
    }
    if (first.version != ENVELOPE_VERSION)
        abort();
    if (envelope_encode(&first, enc1, sizeof(enc1), &len1, &e) != 0)
        abort(); /* decode accepted what encode refuses */
    if (len1 > size)
        abort(); /* canonical form is never longer than the accepted input */
    if (envelope_decode(enc1, len1, &second, &e) != 0)
        abort(); /* encode produced what decode refuses */
    if (!same_envelope(&first, &second))
        abort();
    if (envelope_encode(&second, enc2, sizeof(enc2), &len2, &e) != 0 || len1 != len2 ||
        memcmp(enc1, enc2, len1) != 0)
        abort();

    /* One byte short, in a heap block of exactly that size: refused, no overflow. */
    uint8_t *tight = malloc(len1 - 1);
    if (tight == NULL)
        return 0;
    if (envelope_encode(&first, tight, len1 - 1, &len2, &e) != -ENVELOPE_ESPACE || len2 != 0)
        abort();
    free(tight);
    return 0;
}
