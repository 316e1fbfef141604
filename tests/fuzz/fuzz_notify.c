/*
 * fuzz_notify.c - libFuzzer target for what a subscriber reads from Redis
 * (common/notify.c): the event payload (notify_parse) and the reply it
 * arrives in (notify_reply_event).  Redis is a hint that anyone who reaches
 * it can write to, so both see hostile bytes.
 *
 * Input: the whole input is parsed as a payload.  It is also cut at '\n'
 * into a reply: the first byte of the first piece picks the reply's type
 * (low three bits; 0 is an array of the following pieces), and each later
 * piece is an element: a string, or an integer when it starts with ':', nil
 * when it is "-".  The replies are built here, not read by hiredis (its
 * reader is not ours to fuzz).  Contracts checked, abort() when broken: a
 * payload is accepted exactly when it is "<kind> <canonical task id>" with a
 * wire kind, and a refusal zeroes the event; a reply is accepted exactly when
 * it is a three-element array starting with the string "message" whose third
 * element is a payload accepted, with that event.  No I/O.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"
#include "taskid.h"

#define MAX_ELEMENTS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A payload must be accepted exactly when it is "<wire kind> <task id>". */
static void check_payload(const char *p, size_t len)
{
    static const char *const kinds[] = {NOTIFY_CANCEL, NOTIFY_CHANGED, NOTIFY_TOOLS,
                                        NOTIFY_PROMPTS};
    static const struct notify_event zero;
    struct notify_event ev;
    int rc = notify_parse(p, len, &ev);
    bool want = false;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t k = strlen(kinds[i]);
        char id[TASKID_LEN + 1];
        if (len != k + 1 + TASKID_LEN || memcmp(p, kinds[i], k) != 0 || p[k] != ' ')
            continue;
        memcpy(id, p + k + 1, TASKID_LEN);
        id[TASKID_LEN] = '\0';
        want = taskid_valid(id);
        if (want && (rc != 0 || strcmp(ev.kind, kinds[i]) != 0 || strcmp(ev.task_id, id) != 0))
            abort();
    }
    if (want != (rc == 0) || (rc != 0 && (rc != -NOTIFY_EINVALID ||
                                          memcmp(&ev, &zero, sizeof(ev)) != 0)))
        abort();
}

/* Build the reply of the input's pieces and check the subscriber's reading of it. */
static void check_reply(char *text, size_t size)
{
    static const int types[] = {REDIS_REPLY_ARRAY,   REDIS_REPLY_STRING, REDIS_REPLY_INTEGER,
                                REDIS_REPLY_NIL,     REDIS_REPLY_STATUS, REDIS_REPLY_ERROR,
                                REDIS_REPLY_ARRAY,   REDIS_REPLY_STRING};
    redisReply el[MAX_ELEMENTS], *elp[MAX_ELEMENTS], top = {0};
    char *end = text + size, *p = memchr(text, '\n', size);
    size_t n = 0;
    top.type = types[size ? (unsigned char)text[0] & 7 : 0];
    top.str = text;
    top.len = p ? (size_t)(p - text) : size;
    while (p && n < MAX_ELEMENTS) {
        char *s = p + 1, *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
        memset(&el[n], 0, sizeof(el[n]));
        el[n].type = len == 1 && s[0] == '-'  ? REDIS_REPLY_NIL
                     : len > 0 && s[0] == ':' ? REDIS_REPLY_INTEGER
                                              : REDIS_REPLY_STRING;
        if (el[n].type == REDIS_REPLY_STRING) {
            el[n].str = s;
            el[n].len = len;
            s[len] = '\0'; /* hiredis terminates strings; the cut '\n' or the spare byte */
        }
        elp[n] = &el[n];
        n++;
        p = nl;
    }
    if (top.type == REDIS_REPLY_ARRAY) {
        top.element = elp;
        top.elements = n;
    }
    struct notify_event ev, want_ev;
    int rc = notify_reply_event(&top, &ev);
    bool shape = top.type == REDIS_REPLY_ARRAY && n == 3 && el[0].type == REDIS_REPLY_STRING &&
                 strcmp(el[0].str, "message") == 0 && el[2].type == REDIS_REPLY_STRING;
    bool want = shape && notify_parse(el[2].str, el[2].len, &want_ev) == 0;
    if (want != (rc == 0) || (rc != 0 && rc != -NOTIFY_EINVALID))
        abort();
    if (want && (ev.kind != want_ev.kind || strcmp(ev.task_id, want_ev.task_id) != 0))
        abort();
}

/*
 * libFuzzer entry point: one input per call.  Returns 0; aborts when a
 * contract in the file comment is broken.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    check_payload(text, size);
    check_reply(text, size);
    free(text);
    return 0;
}
