/*
 * call.c - 'taskwire call': one MCP tools/call over stateless Streamable HTTP.
 *
 * One libcurl easy handle is reused for every request (keep-alive).  A task
 * result is polled with tasks/get until it is terminal; SIGINT sends
 * tasks/cancel.  It does not resume interrupted streams (the protocol has no
 * resumption) and never retries tools/call, which is not idempotent.  Text
 * from the server is stripped of control characters before it reaches stderr.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "call.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "clock.h"
#include "mcpdefs.h"
#include "utf8.h"

#define CALL_REQUEST_TIMEOUT_MS 30000 /* per HTTP request */
#define CALL_CANCEL_TIMEOUT_MS  10000 /* for the tasks/cancel sent on SIGINT */
#define CALL_POLL_DEFAULT_MS    500
#define CALL_POLL_MIN_MS        100
#define CALL_POLL_MAX_MS        2000
#define CALL_POLL_RETRIES       5           /* consecutive transport failures while polling */
#define CALL_MAX_BODY           (64u << 20) /* bytes of a JSON reply we accept */
#define CALL_MAX_INPUT_ROUNDS   16          /* MRTR rounds on tools/call */
#define CALL_LABEL_MAX          48          /* bytes of status message in the bar */

#ifndef TASKWIRE_VERSION
#define TASKWIRE_VERSION "0.0.0"
#endif

static volatile sig_atomic_t call_interrupted; /* set by SIGINT */

/* ---- small helpers ---- */

/* Copy at most 'max' bytes of 'src' into 'dst' (size bytes), cut at a character
 * boundary, replacing control characters (terminal escapes) by '?'. */
static void sanitize(char *dst, size_t size, const char *src, size_t max)
{
    if (size == 0)
        return;
    if (!src)
        src = "";
    size_t cap = size - 1 < max ? size - 1 : max;
    size_t n = utf8_prefix_len(src, strnlen(src, cap + 1), cap);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    dst[n] = '\0';
}

static const char *jstr(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* ---- argument parsing ---- */

/*
 * Parse one key=value value.  Text that is valid JSON (number, true, false,
 * null, "quoted string", object, array) becomes that JSON value; anything else
 * becomes a JSON string of the text as is.  Text that starts with '{' or '['
 * but is not valid JSON is refused, as it was clearly meant to be JSON.
 * Returns 0 and a new reference in *out, or -CALL_EUSAGE / -CALL_ENOMEM.
 */
int call_parse_value(const char *text, json_t **out, struct err *err)
{
    json_error_t jerr;
    const char *p = text;

    *out = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (*out)
        return 0;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p == '{' || *p == '[')
        return err_set(err, -CALL_EUSAGE, "invalid JSON value '%.60s': %s", text, jerr.text);
    *out = json_string(text);
    if (!*out)
        return err_set(err, -CALL_EUSAGE, "argument value is not valid UTF-8: '%.60s'", text);
    return 0;
}

/*
 * Split "key=value" at the first '=' and set args[key] to the parsed value
 * (see call_parse_value); a repeated key replaces the earlier one.  'args' is
 * borrowed and must be an object.  Returns 0 or -CALL_EUSAGE with 'err' set.
 */
int call_parse_kv(json_t *args, const char *kv, struct err *err)
{
    const char *eq = strchr(kv, '=');
    json_t *value;
    int rc;

    if (!eq)
        return err_set(err, -CALL_EUSAGE, "argument '%.60s' is not key=value", kv);
    if (eq == kv)
        return err_set(err, -CALL_EUSAGE, "argument '%.60s' has an empty key", kv);
    rc = call_parse_value(eq + 1, &value, err);
    if (rc < 0)
        return rc;
    if (json_object_setn_new(args, kv, (size_t)(eq - kv), value) != 0)
        return err_set(err, -CALL_EUSAGE, "argument key in '%.60s' is not valid UTF-8", kv);
    return 0;
}

/*
 * Build the tool arguments: the object in 'args_json' (NULL or "" for {}),
 * then each of the 'n' key=value strings in 'kv' on top.  Returns 0 and a new
 * reference in *out, or -CALL_EUSAGE with 'err' set (and *out NULL).
 */
