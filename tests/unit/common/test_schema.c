/*
 * test_schema.c - the JSON Schema 2020-12 validator: each keyword, the
 * annotation model of unevaluated*, limits, messages and the schemas that
 * schema_compile() refuses.  The differential test against ajv
 * (tests/schema) covers the official suite; these name the behaviour.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema.h"

static const char *sleep_schema =
    "{\"type\":\"object\",\"properties\":{\"seconds\":{\"type\":\"number\",\"minimum\":0,"
    "\"maximum\":86400},\"steps\":{\"type\":\"integer\",\"minimum\":1},\"mode\":{\"enum\":"
    "[\"a\",\"b\"]},\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":3},"
    "\"maxItems\":2}},\"required\":[\"seconds\"],\"additionalProperties\":false}";

/* Compile 'schema_text' and validate 'value'; returns schema_validate()'s code. */
static int validate_value(const char *schema_text, const json_t *value, struct err *e)
{
    json_error_t jerr;
    json_t *doc = json_loads(schema_text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    struct schema *s = NULL;
    if (!doc)
        fail_msg("bad test schema %s: %s", schema_text, jerr.text);
    int crc = schema_compile(doc, &s, e);
    if (crc < 0)
        fail_msg("schema %s refused: %s", schema_text, e->msg);
    memset(e, 0, sizeof(*e));
    int rc = schema_validate(s, value, e);
    schema_free(s);
    json_decref(doc);
    return rc;
}

/* Compile 'schema_text' and validate the JSON text 'args'. */
static int validate_text(const char *schema_text, const char *args, struct err *e)
{
    json_error_t jerr;
    json_t *v = json_loads(args, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!v)
        fail_msg("bad test value %s: %s", args, jerr.text);
    int rc = validate_value(schema_text, v, e);
    json_decref(v);
    return rc;
}

/* One case: a schema, a value, and the message expected ("" = valid). */
struct kcase {
    const char *schema; /* JSON text */
    const char *value;  /* JSON text */
    const char *msg;    /* the whole message expected, or "" when valid */
};

static void run_cases(const struct kcase *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct err e = {0};
        int rc = validate_text(cases[i].schema, cases[i].value, &e);
        if (!*cases[i].msg && rc != 0)
            fail_msg("case %zu: %s on %s: %s", i, cases[i].schema, cases[i].value, e.msg);
        if (*cases[i].msg && (rc != -SCHEMA_EINVALID || strcmp(e.msg, cases[i].msg) != 0))
            fail_msg("case %zu: %s on %s: rc %d, \"%s\", want \"%s\"", i, cases[i].schema,
                     cases[i].value, rc, e.msg, cases[i].msg);
    }
}

static void test_schema_accepts_valid(void **state)
{
    (void)state;
    struct err e = {0};
    assert_int_equal(validate_text(sleep_schema, "{\"seconds\":2}", &e), 0);
    assert_int_equal(validate_text(sleep_schema,
                                   "{\"seconds\":2.5,\"steps\":3,\"mode\":\"b\",\"tags\":[\"x\"]}",
                                   &e),
                     0);
    assert_int_equal(validate_text(sleep_schema, "{\"seconds\":1,\"steps\":3.0}", &e), 0);
}

static void test_schema_names_the_instance_path_and_keyword(void **state)
{
    (void)state;
    const struct kcase cases[] = {
        {"{\"properties\":{\"items\":{\"items\":{\"properties\":{\"name\":{\"minLength\":3}}}}}}",
         "{\"items\":[{\"name\":\"abc\"},{\"name\":\"abcd\"},{\"name\":\"ab\"}]}",
         "/items/2/name: must be at least 3 characters (minLength)"},
        {"{\"type\":\"object\"}", "[]", "(root): must be of type object, not an array (type)"},
        {"{\"properties\":{\"a/b~c\":{\"type\":\"string\"}}}", "{\"a/b~c\":1}",
         "/a~1b~0c: must be of type string, not an integer (type)"},
        {"{\"additionalProperties\":false}", "{\"bogus\":1}",
         "/bogus: is not an accepted property (additionalProperties)"},
        {"{\"required\":[\"seconds\"]}", "{}",
         "(root): the property \"seconds\" is required (required)"},
    };
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
    struct err e = {0};
    assert_int_equal(validate_text(sleep_schema, "{\"seconds\":\"2\"}", &e), -SCHEMA_EINVALID);
    assert_string_equal(e.msg, "/seconds: must be of type number, not a string (type)");
    assert_int_equal(validate_text(sleep_schema, "{\"seconds\":90000}", &e), -SCHEMA_EINVALID);
    assert_string_equal(e.msg, "/seconds: must be <= 86400 (maximum)");
    assert_int_equal(validate_text(sleep_schema, "{\"seconds\":1,\"tags\":[\"long\"]}", &e),
                     -SCHEMA_EINVALID);
    assert_string_equal(e.msg, "/tags/0: must be at most 3 characters (maxLength)");
}

