/*
 * httpcheck.h - pure checks of header fields and URL escapes (httpcheck.c).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_HTTPCHECK_H
#define TASKWIRE_HTTPCHECK_H

#include <stdbool.h>
#include <stddef.h>

/* True when 'len' bytes of a header name or value hold no NUL, CR or LF. */
bool httpcheck_field_clean(const char *text, size_t len);
/* Decode %XX escapes of URL part 's' in place, keeping "%00" as written; the new length. */
size_t httpcheck_unescape(char *s);

#endif
