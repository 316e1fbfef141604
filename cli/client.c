/*
 * client.c - one MCP JSON-RPC exchange over Streamable HTTP, on libcurl.
 *
 * A request is POSTed with the headers the protocol routes on (Mcp-Method,
 * Mcp-Name, MCP-Protocol-Version); the reply is either one JSON body (held up
 * to CLIENT_MAX_BODY bytes) or an event stream read until the response with
 * our id arrives.  It does not resume interrupted streams (the protocol has
 * no resumption) and does not retry.  Text from the server is sanitised
 * before it goes into an error message.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authhint.h"
#include "clock.h"
#include "mcpdefs.h"

#define CLIENT_MAX_BODY (64u << 20) /* bytes of a JSON reply we accept */

#ifndef TASKWIRE_VERSION
#define TASKWIRE_VERSION "0.0.0"
#endif

static const char *jstr(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* ---- pure helpers ---- */

/*
 * Wrap 'params' (stolen; NULL means {}) into a JSON-RPC 2.0 request with the
 * given id and method.  Adds the per-request _meta this protocol requires
 * (version, client capabilities declaring the tasks extension and form
 * elicitation, client info), keeping any _meta keys already in params, plus
 * progressToken when 'progress_token' is not NULL.  Returns a new reference,
 * or NULL when out of memory.  Pure.
 */
json_t *client_request_new(json_int_t id, const char *method, json_t *params,
                           const char *progress_token)
{
    json_t *meta;

    if (!params)
        params = json_object();
    if (!params)
        return NULL;
    meta = json_object_get(params, "_meta");
    if (!json_is_object(meta)) {
        meta = json_object();
        if (json_object_set_new(params, "_meta", meta) != 0)
            goto out_put_params;
    }
    if (json_object_set_new(meta, MCP_META_PROTOCOL_VERSION, json_string(MCP_PROTOCOL_VERSION)) !=
        0)
        goto out_put_params;
    /* form elicitation is declared because the tasks we poll may ask for input,
     * which we can answer on a terminal (and otherwise cancel with a message) */
    if (json_object_set_new(
            meta, MCP_META_CLIENT_CAPS,
            json_pack("{s:{s:{}}, s:{}}", "extensions", MCP_EXT_TASKS, "elicitation")) != 0)
        goto out_put_params;
    if (json_object_set_new(
            meta, MCP_META_CLIENT_INFO,
            json_pack("{s:s, s:s}", "name", "taskwire-cli", "version", TASKWIRE_VERSION)) != 0)
        goto out_put_params;
    if (progress_token &&
        json_object_set_new(meta, "progressToken", json_string(progress_token)) != 0)
        goto out_put_params;
    return json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id", id, "method", method, "params",
                     params);

out_put_params:
    json_decref(params);
    return NULL;
}

/*
 * Write the value to send in a routing header (Mcp-Name) into 'out': the
 * value itself when it is plain visible ASCII without surrounding spaces,
 * otherwise "=?base64?<base64 of the UTF-8 bytes>?=" (spec §2).  Returns 0,
 * or -CLIENT_EUSAGE when it does not fit in 'size' bytes.  Pure.
 */
int client_header_value(const char *value, char *out, size_t size)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t len = strlen(value);
    bool plain =
        len > 0 && value[0] != ' ' && value[len - 1] != ' ' && strncmp(value, "=?base64?", 9) != 0;

    for (size_t i = 0; plain && i < len; i++)
        if ((unsigned char)value[i] < 0x20 || (unsigned char)value[i] > 0x7e)
            plain = false;
    if (plain) {
        if (len + 1 > size)
            return -CLIENT_EUSAGE;
        memcpy(out, value, len + 1);
        return 0;
    }
    if (len > (size / 4) * 3 || 9 + (len + 2) / 3 * 4 + 2 + 1 > size)
        return -CLIENT_EUSAGE;
    size_t n = (size_t)snprintf(out, size, "=?base64?");
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned char)value[i] << 16;
        if (i + 1 < len)
            v |= (unsigned char)value[i + 1] << 8;
        if (i + 2 < len)
            v |= (unsigned char)value[i + 2];
        out[n++] = b64[(v >> 18) & 63];
        out[n++] = b64[(v >> 12) & 63];
        out[n++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        out[n++] = i + 2 < len ? b64[v & 63] : '=';
    }
    memcpy(out + n, "?=", 3);
    return 0;
}

/* ---- libcurl callbacks ---- */

