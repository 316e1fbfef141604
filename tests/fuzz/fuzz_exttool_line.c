/*
 * fuzz_exttool_line.c - libFuzzer target for the external-tool stdout line
 * protocol (extproto_parse_line() in worker/extproto.c).
 *
 * Splits the input at '\n' as worker/exttool.c does with a child's stdout and
 * parses every line.  Aborts if a result breaks the contract: a code other
 * than 0 or -EXTPROTO_EPROTO, err out of step, a refused line leaving a
 * reference behind, a progress that is negative or not finite, a message
 * that is too long or not valid UTF-8, or a result that is not a
 * CallToolResult or does not survive being written as a line and read again,
 * a log line without its data or with an unterminated level.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "extproto.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A message of an event: NUL-terminated in its buffer, short enough, valid UTF-8. */
static void check_message(const struct extproto_event *ev)
{
    size_t n = strnlen(ev->message, sizeof(ev->message));
    if (n > EXTPROTO_MESSAGE_MAX || !utf8_valid(ev->message, n))
        abort();
    if (!ev->has_message && n != 0)
        abort();
}

/* A result, written back as a protocol line, must read as the same result. */
static void check_round_trip(const json_t *result)
{
    json_t *line_doc = json_pack("{s:O}", "result", (json_t *)result);
    char *line = json_dumps(line_doc, JSON_COMPACT);
    struct extproto_event again;
    if (!line || extproto_parse_line(line, strlen(line), &again, NULL) != 0 ||
        again.kind != EXTPROTO_EV_RESULT || !json_equal(again.result, result))
        abort();
    extproto_event_fini(&again);
    free(line);
    json_decref(line_doc);
}

/* Check the contract for one parsed line. */
static void check_event(int rc, const struct err *e, const struct extproto_event *ev)
{
    if (rc != 0) {
        if (rc != -EXTPROTO_EPROTO || e->code != rc || e->msg[0] == '\0' || ev->result)
            abort();
        return;
    }
    check_message(ev);
    switch (ev->kind) {
    case EXTPROTO_EV_BLANK:
        if (ev->result || ev->has_message)
            abort();
        break;
    case EXTPROTO_EV_PROGRESS:
        if (!isfinite(ev->progress) || !(ev->progress >= 0) || !isfinite(ev->total) ||
            ev->total < 0 || ev->result)
            abort();
        break;
    case EXTPROTO_EV_STATUS:
        if (!ev->has_message || ev->result)
            abort();
        break;
    case EXTPROTO_EV_RESULT:
        if (!json_is_object(ev->result) || ev->result->refcount != 1 ||
            !json_is_array(json_object_get(ev->result, "content")))
            abort();
        check_round_trip(ev->result);
        break;
    case EXTPROTO_EV_LOG:
        if (!ev->result || ev->result->refcount < 1 || ev->has_message ||
            strnlen(ev->level, sizeof(ev->level)) == sizeof(ev->level))
            abort();
        break;
    default:
        abort();
    }
}

/*
 * libFuzzer entry point: one input per call, split into lines.  Returns 0;
 * aborts when a line's parse breaks the contract above.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    while (p <= end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        struct extproto_event ev;
        struct err e = {0};
        int rc = extproto_parse_line(p, len, &ev, &e);
        check_event(rc, &e, &ev);
        extproto_event_fini(&ev);
        if (!nl)
            break;
        p = nl + 1;
    }
    return 0;
}
