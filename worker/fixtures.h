/*
 * fixtures.h - the conformance fixture tools (greet, confirm_delete, the MRTR
 * family, content fixtures, ...), written against the C tool API.
 *
 * Only a lookup: the catalog (common/catalog_fixtures.c) decides whether the
 * fixtures are served (TASKWIRE_FIXTURES=true); this module only holds their
 * code.  Invariant: every name here has a catalog entry of the same name.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_FIXTURES_H
#define TASKWIRE_FIXTURES_H

#include "tools.h"

/* The fixture implementation of 'name' (a static entry, never freed), or NULL. */
const struct tool_impl *fixtures_find(const char *name);

#endif
