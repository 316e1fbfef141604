/*
 * cfg.c - settings from TASKWIRE_* environment variables, overridden by flags.
 *
 * Precedence is flag > environment > default.  Values are parsed strictly
 * (whole string, range-checked) so a typo fails at start-up instead of
 * silently meaning something else.  No exit(), no logging: main() decides.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CFG_MAX_NAME 64
#define CFG_MAX_SECRET_FILE (64 * 1024)

/* "pg-dsn" -> "TASKWIRE_PG_DSN" (+ suffix); returns 0 or -CFG_EINVALID when too long. */
static int env_name(const char *name, const char *suffix, char *out, size_t cap)
{
    int n = snprintf(out, cap, "TASKWIRE_%s%s", name, suffix);
    if (n < 0 || (size_t)n >= cap)
        return -CFG_EINVALID;
    for (char *p = out; *p; p++)
        *p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    return 0;
}

static bool opt_owns_string(const struct cfg_opt *o)
{
    return o->type == CFG_STR && o->secret;
}

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *out = true, 0;
        if (strcasecmp(s, no[i]) == 0)
            return *out = false, 0;
    }
    return -CFG_EINVALID;
}

/* Store text 'val' into o->dst; 'from' names the source for the error. */
static int set_value(const struct cfg_opt *o, const char *val, const char *from, struct err *err)
{
    switch (o->type) {
    case CFG_STR:
        *(const char **)o->dst = val;
        return 0;
    case CFG_BOOL:
        if (parse_bool(val, o->dst) == 0)
            return 0;
        return err_set(err, -CFG_EINVALID, "%s: '%s' is not a boolean (true/false)", from, val);
    case CFG_INT: {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(val, &end, 10);
        if (errno || end == val || *end != '\0')
            return err_set(err, -CFG_EINVALID, "%s: '%s' is not an integer", from, val);
        if (v < o->min || v > o->max)
            return err_set(err, -CFG_EINVALID, "%s: %lld is outside [%lld, %lld]", from, v,
                           (long long)o->min, (long long)o->max);
        *(int64_t *)o->dst = v;
        return 0;
    }
    }
    return err_set(err, -CFG_EINVALID, "%s: unknown setting type", from);
}

