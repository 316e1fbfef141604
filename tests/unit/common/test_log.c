/*
 * test_log.c - unit tests for common/log.c (JSON-lines logging to stderr).
 *
 * Points fd 2 at a temporary file, logs, then reads each line back and
 * parses it with jansson: fields, escaping, invalid UTF-8, null values,
 * truncation that stays valid JSON, threshold filtering and text mode.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#define MAX_LINES 4096

/* stderr pointed at a temporary file for the length of one test step. */
struct capture {
    int saved_fd; /* the real fd 2, restored by capture_end() */
    int file_fd;  /* the unlinked temporary file fd 2 points at meanwhile */
};

/* Lines read back from a capture. */
struct lines {
    char *text;            /* the whole capture, newlines replaced by NULs; owned */
    size_t count;          /* lines found */
    char *line[MAX_LINES]; /* start of each line, inside text */
    size_t len[MAX_LINES]; /* bytes of each line, without the newline */
};

static void capture_begin(struct capture *c)
{
    char path[] = "/tmp/test_log.XXXXXX";

    c->file_fd = mkstemp(path);
    assert_true(c->file_fd >= 0);
    unlink(path);
    /* O_APPEND so concurrent writers never overwrite each other's lines. */
    assert_int_equal(fcntl(c->file_fd, F_SETFL, O_APPEND), 0);
    fflush(stderr);
    c->saved_fd = dup(STDERR_FILENO);
    assert_true(c->saved_fd >= 0);
    assert_true(dup2(c->file_fd, STDERR_FILENO) >= 0);
}

/* Restore fd 2 and split what was written into lines; the caller calls lines_free(). */
static struct lines *capture_end(struct capture *c)
{
    struct lines *l = calloc(1, sizeof(*l));
    off_t size;

    assert_true(dup2(c->saved_fd, STDERR_FILENO) >= 0);
    close(c->saved_fd);
    assert_non_null(l);
    size = lseek(c->file_fd, 0, SEEK_END);
    assert_true(size >= 0);
    l->text = malloc((size_t)size + 1);
    assert_non_null(l->text);
    assert_int_equal(pread(c->file_fd, l->text, (size_t)size, 0), size);
    l->text[size] = '\0';
    close(c->file_fd);

    char *p = l->text;
    char *end = l->text + size;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        assert_non_null(nl); /* every line ends with a newline */
        assert_true(l->count < MAX_LINES);
        *nl = '\0';
        l->line[l->count] = p;
        l->len[l->count] = (size_t)(nl - p);
        l->count++;
        p = nl + 1;
    }
    return l;
}

static void lines_free(struct lines *l)
{
    free(l->text);
    free(l);
}

/* Parse line 'i' as one JSON object; returns a new reference. */
static json_t *parse_line(const struct lines *l, size_t i)
{
    json_error_t jerr;
    json_t *obj;

    assert_true(i < l->count);
    obj = json_loadb(l->line[i], l->len[i], 0, &jerr);
    if (obj == NULL)
        fail_msg("line %zu is not JSON (%s): %.200s", i, jerr.text, l->line[i]);
    assert_true(json_is_object(obj));
    return obj;
}

static const char *str_field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    if (!json_is_string(v))
        fail_msg("field \"%s\" is missing or not a string", key);
    return json_string_value(v);
}

/* Check that 'ts' is RFC 3339 UTC with milliseconds and within a few seconds of now. */
static void assert_timestamp_now(const char *ts)
{
    struct tm tm = {0};
    int ms = -1;
    char z = 0;

    assert_int_equal(strlen(ts), 24);
    assert_int_equal(sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon,
                            &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &z),
                     8);
    assert_int_equal(z, 'Z');
    assert_in_range(ms, 0, 999);
    assert_int_equal(ts[4], '-');
    assert_int_equal(ts[7], '-');
    assert_int_equal(ts[10], 'T');
    assert_int_equal(ts[13], ':');
    assert_int_equal(ts[16], ':');
    assert_int_equal(ts[19], '.');
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    time_t now = time(NULL);
    assert_true(t <= now + 1 && t >= now - 5);
}

