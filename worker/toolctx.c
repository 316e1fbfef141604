/*
 * toolctx.c - the tool API of tools.h, backed by one run's shared state.
 *
 * Every tool (built-in, fixture or external process) reaches the task, the
 * slot's store connection and the runner's threads only through these
 * functions.  Nothing here is held across a database or Redis call: the
 * state's mutex guards memory only.  Parking for input is the one write a
 * tool causes directly; outcomes are stored by the runner.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "toolctx.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "mcpdefs.h"
#include "utf8.h"

#define TOOLCTX_FORMAT_MAX 512 /* bytes of a formatted text or error message, with the NUL */

/* ---- the state shared with the runner ---- */

/*
 * Initialise 'st': not stopped, not parked, no progress.  Returns 0, or
 * -TOOLCTX_ESYS with 'err' set (nothing to release then).  Not thread-safe:
 * call before any other thread can see 'st'.
 */
int toolctx_state_init(struct toolctx_state *st, struct err *err)
{
    memset(st, 0, sizeof(*st));
    int rc = pthread_mutex_init(&st->mu, NULL);
    if (rc != 0)
        return err_set(err, -TOOLCTX_ESYS, "cannot create a mutex: %s", strerror(rc));
    if ((rc = clock_cond_init(&st->cv)) != 0) {
        pthread_mutex_destroy(&st->mu);
        return err_set(err, -TOOLCTX_ESYS, "cannot create a condition variable: %s", strerror(rc));
    }
    return 0;
}

/* Destroy what toolctx_state_init() made; no thread may use 'st' any more. */
void toolctx_state_fini(struct toolctx_state *st)
{
    json_decref(st->logs);
    st->logs = NULL;
    pthread_cond_destroy(&st->cv);
    pthread_mutex_destroy(&st->mu);
}

/* Forget the previous run: not stopped, not parked, no retry, no message. Thread-safe. */
void toolctx_state_reset(struct toolctx_state *st)
{
    pthread_mutex_lock(&st->mu);
    st->stop = st->parked = st->dirty = false;
    st->progress = st->total = 0;
    st->message[0] = '\0';
    st->retry[0] = '\0';
    json_decref(st->logs);
    st->logs = NULL;
    pthread_mutex_unlock(&st->mu);
}

/*
 * Stop the tool: from now on tool_cancelled() is true and tool_sleep_ms()
 * returns false at once (a sleeping tool is woken).  Idempotent; thread-safe;
 * may be called with the runner's lock held (this takes only st->mu).
 */
