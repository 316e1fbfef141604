/*
 * http.c - libmicrohttpd transport: routing, body limits, headers, auth,
 * and writing responses.
 *
 * Each request owns one context (its body buffer, and for a waiting request
 * its struct wait) freed by MHD's completion callback.  Bodies are capped
 * before they are buffered: a Content-Length over the limit (or not a plain
 * decimal) is refused at once, a chunked body is cut off at the limit.
 * Authentication runs before the body is parsed.  What a request means is
 * mcp.c's business; when and what a waiting request sends is wait.c's; this
 * file only turns their answers into HTTP.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "admin.h"
#include "bytebuf.h"
#include "dashboard.h"
#include "era.h"
#include "guard.h"
#include "hub.h"
#include "legacy.h"
#include "log.h"
#include "mcpdefs.h"
#include "metrics.h"
#include "oauth.h"
#include "observe.h"
#include "reaper.h"
#include "rpc.h"
#include "scopes.h"
#include "threadconn.h"
#include "wait.h"

struct http_server {
    struct MHD_Daemon *pub;     /* public server */
    struct admin_server *admin; /* operator server, or NULL */
    struct dashboard *dash;     /* its dashboard routes, or NULL */
    struct hub *hub;            /* where waiting requests are parked */
    struct http_cfg cfg;        /* copy of the configuration */
    struct wait_cfg wait;       /* what waiting requests share */
    struct reaper *reaper;      /* header and body deadlines of the public server */
};

#define HTTP_DISCARD_MAX (16 << 20) /* an over-limit body up to this is read and dropped */

/* Per-request state, freed in on_completed(). */
struct req_ctx {
    struct bytebuf body; /* received bytes */
    bool too_large;      /* the body passed the limit; answer 413 */
    bool waiting;        /* 'wait' was started (and must be finished) */
    struct wait wait;    /* a synchronous call or listen stream */
    struct quota_set lim;       /* the caller's limits (guard_admit) */
    struct guard_ticket ticket; /* the place of a waiting request (guard.h) */
    struct observe obs;         /* latency and trace (observe.h) */
};

METRIC_DEFINE(m_req_ok, METRIC_COUNTER, "taskwire_http_requests_total", "class=\"2xx\"",
              "HTTP requests answered, by status class");
METRIC_DEFINE(m_req_4xx, METRIC_COUNTER, "taskwire_http_requests_total", "class=\"4xx\"",
              "HTTP requests answered, by status class");
METRIC_DEFINE(m_req_5xx, METRIC_COUNTER, "taskwire_http_requests_total", "class=\"5xx\"",
              "HTTP requests answered, by status class");

static pthread_once_t metrics_once = PTHREAD_ONCE_INIT;

static void register_metrics(void)
{
    metrics_register(&m_req_ok);
    metrics_register(&m_req_4xx);
    metrics_register(&m_req_5xx);
    oauth_metrics_register();
    observe_metrics_register();
}

static struct threadconn *conns(const struct http_server *s)
{
    return threadconn_get(s->cfg.pg_dsn, s->cfg.redis_addr);
}

/* ---- writing responses ---- */

/* Queue response 'r' (NULL: out of memory) with 'status', release it and count the status. */
static enum MHD_Result queue(struct MHD_Connection *conn, int status, struct MHD_Response *r)
{
    if (!r)
        return MHD_NO;
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    metrics_add(status < 400 ? &m_req_ok : status < 500 ? &m_req_4xx : &m_req_5xx, 1);
    return rc;
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
    return queue(conn, status, r);
}

/* Queue 'body' (stolen; NULL means out of memory) as JSON. */
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

/* Queue the JSON-RPC error 'e' (status from rpc.c's table) with 'data' (stolen, may be NULL). */
static enum MHD_Result respond_error(struct MHD_Connection *conn, const json_t *id,
                                     enum rpc_error e, const char *msg, json_t *data)
{
    return respond_json(conn, rpc_error_http_status(e), rpc_error_response(id, e, msg, data),
                        NULL, NULL);
}