/* Copy a header's value if 'line' is that header; true when it matched. */
static bool header_value(const char *line, size_t len, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name);
    if (len <= nlen || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
        return false;
    const char *v = line + nlen + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    size_t n = (size_t)(end - v) < size - 1 ? (size_t)(end - v) : size - 1;
    memcpy(out, v, n);
    out[n] = '\0';
    return true;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    struct client *c = ud;
    size_t len = size * nmemb;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* a new response (after 100 Continue, say): forget the previous headers */
        c->content_type[0] = '\0';
        c->www_authenticate[0] = '\0';
        return len;
    }
    if (!header_value(data, len, "Content-Type", c->content_type, sizeof(c->content_type)))
        header_value(data, len, "WWW-Authenticate", c->www_authenticate,
                     sizeof(c->www_authenticate));
    return len;
}

/* One SSE event: keep the response to our request, show progress, ignore the rest. */
static int on_sse_event(void *ctx, const char *event, const char *data, size_t len)
{
    struct client *c = ctx;
    json_t *msg = json_loadb(data, len, 0, NULL);
    const json_t *id;

    if (!json_is_object(msg)) {
        json_decref(msg);
        return 0; /* not a JSON-RPC message: nothing we can use */
    }
    id = json_object_get(msg, "id");
    if (json_is_integer(id) && json_integer_value(id) == c->want_id &&
        (json_object_get(msg, "result") || json_object_get(msg, "error"))) {
        c->response = msg;
        return 1;
    }
    const char *method = jstr(msg, "method");
    if (method && strcmp(method, "notifications/progress") == 0) {
        const json_t *params = json_object_get(msg, "params");
        const json_t *p = json_object_get(params, "progress");
        ui_update(c->ui, json_is_number(p), json_number_value(p),
                  json_number_value(json_object_get(params, "total")), jstr(params, "message"));
    }
    json_decref(msg);
    return 0;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct client *c = ud;
    size_t len = size * nmemb;
    int rc;

    if (c->response)
        return 0; /* we have what we came for; stop reading */
    if (c->body.len == 0 && !c->sse && strncasecmp(c->content_type, "text/event-stream", 17) == 0)
        c->sse = true;
    if (c->sse) {
        rc = sse_feed(&c->sse_p, data, len, on_sse_event, c);
        if (rc < 0) {
            c->write_error = rc == -SSE_ENOMEM ? -CLIENT_ENOMEM : -CLIENT_ETRANSPORT;
            return 0;
        }
        /* rc == 1: the response arrived; ending the transfer here also closes
         * the stream, which the server may take as the end of the request */
        return rc == 1 ? 0 : len;
    }
    rc = bytebuf_append(&c->body, data, len, CLIENT_MAX_BODY);
    if (rc < 0) {
        c->write_error = rc == -BYTEBUF_ENOMEM ? -CLIENT_ENOMEM : -CLIENT_ETRANSPORT;
        return 0;
    }
    return len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct client *c = ud;
    return c->abort_on_interrupt && c->interrupted && *c->interrupted ? 1 : 0;
}

/* ---- the client ---- */

/*
 * Set up 'c' (caller-allocated) for the endpoint in 'o', initialising libcurl
 * globally (so this is not thread-safe).  Everything in 'o' is borrowed.
 * Returns 0, or -CLIENT_ENOMEM when libcurl cannot be initialised (then
 * nothing is left to release).  Release with client_fini().
 */
int client_init(struct client *c, const struct client_opts *o, struct err *err)
{
    memset(c, 0, sizeof(*c));
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return err_set(err, -CLIENT_ENOMEM, "cannot initialise libcurl");
    c->url = o->url;
    c->token = o->token && *o->token ? o->token : NULL;
    c->next_id = 1;
    c->deadline_ms = o->deadline_ms;
    c->abort_on_interrupt = true;
    c->interrupted = o->interrupted;
    c->ui = o->ui;
    sse_init(&c->sse_p);
    c->curl = curl_easy_init();
    if (!c->curl) {
        curl_global_cleanup();
        return err_set(err, -CLIENT_ENOMEM, "cannot initialise libcurl");
    }
    curl_easy_setopt(c->curl, CURLOPT_URL, c->url);
    curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->curl_err);
    curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "taskwire-cli/" TASKWIRE_VERSION);
    curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    return 0;
}

