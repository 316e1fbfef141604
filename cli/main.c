/*
 * main.c - the 'taskwire' command: migrate, keygen, token, call.
 *
 * Each command has its own cfg_opt table (TASKWIRE_* variables, --flags) and
 * this file alone turns outcomes into exit codes.  It holds no protocol logic:
 * migrations are common/migrate.c, keys and tokens common/devtoken.c, the MCP
 * client cli/call.c.
 *
 * Exit codes:
 *   0    ok
 *   1    the tool or task finished with an error (isError, failed, cancelled, timed out,
 *        input needed without a terminal)
 *   2    usage or configuration error (also keygen/token failures: unusable key files)
 *   3    HTTP/transport error (cannot connect, timeout, 401/403, non-JSON reply, out of memory)
 *   4    database unreachable (migrate)
 *   5    migration refused (checksum changed, SQL failed, database newer than this binary)
 *   6    the server answered with a JSON-RPC error
 *   130  interrupted (after sending tasks/cancel for a running task)
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "call.h"
#include "cfg.h"
#include "devtoken.h"
#include "migrate.h"
#include "migrations.h"

enum exit_code {
    EXIT_OK = 0,
    EXIT_TOOL_ERROR = 1,
    EXIT_USAGE = 2,
    EXIT_TRANSPORT = 3,
    EXIT_DB_UNREACHABLE = 4,
    EXIT_MIGRATE_REFUSED = 5,
    EXIT_RPC_ERROR = 6,
    EXIT_INTERRUPTED = 130,
};

#define DEFAULT_URL "http://127.0.0.1:8700/mcp"
#define NOPTS(a)    (sizeof(a) / sizeof((a)[0]))

/* A short flag name kept for compatibility, mapped onto a setting's own flag. */
struct alias {
    const char *from; /* "key": --key */
    const char *to;   /* "--signing-key-file" */
};

/* A secret setting also accepted as a flag, which cfg_load refuses for secrets. */
struct flag_secret {
    const char *name;  /* setting name, e.g. "token" */
    const char *value; /* the flag's value, pointing into argv; NULL when not given */
    char *saved;       /* what cfg_load stored, put back before cfg_fini */
};

/* One command: its name, its one-line summary and the function running it. */
struct command {
    const char *name;                  /* "migrate" */
    const char *summary;               /* for 'taskwire --help' */
    int (*run)(int argc, char **argv); /* argv[0] is the command name; returns an exit code */
};

static const char top_usage[] =
    "usage: taskwire <command> [options]\n"
    "\n"
    "Commands:\n"
    "  migrate   apply the embedded SQL migrations to PostgreSQL\n"
    "  keygen    create a development signing key (private JWK) and its JWKS\n"
    "  token     mint a development bearer token signed with that key\n"
    "  call      call an MCP tool, following a task to its end\n"
    "  help      this text, or 'taskwire help <command>'\n"
    "\n"
    "Every option is also a TASKWIRE_* environment variable; 'taskwire <command> --help'\n"
    "lists them with their defaults.  --version prints the version.\n"
    "\n"
    "Exit codes: 0 ok; 1 the tool or task ended in error (isError, failed, cancelled);\n"
    "2 usage or configuration error; 3 HTTP or transport error; 4 database unreachable;\n"
    "5 migration refused; 6 JSON-RPC error from the server; 130 interrupted.\n";

/* ---- option handling shared by the commands ---- */

