/*
 * test_extproto.c - the external-tool protocol without processes: stdout
 * lines (each kind, what is refused, limits, ownership), the exec spec
 * (defaults, ranges, refusals), the child's environment and stdin, the kept
 * stderr tail, and the texts of outcomes (exit statuses, signals, stderr).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "extproto.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "manifest.h"
#include "utf8.h"

static int parse(const char *line, struct extproto_event *ev, struct err *e)
{
    return extproto_parse_line(line, strlen(line), ev, e);
}

static const char *text_of(const json_t *result)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(result, "content"), 0), "text"));
}

/* ---- the line protocol ---- */

static void test_parse_progress(void **state)
{
    struct extproto_event ev;
    assert_int_equal(parse("{\"progress\":3,\"total\":10,\"message\":\"3 of 10\"}", &ev, NULL), 0);
    assert_int_equal(ev.kind, EXTPROTO_EV_PROGRESS);
    assert_true(ev.progress == 3 && ev.total == 10);
    assert_true(ev.has_message);
    assert_string_equal(ev.message, "3 of 10");
    extproto_event_fini(&ev);

    assert_int_equal(parse("{\"progress\":0.5}", &ev, NULL), 0);
    assert_true(ev.progress == 0.5 && ev.total == 0 && !ev.has_message);
    /* CRLF, and a key beside it */
    assert_int_equal(parse("{\"progress\":1,\"later\":true}\r", &ev, NULL), 0);
    assert_int_equal(ev.kind, EXTPROTO_EV_PROGRESS);
    /* zero, negative zero and very large finite numbers are progress */
    assert_int_equal(parse("{\"progress\":0}", &ev, NULL), 0);
    assert_int_equal(parse("{\"progress\":-0.0}", &ev, NULL), 0);
    assert_int_equal(parse("{\"progress\":1e308,\"total\":1.7e308}", &ev, NULL), 0);
    assert_true(ev.progress == 1e308);
    assert_int_equal(parse("{\"progress\":9223372036854775807}", &ev, NULL), 0);
    assert_true(ev.progress > 9.2e18);
}

static void test_parse_status_and_blank(void **state)
{
    struct extproto_event ev;
    assert_int_equal(parse("  {\"status\":\"compiling\"}  ", &ev, NULL), 0);
    assert_int_equal(ev.kind, EXTPROTO_EV_STATUS);
    assert_true(ev.has_message);
    assert_string_equal(ev.message, "compiling");
    assert_int_equal(parse("", &ev, NULL), 0);
    assert_int_equal(ev.kind, EXTPROTO_EV_BLANK);
    assert_int_equal(parse(" \t\r", &ev, NULL), 0);
    assert_int_equal(ev.kind, EXTPROTO_EV_BLANK);
    assert_int_equal(parse("\r", &ev, NULL), 0);
    assert_int_equal(ev.kind, EXTPROTO_EV_BLANK);
    /* An empty status is a status. */
    assert_int_equal(parse("{\"status\":\"\"}", &ev, NULL), 0);
    assert_int_equal(ev.kind, EXTPROTO_EV_STATUS);
    assert_string_equal(ev.message, "");
}

static void test_parse_result_is_a_new_reference(void **state)
{
    struct extproto_event ev;
    assert_int_equal(parse("{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}],"
                           "\"structuredContent\":{\"n\":{\"deep\":[1,{\"x\":null}]}},"
                           "\"isError\":false,\"_meta\":{}}}",
                           &ev, NULL),
                     0);
    assert_int_equal(ev.kind, EXTPROTO_EV_RESULT);
    assert_non_null(ev.result);
    assert_int_equal(ev.result->refcount, 1);
    assert_string_equal(text_of(ev.result), "hi");
    extproto_event_fini(&ev);
    assert_null(ev.result);
    extproto_event_fini(&ev); /* twice is harmless */
    assert_int_equal(parse("{\"result\":{\"content\":[]}}", &ev, NULL), 0);
    extproto_event_fini(&ev);
}

static void test_parse_log_lines(void **state)
{
    struct extproto_event ev;
    assert_int_equal(parse("{\"log\":{\"level\":\"error\",\"data\":{\"n\":[1]}}}", &ev, NULL), 0);
    assert_int_equal(ev.kind, EXTPROTO_EV_LOG);
    assert_string_equal(ev.level, "error");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(ev.result, "n"), 0)), 1);
    extproto_event_fini(&ev);
    assert_int_equal(parse("{\"log\":{\"data\":\"plain\"}}", &ev, NULL), 0);
    assert_string_equal(ev.level, "info"); /* the default */
    assert_string_equal(json_string_value(ev.result), "plain");
    extproto_event_fini(&ev);
}

