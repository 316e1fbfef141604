/*
 * twload_parse.c - HTTP/1.1 response framing, the latency histogram, request templates and
 * the JSON-RPC reply skim of twload.
 *
 * The HTTP parser is re-run on the whole buffer each time bytes arrive (responses are small);
 * it keeps only the header verdict between calls and de-chunks a body in place once the whole
 * response is there.  The JSON skim walks the top-level object and the few nested ones twload
 * reads, skipping every other value by bracket depth: strings, escapes and nesting are
 * honoured, the rest of the grammar is not checked.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "twload_parse.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#define CHUNK_LINE_MAX 1024 /* a chunk-size line (with extensions) longer than this is refused */

/* ---- HTTP/1.1 responses ---- */

/* Forget a previous response: 'h' is ready for the next one. */
void twload_http_reset(struct twload_http *h)
{
    memset(h, 0, sizeof(*h));
    h->content_length = -1;
}

static bool name_is(const char *s, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(s, name, n) == 0;
}

/* True when the header value v[0..n) holds 'token' (case-insensitive). */
static bool value_has(const char *v, size_t n, const char *token)
{
    size_t t = strlen(token);
    for (size_t i = 0; i + t <= n; i++)
        if (strncasecmp(v + i, token, t) == 0)
            return true;
    return false;
}

static int parse_length(const char *v, size_t n, long long *out)
{
    if (n == 0 || n > 18)
        return -TWLOAD_EPROTO;
    long long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -TWLOAD_EPROTO;
        x = x * 10 + (v[i] - '0');
    }
    if (*out >= 0 && *out != x)
        return -TWLOAD_EPROTO; /* two different Content-Lengths */
    *out = x;
    return 0;
}

/* One header line 'line[0..n)' (without its CRLF) into 'h'. */
static int parse_header(struct twload_http *h, const char *line, size_t n)
{
    const char *colon = memchr(line, ':', n);
    if (!colon || colon == line || line[0] == ' ' || line[0] == '\t')
        return -TWLOAD_EPROTO; /* no name, or an obsolete folded line */
    size_t nlen = (size_t)(colon - line);
    const char *v = colon + 1;
    size_t vlen = n - nlen - 1;
    while (vlen && (*v == ' ' || *v == '\t'))
        v++, vlen--;
    while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
    if (name_is(line, nlen, "content-length"))
        return parse_length(v, vlen, &h->content_length);
    if (name_is(line, nlen, "transfer-encoding"))
        h->chunked = value_has(v, vlen, "chunked");
    else if (name_is(line, nlen, "connection") && value_has(v, vlen, "close"))
        h->close = true;
    else if (name_is(line, nlen, "connection") && value_has(v, vlen, "keep-alive"))
        h->close = false;
    else if (name_is(line, nlen, "content-type"))
        h->event_stream = value_has(v, vlen, "text/event-stream");
    return 0;
}

/* The "\r\n\r\n" that ends the header block in buf[0..len), or NULL. */
static const char *blank_line(const char *buf, size_t len)
{
    for (const char *p = buf, *end = buf + len; (p = memchr(p, '\r', (size_t)(end - p))); p++)
        if (end - p >= 4 && memcmp(p, "\r\n\r\n", 4) == 0)
            return p;
    return NULL;
}

/* The status line and headers buf[0..h->hdr_len). */
static int parse_head(struct twload_http *h, const char *buf)
{
    const char *p = buf;
    const char *end = buf + h->hdr_len - 2; /* the last CRLF ends the block */
    if (h->hdr_len < 14 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ')
        return -TWLOAD_EPROTO;
    for (int i = 9; i < 12; i++)
        if (p[i] < '0' || p[i] > '9')
            return -TWLOAD_EPROTO;
    if (p[12] != ' ' && p[12] != '\r')
        return -TWLOAD_EPROTO;
    h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    h->close = p[7] == '0'; /* HTTP/1.0 closes unless it says keep-alive */
    p = memchr(p, '\n', (size_t)(end - p));
    if (!p)
        return -TWLOAD_EPROTO;
    for (p++; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p) + 1);
        if (!eol || eol == p || eol[-1] != '\r')
            return -TWLOAD_EPROTO;
        int rc = parse_header(h, p, (size_t)(eol - 1 - p));
        if (rc < 0)
            return rc;
        p = eol + 1;
    }
    return 0;
}

