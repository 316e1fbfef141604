/*
 * fuzz_challenge.c - libFuzzer target for the Bearer challenges of
 * common/challenge.c.
 *
 * The CLI reads the WWW-Authenticate header of whatever server it is pointed
 * at: challenge_param() gets the input as that header (cut at its first NUL),
 * for every parameter name the CLI asks for and with buffers from 1 byte up.
 * Aborts when a contract breaks: an unknown code, an answer not
 * NUL-terminated inside its buffer, or (for values the frontend could send)
 * a challenge that challenge_format() builds but challenge_param() does not
 * read back to the same value.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "challenge.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"scope", "error", "resource_metadata", "error_description",
                                    "realm"};

/* Read every parameter of 'header' with buffers of several sizes. */
static void read_all(const char *header)
{
    static const size_t caps[] = {1, 8, 64, CHALLENGE_MAX};
    for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++)
        for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
            char out[CHALLENGE_MAX + 1];
            memset(out, 'x', sizeof(out));
            int rc = challenge_param(header, names[n], out, caps[c]);
            if (rc == 0 && !memchr(out, '\0', caps[c]))
                abort();
            if (rc != 0 && rc != -CHALLENGE_ENOTFOUND && rc != -CHALLENGE_EINVALID &&
                rc != -CHALLENGE_ETOOLONG)
                abort();
        }
}

/* A value the frontend may send comes back unchanged from the challenge it builds. */
static void round_trip(const char *value)
{
    if (!challenge_value_ok(value) || !*value)
        return;
    struct challenge c = {.error = "insufficient_scope", .scope = value};
    char header[CHALLENGE_MAX], back[CHALLENGE_MAX];
    if (challenge_format(&c, header, sizeof(header)) != 0)
        return; /* too long for a challenge: refused, fine */
    if (challenge_param(header, "scope", back, sizeof(back)) != 0 || strcmp(back, value) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    read_all(text);
    round_trip(text);
    free(text);
    return 0;
}
