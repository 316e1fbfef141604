/*
 * ops.c - taskwire status, tasks list|show|cancel, workers list|drain|undrain.
 *
 * Settings come from TASKWIRE_* variables and flags (common/cfg.h), the
 * database DSN from TASKWIRE_PG_DSN or TASKWIRE_PG_DSN_FILE only (a secret
 * never goes on a command line).  Text output is for people, --json for
 * scripts: the documents are the ones common/opstore.c builds.  Strings read
 * from the database pass through ui_sanitize() before they reach a terminal.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "ops.h"

#include <stdlib.h>
#include <string.h>

#include "notify.h"
#include "ui.h"

#define NOPTS(a) (sizeof(a) / sizeof((a)[0]))
#define DSN_OPT(dst)                                                                              \
    {"pg-dsn", CFG_STR, "", "libpq connection string (\"\": PG* variables); from the "           \
     "environment or TASKWIRE_PG_DSN_FILE only", dst, 0, 0, true}

/* True when argv[i] is a flag of 'opts' that takes the next argument as its value. */
static bool takes_value(const struct cfg_opt *opts, size_t n, const char *a)
{
    if (strncmp(a, "--", 2) != 0 || strchr(a, '='))
        return false;
    const struct cfg_opt *o = cfg_find(opts, n, a + 2, strlen(a + 2));
    return o && o->type != CFG_BOOL;
}

/* Load settings with the options moved before the positional arguments. */
int ops_load(const char *cmd, const char *usage, const struct cfg_opt *opts, size_t n,
             int argc, char **argv, char ***storage, char ***args, int *nargs)
{
    char **v = calloc((size_t)argc + 1, sizeof(*v));
    char **pos = calloc((size_t)argc + 1, sizeof(*pos));
    int nv = 1, np = 0;
    *storage = v;
    if (!v || !pos) {
        free(pos);
        fprintf(stderr, "taskwire %s: out of memory\n", cmd);
        return -OPS_EUSAGE;
    }
    v[0] = argv[0];
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0 || strcmp(argv[i], "--") == 0) {
            pos[np++] = argv[i];
            continue;
        }
        v[nv++] = argv[i];
        if (takes_value(opts, n, argv[i]) && i + 1 < argc)
            v[nv++] = argv[++i];
    }
    int optc = nv;
    for (int i = 0; i < np; i++)
        v[nv++] = pos[i];
    free(pos);
    struct err e = {0};
    int argi = 0;
    int rc = cfg_load(opts, n, optc, v, &argi, &e);
    if (rc < 0) {
        fprintf(stderr, "taskwire %s: %s (see 'taskwire %s --help')\n", cmd, e.msg, cmd);
        return -OPS_EUSAGE;
    }
    if (rc == CFG_HELP)
        cfg_print_help(stdout, usage, opts, n);
    else if (rc == CFG_VERSION)
        printf("taskwire %s\n", TASKWIRE_VERSION);
    else if (rc == CFG_PRINT)
        cfg_print(stdout, opts, n);
    if (rc != CFG_OK)
        return 1;
    *args = v + optc;
    *nargs = np;
    return 0;
}

/* Report an opstore failure. */
int ops_fail(const char *cmd, int rc, const struct err *e)
{
    fprintf(stderr, "taskwire %s: %s\n", cmd, e->msg[0] ? e->msg : "failed");
    return rc == -OPSTORE_ENOTFOUND ? -OPS_ENOTFOUND : -OPS_EUNAVAILABLE;
}

/* A string field of 'o', sanitised for a terminal, into buf. */
static const char *field(const json_t *o, const char *key, char *buf, size_t size)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_string(v))
        ui_sanitize(buf, size, json_string_value(v), size - 1);
    else if (json_is_number(v))
        snprintf(buf, size, "%g", json_number_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, size, "%s", json_is_true(v) ? "yes" : "no");
    else
        snprintf(buf, size, "-");
    return buf;
}

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

/* One row of the tool table. */
static void print_tool_row(FILE *out, const char *name, const json_t *t)
{
    double done = num(t, "completed"), failed = num(t, "failed");
    fprintf(out, "%-24s %8.0f %9.1fs %8.0f %6.0f %8.0f %7.0f %6.1f%%\n", name, num(t, "queued"),
            num(t, "oldest_queued_s"), num(t, "running"), num(t, "input_required"), done, failed,
            done + failed > 0 ? 100.0 * failed / (done + failed) : 0.0);
}

