/*
 * schema.h - JSON Schema 2020-12 validation of tool arguments and answers.
 *
 * A tool's inputSchema is compiled once, when the tool is registered
 * (schema_compile): keyword values are checked, patterns compiled and
 * local $refs resolved, and anything this validator cannot honour is
 * refused there with the schema location.  Every call is then validated
 * against the compiled form (schema_validate), which reports the first
 * failure with the instance's JSON pointer and the keyword.  Supported:
 * the applicator, validation and unevaluated vocabularies of 2020-12 with
 * local $ref/$defs/$anchor; format is an annotation only.  Not supported
 * (refused at compile): remote $ref, an embedded $id, $dynamicRef, other
 * dialects.  No I/O; every walk is bounded by the limits below.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_SCHEMA_H
#define TASKWIRE_SCHEMA_H

#include <jansson.h>

#include "err.h"

enum schema_error {
    SCHEMA_EINVALID = 1, /* the value does not match, or passes a limit */
    SCHEMA_EBADSCHEMA,   /* schema_compile(): not a schema this validator accepts */
    SCHEMA_ENOMEM,       /* allocation failed */
};

#define SCHEMA_MAX_DEPTH     64      /* nesting of subschemas, and of instance values */
#define SCHEMA_MAX_NODES     10000   /* subschemas in one schema */
#define SCHEMA_MAX_REF_CHAIN 64      /* subschemas applied in place to one instance value */
#define SCHEMA_MAX_VALUES    100000  /* values in one instance */
#define SCHEMA_MAX_STEPS     1000000 /* subschema applications and comparisons per validation */

struct schema;

/* Compile 'doc' (borrowed; a reference is kept) into a new *out; err names the schema
 * location and keyword of the first problem. */
MUST_CHECK int schema_compile(const json_t *doc, struct schema **out, struct err *err);
/* Free a compiled schema; NULL is a no-op. */
void schema_free(struct schema *s);
/* 0 when 'value' satisfies 's'; else -SCHEMA_EINVALID ("<pointer>: <why> (<keyword>)") or
 * -SCHEMA_ENOMEM. */
MUST_CHECK int schema_validate(const struct schema *s, const json_t *value, struct err *err);
/* 0 unless a string or key in 'value' holds U+0000: then -SCHEMA_EINVALID
 * ("<pointer>: strings may not contain U+0000"), the pointer under 'prefix'. */
MUST_CHECK int schema_check_nul(const json_t *value, const char *prefix, struct err *err);

#endif
