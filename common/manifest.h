/*
 * manifest.h - external-process tools declared in a JSON tools manifest.
 *
 * The manifest lists tools that run as child processes (any language):
 * name, description, inputSchema, task policy, argv, timeout, environment
 * allow-list and output limits.  Loading validates everything up front and
 * adds each tool to the catalog with its exec spec; the worker runs them
 * through worker/exttool.c.  Format: see proto/tools-manifest.md.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_MANIFEST_H
#define TASKWIRE_MANIFEST_H

#include "catalog.h"
#include "err.h"

/* Load the manifest at 'path' into 'c'.  All or nothing: on error nothing is
 * added and err names the file, the tool and the field. */
MUST_CHECK int manifest_load(struct catalog *c, const char *path, struct err *err);

#endif