/* The workers table. */
static void print_workers(FILE *out, const json_t *workers)
{
    char id[64], host[64], ver[24], seen[24];
    size_t i;
    const json_t *w;
    fprintf(out, "%-24s %-20s %-9s %5s %5s %10s  %s\n", "WORKER", "HOST", "VERSION", "SLOTS",
            "BUSY", "LAST SEEN", "STATE");
    json_array_foreach(workers, i, w) {
        snprintf(seen, sizeof(seen), "%.1fs ago", num(w, "last_seen_s"));
        fprintf(out, "%-24s %-20s %-9s %5.0f %5.0f %10s  %s\n", field(w, "id", id, sizeof(id)),
                field(w, "host", host, sizeof(host)), field(w, "version", ver, sizeof(ver)),
                num(w, "slots"), num(w, "busy"), seen,
                json_is_true(json_object_get(w, "draining")) ? "draining" : "active");
    }
    if (json_array_size(workers) == 0)
        fprintf(out, "(no live worker registered)\n");
}

/* Print the status document as text. */
void ops_print_status(FILE *out, const json_t *st)
{
    char now[40], name[64];
    const json_t *tools = json_object_get(st, "tools"), *totals = json_object_get(st, "totals");
    fprintf(out, "taskwire status at %s (outcomes over the last %.0f min)\n\n",
            field(st, "now", now, sizeof(now)), num(st, "window_minutes"));
    fprintf(out, "%-24s %8s %10s %8s %6s %8s %7s %7s\n", "TOOL", "QUEUED", "OLDEST", "RUNNING",
            "INPUT", "DONE", "FAILED", "FAIL%");
    size_t i;
    const json_t *t;
    json_array_foreach(tools, i, t)
        print_tool_row(out, field(t, "tool", name, sizeof(name)), t);
    print_tool_row(out, "total", totals);
    fprintf(out, "failure rate %.1f%% (%.0f failed of %.0f finished)\n\n",
            100.0 * num(totals, "failure_rate"), num(totals, "failed"),
            num(totals, "failed") + num(totals, "completed"));
    print_workers(out, json_object_get(st, "workers"));
}

/* Print 'doc' as indented JSON on stdout. */
static void print_json(const json_t *doc)
{
    json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
    fputc('\n', stdout);
}

static const char status_usage[] =
    "usage: taskwire status [--json] [--window-minutes N]\n\n"
    "The cluster at a glance, read from PostgreSQL: queue depth and oldest queued age by\n"
    "tool, running and input_required tasks, outcomes and the failure rate over the last\n"
    "minutes, and the registered workers with their slots and when they were last seen.";

/* taskwire status */
int ops_status(int argc, char **argv)
{
    const char *dsn = NULL;
    bool as_json = false;
    int64_t window = 5;
    struct cfg_opt opts[] = {
        DSN_OPT(&dsn),
        {"json", CFG_BOOL, "false", "print the status document as JSON", &as_json},
        {"window-minutes", CFG_INT, "5", "outcomes and failure rate over this many minutes",
         &window, 1, 60},
    };
    char **storage = NULL, **args;
    int nargs, rc = ops_load("status", status_usage, opts, NOPTS(opts), argc, argv, &storage,
                             &args, &nargs);
    if (rc == 0 && nargs > 0)
        rc = -OPS_EUSAGE, fprintf(stderr, "taskwire status: takes no arguments\n");
    if (rc == 0) {
        struct err e = {0};
        struct opstore *os = opstore_new(dsn, "taskwire-status");
        json_t *st = NULL;
        int r = os ? opstore_status(os, (int)window, &st, &e) : -OPSTORE_ENOMEM;
        if (r < 0)
            rc = ops_fail("status", r, &e);
        else if (as_json)
            print_json(st);
        else
            ops_print_status(stdout, st);
        json_decref(st);
        opstore_free(os);
    }
    cfg_fini(opts, NOPTS(opts));
    free(storage);
    return rc < 0 ? rc : 0;
}

/* ---- tasks ---- */

static const char tasks_usage[] =
    "usage: taskwire tasks list [--status S] [--tool T] [--owner O] [--older-than SECONDS]\n"
    "                           [--newer-than SECONDS] [--limit N] [--json]\n"
    "       taskwire tasks show [--json] TASK_ID\n"
    "       taskwire tasks cancel TASK_ID\n\n"
    "List tasks newest first (any owner), show one with its timeline, or cancel one as\n"
    "tasks/cancel would: the task ends cancelled and, with TASKWIRE_REDIS_ADDR set, the\n"
    "worker running it is told at once (otherwise at its next heartbeat).";

/* The settings of 'taskwire tasks'. */
struct tasks_settings {
    const char *dsn, *status, *tool, *owner;   /* filters (NULL = any) */
    const char *redis_addr, *redis_user, *redis_password; /* for cancel events */
    int64_t older, newer, limit;               /* age filters (s), rows */
    bool json;                                 /* --json */
};

