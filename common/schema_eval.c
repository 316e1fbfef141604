/*
 * schema_eval.c - validate an instance against compiled schema nodes.
 *
 * Follows the 2020-12 evaluation model.  Annotations matter only to
 * unevaluatedProperties/unevaluatedItems, so they are collected only under
 * a node that has one: a bit per member or item of the instance, set by
 * properties, patternProperties, additionalProperties, prefixItems, items,
 * contains and unevaluated* of every subschema that applied to the same
 * instance and passed (through allOf, anyOf, oneOf, if/then/else,
 * dependentSchemas and $ref), and dropped with a subschema that failed.
 * Without them, anyOf stops at the first match.
 *
 * The first failure is reported with the instance's JSON pointer and the
 * keyword; failures inside anyOf, oneOf, not, if, contains and
 * propertyNames are speculative and stay quiet.  Every application of a
 * subschema costs a step of a fixed budget, so no schema and instance pair
 * can make a call slow, and frames are bounded (a limit is a failure that
 * not and anyOf cannot turn into a success).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "schema_eval.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "schema_value.h"
#include "utf8.h"

/* One validation. */
struct ectx {
    long steps;           /* budget left (SCHEMA_MAX_STEPS) */
    int frames;           /* nested eval() calls */
    int quiet;            /* > 0: inside a speculative subschema, failures are not told */
    bool told;            /* 'err' holds the failure */
    struct err *err;      /* the failure, for the caller */
    struct schema_ptr at; /* the instance location */
};

/* Evaluated members or items of one instance value: a bit per child. */
struct annot {
    uint64_t word;  /* the bits when there are at most 64 children */
    uint64_t *bits; /* &word, or an allocated array */
    size_t n;       /* children */
};

/* ---- failures ---- */

static int PRINTF_LIKE(3, 4) fail(struct ectx *x, const char *kw, const char *fmt, ...)
{
    if (x->quiet || x->told)
        return 0;
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    err_set(x->err, -SCHEMA_EINVALID, "%s: %s (%s)", schema_value_ptr_text(&x->at), why, kw);
    x->told = true;
    return 0;
}

/* A limit was passed: told even when quiet, and final. */
static int limit(struct ectx *x, const char *why)
{
    if (!x->told)
        err_set(x->err, -SCHEMA_EINVALID, "%s: %s (limit)", schema_value_ptr_text(&x->at), why);
    x->told = true;
    return -SCHEMA_EINVALID;
}

static int out_of_memory(struct ectx *x)
{
    if (!x->told)
        err_set(x->err, -SCHEMA_ENOMEM, "out of memory");
    x->told = true;
    return -SCHEMA_ENOMEM;
}

/* ---- annotations ---- */

static int annot_init(struct ectx *x, struct annot *a, size_t n)
{
    a->word = 0;
    a->n = n;
    a->bits = &a->word;
    if (n > 64 && !(a->bits = calloc((n + 63) / 64, sizeof(uint64_t))))
        return out_of_memory(x);
    return 0;
}

static void annot_fini(struct annot *a)
{
    if (a->bits != &a->word)
        free(a->bits);
}

static void annot_set(struct annot *a, size_t i)
{
    if (a && i < a->n)
        a->bits[i / 64] |= UINT64_C(1) << (i % 64);
}

static bool annot_get(const struct annot *a, size_t i)
{
    return i < a->n && (a->bits[i / 64] >> (i % 64) & 1);
}

static void annot_merge(struct annot *to, const struct annot *from)
{
    for (size_t i = 0; to && i < (to->n + 63) / 64; i++)
        to->bits[i] |= from->bits[i];
}

static size_t children(const json_t *v)
{
    return json_is_object(v) ? json_object_size(v) : json_is_array(v) ? json_array_size(v) : 0;
}

static int eval(struct ectx *x, const struct snode *n, const json_t *v, struct annot *out);

/* Apply 'n' to 'v' speculatively (quietly), with its annotations into a fresh set that
 * is merged into 'out' when it passes.  Returns 1, 0 or a negative hard failure. */
static int try_eval(struct ectx *x, const struct snode *n, const json_t *v, struct annot *out)
{
    struct annot t;
    if (out && annot_init(x, &t, out->n) < 0)
        return -SCHEMA_ENOMEM;
    x->quiet++;
    int rc = eval(x, n, v, out ? &t : NULL);
    x->quiet--;
    if (out) {
        if (rc == 1)
            annot_merge(out, &t);
        annot_fini(&t);
    }
    return rc;
}

