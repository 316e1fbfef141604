/*
 * twload_parse.h - the pure parts of twload: HTTP/1.1 response framing, a log-linear
 * latency histogram, request templates and a skim of the JSON-RPC replies.
 *
 * Nothing here does I/O, allocates or keeps global state, so the load generator's hot path
 * stays cheap and every piece is unit-tested (tests/unit/bench/test_twload_parse.c).  The
 * reply skim reads only the members twload needs; it does not validate the whole document.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_TWLOAD_PARSE_H
#define TASKWIRE_TWLOAD_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum twload_error {
    TWLOAD_EPROTO = 1, /* not a well-formed HTTP response or JSON-RPC reply */
    TWLOAD_ETOOBIG,    /* a header block, number or output larger than allowed */
};

#define TWLOAD_HTTP_MAX_HEADER 16384 /* a header block past this is refused */
#define TWLOAD_TASK_ID_MAX     63    /* longest task id twload keeps */

/* ---- HTTP/1.1 responses ---- */

/* Framing of one response; reset with twload_http_reset() before each response. */
struct twload_http {
    size_t hdr_len;           /* status line and headers with the blank line; 0 until seen */
    int status;               /* the HTTP status code */
    long long content_length; /* Content-Length, or -1 when absent */
    bool chunked;             /* Transfer-Encoding: chunked */
    bool close;               /* Connection: close, or HTTP/1.0 without keep-alive */
    bool event_stream;        /* Content-Type: text/event-stream */
    bool until_close;         /* neither length nor chunked: the body ends with the connection */
    size_t body_off;          /* where the body starts (after de-chunking, too) */
    size_t body_len;          /* bytes of the body (de-chunked) */
    size_t msg_len;           /* bytes of the whole response as it came on the wire */
};

/* Forget a previous response. */
void twload_http_reset(struct twload_http *h);
/* 1 when buf[0..len) holds a whole response (a chunked body is de-chunked in place), 0 when
 * more bytes are needed, -TWLOAD_EPROTO or -TWLOAD_ETOOBIG. */
MUST_CHECK int twload_http_parse(struct twload_http *h, char *buf, size_t len);
/* The last "data:" line of an event-stream body: 0 with *data and *data_len set, or
 * -TWLOAD_EPROTO when there is none. */
MUST_CHECK int twload_sse_last_data(const char *body, size_t len, const char **data,
                                    size_t *data_len);

/* ---- latency histogram ---- */

#define TWLOAD_HIST_SUB_BITS 8  /* 2^8 linear steps per power of two: error below 0.8 % */
#define TWLOAD_HIST_BITS     36 /* values up to 2^36 - 1 us (19 hours); larger are clamped */
#define TWLOAD_HIST_BUCKETS                                                                        \
    ((TWLOAD_HIST_BITS - TWLOAD_HIST_SUB_BITS + 2) << (TWLOAD_HIST_SUB_BITS - 1))

/* A log-linear histogram of microsecond values (HdrHistogram-like): exact below 256 us,
 * then 128 buckets per power of two.  Fixed size; zero-initialise or twload_hist_init(). */
struct twload_hist {
    uint64_t counts[TWLOAD_HIST_BUCKETS]; /* samples per bucket */
    uint64_t n;                           /* samples */
    uint64_t sum_us;                      /* their sum (for the mean) */
    uint64_t min_us;                      /* smallest sample (valid when n > 0) */
    uint64_t max_us;                      /* largest sample, exact (clamped at the top) */
};

/* Empty 'h'. */
void twload_hist_init(struct twload_hist *h);
/* Add one sample of 'us' microseconds. */
void twload_hist_record(struct twload_hist *h, uint64_t us);
/* Add every sample of 'src' to 'dst'. */
void twload_hist_merge(struct twload_hist *dst, const struct twload_hist *src);
/* The value at percentile 'pct' (0-100]: the highest value of its bucket, never above the
 * largest sample; 0 for an empty histogram. */
