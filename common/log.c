/*
 * log.c - JSON-lines (or plain text) logging to stderr, one write(2) per line.
 *
 * Each line is built in a 4 KiB stack buffer and written at once, so lines
 * from several threads do not interleave (a pipe write of <= PIPE_BUF bytes
 * is atomic).  No malloc, no locks, no stdio, no localtime on the path.
 * Invariant: every JSON line is valid JSON, even when cut short, in which
 * case it ends with "truncated":true.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "utf8.h"

#define LOG_LINE_MAX 4096 /* bytes of one line, newline included (== PIPE_BUF on Linux) */
#define LOG_SVC_MAX  64   /* bytes of the service name, NUL included */

/* Room kept at the end of the buffer for what always closes a line:
 * a string's closing quote, ,"truncated":true (17), "}" and "\n". */
#define LOG_RESERVE 32

/* Written by log_init() before any thread starts, read-only afterwards. */
static char log_svc[LOG_SVC_MAX] = "taskwire"; /* "svc" of every line */
static enum log_level log_min = LOGL_INFO;     /* lines below this are dropped */
static bool log_text;                          /* true: human text instead of JSON */

/* The trace of what this thread is doing (trace.h), "" when none. */
static _Thread_local char log_trace_id[33], log_span_id[17];

/* One line under construction, on the caller's stack. */
struct logbuf {
    char *buf;  /* start of the line */
    size_t len; /* bytes written so far */
    size_t lim; /* soft limit: cap minus LOG_RESERVE */
    size_t cap; /* hard capacity of buf */
    bool trunc; /* something did not fit; nothing more is appended softly */
};

/* ---- buffer primitives ---- */

/* Append 'n' bytes within the soft limit, all or nothing; false (and trunc) if they do not fit. */
static bool put(struct logbuf *b, const char *s, size_t n)
{
    if (b->trunc || n > b->lim - b->len) {
        b->trunc = true;
        return false;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    return true;
}

/* Append into the reserved tail; callers guarantee the reserve is big enough. */
static void put_force(struct logbuf *b, const char *s, size_t n)
{
    if (n > b->cap - b->len)
        n = b->cap - b->len; /* cannot happen with LOG_RESERVE sized right */
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}

static bool put_cstr(struct logbuf *b, const char *s)
{
    return put(b, s, strlen(s));
}

/*
 * Append 's' as the inside of a JSON string: quote, backslash and control
 * characters escaped, invalid UTF-8 bytes replaced by \ufffd.  Each character
 * is appended whole or not at all; returns false at the first one that does not fit.
 * Because a NUL ends 's' and is never a continuation byte, utf8_seq_len() stops
 * at it and never reads past it.
 */
static bool put_json_chars(struct logbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        unsigned char c = *p;
        size_t n = 1; /* input bytes consumed */
        bool ok;

        if (c == '"') {
            ok = put(b, "\\\"", 2);
        } else if (c == '\\') {
            ok = put(b, "\\\\", 2);
        } else if (c == '\n') {
            ok = put(b, "\\n", 2);
        } else if (c == '\r') {
            ok = put(b, "\\r", 2);
        } else if (c == '\t') {
            ok = put(b, "\\t", 2);
        } else if (c < 0x20 || c == 0x7f) {
            /* DEL is legal JSON, but escaping it keeps terminals sane. */
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0x0f]};
            ok = put(b, u, sizeof(u));
        } else if ((n = utf8_seq_len(p, 4)) == 0) {
            n = 1;
            ok = put(b, "\\ufffd", 6);
        } else {
            ok = put(b, (const char *)p, n);
        }
        if (!ok)
            return false;
        p += n;
    }
    return true;
}

/* Append 's' as a whole JSON string, or nothing at all. */
static bool put_json_str(struct logbuf *b, const char *s)
{
    size_t mark = b->len;

    if (put(b, "\"", 1) && put_json_chars(b, s) && put(b, "\"", 1))
        return true;
    b->len = mark;
    return false;
}

/* Append 's' as a JSON string, cut short if needed: once the opening quote is
 * in, the closing quote always follows (from the reserve).  False if not even
 * the opening quote fit. */
