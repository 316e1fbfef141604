/*
 * test_mcp.c - unit tests for frontend/mcp.c: every method and reply builder
 * without PostgreSQL, Redis or a worker.
 *
 * The store runs over fakepq (tests/unit/common/fakepq.h) whose serve
 * functions keep a small task table and answer the statements mcp.c runs
 * (create, get, cancel, answer) as their SQL would, owner condition
 * included; the parameters each statement was sent are checked as well.
 * Events go to a fake Redis on a loopback port that records every PUBLISH,
 * and jobs to the real PUSH socket of dispatch.c, read back by a PULL socket
 * over ipc://.  Each test ends by proving that nothing else was pushed or
 * published and that every store result and connection was released.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "mcp.h"
#include "taskjson.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "apptools.h"
#include "envelope.h"
#include "fakepq.h"
#include "hub.h"
#include "log.h"
#include "mcpdefs.h"
#include "prompts.h"
#include "resources.h"
#include "state.h"
#include "store_row.h"

#define ALICE   "alice"
#define MALLORY "mallory"
#define TASK    "0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3" /* alice's task, in most tests */
#define OTHER   "5d1a7b9e-2c3f-4e8a-9b0c-1d2e3f405162" /* mallory's task */
#define UNKNOWN "ffffffff-0000-4000-8000-000000000001" /* in no table */
#define PROBE   "00000000-0000-4000-8000-000000000000" /* the test's own pushes */
#define TRACE   "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

#define TASK_TTL_MS 3600000 /* the server's ttlMs for tasks */
#define SYNC_TTL_MS 120000  /* ... for the task behind a synchronous call */
#define POLL_MS     2500    /* pollIntervalMs */
#define LIST_TTL_MS 60000   /* caching ttlMs of tools/list and server/discover */

#define CAPS_NONE         "{}"
#define CAPS_TASKS        "{\"extensions\":{\"" MCP_EXT_TASKS "\":{}}}"
#define CAPS_TASKS_ELICIT "{\"elicitation\":{},\"extensions\":{\"" MCP_EXT_TASKS "\":{}}}"

/* A tool only served as a task, with arguments worth validating. */
#define REPORT "t.report"
#define REPORT_DEF                                                                                 \
    "{\"name\":\"" REPORT "\",\"description\":\"Builds a report.\",\"inputSchema\":{"              \
    "\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"},"                          \
    "\"pages\":{\"type\":\"integer\",\"minimum\":1}},"                                             \
    "\"required\":[\"text\"],\"additionalProperties\":false}}"
/* A tool a client without the Tasks extension calls synchronously. */
#define QUICK "t.quick"
#define QUICK_DEF                                                                                  \
    "{\"name\":\"" QUICK "\",\"description\":\"Quick.\",\"inputSchema\":{\"type\":\"object\","     \
    "\"properties\":{\"n\":{\"type\":\"integer\"}},\"additionalProperties\":false}}"

#define ARGS "{\"text\":\"q3\"}" /* the arguments stored with table tasks */
#define ELICIT                                                                                     \
    "{\"method\":\"elicitation/create\",\"params\":{\"message\":\"Which quarter?\","               \
    "\"requestedSchema\":{\"type\":\"object\"}}}"
#define SAMPLE                                                                                     \
    "{\"method\":\"sampling/createMessage\",\"params\":{\"messages\":[],\"maxTokens\":10}}"
#define ACCEPT "{\"action\":\"accept\",\"content\":{\"quarter\":\"Q3\"}}"

static const unsigned char state_key[STATE_KEY_MIN] = "0123456789abcdef0123456789abcdef";

/* ---- a fake Redis: records what is published ---- */

#define REDIS_CLIENTS 8    /* connections served at once */
#define REDIS_EVENTS  16   /* payloads kept until a test takes them */
#define REDIS_BUF     4096 /* bytes of one client's unparsed input */

struct redis_client {
    int fd;              /* -1: free slot */
    char buf[REDIS_BUF]; /* received, not parsed yet */
    size_t len;          /* bytes in buf */
};

static struct {
    int lfd;                                   /* listening socket */
    char addr[32];                             /* "127.0.0.1:<port>" for notify_pub_new() */
    pthread_t thread;                          /* serves the clients */
    atomic_bool stop;                          /* ends the thread */
    pthread_mutex_t lock;                      /* guards events and nevents */
    char events[REDIS_EVENTS][128];            /* payloads published, oldest first */
    int nevents;                               /* entries in events */
    struct redis_client client[REDIS_CLIENTS]; /* the thread's own */
} redis;

/*
 * One RESP command (an array of bulk strings) at the start of buf[0..len):
 * the bytes it takes, 0 when it is not all there yet, -1 when it is not RESP.
 * argv[i] points into buf (not NUL-terminated), argl[i] is its length.
 */
static long resp_command(const char *buf, size_t len, int *argc, const char **argv, size_t *argl,
                         int max)
{
    const char *p = buf, *end = buf + len, *nl;
    long n;

    if (len == 0)
        return 0;
    if (*p != '*')
        return -1;
    if (!(nl = memchr(p, '\n', (size_t)(end - p))))
        return 0;
    n = strtol(p + 1, NULL, 10);
    if (n < 1 || n > max)
        return -1;
    p = nl + 1;
    for (long i = 0; i < n; i++) {
        if (p >= end)
            return 0;
        if (*p != '$')
            return -1;
        if (!(nl = memchr(p, '\n', (size_t)(end - p))))
            return 0;
        long l = strtol(p + 1, NULL, 10);
        if (l < 0)
            return -1;
        p = nl + 1;
        if (end - p < l + 2)
            return 0;
        argv[i] = p;
        argl[i] = (size_t)l;
        p += l + 2;
    }
    *argc = (int)n;
    return p - buf;
}

/* Answer one command: PUBLISH is recorded (its payload, or a note naming a wrong channel). */
static void redis_reply(int fd, int argc, const char **argv, const size_t *argl)
{
    const char *reply = "+OK\r\n";

    if (argc == 3 && argl[0] == 7 && memcmp(argv[0], "PUBLISH", 7) == 0) {
        bool ours =
            argl[1] == strlen(NOTIFY_CHANNEL) && memcmp(argv[1], NOTIFY_CHANNEL, argl[1]) == 0;
        pthread_mutex_lock(&redis.lock);
        if (redis.nevents < REDIS_EVENTS)
            snprintf(redis.events[redis.nevents++], sizeof(redis.events[0]), "%s%.*s",
                     ours ? "" : "wrong channel: ", (int)argl[ours ? 2 : 1], argv[ours ? 2 : 1]);
        pthread_mutex_unlock(&redis.lock);
        reply = ":1\r\n";
    }
    if (write(fd, reply, strlen(reply)) < 0)
        perror("fake redis: write");
}

static void redis_drop(struct redis_client *c)
{
    close(c->fd);
    c->fd = -1;
    c->len = 0;
}

/* Read what client 'c' sent and answer every whole command in it. */
static void redis_read(struct redis_client *c)
{
    const char *argv[8];
    size_t argl[8];
    int argc;
    ssize_t got = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
    long used;

    if (got <= 0) {
        redis_drop(c);
        return;
    }
    c->len += (size_t)got;
    while ((used = resp_command(c->buf, c->len, &argc, argv, argl, 8)) > 0) {
        redis_reply(c->fd, argc, argv, argl);
        memmove(c->buf, c->buf + used, c->len - (size_t)used);
        c->len -= (size_t)used;
    }
    if (used < 0 || c->len == sizeof(c->buf))
        redis_drop(c);
}

static void *redis_serve(void *arg)
{
    (void)arg;
    while (!atomic_load(&redis.stop)) {
        struct pollfd pf[1 + REDIS_CLIENTS];
        int slot[1 + REDIS_CLIENTS], n = 1;

        pf[0] = (struct pollfd){.fd = redis.lfd, .events = POLLIN};
        for (int i = 0; i < REDIS_CLIENTS; i++)
            if (redis.client[i].fd >= 0) {
                pf[n] = (struct pollfd){.fd = redis.client[i].fd, .events = POLLIN};
                slot[n++] = i;
            }
        if (poll(pf, (nfds_t)n, 20) <= 0)
            continue;
        if (pf[0].revents & POLLIN) {
            int fd = accept(redis.lfd, NULL, NULL), i = 0;
            while (fd >= 0 && i < REDIS_CLIENTS && redis.client[i].fd >= 0)
                i++;
            if (fd >= 0 && i == REDIS_CLIENTS)
                close(fd);
            else if (fd >= 0)
                redis.client[i] = (struct redis_client){.fd = fd};
        }
        for (int k = 1; k < n; k++)
            if (pf[k].revents)
                redis_read(&redis.client[slot[k]]);
    }
    for (int i = 0; i < REDIS_CLIENTS; i++)
        if (redis.client[i].fd >= 0)
            redis_drop(&redis.client[i]);
    return NULL;
}

