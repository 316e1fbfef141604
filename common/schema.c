/*
 * schema.c - a small, strict JSON Schema subset validator for tool arguments.
 *
 * The first violation wins and is reported with its JSON pointer, so a
 * client learns exactly which argument is wrong.  Recursion is bounded by
 * SCHEMA_MAX_DEPTH.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "schema.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "utf8.h"

static bool type_is(const json_t *v, const char *type)
{
    if (strcmp(type, "object") == 0)
        return json_is_object(v);
    if (strcmp(type, "array") == 0)
        return json_is_array(v);
    if (strcmp(type, "string") == 0)
        return json_is_string(v);
    if (strcmp(type, "boolean") == 0)
        return json_is_boolean(v);
    if (strcmp(type, "null") == 0)
        return json_is_null(v);
    if (strcmp(type, "number") == 0)
        return json_is_number(v);
    if (strcmp(type, "integer") == 0)
        return json_is_integer(v) ||
               (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
                isfinite(json_real_value(v)));
    return true; /* unknown type names constrain nothing */
}

static const char *kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static int check_type(const json_t *schema, const json_t *v, const char *ptr, struct err *err)
{
    const json_t *t = json_object_get(schema, "type");
    if (json_is_string(t)) {
        if (!type_is(v, json_string_value(t)))
            return err_set(err, -SCHEMA_EINVALID, "%s must be of type %s, not %s", ptr,
                           json_string_value(t), kind(v));
    } else if (json_is_array(t)) {
        size_t i;
        const json_t *one;
        json_array_foreach(t, i, one)
        {
            if (json_is_string(one) && type_is(v, json_string_value(one)))
                return 0;
        }
        return err_set(err, -SCHEMA_EINVALID, "%s has the wrong type (%s)", ptr, kind(v));
    }
    return 0;
}

static int check_number(const json_t *schema, const json_t *v, const char *ptr, struct err *err)
{
    double x = json_number_value(v);
    const json_t *k;
    if ((k = json_object_get(schema, "minimum")) && json_is_number(k) && x < json_number_value(k))
        return err_set(err, -SCHEMA_EINVALID, "%s must be >= %g", ptr, json_number_value(k));
    if ((k = json_object_get(schema, "maximum")) && json_is_number(k) && x > json_number_value(k))
        return err_set(err, -SCHEMA_EINVALID, "%s must be <= %g", ptr, json_number_value(k));
    if ((k = json_object_get(schema, "exclusiveMinimum")) && json_is_number(k) &&
        x <= json_number_value(k))
        return err_set(err, -SCHEMA_EINVALID, "%s must be > %g", ptr, json_number_value(k));
    if ((k = json_object_get(schema, "exclusiveMaximum")) && json_is_number(k) &&
        x >= json_number_value(k))
        return err_set(err, -SCHEMA_EINVALID, "%s must be < %g", ptr, json_number_value(k));
    return 0;
}

static int check_string(const json_t *schema, const json_t *v, const char *ptr, struct err *err)
{
    size_t len = utf8_count(json_string_value(v), json_string_length(v));
    const json_t *k;
    if ((k = json_object_get(schema, "minLength")) && json_is_integer(k) &&
        (json_int_t)len < json_integer_value(k))
        return err_set(err, -SCHEMA_EINVALID, "%s must be at least %lld characters", ptr,
                       (long long)json_integer_value(k));
    if ((k = json_object_get(schema, "maxLength")) && json_is_integer(k) &&
        (json_int_t)len > json_integer_value(k))
        return err_set(err, -SCHEMA_EINVALID, "%s must be at most %lld characters", ptr,
                       (long long)json_integer_value(k));
    return 0;
}

static int validate(const json_t *schema, const json_t *v, const char *ptr, int depth,
                    struct err *err);