/* Apply 'n' to child 'v' of the current instance, found under 'key' or 'index'. */
static int eval_child(struct ectx *x, const struct snode *n, const json_t *v, const char *key,
                      size_t keylen, size_t index)
{
    size_t mark =
        key ? schema_value_ptr_push(&x->at, key, keylen) : schema_value_ptr_index(&x->at, index);
    int rc = eval(x, n, v, NULL);
    schema_value_ptr_pop(&x->at, mark);
    return rc;
}

/* ---- any type ---- */

static int type_names(unsigned types, char *buf, size_t cap)
{
    static const char *const names[] = {"null",   "boolean", "object", "array",
                                        "number", "string",  "integer"};
    size_t len = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < 7; i++)
        if (types & (1u << i) && len < cap)
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", names[i]);
    return 0;
}

static int check_any(struct ectx *x, const struct snode *n, const json_t *v)
{
    if (n->types && !(n->types & schema_value_types(v))) {
        char names[80];
        type_names(n->types, names, sizeof(names));
        return fail(x, "type", "must be %s %s, not %s",
                    (n->types & (n->types - 1)) ? "one of the types" : "of type", names,
                    schema_value_kind(v));
    }
    if (n->konst && !schema_value_equal(n->konst, v, &x->steps))
        return x->steps <= 0 ? limit(x, "too complex to validate")
                             : fail(x, "const", "must be equal to the constant");
    if (n->enumv) {
        size_t i;
        const json_t *one;
        json_array_foreach(n->enumv, i, one) if (schema_value_equal(one, v, &x->steps)) return 1;
        if (x->steps <= 0)
            return limit(x, "too complex to validate");
        return fail(x, "enum", "must be one of the %zu allowed values", json_array_size(n->enumv));
    }
    return 1;
}

/* ---- numbers and strings ---- */

static void number_text(const json_t *k, char *buf, size_t cap)
{
    if (json_is_integer(k))
        snprintf(buf, cap, "%lld", (long long)json_integer_value(k));
    else
        snprintf(buf, cap, "%.15g", json_real_value(k));
}

static int check_number(struct ectx *x, const struct snode *n, const json_t *v)
{
    static const char *const ops[] = {">=", "<=", ">", "<"};
    static const char *const kws[] = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"};
    const json_t *bounds[] = {n->minimum, n->maximum, n->xminimum, n->xmaximum};
    char num[40];
    for (int i = 0; i < 4; i++) {
        if (!bounds[i])
            continue;
        int d = schema_value_cmp(v, bounds[i]);
        bool ok = i == 0 ? d >= 0 : i == 1 ? d <= 0 : i == 2 ? d > 0 : d < 0;
        if (!ok) {
            number_text(bounds[i], num, sizeof(num));
            return fail(x, kws[i], "must be %s %s", ops[i], num);
        }
    }
    if (n->multiple_of && !schema_value_multiple(v, n->multiple_of)) {
        number_text(n->multiple_of, num, sizeof(num));
        return fail(x, "multipleOf", "must be a multiple of %s", num);
    }
    return 1;
}

static int check_string(struct ectx *x, const struct snode *n, const json_t *v)
{
    size_t len = utf8_count(json_string_value(v), json_string_length(v));
    if (n->min_length != SN_ABSENT && (json_int_t)len < n->min_length)
        return fail(x, "minLength", "must be at least %lld characters", (long long)n->min_length);
    if (n->max_length != SN_ABSENT && (json_int_t)len > n->max_length)
        return fail(x, "maxLength", "must be at most %lld characters", (long long)n->max_length);
    if (n->pattern && !schema_regex_search(n->pattern, json_string_value(v)))
        return fail(x, "pattern", "must match the schema's pattern");
    return 1;
}

/* ---- objects ---- */

static int prop_key_cmp(const void *key, const void *elem)
{
    const struct sprop *k = key, *p = elem;
    size_t n = k->len < p->len ? k->len : p->len;
    int d = memcmp(k->name, p->name, n);
    return d ? d : (k->len > p->len) - (k->len < p->len);
}

static const struct sprop *find_prop(const struct sprop *props, size_t n, const char *key,
                                     size_t len)
{
    struct sprop k = {key, len, NULL};
    return n ? bsearch(&k, props, n, sizeof(k), prop_key_cmp) : NULL;
}

static bool has_member(const json_t *v, const json_t *name)
{
    return json_object_getn(v, json_string_value(name), json_string_length(name)) != NULL;
}

