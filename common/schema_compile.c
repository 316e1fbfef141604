/*
 * schema_compile.c - check a JSON Schema 2020-12 document and build the
 * nodes the validator walks.
 *
 * Each subschema becomes one node, found again by its address in the
 * document, so a $ref points at the node of its target and recursive
 * schemas make a graph, not an endless tree.  Every supported keyword is
 * checked against the 2020-12 meta-schema's shape (ajv does the same before
 * it compiles), patterns are compiled, and $ref is resolved: "#", "#/json
 * pointer" and "#anchor" within the document.  Refused: remote references,
 * an embedded $id (a second base URI), $dynamicRef, another $schema
 * dialect, and a $ref cycle that never goes down into the instance.
 * Unknown keywords are ignored, as the specification says.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "schema_compile.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "schema_ref.h"
#include "schema_value.h"

#define DIALECT "https://json-schema.org/draft/2020-12/schema"

/* The compilation in progress. */
struct cc {
    struct schema *s;              /* what is being built */
    struct err *err;               /* where the first failure is told */
    int rc;                        /* the first failure, or 0 */
    int depth;                     /* subschemas open */
    struct schema_ptr where;       /* schema location for messages */
    const json_t **keys;           /* open-addressing map: subschema address ... */
    struct snode **vals;           /* ... to its node */
    size_t cap;                    /* slots in keys/vals (a power of two) */
    struct schema_anchor *anchors; /* every anchor of the document */
    size_t nanchors;               /* entries in anchors */
    const char *base;              /* the root's $id without a trailing '#', or NULL */
};

enum kw_shape {
    KW_ONE,  /* one subschema */
    KW_LIST, /* a non-empty array of subschemas */
    KW_MAP,  /* an object of subschemas */
};

/* A keyword whose value holds subschemas, and where its node(s) go. */
struct subkw {
    const char *name;    /* the keyword */
    enum kw_shape shape; /* what its value holds */
    size_t off;          /* offset in struct snode, or SIZE_MAX when only checked */
    size_t noff;         /* KW_MAP: offset of the entry count */
};

#define AT(f) offsetof(struct snode, f)
static const struct subkw subkws[] = {
    {"additionalProperties", KW_ONE, AT(additional_props), 0},
    {"unevaluatedProperties", KW_ONE, AT(unevaluated_props), 0},
    {"propertyNames", KW_ONE, AT(property_names), 0},
    {"items", KW_ONE, AT(items), 0},
    {"contains", KW_ONE, AT(contains), 0},
    {"unevaluatedItems", KW_ONE, AT(unevaluated_items), 0},
    {"not", KW_ONE, AT(not_), 0},
    {"if", KW_ONE, AT(if_), 0},
    {"then", KW_ONE, AT(then_), 0},
    {"else", KW_ONE, AT(else_), 0},
    {"contentSchema", KW_ONE, SIZE_MAX, 0},
    {"allOf", KW_LIST, AT(all_of), 0},
    {"anyOf", KW_LIST, AT(any_of), 0},
    {"oneOf", KW_LIST, AT(one_of), 0},
    {"prefixItems", KW_LIST, AT(prefix_items), 0},
    {"properties", KW_MAP, AT(props), AT(nprops)},
    {"dependentSchemas", KW_MAP, AT(dep_schemas), AT(ndep_schemas)},
    {"$defs", KW_MAP, SIZE_MAX, 0},
    {"definitions", KW_MAP, SIZE_MAX, 0},
    {"patternProperties", KW_MAP, SIZE_MAX, 0}, /* compiled by patterns() */
};

/* Keywords holding a count (a non-negative integer). */
static const struct {
    const char *name; /* the keyword */
    size_t off;       /* its json_int_t in struct snode */
} counts[] = {
    {"minLength", AT(min_length)},     {"maxLength", AT(max_length)},
    {"minItems", AT(min_items)},       {"maxItems", AT(max_items)},
    {"minContains", AT(min_contains)}, {"maxContains", AT(max_contains)},
    {"minProperties", AT(min_props)},  {"maxProperties", AT(max_props)},
};