/* A chunk-size line at buf[*pos..len): 1 with *size set and *pos past its CRLF, 0 when more
 * bytes are needed, -TWLOAD_EPROTO. */
static int chunk_line(const char *buf, size_t len, size_t *pos, size_t *size)
{
    size_t p = *pos, x = 0, digits = 0;
    for (; p < len; p++, digits++) {
        char c = buf[p];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            break;
        if (digits == 15)
            return -TWLOAD_EPROTO;
        x = x * 16 + (size_t)d;
    }
    if (p == len)
        return len - *pos > CHUNK_LINE_MAX ? -TWLOAD_EPROTO : 0;
    if (digits == 0 || (buf[p] != ';' && buf[p] != '\r' && buf[p] != ' '))
        return -TWLOAD_EPROTO;
    const char *eol = memchr(buf + p, '\n', len - p);
    if (!eol)
        return len - *pos > CHUNK_LINE_MAX ? -TWLOAD_EPROTO : 0;
    if (eol[-1] != '\r')
        return -TWLOAD_EPROTO;
    *pos = (size_t)(eol + 1 - buf);
    *size = x;
    return 1;
}

/* Whether the chunked body after the headers is complete: 1 (msg_len set), 0, or < 0. */
static int chunks_complete(struct twload_http *h, const char *buf, size_t len)
{
    size_t p = h->hdr_len, size;
    for (;;) {
        int rc = chunk_line(buf, len, &p, &size);
        if (rc <= 0)
            return rc;
        if (size == 0)
            break;
        if (len - p < size || len - p - size < 2)
            return 0;
        if (buf[p + size] != '\r' || buf[p + size + 1] != '\n')
            return -TWLOAD_EPROTO;
        p += size + 2;
    }
    for (;;) { /* trailer lines, up to the empty one */
        const char *eol = memchr(buf + p, '\n', len - p);
        if (!eol)
            return 0;
        size_t l = (size_t)(eol - (buf + p));
        if (l == 0 || eol[-1] != '\r')
            return -TWLOAD_EPROTO;
        p += l + 1;
        if (l == 1)
            break;
    }
    h->msg_len = p;
    return 1;
}

/* Move the chunks' data together right after the headers (it only ever moves left). */
static void dechunk(struct twload_http *h, char *buf, size_t len)
{
    size_t r = h->hdr_len, w = h->hdr_len, size = 0;
    while (chunk_line(buf, len, &r, &size) == 1 && size) {
        memmove(buf + w, buf + r, size);
        w += size;
        r += size + 2;
    }
    h->body_off = h->hdr_len;
    h->body_len = w - h->hdr_len;
}

/*
 * Frame the response at buf[0..len), which holds everything received so far for it.  Call
 * again with the grown buffer while it returns 0.  Returns 1 when the response is complete:
 * the body is at buf + h->body_off (h->body_len bytes; a chunked body is de-chunked in place)
 * and the response took h->msg_len bytes of 'buf'.  Returns 0 when more bytes are needed
 * (with h->until_close set once the headers say the body runs to the end of the connection:
 * the caller then takes buf[h->hdr_len..] at EOF), -TWLOAD_ETOOBIG for a header block past
 * TWLOAD_HTTP_MAX_HEADER, -TWLOAD_EPROTO for a malformed response.  1xx responses are refused.
 */