static void test_parse_rejects_what_is_not_protocol(void **state)
{
    static const char *const bad[] = {
        "hello world",
        "[1,2]",
        "42",
        "null",
        "{}",
        "{\"later\":1}",
        "{\"progress\":1,\"status\":\"x\"}",
        "{\"progress\":1,\"status\":\"x\",\"result\":{\"content\":[]}}",
        "{\"progress\":-1}",
        "{\"progress\":-1e-300}",
        "{\"progress\":\"1\"}",
        "{\"progress\":null}",
        "{\"progress\":1e999}", /* overflows a double: jansson refuses it */
        "{\"progress\":NaN}",
        "{\"progress\":Infinity}",
        "{\"progress\":1,\"total\":0}",
        "{\"progress\":1,\"total\":-5}",
        "{\"progress\":1,\"total\":\"9\"}",
        "{\"progress\":1,\"message\":7}",
        "{\"status\":null}",
        "{\"status\":[\"a\"]}",
        "{\"result\":\"done\"}",
        "{\"result\":{}}",
        "{\"result\":{\"content\":{}}}",
        "{\"result\":{\"content\":[{\"text\":\"no type\"}]}}",
        "{\"result\":{\"content\":[{\"type\":7}]}}",
        "{\"result\":{\"content\":[\"text\"]}}",
        "{\"result\":{\"content\":[],\"isError\":\"yes\"}}",
        "{\"result\":{\"content\":[],\"structuredContent\":[]}}",
        "{\"result\":{\"content\":[],\"_meta\":\"m\"}}",
        "{\"log\":\"text\"}",
        "{\"log\":{\"level\":\"info\"}}",
        "{\"log\":{\"level\":7,\"data\":1}}",
        "{\"log\":{\"level\":\"a-level-name-too-long\",\"data\":1}}",
        "{\"log\":{\"data\":1},\"status\":\"x\"}",
        "{\"status\":\"a\",\"status\":\"b\"}", /* duplicate key */
        "{\"status\":\"a\"} trailing",
        "{\"status\":\"a\"}\n{\"status\":\"b\"}", /* two lines are not one */
        "{\"status\":\"nul \\u0000 inside\"}",    /* PostgreSQL jsonb refuses \u0000 */
        "{\"status\":\"bad \xff utf-8\"}",
        "{\"status\":\"overlong \xc0\xaf\"}",
        "{\"status\":\"surrogate \xed\xa0\x80\"}",
        "{\"status\":\"lone \\ud800 escape\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct extproto_event ev;
        struct err e = {0};
        if (parse(bad[i], &ev, &e) != -EXTPROTO_EPROTO)
            fail_msg("accepted: %s", bad[i]);
        assert_int_equal(e.code, -EXTPROTO_EPROTO);
        assert_true(e.msg[0] != '\0');
        assert_null(ev.result);
    }
    /* A raw NUL byte inside the line. */
    struct extproto_event ev;
    assert_int_equal(extproto_parse_line("{\"status\":\"a\"}\0x", 16, &ev, NULL), -EXTPROTO_EPROTO);
}

static void test_parse_says_which_key_is_wrong(void **state)
{
    struct extproto_event ev;
    struct err e = {0};
    assert_int_equal(parse("{\"progress\":1,\"total\":0}", &ev, &e), -EXTPROTO_EPROTO);
    assert_string_equal(e.msg, "\"total\" is not a number > 0");
    assert_int_equal(parse("{}", &ev, &e), -EXTPROTO_EPROTO);
    assert_string_equal(e.msg, "none of \"progress\", \"status\", \"result\" and \"log\"");
    assert_int_equal(parse("{\"status\":\"a\",\"progress\":1}", &ev, &e), -EXTPROTO_EPROTO);
    assert_string_equal(e.msg, "more than one of \"progress\", \"status\", \"result\" and \"log\"");
    assert_int_equal(parse("[]", &ev, &e), -EXTPROTO_EPROTO);
    assert_string_equal(e.msg, "not a JSON object");
}

static void test_parse_error_never_quotes_the_line(void **state)
{
    struct extproto_event ev;
    struct err e = {0};
    assert_int_equal(parse("password=hunter2", &ev, &e), -EXTPROTO_EPROTO);
    assert_null(strstr(e.msg, "hunter2"));
    assert_int_equal(parse("{\"hunter2\": [", &ev, &e), -EXTPROTO_EPROTO);
    assert_null(strstr(e.msg, "hunter2"));
    assert_int_equal(parse("{\"status\":\"a\",\"hunter2\":1,\"progress\":2}", &ev, &e),
                     -EXTPROTO_EPROTO);
    assert_null(strstr(e.msg, "hunter2"));
}

