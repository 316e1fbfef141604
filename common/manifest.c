/*
 * manifest.c - load a tools manifest into the catalog.
 *
 * Strict: unknown or duplicate keys, wrong types and out-of-range values are
 * refused with a message naming the file, the tool and the key.  All or
 * nothing: every tool is checked, and its Tool definition and exec spec
 * built, before the first catalog_add().  Runs nothing: worker/exttool.c
 * does.  Format: proto/tools-manifest.md.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "manifest.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

#define MANIFEST_MAX_TOOLS 1024 /* per manifest; the catalog holds 4096 */
#define MANIFEST_MAX_BYTES (16 << 20) /* the file; read whole, never from a FIFO or device */
#define MANIFEST_MAX_ARGV  256
#define MANIFEST_MAX_ENV   128
#define MANIFEST_NAME_MAX  128 /* bytes of an environment variable name */

/* Ranges of the numeric keys (their defaults are in manifest.h). */
#define MANIFEST_MAX_TIMEOUT_MS 604800000
#define MANIFEST_MAX_MAX_OUT    67108864
#define MANIFEST_MAX_MAX_ERR    16777216
#define MANIFEST_MAX_KILL_GRACE 60000

static const char *const tool_keys[] = {
    "name",      "title", "description",    "inputSchema",    "taskPolicy",  "argv",
    "timeoutMs", "env",   "maxOutputBytes", "maxStderrBytes", "killGraceMs", "cwd",
    "scopes",
};

/* One tool, checked and built, waiting for catalog_add(). */
struct prepared {
    json_t *definition;      /* the Tool object for tools/list (owned until added) */
    json_t *exec;            /* the exec spec (owned until added) */
    enum tool_policy policy; /* task policy */
    char *scopes;            /* OAuth scopes it needs, space-separated, or NULL (owned) */
};

/* State of one load, for error messages. */
struct loader {
    const char *path; /* the manifest as given */
    char *dir;        /* its directory, absolute, symbolic links resolved */
    size_t index;     /* tools[index] is being checked */
    const char *name; /* its name once known, else NULL */
    struct err *err;  /* where to report (may be NULL) */
};

/* Report "<file>: tools[i] (name): <detail>"; returns -MANIFEST_EINVALID. */
static PRINTF_LIKE(2, 3) int fail(const struct loader *l, const char *fmt, ...)
{
    char detail[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    /* Keep the end of a long path: it is the part that tells files apart. */
    size_t plen = strlen(l->path);
    const char *path = plen > 60 ? l->path + plen - 57 : l->path;
    const char *dots = plen > 60 ? "..." : "";
    if (l->index == SIZE_MAX)
        return err_set(l->err, -MANIFEST_EINVALID, "tools manifest %s%s: %s", dots, path, detail);
    if (l->name)
        return err_set(l->err, -MANIFEST_EINVALID, "tools manifest %s%s: tools[%zu] (%.40s): %s", dots, path,
                       l->index, l->name, detail);
    return err_set(l->err, -MANIFEST_EINVALID, "tools manifest %s%s: tools[%zu]: %s", dots, path, l->index, detail);
}

/* [A-Za-z0-9_.-]{1,128}, the rule catalog_add() applies. */
static bool valid_tool_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
            return false;
    return true;
}

