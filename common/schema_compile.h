/*
 * schema_compile.h - check a JSON Schema 2020-12 document and build its
 * nodes (schema_node.h), once, when a tool is registered.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_SCHEMA_COMPILE_H
#define TASKWIRE_SCHEMA_COMPILE_H

#include "err.h"
#include "schema_node.h"

/* Build the nodes of s->doc into 's' (s->root and s->nodes); on failure 'err' names
 * the schema location and the keyword, and the caller frees 's' with
 * schema_compile_release(). */
MUST_CHECK int schema_compile_build(struct schema *s, struct err *err);
/* Free every node of 's' (not 's' or its document). */
void schema_compile_release(struct schema *s);

#endif