static int redis_start(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);

    for (int i = 0; i < REDIS_CLIENTS; i++)
        redis.client[i].fd = -1;
    pthread_mutex_init(&redis.lock, NULL);
    /* Port 0: the kernel picks a free one, so nothing collides with other tests. */
    redis.lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (redis.lfd < 0 || bind(redis.lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(redis.lfd, REDIS_CLIENTS) != 0 ||
        getsockname(redis.lfd, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    snprintf(redis.addr, sizeof(redis.addr), "127.0.0.1:%d", ntohs(sa.sin_port));
    return pthread_create(&redis.thread, NULL, redis_serve, NULL) == 0 ? 0 : -1;
}

static void redis_stop(void)
{
    atomic_store(&redis.stop, true);
    pthread_join(redis.thread, NULL);
    close(redis.lfd);
    pthread_mutex_destroy(&redis.lock);
}

/* Take the oldest payload published into 'out'; false when none is left. */
static bool redis_take(char *out, size_t cap)
{
    bool any;

    pthread_mutex_lock(&redis.lock);
    any = redis.nevents > 0;
    if (any) {
        snprintf(out, cap, "%s", redis.events[0]);
        memmove(redis.events[0], redis.events[1],
                sizeof(redis.events[0]) * (size_t)--redis.nevents);
    }
    pthread_mutex_unlock(&redis.lock);
    return any;
}

/* The next event published is "<kind> <id>".  Publishing is synchronous (the
 * publisher waits for Redis's reply), so it has arrived when mcp_handle returns. */
static void assert_published(const char *kind, const char *id)
{
    char got[128], want[128];

    snprintf(want, sizeof(want), "%s %s", kind, id);
    if (!redis_take(got, sizeof(got)))
        fail_msg("nothing published; expected \"%s\"", want);
    assert_string_equal(got, want);
}

static void assert_nothing_published(void)
{
    char got[128];

    if (redis_take(got, sizeof(got)))
        fail_msg("unexpected event published: \"%s\"", got);
}

/* ---- the fabric: dispatch.c's PUSH socket and a PULL socket playing the worker ---- */

static struct {
    char dir[32];       /* mkdtemp directory holding the ipc socket */
    char endpoint[64];  /* ipc://<dir>/fabric */
    struct dispatch *d; /* what mcp.c pushes to */
    void *zctx;         /* the worker end's context */
    void *pull;         /* the worker end */
} fabric;

/* The next envelope within 'timeout_ms' into *env; false when none came. */
static bool fabric_recv(struct envelope *env, int timeout_ms)
{
    zmq_pollitem_t item = {.socket = fabric.pull, .events = ZMQ_POLLIN};
    uint8_t buf[ENVELOPE_MAX_BYTES];

    if (zmq_poll(&item, 1, timeout_ms) <= 0 || !(item.revents & ZMQ_POLLIN))
        return false;
    int n = zmq_recv(fabric.pull, buf, sizeof(buf), 0);
    assert_true(n > 0 && n <= (int)sizeof(buf));
    assert_int_equal(envelope_decode(buf, (size_t)n, env, NULL), 0);
    return true;
}

static int fabric_start(void)
{
    struct err e = {0};
    struct envelope env;
    int zero = 0;

    snprintf(fabric.dir, sizeof(fabric.dir), "/tmp/test_mcp.XXXXXX");
    if (!mkdtemp(fabric.dir))
        return -1;
    snprintf(fabric.endpoint, sizeof(fabric.endpoint), "ipc://%s/fabric", fabric.dir);
    if (!(fabric.d = dispatch_new(fabric.endpoint, NULL, &e))) {
        fprintf(stderr, "%s\n", e.msg);
        return -1;
    }
    fabric.zctx = zmq_ctx_new();
    fabric.pull = zmq_socket(fabric.zctx, ZMQ_PULL);
    zmq_setsockopt(fabric.pull, ZMQ_LINGER, &zero, sizeof(zero));
    if (zmq_connect(fabric.pull, fabric.endpoint) != 0)
        return -1;
    /* ZMQ_IMMEDIATE: pushes fail until the pipe is up, so probe until one goes. */
    for (int i = 0; i < 5000 && dispatch_push_task(fabric.d, PROBE, 0, NULL) != 0; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    return fabric_recv(&env, 5000) && strcmp(env.task_id, PROBE) == 0 ? 0 : -1;
}

static void fabric_stop(void)
{
    char path[96];

    zmq_close(fabric.pull);
    zmq_ctx_term(fabric.zctx);
    dispatch_free(fabric.d);
    snprintf(path, sizeof(path), "%s/fabric", fabric.dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/lonely", fabric.dir);
    unlink(path);
    rmdir(fabric.dir);
}

/* The next job pushed is task 'id' at 'attempt'; returns its envelope. */
static struct envelope assert_pushed(const char *id, int attempt)
{
    struct envelope env;

    if (!fabric_recv(&env, 5000))
        fail_msg("no job pushed; expected %s", id);
    assert_string_equal(env.task_id, id);
    assert_int_equal(env.attempt, attempt);
    return env;
}

/* Take every job pushed so far: a probe pushed now is the last to arrive (one PULL
 * peer, so jobs arrive in order).  Returns how many came before it; the first of
 * them is copied to 'first'. */
static int fabric_drain(char first[ENVELOPE_TASK_ID_LEN + 1])
{
    struct envelope env;
    int n = 0;

    first[0] = '\0';
    if (dispatch_push_task(fabric.d, PROBE, 0, NULL) != 0)
        return -1;
    while (fabric_recv(&env, 5000) && strcmp(env.task_id, PROBE) != 0)
        if (n++ == 0)
            snprintf(first, ENVELOPE_TASK_ID_LEN + 1, "%s", env.task_id);
    return n;
}

/* Nothing was pushed that the test did not take. */
static void assert_nothing_pushed(void)
{
    char first[ENVELOPE_TASK_ID_LEN + 1];
    int n = fabric_drain(first);

    if (n != 0)
        fail_msg("%d unexpected job(s) pushed, the first for %s", n, first);
}

static int group_setup(void **state)
{
    (void)state;
    log_init("test_mcp", LOGL_ERROR, true);
    return redis_start() == 0 && fabric_start() == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    fabric_stop();
    redis_stop();
    return 0;
}

/* ---- the fixture: a server, a store over fakepq and the task table behind it ---- */

#define TABLE_MAX 8 /* tasks one test can hold */

struct fixture {
    struct catalog *catalog;         /* built-ins plus REPORT and QUICK */
    struct mcp_server srv;           /* the settings above */
    struct store *store;             /* over fakepq */
    struct notify_pub *pub;          /* publishing to the fake Redis */
    struct task_row task[TABLE_MAX]; /* the table the serve functions read and write */
    int ntasks;                      /* rows in task */
    struct rpc_request req;          /* the last request */
    struct mcp_outcome out;          /* what mcp_handle made of it */
};

static char *xstrdup(const char *s)
{
    char *d = s ? strdup(s) : NULL;

    if (s && !d)
        fail_msg("out of memory");
    return d;
}

/* Replace a row's string field with a copy of 'v' (NULL: SQL NULL). */
static void set_text(char **field, const char *v)
{
    char *d = xstrdup(v);

    free(*field);
    *field = d;
}

static struct task_row *table_find(struct fixture *f, const char *id)
{
    for (int i = 0; i < f->ntasks; i++)
        if (strcmp(f->task[i].id, id) == 0)
            return &f->task[i];
    return NULL;
}

/* A task of 'owner' in 'status', calling REPORT with ARGS; the table owns its strings. */
static struct task_row *table_put(struct fixture *f, const char *id, const char *owner,
                                  enum task_status status)
{
    struct task_row *t;

    assert_true(f->ntasks < TABLE_MAX);
    t = &f->task[f->ntasks++];
    memset(t, 0, sizeof(*t));
    snprintf(t->id, sizeof(t->id), "%s", id);
    t->status = status;
    set_text(&t->owner, owner);
    set_text(&t->tool, REPORT);
    set_text(&t->args, ARGS);
    set_text(&t->client_caps, CAPS_TASKS);
    t->attempt = status == TASK_QUEUED ? 0 : 1;
    t->max_attempts = 3;
    snprintf(t->created_at, sizeof(t->created_at), "2026-11-22T00:47:48.123Z");
    snprintf(t->updated_at, sizeof(t->updated_at), "2026-11-22T00:48:00.000Z");
    t->ttl_ms = TASK_TTL_MS;
    t->poll_interval_ms = POLL_MS;
    return t;
}

/* An input_required task of alice's waiting for 'requests' (a JSON inputRequests map). */
static struct task_row *table_waiting(struct fixture *f, const char *requests)
{
    struct task_row *t = table_put(f, TASK, ALICE, TASK_INPUT_REQUIRED);

    set_text(&t->input_requests, requests);
    set_text(&t->status_message, "waiting for input");
    return t;
}

/* tw_get: WHERE id = $1 AND ($2 IS NULL OR owner = $2). */
static PGresult *serve_get(void *arg, const char *stmt, int n, const char *const *p)
{
    struct task_row *t = table_find(arg, p[0]);
    bool visible = t && (!p[1] || strcmp(t->owner, p[1]) == 0);

    (void)stmt;
    assert_int_equal(n, 2);
    return store_row_result(STORE_ROW_TASK, t, visible ? 1 : 0);
}

/* How many of 'owner's tasks in the table are live (queued, running, input_required). */
static int live_of(const struct fixture *f, const char *owner)
{
    int n = 0;
    for (int i = 0; i < f->ntasks; i++)
        n += strcmp(f->task[i].owner, owner) == 0 && !taskstate_terminal(f->task[i].status);
    return n;
}

/* tw_create: INSERT ($1 id, $2 owner, $3 tool, $4 args, $5 trace, $6 ttl, $7 poll,
 * $8 max attempts, $9 client caps, $10 input responses) RETURNING the row, unless the
 * owner has $11 (NULL: no cap) live tasks already. */
static PGresult *serve_create(void *arg, const char *stmt, int n, const char *const *p)
{
    struct fixture *f = arg;
    struct task_row *t;

    (void)stmt;
    assert_int_equal(n, 11);
    if (p[10] && live_of(f, p[1]) >= atoi(p[10]))
        return store_row_result(STORE_ROW_TASK, NULL, 0);
    assert_null(table_find(f, p[0]));
    t = table_put(f, p[0], p[1], TASK_QUEUED);
    set_text(&t->tool, p[2]);
    set_text(&t->args, p[3]);
    set_text(&t->trace, p[4]);
    t->ttl_ms = strtoll(p[5], NULL, 10);
    t->poll_interval_ms = strtoll(p[6], NULL, 10);
    t->max_attempts = atoi(p[7]);
    set_text(&t->client_caps, p[8] ? p[8] : "{}");
    set_text(&t->input_responses, p[9]);
    return store_row_result(STORE_ROW_TASK, t, 1);
}

/* tw_cancel: WHERE id = $1 AND owner = $2 AND status is not terminal, RETURNING id. */
static PGresult *serve_cancel(void *arg, const char *stmt, int n, const char *const *p)
{
    struct task_row *t = table_find(arg, p[0]);

    (void)stmt;
    assert_int_equal(n, 2);
    if (!t || !p[1] || strcmp(t->owner, p[1]) != 0 || taskstate_terminal(t->status))
        return fakepq_rows(1, 0, NULL);
    t->status = TASK_CANCELLED;
    set_text(&t->status_message, "cancelled by client");
    set_text(&t->input_requests, NULL);
    return fakepq_rows(1, 1, (const char *const[]){t->id});
}

/* tw_answer: WHERE id = $1 AND owner = $2 AND status = 'input_required': answers ($3) for
 * outstanding keys are kept, the rest ignored; queued again when none is left.
 * RETURNING status, attempt. */
static PGresult *serve_answer(void *arg, const char *stmt, int n, const char *const *p)
{
    struct task_row *t = table_find(arg, p[0]);
    json_t *given, *asked, *kept;
    const char *key;
    json_t *v;
    char *text, attempt[16];

    (void)stmt;
    assert_int_equal(n, 3);
    if (!t || !p[1] || strcmp(t->owner, p[1]) != 0 || t->status != TASK_INPUT_REQUIRED)
        return fakepq_rows(2, 0, NULL);
    given = json_loads(p[2], 0, NULL);
    asked = json_loads(t->input_requests, 0, NULL);
    kept = t->input_responses ? json_loads(t->input_responses, 0, NULL) : json_object();
    assert_non_null(given);
    assert_non_null(asked);
    json_object_foreach(given, key, v)
    {
        if (json_object_get(asked, key)) {
            json_object_set(kept, key, v);
            json_object_del(asked, key);
        }
    }
    set_text(&t->input_responses, text = json_dumps(kept, JSON_COMPACT));
    free(text);
    if (json_object_size(asked) == 0) {
        t->status = TASK_QUEUED;
        set_text(&t->input_requests, NULL);
        set_text(&t->status_message, "input received");
    } else {
        set_text(&t->input_requests, text = json_dumps(asked, JSON_COMPACT));
        free(text);
    }
    json_decref(given);
    json_decref(asked);
    json_decref(kept);
    snprintf(attempt, sizeof(attempt), "%d", t->attempt);
    return fakepq_rows(2, 1, (const char *const[]){taskstate_name(t->status), attempt});
}

/* A new store over fakepq with the table's statements served. */
static void store_start(struct fixture *f)
{
    fakepq_reset();
    fakepq_serve(STORE_STMT_GET, serve_get, f);
    fakepq_serve(STORE_STMT_GET_BRIEF, serve_get, f); /* the same row, some columns blank */
    fakepq_serve(STORE_STMT_CREATE, serve_create, f);
    fakepq_serve(STORE_STMT_CANCEL, serve_cancel, f);
    fakepq_serve(STORE_STMT_ANSWER, serve_answer, f);
    f->store = store_new_with_ops("dbname=none", "test_mcp", &fakepq_ops);
    assert_non_null(f->store);
}

/* Free the store and the table, then prove the store released every result and
 * connection, used every scripted reply and ran nothing unscripted.  Everything is
 * released before anything is asserted, so a failure cannot leak into the next test. */
static void store_stop(struct fixture *f)
{
    int live, open, pending, unscripted;

    store_free(f->store);
    f->store = NULL;
    live = fakepq_live_results();
    open = fakepq_open_conns();
    pending = fakepq_pending();
    unscripted = fakepq_unscripted();
    for (int i = 0; i < f->ntasks; i++)
        task_row_fini(&f->task[i]);
    f->ntasks = 0;
    fakepq_reset();
    assert_int_equal(live, 0);
    assert_int_equal(open, 0);
    assert_int_equal(pending, 0);
    assert_int_equal(unscripted, 0);
}

static int add_tool(struct catalog *c, const char *def, enum tool_policy policy)
{
    json_t *d = json_loads(def, 0, NULL);

    return d ? catalog_add(c, d, policy, NULL, NULL) : -1;
}

static int fixture_new(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    *state = f;
    f->catalog = catalog_new(false, NULL);
    if (!f->catalog || add_tool(f->catalog, REPORT_DEF, TOOL_TASK_REQUIRED) < 0 ||
        add_tool(f->catalog, QUICK_DEF, TOOL_TASK_OPTIONAL) < 0 ||
        apptools_register(f->catalog, NULL) < 0)
        return -1;
    f->srv = (struct mcp_server){.catalog = f->catalog,
                                 .fabric = fabric.d,
                                 .task_ttl_ms = TASK_TTL_MS,
                                 .sync_task_ttl_ms = SYNC_TTL_MS,
                                 .poll_interval_ms = POLL_MS,
                                 .list_ttl_ms = LIST_TTL_MS,
                                 .state_key = state_key,
                                 .state_key_len = sizeof(state_key),
                                 .state_ttl_s = 600,
                                 .tools_list_changed = true};
    f->pub = notify_pub_new(redis.addr);
    if (!f->pub)
        return -1;
    store_start(f);
    return 0;
}

/* Release everything, then check that no job or event was left that the test did
 * not take (drained first, so one failed test cannot fail the next). */
static int fixture_free(void **state)
{
    struct fixture *f = *state;
    char event[128], job[ENVELOPE_TASK_ID_LEN + 1];
    int events = 0, jobs;

    notify_pub_free(f->pub);
    rpc_request_fini(&f->req);
    json_decref(f->out.reply);
    json_decref(f->out.listen);
    catalog_free(f->catalog);
    while (redis_take(event, sizeof(event)))
        events++;
    jobs = fabric_drain(job);
    store_stop(f); /* asserts, after its own cleanup */
    free(f);
    if (jobs != 0)
        fail_msg("%d unexpected job(s) pushed, the first for %s", jobs, job);
    if (events != 0)
        fail_msg("%d unexpected event(s) published, the last \"%s\"", events, event);
    return 0;
}

/* ---- requests and replies ---- */

static const char *no_header(void *arg, const char *name)
{
    (void)arg;
    (void)name;
    return NULL;
}

/*
 * mcp_handle() of request 42 'method' from 'owner' declaring client capabilities
 * 'caps' (JSON object text), with params 'fmt' (JSON object text after printf
 * formatting; NULL: none).  The outcome is in f->out; returns its reply (borrowed).
 */
static json_t *handle(struct fixture *f, const char *owner, const char *caps, const char *method,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static json_t *handle(struct fixture *f, const char *owner, const char *caps, const char *method,
                      const char *fmt, ...)
{
    char text[4096];
    json_t *params, *root;
    char *body;
    va_list ap;

    if (fmt) {
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
    }
    params = fmt ? json_loads(text, 0, NULL) : json_object();
    assert_non_null(params);
    json_object_set_new(params, "_meta",
                        json_pack("{s:s, s:o}", MCP_META_PROTOCOL_VERSION, MCP_PROTOCOL_VERSION,
                                  MCP_META_CLIENT_CAPS, json_loads(caps, 0, NULL)));
    root = json_pack("{s:s, s:i, s:s, s:o}", "jsonrpc", "2.0", "id", 42, "method", method, "params",
                     params);
    assert_non_null(root);
    body = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    rpc_request_fini(&f->req);
    json_decref(f->out.reply);
    json_decref(f->out.listen);
    assert_int_equal(rpc_parse(body, strlen(body), &f->req, NULL), 0);
    free(body);

    struct mcp_call c = {.srv = &f->srv,
                         .store = f->store,
                         .pub = f->pub,
                         .owner = owner,
                         .traceparent = TRACE,
                         .header = no_header};
    mcp_handle(&c, &f->req, &f->out);
    return f->out.reply;
}

/* 'o' equals the JSON text 'want'. */
static void assert_json(const json_t *o, const char *want)
{
    json_t *w = json_loads(want, 0, NULL);
    bool same;

    assert_non_null(w);
    same = o && json_equal((json_t *)o, w);
    json_decref(w);
    if (!same) {
        char *got = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        fprintf(stderr, "got:  %s\nwant: %s\n", got ? got : "(nothing)", want);
        free(got);
        fail_msg("JSON differs");
    }
}

static const char *str_at(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    if (!s)
        fail_msg("no string \"%s\"", key);
    return s;
}

static json_int_t int_at(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_integer(v))
        fail_msg("no integer \"%s\"", key);
    return json_integer_value(v);
}

/* _meta names this server. */
static void assert_server_info(const json_t *result)
{
    json_t *info = json_object_get(json_object_get(result, "_meta"), MCP_META_SERVER_INFO);

    assert_string_equal(str_at(info, "name"), "taskwire");
    assert_string_equal(str_at(info, "version"), TASKWIRE_VERSION);
}

/* The result of a 200 reply to request 42 (borrowed). */
static json_t *result_of(const struct fixture *f)
{
    json_t *r;

    assert_int_equal(f->out.kind, MCP_REPLY);
    assert_non_null(f->out.reply);
    if (json_object_get(f->out.reply, "error"))
        assert_json(json_object_get(f->out.reply, "error"), "{\"expected\":\"a result\"}");
    assert_int_equal(f->out.status, 200);
    assert_string_equal(str_at(f->out.reply, "jsonrpc"), "2.0");
    assert_int_equal(int_at(f->out.reply, "id"), 42);
    r = json_object_get(f->out.reply, "result");
    assert_true(json_is_object(r));
    return r;
}

/* The error of a reply to request 42 with HTTP 'status' and JSON-RPC 'code' (borrowed). */
static json_t *error_of(const struct fixture *f, int status, int code)
{
    json_t *e;

    assert_int_equal(f->out.kind, MCP_REPLY);
    assert_non_null(f->out.reply);
    assert_null(json_object_get(f->out.reply, "result"));
    assert_int_equal(int_at(f->out.reply, "id"), 42);
    e = json_object_get(f->out.reply, "error");
    assert_true(json_is_object(e));
    assert_int_equal(int_at(e, "code"), code);
    assert_int_equal(f->out.status, status);
    str_at(e, "message");
    return e;
}

/* An empty ack: {"resultType":"complete", "_meta":{serverInfo}} and nothing else. */
static void assert_ack(const struct fixture *f)
{
    json_t *r = result_of(f);

    assert_string_equal(str_at(r, "resultType"), "complete");
    assert_server_info(r);
    assert_int_equal(json_object_size(r), 2);
}

/* Parameter 'i' of the last execution of 'stmt' is 'want' (NULL: SQL NULL). */
static void assert_param(const char *stmt, int i, const char *want)
{
    const char *got = fakepq_param(stmt, i);

    if (!want && got)
        fail_msg("%s $%d: got \"%s\", want NULL", stmt, i + 1, got);
    if (want && !got)
        fail_msg("%s $%d: got NULL, want \"%s\"", stmt, i + 1, want);
    if (want)
        assert_string_equal(got, want);
}

/* Parameter 'i' of the last execution of 'stmt' is JSON equal to 'want'. */
static void assert_param_json(const char *stmt, int i, const char *want)
{
    const char *got = fakepq_param(stmt, i);
    json_t *o = got ? json_loads(got, 0, NULL) : NULL;

    if (!o)
        fail_msg("%s $%d is not JSON: %s", stmt, i + 1, got ? got : "NULL");
    assert_json(o, want);
    json_decref(o);
}

/* A requestState for task 'id' as the server signs it for 'owner', 'tool' and 'args'. */
static char *sign_state(const char *id, const char *owner, const char *tool, const char *args,
                        int64_t ttl_s)
{
    json_t *a = json_loads(args, 0, NULL);
    struct state_binding b = {owner, "tools/call", tool, a};
    char *s = state_sign(state_key, sizeof(state_key), id, &b, (int64_t)time(NULL) + ttl_s);

    json_decref(a);
    assert_non_null(s);
    return s;
}

/* ---- server/discover, tools/list ---- */

static void test_mcp_server_discover_describes_the_server_with_a_public_cache_ttl(void **state)
{
    struct fixture *f = *state;
    json_t *r;

    handle(f, ALICE, CAPS_NONE, "server/discover", NULL);
    r = result_of(f);
    assert_string_equal(str_at(r, "resultType"), "complete");
    assert_server_info(r);
    assert_json(json_object_get(r, "supportedVersions"), "[\"" MCP_PROTOCOL_VERSION "\"]");
    assert_json(json_object_get(r, "capabilities"),
                "{\"tools\":{\"listChanged\":true},\"extensions\":{\"" MCP_EXT_TASKS "\":{},"
                "\"" MCP_EXT_UI "\":{}}}");
    str_at(r, "instructions");
    assert_int_equal(int_at(r, "ttlMs"), LIST_TTL_MS);
    assert_string_equal(str_at(r, "cacheScope"), "public");
    assert_int_equal(fakepq_connects(), 0); /* no database involved */
}

static void test_mcp_tools_list_lists_the_catalog_with_a_public_cache_ttl(void **state)
{
    struct fixture *f = *state;
    json_t *r, *tools, *want, *t;
    size_t i;
    bool seen = false;

    handle(f, ALICE, CAPS_NONE, "tools/list", NULL);
    r = result_of(f);
    assert_string_equal(str_at(r, "resultType"), "complete");
    assert_server_info(r);
    assert_int_equal(int_at(r, "ttlMs"), LIST_TTL_MS);
    assert_string_equal(str_at(r, "cacheScope"), "public");
    tools = json_object_get(r, "tools");
    want = catalog_list(f->catalog);
    assert_true(json_equal(tools, want));
    json_decref(want);
    json_array_foreach(tools, i, t)
    {
        if (strcmp(str_at(t, "name"), REPORT) == 0) {
            /* As defined, plus the task view App every task tool names (both keys). */
            json_t *copy = json_deep_copy(t);
            assert_json(json_object_get(t, "_meta"),
                        "{\"ui\":{\"resourceUri\":\"" TW_TASK_APP_URI "\"},"
                        "\"" MCP_UI_META_RESOURCE_URI "\":\"" TW_TASK_APP_URI "\"}");
            json_object_del(copy, "_meta");
            assert_json(copy, REPORT_DEF);
            json_decref(copy);
            seen = true;
        }
    }
    assert_true(seen);
    assert_int_equal(fakepq_connects(), 0);
}

static void test_mcp_removed_and_unknown_methods_are_not_found(void **state)
{
    struct fixture *f = *state;
    static const char *const methods[] = {"tasks/list", "tasks/result", "initialize", "nope"};

    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        handle(f, ALICE, CAPS_TASKS, methods[i], NULL);
        error_of(f, 404, MCP_EMETHOD);
    }
    assert_int_equal(fakepq_connects(), 0);
}

/* Serve resources, prompts and completions (with the conformance fixtures when asked);
 * 'c' must outlive the test's requests. */
static void serve_content(struct fixture *f, struct content *c, bool prompts_list_changed)
{
    memset(c, 0, sizeof(*c));
    resources_register(c, true);
    prompts_register(c, true);
    f->srv.content = c;
    f->srv.prompts_list_changed = prompts_list_changed;
}

static void test_mcp_server_discover_advertises_the_content_it_serves(void **state)
{
    struct fixture *f = *state;
    struct content c;

    serve_content(f, &c, true);
    handle(f, ALICE, CAPS_NONE, "server/discover", NULL);
    assert_json(json_object_get(result_of(f), "capabilities"),
                "{\"tools\":{\"listChanged\":true},\"extensions\":{\"" MCP_EXT_TASKS "\":{},"
                "\"" MCP_EXT_UI "\":{}},\"resources\":{},\"prompts\":{\"listChanged\":true},"
                "\"completions\":{}}");
    serve_content(f, &c, false);
    handle(f, ALICE, CAPS_NONE, "server/discover", NULL);
    assert_json(json_object_get(json_object_get(result_of(f), "capabilities"), "prompts"),
                "{\"listChanged\":false}");
}

static void test_mcp_content_methods_are_dispatched_only_when_content_is_served(void **state)
{
    static const char *const methods[] = {"resources/list", "resources/templates/list",
                                          "prompts/list"};
    struct fixture *f = *state;
    struct content c;

    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        handle(f, ALICE, CAPS_NONE, methods[i], NULL);
        error_of(f, 404, MCP_EMETHOD);
    }
    serve_content(f, &c, false);
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        handle(f, ALICE, CAPS_NONE, methods[i], NULL);
        assert_string_equal(str_at(result_of(f), "cacheScope"), "public");
    }
    handle(f, ALICE, CAPS_NONE, "resources/read", "{\"uri\":\"taskwire://tasks/" OTHER "\"}");
    error_of(f, 200, MCP_EPARAMS);
    handle(f, ALICE, CAPS_NONE, "resources/subscribe", "{\"uri\":\"test://watched-resource\"}");
    error_of(f, 404, MCP_EMETHOD); /* removed at 2026-07-28 */
}

/* ---- tools/call ---- */

static void
test_mcp_tools_call_inserts_the_task_for_the_caller_with_the_server_settings(void **state)
{
    struct fixture *f = *state;

    handle(f, ALICE, CAPS_TASKS, "tools/call",
           "{\"name\":\"" REPORT "\",\"arguments\":{\"text\":\"q3\",\"pages\":2}}");
    result_of(f);
    assert_int_equal(fakepq_execs(STORE_STMT_CREATE), 1);
    assert_true(taskid_valid(fakepq_param(STORE_STMT_CREATE, 0)));
    assert_param(STORE_STMT_CREATE, 1, ALICE);
    assert_param(STORE_STMT_CREATE, 2, REPORT);
    assert_param_json(STORE_STMT_CREATE, 3, "{\"text\":\"q3\",\"pages\":2}");
    assert_param(STORE_STMT_CREATE, 4, TRACE);
    assert_param(STORE_STMT_CREATE, 5, "3600000"); /* TASK_TTL_MS */
    assert_param(STORE_STMT_CREATE, 6, "2500");    /* POLL_MS */
    assert_param(STORE_STMT_CREATE, 7, "3");       /* the tool's max attempts */
    assert_param_json(STORE_STMT_CREATE, 8, CAPS_TASKS);
    assert_param(STORE_STMT_CREATE, 9, NULL); /* no answers sent up front */
    assert_pushed(fakepq_param(STORE_STMT_CREATE, 0), 0);
}

static void test_mcp_tools_call_answers_the_flat_create_task_result(void **state)
{
    struct fixture *f = *state;
    json_t *r;
    struct envelope env;

    handle(f, ALICE, CAPS_TASKS, "tools/call",
           "{\"name\":\"" REPORT "\",\"arguments\":{\"text\":\"q3\"}}");
    r = result_of(f);
    assert_string_equal(str_at(r, "resultType"), "task");
    assert_string_equal(str_at(r, "taskId"), fakepq_param(STORE_STMT_CREATE, 0));
    assert_string_equal(str_at(r, "status"), "working");
    assert_int_equal(int_at(r, "ttlMs"), TASK_TTL_MS);
    assert_int_equal(int_at(r, "pollIntervalMs"), POLL_MS);
    assert_string_equal(str_at(r, "createdAt"), "2026-11-22T00:47:48.123Z");
    assert_string_equal(str_at(r, "lastUpdatedAt"), "2026-11-22T00:48:00.000Z");
    assert_server_info(r);
    assert_null(json_object_get(r, "task")); /* flat: no nested Task object */
    assert_null(json_object_get(r, "statusMessage"));
    /* The job follows the commit, carrying the request's trace. */
    env = assert_pushed(str_at(r, "taskId"), 0);
    assert_string_equal(env.trace, TRACE);
}

static void test_mcp_tools_call_with_invalid_arguments_is_refused_and_inserts_nothing(void **state)
{
    struct fixture *f = *state;
    static const char *const params[] = {
        "{\"name\":\"" REPORT "\"}",                                            /* text missing */
        "{\"name\":\"" REPORT "\",\"arguments\":{}}",                           /* text missing */
        "{\"name\":\"" REPORT "\",\"arguments\":{\"text\":7}}",                 /* wrong type */
        "{\"name\":\"" REPORT "\",\"arguments\":{\"text\":\"a\",\"pages\":0}}", /* minimum */
        "{\"name\":\"" REPORT "\",\"arguments\":{\"text\":\"a\",\"x\":1}}", /* unknown property */
        "{\"name\":\"" REPORT "\",\"arguments\":[\"a\"]}",                  /* not an object */
        "{\"name\":\"" REPORT "\",\"arguments\":\"a\"}",
    };

    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        handle(f, ALICE, CAPS_TASKS, "tools/call", "%s", params[i]);
        json_t *e = error_of(f, 200, MCP_EPARAMS);
        assert_non_null(strstr(str_at(e, "message"), "Invalid"));
    }
    assert_int_equal(fakepq_execs_prepared(), 0);
    assert_int_equal(f->ntasks, 0);
}

