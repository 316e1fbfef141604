/*
 * exttool.c - run external-process tools under the C tool API.
 *
 * Starts the child in its own process group, feeds it the arguments on stdin,
 * reads its stdout line protocol and the tail of its stderr with poll(), and
 * enforces the timeout, the output limit and cancellation.  It does not look
 * inside results beyond their shape, and never logs tool output.  Invariant:
 * whatever happens, a run ends with the process group killed, the child
 * reaped and every descriptor it opened closed.  No global state, so slots
 * run tools concurrently.  Format: proto/tools-manifest.md.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _GNU_SOURCE /* pipe2(), close_range(), GNU strerror_r() */
#include "exttool.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
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
#include "log.h"
#include "manifest.h"
#include "mcpdefs.h"
#include "utf8.h"

#define EXTTOOL_TICK_MS   50    /* longest poll: how fast a cancel or the timeout is noticed */
#define EXTTOOL_DRAIN_MS  500   /* after the child exits: how long its pipes may stay open */
#define EXTTOOL_CHUNK     65536 /* bytes per read(2) */
#define EXTTOOL_ERR_TAIL  2048  /* stderr bytes quoted in an error result */
#define EXTTOOL_FD_SCAN   65536 /* highest descriptor closed by hand without close_range() */
#define EXTTOOL_PATH      "PATH=/usr/local/bin:/usr/bin:/bin"

/* ---- the stdout line protocol (pure) ---- */

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

/* True if 'r' has the shape of a CallToolResult; else *why says what is wrong. */
static bool result_shape_ok(const json_t *r, const char **why)
{
    const json_t *content = json_object_get(r, "content"), *v;
    size_t i;
    if (!json_is_object(r))
        *why = "\"result\" is not an object";
    else if (!json_is_array(content))
        *why = "\"result\" has no \"content\" array";
    else if ((v = json_object_get(r, "isError")) && !json_is_boolean(v))
        *why = "\"result.isError\" is not a boolean";
    else if ((v = json_object_get(r, "structuredContent")) && !json_is_object(v))
        *why = "\"result.structuredContent\" is not an object";
    else if ((v = json_object_get(r, "_meta")) && !json_is_object(v))
        *why = "\"result._meta\" is not an object";
    else {
        json_array_foreach(content, i, v)
        {
            if (!json_is_string(json_object_get(v, "type"))) {
                *why = "a \"result.content\" item has no string \"type\"";
                return false;
            }
        }
        return true;
    }
    return false;
}

/*
 * Parse one line of a child's stdout: 'len' bytes at 'line', without the
 * '\n' (a trailing '\r' is dropped); 'line' need not be NUL-terminated.
 *
 * Returns 0 and fills *out: EXTTOOL_EV_BLANK for an empty line, else the
 * progress, status or result it carries.  For a result, out->result is a new
 * reference the caller owns (exttool_event_fini() releases it).  Returns
 * -EXTTOOL_EPROTO for any other line, with 'err' (may be NULL) giving the
 * reason without quoting the line, and nothing to release.  Pure and
 * thread-safe.
 */
