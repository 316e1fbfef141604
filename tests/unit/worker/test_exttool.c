/*
 * test_exttool.c - external-process tools: real runs of small sh scripts
 * written into a temporary folder (success, exit status, no result, signals,
 * timeout and cancel killing the whole process group, output limit, start
 * failures, descriptors, concurrency).  The line protocol and the spec are
 * tested on their own in test_extproto.c.
 *
 * Includes worker/exttool.c itself and supplies the C tool API as a seam, so
 * neither the runner nor toolctx.c is linked (only worker/extproto.c); every
 * run also checks that no descriptor and no child is left behind.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "../../../worker/exttool.c" /* first: it defines _GNU_SOURCE */

#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

/* ---- the seam: the tool API of worker/toolctx.c, recorded ---- */

struct tool_ctx {
    const json_t *args;        /* arguments */
    const char *task_id;       /* task id */
    int cancel_after_progress; /* tool_cancelled() turns true after this many progress calls */
    int progress_calls;        /* tool_progress() calls */
    double progress, total;    /* last progress and total */
    char message[256];         /* last message given */
    int messages;              /* calls with a message */
    char logged[256];          /* "level:data" of the last tool_log() */
    int logs;                  /* tool_log() calls */
};

const json_t *tool_args(const struct tool_ctx *ctx)
{
    return ctx->args;
}

const char *tool_task_id(const struct tool_ctx *ctx)
{
    return ctx->task_id;
}

const char *tool_traceparent(const struct tool_ctx *ctx)
{
    return "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01";
}

const char *tool_tracestate(const struct tool_ctx *ctx)
{
    return NULL;
}

void tool_progress(struct tool_ctx *ctx, double progress, double total, const char *msg)
{
    ctx->progress_calls++;
    ctx->progress = progress;
    ctx->total = total;
    if (msg) {
        snprintf(ctx->message, sizeof(ctx->message), "%s", msg);
        ctx->messages++;
    }
}

void tool_log(struct tool_ctx *ctx, const char *level, json_t *data)
{
    char *text = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(ctx->logged, sizeof(ctx->logged), "%s:%s", level, text ? text : "?");
    free(text);
    json_decref(data);
    ctx->logs++;
}

static char retried[512]; /* the message of the last tool_retry_later() */

void tool_retry_later(struct tool_ctx *ctx, const char *message)
{
    snprintf(retried, sizeof(retried), "%s", message);
}

bool tool_cancelled(struct tool_ctx *ctx)
{
    return ctx->cancel_after_progress > 0 && ctx->progress_calls >= ctx->cancel_after_progress;
}

bool tool_sleep_ms(struct tool_ctx *ctx, int64_t ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return !tool_cancelled(ctx);
}

json_t *tool_text_result(const char *text, bool is_error)
{
    return json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text", text, "isError",
                     is_error);
}

json_t *tool_text_resultf(bool is_error, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return tool_text_result(text, is_error);
}

json_t *tool_error(int code, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return json_pack("{s:i, s:s}", "code", code, "message", text);
}

/* ---- helpers ---- */

static char dir[64]; /* this run's scratch folder */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int setup_dir(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/test_exttool.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    int rc = nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (rc != 0)
        fprintf(stderr, "cannot remove %s: %s\n", dir, strerror(errno));
    return rc;
}

/* Write an executable /bin/sh script 'name' holding 'body'; its path in 'path'. */
static void script(char *path, size_t cap, const char *name, const char *body)
{
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0755), 0);
}

/* Read dir/name into buf as a string. */
static void read_file(const char *name, char *buf, size_t cap)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Descriptors open in this process. */
static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* Reap orphans handed to us (we are a subreaper); true if 'pid' is gone. */
static bool gone(pid_t pid)
{
    waitpid(pid, NULL, WNOHANG);
    return kill(pid, 0) == -1 && errno == ESRCH;
}

