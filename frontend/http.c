/*
 * http.c - libmicrohttpd glue: routing, body limits, auth, and the one place
 * where a request's lifetime is managed.
 *
 * Each request owns one context (its body buffer, and for waiting requests
 * its hub waiter and stream buffer) freed by MHD's completion callback.
 * Bodies are capped before they are buffered: a Content-Length over the
 * limit is refused at once, a chunked body is cut off at the limit.
 * Authentication runs before the body is parsed.  Requests that wait (a
 * synchronous tools/call, SSE progress, subscriptions/listen) suspend their
 * connection in the hub instead of holding a thread.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "clock.h"
#include "hub.h"
#include "log.h"
#include "mcpdefs.h"
#include "metrics.h"
#include "rpc.h"

struct http_server {
    struct MHD_Daemon *pub;   /* public server */
    struct admin_server *admin; /* operator server, or NULL */
    struct hub *hub;          /* where waiting requests are parked */
    struct http_cfg cfg;      /* copy of the configuration */
};

enum req_mode {
    RQ_BODY,     /* reading the body / answering at once */
    RQ_WAIT,     /* synchronous tools/call answered with JSON when the task ends */
    RQ_SSE_CALL, /* synchronous tools/call streaming progress, then the answer */
    RQ_LISTEN,   /* subscriptions/listen stream */
};

#define LISTEN_MAX_TASKS (HUB_MAX_KEYS - 1)
#define KEEPALIVE_TICKS 15 /* ticks of 1 s between SSE keep-alive comments */
#define SAFETY_TICKS 15    /* ticks of 1 s between reads no event asked for */

/* Per-request state, freed in on_completed(). */
struct req_ctx {
    const struct http_server *srv; /* the server (for stream callbacks) */
    char *body;                    /* received bytes */
    size_t len, cap;               /* used and allocated */
    bool too_large;                /* the body passed the limit; answer 413 */
    enum req_mode mode;            /* what the request turned into */
    struct hub_waiter w;           /* registered in the hub while 'waiting' */
    bool waiting;                  /* w is registered */
    bool started;                  /* the first check ran */
    bool answered;                 /* the final answer was produced */
    bool finished;                 /* nothing more will be appended to 'out' */
    json_t *id;                    /* the request's JSON-RPC id */
    json_t *token;                 /* progressToken, or NULL */
    json_t *listen;                /* accepted listen filter */
    json_t *caps;                  /* the request's client capabilities */
    bool reveal_task;              /* answer CreateTaskResult (not the result) when it ends */
    char owner[256];               /* the caller */
    char task_id[TASKID_LEN + 1];  /* RQ_WAIT / RQ_SSE_CALL: the task */
    int64_t deadline_ms;           /* give up (monotonic) */
    double sent_progress;          /* last progress streamed, -1 = none */
    char sent[HUB_MAX_KEYS][STORE_TS_LEN + 16]; /* listen: last state sent per task */
    int ticks;                     /* ticks since the last SSE bytes */
    unsigned safety_ticks;         /* ticks counted for must_look() */
    char *out;                     /* SSE bytes not yet handed to MHD */
    size_t out_len, out_cap, out_off; /* used, allocated, already sent */
};

/* Per-thread connections, created on first use and freed at thread exit. */
struct thread_res {
    struct store *store;     /* this thread's PostgreSQL connection */
    struct notify_pub *pub;  /* this thread's Redis publisher */
};

METRIC_DEFINE(m_req_ok, METRIC_COUNTER, "taskwire_http_requests_total", "class=\"2xx\"",
              "HTTP requests answered, by status class");
METRIC_DEFINE(m_req_4xx, METRIC_COUNTER, "taskwire_http_requests_total", "class=\"4xx\"",
              "HTTP requests answered, by status class");
METRIC_DEFINE(m_req_5xx, METRIC_COUNTER, "taskwire_http_requests_total", "class=\"5xx\"",
              "HTTP requests answered, by status class");
