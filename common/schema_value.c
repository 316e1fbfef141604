/*
 * schema_value.c - equality, comparison and types of JSON values for the
 * validator.
 *
 * jansson keeps integers (int64) and reals (double) apart and json_equal()
 * says 1 != 1.0; JSON Schema compares numbers by value.  Two integers are
 * compared exactly; anything else as doubles, as ajv and most validators do.
 * Strings compare by their bytes and length, so U+0000 inside them counts.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "schema_value.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "schema_node.h"

/*
 * <0, 0 or >0 as 'a' is below, equal to or above 'b' (both numbers).
 * Exact for two integers.  Thread-safe.
 */
int schema_value_cmp(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return (x > y) - (x < y);
    }
    double x = json_number_value(a), y = json_number_value(b);
    return (x > y) - (x < y);
}

/* True when the number 'v' has no fractional part.  Thread-safe. */
bool schema_value_is_integer(const json_t *v)
{
    if (json_is_integer(v))
        return true;
    double d = json_real_value(v);
    return json_is_real(v) && isfinite(d) && d == floor(d);
}

/*
 * True when 'v' is a multiple of 'm' (> 0).  Two integers: exact.  Else
 * q = v / m must be within 1e-9 of an integer (ajv's multipleOfPrecision
 * 9), so 0.0075 is a multiple of 0.0001 although the doubles do not divide
 * exactly.  When q overflows, 'v' is a multiple only if it is an integer and
 * 1 / m is too (1e308 is a multiple of 0.5, not of 0.123456789).
 * Thread-safe.
 */
bool schema_value_multiple(const json_t *v, const json_t *m)
{
    if (json_is_integer(v) && json_is_integer(m)) {
        json_int_t d = json_integer_value(m);
        return d > 0 && json_integer_value(v) % d == 0;
    }
    double q = json_number_value(v) / json_number_value(m);
    if (isinf(q)) {
        double r = 1.0 / json_number_value(m);
        return schema_value_is_integer(v) && isfinite(r) && r == floor(r);
    }
    return isfinite(q) && fabs(nearbyint(q) - q) <= 1e-9;
}

/* The enum snode_type bits 'v' matches.  Thread-safe. */
unsigned schema_value_types(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return SN_OBJECT;
    case JSON_ARRAY:
        return SN_ARRAY;
    case JSON_STRING:
        return SN_STRING;
    case JSON_INTEGER:
    case JSON_REAL:
        return SN_NUMBER | (schema_value_is_integer(v) ? SN_INTEGER : 0);
    case JSON_TRUE:
    case JSON_FALSE:
        return SN_BOOLEAN;
    default:
        return SN_NULL;
    }
}

/* A phrase for the type of 'v' ("an object", "a number", ...).  Thread-safe. */
const char *schema_value_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return schema_value_is_integer(v) ? "an integer" : "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static bool objects_equal(const json_t *a, const json_t *b, long *steps)
{
    const char *key;
    json_t *va;
    if (json_object_size(a) != json_object_size(b))
        return false;
    json_object_foreach((json_t *)a, key, va)
    {
        json_t *vb =
            json_object_getn(b, key, json_object_iter_key_len(json_object_key_to_iter(key)));
        if (!vb || !schema_value_equal(va, vb, steps))
            return false;
    }
    return true;
}

/*
 * JSON Schema equality: same type (all numbers are one type, compared by
 * value), strings byte for byte, arrays item by item, objects with the same
 * members.  Each value seen costs one of *steps; at 0 the answer is false
 * (the caller checks *steps to tell it from a real difference).  Thread-safe.
 */
bool schema_value_equal(const json_t *a, const json_t *b, long *steps)
{
    if (*steps <= 0)
        return false;
    (*steps)--;
    if (json_is_number(a) && json_is_number(b))
        return schema_value_cmp(a, b) == 0;
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_string(a))
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!schema_value_equal(json_array_get(a, i), json_array_get(b, i), steps))
                return false;
        return true;
    }
    if (json_is_object(a))
        return objects_equal(a, b, steps);
    return true; /* true, false, null: the type says it all */
}

/* ---- JSON pointers for messages ---- */

#define PTR_CUT ((size_t)1 << (sizeof(size_t) * 8 - 1)) /* in a mark: the pointer was cut */

/*
 * Append "/" and 'key' ('len' bytes) with '~' and '/' escaped (RFC 6901) to
 * 'p'; a segment that does not fit cuts the pointer.  Returns the mark for
 * schema_value_ptr_pop().  U+0000 in a key is written as "\u0000".
 */
size_t schema_value_ptr_push(struct schema_ptr *p, const char *key, size_t len)
{
    size_t mark = p->len | (p->cut ? PTR_CUT : 0);
    if (p->cut)
        return mark;
    char seg[SCHEMA_PTR_MAX];
    size_t n = 0;
    seg[n++] = '/';
    for (size_t i = 0; i < len && n + 6 < sizeof(seg); i++) {
        char c = key[i];
        if (c == '~' || c == '/')
            seg[n++] = '~', seg[n++] = c == '~' ? '0' : '1';
        else if (c == '\0')
            memcpy(seg + n, "\\u0000", 6), n += 6;
        else
            seg[n++] = c;
    }
    if (p->len + n > SCHEMA_PTR_MAX || n + 6 >= sizeof(seg)) {
        p->cut = true;
        return mark;
    }
    memcpy(p->buf + p->len, seg, n);
    p->len += n;
    p->buf[p->len] = '\0';
    return mark;
}

/* Append "/" and 'index' to 'p'; returns the mark for schema_value_ptr_pop(). */
size_t schema_value_ptr_index(struct schema_ptr *p, size_t index)
{
    char seg[24];
    int n = snprintf(seg, sizeof(seg), "%zu", index);
    return schema_value_ptr_push(p, seg, (size_t)n);
}

/* Restore 'p' to what it was before the push that returned 'mark'. */
void schema_value_ptr_pop(struct schema_ptr *p, size_t mark)
{
    p->cut = (mark & PTR_CUT) != 0;
    p->len = mark & ~PTR_CUT;
    p->buf[p->len] = '\0';
}

/* The pointer for a message: "(root)" when empty, a trailing "..." when cut. */
const char *schema_value_ptr_text(struct schema_ptr *p)
{
    if (p->len == 0 && !p->cut)
        return "(root)";
    if (p->cut)
        memcpy(p->buf + p->len, "...", 4);
    else
        p->buf[p->len] = '\0';
    return p->buf;
}