static int check_counts(struct ectx *x, const struct snode *n, const json_t *v)
{
    size_t size = json_object_size(v), i;
    const json_t *name, *list;
    const char *key;
    if (n->min_props != SN_ABSENT && (json_int_t)size < n->min_props)
        return fail(x, "minProperties", "must have at least %lld properties",
                    (long long)n->min_props);
    if (n->max_props != SN_ABSENT && (json_int_t)size > n->max_props)
        return fail(x, "maxProperties", "must have at most %lld properties",
                    (long long)n->max_props);
    json_array_foreach(n->required, i, name) if (!has_member(v, name)) return fail(
        x, "required", "the property \"%.60s\" is required", json_string_value(name));
    json_object_foreach((json_t *)n->dep_required, key, list)
    {
        if (!json_object_get(v, key))
            continue;
        json_array_foreach(list, i, name) if (!has_member(v, name)) return fail(
            x, "dependentRequired", "the property \"%.60s\" is required with \"%.60s\"",
            json_string_value(name), key);
    }
    json_object_foreach((json_t *)n->dependencies, key, list)
    {
        if (!json_is_array(list) || !json_object_get(v, key))
            continue;
        json_array_foreach(list, i, name) if (!has_member(v, name)) return fail(
            x, "dependencies", "the property \"%.60s\" is required with \"%.60s\"",
            json_string_value(name), key);
    }
    return 1;
}

/* propertyNames on one key. */
static int check_name(struct ectx *x, const struct snode *n, const char *key, size_t len)
{
    json_t *name = json_stringn_nocheck(key, len);
    if (!name)
        return out_of_memory(x);
    x->quiet++;
    int rc = eval(x, n->property_names, name, NULL);
    x->quiet--;
    json_decref(name);
    if (rc == 0)
        return fail(x, "propertyNames", "the property name \"%.60s\" is not allowed", key);
    return rc;
}

/* properties, patternProperties and additionalProperties on member 'key'. */
static int check_member(struct ectx *x, const struct snode *n, const char *key, size_t len,
                        const json_t *m, size_t index, struct annot *a)
{
    const struct sprop *p = find_prop(n->props, n->nprops, key, len);
    bool seen = p != NULL;
    int rc = p ? eval_child(x, p->schema, m, key, len, 0) : 1;
    for (size_t i = 0; rc == 1 && i < n->npatprops; i++)
        if (schema_regex_search(n->patprops[i].re, key)) {
            seen = true;
            rc = eval_child(x, n->patprops[i].schema, m, key, len, 0);
        }
    if (rc == 1 && !seen && n->additional_props) {
        seen = true;
        if (n->additional_props->boolean == 0) {
            size_t mark = schema_value_ptr_push(&x->at, key, len);
            rc = fail(x, "additionalProperties", "is not an accepted property");
            schema_value_ptr_pop(&x->at, mark);
        } else {
            rc = eval_child(x, n->additional_props, m, key, len, 0);
        }
    }
    if (rc == 1 && seen)
        annot_set(a, index);
    return rc;
}

static int check_object(struct ectx *x, const struct snode *n, const json_t *v, struct annot *a)
{
    const char *key;
    json_t *m;
    size_t index = 0;
    int rc = check_counts(x, n, v);
    json_object_foreach((json_t *)v, key, m)
    {
        size_t len = json_object_iter_key_len(json_object_key_to_iter(key));
        if (rc == 1 && (n->nprops || n->npatprops || n->additional_props))
            rc = check_member(x, n, key, len, m, index, a);
        if (rc == 1 && n->property_names)
            rc = check_name(x, n, key, len);
        if (rc != 1)
            return rc;
        index++;
    }
    return rc;
}

/* unevaluatedProperties: every member no passing subschema evaluated. */
static int check_unevaluated_props(struct ectx *x, const struct snode *n, const json_t *v,
                                   struct annot *a)
{
    const char *key;
    json_t *m;
    size_t index = 0;
    json_object_foreach((json_t *)v, key, m)
    {
        size_t len = json_object_iter_key_len(json_object_key_to_iter(key));
        if (!annot_get(a, index)) {
            size_t mark = schema_value_ptr_push(&x->at, key, len);
            int rc = n->unevaluated_props->boolean == 0
                         ? fail(x, "unevaluatedProperties", "is not an accepted property")
                         : eval(x, n->unevaluated_props, m, NULL);
            schema_value_ptr_pop(&x->at, mark);
            if (rc != 1)
                return rc;
            annot_set(a, index);
        }
        index++;
    }
    return 1;
}