/* [A-Za-z_][A-Za-z0-9_]{0,127} */
static bool valid_env_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MANIFEST_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* Optional integer 'key' in [min, max] into *out (default 'def'). */
static int get_int(const struct loader *l, const json_t *tool, const char *key, json_int_t def,
                   json_int_t min, json_int_t max, json_int_t *out)
{
    const json_t *v = json_object_get(tool, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return fail(l, "\"%s\" must be an integer from %lld to %lld", key, (long long)min,
                    (long long)max);
    *out = json_integer_value(v);
    return 0;
}

/* Optional string 'key' into *out (NULL when absent). */
static int get_str(const struct loader *l, const json_t *tool, const char *key, const char **out)
{
    const json_t *v = json_object_get(tool, key);
    *out = NULL;
    if (v && !json_is_string(v))
        return fail(l, "\"%s\" must be a string", key);
    *out = json_string_value(v);
    return 0;
}

/* 'rel' made absolute against the manifest's directory, in a new allocation, or NULL. */
static char *resolve(const struct loader *l, const char *rel)
{
    size_t dn = strlen(l->dir), rn = strlen(rel);
    if (rel[0] == '/')
        return rn < PATH_MAX ? strdup(rel) : NULL;
    if (dn + 1 + rn >= PATH_MAX)
        return NULL;
    char *p = malloc(dn + 1 + rn + 1);
    if (p) {
        memcpy(p, l->dir, dn);
        p[dn] = '/';
        memcpy(p + dn + 1, rel, rn + 1);
    }
    return p;
}

/* The argv array with argv[0] resolved and checked to be an executable regular file. */
static int build_argv(const struct loader *l, const json_t *argv, json_t **out)
{
    size_t n = json_array_size(argv), i;
    const json_t *v;
    *out = NULL;
    if (!json_is_array(argv) || n == 0 || n > MANIFEST_MAX_ARGV)
        return fail(l, "\"argv\" must be an array of 1 to %d strings", MANIFEST_MAX_ARGV);
    json_array_foreach(argv, i, v)
    {
        if (!json_is_string(v))
            return fail(l, "argv[%zu] must be a string", i);
    }
    const char *prog = json_string_value(json_array_get(argv, 0));
    if (!*prog)
        return fail(l, "argv[0] is empty");
    char *path = resolve(l, prog);
    if (!path)
        return fail(l, "argv[0] \"%.60s\": path too long or out of memory", prog);
    struct stat sb;
    int rc = 0;
    if (stat(path, &sb) < 0)
        rc = fail(l, "argv[0] %.100s: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        rc = fail(l, "argv[0] %.100s is not a regular file", path);
    else if (access(path, X_OK) < 0)
        rc = fail(l, "argv[0] %.100s is not executable", path);
    if (rc < 0) {
        free(path);
        return rc;
    }
    json_t *arr = json_array();
    if (!arr || json_array_append_new(arr, json_string(path)) < 0)
        rc = err_set(l->err, -MANIFEST_ENOMEM, "out of memory");
    for (i = 1; rc == 0 && i < n; i++)
        if (json_array_append(arr, json_array_get(argv, i)) < 0)
            rc = err_set(l->err, -MANIFEST_ENOMEM, "out of memory");
    free(path);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

/* The env allow-list, checked; a new reference in *out. */
static int build_env(const struct loader *l, const json_t *env, json_t **out)
{
    size_t n = json_array_size(env), i, j;
    const json_t *v;
    *out = NULL;
    if (env && (!json_is_array(env) || n > MANIFEST_MAX_ENV))
        return fail(l, "\"env\" must be an array of at most %d names", MANIFEST_MAX_ENV);
    json_array_foreach(env, i, v)
    {
        const char *name = json_string_value(v);
        if (!name || !valid_env_name(name))
            return fail(l, "env[%zu] must be a variable name ([A-Za-z_][A-Za-z0-9_]{0,127})", i);
        if (strcmp(name, "PATH") == 0 || strncmp(name, "TASKWIRE_", 9) == 0)
            return fail(l,
                        "env[%zu] \"%s\" is reserved (PATH and TASKWIRE_* are set or kept "
                        "by the worker)",
                        i, name);
        for (j = 0; j < i; j++)
            if (strcmp(name, json_string_value(json_array_get(env, j))) == 0)
                return fail(l, "env[%zu] \"%s\" is listed twice", i, name);
    }
    *out = env ? json_deep_copy(env) : json_array();
    return *out ? 0 : err_set(l->err, -MANIFEST_ENOMEM, "out of memory");
}

/* The working directory, resolved and checked; NULL in *out when not given. */
static int build_cwd(const struct loader *l, const json_t *tool, char **out)
{
    const char *cwd;
    *out = NULL;
    int rc = get_str(l, tool, "cwd", &cwd);
    if (rc < 0 || !cwd)
        return rc;
    if (!*cwd)
        return fail(l, "\"cwd\" is empty");
    char *path = resolve(l, cwd);
    struct stat sb;
    if (!path)
        return fail(l, "\"cwd\" \"%.60s\": path too long or out of memory", cwd);
    if (stat(path, &sb) < 0)
        rc = fail(l, "cwd %.100s: %s", path, strerror(errno));
    else if (!S_ISDIR(sb.st_mode))
        rc = fail(l, "cwd %.100s is not a directory", path);
    if (rc < 0) {
        free(path);
        return rc;
    }
    *out = path;
    return 0;
}

/* Refuse keys a tool may not have. */
static int check_keys(const struct loader *l, const json_t *tool)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)tool, key, v)
    {
        size_t k = 0;
        while (k < sizeof(tool_keys) / sizeof(tool_keys[0]) && strcmp(key, tool_keys[k]) != 0)
            k++;
        if (k == sizeof(tool_keys) / sizeof(tool_keys[0]))
            return fail(l, "unknown key \"%.40s\"", key);
    }
    return 0;
}

