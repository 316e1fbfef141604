/*
 * authfile.c - the trusted-issuers file (TASKWIRE_AUTH_ISSUERS_FILE).
 *
 * Strict, like the tools manifest: unknown or duplicate keys, wrong types
 * and bad values are refused with a message naming the file, the issuer's
 * position and the key.  Reads the format only; whether the issuers make a
 * safe configuration together (duplicates, owner prefixes, https) is
 * auth_config_check()'s call.  No network, no key loading.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "authfile.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"

static const char *const issuer_keys[] = {
    "issuer",          "jwks_uri",         "jwks_file", "audiences", "scope_claim",
    "principal_claim", "principal_prefix", "typ",       "advertise",
};

/* Report "<what>: issuers[i]: <detail>" (i == SIZE_MAX: the top level). */
static PRINTF_LIKE(4, 5) int fail(struct err *err, const char *what, size_t i, const char *fmt,
                                  ...)
{
    char detail[180];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    if (i == SIZE_MAX)
        return err_set(err, -AUTHFILE_EINVALID, "issuers file %.60s: %s", what, detail);
    return err_set(err, -AUTHFILE_EINVALID, "issuers file %.60s: issuers[%zu]: %s", what, i,
                   detail);
}

/* Optional non-empty string 'key' of 'o' into *out (NULL when absent). */
static int get_str(const json_t *o, const char *key, const char **out, struct err *err,
                   const char *what, size_t i)
{
    const json_t *v = json_object_get(o, key);
    *out = json_string_value(v);
    if (v && (!json_is_string(v) || json_string_length(v) == 0 ||
              strlen(*out) != json_string_length(v)))
        return fail(err, what, i, "\"%s\" must be a non-empty string", key);
    return 0;
}

/* The "audiences" array of 'o' into aud[0..*n) (or 'def' alone when absent). */
static int get_audiences(const json_t *o, const char *def, const char **aud, size_t *n,
                         struct err *err, const char *what, size_t i)
{
    const json_t *arr = json_object_get(o, "audiences"), *v;
    size_t k;

    *n = 0;
    if (!arr) {
        if (!def || !*def)
            return fail(err, what, i, "\"audiences\" is required (no TASKWIRE_RESOURCE)");
        aud[(*n)++] = def;
        return 0;
    }
    if (!json_is_array(arr) || json_array_size(arr) < 1 ||
        json_array_size(arr) > AUTH_MAX_AUDIENCES)
        return fail(err, what, i, "\"audiences\" must be an array of 1 to %d strings",
                    AUTH_MAX_AUDIENCES);
    json_array_foreach(arr, k, v)
    {
        if (!json_is_string(v) || json_string_length(v) == 0)
            return fail(err, what, i, "audiences[%zu] must be a non-empty string", k);
        aud[(*n)++] = json_string_value(v);
    }
    return 0;
}

/* Check the keys of issuers[i] and fill *is from it (strings borrowed from 'o'). */
static int parse_issuer(const json_t *o, size_t i, const char *def_aud, const char **aud,
                        struct auth_issuer *is, struct err *err, const char *what)
{
    const char *key, *typ = NULL;
    const json_t *v;
    int rc;

    if (!json_is_object(o))
        return fail(err, what, i, "must be an object");
    json_object_foreach((json_t *)o, key, v)
    {
        size_t k = 0;
        while (k < sizeof(issuer_keys) / sizeof(issuer_keys[0]) && strcmp(key, issuer_keys[k]))
            k++;
        if (k == sizeof(issuer_keys) / sizeof(issuer_keys[0]))
            return fail(err, what, i, "unknown key \"%.40s\"", key);
    }
    memset(is, 0, sizeof(*is));
    if ((rc = get_str(o, "issuer", &is->issuer, err, what, i)) < 0 ||
        (rc = get_str(o, "jwks_uri", &is->jwks_uri, err, what, i)) < 0 ||
        (rc = get_str(o, "jwks_file", &is->jwks_file, err, what, i)) < 0 ||
        (rc = get_str(o, "scope_claim", &is->scope_claim, err, what, i)) < 0 ||
        (rc = get_str(o, "principal_claim", &is->principal_claim, err, what, i)) < 0 ||
        (rc = get_str(o, "typ", &typ, err, what, i)) < 0 ||
        (rc = get_audiences(o, def_aud, aud, &is->naudiences, err, what, i)) < 0)
        return rc;
    if (!is->issuer)
        return fail(err, what, i, "\"issuer\" is required");
    if (is->jwks_file && is->jwks_file[0] != '/')
        return fail(err, what, i, "\"jwks_file\" must be an absolute path");
    is->audiences = aud;
    v = json_object_get(o, "principal_prefix");
    if (v && !json_is_string(v))
        return fail(err, what, i, "\"principal_prefix\" must be a string");
    is->principal_prefix = json_string_value(v);
    if (typ && strcmp(typ, "strict") != 0 && strcmp(typ, "lenient") != 0)
        return fail(err, what, i, "\"typ\" must be \"strict\" or \"lenient\"");
    is->typ_lenient = typ && strcmp(typ, "lenient") == 0;
    v = json_object_get(o, "advertise");
    if (v && !json_is_boolean(v))
        return fail(err, what, i, "\"advertise\" must be true or false");
    is->advertise = v ? json_is_true(v) : strncmp(is->issuer, "https://", 8) == 0;
    return 0;
}