/* Assert that the process whose pid the tool wrote to dir/gc.pid is gone within 2 s. */
static void assert_grandchild_gone(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/gc.pid", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    long pid = 0;
    assert_int_equal(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    unlink(path); /* the next test waits for a fresh one */
    assert_true(pid > 1);
    bool ok = false;
    for (int i = 0; i < 200 && !(ok = gone((pid_t)pid)); i++)
        nanosleep(&(struct timespec){0, 10000000L}, NULL);
    if (!ok) { /* do not leave it running */
        kill((pid_t)pid, SIGKILL);
        waitpid((pid_t)pid, NULL, 0);
    }
    assert_true(ok);
}

/*
 * Run 'spec' with 'args_json' in 'ctx' (zeroed when NULL); checks that the run
 * left no descriptor open and no child (zombie or not) behind.
 */
static json_t *run(struct tool_ctx *ctx, const char *args_json, json_t *spec, json_t **error,
                   int64_t *elapsed_ms)
{
    struct tool_ctx local = {0};
    if (!ctx)
        ctx = &local;
    json_t *args = json_loads(args_json ? args_json : "{}", 0, NULL);
    assert_non_null(args);
    ctx->args = args;
    if (!ctx->task_id)
        ctx->task_id = "0190a5d0-0000-7000-8000-000000000001";
    int fds = count_fds();
    int64_t t0 = clock_now_ms();
    json_t *r = exttool_run(ctx, spec, error);
    if (elapsed_ms)
        *elapsed_ms = clock_now_ms() - t0;
    assert_int_equal(count_fds(), fds);
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ; /* orphaned grandchildren come to us as the subreaper */
    json_decref(spec);
    json_decref(args);
    ctx->args = NULL;
    return r;
}

static json_t *spec_of(const char *path, const char *extra_json)
{
    json_t *spec = extra_json ? json_loads(extra_json, 0, NULL) : json_object();
    assert_non_null(spec);
    json_object_set_new(spec, "name", json_string("t"));
    json_object_set_new(spec, "argv", json_pack("[s, s]", path, dir));
    return spec;
}

static const char *text_of(const json_t *result)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(result, "content"), 0), "text"));
}

static bool is_error(const json_t *result)
{
    return json_is_true(json_object_get(result, "isError"));
}

/* ---- runs ---- */

