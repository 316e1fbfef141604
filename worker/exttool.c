/*
 * exttool.c - run external-process tools under the C tool API.
 *
 * Starts the child in its own process group, feeds it the arguments on stdin,
 * reads its stdout line protocol and the tail of its stderr with poll(), and
 * enforces the timeout, the output limit and cancellation.  Parsing lines and
 * specs and wording outcomes is worker/extproto.c; the task is reached only
 * through the tool API (tools.h).  It does not look inside results beyond
 * their shape, and never logs tool output.  Invariant: whatever happens, a
 * run ends with the process group killed, the child reaped and every
 * descriptor it opened closed.  No global state, so slots run tools
 * concurrently.  Format: proto/tools-manifest.md.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _GNU_SOURCE /* pipe2(), close_range(), GNU strerror_r() */
#include "exttool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "extproto.h"
#include "log.h"
#include "mcpdefs.h"

#define EXTTOOL_TICK_MS  50    /* longest poll: how fast a cancel or the timeout is noticed */
#define EXTTOOL_DRAIN_MS 500   /* after the child exits: how long its pipes may stay open */
#define EXTTOOL_CHUNK    65536 /* bytes per read(2) */
#define EXTTOOL_FD_SCAN  65536 /* highest descriptor closed by hand without close_range() */

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* ---- spawning ---- */

enum exec_stage { STAGE_SETUP, STAGE_CHDIR, STAGE_EXEC };

struct exec_failure {
    int stage; /* enum exec_stage: what failed in the child */
    int error; /* its errno */
};

/* Move 'fd' above 2, so that dup2() onto 0..2 in the child cannot clobber it. */
static int fd_above_stdio(int fd)
{
    if (fd > 2)
        return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3), saved = errno;
    close(fd);
    errno = saved;
    return moved;
}