static void test_mcp_tools_call_of_an_unknown_tool_is_refused_and_inserts_nothing(void **state)
{
    struct fixture *f = *state;

    handle(f, ALICE, CAPS_TASKS, "tools/call", "{\"name\":\"t.none\",\"arguments\":{}}");
    assert_string_equal(str_at(error_of(f, 200, MCP_EPARAMS), "message"), "Unknown tool");
    handle(f, ALICE, CAPS_TASKS, "tools/call", "{\"arguments\":{}}");
    error_of(f, 200, MCP_EPARAMS);
    handle(f, ALICE, CAPS_TASKS, "tools/call", "{\"name\":7}");
    error_of(f, 200, MCP_EPARAMS);
    assert_int_equal(fakepq_execs_prepared(), 0);
}

static void test_mcp_tools_call_of_a_task_only_tool_without_the_extension_is_refused(void **state)
{
    struct fixture *f = *state;
    json_t *e;

    handle(f, ALICE, CAPS_NONE, "tools/call",
           "{\"name\":\"" REPORT "\",\"arguments\":{\"text\":\"q3\"}}");
    e = error_of(f, 400, MCP_ECAPABILITY);
    assert_json(json_object_get(e, "data"),
                "{\"requiredCapabilities\":{\"extensions\":{\"" MCP_EXT_TASKS "\":{}}}}");
    assert_int_equal(fakepq_execs_prepared(), 0);
    assert_int_equal(f->ntasks, 0);
}