int call_build_args(const char *args_json, char *const *kv, int n, json_t **out, struct err *err)
{
    json_t *args;
    int rc;

    *out = NULL;
    if (args_json && *args_json) {
        json_error_t jerr;
        args = json_loads(args_json, 0, &jerr);
        if (!args)
            return err_set(err, -CALL_EUSAGE, "--args is not valid JSON: %s", jerr.text);
        if (!json_is_object(args)) {
            json_decref(args);
            return err_set(err, -CALL_EUSAGE, "--args must be a JSON object");
        }
    } else {
        args = json_object();
        if (!args)
            return err_set(err, -CALL_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        rc = call_parse_kv(args, kv[i], err);
        if (rc < 0) {
            json_decref(args);
            return rc;
        }
    }
    *out = args;
    return 0;
}

/*
 * Wrap 'params' (stolen; NULL means {}) into a JSON-RPC 2.0 request with the
 * given id and method.  Adds the per-request _meta this protocol requires
 * (version, client capabilities declaring the tasks extension and form
 * elicitation, client info), keeping any _meta keys already in params, plus
 * progressToken when 'progress_token' is not NULL.  Returns a new reference,
 * or NULL when out of memory.
 */
json_t *call_request_new(json_int_t id, const char *method, json_t *params,
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
    if (json_object_set_new(meta, "io.modelcontextprotocol/protocolVersion",
                            json_string(MCP_PROTOCOL_VERSION)) != 0)
        goto out_put_params;
    /* form elicitation is declared because the tasks we poll may ask for input,
     * which we can answer on a terminal (and otherwise cancel with a message) */
    if (json_object_set_new(
            meta, "io.modelcontextprotocol/clientCapabilities",
            json_pack("{s:{s:{}}, s:{}}", "extensions", MCP_EXT_TASKS, "elicitation")) != 0)
        goto out_put_params;
    if (json_object_set_new(
            meta, "io.modelcontextprotocol/clientInfo",
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
 * or -1 when it does not fit in 'size' bytes.
 */
int call_header_value(const char *value, char *out, size_t size)
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
            return -1;
        memcpy(out, value, len + 1);
        return 0;
    }
    if (len > (size / 4) * 3 || 9 + (len + 2) / 3 * 4 + 2 + 1 > size)
        return -1;
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

/* ---- Server-Sent Events ---- */

/* Start a parser with no buffered bytes and the default size limit. */
void call_sse_init(struct call_sse *p)
{
    memset(p, 0, sizeof(*p));
    p->max_bytes = CALL_SSE_MAX_BYTES;
}

/* Free the parser's buffers; it may then be initialised again. */
void call_sse_fini(struct call_sse *p)
{
    free(p->line);
    free(p->data);
    memset(p, 0, sizeof(*p));
}

/* Append n bytes to a growable buffer, refusing to pass 'max'. */
static int buf_append(char **buf, size_t *len, size_t *cap, const char *src, size_t n, size_t max)
{
    if (n > max || *len > max - n)
        return -CALL_ETRANSPORT;
    if (*len + n + 1 > *cap) {
        size_t ncap = *cap ? *cap : 256;
        while (ncap < *len + n + 1)
            ncap *= 2;
        char *nbuf = realloc(*buf, ncap);
        if (!nbuf)
            return -CALL_ENOMEM;
        *buf = nbuf;
        *cap = ncap;
    }
    memcpy(*buf + *len, src, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

/* Handle one complete line (without its terminator), per the WHATWG rules. */
static int sse_line(struct call_sse *p, const char *line, size_t len, call_sse_cb *cb, void *ctx)
{
    if (!p->started) {
        /* a UTF-8 byte order mark may start the stream */
        p->started = true;
        if (len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
            line += 3;
            len -= 3;
        }
    }
    if (len == 0) {
        int stop = 0;
        if (p->has_data) {
            if (p->data_len > 0 && p->data[p->data_len - 1] == '\n')
                p->data[--p->data_len] = '\0';
            stop = cb(ctx, p->event[0] ? p->event : "message", p->data ? p->data : "", p->data_len);
        }
        p->data_len = 0;
        p->has_data = false;
        p->event[0] = '\0';
        return stop ? 1 : 0;
    }
    if (line[0] == ':')
        return 0; /* comment, e.g. a keep-alive */

    const char *colon = memchr(line, ':', len);
    size_t name_len = colon ? (size_t)(colon - line) : len;
    const char *value = colon ? colon + 1 : line + len;
    size_t value_len = (size_t)(line + len - value);
    if (value_len > 0 && value[0] == ' ') {
        value++;
        value_len--;
    }
    if (name_len == 4 && memcmp(line, "data", 4) == 0) {
        int rc = buf_append(&p->data, &p->data_len, &p->data_cap, value, value_len, p->max_bytes);
        if (rc == 0)
            rc = buf_append(&p->data, &p->data_len, &p->data_cap, "\n", 1, p->max_bytes);
        if (rc < 0)
            return rc;
        p->has_data = true;
    } else if (name_len == 5 && memcmp(line, "event", 5) == 0) {
        size_t n = value_len < sizeof(p->event) - 1 ? value_len : sizeof(p->event) - 1;
        memcpy(p->event, value, n);
        p->event[n] = '\0';
    }
    /* "id" and "retry" are ignored: these streams cannot be resumed */
    return 0;
}

/*
 * Parse 'len' bytes of an event stream; the bytes may be split anywhere
 * (inside a line, between CR and LF).  Lines end in LF, CRLF or CR; "data"
 * lines of one event are joined with '\n'; lines starting with ':' are
 * comments; a blank line dispatches the event to 'cb' (events without data
 * are dropped).  'cb' gets a NUL-terminated data pointer valid during the call.
 * Returns 0 when all bytes were used, 1 when 'cb' returned non-zero (the rest
 * of 'buf' is dropped), -CALL_ETRANSPORT when a line or event exceeds
 * p->max_bytes, or -CALL_ENOMEM.
 */
int call_sse_feed(struct call_sse *p, const char *buf, size_t len, call_sse_cb *cb, void *ctx)
{
    size_t i = 0;

    while (i < len) {
        if (p->after_cr) {
            p->after_cr = false;
            if (buf[i] == '\n') {
                i++;
                continue;
            }
        }
        const char *start = buf + i;
        size_t n = 0;
        while (i + n < len && start[n] != '\n' && start[n] != '\r')
            n++;
        if (i + n == len) {
            /* no terminator yet: keep the partial line */
            int rc = buf_append(&p->line, &p->line_len, &p->line_cap, start, n, p->max_bytes);
            return rc < 0 ? rc : 0;
        }
        p->after_cr = start[n] == '\r';
        int rc;
        if (p->line_len > 0) {
            rc = buf_append(&p->line, &p->line_len, &p->line_cap, start, n, p->max_bytes);
            if (rc == 0)
                rc = sse_line(p, p->line, p->line_len, cb, ctx);
            p->line_len = 0;
        } else {
            rc = sse_line(p, start, n, cb, ctx);
        }
        i += n + 1;
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- progress and its bar ---- */

/*
 * Find the first "a/b" in 'text' where a and b are decimal integers
 * ("step 3/8" gives 3 and 8).  Returns true and sets both, else false.
 */
bool call_progress_from_text(const char *text, double *progress, double *total)
{
    for (const char *p = text ? strchr(text, '/') : NULL; p; p = strchr(p + 1, '/')) {
        const char *a = p;
        while (a > text && isdigit((unsigned char)a[-1]))
            a--;
        if (a == p || !isdigit((unsigned char)p[1]))
            continue;
        *progress = strtod(a, NULL);
        *total = strtod(p + 1, NULL);
        return true;
    }
    return false;
}

/*
 * Read progress from a task (a CreateTaskResult or tasks/get result, borrowed):
 * _meta["dev.taskwire/progress"] = {"progress":n,"total":m} when present
 * (total 0 when absent), else the first "a/b" in statusMessage.  Returns true
 * and sets both, or false when the task says nothing about progress.
 */
bool call_progress_extract(const json_t *task, double *progress, double *total)
{
    const json_t *p = json_object_get(json_object_get(task, "_meta"), TW_META_PROGRESS);
    if (json_is_number(json_object_get(p, "progress"))) {
        *progress = json_number_value(json_object_get(p, "progress"));
        *total = json_number_value(json_object_get(p, "total")); /* 0 when absent */
        return true;
    }
    return call_progress_from_text(jstr(task, "statusMessage"), progress, total);
}

/*
 * Render one progress line into 'buf':
 * "[#########---------------------]  30%  <label>  (3.1s)".  The bar has
 * CALL_BAR_CELLS cells; progress is clamped to [0, total].  A total <= 0 (or
 * not finite) means unknown: an empty bar and "  ?%".  'label' (may be NULL)
 * is shortened and stripped of control characters.  Returns strlen(buf),
 * which is at most size - 1.
 */
size_t call_bar_render(char *buf, size_t size, double progress, double total, const char *label,
                       double elapsed_s)
{
    char bar[CALL_BAR_CELLS + 1];
    char pct[8];
    char text[CALL_LABEL_MAX + 1];
    int filled = 0;
    int n;

    if (size == 0)
        return 0;
    if (total > 0 && isfinite(total) && isfinite(progress)) {
        double frac = progress / total;
        frac = frac < 0 ? 0 : frac > 1 ? 1 : frac;
        filled = (int)(frac * CALL_BAR_CELLS);
        snprintf(pct, sizeof(pct), "%3d%%", (int)(frac * 100));
    } else {
        snprintf(pct, sizeof(pct), "  ?%%");
    }
    memset(bar, '#', (size_t)filled);
    memset(bar + filled, '-', (size_t)(CALL_BAR_CELLS - filled));
    bar[CALL_BAR_CELLS] = '\0';
    sanitize(text, sizeof(text), label, CALL_LABEL_MAX);
    if (text[0])
        n = snprintf(buf, size, "[%s] %s  %s  (%.1fs)", bar, pct, text, elapsed_s);
    else
        n = snprintf(buf, size, "[%s] %s  (%.1fs)", bar, pct, elapsed_s);
    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)n < size ? (size_t)n : size - 1;
}

/*
 * Describe a content item that is not printed as text: image and audio as
 * "[image image/png, 1234 bytes base64]", resource_link as "[resource_link
 * URI]", an embedded resource as "[resource URI mimeType, N chars text]" or
 * "..., N bytes base64]", anything else as "[type]".  Server strings are
 * stripped of control characters.  Returns strlen(buf).
 */
size_t call_content_describe(const json_t *item, char *buf, size_t size)
{
    char type[32], mime[96], uri[160];
    const json_t *res = json_object_get(item, "resource");
    const char *data;
    int n;

    if (size == 0)
        return 0;
    sanitize(type, sizeof(type), jstr(item, "type") ? jstr(item, "type") : "unknown", 31);
    if (json_is_object(res)) {
        sanitize(uri, sizeof(uri), jstr(res, "uri"), 159);
        sanitize(mime, sizeof(mime), jstr(res, "mimeType"), 95);
        if (jstr(res, "text"))
            n = snprintf(buf, size, "[%s %s%s%s, %zu chars text]", type, uri, mime[0] ? " " : "",
                         mime, strlen(jstr(res, "text")));
        else
            n = snprintf(buf, size, "[%s %s%s%s, %zu bytes base64]", type, uri, mime[0] ? " " : "",
                         mime, jstr(res, "blob") ? strlen(jstr(res, "blob")) : 0);
    } else if ((data = jstr(item, "data")) != NULL) {
        sanitize(mime, sizeof(mime), jstr(item, "mimeType"), 95);
        n = snprintf(buf, size, "[%s %s, %zu bytes base64]", type, mime[0] ? mime : "?",
                     strlen(data));
    } else if (jstr(item, "uri")) {
        sanitize(uri, sizeof(uri), jstr(item, "uri"), 159);
        n = snprintf(buf, size, "[%s %s]", type, uri);
    } else {
        n = snprintf(buf, size, "[%s]", type);
    }
    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)n < size ? (size_t)n : size - 1;
}

/* ---- terminal output ---- */

/* What is shown on stderr while we wait. */
struct ui {
    bool enabled;           /* --no-progress not given */
    bool tty;               /* stderr is a terminal: redraw one line */
    bool drawn;             /* a bar is on screen without its final newline */
    int64_t start_ms;       /* when the call started, for the elapsed time */
    char last_message[256]; /* last status message printed (non-TTY mode) */
    double last_progress;   /* last progress printed (non-TTY mode) */
    double last_total;      /* last total printed (non-TTY mode) */
};

/* End a drawn bar with its newline so other stderr output starts clean. */
static void ui_break(struct ui *u)
{
    if (u->drawn) {
        fputc('\n', stderr);
        u->drawn = false;
    }
}

/* Show progress: redraw the bar on a TTY, else one line per change. */
static void ui_update(struct ui *u, bool have, double progress, double total, const char *message)
{
    if (!u->enabled)
        return;
    if (u->tty) {
        char line[256];
        double elapsed = (double)(clock_now_ms() - u->start_ms) / 1000.0;
        call_bar_render(line, sizeof(line), have ? progress : 0, have ? total : 0, message,
                        elapsed);
        fprintf(stderr, "\r%s\033[K", line);
        fflush(stderr);
        u->drawn = true;
        return;
    }
    if (message && *message) {
        if (strncmp(message, u->last_message, sizeof(u->last_message) - 1) == 0)
            return;
        snprintf(u->last_message, sizeof(u->last_message), "%s", message);
        char text[256];
        sanitize(text, sizeof(text), message, sizeof(text) - 1);
        fprintf(stderr, "progress: %s\n", text);
    } else if (have && (progress != u->last_progress || total != u->last_total)) {
        u->last_progress = progress;
        u->last_total = total;
        fprintf(stderr, "progress: %g/%g\n", progress, total);
    }
}

/* Print a message line on stderr without mangling the bar. */
static PRINTF_LIKE(2, 3) void ui_say(struct ui *u, const char *fmt, ...)
{
    va_list ap;
    ui_break(u);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- HTTP client ---- */

/* A growable byte buffer for a reply body. */
struct body {
    char *buf;  /* bytes, NUL-terminated when not NULL */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
};

/* One endpoint, one curl handle, and the state of the request in flight. */
struct client {
    CURL *curl;                     /* reused for every request (keep-alive) */
    char curl_err[CURL_ERROR_SIZE]; /* libcurl's detail for the last failure */
    const char *url;                /* borrowed from call_opts */
    const char *token;              /* borrowed from call_opts; NULL for none */
    json_int_t next_id;             /* JSON-RPC id of the next request */
    int64_t deadline_ms;            /* monotonic overall deadline, 0 = none */
    bool abort_on_interrupt;        /* a SIGINT aborts the transfer in flight */
    struct ui *ui;                  /* where progress notifications go */
    /* per request */
    json_int_t want_id;         /* id of the request in flight */
    struct body body;           /* JSON reply body */
    bool sse;                   /* the reply is text/event-stream */
    struct call_sse sse_p;      /* its parser */
    json_t *response;           /* the JSON-RPC response found on the stream */
    int write_error;            /* -CALL_E* raised inside the write callback */
    char content_type[128];     /* reply Content-Type */
    char www_authenticate[200]; /* reply WWW-Authenticate */
};

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
        rc = call_sse_feed(&c->sse_p, data, len, on_sse_event, c);
        if (rc < 0) {
            c->write_error = rc;
            return 0;
        }
        /* rc == 1: the response arrived; ending the transfer here also closes
         * the stream, which the server may take as the end of the request */
        return rc == 1 ? 0 : len;
    }
    rc = buf_append(&c->body.buf, &c->body.len, &c->body.cap, data, len, CALL_MAX_BODY);
    if (rc < 0) {
        c->write_error = rc;
        return 0;
    }
    return len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct client *c = ud;
    return c->abort_on_interrupt && call_interrupted ? 1 : 0;
}

static int client_init(struct client *c, const struct call_opts *o, struct ui *ui, struct err *err)
{
    memset(c, 0, sizeof(*c));
    c->url = o->url;
    c->token = o->token && *o->token ? o->token : NULL;
    c->next_id = 1;
    c->abort_on_interrupt = true;
    c->ui = ui;
    if (o->timeout_s > 0)
        c->deadline_ms = clock_now_ms() + o->timeout_s * 1000;
    c->curl = curl_easy_init();
    if (!c->curl)
        return err_set(err, -CALL_ENOMEM, "cannot initialise libcurl");
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

static void client_fini(struct client *c)
{
    curl_easy_cleanup(c->curl);
    free(c->body.buf);
    call_sse_fini(&c->sse_p);
    json_decref(c->response);
    memset(c, 0, sizeof(*c));
}

/* Turn a JSON-RPC error object into err: "server error CODE: MESSAGE". */
static int rpc_error(const json_t *error, long status, struct err *err)
{
    char msg[160];
    char data[80] = "";
    const json_t *d = json_object_get(error, "data");
    sanitize(msg, sizeof(msg), jstr(error, "message") ? jstr(error, "message") : "(no message)",
             sizeof(msg) - 1);
    if (d) {
        char *s = json_dumps(d, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s) {
            snprintf(data, sizeof(data), " data=");
            sanitize(data + 6, sizeof(data) - 6, s, sizeof(data) - 7);
            free(s);
        }
    }
    return err_set(err, -CALL_ERPC, "server error %" JSON_INTEGER_FORMAT ": %s%s (HTTP %ld)",
                   json_integer_value(json_object_get(error, "code")), msg, data, status);
}

/* Decide what a finished HTTP exchange means; on success *result gets a new reference. */
static int client_outcome(struct client *c, long status, json_t **result, struct err *err)
{
    json_t *msg = c->response;
    char snippet[120];

    c->response = NULL;
    if (!msg && !c->sse && c->body.len > 0)
        msg = json_loadb(c->body.buf, c->body.len, 0, NULL);
    if (status == 401 || (status == 403 && c->www_authenticate[0])) {
        json_decref(msg);
        return err_set(err, -CALL_ETRANSPORT, "%s: %s",
                       status == 401 ? "unauthorized" : "forbidden",
                       c->www_authenticate[0] ? c->www_authenticate : "(no WWW-Authenticate)");
    }
    if (json_is_object(json_object_get(msg, "error"))) {
        int rc = rpc_error(json_object_get(msg, "error"), status, err);
        json_decref(msg);
        return rc;
    }
    if (status < 200 || status > 299) {
        json_decref(msg);
        sanitize(snippet, sizeof(snippet), c->body.buf ? c->body.buf : "", sizeof(snippet) - 1);
        return err_set(err, -CALL_ETRANSPORT, "HTTP %ld from %s%s%s", status, c->url,
                       snippet[0] ? ": " : "", snippet);
    }
    if (!msg) {
        if (c->sse)
            return err_set(err, -CALL_ETRANSPORT,
                           "the event stream from %s ended without a response", c->url);
        sanitize(snippet, sizeof(snippet), c->body.buf ? c->body.buf : "", 60);
        return err_set(err, -CALL_ETRANSPORT, "non-JSON reply from %s (HTTP %ld, %s)%s%s", c->url,
                       status, c->content_type[0] ? c->content_type : "no Content-Type",
                       snippet[0] ? ": " : "", snippet);
    }
    const json_t *id = json_object_get(msg, "id");
    json_t *res = json_object_get(msg, "result");
    if (!json_is_integer(id) || json_integer_value(id) != c->want_id || !json_is_object(res)) {
        json_decref(msg);
        return err_set(err, -CALL_ETRANSPORT,
                       "reply from %s is not a JSON-RPC response to request %" JSON_INTEGER_FORMAT,
                       c->url, c->want_id);
    }
    *result = json_incref(res);
    json_decref(msg);
    return 0;
}

/*
 * POST one JSON-RPC request and wait for its response.  'name' (may be NULL)
 * goes into Mcp-Name; 'params' is stolen.  Returns 0 with the result object
 * (new reference) in *result, or -CALL_ETRANSPORT, -CALL_ERPC, -CALL_EINTR
 * (SIGINT while c->abort_on_interrupt), -CALL_ENOMEM.
 */
static int client_request(struct client *c, const char *method, const char *name, json_t *params,
                          const char *progress_token, int64_t timeout_ms, json_t **result,
                          struct err *err)
{
    struct curl_slist *headers = NULL, *h;
    char line[1200];
    char encoded[1024];
    char *body = NULL;
    long status = 0;
    CURLcode cc;
    int rc = 0;

    *result = NULL;
    c->want_id = c->next_id++;
    json_t *req = call_request_new(c->want_id, method, params, progress_token);
    if (!req)
        return err_set(err, -CALL_ENOMEM, "out of memory");
    body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!body)
        return err_set(err, -CALL_ENOMEM, "out of memory");

    const char *fixed[] = {"Content-Type: application/json",
                           "Accept: application/json, text/event-stream",
                           "MCP-Protocol-Version: " MCP_PROTOCOL_VERSION, "Expect:"};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (!(h = curl_slist_append(headers, fixed[i])))
            goto out_nomem;
        headers = h;
    }
    snprintf(line, sizeof(line), "Mcp-Method: %s", method);
    if (!(h = curl_slist_append(headers, line)))
        goto out_nomem;
    headers = h;
    if (name) {
        if (call_header_value(name, encoded, sizeof(encoded)) != 0) {
            rc = err_set(err, -CALL_EUSAGE, "name '%.40s...' is too long for Mcp-Name", name);
            goto out_free_headers;
        }
        snprintf(line, sizeof(line), "Mcp-Name: %s", encoded);
        if (!(h = curl_slist_append(headers, line)))
            goto out_nomem;
        headers = h;
    }
    if (c->token) {
        /* built in a heap string so no fixed buffer limits the token length */
        size_t n = strlen(c->token) + sizeof("Authorization: Bearer ");
        char *auth = malloc(n);
        if (!auth)
            goto out_nomem;
        snprintf(auth, n, "Authorization: Bearer %s", c->token);
        h = curl_slist_append(headers, auth);
        memset(auth, 0, n);
        free(auth);
        if (!h)
            goto out_nomem;
        headers = h;
    }

    if (c->deadline_ms > 0) {
        int64_t left = c->deadline_ms - clock_now_ms();
        if (left <= 0) {
            rc = err_set(err, -CALL_ETRANSPORT, "overall timeout reached");
            goto out_free_headers;
        }
        if (left < timeout_ms)
            timeout_ms = left;
    }
    c->body.len = 0;
    c->sse = false;
    c->write_error = 0;
    c->content_type[0] = '\0';
    c->www_authenticate[0] = '\0';
    c->curl_err[0] = '\0';
    json_decref(c->response);
    c->response = NULL;
    call_sse_fini(&c->sse_p);
    call_sse_init(&c->sse_p);

    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    cc = curl_easy_perform(c->curl);
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);

    if (cc == CURLE_ABORTED_BY_CALLBACK) {
        rc = err_set(err, -CALL_EINTR, "interrupted");
    } else if (cc == CURLE_WRITE_ERROR && c->write_error) {
        rc = err_set(err, c->write_error,
                     c->write_error == -CALL_ENOMEM ? "out of memory reading the reply"
                                                    : "reply from %s is too large",
                     c->url);
    } else if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && c->response)) {
        rc = err_set(err, -CALL_ETRANSPORT, "%s %s: %s", method, c->url,
                     c->curl_err[0] ? c->curl_err : curl_easy_strerror(cc));
    } else {
        rc = client_outcome(c, status, result, err);
    }
    goto out_free_headers;

out_nomem:
    rc = err_set(err, -CALL_ENOMEM, "out of memory");
out_free_headers:
    curl_slist_free_all(headers);
    free(body);
    return rc;
}

