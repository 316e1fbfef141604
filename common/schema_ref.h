/*
 * schema_ref.h - resolve local JSON Schema references ("#", "#/pointer",
 * "#anchor") within one document.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_SCHEMA_REF_H
#define TASKWIRE_SCHEMA_REF_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* One $anchor (or $dynamicAnchor) of a document. */
struct schema_anchor {
    const char *name;     /* the anchor, borrowed */
    const json_t *schema; /* the subschema that declares it, borrowed */
};

/* The subschema "$ref" 'ref' names into *out; on failure *why says why. */
MUST_CHECK int schema_ref_resolve(const json_t *doc, const char *base,
                                  const struct schema_anchor *anchors, size_t nanchors,
                                  const char *ref, const json_t **out, const char **why);
/* True for a valid $anchor name. */
bool schema_ref_anchor_name(const char *s);

#endif