/* Queue a refusal of guard.c (its reply stolen) with its Retry-After. */
static enum MHD_Result respond_limited(struct MHD_Connection *conn, struct guard_refusal *r)
{
    char secs[24];
    snprintf(secs, sizeof(secs), "%lld", (long long)r->retry_after_s);
    return respond_json(conn, r->status, r->reply, "Retry-After", secs);
}

/* The Retry-After header of a reply with 'status' (429 and 503 say "retry"), or NULL. */
static const char *retry_header(int status)
{
    return status == 429 || status == 503 ? "Retry-After" : NULL;
}

/* MHD content reader of event streams: the bytes wait.c has for the client. */
static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct req_ctx *ctx = cls;
    long n = wait_read(&ctx->wait, buf, max);
    if (n == -WAIT_EEND)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    return (ssize_t)n;
}

/* Queue a 200 text/event-stream response pulling from ctx->wait. */
static enum MHD_Result respond_stream(struct MHD_Connection *conn, struct req_ctx *ctx)
{
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_reader, ctx, NULL);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    return queue(conn, 200, r);
}

/* Do what a step of a waiting request asks for ('reply' is stolen). */
static enum MHD_Result answer_wait(struct MHD_Connection *conn, struct req_ctx *ctx,
                                   enum wait_step step, json_t *reply)
{
    switch (step) {
    case WAIT_SUSPENDED:
        return MHD_YES; /* MHD calls again when the hub resumes the connection */
    case WAIT_REPLY:
        return respond_json(conn, 200, reply, NULL, NULL);
    case WAIT_STREAM:
        return respond_stream(conn, ctx);
    case WAIT_CLOSE:
    default:
        return MHD_NO; /* the client left; wait_fini cancels a call */
    }
}

/* ---- checks before a request is handled ---- */

static enum MHD_Result health(const struct http_server *s, struct MHD_Connection *conn,
                              const char *url)
{
    if (strcmp(url, "/healthz") == 0)
        return respond_text(conn, 200, "ok\n");
    struct threadconn *tc = conns(s);
    if (tc && store_ping(tc->store))
        return respond_text(conn, 200, "ready\n");
    return respond_text(conn, 503, "database unreachable\n");
}

/* /readyz of the admin server: this (admin) thread can reach PostgreSQL. */
static bool ready_to_serve(void *arg)
{
    struct threadconn *tc = conns(arg);
    return tc && store_ping(tc->store);
}

static enum MHD_Result count_value(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    (void)value;
    *(int *)cls += strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0;
    return MHD_YES;
}

/* Queue what oauth.c refused a request with. */
static enum MHD_Result respond_refusal(struct MHD_Connection *conn, const struct oauth_refusal *no)
{
    return respond(conn, no->status, "application/json", no->body, strlen(no->body),
                   no->challenge[0] ? MHD_HTTP_HEADER_WWW_AUTHENTICATE : NULL, no->challenge);
}

/* Authenticate (oauth.c); on failure queue the 400/401 and return false. */
static bool authenticate(const struct http_server *s, struct MHD_Connection *conn,
                         struct auth_principal *p, enum MHD_Result *out)
{
    struct oauth_request r = {0};
    struct oauth_refusal no;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_value, &r.authorization_headers);
    r.authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    r.token_elsewhere = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "access_token");
    if (oauth_authenticate(s->cfg.oauth, &r, (int64_t)time(NULL), p, &no))
        return true;
    *out = respond_refusal(conn, &no);
    return false;
}

/* The scopes 'req' needs (scopes.c) against the caller's; on failure queue the 403. */
static bool authorize(const struct http_server *s, struct MHD_Connection *conn,
                      const struct rpc_request *req, const struct auth_principal *p,
                      enum MHD_Result *out)
{
    struct scope_decision d;
    struct oauth_refusal no;
    scopes_decide(s->cfg.mcp->catalog, req->method, req->params, p, &d);
    if (oauth_authorize(s->cfg.oauth, &d, req->method, &no))
        return true;
    *out = respond_refusal(conn, &no);
    return false;
}

