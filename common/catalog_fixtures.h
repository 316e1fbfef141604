/*
 * catalog_fixtures.h - definitions of the conformance fixture tools.
 *
 * The official MCP conformance suite calls tools by fixed names and expects
 * fixed behaviour.  They are served only with TASKWIRE_FIXTURES=true (the
 * local stack and the conformance test turn it on) and run in the workers
 * like any other tool (worker/fixtures.c).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CATALOG_FIXTURES_H
#define TASKWIRE_CATALOG_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog.h"

/* One built-in tool definition. */
struct builtin {
    const char *json;        /* the Tool object */
    enum tool_policy policy; /* task policy */
    bool input_first;        /* asks for input before it is handed out as a task */
    const char *requires;    /* client capability the tool cannot work without, or NULL */
    const char *scopes;      /* OAuth scopes it needs besides the one for every tool, or NULL */
};

/* The fixture definitions and their count. */
const struct builtin *catalog_fixture_table(size_t *n);

#endif