/* Print one line per task of the list 'rows'. */
static void print_task_list(const json_t *rows)
{
    char id[40], st[20], tool[40], owner[40], age[24], worker[32];
    size_t i;
    const json_t *t;
    printf("%-36s %-14s %-20s %-20s %9s  %s\n", "TASK", "STATUS", "TOOL", "OWNER", "AGE",
           "WORKER");
    json_array_foreach(rows, i, t) {
        snprintf(age, sizeof(age), "%.1fs", num(t, "age_s"));
        printf("%-36s %-14s %-20s %-20s %9s  %s\n", field(t, "id", id, sizeof(id)),
               field(t, "status", st, sizeof(st)), field(t, "tool", tool, sizeof(tool)),
               field(t, "owner", owner, sizeof(owner)), age,
               field(t, "worker", worker, sizeof(worker)));
    }
}

/* Print one task and its timeline. */
static void print_task(const json_t *t)
{
    static const char *const keys[] = {"id", "status", "tool", "owner", "attempt",
                                       "max_attempts", "worker", "status_message", "trace"};
    static const char *const times[] = {"created_at", "dispatched_at", "not_before",
                                        "lease_until", "updated_at", "expires_at"};
    char buf[512];
    for (size_t i = 0; i < NOPTS(keys); i++)
        printf("%-15s %s\n", keys[i], field(t, keys[i], buf, sizeof(buf)));
    printf("\ntimeline\n");
    for (size_t i = 0; i < NOPTS(times); i++)
        if (json_is_string(json_object_get(t, times[i])) &&
            json_string_value(json_object_get(t, times[i]))[0] != '-')
            printf("  %-15s %s\n", times[i], field(t, times[i], buf, sizeof(buf)));
    const char *parts[] = {"error", "result", "log"};
    for (size_t i = 0; i < NOPTS(parts); i++) {
        const json_t *v = json_object_get(t, parts[i]);
        if (!v || json_is_null(v))
            continue;
        char *text = json_dumps(v, JSON_COMPACT);
        ui_sanitize(buf, sizeof(buf), text, sizeof(buf) - 1);
        printf("\n%s\n  %s\n", parts[i], buf);
        free(text);
    }
}

/* Tell the workers about a cancel (best effort; the heartbeat catches it otherwise). */
static void publish_cancel(const struct tasks_settings *ts, const char *id)
{
    if (!ts->redis_addr || !*ts->redis_addr)
        return;
    if (notify_set_auth(ts->redis_addr, ts->redis_user, ts->redis_password) < 0)
        return;
    struct notify_pub *pub = notify_pub_new(ts->redis_addr);
    if (pub && notify_publish(pub, NOTIFY_CANCEL, id) < 0)
        fprintf(stderr, "taskwire tasks: cancel event not published (Redis unreachable); the "
                        "worker stops at its next heartbeat\n");
    notify_pub_free(pub);
}

/* Run sub-command 'sub' of 'taskwire tasks' with its positional arguments. */
static int run_tasks(struct opstore *os, const struct tasks_settings *ts, const char *sub,
                     char **args, int nargs)
{
    struct err e = {0};
    json_t *doc = NULL;
    int rc;
    if (strcmp(sub, "list") == 0 && nargs == 0) {
        const struct opstore_filter f = {ts->status, ts->tool, ts->owner, ts->older, ts->newer,
                                         (int)ts->limit};
        if ((rc = opstore_tasks(os, &f, &doc, &e)) == 0)
            ts->json ? print_json(doc) : print_task_list(doc);
    } else if (strcmp(sub, "show") == 0 && nargs == 1) {
        if ((rc = opstore_task(os, args[0], &doc, &e)) == 0)
            ts->json ? print_json(doc) : print_task(doc);
    } else if (strcmp(sub, "cancel") == 0 && nargs == 1) {
        char *owner = NULL;
        if ((rc = opstore_cancel(os, args[0], &owner, &e)) == 0) {
            if (owner)
                publish_cancel(ts, args[0]);
            printf("%s %s\n", args[0], owner ? "cancelled" : "was already finished");
        }
        free(owner);
    } else {
        fprintf(stderr, "taskwire tasks: expected list, show TASK_ID or cancel TASK_ID\n");
        return -OPS_EUSAGE;
    }
    json_decref(doc);
    return rc < 0 ? ops_fail("tasks", rc, &e) : 0;
}

