/*
 * wait.c - suspended synchronous calls and subscriptions/listen streams.
 *
 * Every step has the same shape: take the hub's flags, look at the task(s)
 * if something may have changed, queue what the client must hear, and park
 * again when there is nothing to send.  A missed event can only delay an
 * answer: a tick reads PostgreSQL anyway while Redis is away, and every
 * WAIT_SAFETY_TICKS ticks in any case.  Shutdown answers calls with a retry
 * error and closes streams gracefully.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "wait.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "mcpdefs.h"
#include "taskjson.h"
#include "tasklog.h"
#include "threadconn.h"

/* This thread's store and publisher (NULL when out of memory). */
static struct threadconn *conns(const struct wait *w)
{
    return threadconn_get(w->cfg->pg_dsn, w->cfg->redis_addr);
}

/* ---- the stream buffer ---- */

/* Queue raw stream bytes (dropped when out of memory: the client sees a gap). */
static void stream_append(struct wait *w, const char *data, size_t n)
{
    if (bytebuf_append(&w->out, data, n, BYTEBUF_NO_LIMIT) == 0)
        w->ticks = 0;
}

/* Queue one SSE event carrying JSON-RPC message 'msg' (stolen; NULL sends nothing). */
static void stream_send(struct wait *w, json_t *msg)
{
    char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    if (!text)
        return;
    stream_append(w, "event: message\ndata: ", 21);
    stream_append(w, text, strlen(text));
    stream_append(w, "\n\n", 2);
    free(text);
}

/* ---- looking at the store ---- */

/* Cancel the task of a synchronous call whose client went away or timed out. */
static void cancel_call(const struct wait *w, const char *why)
{
    struct threadconn *tc = conns(w);
    struct err e = {0};
    bool changed;
    /* Best effort: a task left running ends on its own and its TTL removes it. */
    if (tc && mcp_cancel_task(tc->store, tc->pub, w->task_id, w->owner, why, &changed, &e) < 0)
        LOG_DEBUG("cannot cancel a synchronous call", "task_id", w->task_id, "error", e.msg);
}

/*
 * Whether a tick should read PostgreSQL although no event said so: always
 * while Redis is away, and every WAIT_SAFETY_TICKS ticks anyway, so a lost
 * event (a reconnect gap, a half-open connection) delays an answer, never
 * loses it.
 */
static bool must_look(struct wait *w, unsigned flags)
{
    if (flags & HUB_CHANGED)
        return true;
    if (!(flags & HUB_TICK))
        return false;
    return !hub_live(w->cfg->hub) || ++w->safety_ticks % WAIT_SAFETY_TICKS == 0;
}

/* Cancel a call that waited its sync_timeout_ms; its error response (new reference).
 * A legacy tasks/result only stops waiting: the task goes on. */
static json_t *timed_out(struct wait *w)
{
    if (w->legacy.task_result)
        return rpc_error_response(w->id, RPC_EINTERNAL,
                                  "The task is still running; call tasks/result again", NULL);
    cancel_call(w, "timeout");
    return rpc_error_response(w->id, RPC_EINTERNAL,
                              "Timed out waiting for the tool; the call was cancelled", NULL);
}

/* Queue each message of array 'msgs' (stolen) as one SSE event. */
static void stream_all(struct wait *w, json_t *msgs)
{
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m)
    {
        stream_send(w, json_incref(m));
    }
    json_decref(msgs);
}

/*
 * The answer 'row' gives a legacy call or tasks/result now, or NULL while
 * it waits.  Input requests go out on the stream as server-to-client
 * requests; a JSON response cannot carry them, so then the wait ends with
 * an error (a synchronous call's task is cancelled, nobody could answer).
 */
