/*
 * extproto.c - the external-tool protocol, pure: stdout lines, the exec
 * spec, the child's environment and stdin, the stderr tail and outcome texts.
 *
 * No process, no descriptor, no tool context and no global state: every
 * function is thread-safe and bounded by its inputs.  Reads the process
 * environment (getenv) only to build a child's environment.  Format:
 * proto/tools-manifest.md.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "extproto.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "manifest.h"
#include "utf8.h"

#define EXTPROTO_PATH "PATH=/usr/local/bin:/usr/bin:/bin"

/* ---- the stdout line protocol ---- */

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

/* True if 'r' has the shape of a CallToolResult; else *why says what is wrong. */
static bool result_shape_ok(const json_t *r, const char **why)
{
    const json_t *content = json_object_get(r, "content"), *v;
    size_t i;
    if (!json_is_object(r))
        *why = "\"result\" is not an object";
    else if (!json_is_array(content))
        *why = "\"result\" has no \"content\" array";
    else if ((v = json_object_get(r, "isError")) && !json_is_boolean(v))
        *why = "\"result.isError\" is not a boolean";
    else if ((v = json_object_get(r, "structuredContent")) && !json_is_object(v))
        *why = "\"result.structuredContent\" is not an object";
    else if ((v = json_object_get(r, "_meta")) && !json_is_object(v))
        *why = "\"result._meta\" is not an object";
    else {
        json_array_foreach(content, i, v)
        {
            if (!json_is_string(json_object_get(v, "type"))) {
                *why = "a \"result.content\" item has no string \"type\"";
                return false;
            }
        }
        return true;
    }
    return false;
}

/* True when 'v' is a finite number above (or, with 'zero_ok', equal to) 0. */
static bool positive(const json_t *v, bool zero_ok)
{
    double d = json_number_value(v);
    return json_is_number(v) && isfinite(d) && (d > 0 || (zero_ok && d == 0));
}

/* Fill 'out' from a {"progress": ...} line; NULL, or why it is not valid. */
static const char *read_progress(const json_t *doc, const json_t *p, struct extproto_event *out)
{
    const json_t *t = json_object_get(doc, "total"), *m = json_object_get(doc, "message");
    if (!positive(p, true))
        return "\"progress\" is not a number >= 0";
    if (t && !positive(t, false))
        return "\"total\" is not a number > 0";
    if (m && !json_is_string(m))
        return "\"message\" is not a string";
    out->kind = EXTPROTO_EV_PROGRESS;
    out->progress = json_number_value(p);
    out->total = t ? json_number_value(t) : 0;
    if (m) {
        out->has_message = true;
        utf8_copy(out->message, sizeof(out->message), json_string_value(m));
    }
    return NULL;
}

/* Fill 'out' from a {"log": {...}} line; NULL, or why it is not valid.  The level is
 * kept as written (at most 15 bytes); the tool API maps unknown levels to info. */
static const char *read_log(const json_t *l, struct extproto_event *out)
{
    const json_t *level = json_object_get(l, "level"), *data = json_object_get(l, "data");
    if (!json_is_object(l) || !data)
        return "\"log\" is not an object with \"data\"";
    if (level && (!json_is_string(level) || json_string_length(level) >= sizeof(out->level)))
        return "\"log\" has a \"level\" that is not a short string";
    out->kind = EXTPROTO_EV_LOG;
    snprintf(out->level, sizeof(out->level), "%s", level ? json_string_value(level) : "info");
    out->result = json_incref((json_t *)data); /* outlives 'doc' */
    return NULL;
}

/* Fill 'out' from the one protocol key of the object 'doc'; NULL, or why it is not valid. */
static const char *read_event(const json_t *doc, struct extproto_event *out)
{
    const json_t *p = json_object_get(doc, "progress"), *s = json_object_get(doc, "status");
    const json_t *r = json_object_get(doc, "result"), *l = json_object_get(doc, "log");
    const char *why = NULL;
    int keys = (p != NULL) + (s != NULL) + (r != NULL) + (l != NULL);
    if (!json_is_object(doc))
        return "not a JSON object";
    if (keys != 1)
        return keys ? "more than one of \"progress\", \"status\", \"result\" and \"log\""
                    : "none of \"progress\", \"status\", \"result\" and \"log\"";
    if (p)
        return read_progress(doc, p, out);
    if (l)
        return read_log(l, out);
    if (s) {
        if (!json_is_string(s))
            return "\"status\" is not a string";
        out->kind = EXTPROTO_EV_STATUS;
        out->has_message = true;
        utf8_copy(out->message, sizeof(out->message), json_string_value(s));
        return NULL;
    }
    if (!result_shape_ok(r, &why))
        return why;
    out->kind = EXTPROTO_EV_RESULT;
    out->result = json_incref((json_t *)r); /* outlives 'doc' */
    return NULL;
}