/* Keywords holding a number. */
static const struct {
    const char *name; /* the keyword */
    size_t off;       /* its const json_t * in struct snode */
} numbers[] = {
    {"minimum", AT(minimum)},           {"maximum", AT(maximum)},
    {"exclusiveMinimum", AT(xminimum)}, {"exclusiveMaximum", AT(xmaximum)},
    {"multipleOf", AT(multiple_of)},
};

/* Annotation keywords: only their type is checked ('s' string, 'b' boolean, 'a' array). */
static const struct {
    const char *name; /* the keyword */
    char type;        /* what its value must be */
} annotations[] = {
    {"title", 's'},           {"description", 's'},      {"$comment", 's'},   {"format", 's'},
    {"contentEncoding", 's'}, {"contentMediaType", 's'}, {"deprecated", 'b'}, {"readOnly", 'b'},
    {"writeOnly", 'b'},       {"examples", 'a'},
};

static int cc_fail(struct cc *c, int code, const char *kw, const char *what)
{
    const char *at = c->where.len ? c->where.buf : "";
    if (c->rc == 0 && *kw)
        c->rc = err_set(c->err, code, "at #%s: \"%s\" %s", at, kw, what);
    else if (c->rc == 0)
        c->rc = err_set(c->err, code, "at #%s: %s", at, what);
    return c->rc;
}

/* ---- the map from subschema address to node ---- */

static size_t slot_of(const struct cc *c, const json_t *key)
{
    size_t h = (size_t)(((uintptr_t)key >> 4) * 0x9e3779b97f4a7c15u);
    size_t i = h & (c->cap - 1);
    while (c->keys[i] && c->keys[i] != key)
        i = (i + 1) & (c->cap - 1);
    return i;
}

static int map_grow(struct cc *c)
{
    struct cc old = *c;
    c->cap = c->cap ? 2 * c->cap : 64;
    c->keys = calloc(c->cap, sizeof(*c->keys));
    c->vals = calloc(c->cap, sizeof(*c->vals));
    if (!c->keys || !c->vals) {
        free(c->keys);
        free(c->vals);
        *c = old;
        return cc_fail(c, -SCHEMA_ENOMEM, "", "out of memory");
    }
    for (size_t i = 0; i < old.cap; i++)
        if (old.keys[i]) {
            size_t j = slot_of(c, old.keys[i]);
            c->keys[j] = old.keys[i];
            c->vals[j] = old.vals[i];
        }
    free(old.keys);
    free(old.vals);
    return 0;
}

/* A new node for 'js', entered in the map and in s->nodes. */
static struct snode *node_new(struct cc *c, const json_t *js)
{
    struct schema *s = c->s;
    if (s->nnodes >= SCHEMA_MAX_NODES) {
        cc_fail(c, -SCHEMA_EBADSCHEMA, "", "the schema has too many subschemas");
        return NULL;
    }
    if ((2 * (s->nnodes + 1) > c->cap && map_grow(c) < 0))
        return NULL;
    if (s->nnodes == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        struct snode **v = realloc(s->nodes, cap * sizeof(*v));
        if (!v)
            return cc_fail(c, -SCHEMA_ENOMEM, "", "out of memory"), NULL;
        s->nodes = v;
        s->cap = cap;
    }
    struct snode *n = calloc(1, sizeof(*n));
    if (!n)
        return cc_fail(c, -SCHEMA_ENOMEM, "", "out of memory"), NULL;
    n->boolean = -1;
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
        *(json_int_t *)((char *)n + counts[i].off) = SN_ABSENT;
    s->nodes[s->nnodes++] = n;
    size_t slot = slot_of(c, js);
    c->keys[slot] = js;
    c->vals[slot] = n;
    return n;
}

static struct snode *compile(struct cc *c, const json_t *js);

/* ---- keywords ---- */

/* A count keyword's value: a non-negative integer (2.0 counts as 2). */
static bool count_value(const json_t *v, json_int_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0)
        return *out = json_integer_value(v), true;
    if (json_is_real(v) && schema_value_is_integer(v) && json_real_value(v) >= 0) {
        double d = json_real_value(v);
        *out = d >= 9.2e18 ? INT64_MAX : (json_int_t)d;
        return true;
    }
    return false;
}