/* The tool's name into *name: present, well formed, and unique in the file and catalog. */
static int check_name(struct loader *l, const json_t *tool, const struct catalog *c,
                      const struct prepared *done, size_t ndone, const char **name)
{
    int rc = get_str(l, tool, "name", name);
    if (rc < 0)
        return rc;
    if (!*name)
        return fail(l, "\"name\" is required");
    if (!valid_tool_name(*name)) {
        l->name = NULL;
        return fail(l, "\"name\" must match [A-Za-z0-9_.-]{1,128}");
    }
    for (size_t i = 0; i < ndone; i++)
        if (strcmp(*name, json_string_value(json_object_get(done[i].definition, "name"))) == 0)
            return fail(l, "the name is used by tools[%zu] too", i);
    if (catalog_find(c, *name))
        return fail(l, "the name is taken by a built-in tool");
    return 0;
}

/* The inputSchema must compile (the catalog compiles it again when the tool is added):
 * checked here so that a bad one leaves the whole manifest out. */
static int check_schema(const struct loader *l, const json_t *schema)
{
    struct schema *compiled = NULL;
    struct err e = {0};
    int rc = schema_compile(schema, &compiled, &e);
    schema_free(compiled);
    if (rc == -SCHEMA_ENOMEM)
        return err_set(l->err, -MANIFEST_ENOMEM, "out of memory");
    return rc < 0 ? fail(l, "\"inputSchema\" %s", e.msg) : 0;
}

/* The Tool definition for tools/list ({name, title?, description, inputSchema}) and the
 * task policy into *p. */
static int build_definition(const struct loader *l, const json_t *tool, const char *name,
                            struct prepared *p)
{
    const char *title, *description, *policy;
    int rc;
    if ((rc = get_str(l, tool, "title", &title)) < 0 ||
        (rc = get_str(l, tool, "description", &description)) < 0 ||
        (rc = get_str(l, tool, "taskPolicy", &policy)) < 0)
        return rc;
    if (!description)
        return fail(l, "\"description\" is required");
    const json_t *schema = json_object_get(tool, "inputSchema");
    const char *type = json_string_value(json_object_get(schema, "type"));
    if (!json_is_object(schema))
        return fail(l, "\"inputSchema\" must be an object");
    if (!type || strcmp(type, "object") != 0)
        return fail(l, "\"inputSchema\" must have \"type\": \"object\"");
    if ((rc = check_schema(l, schema)) < 0)
        return rc;
    if (!policy || strcmp(policy, "required") == 0)
        p->policy = TOOL_TASK_REQUIRED;
    else if (strcmp(policy, "optional") == 0)
        p->policy = TOOL_TASK_OPTIONAL;
    else if (strcmp(policy, "never") == 0)
        p->policy = TOOL_TASK_NEVER;
    else
        return fail(l, "\"taskPolicy\" must be \"required\", \"optional\" or \"never\"");
    p->definition = json_pack("{s:s, s:s, s:O}", "name", name, "description", description,
                              "inputSchema", schema);
    if (p->definition && title && json_object_set_new(p->definition, "title", json_string(title)))
        json_decref(p->definition), p->definition = NULL;
    return p->definition ? 0 : err_set(l->err, -MANIFEST_ENOMEM, "out of memory");
}