int twload_http_parse(struct twload_http *h, char *buf, size_t len)
{
    if (!h->hdr_len) {
        if (len >= 5 && memcmp(buf, "HTTP/", 5) != 0)
            return -TWLOAD_EPROTO;
        const char *e = blank_line(buf, len);
        if (!e)
            return len > TWLOAD_HTTP_MAX_HEADER ? -TWLOAD_ETOOBIG : 0;
        h->hdr_len = (size_t)(e - buf) + 4;
        if (h->hdr_len > TWLOAD_HTTP_MAX_HEADER)
            return -TWLOAD_ETOOBIG;
        int rc = parse_head(h, buf);
        if (rc < 0)
            return rc;
        if (h->status < 200)
            return -TWLOAD_EPROTO;
    }
    if (h->status == 204 || h->status == 304) {
        h->body_off = h->msg_len = h->hdr_len;
        return 1;
    }
    if (h->chunked) {
        int rc = chunks_complete(h, buf, len);
        if (rc == 1)
            dechunk(h, buf, len);
        return rc;
    }
    if (h->content_length < 0) {
        h->until_close = true;
        return 0;
    }
    if (len - h->hdr_len < (size_t)h->content_length)
        return 0;
    h->body_off = h->hdr_len;
    h->body_len = (size_t)h->content_length;
    h->msg_len = h->hdr_len + h->body_len;
    return 1;
}

/*
 * Find the last "data:" line of the event-stream body[0..len) (lines end with LF or CRLF; a
 * single space after the colon is dropped).  Returns 0 with *data pointing into 'body', or
 * -TWLOAD_EPROTO when no line starts with "data:".
 */
int twload_sse_last_data(const char *body, size_t len, const char **data, size_t *data_len)
{
    const char *p = body, *end = body + len;
    bool found = false;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        if (le - p >= 5 && memcmp(p, "data:", 5) == 0) {
            const char *s = p + 5;
            if (s < le && *s == ' ')
                s++;
            const char *e = le > s && le[-1] == '\r' ? le - 1 : le;
            *data = s;
            *data_len = (size_t)(e - s);
            found = true;
        }
        p = eol ? eol + 1 : end;
    }
    return found ? 0 : -TWLOAD_EPROTO;
}

/* ---- latency histogram ---- */

#define HIST_HALF (1u << (TWLOAD_HIST_SUB_BITS - 1)) /* buckets per power of two */
#define HIST_TOP  ((UINT64_C(1) << TWLOAD_HIST_BITS) - 1)

/* Empty 'h' (it holds no pointer: a struct copy is a histogram copy). */
void twload_hist_init(struct twload_hist *h)
{
    memset(h, 0, sizeof(*h));
}

/*
 * The bucket of 'us': values below 2^SUB_BITS have a bucket each; above, a value with its
 * highest bit at 'msb' keeps its top SUB_BITS bits and the bucket is (msb - SUB_BITS + 1) *
 * HALF + those bits, so buckets run on without a gap.  Values past HIST_TOP share the last.
 */
size_t twload_hist_index(uint64_t us)
{
    if (us > HIST_TOP)
        us = HIST_TOP;
    if (us < (UINT64_C(1) << TWLOAD_HIST_SUB_BITS))
        return (size_t)us;
    int msb = 63 - __builtin_clzll(us);
    int shift = msb - TWLOAD_HIST_SUB_BITS + 1;
    return (size_t)shift * HIST_HALF + (size_t)(us >> shift);
}

/* The highest value of bucket 'idx' (the inverse of twload_hist_index()). */
uint64_t twload_hist_highest(size_t idx)
{
    if (idx < 2 * HIST_HALF)
        return idx;
    size_t shift = idx / HIST_HALF - 1;
    uint64_t sub = idx % HIST_HALF + HIST_HALF;
    return ((sub + 1) << shift) - 1;
}

/* Add one sample; constant time, no allocation.  Not thread-safe: one histogram per thread,
 * merged at the end. */
void twload_hist_record(struct twload_hist *h, uint64_t us)
{
    if (us > HIST_TOP)
        us = HIST_TOP;
    h->counts[twload_hist_index(us)]++;
    if (!h->n || us < h->min_us)
        h->min_us = us;
    if (us > h->max_us)
        h->max_us = us;
    h->n++;
    h->sum_us += us;
}