static const struct cfg_opt *find_opt(const struct cfg_opt *opts, size_t n, const char *name,
                                      size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

/*
 * Rewrite argv for cfg_load: aliases become their setting's flag, secret flags
 * are taken out into 'secrets', and options may come after positional
 * arguments (they are moved in front of a "--").  Returns a new argv array
 * (free() it; its strings are borrowed) with its length in *outc, or NULL.
 */
static char **normalize_args(const struct cfg_opt *opts, size_t n, const struct alias *aliases,
                             size_t naliases, struct flag_secret *secrets, size_t nsecrets,
                             int argc, char **argv, int *outc, struct err *err)
{
    /* "--alias=value" becomes two entries; then "--" and a NULL */
    char **out = calloc(2 * (size_t)argc + 2, sizeof(*out));
    char **pos = calloc((size_t)argc + 1, sizeof(*pos));
    int no = 0, np = 0;

    if (!out || !pos) {
        free(out);
        free(pos);
        err_set(err, -CFG_EINVALID, "out of memory");
        return NULL;
    }
    out[no++] = argv[0];
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                pos[np++] = argv[i];
            break;
        }
        if (strcmp(a, "-h") == 0 || strncmp(a, "--", 2) != 0) {
            if (strcmp(a, "-h") == 0)
                out[no++] = a;
            else
                pos[np++] = a;
            continue;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const char *flag = NULL;
        for (size_t k = 0; k < naliases; k++)
            if (strlen(aliases[k].from) == len && strncmp(aliases[k].from, name, len) == 0)
                flag = aliases[k].to;
        if (flag) {
            name = flag + 2;
            len = strlen(name);
        }
        const struct cfg_opt *o = find_opt(opts, n, name, len);
        if (!o || o->type == CFG_BOOL) {
            /* unknown (cfg_load reports it), --help and the like, or a boolean;
             * booleans have no aliases */
            out[no++] = a;
            continue;
        }
        char *value = eq ? (char *)eq + 1 : i + 1 < argc ? argv[++i] : NULL;
        if (!value) {
            err_set(err, -CFG_EINVALID, "--%s needs a value", o->name);
            goto out_free;
        }
        struct flag_secret *sec = NULL;
        for (size_t k = 0; k < nsecrets; k++)
            if (strcmp(secrets[k].name, o->name) == 0)
                sec = &secrets[k];
        if (sec) {
            sec->value = value;
        } else if (!flag && eq) {
            out[no++] = a;
        } else {
            out[no++] = flag ? (char *)flag : a;
            out[no++] = value;
        }
    }
    out[no++] = "--";
    for (int k = 0; k < np; k++)
        out[no++] = pos[k];
    free(pos);
    *outc = no;
    return out;

out_free:
    free(out);
    free(pos);
    return NULL;
}

/*
 * Load a command's settings.  Returns -1 to go on (*argi set to the first
 * positional argument), or the exit code to end with (help, version, config
 * printed, or a usage error already reported).
 */
static int load_settings(const char *cmd, const char *usage, struct cfg_opt *opts, size_t n,
                         const struct alias *aliases, size_t naliases, struct flag_secret *secrets,
                         size_t nsecrets, int argc, char **argv, char ***nargv, int *argi)
{
    struct err err = {0};
    int nargc = 0;
    int rc;

    *nargv =
        normalize_args(opts, n, aliases, naliases, secrets, nsecrets, argc, argv, &nargc, &err);
    if (!*nargv) {
        fprintf(stderr, "taskwire %s: %s\n", cmd, err.msg);
        return EXIT_USAGE;
    }
    rc = cfg_load(opts, n, nargc, *nargv, argi, &err);
    if (rc < 0) {
        fprintf(stderr, "taskwire %s: %s\n", cmd, err.msg);
        return EXIT_USAGE;
    }
    for (size_t k = 0; k < nsecrets; k++) {
        const struct cfg_opt *o = find_opt(opts, n, secrets[k].name, strlen(secrets[k].name));
        if (o && secrets[k].value) {
            secrets[k].saved = *(char **)o->dst;
            *(const char **)o->dst = secrets[k].value;
        }
    }
    switch (rc) {
    case CFG_HELP: {
        /* show flag-capable secrets as ordinary settings: cfg would say "never a flag" */
        struct cfg_opt shown[8];
        size_t m = n < NOPTS(shown) ? n : NOPTS(shown);
        memcpy(shown, opts, m * sizeof(*shown));
        for (size_t k = 0; k < m; k++)
            for (size_t j = 0; j < nsecrets; j++)
                if (strcmp(shown[k].name, secrets[j].name) == 0)
                    shown[k].secret = false;
        cfg_print_help(stdout, usage, shown, m);
        return EXIT_OK;
    }
    case CFG_VERSION:
        printf("taskwire %s\n", TASKWIRE_VERSION);
        return EXIT_OK;
    case CFG_PRINT:
        cfg_print(stdout, opts, n);
        return EXIT_OK;
    case CFG_CHECK:
        return EXIT_OK;
    default:
        return -1;
    }
}