/* GET of the resource metadata (RFC 9728): no token, no Origin or Host check. */
static enum MHD_Result serve_metadata(struct MHD_Connection *conn, const char *method,
                                      const char *doc, size_t len)
{
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return respond(conn, 405, "text/plain", "method not allowed\n", 19,
                       MHD_HTTP_HEADER_ALLOW, "GET");
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)doc, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=300");
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    return queue(conn, 200, r);
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

/*
 * Parse a Content-Length value: one or more decimal digits and nothing else
 * (no sign, no spaces), at most INT64_MAX.  Returns 0 with *len set, or
 * -HTTP_ELENGTH.  Pure; thread-safe.
 */
int http_content_length(const char *value, int64_t *len)
{
    if (!value || *value < '0' || *value > '9')
        return -HTTP_ELENGTH;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno == ERANGE || *end != '\0')
        return -HTTP_ELENGTH;
    *len = (int64_t)v;
    return 0;
}

/* ---- POST /mcp ---- */

/*
 * Check a modern message (or answer what rpc_parse() refused): the envelope
 * and routing headers.  Returns true for a request to handle; otherwise
 * queues the answer (an error, or 202 for a notification) into *out and
 * returns false.
 */
static bool check_modern(struct MHD_Connection *conn, const struct rpc_request *req, int parse_rc,
                         const struct err *parse_err, enum MHD_Result *out)
{
    struct err e = {0};
    int rc = parse_rc;
    if (rc < 0) {
        *out = respond_error(conn, req->id, (enum rpc_error)-rc, parse_err->msg, NULL);
        return false;
    }
    if (!req->id) { /* a notification: accepted, nothing to answer */
        *out = respond(conn, 202, NULL, "", 0, NULL, NULL);
        return false;
    }
    struct rpc_headers h = {
        .protocol_version = lookup_header(conn, "MCP-Protocol-Version"),
        .method = lookup_header(conn, "Mcp-Method"),
        .name = lookup_header(conn, "Mcp-Name"),
    };
    if ((rc = rpc_check_envelope(req, &h, &e)) == 0 && (rc = rpc_check_headers(req, &h, &e)) == 0)
        return true;
    json_t *data = NULL;
    if (rc == -RPC_EVERSION) {
        /* Only the modern version: a modern client can only use it through _meta. */
        const char *v = req->protocol_version ? req->protocol_version : h.protocol_version;
        data = json_pack("{s:[s], s:s?}", "supported", MCP_PROTOCOL_VERSION, "requested", v);
    }
    *out = respond_error(conn, req->id, (enum rpc_error)-rc, e.msg, data);
    return false;
}

static bool accepts_sse(struct MHD_Connection *conn)
{
    const char *accept = lookup_header(conn, "Accept");
    return accept && strstr(accept, "text/event-stream");
}

/*
 * Start waiting for request 'wr': with the ticket its call took before
 * committing a task, or one taken now (listen streams, tasks/result, MRTR
 * retries); without one, answer the refusal (a listen filter is dropped).
 */
static enum MHD_Result start_wait(const struct http_server *s, struct MHD_Connection *conn,
                                  struct req_ctx *ctx, const struct wait_request *wr)
{
    struct guard_refusal r;
    enum guard_wait kind = wr->oc->kind == MCP_LISTEN ? GUARD_LISTEN : GUARD_SYNC;
    if (s->cfg.guard && !ctx->ticket.held &&
        !guard_enter(s->cfg.guard, wr->owner, &ctx->lim, kind, wr->req->id, &ctx->ticket, &r)) {
        json_decref(wr->oc->listen);
        wr->oc->listen = NULL;
        return respond_limited(conn, &r);
    }
    json_t *reply = NULL;
    ctx->waiting = true;
    enum wait_step step = wait_start(&ctx->wait, &s->wait, wr, &reply);
    return answer_wait(conn, ctx, step, reply);
}

/* The call of request 'req' of 'who' on this thread's connections 'tc'; 'gate' (filled
 * here) admits its waits against the caller's caps and must outlive the call. */
