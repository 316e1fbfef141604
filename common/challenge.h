/*
 * challenge.h - RFC 6750 Bearer challenges (WWW-Authenticate): building and reading.
 *
 * The frontend builds the challenges of its 401, 403 and 400 answers; the
 * CLI reads the scope and error of a challenge it was given.  Both sides use
 * this one module, so what is written is what is read.  No I/O, no
 * allocation, no global state; the reader takes untrusted text (fuzzed by
 * tests/fuzz/fuzz_challenge.c).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CHALLENGE_H
#define TASKWIRE_CHALLENGE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define CHALLENGE_MAX 1024 /* bytes of a challenge we build or read, NUL included */

enum challenge_error {
    CHALLENGE_EINVALID = 1, /* a value we would have to escape, or text that is no challenge */
    CHALLENGE_ETOOLONG,     /* the result does not fit the buffer */
    CHALLENGE_ENOTFOUND,    /* the challenge has no such parameter */
};

/* The parameters of one Bearer challenge; NULL or "" leaves one out. */
struct challenge {
    const char *error;             /* "invalid_token", "insufficient_scope", "invalid_request" */
    const char *scope;             /* space-separated scopes the request needs */
    const char *resource_metadata; /* URL of the RFC 9728 metadata document */
    const char *description;       /* error_description: short, generic, human */
};

/* True when 's' may be a quoted-string value we send unescaped: printable ASCII
 * without '"' and '\' (RFC 6750 3). */
bool challenge_value_ok(const char *s);
/* Write "Bearer error=..., scope=..., resource_metadata=..., error_description=..."
 * into buf (cap bytes).  0, -CHALLENGE_EINVALID or -CHALLENGE_ETOOLONG. */
MUST_CHECK int challenge_format(const struct challenge *c, char *buf, size_t cap);
/* Copy parameter 'name' of the Bearer challenge 'header' (untrusted) into out (cap
 * bytes), unquoted.  0, -CHALLENGE_ENOTFOUND, -CHALLENGE_EINVALID or -CHALLENGE_ETOOLONG. */
MUST_CHECK int challenge_param(const char *header, const char *name, char *out, size_t cap);

#endif