/* Undo load_settings: put back what cfg_load owns, release it, free the argv copy. */
static void unload_settings(struct cfg_opt *opts, size_t n, struct flag_secret *secrets,
                            size_t nsecrets, char **nargv)
{
    for (size_t k = 0; k < nsecrets; k++) {
        const struct cfg_opt *o = find_opt(opts, n, secrets[k].name, strlen(secrets[k].name));
        if (o && secrets[k].value)
            *(char **)o->dst = secrets[k].saved;
    }
    cfg_fini(opts, n);
    free(nargv);
}

static int usage_error(const char *cmd, const char *msg)
{
    fprintf(stderr, "taskwire %s: %s (see 'taskwire %s --help')\n", cmd, msg, cmd);
    return EXIT_USAGE;
}

/* ---- migrate ---- */

static int cmd_migrate(int argc, char **argv)
{
    const char *dsn = NULL;
    struct cfg_opt opts[] = {
        {"pg-dsn", CFG_STR, "",
         "libpq connection string or URI (\"\": PG* variables); "
         "or TASKWIRE_PG_DSN_FILE=<path>",
         &dsn, 0, 0, true},
    };
    struct flag_secret secrets[] = {{"pg-dsn", NULL, NULL}};
    char **nargv = NULL;
    struct err err = {0};
    int argi = 0, applied = 0;
    int code = load_settings("migrate",
                             "usage: taskwire migrate [--pg-dsn DSN]\n\n"
                             "Apply the SQL migrations built into this binary, under an "
                             "advisory lock (safe to run\nfrom many places at once).",
                             opts, NOPTS(opts), NULL, 0, secrets, NOPTS(secrets), argc, argv,
                             &nargv, &argi);
    if (code >= 0)
        goto out_unload;
    if (nargv[argi]) {
        code = usage_error("migrate", "takes no arguments");
        goto out_unload;
    }
    int rc = migrate_run(dsn ? dsn : "", &applied, &err);
    if (rc < 0) {
        fprintf(stderr, "taskwire migrate: %s\n", err.msg);
        code = rc == -MIGRATE_ECONNECT ? EXIT_DB_UNREACHABLE : EXIT_MIGRATE_REFUSED;
        goto out_unload;
    }
    printf("migrations: %d applied, %u total\n", applied, migrations_count);
    code = EXIT_OK;
out_unload:
    unload_settings(opts, NOPTS(opts), secrets, NOPTS(secrets), nargv);
    return code;
}

/* ---- keygen ---- */

static int cmd_keygen(int argc, char **argv)
{
    const char *key = NULL, *jwks = NULL;
    struct cfg_opt opts[] = {
        {"signing-key-file", CFG_STR, NULL,
         "where to write the private JWK (mode 0600); alias --key", &key, 0, 0, false},
        {"jwks-file", CFG_STR, NULL, "where to write the public JWKS (mode 0644); alias --jwks",
         &jwks, 0, 0, false},
    };
    static const struct alias aliases[] = {{"key", "--signing-key-file"}, {"jwks", "--jwks-file"}};
    char **nargv = NULL;
    struct err err = {0};
    int argi = 0;
    int code = load_settings("keygen",
                             "usage: taskwire keygen --key FILE --jwks FILE\n\n"
                             "Create a P-256 signing key for development tokens.",
                             opts, NOPTS(opts), aliases, NOPTS(aliases), NULL, 0, argc, argv,
                             &nargv, &argi);
    if (code >= 0)
        goto out_unload;
    if (nargv[argi]) {
        code = usage_error("keygen", "takes no arguments");
        goto out_unload;
    }
    if (!key || !*key || !jwks || !*jwks) {
        code = usage_error("keygen", "--key FILE and --jwks FILE are required");
        goto out_unload;
    }
    if (devtoken_keygen(key, jwks, &err) < 0) {
        fprintf(stderr, "taskwire keygen: %s\n", err.msg);
        code = EXIT_USAGE;
        goto out_unload;
    }
    printf("wrote %s and %s\n", key, jwks);
    code = EXIT_OK;
out_unload:
    unload_settings(opts, NOPTS(opts), NULL, 0, nargv);
    return code;
}