/* Add every sample of 'src' to 'dst'. */
void twload_hist_merge(struct twload_hist *dst, const struct twload_hist *src)
{
    if (!src->n)
        return;
    for (size_t i = 0; i < TWLOAD_HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    if (!dst->n || src->min_us < dst->min_us)
        dst->min_us = src->min_us;
    if (src->max_us > dst->max_us)
        dst->max_us = src->max_us;
    dst->n += src->n;
    dst->sum_us += src->sum_us;
}

/*
 * The value below or at which 'pct' percent of the samples lie: the highest value of the
 * bucket holding the sample of rank ceil(pct/100 * n), capped at the largest sample (so
 * pct >= 100 gives the exact maximum).  0 for an empty histogram.
 */
uint64_t twload_hist_percentile(const struct twload_hist *h, double pct)
{
    if (!h->n)
        return 0;
    if (pct >= 100.0)
        return h->max_us;
    double want = pct / 100.0 * (double)h->n;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want)
        rank++;
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < TWLOAD_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t v = twload_hist_highest(i);
            return v < h->max_us ? v : h->max_us;
        }
    }
    return h->max_us;
}

/* ---- request templates ---- */

#define CL_HEADER "\r\nContent-Length: "

static size_t put(char *out, const struct twload_piece *p)
{
    memcpy(out, p->s, p->len);
    return p->len;
}

/* Decimal digits of 'v' into out (at least 20 bytes); returns how many. */
static size_t put_u64(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* The most bytes twload_req_build() writes for 't' and a name of 'name_len' bytes. */
size_t twload_req_size(const struct twload_tmpl *t, size_t name_len)
{
    return t->head.len + name_len + strlen(CL_HEADER) + 20 + 4 + t->body_pre.len + 20 +
           t->body_mid.len + (t->body_post.s ? name_len + t->body_post.len : 0);
}

/*
 * Write the request of template 't' with JSON-RPC id 'id' and 'name' (the Mcp-Name value,
 * also put into the body when t->body_post.s is set) into out[0..cap).  Returns its length,
 * or -TWLOAD_ETOOBIG (with 'out' partly written) when twload_req_size() passes 'cap'.  The
 * name must already be safe in a header and a JSON string (twload_task_id_ok()).
 */
long twload_req_build(char *out, size_t cap, const struct twload_tmpl *t, uint64_t id,
                      const char *name, size_t name_len)
{
    if (twload_req_size(t, name_len) > cap)
        return -TWLOAD_ETOOBIG;
    char idtxt[20];
    size_t idlen = put_u64(idtxt, id);
    size_t body = t->body_pre.len + idlen + t->body_mid.len +
                  (t->body_post.s ? name_len + t->body_post.len : 0);
    size_t n = put(out, &t->head);
    memcpy(out + n, name, name_len);
    n += name_len;
    memcpy(out + n, CL_HEADER, strlen(CL_HEADER));
    n += strlen(CL_HEADER);
    n += put_u64(out + n, body);
    memcpy(out + n, "\r\n\r\n", 4);
    n += 4;
    n += put(out + n, &t->body_pre);
    memcpy(out + n, idtxt, idlen);
    n += idlen;
    n += put(out + n, &t->body_mid);
    if (t->body_post.s) {
        memcpy(out + n, name, name_len);
        n += name_len;
        n += put(out + n, &t->body_post);
    }
    return (long)n;
}

/* True when s[0..n) is a task id twload can put into a header and a JSON string as is. */
bool twload_task_id_ok(const char *s, size_t n)
{
    if (n == 0 || n > TWLOAD_TASK_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == ':' || c == '~';
        if (!ok)
            return false;
    }
    return true;
}

/* ---- JSON skim ---- */

/* An iterator over the members of one JSON object. */
struct jobj {
    const char *p;   /* next byte to read */
    const char *end; /* end of the document */
    bool first;      /* no member read yet */
};

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* Past the string starting at 'p' (a '"'), or NULL when it does not end. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* Past the value starting at 'p', or NULL when it does not end. */
static const char *skip_value(const char *p, const char *end)
{
    if (p >= end)
        return NULL;
    if (*p == '"')
        return skip_string(p, end);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < end) {
            if (*p == '"') {
                p = skip_string(p, end);
                if (!p)
                    return NULL;
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if ((*p == '}' || *p == ']') && --depth == 0)
                return p + 1;
            p++;
        }
        return NULL;
    }
    const char *s = p;
    while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' &&
           *p != '\r' && *p != '\n' && *p != '\0')
        p++;
    return p > s ? p : NULL;
}

