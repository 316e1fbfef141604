/*
 * fuzz_quota.c - libFuzzer target: the limits overrides file (quota.c).
 *
 * The first input line (up to a newline) is a principal and its scopes
 * ("name scope scope..."), the rest the overrides document; whatever
 * parses is resolved for that principal and its scopes, and every resolved
 * limit must stay within 0 and the largest value a file may set, or a
 * setting's own value.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct quota_set defaults = {
        .per_s = {20, 100, 50}, .burst = {40, 200, 100}, .max_sync = 16, .max_listen = 16,
        .max_live = 500};
    const uint8_t *nl = memchr(data, '\n', size < 1024 ? size : 1024);
    char who[1025] = "";
    const char *json = (const char *)data;
    size_t len = size;
    if (nl) {
        size_t n = (size_t)(nl - data);
        memcpy(who, data, n);
        who[n] = '\0';
        json = (const char *)nl + 1;
        len = size - n - 1;
    }
    struct err e;
    struct quota *q = quota_new(&defaults, json, len, &e);
    if (!q)
        return 0;
    char *scopes = strchr(who, ' ');
    if (scopes)
        *scopes++ = '\0';
    struct quota_set s;
    quota_resolve(q, who, scopes, &s);
    const int64_t *v = (const int64_t *)&s;
    for (size_t i = 0; i < sizeof(s) / sizeof(*v); i++)
        if (v[i] < 0 || v[i] > 1000000000)
            abort();
    quota_resolve(q, NULL, NULL, &s);
    if (memcmp(&s, &defaults, sizeof(s)) != 0)
        abort();
    quota_free(q);
    return 0;
}