static int scalars(struct cc *c, struct snode *n, const json_t *js)
{
    const json_t *v;
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
        if ((v = json_object_get(js, counts[i].name)) &&
            !count_value(v, (json_int_t *)((char *)n + counts[i].off)))
            return cc_fail(c, -SCHEMA_EBADSCHEMA, counts[i].name, "must be a non-negative integer");
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
        if ((v = json_object_get(js, numbers[i].name))) {
            if (!json_is_number(v))
                return cc_fail(c, -SCHEMA_EBADSCHEMA, numbers[i].name, "must be a number");
            *(const json_t **)((char *)n + numbers[i].off) = v;
        }
    if (n->multiple_of && json_number_value(n->multiple_of) <= 0)
        return cc_fail(c, -SCHEMA_EBADSCHEMA, "multipleOf", "must be greater than 0");
    for (size_t i = 0; i < sizeof(annotations) / sizeof(annotations[0]); i++)
        if ((v = json_object_get(js, annotations[i].name)) &&
            !(annotations[i].type == 's'   ? json_is_string(v)
              : annotations[i].type == 'b' ? json_is_boolean(v)
                                           : json_is_array(v)))
            return cc_fail(c, -SCHEMA_EBADSCHEMA, annotations[i].name,
                           annotations[i].type == 's'   ? "must be a string"
                           : annotations[i].type == 'b' ? "must be a boolean"
                                                        : "must be an array");
    if ((v = json_object_get(js, "uniqueItems")) && !json_is_boolean(v))
        return cc_fail(c, -SCHEMA_EBADSCHEMA, "uniqueItems", "must be a boolean");
    n->unique_items = json_is_true(v);
    /* An empty enum is allowed by the meta-schema but accepts nothing; ajv refuses it, and
     * so does this validator: a tool that no call can satisfy is a mistake. */
    if ((v = json_object_get(js, "enum")) && (!json_is_array(v) || !json_array_size(v)))
        return cc_fail(c, -SCHEMA_EBADSCHEMA, "enum", "must be a non-empty array");
    n->enumv = v;
    n->konst = json_object_get(js, "const");
    if (n->contains && n->min_contains == SN_ABSENT)
        n->min_contains = 1;
    return 0;
}

/* True when 'v' is an array of distinct strings. */
static bool string_set(const json_t *v)
{
    if (!json_is_array(v))
        return false;
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *a = json_array_get(v, i);
        if (!json_is_string(a))
            return false;
        for (size_t j = 0; j < i; j++)
            if (json_equal((json_t *)a, json_array_get(v, j)))
                return false;
    }
    return true;
}

static const char *const type_names[] = {"null",   "boolean", "object", "array",
                                         "number", "string",  "integer"};

static unsigned type_bit(const json_t *v)
{
    for (unsigned i = 0; json_is_string(v) && i < 7; i++)
        if (strcmp(json_string_value(v), type_names[i]) == 0)
            return 1u << i;
    return 0;
}

static int type_and_names(struct cc *c, struct snode *n, const json_t *js)
{
    const json_t *t = json_object_get(js, "type"), *v;
    if (json_is_string(t) && !(n->types = type_bit(t)))
        return cc_fail(c, -SCHEMA_EBADSCHEMA, "type", "names an unknown type");
    if (json_is_array(t)) {
        if (!json_array_size(t) || !string_set(t))
            return cc_fail(c, -SCHEMA_EBADSCHEMA, "type", "must list distinct type names");
        for (size_t i = 0; i < json_array_size(t); i++) {
            unsigned bit = type_bit(json_array_get(t, i));
            if (!bit)
                return cc_fail(c, -SCHEMA_EBADSCHEMA, "type", "names an unknown type");
            n->types |= bit;
        }
    } else if (t && !json_is_string(t)) {
        return cc_fail(c, -SCHEMA_EBADSCHEMA, "type", "must be a type name or a list of them");
    }
    if ((v = json_object_get(js, "required")) && !string_set(v))
        return cc_fail(c, -SCHEMA_EBADSCHEMA, "required", "must be an array of distinct strings");
    n->required = v;
    if ((v = json_object_get(js, "dependentRequired"))) {
        const char *key;
        json_t *list;
        if (!json_is_object(v))
            return cc_fail(c, -SCHEMA_EBADSCHEMA, "dependentRequired", "must be an object");
        json_object_foreach((json_t *)v, key, list) if (!string_set(list)) return cc_fail(
            c, -SCHEMA_EBADSCHEMA, "dependentRequired", "must map names to arrays of strings");
    }
    n->dep_required = v;
    return 0;
}

