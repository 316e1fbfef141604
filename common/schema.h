/*
 * schema.h - validate tool arguments against a JSON Schema subset.
 *
 * Enough of JSON Schema 2020-12 for tool inputs: type (one or a list),
 * properties, required, additionalProperties (boolean or schema), enum,
 * const, minimum/maximum, exclusiveMinimum/Maximum, minLength/maxLength,
 * items, minItems/maxItems.  Unknown keywords are ignored, as the spec
 * allows.  No I/O; depth-limited.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_SCHEMA_H
#define TASKWIRE_SCHEMA_H

#include <jansson.h>

#include "err.h"

#define SCHEMA_EINVALID 1 /* returned negated: the value does not match */
#define SCHEMA_MAX_DEPTH 32

/* 0 when 'value' satisfies 'schema'; else -SCHEMA_EINVALID with err naming the
 * JSON pointer of the first offending member and why. */
MUST_CHECK int schema_validate(const json_t *schema, const json_t *value, struct err *err);

#endif
