/*
 * ui.c - progress, messages and results of 'taskwire call' on the terminal.
 *
 * Progress comes from the task's _meta (dev.taskwire/progress), else from an
 * "a/b" in its statusMessage, else from notifications/progress on a stream.
 * It does not read the terminal (elicit.c does) and does not decide what an
 * outcome means (call.c does).  Server text is sanitised before it is shown.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "ui.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "mcpdefs.h"
#include "utf8.h"

#define UI_LABEL_MAX 48 /* bytes of status message in the bar */

static const char *jstr(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* ---- pure helpers ---- */

/*
 * Copy at most 'max' bytes of 'src' (NULL counts as "") into 'dst' of 'size'
 * bytes, cut at a character boundary, replacing control characters (terminal
 * escapes) by '?'.  'dst' is NUL-terminated unless 'size' is 0.  Pure.
 */
void ui_sanitize(char *dst, size_t size, const char *src, size_t max)
{
    if (size == 0)
        return;
    if (!src)
        src = "";
    size_t cap = size - 1 < max ? size - 1 : max;
    size_t n = utf8_prefix_len(src, strnlen(src, cap + 1), cap);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    dst[n] = '\0';
}

/*
 * Find the first "a/b" in 'text' where a and b are decimal integers
 * ("step 3/8" gives 3 and 8).  Returns true and sets both, else false
 * (also for NULL).  Pure.
 */
bool ui_progress_from_text(const char *text, double *progress, double *total)
{
    for (const char *p = text ? strchr(text, '/') : NULL; p; p = strchr(p + 1, '/')) {
        const char *a = p;
        while (a > text && isdigit((unsigned char)a[-1]))
            a--;
        if (a == p || !isdigit((unsigned char)p[1]))
            continue;
        *progress = strtod(a, NULL);
        *total = strtod(p + 1, NULL);
        return true;
    }
    return false;
}

/*
 * Read progress from a task (a CreateTaskResult or tasks/get result, borrowed):
 * _meta["dev.taskwire/progress"] = {"progress":n,"total":m} when present
 * (total 0 when absent), else the first "a/b" in statusMessage.  Returns true
 * and sets both, or false when the task says nothing about progress.  Pure.
 */
bool ui_progress_extract(const json_t *task, double *progress, double *total)
{
    const json_t *p = json_object_get(json_object_get(task, "_meta"), TW_META_PROGRESS);
    if (json_is_number(json_object_get(p, "progress"))) {
        *progress = json_number_value(json_object_get(p, "progress"));
        *total = json_number_value(json_object_get(p, "total")); /* 0 when absent */
        return true;
    }
    return ui_progress_from_text(jstr(task, "statusMessage"), progress, total);
}

/* snprintf's result as the length actually in 'buf' ('size' > 0). */
static size_t written(char *buf, size_t size, int n)
{
    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)n < size ? (size_t)n : size - 1;
}

/*
 * Render one progress line into 'buf':
 * "[#########---------------------]  30%  <label>  (3.1s)".  The bar has
 * UI_BAR_CELLS cells; progress is clamped to [0, total].  A total <= 0 (or
 * not finite) means unknown: an empty bar and "  ?%".  'label' (may be NULL)
 * is shortened and stripped of control characters.  Returns strlen(buf),
 * which is at most size - 1.  Pure.
 */
size_t ui_bar_render(char *buf, size_t size, double progress, double total, const char *label,
                     double elapsed_s)
{
    char bar[UI_BAR_CELLS + 1];
    char pct[8];
    char text[UI_LABEL_MAX + 1];
    int filled = 0;
    int n;

    if (size == 0)
        return 0;
    if (total > 0 && isfinite(total) && isfinite(progress)) {
        double frac = progress / total;
        frac = frac < 0 ? 0 : frac > 1 ? 1 : frac;
        filled = (int)(frac * UI_BAR_CELLS);
        snprintf(pct, sizeof(pct), "%3d%%", (int)(frac * 100));
    } else {
        snprintf(pct, sizeof(pct), "  ?%%");
    }
    memset(bar, '#', (size_t)filled);
    memset(bar + filled, '-', (size_t)(UI_BAR_CELLS - filled));
    bar[UI_BAR_CELLS] = '\0';
    ui_sanitize(text, sizeof(text), label, UI_LABEL_MAX);
    if (text[0])
        n = snprintf(buf, size, "[%s] %s  %s  (%.1fs)", bar, pct, text, elapsed_s);
    else
        n = snprintf(buf, size, "[%s] %s  (%.1fs)", bar, pct, elapsed_s);
    return written(buf, size, n);
}

/*
 * Describe a content item that is not printed as text: image and audio as
 * "[image image/png, 1234 bytes base64]", resource_link as "[resource_link
 * URI]", an embedded resource as "[resource URI mimeType, N chars text]" or
 * "..., N bytes base64]", anything else as "[type]".  Server strings are
 * stripped of control characters.  Returns strlen(buf).  Pure.
 */
