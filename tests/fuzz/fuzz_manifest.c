/*
 * fuzz_manifest.c - libFuzzer target for the tools manifest (common/manifest.c).
 *
 * Input: the manifest's JSON text, loaded with manifest_load_text() into a
 * fresh catalog of the built-in tools, relative paths resolving against
 * /bin (so "sh" names a real program and valid manifests get through to the
 * catalog, schema checks at registration included).  Contracts checked,
 * abort() when broken: a refusal is -MANIFEST_EINVALID or -MANIFEST_ENOMEM
 * with a message naming the manifest and adds nothing; a success adds every
 * tool of the "tools" array, each with its exec spec and an absolute argv[0].
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Tools in 'c' (by tools/list); 0 when the list cannot be made. */
static size_t count_tools(const struct catalog *c)
{
    json_t *list = catalog_list(c);
    size_t n = json_array_size(list);
    json_decref(list);
    return n;
}

/* Every tool of the manifest 'text' must be in 'c' with an exec spec. */
static void check_added(const struct catalog *c, const uint8_t *text, size_t len, size_t before)
{
    json_t *doc = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
    const json_t *tools = json_object_get(doc, "tools");
    const json_t *tool;
    size_t i;
    if (!json_is_array(tools) || count_tools(c) != before + json_array_size(tools))
        abort();
    json_array_foreach(tools, i, tool)
    {
        const struct tool_desc *d =
            catalog_find(c, json_string_value(json_object_get(tool, "name")));
        const char *prog = json_string_value(json_array_get(json_object_get(d ? d->exec : NULL,
                                                                            "argv"),
                                                            0));
        if (!d || !d->schema || !prog || prog[0] != '/')
            abort();
    }
    json_decref(doc);
}

/*
 * libFuzzer entry point: one input per call.  Returns 0; aborts when a
 * contract in the file comment is broken.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct err e = {0};
    struct catalog *c = catalog_new(false, &e);
    if (!c)
        return 0; /* out of memory */
    size_t before = count_tools(c);
    int rc = manifest_load_text(c, (const char *)data, size, "fuzz.json", "/bin", &e);
    if (rc == 0) {
        check_added(c, data, size, before);
    } else if (rc == -MANIFEST_EINVALID) {
        if (e.code != rc || strncmp(e.msg, "tools manifest fuzz.json: ", 26) != 0 ||
            count_tools(c) != before)
            abort(); /* all or nothing */
    } else if (rc != -MANIFEST_ENOMEM) {
        abort();
    }
    catalog_free(c);
    return 0;
}