/* ---- arrays ---- */

static int check_unique(struct ectx *x, const json_t *v)
{
    size_t n = json_array_size(v);
    for (size_t i = 1; i < n; i++)
        for (size_t j = 0; j < i; j++) {
            if (schema_value_equal(json_array_get(v, i), json_array_get(v, j), &x->steps))
                return fail(x, "uniqueItems", "items %zu and %zu are equal", j, i);
            if (x->steps <= 0)
                return limit(x, "too complex to validate");
        }
    return 1;
}

static int check_contains(struct ectx *x, const struct snode *n, const json_t *v, struct annot *a)
{
    size_t size = json_array_size(v);
    json_int_t found = 0;
    for (size_t i = 0; i < size; i++) {
        if (!a && n->max_contains == SN_ABSENT && found >= n->min_contains)
            break;
        size_t mark = schema_value_ptr_index(&x->at, i);
        x->quiet++;
        int rc = eval(x, n->contains, json_array_get(v, i), NULL);
        x->quiet--;
        schema_value_ptr_pop(&x->at, mark);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            found++;
            annot_set(a, i);
        }
    }
    if (found < n->min_contains)
        return found == 0 && n->min_contains == 1
                   ? fail(x, "contains", "must contain an item that matches the contains schema")
                   : fail(x, "minContains", "must contain at least %lld matching items",
                          (long long)n->min_contains);
    if (n->max_contains != SN_ABSENT && found > n->max_contains)
        return fail(x, "maxContains", "must contain at most %lld matching items",
                    (long long)n->max_contains);
    return 1;
}

static int check_array(struct ectx *x, const struct snode *n, const json_t *v, struct annot *a)
{
    size_t size = json_array_size(v);
    int rc = 1;
    if (n->min_items != SN_ABSENT && (json_int_t)size < n->min_items)
        return fail(x, "minItems", "must have at least %lld items", (long long)n->min_items);
    if (n->max_items != SN_ABSENT && (json_int_t)size > n->max_items)
        return fail(x, "maxItems", "must have at most %lld items", (long long)n->max_items);
    if (n->unique_items && (rc = check_unique(x, v)) != 1)
        return rc;
    for (size_t i = 0; i < size; i++) {
        const struct snode *s = i < n->prefix_items.n ? n->prefix_items.v[i] : n->items;
        if (!s)
            break;
        if ((rc = eval_child(x, s, json_array_get(v, i), NULL, 0, i)) != 1)
            return rc;
        annot_set(a, i);
    }
    return n->contains ? check_contains(x, n, v, a) : 1;
}

static int check_unevaluated_items(struct ectx *x, const struct snode *n, const json_t *v,
                                   struct annot *a)
{
    for (size_t i = 0; i < json_array_size(v); i++) {
        if (annot_get(a, i))
            continue;
        int rc = n->unevaluated_items->boolean == 0
                     ? fail(x, "unevaluatedItems", "must not have item %zu", i)
                     : eval_child(x, n->unevaluated_items, json_array_get(v, i), NULL, 0, i);
        if (rc != 1)
            return rc;
        annot_set(a, i);
    }
    return 1;
}

/* ---- applicators on the same instance ---- */

static int check_any_of(struct ectx *x, const struct snode *n, const json_t *v, struct annot *a)
{
    bool any = false;
    for (size_t i = 0; i < n->any_of.n; i++) {
        int rc = try_eval(x, n->any_of.v[i], v, a);
        if (rc < 0)
            return rc;
        any = any || rc == 1;
        if (any && !a)
            break;
    }
    return any ? 1 : fail(x, "anyOf", "must match at least one of the anyOf schemas");
}

static int check_one_of(struct ectx *x, const struct snode *n, const json_t *v, struct annot *a)
{
    size_t matched = 0, first = 0;
    for (size_t i = 0; i < n->one_of.n && matched < 2; i++) {
        int rc = try_eval(x, n->one_of.v[i], v, matched ? NULL : a);
        if (rc < 0)
            return rc;
        if (rc == 1 && matched++ == 0)
            first = i;
    }
    if (matched == 1)
        return 1;
    return matched
               ? fail(x, "oneOf", "must match only one of the oneOf schemas (%zu and more)", first)
               : fail(x, "oneOf", "must match one of the oneOf schemas");
}