static struct mcp_call make_call(const struct http_server *s, struct req_ctx *ctx,
                                 const struct rpc_request *req, const struct auth_principal *who,
                                 struct threadconn *tc, struct guard_gate *gate)
{
    *gate = (struct guard_gate){s->cfg.guard, &ctx->lim, who->subject, &ctx->ticket};
    return (struct mcp_call){
        .srv = s->cfg.mcp,
        .store = tc->store,
        .pub = tc->pub,
        .owner = who->subject,
        .principal = who,
        .traceparent = ctx->obs.trace.task,
        .max_live = (int)ctx->lim.max_live,
        .admit_wait = s->cfg.guard ? guard_gate : NULL,
        .admit_arg = gate,
    };
}

/* Run the checked request through mcp.c and answer now or start waiting. */
static enum MHD_Result run_request(const struct http_server *s, struct MHD_Connection *conn,
                                   struct req_ctx *ctx, const struct rpc_request *req,
                                   const struct auth_principal *who)
{
    const char *owner = who->subject;
    struct threadconn *tc = conns(s);
    if (!tc)
        return respond_error(conn, req->id, RPC_EINTERNAL, "Internal error", NULL);
    struct guard_gate gate;
    struct mcp_call call = make_call(s, ctx, req, who, tc, &gate);
    call.header = lookup_header;
    call.header_arg = conn;
    struct mcp_outcome oc;
    mcp_handle(&call, req, &oc);
    if (oc.kind == MCP_REPLY)
        return respond_json(conn, oc.status, oc.reply, retry_header(oc.status), "1");
    struct wait_request wr = {conn, req, &oc, owner, accepts_sse(conn), NULL};
    return start_wait(s, conn, ctx, &wr);
}

/* Queue the reply of a legacy message: 202, or JSON with the new session id of an
 * initialize (or Retry-After on 503).  Steals lo->oc.reply. */
static enum MHD_Result respond_legacy(struct MHD_Connection *conn, struct legacy_outcome *lo)
{
    json_t *reply = lo->oc.reply;
    lo->oc.reply = NULL;
    if (lo->oc.status == 202) {
        json_decref(reply);
        return respond(conn, 202, NULL, "", 0, NULL, NULL);
    }
    if (lo->session_id[0])
        return respond_json(conn, lo->oc.status, reply, "Mcp-Session-Id", lo->session_id);
    return respond_json(conn, lo->oc.status, reply, retry_header(lo->oc.status), "1");
}

/* Run a legacy (2025) message through legacy.c and answer now or start waiting. */
static enum MHD_Result run_legacy(const struct http_server *s, struct MHD_Connection *conn,
                                  struct req_ctx *ctx, const struct rpc_request *req,
                                  enum era_kind kind, const struct auth_principal *who)
{
    const char *owner = who->subject;
    struct threadconn *tc = conns(s);
    if (!tc)
        return respond_error(conn, req->id, RPC_EINTERNAL, "Internal error", NULL);
    struct guard_gate gate;
    struct mcp_call call = make_call(s, ctx, req, who, tc, &gate);
    struct legacy_call lc = {&call, lookup_header(conn, "Mcp-Session-Id"),
                             lookup_header(conn, "MCP-Protocol-Version")};
    struct legacy_outcome lo;
    enum MHD_Result rc;
    legacy_handle(&lc, kind, req, &lo);
    if (lo.oc.kind == MCP_REPLY) {
        rc = respond_legacy(conn, &lo);
    } else {
        struct rpc_request mreq = *req; /* waits see the session's capabilities */
        mreq.client_caps = lo.caps;
        struct wait_request wr = {conn, &mreq, &lo.oc, owner, accepts_sse(conn), &lo.stream};
        rc = start_wait(s, conn, ctx, &wr);
    }
    legacy_outcome_fini(&lo);
    return rc;
}

