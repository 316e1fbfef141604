/*
 * schema_regex.h - JSON Schema "pattern" regexes (ECMA-262 with the "u"
 * flag, a subset) run by the POSIX regex engine.
 *
 * A pattern is translated once into a POSIX extended regex that matches the
 * same UTF-8 strings: character classes and "." become exact UTF-8 byte
 * automata, so no locale is involved.  What cannot be translated faithfully
 * (lookaround, backreferences, \p{...}, named backreferences) is refused
 * when the schema is compiled.  Counted repetition is bounded.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_SCHEMA_REGEX_H
#define TASKWIRE_SCHEMA_REGEX_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define SCHEMA_REGEX_MAX_LEN    4096 /* bytes of one ECMA pattern */
#define SCHEMA_REGEX_MAX_REPEAT 1000 /* counted repetition, nested bounds multiplied */
#define SCHEMA_REGEX_MAX_GROUPS 32   /* nesting of (...) */

enum schema_regex_error {
    SCHEMA_REGEX_EINVALID = 1, /* not ECMA-262, or outside the supported subset or limits */
    SCHEMA_REGEX_ENOMEM,       /* allocation failed */
};

struct schema_regex;

/* Compile the ECMA-262 pattern 'src' ('len' bytes of UTF-8); a new regex in *out. */
MUST_CHECK int schema_regex_compile(const char *src, size_t len, struct schema_regex **out,
                                    struct err *err);
/* 1 when the NUL-terminated UTF-8 string 's' contains a match, else 0. */
int schema_regex_search(const struct schema_regex *re, const char *s);
/* Free a regex; NULL is a no-op. */
void schema_regex_free(struct schema_regex *re);

#endif
