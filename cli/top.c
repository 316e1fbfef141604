/*
 * top.c - taskwire top: a live view of the cluster, refreshed every second.
 *
 * Each refresh reads the status document (common/opstore.h) and keeps, per
 * tool, the last TOP_HISTORY samples of its queue depth (drawn as a
 * sparkline) and of its count of finished tasks (the rate is the change over
 * the last TOP_RATE_S seconds; workers add their counts every lease-ms / 3,
 * so the rate moves in steps).  On a terminal it draws on the alternate
 * screen with the keyboard in non-canonical mode and quits on 'q' or Ctrl-C,
 * putting the terminal back as it was; when stdout is not a terminal it
 * prints one plain line per tool and refresh.  Not thread-safe.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ops.h"
#include "ui.h"

#define TOP_HISTORY 40 /* samples kept per tool (the sparkline's width) */
#define TOP_TOOLS 64   /* tools followed at most */
#define TOP_RATE_S 15  /* rates are the change over this many seconds */

/* What top remembers of one tool between refreshes. */
struct top_tool {
    char name[64];                  /* tool name, sanitised */
    double queued[TOP_HISTORY];     /* queue depth samples, oldest first */
    double finished[TOP_HISTORY];   /* finished_hour samples */
    int64_t at_ms[TOP_HISTORY];     /* when each sample was taken (monotonic) */
    int n;                          /* samples held */
};

/* The view's state. */
struct top {
    struct top_tool tools[TOP_TOOLS]; /* followed tools */
    int ntools;                       /* entries in tools */
    bool tty;                         /* draw in place (stdout is a terminal) */
    bool keys;                        /* stdin is a terminal: read 'q' */
    struct termios saved;             /* the terminal's settings before we changed them */
};

static volatile sig_atomic_t top_stop; /* set by SIGINT / SIGTERM */

static void on_signal(int sig)
{
    (void)sig;
    top_stop = 1;
}

/* The entry for tool 'name', added when new; NULL when TOP_TOOLS are followed. */
static struct top_tool *tool_slot(struct top *t, const char *name)
{
    for (int i = 0; i < t->ntools; i++)
        if (strcmp(t->tools[i].name, name) == 0)
            return &t->tools[i];
    if (t->ntools == TOP_TOOLS)
        return NULL;
    struct top_tool *tt = &t->tools[t->ntools++];
    memset(tt, 0, sizeof(*tt));
    snprintf(tt->name, sizeof(tt->name), "%s", name);
    return tt;
}

/* Add one sample to a tool's history, dropping the oldest when full. */
static void push_sample(struct top_tool *tt, double queued, double finished, int64_t now)
{
    if (tt->n == TOP_HISTORY) {
        memmove(tt->queued, tt->queued + 1, sizeof(double) * (TOP_HISTORY - 1));
        memmove(tt->finished, tt->finished + 1, sizeof(double) * (TOP_HISTORY - 1));
        memmove(tt->at_ms, tt->at_ms + 1, sizeof(int64_t) * (TOP_HISTORY - 1));
        tt->n--;
    }
    tt->queued[tt->n] = queued;
    tt->finished[tt->n] = finished;
    tt->at_ms[tt->n] = now;
    tt->n++;
}

/* Finished tasks per second over the last TOP_RATE_S seconds of samples. */
static double rate_of(const struct top_tool *tt)
{
    if (tt->n < 2)
        return 0;
    int last = tt->n - 1, first = last;
    while (first > 0 && tt->at_ms[last] - tt->at_ms[first - 1] <= TOP_RATE_S * 1000)
        first--;
    double dt = (double)(tt->at_ms[last] - tt->at_ms[first]) / 1000.0;
    double d = tt->finished[last] - tt->finished[first];
    return dt > 0 && d > 0 ? d / dt : 0;
}

/* Render the queue-depth history as a sparkline of UTF-8 blocks into buf. */
static void sparkline(const struct top_tool *tt, char *buf, size_t size)
{
    static const char *const bars[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                       "\u2585", "\u2586", "\u2587", "\u2588"};
    double max = 0;
    for (int i = 0; i < tt->n; i++)
        max = tt->queued[i] > max ? tt->queued[i] : max;
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < tt->n && len + 4 < size; i++) {
        int level = max > 0 ? (int)(tt->queued[i] * 7.0 / max + 0.5) : 0;
        len += (size_t)snprintf(buf + len, size - len, "%s", bars[level]);
    }
}

/* Take one status document into the histories. */
static void record(struct top *t, const json_t *st, int64_t now)
{
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(st, "tools"), i, row) {
        char name[64];
        ui_sanitize(name, sizeof(name), json_string_value(json_object_get(row, "tool")), 63);
        struct top_tool *tt = tool_slot(t, name);
        if (tt)
            push_sample(tt, json_number_value(json_object_get(row, "queued")),
                        json_number_value(json_object_get(row, "finished_hour")), now);
    }
}

/* The row of the document's tool 'name', or NULL when it has nothing now. */
static const json_t *row_of(const json_t *st, const char *name)
{
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(st, "tools"), i, row)
        if (strcmp(json_string_value(json_object_get(row, "tool")), name) == 0)
            return row;
    return NULL;
}