/* Check the top level of 'doc' and return its issuers array in *list. */
static int top_level(const json_t *doc, const json_t **list, struct err *err, const char *what)
{
    const char *key;
    const json_t *v;

    if (!json_is_object(doc))
        return fail(err, what, SIZE_MAX, "the top level must be an object with an "
                    "\"issuers\" array");
    json_object_foreach((json_t *)doc, key, v)
    {
        if (strcmp(key, "issuers") != 0)
            return fail(err, what, SIZE_MAX, "unknown key \"%.40s\" at the top level", key);
    }
    *list = json_object_get(doc, "issuers");
    if (!json_is_array(*list) || json_array_size(*list) < 1 ||
        json_array_size(*list) > AUTH_MAX_ISSUERS)
        return fail(err, what, SIZE_MAX, "\"issuers\" must be an array of 1 to %d issuers",
                    AUTH_MAX_ISSUERS);
    return 0;
}

/*
 * Parse the issuers file text ('len' bytes, need not be NUL-terminated;
 * 'what' names it in messages) into *out: one struct auth_issuer per
 * entry, its strings borrowed from out->doc; an entry without "audiences"
 * accepts 'default_audience' (the resource URI) alone.  "advertise"
 * defaults to true for an https:// issuer.  Returns 0, or
 * -AUTHFILE_EINVALID (not JSON, duplicate keys, unknown keys, wrong types,
 * a "typ" other than strict/lenient, a relative jwks_file, no issuer) or
 * -AUTHFILE_ENOMEM, with 'err' set and *out zeroed.  Pure.
 */
int authfile_parse(const char *text, size_t len, const char *what, const char *default_audience,
                   struct authfile *out, struct err *err)
{
    const json_t *list = NULL;
    json_error_t jerr;
    size_t i, n;
    int rc;

    memset(out, 0, sizeof(*out));
    out->doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!out->doc)
        return fail(err, what, SIZE_MAX, "line %d: %s", jerr.line, jerr.text);
    if ((rc = top_level(out->doc, &list, err, what)) < 0)
        goto out_fini;
    n = json_array_size(list);
    out->issuers = calloc(n, sizeof(*out->issuers));
    out->audiences = calloc(n * AUTH_MAX_AUDIENCES, sizeof(*out->audiences));
    if (!out->issuers || !out->audiences) {
        rc = err_set(err, -AUTHFILE_ENOMEM, "out of memory");
        goto out_fini;
    }
    for (i = 0; i < n; i++) {
        rc = parse_issuer(json_array_get(list, i), i, default_audience,
                          out->audiences + i * AUTH_MAX_AUDIENCES, &out->issuers[i], err, what);
        if (rc < 0)
            goto out_fini;
    }
    out->count = n;
    return 0;

out_fini:
    authfile_fini(out);
    return rc;
}

/* Read the issuers file at 'path' (at most AUTHFILE_MAX_BYTES) and parse it as
 * authfile_parse() does.  Borrows 'path'. */
int authfile_load(const char *path, const char *default_audience, struct authfile *out,
                  struct err *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = fileio_read(path, AUTHFILE_MAX_BYTES, &text, &len, NULL, err);
    if (rc < 0)
        return err_recode(err, rc == -FILEIO_ENOMEM ? -AUTHFILE_ENOMEM : -AUTHFILE_EINVALID);
    rc = authfile_parse(text, len, path, default_audience, out, err);
    free(text);
    return rc;
}

/* Release what authfile_parse() made; a zeroed *f is a no-op. */
void authfile_fini(struct authfile *f)
{
    free(f->issuers);
    free(f->audiences);
    json_decref(f->doc);
    memset(f, 0, sizeof(*f));
}
