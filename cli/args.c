/*
 * args.c - the tool arguments of 'taskwire call'.
 *
 * Turns "--args JSON" and "key=value" words into one JSON object.  Messages
 * quote at most 60 bytes of what was typed.  No I/O, no global state.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "args.h"

#include <string.h>

/*
 * Parse one key=value value.  Text that is valid JSON (number, true, false,
 * null, "quoted string", object, array) becomes that JSON value; anything else
 * becomes a JSON string of the text as is.  Text that starts with '{' or '['
 * but is not valid JSON is refused, as it was clearly meant to be JSON.
 * Returns 0 and a new reference in *out, or -ARGS_EINVALID with 'err' set.
 */
int args_parse_value(const char *text, json_t **out, struct err *err)
{
    json_error_t jerr;
    const char *p = text;

    *out = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (*out)
        return 0;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p == '{' || *p == '[')
        return err_set(err, -ARGS_EINVALID, "invalid JSON value '%.60s': %s", text, jerr.text);
    *out = json_string(text);
    if (!*out)
        return err_set(err, -ARGS_EINVALID, "argument value is not valid UTF-8: '%.60s'", text);
    return 0;
}

/*
 * Split "key=value" at the first '=' and set args[key] to the parsed value
 * (see args_parse_value); a repeated key replaces the earlier one.  'args' is
 * borrowed and must be an object.  Returns 0 or -ARGS_EINVALID with 'err' set.
 */
int args_parse_kv(json_t *args, const char *kv, struct err *err)
{
    const char *eq = strchr(kv, '=');
    json_t *value;
    int rc;

    if (!eq)
        return err_set(err, -ARGS_EINVALID, "argument '%.60s' is not key=value", kv);
    if (eq == kv)
        return err_set(err, -ARGS_EINVALID, "argument '%.60s' has an empty key", kv);
    rc = args_parse_value(eq + 1, &value, err);
    if (rc < 0)
        return rc;
    if (json_object_setn_new(args, kv, (size_t)(eq - kv), value) != 0)
        return err_set(err, -ARGS_EINVALID, "argument key in '%.60s' is not valid UTF-8", kv);
    return 0;
}

/*
 * Build the tool arguments: the object in 'args_json' (NULL or "" for {}),
 * then each of the 'n' key=value strings in 'kv' on top.  Returns 0 and a new
 * reference in *out, or -ARGS_EINVALID / -ARGS_ENOMEM with 'err' set (and
 * *out NULL).
 */
int args_build(const char *args_json, char *const *kv, int n, json_t **out, struct err *err)
{
    json_t *args;
    int rc;

    *out = NULL;
    if (args_json && *args_json) {
        json_error_t jerr;
        args = json_loads(args_json, 0, &jerr);
        if (!args)
            return err_set(err, -ARGS_EINVALID, "--args is not valid JSON: %s", jerr.text);
        if (!json_is_object(args)) {
            json_decref(args);
            return err_set(err, -ARGS_EINVALID, "--args must be a JSON object");
        }
    } else {
        args = json_object();
        if (!args)
            return err_set(err, -ARGS_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        rc = args_parse_kv(args, kv[i], err);
        if (rc < 0) {
            json_decref(args);
            return rc;
        }
    }
    *out = args;
    return 0;
}