void toolctx_state_stop(struct toolctx_state *st)
{
    pthread_mutex_lock(&st->mu);
    st->stop = true;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

/*
 * Fill *out for the heartbeat.  out->live is false once the tool was stopped
 * or parked the task (its lease must not be renewed).  When live, progress is
 * due ('progress_due') and changed since the last beat, the progress, total
 * and message are copied and the change is marked taken, so the next report
 * alone makes it due again: that is the coalescing.  Pending log messages
 * are taken too when live and due (out->logs, a new string, or NULL).
 * Thread-safe.
 */
void toolctx_state_beat(struct toolctx_state *st, bool progress_due, struct toolctx_beat *out)
{
    pthread_mutex_lock(&st->mu);
    out->live = !st->stop && !st->parked;
    out->with_progress = out->live && progress_due && st->dirty;
    out->progress = st->progress;
    out->total = st->total;
    memcpy(out->message, st->message, sizeof(out->message));
    if (out->with_progress)
        st->dirty = false;
    json_t *logs = out->live && progress_due ? st->logs : NULL;
    if (logs)
        st->logs = NULL;
    pthread_mutex_unlock(&st->mu);
    out->logs = logs ? json_dumps(logs, JSON_COMPACT) : NULL; /* outside the lock */
    json_decref(logs);
}

/*
 * The log messages the heartbeat has not taken, as the JSON text of an
 * array (a new string the caller frees), or NULL when there are none; they
 * are taken.  For the outcome write.  Thread-safe.
 */
char *toolctx_state_take_logs(struct toolctx_state *st)
{
    pthread_mutex_lock(&st->mu);
    json_t *logs = st->logs;
    st->logs = NULL;
    pthread_mutex_unlock(&st->mu);
    char *text = logs ? json_dumps(logs, JSON_COMPACT) : NULL;
    json_decref(logs);
    return text;
}

/* Copy the outcome flags of the run into *out.  Thread-safe. */
void toolctx_state_outcome(struct toolctx_state *st, struct toolctx_outcome *out)
{
    pthread_mutex_lock(&st->mu);
    out->stopped = st->stop;
    out->parked = st->parked;
    memcpy(out->retry, st->retry, sizeof(out->retry));
    pthread_mutex_unlock(&st->mu);
}

/*
 * The progress to store with the outcome: the last one reported when the
 * heartbeat has not written it yet, else *progress = -1 (leave the stored one).
 * Thread-safe.
 */
void toolctx_state_last_progress(struct toolctx_state *st, double *progress, double *total)
{
    pthread_mutex_lock(&st->mu);
    *progress = st->dirty ? st->progress : -1;
    *total = st->total;
    pthread_mutex_unlock(&st->mu);
}

/* ---- a run's context ---- */

/*
 * Set up 'ctx' for one run of 'row' on the state 'st'.  Every pointer is
 * borrowed and must outlive the run; 'pub' may be NULL (no announcements).
 * The arguments and client capabilities are parsed into new references that
 * toolctx_fini() releases; tool_args() is NULL when the stored arguments are
 * not JSON.  Does not touch 'st' (the runner resets it).
 */
void toolctx_init(struct tool_ctx *ctx, struct toolctx_state *st, const struct task_row *row,
                  struct store *store, struct notify_pub *pub, const char *worker_id)
{
    ctx->state = st;
    ctx->row = row;
    ctx->args = row->args ? json_loads(row->args, 0, NULL) : NULL;
    ctx->caps = row->client_caps ? json_loads(row->client_caps, 0, NULL) : NULL;
    ctx->store = store;
    ctx->pub = pub;
    ctx->worker_id = worker_id;
    ctx->trace = NULL;
}

/* Release the parsed arguments and capabilities; 'ctx' is unusable after. */
void toolctx_fini(struct tool_ctx *ctx)
{
    json_decref(ctx->args);
    json_decref(ctx->caps);
    ctx->args = ctx->caps = NULL;
}

/* ---- the tool API (tools.h) ---- */

/* The arguments object (borrowed from 'ctx'; valid for the run). */
const json_t *tool_args(const struct tool_ctx *ctx)
{
    return ctx->args;
}

/* The traceparent of the run's span (borrowed from the runner; valid for the run). */
const char *tool_traceparent(const struct tool_ctx *ctx)
{
    return ctx->trace ? ctx->trace->parent : NULL;
}

/* The tracestate carried with the task's trace, or NULL. */
const char *tool_tracestate(const struct tool_ctx *ctx)
{
    return ctx->trace && ctx->trace->state[0] ? ctx->trace->state : NULL;
}

/* The task id (borrowed from the task row; valid for the run). */
const char *tool_task_id(const struct tool_ctx *ctx)
{
    return ctx->row->id;
}

/* The attempt this run belongs to (re-runs after input keep it). */
int tool_attempt(const struct tool_ctx *ctx)
{
    return ctx->row->attempt;
}

/*
 * Record progress and, when 'msg' is not NULL, a status message (copied, cut
 * at a character boundary to TOOLCTX_TEXT_MAX bytes: PostgreSQL refuses broken
 * UTF-8).  Only memory: the heartbeat writes it at most every progress-ms.
 * Thread-safe.
 */
void tool_progress(struct tool_ctx *ctx, double progress, double total, const char *msg)
{
    struct toolctx_state *st = ctx->state;
    pthread_mutex_lock(&st->mu);
    st->progress = progress;
    st->total = total;
    if (msg)
        utf8_copy(st->message, sizeof(st->message), msg);
    st->dirty = true;
    pthread_mutex_unlock(&st->mu);
}

/* True for one of the eight MCP logging levels. */
static bool log_level_valid(const char *level)
{
    static const char *const levels[] = {"debug", "info",     "notice", "warning",
                                         "error", "critical", "alert",  "emergency"};
    for (size_t i = 0; level && i < sizeof(levels) / sizeof(levels[0]); i++)
        if (strcmp(level, levels[i]) == 0)
            return true;
    return false;
}

/*
 * Queue log message 'data' (stolen; NULL is ignored) at 'level' ("info"
 * when not an MCP level) for the heartbeat to write.  Data whose JSON passes
 * TOOLCTX_LOG_MAX bytes, or holds a NUL character (which PostgreSQL cannot
 * store), is replaced by a note saying so; past
 * STORE_LOG_KEEP pending messages the oldest is dropped (the store keeps no
 * more anyway).  Thread-safe.
 */
void tool_log(struct tool_ctx *ctx, const char *level, json_t *data)
{
    if (!data)
        return;
    char *text = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t n = text ? strlen(text) : 0;
    /* PostgreSQL's jsonb refuses \u0000: one such message must not cost the outcome write. */
    bool nul = text && strstr(text, "\\u0000");
    free(text);
    if (n == 0 || n > TOOLCTX_LOG_MAX || nul) {
        json_decref(data);
        data = nul ? json_string("(a log message holding a NUL character was dropped)")
                   : json_sprintf("(a log message of %zu bytes was dropped: the limit is %d)", n,
                                  TOOLCTX_LOG_MAX);
    }
    json_t *entry =
        json_pack("{s:s, s:o}", "level", log_level_valid(level) ? level : "info", "data", data);
    if (!entry)
        return;
    struct toolctx_state *st = ctx->state;
    pthread_mutex_lock(&st->mu);
    if (!st->logs)
        st->logs = json_array();
    if (json_array_size(st->logs) >= STORE_LOG_KEEP)
        json_array_remove(st->logs, 0);
    json_array_append_new(st->logs, entry);
    pthread_mutex_unlock(&st->mu);
}

/* True once the run was stopped (cancel, lost lease, shutdown).  Thread-safe. */
bool tool_cancelled(struct tool_ctx *ctx)
{
    pthread_mutex_lock(&ctx->state->mu);
    bool stop = ctx->state->stop;
    pthread_mutex_unlock(&ctx->state->mu);
    return stop;
}

/*
 * Sleep up to 'ms' on the monotonic clock, waking at once when the run is
 * stopped.  Returns true after the full sleep, false when stopped.
 */
bool tool_sleep_ms(struct tool_ctx *ctx, int64_t ms)
{
    struct toolctx_state *st = ctx->state;
    struct timespec until = clock_deadline_in(ms);
    pthread_mutex_lock(&st->mu);
    while (!st->stop && pthread_cond_timedwait(&st->cv, &st->mu, &until) != ETIMEDOUT)
        ;
    bool stop = st->stop;
    pthread_mutex_unlock(&st->mu);
    return !stop;
}

/*
 * Ask for a retry with 'message' as the reason ("retryable failure" when NULL
 * or empty; copied, cut at a character boundary to TOOLCTX_TEXT_MAX bytes,
 * as the reason is stored as the task's status message).  The runner acts on
 * it once the tool returned.  Thread-safe.
 */
void tool_retry_later(struct tool_ctx *ctx, const char *message)
{
    pthread_mutex_lock(&ctx->state->mu);
    utf8_copy(ctx->state->retry, sizeof(ctx->state->retry),
              message && *message ? message : "retryable failure");
    pthread_mutex_unlock(&ctx->state->mu);
}

/* Publish a tools-changed event on the slot's publisher (best effort). */
void tool_notify_tools_changed(struct tool_ctx *ctx)
{
    notify_publish(ctx->pub, NOTIFY_TOOLS, ctx->row->id);
}

/* Publish a prompts-changed event on the slot's publisher (best effort). */
void tool_notify_prompts_changed(struct tool_ctx *ctx)
{
    notify_publish(ctx->pub, NOTIFY_PROMPTS, ctx->row->id);
}

/* The client capabilities declared at creation (borrowed; NULL when none). */
const json_t *tool_client_caps(const struct tool_ctx *ctx)
{
    return ctx->caps;
}

/* An MCP_ECAPABILITY error for the first request whose capability 'caps' lacks, or NULL. */
static json_t *missing_capability(const json_t *caps, json_t *requests)
{
    const char *key;
    json_t *req;
    json_object_foreach(requests, key, req)
    {
        const char *cap =
            mcp_capability_for_method(json_string_value(json_object_get(req, "method")));
        if (!cap || !json_is_object(json_object_get(caps, cap)))
            return json_pack("{s:i, s:s, s:{s:{s:{}}}}", "code", MCP_ECAPABILITY, "message",
                             "Missing required client capability for an input request", "data",
                             "requiredCapabilities", cap ? cap : "elicitation");
    }
    return NULL;
}

/* The answers in 'done' for every key of 'requests' (new reference), or NULL if one is
 * missing. */
static json_t *answers_for(const json_t *requests, const json_t *done)
{
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)requests, key, v)
    {
        json_t *answer = json_object_get(done, key);
        if (!answer) {
            json_decref(out);
            return NULL;
        }
        json_object_set(out, key, answer);
    }
    return out;
}

