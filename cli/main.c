/*
 * main.c - the 'taskwire' command: migrate, keygen, token, call, and the operator
 * commands status, top, tasks and workers (cli/ops.c, cli/top.c).
 *
 * Each command has its own cfg_opt table (TASKWIRE_* variables, --flags) and
 * this file alone turns outcomes into exit codes.  It holds no protocol logic:
 * migrations are common/migrate.c, keys and tokens common/devtoken.c, the tool
 * call cli/call.c (with args, client, sse, elicit and ui beside it).
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
 *   7    no such task or worker (tasks show/cancel, workers drain/undrain)
 *   130  interrupted (after sending tasks/cancel for a running task)
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "call.h"
#include "cfg.h"
#include "devtoken.h"
#include "fabkeys.h"
#include "fileio.h"
#include "migrate.h"
#include "migrations.h"
#include "ops.h"
#include "startup.h"

enum exit_code {
    EXIT_OK = 0,
    EXIT_TOOL_ERROR = 1,
    EXIT_USAGE = 2,
    EXIT_TRANSPORT = 3,
    EXIT_DB_UNREACHABLE = 4,
    EXIT_MIGRATE_REFUSED = 5,
    EXIT_RPC_ERROR = 6,
    EXIT_NOT_FOUND = 7,
    EXIT_INTERRUPTED = 130,
};

#define DEFAULT_URL "http://127.0.0.1:8700/mcp"
#define GO_ON       (-1) /* load_settings: no exit code yet, run the command */
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

/* One command's settings and arguments, from load_settings to unload_settings. */
struct settings {
    const char *cmd;             /* "call", for messages */
    const char *usage;           /* text above the settings in --help */
    struct cfg_opt *opts;        /* the command's settings */
    size_t nopts;                /* entries in opts */
    const struct alias *aliases; /* short flags, or NULL */
    size_t naliases;             /* entries in aliases */
    struct flag_secret *secrets; /* secret settings also taken as flags, or NULL */
    size_t nsecrets;             /* entries in secrets */
    int min_args, max_args;      /* positional arguments allowed */
    const char *args_error;      /* the usage error when their number is wrong */
    char **nargv;                /* owned: argv rewritten for cfg_load */
    char **args;                 /* the positional arguments, inside nargv (NULL-terminated) */
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
    "  fabric-keygen  create a CURVE key pair for the fabric (frontends or workers)\n"
    "  token     mint a development bearer token signed with that key\n"
    "  call      call an MCP tool, following a task to its end\n"
    "  status    queues, running tasks, failure rate and workers (PostgreSQL)\n"
    "  top       a live view of the same, refreshed every second\n"
    "  tasks     list, show or cancel tasks of any owner\n"
    "  workers   list, drain or undrain workers\n"
    "  help      this text, or 'taskwire help <command>'\n"
    "\n"
    "Every option is also a TASKWIRE_* environment variable; 'taskwire <command> --help'\n"
    "lists them with their defaults.  --version prints the version.\n"
    "\n"
    "Exit codes: 0 ok; 1 the tool or task ended in error (isError, failed, cancelled);\n"
    "2 usage or configuration error; 3 HTTP or transport error; 4 database unreachable;\n"
    "5 migration refused; 6 JSON-RPC error from the server; 7 no such task or worker;\n"
    "130 interrupted.\n";

/* ---- option handling shared by the commands ---- */

/* The flag an alias of 'len' bytes at 'name' stands for, or NULL. */
static const char *find_alias(const struct settings *s, const char *name, size_t len)
{
    for (size_t k = 0; k < s->naliases; k++)
        if (strlen(s->aliases[k].from) == len && strncmp(s->aliases[k].from, name, len) == 0)
            return s->aliases[k].to;
    return NULL;
}

static struct flag_secret *find_secret(const struct settings *s, const char *name)
{
    for (size_t k = 0; k < s->nsecrets; k++)
        if (strcmp(s->secrets[k].name, name) == 0)
            return &s->secrets[k];
    return NULL;
}

/* Rewrite the option argv[*i] ("--name[=value]", maybe taking argv[*i + 1] as its
 * value) onto out[*no...]: an alias becomes its setting's flag, a secret is taken out. */
static int take_option(struct settings *s, int argc, char **argv, int *i, char **out, int *no,
                       struct err *err)
{
    char *a = argv[*i];
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const char *flag = find_alias(s, name, len);