/* ---- input requests (elicitation) ---- */

/* Read one line from stdin without its newline; false on EOF or interruption. */
static bool read_line(char *buf, size_t size)
{
    if (!fgets(buf, (int)size, stdin))
        return false;
    buf[strcspn(buf, "\r\n")] = '\0';
    return true;
}

/* Ask for one schema property until the answer fits its type.
 * Returns 1 with *out set, 0 when skipped (optional, empty), -1 on EOF/SIGINT. */
static int ask_property(const char *key, const json_t *schema, bool required, json_t **out)
{
    const char *type = jstr(schema, "type") ? jstr(schema, "type") : "string";
    const char *title = jstr(schema, "title") ? jstr(schema, "title") : key;
    const json_t *choices = json_object_get(schema, "enum");
    const json_t *def = json_object_get(schema, "default");
    char shown[200], line[1024];

    for (;;) {
        sanitize(shown, sizeof(shown), title, 80);
        fprintf(stderr, "  %s (%s%s)", shown, type, required ? ", required" : "");
        if (jstr(schema, "description")) {
            sanitize(shown, sizeof(shown), jstr(schema, "description"), 120);
            fprintf(stderr, " - %s", shown);
        }
        if (json_is_array(choices)) {
            char *s = json_dumps(choices, JSON_COMPACT);
            sanitize(shown, sizeof(shown), s ? s : "", 150);
            free(s);
            fprintf(stderr, " one of %s", shown);
        }
        if (def) {
            char *s = json_dumps(def, JSON_COMPACT | JSON_ENCODE_ANY);
            sanitize(shown, sizeof(shown), s ? s : "", 60);
            free(s);
            fprintf(stderr, " [%s]", shown);
        }
        fputs(": ", stderr);
        fflush(stderr);
        if (call_interrupted || !read_line(line, sizeof(line)) || call_interrupted)
            return -1;
        if (line[0] == '\0') {
            if (def) {
                *out = json_deep_copy(def);
                return *out ? 1 : -1;
            }
            if (!required)
                return 0;
            fputs("  a value is required\n", stderr);
            continue;
        }
        json_t *v = NULL;
        if (strcmp(type, "boolean") == 0) {
            if (!strcasecmp(line, "y") || !strcasecmp(line, "yes") || !strcasecmp(line, "true") ||
                !strcmp(line, "1"))
                v = json_true();
            else if (!strcasecmp(line, "n") || !strcasecmp(line, "no") ||
                     !strcasecmp(line, "false") || !strcmp(line, "0"))
                v = json_false();
        } else if (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0) {
            char *end;
            errno = 0;
            if (strcmp(type, "integer") == 0) {
                long long x = strtoll(line, &end, 10);
                if (!errno && *end == '\0')
                    v = json_integer(x);
            } else {
                double x = strtod(line, &end);
                if (!errno && *end == '\0' && isfinite(x))
                    v = json_real(x);
            }
        } else if (strcmp(type, "string") == 0) {
            v = json_string(line);
        } else {
            struct err perr;
            if (call_parse_value(line, &v, &perr) < 0)
                v = NULL;
        }
        if (v && json_is_array(choices)) {
            bool ok = false;
            size_t i;
            json_t *choice;
            json_array_foreach(choices, i, choice)
            {
                if (json_equal(choice, v))
                    ok = true;
            }
            if (!ok) {
                json_decref(v);
                v = NULL;
            }
        }
        if (v) {
            *out = v;
            return 1;
        }
        fprintf(stderr, "  not a valid %s%s\n", type, json_is_array(choices) ? " choice" : "");
    }
}