static void test_run_success_with_progress_and_result(void **state)
{
    char path[256];
    script(path, sizeof(path), "ok.sh",
           "read -r args\n"
           "echo '{\"progress\":1,\"total\":2,\"message\":\"half\"}'\n"
           "echo 'this is not protocol'\n"
           "echo '{\"status\":\"almost\"}'\n"
           "echo '{\"log\":{\"data\":\"plain\"}}'\n"
           "echo '{\"log\":{\"level\":\"warning\",\"data\":{\"n\":1}}}'\n"
           "echo '{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"first\"}]}}'\n"
           "printf '{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"ok\"}],"
           "\"structuredContent\":{\"args\":%s,\"task\":\"%s\",\"path\":\"%s\","
           "\"allowed\":\"%s\",\"secret\":\"%s\",\"dsn\":\"%s\"}}}' \"$args\" "
           "\"$TASKWIRE_TASK_ID\" \"$PATH\" \"${TW_TEST_ALLOWED-unset}\" "
           "\"${TW_TEST_SECRET-unset}\" \"${TASKWIRE_PG_DSN-unset}\"\n"); /* no final \n */
    setenv("TW_TEST_ALLOWED", "yes", 1);
    setenv("TW_TEST_SECRET", "hunter2", 1);
    setenv("TASKWIRE_PG_DSN", "password=hunter2", 1);
    struct tool_ctx ctx = {.task_id = "0190a5d0-0000-7000-8000-00000000abcd"};
    json_t *error = NULL;
    json_t *r =
        run(&ctx, "{\"x\":\"a b\",\"n\":1}",
            spec_of(path, "{\"env\":[\"TW_TEST_ALLOWED\",\"TASKWIRE_PG_DSN\"]}"), &error, NULL);
    assert_non_null(r);
    assert_null(error);
    assert_false(is_error(r));
    assert_string_equal(text_of(r), "ok"); /* the last result wins */
    json_t *sc = json_object_get(r, "structuredContent");
    json_t *want = json_loads("{\"x\":\"a b\",\"n\":1}", 0, NULL);
    assert_true(json_equal(json_object_get(sc, "args"), want));
    json_decref(want);
    assert_string_equal(json_string_value(json_object_get(sc, "task")), ctx.task_id);
    assert_string_equal(json_string_value(json_object_get(sc, "path")),
                        "/usr/local/bin:/usr/bin:/bin");
    assert_string_equal(json_string_value(json_object_get(sc, "allowed")), "yes");
    assert_string_equal(json_string_value(json_object_get(sc, "secret")), "unset");
    assert_string_equal(json_string_value(json_object_get(sc, "dsn")), "unset");
    /* progress, then the status message alone with the progress kept */
    assert_int_equal(ctx.progress_calls, 2);
    assert_int_equal(ctx.messages, 2);
    assert_true(ctx.progress == 1 && ctx.total == 2);
    assert_string_equal(ctx.message, "almost");
    assert_int_equal(ctx.logs, 2); /* log lines reach tool_log(), info by default */
    assert_string_equal(ctx.logged, "warning:{\"n\":1}");
    json_decref(r);
    unsetenv("TW_TEST_ALLOWED");
    unsetenv("TW_TEST_SECRET");
    unsetenv("TASKWIRE_PG_DSN");
}

static void test_run_nonzero_exit_quotes_stderr(void **state)
{
    char path[256];
    script(path, sizeof(path), "fail.sh",
           "echo '{\"result\":{\"content\":[]}}'\necho 'first line' >&2\n"
           "echo 'oops: disk full' >&2\nexit 3");
    json_t *error = NULL;
    json_t *r = run(NULL, NULL, spec_of(path, NULL), &error, NULL);
    assert_non_null(r);
    assert_true(is_error(r));
    assert_string_equal(text_of(r), "exit status 3: first line\noops: disk full");
    json_decref(r);

    script(path, sizeof(path), "quiet.sh", "exit 4");
    r = run(NULL, NULL, spec_of(path, NULL), &error, NULL);
    assert_string_equal(text_of(r), "exit status 4");
    json_decref(r);
}

static void test_run_exit_75_asks_for_a_retry(void **state)
{
    char path[256];
    script(path, sizeof(path), "tempfail.sh", "echo 'backend busy' >&2\nexit 75");
    json_t *error = NULL;
    retried[0] = '\0';
    json_t *r = run(NULL, NULL, spec_of(path, NULL), &error, NULL);
    assert_null(r); /* no outcome: the runner queues the task again */
    assert_null(error);
    assert_string_equal(retried, "temporary failure (exit status 75): backend busy");
}

static void test_run_stderr_tail_is_bounded_and_valid_utf8(void **state)
{
    char path[256];
    script(path, sizeof(path), "noisy.sh",
           "head -c 100000 /dev/zero | tr '\\000' x >&2\n"
           "printf '\\n\\303\\251t\\303\\251 \\377 \\000 END\\n' >&2\nexit 1");
    json_t *error = NULL;
    json_t *r = run(NULL, NULL, spec_of(path, "{\"maxStderrBytes\":10000}"), &error, NULL);
    assert_non_null(r);
    const char *t = text_of(r);
    assert_non_null(t);
    assert_true(strncmp(t, "exit status 1: xxx", 18) == 0);
    assert_true(strlen(t) < 15 + 2 * EXTPROTO_ERR_TAIL);
    const char *end = "\n\xc3\xa9t\xc3\xa9 \xEF\xBF\xBD \xEF\xBF\xBD END";
    assert_string_equal(t + strlen(t) - strlen(end), end);
    json_decref(r);
}