METRIC_DEFINE(m_auth_fail, METRIC_COUNTER, "taskwire_auth_failures_total", NULL,
              "Requests refused with 401");

static pthread_key_t res_key;
static pthread_once_t res_once = PTHREAD_ONCE_INIT;

static void res_free(void *p)
{
    struct thread_res *r = p;
    store_free(r->store);
    notify_pub_free(r->pub);
    free(r);
}

static void res_key_init(void)
{
    pthread_key_create(&res_key, res_free);
    metrics_register(&m_req_ok);
    metrics_register(&m_req_4xx);
    metrics_register(&m_req_5xx);
    metrics_register(&m_auth_fail);
}

static struct thread_res *thread_res(const struct http_server *s)
{
    struct thread_res *r = pthread_getspecific(res_key);
    if (r)
        return r;
    if (!(r = calloc(1, sizeof(*r))))
        return NULL;
    r->store = store_new(s->cfg.pg_dsn, "taskwire-frontend");
    r->pub = notify_pub_new(s->cfg.redis_addr);
    if (!r->store || !r->pub) {
        res_free(r);
        return NULL;
    }
    pthread_setspecific(res_key, r);
    return r;
}

static void count_status(int status)
{
    metrics_add(status < 400 ? &m_req_ok : status < 500 ? &m_req_4xx : &m_req_5xx, 1);
}

/* Queue a response of 'len' bytes copied from 'body'. */
static enum MHD_Result respond(struct MHD_Connection *conn, int status, const char *type,
                               const char *body, size_t len, const char *hname,
                               const char *hvalue)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (hname)
        MHD_add_response_header(r, hname, hvalue);
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    count_status(status);
    return rc;
}

static enum MHD_Result respond_json(struct MHD_Connection *conn, int status, json_t *body,
                                    const char *hname, const char *hvalue)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return respond(conn, 500, "text/plain", "out of memory\n", 14, NULL, NULL);
    enum MHD_Result rc = respond(conn, status, "application/json", text, strlen(text), hname,
                                 hvalue);
    free(text);
    return rc;
}

static enum MHD_Result respond_text(struct MHD_Connection *conn, int status, const char *text)
{
    return respond(conn, status, "text/plain; charset=utf-8", text, strlen(text), NULL, NULL);
}

static enum MHD_Result respond_rpc_error(struct MHD_Connection *conn, const json_t *id,
                                         enum rpc_error e, const char *msg)
{
    return respond_json(conn, rpc_error_http_status(e), rpc_error_response(id, e, msg, NULL),
                        NULL, NULL);
}

static enum MHD_Result health(const struct http_server *s, struct MHD_Connection *conn,
                              const char *url)
{
    if (strcmp(url, "/healthz") == 0)
        return respond_text(conn, 200, "ok\n");
    struct thread_res *r = thread_res(s);
    if (r && store_ping(r->store))
        return respond_text(conn, 200, "ready\n");
    return respond_text(conn, 503, "database unreachable\n");
}

/* /readyz of the admin server: this (admin) thread can reach PostgreSQL. */
static bool admin_ready(void *arg)
{
    struct thread_res *r = thread_res(arg);
    return r && store_ping(r->store);
}