static int prop_cmp(const void *a, const void *b)
{
    const struct sprop *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int d = memcmp(x->name, y->name, n);
    return d ? d : (x->len > y->len) - (x->len < y->len);
}

/* One subschema under keyword 'kw' (and map key 'key' or list index 'index'). */
static struct snode *sub(struct cc *c, const char *kw, const char *key, size_t index,
                         const json_t *js)
{
    size_t mark = schema_value_ptr_push(&c->where, kw, strlen(kw));
    if (key)
        schema_value_ptr_push(&c->where, key, strlen(key));
    else if (index != SIZE_MAX)
        schema_value_ptr_index(&c->where, index);
    struct snode *n = compile(c, js);
    schema_value_ptr_pop(&c->where, mark);
    return n;
}

static int sub_map(struct cc *c, struct snode *n, const struct subkw *k, const json_t *v)
{
    const char *key;
    json_t *one;
    size_t i = 0, count = json_object_size(v);
    struct sprop *props = NULL;
    if (!json_is_object(v))
        return cc_fail(c, -SCHEMA_EBADSCHEMA, k->name, "must be an object of schemas");
    if (k->off != SIZE_MAX && count && !(props = calloc(count, sizeof(*props))))
        return cc_fail(c, -SCHEMA_ENOMEM, k->name, "out of memory");
    if (props) {
        *(struct sprop **)((char *)n + k->off) = props;
        *(size_t *)((char *)n + k->noff) = count;
    }
    json_object_foreach((json_t *)v, key, one)
    {
        struct snode *s = sub(c, k->name, key, SIZE_MAX, one);
        if (!s)
            return c->rc;
        if (props)
            props[i++] = (struct sprop){key, strlen(key), s};
    }
    if (props)
        qsort(props, count, sizeof(*props), prop_cmp);
    return 0;
}

static int sub_list(struct cc *c, struct snode *n, const struct subkw *k, const json_t *v)
{
    struct slist *l = (struct slist *)((char *)n + k->off);
    if (!json_is_array(v) || !json_array_size(v))
        return cc_fail(c, -SCHEMA_EBADSCHEMA, k->name, "must be a non-empty array of schemas");
    if (!(l->v = calloc(json_array_size(v), sizeof(*l->v))))
        return cc_fail(c, -SCHEMA_ENOMEM, k->name, "out of memory");
    for (size_t i = 0; i < json_array_size(v); i++) {
        if (!(l->v[i] = sub(c, k->name, NULL, i, json_array_get(v, i))))
            return c->rc;
        l->n = i + 1;
    }
    return 0;
}

static int subschemas(struct cc *c, struct snode *n, const json_t *js)
{
    for (size_t i = 0; i < sizeof(subkws) / sizeof(subkws[0]); i++) {
        const struct subkw *k = &subkws[i];
        const json_t *v = json_object_get(js, k->name);
        struct snode *one;
        if (!v)
            continue;
        if (k->shape == KW_MAP && sub_map(c, n, k, v) < 0)
            return c->rc;
        if (k->shape == KW_LIST && sub_list(c, n, k, v) < 0)
            return c->rc;
        if (k->shape != KW_ONE)
            continue;
        if (!(one = sub(c, k->name, NULL, SIZE_MAX, v)))
            return c->rc;
        if (k->off != SIZE_MAX)
            *(struct snode **)((char *)n + k->off) = one;
    }
    return 0;
}

/* "dependencies", the 2019-09 keyword that 2020-12 split in two: still honoured (as ajv
 * does), names -> array of names as dependentRequired, names -> schema as
 * dependentSchemas. */