static bool put_json_str_cut(struct logbuf *b, const char *s)
{
    if (!put(b, "\"", 1))
        return false;
    put_json_chars(b, s);
    put_force(b, "\"", 1);
    return true;
}

/* Append ,"key":"value" (or ,"key":null); the value may be cut, the key never is. */
static void put_json_pair(struct logbuf *b, const char *key, const char *val)
{
    size_t mark = b->len;

    if (!put(b, ",", 1) || !put_json_str(b, key ? key : "") || !put(b, ":", 1))
        goto out_rollback;
    if (val == NULL ? put(b, "null", 4) : put_json_str_cut(b, val))
        return;
out_rollback:
    b->len = mark;
}

/* True when a text-mode value must be quoted to stay one unambiguous token. */
static bool text_needs_quotes(const char *s)
{
    if (*s == '\0')
        return true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p >= 0x7f)
            return true;
    }
    return false;
}

/* Append a text-mode token: as is when safe, else as a JSON-escaped quoted string
 * (so a value can never forge a newline or another key=value). */
static void put_text_token(struct logbuf *b, const char *s)
{
    if (!text_needs_quotes(s))
        put_cstr(b, s);
    else
        put_json_str_cut(b, s);
}

/* Append this thread's trace_id and span_id, if it has a trace. */
static void put_trace(struct logbuf *b, bool text)
{
    if (!log_trace_id[0])
        return;
    if (!text) {
        put_json_pair(b, "trace_id", log_trace_id);
        put_json_pair(b, "span_id", log_span_id);
        return;
    }
    put_cstr(b, " trace_id=");
    put_cstr(b, log_trace_id);
    put_cstr(b, " span_id=");
    put_cstr(b, log_span_id);
}

/* ---- timestamps ---- */

/* Append 'v' as exactly 'width' decimal digits (zero-padded). */
static bool put_digits(struct logbuf *b, unsigned long v, int width)
{
    char d[20];

    if (width > (int)sizeof(d))
        width = (int)sizeof(d);
    for (int i = width - 1; i >= 0; i--) {
        d[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return put(b, d, (size_t)width);
}

/* Append the current UTC time as RFC 3339 with milliseconds: 2026-11-21T23:47:00.123Z.
 * The civil date comes from Howard Hinnant's days-to-civil algorithm, so no
 * gmtime_r(), which may take the tz lock and load zone files on first use. */
static void put_timestamp(struct logbuf *b)
{
    struct timespec ts;
    int64_t secs, days, sod, z, era, doe, yoe, y, doy, mp, d, m;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0) {
        ts.tv_sec = 0;
        ts.tv_nsec = 0;
    }
    secs = (int64_t)ts.tv_sec;
    days = secs / 86400;
    sod = secs % 86400;

    z = days + 719468;
    era = z / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += (m <= 2);

    put_digits(b, (unsigned long)y, 4);
    put(b, "-", 1);
    put_digits(b, (unsigned long)m, 2);
    put(b, "-", 1);
    put_digits(b, (unsigned long)d, 2);
    put(b, "T", 1);
    put_digits(b, (unsigned long)(sod / 3600), 2);
    put(b, ":", 1);
    put_digits(b, (unsigned long)(sod / 60 % 60), 2);
    put(b, ":", 1);
    put_digits(b, (unsigned long)(sod % 60), 2);
    put(b, ".", 1);
    put_digits(b, (unsigned long)(ts.tv_nsec / 1000000), 3);
    put(b, "Z", 1);
}

/* ---- public API ---- */

/*
 * Set the service name written as "svc" (copied, cut to 63 bytes; NULL keeps
 * "taskwire"), the lowest level written, and the format (text = true for
 * "TS LEVEL msg key=value", else JSON lines).
 *
 * Not thread-safe: call once from main() before starting threads; log_msg()
 * reads these settings without locks.
 */
void log_init(const char *svc, enum log_level min, bool text)
{
    if (svc != NULL) {
        size_t n = strnlen(svc, sizeof(log_svc) - 1);
        memcpy(log_svc, svc, n);
        log_svc[n] = '\0';
    }
    log_min = min;
    log_text = text;
}

/* Set (or with a NULL, clear) the trace ids this thread's lines carry. */
void log_set_trace(const char *trace_id, const char *span_id)
{
    if (!trace_id || !span_id) {
        log_trace_id[0] = log_span_id[0] = '\0';
        return;
    }
    size_t t = strnlen(trace_id, sizeof(log_trace_id) - 1);
    size_t s = strnlen(span_id, sizeof(log_span_id) - 1);
    memcpy(log_trace_id, trace_id, t);
    log_trace_id[t] = '\0';
    memcpy(log_span_id, span_id, s);
    log_span_id[s] = '\0';
}

/*
 * Parse "debug", "info", "warn" or "error" (exactly, lowercase) into *out.
 * Returns 0, or -LOG_EINVALID for anything else (including NULL) with *out
 * untouched.
 * Thread-safe.
 */
int log_level_parse(const char *s, enum log_level *out)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};

    if (s == NULL)
        return -LOG_EINVALID;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -LOG_EINVALID;
}