    if (flag) {
        name = flag + 2;
        len = strlen(name);
    }
    const struct cfg_opt *o = cfg_find(s->opts, s->nopts, name, len);
    if (!o || o->type == CFG_BOOL) {
        /* unknown (cfg_load reports it), --help and the like, or a boolean;
         * booleans have no aliases */
        out[(*no)++] = a;
        return 0;
    }
    char *value = eq ? (char *)eq + 1 : *i + 1 < argc ? argv[++*i] : NULL;
    if (!value)
        return err_set(err, -CFG_EINVALID, "--%s needs a value", o->name);
    struct flag_secret *sec = find_secret(s, o->name);
    if (sec) {
        sec->value = value;
    } else if (!flag && eq) {
        out[(*no)++] = a;
    } else {
        out[(*no)++] = flag ? (char *)flag : a;
        out[(*no)++] = value;
    }
    return 0;
}

/*
 * Rewrite argv for cfg_load: aliases become their setting's flag, secret flags
 * are taken out into s->secrets, and options may come after positional
 * arguments (they are moved in front of a "--").  Returns a new argv array
 * (free() it; its strings are borrowed) with its length in *outc, or NULL.
 */
static char **normalize_args(struct settings *s, int argc, char **argv, int *outc, struct err *err)
{
    /* "--alias=value" becomes two entries; then "--" and a NULL */
    char **out = calloc(2 * (size_t)argc + 2, sizeof(*out));
    char **pos = calloc((size_t)argc + 1, sizeof(*pos));
    int no = 0, np = 0;

    if (!out || !pos) {
        err_set(err, -CFG_EINVALID, "out of memory");
        goto out_free;
    }
    out[no++] = argv[0];
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                pos[np++] = argv[i];
            break;
        }
        if (strcmp(a, "-h") == 0)
            out[no++] = a;
        else if (strncmp(a, "--", 2) != 0)
            pos[np++] = a;
        else if (take_option(s, argc, argv, &i, out, &no, err) < 0)
            goto out_free;
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

/* --help: the settings, showing flag-capable secrets as ordinary settings (cfg would
 * say "never a flag"). */
static void print_help(const struct settings *s)
{
    struct cfg_opt shown[8];
    size_t m = s->nopts < NOPTS(shown) ? s->nopts : NOPTS(shown);

    memcpy(shown, s->opts, m * sizeof(*shown));
    for (size_t k = 0; k < m; k++)
        if (find_secret(s, shown[k].name))
            shown[k].secret = false;
    cfg_print_help(stdout, s->usage, shown, m);
}

static int usage_error(const char *cmd, const char *msg)
{
    fprintf(stderr, "taskwire %s: %s (see 'taskwire %s --help')\n", cmd, msg, cmd);
    return EXIT_USAGE;
}

/* Report a failure of 'cmd' on stderr and return the exit code 'code'. */
static int failure(const char *cmd, const char *msg, int code)
{
    fprintf(stderr, "taskwire %s: %s\n", cmd, msg);
    return code;
}

/*
 * Load a command's settings and check its number of positional arguments.
 * Returns GO_ON (s->args set), or the exit code to end with (help,
 * version, config printed, or a usage error already reported).  Call
 * unload_settings() in every case.
 */
static int load_settings(struct settings *s, int argc, char **argv)
{
    struct err err = {0};
    int nargc = 0, argi = 0, nargs = 0;

    s->nargv = normalize_args(s, argc, argv, &nargc, &err);
    if (!s->nargv)
        return failure(s->cmd, err.msg, EXIT_USAGE);
    int rc = cfg_load(s->opts, s->nopts, nargc, s->nargv, &argi, &err);
    if (rc < 0)
        return failure(s->cmd, err.msg, EXIT_USAGE);
    for (size_t k = 0; k < s->nsecrets; k++) {
        const struct cfg_opt *o =
            cfg_find(s->opts, s->nopts, s->secrets[k].name, strlen(s->secrets[k].name));
        if (o && s->secrets[k].value) {
            s->secrets[k].saved = *(char **)o->dst;
            *(const char **)o->dst = s->secrets[k].value;
        }
    }
    if (rc == CFG_HELP)
        print_help(s);
    else if (rc == CFG_VERSION)
        printf("taskwire %s\n", TASKWIRE_VERSION);
    else if (rc == CFG_PRINT)
        cfg_print(stdout, s->opts, s->nopts);
    if (rc == CFG_HELP || rc == CFG_VERSION || rc == CFG_PRINT || rc == CFG_CHECK)
        return EXIT_OK;
    s->args = s->nargv + argi;
    while (s->args[nargs])
        nargs++;
    if (nargs < s->min_args || nargs > s->max_args)
        return usage_error(s->cmd, s->args_error);
    return GO_ON;
}

/* Undo load_settings: put back what cfg_load owns, release it, free the argv copy. */
static void unload_settings(struct settings *s)
{
    for (size_t k = 0; k < s->nsecrets; k++) {
        const struct cfg_opt *o =
            cfg_find(s->opts, s->nopts, s->secrets[k].name, strlen(s->secrets[k].name));
        if (o && s->secrets[k].value)
            *(char **)o->dst = s->secrets[k].saved;
    }
    cfg_fini(s->opts, s->nopts);
    free(s->nargv);
}

/* ---- migrate ---- */

static int run_migrate(const char *dsn)
{
    struct err err = {0};
    int applied = 0;
    int rc = migrate_run(dsn, &applied, &err);
    if (rc < 0)
        return failure("migrate", err.msg,
                       rc == -MIGRATE_ECONNECT ? EXIT_DB_UNREACHABLE : EXIT_MIGRATE_REFUSED);
    printf("migrations: %d applied, %u total\n", applied, migrations_count);
    return EXIT_OK;
}

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
    struct settings s = {
        .cmd = "migrate",
        .usage = "usage: taskwire migrate [--pg-dsn DSN]\n\n"
                 "Apply the SQL migrations built into this binary, under an "
                 "advisory lock (safe to run\nfrom many places at once).",
        .opts = opts,
        .nopts = NOPTS(opts),
        .secrets = secrets,
        .nsecrets = NOPTS(secrets),
        .args_error = "takes no arguments",
    };
    int code = load_settings(&s, argc, argv);
    if (code == GO_ON)
        code = run_migrate(dsn ? dsn : "");
    unload_settings(&s);
    return code;
}