static int pipe_cloexec(int p[2])
{
    if (pipe2(p, O_CLOEXEC) < 0) {
        p[0] = p[1] = -1;
        return -errno;
    }
    p[0] = fd_above_stdio(p[0]);
    p[1] = fd_above_stdio(p[1]);
    if (p[0] < 0 || p[1] < 0) {
        int e = errno;
        close_fd(&p[0]);
        close_fd(&p[1]);
        return -e;
    }
    return 0;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

/*
 * The child between fork() and execve(): only async-signal-safe calls, no
 * allocation (the worker is multi-threaded).  A failure is reported on
 * 'status_w' (O_CLOEXEC, so end of file tells the parent execve succeeded).
 */
static _Noreturn void child_exec(const struct extproto_spec *sp, char *const *envp, int in_r,
                                 int out_w, int err_w, int status_w, pid_t parent, int max_fd)
{
    struct exec_failure f = {STAGE_SETUP, 0};
    struct sigaction dfl;
    sigset_t none;

    /* Linux: die with the worker; the check covers a worker that died before prctl(). */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        goto out_report;
    if (setpgid(0, 0) < 0)
        goto out_report;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &dfl, NULL); /* libc-internal signals refuse; that is fine */
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
        goto out_report;
    if (dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
        goto out_report;
    /* Keep the status pipe as fd 3 (still close-on-exec) and close everything above. */
    if (status_w != 3) {
        if (dup2(status_w, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
            goto out_report;
        status_w = 3;
    }
    if (close_range(4, ~0U, 0) < 0)
        for (int fd = 4; fd < max_fd; fd++)
            close(fd);
    if (sp->cwd && chdir(sp->cwd) < 0) {
        f.stage = STAGE_CHDIR;
        goto out_report;
    }
    execve(sp->argv[0], (char *const *)sp->argv, envp);
    f.stage = STAGE_EXEC;
out_report:
    f.error = errno;
    ssize_t n = write(status_w, &f, sizeof(f));
    (void)n;
    _exit(127);
}

/* Wait for 'pid' to end and reap it; its wait status, or -1 if it was not our child. */
static int reap(pid_t pid)
{
    int status;
    pid_t w;
    do
        w = waitpid(pid, &status, 0);
    while (w < 0 && errno == EINTR);
    return w == pid ? status : -1;
}

/* ---- one run ---- */

enum stop_reason {
    STOP_NONE,    /* running, or ended by itself */
    STOP_CANCEL,  /* the task was cancelled, its lease lost, or the worker stops */
    STOP_TIMEOUT, /* timeoutMs passed */
    STOP_OUTPUT,  /* stdout went over maxOutputBytes */
    STOP_NOMEM,   /* no memory for the stdout line */
};

struct run {
    struct tool_ctx *ctx;           /* the task */
    const struct extproto_spec *sp; /* what to run and the limits */
    pid_t pid;                      /* the child, also its process group id; -1 before spawning */
    int in_fd;                      /* write end of the child's stdin, -1 once closed */
    int out_fd;                     /* read end of its stdout, -1 at end of file */
    int err_fd;                     /* read end of its stderr, -1 at end of file */
    char *in_buf;                   /* the arguments document */
    size_t in_len, in_off;          /* its length, bytes written so far */
    char *line;                     /* the stdout line being assembled */
    size_t line_len;                /* bytes in 'line' */
    size_t line_cap;                /* allocated bytes of 'line' */
    size_t out_total;               /* stdout bytes received */
    char *err_buf;                  /* the last stderr bytes (max_err allocated), or NULL */
    size_t err_len;                 /* bytes in err_buf */
    size_t err_total;               /* stderr bytes received */
    json_t *result;                 /* last valid result line, or NULL */
    double progress, total;         /* last progress reported (-1 before any), its total */
    unsigned long ignored;          /* lines that were not protocol messages */
    enum stop_reason stop;          /* why the worker stopped the run */
    int64_t started_ms;             /* spawn time (monotonic) */
    int64_t term_ms;                /* when SIGTERM went out */
    int64_t exit_ms;                /* when the child was seen to exit */
    bool exited;                    /* the child exited (not yet reaped) */
    bool killed;                    /* SIGKILL went out */
};

/* How many descriptors a child closes by hand when close_range() is missing. */
static int fd_scan_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < EXTTOOL_FD_SCAN)
        return (int)rl.rlim_cur;
    return EXTTOOL_FD_SCAN;
}

static void close_pipe(int p[2])
{
    close_fd(&p[0]);
    close_fd(&p[1]);
}

/*
 * Wait for the child's report on the status pipe: end of file once execve()
 * succeeded (0), else the failed stage and errno.  Either way the child has
 * left its setpgid() behind, so kill(-pid, ...) reaches it from here on.  On
 * failure the child is reaped and a negative errno returned with 'err' set.
 */
static int await_exec(const struct run *r, pid_t pid, int status_fd, struct err *err)
{
    static const char *const stage[] = {"setup", "chdir", "exec"};
    struct exec_failure f;
    ssize_t n;
    int rc;
    do
        n = read(status_fd, &f, sizeof(f));
    while (n < 0 && errno == EINTR);
    if (n == 0)
        return 0;
    if (n == (ssize_t)sizeof(f) && f.stage >= STAGE_SETUP && f.stage <= STAGE_EXEC) {
        rc = f.error > 0 ? -f.error : -EIO;
        err_set(err, rc, "%s %s: %s", stage[f.stage],
                f.stage == STAGE_CHDIR ? r->sp->cwd : r->sp->argv[0],
                strerror_r(-rc, (char[128]){0}, 128));
    } else {
        rc = -EIO;
        err_set(err, rc, "lost track of the child starting");
        kill(pid, SIGKILL);
    }
    reap(pid);
    return rc;
}

/* Start the child.  0, or a negative errno with 'err' set; nothing left open on failure. */
static int spawn(struct run *r, char *const *envp, struct err *err)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1}, st[2] = {-1, -1}, rc;
    int max_fd = fd_scan_limit();

    if ((rc = pipe_cloexec(in)) < 0 || (rc = pipe_cloexec(out)) < 0 ||
        (rc = pipe_cloexec(er)) < 0 || (rc = pipe_cloexec(st)) < 0) {
        err_set(err, rc, "cannot create pipes: %s", strerror_r(-rc, (char[128]){0}, 128));
        goto out_close_pipes;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        rc = -errno;
        err_set(err, rc, "fork: %s", strerror_r(-rc, (char[128]){0}, 128));
        goto out_close_pipes;
    }
    if (pid == 0)
        child_exec(r->sp, envp, in[0], out[1], er[1], st[1], parent, max_fd);

    close_fd(&in[0]);
    close_fd(&out[1]);
    close_fd(&er[1]);
    close_fd(&st[1]);
    if ((rc = await_exec(r, pid, st[0], err)) < 0)
        goto out_close_pipes;
    close_fd(&st[0]);
    r->pid = pid;
    r->in_fd = in[1];
    r->out_fd = out[0];
    r->err_fd = er[0];
    /* Only our ends: the child's ends are separate open file descriptions. */
    if (set_nonblock(r->in_fd) < 0 || set_nonblock(r->out_fd) < 0 || set_nonblock(r->err_fd) < 0)
        LOG_WARN("cannot make tool pipes non-blocking", "tool", r->sp->name);
    return 0;