/* The exec spec (name, argv, timeoutMs, env, output limits, killGraceMs, cwd) into *exec. */
static int build_exec(const struct loader *l, const json_t *tool, const char *name, json_t **exec)
{
    json_int_t timeout_ms, max_out, max_err, grace_ms;
    json_t *argv = NULL, *env = NULL;
    char *cwd = NULL;
    int rc;
    if ((rc = get_int(l, tool, "timeoutMs", MANIFEST_DEFAULT_TIMEOUT_MS, 1,
                      MANIFEST_MAX_TIMEOUT_MS, &timeout_ms)) < 0 ||
        (rc = get_int(l, tool, "maxOutputBytes", MANIFEST_DEFAULT_MAX_OUT, 1,
                      MANIFEST_MAX_MAX_OUT, &max_out)) < 0 ||
        (rc = get_int(l, tool, "maxStderrBytes", MANIFEST_DEFAULT_MAX_ERR, 0,
                      MANIFEST_MAX_MAX_ERR, &max_err)) < 0 ||
        (rc = get_int(l, tool, "killGraceMs", MANIFEST_DEFAULT_KILL_GRACE, 0,
                      MANIFEST_MAX_KILL_GRACE, &grace_ms)) < 0)
        return rc;
    if ((rc = build_env(l, json_object_get(tool, "env"), &env)) < 0 ||
        (rc = build_argv(l, json_object_get(tool, "argv"), &argv)) < 0 ||
        (rc = build_cwd(l, tool, &cwd)) < 0)
        goto out_free;
    *exec = json_pack("{s:s, s:O, s:I, s:O, s:I, s:I, s:I}", "name", name, "argv", argv,
                      "timeoutMs", timeout_ms, "env", env, "maxOutputBytes", max_out,
                      "maxStderrBytes", max_err, "killGraceMs", grace_ms);
    if (*exec && cwd && json_object_set_new(*exec, "cwd", json_string(cwd)) < 0)
        json_decref(*exec), *exec = NULL;
    if (!*exec)
        rc = err_set(l->err, -MANIFEST_ENOMEM, "out of memory");
out_free:
    free(cwd);
    json_decref(argv);
    json_decref(env);
    return rc;
}

/* The "scopes" array (1..CATALOG_MAX_SCOPES scope tokens) joined by spaces into *out
 * (NULL when absent). */
static int build_scopes(const struct loader *l, const json_t *tool, char **out)
{
    const json_t *arr = json_object_get(tool, "scopes"), *v;
    size_t i, len = 0;
    char *s;

    *out = NULL;
    if (!arr)
        return 0;
    if (!json_is_array(arr) || json_array_size(arr) < 1 ||
        json_array_size(arr) > CATALOG_MAX_SCOPES)
        return fail(l, "\"scopes\" must be an array of 1 to %d strings", CATALOG_MAX_SCOPES);
    if (!(s = calloc(CATALOG_MAX_SCOPES, CATALOG_MAX_SCOPE_LEN + 1)))
        return err_set(l->err, -MANIFEST_ENOMEM, "out of memory");
    json_array_foreach(arr, i, v)
    {
        const char *one = json_string_value(v);
        if (!one || strchr(one, ' ') || !catalog_scopes_valid(one)) {
            free(s);
            return fail(l, "scopes[%zu] must be a scope: 1 to %d printable ASCII characters "
                        "without spaces, '\"' or '\\'",
                        i, CATALOG_MAX_SCOPE_LEN);
        }
        len += (size_t)snprintf(s + len, CATALOG_MAX_SCOPE_LEN + 2, "%s%s", i ? " " : "", one);
    }
    *out = s;
    return 0;
}