/*
 * Park the task for the requests not answered in 'done'.  On success the run
 * is marked parked (its slot is released when the tool returns); when the
 * write fails (cancelled, lease lost, PostgreSQL down) it is stopped instead,
 * and the task runs again unless cancelled.
 */
static void park(struct tool_ctx *ctx, json_t *requests, const json_t *done, const char *message)
{
    json_t *outstanding = json_object();
    const char *key;
    json_t *req;
    json_object_foreach(requests, key, req)
    {
        if (!json_object_get(done, key))
            json_object_set(outstanding, key, req);
    }
    char *text = json_dumps(outstanding, JSON_COMPACT);
    json_decref(outstanding);
    struct err e = {0};
    int rc = text ? store_task_request_input(ctx->store, ctx->row->id, ctx->worker_id,
                                             ctx->row->claim, text, message, &e)
                  : err_set(&e, -STORE_EINTERNAL, "out of memory");
    free(text);
    pthread_mutex_lock(&ctx->state->mu);
    if (rc == 0)
        ctx->state->parked = true;
    else /* nothing is written: cancelled, or the lease expires and the task runs again */
        ctx->state->stop = true;
    pthread_mutex_unlock(&ctx->state->mu);
    if (rc == 0)
        notify_publish(ctx->pub, NOTIFY_CHANGED, ctx->row->id);
    else
        LOG_INFO("cannot wait for input now; the task will run again unless cancelled", "task_id",
                 ctx->row->id, "error", e.msg);
}