static json_t *legacy_answer(struct wait *w, const struct task_row *row)
{
    if (taskstate_terminal(row->status))
        return w->legacy.task_result ? legacy_result_reply(w->id, row)
                                     : legacy_call_reply(w->id, row);
    if (row->status != TASK_INPUT_REQUIRED)
        return NULL;
    if (w->mode != WAIT_MODE_SSE_CALL) {
        if (!w->legacy.task_result)
            cancel_call(w, "input needs an SSE response");
        return rpc_error_response(w->id, RPC_EINTERNAL,
                                  "The tool needs input, which a 2025 client can only receive on "
                                  "an SSE response (Accept: text/event-stream)",
                                  NULL);
    }
    json_t *msgs = json_array();
    legacy_input_messages(row, w->caps, w->asked, w->legacy.task_result, msgs);
    stream_all(w, msgs);
    return NULL;
}

/* Stream what changed in 'row' since the last look: progress (when the call has a
 * token), log messages (when it asked for them), a tasks/result's status. */
static void stream_changes(struct wait *w, const struct task_row *row)
{
    if (w->token && row->has_progress && row->progress != w->sent_progress) {
        stream_send(w, taskjson_progress(w->token, row));
        w->sent_progress = row->progress;
    }
    if (w->log_level >= 0) {
        json_t *msgs = json_array();
        tasklog_messages(row, w->log_level, &w->log_sent, msgs);
        stream_all(w, msgs);
    }
    if (w->legacy.task_result) {
        const char *status = legacy_status(row);
        if (w->last_status && strcmp(status, w->last_status) != 0)
            stream_send(w, legacy_status_notification(row));
        w->last_status = status;
    }
}

/* The answer 'row' gives a call now, or NULL while the task still runs. */
static json_t *task_answer(struct wait *w, const struct task_row *row)
{
    if (w->legacy.on)
        return legacy_answer(w, row);
    if (row->status == TASK_INPUT_REQUIRED && row->input_requests)
        return taskjson_input_required_reply(w->cfg->mcp->state_key, w->cfg->mcp->state_key_len,
                                             w->cfg->mcp->state_ttl_s, w->id, row, w->caps);
    if (taskstate_terminal(row->status))
        return w->reveal_task ? taskjson_create_reply(w->id, row) : taskjson_sync_reply(w->id, row);
    return NULL;
}

/*
 * One look at a synchronous call: returns its final response when the task
 * ended (or the wait must end), NULL to keep waiting.  Streams progress on
 * WAIT_MODE_SSE_CALL (and log messages, a legacy task's input requests and
 * status changes).
 */
static json_t *check_call(struct wait *w, unsigned flags)
{
    if (flags & HUB_SHUTDOWN)
        return rpc_error_response(w->id, RPC_EUNAVAILABLE,
                                  "Frontend shutting down; retry the call", NULL);
    bool expired = clock_now_ms() >= w->deadline_ms;
    bool look = !w->started || expired || must_look(w, flags);
    w->started = true;
    struct threadconn *tc = look ? conns(w) : NULL;
    struct task_row row;
    if (!tc || store_task_get(tc->store, w->task_id, w->owner, &row, NULL) < 0)
        return expired ? timed_out(w) : NULL;
    if (w->mode == WAIT_MODE_SSE_CALL)
        stream_changes(w, &row);
    json_t *final = task_answer(w, &row);
    task_row_fini(&row);
    if (!final && expired)
        final = timed_out(w);
    return final;
}

/* Send the notification for listen key 'i' when its task changed since the last one. */
static void listen_key(struct wait *w, struct threadconn *tc, int i, bool all)
{
    bool tools = strcmp(w->hw.keys[i], HUB_TOOLS_KEY) == 0;
    if (tools || strcmp(w->hw.keys[i], HUB_PROMPTS_KEY) == 0) {
        if (!all) /* a list key has no state to look at: only an event means a change */
            stream_send(w, taskjson_list_changed(w->id, tools ? "tools" : "prompts"));
        return;
    }
    struct task_row row;
    if (store_task_get_brief(tc->store, w->hw.keys[i], w->owner, &row, NULL) < 0)
        return;
    char state[sizeof(w->sent[0])];
    snprintf(state, sizeof(state), "%s %d %.3f", row.updated_at, (int)row.status, row.progress);
    if (strcmp(state, w->sent[i]) != 0) {
        memcpy(w->sent[i], state, sizeof(state));
        stream_send(w, taskjson_task_notification(w->id, &row));
    }
    task_row_fini(&row);
}