static void test_parse_cuts_long_message_at_utf8_boundary(void **state)
{
    char line[1024] = "{\"status\":\"";
    for (int i = 0; i < 200; i++)
        strcat(line, "\xc3\xa9"); /* é: 400 bytes */
    strcat(line, "\"}");
    struct extproto_event ev;
    assert_int_equal(parse(line, &ev, NULL), 0);
    size_t n = strlen(ev.message);
    assert_int_equal(n, 254); /* 255 would split a character */
    assert_true(utf8_valid(ev.message, n));

    /* The same for a progress message. */
    memcpy(line, "{\"progress\":1,\"message\":\"", 26);
    line[26] = '\0';
    for (int i = 0; i < 100; i++)
        strcat(line, "\xf0\x9f\x98\x80"); /* an emoji: 400 bytes */
    strcat(line, "\"}");
    assert_int_equal(parse(line, &ev, NULL), 0);
    assert_int_equal(strlen(ev.message), 252);
    assert_true(utf8_valid(ev.message, strlen(ev.message)));
}

/* ---- the exec spec ---- */

static json_t *spec_json(const char *text)
{
    json_t *spec = json_loads(text, 0, NULL);
    assert_non_null(spec);
    return spec;
}

static void test_spec_defaults_are_the_manifest_defaults(void **state)
{
    json_t *spec = spec_json("{\"argv\":[\"/bin/true\",\"x\"]}");
    struct extproto_spec sp;
    assert_int_equal(extproto_spec_parse(spec, &sp, NULL), 0);
    assert_string_equal(sp.name, "(unnamed)");
    assert_string_equal(sp.argv[0], "/bin/true");
    assert_string_equal(sp.argv[1], "x");
    assert_null(sp.argv[2]);
    assert_null(sp.cwd);
    assert_null(sp.env);
    assert_int_equal(sp.timeout_ms, MANIFEST_DEFAULT_TIMEOUT_MS);
    assert_int_equal(sp.kill_grace_ms, MANIFEST_DEFAULT_KILL_GRACE);
    assert_int_equal(sp.max_out, MANIFEST_DEFAULT_MAX_OUT);
    assert_int_equal(sp.max_err, MANIFEST_DEFAULT_MAX_ERR);
    extproto_spec_fini(&sp);
    assert_null(sp.argv);
    extproto_spec_fini(&sp); /* twice is harmless */
    json_decref(spec);
}

static void test_spec_reads_every_key(void **state)
{
    json_t *spec = spec_json("{\"name\":\"t\",\"argv\":[\"/bin/sh\"],\"cwd\":\"/tmp\","
                             "\"env\":[\"HOME\"],\"timeoutMs\":1,\"killGraceMs\":0,"
                             "\"maxOutputBytes\":1,\"maxStderrBytes\":0}");
    struct extproto_spec sp;
    assert_int_equal(extproto_spec_parse(spec, &sp, NULL), 0);
    assert_string_equal(sp.name, "t");
    assert_string_equal(sp.cwd, "/tmp");
    assert_int_equal(json_array_size(sp.env), 1);
    assert_true(sp.timeout_ms == 1 && sp.kill_grace_ms == 0 && sp.max_out == 1 && sp.max_err == 0);
    extproto_spec_fini(&sp);
    json_decref(spec);
}

