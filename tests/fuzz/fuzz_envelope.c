/*
 * fuzz_envelope.c - libFuzzer target for proto/envelope.c.
 *
 * Decodes arbitrary bytes; whatever is accepted must encode again, decode to
 * the same struct, and re-encode to the same bytes (the encoding is canonical).
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
           strcmp(a->tool, b->tool) == 0 && strcmp(a->owner, b->owner) == 0 &&
           strcmp(a->trace, b->trace) == 0 && a->args_len == b->args_len &&
           memcmp(a->args, b->args, a->args_len) == 0 && a->args[a->args_len] == '\0' &&
           a->attempt == b->attempt && a->deadline_ms == b->deadline_ms;
}

/*
 * libFuzzer entry point: one input per call.  Returns 0; aborts when a
 * decoded envelope does not survive encode -> decode -> encode unchanged, or
 * when a failed decode leaves memory attached to the envelope.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct envelope first, second;
    char *enc1 = NULL, *enc2 = NULL;
    size_t len1 = 0, len2 = 0;
    struct err e;

    if (envelope_decode(data, size, &first, &e) != 0) {
        if (first.args != NULL || e.code >= 0 || e.code < -ENVELOPE_ENOMEM)
            abort();
        return 0;
    }
    if (envelope_encode(&first, &enc1, &len1, &e) != 0)
        abort(); /* decode accepted what encode refuses */
    if (envelope_decode(enc1, len1, &second, &e) != 0)
        abort(); /* encode produced what decode refuses */
    if (!same_envelope(&first, &second))
        abort();
    if (envelope_encode(&second, &enc2, &len2, &e) != 0 || len1 != len2 ||
        memcmp(enc1, enc2, len1) != 0)
        abort();

    free(enc2);
    free(enc1);
    envelope_fini(&second);
    envelope_fini(&first);
    return 0;
}