/* One look at a listen stream: send what changed; close at shutdown or deadline. */
static void check_listen(struct wait *w, unsigned flags, uint64_t changed)
{
    bool all = !w->started || ((flags & HUB_TICK) && must_look(w, flags & ~HUB_CHANGED));
    if (!w->started)
        stream_send(w, taskjson_listen_ack(w->id, w->listen));
    w->started = true;
    struct threadconn *tc = conns(w);
    for (int i = 0; tc && i < w->hw.nkeys; i++)
        if (all || (changed & ((uint64_t)1 << i)))
            listen_key(w, tc, i, all);
    if ((flags & HUB_SHUTDOWN) || clock_now_ms() >= w->deadline_ms) {
        stream_send(w, taskjson_listen_close(w->id));
        w->finished = true;
    }
}

/* ---- steps ---- */

/* A JSON wait: look, then answer or park; on entry and on every resume. */
static enum wait_step reply_step(struct wait *w, json_t **reply)
{
    for (;;) {
        unsigned flags = hub_take(w->cfg->hub, &w->hw, NULL);
        if (flags & HUB_GONE)
            return WAIT_CLOSE; /* wait_fini cancels the task */
        json_t *final = check_call(w, flags);
        if (final) {
            w->answered = true;
            *reply = final;
            return WAIT_REPLY;
        }
        if (hub_suspend(w->cfg->hub, &w->hw))
            return WAIT_SUSPENDED;
    }
}

/* Fill in what a synchronous call waits for. */
static void start_call(struct wait *w, const struct wait_request *r)
{
    const struct mcp_outcome *oc = r->oc;
    w->reveal_task = oc->reveal_task;
    memcpy(w->task_id, oc->task_id, sizeof(w->task_id));
    memcpy(w->hw.keys[0], oc->task_id, sizeof(w->hw.keys[0]));
    w->hw.nkeys = 1;
    json_t *token = json_object_get(r->req->meta, "progressToken");
    bool has_token = json_is_string(token) || json_is_integer(token);
    w->log_level = w->legacy.on ? TASKLOG_INFO
                                : tasklog_level(json_string_value(
                                      json_object_get(r->req->meta, MCP_META_LOG_LEVEL)));
    if (r->sse && (has_token || w->log_level >= 0 || w->legacy.on)) {
        w->token = has_token ? json_incref(token) : NULL;
        w->mode = WAIT_MODE_SSE_CALL;
    } else {
        w->mode = WAIT_MODE_JSON;
    }
    w->deadline_ms = clock_now_ms() + w->cfg->sync_timeout_ms;
}

/* Fill in what a listen stream watches: its task ids, then the tools and prompts lists. */
static void start_listen(struct wait *w, const struct wait_request *r)
{
    w->mode = WAIT_MODE_LISTEN;
    w->listen = r->oc->listen;
    r->oc->listen = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(w->listen, "taskIds"), i, v)
    {
        snprintf(w->hw.keys[w->hw.nkeys++], sizeof(w->hw.keys[0]), "%s", json_string_value(v));
    }
    if (json_is_true(json_object_get(w->listen, "toolsListChanged")))
        snprintf(w->hw.keys[w->hw.nkeys++], sizeof(w->hw.keys[0]), "%s", HUB_TOOLS_KEY);
    if (json_is_true(json_object_get(w->listen, "promptsListChanged")))
        snprintf(w->hw.keys[w->hw.nkeys++], sizeof(w->hw.keys[0]), "%s", HUB_PROMPTS_KEY);
    w->deadline_ms = clock_now_ms() + w->cfg->listen_max_ms;
}