out_close_pipes:
    close_pipe(in);
    close_pipe(out);
    close_pipe(er);
    close_pipe(st);
    return rc;
}

/* Begin stopping the run: SIGTERM to the process group (the first reason wins). */
static void stop_run(struct run *r, enum stop_reason why)
{
    if (r->stop != STOP_NONE)
        return;
    r->stop = why;
    r->term_ms = clock_now_ms();
    if (!r->exited)
        kill(-r->pid, SIGTERM);
}

/*
 * write(2) that never raises SIGPIPE in this process, whatever its signal
 * disposition: SIGPIPE is blocked in this thread for the call, and one the
 * call raised is consumed before it is unblocked.
 */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigemptyset(&pending);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t n = write(fd, buf, len);
    int saved = errno;
    if (n < 0 && saved == EPIPE && !was_pending) {
        const struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return n;
}

/* Write what the pipe takes of the arguments; close stdin when done or refused. */
static void feed_stdin(struct run *r)
{
    while (r->in_off < r->in_len) {
        ssize_t n = write_nosigpipe(r->in_fd, r->in_buf + r->in_off, r->in_len - r->in_off);
        if (n > 0) {
            r->in_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        } else {
            break; /* EPIPE: the child does not read its arguments, which is allowed */
        }
    }
    close_fd(&r->in_fd);
}

static void handle_line(struct run *r, const char *line, size_t len)
{
    struct extproto_event ev;
    struct err e = {0};
    if (extproto_parse_line(line, len, &ev, &e) < 0) {
        if (r->ignored++ == 0)
            LOG_WARN("external tool wrote a line that is not a protocol message; ignoring such "
                     "lines",
                     "task_id", tool_task_id(r->ctx), "tool", r->sp->name, "reason", e.msg);
        return;
    }
    switch (ev.kind) {
    case EXTPROTO_EV_BLANK:
        break;
    case EXTPROTO_EV_PROGRESS:
        r->progress = ev.progress;
        r->total = ev.total;
        tool_progress(r->ctx, ev.progress, ev.total, ev.has_message ? ev.message : NULL);
        break;
    case EXTPROTO_EV_STATUS:
        tool_progress(r->ctx, r->progress, r->total, ev.message);
        break;
    case EXTPROTO_EV_RESULT:
        json_decref(r->result);
        r->result = ev.result;
        ev.result = NULL;
        break;
    case EXTPROTO_EV_LOG:
        tool_log(r->ctx, ev.level, ev.result);
        ev.result = NULL;
        break;
    }
    extproto_event_fini(&ev);
}

