/*
 * elicit.h - answering a task's input requests (form elicitation) on the terminal.
 *
 * Only elicitation/create with a flat requestedSchema can be answered: each
 * property is asked for on stderr and read from stdin until the answer fits
 * its type and enum.  Anything else (sampling, roots, no terminal, end of
 * input) is refused with -ELICIT_ECANNOT so that the caller can cancel the
 * task with a clear message.  elicit_parse_answer() is pure and unit tested;
 * elicit_answer() reads the terminal.  Not thread-safe.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CLI_ELICIT_H
#define TASKWIRE_CLI_ELICIT_H

#include <signal.h>
#include <stdbool.h>

#include <jansson.h>

#include "err.h"
#include "ui.h"

enum elicit_error {
    ELICIT_ECANNOT = 1, /* cannot be answered here: method, no terminal, end of input */
    ELICIT_EINTR,       /* *interrupted became non-zero while asking */
    ELICIT_ENOMEM,      /* allocation failed */
};

/* Where answers come from; every pointer is borrowed. */
struct elicit {
    struct ui *ui;                            /* messages and prompts go through it */
    bool interactive;                         /* stdin is a terminal: prompts may be asked */
    const volatile sig_atomic_t *interrupted; /* SIGINT flag, or NULL */
};

/* Answer the input requests not yet in 'answered'; 0 and new responses object, or -ELICIT_E*. */
MUST_CHECK int elicit_answer(const struct elicit *e, const json_t *requests, json_t *answered,
                             json_t **responses, struct err *err);
/* The value a typed line gives for a property 'schema' (new reference), or NULL if invalid. */
json_t *elicit_parse_answer(const char *line, const json_t *schema);

#endif