static void test_run_exit_zero_without_result(void **state)
{
    char path[256];
    script(path, sizeof(path), "nores.sh", "echo '{\"progress\":1}'\necho garbage\nexit 0");
    json_t *error = NULL;
    json_t *r = run(NULL, NULL, spec_of(path, NULL), &error, NULL);
    assert_non_null(r);
    assert_null(error);
    assert_true(is_error(r));
    assert_string_equal(text_of(r), "tool exited without a result");
    json_decref(r);
}

static void test_run_killed_by_signal(void **state)
{
    char path[256];
    script(path, sizeof(path), "selfkill.sh", "echo dying >&2\nkill -KILL $$");
    json_t *error = NULL;
    json_t *r = run(NULL, NULL, spec_of(path, NULL), &error, NULL);
    assert_string_equal(text_of(r), "killed by signal 9 (SIGKILL): dying");
    json_decref(r);
}

static void test_run_timeout_kills_process_group(void **state)
{
    char path[256];
    script(path, sizeof(path), "hang.sh", "sleep 1000 &\necho $! > \"$1/gc.pid\"\nwait");
    json_t *error = NULL;
    int64_t ms;
    json_t *r =
        run(NULL, NULL, spec_of(path, "{\"timeoutMs\":300,\"killGraceMs\":2000}"), &error, &ms);
    assert_non_null(r);
    assert_true(is_error(r));
    assert_string_equal(text_of(r), "timed out after 300 ms");
    assert_true(ms >= 300 && ms < 1500);
    json_decref(r);
    assert_grandchild_gone();
}

static void test_run_timeout_sigkills_after_grace(void **state)
{
    char path[256];
    /* Everything ignores SIGTERM: only the SIGKILL to the group after the grace ends it. */
    script(path, sizeof(path), "stubborn.sh",
           "trap '' TERM\nsleep 1000 &\necho $! > \"$1/gc.pid\"\nwait");
    json_t *error = NULL;
    int64_t ms;
    json_t *r =
        run(NULL, NULL, spec_of(path, "{\"timeoutMs\":200,\"killGraceMs\":300}"), &error, &ms);
    assert_string_equal(text_of(r), "timed out after 200 ms");
    assert_true(ms >= 500 && ms < 1800);
    json_decref(r);
    assert_grandchild_gone();
}

static void test_run_cancel_stops_process_group(void **state)
{
    char path[256];
    script(path, sizeof(path), "long.sh",
           "sleep 1000 &\necho $! > \"$1/gc.pid\"\necho '{\"progress\":1,\"total\":9}'\nwait");
    struct tool_ctx ctx = {.cancel_after_progress = 1};
    json_t *error = NULL;
    int64_t ms;
    json_t *r = run(&ctx, NULL, spec_of(path, "{\"killGraceMs\":5000}"), &error, &ms);
    assert_null(r);
    assert_non_null(error);
    assert_int_equal(json_integer_value(json_object_get(error, "code")), MCP_EINTERNAL);
    assert_string_equal(json_string_value(json_object_get(error, "message")), "cancelled");
    assert_true(ms < 1000); /* SIGTERM was enough; no wait for the grace */
    json_decref(error);
    assert_grandchild_gone();
}

static void test_run_cancel_sends_sigterm_to_the_whole_group(void **state)
{
    char path[256], got[16];
    /* A grandchild that cleans up on SIGTERM, and holds stdout so the run waits for it. */
    script(path, sizeof(path), "group.sh",
           "sh -c 'trap \"echo term > \\\"$0/gc.term\\\"; exit 0\" TERM; "
           "echo $$ > \"$0/gc.pid\"; sleep 1000 & wait' \"$1\" &\n"
           "while [ ! -s \"$1/gc.pid\" ]; do sleep 0.01; done\n"
           "echo '{\"progress\":1}'\nwait");
    struct tool_ctx ctx = {.cancel_after_progress = 1};
    json_t *error = NULL;
    json_t *r = run(&ctx, NULL, spec_of(path, NULL), &error, NULL);
    assert_null(r);
    json_decref(error);
    read_file("gc.term", got, sizeof(got));
    assert_string_equal(got, "term\n");
    assert_grandchild_gone();
}

