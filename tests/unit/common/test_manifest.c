/*
 * test_manifest.c - loading a tools manifest into the catalog: a valid file,
 * defaults, relative argv[0] and cwd resolution, strictness (unknown keys,
 * types, ranges, reserved names) and all-or-nothing.  Files are written into
 * a temporary folder.  manifest_load_text() (the fuzz target's way in) must
 * answer exactly as manifest_load() does for the same bytes.  A manifest that
 * is not a regular file (a FIFO, which used to block the start for ever, a
 * folder, a device) or is over 16 MiB is refused at once.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _XOPEN_SOURCE 700 /* nftw() */
#include "manifest.h"

#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[64];            /* scratch folder */
static char manifest[128];      /* dir/manifest.json */
static char real_dir[PATH_MAX]; /* dir with symbolic links resolved */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/test_manifest.XXXXXX");
    if (!mkdtemp(dir) || !realpath(dir, real_dir))
        return -1;
    snprintf(manifest, sizeof(manifest), "%s/manifest.json", dir);
    char path[256];
    snprintf(path, sizeof(path), "%s/tool.sh", dir);
    write_file(path, "#!/bin/sh\nexit 0\n", 0755);
    snprintf(path, sizeof(path), "%s/bin", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/bin/nested.sh", dir);
    write_file(path, "#!/bin/sh\nexit 0\n", 0755);
    snprintf(path, sizeof(path), "%s/plain.txt", dir);
    write_file(path, "not a program\n", 0644);
    return 0;
}

static int teardown(void **state)
{
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A manifest with one tool made of 'fields' (JSON members after "name"). */
static void one_tool(const char *fields)
{
    char text[4096];
    snprintf(text, sizeof(text),
             "{\"tools\":[{\"name\":\"t1\",\"description\":\"d\","
             "\"inputSchema\":{\"type\":\"object\"},\"argv\":[\"tool.sh\"]%s%s}]}",
             *fields ? "," : "", fields);
    write_file(manifest, text, 0644);
}

static struct catalog *new_catalog(void)
{
    struct err e = {0};
    struct catalog *c = catalog_new(false, &e);
    if (!c)
        fail_msg("catalog_new: %s", e.msg);
    return c;
}

static size_t tool_count(const struct catalog *c)
{
    json_t *list = catalog_list(c);
    size_t n = json_array_size(list);
    json_decref(list);
    return n;
}

/* Load the current manifest into a fresh catalog; expect failure whose message has 'want'. */
static void expect_refused(const char *want)
{
    struct catalog *c = new_catalog();
    size_t before = tool_count(c);
    struct err e = {0};
    assert_int_equal(manifest_load(c, manifest, &e), -1);
    if (!strstr(e.msg, want))
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, want);
    assert_non_null(strstr(e.msg, "manifest.json"));
    assert_int_equal(tool_count(c), before);
    assert_null(catalog_find(c, "t1"));
    catalog_free(c);
}