/* taskwire tasks list|show|cancel */
int ops_tasks(int argc, char **argv)
{
    struct tasks_settings ts = {0};
    struct cfg_opt opts[] = {
        DSN_OPT(&ts.dsn),
        {"status", CFG_STR, NULL, "list: only tasks in this status", &ts.status},
        {"tool", CFG_STR, NULL, "list: only tasks of this tool", &ts.tool},
        {"owner", CFG_STR, NULL, "list: only tasks of this principal", &ts.owner},
        {"older-than", CFG_INT, "0", "list: created at least this many seconds ago", &ts.older,
         0, INT32_MAX},
        {"newer-than", CFG_INT, "0", "list: created at most this many seconds ago", &ts.newer,
         0, INT32_MAX},
        {"limit", CFG_INT, "50", "list: at most this many tasks", &ts.limit, 1,
         OPSTORE_LIST_MAX},
        {"json", CFG_BOOL, "false", "list, show: print JSON", &ts.json},
        {"redis-addr", CFG_STR, "", "cancel: Redis host:port to tell the workers (\"\" = off)",
         &ts.redis_addr},
        {"redis-user", CFG_STR, NULL, "cancel: Redis ACL user", &ts.redis_user},
        {"redis-password", CFG_STR, NULL, "cancel: Redis password", &ts.redis_password, 0, 0,
         true},
    };
    char **storage = NULL, **args;
    int nargs, rc = ops_load("tasks", tasks_usage, opts, NOPTS(opts), argc, argv, &storage,
                             &args, &nargs);
    if (rc == 0 && nargs == 0) {
        fprintf(stderr, "taskwire tasks: expected list, show TASK_ID or cancel TASK_ID\n");
        rc = -OPS_EUSAGE;
    }
    if (rc == 0) {
        struct opstore *os = opstore_new(ts.dsn, "taskwire-tasks");
        rc = os ? run_tasks(os, &ts, args[0], args + 1, nargs - 1) : -OPS_EUNAVAILABLE;
        opstore_free(os);
    }
    cfg_fini(opts, NOPTS(opts));
    free(storage);
    return rc < 0 ? rc : 0;
}

/* ---- workers ---- */

static const char workers_usage[] =
    "usage: taskwire workers list [--json]\n"
    "       taskwire workers drain WORKER_ID\n"
    "       taskwire workers undrain WORKER_ID\n\n"
    "The worker registry: every live worker with its slots, busy slots, tools and when it\n"
    "was last seen.  A drained worker takes no new task (pushed or queued) but finishes\n"
    "the ones it runs; undrain lets it take work again.  Both act within a heartbeat\n"
    "(lease-ms / 3 of the worker).";

/* Run sub-command 'sub' of 'taskwire workers'. */
static int run_workers(struct opstore *os, bool as_json, const char *sub, char **args,
                       int nargs)
{
    struct err e = {0};
    int rc;
    bool drain = strcmp(sub, "drain") == 0;
    if (strcmp(sub, "list") == 0 && nargs == 0) {
        json_t *st = NULL;
        if ((rc = opstore_status(os, 5, &st, &e)) == 0)
            as_json ? print_json(json_object_get(st, "workers"))
                    : print_workers(stdout, json_object_get(st, "workers"));
        json_decref(st);
    } else if ((drain || strcmp(sub, "undrain") == 0) && nargs == 1) {
        if ((rc = opstore_drain(os, args[0], drain, &e)) == 0)
            printf("%s %s\n", args[0], drain ? "draining: takes no new work" : "takes work again");
    } else {
        fprintf(stderr, "taskwire workers: expected list, drain WORKER_ID or undrain WORKER_ID\n");
        return -OPS_EUSAGE;
    }
    return rc < 0 ? ops_fail("workers", rc, &e) : 0;
}

/* taskwire workers list|drain|undrain */
int ops_workers(int argc, char **argv)
{
    const char *dsn = NULL;
    bool as_json = false;
    struct cfg_opt opts[] = {
        DSN_OPT(&dsn),
        {"json", CFG_BOOL, "false", "list: print JSON", &as_json},
    };
    char **storage = NULL, **args;
    int nargs, rc = ops_load("workers", workers_usage, opts, NOPTS(opts), argc, argv, &storage,
                             &args, &nargs);
    if (rc == 0 && nargs == 0) {
        fprintf(stderr, "taskwire workers: expected list, drain WORKER_ID or undrain WORKER_ID\n");
        rc = -OPS_EUSAGE;
    }
    if (rc == 0) {
        struct opstore *os = opstore_new(dsn, "taskwire-workers");
        rc = os ? run_workers(os, as_json, args[0], args + 1, nargs - 1) : -OPS_EUNAVAILABLE;
        opstore_free(os);
    }
    cfg_fini(opts, NOPTS(opts));
    free(storage);
    return rc < 0 ? rc : 0;
}
