/*
 * ui.h - what 'taskwire call' shows a person: progress on stderr, results on stdout.
 *
 * On a terminal the progress is one bar redrawn in place; otherwise one line
 * per change, so logs stay readable.  Every string that came from the server
 * passes through ui_sanitize() before it reaches a terminal, so a tool cannot
 * send escape sequences.  The helpers in the first part are pure (no I/O, no
 * globals) and unit tested; the struct ui functions write to stderr/stdout.
 * Not thread-safe.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CLI_UI_H
#define TASKWIRE_CLI_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

#define UI_BAR_CELLS 30 /* '#'/'-' cells between the brackets */

/* ---- pure helpers ---- */

/* Copy at most 'max' bytes of 'src' (NULL = "") into 'dst' ('size' bytes), cut at a
 * character boundary, control characters replaced by '?'. */
void ui_sanitize(char *dst, size_t size, const char *src, size_t max);
/* Find "a/b" (first pair of integers around a '/') in text; true if found. */
bool ui_progress_from_text(const char *text, double *progress, double *total);
/* Progress of a task/tasks/get result (borrowed): _meta progress, else statusMessage "a/b". */
bool ui_progress_extract(const json_t *task, double *progress, double *total);
/* Render "[###---]  50%  label  (3.1s)" into buf; returns strlen(buf). */
size_t ui_bar_render(char *buf, size_t size, double progress, double total, const char *label,
                     double elapsed_s);
/* Describe a non-text content item ("[image image/png, 1234 bytes base64]"); strlen(buf). */
size_t ui_content_describe(const json_t *item, char *buf, size_t size);

/* ---- the terminal ---- */

/* What is shown on stderr while we wait; caller-allocated, set up by ui_init(). */
struct ui {
    bool enabled;           /* --no-progress not given */
    bool tty;               /* stderr is a terminal: redraw one line */
    bool drawn;             /* a bar is on screen without its final newline */
    int64_t start_ms;       /* when the call started, for the elapsed time */
    char last_message[256]; /* last status message printed (non-TTY mode) */
    double last_progress;   /* last progress printed (non-TTY mode) */
    double last_total;      /* last total printed (non-TTY mode) */
};

/* Start the clock; 'enabled' false shows no progress (messages are still shown). */
void ui_init(struct ui *u, bool enabled);
/* End a drawn bar with its newline so other stderr output starts clean. */
void ui_break(struct ui *u);
/* Show progress ('have': progress/total are known); 'message' may be NULL. */
void ui_update(struct ui *u, bool have, double progress, double total, const char *message);
/* Print one line on stderr without mangling the bar. */
PRINTF_LIKE(2, 3) void ui_say(struct ui *u, const char *fmt, ...);
/* Print a CallToolResult (borrowed) on stdout; true when its isError is true. */
bool ui_print_result(struct ui *u, const json_t *result);

#endif
