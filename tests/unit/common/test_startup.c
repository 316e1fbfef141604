/*
 * test_startup.c - what every daemon does first: JSON allocation failures end the
 * process cleanly instead of corrupting data, and the informational flags answer
 * without starting anything.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "allocfail.h"
#include "startup.h"

/* In a child: route jansson through startup's allocator, fail the next allocation, make JSON. */
static void test_startup_json_allocation_failure_aborts_the_process(void **state)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        startup_json_abort_on_oom();
        allocfail_arm(0);
        json_t *v = json_string("this allocation fails");
        _exit(v ? 0 : 3); /* reached only when jansson carried on */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

/* Without a failure the same allocator simply allocates. */
static void test_startup_json_allocations_work_normally(void **state)
{
    startup_json_abort_on_oom();
    json_t *v = json_pack("{s:s, s:i}", "a", "b", "c", 1);
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_object_get(v, "c")), 1);
    json_decref(v);
}

static const char *level = "info";
static bool text;
static int64_t number;
static const struct cfg_opt opts[] = {
    {"number", CFG_INT, "7", "a number", &number, 0, 100},
    STARTUP_LOG_OPTIONS(&level, &text),
};

static int refuse(void *arg, struct err *e)
{
    return number == 13 ? err_set(e, -CFG_EINVALID, "13 is refused") : 0;
}

static int begin(const char *arg1)
{
    char *argv[] = {"prog", (char *)arg1, NULL};
    const struct startup sp = {"prog", "test", "usage: prog", opts, 3, &level, &text, refuse, NULL};
    int rc = startup_begin(&sp, arg1 ? 2 : 1, argv);
    cfg_fini(opts, 3);
    return rc;
}

static void test_startup_flags_answer_or_refuse_without_running(void **state)
{
    FILE *saved = stdout;
    stdout = fopen("/dev/null", "w");
    assert_int_equal(begin("--help"), STARTUP_DONE);
    assert_int_equal(begin("--version"), STARTUP_DONE);
    assert_int_equal(begin("--print-config"), STARTUP_DONE);
    assert_int_equal(begin("--check-config"), STARTUP_DONE);
    fclose(stdout);
    stdout = saved;
    assert_int_equal(begin("--number=13"), -STARTUP_ECONFIG);  /* the program's check */
    assert_int_equal(begin("--number=500"), -STARTUP_ECONFIG); /* out of range */
    assert_int_equal(begin("--log-level=loud"), -STARTUP_ECONFIG);
    assert_int_equal(begin("--number=12"), STARTUP_RUN);
    assert_int_equal(number, 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_startup_json_allocation_failure_aborts_the_process),
        cmocka_unit_test(test_startup_json_allocations_work_normally),
        cmocka_unit_test(test_startup_flags_answer_or_refuse_without_running),
    };
    return cmocka_run_group_tests_name("startup", tests, NULL, NULL);
}