/* Append stdout bytes and handle every complete line; false if the line cannot grow. */
static bool feed_stdout(struct run *r, const char *data, size_t n)
{
    if (r->line_len + n > r->line_cap) {
        /* out_total <= max_out bounds line_len + n, hence the cap. */
        size_t cap = r->line_cap ? r->line_cap : 4096;
        while (cap < r->line_len + n)
            cap = cap > SIZE_MAX / 2 ? SIZE_MAX : 2 * cap;
        if (cap > r->sp->max_out && r->sp->max_out >= r->line_len + n)
            cap = r->sp->max_out;
        char *grown = realloc(r->line, cap);
        if (!grown)
            return false;
        r->line = grown;
        r->line_cap = cap;
    }
    memcpy(r->line + r->line_len, data, n);
    size_t start = 0, scan = r->line_len;
    r->line_len += n;
    const char *nl;
    while ((nl = memchr(r->line + scan, '\n', r->line_len - scan))) {
        size_t end = (size_t)(nl - r->line);
        handle_line(r, r->line + start, end - start);
        start = scan = end + 1;
    }
    memmove(r->line, r->line + start, r->line_len - start);
    r->line_len -= start;
    return true;
}

/* One read(2) from stdout; at end of file the last unterminated line counts too. */
static void read_stdout(struct run *r, char *chunk)
{
    ssize_t n = read(r->out_fd, chunk, EXTTOOL_CHUNK);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n <= 0) {
        if (r->stop == STOP_NONE && r->line_len > 0)
            handle_line(r, r->line, r->line_len);
        r->line_len = 0;
        close_fd(&r->out_fd);
        return;
    }
    if (r->stop == STOP_OUTPUT || r->stop == STOP_NOMEM)
        return; /* draining a run being stopped */
    if ((size_t)n > r->sp->max_out - r->out_total) {
        r->out_total = r->sp->max_out;
        stop_run(r, STOP_OUTPUT);
        return;
    }
    r->out_total += (size_t)n;
    if (!feed_stdout(r, chunk, (size_t)n))
        stop_run(r, STOP_NOMEM);
}

/* One read(2) from stderr, keeping the last max_err bytes. */
static void read_stderr(struct run *r, char *chunk)
{
    ssize_t n = read(r->err_fd, chunk, EXTTOOL_CHUNK);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n <= 0) {
        close_fd(&r->err_fd);
        return;
    }
    size_t cap = r->sp->max_err;
    r->err_total += (size_t)n;
    if (cap == 0 || (!r->err_buf && !(r->err_buf = malloc(cap))))
        return; /* nothing kept: the error text just has no stderr */
    extproto_tail_keep(r->err_buf, cap, &r->err_len, chunk, (size_t)n);
}

