/*
 * twload_run.h - the engine of twload: threads with an epoll loop each, keep-alive
 * connections with one request in flight, the five load modes and their figures.
 *
 * twload.c reads the options, builds the targets' request templates and reports; this module
 * only sends, times and counts.  It never retries a request: a failed connection is counted
 * and opened again.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_TWLOAD_RUN_H
#define TASKWIRE_TWLOAD_RUN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"
#include "twload_parse.h"

enum twload_mode {
    TWLOAD_CREATE,   /* closed loop of task-augmented tools/call */
    TWLOAD_GET,      /* closed loop of tasks/get over known ids */
    TWLOAD_E2E,      /* create, poll tasks/get until terminal, repeat */
    TWLOAD_DISPATCH, /* open-loop creates, then fetch each for bench_probe's start time */
    TWLOAD_CANCEL,   /* open-loop creates, each cancelled a fixed time after its ack */
};

enum twload_run_error {
    TWLOAD_RUN_ESYS = 1, /* a system call needed to start failed (epoll, threads, memory) */
};

/* One URL connections go to, with its requests' templates. */
struct twload_target {
    struct sockaddr_storage addr; /* resolved address */
    socklen_t addr_len;           /* bytes of addr */
    const char *url;              /* borrowed, for the report */
    struct twload_tmpl create;    /* tools/call of the tool (Mcp-Name: the tool) */
    struct twload_tmpl get;       /* tasks/get (Mcp-Name: the task id) */
    struct twload_tmpl cancel;    /* tasks/cancel (Mcp-Name: the task id) */
};

/* What to run; filled by twload.c, read-only while running. */
struct twload_config {
    enum twload_mode mode;               /* the load */
    const struct twload_target *targets; /* borrowed; connection i goes to targets[i % n] */
    int ntargets;                        /* at least 1 */
    int conns;                           /* connections in all */
    int threads;                         /* threads, 1..conns; connection i on thread i % n */
    double duration_s;                   /* measured window */
    double warmup_s;                     /* before it, nothing is counted */
    double rate;                         /* dispatch, cancel: creates per second in all */
    double drain_s;                      /* dispatch, cancel: longest phase after the window */
    int poll_ms;                         /* e2e, dispatch fetch: gap between tasks/get */
    int cancel_after_ms;                 /* cancel: from the create's ack to the cancel */
    int timeout_ms;                      /* longest wait for a connect or an answer */
    const char *tool;                    /* Mcp-Name of the creates */
    char (*ids)[TWLOAD_TASK_ID_MAX + 1]; /* get: borrowed task ids */
    size_t nids;                         /* get: how many */
    bool keep_made;                      /* keep created ids (for --ids-out) */
};

/* A task this run created. */
struct twload_made {
    char id[TWLOAD_TASK_ID_MAX + 1]; /* its task id */
    int64_t ack_unix_us;             /* CLOCK_REALTIME when the CreateTaskResult was read */
    int64_t cancel_ack_unix_us;      /* cancel: when the cancel's answer was read; 0 before */
    int64_t started_at_us;           /* dispatch: the tool's startedAtUs; 0 until fetched */
    bool counted;                    /* acknowledged inside the measured window */
};

#define TWLOAD_ERRKINDS 32 /* distinct error kinds kept; more go to "other" */

/* An error kind and how often it happened. */
struct twload_errkind {
    char name[24]; /* e.g. "http_429", "rpc_-32602", "connect", "timeout" */
    uint64_t n;    /* occurrences */
};

/* The figures of a run (per thread while running, then merged). */
struct twload_stats {
    uint64_t ok;                                 /* successes counted (see README) */
    uint64_t created;                            /* dispatch, cancel: creates acked */
    uint64_t late;                               /* open loops: sends > 1 ms after schedule */
    uint64_t late_max_us;                        /* the largest such lateness */
    uint64_t before_ack;                         /* dispatch: tool started before the ack */
    uint64_t unfinished;                         /* tasks or cancels left at the end */
    uint64_t reconnects;                         /* connections opened again */
    struct twload_errkind errs[TWLOAD_ERRKINDS]; /* errors by kind */
    int nerrs;                                   /* kinds used in errs */
    struct twload_hist lat;                      /* the mode's main latency */
    struct twload_hist create_lat;               /* e2e: create latency */
    struct twload_hist dispatch;                 /* dispatch: startedAtUs - ack */
    struct twload_hist cancel_ack;               /* cancel: cancel answered - cancel due */
};

/* What twload_run() hands back. */
struct twload_result {
    struct twload_stats *stats; /* owned: the merged figures */
    struct twload_made *made;   /* owned: created tasks (dispatch, cancel, or keep_made) */
    size_t nmade;               /* entries of made */
    double window_s;            /* the measured window actually run (Ctrl-C shortens it) */
};

/* Set from a signal handler: end the measured window now. */
extern atomic_bool twload_stop;

/* Run the load 'cfg' describes to its end; 0 with *out filled (release with
 * twload_result_fini()), or -TWLOAD_RUN_ESYS with 'e' saying what could not start. */
MUST_CHECK int twload_run(const struct twload_config *cfg, struct twload_result *out,
                          struct err *e);
/* Free what twload_run() put into 'r'. */
void twload_result_fini(struct twload_result *r);
/* Count one error of 'kind' in 'st'. */
void twload_stats_error(struct twload_stats *st, const char *kind);

#endif