/* Draw one frame on the terminal. */
static void draw(const struct top *t, const json_t *st)
{
    fputs("\033[H\033[2J", stdout);
    printf("taskwire top - every second; q or Ctrl-C quits\n\n");
    printf("%-24s %7s %8s %7s %6s %8s  %s\n", "TOOL", "QUEUED", "OLDEST", "RUNNING", "INPUT",
           "RATE/s", "QUEUE (last 40 s)");
    for (int i = 0; i < t->ntools; i++) {
        const struct top_tool *tt = &t->tools[i];
        const json_t *row = row_of(st, tt->name);
        char spark[TOP_HISTORY * 4 + 1];
        sparkline(tt, spark, sizeof(spark));
        printf("%-24s %7.0f %7.1fs %7.0f %6.0f %8.2f  %s\n", tt->name,
               json_number_value(json_object_get(row, "queued")),
               json_number_value(json_object_get(row, "oldest_queued_s")),
               json_number_value(json_object_get(row, "running")),
               json_number_value(json_object_get(row, "input_required")), rate_of(tt), spark);
    }
    printf("\n");
    ops_print_status(stdout, st);
    fflush(stdout);
}

/* Print plain lines (stdout is not a terminal). */
static void print_plain(const struct top *t, const json_t *st)
{
    const char *now = json_string_value(json_object_get(st, "now"));
    for (int i = 0; i < t->ntools; i++) {
        const struct top_tool *tt = &t->tools[i];
        const json_t *row = row_of(st, tt->name);
        printf("%s tool=%s queued=%.0f oldest_s=%.1f running=%.0f input_required=%.0f "
               "rate_per_s=%.2f\n", now ? now : "-", tt->name,
               json_number_value(json_object_get(row, "queued")),
               json_number_value(json_object_get(row, "oldest_queued_s")),
               json_number_value(json_object_get(row, "running")),
               json_number_value(json_object_get(row, "input_required")), rate_of(tt));
    }
    const json_t *totals = json_object_get(st, "totals");
    printf("%s total queued=%.0f running=%.0f workers=%zu failure_rate=%.4f\n", now ? now : "-",
           json_number_value(json_object_get(totals, "queued")),
           json_number_value(json_object_get(totals, "running")),
           json_array_size(json_object_get(st, "workers")),
           json_number_value(json_object_get(totals, "failure_rate")));
    fflush(stdout);
}

/* Enter the view: signals, and on a terminal the alternate screen and raw keys. */
static void enter(struct top *t)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    t->tty = isatty(STDOUT_FILENO);
    t->keys = t->tty && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &t->saved) == 0;
    if (t->keys) {
        struct termios raw = t->saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    if (t->tty)
        fputs("\033[?1049h\033[?25l", stdout);
}

/* Leave the view: the terminal exactly as it was. */
static void leave(struct top *t)
{
    if (t->tty) {
        fputs("\033[?25h\033[?1049l", stdout);
        fflush(stdout);
    }
    if (t->keys)
        tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
}

/* Wait up to 'ms' for the next refresh; true when the user asked to quit. */
static bool wait_key(const struct top *t, int64_t ms)
{
    int64_t until = clock_now_ms() + ms;
    while (!top_stop) {
        int64_t left = until - clock_now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {STDIN_FILENO, POLLIN, 0};
        int n = poll(&p, t->keys ? 1 : 0, (int)left);
        char c;
        if (n > 0 && read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q' || c == 3))
            return true;
    }
    return true;
}

static const char top_usage[] =
    "usage: taskwire top [--interval-ms N] [--count N]\n\n"
    "A live view of the cluster from PostgreSQL: per tool the queue depth with a sparkline\n"
    "of the last 40 refreshes, the oldest queued age, running and input_required tasks and\n"
    "the rate of finished tasks per second; then the status tables.  q or Ctrl-C quits and\n"
    "restores the terminal.  When stdout is not a terminal it prints plain lines instead.";

/* The refresh loop; 0 or -OPS_EUNAVAILABLE. */
static int run_top(struct opstore *os, int64_t interval_ms, int64_t count)
{
    struct top *t = calloc(1, sizeof(*t));
    if (!t)
        return -OPS_EUNAVAILABLE;
    int rc = 0;
    enter(t);
    for (int64_t i = 0; !top_stop && (count == 0 || i < count); i++) {
        struct err e = {0};
        json_t *st = NULL;
        int r = opstore_status(os, 1, &st, &e);
        if (r < 0) {
            leave(t);
            free(t);
            return ops_fail("top", r, &e);
        }
        record(t, st, clock_now_ms());
        t->tty ? draw(t, st) : print_plain(t, st);
        json_decref(st);
        if ((count == 0 || i + 1 < count) && wait_key(t, interval_ms))
            break;
    }
    leave(t);
    free(t);
    return rc;
}

/* taskwire top */
int ops_top(int argc, char **argv)
{
    const char *dsn = NULL;
    int64_t interval = 1000, count = 0;
    struct cfg_opt opts[] = {
        {"pg-dsn", CFG_STR, "", "libpq connection string (\"\": PG* variables); from the "
         "environment or TASKWIRE_PG_DSN_FILE only", &dsn, 0, 0, true},
        {"interval-ms", CFG_INT, "1000", "time between refreshes", &interval, 100, 60000},
        {"count", CFG_INT, "0", "stop after this many refreshes (0: until q or Ctrl-C)", &count,
         0, INT32_MAX},
    };
    char **storage = NULL, **args;
    int nargs, rc = ops_load("top", top_usage, opts, sizeof(opts) / sizeof(opts[0]), argc, argv,
                             &storage, &args, &nargs);
    if (rc == 0 && nargs > 0)
        rc = -OPS_EUSAGE, fprintf(stderr, "taskwire top: takes no arguments\n");
    if (rc == 0) {
        struct opstore *os = opstore_new(dsn, "taskwire-top");
        rc = os ? run_top(os, interval, count) : -OPS_EUNAVAILABLE;
        opstore_free(os);
    }
    cfg_fini(opts, sizeof(opts) / sizeof(opts[0]));
    free(storage);
    return rc < 0 ? rc : 0;
}