static void test_mcp_tools_call_without_the_extension_waits_for_a_short_lived_task(void **state)
{
    struct fixture *f = *state;

    handle(f, ALICE, CAPS_NONE, "tools/call", "{\"name\":\"" QUICK "\",\"arguments\":{\"n\":1}}");
    assert_int_equal(f->out.kind, MCP_WAIT);
    assert_null(f->out.reply);
    assert_false(f->out.reveal_task);
    assert_string_equal(f->out.task_id, fakepq_param(STORE_STMT_CREATE, 0));
    assert_param(STORE_STMT_CREATE, 1, ALICE);
    assert_param(STORE_STMT_CREATE, 5, "120000"); /* SYNC_TTL_MS */
    assert_pushed(f->out.task_id, 0);
}

static void test_mcp_tools_call_keeps_answers_sent_with_the_first_call(void **state)
{
    struct fixture *f = *state;

    handle(f, ALICE, CAPS_TASKS, "tools/call",
           "{\"name\":\"" REPORT "\",\"arguments\":{\"text\":\"q3\"},"
           "\"inputResponses\":{\"quarter\":" ACCEPT "}}");
    result_of(f);
    assert_param_json(STORE_STMT_CREATE, 9, "{\"quarter\":" ACCEPT "}");
    assert_pushed(fakepq_param(STORE_STMT_CREATE, 0), 0);
}

static void test_mcp_tools_call_answers_even_when_no_worker_takes_the_job(void **state)
{
    struct fixture *f = *state;
    char endpoint[96];
    struct dispatch *lonely;
    json_t *r;

    snprintf(endpoint, sizeof(endpoint), "ipc://%s/lonely", fabric.dir);
    lonely = dispatch_new(endpoint, NULL, NULL);
    assert_non_null(lonely);
    assert_int_equal(dispatch_push_task(lonely, PROBE, 0, NULL), -EAGAIN); /* no peer */
    f->srv.fabric = lonely;
    handle(f, ALICE, CAPS_TASKS, "tools/call",
           "{\"name\":\"" REPORT "\",\"arguments\":{\"text\":\"q3\"}}");
    f->srv.fabric = fabric.d;
    dispatch_free(lonely);
    r = result_of(f);
    assert_string_equal(str_at(r, "resultType"), "task");
    assert_string_equal(str_at(r, "taskId"), f->task[0].id);
    assert_int_equal(f->task[0].status, TASK_QUEUED); /* committed: a worker will find it */
}

/* ---- tasks/get ---- */

static void test_mcp_tasks_get_reads_with_the_caller_as_owner(void **state)
{
    struct fixture *f = *state;

    table_put(f, TASK, ALICE, TASK_RUNNING);
    handle(f, ALICE, CAPS_TASKS, "tasks/get", "{\"taskId\":\"" TASK "\"}");
    assert_string_equal(str_at(result_of(f), "taskId"), TASK);
    assert_int_equal(fakepq_execs(STORE_STMT_GET_BRIEF), 1);
    assert_param(STORE_STMT_GET_BRIEF, 0, TASK);
    assert_param(STORE_STMT_GET_BRIEF, 1, ALICE);
}

