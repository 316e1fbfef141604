/*
 * fuzz_schema.c - libFuzzer target for the schema validator (common/schema*.c).
 *
 * Input: a schema and an instance, both JSON text, split at the first NUL
 * byte (no NUL: the whole input is the schema and the instance is {}).  The
 * schema is compiled; when that succeeds the instance is validated twice
 * against the same compiled form, which must give the same answer and
 * message (the compiled form is read-only), and then checked for U+0000.
 * Any broken contract calls abort().
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t slen = nul ? (size_t)(nul - data) : size;
    json_t *doc = json_loadb((const char *)data, slen, JSON_DECODE_ANY, NULL);
    json_t *value = nul ? json_loadb((const char *)nul + 1, size - slen - 1,
                                     JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL)
                        : json_object();
    struct schema *s = NULL;
    struct err e1 = {0}, e2 = {0};
    if (doc && value && schema_compile(doc, &s, &e1) == 0) {
        int rc1 = schema_validate(s, value, &e1);
        int rc2 = schema_validate(s, value, &e2);
        if (rc1 != rc2 || (rc1 < 0 && strcmp(e1.msg, e2.msg) != 0))
            abort();
        if (rc1 != 0 && rc1 != -SCHEMA_EINVALID && rc1 != -SCHEMA_ENOMEM)
            abort();
        int nrc = schema_check_nul(value, "", &e1);
        if (nrc != 0 && nrc != -SCHEMA_EINVALID)
            abort();
    } else if (s) {
        abort(); /* a failed compile hands nothing out */
    }
    schema_free(s);
    json_decref(doc);
    json_decref(value);
    return 0;
}
