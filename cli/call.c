/*
 * call.c - 'taskwire call': one MCP tools/call over stateless Streamable HTTP.
 *
 * Posts tools/call, answering MRTR input rounds, then follows a task by
 * polling tasks/get at the server's pollIntervalMs (clamped) until it is
 * terminal; input requests of a task are answered with tasks/update.  SIGINT
 * or the overall deadline sends tasks/cancel.  It never retries tools/call,
 * which is not idempotent; only tasks/get is retried, as frontends may
 * restart under a durable task.  The one global is the SIGINT flag.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "call.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "elicit.h"
#include "ui.h"

#define CALL_REQUEST_TIMEOUT_MS 30000 /* per HTTP request */
#define CALL_CANCEL_TIMEOUT_MS  10000 /* for the tasks/cancel sent on SIGINT */
#define CALL_POLL_DEFAULT_MS    500
#define CALL_POLL_MIN_MS        100
#define CALL_POLL_MAX_MS        2000
#define CALL_POLL_RETRIES       5  /* consecutive transport failures while polling */
#define CALL_MAX_INPUT_ROUNDS   16 /* MRTR rounds on tools/call */

static volatile sig_atomic_t call_interrupted; /* set by SIGINT */

/* Everything one call works with. */
struct call {
    const struct call_opts *o; /* borrowed */
    struct ui ui;              /* progress and messages */
    struct client client;      /* the endpoint */
    struct elicit elicit;      /* where answers to input requests come from */
    json_t *answered;          /* keys of input requests answered in this round */
};

/* A task being followed. */
struct poll {
    char task_id[256];   /* the task's id */
    int64_t interval_ms; /* wait before the next tasks/get */
    int failures;        /* consecutive transport failures of tasks/get */
};

/* What to do after one step of following a task. */
enum step {
    STEP_TASK,   /* tasks/get answered: look at the task */
    STEP_POLL,   /* poll again */
    STEP_DONE,   /* finished, with the code in *rc */
    STEP_CANCEL, /* interrupted or out of time: cancel the task, then finish */
};

static const char *jstr(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* ---- error codes of the pieces ---- */

/* The call code for a client code; err->code follows. */
static int from_client(int rc, struct err *err)
{
    int mapped;

    switch (-rc) {
    case 0:
        return 0;
    case CLIENT_EUSAGE:
        mapped = -CALL_EUSAGE;
        break;
    case CLIENT_ERPC:
        mapped = -CALL_ERPC;
        break;
    case CLIENT_EINTR:
        mapped = -CALL_EINTR;
        break;
    case CLIENT_ENOMEM:
        mapped = -CALL_ENOMEM;
        break;
    case CLIENT_EAUTH:
        mapped = -CALL_EAUTH;
        break;
    default:
        mapped = -CALL_ETRANSPORT;
        break;
    }
    if (err)
        err->code = mapped;
    return mapped;
}

/* The call code for an elicit code; err->code follows. */
static int from_elicit(int rc, struct err *err)
{
    int mapped = rc == 0                ? 0
                 : rc == -ELICIT_EINTR  ? -CALL_EINTR
                 : rc == -ELICIT_ENOMEM ? -CALL_ENOMEM
                                        : -CALL_ETOOL;
    if (err && rc < 0)
        err->code = mapped;
    return mapped;
}

/* client_request with call codes. */
static int request(struct call *k, const char *method, const char *name, json_t *params,
                   const char *progress_token, int64_t timeout_ms, json_t **result, struct err *err)
{
    return from_client(
        client_request(&k->client, method, name, params, progress_token, timeout_ms, result, err),
        err);
}

/* ---- results ---- */

/* Print a CallToolResult (borrowed); 0, or -CALL_ETOOL (empty message) when isError is true. */
static int print_result(struct call *k, const json_t *result, struct err *err)
{
    if (ui_print_result(&k->ui, result))
        return err_set(err, -CALL_ETOOL, "%s", "");
    return 0;
}

/* Show the progress a task reports. */
static void show_progress(struct call *k, const json_t *task)
{
    double progress, total;
    bool have = ui_progress_extract(task, &progress, &total);
    ui_update(&k->ui, have, progress, total, jstr(task, "statusMessage"));
}

/* ---- following a task ---- */

/* Sleep up to 'ms', waking early on SIGINT. */
static void nap_ms(int64_t ms)
{
    int64_t end = clock_now_ms() + ms;
    while (!call_interrupted) {
        int64_t left = end - clock_now_ms();
        if (left <= 0)
            break;
        struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000L};
        nanosleep(&ts, NULL); /* EINTR on SIGINT: the loop checks the flag */
    }
}