int exttool_parse_line(const char *line, size_t len, struct exttool_event *out, struct err *err)
{
    memset(out, 0, sizeof(*out));
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (blank(line, len)) {
        out->kind = EXTTOOL_EV_BLANK;
        return 0;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return err_set(err, -EXTTOOL_EPROTO, "not JSON (error at byte %d)", jerr.position);

    int rc = -EXTTOOL_EPROTO;
    const char *why = NULL;
    const json_t *p = json_object_get(doc, "progress"), *s = json_object_get(doc, "status");
    const json_t *r = json_object_get(doc, "result");
    int keys = (p != NULL) + (s != NULL) + (r != NULL);
    if (!json_is_object(doc)) {
        err_set(err, rc, "not a JSON object");
        goto out_free_doc;
    }
    if (keys != 1) {
        err_set(err, rc, "%s of \"progress\", \"status\" and \"result\"",
                keys ? "more than one" : "none");
        goto out_free_doc;
    }
    if (p) {
        const json_t *t = json_object_get(doc, "total"), *m = json_object_get(doc, "message");
        if (!json_is_number(p) || !(json_number_value(p) >= 0) || !isfinite(json_number_value(p)))
            why = "\"progress\" is not a number >= 0";
        else if (t && (!json_is_number(t) || !(json_number_value(t) > 0) ||
                       !isfinite(json_number_value(t))))
            why = "\"total\" is not a number > 0";
        else if (m && !json_is_string(m))
            why = "\"message\" is not a string";
        if (why) {
            err_set(err, rc, "%s", why);
            goto out_free_doc;
        }
        out->kind = EXTTOOL_EV_PROGRESS;
        out->progress = json_number_value(p);
        out->total = t ? json_number_value(t) : 0;
        if (m) {
            out->has_message = true;
            utf8_copy(out->message, sizeof(out->message), json_string_value(m));
        }
    } else if (s) {
        if (!json_is_string(s)) {
            err_set(err, rc, "\"status\" is not a string");
            goto out_free_doc;
        }
        out->kind = EXTTOOL_EV_STATUS;
        out->has_message = true;
        utf8_copy(out->message, sizeof(out->message), json_string_value(s));
    } else {
        if (!result_shape_ok(r, &why)) {
            err_set(err, rc, "%s", why);
            goto out_free_doc;
        }
        out->kind = EXTTOOL_EV_RESULT;
        out->result = json_incref((json_t *)r); /* outlives 'doc' */
    }
    rc = 0;
out_free_doc:
    json_decref(doc);
    return rc;
}

/* Release the result an event may hold.  Safe on a zeroed or failed event. */
void exttool_event_fini(struct exttool_event *ev)
{
    json_decref(ev->result);
    ev->result = NULL;
}

/* ---- text helpers ---- */

/* "SIGTERM" for SIGTERM, or NULL for a signal without a well-known name. */
static const char *signal_name(int sig)
{
    static const struct {
        int sig;          /* the number */
        const char *name; /* its name */
    } names[] = {
        {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
        {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
        {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
        {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGXCPU, "SIGXCPU"},
        {SIGXFSZ, "SIGXFSZ"}, {SIGSYS, "SIGSYS"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].sig == sig)
            return names[i].name;
    return NULL;
}

static PRINTF_LIKE(1, 2) json_t *rpc_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return json_pack("{s:i, s:s}", "code", MCP_EINTERNAL, "message", msg);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* ---- the exec spec ---- */

struct spec {
    const char *name;      /* tool name, for logs */
    const char **argv;     /* NULL-terminated, argv[0] absolute; strings borrowed from the spec */
    const char *cwd;       /* working directory, or NULL for the worker's */
    const json_t *env;     /* names passed through from the worker (borrowed), or NULL */
    int64_t timeout_ms;    /* wall-clock limit */
    int64_t kill_grace_ms; /* SIGTERM to SIGKILL */
    size_t max_out;        /* stdout bytes accepted */
    size_t max_err;        /* stderr bytes kept */
};

static int spec_int(const json_t *spec, const char *key, int64_t def, int64_t min, int64_t max,
                    int64_t *out, struct err *err)
{
    const json_t *v = json_object_get(spec, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return err_set(err, -EINVAL, "\"%s\" is not an integer from %lld to %lld", key,
                       (long long)min, (long long)max);
    *out = json_integer_value(v);
    return 0;
}

/* Read the catalog's exec object into 'sp'; sp->argv is allocated (free() it). */
static int spec_parse(const json_t *spec, struct spec *sp, struct err *err)
{
    const json_t *argv = json_object_get(spec, "argv"), *cwd = json_object_get(spec, "cwd");
    int64_t out, errb;
    memset(sp, 0, sizeof(*sp));
    sp->name = json_string_value(json_object_get(spec, "name"));
    if (!sp->name)
        sp->name = "(unnamed)";
    if (!json_is_array(argv) || json_array_size(argv) == 0)
        return err_set(err, -EINVAL, "\"argv\" is not a non-empty array");
    if (cwd && !json_is_string(cwd))
        return err_set(err, -EINVAL, "\"cwd\" is not a string");
    sp->cwd = json_string_value(cwd);
    sp->env = json_object_get(spec, "env");
    if (sp->env && !json_is_array(sp->env))
        return err_set(err, -EINVAL, "\"env\" is not an array");
    if (spec_int(spec, "timeoutMs", MANIFEST_DEFAULT_TIMEOUT_MS, 1, INT32_MAX * 1000LL,
                 &sp->timeout_ms, err) < 0 ||
        spec_int(spec, "killGraceMs", MANIFEST_DEFAULT_KILL_GRACE, 0, INT32_MAX, &sp->kill_grace_ms,
                 err) < 0 ||
        spec_int(spec, "maxOutputBytes", MANIFEST_DEFAULT_MAX_OUT, 1, 1LL << 32, &out, err) < 0 ||
        spec_int(spec, "maxStderrBytes", MANIFEST_DEFAULT_MAX_ERR, 0, 1LL << 32, &errb, err) < 0)
        return -EINVAL;
    sp->max_out = (size_t)out;
    sp->max_err = (size_t)errb;
    size_t n = json_array_size(argv);
    sp->argv = calloc(n + 1, sizeof(*sp->argv));
    if (!sp->argv)
        return err_set(err, -ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        sp->argv[i] = json_string_value(json_array_get(argv, i));
        if (!sp->argv[i]) {
            free(sp->argv);
            sp->argv = NULL;
            return err_set(err, -EINVAL, "\"argv\" holds a non-string");
        }
    }
    return 0;
}

/* "NAME=value" in a new allocation, or NULL. */
static char *env_entry(const char *name, const char *value)
{
    size_t a = strlen(name), b = strlen(value);
    char *s = malloc(a + b + 2);
    if (s) {
        memcpy(s, name, a);
        s[a] = '=';
        memcpy(s + a + 1, value, b + 1);
    }
    return s;
}

static void env_free(char **envp)
{
    for (size_t i = 0; envp && envp[i]; i++)
        free(envp[i]);
    free(envp);
}

/* The child's environment: PATH, TASKWIRE_TASK_ID and the allowed variables that are set. */
static char **env_build(const struct spec *sp, const char *task_id)
{
    size_t n = json_array_size(sp->env), k = 0, i;
    const json_t *name;
    char **envp = calloc(n + 3, sizeof(*envp));
    if (!envp)
        return NULL;
    if (!(envp[k++] = strdup(EXTTOOL_PATH)) ||
        !(envp[k++] = env_entry("TASKWIRE_TASK_ID", task_id ? task_id : "")))
        goto out_free_env;
    json_array_foreach(sp->env, i, name)
    {
        const char *key = json_string_value(name), *value;
        /* The manifest refuses these; checked again so a hand-made spec cannot leak secrets. */
        if (!key || strcmp(key, "PATH") == 0 || strncmp(key, "TASKWIRE_", 9) == 0 ||
            !(value = getenv(key)))
            continue;
        if (!(envp[k++] = env_entry(key, value)))
            goto out_free_env;
    }
    return envp;

out_free_env:
    env_free(envp);
    return NULL;
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
static _Noreturn void child_exec(const struct spec *sp, char *const *envp, int in_r, int out_w,
                                 int err_w, int status_w, pid_t parent, int max_fd)
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
    struct tool_ctx *ctx;   /* the task */
    const struct spec *sp;  /* what to run and the limits */
    pid_t pid;              /* the child, also its process group id; -1 before spawning */
    int in_fd;              /* write end of the child's stdin, -1 once closed */
    int out_fd;             /* read end of its stdout, -1 at end of file */
    int err_fd;             /* read end of its stderr, -1 at end of file */
    char *in_buf;           /* the arguments document */
    size_t in_len, in_off;  /* its length, bytes written so far */
    char *line;             /* the stdout line being assembled */
    size_t line_len;        /* bytes in 'line' */
    size_t line_cap;        /* allocated bytes of 'line' */
    size_t out_total;       /* stdout bytes received */
    char *err_buf;          /* the last stderr bytes (max_err allocated), or NULL */
    size_t err_len;         /* bytes in err_buf */
    size_t err_total;       /* stderr bytes received */
    json_t *result;         /* last valid result line, or NULL */
    double progress, total; /* last progress reported (-1 before any), its total */
    unsigned long ignored;  /* lines that were not protocol messages */
    enum stop_reason stop;  /* why the worker stopped the run */
    int64_t started_ms;     /* spawn time (monotonic) */
    int64_t term_ms;        /* when SIGTERM went out */
    int64_t exit_ms;        /* when the child was seen to exit */
    bool exited;            /* the child exited (not yet reaped) */
    bool killed;            /* SIGKILL went out */
};

/* Start the child.  0, or a negative errno with 'err' set; nothing left open on failure. */
static int spawn(struct run *r, char *const *envp, struct err *err)
{
    int in[2], out[2] = {-1, -1}, er[2] = {-1, -1}, st[2] = {-1, -1}, rc;
    struct rlimit rl;
    int max_fd = EXTTOOL_FD_SCAN;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < EXTTOOL_FD_SCAN)
        max_fd = (int)rl.rlim_cur;

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
    /* Blocks until the child called execve() or failed; either way it has left its
     * setpgid() behind, so kill(-pid, ...) reaches it from here on. */
    struct exec_failure f;
    ssize_t n;
    do
        n = read(st[0], &f, sizeof(f));
    while (n < 0 && errno == EINTR);
    if (n != 0) {
        static const char *const stage[] = {"setup", "chdir", "exec"};
        if (n == (ssize_t)sizeof(f) && f.stage >= STAGE_SETUP && f.stage <= STAGE_EXEC) {
            rc = -f.error;
            err_set(err, rc, "%s %s: %s", stage[f.stage],
                    f.stage == STAGE_CHDIR ? r->sp->cwd : r->sp->argv[0],
                    strerror_r(f.error, (char[128]){0}, 128));
        } else {
            rc = -EIO;
            err_set(err, rc, "lost track of the child starting");
            kill(pid, SIGKILL);
        }
        reap(pid);
        goto out_close_pipes;
    }
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
    close_fd(&in[0]);
    close_fd(&in[1]);
    close_fd(&out[0]);
    close_fd(&out[1]);
    close_fd(&er[0]);
    close_fd(&er[1]);
    close_fd(&st[0]);
    close_fd(&st[1]);
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
    struct exttool_event ev;
    struct err e = {0};
    if (exttool_parse_line(line, len, &ev, &e) < 0) {
        if (r->ignored++ == 0)
            LOG_WARN("external tool wrote a line that is not a protocol message; ignoring such "
                     "lines",
                     "task_id", tool_task_id(r->ctx), "tool", r->sp->name, "reason", e.msg);
        return;
    }
    switch (ev.kind) {
    case EXTTOOL_EV_BLANK:
        break;
    case EXTTOOL_EV_PROGRESS:
        r->progress = ev.progress;
        r->total = ev.total;
        tool_progress(r->ctx, ev.progress, ev.total, ev.has_message ? ev.message : NULL);
        break;
    case EXTTOOL_EV_STATUS:
        tool_progress(r->ctx, r->progress, r->total, ev.message);
        break;
    case EXTTOOL_EV_RESULT:
        json_decref(r->result);
        r->result = ev.result;
        ev.result = NULL;
        break;
    }
    exttool_event_fini(&ev);
}

/* Append stdout bytes and handle every complete line; -ENOMEM if the line cannot grow. */
static int feed_stdout(struct run *r, const char *data, size_t n)
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
            return -ENOMEM;
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
    return 0;
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
    if (feed_stdout(r, chunk, (size_t)n) < 0)
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
    size_t len = (size_t)n, cap = r->sp->max_err;
    const char *data = chunk;
    r->err_total += len;
    if (cap == 0 || (!r->err_buf && !(r->err_buf = malloc(cap))))
        return; /* nothing kept: the error text just has no stderr */
    if (len >= cap) {
        memcpy(r->err_buf, data + len - cap, cap);
        r->err_len = cap;
        return;
    }
    if (r->err_len + len > cap) {
        size_t drop = r->err_len + len - cap;
        memmove(r->err_buf, r->err_buf + drop, r->err_len - drop);
        r->err_len -= drop;
    }
    memcpy(r->err_buf + r->err_len, data, len);
    r->err_len += len;
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

/* Service the child until it has exited and its pipes are drained (or given up on). */
static void run_loop(struct run *r, char *chunk)
{
    const int64_t deadline = r->started_ms + r->sp->timeout_ms;
    for (;;) {
        int64_t now = clock_now_ms();
        if (!r->exited && child_exited(r->pid)) {
            r->exited = true;
            r->exit_ms = now;
            close_fd(&r->in_fd);
        }
        if (r->exited && ((r->out_fd < 0 && r->err_fd < 0) || now - r->exit_ms >= EXTTOOL_DRAIN_MS))
            return;
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

        int64_t wait_ms = EXTTOOL_TICK_MS;
        if (r->exited)
            wait_ms = min64(wait_ms, r->exit_ms + EXTTOOL_DRAIN_MS - now);
        else if (r->stop == STOP_NONE)
            wait_ms = min64(wait_ms, deadline - now);
        else if (!r->killed)
            wait_ms = min64(wait_ms, r->term_ms + r->sp->kill_grace_ms - now);
        if (wait_ms < 0)
            wait_ms = 0;

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
        if (poll(pf, (nfds_t)nfds, (int)wait_ms) <= 0)
            continue;
        if (in_at >= 0 && pf[in_at].revents)
            feed_stdin(r);
        if (out_at >= 0 && pf[out_at].revents)
            read_stdout(r, chunk);
        if (err_at >= 0 && pf[err_at].revents)
            read_stderr(r, chunk);
    }
}

/* A tool-error result: 'head', then ": " and the stderr tail when there is one. */
static json_t *error_result(const struct run *r, const char *head)
{
    size_t n = r->err_len < EXTTOOL_ERR_TAIL ? r->err_len : EXTTOOL_ERR_TAIL;
    const char *tail = r->err_buf ? r->err_buf + r->err_len - n : "";
    while (n > 0 && ((unsigned char)tail[0] & 0xC0) == 0x80 && r->err_len > n) {
        tail++; /* the cut fell inside a character: start at the next one */
        n--;
    }
    while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r' || tail[n - 1] == ' ' ||
                     tail[n - 1] == '\t'))
        n--;
    size_t head_len = strlen(head);
    char *text = malloc(head_len + 2 + 3 * n + 1);
    if (!text)
        return NULL;
    memcpy(text, head, head_len + 1);
    if (n > 0) {
        memcpy(text + head_len, ": ", 2);
        utf8_sanitize(text + head_len + 2, tail, n);
    }
    json_t *result = tool_text_result(text, true);
    free(text);
    return result;
}

/*
 * Kill what is left of the process group, reap the child and turn the run
 * into the tool's outcome.  'outcome' gets a short word for the log.
 */
static json_t *finish_run(struct run *r, json_t **error, const char **outcome)
{
    char head[128];
    /* The child is still unreaped here, so the group id cannot have been reused. */
    kill(-r->pid, SIGKILL);
    int status = reap(r->pid);
    r->pid = -1;

    switch (r->stop) {
    case STOP_CANCEL:
        *outcome = "cancelled";
        *error = json_pack("{s:i, s:s}", "code", MCP_EINTERNAL, "message", "cancelled");
        return NULL;
    case STOP_NOMEM:
        *outcome = "out of memory";
        *error = rpc_error("out of memory reading the output of tool %s", r->sp->name);
        return NULL;
    case STOP_TIMEOUT:
        *outcome = "timed out";
        snprintf(head, sizeof(head), "timed out after %lld ms", (long long)r->sp->timeout_ms);
        return tool_text_result(head, true);
    case STOP_OUTPUT:
        *outcome = "output limit exceeded";
        return tool_text_result("output limit exceeded", true);
    case STOP_NONE:
        break;
    }
    if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        *outcome = r->result ? "ok" : "no result";
        if (r->result) {
            json_t *result = r->result;
            r->result = NULL;
            return result;
        }
        return tool_text_result("tool exited without a result", true);
    }
    if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == EXTTOOL_EXIT_RETRY) {
        /* EX_TEMPFAIL: a transient failure; run again after a backoff. */
        *outcome = "retry later";
        json_t *why = error_result(r, "temporary failure (exit status 75)");
        const char *text = json_string_value(
            json_object_get(json_array_get(json_object_get(why, "content"), 0), "text"));
        tool_retry_later(r->ctx, text);
        json_decref(why);
        return NULL;
    }
    if (status >= 0 && WIFEXITED(status)) {
        *outcome = "exit status";
        snprintf(head, sizeof(head), "exit status %d", WEXITSTATUS(status));
    } else if (status >= 0 && WIFSIGNALED(status)) {
        const char *name = signal_name(WTERMSIG(status));
        *outcome = "killed by signal";
        if (name)
            snprintf(head, sizeof(head), "killed by signal %d (%s)", WTERMSIG(status), name);
        else
            snprintf(head, sizeof(head), "killed by signal %d", WTERMSIG(status));
    } else {
        *outcome = "unknown status";
        snprintf(head, sizeof(head), "tool ended with an unknown status");
    }
    return error_result(r, head);
}