static void test_spec_refuses_what_cannot_run(void **state)
{
    static const char *const bad[] = {
        "{}",
        "{\"argv\":[]}",
        "{\"argv\":\"/bin/true\"}",
        "{\"argv\":[\"/bin/true\",7]}",
        "{\"argv\":[\"/bin/true\"],\"cwd\":1}",
        "{\"argv\":[\"/bin/true\"],\"env\":\"HOME\"}",
        "{\"argv\":[\"/bin/true\"],\"timeoutMs\":0}",
        "{\"argv\":[\"/bin/true\"],\"timeoutMs\":1.5}",
        "{\"argv\":[\"/bin/true\"],\"timeoutMs\":\"10\"}",
        "{\"argv\":[\"/bin/true\"],\"timeoutMs\":2147483648000}",
        "{\"argv\":[\"/bin/true\"],\"killGraceMs\":-1}",
        "{\"argv\":[\"/bin/true\"],\"maxOutputBytes\":0}",
        "{\"argv\":[\"/bin/true\"],\"maxOutputBytes\":4294967297}",
        "{\"argv\":[\"/bin/true\"],\"maxStderrBytes\":-1}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *spec = spec_json(bad[i]);
        struct extproto_spec sp;
        struct err e = {0};
        if (extproto_spec_parse(spec, &sp, &e) != -EXTPROTO_ESPEC)
            fail_msg("accepted: %s", bad[i]);
        assert_true(e.msg[0] != '\0');
        assert_null(sp.argv); /* nothing to release */
        json_decref(spec);
    }
    struct extproto_spec sp;
    struct err e = {0};
    json_t *spec = spec_json("{\"argv\":[\"/bin/true\"],\"timeoutMs\":-3}");
    assert_int_equal(extproto_spec_parse(spec, &sp, &e), -EXTPROTO_ESPEC);
    assert_string_equal(e.msg, "\"timeoutMs\" is not an integer from 1 to 2147483647000");
    json_decref(spec);
}

/* ---- the child's environment and stdin ---- */

static const char *env_get(char **envp, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; envp[i]; i++)
        if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
            return envp[i] + n + 1;
    return NULL;
}

static void test_env_passes_only_what_is_allowed(void **state)
{
    setenv("TW_EP_ALLOWED", "yes", 1);
    setenv("TW_EP_SECRET", "hunter2", 1);
    setenv("TASKWIRE_PG_DSN", "password=hunter2", 1);
    unsetenv("TW_EP_UNSET");
    json_t *spec = spec_json("{\"argv\":[\"/bin/true\"],\"env\":[\"TW_EP_ALLOWED\",\"TW_EP_UNSET\","
                             "\"TASKWIRE_PG_DSN\",\"PATH\",7]}");
    struct extproto_spec sp;
    assert_int_equal(extproto_spec_parse(spec, &sp, NULL), 0);
    char **envp = extproto_env_new(&sp, "0190a5d0-0000-7000-8000-000000000001", NULL, NULL);
    assert_non_null(envp);
    size_t n = 0;
    while (envp[n])
        n++;
    assert_int_equal(n, 3);
    assert_string_equal(env_get(envp, "PATH"), "/usr/local/bin:/usr/bin:/bin");
    assert_string_equal(env_get(envp, "TASKWIRE_TASK_ID"), "0190a5d0-0000-7000-8000-000000000001");
    assert_string_equal(env_get(envp, "TW_EP_ALLOWED"), "yes");
    assert_null(env_get(envp, "TW_EP_SECRET"));
    assert_null(env_get(envp, "TASKWIRE_PG_DSN"));
    extproto_env_free(envp);

    envp = extproto_env_new(&sp, NULL, NULL, NULL);
    assert_string_equal(env_get(envp, "TASKWIRE_TASK_ID"), "");
    extproto_env_free(envp);
    extproto_env_free(NULL);
    extproto_spec_fini(&sp);
    json_decref(spec);
    unsetenv("TW_EP_ALLOWED");
    unsetenv("TW_EP_SECRET");
    unsetenv("TASKWIRE_PG_DSN");
}

static void test_stdin_is_one_compact_json_line(void **state)
{
    size_t len = 0;
    char *doc = extproto_stdin_doc(NULL, &len);
    assert_string_equal(doc, "{}\n");
    assert_int_equal(len, 3);
    free(doc);
    json_t *args = spec_json("{ \"a\" : [1, 2],\n \"b\": \"x y\" }");
    doc = extproto_stdin_doc(args, &len);
    assert_string_equal(doc, "{\"a\":[1,2],\"b\":\"x y\"}\n");
    assert_int_equal(len, strlen(doc));
    free(doc);
    json_decref(args);
}

/* ---- the stderr tail ---- */

static void test_tail_keeps_the_last_bytes(void **state)
{
    char buf[8];
    size_t len = 0;
    extproto_tail_keep(buf, sizeof(buf), &len, "abc", 3);
    extproto_tail_keep(buf, sizeof(buf), &len, "defg", 4);
    assert_int_equal(len, 7);
    assert_memory_equal(buf, "abcdefg", 7);
    extproto_tail_keep(buf, sizeof(buf), &len, "hij", 3); /* drops "ab" */
    assert_int_equal(len, 8);
    assert_memory_equal(buf, "cdefghij", 8);
    extproto_tail_keep(buf, sizeof(buf), &len, "0123456789", 10); /* more than fits */
    assert_int_equal(len, 8);
    assert_memory_equal(buf, "23456789", 8);
    extproto_tail_keep(buf, sizeof(buf), &len, "", 0);
    assert_memory_equal(buf, "23456789", 8);
}