static bool jobj_open(struct jobj *o, const char *v, const char *end)
{
    if (v >= end || *v != '{')
        return false;
    o->p = v + 1;
    o->end = end;
    o->first = true;
    return true;
}

/* The next member: 1 with its raw key (no quotes) and value span, 0 at the end of the object,
 * -1 when it is malformed. */
static int jobj_next(struct jobj *o, const char **key, size_t *klen, const char **val,
                     const char **vend)
{
    const char *p = skip_ws(o->p, o->end);
    if (p < o->end && *p == '}') {
        o->p = p + 1;
        return 0;
    }
    if (!o->first) {
        if (p >= o->end || *p != ',')
            return -1;
        p = skip_ws(p + 1, o->end);
    }
    o->first = false;
    if (p >= o->end || *p != '"')
        return -1;
    const char *ke = skip_string(p, o->end);
    if (!ke)
        return -1;
    *key = p + 1;
    *klen = (size_t)(ke - 1 - (p + 1));
    p = skip_ws(ke, o->end);
    if (p >= o->end || *p != ':')
        return -1;
    p = skip_ws(p + 1, o->end);
    const char *ve = skip_value(p, o->end);
    if (!ve)
        return -1;
    *val = p;
    *vend = ve;
    o->p = ve;
    return 1;
}

static bool key_is(const char *k, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(k, want, n) == 0;
}

/* The raw contents of a string value, or false when the value is not a string. */
static bool str_value(const char *v, const char *ve, const char **s, size_t *n)
{
    if (*v != '"')
        return false;
    *s = v + 1;
    *n = (size_t)(ve - v - 2);
    return true;
}

/* An integer value (a fraction is dropped; an exponent is refused). */
static bool int_value(const char *v, const char *ve, int64_t *out)
{
    bool neg = v < ve && *v == '-';
    const char *p = v + neg;
    int64_t x = 0;
    int digits = 0;
    for (; p < ve && *p >= '0' && *p <= '9'; p++) {
        if (++digits > 18)
            return false;
        x = x * 10 + (*p - '0');
    }
    if (!digits)
        return false;
    if (p < ve && *p == '.')
        for (p++; p < ve && *p >= '0' && *p <= '9'; p++)
            ;
    if (p != ve)
        return false;
    *out = neg ? -x : x;
    return true;
}