static void test_run_leftovers_die_when_the_tool_exits(void **state)
{
    char path[256];
    /* The leftover does not hold the pipes: the run ends at once and kills it. */
    script(path, sizeof(path), "daemon.sh",
           "sleep 1000 >/dev/null 2>&1 &\necho $! > \"$1/gc.pid\"\n"
           "echo '{\"result\":{\"content\":[]}}'");
    json_t *error = NULL;
    int64_t ms;
    json_t *r = run(NULL, NULL, spec_of(path, NULL), &error, &ms);
    assert_non_null(r);
    assert_false(is_error(r));
    assert_true(ms < 400);
    json_decref(r);
    assert_grandchild_gone();

    /* The leftover holds stdout: the run waits EXTTOOL_DRAIN_MS, then kills it. */
    script(path, sizeof(path), "holder.sh",
           "sleep 1000 &\necho $! > \"$1/gc.pid\"\necho '{\"result\":{\"content\":[]}}'");
    r = run(NULL, NULL, spec_of(path, NULL), &error, &ms);
    assert_non_null(r);
    assert_false(is_error(r));
    assert_true(ms >= EXTTOOL_DRAIN_MS && ms < EXTTOOL_DRAIN_MS + 1000);
    json_decref(r);
    assert_grandchild_gone();
}

struct job {
    pthread_t thread;    /* runs exttool_run */
    struct tool_ctx ctx; /* its context */
    json_t *spec;        /* stolen by the run */
    json_t *result;      /* what it returned */
    json_t *error;       /* or this */
    bool block_signals;  /* block SIGTERM and SIGINT in the thread first, as the worker does */
};

static void *job_main(void *arg)
{
    struct job *j = arg;
    if (j->block_signals) {
        sigset_t block;
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGINT);
        pthread_sigmask(SIG_BLOCK, &block, NULL);
    }
    j->result = exttool_run(&j->ctx, j->spec, &j->error);
    json_decref(j->spec);
    return NULL;
}

static void test_run_child_gets_default_signals(void **state)
{
    char cmd[256], got[128];
    /* The worker ignores SIGPIPE and its slot threads block SIGTERM and SIGINT: none of
     * that may reach the child. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGPIPE, &ign, &old);
    snprintf(cmd, sizeof(cmd), "exec grep -E '^Sig(Blk|Ign)' /proc/self/status > \"$0/sig\"");
    json_t *args = json_object();
    struct job j = {.ctx = {.args = args, .task_id = "t"},
                    .block_signals = true,
                    .spec = json_pack("{s:[s, s, s, s]}", "argv", "/bin/sh", "-c", cmd, dir)};
    assert_int_equal(pthread_create(&j.thread, NULL, job_main, &j), 0);
    pthread_join(j.thread, NULL);
    sigaction(SIGPIPE, &old, NULL);
    json_decref(j.result);
    json_decref(j.error);
    json_decref(args);
    read_file("sig", got, sizeof(got));
    assert_string_equal(got, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

static void test_run_output_limit(void **state)
{
    char path[256];
    script(path, sizeof(path), "chatty.sh", "yes '{\"status\":\"spam\"}'");
    json_t *error = NULL;
    json_t *r = run(NULL, NULL, spec_of(path, "{\"maxOutputBytes\":1000}"), &error, NULL);
    assert_string_equal(text_of(r), "output limit exceeded");
    assert_true(is_error(r));
    json_decref(r);

    /* one endless line */
    script(path, sizeof(path), "longline.sh", "head -c 5000 /dev/zero | tr '\\000' x\nsleep 5");
    r = run(NULL, NULL, spec_of(path, "{\"maxOutputBytes\":4096}"), &error, NULL);
    assert_string_equal(text_of(r), "output limit exceeded");
    json_decref(r);

    /* exactly at the limit is fine */
    script(path, sizeof(path), "exact.sh", "echo '{\"result\":{\"content\":[]}}'");
    r = run(NULL, NULL, spec_of(path, "{\"maxOutputBytes\":26}"), &error, NULL);
    assert_false(is_error(r));
    json_decref(r);
}

