/*
 * authhint.c - what 'taskwire call' says when the server refuses its token.
 *
 * The missing scopes are the challenge's scopes less those the token
 * claims; when the token cannot be read they are all the challenge's.
 * Text from the server is used only after challenge_param() unquoted it and
 * only when it is printable (challenge_value_ok()), so a hostile server
 * cannot write control characters to the terminal through this line.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "authhint.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "b64.h"
#include "challenge.h"

#define HINT_SCOPES_MAX 512 /* bytes of a scope list we print */

/* The claims of JWT 'token' (a new reference), or NULL. */
static json_t *token_claims(const char *token)
{
    const char *p = token ? strchr(token, '.') : NULL, *end;
    unsigned char *buf;
    json_t *claims = NULL;
    long n;

    if (!p || !(end = strchr(p + 1, '.')) || end == p + 1)
        return NULL;
    if (!(buf = malloc(B64_DECODED_MAX((size_t)(end - p - 1)) + 1)))
        return NULL;
    n = b64_decode(p + 1, (size_t)(end - p - 1), true, buf, B64_DECODED_MAX((size_t)(end - p - 1)));
    if (n >= 0)
        claims = json_loadb((const char *)buf, (size_t)n, 0, NULL);
    free(buf);
    return claims;
}

/*
 * The scopes JWT 'token' claims, read without verifying it: "scope", else
 * "scp", each a space-separated string or an array of strings, written
 * space-separated into 'out' (cap bytes).  Returns 0, or -1 when the token
 * is no JWT, claims no scope or the scopes do not fit.  Pure.
 */
int authhint_token_scopes(const char *token, char *out, size_t cap)
{
    json_t *claims = token_claims(token), *j, *v;
    size_t len = 0, i;
    int rc = -1;

    j = json_object_get(claims, "scope");
    if (!j)
        j = json_object_get(claims, "scp");
    if (json_is_string(j) && json_string_length(j) < cap) {
        memcpy(out, json_string_value(j), json_string_length(j) + 1);
        rc = challenge_value_ok(out) ? 0 : -1;
    } else if (json_is_array(j) && cap > 0) {
        out[0] = '\0';
        rc = 0;
        json_array_foreach(j, i, v)
        {
            const char *s = json_string_value(v);
            int n = s ? snprintf(out + len, cap - len, "%s%s", len ? " " : "", s) : -1;
            if (n < 0 || (size_t)n >= cap - len || !challenge_value_ok(s)) {
                rc = -1;
                break;
            }
            len += (size_t)n;
        }
    }
    json_decref(claims);
    return rc;
}

/* The scopes of 'needed' that 'held' lacks (all of them when held is NULL) into 'out'. */
static void missing_scopes(const char *needed, const char *held, char *out, size_t cap)
{
    size_t len = 0;
    const char *s = needed;

    out[0] = '\0';
    while (*s) {
        size_t n = strcspn(s, " ");
        bool have = false;
        for (const char *h = held; h && *h && !have;) {
            size_t m = strcspn(h, " ");
            have = m == n && strncmp(h, s, n) == 0;
            h += m + (h[m] == ' ');
        }
        if (!have && len + n + 2 < cap) {
            len += (size_t)snprintf(out + len, cap - len, "%s%.*s", len ? " " : "", (int)n, s);
        }
        s += n + (s[n] == ' ');
    }
}

/* A challenge parameter, printable, or "" when absent or unfit to print. */
static void param(const char *challenge, const char *name, char *out, size_t cap)
{
    if (!challenge || challenge_param(challenge, name, out, cap) != 0 || !challenge_value_ok(out))
        out[0] = '\0';
}

/*
 * Write one line for HTTP 'status' with challenge 'challenge' to a request
 * made with 'token' into 'out' (cap bytes): for 403 insufficient_scope the
 * scopes the token lacks and the scopes the request needs; for 401 whether
 * a token was missing or refused, and the scopes to ask for; for 400 the
 * malformed request; then where the server's OAuth metadata is.  Never
 * fails (a challenge it cannot read still gives a line).  Pure.
 */
void authhint_message(long status, const char *challenge, const char *token, char *out,
                      size_t cap)
{
    char error[64], scope[HINT_SCOPES_MAX], prm[CHALLENGE_MAX], held[1024], miss[HINT_SCOPES_MAX];
    bool have_token = token && *token;
    int n;

    param(challenge, "error", error, sizeof(error));
    param(challenge, "scope", scope, sizeof(scope));
    param(challenge, "resource_metadata", prm, sizeof(prm));
    if (status == 403) {
        missing_scopes(scope, authhint_token_scopes(token, held, sizeof(held)) == 0 ? held : NULL,
                       miss, sizeof(miss));
        n = snprintf(out, cap, "forbidden: the token lacks scope \"%s\" (this call needs \"%s\")",
                     miss[0] ? miss : "?", scope[0] ? scope : "?");
    } else if (status == 401) {
        n = snprintf(out, cap, "unauthorized: %s; wanted scope \"%s\"",
                     have_token ? "the token was refused (expired, for another audience or "
                                  "issuer, or an unknown key)"
                                : "no token was sent (--token or TASKWIRE_TOKEN)",
                     scope[0] ? scope : "?");
    } else {
        n = snprintf(out, cap, "bad request (HTTP %ld%s%s): send the token in one Authorization "
                     "header", status, error[0] ? ", " : "", error);
    }
    if (n >= 0 && (size_t)n < cap && prm[0])
        snprintf(out + n, cap - (size_t)n, "; metadata: %s", prm);
}