/* ---- token ---- */

static int cmd_token(int argc, char **argv)
{
    const char *key = NULL, *issuer = NULL, *audience = NULL, *scope = NULL;
    int64_t ttl_s = 0;
    struct cfg_opt opts[] = {
        {"signing-key-file", CFG_STR, NULL, "private JWK from 'taskwire keygen'; alias --key", &key,
         0, 0, false},
        {"auth-issuer", CFG_STR, "taskwire-dev", "\"iss\" claim; alias --issuer", &issuer, 0, 0,
         false},
        {"auth-audience", CFG_STR, NULL,
         "\"aud\" claim; alias --audience; unset means $TASKWIRE_URL or " DEFAULT_URL, &audience, 0,
         0, false},
        {"token-ttl-s", CFG_INT, "3600", "lifetime in seconds; alias --ttl-s", &ttl_s, 1,
         366 * 24 * 3600, false},
        {"token-scope", CFG_STR, "mcp:tools",
         "space-separated \"scope\" claim (\"\" for none); "
         "alias --scope",
         &scope, 0, 0, false},
    };
    static const struct alias aliases[] = {{"key", "--signing-key-file"},
                                           {"issuer", "--auth-issuer"},
                                           {"audience", "--auth-audience"},
                                           {"ttl-s", "--token-ttl-s"},
                                           {"scope", "--token-scope"}};
    char **nargv = NULL;
    char *token = NULL;
    struct err err = {0};
    int argi = 0;
    int code = load_settings("token",
                             "usage: taskwire token [--key FILE] [--issuer ISS] [--audience AUD] "
                             "[--ttl-s N] [--scope S] SUBJECT\n\n"
                             "Print a development bearer token for SUBJECT on one line.",
                             opts, NOPTS(opts), aliases, NOPTS(aliases), NULL, 0, argc, argv,
                             &nargv, &argi);
    if (code >= 0)
        goto out_unload;
    if (!nargv[argi] || nargv[argi + 1]) {
        code = usage_error("token", "needs exactly one SUBJECT");
        goto out_unload;
    }
    if (!key || !*key) {
        code = usage_error("token", "--key FILE (or TASKWIRE_SIGNING_KEY_FILE) is required");
        goto out_unload;
    }
    if (!audience || !*audience)
        audience = getenv("TASKWIRE_URL") && *getenv("TASKWIRE_URL") ? getenv("TASKWIRE_URL")
                                                                     : DEFAULT_URL;
    if (devtoken_mint(key, issuer, audience, nargv[argi], scope && *scope ? scope : NULL,
                      (int64_t)time(NULL), ttl_s, &token, &err) < 0) {
        fprintf(stderr, "taskwire token: %s\n", err.msg);
        code = EXIT_USAGE;
        goto out_unload;
    }
    printf("%s\n", token);
    free(token);
    code = EXIT_OK;
out_unload:
    unload_settings(opts, NOPTS(opts), NULL, 0, nargv);
    return code;
}

/* ---- call ---- */

static int call_exit_code(int rc)
{
    switch (-rc) {
    case CALL_EUSAGE:
        return EXIT_USAGE;
    case CALL_ERPC:
        return EXIT_RPC_ERROR;
    case CALL_ETOOL:
        return EXIT_TOOL_ERROR;
    case CALL_EINTR:
        return EXIT_INTERRUPTED;
    default:
        return EXIT_TRANSPORT;
    }
}

