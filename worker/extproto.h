/*
 * extproto.h - the external-tool protocol, pure: the stdout line protocol,
 * the exec spec, the child's environment and stdin, the kept stderr tail and
 * the texts of outcomes.
 *
 * Everything here turns bytes and JSON into values and back, with no
 * process, no descriptor and no tool context, so it is unit tested and
 * fuzzed on its own (tests/unit/worker/test_extproto.c,
 * tests/fuzz/fuzz_exttool_line.c).  Running the child is worker/exttool.c.
 * Format: proto/tools-manifest.md.  Invariant: no text built here quotes a
 * line of tool output, and every text is valid UTF-8.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_EXTPROTO_H
#define TASKWIRE_EXTPROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define EXTPROTO_EXIT_RETRY  75   /* EX_TEMPFAIL: a transient failure, retried after a backoff */
#define EXTPROTO_MESSAGE_MAX 255  /* bytes of a status message kept (as the runner keeps) */
#define EXTPROTO_ERR_TAIL    2048 /* stderr bytes quoted in an error text */

enum extproto_error {
    EXTPROTO_EPROTO = 1, /* a stdout line that is not a protocol message */
    EXTPROTO_ESPEC,      /* an exec spec that is not valid */
    EXTPROTO_ENOMEM,     /* allocation failed */
};

/* What one stdout line of a child says. */
enum extproto_event_kind {
    EXTPROTO_EV_BLANK,    /* an empty or all-white-space line: nothing to do */
    EXTPROTO_EV_PROGRESS, /* {"progress": n, "total"?: m, "message"?: s} */
    EXTPROTO_EV_STATUS,   /* {"status": s} */
    EXTPROTO_EV_RESULT,   /* {"result": CallToolResult} */
    EXTPROTO_EV_LOG,      /* {"log": {"level"?: s, "data": any}} */
};

struct extproto_event {
    enum extproto_event_kind kind;          /* what the line is */
    double progress;                        /* PROGRESS: work done, >= 0, finite */
    double total;                           /* PROGRESS: total work, > 0, or 0 when not given */
    bool has_message;                       /* PROGRESS, STATUS: 'message' is set */
    char message[EXTPROTO_MESSAGE_MAX + 1]; /* NUL-terminated, cut at a UTF-8 boundary */
    json_t *result;                         /* RESULT: the CallToolResult; LOG: the data
                                               (new reference) */
    char level[16];                         /* LOG: the level as written, "info" when absent */
};

/* An exec spec read from the catalog: what to run and its limits. */
struct extproto_spec {
    const char *name;      /* tool name, for logs; "(unnamed)" when absent */
    const char **argv;     /* NULL-terminated; strings borrowed from the spec, array owned */
    const char *cwd;       /* working directory, or NULL for the worker's */
    const json_t *env;     /* names passed through from the worker (borrowed), or NULL */
    int64_t timeout_ms;    /* wall-clock limit */
    int64_t kill_grace_ms; /* SIGTERM to SIGKILL */
    size_t max_out;        /* stdout bytes accepted */
    size_t max_err;        /* stderr bytes kept */
};

/* Parse one stdout line ('len' bytes, without its '\n'; need not be NUL-terminated).
 * 0 with *out filled, or -EXTPROTO_EPROTO with err saying why (never quoting the line). */
MUST_CHECK int extproto_parse_line(const char *line, size_t len, struct extproto_event *out,
                                   struct err *err);
/* Release what an event holds; safe on a zeroed or failed event. */
void extproto_event_fini(struct extproto_event *ev);

/* Read and check the catalog's exec object (borrowed, must outlive *sp); 0 or
 * -EXTPROTO_ESPEC / -EXTPROTO_ENOMEM.  Release with extproto_spec_fini(). */
MUST_CHECK int extproto_spec_parse(const json_t *spec, struct extproto_spec *sp, struct err *err);
/* Release what extproto_spec_parse() allocated; safe on a failed parse. */
void extproto_spec_fini(struct extproto_spec *sp);

/* The child's environment: PATH, TASKWIRE_TASK_ID, TRACEPARENT and TRACESTATE (when
 * given) and the allowed variables that are set here (a new NULL-terminated array;
 * extproto_env_free() it), or NULL. */
char **extproto_env_new(const struct extproto_spec *sp, const char *task_id,
                        const char *traceparent, const char *tracestate);
/* Free an environment from extproto_env_new(); NULL is a no-op. */
void extproto_env_free(char **envp);

/* The child's stdin: 'args' (or {} when NULL) as compact JSON and '\n', in a new
 * allocation (free() it) of *len bytes plus a NUL; NULL when out of memory. */
char *extproto_stdin_doc(const json_t *args, size_t *len);
/* "exit status 3", "killed by signal 9 (SIGKILL)", ... for a wait status (negative:
 * unknown) in 'buf'; returns a short word for logs (static). */
const char *extproto_status_text(int wait_status, char *buf, size_t cap);
/* Append 'n' bytes to the stream tail in 'buf' (*len of 'cap' > 0 bytes used), keeping
 * only the last 'cap' bytes. */
void extproto_tail_keep(char *buf, size_t cap, size_t *len, const char *data, size_t n);
/* 'head', then ": " and the last EXTPROTO_ERR_TAIL bytes of the 'len' bytes at 'kept'
 * (may be NULL when 0) made valid UTF-8, trailing white space dropped; a new string
 * (free() it) or NULL when out of memory. */
char *extproto_error_text(const char *head, const char *kept, size_t len);

#endif