static void test_schema_type_const_enum(void **state)
{
    (void)state;
    const struct kcase cases[] = {
        {"{\"type\":\"integer\"}", "3.0", ""},
        {"{\"type\":\"integer\"}", "3.5", "(root): must be of type integer, not a number (type)"},
        {"{\"type\":[\"string\",\"null\"]}", "null", ""},
        {"{\"type\":[\"string\",\"null\"]}", "1",
         "(root): must be one of the types null, string, not an integer (type)"},
        {"{\"const\":1}", "1.0", ""},
        {"{\"const\":{\"a\":[1,2]}}", "{\"a\":[1.0,2]}", ""},
        {"{\"const\":1}", "true", "(root): must be equal to the constant (const)"},
        {"{\"const\":\"a\\u0000b\"}", "\"a\\u0000c\"",
         "(root): must be equal to the constant (const)"},
        {"{\"enum\":[1,\"x\",[null]]}", "[null]", ""},
        {"{\"enum\":[1,\"x\"]}", "false", "(root): must be one of the 2 allowed values (enum)"},
        {"{\"format\":\"email\"}", "\"not an email\"", ""},
        {"{\"x-unknown\":{\"type\":\"string\"},\"title\":\"t\"}", "1", ""},
        {"true", "{}", ""},
        {"false", "{}", "(root): no value is allowed here (false schema)"},
    };
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_schema_numbers(void **state)
{
    (void)state;
    const struct kcase cases[] = {
        {"{\"minimum\":0}", "-1", "(root): must be >= 0 (minimum)"},
        {"{\"exclusiveMinimum\":0}", "0", "(root): must be > 0 (exclusiveMinimum)"},
        {"{\"exclusiveMaximum\":1.5}", "1.5", "(root): must be < 1.5 (exclusiveMaximum)"},
        {"{\"maximum\":9007199254740993}", "9007199254740992", ""},
        {"{\"multipleOf\":0.0001}", "0.0075", ""},
        {"{\"multipleOf\":0.01}", "1.005", "(root): must be a multiple of 0.01 (multipleOf)"},
        {"{\"multipleOf\":3}", "9223372036854775806", ""},
        {"{\"multipleOf\":0.5}", "1e308", ""},
        {"{\"multipleOf\":0.123456789}", "1e308",
         "(root): must be a multiple of 0.123456789 (multipleOf)"},
        {"{\"minimum\":5}", "\"4\"", ""},
    };
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_schema_strings(void **state)
{
    (void)state;
    const struct kcase cases[] = {
        {"{\"maxLength\":2}", "\"\\ud83d\\ude00\\u00e9\"", ""}, /* two code points */
        {"{\"minLength\":2.0}", "\"a\"", "(root): must be at least 2 characters (minLength)"},
        {"{\"pattern\":\"^\\\\d{3}$\"}", "\"123\"", ""},
        {"{\"pattern\":\"^\\\\d{3}$\"}", "\"12a\"",
         "(root): must match the schema's pattern (pattern)"},
        {"{\"pattern\":\"^.$\"}", "\"\\u00e9\"", ""},
        {"{\"pattern\":\"^.$\"}", "\"\\n\"", "(root): must match the schema's pattern (pattern)"},
        {"{\"pattern\":\"^[^a]$\"}", "\"\\ud83d\\ude00\"", ""},
        {"{\"pattern\":\"^\\\\w+$\"}", "\"h\\u00e9\"",
         "(root): must match the schema's pattern (pattern)"},
        {"{\"pattern\":\"^\\\\s$\"}", "\"\\u3000\"", ""},
        {"{\"pattern\":\"\\\\bcat\\\\b\"}", "\"\\u00e9cat\"", ""},
        {"{\"pattern\":\"^(?:ab)+?$\"}", "\"abab\"", ""},
        {"{\"pattern\":\"^[\\\\u4e00-\\\\u9fff]+$\"}", "\"\\u65e5\\u672c\"", ""},
        {"{\"pattern\":\"^[\\\\]\\\\[^-]+$\"}", "\"][^-\"", ""},
        {"{\"pattern\":\"a\"}", "1", ""},
    };
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_schema_arrays(void **state)
{
    (void)state;
    const struct kcase cases[] = {
        {"{\"minItems\":1}", "[]", "(root): must have at least 1 items (minItems)"},
        {"{\"maxItems\":1}", "[1,2]", "(root): must have at most 1 items (maxItems)"},
        {"{\"uniqueItems\":true}", "[1,{\"a\":1},1.0]",
         "(root): items 0 and 2 are equal (uniqueItems)"},
        {"{\"uniqueItems\":true}", "[1,true,\"1\",[1],{\"a\":1},{\"a\":2}]", ""},
        {"{\"prefixItems\":[{\"type\":\"string\"}],\"items\":{\"type\":\"integer\"}}",
         "[\"a\",1,2]", ""},
        {"{\"prefixItems\":[{\"type\":\"string\"}],\"items\":false}", "[\"a\",1]",
         "/1: no value is allowed here (false schema)"},
        {"{\"contains\":{\"type\":\"string\"}}", "[1,2]",
         "(root): must contain an item that matches the contains schema (contains)"},
        {"{\"contains\":{\"const\":1},\"minContains\":2}", "[1,2]",
         "(root): must contain at least 2 matching items (minContains)"},
        {"{\"contains\":{\"const\":1},\"maxContains\":1}", "[1,1.0]",
         "(root): must contain at most 1 matching items (maxContains)"},
        {"{\"contains\":{\"const\":1},\"minContains\":0}", "[]", ""},
        {"{\"minContains\":5}", "[]", ""}, /* without contains, no effect */
    };
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_schema_objects(void **state)
{
    (void)state;
    const struct kcase cases[] = {
        {"{\"minProperties\":1}", "{}", "(root): must have at least 1 properties (minProperties)"},
        {"{\"maxProperties\":0}", "{\"a\":1}",
         "(root): must have at most 0 properties (maxProperties)"},
        {"{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},\"additionalProperties\":false}",
         "{\"x-a\":\"s\"}", ""},
        {"{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}}}", "{\"x-a\":1}",
         "/x-a: must be of type string, not an integer (type)"},
        {"{\"additionalProperties\":{\"type\":\"integer\"}}", "{\"a\":\"s\"}",
         "/a: must be of type integer, not a string (type)"},
        {"{\"propertyNames\":{\"maxLength\":3}}", "{\"abcd\":1}",
         "(root): the property name \"abcd\" is not allowed (propertyNames)"},
        {"{\"dependentRequired\":{\"card\":[\"cvv\"]}}", "{\"card\":1}",
         "(root): the property \"cvv\" is required with \"card\" (dependentRequired)"},
        {"{\"dependentSchemas\":{\"card\":{\"required\":[\"cvv\"]}}}", "{\"card\":1}",
         "(root): the property \"cvv\" is required (required)"},
        {"{\"dependencies\":{\"a\":[\"b\"],\"c\":{\"maxProperties\":1}}}", "{\"c\":1,\"d\":2}",
         "(root): must have at most 1 properties (maxProperties)"},
    };
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_schema_applicators(void **state)
{
    (void)state;
    const struct kcase cases[] = {
        {"{\"allOf\":[{\"type\":\"number\"},{\"minimum\":2}]}", "1",
         "(root): must be >= 2 (minimum)"},
        {"{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":2}]}", "1",
         "(root): must match at least one of the anyOf schemas (anyOf)"},
        {"{\"oneOf\":[{\"type\":\"number\"},{\"minimum\":2}]}", "3",
         "(root): must match only one of the oneOf schemas (0 and more) (oneOf)"},
        {"{\"oneOf\":[{\"type\":\"string\"},{\"minimum\":2}]}", "1",
         "(root): must match one of the oneOf schemas (oneOf)"},
        {"{\"not\":{\"type\":\"string\"}}", "\"s\"",
         "(root): must not match the \"not\" schema (not)"},
        {"{\"if\":{\"minimum\":10},\"then\":{\"multipleOf\":10},\"else\":{\"maximum\":5}}", "20",
         ""},
        {"{\"if\":{\"minimum\":10},\"then\":{\"multipleOf\":10},\"else\":{\"maximum\":5}}", "15",
         "(root): must be a multiple of 10 (multipleOf)"},
        {"{\"if\":{\"minimum\":10},\"then\":{\"multipleOf\":10},\"else\":{\"maximum\":5}}", "7",
         "(root): must be <= 5 (maximum)"},
        {"{\"then\":false}", "1", ""}, /* then without if: no effect */
        {"{\"$defs\":{\"n\":{\"type\":\"number\"}},\"properties\":{\"a\":{\"$ref\":\"#/$defs/"
         "n\"}}}",
         "{\"a\":\"x\"}", "/a: must be of type number, not a string (type)"},
        {"{\"$defs\":{\"n\":{\"$anchor\":\"num\",\"type\":\"number\"}},\"items\":{\"$ref\":\"#"
         "num\"}}",
         "[1,\"x\"]", "/1: must be of type number, not a string (type)"},
        {"{\"type\":\"object\",\"properties\":{\"next\":{\"$ref\":\"#\"},\"v\":{\"type\":"
         "\"integer\"}}}",
         "{\"next\":{\"next\":{\"v\":\"x\"}}}",
         "/next/next/v: must be of type integer, not a string (type)"},
        {"{\"$defs\":{\"a b\":{\"type\":\"string\"}},\"$ref\":\"#/$defs/a%20b\"}", "1",
         "(root): must be of type string, not an integer (type)"},
    };
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* unevaluatedProperties/Items see the annotations of every passing subschema on the same
 * instance, and only those. */
static void test_schema_unevaluated_follows_annotations(void **state)
{
    (void)state;
    static const char props[] =
        "{\"$defs\":{\"base\":{\"properties\":{\"a\":true}}},\"$ref\":\"#/$defs/base\","
        "\"allOf\":[{\"properties\":{\"b\":true}}],"
        "\"anyOf\":[{\"properties\":{\"c\":true},\"required\":[\"c\"]},"
        "{\"properties\":{\"d\":true},\"required\":[\"d\"]},true],"
        "\"oneOf\":[{\"patternProperties\":{\"^e\":true}},{\"required\":[\"zz\"]}],"
        "\"if\":{\"properties\":{\"f\":{\"const\":1}},\"required\":[\"f\"]},"
        "\"then\":{\"properties\":{\"g\":true}},\"else\":{\"properties\":{\"h\":true}},"
        "\"dependentSchemas\":{\"i\":{\"properties\":{\"j\":true}}},"
        "\"properties\":{\"i\":true},\"unevaluatedProperties\":false}";
    const struct kcase cases[] = {
        {props, "{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e1\":1}", ""},
        {props, "{\"f\":1,\"g\":1}", ""},
        {props, "{\"h\":1}", ""},
        {props, "{\"f\":2,\"h\":1}", "/f: is not an accepted property (unevaluatedProperties)"},
        {props, "{\"f\":1,\"h\":1}", "/h: is not an accepted property (unevaluatedProperties)"},
        {props, "{\"i\":1,\"j\":1}", ""},
        {props, "{\"j\":1}", "/j: is not an accepted property (unevaluatedProperties)"},
        /* a failing anyOf branch gives nothing, even when it evaluated the property */
        {"{\"anyOf\":[{\"properties\":{\"a\":true},\"required\":[\"b\"]},true],"
         "\"unevaluatedProperties\":false}",
         "{\"a\":1}", "/a: is not an accepted property (unevaluatedProperties)"},
        /* not gives nothing */
        {"{\"not\":{\"not\":{\"properties\":{\"a\":true}}},\"unevaluatedProperties\":false}",
         "{\"a\":1}", "/a: is not an accepted property (unevaluatedProperties)"},
        /* nested: the inner unevaluatedProperties evaluates for the outer one */
        {"{\"allOf\":[{\"unevaluatedProperties\":true}],\"unevaluatedProperties\":false}",
         "{\"a\":1}", ""},
        {"{\"prefixItems\":[true],\"allOf\":[{\"contains\":{\"type\":\"string\"}}],"
         "\"unevaluatedItems\":false}",
         "[1,\"s\",\"t\"]", ""},
        {"{\"prefixItems\":[true],\"allOf\":[{\"contains\":{\"type\":\"string\"}}],"
         "\"unevaluatedItems\":false}",
         "[1,\"s\",2]", "(root): must not have item 2 (unevaluatedItems)"},
        {"{\"unevaluatedItems\":{\"type\":\"integer\"}}", "[1,\"x\"]",
         "/1: must be of type integer, not a string (type)"},
        {"{\"anyOf\":[{\"items\":{\"type\":\"string\"}},true],\"unevaluatedItems\":false}",
         "[\"a\"]", ""},
    };
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* A value nested 'depth' arrays deep. */
static json_t *deep_array(int depth)
{
    json_t *root = json_array(), *cur = root;
    for (int i = 1; i < depth; i++) {
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    return root;
}

static void test_schema_limits_the_instance(void **state)
{
    (void)state;
    struct err e = {0};
    json_t *v = deep_array(2000);
    json_t *args = json_pack("{s:o}", "a", v);
    assert_int_equal(validate_value("{\"type\":\"object\"}", args, &e), -SCHEMA_EINVALID);
    assert_non_null(strstr(e.msg, "nested deeper than 64 levels (limit)"));
    assert_int_equal(strncmp(e.msg, "/a/0/0/0", 8), 0);
    json_decref(args);
    v = deep_array(SCHEMA_MAX_DEPTH + 1); /* 64 levels below the root: accepted */
    assert_int_equal(validate_value("{\"type\":\"array\"}", v, &e), 0);
    json_decref(v);
    v = json_array();
    for (int i = 0; i <= SCHEMA_MAX_VALUES; i++)
        json_array_append_new(v, json_true());
    assert_int_equal(validate_value("true", v, &e), -SCHEMA_EINVALID);
    assert_string_equal(e.msg, "/99999: more than 100000 values in all (limit)");
    json_decref(v);
}

static void test_schema_limits_the_work(void **state)
{
    (void)state;
    struct err e = {0};
    /* 3,000 distinct objects under uniqueItems: 4.5 million comparisons, over the budget. */
    json_t *v = json_array();
    for (int i = 0; i < 3000; i++)
        json_array_append_new(v, json_pack("{s:i}", "k", i));
    assert_int_equal(validate_value("{\"uniqueItems\":true}", v, &e), -SCHEMA_EINVALID);
    assert_string_equal(e.msg, "(root): too complex to validate (limit)");
    /* A limit inside "not" is still a failure. */
    assert_int_equal(validate_value("{\"not\":{\"uniqueItems\":true}}", v, &e), -SCHEMA_EINVALID);
    assert_non_null(strstr(e.msg, "(limit)"));
    json_decref(v);
    /* anyOf of two branches, 22 levels deep, under unevaluatedProperties (so every branch
     * is evaluated for its annotations): 2^22 applications, stopped by the budget. */
    char schema[8192] = "{\"$ref\":\"#/$defs/d0\",\"unevaluatedProperties\":false,\"$defs\":{";
    for (int i = 0; i < 22; i++)
        snprintf(schema + strlen(schema), sizeof(schema) - strlen(schema),
                 "\"d%d\":{\"anyOf\":[{\"$ref\":\"#/$defs/d%d\"},{\"$ref\":\"#/$defs/d%d\"}]},", i,
                 i + 1, i + 1);
    strcat(schema, "\"d22\":true}}");
    assert_int_equal(validate_text(schema, "{}", &e), -SCHEMA_EINVALID);
    assert_string_equal(e.msg, "(root): too complex to validate (limit)");
}

/* The message of schema_compile() on 'schema_text', which must be refused. */
static void expect_refused(const char *schema_text, const char *want)
{
    json_t *doc = json_loads(schema_text, JSON_DECODE_ANY, NULL);
    struct schema *s = NULL;
    struct err e = {0};
    assert_non_null(doc);
    int rc = schema_compile(doc, &s, &e);
    if (rc != -SCHEMA_EBADSCHEMA || strcmp(e.msg, want) != 0)
        fail_msg("%s: rc %d \"%s\", want \"%s\"", schema_text, rc, e.msg, want);
    assert_null(s);
    json_decref(doc);
}

static void test_schema_compile_refuses_bad_schemas(void **state)
{
    (void)state;
    expect_refused("{\"properties\":{\"a\":{\"minLength\":-1}}}",
                   "at #/properties/a: \"minLength\" must be a non-negative integer");
    expect_refused("{\"type\":\"float\"}", "at #: \"type\" names an unknown type");
    expect_refused("{\"required\":[\"a\",\"a\"]}",
                   "at #: \"required\" must be an array of distinct strings");
    expect_refused("{\"multipleOf\":0}", "at #: \"multipleOf\" must be greater than 0");
    expect_refused("{\"allOf\":[]}", "at #: \"allOf\" must be a non-empty array of schemas");
    expect_refused("{\"enum\":[]}", "at #: \"enum\" must be a non-empty array");
    expect_refused("{\"items\":3}", "at #/items: a schema must be an object or a boolean");
    expect_refused("{\"pattern\":\"(a\"}", "at #: \"pattern\" pattern: a ( without its )");
    expect_refused("{\"patternProperties\":{\"(?=x)\":true}}",
                   "at #: \"patternProperties\" pattern: lookahead and lookbehind are not "
                   "supported");
    expect_refused("{\"pattern\":\"(a)\\\\1\"}",
                   "at #: \"pattern\" pattern: backreferences and \\0 are not supported");
    expect_refused("{\"pattern\":\"(a{100}){100}\"}",
                   "at #: \"pattern\" pattern: too complex (counted repetition, nested bounds "
                   "multiplied, over 1000)");
    expect_refused("{\"$ref\":\"#/$defs/nope\"}",
                   "at #: \"$ref\" does not resolve within the schema");
    expect_refused("{\"$ref\":\"https://example.com/s.json\"}",
                   "at #: \"$ref\" is remote: only references within the schema (\"#...\") are "
                   "supported");
    expect_refused("{\"$defs\":{\"a\":{\"$id\":\"x.json\"}}}",
                   "at #: \"$id\" is only supported on the root schema");
    expect_refused("{\"$dynamicRef\":\"#x\"}", "at #: \"$dynamicRef\" is not supported");
    expect_refused("{\"$schema\":\"http://json-schema.org/draft-07/schema#\"}",
                   "at #: \"$schema\" must be https://json-schema.org/draft/2020-12/schema "
                   "(only JSON Schema 2020-12 is supported)");
    expect_refused("{\"$ref\":\"#\"}",
                   "at #: \"$ref\" makes a cycle that never goes down into the instance");
    expect_refused("{\"$defs\":{\"a\":{\"anyOf\":[{\"$ref\":\"#/$defs/b\"}]},"
                   "\"b\":{\"not\":{\"$ref\":\"#/$defs/a\"}}},\"items\":{\"$ref\":\"#/$defs/a\"}}",
                   "at #: \"$ref\" makes a cycle that never goes down into the instance");
    expect_refused("{\"$anchor\":\"1x\"}",
                   "at #: \"$anchor\" must be a name ([A-Za-z_][-A-Za-z0-9._]*)");
    expect_refused("{\"title\":5}", "at #: \"title\" must be a string");
    expect_refused("3", "at #: a schema must be an object or a boolean");
}

static void test_schema_compile_bounds_the_schema(void **state)
{
    (void)state;
    /* subschemas nested past SCHEMA_MAX_DEPTH */
    json_t *deep = json_object(), *cur = deep;
    for (int i = 0; i < 100; i++) {
        json_t *next = json_object();
        json_object_set_new(cur, "items", next);
        cur = next;
    }
    struct schema *s = NULL;
    struct err e = {0};
    assert_int_equal(schema_compile(deep, &s, &e), -SCHEMA_EBADSCHEMA);
    assert_non_null(strstr(e.msg, "subschemas are nested too deeply"));
    json_decref(deep);
    /* a chain of 80 $refs on one instance (each target written first, so that compiling
     * them does not nest) */
    json_t *defs = json_object();
    for (int i = 79; i >= 0; i--) {
        char name[16], ref[32];
        snprintf(name, sizeof(name), "d%d", i);
        snprintf(ref, sizeof(ref), "#/$defs/d%d", i + 1);
        json_object_set_new(defs, name, i == 79 ? json_true() : json_pack("{s:s}", "$ref", ref));
    }
    json_t *doc = json_pack("{s:o, s:s}", "$defs", defs, "$ref", "#/$defs/d0");
    assert_int_equal(schema_compile(doc, &s, &e), -SCHEMA_EBADSCHEMA);
    assert_non_null(strstr(e.msg, "more than 64 subschemas on one instance"));
    json_decref(doc);
}

/* A compiled schema is reused: compiling once and validating many times gives the same
 * answers as a fresh compile, and a root $id is honoured by references that name it. */
static void test_schema_compiled_form_is_reusable(void **state)
{
    (void)state;
    json_t *doc = json_loads("{\"$id\":\"https://example.com/t.json\",\"$defs\":{\"s\":"
                             "{\"type\":\"string\",\"pattern\":\"^a\"}},\"items\":{\"$ref\":"
                             "\"https://example.com/t.json#/$defs/s\"}}",
                             0, NULL);
    struct schema *s = NULL;
    struct err e = {0};
    assert_int_equal(schema_compile(doc, &s, &e), 0);
    json_decref(doc); /* the compiled schema keeps its own reference */
    for (int i = 0; i < 1000; i++) {
        json_t *v = json_pack("[s, s]", "abc", i % 2 ? "bcd" : "aaa");
        assert_int_equal(schema_validate(s, v, &e), i % 2 ? -SCHEMA_EINVALID : 0);
        json_decref(v);
    }
    assert_string_equal(e.msg, "/1: must match the schema's pattern (pattern)");
    schema_free(s);
    schema_free(NULL);
}

static void test_schema_check_nul_names_the_place(void **state)
{
    (void)state;
    struct err e = {0};
    json_t *v = json_loads("{\"a\":[\"ok\",\"x\\u0000y\"]}", JSON_ALLOW_NUL, NULL);
    assert_non_null(v);
    assert_int_equal(schema_check_nul(v, "/params/arguments", &e), -SCHEMA_EINVALID);
    assert_string_equal(e.msg, "/params/arguments/a/1: strings may not contain U+0000");
    json_decref(v);
    v = json_object();
    assert_int_equal(json_object_setn_new_nocheck(v, "k\0ey", 4, json_true()), 0);
    assert_int_equal(schema_check_nul(v, "", &e), -SCHEMA_EINVALID);
    assert_string_equal(e.msg, "/k\\u0000ey: strings may not contain U+0000");
    json_decref(v);
    v = json_loads("{\"a\":[\"ok\",{\"b\":null}]}", 0, NULL);
    assert_int_equal(schema_check_nul(v, "", &e), 0);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_accepts_valid),
        cmocka_unit_test(test_schema_names_the_instance_path_and_keyword),
        cmocka_unit_test(test_schema_type_const_enum),
        cmocka_unit_test(test_schema_numbers),
        cmocka_unit_test(test_schema_strings),
        cmocka_unit_test(test_schema_arrays),
        cmocka_unit_test(test_schema_objects),
        cmocka_unit_test(test_schema_applicators),
        cmocka_unit_test(test_schema_unevaluated_follows_annotations),
        cmocka_unit_test(test_schema_limits_the_instance),
        cmocka_unit_test(test_schema_limits_the_work),
        cmocka_unit_test(test_schema_compile_refuses_bad_schemas),
        cmocka_unit_test(test_schema_compile_bounds_the_schema),
        cmocka_unit_test(test_schema_compiled_form_is_reusable),
        cmocka_unit_test(test_schema_check_nul_names_the_place),
    };
    return cmocka_run_group_tests_name("schema", tests, NULL, NULL);
}