static int64_t poll_interval(const json_t *task, int64_t current)
{
    const json_t *v = json_object_get(task, "pollIntervalMs");
    int64_t ms = json_is_integer(v) ? (int64_t)json_integer_value(v) : current;
    return ms < CALL_POLL_MIN_MS ? CALL_POLL_MIN_MS : ms > CALL_POLL_MAX_MS ? CALL_POLL_MAX_MS : ms;
}

static bool past_deadline(const struct call *k)
{
    return k->client.deadline_ms > 0 && clock_now_ms() >= k->client.deadline_ms;
}

/* Send tasks/cancel for 'task_id', ignoring SIGINT and the deadline meanwhile; true if acked. */
static bool cancel_task(struct call *k, const char *task_id, struct err *why)
{
    json_t *res = NULL;
    int64_t saved = k->client.deadline_ms;
    k->client.abort_on_interrupt = false;
    k->client.deadline_ms = 0;
    int rc = request(k, "tasks/cancel", task_id, json_pack("{s:s}", "taskId", task_id), NULL,
                     CALL_CANCEL_TIMEOUT_MS, &res, why);
    k->client.deadline_ms = saved;
    k->client.abort_on_interrupt = true;
    json_decref(res);
    return rc == 0;
}

/* Leave a task we stopped following (rc -CALL_EINTR: Ctrl-C, else out of time): cancel it. */
static int stop_task(struct call *k, const char *task_id, int rc, struct err *err)
{
    struct err cerr;

    ui_break(&k->ui);
    if (rc == -CALL_EINTR)
        signal(SIGINT, SIG_DFL); /* a second Ctrl-C need not wait for tasks/cancel */
    bool ok = cancel_task(k, task_id, &cerr);
    if (rc == -CALL_EINTR)
        return ok ? err_set(err, -CALL_EINTR, "cancelled")
                  : err_set(err, -CALL_EINTR, "cancelled (tasks/cancel failed: %s)", cerr.msg);
    return err_set(err, -CALL_ETOOL, "timed out; %s task %s", ok ? "cancelled" : "could not cancel",
                   task_id);
}

/* Wait, then tasks/get once; retries transport failures a few times. */
static enum step poll_task(struct call *k, struct poll *p, json_t **task, int *rc, struct err *err)
{
    nap_ms(p->interval_ms);
    if (call_interrupted) {
        *rc = -CALL_EINTR;
        return STEP_CANCEL;
    }
    if (past_deadline(k)) {
        *rc = -CALL_ETOOL;
        return STEP_CANCEL;
    }
    *rc = request(k, "tasks/get", p->task_id, json_pack("{s:s}", "taskId", p->task_id), NULL,
                  CALL_REQUEST_TIMEOUT_MS, task, err);
    if (*rc == -CALL_EINTR)
        return STEP_CANCEL;
    if (*rc == -CALL_ETRANSPORT && past_deadline(k)) {
        *rc = -CALL_ETOOL;
        return STEP_CANCEL;
    }
    if (*rc == -CALL_ETRANSPORT && ++p->failures < CALL_POLL_RETRIES) {
        /* frontends may restart under a durable task: try again */
        ui_say(&k->ui, "tasks/get failed (%d/%d), retrying: %s", p->failures, CALL_POLL_RETRIES,
               err ? err->msg : "");
        return STEP_POLL;
    }
    if (*rc < 0)
        return STEP_DONE;
    p->failures = 0;
    p->interval_ms = poll_interval(*task, p->interval_ms);
    show_progress(k, *task);
    return STEP_TASK;
}

/* A task waiting for input: answer on the terminal and send tasks/update, or cancel it. */
static enum step on_input(struct call *k, const struct poll *p, const json_t *task, int *rc,
                          struct err *err)
{
    json_t *responses = NULL;

    *rc = from_elicit(elicit_answer(&k->elicit, json_object_get(task, "inputRequests"), k->answered,
                                    &responses, err),
                      err);
    if (*rc == 0 && json_object_size(responses) > 0) {
        json_t *ack = NULL;
        *rc = request(k, "tasks/update", p->task_id,
                      json_pack("{s:s, s:o}", "taskId", p->task_id, "inputResponses", responses),
                      NULL, CALL_REQUEST_TIMEOUT_MS, &ack, err);
        json_decref(ack);
    } else {
        json_decref(responses);
    }
    if (*rc == -CALL_ETOOL) {
        /* input we cannot give: the task would wait for nothing */
        char why[256];
        struct err cerr;
        snprintf(why, sizeof(why), "%s", err ? err->msg : "input impossible");
        bool ok = cancel_task(k, p->task_id, &cerr);
        *rc = err_set(err, -CALL_ETOOL, "%s; %s task %s", why,
                      ok ? "cancelled" : "could not cancel", p->task_id);
        return STEP_DONE;
    }
    if (*rc == -CALL_EINTR)
        return STEP_CANCEL;
    return *rc < 0 ? STEP_DONE : STEP_POLL; /* tasks/update failed: say so, change nothing */
}