/*
 * Turn request 'r' into wait 'w' (any memory; it is overwritten) and
 * register it in the hub; release it with wait_fini() in any case.
 * mcp_handle() must have answered MCP_WAIT or MCP_LISTEN; a listen filter
 * is stolen from r->oc, the id and capabilities are referenced.  A JSON call
 * looks at its task at once (WAIT_REPLY with *reply, a new reference, or
 * WAIT_SUSPENDED); SSE calls and listen streams return WAIT_STREAM and do
 * their first look in wait_read().  Runs on the connection's MHD thread.
 */
enum wait_step wait_start(struct wait *w, const struct wait_cfg *cfg,
                          const struct wait_request *r, json_t **reply)
{
    memset(w, 0, sizeof(*w));
    w->cfg = cfg;
    w->hw.conn = r->conn;
    w->hw.tick_ms = WAIT_TICK_MS;
    w->sent_progress = -1;
    w->id = json_incref(r->req->id);
    w->caps = json_incref(r->req->client_caps);
    w->log_level = -1;
    if (r->legacy && r->legacy->on) {
        w->legacy = *r->legacy;
        w->asked = json_object();
    }
    snprintf(w->owner, sizeof(w->owner), "%s", r->owner);
    if (r->oc->kind == MCP_WAIT)
        start_call(w, r);
    else
        start_listen(w, r);
    hub_add(cfg->hub, &w->hw);
    return w->mode == WAIT_MODE_JSON ? reply_step(w, reply) : WAIT_STREAM;
}

/*
 * The next step of a JSON wait after the hub resumed its connection and MHD
 * called the request again.  A stream never comes back this way (its bytes
 * are pulled through wait_read); for one this returns WAIT_CLOSE.
 */
enum wait_step wait_resume(struct wait *w, json_t **reply)
{
    return w->mode == WAIT_MODE_JSON ? reply_step(w, reply) : WAIT_CLOSE;
}

/*
 * The content reader of a stream: copy up to 'max' pending bytes to 'buf'
 * and return how many.  With none pending, look at the task(s) once, then
 * park the connection and return 0 (MHD calls again when the hub resumes
 * it).  Returns -WAIT_EEND after the last bytes and -WAIT_EGONE when the
 * client left.  Runs on the connection's MHD thread.
 */
long wait_read(struct wait *w, char *buf, size_t max)
{
    for (;;) {
        if (bytebuf_unread(&w->out))
            return (long)bytebuf_read(&w->out, buf, max);
        if (w->finished)
            return -WAIT_EEND;
        uint64_t changed = 0;
        unsigned flags = hub_take(w->cfg->hub, &w->hw, &changed);
        if (flags & HUB_GONE)
            return -WAIT_EGONE;
        if ((flags & HUB_TICK) && ++w->ticks >= WAIT_KEEPALIVE_TICKS)
            stream_append(w, ": keep-alive\n\n", 14);
        if (w->mode == WAIT_MODE_LISTEN) {
            check_listen(w, flags, changed);
        } else {
            json_t *final = check_call(w, flags);
            if (final) {
                stream_send(w, final);
                w->answered = w->finished = true;
            }
        }
        if (!bytebuf_unread(&w->out) && !w->finished && hub_suspend(w->cfg->hub, &w->hw))
            return 0;
    }
}

/*
 * Unregister 'w' from the hub and release what it holds.  A synchronous
 * call that never produced its answer (the client hung up or the stream
 * broke) cancels its task.  The connection must not be suspended (MHD calls
 * the completion callback only for live connections).
 */
void wait_fini(struct wait *w)
{
    hub_remove(w->cfg->hub, &w->hw);
    if (w->mode != WAIT_MODE_LISTEN && !w->answered && !w->legacy.task_result)
        cancel_call(w, "client closed the connection");
    json_decref(w->id);
    json_decref(w->token);
    json_decref(w->listen);
    json_decref(w->caps);
    json_decref(w->asked);
    bytebuf_fini(&w->out);
    memset(w, 0, sizeof(*w));
}