static void test_manifest_loads_valid_tools(void **state)
{
    write_file(
        manifest,
        "{\"tools\":["
        "{\"name\":\"t1\",\"title\":\"Tool one\",\"description\":\"first\","
        "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}},"
        "\"taskPolicy\":\"optional\",\"argv\":[\"tool.sh\",\"--flag\",\"x y\"],"
        "\"timeoutMs\":1000,\"env\":[\"HOME\",\"LANG\"],\"maxOutputBytes\":2048,"
        "\"maxStderrBytes\":0,\"killGraceMs\":0,\"cwd\":\"bin\"},"
        "{\"name\":\"t2\",\"description\":\"second\",\"inputSchema\":{\"type\":\"object\"},"
        "\"argv\":[\"/bin/true\"]}]}",
        0644);
    struct catalog *c = new_catalog();
    size_t before = tool_count(c);
    struct err e = {0};
    if (manifest_load(c, manifest, &e) != 0)
        fail_msg("manifest_load: %s", e.msg);
    assert_int_equal(tool_count(c), before + 2);

    const struct tool_desc *t1 = catalog_find(c, "t1");
    assert_non_null(t1);
    assert_int_equal(t1->policy, TOOL_TASK_OPTIONAL);
    /* The Tool object holds exactly what clients may see: what the manifest says, and as
     * for every tool that may run as a task, the task view App in _meta. */
    assert_int_equal(json_object_size(t1->definition), 5);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(t1->definition, "_meta"), "ui"),
                            "resourceUri")),
                        "ui://taskwire/task");
    assert_string_equal(json_string_value(json_object_get(t1->definition, "title")), "Tool one");
    assert_string_equal(json_string_value(json_object_get(t1->definition, "description")), "first");
    assert_true(json_is_object(json_object_get(t1->input_schema, "properties")));
    /* The exec spec: argv[0] absolute, the rest as written, limits as given. */
    const json_t *x = t1->exec;
    assert_non_null(x);
    char want[PATH_MAX + 16];
    snprintf(want, sizeof(want), "%s/tool.sh", real_dir);
    assert_string_equal(json_string_value(json_array_get(json_object_get(x, "argv"), 0)), want);
    assert_string_equal(json_string_value(json_array_get(json_object_get(x, "argv"), 2)), "x y");
    assert_int_equal(json_integer_value(json_object_get(x, "timeoutMs")), 1000);
    assert_int_equal(json_integer_value(json_object_get(x, "maxOutputBytes")), 2048);
    assert_int_equal(json_integer_value(json_object_get(x, "maxStderrBytes")), 0);
    assert_int_equal(json_integer_value(json_object_get(x, "killGraceMs")), 0);
    assert_int_equal(json_array_size(json_object_get(x, "env")), 2);
    snprintf(want, sizeof(want), "%s/bin", real_dir);
    assert_string_equal(json_string_value(json_object_get(x, "cwd")), want);

    /* Defaults. */
    const struct tool_desc *t2 = catalog_find(c, "t2");
    assert_non_null(t2);
    assert_int_equal(t2->policy, TOOL_TASK_REQUIRED);
    assert_null(json_object_get(t2->definition, "title"));
    x = t2->exec;
    assert_string_equal(json_string_value(json_array_get(json_object_get(x, "argv"), 0)),
                        "/bin/true");
    assert_int_equal(json_integer_value(json_object_get(x, "timeoutMs")), 3600000);
    assert_int_equal(json_integer_value(json_object_get(x, "maxOutputBytes")), 1048576);
    assert_int_equal(json_integer_value(json_object_get(x, "maxStderrBytes")), 65536);
    assert_int_equal(json_integer_value(json_object_get(x, "killGraceMs")), 5000);
    assert_int_equal(json_array_size(json_object_get(x, "env")), 0);
    assert_null(json_object_get(x, "cwd"));
    catalog_free(c);
}

static void test_manifest_resolves_relative_argv_against_its_folder(void **state)
{
    one_tool("\"taskPolicy\":\"never\"");
    write_file(manifest,
               "{\"tools\":[{\"name\":\"t1\",\"description\":\"d\","
               "\"inputSchema\":{\"type\":\"object\"},\"argv\":[\"bin/nested.sh\",\"tool.sh\"]}]}",
               0644);
    /* Loaded from another working directory: the manifest's folder counts, not ours. */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir("/"), 0);
    struct catalog *c = new_catalog();
    struct err e = {0};
    int rc = manifest_load(c, manifest, &e);
    assert_int_equal(chdir(cwd), 0);
    if (rc != 0)
        fail_msg("manifest_load: %s", e.msg);
    const json_t *argv = json_object_get(catalog_find(c, "t1")->exec, "argv");
    char want[PATH_MAX + 32];
    snprintf(want, sizeof(want), "%s/bin/nested.sh", real_dir);
    assert_string_equal(json_string_value(json_array_get(argv, 0)), want);
    assert_string_equal(json_string_value(json_array_get(argv, 1)), "tool.sh"); /* as written */
    catalog_free(c);
}