/* ---- keygen ---- */

static int run_keygen(const char *key, const char *jwks)
{
    struct err err = {0};
    if (!key || !*key || !jwks || !*jwks)
        return usage_error("keygen", "--key FILE and --jwks FILE are required");
    if (devtoken_keygen(key, jwks, &err) < 0)
        return failure("keygen", err.msg, EXIT_USAGE);
    printf("wrote %s and %s\n", key, jwks);
    return EXIT_OK;
}

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
    struct settings s = {
        .cmd = "keygen",
        .usage = "usage: taskwire keygen --key FILE --jwks FILE\n\n"
                 "Create a P-256 signing key for development tokens.",
        .opts = opts,
        .nopts = NOPTS(opts),
        .aliases = aliases,
        .naliases = NOPTS(aliases),
        .args_error = "takes no arguments",
    };
    int code = load_settings(&s, argc, argv);
    if (code == GO_ON)
        code = run_keygen(key, jwks);
    unload_settings(&s);
    return code;
}

/* ---- fabric-keygen ---- */

/* Write a fresh CURVE key pair: the secret to 'secret_path' (0600), the public to
 * 'public_path' (0644), each as one line of Z85. */
static int run_fabric_keygen(const char *secret_path, const char *public_path)
{
    char pub[FABKEYS_Z85_LEN + 2], sec[FABKEYS_Z85_LEN + 2];
    struct err err = {0};
    if (!secret_path || !*secret_path || !public_path || !*public_path)
        return usage_error("fabric-keygen", "--secret FILE and --public FILE are required");
    if (fabkeys_generate(pub, sec, &err) < 0)
        return failure("fabric-keygen", err.msg, EXIT_USAGE);
    strcat(pub, "\n");
    strcat(sec, "\n");
    if (fileio_write_atomic(secret_path, sec, strlen(sec), 0600, &err) < 0 ||
        fileio_write_atomic(public_path, pub, strlen(pub), 0644, &err) < 0)
        return failure("fabric-keygen", err.msg, EXIT_USAGE);
    printf("wrote %s and %s\n", secret_path, public_path);
    return EXIT_OK;
}

