/*
 * http.c - libmicrohttpd glue: routing, body limits, auth, and the one place
 * where a request's lifetime is managed.
 *
 * Each request owns one context (its body buffer) freed by MHD's completion
 * callback.  Bodies are capped before they are buffered: a Content-Length
 * over the limit is refused at once, a chunked body is cut off at the limit.
 * Authentication runs before the body is parsed.
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
#include "log.h"
#include "mcpdefs.h"
#include "metrics.h"
#include "rpc.h"

struct http_server {
    struct MHD_Daemon *pub;   /* public server */
    struct admin_server *admin; /* operator server, or NULL */
    struct http_cfg cfg;      /* copy of the configuration */
};

/* Per-request state, freed in on_completed(). */
struct req_ctx {
    char *body;      /* received bytes */
    size_t len, cap; /* used and allocated */
    bool too_large;  /* the body passed the limit; answer 413 */
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
    int status = 200;
    json_t *reply = mcp_handle(&call, &req, &status);
    out = respond_json(conn, status, reply, status == 503 ? "Retry-After" : NULL, "1");
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
        if (post && cl && strtoll(cl, NULL, 10) > s->cfg.max_body_bytes)
            ctx->too_large = true;
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
    struct req_ctx *ctx = *con_cls;
    if (ctx) {
        free(ctx->body);
        free(ctx);
    }
    *con_cls = NULL;
}

static struct MHD_Daemon *start_daemon(const char *addr, int threads, int max_conns,
                                       MHD_AccessHandlerCallback cb, void *cls, struct err *err)
{
    struct sockaddr_in sa;
    if (admin_parse_addr(addr, &sa) < 0) {
        err_set(err, -1, "invalid listen address '%s' (want host:port)", addr);
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, cb, cls, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)max_conns, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, NULL, MHD_OPTION_END);
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
    if (s->pub)
        MHD_stop_daemon(s->pub);
    admin_stop(s->admin);
    free(s);
}