/* Handle a complete POST /mcp body: classify its era, then run it as such. */
static enum MHD_Result handle_mcp(const struct http_server *s, struct MHD_Connection *conn,
                                  struct req_ctx *ctx)
{
    enum MHD_Result out;
    struct auth_principal principal;
    if (!origin_ok(s, conn, &out) || !authenticate(s, conn, &principal, &out))
        return out;
    if (ctx->too_large)
        return respond_error(conn, NULL, RPC_ETOOLARGE, "Request body too large", NULL);
    struct rpc_request req;
    struct err e = {0};
    int rc = rpc_parse(ctx->body.data ? ctx->body.data : "", ctx->body.len, &req, &e);
    observe_request(&ctx->obs, rc == 0 ? req.method : NULL, rc == 0 ? req.meta : NULL);
    enum era_kind kind = era_classify(&req, rc, lookup_header(conn, "MCP-Protocol-Version"));
    struct guard_refusal refusal;
    bool modern = kind == ERA_INVALID || kind == ERA_NOTIFICATION || kind == ERA_MODERN;
    if (s->cfg.guard && !guard_admit(s->cfg.guard, &principal, &req, rc, &ctx->lim, &refusal))
        out = respond_limited(conn, &refusal); /* both eras: one rate limit per principal */
    else if ((!modern || check_modern(conn, &req, rc, &e, &out)) &&
             (kind == ERA_BAD_VERSION || authorize(s, conn, &req, &principal, &out)))
        out = modern ? run_request(s, conn, ctx, &req, &principal)
                     : run_legacy(s, conn, ctx, &req, kind, &principal);
    rpc_request_fini(&req);
    observe_handled(&ctx->obs);
    return out;
}

/* ---- MHD callbacks ---- */

/* The first call for a request (headers only): make its context, refuse big bodies. */
static enum MHD_Result begin_request(const struct http_server *s, struct MHD_Connection *conn,
                                     bool post, void **con_cls)
{
    struct req_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return MHD_NO;
    *con_cls = ctx;
    observe_begin(&ctx->obs);
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    int64_t len = 0;
    if (!post || !cl)
        return MHD_YES;
    if (http_content_length(cl, &len) < 0 ||
        (len > s->cfg.max_body_bytes && len > HTTP_DISCARD_MAX)) {
        /* Refuse at once: the body is never read (MHD closes the connection). */
        ctx->too_large = true;
        return respond_error(conn, NULL, RPC_ETOOLARGE, "Request body too large", NULL);
    }
    /* A body over the limit but not absurd is read and dropped, then answered 413: a
     * proxy still sending it when the connection closed would answer its client nothing. */
    ctx->too_large = len > s->cfg.max_body_bytes;
    return MHD_YES;
}

/* Buffer one piece of the body, or note that the body passed the limit. */
static enum MHD_Result take_body(const struct http_server *s, struct req_ctx *ctx,
                                 const char *data, size_t *size)
{
    size_t n = *size;
    *size = 0;
    if (ctx->too_large || n > (size_t)s->cfg.max_body_bytes - ctx->body.len) {
        ctx->too_large = true;
        return MHD_YES;
    }
    return bytebuf_append(&ctx->body, data, n, BYTEBUF_NO_LIMIT) == 0 ? MHD_YES : MHD_NO;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    const struct http_server *s = cls;
    struct req_ctx *ctx = *con_cls;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;

    if (!ctx) {
        reaper_mark(s->reaper, conn, REAPER_BODY); /* the headers are complete */
        return begin_request(s, conn, post, con_cls);
    }
    if (*upload_data_size)
        return take_body(s, ctx, upload_data, upload_data_size);
    reaper_mark(s->reaper, conn, REAPER_BUSY); /* the request is ours now: no deadline */
    if (ctx->waiting) { /* a synchronous call resumed by the hub */
        json_t *reply = NULL;
        enum wait_step step = wait_resume(&ctx->wait, &reply);
        return answer_wait(conn, ctx, step, reply);
    }
    if (!httpcheck_headers_clean(conn))
        return respond_error(conn, NULL, RPC_EINVALID, HTTPCHECK_REFUSAL, NULL);
    if (strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0)
        return health(s, conn, url);
    size_t doc_len;
    const char *doc = oauth_metadata_for(s->cfg.oauth, url, &doc_len);
    if (doc)
        return serve_metadata(conn, method, doc, doc_len);
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
    (void)toe;
    const struct http_server *s = cls;
    struct req_ctx *ctx = *con_cls;
    *con_cls = NULL;
    reaper_mark(s->reaper, conn, REAPER_IDLE); /* kept alive: the next headers are due */
    if (!ctx)
        return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_HTTP_STATUS);
    observe_finish(&ctx->obs, ci ? (int)ci->http_status : 0);
    if (ctx->waiting)
        wait_fini(&ctx->wait); /* a call whose client left is cancelled there */
    guard_leave(s->cfg.guard, &ctx->ticket);
    bytebuf_fini(&ctx->body);
    free(ctx);
}