static int dependencies(struct cc *c, struct snode *n, const json_t *js)
{
    const json_t *v = json_object_get(js, "dependencies");
    const char *key;
    json_t *one;
    if (!v)
        return 0;
    if (!json_is_object(v))
        return cc_fail(c, -SCHEMA_EBADSCHEMA, "dependencies", "must be an object");
    n->dependencies = v;
    if (json_object_size(v) && !(n->dep_compat = calloc(json_object_size(v), sizeof(struct sprop))))
        return cc_fail(c, -SCHEMA_ENOMEM, "dependencies", "out of memory");
    json_object_foreach((json_t *)v, key, one)
    {
        if (json_is_array(one)) {
            if (!string_set(one))
                return cc_fail(c, -SCHEMA_EBADSCHEMA, "dependencies",
                               "must map names to arrays of distinct strings or to schemas");
            continue;
        }
        struct snode *s = sub(c, "dependencies", key, SIZE_MAX, one);
        if (!s)
            return c->rc;
        n->dep_compat[n->ndep_compat++] = (struct sprop){key, strlen(key), s};
    }
    return 0;
}

/* "pattern" and "patternProperties": compiled regexes. */
static int patterns(struct cc *c, struct snode *n, const json_t *js)
{
    const json_t *v = json_object_get(js, "pattern");
    struct err e = {0};
    if (v && !json_is_string(v))
        return cc_fail(c, -SCHEMA_EBADSCHEMA, "pattern", "must be a string");
    if (v && schema_regex_compile(json_string_value(v), json_string_length(v), &n->pattern, &e) < 0)
        return cc_fail(c, e.code == -SCHEMA_REGEX_ENOMEM ? -SCHEMA_ENOMEM : -SCHEMA_EBADSCHEMA,
                       "pattern", e.msg);
    v = json_object_get(js, "patternProperties");
    if (!json_is_object(v) || !json_object_size(v))
        return 0;
    if (!(n->patprops = calloc(json_object_size(v), sizeof(*n->patprops))))
        return cc_fail(c, -SCHEMA_ENOMEM, "patternProperties", "out of memory");
    const char *key;
    json_t *one;
    json_object_foreach((json_t *)v, key, one)
    {
        struct spattern *p = &n->patprops[n->npatprops];
        if (schema_regex_compile(key, strlen(key), &p->re, &e) < 0)
            return cc_fail(c, e.code == -SCHEMA_REGEX_ENOMEM ? -SCHEMA_ENOMEM : -SCHEMA_EBADSCHEMA,
                           "patternProperties", e.msg);
        n->npatprops++;
        p->schema = c->vals[slot_of(c, one)]; /* compiled by subschemas() */
    }
    return 0;
}

/* ---- references ---- */

/* The subschema that "$ref" 'ref' names, or NULL with the failure set. */
static const json_t *ref_target(struct cc *c, const char *ref)
{
    const char *why = NULL;
    const json_t *t = NULL;
    int rc = schema_ref_resolve(c->s->doc, c->base, c->anchors, c->nanchors, ref, &t, &why);
    if (rc < 0)
        return cc_fail(c, rc, "$ref", why), NULL;
    return t;
}

/* "$ref", "$id", "$schema", "$anchor" and the refused "$dynamicRef". */
static int core(struct cc *c, struct snode *n, const json_t *js)
{
    const json_t *v = json_object_get(js, "$id");
    if (v && (!json_is_string(v) || js != c->s->doc))
        return cc_fail(c, -SCHEMA_EBADSCHEMA, "$id",
                       js != c->s->doc ? "is only supported on the root schema"
                                       : "must be a string");
    if (json_object_get(js, "$dynamicRef"))
        return cc_fail(c, -SCHEMA_EBADSCHEMA, "$dynamicRef", "is not supported");
    v = json_object_get(js, "$schema");
    if (v && js == c->s->doc &&
        !(json_is_string(v) && (strcmp(json_string_value(v), DIALECT) == 0 ||
                                strcmp(json_string_value(v), DIALECT "#") == 0)))
        return cc_fail(c, -SCHEMA_EBADSCHEMA, "$schema",
                       "must be " DIALECT " (only JSON Schema 2020-12 is supported)");
    if (!(v = json_object_get(js, "$ref")))
        return 0;
    if (!json_is_string(v))
        return cc_fail(c, -SCHEMA_EBADSCHEMA, "$ref", "must be a string");
    const json_t *t = ref_target(c, json_string_value(v));
    if (!t)
        return c->rc;
    size_t mark = schema_value_ptr_push(&c->where, "$ref", 4);
    n->ref = compile(c, t);
    schema_value_ptr_pop(&c->where, mark);
    return n->ref ? 0 : c->rc;
}

