/*
 * test_cfg.c - settings: defaults, environment, flags, types, ranges, secrets.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"

static const char *s_listen, *s_dsn;
static int64_t s_threads;
static bool s_text;

static const struct cfg_opt opts[] = {
    {"listen", CFG_STR, "127.0.0.1:8080", "address", &s_listen},
    {"pg-dsn", CFG_STR, "", "dsn", &s_dsn, 0, 0, true},
    {"threads", CFG_INT, "4", "threads", &s_threads, 1, 64},
    {"log-text", CFG_BOOL, "false", "text logs", &s_text},
};
#define N (sizeof(opts) / sizeof(opts[0]))

static int load(int argc, char **argv, struct err *e)
{
    return cfg_load(opts, N, argc, argv, NULL, e);
}

static int setup(void **state)
{
    unsetenv("TASKWIRE_LISTEN");
    unsetenv("TASKWIRE_PG_DSN");
    unsetenv("TASKWIRE_PG_DSN_FILE");
    unsetenv("TASKWIRE_THREADS");
    unsetenv("TASKWIRE_LOG_TEXT");
    return 0;
}

static void test_cfg_defaults(void **state)
{
    char *argv[] = {"prog", NULL};
    struct err e = {0};
    assert_int_equal(load(1, argv, &e), CFG_OK);
    assert_string_equal(s_listen, "127.0.0.1:8080");
    assert_int_equal(s_threads, 4);
    assert_false(s_text);
    cfg_fini(opts, N);
}

static void test_cfg_flag_beats_environment(void **state)
{
    setenv("TASKWIRE_THREADS", "8", 1);
    setenv("TASKWIRE_LISTEN", "0.0.0.0:1", 1);
    char *argv[] = {"prog", "--threads", "16", "--log-text", NULL};
    struct err e = {0};
    assert_int_equal(load(4, argv, &e), CFG_OK);
    assert_int_equal(s_threads, 16);
    assert_string_equal(s_listen, "0.0.0.0:1");
    assert_true(s_text);
    char *argv2[] = {"prog", "--threads=2", NULL};
    assert_int_equal(load(2, argv2, &e), CFG_OK);
    assert_int_equal(s_threads, 2);
    cfg_fini(opts, N);
}

static void test_cfg_rejects_bad_values(void **state)
{
    struct err e = {0};
    char *a1[] = {"prog", "--threads", "lots", NULL};
    assert_int_equal(load(3, a1, &e), -CFG_EINVALID);
    assert_non_null(strstr(e.msg, "not an integer"));
    char *a2[] = {"prog", "--threads", "65", NULL};
    assert_int_equal(load(3, a2, &e), -CFG_EINVALID);
    assert_non_null(strstr(e.msg, "outside"));
    char *a3[] = {"prog", "--threads", "4x", NULL};
    assert_int_equal(load(3, a3, &e), -CFG_EINVALID);
    char *a4[] = {"prog", "--nope", NULL};
    assert_int_equal(load(2, a4, &e), -CFG_EINVALID);
    assert_non_null(strstr(e.msg, "--nope"));
    char *a5[] = {"prog", "--threads", NULL};
    assert_int_equal(load(2, a5, &e), -CFG_EINVALID);
    setenv("TASKWIRE_LOG_TEXT", "maybe", 1);
    char *a6[] = {"prog", NULL};
    assert_int_equal(load(1, a6, &e), -CFG_EINVALID);
    assert_non_null(strstr(e.msg, "TASKWIRE_LOG_TEXT"));
}

static void test_cfg_secrets_not_flags_but_files(void **state)
{
    struct err e = {0};
    char *a1[] = {"prog", "--pg-dsn", "password=x", NULL};
    assert_int_equal(load(3, a1, &e), -CFG_EINVALID);
    char path[] = "/tmp/test_cfg_secretXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "host=db password=s3cret\n", 24), 24);
    close(fd);
    setenv("TASKWIRE_PG_DSN_FILE", path, 1);
    char *a2[] = {"prog", NULL};
    assert_int_equal(load(1, a2, &e), CFG_OK);
    assert_string_equal(s_dsn, "host=db password=s3cret");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cfg_print(f, opts, N);
    fclose(f);
    assert_null(strstr(buf, "s3cret"));
    assert_non_null(strstr(buf, "TASKWIRE_PG_DSN=<redacted>"));
    free(buf);
    cfg_fini(opts, N);
    unlink(path);
}

/* An unreadable secret file is a clear error, and releasing afterwards frees nothing that
 * was not read from a file (the default and the environment value are not ours). */
static void test_cfg_unreadable_secret_file_fails_cleanly(void **state)
{
    struct err e = {0};
    char *argv[] = {"prog", NULL};
    setenv("TASKWIRE_PG_DSN", "from-the-environment", 1);
    setenv("TASKWIRE_PG_DSN_FILE", "/nonexistent/taskwire-secret", 1);
    assert_int_equal(load(1, argv, &e), -CFG_EINVALID);
    assert_non_null(strstr(e.msg, "cannot read secret file /nonexistent/taskwire-secret"));
    assert_null(s_dsn); /* not left pointing at the environment's string... */
    cfg_fini(opts, N);  /* ...which cfg_fini() would then free */
    unsetenv("TASKWIRE_PG_DSN");
}

static void test_cfg_help_and_positional(void **state)
{
    struct err e = {0};
    char *a1[] = {"prog", "--help", NULL};
    assert_int_equal(load(2, a1, &e), CFG_HELP);
    char *a2[] = {"prog", "--threads", "3", "sleep", "seconds=1", NULL};
    int argi = 0;
    assert_int_equal(cfg_load(opts, N, 5, a2, &argi, &e), CFG_OK);
    assert_int_equal(argi, 3);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cfg_print_help(f, "usage: prog", opts, N);
    fclose(f);
    assert_non_null(strstr(buf, "TASKWIRE_THREADS"));
    assert_non_null(strstr(buf, "--log-text"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_cfg_defaults, setup),
        cmocka_unit_test_setup(test_cfg_flag_beats_environment, setup),
        cmocka_unit_test_setup(test_cfg_rejects_bad_values, setup),
        cmocka_unit_test_setup(test_cfg_secrets_not_flags_but_files, setup),
        cmocka_unit_test_setup(test_cfg_unreadable_secret_file_fails_cleanly, setup),
        cmocka_unit_test_setup(test_cfg_help_and_positional, setup),
    };
    return cmocka_run_group_tests_name("cfg", tests, NULL, NULL);
}