/* Authenticate; on failure queue the 401 and return false. */
static bool authenticate(const struct http_server *s, struct MHD_Connection *conn,
                         struct auth_principal *p, enum MHD_Result *out)
{
    if (!s->cfg.auth) {
        memset(p, 0, sizeof(*p));
        snprintf(p->subject, sizeof(p->subject), "anonymous");
        return true;
    }
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    struct err e = {0};
    int rc = auth_verify(s->cfg.auth, h, (int64_t)time(NULL), p, &e);
    if (rc == 0)
        return true;
    metrics_add(&m_auth_fail, 1);
    LOG_INFO("authentication failed", "reason", e.msg);
    char challenge[400];
    if (rc == -AUTH_EMISSING)
        snprintf(challenge, sizeof(challenge), "Bearer realm=\"taskwire\"");
    else
        snprintf(challenge, sizeof(challenge),
                 "Bearer realm=\"taskwire\", error=\"invalid_token\", error_description=\"%s\"",
                 rc == -AUTH_EEXPIRED ? "token expired or not yet valid" : "token rejected");
    json_t *body = json_pack("{s:s, s:s}", "error", rc == -AUTH_EMISSING ? "unauthorized" :
                                                                          "invalid_token",
                             "error_description", e.msg);
    *out = respond_json(conn, 401, body, MHD_HTTP_HEADER_WWW_AUTHENTICATE, challenge);
    return false;
}

static const char *lookup_header(void *arg, const char *name)
{
    return MHD_lookup_connection_value(arg, MHD_HEADER_KIND, name);
}

/* DNS-rebinding protection: refuse browsers' foreign Origins and foreign Hosts. */
static bool origin_ok(const struct http_server *s, struct MHD_Connection *conn,
                      enum MHD_Result *out)
{
    const char *origin = lookup_header(conn, "Origin");
    const char *host = lookup_header(conn, MHD_HTTP_HEADER_HOST);
    const char *what = !rpc_origin_allowed(origin, s->cfg.allowed_origins) ? "Origin"
                       : !rpc_host_allowed(host, s->cfg.allowed_hosts)    ? "Host"
                                                                          : NULL;
    if (!what)
        return true;
    LOG_INFO("request refused: not an allowed origin", "header", what);
    char msg[64];
    snprintf(msg, sizeof(msg), "Forbidden: %s not allowed", what);
    *out = respond_json(conn, 403, rpc_error_response(NULL, RPC_EINVALID, msg, NULL), NULL, NULL);
    return false;
}

/* ---- waiting requests: synchronous calls and streams ---- */

/* Append raw bytes to the stream buffer; false when out of memory. */
static bool out_append(struct req_ctx *ctx, const char *data, size_t n)
{
    if (ctx->out_len + n > ctx->out_cap) {
        size_t cap = ctx->out_cap ? ctx->out_cap : 4096;
        while (cap < ctx->out_len + n)
            cap *= 2;
        char *b = realloc(ctx->out, cap);
        if (!b)
            return false;
        ctx->out = b;
        ctx->out_cap = cap;
    }
    memcpy(ctx->out + ctx->out_len, data, n);
    ctx->out_len += n;
    ctx->ticks = 0;
    return true;
}

/* Append one SSE event carrying JSON-RPC message 'msg' (stolen). */
static void sse_send(struct req_ctx *ctx, json_t *msg)
{
    char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    if (!text)
        return;
    out_append(ctx, "event: message\ndata: ", 21);
    out_append(ctx, text, strlen(text));
    out_append(ctx, "\n\n", 2);
    free(text);
}

/* Cancel the task of a synchronous call whose client went away or timed out. */
static void cancel_call(const struct http_server *s, struct req_ctx *ctx, const char *why)
{
    struct thread_res *r = thread_res(s);
    bool changed = false;
    if (r && store_task_cancel(r->store, ctx->task_id, ctx->owner, &changed, NULL) == 0 &&
        changed) {
        notify_publish(r->pub, NOTIFY_CANCEL, ctx->task_id);
        LOG_INFO("synchronous call cancelled", "task_id", ctx->task_id, "reason", why);
    }
}

/*
 * Whether a tick should read PostgreSQL although no event said so: always
 * while Redis is away, and every SAFETY_TICKS ticks anyway, so a lost event
 * (a reconnect gap, a half-open connection) delays an answer, never loses it.
 */
static bool must_look(const struct http_server *s, struct req_ctx *ctx, unsigned flags)
{
    if (flags & HUB_CHANGED)
        return true;
    if (!(flags & HUB_TICK))
        return false;
    return !hub_live(s->hub) || ++ctx->safety_ticks % SAFETY_TICKS == 0;
}