/* True once the child exited; it stays unreaped so its pid (the group id) is not reused. */
static bool child_exited(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
        return errno != EINTR; /* ECHILD: reaped elsewhere (SIGCHLD ignored); treat as gone */
    return si.si_pid != 0;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/*
 * Notice the child's exit, a cancel, the timeout and the end of the kill
 * grace.  True once the run is over: the child exited and its pipes are
 * drained, or EXTTOOL_DRAIN_MS passed since it exited.
 */
static bool check_run(struct run *r, int64_t now, int64_t deadline)
{
    if (!r->exited && child_exited(r->pid)) {
        r->exited = true;
        r->exit_ms = now;
        close_fd(&r->in_fd);
    }
    if (r->exited && ((r->out_fd < 0 && r->err_fd < 0) || now - r->exit_ms >= EXTTOOL_DRAIN_MS))
        return true;
    if (r->stop == STOP_NONE) {
        if (tool_cancelled(r->ctx))
            stop_run(r, STOP_CANCEL);
        else if (!r->exited && now >= deadline)
            stop_run(r, STOP_TIMEOUT);
    }
    if (r->stop != STOP_NONE && !r->exited && !r->killed &&
        now - r->term_ms >= r->sp->kill_grace_ms) {
        kill(-r->pid, SIGKILL);
        r->killed = true;
    }
    return false;
}

/* How long the next poll may wait: a tick, or less when a drain, deadline or grace ends. */
static int next_wait_ms(const struct run *r, int64_t now, int64_t deadline)
{
    int64_t wait_ms = EXTTOOL_TICK_MS;
    if (r->exited)
        wait_ms = min64(wait_ms, r->exit_ms + EXTTOOL_DRAIN_MS - now);
    else if (r->stop == STOP_NONE)
        wait_ms = min64(wait_ms, deadline - now);
    else if (!r->killed)
        wait_ms = min64(wait_ms, r->term_ms + r->sp->kill_grace_ms - now);
    return wait_ms < 0 ? 0 : (int)wait_ms;
}

/* Poll the open pipes up to 'wait_ms' and service each one that is ready. */
static void poll_pipes(struct run *r, int wait_ms, char *chunk)
{
    struct pollfd pf[3];
    int nfds = 0, in_at = -1, out_at = -1, err_at = -1;
    if (r->in_fd >= 0) {
        in_at = nfds;
        pf[nfds++] = (struct pollfd){.fd = r->in_fd, .events = POLLOUT};
    }
    if (r->out_fd >= 0) {
        out_at = nfds;
        pf[nfds++] = (struct pollfd){.fd = r->out_fd, .events = POLLIN};
    }
    if (r->err_fd >= 0) {
        err_at = nfds;
        pf[nfds++] = (struct pollfd){.fd = r->err_fd, .events = POLLIN};
    }
    if (poll(pf, (nfds_t)nfds, wait_ms) <= 0)
        return;
    if (in_at >= 0 && pf[in_at].revents)
        feed_stdin(r);
    if (out_at >= 0 && pf[out_at].revents)
        read_stdout(r, chunk);
    if (err_at >= 0 && pf[err_at].revents)
        read_stderr(r, chunk);
}

/* Service the child until it has exited and its pipes are drained (or given up on). */
static void run_loop(struct run *r, char *chunk)
{
    const int64_t deadline = r->started_ms + r->sp->timeout_ms;
    for (;;) {
        int64_t now = clock_now_ms();
        if (check_run(r, now, deadline))
            return;
        poll_pipes(r, next_wait_ms(r, now, deadline), chunk);
    }
}

/* A tool-error result: 'head', then ": " and the stderr tail when there is one. */
static json_t *error_result(const struct run *r, const char *head)
{
    char *text = extproto_error_text(head, r->err_buf, r->err_len);
    json_t *result = text ? tool_text_result(text, true) : NULL;
    free(text);
    return result;
}

/* The outcome of a run the worker stopped (r->stop is set). */
static json_t *stopped_outcome(const struct run *r, json_t **error, const char **outcome)
{
    switch (r->stop) {
    case STOP_CANCEL:
        *outcome = "cancelled";
        *error = tool_error(MCP_EINTERNAL, "cancelled");
        return NULL;
    case STOP_NOMEM:
        *outcome = "out of memory";
        *error =
            tool_error(MCP_EINTERNAL, "out of memory reading the output of tool %s", r->sp->name);
        return NULL;
    case STOP_TIMEOUT:
        *outcome = "timed out";
        return tool_text_resultf(true, "timed out after %lld ms", (long long)r->sp->timeout_ms);
    case STOP_OUTPUT:
    case STOP_NONE:
        break;
    }
    *outcome = "output limit exceeded";
    return tool_text_result("output limit exceeded", true);
}

/* The outcome of a child that ended by itself with wait status 'status' (-1: unknown). */
static json_t *exit_outcome(struct run *r, int status, const char **outcome)
{
    char head[128];
    if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        *outcome = r->result ? "ok" : "no result";
        if (r->result) {
            json_t *result = r->result;
            r->result = NULL;
            return result;
        }
        return tool_text_result("tool exited without a result", true);
    }
    if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == EXTPROTO_EXIT_RETRY) {
        /* EX_TEMPFAIL: a transient failure; run again after a backoff. */
        *outcome = "retry later";
        char *why =
            extproto_error_text("temporary failure (exit status 75)", r->err_buf, r->err_len);
        tool_retry_later(r->ctx, why);
        free(why);
        return NULL;
    }
    *outcome = extproto_status_text(status, head, sizeof(head));
    return error_result(r, head);
}

/*
 * Kill what is left of the process group, reap the child and turn the run
 * into the tool's outcome.  'outcome' gets a short word for the log.
 */
static json_t *finish_run(struct run *r, json_t **error, const char **outcome)
{
    /* The child is still unreaped here, so the group id cannot have been reused. */
    kill(-r->pid, SIGKILL);
    int status = reap(r->pid);
    r->pid = -1;
    if (r->stop != STOP_NONE)
        return stopped_outcome(r, error, outcome);
    return exit_outcome(r, status, outcome);
}

