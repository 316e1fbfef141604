/*
 * challenge.c - RFC 6750 Bearer challenges (WWW-Authenticate): building and reading.
 *
 * Building never escapes: a value that would need it ('"', '\', a control
 * character) is refused, so every challenge we send is plain to read.
 * Reading follows RFC 9110 11.2 (auth-scheme, then comma-separated
 * name=token or name="quoted-string" parameters) and stops at the next
 * challenge of the same header.  Invariant: the reader never reads past the
 * NUL of its input and never writes past 'cap'.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "challenge.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 5.6.2 tchar. */
static bool tchar(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/*
 * True when 's' is printable ASCII (0x20..0x7e) without '"' and '\': what
 * RFC 6750 3 allows inside the quoted values of scope and error_description
 * without escaping.  NULL is not.  Pure.
 */
bool challenge_value_ok(const char *s)
{
    if (!s)
        return false;
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e || *s == '"' || *s == '\\')
            return false;
    }
    return true;
}

/* Append ', name="value"' (or 'name="value"' first) when value is set. */
static int add_param(char *buf, size_t cap, size_t *len, const char *name, const char *value)
{
    if (!value || !*value)
        return 0;
    if (!challenge_value_ok(value))
        return -CHALLENGE_EINVALID;
    int n = snprintf(buf + *len, cap - *len, "%s%s=\"%s\"", *len > 7 ? ", " : "", name, value);
    if (n < 0 || (size_t)n >= cap - *len)
        return -CHALLENGE_ETOOLONG;
    *len += (size_t)n;
    return 0;
}

/*
 * Write the Bearer challenge of 'c' into 'buf' ('cap' bytes, NUL included):
 * "Bearer" and then, for each parameter set, error, scope,
 * resource_metadata and error_description in that order, comma-separated,
 * each value quoted.  Returns 0, -CHALLENGE_EINVALID when a value is not
 * challenge_value_ok(), or -CHALLENGE_ETOOLONG (buf then holds a prefix).
 * Borrows everything; pure.
 */
int challenge_format(const struct challenge *c, char *buf, size_t cap)
{
    size_t len = 7;
    int rc;

    if (cap < 8)
        return -CHALLENGE_ETOOLONG;
    memcpy(buf, "Bearer ", 8);
    if ((rc = add_param(buf, cap, &len, "error", c->error)) < 0 ||
        (rc = add_param(buf, cap, &len, "scope", c->scope)) < 0 ||
        (rc = add_param(buf, cap, &len, "resource_metadata", c->resource_metadata)) < 0 ||
        (rc = add_param(buf, cap, &len, "error_description", c->description)) < 0)
        return rc;
    if (len == 7)
        buf[6] = '\0'; /* no parameter: just the scheme */
    return 0;
}

/* ---- reading ---- */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* The end of the token at 'p' (p itself when there is none). */
static const char *token_end(const char *p)
{
    while (tchar(*p))
        p++;
    return p;
}

/*
 * Read the value at *pp (a quoted-string or a bare run of visible characters
 * other than ',' and '"') into out (cap bytes) when 'keep', unescaped; *pp
 * moves past it.  0, -CHALLENGE_EINVALID or -CHALLENGE_ETOOLONG.
 */
static int read_value(const char **pp, bool keep, char *out, size_t cap)
{
    const char *p = *pp;
    size_t n = 0;
    bool quoted = *p == '"';

    if (quoted)
        p++;
    for (;; p++) {
        char ch = *p;
        if (quoted && ch == '"') {
            p++;
            break;
        }
        if (!quoted && (ch == '\0' || ch == ' ' || ch == '\t' || ch == ','))
            break;
        if (quoted && ch == '\\')
            ch = *++p; /* quoted-pair: the next character as it is */
        if (ch == '\0' || ((unsigned char)ch < 0x20 && ch != '\t') || ch == 0x7f ||
            (!quoted && ch == '"'))
            return -CHALLENGE_EINVALID;
        if (keep && n + 1 >= cap)
            return -CHALLENGE_ETOOLONG;
        if (keep)
            out[n++] = ch;
    }
    if (p == *pp)
        return -CHALLENGE_EINVALID; /* an empty bare value */
    if (keep)
        out[n] = '\0';
    *pp = p;
    return 0;
}

/*
 * Copy the value of parameter 'name' (compared without case) of the Bearer
 * challenge that starts 'header' into 'out' (cap bytes, NUL included),
 * without quotes or escapes.  The first occurrence counts; parameters after
 * the start of another challenge ("Bearer a=b, DPoP c=d") are not read.
 * Returns 0; -CHALLENGE_ENOTFOUND when the parameter is absent;
 * -CHALLENGE_EINVALID when 'header' is not a Bearer challenge or is
 * malformed before the parameter; -CHALLENGE_ETOOLONG when the value does
 * not fit.  'header' is untrusted and borrowed; pure.
 */
int challenge_param(const char *header, const char *name, char *out, size_t cap)
{
    const char *p, *end;
    size_t name_len = strlen(name);
    int rc;

    if (!header || cap == 0)
        return -CHALLENGE_EINVALID;
    p = skip_ws(header);
    end = token_end(p);
    if (end - p != 6 || strncasecmp(p, "Bearer", 6) != 0 || (*end != ' ' && *end != '\0'))
        return -CHALLENGE_EINVALID;
    p = end;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            return -CHALLENGE_ENOTFOUND;
        end = token_end(p);
        if (end == p)
            return -CHALLENGE_EINVALID;
        const char *eq = skip_ws(end);
        if (*eq != '=')
            return -CHALLENGE_ENOTFOUND; /* the next challenge (or a token68) */
        bool match = (size_t)(end - p) == name_len && strncasecmp(p, name, name_len) == 0;
        p = skip_ws(eq + 1);
        if ((rc = read_value(&p, match, out, cap)) < 0)
            return rc;
        if (match)
            return 0;
        p = skip_ws(p);
        if (*p && *p != ',')
            return -CHALLENGE_EINVALID;
    }
}
