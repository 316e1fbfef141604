/*
 * schema_eval.h - apply compiled JSON Schema nodes to an instance.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_SCHEMA_EVAL_H
#define TASKWIRE_SCHEMA_EVAL_H

#include <jansson.h>

#include "err.h"
#include "schema_node.h"

#define SCHEMA_EVAL_MAX_FRAMES 512 /* nested subschema applications (instance x in place) */

/* 0 when 'v' satisfies 'root'; else -SCHEMA_EINVALID or -SCHEMA_ENOMEM with 'err' set. */
MUST_CHECK int schema_eval(const struct snode *root, const json_t *v, struct err *err);

#endif