static void test_manifest_refuses_unknown_keys(void **state)
{
    one_tool("\"timeout\":5");
    expect_refused("unknown key \"timeout\"");
    one_tool("\"outputSchema\":{}");
    expect_refused("unknown key \"outputSchema\"");
    write_file(manifest, "{\"tools\":[],\"version\":1}", 0644);
    expect_refused("unknown key \"version\" at the top level");
    /* Duplicate keys are refused by the JSON reader. */
    write_file(manifest, "{\"tools\":[],\"tools\":[]}", 0644);
    expect_refused("duplicate");
}

static void test_manifest_refuses_bad_types_and_ranges(void **state)
{
    static const struct {
        const char *fields; /* members added to a valid tool */
        const char *want;   /* part of the message */
    } cases[] = {
        {"\"timeoutMs\":\"5\"", "\"timeoutMs\" must be an integer from 1 to 604800000"},
        {"\"timeoutMs\":0", "\"timeoutMs\" must be an integer"},
        {"\"timeoutMs\":604800001", "\"timeoutMs\" must be an integer"},
        {"\"timeoutMs\":5000.0", "\"timeoutMs\" must be an integer"},
        {"\"maxOutputBytes\":0", "\"maxOutputBytes\" must be an integer from 1 to 67108864"},
        {"\"maxStderrBytes\":-1", "\"maxStderrBytes\""},
        {"\"killGraceMs\":true", "\"killGraceMs\""},
        {"\"killGraceMs\":60001", "\"killGraceMs\" must be an integer from 0 to 60000"},
        {"\"taskPolicy\":\"sometimes\"", "\"taskPolicy\" must be"},
        {"\"title\":7", "\"title\" must be a string"},
        {"\"env\":\"HOME\"", "\"env\" must be an array"},
        {"\"env\":[\"BAD-NAME\"]", "env[0] must be a variable name"},
        {"\"env\":[\"HOME\",1]", "env[1] must be a variable name"},
        {"\"env\":[\"TASKWIRE_PG_DSN\"]", "is reserved"},
        {"\"env\":[\"PATH\"]", "is reserved"},
        {"\"env\":[\"HOME\",\"HOME\"]", "listed twice"},
        {"\"cwd\":\"nowhere\"", "No such file or directory"},
        {"\"scopes\":\"tools:x\"", "\"scopes\" must be an array of 1 to 8 strings"},
        {"\"scopes\":[]", "\"scopes\" must be an array"},
        {"\"scopes\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]", "1 to 8"},
        {"\"scopes\":[\"a b\"]", "scopes[0] must be a scope"},
        {"\"scopes\":[\"ok\",\"\"]", "scopes[1] must be a scope"},
        {"\"scopes\":[\"q\\\"x\"]", "scopes[0]"},
        {"\"scopes\":[7]", "scopes[0]"},
        {"\"cwd\":\"tool.sh\"", "is not a directory"},
        {"\"cwd\":3", "\"cwd\" must be a string"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        one_tool(cases[i].fields);
        expect_refused(cases[i].want);
    }
    expect_refused("tools[0] (t1)"); /* the message names the tool */

    static const struct {
        const char *text; /* the whole manifest */
        const char *want; /* part of the message */
    } files[] = {
        {"[]", "top level must be an object"},
        {"{\"tools\":{}}", "\"tools\" must be an array"},
        {"{\"tools\":[7]}", "tools[0]: must be an object"},
        {"{\"tools\":[{\"description\":\"d\"}]}", "\"name\" is required"},
        {"{\"tools\":[{\"name\":\"a b\"}]}", "\"name\" must match"},
        {"{\"tools\":[{\"name\":\"t1\",\"inputSchema\":{\"type\":\"object\"},"
         "\"argv\":[\"tool.sh\"]}]}",
         "\"description\" is required"},
        {"{\"tools\":[{\"name\":\"t1\",\"description\":\"d\",\"argv\":[\"tool.sh\"]}]}",
         "\"inputSchema\" must be an object"},
        {"{\"tools\":[{\"name\":\"t1\",\"description\":\"d\",\"inputSchema\":{},"
         "\"argv\":[\"tool.sh\"]}]}",
         "\"type\": \"object\""},
        {"{\"tools\":[{\"name\":\"t1\",\"description\":\"d\",\"inputSchema\":{\"type\":\"object\"}}"
         "]}",
         "\"argv\" must be an array of 1 to 256 strings"},
        {"{\"tools\":[{\"name\":\"t1\",\"description\":\"d\",\"inputSchema\":{\"type\":\"object\"},"
         "\"argv\":[]}]}",
         "\"argv\" must be an array"},
        {"{\"tools\":[{\"name\":\"t1\",\"description\":\"d\",\"inputSchema\":{\"type\":\"object\"},"
         "\"argv\":[\"tool.sh\",1]}]}",
         "argv[1] must be a string"},
        {"{\"tools\": [", "line 1"},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        write_file(manifest, files[i].text, 0644);
        expect_refused(files[i].want);
    }
}

static void test_manifest_refuses_argv0_that_cannot_run(void **state)
{
    write_file(manifest,
               "{\"tools\":[{\"name\":\"t1\",\"description\":\"d\","
               "\"inputSchema\":{\"type\":\"object\"},\"argv\":[\"plain.txt\"]}]}",
               0644);
    expect_refused("plain.txt is not executable");
    write_file(manifest,
               "{\"tools\":[{\"name\":\"t1\",\"description\":\"d\","
               "\"inputSchema\":{\"type\":\"object\"},\"argv\":[\"missing.sh\"]}]}",
               0644);
    expect_refused("missing.sh: No such file or directory");
    write_file(manifest,
               "{\"tools\":[{\"name\":\"t1\",\"description\":\"d\","
               "\"inputSchema\":{\"type\":\"object\"},\"argv\":[\"bin\"]}]}",
               0644);
    expect_refused("is not a regular file");
    write_file(manifest,
               "{\"tools\":[{\"name\":\"t1\",\"description\":\"d\","
               "\"inputSchema\":{\"type\":\"object\"},\"argv\":[\"\"]}]}",
               0644);
    expect_refused("argv[0] is empty");
}

/* An inputSchema the validator cannot honour leaves the whole manifest out, and the
 * message names the file, the tool and the schema location. */
static void test_manifest_refuses_an_invalid_input_schema(void **state)
{
    static const struct {
        const char *schema; /* the inputSchema */
        const char *want;   /* part of the message */
    } cases[] = {
        {"{\"type\":\"object\",\"properties\":{\"n\":{\"minimum\":\"0\"}}}",
         "tools[1] (t1): \"inputSchema\" at #/properties/n: \"minimum\" must be a number"},
        {"{\"type\":\"object\",\"properties\":{\"n\":{\"$ref\":\"#/$defs/nope\"}}}",
         "\"$ref\" does not resolve within the schema"},
        {"{\"type\":\"object\",\"$ref\":\"https://example.com/s.json\"}",
         "\"$ref\" is remote"},
        {"{\"type\":\"object\",\"patternProperties\":{\"(?<=a)\":true}}",
         "lookahead and lookbehind are not supported"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[1024];
        snprintf(text, sizeof(text),
                 "{\"tools\":[{\"name\":\"t0\",\"description\":\"d\",\"inputSchema\":"
                 "{\"type\":\"object\"},\"argv\":[\"tool.sh\"]},"
                 "{\"name\":\"t1\",\"description\":\"d\",\"inputSchema\":%s,"
                 "\"argv\":[\"tool.sh\"]}]}",
                 cases[i].schema);
        write_file(manifest, text, 0644);
        expect_refused(cases[i].want);
    }
}

static void test_manifest_refuses_duplicate_names(void **state)
{
    write_file(manifest,
               "{\"tools\":["
               "{\"name\":\"t1\",\"description\":\"d\",\"inputSchema\":{\"type\":\"object\"},"
               "\"argv\":[\"tool.sh\"]},"
               "{\"name\":\"t1\",\"description\":\"d\",\"inputSchema\":{\"type\":\"object\"},"
               "\"argv\":[\"tool.sh\"]}]}",
               0644);
    expect_refused("tools[1] (t1): the name is used by tools[0] too");
    write_file(manifest,
               "{\"tools\":[{\"name\":\"sleep\",\"description\":\"d\","
               "\"inputSchema\":{\"type\":\"object\"},\"argv\":[\"tool.sh\"]}]}",
               0644);
    expect_refused("the name is taken by a built-in tool");
}

static void test_manifest_is_all_or_nothing(void **state)
{
    /* Two good tools, then a bad one: none is added. */
    write_file(manifest,
               "{\"tools\":["
               "{\"name\":\"t1\",\"description\":\"d\",\"inputSchema\":{\"type\":\"object\"},"
               "\"argv\":[\"tool.sh\"]},"
               "{\"name\":\"t2\",\"description\":\"d\",\"inputSchema\":{\"type\":\"object\"},"
               "\"argv\":[\"tool.sh\"]},"
               "{\"name\":\"t3\",\"description\":\"d\",\"inputSchema\":{\"type\":\"object\"},"
               "\"argv\":[\"tool.sh\"],\"killGraceMs\":-5}]}",
               0644);
    struct catalog *c = new_catalog();
    size_t before = tool_count(c);
    struct err e = {0};
    assert_int_equal(manifest_load(c, manifest, &e), -1);
    assert_non_null(strstr(e.msg, "tools[2] (t3)"));
    assert_int_equal(tool_count(c), before);
    assert_null(catalog_find(c, "t1"));
    assert_null(catalog_find(c, "t2"));
    catalog_free(c);
}

static void test_manifest_gives_tools_their_scopes(void **state)
{
    one_tool("\"scopes\":[\"tools:private\",\"billing:write\"]");
    struct catalog *c = new_catalog();
    struct err e = {0};
    (void)state;
    assert_false(catalog_has_tool_scopes(c));
    if (manifest_load(c, manifest, &e) != 0)
        fail_msg("manifest_load: %s", e.msg);
    assert_string_equal(catalog_find(c, "t1")->scopes, "tools:private billing:write");
    assert_null(catalog_find(c, "echo")->scopes);
    assert_true(catalog_has_tool_scopes(c));
    /* not in the Tool object clients see */
    assert_null(json_object_get(catalog_find(c, "t1")->definition, "scopes"));
    assert_int_equal(catalog_set_scopes(c, "echo", "a  b", &e), -CATALOG_EINVALID);
    assert_int_equal(catalog_set_scopes(c, "nope", "a", &e), -CATALOG_EINVALID);
    assert_int_equal(catalog_set_scopes(c, "echo", "mcp:x", &e), 0);
    assert_string_equal(catalog_find(c, "echo")->scopes, "mcp:x");
    assert_int_equal(catalog_set_scopes(c, "echo", NULL, &e), 0);
    assert_null(catalog_find(c, "echo")->scopes);
    assert_false(catalog_scopes_valid(" a"));
    assert_false(catalog_scopes_valid("a "));
    assert_false(catalog_scopes_valid(""));
    assert_true(catalog_scopes_valid("a b c d e f g h"));
    assert_false(catalog_scopes_valid("a b c d e f g h i"));
    catalog_free(c);
}

static void test_manifest_missing_file_and_empty_list(void **state)
{
    struct catalog *c = new_catalog();
    struct err e = {0};
    assert_int_equal(manifest_load(c, "/nonexistent/manifest.json", &e), -1);
    assert_non_null(strstr(e.msg, "/nonexistent/manifest.json"));
    assert_int_equal(manifest_load(c, "/nonexistent/manifest.json", NULL), -1); /* err optional */
    write_file(manifest, "{\"tools\":[]}", 0644);
    size_t before = tool_count(c);
    assert_int_equal(manifest_load(c, manifest, &e), 0);
    assert_int_equal(tool_count(c), before);
    catalog_free(c);
}

static void test_manifest_refuses_what_is_not_a_small_regular_file(void **state)
{
    /* A FIFO with no writer: opened without waiting, then refused. */
    assert_int_equal(mkfifo(manifest, 0600), 0);
    alarm(10); /* a blocking open would hang the test: let SIGALRM fail it instead */
    expect_refused("not a regular file");
    alarm(0);
    assert_int_equal(unlink(manifest), 0);
    assert_int_equal(mkdir(manifest, 0755), 0);
    expect_refused("not a regular file");
    assert_int_equal(rmdir(manifest), 0);
    /* Over 16 MiB of valid JSON (white space, then an empty list). */
    FILE *f = fopen(manifest, "w");
    assert_non_null(f);
    static char spaces[1 << 16];
    memset(spaces, ' ', sizeof(spaces));
    for (int i = 0; i < 257; i++)
        assert_int_equal(fwrite(spaces, 1, sizeof(spaces), f), sizeof(spaces));
    fputs("{\"tools\":[]}", f);
    assert_int_equal(fclose(f), 0);
    expect_refused("at most 16777216 bytes");
    struct catalog *c = new_catalog();
    struct err e = {0};
    assert_int_equal(manifest_load(c, "/dev/zero", &e), -1);
    assert_non_null(strstr(e.msg, "not a regular file"));
    catalog_free(c);
}

/* Load 'text' as a file and as text (labelled with the file's name, resolving against
 * the folder): same code, same message, same tools and exec specs. */
static void expect_same_as_file(const char *text)
{
    write_file(manifest, text, 0644);
    struct catalog *a = new_catalog(), *b = new_catalog();
    struct err ea = {0}, eb = {0};
    int ra = manifest_load(a, manifest, &ea);
    int rb = manifest_load_text(b, text, strlen(text), manifest, real_dir, &eb);
    assert_int_equal(ra, rb);
    assert_string_equal(ea.msg, eb.msg);
    json_t *la = catalog_list(a), *lb = catalog_list(b);
    assert_true(json_equal(la, lb));
    json_decref(la);
    json_decref(lb);
    const struct tool_desc *ta = catalog_find(a, "t1"), *tb = catalog_find(b, "t1");
    assert_true((ta == NULL) == (tb == NULL));
    if (ta)
        assert_true(json_equal(ta->exec, tb->exec));
    catalog_free(a);
    catalog_free(b);
}

static void test_manifest_text_answers_as_the_file(void **state)
{
    expect_same_as_file("{\"tools\":[{\"name\":\"t1\",\"description\":\"d\","
                        "\"inputSchema\":{\"type\":\"object\"},\"argv\":[\"tool.sh\"],"
                        "\"cwd\":\"bin\",\"env\":[\"LANG\"]}]}");
    expect_same_as_file("{\"tools\":[{\"name\":\"t1\",\"description\":\"d\","
                        "\"inputSchema\":{\"type\":\"object\"},\"argv\":[\"plain.txt\"]}]}");
    expect_same_as_file("{\"tools\":[{\"name\":\"t1\",\"name\":\"t2\"}]}");
    expect_same_as_file("{\"tools\":[],\"x\":1}");
    expect_same_as_file("{\"tools\":[\n{]}");
    expect_same_as_file("");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_refuses_what_is_not_a_small_regular_file),
        cmocka_unit_test(test_manifest_loads_valid_tools),
        cmocka_unit_test(test_manifest_resolves_relative_argv_against_its_folder),
        cmocka_unit_test(test_manifest_refuses_unknown_keys),
        cmocka_unit_test(test_manifest_refuses_an_invalid_input_schema),
        cmocka_unit_test(test_manifest_refuses_bad_types_and_ranges),
        cmocka_unit_test(test_manifest_refuses_argv0_that_cannot_run),
        cmocka_unit_test(test_manifest_refuses_duplicate_names),
        cmocka_unit_test(test_manifest_is_all_or_nothing),
        cmocka_unit_test(test_manifest_gives_tools_their_scopes),
        cmocka_unit_test(test_manifest_missing_file_and_empty_list),
        cmocka_unit_test(test_manifest_text_answers_as_the_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
