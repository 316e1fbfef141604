/*
 * ops.h - the operator commands of 'taskwire': status, top, tasks, workers.
 *
 * They read and change the cluster straight in PostgreSQL (TASKWIRE_PG_DSN,
 * common/opstore.h), never through the public endpoint.  'tasks cancel'
 * also publishes the cancel event on Redis (TASKWIRE_REDIS_ADDR, as
 * tasks/cancel does) so the worker running the task stops at once; without
 * Redis it stops at its next heartbeat.  Each command returns 0 or a
 * negative OPS_E* code (after printing why); cli/main.c picks exit codes.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CLI_OPS_H
#define TASKWIRE_CLI_OPS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cfg.h"
#include "opstore.h"

enum ops_error {
    OPS_EUSAGE = 1,   /* bad options or arguments */
    OPS_EUNAVAILABLE, /* PostgreSQL unreachable or refused a statement */
    OPS_ENOTFOUND,    /* no such task or worker */
};

/* 'taskwire status [--json] [--window-minutes N]'; argv[0] is "status". */
int ops_status(int argc, char **argv);
/* 'taskwire tasks list|show|cancel ...'; argv[0] is "tasks". */
int ops_tasks(int argc, char **argv);
/* 'taskwire workers list|drain|undrain ...'; argv[0] is "workers". */
int ops_workers(int argc, char **argv);
/* 'taskwire top'; argv[0] is "top" (cli/top.c). */
int ops_top(int argc, char **argv);

/* ---- shared by ops.c and top.c ---- */

/* Load 'opts' from the environment and argv[1..] (options may come after the positional
 * arguments); *args / *nargs are the positional ones (inside an array the caller frees
 * with free(*storage)).  0 to run, 1 when --help / --version / --print-config was
 * handled, or -OPS_EUSAGE (reported). */
int ops_load(const char *cmd, const char *usage, const struct cfg_opt *opts, size_t n,
             int argc, char **argv, char ***storage, char ***args, int *nargs);
/* Report an opstore failure of 'cmd' on stderr; the OPS_E* code for it. */
int ops_fail(const char *cmd, int rc, const struct err *e);
/* Print the status document 'st' (opstore_status()) as text tables on 'out'. */
void ops_print_status(FILE *out, const json_t *st);

#endif