/* Print what the input requests ask for, and (for ones we can answer) collect answers.
 * 'answered' (borrowed) lists keys already answered, which are skipped.  Returns 0 with
 * a new object of responses in *responses (possibly empty), -CALL_ETOOL when a request
 * cannot be answered here, -CALL_EINTR on SIGINT or EOF. */
static int answer_input_requests(struct ui *u, const json_t *requests, json_t *answered,
                                 bool interactive, json_t **responses, struct err *err)
{
    const char *key;
    json_t *req;
    char shown[200];

    *responses = json_object();
    if (!*responses)
        return err_set(err, -CALL_ENOMEM, "out of memory");
    json_object_foreach((json_t *)requests, key, req)
    {
        if (json_object_get(answered, key))
            continue;
        const char *method = jstr(req, "method");
        const json_t *params = json_object_get(req, "params");
        ui_break(u);
        sanitize(shown, sizeof(shown), jstr(params, "message") ? jstr(params, "message") : "",
                 sizeof(shown) - 1);
        fprintf(stderr, "input required (%s): %s\n", method ? method : "?", shown);
        if (!method || strcmp(method, "elicitation/create") != 0) {
            json_decref(*responses);
            *responses = NULL;
            return err_set(err, -CALL_ETOOL, "cannot answer input request '%s' of type %s", key,
                           method ? method : "(none)");
        }
        if (!interactive)
            continue;
        const json_t *schema = json_object_get(params, "requestedSchema");
        const json_t *props = json_object_get(schema, "properties");
        const json_t *required = json_object_get(schema, "required");
        json_t *content = json_object();
        const char *pkey;
        json_t *pschema;
        int rc = 1;
        json_object_foreach((json_t *)props, pkey, pschema)
        {
            bool req_prop = false;
            size_t i;
            json_t *r;
            json_array_foreach(required, i, r)
            {
                if (json_is_string(r) && strcmp(json_string_value(r), pkey) == 0)
                    req_prop = true;
            }
            json_t *value = NULL;
            rc = ask_property(pkey, pschema, req_prop, &value);
            if (rc < 0)
                break;
            if (rc == 1)
                json_object_set_new(content, pkey, value);
        }
        if (rc < 0) {
            json_decref(content);
            json_decref(*responses);
            *responses = NULL;
            fputc('\n', stderr);
            if (call_interrupted)
                return err_set(err, -CALL_EINTR, "interrupted");
            return err_set(err, -CALL_ETOOL, "no answer given (end of input)");
        }
        json_object_set_new(*responses, key,
                            json_pack("{s:s, s:o}", "action", "accept", "content", content));
        json_object_set_new(answered, key, json_true());
    }
    if (!interactive) {
        json_decref(*responses);
        *responses = NULL;
        return err_set(err, -CALL_ETOOL, "the tool needs input, but stdin is not a terminal");
    }
    return 0;
}