/*
 * One look at a synchronous call: returns its final response when the task
 * ended (or the wait must end), NULL to keep waiting.  Streams progress on
 * RQ_SSE_CALL.  PostgreSQL is read only when an event (or, without Redis, a
 * tick) says something may have changed.
 */
static json_t *check_call(const struct http_server *s, struct req_ctx *ctx, unsigned flags)
{
    if (flags & HUB_SHUTDOWN)
        return rpc_error_response(ctx->id, RPC_EUNAVAILABLE,
                                  "Frontend shutting down; retry the call", NULL);
    bool expired = clock_now_ms() >= ctx->deadline_ms;
    bool look = !ctx->started || expired || must_look(s, ctx, flags);
    ctx->started = true;
    struct thread_res *r = thread_res(s);
    struct task_row row;
    if (!look || !r || store_task_get(r->store, ctx->task_id, ctx->owner, &row, NULL) < 0) {
        if (!expired)
            return NULL;
        cancel_call(s, ctx, "timeout");
        return rpc_error_response(ctx->id, RPC_EINTERNAL,
                                  "Timed out waiting for the tool; the call was cancelled",
                                  NULL);
    }
    json_t *final = NULL;
    if (ctx->mode == RQ_SSE_CALL && row.has_progress && row.progress != ctx->sent_progress) {
        sse_send(ctx, mcp_progress_notification(ctx->token, &row));
        ctx->sent_progress = row.progress;
    }
    if (row.status == TASK_INPUT_REQUIRED && row.input_requests)
        final = mcp_input_required_reply(s->cfg.mcp, ctx->id, &row, ctx->caps);
    else if (taskstate_terminal(row.status))
        final = ctx->reveal_task ? mcp_create_task_reply(ctx->id, &row)
                                 : mcp_sync_reply(ctx->id, &row);
    task_row_fini(&row);
    if (!final && expired) {
        cancel_call(s, ctx, "timeout");
        final = rpc_error_response(ctx->id, RPC_EINTERNAL,
                                   "Timed out waiting for the tool; the call was cancelled", NULL);
    }
    return final;
}

/* One look at a listen stream: send what changed; close at shutdown or deadline. */
static void check_listen(const struct http_server *s, struct req_ctx *ctx, unsigned flags,
                         uint64_t changed)
{
    bool all = !ctx->started || ((flags & HUB_TICK) && must_look(s, ctx, flags & ~HUB_CHANGED));
    if (!ctx->started)
        sse_send(ctx, mcp_listen_ack(ctx->id, ctx->listen));
    ctx->started = true;
    struct thread_res *r = thread_res(s);
    for (int i = 0; r && i < ctx->w.nkeys; i++) {
        if (!all && !(changed & ((uint64_t)1 << i)))
            continue;
        if (strcmp(ctx->w.keys[i], HUB_TOOLS_KEY) == 0) {
            if (!all)
                sse_send(ctx, mcp_tools_changed_notification(ctx->id));
            continue;
        }
        struct task_row row;
        if (store_task_get(r->store, ctx->w.keys[i], ctx->owner, &row, NULL) < 0)
            continue;
        char state[sizeof(ctx->sent[0])];
        snprintf(state, sizeof(state), "%s %d %.3f", row.updated_at, (int)row.status,
                 row.progress);
        if (strcmp(state, ctx->sent[i]) != 0) {
            memcpy(ctx->sent[i], state, sizeof(state));
            sse_send(ctx, mcp_task_notification(ctx->id, &row));
        }
        task_row_fini(&row);
    }
    if ((flags & HUB_SHUTDOWN) || clock_now_ms() >= ctx->deadline_ms) {
        sse_send(ctx, mcp_listen_close(ctx->id));
        ctx->finished = true;
    }
}