static int add_anchor(struct cc *c, const json_t *js, const char *kw)
{
    const json_t *v = json_object_get(js, kw);
    if (!v)
        return 0;
    if (!json_is_string(v) || !schema_ref_anchor_name(json_string_value(v)))
        return cc_fail(c, -SCHEMA_EBADSCHEMA, kw, "must be a name ([A-Za-z_][-A-Za-z0-9._]*)");
    for (size_t i = 0; i < c->nanchors; i++)
        if (strcmp(c->anchors[i].name, json_string_value(v)) == 0 && c->anchors[i].schema != js)
            return cc_fail(c, -SCHEMA_EBADSCHEMA, kw, "is declared twice");
    struct schema_anchor *a = realloc(c->anchors, (c->nanchors + 1) * sizeof(*a));
    if (!a)
        return cc_fail(c, -SCHEMA_ENOMEM, kw, "out of memory");
    c->anchors = a;
    a[c->nanchors++] = (struct schema_anchor){json_string_value(v), js};
    return 0;
}

/* Collect every $anchor and $dynamicAnchor below 'js' before any $ref is resolved. */
static int find_anchors(struct cc *c, const json_t *js, int depth)
{
    if (!json_is_object(js) || depth > SCHEMA_MAX_DEPTH || c->nanchors > SCHEMA_MAX_NODES)
        return 0;
    if (depth > 0 && json_object_get(js, "$id")) /* before anchors: it would scope them */
        return cc_fail(c, -SCHEMA_EBADSCHEMA, "$id", "is only supported on the root schema");
    if (add_anchor(c, js, "$anchor") < 0 || add_anchor(c, js, "$dynamicAnchor") < 0)
        return c->rc;
    for (size_t i = 0; i < sizeof(subkws) / sizeof(subkws[0]); i++) {
        const json_t *v = json_object_get(js, subkws[i].name), *one;
        const char *key;
        size_t k;
        if (subkws[i].shape == KW_ONE && find_anchors(c, v, depth + 1) < 0)
            return c->rc;
        if (subkws[i].shape == KW_LIST && json_is_array(v))
            json_array_foreach(v, k, one) if (find_anchors(c, one, depth + 1) < 0) return c->rc;
        if (subkws[i].shape == KW_MAP && json_is_object(v))
            json_object_foreach((json_t *)v, key,
                                one) if (find_anchors(c, one, depth + 1) < 0) return c->rc;
    }
    return 0;
}

/* ---- nodes ---- */

/* The node of subschema 'js', compiled now unless it already was. */
static struct snode *compile(struct cc *c, const json_t *js)
{
    if (c->rc)
        return NULL;
    if (c->cap && c->keys[slot_of(c, js)] == js)
        return c->vals[slot_of(c, js)];
    if (!json_is_object(js) && !json_is_boolean(js))
        return cc_fail(c, -SCHEMA_EBADSCHEMA, "", "a schema must be an object or a boolean"), NULL;
    if (c->depth >= SCHEMA_MAX_DEPTH)
        return cc_fail(c, -SCHEMA_EBADSCHEMA, "", "subschemas are nested too deeply"), NULL;
    struct snode *n = node_new(c, js);
    if (!n || json_is_boolean(js)) {
        if (n)
            n->boolean = json_is_true(js);
        return n;
    }
    c->depth++;
    int rc = 0;
    if ((rc = type_and_names(c, n, js)) == 0 && (rc = subschemas(c, n, js)) == 0 &&
        (rc = scalars(c, n, js)) == 0 && (rc = patterns(c, n, js)) == 0 &&
        (rc = dependencies(c, n, js)) == 0)
        rc = core(c, n, js);
    c->depth--;
    return rc ? NULL : n;
}

