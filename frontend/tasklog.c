/*
 * tasklog.c - turn a task's stored log messages into notifications/message.
 *
 * The row holds the last messages (oldest first) and log_seq, the number of
 * the newest; message i of n kept is number log_seq - n + 1 + i.  A reader
 * remembers the last number it sent, so each message goes out once per
 * stream even though every read returns all that are kept.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "tasklog.h"

#include <string.h>

static const char *const levels[] = {"debug", "info",     "notice", "warning",
                                     "error", "critical", "alert",  "emergency"};

/* The rank of 'name' among the MCP logging levels (RFC 5424 order), -1 when unknown. */
int tasklog_level(const char *name)
{
    for (int i = 0; name && i < (int)(sizeof(levels) / sizeof(levels[0])); i++)
        if (strcmp(name, levels[i]) == 0)
            return i;
    return -1;
}

/*
 * For every message of 'row' numbered above *sent whose level ranks at or
 * above 'min_level', append a notifications/message request to 'out' (an
 * array) with its level and data; then set *sent to row->log_seq.  A row
 * without messages or with unreadable ones appends nothing.  Pure.
 */
void tasklog_messages(const struct task_row *row, int min_level, int64_t *sent, json_t *out)
{
    json_t *log = row->log ? json_loads(row->log, 0, NULL) : NULL;
    int64_t n = (int64_t)json_array_size(log), first = row->log_seq - n + 1;
    for (int64_t i = 0; i < n; i++) {
        json_t *m = json_array_get(log, (size_t)i);
        const char *level = json_string_value(json_object_get(m, "level"));
        json_t *data = json_object_get(m, "data");
        if (first + i <= *sent || tasklog_level(level) < min_level || !data)
            continue;
        json_array_append_new(out, json_pack("{s:s, s:s, s:{s:s, s:O}}", "jsonrpc", "2.0", "method",
                                             "notifications/message", "params", "level", level,
                                             "data", data));
    }
    if (row->log_seq > *sent)
        *sent = row->log_seq;
    json_decref(log);
}