/*
 * Ask the client for input (tools.h has the contract).  Steals 'requests'.
 * Returns the stored answers for exactly its keys (new reference) when all
 * are answered; else parks the task (or stops the run if that fails) and
 * returns NULL with *error NULL; or returns NULL with *error an
 * MCP_ECAPABILITY error (new reference) when the client did not declare what
 * a request needs.  Blocks on one database write when parking.
 */
json_t *tool_request_input(struct tool_ctx *ctx, json_t *requests, const char *message,
                           json_t **error)
{
    json_t *answers = NULL;
    if ((*error = missing_capability(ctx->caps, requests)))
        goto out_free_requests;
    const char *stored = ctx->row->input_responses;
    json_t *done = stored ? json_loads(stored, 0, NULL) : NULL;
    if (!(answers = answers_for(requests, done)))
        park(ctx, requests, done, message);
    json_decref(done);
out_free_requests:
    json_decref(requests);
    return answers;
}

/* ---- results ---- */

/* A CallToolResult {content: [{type: "text", text}], isError} (new reference). */
json_t *tool_text_result(const char *text, bool is_error)
{
    return json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text", text, "isError",
                     is_error);
}

/* A text result (code 0) or a JSON-RPC error (code set) with 'fmt' formatted. */
static PRINTF_LIKE(3, 0) json_t *formatted(bool is_error, int code, const char *fmt, va_list ap)
{
    char text[TOOLCTX_FORMAT_MAX];
    vsnprintf(text, sizeof(text), fmt, ap);
    if (code != 0)
        return json_pack("{s:i, s:s}", "code", code, "message", text);
    return tool_text_result(text, is_error);
}

/* tool_text_result() of the printf-style 'fmt' (new reference). */
json_t *tool_text_resultf(bool is_error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *result = formatted(is_error, 0, fmt, ap);
    va_end(ap);
    return result;
}

/* A JSON-RPC error object {code, message} (new reference); 'code' is an MCP_E* code. */
json_t *tool_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *error = formatted(false, code, fmt, ap);
    va_end(ap);
    return error;
}