size_t ui_content_describe(const json_t *item, char *buf, size_t size)
{
    char type[32], mime[96], uri[160];
    const json_t *res = json_object_get(item, "resource");
    const char *data;
    int n;

    if (size == 0)
        return 0;
    ui_sanitize(type, sizeof(type), jstr(item, "type") ? jstr(item, "type") : "unknown", 31);
    if (json_is_object(res)) {
        ui_sanitize(uri, sizeof(uri), jstr(res, "uri"), 159);
        ui_sanitize(mime, sizeof(mime), jstr(res, "mimeType"), 95);
        if (jstr(res, "text"))
            n = snprintf(buf, size, "[%s %s%s%s, %zu chars text]", type, uri, mime[0] ? " " : "",
                         mime, strlen(jstr(res, "text")));
        else
            n = snprintf(buf, size, "[%s %s%s%s, %zu bytes base64]", type, uri, mime[0] ? " " : "",
                         mime, jstr(res, "blob") ? strlen(jstr(res, "blob")) : 0);
    } else if ((data = jstr(item, "data")) != NULL) {
        ui_sanitize(mime, sizeof(mime), jstr(item, "mimeType"), 95);
        n = snprintf(buf, size, "[%s %s, %zu bytes base64]", type, mime[0] ? mime : "?",
                     strlen(data));
    } else if (jstr(item, "uri")) {
        ui_sanitize(uri, sizeof(uri), jstr(item, "uri"), 159);
        n = snprintf(buf, size, "[%s %s]", type, uri);
    } else {
        n = snprintf(buf, size, "[%s]", type);
    }
    return written(buf, size, n);
}

/* ---- the terminal ---- */

/*
 * Set up 'u' (caller-allocated) for a call starting now: progress shown when
 * 'enabled', as a redrawn bar when stderr is a terminal.  Reads the clock and
 * isatty(2); allocates nothing, so there is no ui_fini.
 */
void ui_init(struct ui *u, bool enabled)
{
    memset(u, 0, sizeof(*u));
    u->enabled = enabled;
    u->tty = isatty(STDERR_FILENO) == 1;
    u->start_ms = clock_now_ms();
}

/* End a drawn bar with its newline so other stderr output starts clean. */
void ui_break(struct ui *u)
{
    if (u->drawn) {
        fputc('\n', stderr);
        u->drawn = false;
    }
}

/* Non-TTY progress: one line per new message or new numbers, nothing otherwise. */
static void ui_log_line(struct ui *u, bool have, double progress, double total, const char *message)
{
    if (message && *message) {
        if (strncmp(message, u->last_message, sizeof(u->last_message) - 1) == 0)
            return;
        snprintf(u->last_message, sizeof(u->last_message), "%s", message);
        char text[256];
        ui_sanitize(text, sizeof(text), message, sizeof(text) - 1);
        fprintf(stderr, "progress: %s\n", text);
    } else if (have && (progress != u->last_progress || total != u->last_total)) {
        u->last_progress = progress;
        u->last_total = total;
        fprintf(stderr, "progress: %g/%g\n", progress, total);
    }
}

/*
 * Show progress when enabled: redraw the bar on a terminal (unknown numbers
 * when 'have' is false), else print a line when the message or the numbers
 * changed.  'message' (may be NULL) is sanitised.  Writes to stderr.
 */
void ui_update(struct ui *u, bool have, double progress, double total, const char *message)
{
    if (!u->enabled)
        return;
    if (!u->tty) {
        ui_log_line(u, have, progress, total, message);
        return;
    }
    char line[256];
    double elapsed = (double)(clock_now_ms() - u->start_ms) / 1000.0;
    ui_bar_render(line, sizeof(line), have ? progress : 0, have ? total : 0, message, elapsed);
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    u->drawn = true;
}

/* Print a formatted line on stderr, after ending a drawn bar.  The caller sanitises
 * server text in the arguments. */
void ui_say(struct ui *u, const char *fmt, ...)
{
    va_list ap;
    ui_break(u);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/*
 * Print a CallToolResult (borrowed) on stdout: each text content item as is
 * (ending in a newline), other items described, then structuredContent as one
 * compact JSON line.  Returns true when the result says isError: true.
 */
bool ui_print_result(struct ui *u, const json_t *result)
{
    const json_t *content = json_object_get(result, "content");
    const json_t *structured = json_object_get(result, "structuredContent");
    size_t i;
    json_t *item;
    char line[400];

    ui_break(u);
    json_array_foreach(content, i, item)
    {
        const char *type = jstr(item, "type");
        const json_t *text = json_object_get(item, "text");
        if (type && strcmp(type, "text") == 0 && json_is_string(text)) {
            size_t n = json_string_length(text);
            fwrite(json_string_value(text), 1, n, stdout);
            if (n == 0 || json_string_value(text)[n - 1] != '\n')
                fputc('\n', stdout);
        } else {
            ui_content_describe(item, line, sizeof(line));
            puts(line);
        }
    }
    if (structured) {
        char *s = json_dumps(structured, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s)
            puts(s);
        free(s);
    }
    fflush(stdout);
    return json_is_true(json_object_get(result, "isError"));
}