static void test_mcp_tasks_get_of_another_owners_task_reads_like_an_unknown_id(void **state)
{
    struct fixture *f = *state;
    json_t *foreign, *unknown, *malformed;

    table_put(f, TASK, ALICE, TASK_COMPLETED);
    set_text(&f->task[0].result, "{\"content\":[{\"type\":\"text\",\"text\":\"secret\"}]}");
    handle(f, MALLORY, CAPS_TASKS, "tasks/get", "{\"taskId\":\"" TASK "\"}");
    foreign = json_incref(error_of(f, 200, MCP_EPARAMS));
    assert_param(STORE_STMT_GET_BRIEF, 1, MALLORY);
    handle(f, MALLORY, CAPS_TASKS, "tasks/get", "{\"taskId\":\"" UNKNOWN "\"}");
    unknown = json_incref(error_of(f, 200, MCP_EPARAMS));
    handle(f, MALLORY, CAPS_TASKS, "tasks/get", "{\"taskId\":\"not-a-task\"}");
    malformed = json_incref(error_of(f, 200, MCP_EPARAMS));
    assert_true(json_equal(foreign, unknown));
    assert_true(json_equal(foreign, malformed));
    json_decref(foreign);
    json_decref(unknown);
    json_decref(malformed);
}

static void test_mcp_tasks_get_of_a_working_task_has_the_task_fields_and_progress(void **state)
{
    struct fixture *f = *state;
    struct task_row *t = table_put(f, TASK, ALICE, TASK_RUNNING);
    json_t *r;

    set_text(&t->status_message, "page 2 of 4");
    t->has_progress = true;
    t->progress = 2;
    t->progress_total = 4;
    handle(f, ALICE, CAPS_TASKS, "tasks/get", "{\"taskId\":\"" TASK "\"}");
    r = result_of(f);
    assert_string_equal(str_at(r, "resultType"), "complete");
    assert_string_equal(str_at(r, "taskId"), TASK);
    assert_string_equal(str_at(r, "status"), "working");
    assert_string_equal(str_at(r, "statusMessage"), "page 2 of 4");
    assert_string_equal(str_at(r, "createdAt"), "2026-11-22T00:47:48.123Z");
    assert_string_equal(str_at(r, "lastUpdatedAt"), "2026-11-22T00:48:00.000Z");
    assert_int_equal(int_at(r, "ttlMs"), TASK_TTL_MS);
    assert_int_equal(int_at(r, "pollIntervalMs"), POLL_MS);
    assert_server_info(r);
    assert_json(json_object_get(json_object_get(r, "_meta"), TW_META_PROGRESS),
                "{\"progress\":2.0,\"total\":4.0}");
    assert_null(json_object_get(r, "result"));
    assert_null(json_object_get(r, "error"));
    assert_null(json_object_get(r, "inputRequests"));
}

static void
test_mcp_tasks_get_of_an_input_required_task_shows_what_the_reader_can_answer(void **state)
{
    struct fixture *f = *state;
    json_t *r;

    table_waiting(f, "{\"quarter\":" ELICIT ",\"summary\":" SAMPLE "}");
    handle(f, ALICE, CAPS_TASKS_ELICIT, "tasks/get", "{\"taskId\":\"" TASK "\"}");
    r = result_of(f);
    assert_string_equal(str_at(r, "status"), "input_required");
    assert_string_equal(str_at(r, "statusMessage"), "waiting for input");
    assert_json(json_object_get(r, "inputRequests"), "{\"quarter\":" ELICIT "}");
    /* A reader that can answer neither sees an empty map, never a request it cannot serve. */
    handle(f, ALICE, CAPS_TASKS, "tasks/get", "{\"taskId\":\"" TASK "\"}");
    assert_json(json_object_get(result_of(f), "inputRequests"), "{}");
}

static void test_mcp_tasks_get_of_a_completed_task_carries_its_result(void **state)
{
    struct fixture *f = *state;
    struct task_row *t = table_put(f, TASK, ALICE, TASK_COMPLETED);
    json_t *r;

    set_text(&t->result, "{\"content\":[{\"type\":\"text\",\"text\":\"done\"}],\"isError\":false}");
    handle(f, ALICE, CAPS_TASKS, "tasks/get", "{\"taskId\":\"" TASK "\"}");
    r = result_of(f);
    assert_string_equal(str_at(r, "status"), "completed");
    assert_json(json_object_get(r, "result"),
                "{\"content\":[{\"type\":\"text\",\"text\":\"done\"}],\"isError\":false,"
                "\"resultType\":\"complete\"}");
    assert_null(json_object_get(r, "error"));
}

static void test_mcp_tasks_get_of_a_failed_task_carries_its_error(void **state)
{
    struct fixture *f = *state;
    struct task_row *t = table_put(f, TASK, ALICE, TASK_FAILED);
    json_t *r;

    set_text(&t->error, "{\"code\":-32603,\"message\":\"worker lost\"}");
    set_text(&t->status_message, "worker lost; gave up");
    handle(f, ALICE, CAPS_TASKS, "tasks/get", "{\"taskId\":\"" TASK "\"}");
    r = result_of(f);
    assert_string_equal(str_at(r, "status"), "failed");
    assert_string_equal(str_at(r, "statusMessage"), "worker lost; gave up");
    assert_json(json_object_get(r, "error"), "{\"code\":-32603,\"message\":\"worker lost\"}");
    assert_null(json_object_get(r, "result"));
}

static void test_mcp_tasks_get_of_a_cancelled_task_has_only_the_task_fields(void **state)
{
    struct fixture *f = *state;
    json_t *r;

    table_put(f, TASK, ALICE, TASK_CANCELLED);
    handle(f, ALICE, CAPS_TASKS, "tasks/get", "{\"taskId\":\"" TASK "\"}");
    r = result_of(f);
    assert_string_equal(str_at(r, "status"), "cancelled");
    assert_null(json_object_get(r, "result"));
    assert_null(json_object_get(r, "error"));
    assert_null(json_object_get(r, "inputRequests"));
}

static void test_mcp_tasks_methods_need_the_extension_and_a_task_id(void **state)
{
    struct fixture *f = *state;
    static const char *const methods[] = {"tasks/get", "tasks/update", "tasks/cancel"};

    table_put(f, TASK, ALICE, TASK_RUNNING);
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        handle(f, ALICE, CAPS_NONE, methods[i], "{\"taskId\":\"" TASK "\",\"inputResponses\":{}}");
        error_of(f, 400, MCP_ECAPABILITY);
        handle(f, ALICE, CAPS_TASKS, methods[i], "{\"taskId\":7,\"inputResponses\":{}}");
        error_of(f, 200, MCP_EPARAMS);
    }
    assert_int_equal(fakepq_execs_prepared(), 0);
}

/* ---- tasks/update ---- */

static void
test_mcp_tasks_update_stores_the_answers_of_the_owner_and_pushes_the_resumed_task(void **state)
{
    struct fixture *f = *state;

    table_waiting(f, "{\"quarter\":" ELICIT "}");
    handle(f, ALICE, CAPS_TASKS, "tasks/update",
           "{\"taskId\":\"" TASK "\",\"inputResponses\":{\"quarter\":" ACCEPT "}}");
    assert_ack(f);
    assert_int_equal(fakepq_execs(STORE_STMT_ANSWER), 1);
    assert_param(STORE_STMT_ANSWER, 0, TASK);
    assert_param(STORE_STMT_ANSWER, 1, ALICE);
    assert_param_json(STORE_STMT_ANSWER, 2, "{\"quarter\":" ACCEPT "}");
    assert_int_equal(f->task[0].status, TASK_QUEUED);
    assert_published(NOTIFY_CHANGED, TASK);
    assert_pushed(TASK, 1); /* the attempt the row holds */
}

static void test_mcp_tasks_update_with_questions_left_is_acknowledged_without_a_push(void **state)
{
    struct fixture *f = *state;

    table_waiting(f, "{\"quarter\":" ELICIT ",\"year\":" ELICIT "}");
    handle(f, ALICE, CAPS_TASKS, "tasks/update",
           "{\"taskId\":\"" TASK "\",\"inputResponses\":{\"quarter\":" ACCEPT "}}");
    assert_ack(f);
    assert_int_equal(f->task[0].status, TASK_INPUT_REQUIRED);
    assert_published(NOTIFY_CHANGED, TASK); /* listeners see the narrower request */
    /* fixture_free proves nothing was pushed */
}

static void test_mcp_tasks_update_is_refused_for_another_owner(void **state)
{
    struct fixture *f = *state;
    json_t *foreign;

    table_waiting(f, "{\"quarter\":" ELICIT "}");
    handle(f, MALLORY, CAPS_TASKS, "tasks/update",
           "{\"taskId\":\"" TASK "\",\"inputResponses\":{\"quarter\":" ACCEPT "}}");
    foreign = json_incref(error_of(f, 200, MCP_EPARAMS));
    assert_param(STORE_STMT_ANSWER, 1, MALLORY);
    assert_param(STORE_STMT_GET, 1, MALLORY);
    assert_int_equal(f->task[0].status, TASK_INPUT_REQUIRED);
    assert_null(f->task[0].input_responses);
    handle(f, MALLORY, CAPS_TASKS, "tasks/update",
           "{\"taskId\":\"" UNKNOWN "\",\"inputResponses\":{\"quarter\":" ACCEPT "}}");
    assert_true(json_equal(foreign, error_of(f, 200, MCP_EPARAMS)));
    json_decref(foreign);
    assert_nothing_published();
}

/* Checked as an MRTR retry's answers are: an object of result objects, else nothing is
 * stored. */
static void test_mcp_tasks_update_needs_input_responses_as_an_object(void **state)
{
    struct fixture *f = *state;
    static const char *const params[] = {
        "{\"taskId\":\"" TASK "\"}",
        "{\"taskId\":\"" TASK "\",\"inputResponses\":\"accept\"}",
        "{\"taskId\":\"" TASK "\",\"inputResponses\":[" ACCEPT "]}",
        "{\"taskId\":\"" TASK "\",\"inputResponses\":null}",
        "{\"taskId\":\"" TASK "\",\"inputResponses\":{\"quarter\":\"yes\"}}",
        "{\"taskId\":\"" TASK "\",\"inputResponses\":{\"quarter\":" ACCEPT ",\"x\":[]}}",
    };

    table_waiting(f, "{\"quarter\":" ELICIT "}");
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        handle(f, ALICE, CAPS_TASKS, "tasks/update", "%s", params[i]);
        error_of(f, 200, MCP_EPARAMS);
    }
    assert_int_equal(fakepq_execs_prepared(), 0);
    assert_int_equal(f->task[0].status, TASK_INPUT_REQUIRED);
}

static void
test_mcp_tasks_update_of_a_task_not_waiting_is_acknowledged_and_changes_nothing(void **state)
{
    struct fixture *f = *state;

    table_put(f, TASK, ALICE, TASK_RUNNING);
    handle(f, ALICE, CAPS_TASKS, "tasks/update",
           "{\"taskId\":\"" TASK "\",\"inputResponses\":{\"quarter\":" ACCEPT "}}");
    assert_ack(f);
    assert_int_equal(f->task[0].status, TASK_RUNNING);
    assert_null(f->task[0].input_responses);
    assert_published(NOTIFY_CHANGED, TASK);
}