/* ---- results ---- */

/* Print a CallToolResult (borrowed); 0, or -CALL_ETOOL when isError is true. */
static int print_result(struct ui *u, const json_t *result, struct err *err)
{
    const json_t *content = json_object_get(result, "content");
    const json_t *structured = json_object_get(result, "structuredContent");
    size_t i;
    json_t *item;
    char line[400];

    ui_break(u);
    json_array_foreach(content, i, item)
    {
        const char *type = jstr(item, "type");
        const json_t *text = json_object_get(item, "text");
        if (type && strcmp(type, "text") == 0 && json_is_string(text)) {
            size_t n = json_string_length(text);
            fwrite(json_string_value(text), 1, n, stdout);
            if (n == 0 || json_string_value(text)[n - 1] != '\n')
                fputc('\n', stdout);
        } else {
            call_content_describe(item, line, sizeof(line));
            puts(line);
        }
    }
    if (structured) {
        char *s = json_dumps(structured, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s)
            puts(s);
        free(s);
    }
    fflush(stdout);
    if (json_is_true(json_object_get(result, "isError")))
        return err_set(err, -CALL_ETOOL, "%s", "");
    return 0;
}

/* ---- polling ---- */

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

/* Send tasks/cancel for 'task_id', ignoring SIGINT while doing so; true if acked. */
static bool cancel_task(struct client *c, const char *task_id, struct err *why)
{
    json_t *res = NULL;
    int64_t saved = c->deadline_ms;
    c->abort_on_interrupt = false;
    c->deadline_ms = 0;
    int rc = client_request(c, "tasks/cancel", task_id, json_pack("{s:s}", "taskId", task_id), NULL,
                            CALL_CANCEL_TIMEOUT_MS, &res, why);
    c->deadline_ms = saved;
    json_decref(res);
    return rc == 0;
}