/* Act on a task's status: print a terminal outcome, answer input, or poll again. */
static enum step on_task(struct call *k, const struct poll *p, const json_t *task, int *rc,
                         struct err *err)
{
    const char *status = jstr(task, "status") ? jstr(task, "status") : "";

    if (strcmp(status, "completed") == 0) {
        if (k->ui.tty) /* end the bar full, whatever the last report said */
            ui_update(&k->ui, true, 1, 1, jstr(task, "statusMessage"));
        *rc = print_result(k, json_object_get(task, "result"), err);
    } else if (strcmp(status, "failed") == 0) {
        const json_t *e = json_object_get(task, "error");
        char msg[160];
        ui_sanitize(msg, sizeof(msg),
                    jstr(e, "message") ? jstr(e, "message") : jstr(task, "statusMessage"),
                    sizeof(msg) - 1);
        ui_break(&k->ui);
        *rc = err_set(err, -CALL_ETOOL, "task failed: %" JSON_INTEGER_FORMAT " %s",
                      json_integer_value(json_object_get(e, "code")), msg);
    } else if (strcmp(status, "cancelled") == 0) {
        ui_break(&k->ui);
        *rc = err_set(err, -CALL_ETOOL, "task cancelled");
    } else if (strcmp(status, "input_required") == 0) {
        return on_input(k, p, task, rc, err);
    } else {
        return STEP_POLL; /* working, or a status from a newer protocol */
    }
    return STEP_DONE;
}

/* Poll a task (a CreateTaskResult, borrowed) until it is terminal and print its outcome. */
static int follow_task(struct call *k, const json_t *created, struct err *err)
{
    const char *id = jstr(created, "taskId");
    struct poll p = {.interval_ms = poll_interval(created, CALL_POLL_DEFAULT_MS)};
    int rc = 0;

    if (!id || !*id || strlen(id) >= sizeof(p.task_id))
        return err_set(err, -CALL_ETRANSPORT, "task result without a usable taskId");
    snprintf(p.task_id, sizeof(p.task_id), "%s", id);
    show_progress(k, created);
    for (;;) {
        json_t *task = NULL;
        enum step s = poll_task(k, &p, &task, &rc, err);
        if (s == STEP_TASK) {
            s = on_task(k, &p, task, &rc, err);
            json_decref(task);
        }
        if (s == STEP_CANCEL)
            return stop_task(k, p.task_id, rc, err);
        if (s == STEP_DONE)
            return rc;
    }
}

/* ---- tools/call ---- */

/* Answer an InputRequiredResult (borrowed) and build the params of the next tools/call. */
static int next_round(struct call *k, json_t *args, const json_t *result, json_t **params,
                      struct err *err)
{
    json_t *responses = NULL;
    int rc = from_elicit(elicit_answer(&k->elicit, json_object_get(result, "inputRequests"),
                                       k->answered, &responses, err),
                         err);
    if (rc == -CALL_EINTR)
        return err_set(err, -CALL_EINTR, "cancelled");
    if (rc < 0)
        return rc;
    json_object_clear(k->answered); /* keys are per round */
    *params = json_pack("{s:s, s:O, s:o}", "name", k->o->tool, "arguments", args, "inputResponses",
                        responses);
    if (*params && jstr(result, "requestState"))
        json_object_set(*params, "requestState", json_object_get(result, "requestState"));
    return 0;
}

/* Send tools/call, repeating it (MRTR) while the server needs input; the final result is a
 * new reference in *result (NULL on failure). */