/* ---- life cycle ---- */

/* Start the public server: MHD's idle timeout, the connection caps (in all, per client
 * address) and the reaper's deadlines. */
static struct MHD_Daemon *start_daemon(struct http_server *s, struct err *err)
{
    const struct http_cfg *c = &s->cfg;
    struct sockaddr_in sa;
    if (admin_parse_addr(c->listen, &sa) < 0) {
        err_set(err, -HTTP_EADDR, "invalid listen address '%s' (want host:port)", c->listen);
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)c->threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)c->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)c->max_connections_per_address, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)c->idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(12 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, reaper_notify,
        s->reaper, MHD_OPTION_UNESCAPE_CALLBACK, httpcheck_unescape_cb, NULL, MHD_OPTION_END);
    if (!d)
        err_set(err, -HTTP_ELISTEN, "cannot listen on %s (address in use?)", c->listen);
    return d;
}

/*
 * Start the public and admin servers with a copy of 'cfg' (its strings and
 * pointers are borrowed for the life of the server).  Returns a new server
 * (stop with http_stop) or NULL with 'err' set: -HTTP_EADDR for an invalid
 * address, -HTTP_ELISTEN when it cannot be bound, -HTTP_ENOMEM, or
 * -HTTP_EHUB when the waiter hub cannot start.
 */
struct http_server *http_start(const struct http_cfg *cfg, struct err *err)
{
    pthread_once(&metrics_once, register_metrics);
    struct http_server *s = calloc(1, sizeof(*s));
    if (!s) {
        err_set(err, -HTTP_ENOMEM, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    if (!(s->hub = hub_new(cfg->redis_addr, NULL))) {
        err_set(err, -HTTP_EHUB, "cannot start the waiter hub");
        goto out_free;
    }
    s->wait = (struct wait_cfg){s->hub,        cfg->mcp,         cfg->pg_dsn,
                                cfg->redis_addr, cfg->sync_timeout_ms, cfg->listen_max_ms};
    struct reaper_cfg rc = {cfg->header_timeout_ms, cfg->body_timeout_ms,
                            (int64_t)cfg->idle_timeout_s * 1000};
    if (!(s->reaper = reaper_new(&rc, NULL, true))) {
        err_set(err, -HTTP_ENOMEM, "cannot start the connection reaper");
        goto out_free;
    }
    s->pub = start_daemon(s, err);
    if (!s->pub)
        goto out_free;
    if (cfg->admin_listen && *cfg->admin_listen) {
        s->dash = dashboard_new(cfg->pg_dsn, cfg->redis_addr);
        s->admin = s->dash ? admin_start_routes(cfg->admin_listen, ready_to_serve, s,
                                                dashboard_route, s->dash, err) : NULL;
        if (!s->admin)
            goto out_free;
    }
    return s;

out_free:
    http_stop(s);
    return NULL;
}

/* Stop accepting new connections; requests in flight go on.  NULL is a no-op. */
void http_quiesce(struct http_server *s)
{
    if (s && s->pub)
        MHD_quiesce_daemon(s->pub);
}

/*
 * Answer every waiting request (calls get a retry error, streams close),
 * finish requests in flight, stop both servers and free.  NULL is a no-op.
 */
void http_stop(struct http_server *s)
{
    if (!s)
        return;
    /* MHD must not stop with suspended connections: wake every waiter first. */
    hub_shutdown(s->hub, 5000);
    if (s->pub)
        MHD_stop_daemon(s->pub);
    hub_free(s->hub);
    reaper_free(s->reaper); /* after MHD: every connection was forgotten */
    admin_stop(s->admin);
    dashboard_free(s->dash);
    free(s);
}
