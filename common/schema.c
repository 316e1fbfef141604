/*
 * schema.c - compile JSON Schema 2020-12 documents and validate values
 * against them.
 *
 * The public face of schema_compile.c (checking a document and building
 * its nodes), schema_eval.c (applying them) and schema_regex.c (patterns).
 * Before a value is validated its shape is bounded here, whatever the
 * schema asks: at most SCHEMA_MAX_DEPTH levels and SCHEMA_MAX_VALUES
 * values, so a schema that never looks inside a member still refuses a
 * 2,000-deep array in it.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "schema.h"

#include <stdlib.h>
#include <string.h>

#include "schema_compile.h"
#include "schema_eval.h"
#include "schema_value.h"

/*
 * Compile 'doc' (a schema: an object or a boolean) into a new *out, which
 * keeps a reference to 'doc'; the caller frees it with schema_free().
 * Returns 0, or -SCHEMA_EBADSCHEMA with 'err' set to "at #<schema
 * location>: "<keyword>" <what is wrong>" for a keyword value of the wrong
 * shape, a bad or unsupported pattern, an unresolvable or remote $ref, an
 * embedded $id, $dynamicRef, another $schema dialect, a $ref cycle that
 * consumes no instance, or a schema past the limits; or -SCHEMA_ENOMEM.
 * Not thread-safe with itself on the same 'doc' (jansson reference counts).
 */
int schema_compile(const json_t *doc, struct schema **out, struct err *err)
{
    *out = NULL;
    if (!json_is_object(doc) && !json_is_boolean(doc))
        return err_set(err, -SCHEMA_EBADSCHEMA, "at #: a schema must be an object or a boolean");
    struct schema *s = calloc(1, sizeof(*s));
    if (!s)
        return err_set(err, -SCHEMA_ENOMEM, "out of memory");
    s->doc = json_incref((json_t *)doc);
    int rc = schema_compile_build(s, err);
    if (rc < 0) {
        schema_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* Free 's' (NULL is a no-op): its nodes, patterns and its reference to the document. */
void schema_free(struct schema *s)
{
    if (!s)
        return;
    schema_compile_release(s);
    json_decref(s->doc);
    free(s);
}

/* The shape walk: depth and count of values. */
struct shape {
    size_t values;        /* values seen so far */
    struct schema_ptr at; /* where the walk is */
    struct err *err;      /* the failure */
};

static int walk_shape(struct shape *w, const json_t *v, int depth)
{
    const char *key;
    json_t *m;
    size_t i, mark;
    int rc = 0;
    if (depth > SCHEMA_MAX_DEPTH)
        return err_set(w->err, -SCHEMA_EINVALID, "%s: nested deeper than %d levels (limit)",
                       schema_value_ptr_text(&w->at), SCHEMA_MAX_DEPTH);
    if (++w->values > SCHEMA_MAX_VALUES)
        return err_set(w->err, -SCHEMA_EINVALID, "%s: more than %d values in all (limit)",
                       schema_value_ptr_text(&w->at), SCHEMA_MAX_VALUES);
    json_array_foreach(v, i, m)
    {
        mark = schema_value_ptr_index(&w->at, i);
        rc = walk_shape(w, m, depth + 1);
        schema_value_ptr_pop(&w->at, mark);
        if (rc < 0)
            return rc;
    }
    json_object_foreach((json_t *)v, key, m)
    {
        mark = schema_value_ptr_push(&w->at, key, strlen(key));
        rc = walk_shape(w, m, depth + 1);
        schema_value_ptr_pop(&w->at, mark);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/*
 * Validate 'value' against the compiled schema 's'.  Returns 0, or
 * -SCHEMA_EINVALID with 'err' set to "<JSON pointer>: <why> (<keyword>)",
 * e.g. "/items/2/name: must be at least 3 characters (minLength)", with
 * "(root)" for the value itself and "(limit)" when a limit was passed; or
 * -SCHEMA_ENOMEM.  Borrows both; thread-safe (a compiled schema is only
 * read).
 */
int schema_validate(const struct schema *s, const json_t *value, struct err *err)
{
    struct shape w = {.err = err};
    int rc = walk_shape(&w, value, 0);
    return rc < 0 ? rc : schema_eval(s->root, value, err);
}

struct nul_walk {
    struct schema_ptr at; /* where the walk is */
    struct err *err;      /* the failure */
};

static int walk_nul(struct nul_walk *w, const json_t *v)
{
    const char *key;
    json_t *m;
    size_t i, mark;
    int rc = 0;
    if (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v))
        return err_set(w->err, -SCHEMA_EINVALID, "%s: strings may not contain U+0000",
                       schema_value_ptr_text(&w->at));
    json_array_foreach(v, i, m)
    {
        mark = schema_value_ptr_index(&w->at, i);
        rc = walk_nul(w, m);
        schema_value_ptr_pop(&w->at, mark);
        if (rc < 0)
            return rc;
    }
    json_object_foreach((json_t *)v, key, m)
    {
        size_t len = json_object_iter_key_len(json_object_key_to_iter(key));
        mark = schema_value_ptr_push(&w->at, key, len);
        rc = strlen(key) != len
                 ? err_set(w->err, -SCHEMA_EINVALID, "%s: strings may not contain U+0000",
                           schema_value_ptr_text(&w->at))
                 : walk_nul(w, m);
        schema_value_ptr_pop(&w->at, mark);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/*
 * Find U+0000 in any string or member name of 'value' (PostgreSQL's jsonb
 * cannot store it, and C strings would stop at it).  Returns 0, or
 * -SCHEMA_EINVALID with 'err' set to "<prefix><pointer>: strings may not
 * contain U+0000" ('prefix' is a JSON pointer such as "/params", or "").
 * Recursion follows the value's depth (jansson's parser bounds it).
 * Thread-safe.
 */
int schema_check_nul(const json_t *value, const char *prefix, struct err *err)
{
    struct nul_walk w = {.err = err};
    size_t n = strlen(prefix);
    if (n > SCHEMA_PTR_MAX)
        n = SCHEMA_PTR_MAX;
    memcpy(w.at.buf, prefix, n);
    w.at.len = n;
    w.at.buf[n] = '\0';
    return walk_nul(&w, value);
}