static int cmd_fabric_keygen(int argc, char **argv)
{
    const char *secret = NULL, *public = NULL;
    struct cfg_opt opts[] = {
        {"secret", CFG_STR, NULL, "where to write the Z85 secret key (mode 0600)", &secret, 0, 0,
         false},
        {"public", CFG_STR, NULL, "where to write the Z85 public key (mode 0644)", &public, 0, 0,
         false},
    };
    struct settings s = {
        .cmd = "fabric-keygen",
        .usage = "usage: taskwire fabric-keygen --secret FILE --public FILE\n\n"
                 "Create a CURVE key pair for the fabric: one for the frontends (their secret is\n"
                 "TASKWIRE_FABRIC_SECRET_KEY, their public key the workers'\n"
                 "TASKWIRE_FABRIC_SERVER_KEY), one per worker or worker group (its secret is the\n"
                 "worker's TASKWIRE_FABRIC_SECRET_KEY, its public key a line of the frontends'\n"
                 "TASKWIRE_FABRIC_WORKER_KEYS_FILE).",
        .opts = opts,
        .nopts = NOPTS(opts),
        .args_error = "takes no arguments",
    };
    int code = load_settings(&s, argc, argv);
    if (code == GO_ON)
        code = run_fabric_keygen(secret, public);
    unload_settings(&s);
    return code;
}

/* ---- token ---- */

/* Mint and print a token for 'subject'; an empty audience means $TASKWIRE_URL or the default. */
static int run_token(const char *key, const char *issuer, const char *audience, const char *scope,
                     int64_t ttl_s, const char *subject)
{
    struct err err = {0};
    char *token = NULL;

    if (!key || !*key)
        return usage_error("token", "--key FILE (or TASKWIRE_SIGNING_KEY_FILE) is required");
    if (!audience || !*audience)
        audience = getenv("TASKWIRE_URL") && *getenv("TASKWIRE_URL") ? getenv("TASKWIRE_URL")
                                                                     : DEFAULT_URL;
    if (devtoken_mint(key, issuer, audience, subject, scope && *scope ? scope : NULL,
                  (int64_t)time(NULL), ttl_s, &token, &err) < 0)
        return failure("token", err.msg, EXIT_USAGE);
    printf("%s\n", token);
    free(token);
    return EXIT_OK;
}

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
        {"token-scope", CFG_STR, "mcp:tools mcp:tasks",
         "space-separated \"scope\" claim (\"\" for none; add mcp:operator to read and cancel "
         "any principal's tasks); alias --scope",
         &scope, 0, 0, false},
    };
    static const struct alias aliases[] = {{"key", "--signing-key-file"},
                                           {"issuer", "--auth-issuer"},
                                           {"audience", "--auth-audience"},
                                           {"ttl-s", "--token-ttl-s"},
                                           {"scope", "--token-scope"}};
    struct settings s = {
        .cmd = "token",
        .usage = "usage: taskwire token [--key FILE] [--issuer ISS] [--audience AUD] "
                 "[--ttl-s N] [--scope S] SUBJECT\n\n"
                 "Print a development bearer token for SUBJECT on one line.",
        .opts = opts,
        .nopts = NOPTS(opts),
        .aliases = aliases,
        .naliases = NOPTS(aliases),
        .min_args = 1,
        .max_args = 1,
        .args_error = "needs exactly one SUBJECT",
    };
    int code = load_settings(&s, argc, argv);
    if (code == GO_ON)
        code = run_token(key, issuer, audience, scope, ttl_s, s.args[0]);
    unload_settings(&s);
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
    case CALL_EAUTH: /* a transport-level refusal, like an HTTP error */
    default:
        return EXIT_TRANSPORT;
    }
}

