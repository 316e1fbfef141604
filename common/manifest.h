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

/* Defaults of an exec spec's numeric keys: what manifest_load() writes for a key
 * left out, and what the worker assumes when a hand-made spec leaves one out. */
#define MANIFEST_DEFAULT_TIMEOUT_MS 3600000 /* timeoutMs: one hour */
#define MANIFEST_DEFAULT_MAX_OUT    1048576 /* maxOutputBytes: 1 MiB */
#define MANIFEST_DEFAULT_MAX_ERR    65536   /* maxStderrBytes: 64 KiB */
#define MANIFEST_DEFAULT_KILL_GRACE 5000    /* killGraceMs: SIGTERM to SIGKILL */

enum manifest_error {
    MANIFEST_EINVALID = 1, /* unreadable, not JSON, or a tool breaks a rule: err says where */
    MANIFEST_ENOMEM,       /* allocation failed */
};

/* Load the manifest at 'path' into 'c'.  All or nothing: on error nothing is
 * added and err names the file, the tool and the field. */
MUST_CHECK int manifest_load(struct catalog *c, const char *path, struct err *err);
/* The same from 'len' bytes of JSON text: 'label' names it in messages, and relative
 * paths resolve against 'dir' (absolute). */
MUST_CHECK int manifest_load_text(struct catalog *c, const char *text, size_t len,
                                  const char *label, const char *dir, struct err *err);

#endif
