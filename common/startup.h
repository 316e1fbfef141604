/*
 * startup.h - what every taskwire daemon does before it does anything else.
 *
 * Loads the settings table (environment, then flags), answers --help,
 * --version, --print-config and --check-config, runs the program's own
 * checks, parses the log level and starts logging; and blocks the stop
 * signals so that the threads started afterwards leave them to main().
 * Never exits: main() picks exit codes.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_STARTUP_H
#define TASKWIRE_STARTUP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "cfg.h"
#include "err.h"

/* The two logging settings every daemon has, as cfg_opt table entries. */
#define STARTUP_LOG_OPTIONS(level_dst, text_dst)                                                   \
    {"log-level", CFG_STR, "info", "debug, info, warn or error", (level_dst)},                     \
    {                                                                                              \
        "log-text", CFG_BOOL, "false", "human-readable logs instead of JSON lines", (text_dst)     \
    }

enum startup_result {
    STARTUP_RUN = 0, /* settings loaded and valid, logging started: run */
    STARTUP_DONE,    /* --help, --version, --print-config or --check-config answered: exit 0 */
};
#define STARTUP_ECONFIG 1 /* returned negated: a bad setting; the reason went to stderr */

/* A program's extra validation, run after loading (also for --check-config);
 * returns 0 or a negative code with 'err' set. */
typedef int startup_check_fn(void *arg, struct err *err);

struct startup {
    const char *program;          /* "taskwire-worker": --version and error prefix */
    const char *service;          /* "worker": the svc field of log lines */
    const char *usage;            /* first paragraph of --help */
    const struct cfg_opt *opts;   /* the settings table (with STARTUP_LOG_OPTIONS) */
    size_t nopts;                 /* its entries */
    const char *const *log_level; /* where the table puts log-level */
    const bool *log_text;         /* where the table puts log-text */
    startup_check_fn *check;      /* extra validation, or NULL */
    void *check_arg;              /* its argument */
};

/* Load and check settings and start logging: STARTUP_RUN, STARTUP_DONE or -STARTUP_ECONFIG. */
MUST_CHECK int startup_begin(const struct startup *sp, int argc, char **argv);
/* Make jansson abort the process when an allocation fails instead of carrying on: jansson
 * 2.14 can drop a byte of a parsed string or of dumped JSON, or overrun a buffer, when
 * malloc fails.  A crash is safe (PostgreSQL holds every task); corruption is not.  Call
 * first thing in main(), before any JSON is made. */
void startup_json_abort_on_oom(void);
/* Block SIGTERM and SIGINT in this thread (and threads it starts later) into 'set',
 * for sigwait(); ignore SIGPIPE. */
void startup_block_signals(sigset_t *set);

#endif