static void test_log_writes_json_fields_in_order(void **state)
{
    struct capture c;
    struct lines *l;
    json_t *obj;

    log_init("testsvc", LOGL_DEBUG, false);
    capture_begin(&c);
    LOG_INFO("task queued", "task_id", "01890a5d-ac96-774b-bcce-b302099a8057", "bytes", "42");
    l = capture_end(&c);

    assert_int_equal(l->count, 1);
    assert_memory_equal(l->line[0], "{\"ts\":\"", 7);
    assert_non_null(strstr(l->line[0], "\",\"level\":\"info\",\"svc\":\"testsvc\",\"msg\":"));
    obj = parse_line(l, 0);
    assert_int_equal(json_object_size(obj), 6);
    assert_timestamp_now(str_field(obj, "ts"));
    assert_string_equal(str_field(obj, "level"), "info");
    assert_string_equal(str_field(obj, "svc"), "testsvc");
    assert_string_equal(str_field(obj, "msg"), "task queued");
    assert_string_equal(str_field(obj, "task_id"), "01890a5d-ac96-774b-bcce-b302099a8057");
    assert_string_equal(str_field(obj, "bytes"), "42");
    assert_null(json_object_get(obj, "truncated"));
    json_decref(obj);
    lines_free(l);
}

static void test_log_names_every_level(void **state)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    struct capture c;
    struct lines *l;

    log_init("testsvc", LOGL_DEBUG, false);
    capture_begin(&c);
    LOG_DEBUG("d");
    LOG_INFO("i");
    LOG_WARN("w");
    LOG_ERROR("e");
    l = capture_end(&c);

    assert_int_equal(l->count, 4);
    for (size_t i = 0; i < 4; i++) {
        json_t *obj = parse_line(l, i);
        assert_string_equal(str_field(obj, "level"), names[i]);
        assert_int_equal(json_object_size(obj), 4);
        json_decref(obj);
    }
    lines_free(l);
}

static void test_log_escapes_quotes_backslashes_and_controls(void **state)
{
    const char *nasty = "say \"hi\" \\ path\\n\nline2\r\t\x01\x1f\x7f end";
    struct capture c;
    struct lines *l;
    json_t *obj;

    log_init("testsvc", LOGL_DEBUG, false);
    capture_begin(&c);
    LOG_WARN(nasty, "k\"ey\n", nasty);
    l = capture_end(&c);

    assert_int_equal(l->count, 1);
    assert_non_null(strstr(l->line[0], "\\u0001"));
    assert_non_null(strstr(l->line[0], "\\u001f"));
    assert_non_null(strstr(l->line[0], "\\u007f"));
    for (size_t i = 0; i < l->len[0]; i++)
        assert_true((unsigned char)l->line[0][i] >= 0x20);
    obj = parse_line(l, 0);
    assert_string_equal(str_field(obj, "msg"), nasty);
    assert_string_equal(str_field(obj, "k\"ey\n"), nasty);
    json_decref(obj);
    lines_free(l);
}