/* Release the curl handle, the buffers and libcurl's global state of a client_init()ed 'c'. */
void client_fini(struct client *c)
{
    curl_easy_cleanup(c->curl);
    bytebuf_fini(&c->body);
    sse_fini(&c->sse_p);
    json_decref(c->response);
    memset(c, 0, sizeof(*c));
    curl_global_cleanup();
}

/* Turn a JSON-RPC error object into err: "server error CODE: MESSAGE". */
static int error_from_rpc(const json_t *error, long status, struct err *err)
{
    char msg[160];
    char data[80] = "";
    const json_t *d = json_object_get(error, "data");
    ui_sanitize(msg, sizeof(msg), jstr(error, "message") ? jstr(error, "message") : "(no message)",
                sizeof(msg) - 1);
    if (d) {
        char *s = json_dumps(d, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s) {
            snprintf(data, sizeof(data), " data=");
            ui_sanitize(data + 6, sizeof(data) - 6, s, sizeof(data) - 7);
            free(s);
        }
    }
    return err_set(err, -CLIENT_ERPC, "server error %" JSON_INTEGER_FORMAT ": %s%s (HTTP %ld)",
                   json_integer_value(json_object_get(error, "code")), msg, data, status);
}

/* The failure of a reply that carried no usable JSON-RPC response. */
static int error_without_response(struct client *c, long status, struct err *err)
{
    char snippet[120];

    if (status < 200 || status > 299) {
        ui_sanitize(snippet, sizeof(snippet), c->body.data, sizeof(snippet) - 1);
        return err_set(err, -CLIENT_ETRANSPORT, "HTTP %ld from %s%s%s", status, c->url,
                       snippet[0] ? ": " : "", snippet);
    }
    if (c->sse)
        return err_set(err, -CLIENT_ETRANSPORT, "the event stream from %s ended without a response",
                       c->url);
    ui_sanitize(snippet, sizeof(snippet), c->body.data, 60);
    return err_set(err, -CLIENT_ETRANSPORT, "non-JSON reply from %s (HTTP %ld, %s)%s%s", c->url,
                   status, c->content_type[0] ? c->content_type : "no Content-Type",
                   snippet[0] ? ": " : "", snippet);
}

/* Decide what a finished HTTP exchange means; on success *result gets a new reference. */
static int client_outcome(struct client *c, long status, json_t **result, struct err *err)
{
    json_t *msg = c->response;
    int rc;

    c->response = NULL;
    if (!msg && !c->sse && c->body.len > 0)
        msg = json_loadb(c->body.data, c->body.len, 0, NULL);
    if (status == 401 || ((status == 403 || status == 400) && c->www_authenticate[0])) {
        char hint[sizeof(err->msg)];
        authhint_message(status, c->www_authenticate, c->token, hint, sizeof(hint));
        rc = err_set(err, -CLIENT_EAUTH, "%s", hint);
    } else if (json_is_object(json_object_get(msg, "error"))) {
        rc = error_from_rpc(json_object_get(msg, "error"), status, err);
    } else if (status < 200 || status > 299 || !msg) {
        rc = error_without_response(c, status, err);
    } else {
        const json_t *id = json_object_get(msg, "id");
        json_t *res = json_object_get(msg, "result");
        if (!json_is_integer(id) || json_integer_value(id) != c->want_id || !json_is_object(res)) {
            rc =
                err_set(err, -CLIENT_ETRANSPORT,
                        "reply from %s is not a JSON-RPC response to request %" JSON_INTEGER_FORMAT,
                        c->url, c->want_id);
        } else {
            *result = json_incref(res);
            rc = 0;
        }
    }
    json_decref(msg);
    return rc;
}

/* Append one header line to *list; false when out of memory (*list unchanged). */
static bool add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *h = curl_slist_append(*list, line);
    if (!h)
        return false;
    *list = h;
    return true;
}

/* The Authorization header, built in a heap string so no fixed buffer limits the
 * token length, and wiped after libcurl copied it.  False when out of memory. */
static bool add_bearer(struct curl_slist **list, const char *token)
{
    size_t n = strlen(token) + sizeof("Authorization: Bearer ");
    char *auth = malloc(n);
    if (!auth)
        return false;
    snprintf(auth, n, "Authorization: Bearer %s", token);
    bool ok = add_header(list, auth);
    memset(auth, 0, n);
    free(auth);
    return ok;
}