/*
 * MHD content reader of SSE responses: hand out pending bytes; when there
 * are none, look at the task(s) once and otherwise suspend until the hub
 * wakes the connection.
 */
static ssize_t sse_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct req_ctx *ctx = cls;
    const struct http_server *s = ctx->srv;
    for (;;) {
        if (ctx->out_off < ctx->out_len) {
            size_t n = ctx->out_len - ctx->out_off;
            n = n < max ? n : max;
            memcpy(buf, ctx->out + ctx->out_off, n);
            ctx->out_off += n;
            if (ctx->out_off == ctx->out_len)
                ctx->out_off = ctx->out_len = 0;
            return (ssize_t)n;
        }
        if (ctx->finished)
            return MHD_CONTENT_READER_END_OF_STREAM;
        uint64_t changed = 0;
        unsigned flags = hub_take(s->hub, &ctx->w, &changed);
        if (flags & HUB_GONE)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if ((flags & HUB_TICK) && ++ctx->ticks >= KEEPALIVE_TICKS)
            out_append(ctx, ": keep-alive\n\n", 14);
        if (ctx->mode == RQ_LISTEN) {
            check_listen(s, ctx, flags, changed);
        } else {
            json_t *final = check_call(s, ctx, flags);
            if (final) {
                sse_send(ctx, final);
                ctx->answered = ctx->finished = true;
            }
        }
        if (ctx->out_len == 0 && !ctx->finished && hub_suspend(s->hub, &ctx->w))
            return 0; /* suspended: MHD calls again once resumed */
    }
}

/* RQ_WAIT: look, then answer or suspend; called on entry and on every resume. */
static enum MHD_Result wait_json(const struct http_server *s, struct MHD_Connection *conn,
                                 struct req_ctx *ctx)
{
    for (;;) {
        unsigned flags = hub_take(s->hub, &ctx->w, NULL);
        if (flags & HUB_GONE)
            return MHD_NO; /* on_completed cancels the task */
        json_t *final = check_call(s, ctx, flags);
        if (final) {
            ctx->answered = true;
            return respond_json(conn, 200, final, NULL, NULL);
        }
        if (hub_suspend(s->hub, &ctx->w))
            return MHD_YES;
    }
}

static enum MHD_Result respond_sse(struct MHD_Connection *conn, struct req_ctx *ctx)
{
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_reader, ctx, NULL);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    enum MHD_Result rc = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    count_status(200);
    return rc;
}

static bool accepts_sse(struct MHD_Connection *conn)
{
    const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
    return accept && strstr(accept, "text/event-stream");
}

/* Turn a request into a waiter: a synchronous call or a listen stream. */
static enum MHD_Result start_waiting(const struct http_server *s, struct MHD_Connection *conn,
                                     struct req_ctx *ctx, const struct rpc_request *req,
                                     struct mcp_outcome *oc)
{
    struct hub_waiter *w = &ctx->w;
    w->conn = conn;
    w->tick_ms = 1000;
    ctx->srv = s;
    ctx->sent_progress = -1;
    ctx->caps = json_incref(req->client_caps);
    if (oc->kind == MCP_WAIT) {
        ctx->reveal_task = oc->reveal_task;
        memcpy(ctx->task_id, oc->task_id, sizeof(ctx->task_id));
        memcpy(w->keys[0], oc->task_id, sizeof(w->keys[0]));
        w->nkeys = 1;
        json_t *token = json_object_get(req->meta, "progressToken");
        if ((json_is_string(token) || json_is_integer(token)) && accepts_sse(conn)) {
            ctx->token = json_incref(token);
            ctx->mode = RQ_SSE_CALL;
        } else {
            ctx->mode = RQ_WAIT;
        }
        ctx->deadline_ms = clock_now_ms() + s->cfg.sync_timeout_ms;
    } else {
        ctx->mode = RQ_LISTEN;
        ctx->listen = oc->listen;
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(oc->listen, "taskIds"), i, v)
        {
            snprintf(w->keys[w->nkeys++], sizeof(w->keys[0]), "%s", json_string_value(v));
        }
        if (json_is_true(json_object_get(oc->listen, "toolsListChanged")))
            snprintf(w->keys[w->nkeys++], sizeof(w->keys[0]), "%s", HUB_TOOLS_KEY);
        ctx->deadline_ms = clock_now_ms() + s->cfg.listen_max_ms;
    }
    hub_add(s->hub, w);
    ctx->waiting = true;
    return ctx->mode == RQ_WAIT ? wait_json(s, conn, ctx) : respond_sse(conn, ctx);
}

