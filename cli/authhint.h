/*
 * authhint.h - what 'taskwire call' says when the server refuses its token.
 *
 * A 401, 403 or 400 comes with a Bearer challenge (common/challenge.h)
 * naming the error, the scopes the request needs and where the server's
 * OAuth metadata is.  This module turns that, and the scopes the token
 * itself claims (read without verifying: the CLI holds no keys, it only
 * explains), into one line that says what is missing and how to get it.
 * Pure: no I/O, no allocation beyond jansson's for the token's claims.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CLI_AUTHHINT_H
#define TASKWIRE_CLI_AUTHHINT_H

#include <stddef.h>

/* The scopes the JWT 'token' claims ("scope", else "scp"; string or array), unverified,
 * space-separated into 'out'.  0, or -1 when it is no JWT or claims none. */
int authhint_token_scopes(const char *token, char *out, size_t cap);
/* One line for an HTTP 'status' answered with WWW-Authenticate 'challenge' ("" or NULL:
 * none) to a request made with 'token' (NULL/"": none), into 'out'. */
void authhint_message(long status, const char *challenge, const char *token, char *out,
                      size_t cap);

#endif