/* Build the arguments from --args and the key=value words, then call the tool. */
static int run_call(struct call_opts *co, const char *args_json, char **kv)
{
    struct err err = {0};
    json_t *args = NULL;
    int nkv = 0;

    while (kv[nkv])
        nkv++;
    int rc = args_build(args_json, kv, nkv, &args, &err);
    if (rc < 0)
        return usage_error("call", err.msg);
    co->args = args;
    rc = call_run(co, &err);
    if (rc < 0 && err.msg[0])
        fprintf(stderr, "%s\n", err.msg);
    json_decref(args);
    return rc < 0 ? call_exit_code(rc) : EXIT_OK;
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
    struct settings s = {
        .cmd = "call",
        .usage = "usage: taskwire call [--url URL] [--token T] [--no-progress] [--timeout-s N]\n"
                 "                     [--args JSON] TOOL [key=value ...]\n\n"
                 "Call TOOL and print its result: text on stdout, other content described, then\n"
                 "structuredContent as one JSON line.  A value is JSON when it parses as JSON\n"
                 "(42, true, null, \"s\", {...}, [...]), else a string.  A task is polled until it "
                 "ends,\nwith progress on stderr; Ctrl-C cancels it.",
        .opts = opts,
        .nopts = NOPTS(opts),
        .secrets = secrets,
        .nsecrets = NOPTS(secrets),
        .min_args = 1,
        .max_args = INT_MAX,
        .args_error = "needs a TOOL name",
    };
    int code = load_settings(&s, argc, argv);
    if (code == GO_ON) {
        struct call_opts co = {
            .url = url,
            .token = token,
            .tool = s.args[0],
            .progress = !no_progress,
            .timeout_s = timeout_s,
        };
        code = run_call(&co, args_json, s.args + 1);
    }
    unload_settings(&s);
    return code;
}

/* ---- operator commands (cli/ops.c, cli/top.c) ---- */

/* Run an operator command and turn its outcome into an exit code. */
static int run_ops(int (*fn)(int, char **), int argc, char **argv)
{
    int rc = fn(argc, argv);
    return rc == 0                    ? EXIT_OK
           : rc == -OPS_EUSAGE        ? EXIT_USAGE
           : rc == -OPS_ENOTFOUND     ? EXIT_NOT_FOUND
                                      : EXIT_DB_UNREACHABLE;
}

static int cmd_status(int argc, char **argv) { return run_ops(ops_status, argc, argv); }
static int cmd_top(int argc, char **argv) { return run_ops(ops_top, argc, argv); }
static int cmd_tasks(int argc, char **argv) { return run_ops(ops_tasks, argc, argv); }
static int cmd_workers(int argc, char **argv) { return run_ops(ops_workers, argc, argv); }

/* ---- dispatch ---- */

static const struct command commands[] = {
    {"migrate", "apply the SQL migrations", cmd_migrate},
    {"keygen", "create a development signing key", cmd_keygen},
    {"fabric-keygen", "create a CURVE key pair for the fabric", cmd_fabric_keygen},
    {"token", "mint a development token", cmd_token},
    {"call", "call an MCP tool", cmd_call},
    {"status", "the cluster at a glance", cmd_status},
    {"top", "a live view of the cluster", cmd_top},
    {"tasks", "list, show or cancel tasks", cmd_tasks},
    {"workers", "list, drain or undrain workers", cmd_workers},
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
    startup_json_abort_on_oom();
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