/* Build what the child needs before it starts; NULL, or a JSON-RPC error (new reference). */
static json_t *prepare(struct run *r, char ***envp, char **chunk)
{
    r->in_buf = extproto_stdin_doc(tool_args(r->ctx), &r->in_len);
    *envp = extproto_env_new(r->sp, tool_task_id(r->ctx), tool_traceparent(r->ctx),
                             tool_tracestate(r->ctx));
    *chunk = malloc(EXTTOOL_CHUNK);
    if (!r->in_buf || !*envp || !*chunk)
        return tool_error(MCP_EINTERNAL, "cannot start tool %s: out of memory", r->sp->name);
    return NULL;
}

/* Log the end of a run: its outcome, duration and byte counts (never its output). */
static void report_end(const struct run *r, const char *outcome)
{
    char ms[24], out_bytes[24], err_bytes[24], ignored[24];
    snprintf(ms, sizeof(ms), "%lld", (long long)(clock_now_ms() - r->started_ms));
    snprintf(out_bytes, sizeof(out_bytes), "%zu", r->out_total);
    snprintf(err_bytes, sizeof(err_bytes), "%zu", r->err_total);
    snprintf(ignored, sizeof(ignored), "%lu", r->ignored);
    LOG_INFO("external tool ended", "task_id", tool_task_id(r->ctx), "tool", r->sp->name, "outcome",
             outcome, "ms", ms, "stdout_bytes", out_bytes, "stderr_bytes", err_bytes,
             "ignored_lines", ignored);
}

/*
 * Run the external tool described by 'spec' (the exec object common/manifest.c
 * builds: argv, cwd, env, timeoutMs, killGraceMs, maxOutputBytes,
 * maxStderrBytes) with the arguments of 'ctx', as proto/tools-manifest.md
 * describes.  Returns a CallToolResult (new reference; tool failures,
 * timeouts and the output limit are results with isError true), or NULL with
 * *error set to a JSON-RPC error object (new reference): "cancelled" when
 * tool_cancelled() turned true, or the reason the tool could not be started.
 * NULL with *error NULL after exit status 75 (tool_retry_later() was called).
 * Blocks until the child is reaped; leaves no process of the group, no
 * descriptor and no zombie behind.  Thread-safe: runs on many slots at once.
 */
json_t *exttool_run(struct tool_ctx *ctx, const json_t *spec, json_t **error)
{
    struct extproto_spec sp;
    struct err e = {0};
    struct run r = {
        .ctx = ctx, .sp = &sp, .pid = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1, .progress = -1};
    json_t *result = NULL;
    char **envp = NULL;
    char *chunk = NULL;
    const char *outcome = "";

    if (extproto_spec_parse(spec, &sp, &e) < 0) {
        *error = tool_error(MCP_EINTERNAL, "invalid exec spec: %s", e.msg);
        return NULL;
    }
    if ((*error = prepare(&r, &envp, &chunk)))
        goto out_free;
    if (spawn(&r, envp, &e) < 0) {
        LOG_WARN("cannot start external tool", "task_id", tool_task_id(ctx), "tool", sp.name,
                 "error", e.msg);
        *error = tool_error(MCP_EINTERNAL, "cannot start tool %s: %s", sp.name, e.msg);
        goto out_free;
    }
    r.started_ms = clock_now_ms();
    char pid_text[24];
    snprintf(pid_text, sizeof(pid_text), "%ld", (long)r.pid);
    LOG_DEBUG("external tool started", "task_id", tool_task_id(ctx), "tool", sp.name, "pid",
              pid_text);
    run_loop(&r, chunk);
    result = finish_run(&r, error, &outcome);
    report_end(&r, outcome);

out_free:
    close_fd(&r.in_fd);
    close_fd(&r.out_fd);
    close_fd(&r.err_fd);
    json_decref(r.result);
    free(r.line);
    free(r.err_buf);
    free(r.in_buf);
    free(chunk);
    extproto_env_free(envp);
    extproto_spec_fini(&sp);
    return result;
}
