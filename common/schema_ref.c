/*
 * schema_ref.c - resolve a local "$ref" within its schema document.
 *
 * "#" is the document, "#/a/b" a JSON pointer (RFC 6901, after the URI
 * fragment's %-escapes are decoded), "#name" an $anchor.  A reference with
 * anything before the '#' is remote unless that part is the root's $id:
 * remote references are refused, never fetched.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "schema_ref.h"

#include <stdlib.h>
#include <string.h>

#include "schema.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode 'in' ('n' bytes) into 'out' (room for n + 1); false on a bad escape. */
static bool percent_decode(const char *in, size_t n, char *out, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] != '%') {
            out[o++] = in[i];
            continue;
        }
        if (i + 2 >= n || hexval(in[i + 1]) < 0 || hexval(in[i + 2]) < 0)
            return false;
        out[o++] = (char)(hexval(in[i + 1]) << 4 | hexval(in[i + 2]));
        i += 2;
    }
    out[o] = '\0';
    *outlen = o;
    return true;
}

/* One JSON pointer step from 'at' by the unescaped segment 'seg'. */
static const json_t *pointer_step(const json_t *at, const char *seg, size_t len)
{
    if (json_is_object(at))
        return json_object_getn(at, seg, len);
    if (!json_is_array(at) || len == 0 || (len > 1 && seg[0] == '0') || len > 9)
        return NULL;
    size_t i = 0;
    for (size_t k = 0; k < len; k++) {
        if (seg[k] < '0' || seg[k] > '9')
            return NULL;
        i = i * 10 + (size_t)(seg[k] - '0');
    }
    return json_array_get(at, i);
}

/* The value at JSON pointer 'ptr' (decoded, 'len' bytes, starting with '/'), or NULL. */
static const json_t *pointer_get(const json_t *doc, char *ptr, size_t len)
{
    const json_t *at = doc;
    size_t i = 1;
    while (at && i <= len) {
        size_t o = 0, start = i;
        for (; i < len && ptr[i] != '/'; i++) {
            if (ptr[i] == '~' && i + 1 < len && (ptr[i + 1] == '0' || ptr[i + 1] == '1'))
                ptr[start + o++] = ptr[++i] == '0' ? '~' : '/';
            else if (ptr[i] == '~')
                return NULL;
            else
                ptr[start + o++] = ptr[i];
        }
        at = pointer_step(at, ptr + start, o);
        i++;
    }
    return at;
}

/* True for an anchor name: [A-Za-z_][-A-Za-z0-9._]*.  Thread-safe. */
bool schema_ref_anchor_name(const char *s)
{
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (s++; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return false;
    return true;
}

/*
 * Resolve "$ref" 'ref' in 'doc', whose root $id is 'base' (without a
 * trailing '#'; NULL when it has none) and whose anchors are 'anchors'.
 * Returns 0 with *out set to the subschema (borrowed from 'doc'), or
 * -SCHEMA_EBADSCHEMA / -SCHEMA_ENOMEM with *why saying what is wrong
 * (a static string).  Thread-safe.
 */
int schema_ref_resolve(const json_t *doc, const char *base, const struct schema_anchor *anchors,
                       size_t nanchors, const char *ref, const json_t **out, const char **why)
{
    const char *hash = strchr(ref, '#');
    size_t baselen = hash ? (size_t)(hash - ref) : strlen(ref);
    *out = NULL;
    if (baselen && !(base && strlen(base) == baselen && !strncmp(ref, base, baselen)))
        return *why = "is remote: only references within the schema (\"#...\") are supported",
               -SCHEMA_EBADSCHEMA;
    const char *frag = hash ? hash + 1 : "";
    size_t len = strlen(frag);
    char *dec = malloc(len + 1);
    const json_t *t = NULL;
    if (!dec)
        return *why = "out of memory", -SCHEMA_ENOMEM;
    bool decoded = percent_decode(frag, len, dec, &len);
    if (decoded && len == 0)
        t = doc;
    else if (decoded && dec[0] == '/')
        t = pointer_get(doc, dec, len);
    for (size_t i = 0; decoded && len && dec[0] != '/' && i < nanchors && !t; i++)
        if (strcmp(anchors[i].name, dec) == 0)
            t = anchors[i].schema;
    free(dec);
    if (!decoded)
        return *why = "has a bad %-escape", -SCHEMA_EBADSCHEMA;
    if (!t)
        return *why = "does not resolve within the schema", -SCHEMA_EBADSCHEMA;
    if (!json_is_object(t) && !json_is_boolean(t))
        return *why = "does not point at a schema", -SCHEMA_EBADSCHEMA;
    *out = t;
    return 0;
}