static int cmd_call(int argc, char **argv)
{
    const char *url = NULL, *token = NULL, *args_json = NULL;
    bool no_progress = false;
    int64_t timeout_s = 0;
    struct cfg_opt opts[] = {
        {"url", CFG_STR, DEFAULT_URL, "MCP endpoint", &url, 0, 0, false},
        {"token", CFG_STR, NULL,
         "bearer token (from 'taskwire token'); or TASKWIRE_TOKEN_FILE=<path>", &token, 0, 0, true},
        {"no-progress", CFG_BOOL, "false", "draw no progress on stderr", &no_progress, 0, 0, false},
        {"timeout-s", CFG_INT, "0", "overall deadline in seconds; 0 = none (each request: 30 s)",
         &timeout_s, 0, 366 * 24 * 3600, false},
        {"args", CFG_STR, NULL, "the arguments as one JSON object; key=value pairs go on top",
         &args_json, 0, 0, false},
    };
    struct flag_secret secrets[] = {{"token", NULL, NULL}};
    char **nargv = NULL;
    json_t *args = NULL;
    struct err err = {0};
    int argi = 0;
    int code = load_settings(
        "call",
        "usage: taskwire call [--url URL] [--token T] [--no-progress] [--timeout-s N]\n"
        "                     [--args JSON] TOOL [key=value ...]\n\n"
        "Call TOOL and print its result: text on stdout, other content described, then\n"
        "structuredContent as one JSON line.  A value is JSON when it parses as JSON\n"
        "(42, true, null, \"s\", {...}, [...]), else a string.  A task is polled until it ends,\n"
        "with progress on stderr; Ctrl-C cancels it.",
        opts, NOPTS(opts), NULL, 0, secrets, NOPTS(secrets), argc, argv, &nargv, &argi);
    if (code >= 0)
        goto out_unload;
    if (!nargv[argi]) {
        code = usage_error("call", "needs a TOOL name");
        goto out_unload;
    }
    int nkv = 0;
    while (nargv[argi + 1 + nkv])
        nkv++;
    int rc = call_build_args(args_json, nargv + argi + 1, nkv, &args, &err);
    if (rc < 0) {
        code = usage_error("call", err.msg);
        goto out_unload;
    }
    struct call_opts co = {
        .url = url,
        .token = token,
        .tool = nargv[argi],
        .args = args,
        .progress = !no_progress,
        .timeout_s = timeout_s,
    };
    rc = call_run(&co, &err);
    code = rc < 0 ? call_exit_code(rc) : EXIT_OK;
    if (rc < 0 && err.msg[0])
        fprintf(stderr, "%s\n", err.msg);
    json_decref(args);
out_unload:
    unload_settings(opts, NOPTS(opts), secrets, NOPTS(secrets), nargv);
    return code;
}

/* ---- dispatch ---- */

static const struct command commands[] = {
    {"migrate", "apply the SQL migrations", cmd_migrate},
    {"keygen", "create a development signing key", cmd_keygen},
    {"token", "mint a development token", cmd_token},
    {"call", "call an MCP tool", cmd_call},
};

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < NOPTS(commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    const struct command *cmd;

    if (argc < 2) {
        fputs(top_usage, stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        if (!strcmp(argv[1], "help") && argc > 2) {
            cmd = find_command(argv[2]);
            if (!cmd) {
                fprintf(stderr, "taskwire: unknown command '%s'\n", argv[2]);
                return EXIT_USAGE;
            }
            char *help_argv[] = {argv[2], "--help", NULL};
            return cmd->run(2, help_argv);
        }
        fputs(top_usage, stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("taskwire %s\n", TASKWIRE_VERSION);
        return EXIT_OK;
    }
    cmd = find_command(argv[1]);
    if (!cmd) {
        fprintf(stderr, "taskwire: unknown command '%s' (see 'taskwire --help')\n", argv[1]);
        return EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}