/* ---- outcome texts ---- */

static void test_status_text_names_exit_and_signal(void **state)
{
    char buf[128];
    /* Linux wait statuses: exit code in bits 8-15, terminating signal in bits 0-6. */
    assert_string_equal(extproto_status_text(3 << 8, buf, sizeof(buf)), "exit status");
    assert_string_equal(buf, "exit status 3");
    assert_string_equal(extproto_status_text(SIGKILL, buf, sizeof(buf)), "killed by signal");
    assert_string_equal(buf, "killed by signal 9 (SIGKILL)");
    extproto_status_text(SIGTERM | 0x80, buf, sizeof(buf)); /* with a core dump */
    assert_string_equal(buf, "killed by signal 15 (SIGTERM)");
    extproto_status_text(SIGRTMIN + 1, buf, sizeof(buf));
    char want[64];
    snprintf(want, sizeof(want), "killed by signal %d", SIGRTMIN + 1);
    assert_string_equal(buf, want);
    assert_string_equal(extproto_status_text(-1, buf, sizeof(buf)), "unknown status");
    assert_string_equal(buf, "tool ended with an unknown status");
    assert_string_equal(extproto_status_text(0x137f, buf, sizeof(buf)), "unknown status");
}

static void test_error_text_quotes_the_stderr_tail(void **state)
{
    char *t = extproto_error_text("exit status 3", NULL, 0);
    assert_string_equal(t, "exit status 3");
    free(t);
    t = extproto_error_text("exit status 3", " \n\t\r\n", 5); /* white space only */
    assert_string_equal(t, "exit status 3");
    free(t);
    const char err[] = "first line\noops: disk full\n\n";
    t = extproto_error_text("exit status 3", err, sizeof(err) - 1);
    assert_string_equal(t, "exit status 3: first line\noops: disk full");
    free(t);
}

static void test_error_text_is_bounded_and_valid_utf8(void **state)
{
    /* Bad bytes, overlong forms and surrogates become U+FFFD. */
    const char bad[] = "a\377b\0c|\xc0\xaf|\xed\xa0\x80|\xf0\x9f\x98\x80";
    char *t = extproto_error_text("h", bad, sizeof(bad) - 1);
    assert_string_equal(t, "h: a\357\277\275b\357\277\275c|\xEF\xBF\xBD\xEF\xBF\xBD|"
                           "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|\xf0\x9f\x98\x80");
    free(t);

    /* A long tail is cut to EXTPROTO_ERR_TAIL bytes, at a character boundary. */
    size_t len = 3 * EXTPROTO_ERR_TAIL + 1;
    char *big = malloc(len);
    assert_non_null(big);
    big[0] = 'x';
    for (size_t i = 1; i < len; i += 3)
        memcpy(big + i, "\xe2\x82\xac", 3); /* € */
    t = extproto_error_text("h", big, len);
    size_t n = strlen(t);
    assert_true(n <= 3 + EXTPROTO_ERR_TAIL);
    assert_true(n >= 3 + EXTPROTO_ERR_TAIL - 3);
    assert_true(utf8_valid(t, n));
    assert_null(strstr(t, "\xEF\xBF\xBD")); /* nothing was split */
    free(t);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_progress),
        cmocka_unit_test(test_parse_status_and_blank),
        cmocka_unit_test(test_parse_result_is_a_new_reference),
        cmocka_unit_test(test_parse_log_lines),
        cmocka_unit_test(test_parse_rejects_what_is_not_protocol),
        cmocka_unit_test(test_parse_says_which_key_is_wrong),
        cmocka_unit_test(test_parse_error_never_quotes_the_line),
        cmocka_unit_test(test_parse_cuts_long_message_at_utf8_boundary),
        cmocka_unit_test(test_spec_defaults_are_the_manifest_defaults),
        cmocka_unit_test(test_spec_reads_every_key),
        cmocka_unit_test(test_spec_refuses_what_cannot_run),
        cmocka_unit_test(test_env_passes_only_what_is_allowed),
        cmocka_unit_test(test_stdin_is_one_compact_json_line),
        cmocka_unit_test(test_tail_keeps_the_last_bytes),
        cmocka_unit_test(test_status_text_names_exit_and_signal),
        cmocka_unit_test(test_error_text_quotes_the_stderr_tail),
        cmocka_unit_test(test_error_text_is_bounded_and_valid_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