/*
 * Run the external tool described by 'spec' (the exec object common/manifest.c
 * builds: argv, cwd, env, timeoutMs, killGraceMs, maxOutputBytes,
 * maxStderrBytes) with the arguments of 'ctx', as proto/tools-manifest.md
 * describes.  Returns a CallToolResult (new reference; tool failures,
 * timeouts and the output limit are results with isError true), or NULL with
 * *error set to a JSON-RPC error object (new reference): "cancelled" when
 * tool_cancelled() turned true, or the reason the tool could not be started.
 * Blocks until the child is reaped; leaves no process of the group, no
 * descriptor and no zombie behind.  Thread-safe: runs on many slots at once.
 */
json_t *exttool_run(struct tool_ctx *ctx, const json_t *spec, json_t **error)
{
    struct spec sp;
    struct err e = {0};
    struct run r = {
        .ctx = ctx, .sp = &sp, .pid = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1, .progress = -1};
    json_t *result = NULL;
    char **envp = NULL;
    char *chunk = NULL;
    const char *outcome = "";

    *error = NULL;
    if (spec_parse(spec, &sp, &e) < 0) {
        *error = rpc_error("invalid exec spec: %s", e.msg);
        return NULL;
    }
    const json_t *args = tool_args(ctx);
    json_t *empty = args ? NULL : json_object();
    char *doc = json_dumps(args ? args : empty, JSON_COMPACT);
    json_decref(empty);
    if (doc) {
        r.in_len = strlen(doc);
        if ((r.in_buf = malloc(r.in_len + 2))) {
            memcpy(r.in_buf, doc, r.in_len);
            memcpy(r.in_buf + r.in_len++, "\n", 2);
        }
        free(doc);
    }
    envp = env_build(&sp, tool_task_id(ctx));
    chunk = malloc(EXTTOOL_CHUNK);
    if (!r.in_buf || !envp || !chunk) {
        *error = rpc_error("cannot start tool %s: out of memory", sp.name);
        goto out_free;
    }
    if (spawn(&r, envp, &e) < 0) {
        LOG_WARN("cannot start external tool", "task_id", tool_task_id(ctx), "tool", sp.name,
                 "error", e.msg);
        *error = rpc_error("cannot start tool %s: %s", sp.name, e.msg);
        goto out_free;
    }
    r.started_ms = clock_now_ms();
    char pid_text[24];
    snprintf(pid_text, sizeof(pid_text), "%ld", (long)r.pid);
    LOG_DEBUG("external tool started", "task_id", tool_task_id(ctx), "tool", sp.name, "pid",
              pid_text);

    run_loop(&r, chunk);
    result = finish_run(&r, error, &outcome);

    char ms[24], out_bytes[24], err_bytes[24], ignored[24];
    snprintf(ms, sizeof(ms), "%lld", (long long)(clock_now_ms() - r.started_ms));
    snprintf(out_bytes, sizeof(out_bytes), "%zu", r.out_total);
    snprintf(err_bytes, sizeof(err_bytes), "%zu", r.err_total);
    snprintf(ignored, sizeof(ignored), "%lu", r.ignored);
    LOG_INFO("external tool ended", "task_id", tool_task_id(ctx), "tool", sp.name, "outcome",
             outcome, "ms", ms, "stdout_bytes", out_bytes, "stderr_bytes", err_bytes,
             "ignored_lines", ignored);

out_free:
    close_fd(&r.in_fd);
    close_fd(&r.out_fd);
    close_fd(&r.err_fd);
    json_decref(r.result);
    free(r.line);
    free(r.err_buf);
    free(r.in_buf);
    free(chunk);
    env_free(envp);
    free(sp.argv);
    return result;
}