/* Check tools[l->index] and build its definition and exec spec into *p. */
static int prepare_tool(struct loader *l, const json_t *tool, const struct catalog *c,
                        const struct prepared *done, size_t ndone, struct prepared *p)
{
    const char *name;
    int rc;
    memset(p, 0, sizeof(*p));
    if (!json_is_object(tool))
        return fail(l, "must be an object");
    l->name = json_string_value(json_object_get(tool, "name")); /* for messages, if any */
    if ((rc = check_keys(l, tool)) < 0 || (rc = check_name(l, tool, c, done, ndone, &name)) < 0 ||
        (rc = build_definition(l, tool, name, p)) < 0)
        return rc;
    if ((rc = build_scopes(l, tool, &p->scopes)) < 0 ||
        (rc = build_exec(l, tool, name, &p->exec)) < 0) {
        json_decref(p->definition);
        p->definition = NULL;
        free(p->scopes);
        p->scopes = NULL;
    }
    return rc;
}

/* Set l->dir to the absolute directory of l->path. */
static int manifest_dir(struct loader *l)
{
    char *real = realpath(l->path, NULL);
    if (!real)
        return fail(l, "%s", strerror(errno));
    char *slash = strrchr(real, '/');
    if (slash == real)
        slash[1] = '\0'; /* the manifest is in / */
    else
        *slash = '\0';
    l->dir = real;
    return 0;
}

/* Report a JSON parse error of the manifest (jansson's text says why). */
static int parse_failed(const struct loader *l, const json_error_t *jerr)
{
    if (jerr->line < 1) /* not read at all */
        return fail(l, "%s", jerr->text);
    return fail(l, "line %d, column %d: %s", jerr->line, jerr->column, jerr->text);
}

/* Check the top level of the manifest and return its "tools" array (borrowed from doc). */
static int check_doc(const struct loader *l, const json_t *doc, const json_t **list)
{
    const char *key;
    json_t *v;
    if (!json_is_object(doc))
        return fail(l, "the top level must be an object with a \"tools\" array");
    json_object_foreach((json_t *)doc, key, v)
    {
        if (strcmp(key, "tools") != 0)
            return fail(l, "unknown key \"%.40s\" at the top level (only \"tools\" is allowed)",
                        key);
    }
    *list = json_object_get(doc, "tools");
    if (!json_is_array(*list) || json_array_size(*list) > MANIFEST_MAX_TOOLS)
        return fail(l, "\"tools\" must be an array of at most %d tools", MANIFEST_MAX_TOOLS);
    return 0;
}

/* Read the manifest's JSON and return its "tools" array (borrowed from *doc, which the
 * caller releases). */
static int read_tools(struct loader *l, json_t **doc, const json_t **list)
{
    json_error_t jerr;
    char *text = NULL;
    size_t len = 0;
    struct err fe = {0};
    if (fileio_read(l->path, MANIFEST_MAX_BYTES, &text, &len, NULL, &fe) < 0)
        return fail(l, "%s", fe.msg); /* a FIFO, a folder, a device or a huge file too */
    *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!*doc)
        return parse_failed(l, &jerr);
    int rc = manifest_dir(l);
    if (rc < 0)
        return rc;
    return check_doc(l, *doc, list);
}