/* Poll a task until it is terminal and print its outcome. */
static int follow_task(struct client *c, struct ui *u, const json_t *created, bool interactive,
                       struct err *err)
{
    const char *id_str = jstr(created, "taskId");
    char task_id[256];
    int64_t interval = poll_interval(created, CALL_POLL_DEFAULT_MS);
    json_t *answered = json_object();
    int failures = 0;
    double progress, total;
    int rc;

    if (!id_str || !*id_str || strlen(id_str) >= sizeof(task_id)) {
        json_decref(answered);
        return err_set(err, -CALL_ETRANSPORT, "task result without a usable taskId");
    }
    snprintf(task_id, sizeof(task_id), "%s", id_str);
    bool have = call_progress_extract(created, &progress, &total);
    ui_update(u, have, progress, total, jstr(created, "statusMessage"));

    for (;;) {
        nap_ms(interval);
        if (call_interrupted) {
            rc = -CALL_EINTR;
            break;
        }
        if (c->deadline_ms > 0 && clock_now_ms() >= c->deadline_ms) {
            rc = -CALL_ETOOL;
            break;
        }
        json_t *task = NULL;
        rc = client_request(c, "tasks/get", task_id, json_pack("{s:s}", "taskId", task_id), NULL,
                            CALL_REQUEST_TIMEOUT_MS, &task, err);
        if (rc == -CALL_EINTR)
            break;
        if (rc == -CALL_ETRANSPORT && c->deadline_ms > 0 && clock_now_ms() >= c->deadline_ms) {
            rc = -CALL_ETOOL;
            break;
        }
        if (rc == -CALL_ETRANSPORT && ++failures < CALL_POLL_RETRIES) {
            /* frontends may restart under a durable task: try again */
            ui_say(u, "tasks/get failed (%d/%d), retrying: %s", failures, CALL_POLL_RETRIES,
                   err ? err->msg : "");
            continue;
        }
        if (rc < 0)
            goto out_put_answered;
        failures = 0;
        interval = poll_interval(task, interval);
        have = call_progress_extract(task, &progress, &total);
        ui_update(u, have, progress, total, jstr(task, "statusMessage"));

        const char *status = jstr(task, "status") ? jstr(task, "status") : "";
        if (strcmp(status, "completed") == 0) {
            if (u->tty) /* end the bar full, whatever the last report said */
                ui_update(u, true, 1, 1, jstr(task, "statusMessage"));
            rc = print_result(u, json_object_get(task, "result"), err);
        } else if (strcmp(status, "failed") == 0) {
            const json_t *e = json_object_get(task, "error");
            char msg[160];
            sanitize(msg, sizeof(msg),
                     jstr(e, "message")
                         ? jstr(e, "message")
                         : (jstr(task, "statusMessage") ? jstr(task, "statusMessage") : ""),
                     sizeof(msg) - 1);
            ui_break(u);
            rc = err_set(err, -CALL_ETOOL, "task failed: %" JSON_INTEGER_FORMAT " %s",
                         json_integer_value(json_object_get(e, "code")), msg);
        } else if (strcmp(status, "cancelled") == 0) {
            ui_break(u);
            rc = err_set(err, -CALL_ETOOL, "task cancelled");
        } else if (strcmp(status, "input_required") == 0) {
            json_t *responses = NULL;
            rc = answer_input_requests(u, json_object_get(task, "inputRequests"), answered,
                                       interactive, &responses, err);
            if (rc == 0 && json_object_size(responses) > 0) {
                json_t *ack = NULL;
                rc = client_request(
                    c, "tasks/update", task_id,
                    json_pack("{s:s, s:o}", "taskId", task_id, "inputResponses", responses), NULL,
                    CALL_REQUEST_TIMEOUT_MS, &ack, err);
                json_decref(ack);
            } else {
                json_decref(responses);
            }
            json_decref(task);
            if (rc == -CALL_ETOOL) {
                char why[256];
                snprintf(why, sizeof(why), "%s", err ? err->msg : "input impossible");
                struct err cerr;
                bool ok = cancel_task(c, task_id, &cerr);
                rc = err_set(err, -CALL_ETOOL, "%s; %s task %s", why,
                             ok ? "cancelled" : "could not cancel", task_id);
                goto out_put_answered;
            }
            if (rc == -CALL_EINTR)
                break;
            if (rc < 0)
                goto out_put_answered; /* tasks/update failed: say so, change nothing */
            continue;
        } else {
            json_decref(task);
            continue; /* working, or a status from a newer protocol */
        }
        json_decref(task);
        goto out_put_answered;
    }