/* Handle a complete POST /mcp body. */
static enum MHD_Result handle_mcp(const struct http_server *s, struct MHD_Connection *conn,
                                  struct req_ctx *ctx)
{
    enum MHD_Result out;
    struct auth_principal principal;
    if (!origin_ok(s, conn, &out) || !authenticate(s, conn, &principal, &out))
        return out;
    if (ctx->too_large)
        return respond_rpc_error(conn, NULL, RPC_ETOOLARGE, "Request body too large");

    struct rpc_request req;
    struct err e = {0};
    int rc = rpc_parse(ctx->body ? ctx->body : "", ctx->len, &req, &e);
    if (rc < 0) {
        out = respond_rpc_error(conn, req.id, (enum rpc_error)-rc, e.msg);
        goto out_fini;
    }
    if (!req.id) { /* a notification: accepted, nothing to answer */
        out = respond(conn, 202, NULL, "", 0, NULL, NULL);
        goto out_fini;
    }
    struct rpc_headers h = {
        .protocol_version = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                        "MCP-Protocol-Version"),
        .method = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Mcp-Method"),
        .name = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Mcp-Name"),
    };
    if ((rc = rpc_check_envelope(&req, &h, &e)) < 0 || (rc = rpc_check_headers(&req, &h, &e)) < 0) {
        json_t *data = NULL;
        if (rc == -RPC_EVERSION) {
            const char *v = req.protocol_version ? req.protocol_version : h.protocol_version;
            data = json_pack("{s:[s], s:s?}", "supported", MCP_PROTOCOL_VERSION, "requested", v);
        }
        out = respond_json(conn, rpc_error_http_status((enum rpc_error)-rc),
                           rpc_error_response(req.id, (enum rpc_error)-rc, e.msg, data), NULL,
                           NULL);
        goto out_fini;
    }
    struct thread_res *res = thread_res(s);
    if (!res) {
        out = respond_rpc_error(conn, req.id, RPC_EINTERNAL, "Internal error");
        goto out_fini;
    }
    struct mcp_call call = {
        .srv = s->cfg.mcp,
        .store = res->store,
        .pub = res->pub,
        .owner = principal.subject,
        .traceparent = json_string_value(json_object_get(req.meta, "traceparent")),
        .header = lookup_header,
        .header_arg = conn,
    };
    struct mcp_outcome oc;
    mcp_handle(&call, &req, &oc);
    if (oc.kind == MCP_REPLY) {
        out = respond_json(conn, oc.status, oc.reply, oc.status == 503 ? "Retry-After" : NULL,
                           "1");
        goto out_fini;
    }
    ctx->id = json_incref(req.id);
    snprintf(ctx->owner, sizeof(ctx->owner), "%s", principal.subject);
    out = start_waiting(s, conn, ctx, &req, &oc);