static int check_conditional(struct ectx *x, const struct snode *n, const json_t *v,
                             struct annot *a)
{
    int rc;
    if (n->not_) {
        if ((rc = try_eval(x, n->not_, v, NULL)) != 0)
            return rc < 0 ? rc : fail(x, "not", "must not match the \"not\" schema");
    }
    if (!n->if_)
        return 1;
    if ((rc = try_eval(x, n->if_, v, a)) < 0)
        return rc;
    const struct snode *branch = rc == 1 ? n->then_ : n->else_;
    return branch ? eval(x, branch, v, a) : 1;
}

static int check_in_place(struct ectx *x, const struct snode *n, const json_t *v, struct annot *a)
{
    int rc = n->ref ? eval(x, n->ref, v, a) : 1;
    for (size_t i = 0; rc == 1 && i < n->all_of.n; i++)
        rc = eval(x, n->all_of.v[i], v, a);
    if (rc == 1 && n->any_of.n)
        rc = check_any_of(x, n, v, a);
    if (rc == 1 && n->one_of.n)
        rc = check_one_of(x, n, v, a);
    if (rc == 1)
        rc = check_conditional(x, n, v, a);
    for (size_t i = 0; rc == 1 && i < n->ndep_schemas && json_is_object(v); i++)
        if (json_object_getn(v, n->dep_schemas[i].name, n->dep_schemas[i].len))
            rc = eval(x, n->dep_schemas[i].schema, v, a);
    for (size_t i = 0; rc == 1 && i < n->ndep_compat && json_is_object(v); i++)
        if (json_object_getn(v, n->dep_compat[i].name, n->dep_compat[i].len))
            rc = eval(x, n->dep_compat[i].schema, v, a);
    return rc;
}

/* ---- one node ---- */

/* The keywords of object schema 'n' on 'v', annotations into 'a' (may be NULL). */
static int eval_keywords(struct ectx *x, const struct snode *n, const json_t *v, struct annot *a)
{
    int rc = check_any(x, n, v);
    if (rc == 1 && json_is_number(v))
        rc = check_number(x, n, v);
    else if (rc == 1 && json_is_string(v))
        rc = check_string(x, n, v);
    else if (rc == 1 && json_is_object(v))
        rc = check_object(x, n, v, a);
    else if (rc == 1 && json_is_array(v))
        rc = check_array(x, n, v, a);
    if (rc == 1)
        rc = check_in_place(x, n, v, a);
    if (rc == 1 && n->unevaluated_props && json_is_object(v))
        rc = check_unevaluated_props(x, n, v, a);
    if (rc == 1 && n->unevaluated_items && json_is_array(v))
        rc = check_unevaluated_items(x, n, v, a);
    return rc;
}

/* Apply node 'n' to 'v': 1 valid, 0 invalid, or a negative hard failure.  When 'out'
 * is not NULL, the children of 'v' that 'n' evaluated are added to it on success. */
static int eval(struct ectx *x, const struct snode *n, const json_t *v, struct annot *out)
{
    if (n->boolean >= 0)
        return n->boolean ? 1 : fail(x, "false schema", "no value is allowed here");
    if (--x->steps < 0)
        return limit(x, "too complex to validate");
    if (x->frames >= SCHEMA_EVAL_MAX_FRAMES)
        return limit(x, "nested too deeply to validate");
    bool own = (out || n->unevaluated_props || n->unevaluated_items) &&
               (json_is_object(v) || json_is_array(v));
    struct annot local;
    if (own && annot_init(x, &local, children(v)) < 0)
        return -SCHEMA_ENOMEM;
    x->frames++;
    int rc = eval_keywords(x, n, v, own ? &local : NULL);
    x->frames--;
    if (own) {
        if (rc == 1 && out)
            annot_merge(out, &local);
        annot_fini(&local);
    }
    return rc;
}

/*
 * Validate 'v' against the compiled node 'root'.  Returns 0, or
 * -SCHEMA_EINVALID with 'err' set to "<JSON pointer>: <why> (<keyword>)"
 * for the first failure (or a limit passed), or -SCHEMA_ENOMEM.  Borrows
 * both; thread-safe (the nodes are only read).
 */
int schema_eval(const struct snode *root, const json_t *v, struct err *err)
{
    struct ectx x = {.steps = SCHEMA_MAX_STEPS, .err = err};
    int rc = eval(&x, root, v, NULL);
    if (rc == 1)
        return 0;
    if (rc == 0 && !x.told) /* cannot happen: every failure is told unless quiet */
        err_set(err, -SCHEMA_EINVALID, "(root): does not match the schema");
    return rc < 0 ? rc : -SCHEMA_EINVALID;
}