/* Read a secret file into a new string without its trailing newline. */
static char *read_secret(const char *path, struct err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(err, -CFG_EINVALID, "cannot read secret file %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(CFG_MAX_SECRET_FILE + 1);
    size_t n = buf ? fread(buf, 1, CFG_MAX_SECRET_FILE + 1, f) : 0;
    fclose(f);
    if (!buf || n > CFG_MAX_SECRET_FILE) {
        free(buf);
        err_set(err, -CFG_EINVALID, "secret file %s is larger than %d bytes", path,
                CFG_MAX_SECRET_FILE);
        return NULL;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    return buf;
}

/* The setting called 'len' bytes at 'name' (not NUL-terminated), or NULL.  No state. */
const struct cfg_opt *cfg_find(const struct cfg_opt *opts, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

/* Give every setting its default, then its environment variable's value (and, for a
 * secret, the content of the file TASKWIRE_<NAME>_FILE names). */
static int load_env(const struct cfg_opt *opts, size_t n, struct err *err)
{
    char var[CFG_MAX_NAME + 16];
    int rc;

    for (size_t i = 0; i < n; i++) {
        const struct cfg_opt *o = &opts[i];
        if (opt_owns_string(o))
            *(char **)o->dst = NULL;
        if (o->def) {
            if ((rc = set_value(o, o->def, o->name, err)) < 0)
                return rc;
        } else if (o->type == CFG_STR) {
            *(const char **)o->dst = NULL;
        }
        if (env_name(o->name, "", var, sizeof(var)) < 0)
            return err_set(err, -CFG_EINVALID, "setting name too long: %s", o->name);
        const char *v = getenv(var);
        if (v && (rc = set_value(o, v, var, err)) < 0)
            return rc;
        if (o->secret && env_name(o->name, "_FILE", var, sizeof(var)) == 0 && getenv(var)) {
            char *s = read_secret(getenv(var), err);
            *(char **)o->dst = s; /* NULL when unreadable: nothing cfg_fini() could free */
            if (!s)
                return -CFG_EINVALID;
        }
    }
    return 0;
}

/* Apply the flag argv[*i] ("--name value" or "--name=value"; a boolean alone means
 * true), moving *i past a separate value. */
static int load_flag(const struct cfg_opt *opts, size_t n, int argc, char **argv, int *i,
                     struct err *err)
{
    const char *a = argv[*i];
    const char *name = a + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const struct cfg_opt *o = cfg_find(opts, n, name, len);
    if (!o)
        return err_set(err, -CFG_EINVALID, "unknown option --%.*s (see --help)", (int)len, name);
    if (o->secret)
        return err_set(err, -CFG_EINVALID,
                       "--%s is a secret: pass it with TASKWIRE_*_FILE or the environment",
                       o->name);
    const char *val = eq ? eq + 1 : NULL;
    if (!val && o->type == CFG_BOOL)
        val = "true";
    if (!val) {
        if (*i + 1 >= argc)
            return err_set(err, -CFG_EINVALID, "--%s needs a value", o->name);
        val = argv[++*i];
    }
    return set_value(o, val, a, err);
}

/*
 * Fill every opt->dst from default, environment and flags, in that order.
 * Flags take "--name value" or "--name=value"; a CFG_BOOL flag alone means
 * true.  Returns CFG_OK/CFG_HELP/CFG_VERSION/CFG_PRINT/CFG_CHECK, or
 * -CFG_EINVALID with 'err' naming the setting.  Strings point into argv, the
 * environment or the defaults, except secrets read from *_FILE, which are
 * owned and released by cfg_fini().  Not thread-safe (reads environ).
 */
int cfg_load(const struct cfg_opt *opts, size_t n, int argc, char **argv, int *argi,
             struct err *err)
{
    int rc = load_env(opts, n, err);
    if (rc < 0)
        return rc;

    int result = CFG_OK, i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
            break;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return CFG_HELP;
        if (strcmp(a, "--version") == 0)
            return CFG_VERSION;
        if (strcmp(a, "--print-config") == 0)
            result = CFG_PRINT;
        else if (strcmp(a, "--check-config") == 0)
            result = CFG_CHECK;
        else if ((rc = load_flag(opts, n, argc, argv, &i, err)) < 0)
            return rc;
    }
    if (argi)
        *argi = i;
    return result;
}

/*
 * Print 'usage', then one block per setting: flag, variable, default, help.
 */
void cfg_print_help(FILE *out, const char *usage, const struct cfg_opt *opts, size_t n)
{
    char var[CFG_MAX_NAME + 16];
    fprintf(out, "%s\n\nSettings (flag, environment variable, default):\n", usage);
    for (size_t i = 0; i < n; i++) {
        const struct cfg_opt *o = &opts[i];
        if (env_name(o->name, "", var, sizeof(var)) < 0)
            continue;
        char flag[CFG_MAX_NAME + 8];
        if (o->secret)
            snprintf(flag, sizeof(flag), "(secret: no flag)");
        else
            snprintf(flag, sizeof(flag), "--%s", o->name);
        fprintf(out, "  %-24s %-30s %s\n", flag, var,
                o->def ? (*o->def ? o->def : "\"\"") : "(unset)");
        fprintf(out, "      %s\n", o->help);
        if (o->secret)
            fprintf(out, "      also read from the file named by %s_FILE\n", var);
    }
    fprintf(out, "\n  --help  --version  --print-config  --check-config\n");
}

/*
 * Print NAME=value for every setting as loaded; secrets show as <redacted>.
 */
void cfg_print(FILE *out, const struct cfg_opt *opts, size_t n)
{
    char var[CFG_MAX_NAME + 16];
    for (size_t i = 0; i < n; i++) {
        const struct cfg_opt *o = &opts[i];
        if (env_name(o->name, "", var, sizeof(var)) < 0)
            continue;
        switch (o->type) {
        case CFG_STR: {
            const char *s = *(const char **)o->dst;
            fprintf(out, "%s=%s\n", var, !s ? "" : o->secret && *s ? "<redacted>" : s);
            break;
        }
        case CFG_INT:
            fprintf(out, "%s=%lld\n", var, (long long)*(int64_t *)o->dst);
            break;
        case CFG_BOOL:
            fprintf(out, "%s=%s\n", var, *(bool *)o->dst ? "true" : "false");
            break;
        }
    }
}

/*
 * Release strings read from secret files; the destinations become NULL.
 */
void cfg_fini(const struct cfg_opt *opts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!opt_owns_string(&opts[i]))
            continue;
        /* A secret may point at a default or the environment; only a string we
         * read from a file is ours, and those are never equal to those. */
        char **p = opts[i].dst;
        char var[CFG_MAX_NAME + 16];
        if (*p && env_name(opts[i].name, "_FILE", var, sizeof(var)) == 0 && getenv(var))
            free(*p);
        *p = NULL;
    }
}