static int check_object(const json_t *schema, const json_t *v, const char *ptr, int depth,
                        struct err *err)
{
    char sub[512];
    const json_t *props = json_object_get(schema, "properties");
    const json_t *required = json_object_get(schema, "required");
    const json_t *extra = json_object_get(schema, "additionalProperties");
    size_t i;
    const json_t *name;
    int rc;

    json_array_foreach(required, i, name)
    {
        if (json_is_string(name) && !json_object_get(v, json_string_value(name)))
            return err_set(err, -SCHEMA_EINVALID, "%s/%s is required", ptr,
                           json_string_value(name));
    }
    const char *key;
    const json_t *member;
    json_object_foreach((json_t *)v, key, member)
    {
        snprintf(sub, sizeof(sub), "%s/%s", ptr, key);
        const json_t *ps = json_object_get(props, key);
        if (ps)
            rc = validate(ps, member, sub, depth + 1, err);
        else if (json_is_false(extra))
            rc = err_set(err, -SCHEMA_EINVALID, "%s is not an accepted argument", sub);
        else if (json_is_object(extra))
            rc = validate(extra, member, sub, depth + 1, err);
        else
            rc = 0;
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int check_array(const json_t *schema, const json_t *v, const char *ptr, int depth,
                       struct err *err)
{
    char sub[512];
    const json_t *k;
    size_t n = json_array_size(v);
    if ((k = json_object_get(schema, "minItems")) && json_is_integer(k) &&
        (json_int_t)n < json_integer_value(k))
        return err_set(err, -SCHEMA_EINVALID, "%s needs at least %lld items", ptr,
                       (long long)json_integer_value(k));
    if ((k = json_object_get(schema, "maxItems")) && json_is_integer(k) &&
        (json_int_t)n > json_integer_value(k))
        return err_set(err, -SCHEMA_EINVALID, "%s takes at most %lld items", ptr,
                       (long long)json_integer_value(k));
    const json_t *items = json_object_get(schema, "items");
    if (!json_is_object(items))
        return 0;
    for (size_t i = 0; i < n; i++) {
        snprintf(sub, sizeof(sub), "%s/%zu", ptr, i);
        int rc = validate(items, json_array_get(v, i), sub, depth + 1, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int validate(const json_t *schema, const json_t *v, const char *ptr, int depth,
                    struct err *err)
{
    if (depth > SCHEMA_MAX_DEPTH)
        return err_set(err, -SCHEMA_EINVALID, "%s is nested too deeply", ptr);
    if (json_is_boolean(schema))
        return json_is_true(schema) ? 0
                                    : err_set(err, -SCHEMA_EINVALID, "%s is not allowed", ptr);
    if (!json_is_object(schema))
        return 0;
    int rc = check_type(schema, v, ptr, err);
    if (rc < 0)
        return rc;
    const json_t *k;
    if ((k = json_object_get(schema, "const")) && !json_equal((json_t *)k, (json_t *)v))
        return err_set(err, -SCHEMA_EINVALID, "%s must equal the schema's const", ptr);
    if ((k = json_object_get(schema, "enum")) && json_is_array(k)) {
        size_t i;
        const json_t *one;
        bool found = false;
        json_array_foreach(k, i, one) found = found || json_equal((json_t *)one, (json_t *)v);
        if (!found)
            return err_set(err, -SCHEMA_EINVALID, "%s must be one of the schema's enum values",
                           ptr);
    }
    if (json_is_number(v))
        return check_number(schema, v, ptr, err);
    if (json_is_string(v))
        return check_string(schema, v, ptr, err);
    if (json_is_object(v))
        return check_object(schema, v, ptr, depth, err);
    if (json_is_array(v))
        return check_array(schema, v, ptr, depth, err);
    return 0;
}

/*
 * Validate 'value' against 'schema'.  Returns 0, or -SCHEMA_EINVALID with a
 * message such as "arguments/seconds must be <= 86400".  Borrows both;
 * thread-safe.
 */
int schema_validate(const json_t *schema, const json_t *value, struct err *err)
{
    return validate(schema, value, "arguments", 0, err);
}
