/*
 * content_fixtures.h - the conformance suite's resources, template and prompts.
 *
 * The official MCP conformance suite reads and gets them by fixed names and
 * checks fixed content (tests/conformance/SCENARIOS.md).  They are served
 * only with TASKWIRE_FIXTURES=true, registered by resources.c and prompts.c
 * after taskwire's own entries.  The definitions are static and read-only.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CONTENT_FIXTURES_H
#define TASKWIRE_CONTENT_FIXTURES_H

#include <stddef.h>

#include "content.h"

/* The fixture resources (test://static-text, ...) and their count. */
const struct resource_def *content_fixture_resources(size_t *n);
/* The fixture resource templates (test://template/{id}/data) and their count. */
const struct template_def *content_fixture_templates(size_t *n);
/* The fixture prompts (test_simple_prompt, ...) and their count. */
const struct prompt_def *content_fixture_prompts(size_t *n);

#endif