uint64_t twload_hist_percentile(const struct twload_hist *h, double pct);
/* The bucket of 'us'. */
size_t twload_hist_index(uint64_t us);
/* The highest value that falls into bucket 'idx'. */
uint64_t twload_hist_highest(size_t idx);

/* ---- request templates ---- */

/* A constant piece of a request. */
struct twload_piece {
    const char *s; /* borrowed; NULL only for an unused piece */
    size_t len;    /* bytes of s */
};

/*
 * A request: head + NAME + "\r\nContent-Length: N\r\n\r\n" + body_pre + ID + body_mid
 * [+ NAME + body_post].  head ends with "Mcp-Name: "; NAME goes into the body too when
 * body_post.s is not NULL (tasks/get, tasks/cancel).
 */
struct twload_tmpl {
    struct twload_piece head;      /* request line and headers up to the Mcp-Name value */
    struct twload_piece body_pre;  /* body up to the JSON-RPC id */
    struct twload_piece body_mid;  /* after the id: up to the task id, or the rest of the body */
    struct twload_piece body_post; /* after the task id; s == NULL: no name in the body */
};

/* Write the request of 't' with JSON-RPC id 'id' and name 'name' into out[0..cap): its
 * length, or -TWLOAD_ETOOBIG when it does not fit. */
MUST_CHECK long twload_req_build(char *out, size_t cap, const struct twload_tmpl *t, uint64_t id,
                                 const char *name, size_t name_len);
/* Bytes twload_req_build() needs at most for 't' and a name of 'name_len' bytes. */
size_t twload_req_size(const struct twload_tmpl *t, size_t name_len);
/* True when s[0..n) is 1..TWLOAD_TASK_ID_MAX chars, each safe in a header and a JSON string
 * without escaping (letters, digits, '-', '_', '.', ':', '~'). */
bool twload_task_id_ok(const char *s, size_t n);

/* ---- JSON-RPC replies ---- */

/* A task status as tasks/get and CreateTaskResult report it. */
enum twload_status {
    TWLOAD_ST_NONE,           /* no status member */
    TWLOAD_ST_WORKING,        /* "working" */
    TWLOAD_ST_INPUT_REQUIRED, /* "input_required" */
    TWLOAD_ST_COMPLETED,      /* "completed" */
    TWLOAD_ST_FAILED,         /* "failed" */
    TWLOAD_ST_CANCELLED,      /* "cancelled" */
    TWLOAD_ST_OTHER,          /* any other string */
};

/* What twload needs of one reply. */
struct twload_reply {
    bool is_error;                        /* an "error" member */
    long long error_code;                 /* error.code (0 when absent) */
    bool has_result;                      /* a "result" object */
    char task_id[TWLOAD_TASK_ID_MAX + 1]; /* result.taskId, NUL-terminated; "" when absent */
    enum twload_status status;            /* result.status */
    bool has_started_at;                  /* result.result.structuredContent.startedAtUs */
    int64_t started_at_us;                /* its value (bench_probe's CLOCK_REALTIME start) */
};

/* Skim the JSON-RPC reply body[0..len) into *r: 0, or -TWLOAD_EPROTO when it is not a JSON
 * object (a result.taskId that twload_task_id_ok() refuses is left out). */
MUST_CHECK int twload_reply_parse(const char *body, size_t len, struct twload_reply *r);
/* True when 'st' is completed, failed or cancelled. */
bool twload_status_terminal(enum twload_status st);

/* A worker log line saying that bench_probe saw its cancel: true with task_id (of
 * TWLOAD_TASK_ID_MAX + 1 bytes) and *seen_at_us filled when line[0..len) is a JSON object with
 * "msg":"bench probe saw the cancel", a "task_id" string and a "seen_at_us" integer (or a
 * string of one). */
bool twload_probe_line(const char *line, size_t len, char *task_id, int64_t *seen_at_us);

#endif