static void test_run_large_arguments(void **state)
{
    char path[256];
    size_t big = 1 << 20;
    char *args = malloc(big + 16);
    assert_non_null(args);
    memcpy(args, "{\"t\":\"", 6);
    memset(args + 6, 'a', big);
    memcpy(args + 6 + big, "\"}", 3);
    script(
        path, sizeof(path), "count.sh",
        "n=$(wc -c)\nprintf '{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"%s\"}]}}\\n'"
        " \"$n\"");
    json_t *error = NULL;
    json_t *r = run(NULL, args, spec_of(path, NULL), &error, NULL);
    char want[32];
    snprintf(want, sizeof(want), "%zu", big + 9); /* {"t":"...."} and \n */
    assert_string_equal(text_of(r), want);
    json_decref(r);

    /* A child that never reads its 1 MiB of arguments: no SIGPIPE, no hang. */
    script(path, sizeof(path), "deaf.sh", "exec 0<&-\nsleep 0.3\nexit 5");
    r = run(NULL, args, spec_of(path, NULL), &error, NULL);
    assert_string_equal(text_of(r), "exit status 5");
    json_decref(r);
    free(args);
}

static void test_run_start_failures(void **state)
{
    char path[256], missing[256];
    json_t *error = NULL;
    snprintf(missing, sizeof(missing), "%s/missing.sh", dir);
    json_t *r = run(NULL, NULL, spec_of(missing, NULL), &error, NULL);
    assert_null(r);
    assert_non_null(error);
    const char *msg = json_string_value(json_object_get(error, "message"));
    assert_non_null(strstr(msg, "cannot start tool t: exec"));
    assert_non_null(strstr(msg, "No such file or directory"));
    json_decref(error);

    script(path, sizeof(path), "noexec.sh", "exit 0");
    assert_int_equal(chmod(path, 0644), 0);
    r = run(NULL, NULL, spec_of(path, NULL), &error, NULL);
    assert_null(r);
    /* Even root needs an x bit to execute a file. */
    assert_non_null(
        strstr(json_string_value(json_object_get(error, "message")), "Permission denied"));
    json_decref(error);

    script(path, sizeof(path), "cwd.sh", "exit 0");
    r = run(NULL, NULL, spec_of(path, "{\"cwd\":\"/nonexistent/dir\"}"), &error, NULL);
    assert_null(r);
    assert_non_null(
        strstr(json_string_value(json_object_get(error, "message")), "chdir /nonexistent/dir"));
    json_decref(error);

    r = run(NULL, NULL, json_pack("{s:[]}", "argv"), &error, NULL);
    assert_null(r);
    assert_non_null(
        strstr(json_string_value(json_object_get(error, "message")), "invalid exec spec"));
    json_decref(error);
}