static int call_tool(struct call *k, json_t **result, struct err *err)
{
    json_t *args = k->o->args ? json_incref(k->o->args) : json_object();
    json_t *params = json_pack("{s:s, s:O*}", "name", k->o->tool, "arguments", args);
    char token[48];
    int rc;

    for (int round = 0;; round++) {
        if (!params || !args) {
            rc = err_set(err, -CALL_ENOMEM, "out of memory");
            goto out_put_args;
        }
        snprintf(token, sizeof(token), "taskwire-cli-%" JSON_INTEGER_FORMAT, k->client.next_id);
        rc = request(k, "tools/call", k->o->tool, params, k->o->progress ? token : NULL,
                     CALL_REQUEST_TIMEOUT_MS, result, err);
        params = NULL;
        if (rc == -CALL_EINTR) {
            ui_break(&k->ui);
            rc = err_set(err, -CALL_EINTR, "cancelled");
        }
        if (rc < 0)
            goto out_put_args;
        const char *type = jstr(*result, "resultType");
        if (!type || strcmp(type, "input_required") != 0)
            break;
        if (round >= CALL_MAX_INPUT_ROUNDS) {
            rc = err_set(err, -CALL_ETOOL, "the tool kept asking for input; giving up");
            goto out_put_args;
        }
        rc = next_round(k, args, *result, &params, err);
        if (rc < 0)
            goto out_put_args;
        json_decref(*result);
        *result = NULL;
    }
out_put_args:
    if (rc < 0) {
        json_decref(*result);
        *result = NULL;
    }
    json_decref(args);
    return rc;
}

/* Print the outcome of a final tools/call result (borrowed), following a task. */
static int call_outcome(struct call *k, const json_t *result, struct err *err)
{
    const char *type = jstr(result, "resultType") ? jstr(result, "resultType") : "complete";
    int rc;

    if (strcmp(type, "task") == 0)
        rc = follow_task(k, result, err);
    else if (strcmp(type, "complete") == 0)
        rc = print_result(k, result, err);
    else
        rc = err_set(err, -CALL_ETRANSPORT, "unexpected resultType '%.40s'", type);
    ui_break(&k->ui);
    return rc;
}

static void on_sigint(int sig)
{
    (void)sig;
    call_interrupted = 1;
}

/* Set up the pieces of one call; on failure nothing is left to release. */
static int call_init(struct call *k, const struct call_opts *o, struct err *err)
{
    struct client_opts co = {
        .url = o->url,
        .token = o->token,
        .deadline_ms = o->timeout_s > 0 ? clock_now_ms() + o->timeout_s * 1000 : 0,
        .interrupted = &call_interrupted,
        .ui = &k->ui,
    };

    memset(k, 0, sizeof(*k));
    k->o = o;
    ui_init(&k->ui, o->progress);
    k->elicit.ui = &k->ui;
    k->elicit.interactive = isatty(STDIN_FILENO) == 1;
    k->elicit.interrupted = &call_interrupted;
    int rc = from_client(client_init(&k->client, &co, err), err);
    if (rc < 0)
        return rc;
    k->answered = json_object();
    if (!k->answered) {
        client_fini(&k->client);
        return err_set(err, -CALL_ENOMEM, "out of memory");
    }
    return 0;
}

/*
 * Run one tool call against o->url and print its outcome: text content on
 * stdout (other content described), structuredContent as one compact JSON
 * line; progress and messages on stderr.  Follows MRTR input_required rounds
 * and tasks (polling tasks/get at the server's pollIntervalMs clamped to
 * [100, 2000] ms), asking for elicitation input on a terminal.
 *
 * Returns 0 when the tool succeeded; -CALL_ETOOL (isError, task failed,
 * cancelled, timed out, or input needed without a terminal), -CALL_ERPC,
 * -CALL_ETRANSPORT, -CALL_EAUTH (token or scope refused), -CALL_EINTR (after
 * sending tasks/cancel), -CALL_EUSAGE or -CALL_ENOMEM, with a line for
 * stderr in err (empty for a plain isError).
 * Installs a SIGINT handler for its duration.  Not thread-safe (the SIGINT flag).
 */
int call_run(const struct call_opts *o, struct err *err)
{
    struct call k;
    struct sigaction sa = {0}, old_sa;
    json_t *result = NULL;
    int rc;

    if (err)
        err->msg[0] = '\0';
    if (!o->url || !*o->url || !o->tool || !*o->tool)
        return err_set(err, -CALL_EUSAGE, "a URL and a tool name are needed");
    rc = call_init(&k, o, err);
    if (rc < 0)
        return rc;

    call_interrupted = 0;
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: let sleeps and reads return early */
    sigaction(SIGINT, &sa, &old_sa);

    rc = call_tool(&k, &result, err);
    if (rc == 0)
        rc = call_outcome(&k, result, err);

    sigaction(SIGINT, &old_sa, NULL);
    json_decref(result);
    json_decref(k.answered);
    client_fini(&k.client);
    return rc;
}