out_fini:
    rpc_request_fini(&req);
    return out;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    const struct http_server *s = cls;
    struct req_ctx *ctx = *con_cls;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;

    if (!ctx) {
        if (!(ctx = calloc(1, sizeof(*ctx))))
            return MHD_NO;
        *con_cls = ctx;
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (post && cl && strtoll(cl, NULL, 10) > s->cfg.max_body_bytes) {
            /* Refuse at once: the body is never read (MHD closes the connection). */
            ctx->too_large = true;
            return respond_rpc_error(conn, NULL, RPC_ETOOLARGE, "Request body too large");
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (ctx->too_large || ctx->len + n > (size_t)s->cfg.max_body_bytes) {
            ctx->too_large = true;
            return MHD_YES;
        }
        if (ctx->len + n + 1 > ctx->cap) {
            size_t cap = ctx->cap ? ctx->cap : 4096;
            while (cap < ctx->len + n + 1)
                cap *= 2;
            char *b = realloc(ctx->body, cap);
            if (!b)
                return MHD_NO;
            ctx->body = b;
            ctx->cap = cap;
        }
        memcpy(ctx->body + ctx->len, upload_data, n);
        ctx->len += n;
        return MHD_YES;
    }

    if (ctx->mode == RQ_WAIT)
        return wait_json(s, conn, ctx); /* resumed by the hub */
    if (strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0)
        return health(s, conn, url);
    if (strcmp(url, "/mcp") != 0)
        return respond_text(conn, 404, "not found\n");
    if (!post)
        return respond(conn, 405, "text/plain", "method not allowed\n", 19,
                       MHD_HTTP_HEADER_ALLOW, "POST");
    return handle_mcp(s, conn, ctx);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    const struct http_server *s = cls;
    struct req_ctx *ctx = *con_cls;
    *con_cls = NULL;
    if (!ctx)
        return;
    if (ctx->waiting)
        hub_remove(s->hub, &ctx->w);
    /* A client that closes a synchronous call's connection cancels the call. */
    if ((ctx->mode == RQ_WAIT || ctx->mode == RQ_SSE_CALL) && !ctx->answered)
        cancel_call(s, ctx, "client closed the connection");
    json_decref(ctx->id);
    json_decref(ctx->token);
    json_decref(ctx->listen);
    json_decref(ctx->caps);
    free(ctx->out);
    free(ctx->body);
    free(ctx);
}

static struct MHD_Daemon *start_daemon(const char *addr, int threads, int max_conns,
                                       MHD_AccessHandlerCallback cb, void *cls, struct err *err)
{
    struct sockaddr_in sa;
    if (admin_parse_addr(addr, &sa) < 0) {
        err_set(err, -1, "invalid listen address '%s' (want host:port)", addr);
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, cb, cls, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)max_conns, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, cls, MHD_OPTION_END);
    if (!d)
        err_set(err, -1, "cannot listen on %s (address in use?)", addr);
    return d;
}

/*
 * Start the public and admin servers with a copy of 'cfg'.  Returns NULL
 * with 'err' set when an address is invalid or cannot be bound.
 */
struct http_server *http_start(const struct http_cfg *cfg, struct err *err)
{
    pthread_once(&res_once, res_key_init);
    struct http_server *s = calloc(1, sizeof(*s));
    if (!s) {
        err_set(err, -1, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    if (!(s->hub = hub_new(cfg->redis_addr, NULL))) {
        err_set(err, -1, "cannot start the waiter hub");
        goto out_free;
    }
    s->pub = start_daemon(cfg->listen, cfg->threads, cfg->max_connections, on_request, s, err);
    if (!s->pub)
        goto out_free;
    if (cfg->admin_listen && *cfg->admin_listen) {
        s->admin = admin_start(cfg->admin_listen, admin_ready, s, err);
        if (!s->admin)
            goto out_free;
    }
    return s;

out_free:
    http_stop(s);
    return NULL;
}

void http_quiesce(struct http_server *s)
{
    if (s && s->pub)
        MHD_quiesce_daemon(s->pub);
}

void http_stop(struct http_server *s)
{
    if (!s)
        return;
    /* MHD must not stop with suspended connections: wake every waiter first. */
    hub_shutdown(s->hub, 5000);
    if (s->pub)
        MHD_stop_daemon(s->pub);
    hub_free(s->hub);
    admin_stop(s->admin);
    free(s);
}
