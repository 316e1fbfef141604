/*
 * schema_node.h - the compiled form of a JSON Schema 2020-12 document.
 *
 * schema_compile.c turns every subschema of a document into one struct
 * snode with its keywords checked and converted (counts as integers,
 * patterns compiled, properties sorted, $ref resolved to a node);
 * schema_eval.c only reads them.  Nodes borrow keyword values (const,
 * enum, required, names) from the document, which the compiled schema
 * keeps a reference to.  Not a public contract: only the schema_* modules
 * include it.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_SCHEMA_NODE_H
#define TASKWIRE_SCHEMA_NODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "schema_regex.h"

/* The JSON types of "type", as a bit mask. */
enum snode_type {
    SN_NULL = 1 << 0,
    SN_BOOLEAN = 1 << 1,
    SN_OBJECT = 1 << 2,
    SN_ARRAY = 1 << 3,
    SN_NUMBER = 1 << 4,
    SN_STRING = 1 << 5,
    SN_INTEGER = 1 << 6, /* a number with no fractional part (1.0 included) */
};

#define SN_ABSENT (-1) /* a count keyword (minLength, ...) that the schema leaves out */

struct snode;

/* One named subschema: an entry of properties or dependentSchemas. */
struct sprop {
    const char *name;     /* the property name, borrowed from the document */
    size_t len;           /* its length in bytes */
    struct snode *schema; /* the subschema */
};

/* One entry of patternProperties. */
struct spattern {
    struct schema_regex *re; /* the compiled key pattern; owned */
    struct snode *schema;    /* the subschema */
};

/* A list of subschemas (allOf, anyOf, oneOf, prefixItems). */
struct slist {
    struct snode **v; /* the subschemas, in document order; the array is owned */
    size_t n;         /* how many */
};

/* One compiled subschema.  A NULL keyword pointer means the keyword is absent. */
struct snode {
    int boolean;         /* 0 or 1 for the boolean schemas false/true, else -1 */
    unsigned types;      /* enum snode_type mask of "type"; 0 = any type */
    const json_t *konst; /* "const", borrowed */
    const json_t *enumv; /* "enum" (an array), borrowed */
    /* numbers: keyword values, borrowed (integers compare exactly) */
    const json_t *minimum;     /* "minimum" */
    const json_t *maximum;     /* "maximum" */
    const json_t *xminimum;    /* "exclusiveMinimum" */
    const json_t *xmaximum;    /* "exclusiveMaximum" */
    const json_t *multiple_of; /* "multipleOf", > 0 */
    /* strings */
    json_int_t min_length;        /* "minLength" in code points, or SN_ABSENT */
    json_int_t max_length;        /* "maxLength", or SN_ABSENT */
    struct schema_regex *pattern; /* "pattern"; owned */
    /* arrays */
    json_int_t min_items;            /* "minItems", or SN_ABSENT */
    json_int_t max_items;            /* "maxItems", or SN_ABSENT */
    bool unique_items;               /* "uniqueItems": true */
    struct slist prefix_items;       /* "prefixItems" */
    struct snode *items;             /* "items": the items after prefixItems */
    struct snode *contains;          /* "contains" */
    json_int_t min_contains;         /* "minContains", or SN_ABSENT (1 when contains is given) */
    json_int_t max_contains;         /* "maxContains", or SN_ABSENT */
    struct snode *unevaluated_items; /* "unevaluatedItems" */
    /* objects */
    json_int_t min_props;            /* "minProperties", or SN_ABSENT */
    json_int_t max_props;            /* "maxProperties", or SN_ABSENT */
    const json_t *required;          /* "required": an array of strings, borrowed */
    const json_t *dep_required;      /* "dependentRequired": name -> array of strings, borrowed */
    struct sprop *props;             /* "properties", sorted by name (bytes, then length) */
    size_t nprops;                   /* entries in props */
    struct spattern *patprops;       /* "patternProperties" */
    size_t npatprops;                /* entries in patprops */
    struct snode *additional_props;  /* "additionalProperties" */
    struct snode *property_names;    /* "propertyNames" */
    struct sprop *dep_schemas;       /* "dependentSchemas" */
    size_t ndep_schemas;             /* entries in dep_schemas */
    struct snode *unevaluated_props; /* "unevaluatedProperties" */
    const json_t *dependencies;      /* "dependencies" (2019-09, kept as ajv keeps it): its
                                        array members act as dependentRequired; borrowed */
    struct sprop *dep_compat;        /* its schema members, which act as dependentSchemas */
    size_t ndep_compat;              /* entries in dep_compat */
    /* applicators on the same instance */
    struct slist all_of; /* "allOf" */
    struct slist any_of; /* "anyOf" */
    struct slist one_of; /* "oneOf" */
    struct snode *not_;  /* "not" */
    struct snode *if_;   /* "if" */
    struct snode *then_; /* "then" (only with if) */
    struct snode *else_; /* "else" (only with if) */
    struct snode *ref;   /* the node "$ref" resolves to */
    unsigned char mark;  /* compile-time scratch: the $ref cycle check */
    int height;          /* compile-time scratch: longest in-place chain below */
};

/* A compiled document: every node, the patterns and the document they borrow from. */
struct schema {
    json_t *doc;          /* the schema document; a reference is held */
    struct snode *root;   /* the node of the document itself */
    struct snode **nodes; /* every node, owned (freed with their arrays and patterns) */
    size_t nnodes;        /* entries in nodes */
    size_t cap;           /* allocated entries in nodes */
};

#endif