/*
 * Parse one line of a child's stdout: 'len' bytes at 'line', without the
 * '\n' (a trailing '\r' is dropped); 'line' need not be NUL-terminated.
 *
 * Returns 0 and fills *out: EXTPROTO_EV_BLANK for an empty line, else the
 * progress, status or result it carries.  For a result, out->result is a new
 * reference the caller owns (extproto_event_fini() releases it).  Returns
 * -EXTPROTO_EPROTO for any other line, with 'err' (may be NULL) giving the
 * reason without quoting the line, and nothing to release.  Pure and
 * thread-safe.
 */
int extproto_parse_line(const char *line, size_t len, struct extproto_event *out, struct err *err)
{
    memset(out, 0, sizeof(*out));
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (blank(line, len)) {
        out->kind = EXTPROTO_EV_BLANK;
        return 0;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return err_set(err, -EXTPROTO_EPROTO, "not JSON (error at byte %d)", jerr.position);
    const char *why = read_event(doc, out);
    json_decref(doc);
    if (why) {
        memset(out, 0, sizeof(*out));
        return err_set(err, -EXTPROTO_EPROTO, "%s", why);
    }
    return 0;
}

/* Release the result an event may hold.  Safe on a zeroed or failed event. */
void extproto_event_fini(struct extproto_event *ev)
{
    json_decref(ev->result);
    ev->result = NULL;
}

/* ---- the exec spec ---- */

/* Optional integer 'key' of 'spec' in [min, max] into *out ('def' when absent). */
static int spec_int(const json_t *spec, const char *key, int64_t def, int64_t min, int64_t max,
                    int64_t *out, struct err *err)
{
    const json_t *v = json_object_get(spec, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return err_set(err, -EXTPROTO_ESPEC, "\"%s\" is not an integer from %lld to %lld", key,
                       (long long)min, (long long)max);
    *out = json_integer_value(v);
    return 0;
}

/* The numeric keys of 'spec' into 'sp', with the manifest's defaults. */
static int spec_limits(const json_t *spec, struct extproto_spec *sp, struct err *err)
{
    int64_t out, errb;
    if (spec_int(spec, "timeoutMs", MANIFEST_DEFAULT_TIMEOUT_MS, 1, INT32_MAX * 1000LL,
                 &sp->timeout_ms, err) < 0 ||
        spec_int(spec, "killGraceMs", MANIFEST_DEFAULT_KILL_GRACE, 0, INT32_MAX, &sp->kill_grace_ms,
                 err) < 0 ||
        spec_int(spec, "maxOutputBytes", MANIFEST_DEFAULT_MAX_OUT, 1, 1LL << 32, &out, err) < 0 ||
        spec_int(spec, "maxStderrBytes", MANIFEST_DEFAULT_MAX_ERR, 0, 1LL << 32, &errb, err) < 0)
        return -EXTPROTO_ESPEC;
    sp->max_out = (size_t)out;
    sp->max_err = (size_t)errb;
    return 0;
}

/*
 * Read the catalog's exec object 'spec' (argv, cwd, env, timeoutMs,
 * killGraceMs, maxOutputBytes, maxStderrBytes; the manifest's defaults for
 * absent numbers) into 'sp'.  Strings are borrowed from 'spec', which must
 * outlive 'sp'; sp->argv is allocated.  Returns 0 (release with
 * extproto_spec_fini()), or -EXTPROTO_ESPEC / -EXTPROTO_ENOMEM with 'err'
 * saying what is wrong and nothing to release.  Pure.
 */
int extproto_spec_parse(const json_t *spec, struct extproto_spec *sp, struct err *err)
{
    const json_t *argv = json_object_get(spec, "argv"), *cwd = json_object_get(spec, "cwd");
    memset(sp, 0, sizeof(*sp));
    sp->name = json_string_value(json_object_get(spec, "name"));
    if (!sp->name)
        sp->name = "(unnamed)";
    if (!json_is_array(argv) || json_array_size(argv) == 0)
        return err_set(err, -EXTPROTO_ESPEC, "\"argv\" is not a non-empty array");
    if (cwd && !json_is_string(cwd))
        return err_set(err, -EXTPROTO_ESPEC, "\"cwd\" is not a string");
    sp->cwd = json_string_value(cwd);
    sp->env = json_object_get(spec, "env");
    if (sp->env && !json_is_array(sp->env))
        return err_set(err, -EXTPROTO_ESPEC, "\"env\" is not an array");
    if (spec_limits(spec, sp, err) < 0)
        return -EXTPROTO_ESPEC;
    size_t n = json_array_size(argv);
    sp->argv = calloc(n + 1, sizeof(*sp->argv));
    if (!sp->argv)
        return err_set(err, -EXTPROTO_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!(sp->argv[i] = json_string_value(json_array_get(argv, i)))) {
            extproto_spec_fini(sp);
            return err_set(err, -EXTPROTO_ESPEC, "\"argv\" holds a non-string");
        }
    }
    return 0;
}

/* Free sp->argv; safe after a failed parse and twice. */
void extproto_spec_fini(struct extproto_spec *sp)
{
    free(sp->argv);
    sp->argv = NULL;
}

/* ---- the child's environment and stdin ---- */

/* "NAME=value" in a new allocation, or NULL. */
static char *env_entry(const char *name, const char *value)
{
    size_t a = strlen(name), b = strlen(value);
    char *s = malloc(a + b + 2);
    if (s) {
        memcpy(s, name, a);
        s[a] = '=';
        memcpy(s + a + 1, value, b + 1);
    }
    return s;
}

/* Free every entry of a NULL-terminated environment and the array; NULL is a no-op. */
void extproto_env_free(char **envp)
{
    for (size_t i = 0; envp && envp[i]; i++)
        free(envp[i]);
    free(envp);
}

/*
 * The environment of a child of 'sp': PATH (fixed), TASKWIRE_TASK_ID
 * ('task_id', "" when NULL), TRACEPARENT and TRACESTATE (W3C Trace Context:
 * 'traceparent' names the worker's span of the run; each only when given and
 * not empty) and each name of sp->env that is set in this process, except
 * PATH, TRACEPARENT, TRACESTATE and TASKWIRE_* (the manifest refuses the last;
 * checked again so a hand-made spec cannot leak the worker's secrets).  A new
 * array (extproto_env_free() it), or NULL when out of memory.
 */
char **extproto_env_new(const struct extproto_spec *sp, const char *task_id,
                        const char *traceparent, const char *tracestate)
{
    size_t n = json_array_size(sp->env), k = 0, i;
    const json_t *name;
    char **envp = calloc(n + 5, sizeof(*envp));
    if (!envp)
        return NULL;
    if (!(envp[k++] = strdup(EXTPROTO_PATH)) ||
        !(envp[k++] = env_entry("TASKWIRE_TASK_ID", task_id ? task_id : "")))
        goto out_free_env;
    if (traceparent && traceparent[0] && !(envp[k++] = env_entry("TRACEPARENT", traceparent)))
        goto out_free_env;
    if (tracestate && tracestate[0] && !(envp[k++] = env_entry("TRACESTATE", tracestate)))
        goto out_free_env;
    json_array_foreach(sp->env, i, name)
    {
        const char *key = json_string_value(name), *value;
        if (!key || strcmp(key, "PATH") == 0 || strncmp(key, "TASKWIRE_", 9) == 0 ||
            strcmp(key, "TRACEPARENT") == 0 || strcmp(key, "TRACESTATE") == 0 ||
            !(value = getenv(key)))
            continue;
        if (!(envp[k++] = env_entry(key, value)))
            goto out_free_env;
    }
    return envp;

out_free_env:
    extproto_env_free(envp);
    return NULL;
}

/*
 * The arguments document a child reads on stdin: 'args' (borrowed; {} when
 * NULL) as compact JSON followed by '\n'.  A new NUL-terminated allocation
 * (free() it) with *len its length without the NUL, or NULL when out of
 * memory.
 */
char *extproto_stdin_doc(const json_t *args, size_t *len)
{
    json_t *empty = args ? NULL : json_object();
    char *doc = json_dumps(args ? args : empty, JSON_COMPACT), *line = NULL;
    json_decref(empty);
    if (doc) {
        size_t n = strlen(doc);
        if ((line = malloc(n + 2))) {
            memcpy(line, doc, n);
            memcpy(line + n, "\n", 2);
            *len = n + 1;
        }
        free(doc);
    }
    return line;
}

/* ---- outcome texts ---- */

/* "SIGTERM" for SIGTERM, or NULL for a signal without a well-known name. */
static const char *signal_name(int sig)
{
    static const struct {
        int sig;          /* the number */
        const char *name; /* its name */
    } names[] = {
        {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
        {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
        {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
        {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGXCPU, "SIGXCPU"},
        {SIGXFSZ, "SIGXFSZ"}, {SIGSYS, "SIGSYS"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].sig == sig)
            return names[i].name;
    return NULL;
}

/*
 * Describe how a child ended: "exit status N", "killed by signal N (NAME)"
 * (or without the name), or "tool ended with an unknown status" for a
 * negative 'wait_status' or one that is neither, written into 'buf' ('cap'
 * bytes).  Returns a short static word for logs: "exit status", "killed by
 * signal" or "unknown status".
 */
const char *extproto_status_text(int wait_status, char *buf, size_t cap)
{
    if (wait_status >= 0 && WIFEXITED(wait_status)) {
        snprintf(buf, cap, "exit status %d", WEXITSTATUS(wait_status));
        return "exit status";
    }
    if (wait_status >= 0 && WIFSIGNALED(wait_status)) {
        const char *name = signal_name(WTERMSIG(wait_status));
        if (name)
            snprintf(buf, cap, "killed by signal %d (%s)", WTERMSIG(wait_status), name);
        else
            snprintf(buf, cap, "killed by signal %d", WTERMSIG(wait_status));
        return "killed by signal";
    }
    snprintf(buf, cap, "tool ended with an unknown status");
    return "unknown status";
}

/*
 * Keep the last 'cap' bytes of a stream in 'buf' ('cap' > 0 bytes allocated,
 * *len of them used): append the 'n' bytes at 'data', dropping the oldest
 * bytes when they do not fit.  No allocation.
 */
void extproto_tail_keep(char *buf, size_t cap, size_t *len, const char *data, size_t n)
{
    if (n >= cap) {
        memcpy(buf, data + n - cap, cap);
        *len = cap;
        return;
    }
    if (*len + n > cap) {
        size_t drop = *len + n - cap;
        memmove(buf, buf + drop, *len - drop);
        *len -= drop;
    }
    memcpy(buf + *len, data, n);
    *len += n;
}

/*
 * The text of a tool-error result: 'head', then ": " and the tail of the
 * stderr bytes kept (the last EXTPROTO_ERR_TAIL of the 'len' bytes at 'kept',
 * starting at a character boundary when cut, without trailing white space,
 * each invalid byte replaced by U+FFFD) when there is one.  A new string
 * (free() it), or NULL when out of memory.
 */
char *extproto_error_text(const char *head, const char *kept, size_t len)
{
    size_t n = len < EXTPROTO_ERR_TAIL ? len : EXTPROTO_ERR_TAIL;
    const char *tail = kept ? kept + len - n : "";
    if (!kept)
        n = 0;
    while (n > 0 && ((unsigned char)tail[0] & 0xC0) == 0x80 && len > n) {
        tail++; /* the cut fell inside a character: start at the next one */
        n--;
    }
    while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r' || tail[n - 1] == ' ' ||
                     tail[n - 1] == '\t'))
        n--;
    size_t head_len = strlen(head);
    char *text = malloc(head_len + 2 + 3 * n + 1);
    if (!text)
        return NULL;
    memcpy(text, head, head_len + 1);
    if (n > 0) {
        memcpy(text + head_len, ": ", 2);
        utf8_sanitize(text + head_len + 2, tail, n);
    }
    return text;
}