/* ---- tasks/cancel ---- */

static void test_mcp_tasks_cancel_cancels_the_owners_task_and_publishes_the_cancel(void **state)
{
    struct fixture *f = *state;

    table_put(f, TASK, ALICE, TASK_RUNNING);
    handle(f, ALICE, CAPS_TASKS, "tasks/cancel", "{\"taskId\":\"" TASK "\"}");
    assert_ack(f);
    assert_param(STORE_STMT_CANCEL, 0, TASK);
    assert_param(STORE_STMT_CANCEL, 1, ALICE);
    assert_int_equal(f->task[0].status, TASK_CANCELLED);
    assert_published(NOTIFY_CANCEL, TASK); /* the worker running it stops */
}

static void test_mcp_tasks_cancel_is_idempotent(void **state)
{
    struct fixture *f = *state;
    json_t *first;

    table_put(f, TASK, ALICE, TASK_INPUT_REQUIRED);
    table_put(f, OTHER, ALICE, TASK_COMPLETED);
    handle(f, ALICE, CAPS_TASKS, "tasks/cancel", "{\"taskId\":\"" TASK "\"}");
    assert_ack(f);
    first = json_incref(f->out.reply);
    assert_published(NOTIFY_CANCEL, TASK);
    handle(f, ALICE, CAPS_TASKS, "tasks/cancel", "{\"taskId\":\"" TASK "\"}");
    assert_ack(f);
    assert_true(json_equal(first, f->out.reply));
    json_decref(first);
    /* A finished task stays finished, and the ack is the same. */
    handle(f, ALICE, CAPS_TASKS, "tasks/cancel", "{\"taskId\":\"" OTHER "\"}");
    assert_ack(f);
    assert_int_equal(f->task[1].status, TASK_COMPLETED);
    assert_nothing_published(); /* only the first cancel changed anything */
}

static void test_mcp_tasks_cancel_is_refused_for_another_owner(void **state)
{
    struct fixture *f = *state;
    json_t *foreign;

    table_put(f, TASK, ALICE, TASK_RUNNING);
    handle(f, MALLORY, CAPS_TASKS, "tasks/cancel", "{\"taskId\":\"" TASK "\"}");
    foreign = json_incref(error_of(f, 200, MCP_EPARAMS));
    assert_param(STORE_STMT_CANCEL, 1, MALLORY);
    assert_param(STORE_STMT_GET, 1, MALLORY);
    assert_int_equal(f->task[0].status, TASK_RUNNING);
    handle(f, MALLORY, CAPS_TASKS, "tasks/cancel", "{\"taskId\":\"" UNKNOWN "\"}");
    assert_true(json_equal(foreign, error_of(f, 200, MCP_EPARAMS)));
    json_decref(foreign);
    assert_nothing_published();
}

/* ---- MRTR retries (requestState) ---- */

static void test_mcp_input_required_reply_signs_a_state_the_retry_accepts(void **state)
{
    struct fixture *f = *state;
    struct task_row *t = table_waiting(f, "{\"quarter\":" ELICIT ",\"summary\":" SAMPLE "}");
    json_t *caps = json_loads(CAPS_TASKS_ELICIT, 0, NULL), *id = json_integer(9), *reply, *r;
    char *rs;

    reply = taskjson_input_required_reply(f->srv.state_key, f->srv.state_key_len,
                                          f->srv.state_ttl_s, id, t, caps);
    r = json_object_get(reply, "result");
    assert_int_equal(int_at(reply, "id"), 9);
    assert_string_equal(str_at(r, "resultType"), "input_required");
    assert_json(json_object_get(r, "inputRequests"), "{\"quarter\":" ELICIT "}");
    assert_server_info(r);
    rs = xstrdup(str_at(r, "requestState"));
    json_decref(reply);
    json_decref(caps);
    json_decref(id);
    assert_int_equal(fakepq_execs_prepared(), 0); /* built from the row alone */

    handle(f, ALICE, CAPS_TASKS_ELICIT, "tools/call",
           "{\"name\":\"" REPORT "\",\"arguments\":" ARGS ",\"requestState\":\"%s\","
           "\"inputResponses\":{\"quarter\":" ACCEPT ",\"summary\":{\"role\":\"assistant\"}}}",
           rs);
    free(rs);
    r = result_of(f);
    assert_string_equal(str_at(r, "resultType"), "task");
    assert_string_equal(str_at(r, "taskId"), TASK);
    assert_param(STORE_STMT_ANSWER, 0, TASK);
    assert_param(STORE_STMT_ANSWER, 1, ALICE);
    assert_param(STORE_STMT_GET, 1, ALICE);
    assert_int_equal(fakepq_execs(STORE_STMT_CREATE), 0); /* the same task, not a new one */
    assert_int_equal(f->task[0].status, TASK_QUEUED);
    assert_published(NOTIFY_CHANGED, TASK);
    assert_pushed(TASK, 1);
}

static void test_mcp_mrtr_retry_of_a_synchronous_call_waits_for_the_same_task(void **state)
{
    struct fixture *f = *state;
    struct task_row *t = table_waiting(f, "{\"quarter\":" ELICIT "}");
    char *rs;

    set_text(&t->tool, QUICK);
    set_text(&t->args, "{}");
    rs = sign_state(TASK, ALICE, QUICK, "{}", 600);
    handle(f, ALICE, CAPS_NONE, "tools/call",
           "{\"name\":\"" QUICK "\",\"requestState\":\"%s\","
           "\"inputResponses\":{\"quarter\":" ACCEPT "}}",
           rs);
    free(rs);
    assert_int_equal(f->out.kind, MCP_WAIT);
    assert_null(f->out.reply);
    assert_string_equal(f->out.task_id, TASK);
    assert_param(STORE_STMT_ANSWER, 1, ALICE);
    assert_published(NOTIFY_CHANGED, TASK);
    assert_pushed(TASK, 1);
}

static void
test_mcp_mrtr_state_of_another_owner_tool_or_arguments_is_refused_and_writes_nothing(void **state)
{
    struct fixture *f = *state;
    char *rs = sign_state(TASK, ALICE, REPORT, ARGS, 600);
    char *expired = sign_state(TASK, ALICE, REPORT, ARGS, -10);
    const struct {
        const char *owner; /* who presents it */
        const char *tool;  /* the tool called */
        const char *args;  /* with these arguments */
        const char *state; /* and this requestState */
    } cases[] = {
        {MALLORY, REPORT, ARGS, rs},              /* another principal */
        {ALICE, "echo", ARGS, rs},                /* another tool */
        {ALICE, REPORT, "{\"text\":\"q4\"}", rs}, /* other arguments */
        {ALICE, REPORT, "{\"text\":\"q3\",\"pages\":1}", rs},
        {ALICE, REPORT, ARGS, expired},           /* too late */
        {ALICE, REPORT, ARGS, "bm90IGEgc3RhdGU"}, /* not one we signed */
    };

    table_waiting(f, "{\"quarter\":" ELICIT "}");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        handle(f, cases[i].owner, CAPS_TASKS, "tools/call",
               "{\"name\":\"%s\",\"arguments\":%s,\"requestState\":\"%s\","
               "\"inputResponses\":{\"quarter\":" ACCEPT "}}",
               cases[i].tool, cases[i].args, cases[i].state);
        error_of(f, 200, MCP_EPARAMS);
        if (fakepq_execs_prepared() != 0)
            fail_msg("case %zu reached the store", i);
    }
    free(rs);
    free(expired);
    assert_int_equal(f->ntasks, 1);
    assert_int_equal(f->task[0].status, TASK_INPUT_REQUIRED);
    assert_null(f->task[0].input_responses);
}

static void test_mcp_mrtr_retry_with_answers_that_are_not_objects_is_refused(void **state)
{
    struct fixture *f = *state;
    char *rs = sign_state(TASK, ALICE, REPORT, ARGS, 600);

    table_waiting(f, "{\"quarter\":" ELICIT "}");
    handle(f, ALICE, CAPS_TASKS, "tools/call",
           "{\"name\":\"" REPORT "\",\"arguments\":" ARGS ",\"requestState\":\"%s\","
           "\"inputResponses\":{\"quarter\":\"Q3\"}}",
           rs);
    error_of(f, 200, MCP_EPARAMS);
    handle(f, ALICE, CAPS_TASKS, "tools/call",
           "{\"name\":\"" REPORT "\",\"arguments\":" ARGS ",\"requestState\":7}");
    error_of(f, 200, MCP_EPARAMS);
    free(rs);
    assert_int_equal(fakepq_execs_prepared(), 0);
}

/* ---- subscriptions/listen ---- */

static void test_mcp_listen_accepts_only_the_callers_tasks(void **state)
{
    struct fixture *f = *state;

    table_put(f, TASK, ALICE, TASK_RUNNING);
    table_put(f, OTHER, MALLORY, TASK_RUNNING);
    handle(f, ALICE, CAPS_TASKS, "subscriptions/listen",
           "{\"notifications\":{\"taskIds\":[\"" TASK "\",\"" OTHER "\",\"" UNKNOWN "\",\"" TASK
           "\",\"junk\",5],\"toolsListChanged\":true}}");
    assert_int_equal(f->out.kind, MCP_LISTEN);
    assert_null(f->out.reply);
    assert_json(f->out.listen, "{\"taskIds\":[\"" TASK "\"],\"toolsListChanged\":true}");
    assert_int_equal(fakepq_execs(STORE_STMT_GET), 3); /* TASK, OTHER, UNKNOWN once each */
    assert_param(STORE_STMT_GET, 1, ALICE);
}

static void test_mcp_listen_acknowledges_prompts_changes_only_when_they_are_signalled(void **state)
{
    struct fixture *f = *state;

    f->srv.prompts_list_changed = false;
    handle(f, ALICE, CAPS_NONE, "subscriptions/listen",
           "{\"notifications\":{\"promptsListChanged\":true,\"resourcesListChanged\":true}}");
    assert_int_equal(f->out.kind, MCP_LISTEN);
    assert_json(f->out.listen, "{}");
    f->srv.prompts_list_changed = true;
    handle(f, ALICE, CAPS_NONE, "subscriptions/listen",
           "{\"notifications\":{\"promptsListChanged\":true,\"resourcesListChanged\":true}}");
    assert_json(f->out.listen, "{\"promptsListChanged\":true}");
}

static void test_mcp_listen_keeps_a_key_each_for_the_tools_and_prompts_lists(void **state)
{
    struct fixture *f = *state;
    char params[4096];
    size_t n = (size_t)snprintf(params, sizeof(params), "{\"notifications\":{\"taskIds\":[");

    for (int i = 0; i < HUB_MAX_KEYS - 1; i++)
        n += (size_t)snprintf(params + n, sizeof(params) - n, "%s\"%s\"", i ? "," : "", UNKNOWN);
    snprintf(params + n, sizeof(params) - n, "]}}");
    handle(f, ALICE, CAPS_TASKS, "subscriptions/listen", "%s", params);
    error_of(f, 200, MCP_EPARAMS);
    assert_int_equal(fakepq_execs(STORE_STMT_GET), 0);
}

/* ---- the store failing ---- */

/* A request that reaches the store; 'stmt' is the first statement it runs. */
struct store_path {
    const char *name;               /* for messages */
    const char *stmt;               /* its first statement */
    void (*run)(struct fixture *f); /* puts what it needs in the table, sends the request */
};