static void test_run_cwd_and_descriptors(void **state)
{
    char path[256];
    script(
        path, sizeof(path), "where.sh",
        "printf '{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"%s\"}]}}\\n' \"$(pwd)\"");
    json_t *spec = spec_of(path, NULL);
    json_object_set_new(spec, "cwd", json_string(dir));
    json_t *error = NULL;
    json_t *r = run(NULL, NULL, spec, &error, NULL);
    char real[PATH_MAX];
    assert_non_null(realpath(dir, real));
    assert_string_equal(text_of(r), real);
    json_decref(r);

    /* A descriptor this process leaks without O_CLOEXEC must not reach the child. */
    int leak = open("/dev/null", O_RDONLY);
    assert_true(leak > 2);
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "echo '{\"result\":{\"content\":[]}}'; exec ls /proc/self/fd > \"$0/fds\"");
    r = run(NULL, NULL, json_pack("{s:[s, s, s, s]}", "argv", "/bin/sh", "-c", cmd, dir), &error,
            NULL);
    close(leak);
    assert_false(is_error(r));
    json_decref(r);
    char fds[128];
    read_file("fds", fds, sizeof(fds));
    assert_string_equal(fds, "0\n1\n2\n3\n"); /* 3: the folder ls reads; nothing inherited */
}

static void test_runs_concurrently_without_sharing_descriptors(void **state)
{
    enum { JOBS = 4 };
    struct job jobs[JOBS];
    json_t *args = json_object();
    int fds = count_fds();
    for (int i = 0; i < JOBS; i++) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd),
                 "echo '{\"progress\":%d}'; echo '{\"result\":{\"content\":[]}}'; "
                 "sleep 0.3; exec ls /proc/self/fd > \"$0/fds%d\"",
                 i + 1, i);
        memset(&jobs[i], 0, sizeof(jobs[i]));
        jobs[i].ctx.args = args;
        jobs[i].ctx.task_id = "t";
        jobs[i].spec = json_pack("{s:[s, s, s, s]}", "argv", "/bin/sh", "-c", cmd, dir);
        assert_int_equal(pthread_create(&jobs[i].thread, NULL, job_main, &jobs[i]), 0);
    }
    for (int i = 0; i < JOBS; i++)
        pthread_join(jobs[i].thread, NULL); /* all of them before any assertion */
    for (int i = 0; i < JOBS; i++) {
        assert_non_null(jobs[i].result);
        assert_false(is_error(jobs[i].result));
        assert_true(jobs[i].ctx.progress == i + 1);
        json_decref(jobs[i].result);
        char name[16], got[128];
        snprintf(name, sizeof(name), "fds%d", i);
        read_file(name, got, sizeof(got));
        assert_string_equal(got, "0\n1\n2\n3\n");
    }
    json_decref(args);
    assert_int_equal(count_fds(), fds);
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

int main(void)
{
    /* Orphans of killed tools come to this process, so the tests can see them die. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        return 1;
    /* Unlike the worker, keep SIGPIPE fatal, so a write to a closed stdin pipe would show. */
    signal(SIGPIPE, SIG_DFL);
    log_init("test_exttool", LOGL_ERROR, true);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_success_with_progress_and_result),
        cmocka_unit_test(test_run_nonzero_exit_quotes_stderr),
        cmocka_unit_test(test_run_exit_75_asks_for_a_retry),
        cmocka_unit_test(test_run_stderr_tail_is_bounded_and_valid_utf8),
        cmocka_unit_test(test_run_exit_zero_without_result),
        cmocka_unit_test(test_run_killed_by_signal),
        cmocka_unit_test(test_run_timeout_kills_process_group),
        cmocka_unit_test(test_run_timeout_sigkills_after_grace),
        cmocka_unit_test(test_run_cancel_stops_process_group),
        cmocka_unit_test(test_run_cancel_sends_sigterm_to_the_whole_group),
        cmocka_unit_test(test_run_leftovers_die_when_the_tool_exits),
        cmocka_unit_test(test_run_child_gets_default_signals),
        cmocka_unit_test(test_run_output_limit),
        cmocka_unit_test(test_run_large_arguments),
        cmocka_unit_test(test_run_start_failures),
        cmocka_unit_test(test_run_cwd_and_descriptors),
        cmocka_unit_test(test_runs_concurrently_without_sharing_descriptors),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