/* The request headers of one call into *list (the caller frees it, also on failure). */
static int client_headers(struct client *c, const char *method, const char *name,
                          struct curl_slist **list, struct err *err)
{
    static const char *const fixed[] = {"Content-Type: application/json",
                                        "Accept: application/json, text/event-stream",
                                        "MCP-Protocol-Version: " MCP_PROTOCOL_VERSION, "Expect:"};
    char line[1200];
    char encoded[1024];

    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (!add_header(list, fixed[i]))
            return err_set(err, -CLIENT_ENOMEM, "out of memory");
    snprintf(line, sizeof(line), "Mcp-Method: %s", method);
    if (!add_header(list, line))
        return err_set(err, -CLIENT_ENOMEM, "out of memory");
    if (name) {
        if (client_header_value(name, encoded, sizeof(encoded)) != 0)
            return err_set(err, -CLIENT_EUSAGE, "name '%.40s...' is too long for Mcp-Name", name);
        snprintf(line, sizeof(line), "Mcp-Name: %s", encoded);
        if (!add_header(list, line))
            return err_set(err, -CLIENT_ENOMEM, "out of memory");
    }
    if (c->token && !add_bearer(list, c->token))
        return err_set(err, -CLIENT_ENOMEM, "out of memory");
    return 0;
}

/* Forget everything about the previous exchange. */
static void client_reset(struct client *c)
{
    c->body.len = 0;
    if (c->body.data)
        c->body.data[0] = '\0'; /* no snippet of the previous reply in an error */
    c->sse = false;
    c->write_error = 0;
    c->content_type[0] = '\0';
    c->www_authenticate[0] = '\0';
    c->curl_err[0] = '\0';
    json_decref(c->response);
    c->response = NULL;
    sse_fini(&c->sse_p);
    sse_init(&c->sse_p);
}

/* Run one POST of 'body' with 'headers' and turn what happened into a result or an error. */
static int client_perform(struct client *c, const char *method, struct curl_slist *headers,
                          const char *body, int64_t timeout_ms, json_t **result, struct err *err)
{
    long status = 0;
    CURLcode cc;

    client_reset(c);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    cc = curl_easy_perform(c->curl);
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);

    if (cc == CURLE_ABORTED_BY_CALLBACK)
        return err_set(err, -CLIENT_EINTR, "interrupted");
    if (cc == CURLE_WRITE_ERROR && c->write_error)
        return err_set(err, c->write_error,
                       c->write_error == -CLIENT_ENOMEM ? "out of memory reading the reply"
                                                        : "reply from %s is too large",
                       c->url);
    if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && c->response))
        return err_set(err, -CLIENT_ETRANSPORT, "%s %s: %s", method, c->url,
                       c->curl_err[0] ? c->curl_err : curl_easy_strerror(cc));
    return client_outcome(c, status, result, err);
}

/*
 * POST one JSON-RPC request and wait for its response, for at most
 * 'timeout_ms' and never past c->deadline_ms.  'name' (may be NULL) goes into
 * Mcp-Name; 'params' is stolen; 'progress_token' (may be NULL) asks for
 * notifications/progress, which are shown on c->ui.  Returns 0 with the result
 * object (new reference) in *result, or -CLIENT_ETRANSPORT (also when the
 * deadline has passed), -CLIENT_EAUTH (a refused token or scope, 'err' says
 * what is missing), -CLIENT_ERPC, -CLIENT_EINTR (*interrupted while
 * c->abort_on_interrupt), -CLIENT_EUSAGE or -CLIENT_ENOMEM, with 'err' set.
 */
int client_request(struct client *c, const char *method, const char *name, json_t *params,
                   const char *progress_token, int64_t timeout_ms, json_t **result, struct err *err)
{
    struct curl_slist *headers = NULL;
    char *body;
    int rc;

    *result = NULL;
    c->want_id = c->next_id++;
    json_t *req = client_request_new(c->want_id, method, params, progress_token);
    if (!req)
        return err_set(err, -CLIENT_ENOMEM, "out of memory");
    body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!body)
        return err_set(err, -CLIENT_ENOMEM, "out of memory");
    rc = client_headers(c, method, name, &headers, err);
    if (rc < 0)
        goto out_free_headers;
    if (c->deadline_ms > 0) {
        int64_t left = c->deadline_ms - clock_now_ms();
        if (left <= 0) {
            rc = err_set(err, -CLIENT_ETRANSPORT, "overall timeout reached");
            goto out_free_headers;
        }
        if (left < timeout_ms)
            timeout_ms = left;
    }
    rc = client_perform(c, method, headers, body, timeout_ms, result, err);
out_free_headers:
    curl_slist_free_all(headers);
    free(body);
    return rc;
}
