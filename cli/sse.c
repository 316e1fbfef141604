/*
 * sse.c - an incremental Server-Sent Events parser.
 *
 * Lines end in LF, CRLF or CR, and a CRLF may be split between two feeds
 * (after_cr remembers the CR).  A line that ends inside the bytes fed is
 * handled in place; only a line cut by the end of a feed is copied.  Either
 * way a line longer than max_bytes fails the same, so the outcome does not
 * depend on where the stream was split (fuzz_sse checks that).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "sse.h"

#include <stdlib.h>
#include <string.h>

/* The sse code for a failed buf_append. */
static int sse_from_buf(int rc)
{
    return rc == -BYTEBUF_ENOMEM ? -SSE_ENOMEM : -SSE_ETOOLONG;
}

/* Start a parser with no buffered bytes and the default size limit. */
void sse_init(struct sse *p)
{
    memset(p, 0, sizeof(*p));
    p->max_bytes = SSE_MAX_BYTES;
}

/* Free the parser's buffers; it may then be initialised again. */
void sse_fini(struct sse *p)
{
    bytebuf_fini(&p->line);
    bytebuf_fini(&p->data);
    memset(p, 0, sizeof(*p));
}

/* A blank line: hand the event to 'cb' (when it has data) and start a new one. */
static int sse_dispatch(struct sse *p, sse_cb *cb, void *ctx)
{
    int stop = 0;

    if (p->has_data) {
        struct bytebuf *d = &p->data;
        if (d->len > 0 && d->data[d->len - 1] == '\n')
            d->data[--d->len] = '\0';
        stop = cb(ctx, p->event[0] ? p->event : "message", d->data ? d->data : "", d->len);
    }
    p->data.len = 0;
    p->has_data = false;
    p->event[0] = '\0';
    return stop ? 1 : 0;
}

/* One "name: value" line: keep data and event, ignore the other fields. */
static int sse_field(struct sse *p, const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    size_t name_len = colon ? (size_t)(colon - line) : len;
    const char *value = colon ? colon + 1 : line + len;
    size_t value_len = (size_t)(line + len - value);
    int rc;

    if (value_len > 0 && value[0] == ' ') {
        value++;
        value_len--;
    }
    if (name_len == 4 && memcmp(line, "data", 4) == 0) {
        rc = bytebuf_append(&p->data, value, value_len, p->max_bytes);
        if (rc == 0)
            rc = bytebuf_append(&p->data, "\n", 1, p->max_bytes);
        if (rc < 0)
            return sse_from_buf(rc);
        p->has_data = true;
    } else if (name_len == 5 && memcmp(line, "event", 5) == 0) {
        size_t n = value_len < sizeof(p->event) - 1 ? value_len : sizeof(p->event) - 1;
        memcpy(p->event, value, n);
        p->event[n] = '\0';
    }
    /* "id" and "retry" are ignored: these streams cannot be resumed */
    return 0;
}

/* Handle one complete line (without its terminator), per the WHATWG rules. */
static int sse_line(struct sse *p, const char *line, size_t len, sse_cb *cb, void *ctx)
{
    if (!p->started) {
        /* a UTF-8 byte order mark may start the stream */
        p->started = true;
        if (len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
            line += 3;
            len -= 3;
        }
    }
    if (len == 0)
        return sse_dispatch(p, cb, ctx);
    if (line[0] == ':')
        return 0; /* comment, e.g. a keep-alive */
    return sse_field(p, line, len);
}

/*
 * Parse 'len' bytes of an event stream; the bytes may be split anywhere
 * (inside a line, between CR and LF).  Lines end in LF, CRLF or CR; "data"
 * lines of one event are joined with '\n'; lines starting with ':' are
 * comments; a blank line dispatches the event to 'cb' (events without data
 * are dropped).  'cb' gets a NUL-terminated data pointer valid during the call.
 * Returns 0 when all bytes were used, 1 when 'cb' returned non-zero (the rest
 * of 'buf' is dropped), -SSE_ETOOLONG when a line or an event's data exceeds
 * p->max_bytes, or -SSE_ENOMEM; after an error the parser can only be freed.
 * Pure: touches nothing but 'p' and what 'cb' does.
 */
int sse_feed(struct sse *p, const char *buf, size_t len, sse_cb *cb, void *ctx)
{
    size_t i = 0;
    int rc;

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
            rc = bytebuf_append(&p->line, start, n, p->max_bytes);
            return rc < 0 ? sse_from_buf(rc) : 0;
        }
        p->after_cr = start[n] == '\r';
        if (p->line.len > 0) {
            rc = bytebuf_append(&p->line, start, n, p->max_bytes);
            rc = rc < 0 ? sse_from_buf(rc) : sse_line(p, p->line.data, p->line.len, cb, ctx);
            p->line.len = 0;
        } else {
            /* the same limit as for a line cut by the end of a feed */
            rc = n > p->max_bytes ? -SSE_ETOOLONG : sse_line(p, start, n, cb, ctx);
        }
        i += n + 1;
        if (rc != 0)
            return rc;
    }
    return 0;
}