static void test_log_replaces_invalid_utf8(void **state)
{
    struct capture c;
    struct lines *l;
    json_t *obj;

    log_init("testsvc", LOGL_DEBUG, false);
    capture_begin(&c);
    /* valid: é € U+1F600; invalid: lone 0xff, 0xc3 before '(', surrogate ED A0 80,
     * overlong C0 AF, lone continuation 0x80, F4 90 (past U+10FFFF), truncated E2 82 at end */
    LOG_INFO("utf8", "v",
             "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\xff|\xc3(|\xed\xa0\x80|\xc0\xaf|\x80|"
             "\xf4\x90\x80\x80|\xe2\x82");
    l = capture_end(&c);

    assert_int_equal(l->count, 1);
    obj = parse_line(l, 0); /* jansson itself rejects invalid UTF-8 */
    assert_string_equal(str_field(obj, "v"), "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                                             "|\xef\xbf\xbd"
                                             "|\xef\xbf\xbd("
                                             "|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                                             "|\xef\xbf\xbd\xef\xbf\xbd"
                                             "|\xef\xbf\xbd"
                                             "|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                                             "|\xef\xbf\xbd\xef\xbf\xbd");
    json_decref(obj);
    lines_free(l);
}

static void test_log_writes_null_value_as_null(void **state)
{
    struct capture c;
    struct lines *l;
    json_t *obj;

    log_init("testsvc", LOGL_DEBUG, false);
    capture_begin(&c);
    LOG_INFO("nulls", "a", (const char *)NULL, "b", "x");
    l = capture_end(&c);

    obj = parse_line(l, 0);
    assert_true(json_is_null(json_object_get(obj, "a")));
    assert_string_equal(str_field(obj, "b"), "x");
    json_decref(obj);
    lines_free(l);
}

static void test_log_truncates_10k_value_as_valid_json(void **state)
{
    char *big = malloc(10 * 1024 + 1);
    struct capture c;
    struct lines *l;
    json_t *obj;

    assert_non_null(big);
    for (size_t i = 0; i < 10 * 1024; i++)
        big[i] = (char)('a' + i % 26);
    big[10 * 1024] = '\0';

    log_init("testsvc", LOGL_DEBUG, false);
    capture_begin(&c);
    LOG_ERROR("big one", "first", "kept", "big", big, "after", "dropped");
    l = capture_end(&c);

    assert_int_equal(l->count, 1);
    assert_true(l->len[0] + 1 <= 4096);
    assert_true(l->len[0] + 1 > 4000); /* the buffer is used, not abandoned */
    obj = parse_line(l, 0);
    assert_true(json_is_true(json_object_get(obj, "truncated")));
    assert_string_equal(str_field(obj, "msg"), "big one");
    assert_string_equal(str_field(obj, "first"), "kept");
    const char *cut = str_field(obj, "big");
    assert_true(strlen(cut) > 3500 && strlen(cut) < 4096);
    assert_memory_equal(cut, big, strlen(cut));
    assert_null(json_object_get(obj, "after"));
    json_decref(obj);
    lines_free(l);
    free(big);
}

static void test_log_truncation_never_splits_escapes_or_utf8(void **state)
{
    /* Fillers whose encoded form is 2, 6, 2-byte, 3-byte and 4-byte units. */
    static const char *const fillers[] = {
        "\"", "\x01", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff", "ab"};
    char *big = malloc(12 * 1024);
    struct capture c;
    struct lines *l;

    assert_non_null(big);
    log_init("testsvc", LOGL_DEBUG, false);
    capture_begin(&c);
    for (size_t f = 0; f < sizeof(fillers) / sizeof(fillers[0]); f++) {
        /* Shift the start so each unit boundary meets the limit at some point. */
        for (size_t shift = 0; shift < 8; shift++) {
            size_t n = 0;
            for (size_t s = 0; s < shift; s++)
                big[n++] = 'x';
            while (n + strlen(fillers[f]) < 10 * 1024) {
                memcpy(big + n, fillers[f], strlen(fillers[f]));
                n += strlen(fillers[f]);
            }
            big[n] = '\0';
            LOG_INFO("m", "v", big);
        }
    }
    LOG_INFO(big); /* a huge msg is cut the same way */
    l = capture_end(&c);

    assert_int_equal(l->count, 7 * 8 + 1);
    for (size_t i = 0; i < l->count; i++) {
        json_t *obj = parse_line(l, i);
        assert_true(json_is_true(json_object_get(obj, "truncated")));
        assert_true(l->len[i] < 4096);
        json_decref(obj);
    }
    lines_free(l);
    free(big);
}

static void test_log_truncates_many_pairs_as_valid_json(void **state)
{
    struct capture c;
    struct lines *l;
    json_t *obj;
    char key[] = "key_with_a_longish_name_00";

    log_init("testsvc", LOGL_DEBUG, false);
    capture_begin(&c);
    /* 200 pairs of about 45 bytes each overflow the 4 KiB line. */
#define K10                                                                                        \
    key, "value_value", key, "value_value", key, "value_value", key, "value_value", key,           \
        "value_value", key, "value_value", key, "value_value", key, "value_value", key,            \
        "value_value", key, "value_value"
    LOG_INFO("pairs", K10, K10, K10, K10, K10, K10, K10, K10, K10, K10, K10, K10, K10, K10, K10,
             K10, K10, K10, K10, K10);
#undef K10
    l = capture_end(&c);

    assert_int_equal(l->count, 1);
    assert_true(l->len[0] < 4096);
    obj = parse_line(l, 0);
    assert_true(json_is_true(json_object_get(obj, "truncated")));
    json_decref(obj);
    lines_free(l);
}

static void test_log_filters_below_threshold(void **state)
{
    struct capture c;
    struct lines *l;

    log_init("testsvc", LOGL_WARN, false);
    capture_begin(&c);
    LOG_DEBUG("no");
    LOG_INFO("no", "k", "v");
    LOG_WARN("yes-warn");
    LOG_ERROR("yes-error");
    l = capture_end(&c);

    assert_int_equal(l->count, 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *obj = parse_line(l, i);
        assert_string_equal(str_field(obj, "msg"), i == 0 ? "yes-warn" : "yes-error");
        json_decref(obj);
    }
    lines_free(l);

    log_init("testsvc", LOGL_ERROR, false);
    capture_begin(&c);
    LOG_WARN("no");
    l = capture_end(&c);
    assert_int_equal(l->count, 0);
    lines_free(l);
}

static void test_log_text_mode_is_one_readable_line(void **state)
{
    struct capture c;
    struct lines *l;

    log_init("testsvc", LOGL_DEBUG, true);
    capture_begin(&c);
    LOG_INFO("task queued", "id", "abc-1", "owner", "has space", "n", (const char *)NULL, "evil",
             "x\ny=1");
    LOG_ERROR("bad");
    l = capture_end(&c);

    assert_int_equal(l->count, 2);
    assert_int_equal(l->line[0][23], 'Z');
    assert_int_equal(l->line[0][24], ' ');
    assert_string_equal(l->line[0] + 25, "INFO task queued id=abc-1 owner=\"has space\" n=null "
                                         "evil=\"x\\ny=1\"");
    assert_string_equal(l->line[1] + 25, "ERROR bad");
    lines_free(l);
}

static void test_log_text_mode_marks_truncation(void **state)
{
    char *big = malloc(8192);
    struct capture c;
    struct lines *l;

    assert_non_null(big);
    memset(big, 'q', 8191);
    big[8191] = '\0';
    log_init("testsvc", LOGL_DEBUG, true);
    capture_begin(&c);
    LOG_INFO("m", "big", big);
    l = capture_end(&c);

    assert_int_equal(l->count, 1);
    assert_true(l->len[0] < 4096);
    assert_true(strlen(l->line[0]) > 15);
    assert_string_equal(l->line[0] + l->len[0] - 15, " truncated=true");
    lines_free(l);
    free(big);
}

static void test_log_escapes_service_name(void **state)
{
    struct capture c;
    struct lines *l;
    json_t *obj;

    log_init("we\"ird\\svc", LOGL_DEBUG, false);
    capture_begin(&c);
    LOG_INFO("x");
    l = capture_end(&c);

    obj = parse_line(l, 0);
    assert_string_equal(str_field(obj, "svc"), "we\"ird\\svc");
    json_decref(obj);
    lines_free(l);
}

static void test_log_preserves_errno(void **state)
{
    struct capture c;
    struct lines *l;

    log_init("testsvc", LOGL_DEBUG, false);
    capture_begin(&c);
    errno = ENOSPC;
    LOG_INFO("keep errno");
    assert_int_equal(errno, ENOSPC);
    l = capture_end(&c);
    assert_int_equal(l->count, 1);
    lines_free(l);
}

#define THREADS          4
#define LINES_PER_THREAD 250

static void *log_thread(void *arg)
{
    char val[2000];

    memset(val, 'a' + (int)(intptr_t)arg, sizeof(val) - 1);
    val[sizeof(val) - 1] = '\0';
    for (int i = 0; i < LINES_PER_THREAD; i++)
        LOG_INFO("concurrent", "v", val);
    return NULL;
}

static void test_log_lines_from_threads_never_interleave(void **state)
{
    pthread_t th[THREADS];
    struct capture c;
    struct lines *l;

    log_init("testsvc", LOGL_DEBUG, false);
    capture_begin(&c);
    for (intptr_t i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, log_thread, (void *)i), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    l = capture_end(&c);

    assert_int_equal(l->count, THREADS * LINES_PER_THREAD);
    for (size_t i = 0; i < l->count; i++) {
        json_t *obj = parse_line(l, i);
        const char *v = str_field(obj, "v");
        assert_int_equal(strlen(v), 1999);
        assert_int_equal(strspn(v, (char[]){v[0], '\0'}), 1999);
        json_decref(obj);
    }
    lines_free(l);
}

static void test_log_level_parse_accepts_the_four_names(void **state)
{
    enum log_level lv = LOGL_ERROR;

    assert_int_equal(log_level_parse("debug", &lv), 0);
    assert_int_equal(lv, LOGL_DEBUG);
    assert_int_equal(log_level_parse("info", &lv), 0);
    assert_int_equal(lv, LOGL_INFO);
    assert_int_equal(log_level_parse("warn", &lv), 0);
    assert_int_equal(lv, LOGL_WARN);
    assert_int_equal(log_level_parse("error", &lv), 0);
    assert_int_equal(lv, LOGL_ERROR);
}

static void test_log_level_parse_rejects_others(void **state)
{
    enum log_level lv = LOGL_WARN;

    assert_int_equal(log_level_parse("INFO", &lv), -LOG_EINVALID);
    assert_int_equal(log_level_parse("warning", &lv), -LOG_EINVALID);
    assert_int_equal(log_level_parse("", &lv), -LOG_EINVALID);
    assert_int_equal(log_level_parse("info ", &lv), -LOG_EINVALID);
    assert_int_equal(log_level_parse(NULL, &lv), -LOG_EINVALID);
    assert_int_equal(lv, LOGL_WARN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_writes_json_fields_in_order),
        cmocka_unit_test(test_log_names_every_level),
        cmocka_unit_test(test_log_escapes_quotes_backslashes_and_controls),
        cmocka_unit_test(test_log_replaces_invalid_utf8),
        cmocka_unit_test(test_log_writes_null_value_as_null),
        cmocka_unit_test(test_log_truncates_10k_value_as_valid_json),
        cmocka_unit_test(test_log_truncation_never_splits_escapes_or_utf8),
        cmocka_unit_test(test_log_truncates_many_pairs_as_valid_json),
        cmocka_unit_test(test_log_filters_below_threshold),
        cmocka_unit_test(test_log_text_mode_is_one_readable_line),
        cmocka_unit_test(test_log_text_mode_marks_truncation),
        cmocka_unit_test(test_log_escapes_service_name),
        cmocka_unit_test(test_log_preserves_errno),
        cmocka_unit_test(test_log_lines_from_threads_never_interleave),
        cmocka_unit_test(test_log_level_parse_accepts_the_four_names),
        cmocka_unit_test(test_log_level_parse_rejects_others),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