    /* interrupted or out of time: stop the task before leaving */
    ui_break(u);
    if (rc == -CALL_EINTR)
        signal(SIGINT, SIG_DFL); /* a second Ctrl-C need not wait for tasks/cancel */
    {
        struct err cerr;
        bool ok = cancel_task(c, task_id, &cerr);
        if (rc == -CALL_EINTR)
            rc = ok ? err_set(err, -CALL_EINTR, "cancelled")
                    : err_set(err, -CALL_EINTR, "cancelled (tasks/cancel failed: %s)", cerr.msg);
        else
            rc = err_set(err, -CALL_ETOOL, "timed out; %s task %s",
                         ok ? "cancelled" : "could not cancel", task_id);
    }
out_put_answered:
    json_decref(answered);
    return rc;
}

static void on_sigint(int sig)
{
    (void)sig;
    call_interrupted = 1;
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
 * -CALL_ETRANSPORT, -CALL_EINTR (after sending tasks/cancel), -CALL_EUSAGE or
 * -CALL_ENOMEM, with a line for stderr in err (empty for a plain isError).
 * Installs a SIGINT handler for its duration.  Not thread-safe (the SIGINT flag).
 */
int call_run(const struct call_opts *o, struct err *err)
{
    struct client c;
    struct ui u = {0};
    struct sigaction sa = {0}, old_sa;
    bool interactive = isatty(STDIN_FILENO) == 1;
    char token[48];
    json_t *result = NULL;
    json_t *answered = NULL;
    json_t *args = NULL;
    int rc;

    if (err)
        err->msg[0] = '\0';
    if (!o->url || !*o->url || !o->tool || !*o->tool)
        return err_set(err, -CALL_EUSAGE, "a URL and a tool name are needed");
    u.enabled = o->progress;
    u.tty = isatty(STDERR_FILENO) == 1;
    u.start_ms = clock_now_ms();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return err_set(err, -CALL_ENOMEM, "cannot initialise libcurl");
    rc = client_init(&c, o, &u, err);
    if (rc < 0)
        goto out_cleanup_global;

    call_interrupted = 0;
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: let sleeps and reads return early */
    sigaction(SIGINT, &sa, &old_sa);

    answered = json_object();
    args = o->args ? json_incref(o->args) : json_object();
    json_t *params = json_pack("{s:s, s:O*}", "name", o->tool, "arguments", args);
    for (int round = 0;; round++) {
        if (!params || !answered || !args) {
            rc = err_set(err, -CALL_ENOMEM, "out of memory");
            goto out_restore_signal;
        }
        snprintf(token, sizeof(token), "taskwire-cli-%" JSON_INTEGER_FORMAT, c.next_id);
        rc = client_request(&c, "tools/call", o->tool, params, o->progress ? token : NULL,
                            CALL_REQUEST_TIMEOUT_MS, &result, err);
        params = NULL;
        if (rc == -CALL_EINTR) {
            ui_break(&u);
            rc = err_set(err, -CALL_EINTR, "cancelled");
        }
        if (rc < 0)
            goto out_restore_signal;
        const char *type = jstr(result, "resultType") ? jstr(result, "resultType") : "complete";
        if (strcmp(type, "input_required") != 0)
            break;
        /* MRTR: answer, then repeat tools/call with a new id, the answers and requestState */
        if (round >= CALL_MAX_INPUT_ROUNDS) {
            rc = err_set(err, -CALL_ETOOL, "the tool kept asking for input; giving up");
            goto out_restore_signal;
        }
        json_t *responses = NULL;
        rc = answer_input_requests(&u, json_object_get(result, "inputRequests"), answered,
                                   interactive, &responses, err);
        if (rc == -CALL_EINTR)
            rc = err_set(err, -CALL_EINTR, "cancelled");
        if (rc < 0)
            goto out_restore_signal;
        json_object_clear(answered); /* keys are per round */
        params = json_pack("{s:s, s:O, s:o}", "name", o->tool, "arguments", args, "inputResponses",
                           responses);
        if (params && jstr(result, "requestState"))
            json_object_set(params, "requestState", json_object_get(result, "requestState"));
        json_decref(result);
        result = NULL;
    }

    const char *type = jstr(result, "resultType") ? jstr(result, "resultType") : "complete";
    if (strcmp(type, "task") == 0)
        rc = follow_task(&c, &u, result, interactive, err);
    else if (strcmp(type, "complete") == 0)
        rc = print_result(&u, result, err);
    else
        rc = err_set(err, -CALL_ETRANSPORT, "unexpected resultType '%.40s'", type);
    ui_break(&u);

out_restore_signal:
    sigaction(SIGINT, &old_sa, NULL);
    json_decref(result);
    json_decref(answered);
    json_decref(args);
    client_fini(&c);
out_cleanup_global:
    curl_global_cleanup();
    return rc;
}