/* Hand the n prepared tools to the catalog (which takes ownership of each). */
static int add_prepared(struct loader *l, struct catalog *c, struct prepared *tools, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct err e = {0};
        struct prepared *p = &tools[i];
        json_t *def = p->definition, *exec = p->exec;
        const char *name = json_string_value(json_object_get(def, "name"));
        p->definition = p->exec = NULL;
        if (catalog_add(c, def, p->policy, exec, &e) < 0 ||
            catalog_set_scopes(c, name, p->scopes, &e) < 0) {
            l->index = i;
            l->name = NULL;
            return fail(l, "%s (%zu tools from this file were added)", e.msg, i);
        }
    }
    return 0;
}

/* Check every tool of 'list', then add them all to 'c' (see manifest_load()). */
static int load_list(struct loader *l, struct catalog *c, const json_t *list)
{
    struct prepared *tools = NULL;
    size_t n = 0;
    int rc;
    if (json_array_size(list) && !(tools = calloc(json_array_size(list), sizeof(*tools))))
        return err_set(l->err, -MANIFEST_ENOMEM, "out of memory");
    for (n = 0; n < json_array_size(list); n++) {
        l->index = n;
        l->name = NULL;
        if ((rc = prepare_tool(l, json_array_get(list, n), c, tools, n, &tools[n])) < 0)
            goto out_free_tools;
    }
    rc = add_prepared(l, c, tools, n);
out_free_tools:
    for (size_t i = 0; i < n; i++) {
        json_decref(tools[i].definition);
        json_decref(tools[i].exec);
        free(tools[i].scopes);
    }
    free(tools);
    return rc;
}

/*
 * Load the tools manifest at 'path' (proto/tools-manifest.md) into 'c'.
 *
 * Every tool is checked first: keys, types and ranges, unique names (in the
 * file and against the tools already in 'c'), and argv[0] resolved against
 * the manifest's directory and found to be an executable file.  Only then
 * is each added with catalog_add(), with a Tool definition (name, title,
 * description, inputSchema) and an exec spec (name, argv with an absolute
 * argv[0], timeoutMs, env, maxOutputBytes, maxStderrBytes, killGraceMs and
 * cwd when given) that the catalog owns.
 *
 * Returns 0, or -MANIFEST_EINVALID / -MANIFEST_ENOMEM with 'err' (may be
 * NULL) naming the file, the tool and the key; then nothing was added.  (Only running out of memory inside
 * catalog_add() can leave some tools added; the message says so.)  Not
 * thread-safe with other users of 'c': call at start-up.
 */
int manifest_load(struct catalog *c, const char *path, struct err *err)
{
    struct loader l = {.path = path, .index = SIZE_MAX, .err = err};
    const json_t *list = NULL;
    json_t *doc = NULL;
    int rc = read_tools(&l, &doc, &list);
    if (rc == 0)
        rc = load_list(&l, c, list);
    free(l.dir);
    json_decref(doc);
    return rc;
}

/*
 * Load a manifest given as 'len' bytes of JSON text rather than a file:
 * 'label' stands for the file name in messages, and relative argv[0] and
 * cwd resolve against 'dir' (absolute, used as given).  Otherwise exactly
 * manifest_load(): the same checks, messages and all-or-nothing adding.
 * Reads no file but stats the programs and directories the tools name.
 */
int manifest_load_text(struct catalog *c, const char *text, size_t len, const char *label,
                       const char *dir, struct err *err)
{
    struct loader l = {.path = label, .index = SIZE_MAX, .err = err};
    const json_t *list = NULL;
    json_error_t jerr;
    int rc;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return parse_failed(&l, &jerr);
    if (!(l.dir = strdup(dir))) {
        rc = err_set(err, -MANIFEST_ENOMEM, "out of memory");
        goto out_free_doc;
    }
    if ((rc = check_doc(&l, doc, &list)) == 0)
        rc = load_list(&l, c, list);
    free(l.dir);
out_free_doc:
    json_decref(doc);
    return rc;
}
