/*
 * cfg.h - settings from TASKWIRE_* environment variables, overridden by flags.
 *
 * Each program declares a table of struct cfg_opt; cfg_load() fills the
 * destinations from defaults, then the environment, then --flags, and checks
 * types and ranges.  A setting named "pg-dsn" is the variable TASKWIRE_PG_DSN
 * and the flag --pg-dsn.  Secrets may also come from TASKWIRE_<NAME>_FILE.
 * Nothing here exits or logs: main() decides.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CFG_H
#define TASKWIRE_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

enum cfg_type {
    CFG_STR,  /* dst is char ** (points into argv/environ/default, or a malloc'd file read) */
    CFG_INT,  /* dst is int64_t *, checked against [min, max] */
    CFG_BOOL, /* dst is bool *: true/false/1/0/yes/no/on/off */
};

struct cfg_opt {
    const char *name;    /* "pg-dsn": env TASKWIRE_PG_DSN, flag --pg-dsn */
    enum cfg_type type;  /* how to parse */
    const char *def;     /* default, as text; NULL means unset (CFG_STR only) */
    const char *help;    /* one line for --help */
    void *dst;           /* where the value goes */
    int64_t min, max;    /* CFG_INT range, inclusive */
    bool secret;         /* redact in --print-config; also read TASKWIRE_<NAME>_FILE */
};

enum cfg_result {
    CFG_OK = 0,    /* run the program; *argi is the first non-option argument */
    CFG_HELP,      /* --help was given */
    CFG_VERSION,   /* --version was given */
    CFG_PRINT,     /* --print-config was given (values loaded) */
    CFG_CHECK,     /* --check-config was given (values loaded and valid) */
};
#define CFG_EINVALID 1 /* returned negated: a bad value or unknown flag; err says which */

/* Fill every opt->dst; returns CFG_* >= 0 or -CFG_EINVALID.  Options end at the
 * first non-option argument or "--"; its index goes to *argi (may be NULL). */
MUST_CHECK int cfg_load(const struct cfg_opt *opts, size_t n, int argc, char **argv, int *argi,
                        struct err *err);
/* The setting named by the 'len' bytes at 'name' (not NUL-terminated), or NULL. */
const struct cfg_opt *cfg_find(const struct cfg_opt *opts, size_t n, const char *name, size_t len);
/* Print usage, then every setting with its variable, flag, default and help. */
void cfg_print_help(FILE *out, const char *usage, const struct cfg_opt *opts, size_t n);
/* Print NAME=value lines of the loaded values, secrets redacted. */
void cfg_print(FILE *out, const struct cfg_opt *opts, size_t n);
/* Free strings cfg_load read from *_FILE secrets. */
void cfg_fini(const struct cfg_opt *opts, size_t n);

#endif
