/*
 * mcpdefs.c - the one mapping from input-request methods to client capabilities.
 *
 * A tool may ask the client for elicitation, sampling or roots; a client can
 * only answer what it declared.  Frontends (filtering what a reader sees) and
 * workers (refusing what the creator cannot answer) both ask this table.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "mcpdefs.h"

#include <stddef.h>
#include <string.h>

/* The capability 'method' needs, or NULL.  Thread-safe, constant data only. */
const char *mcp_capability_for_method(const char *method)
{
    static const struct {
        const char *method;     /* server-to-client request */
        const char *capability; /* the client capability it needs */
    } table[] = {
        {"elicitation/create", "elicitation"},
        {"sampling/createMessage", "sampling"},
        {"roots/list", "roots"},
    };
    if (!method)
        return NULL;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].method, method) == 0)
            return table[i].capability;
    return NULL;
}
