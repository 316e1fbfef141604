/*
 * schema_verdicts.c - print common/schema.c's verdict on every case of a
 * JSON Schema corpus, for the differential test against ajv (run).
 *
 *   schema_verdicts FILE...
 *
 * Each FILE is in the JSON-Schema-Test-Suite format: an array of groups
 * {"description", "schema", "tests": [{"description", "data", "valid"}]}.
 * Each group's schema is compiled once; each test prints one line
 *   FILE<TAB>GROUP<TAB>TEST<TAB>VERDICT<TAB>DETAIL
 * with GROUP and TEST as indexes from 0, VERDICT "valid", "invalid" or
 * "schema-error", and DETAIL the validator's message (or "-").  Exit 0, or
 * 2 when a file cannot be read.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "schema.h"

static void print_case(const char *file, size_t g, size_t t, const char *verdict,
                       const char *detail)
{
    printf("%s\t%zu\t%zu\t%s\t", file, g, t, verdict);
    for (const char *p = detail; *p; p++) /* one line per case */
        putchar(*p == '\t' || *p == '\n' ? ' ' : *p);
    putchar('\n');
}

static void run_group(const char *file, size_t g, const json_t *group)
{
    const json_t *tests = json_object_get(group, "tests");
    struct schema *s = NULL;
    struct err e = {0};
    int crc = schema_compile(json_object_get(group, "schema"), &s, &e);
    char compile_msg[sizeof(e.msg)];
    snprintf(compile_msg, sizeof(compile_msg), "%s", e.msg);
    for (size_t t = 0; t < json_array_size(tests); t++) {
        const json_t *data = json_object_get(json_array_get(tests, t), "data");
        if (crc < 0) {
            print_case(file, g, t, "schema-error", compile_msg);
            continue;
        }
        memset(&e, 0, sizeof(e));
        int rc = schema_validate(s, data ? data : json_null(), &e);
        print_case(file, g, t, rc == 0 ? "valid" : "invalid", rc == 0 ? "-" : e.msg);
    }
    schema_free(s);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        json_error_t jerr;
        json_t *doc = json_load_file(argv[i], JSON_ALLOW_NUL, &jerr);
        if (!json_is_array(doc)) {
            fprintf(stderr, "schema_verdicts: %s: %s\n", argv[i], doc ? "not an array" : jerr.text);
            json_decref(doc);
            return 2;
        }
        const char *base = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
        for (size_t g = 0; g < json_array_size(doc); g++)
            run_group(base, g, json_array_get(doc, g));
        json_decref(doc);
    }
    return 0;
}