static void run_create(struct fixture *f)
{
    handle(f, ALICE, CAPS_TASKS, "tools/call",
           "{\"name\":\"" REPORT "\",\"arguments\":{\"text\":\"q3\"}}");
}

static void run_get(struct fixture *f)
{
    table_put(f, TASK, ALICE, TASK_RUNNING);
    handle(f, ALICE, CAPS_TASKS, "tasks/get", "{\"taskId\":\"" TASK "\"}");
}

static void run_update(struct fixture *f)
{
    table_waiting(f, "{\"quarter\":" ELICIT "}");
    handle(f, ALICE, CAPS_TASKS, "tasks/update",
           "{\"taskId\":\"" TASK "\",\"inputResponses\":{\"quarter\":" ACCEPT "}}");
}

static void run_cancel(struct fixture *f)
{
    table_put(f, TASK, ALICE, TASK_RUNNING);
    handle(f, ALICE, CAPS_TASKS, "tasks/cancel", "{\"taskId\":\"" TASK "\"}");
}

static void run_retry(struct fixture *f)
{
    char *rs = sign_state(TASK, ALICE, REPORT, ARGS, 600);

    table_waiting(f, "{\"quarter\":" ELICIT "}");
    handle(f, ALICE, CAPS_TASKS, "tools/call",
           "{\"name\":\"" REPORT "\",\"arguments\":" ARGS ",\"requestState\":\"%s\","
           "\"inputResponses\":{\"quarter\":" ACCEPT "}}",
           rs);
    free(rs);
}

static void run_listen(struct fixture *f)
{
    table_put(f, TASK, ALICE, TASK_RUNNING);
    handle(f, ALICE, CAPS_TASKS, "subscriptions/listen",
           "{\"notifications\":{\"taskIds\":[\"" TASK "\"]}}");
}

static const struct store_path store_paths[] = {
    {"tools/call", STORE_STMT_CREATE, run_create},
    {"tasks/get", STORE_STMT_GET_BRIEF, run_get},
    {"tasks/update", STORE_STMT_ANSWER, run_update},
    {"tasks/cancel", STORE_STMT_CANCEL, run_cancel},
    {"tools/call with requestState", STORE_STMT_ANSWER, run_retry},
    {"subscriptions/listen", STORE_STMT_GET, run_listen},
};

/* A way for the store to fail on statement 'stmt'. */
struct store_failure {
    const char *name;                 /* for messages */
    void (*script)(const char *stmt); /* scripts it */
};

/* The connection drops, and drops again on the store's one re-send. */
static void fail_drop(const char *stmt)
{
    fakepq_reply_drop(stmt);
    fakepq_reply_drop(stmt);
}

static void fail_08006(const char *stmt)
{
    fakepq_reply_error(stmt, "08006", "FATAL:  connection failure\n");
    fakepq_reply_error(stmt, "08006", "FATAL:  connection failure\n");
}

static void fail_57p01(const char *stmt)
{
    fakepq_reply_error(stmt, "57P01",
                       "FATAL:  terminating connection due to administrator command\n");
    fakepq_reply_error(stmt, "57P01",
                       "FATAL:  terminating connection due to administrator command\n");
}

static void fail_refused(const char *stmt)
{
    (void)stmt;
    fakepq_fail_connects(1);
}

static void fail_xx000(const char *stmt)
{
    fakepq_reply_error(stmt, "XX000", "ERROR:  internal error\n");
}

static void fail_22p02(const char *stmt)
{
    fakepq_reply_error(stmt, "22P02", "ERROR:  invalid input syntax for type json\n");
}

static void fail_unmigrated(const char *stmt)
{
    fakepq_fail_prepare(stmt);
}

/* Every path under every failure: HTTP 'status', -32603, a message holding 'says'
 * (NULL: not holding "retry"), nothing pushed or published, the store clean after. */
static void assert_store_failures(struct fixture *f, const struct store_failure *failures, size_t n,
                                  int status, const char *says)
{
    for (size_t i = 0; i < sizeof(store_paths) / sizeof(store_paths[0]); i++)
        for (size_t k = 0; k < n; k++) {
            store_stop(f);
            store_start(f);
            failures[k].script(store_paths[i].stmt);
            store_paths[i].run(f);
            if (f->out.status != status || !f->out.reply)
                fail_msg("%s under %s: HTTP %d, not %d", store_paths[i].name, failures[k].name,
                         f->out.status, status);
            const char *msg = str_at(error_of(f, status, MCP_EINTERNAL), "message");
            if (says ? !strstr(msg, says) : strstr(msg, "retry") != NULL)
                fail_msg("%s under %s: message \"%s\"", store_paths[i].name, failures[k].name, msg);
            assert_nothing_pushed();
            assert_nothing_published();
            assert_int_equal(fakepq_pending(), 0); /* the re-send happened where scripted */
        }
}

static void test_mcp_store_unavailable_is_a_503_asking_to_retry_on_every_method(void **state)
{
    static const struct store_failure failures[] = {
        {"a dropped connection", fail_drop},
        {"SQLSTATE 08006", fail_08006},
        {"SQLSTATE 57P01", fail_57p01},
        {"a refused connect", fail_refused},
    };

    assert_store_failures(*state, failures, sizeof(failures) / sizeof(failures[0]), 503, "retry");
}

static void test_mcp_store_internal_error_is_a_500_on_every_method(void **state)
{
    static const struct store_failure failures[] = {
        {"SQLSTATE XX000", fail_xx000},
        {"SQLSTATE 22P02", fail_22p02},
        {"an unmigrated schema", fail_unmigrated},
    };

    assert_store_failures(*state, failures, sizeof(failures) / sizeof(failures[0]), 500, NULL);
}

static void test_mcp_store_connection_dropped_once_is_invisible_to_the_client(void **state)
{
    struct fixture *f = *state;

    table_put(f, TASK, ALICE, TASK_RUNNING);
    fakepq_reply_drop(STORE_STMT_GET_BRIEF);
    handle(f, ALICE, CAPS_TASKS, "tasks/get", "{\"taskId\":\"" TASK "\"}");
    assert_string_equal(str_at(result_of(f), "status"), "working");
    assert_int_equal(fakepq_connects(), 2);
}

/* ---- reply builders ---- */

static void test_mcp_create_task_reply_is_the_flat_task_of_the_row(void **state)
{
    struct fixture *f = *state;
    struct task_row *t = table_put(f, TASK, ALICE, TASK_QUEUED);
    json_t *id = json_string("req-1"), *reply = taskjson_create_reply(id, t);

    assert_json(reply,
                "{\"jsonrpc\":\"2.0\",\"id\":\"req-1\",\"result\":{"
                "\"resultType\":\"task\",\"taskId\":\"" TASK "\",\"status\":\"working\","
                "\"createdAt\":\"2026-11-22T00:47:48.123Z\","
                "\"lastUpdatedAt\":\"2026-11-22T00:48:00.000Z\","
                "\"ttlMs\":3600000,\"pollIntervalMs\":2500,\"_meta\":{\"" MCP_META_SERVER_INFO
                "\":{\"name\":\"taskwire\",\"version\":\"" TASKWIRE_VERSION "\"}}}}");
    json_decref(reply);
    json_decref(id);
}

static void test_mcp_sync_reply_is_the_outcome_of_the_task(void **state)
{
    struct fixture *f = *state;
    struct task_row *done = table_put(f, TASK, ALICE, TASK_COMPLETED);
    struct task_row *failed = table_put(f, OTHER, ALICE, TASK_FAILED);
    struct task_row *gone = table_put(f, UNKNOWN, ALICE, TASK_CANCELLED);
    json_t *id = json_integer(3), *reply;

    set_text(&done->result, "{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}");
    set_text(&failed->error, "{\"code\":-32603,\"message\":\"boom\"}");
    reply = taskjson_sync_reply(id, done);
    assert_json(
        reply,
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"content\":[{\"type\":"
        "\"text\",\"text\":\"hi\"}],\"resultType\":\"complete\",\"_meta\":{\"" MCP_META_SERVER_INFO
        "\":{\"name\":\"taskwire\",\"version\":\"" TASKWIRE_VERSION "\"}}}}");
    json_decref(reply);
    reply = taskjson_sync_reply(id, failed);
    assert_json(reply, "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32603,"
                       "\"message\":\"boom\"}}");
    json_decref(reply);
    reply = taskjson_sync_reply(id, gone);
    assert_int_equal(int_at(json_object_get(reply, "error"), "code"), MCP_EINTERNAL);
    assert_string_equal(str_at(json_object_get(reply, "error"), "message"),
                        "The call was cancelled");
    json_decref(reply);
    json_decref(id);
}

