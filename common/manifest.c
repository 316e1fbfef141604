/*
 * manifest.c - tools manifest loader (being written; see manifest.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "manifest.h"

int manifest_load(struct catalog *c, const char *path, struct err *err)
{
    return err_set(err, -1, "tools manifests are not supported in this build (%s)", path);
}
