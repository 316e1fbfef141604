/*
 * httpcheck.h - checks of header fields and URL escapes (httpcheck.c), and their
 * libmicrohttpd adapters.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_HTTPCHECK_H
#define TASKWIRE_HTTPCHECK_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

/* True when 'len' bytes of a header name or value hold no NUL, CR or LF. */
bool httpcheck_field_clean(const char *text, size_t len);
/* Decode %XX escapes of URL part 's' in place, keeping "%00" as written; the new length. */
size_t httpcheck_unescape(char *s);
/* The 400 -32600 message of a request whose header fields are not all clean. */
#define HTTPCHECK_REFUSAL "Invalid request: a header field holds NUL, CR or LF"
/* True when every header field of the request on 'conn' is clean; false means 400. */
bool httpcheck_headers_clean(struct MHD_Connection *conn);
/* MHD_OPTION_UNESCAPE_CALLBACK: httpcheck_unescape() of the path and the query. */
size_t httpcheck_unescape_cb(void *cls, struct MHD_Connection *conn, char *s);

#endif