static void test_mcp_stream_notifications_name_their_subscription(void **state)
{
    struct fixture *f = *state;
    struct task_row *t = table_put(f, TASK, ALICE, TASK_RUNNING);
    json_t *sub = json_string("sub-1"), *token = json_string("tok"), *m, *p;

    set_text(&t->status_message, "page 1");
    t->has_progress = true;
    t->progress = 1;
    t->progress_total = 4;

    m = taskjson_progress(token, t);
    assert_json(m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{"
                   "\"progressToken\":\"tok\",\"progress\":1.0,\"total\":4.0,"
                   "\"message\":\"page 1\"}}");
    json_decref(m);

    m = taskjson_task_notification(sub, t);
    assert_string_equal(str_at(m, "method"), "notifications/tasks");
    p = json_object_get(m, "params");
    assert_string_equal(str_at(p, "taskId"), TASK);
    assert_string_equal(str_at(p, "status"), "working");
    assert_null(json_object_get(p, "resultType"));
    assert_string_equal(str_at(json_object_get(p, "_meta"), MCP_META_SUBSCRIPTION_ID), "sub-1");
    json_decref(m);

    p = json_pack("{s:b}", "toolsListChanged", 1);
    m = taskjson_listen_ack(sub, p);
    json_decref(p);
    assert_json(m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/subscriptions/acknowledged\","
                   "\"params\":{\"notifications\":{\"toolsListChanged\":true},"
                   "\"_meta\":{\"" MCP_META_SUBSCRIPTION_ID "\":\"sub-1\"}}}");
    json_decref(m);

    m = taskjson_list_changed(sub, "tools");
    assert_json(m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\","
                   "\"params\":{\"_meta\":{\"" MCP_META_SUBSCRIPTION_ID "\":\"sub-1\"}}}");
    json_decref(m);

    m = taskjson_list_changed(sub, "prompts");
    assert_json(m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/prompts/list_changed\","
                   "\"params\":{\"_meta\":{\"" MCP_META_SUBSCRIPTION_ID "\":\"sub-1\"}}}");
    json_decref(m);

    m = taskjson_listen_close(sub);
    p = json_object_get(m, "result");
    assert_string_equal(str_at(p, "resultType"), "complete");
    assert_string_equal(str_at(json_object_get(p, "_meta"), MCP_META_SUBSCRIPTION_ID), "sub-1");
    json_decref(m);
    json_decref(sub);
    json_decref(token);
}

/* ---- tools the frontend answers itself: the task view App's ---- */

#define APP_CALL(tool, id) "{\"name\":\"" tool "\",\"arguments\":{\"taskId\":\"" id "\"}}"

/* Assert that the last reply is the plain answer of an app tool about task 'id' in
 * 'status' (no task created, nothing pushed); returns its structuredContent (borrowed). */
static json_t *app_answer(struct fixture *f, const char *id, const char *status)
{
    json_t *r = result_of(f), *s;

    assert_string_equal(str_at(r, "resultType"), "complete");
    assert_server_info(r);
    assert_null(json_object_get(r, "taskId"));
    assert_true(strstr(str_at(json_array_get(json_object_get(r, "content"), 0), "text"), id));
    s = json_object_get(r, "structuredContent");
    assert_string_equal(str_at(s, "taskId"), id);
    assert_string_equal(str_at(s, "status"), status);
    assert_null(json_object_get(s, "resultType"));
    assert_null(json_object_get(s, "_meta"));
    assert_int_equal(fakepq_execs(STORE_STMT_CREATE), 0);
    return s;
}

static void test_mcp_app_tools_are_listed_for_the_app_only_and_never_as_tasks(void **state)
{
    struct fixture *f = *state;
    const struct tool_desc *t;
    const char *names[] = {APPTOOLS_STATUS, APPTOOLS_CANCEL};

    for (int i = 0; i < 2; i++) {
        t = catalog_find(f->catalog, names[i]);
        assert_non_null(t);
        assert_non_null(t->frontend);
        assert_int_equal(t->policy, TOOL_TASK_NEVER);
        assert_json(json_object_get(t->definition, "_meta"),
                    "{\"ui\":{\"resourceUri\":\"" TW_TASK_APP_URI "\",\"visibility\":[\"app\"]}}");
    }
    assert_null(catalog_find(f->catalog, REPORT)->frontend);
}

static void test_mcp_app_status_tool_answers_from_the_store_without_a_task(void **state)
{
    struct fixture *f = *state;
    struct task_row *t = table_put(f, TASK, ALICE, TASK_RUNNING);
    json_t *s;

    t->has_progress = true;
    t->progress = 2;
    t->progress_total = 5;
    set_text(&t->status_message, "step 2/5");
    /* With or without the Tasks extension: a plain CallToolResult, at once. */
    handle(f, ALICE, CAPS_NONE, "tools/call", APP_CALL(APPTOOLS_STATUS, TASK));
    s = app_answer(f, TASK, "working");
    assert_string_equal(str_at(s, "statusMessage"), "step 2/5");
    assert_json(json_object_get(s, "progress"), "{\"progress\":2.0,\"total\":5.0}");
    assert_int_equal(int_at(s, "pollIntervalMs"), POLL_MS);
    assert_int_equal(int_at(s, "ttlMs"), TASK_TTL_MS);
    assert_param(STORE_STMT_GET, 0, TASK);
    assert_param(STORE_STMT_GET, 1, ALICE);
    handle(f, ALICE, CAPS_TASKS, "tools/call", APP_CALL(APPTOOLS_STATUS, TASK));
    app_answer(f, TASK, "working");
    assert_string_equal(str_at(json_array_get(json_object_get(result_of(f), "content"), 0), "text"),
                        "Task " TASK " is working (2 of 5): step 2/5.");
}

static void test_mcp_app_status_tool_shows_the_result_of_a_completed_task(void **state)
{
    struct fixture *f = *state;
    struct task_row *t = table_put(f, TASK, ALICE, TASK_COMPLETED);
    json_t *s;

    set_text(&t->result, "{\"content\":[{\"type\":\"text\",\"text\":\"Slept 1 s.\"}]}");
    handle(f, ALICE, CAPS_TASKS, "tools/call", APP_CALL(APPTOOLS_STATUS, TASK));
    s = app_answer(f, TASK, "completed");
    assert_json(json_object_get(s, "result"),
                "{\"content\":[{\"type\":\"text\",\"text\":\"Slept 1 s.\"}]}");
}

static void test_mcp_app_tools_read_a_foreign_task_exactly_like_tasks_get_of_an_unknown(void **state)
{
    struct fixture *f = *state;
    const char *tools[] = {APPTOOLS_STATUS, APPTOOLS_CANCEL};
    json_t *unknown;
    char call[256];

    table_put(f, TASK, ALICE, TASK_RUNNING);
    handle(f, MALLORY, CAPS_TASKS, "tasks/get", "{\"taskId\":\"" UNKNOWN "\"}");
    unknown = json_incref(error_of(f, 200, MCP_EPARAMS));
    for (int i = 0; i < 2; i++) {
        snprintf(call, sizeof(call), "{\"name\":\"%s\",\"arguments\":{\"taskId\":\"%s\"}}",
                 tools[i], TASK);
        handle(f, MALLORY, CAPS_NONE, "tools/call", "%s", call);
        assert_true(json_equal(unknown, error_of(f, 200, MCP_EPARAMS)));
        snprintf(call, sizeof(call), "{\"name\":\"%s\",\"arguments\":{\"taskId\":\"%s\"}}",
                 tools[i], UNKNOWN);
        handle(f, MALLORY, CAPS_NONE, "tools/call", "%s", call);
        assert_true(json_equal(unknown, error_of(f, 200, MCP_EPARAMS)));
    }
    json_decref(unknown);
    assert_int_equal(f->task[0].status, TASK_RUNNING);
    assert_nothing_published();
}

static void test_mcp_app_cancel_tool_cancels_like_tasks_cancel_then_shows_the_task(void **state)
{
    struct fixture *f = *state;
    json_t *s;

    table_put(f, TASK, ALICE, TASK_RUNNING);
    table_put(f, OTHER, ALICE, TASK_COMPLETED);
    handle(f, ALICE, CAPS_NONE, "tools/call", APP_CALL(APPTOOLS_CANCEL, TASK));
    s = app_answer(f, TASK, "cancelled");
    assert_true(json_is_true(json_object_get(s, "cancelled")));
    assert_param(STORE_STMT_CANCEL, 1, ALICE);
    assert_int_equal(f->task[0].status, TASK_CANCELLED);
    assert_published(NOTIFY_CANCEL, TASK); /* the worker running it stops */
    /* A finished task is no error: it stays as it is, and says so. */
    handle(f, ALICE, CAPS_NONE, "tools/call", APP_CALL(APPTOOLS_CANCEL, OTHER));
    s = app_answer(f, OTHER, "completed");
    assert_true(json_is_false(json_object_get(s, "cancelled")));
    assert_int_equal(f->task[1].status, TASK_COMPLETED);
    assert_nothing_published();
}

static void test_mcp_app_tools_check_their_arguments_like_any_tool(void **state)
{
    struct fixture *f = *state;

    handle(f, ALICE, CAPS_NONE, "tools/call", "{\"name\":\"" APPTOOLS_STATUS "\"}");
    error_of(f, 200, MCP_EPARAMS);
    handle(f, ALICE, CAPS_NONE, "tools/call",
           "{\"name\":\"" APPTOOLS_CANCEL "\",\"arguments\":{\"taskId\":\"" TASK "\",\"x\":1}}");
    error_of(f, 200, MCP_EPARAMS);
    assert_int_equal(fakepq_execs_prepared(), 0); /* refused before the store */
}

#define T(name) cmocka_unit_test_setup_teardown(name, fixture_new, fixture_free)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_mcp_server_discover_describes_the_server_with_a_public_cache_ttl),
        T(test_mcp_tools_list_lists_the_catalog_with_a_public_cache_ttl),
        T(test_mcp_removed_and_unknown_methods_are_not_found),
        T(test_mcp_server_discover_advertises_the_content_it_serves),
        T(test_mcp_content_methods_are_dispatched_only_when_content_is_served),
        T(test_mcp_tools_call_inserts_the_task_for_the_caller_with_the_server_settings),
        T(test_mcp_tools_call_answers_the_flat_create_task_result),
        T(test_mcp_tools_call_with_invalid_arguments_is_refused_and_inserts_nothing),
        T(test_mcp_tools_call_of_an_unknown_tool_is_refused_and_inserts_nothing),
        T(test_mcp_tools_call_of_a_task_only_tool_without_the_extension_is_refused),
        T(test_mcp_tools_call_without_the_extension_waits_for_a_short_lived_task),
        T(test_mcp_tools_call_keeps_answers_sent_with_the_first_call),
        T(test_mcp_tools_call_answers_even_when_no_worker_takes_the_job),
        T(test_mcp_tasks_get_reads_with_the_caller_as_owner),
        T(test_mcp_tasks_get_of_another_owners_task_reads_like_an_unknown_id),
        T(test_mcp_tasks_get_of_a_working_task_has_the_task_fields_and_progress),
        T(test_mcp_tasks_get_of_an_input_required_task_shows_what_the_reader_can_answer),
        T(test_mcp_tasks_get_of_a_completed_task_carries_its_result),
        T(test_mcp_tasks_get_of_a_failed_task_carries_its_error),
        T(test_mcp_tasks_get_of_a_cancelled_task_has_only_the_task_fields),
        T(test_mcp_tasks_methods_need_the_extension_and_a_task_id),
        T(test_mcp_tasks_update_stores_the_answers_of_the_owner_and_pushes_the_resumed_task),
        T(test_mcp_tasks_update_with_questions_left_is_acknowledged_without_a_push),
        T(test_mcp_tasks_update_is_refused_for_another_owner),
        T(test_mcp_tasks_update_needs_input_responses_as_an_object),
        T(test_mcp_tasks_update_of_a_task_not_waiting_is_acknowledged_and_changes_nothing),
        T(test_mcp_tasks_cancel_cancels_the_owners_task_and_publishes_the_cancel),
        T(test_mcp_tasks_cancel_is_idempotent),
        T(test_mcp_tasks_cancel_is_refused_for_another_owner),
        T(test_mcp_input_required_reply_signs_a_state_the_retry_accepts),
        T(test_mcp_mrtr_retry_of_a_synchronous_call_waits_for_the_same_task),
        T(test_mcp_mrtr_state_of_another_owner_tool_or_arguments_is_refused_and_writes_nothing),
        T(test_mcp_mrtr_retry_with_answers_that_are_not_objects_is_refused),
        T(test_mcp_listen_accepts_only_the_callers_tasks),
        T(test_mcp_listen_acknowledges_prompts_changes_only_when_they_are_signalled),
        T(test_mcp_listen_keeps_a_key_each_for_the_tools_and_prompts_lists),
        T(test_mcp_store_unavailable_is_a_503_asking_to_retry_on_every_method),
        T(test_mcp_store_internal_error_is_a_500_on_every_method),
        T(test_mcp_store_connection_dropped_once_is_invisible_to_the_client),
        T(test_mcp_create_task_reply_is_the_flat_task_of_the_row),
        T(test_mcp_sync_reply_is_the_outcome_of_the_task),
        T(test_mcp_stream_notifications_name_their_subscription),
        T(test_mcp_app_tools_are_listed_for_the_app_only_and_never_as_tasks),
        T(test_mcp_app_status_tool_answers_from_the_store_without_a_task),
        T(test_mcp_app_status_tool_shows_the_result_of_a_completed_task),
        T(test_mcp_app_tools_read_a_foreign_task_exactly_like_tasks_get_of_an_unknown),
        T(test_mcp_app_cancel_tool_cancels_like_tasks_cancel_then_shows_the_task),
        T(test_mcp_app_tools_check_their_arguments_like_any_tool),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