static void copy_task_id(char *dst, const char *s, size_t n)
{
    if (!twload_task_id_ok(s, n))
        n = 0;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static enum twload_status status_of(const char *s, size_t n)
{
    static const struct {
        const char *name;
        enum twload_status st;
    } names[] = {
        {"working", TWLOAD_ST_WORKING},     {"input_required", TWLOAD_ST_INPUT_REQUIRED},
        {"completed", TWLOAD_ST_COMPLETED}, {"failed", TWLOAD_ST_FAILED},
        {"cancelled", TWLOAD_ST_CANCELLED},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (key_is(s, n, names[i].name))
            return names[i].st;
    return TWLOAD_ST_OTHER;
}

/* The member 'key' of the object at v[..end): its value span, or false. */
static bool member(const char *v, const char *end, const char *key, const char **mv,
                   const char **mve)
{
    struct jobj o;
    const char *k;
    size_t kn;
    if (!jobj_open(&o, v, end))
        return false;
    while (jobj_next(&o, &k, &kn, mv, mve) == 1)
        if (key_is(k, kn, key))
            return true;
    return false;
}

/* result.result.structuredContent.startedAtUs of a completed bench_probe task. */
static void parse_started_at(const char *v, const char *ve, struct twload_reply *r)
{
    const char *sc, *sce, *n, *ne;
    if (member(v, ve, "structuredContent", &sc, &sce) && member(sc, sce, "startedAtUs", &n, &ne))
        r->has_started_at = int_value(n, ne, &r->started_at_us);
}

static int parse_result(const char *v, const char *ve, struct twload_reply *r)
{
    struct jobj o;
    const char *k, *mv, *mve, *s;
    size_t kn, sn;
    int rc;
    if (!jobj_open(&o, v, ve))
        return 0; /* a result that is not an object: nothing twload reads */
    r->has_result = true;
    while ((rc = jobj_next(&o, &k, &kn, &mv, &mve)) == 1) {
        if (key_is(k, kn, "taskId") && str_value(mv, mve, &s, &sn))
            copy_task_id(r->task_id, s, sn);
        else if (key_is(k, kn, "status") && str_value(mv, mve, &s, &sn))
            r->status = status_of(s, sn);
        else if (key_is(k, kn, "result"))
            parse_started_at(mv, mve, r);
    }
    return rc;
}

/*
 * Skim the JSON-RPC reply body[0..len): "error".code, and of "result" the members taskId,
 * status and result.structuredContent.startedAtUs (bench_probe's start time).  Fills *r
 * (cleared first) and returns 0, or -TWLOAD_EPROTO when the body is not a JSON object or an
 * object on the way is malformed.  No allocation; thread-safe.
 */
int twload_reply_parse(const char *body, size_t len, struct twload_reply *r)
{
    memset(r, 0, sizeof(*r));
    const char *end = body + len;
    struct jobj top;
    const char *k, *v, *ve, *cv, *cve;
    size_t kn;
    int rc;
    if (!jobj_open(&top, skip_ws(body, end), end))
        return -TWLOAD_EPROTO;
    while ((rc = jobj_next(&top, &k, &kn, &v, &ve)) == 1) {
        if (key_is(k, kn, "error")) {
            r->is_error = true;
            int64_t code;
            if (member(v, ve, "code", &cv, &cve) && int_value(cv, cve, &code))
                r->error_code = code;
        } else if (key_is(k, kn, "result") && parse_result(v, ve, r) < 0) {
            return -TWLOAD_EPROTO;
        }
    }
    return rc < 0 ? -TWLOAD_EPROTO : 0;
}

/* True for the terminal statuses: completed, failed, cancelled. */
bool twload_status_terminal(enum twload_status st)
{
    return st == TWLOAD_ST_COMPLETED || st == TWLOAD_ST_FAILED || st == TWLOAD_ST_CANCELLED;
}

/*
 * Read one worker log line (a JSON object, without its newline) written by bench_probe when
 * it saw its cancel.  Returns true and fills task_id (TWLOAD_TASK_ID_MAX + 1 bytes) and
 * *seen_at_us when the line has "msg":"bench probe saw the cancel", a valid "task_id" and a
 * "seen_at_us" integer, or a string holding one (taskwire's log writes every value as a
 * string); false for any other line.
 */
bool twload_probe_line(const char *line, size_t len, char *task_id, int64_t *seen_at_us)
{
    const char *end = line + len;
    struct jobj o;
    const char *k, *v, *ve, *s;
    size_t kn, sn;
    bool msg = false, id = false, seen = false;
    if (!jobj_open(&o, skip_ws(line, end), end))
        return false;
    while (jobj_next(&o, &k, &kn, &v, &ve) == 1) {
        if (key_is(k, kn, "msg") && str_value(v, ve, &s, &sn))
            msg = key_is(s, sn, "bench probe saw the cancel");
        else if (key_is(k, kn, "task_id") && str_value(v, ve, &s, &sn) &&
                 twload_task_id_ok(s, sn)) {
            copy_task_id(task_id, s, sn);
            id = true;
        } else if (key_is(k, kn, "seen_at_us")) {
            bool quoted = *v == '"';
            seen = int_value(v + quoted, ve - quoted, seen_at_us);
        }
    }
    return msg && id && seen;
}