/* The i-th subschema 'n' applies to the same instance, or NULL past the last. */
static struct snode *in_place_at(const struct snode *n, size_t i)
{
    struct snode *const ones[] = {n->not_, n->if_, n->then_, n->else_, n->ref};
    const struct slist *lists[] = {&n->all_of, &n->any_of, &n->one_of};
    for (size_t k = 0; k < 5; k++)
        if (ones[k] && i-- == 0)
            return ones[k];
    for (size_t k = 0; k < 3; k++) {
        if (i < lists[k]->n)
            return lists[k]->v[i];
        i -= lists[k]->n;
    }
    if (i < n->ndep_schemas)
        return n->dep_schemas[i].schema;
    i -= n->ndep_schemas;
    return i < n->ndep_compat ? n->dep_compat[i].schema : NULL;
}

/*
 * The longest chain of in-place subschemas from 'n' (0 for none), or the
 * failure when one leads back to a node on the chain (a $ref cycle that
 * never goes down into the instance would never end) or runs past
 * SCHEMA_MAX_REF_CHAIN.  Marks: 0 unseen, 1 on the chain, 2 done.
 */
static int chain(struct cc *c, struct snode *n, int depth)
{
    struct snode *m;
    if (n->mark == 1)
        return cc_fail(c, -SCHEMA_EBADSCHEMA, "$ref",
                       "makes a cycle that never goes down into the instance");
    if (depth + (n->mark == 2 ? n->height : 0) > SCHEMA_MAX_REF_CHAIN)
        return cc_fail(c, -SCHEMA_EBADSCHEMA, "$ref",
                       "makes a chain of more than 64 subschemas on one instance");
    if (n->mark == 2)
        return n->height;
    n->mark = 1;
    int height = 0;
    for (size_t i = 0; (m = in_place_at(n, i)); i++) {
        int h = chain(c, m, depth + 1);
        if (h < 0)
            return h;
        if (h + 1 > height)
            height = h + 1;
    }
    n->mark = 2;
    n->height = height;
    return height;
}

/*
 * Compile s->doc (a schema: an object or a boolean) into s->root and
 * s->nodes.  Returns 0, or -SCHEMA_EBADSCHEMA with 'err' naming the schema
 * location ("at #/properties/x") and the keyword, or -SCHEMA_ENOMEM; then
 * the caller releases what was built with schema_compile_release().
 */
int schema_compile_build(struct schema *s, struct err *err)
{
    struct cc c = {.s = s, .err = err};
    const json_t *id = json_object_get(s->doc, "$id");
    char *base = json_is_string(id) ? strdup(json_string_value(id)) : NULL;
    if (json_is_string(id) && !base)
        return err_set(err, -SCHEMA_ENOMEM, "out of memory");
    if (base && *base && base[strlen(base) - 1] == '#')
        base[strlen(base) - 1] = '\0';
    c.base = base;
    if (find_anchors(&c, s->doc, 0) == 0 && (s->root = compile(&c, s->doc))) {
        schema_value_ptr_pop(&c.where, 0);
        for (size_t i = 0; i < s->nnodes && chain(&c, s->nodes[i], 0) >= 0; i++)
            ;
    }
    free(c.keys);
    free(c.vals);
    free(c.anchors);
    free(base);
    return c.rc;
}

/* Free every node of 's' with its arrays and patterns; 's' and its document stay. */
void schema_compile_release(struct schema *s)
{
    for (size_t i = 0; i < s->nnodes; i++) {
        struct snode *n = s->nodes[i];
        schema_regex_free(n->pattern);
        for (size_t k = 0; k < n->npatprops; k++)
            schema_regex_free(n->patprops[k].re);
        free(n->patprops);
        free(n->props);
        free(n->dep_schemas);
        free(n->dep_compat);
        free(n->all_of.v);
        free(n->any_of.v);
        free(n->one_of.v);
        free(n->prefix_items.v);
        free(n);
    }
    free(s->nodes);
    s->nodes = NULL;
    s->nnodes = s->cap = 0;
    s->root = NULL;
}