/* Write the whole line, retrying EINTR and short writes; errors are dropped
 * because there is nowhere left to report them. */
static void log_write(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

/*
 * Write one line to stderr if 'level' is at or above the threshold: in JSON,
 * {"ts":...,"level":...,"svc":...,"msg":...} followed by the key/value string
 * pairs given after 'msg' and ended by a NULL key (the LOG_* macros add it).
 * A NULL value is written as null; a NULL msg as "".  Keys are not
 * de-duplicated, so do not pass "ts", "level", "svc" or "msg".
 *
 * Lines longer than 4 KiB are cut at a character boundary and marked with
 * "truncated":true (text mode: " truncated=true").  Borrows every argument;
 * allocates nothing; preserves errno.  Thread-safe once log_init() has run.
 */
void log_msg(enum log_level level, const char *msg, ...)
{
    static const char *const json_names[] = {"debug", "info", "warn", "error"};
    static const char *const text_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    char line[LOG_LINE_MAX];
    struct logbuf b = {.buf = line,
                       .len = 0,
                       .lim = LOG_LINE_MAX - LOG_RESERVE,
                       .cap = LOG_LINE_MAX,
                       .trunc = false};
    int saved_errno = errno;
    const char *key;
    va_list ap;

    if (level < log_min)
        return;
    if ((unsigned)level > LOGL_ERROR)
        level = LOGL_ERROR; /* an out-of-range level is a bug; make it loud, not lost */
    if (msg == NULL)
        msg = "";

    va_start(ap, msg);
    if (log_text) {
        put_timestamp(&b);
        put(&b, " ", 1);
        put_cstr(&b, text_names[level]);
        put(&b, " ", 1);
        put_json_chars(&b, msg); /* escaped, unquoted: stays on one line */
        put_trace(&b, true);
        while (!b.trunc && (key = va_arg(ap, const char *)) != NULL) {
            const char *val = va_arg(ap, const char *);
            size_t mark = b.len;
            if (!put(&b, " ", 1) || !put_json_chars(&b, key) || !put(&b, "=", 1)) {
                b.len = mark;
                break;
            }
            put_text_token(&b, val ? val : "null");
        }
        if (b.trunc)
            put_force(&b, " truncated=true", 15);
    } else {
        put(&b, "{\"ts\":\"", 7);
        put_timestamp(&b);
        put(&b, "\",\"level\":\"", 11);
        put_cstr(&b, json_names[level]);
        put(&b, "\",\"svc\":", 8);
        put_json_str(&b, log_svc);
        put(&b, ",\"msg\":", 7);
        put_json_str_cut(&b, msg);
        put_trace(&b, false);
        while (!b.trunc && (key = va_arg(ap, const char *)) != NULL)
            put_json_pair(&b, key, va_arg(ap, const char *));
        if (b.trunc)
            put_force(&b, ",\"truncated\":true", 17);
        put_force(&b, "}", 1);
    }
    va_end(ap);
    put_force(&b, "\n", 1);

    log_write(line, b.len);
    errno = saved_errno;
}
