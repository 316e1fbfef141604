/*
 * args.h - the tool arguments of 'taskwire call': --args JSON and key=value pairs.
 *
 * A value is JSON when it parses as JSON (42, true, null, "s", {...}, [...]),
 * else the text as a string; text starting with '{' or '[' must be valid JSON.
 * Pure: no I/O, no global state.  Also used for answers typed at an
 * elicitation prompt whose schema type is not a plain one.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CLI_ARGS_H
#define TASKWIRE_CLI_ARGS_H

#include <jansson.h>

#include "err.h"

enum args_error {
    ARGS_EINVALID = 1, /* not key=value, invalid JSON, not UTF-8 */
    ARGS_ENOMEM,       /* allocation failed */
};

/* Parse one argument value: JSON if it is valid JSON, else a string.  New reference in *out. */
MUST_CHECK int args_parse_value(const char *text, json_t **out, struct err *err);
/* Parse "key=value" and set it in the object 'args' (borrowed). */
MUST_CHECK int args_parse_kv(json_t *args, const char *kv, struct err *err);
/* Build the arguments object from --args JSON (may be NULL) then n key=value strings. */
MUST_CHECK int args_build(const char *args_json, char *const *kv, int n, json_t **out,
                          struct err *err);

#endif
