/*
 * startup.c - settings, the informational flags and logging for the daemons.
 *
 * Shared by taskwire-frontend and taskwire-worker so that --help, --version,
 * --print-config, --check-config and the log settings behave the same in
 * both.  It does not start threads or open sockets.  Invariant: nothing is
 * logged before the log level is known; errors before that go to stderr.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "startup.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"

/*
 * Load 'sp->opts' from the environment and argv, then:
 * --help and --version print and return STARTUP_DONE; otherwise the log level
 * and the program's check must pass (else the reason goes to stderr, prefixed
 * with the program name, and -STARTUP_ECONFIG is returned); --print-config
 * prints the values and --check-config nothing, both returning STARTUP_DONE;
 * else logging starts and STARTUP_RUN is returned.  Call once, from main().
 */
int startup_begin(const struct startup *sp, int argc, char **argv)
{
    struct err e = {0};
    int rc = cfg_load(sp->opts, sp->nopts, argc, argv, NULL, &e);
    if (rc == CFG_HELP) {
        cfg_print_help(stdout, sp->usage, sp->opts, sp->nopts);
        return STARTUP_DONE;
    }
    if (rc == CFG_VERSION) {
        printf("%s %s\n", sp->program, TASKWIRE_VERSION);
        return STARTUP_DONE;
    }
    enum log_level level = LOGL_INFO;
    if (rc >= 0 && log_level_parse(*sp->log_level, &level) < 0)
        rc = err_set(&e, -CFG_EINVALID, "TASKWIRE_LOG_LEVEL: '%s' is not a level", *sp->log_level);
    if (rc >= 0 && sp->check && sp->check(sp->check_arg, &e) < 0)
        rc = -CFG_EINVALID;
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", sp->program, e.msg);
        return -STARTUP_ECONFIG;
    }
    if (rc == CFG_PRINT)
        cfg_print(stdout, sp->opts, sp->nopts);
    if (rc == CFG_PRINT || rc == CFG_CHECK)
        return STARTUP_DONE;
    log_init(sp->service, level, *sp->log_text);
    return STARTUP_RUN;
}

/* jansson's allocator: malloc, or a one-line message and abort() when it fails. */
static void *json_malloc_or_abort(size_t n)
{
    void *p = malloc(n);
    if (!p && n) {
        static const char msg[] = "taskwire: out of memory in JSON handling; aborting\n";
        ssize_t unused = write(STDERR_FILENO, msg, sizeof(msg) - 1);
        (void)unused;
        abort();
    }
    return p;
}

/* Route jansson's allocations through json_malloc_or_abort().  Not thread-safe: call from
 * main() before any thread or JSON exists. */
void startup_json_abort_on_oom(void)
{
    json_set_alloc_funcs(json_malloc_or_abort, free);
}

/* Block SIGTERM and SIGINT for sigwait(); SIGPIPE is ignored (write errors instead). */
void startup_block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}
