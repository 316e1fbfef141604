/*
 * httpcheck.c - checks of what libmicrohttpd hands the frontend as C
 * strings: header fields that hold NUL, CR or LF, and URL escapes that would
 * decode to NUL.  Both would otherwise be read up to their first NUL, so what
 * the frontend checks would differ from what the client (or a proxy) sent.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "httpcheck.h"

#include <string.h>

/*
 * True when a header name or value of 'len' bytes at 'text' holds no NUL, CR
 * or LF.  RFC 9110 5.5 says to refuse such a field (or to make each of those
 * characters a space); libmicrohttpd keeps a bare CR inside a value, so
 * "Bearer <token>\rjunk" would otherwise reach the checks as one value.  (It
 * measures values up to their first NUL, so a NUL cannot be seen here: what
 * follows one is dropped before the frontend reads the field.)  NULL is
 * clean (no field).  Pure; thread-safe.
 */
bool httpcheck_field_clean(const char *text, size_t len)
{
    return !text ||
           (!memchr(text, '\0', len) && !memchr(text, '\r', len) && !memchr(text, '\n', len));
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/*
 * Decode the %XX escapes of the NUL-terminated URL part 's' in place, except
 * "%00", which stays as written: a decoded NUL would end the C string early,
 * so "/mcp%00anything" would be routed as "/mcp".  Anything that is not a
 * valid escape is kept as it is.  Returns the new length.  Pure; thread-safe.
 */
size_t httpcheck_unescape(char *s)
{
    char *out = s;
    for (const char *in = s; *in; in++) {
        int hi = in[0] == '%' ? hex_value(in[1]) : -1;
        int lo = hi >= 0 ? hex_value(in[2]) : -1;
        if (lo >= 0 && (hi | lo) != 0) {
            *out++ = (char)(hi * 16 + lo);
            in += 2;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

/* MHD's header iterator: count the fields that are not clean into *cls. */
static enum MHD_Result count_unclean(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    if (!httpcheck_field_clean(key, key_size) || !httpcheck_field_clean(value, value_size))
        (*(int *)cls)++;
    return MHD_YES;
}

/* True when every header field of the request on 'conn' is clean (httpcheck_field_clean). */
bool httpcheck_headers_clean(struct MHD_Connection *conn)
{
    int unclean = 0;
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, count_unclean, &unclean);
    return unclean == 0;
}

/* libmicrohttpd's unescape callback (the path and the query): httpcheck_unescape(). */
size_t httpcheck_unescape_cb(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return httpcheck_unescape(s);
}
