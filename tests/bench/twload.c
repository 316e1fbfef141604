/*
 * twload.c - a load generator for taskwire's MCP endpoint (Streamable HTTP, MCP 2026-07-28):
 * options, request templates, the report, and the join of cancels with bench_probe's log.
 *
 * The load itself runs in twload_run.c; this file only prepares it and tells what happened.
 * It does not start or watch servers.  Exit codes: 0 when the load ran (errors are counted,
 * not fatal), 1 when nothing succeeded or the load could not start, 2 for a usage error.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "twload_parse.h"
#include "twload_run.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>

#define EXIT_USAGE  2
#define MAX_TARGETS 64
#define MAX_PROBES  64

static const char META[] =
    "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
    "\"io.modelcontextprotocol/clientCapabilities\":"
    "{\"extensions\":{\"io.modelcontextprotocol/tasks\":{}}},"
    "\"io.modelcontextprotocol/clientInfo\":{\"name\":\"twload\",\"version\":\"1\"}}";

static const char USAGE[] =
    "usage: twload --url URL [--url URL...] [--mode MODE] [options]\n"
    "\n"
    "Load for taskwire's MCP endpoint (HTTP/1.1 keep-alive, MCP 2026-07-28, Tasks extension).\n"
    "Connections go round robin over the --url values (http:// only), one request in flight\n"
    "on each; a failed connection is counted and opened again, requests are never retried.\n"
    "\n"
    "Modes (--mode):\n"
    "  create    closed loop of task-augmented tools/call; ok = HTTP 200 with result.taskId\n"
    "  get       closed loop of tasks/get over the ids of --ids; ok = 200 with result.status\n"
    "  e2e       per connection: create, then tasks/get every --poll-ms until the task is\n"
    "            terminal, then the next create; ok = a task seen completed, latency = create\n"
    "            sent -> completion seen (failed or cancelled tasks are errors)\n"
    "  dispatch  open loop of --rate creates/s (tool bench_probe); then tasks/get of every\n"
    "            counted task until completed: dispatch latency = result.structuredContent.\n"
    "            startedAtUs - the CLOCK_REALTIME moment the CreateTaskResult was read\n"
    "  cancel    open loop of --rate creates/s (bench_probe, {\"hold\":true}); each task is\n"
    "            cancelled --cancel-after-ms after its ack; ok = create and cancel answered\n"
    "Open loops: connection i of N sends at t0 + (i + k*N)/rate; a send due while the\n"
    "connection is busy goes as soon as it is free, is counted late (> 1 ms), and its latency\n"
    "counts from the scheduled time.\n"
    "\n"
    "Options:\n"
    "  --url URL              target, repeatable (haproxy or frontends)\n"
    "  --mode MODE            create|get|e2e|dispatch|cancel            [create]\n"
    "  --conns N              connections in all                        [8]\n"
    "  --threads N            threads, each with its own epoll          [1]\n"
    "  --duration S           measured seconds                          [10]\n"
    "  --warmup S             seconds before, not counted               [1]\n"
    "  --tool NAME            tool of the creates        [echo; bench_probe in dispatch, cancel]\n"
    "  --args JSON            its arguments (an object)  [{\"text\":\"x\"}; {}; {\"hold\":true}]\n"
    "  --token T              bearer token\n"
    "  --token-file F         bearer token read from F (surrounding blanks dropped)\n"
    "  --ids FILE             get: task ids, the first column of each line\n"
    "  --ids-out FILE         write '<taskId> <unix_us>' per counted task: the create's ack\n"
    "                         (create, e2e, dispatch) or the cancel's ack (cancel)\n"
    "  --poll-ms N            e2e, dispatch fetch: gap between tasks/get (0: at once)  [2]\n"
    "  --rate R               dispatch, cancel: creates per second in all (required)\n"
    "  --cancel-after-ms N    cancel: from the create's ack to the cancel   [100]\n"
    "  --probe-log FILE       cancel: a worker log to join (repeatable): cancel seen =\n"
    "                         seen_at_us of bench_probe's \"bench probe saw the cancel\" line\n"
    "                         - the cancel's ack\n"
    "  --probe-wait-ms N      how long to wait for those log lines          [3000]\n"
    "  --timeout-ms N         longest wait for a connect or an answer       [10000]\n"
    "  --drain-s S            dispatch, cancel: longest phase after the window  [30]\n"
    "  --json                 print one JSON object instead of the summary\n"
    "  --help                 this text\n"
    "\n"
    "Warm-up: answers read before the window are not counted (nor their errors). Errors are\n"
    "counted by kind: http_<status>, rpc_<code>, socket, connect, connect_timeout, timeout,\n"
    "closed, send, recv, http_parse, bad_json, no_result, no_task_id, no_status,\n"
    "task_failed, task_cancelled, no_started_at, ... Latencies: log-linear histogram, in\n"
    "microseconds.\n"
    "Exit: 0 when the load ran, 1 when nothing succeeded, 2 for a usage error.\n";

/* Everything the options say, and what is built from them. */
struct opts {
    struct twload_config cfg;                  /* what twload_run() gets */
    struct twload_target targets[MAX_TARGETS]; /* the URLs' addresses and templates */
    const char *urls[MAX_TARGETS];             /* borrowed from argv */
    int nurls;                                 /* how many */
    const char *args;                          /* --args, NULL for the mode's default */
    const char *token;                         /* --token */
    const char *token_file;                    /* --token-file */
    const char *ids_in;                        /* --ids */
    const char *ids_out;                       /* --ids-out */
    const char *probes[MAX_PROBES];            /* --probe-log */
    int nprobes;                               /* how many */
    int probe_wait_ms;                         /* --probe-wait-ms */
    bool json;                                 /* --json */
    char *texts[MAX_TARGETS];                  /* owned: storage of each target's templates */
    char *token_buf;                           /* owned: --token-file contents */
};

/* What the cancel join found. */
struct probe_join {
    struct twload_hist seen; /* cancel ack -> tool saw it */
    uint64_t found;          /* counted cancels with a log line */
    uint64_t missing;        /* counted, acknowledged cancels without one */
    uint64_t before_ack;     /* the tool saw it before the ack was read (recorded as 0) */
};

static const char *mode_name(enum twload_mode m)
{
    static const char *names[] = {"create", "get", "e2e", "dispatch", "cancel"};
    return names[m];
}

/* Say what is wrong with the command line; returns -EXIT_USAGE. */
static PRINTF_LIKE(1, 2) int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "twload: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(twload --help for the options)\n");
    va_end(ap);
    return -EXIT_USAGE;
}

/* ---- options ---- */

static bool parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static int parse_mode(const char *s, enum twload_mode *m)
{
    for (int i = TWLOAD_CREATE; i <= TWLOAD_CANCEL; i++) {
        if (strcmp(s, mode_name((enum twload_mode)i)) == 0) {
            *m = (enum twload_mode)i;
            return 0;
        }
    }
    return usage_error("unknown mode '%s' (create, get, e2e, dispatch, cancel)", s);
}

enum {
    OPT_URL = 256,
    OPT_MODE,
    OPT_CONNS,
    OPT_THREADS,
    OPT_DURATION,
    OPT_WARMUP,
    OPT_TOOL,
    OPT_ARGS,
    OPT_TOKEN,
    OPT_TOKEN_FILE,
    OPT_IDS,
    OPT_IDS_OUT,
    OPT_POLL,
    OPT_RATE,
    OPT_CANCEL_AFTER,
    OPT_PROBE,
    OPT_PROBE_WAIT,
    OPT_TIMEOUT,
    OPT_DRAIN,
    OPT_JSON,
    OPT_HELP,
};

static const struct option LONGOPTS[] = {
    {"url", required_argument, NULL, OPT_URL},
    {"mode", required_argument, NULL, OPT_MODE},
    {"conns", required_argument, NULL, OPT_CONNS},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"tool", required_argument, NULL, OPT_TOOL},
    {"args", required_argument, NULL, OPT_ARGS},
    {"token", required_argument, NULL, OPT_TOKEN},
    {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
    {"ids", required_argument, NULL, OPT_IDS},
    {"ids-out", required_argument, NULL, OPT_IDS_OUT},
    {"poll-ms", required_argument, NULL, OPT_POLL},
    {"rate", required_argument, NULL, OPT_RATE},
    {"cancel-after-ms", required_argument, NULL, OPT_CANCEL_AFTER},
    {"probe-log", required_argument, NULL, OPT_PROBE},
    {"probe-wait-ms", required_argument, NULL, OPT_PROBE_WAIT},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
    {"drain-s", required_argument, NULL, OPT_DRAIN},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* One numeric option into its field: 0 or a usage error. */
static int set_number(struct opts *o, int opt, const char *arg)
{
    struct twload_config *c = &o->cfg;
    const struct {
        int opt;       /* the option */
        double lo, hi; /* its range */
        int *i;        /* an integer field, or NULL */
        double *d;     /* else a real one */
    } nums[] = {
        {OPT_CONNS, 1, 100000, &c->conns, NULL},
        {OPT_THREADS, 1, 256, &c->threads, NULL},
        {OPT_DURATION, 0.001, 86400, NULL, &c->duration_s},
        {OPT_WARMUP, 0, 86400, NULL, &c->warmup_s},
        {OPT_POLL, 0, 3600000, &c->poll_ms, NULL},
        {OPT_RATE, 0.001, 1e7, NULL, &c->rate},
        {OPT_CANCEL_AFTER, 0, 3600000, &c->cancel_after_ms, NULL},
        {OPT_PROBE_WAIT, 0, 3600000, &o->probe_wait_ms, NULL},
        {OPT_TIMEOUT, 1, 3600000, &c->timeout_ms, NULL},
        {OPT_DRAIN, 0, 86400, NULL, &c->drain_s},
    };
    for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]); k++) {
        if (nums[k].opt != opt)
            continue;
        double v;
        if (!parse_num(arg, nums[k].lo, nums[k].hi, &v) || (nums[k].i && v != (int)v))
            break;
        if (nums[k].i)
            *nums[k].i = (int)v;
        else
            *nums[k].d = v;
        return 0;
    }
    return usage_error("bad number '%s'", arg);
}

static int set_option(struct opts *o, int opt, const char *arg)
{
    switch (opt) {
    case OPT_URL:
        if (o->nurls == MAX_TARGETS)
            return usage_error("at most %d --url values", MAX_TARGETS);
        o->urls[o->nurls++] = arg;
        return 0;
    case OPT_MODE:
        return parse_mode(arg, &o->cfg.mode);
    case OPT_TOOL:
        o->cfg.tool = arg;
        return 0;
    case OPT_ARGS:
        o->args = arg;
        return 0;
    case OPT_TOKEN:
        o->token = arg;
        return 0;
    case OPT_TOKEN_FILE:
        o->token_file = arg;
        return 0;
    case OPT_IDS:
        o->ids_in = arg;
        return 0;
    case OPT_IDS_OUT:
        o->ids_out = arg;
        return 0;
    case OPT_JSON:
        o->json = true;
        return 0;
    case OPT_PROBE:
        if (o->nprobes == MAX_PROBES)
            return usage_error("at most %d --probe-log files", MAX_PROBES);
        o->probes[o->nprobes++] = arg;
        return 0;
    default:
        return set_number(o, opt, arg);
    }
}

/* The checks between options once all are read. */
static int check_options(struct opts *o)
{
    struct twload_config *c = &o->cfg;
    bool open_loop = c->mode == TWLOAD_DISPATCH || c->mode == TWLOAD_CANCEL;
    if (!o->nurls)
        return usage_error("%s", "--url is required");
    if (open_loop && c->rate <= 0)
        return usage_error("--rate is required with --mode %s", mode_name(c->mode));
    if (!open_loop && c->rate > 0)
        return usage_error("--rate is for the dispatch and cancel modes, not %s",
                           mode_name(c->mode));
    if ((c->mode == TWLOAD_GET) != (o->ids_in != NULL))
        return usage_error("%s", "--ids goes with --mode get, and --mode get needs it");
    if (o->ids_out && c->mode == TWLOAD_GET)
        return usage_error("%s", "--ids-out is not for --mode get");
    if (o->nprobes && c->mode != TWLOAD_CANCEL)
        return usage_error("%s", "--probe-log is for --mode cancel");
    if (o->token && o->token_file)
        return usage_error("%s", "--token and --token-file exclude each other");
    if (c->threads > c->conns)
        c->threads = c->conns;
    if (!c->tool)
        c->tool = open_loop ? "bench_probe" : "echo";
    if (!o->args)
        o->args = c->mode == TWLOAD_CANCEL     ? "{\"hold\":true}"
                  : c->mode == TWLOAD_DISPATCH ? "{}"
                                               : "{\"text\":\"x\"}";
    for (const char *p = c->tool; *p; p++)
        if (*p <= ' ' || *p > '~')
            return usage_error("the tool name '%s' must be printable ASCII without blanks",
                               c->tool);
    c->keep_made = o->ids_out != NULL;
    return 0;
}

static int parse_options(struct opts *o, int argc, char **argv)
{
    struct twload_config *c = &o->cfg;
    c->mode = TWLOAD_CREATE;
    c->conns = 8;
    c->threads = 1;
    c->duration_s = 10;
    c->warmup_s = 1;
    c->poll_ms = 2;
    c->cancel_after_ms = 100;
    c->timeout_ms = 10000;
    c->drain_s = 30;
    o->probe_wait_ms = 3000;
    int opt;
    while ((opt = getopt_long(argc, argv, "", LONGOPTS, NULL)) != -1) {
        if (opt == OPT_HELP) {
            fputs(USAGE, stdout);
            return 1;
        }
        if (opt == '?')
            return usage_error("%s", "unknown option or missing value");
        int rc = set_option(o, opt, optarg);
        if (rc < 0)
            return rc;
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    return check_options(o);
}

/* ---- targets and templates ---- */

/* Split "http://host[:port][/path]" and resolve it into 't'; host (with the port as written)
 * goes to hostport, the path to path. */
static int parse_url(const char *url, struct twload_target *t, char *hostport, size_t hp_cap,
                     const char **path)
{
    if (strncmp(url, "http://", 7) != 0)
        return usage_error("'%s': only http:// URLs", url);
    const char *auth = url + 7;
    const char *slash = strchr(auth, '/');
    size_t alen = slash ? (size_t)(slash - auth) : strlen(auth);
    *path = slash ? slash : "/";
    if (alen == 0 || alen >= hp_cap)
        return usage_error("'%s': bad host", url);
    memcpy(hostport, auth, alen);
    hostport[alen] = '\0';
    char host[256], port[16] = "80";
    const char *colon = hostport[0] == '[' ? strstr(hostport, "]:") : strrchr(hostport, ':');
    size_t hlen = colon ? (size_t)(colon - hostport) + (hostport[0] == '[') : alen;
    if (colon)
        snprintf(port, sizeof(port), "%s", colon + 1 + (hostport[0] == '['));
    if (hlen >= sizeof(host))
        return usage_error("'%s': bad host", url);
    memcpy(host, hostport, hlen);
    host[hlen] = '\0';
    char *h = host;
    if (h[0] == '[') {
        h++;
        h[strcspn(h, "]")] = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(h, port, &hints, &res) != 0)
        return usage_error("'%s': cannot resolve the host", url);
    memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
    t->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    t->url = url;
    return 0;
}

/* The storage of a target's templates: pieces are written one after the other. */
struct arena {
    char *p;   /* next free byte */
    char *end; /* end of the storage */
};

/* printf a piece into the arena; the size was computed beforehand, so it always fits. */
static PRINTF_LIKE(2, 3) struct twload_piece piecef(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(a->p, (size_t)(a->end - a->p), fmt, ap);
    va_end(ap);
    struct twload_piece out = {a->p, (size_t)n};
    a->p += n + 1;
    return out;
}

static struct twload_piece head_piece(struct arena *a, const char *path, const char *hostport,
                                      const char *method, const char *token)
{
    return piecef(a,
                  "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                  "Accept: application/json, text/event-stream\r\n"
                  "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: %s\r\n%s%s%sMcp-Name: ",
                  path, hostport, method, token ? "Authorization: Bearer " : "", token ? token : "",
                  token ? "\r\n" : "");
}

/* The templates of target 't'; their storage goes to *text (owned by the caller). */
static int build_templates(const struct opts *o, struct twload_target *t, const char *path,
                           const char *hostport, const char *tool_json, const char *args_json,
                           char **text)
{
    const char *tok = o->token;
    size_t head = 400 + strlen(path) + strlen(hostport) + (tok ? strlen(tok) : 0);
    size_t size = 3 * head + strlen(tool_json) + strlen(args_json) + 3 * sizeof(META) + 1024;
    struct arena a = {malloc(size), NULL};
    if (!a.p)
        return -1;
    *text = a.p;
    a.end = a.p + size;
    t->create.head = head_piece(&a, path, hostport, "tools/call", tok);
    t->create.body_pre = piecef(&a, "{\"jsonrpc\":\"2.0\",\"id\":");
    t->create.body_mid =
        piecef(&a, ",\"method\":\"tools/call\",\"params\":{\"name\":%s,\"arguments\":%s,%s}}",
               tool_json, args_json, META);
    t->create.body_post = (struct twload_piece){NULL, 0};
    for (int i = 0; i < 2; i++) {
        const char *method = i ? "tasks/cancel" : "tasks/get";
        struct twload_tmpl *tm = i ? &t->cancel : &t->get;
        tm->head = head_piece(&a, path, hostport, method, tok);
        tm->body_pre = piecef(&a, "{\"jsonrpc\":\"2.0\",\"id\":");
        tm->body_mid = piecef(&a, ",\"method\":\"%s\",\"params\":{\"taskId\":\"", method);
        tm->body_post = piecef(&a, "\",%s}}", META);
    }
    return 0;
}

/* The --args object and the tool name as compact JSON text (new strings), or a usage error. */
static int json_texts(const struct opts *o, char **tool_json, char **args_json)
{
    json_error_t jerr;
    json_t *args = json_loads(o->args, JSON_REJECT_DUPLICATES, &jerr);
    json_t *tool = json_string(o->cfg.tool);
    int rc = 0;
    if (!args || !json_is_object(args)) {
        rc = usage_error("--args must be a JSON object, not '%s'", o->args);
        goto out_free;
    }
    *args_json = json_dumps(args, JSON_COMPACT);
    *tool_json = tool ? json_dumps(tool, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (!*args_json || !*tool_json || strlen(*args_json) + strlen(*tool_json) > 1000000)
        rc = usage_error("%s", "--args is too large");
out_free:
    json_decref(args);
    json_decref(tool);
    return rc;
}

static int read_token(struct opts *o)
{
    if (!o->token_file)
        return 0;
    FILE *f = fopen(o->token_file, "r");
    if (!f)
        return usage_error("cannot read the token file '%s'", o->token_file);
    char buf[16384];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *s = buf + strspn(buf, " \t\r\n");
    size_t len = strcspn(s, " \t\r\n");
    s[len] = '\0';
    if (!len)
        return usage_error("the token file '%s' is empty", o->token_file);
    o->token_buf = strdup(s);
    o->token = o->token_buf;
    return o->token_buf ? 0 : -1;
}

static int setup_targets(struct opts *o)
{
    char *tool_json = NULL, *args_json = NULL;
    int rc = read_token(o);
    if (rc == 0)
        rc = json_texts(o, &tool_json, &args_json);
    if (rc == 0 && o->token && (strpbrk(o->token, "\r\n") || strlen(o->token) > 8000))
        rc = usage_error("%s", "the token must be one line of at most 8000 bytes");
    for (int i = 0; rc == 0 && i < o->nurls; i++) {
        char hostport[512];
        const char *path = "/";
        rc = parse_url(o->urls[i], &o->targets[i], hostport, sizeof(hostport), &path);
        if (rc == 0 && strlen(path) > 2000)
            rc = usage_error("'%s': the path is too long", o->urls[i]);
        if (rc == 0)
            rc = build_templates(o, &o->targets[i], path, hostport, tool_json, args_json,
                                 &o->texts[i]);
    }
    free(tool_json);
    free(args_json);
    o->cfg.targets = o->targets;
    o->cfg.ntargets = o->nurls;
    return rc;
}

/* --ids: the first column of each line; lines that are empty or start with '#' are skipped. */
static int read_ids(struct opts *o)
{
    if (!o->ids_in)
        return 0;
    FILE *f = fopen(o->ids_in, "r");
    if (!f)
        return usage_error("cannot read '%s'", o->ids_in);
    char line[4096];
    size_t cap = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        char *s = line + strspn(line, " \t");
        size_t n = strcspn(s, " \t\r\n");
        if (n == 0 || s[0] == '#')
            continue;
        if (!twload_task_id_ok(s, n)) {
            s[n] = '\0';
            rc = usage_error("'%s' in --ids is not a task id", s);
            break;
        }
        if (o->cfg.nids == cap) {
            cap = cap ? cap * 2 : 1024;
            void *grown = realloc(o->cfg.ids, cap * sizeof(*o->cfg.ids));
            if (!grown) {
                rc = -1;
                break;
            }
            o->cfg.ids = grown;
        }
        memcpy(o->cfg.ids[o->cfg.nids], s, n);
        o->cfg.ids[o->cfg.nids++][n] = '\0';
    }
    fclose(f);
    if (rc == 0 && o->cfg.nids == 0)
        rc = usage_error("no task id in '%s'", o->ids_in);
    return rc;
}

/* ---- after the run ---- */

static int cmp_made_id(const void *a, const void *b)
{
    return strcmp(((const struct twload_made *)a)->id, ((const struct twload_made *)b)->id);
}

/* Read the probe logs once; records each counted cancel's first "saw the cancel" line. */
static void probe_scan(const struct opts *o, struct twload_made *made, size_t n, bool *seen,
                       struct probe_join *pj)
{
    char *line = NULL;
    size_t cap = 0;
    for (int i = 0; i < o->nprobes; i++) {
        FILE *f = fopen(o->probes[i], "r");
        if (!f)
            continue;
        ssize_t len;
        while ((len = getline(&line, &cap, f)) > 0) {
            struct twload_made key;
            int64_t at;
            if (!twload_probe_line(line, (size_t)len, key.id, &at))
                continue;
            struct twload_made *m = bsearch(&key, made, n, sizeof(*made), cmp_made_id);
            if (!m || seen[m - made] || !m->counted || !m->cancel_ack_unix_us)
                continue;
            seen[m - made] = true;
            int64_t d = at - m->cancel_ack_unix_us;
            if (d < 0)
                pj->before_ack++;
            twload_hist_record(&pj->seen, d < 0 ? 0 : (uint64_t)d);
            pj->found++;
        }
        fclose(f);
    }
    free(line);
}

/* Join the counted cancels with bench_probe's log lines, waiting up to --probe-wait-ms for
 * the last ones to be written.  The made list is sorted by task id. */
static void probe_join(const struct opts *o, struct twload_result *res, struct probe_join *pj)
{
    size_t want = 0;
    bool *seen = calloc(res->nmade ? res->nmade : 1, sizeof(*seen));
    if (!seen)
        return;
    qsort(res->made, res->nmade, sizeof(*res->made), cmp_made_id);
    for (size_t i = 0; i < res->nmade; i++)
        want += res->made[i].counted && res->made[i].cancel_ack_unix_us;
    for (int waited = 0;; waited += 100) {
        probe_scan(o, res->made, res->nmade, seen, pj);
        if (pj->found >= want || waited >= o->probe_wait_ms)
            break;
        nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
    }
    pj->missing = want - pj->found;
    free(seen);
}

static int write_ids(const struct opts *o, const struct twload_result *res)
{
    FILE *f = fopen(o->ids_out, "w");
    if (!f) {
        fprintf(stderr, "twload: cannot write '%s': %s\n", o->ids_out, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < res->nmade; i++) {
        const struct twload_made *m = &res->made[i];
        int64_t at = o->cfg.mode == TWLOAD_CANCEL ? m->cancel_ack_unix_us : m->ack_unix_us;
        if (m->counted && at)
            fprintf(f, "%s %lld\n", m->id, (long long)at);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* ---- the report ---- */

static json_t *hist_json(const struct twload_hist *h)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "count", (json_int_t)h->n, "p50",
                     (json_int_t)twload_hist_percentile(h, 50), "p90",
                     (json_int_t)twload_hist_percentile(h, 90), "p99",
                     (json_int_t)twload_hist_percentile(h, 99), "p999",
                     (json_int_t)twload_hist_percentile(h, 99.9), "max", (json_int_t)h->max_us,
                     "mean", (json_int_t)(h->n ? h->sum_us / h->n : 0));
}

static double cpu_s(bool sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    struct timeval tv = sys ? ru.ru_stime : ru.ru_utime;
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void report_json(const struct opts *o, const struct twload_result *res,
                        const struct probe_join *pj)
{
    const struct twload_stats *st = res->stats;
    const struct twload_config *c = &o->cfg;
    json_t *errs = json_object(), *urls = json_array();
    uint64_t nerr = 0;
    for (int i = 0; i < st->nerrs; i++) {
        json_object_set_new(errs, st->errs[i].name, json_integer((json_int_t)st->errs[i].n));
        nerr += st->errs[i].n;
    }
    for (int i = 0; i < o->nurls; i++)
        json_array_append_new(urls, json_string(o->urls[i]));
    json_t *j = json_pack("{s:s, s:o, s:i, s:i, s:f, s:f, s:I, s:I, s:o, s:f, s:o, s:I, s:f, s:f}",
                          "mode", mode_name(c->mode), "urls", urls, "conns", c->conns, "threads",
                          c->threads, "duration_s", res->window_s, "warmup_s", c->warmup_s, "ok",
                          (json_int_t)st->ok, "error_total", (json_int_t)nerr, "errors", errs,
                          "rate", res->window_s > 0 ? (double)st->ok / res->window_s : 0.0,
                          "lat_us", hist_json(&st->lat), "reconnects", (json_int_t)st->reconnects,
                          "cpu_user_s", cpu_s(false), "cpu_sys_s", cpu_s(true));
    if (c->mode == TWLOAD_E2E) {
        json_object_set_new(j, "create_lat_us", hist_json(&st->create_lat));
        json_object_set_new(j, "unfinished", json_integer((json_int_t)st->unfinished));
    }
    if (c->mode == TWLOAD_DISPATCH || c->mode == TWLOAD_CANCEL) {
        json_object_set_new(j, "rate_target", json_real(c->rate));
        json_object_set_new(j, "created", json_integer((json_int_t)st->created));
        json_object_set_new(j, "late_sends", json_integer((json_int_t)st->late));
        json_object_set_new(j, "late_max_us", json_integer((json_int_t)st->late_max_us));
        json_object_set_new(j, "unfinished", json_integer((json_int_t)st->unfinished));
    }
    if (c->mode == TWLOAD_DISPATCH) {
        json_object_set_new(j, "dispatch_us", hist_json(&st->dispatch));
        json_object_set_new(j, "started_before_ack", json_integer((json_int_t)st->before_ack));
    }
    if (c->mode == TWLOAD_CANCEL) {
        json_object_set_new(j, "cancel_ack_us", hist_json(&st->cancel_ack));
        json_object_set_new(j, "cancel_after_ms", json_integer(c->cancel_after_ms));
    }
    if (o->nprobes) {
        json_object_set_new(j, "cancel_seen_us", hist_json(&pj->seen));
        json_object_set_new(j, "cancel_seen_missing", json_integer((json_int_t)pj->missing));
        json_object_set_new(j, "cancel_seen_before_ack", json_integer((json_int_t)pj->before_ack));
    }
    json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    fputc('\n', stdout);
    json_decref(j);
}

static void print_hist(const char *what, const struct twload_hist *h)
{
    printf("%-14s n %llu  p50 %llu  p90 %llu  p99 %llu  p99.9 %llu  max %llu  mean %llu (us)\n",
           what, (unsigned long long)h->n, (unsigned long long)twload_hist_percentile(h, 50),
           (unsigned long long)twload_hist_percentile(h, 90),
           (unsigned long long)twload_hist_percentile(h, 99),
           (unsigned long long)twload_hist_percentile(h, 99.9), (unsigned long long)h->max_us,
           (unsigned long long)(h->n ? h->sum_us / h->n : 0));
}

static void report_text(const struct opts *o, const struct twload_result *res,
                        const struct probe_join *pj)
{
    const struct twload_stats *st = res->stats;
    const struct twload_config *c = &o->cfg;
    uint64_t nerr = 0;
    printf("twload %s: %d conns, %d threads, %.1f s after %.1f s warm-up, %s%s\n",
           mode_name(c->mode), c->conns, c->threads, res->window_s, c->warmup_s, o->urls[0],
           o->nurls > 1 ? " (and more)" : "");
    printf("%-14s %llu (%.1f/s)\n", "ok", (unsigned long long)st->ok,
           res->window_s > 0 ? (double)st->ok / res->window_s : 0.0);
    for (int i = 0; i < st->nerrs; i++)
        nerr += st->errs[i].n;
    printf("%-14s %llu", "errors", (unsigned long long)nerr);
    for (int i = 0; i < st->nerrs; i++)
        printf("%s%s %llu", i ? ", " : "  ", st->errs[i].name, (unsigned long long)st->errs[i].n);
    printf("\n");
    print_hist(c->mode == TWLOAD_E2E   ? "end to end"
               : c->mode == TWLOAD_GET ? "get"
                                       : "create",
               &st->lat);
    if (c->mode == TWLOAD_E2E) {
        print_hist("create", &st->create_lat);
        printf("%-14s %llu tasks created, not seen terminal by the end\n", "unfinished",
               (unsigned long long)st->unfinished);
    }
    if (c->mode == TWLOAD_DISPATCH || c->mode == TWLOAD_CANCEL)
        printf("%-14s target %.1f/s, created %llu, late sends %llu (max %llu us), unfinished "
               "%llu\n",
               "open loop", c->rate, (unsigned long long)st->created, (unsigned long long)st->late,
               (unsigned long long)st->late_max_us, (unsigned long long)st->unfinished);
    if (c->mode == TWLOAD_DISPATCH) {
        print_hist("dispatch", &st->dispatch);
        printf("%-14s %llu\n", "before ack", (unsigned long long)st->before_ack);
    }
    if (c->mode == TWLOAD_CANCEL)
        print_hist("cancel ack", &st->cancel_ack);
    if (o->nprobes) {
        print_hist("cancel seen", &pj->seen);
        printf("%-14s missing %llu, before ack %llu\n", "cancel seen",
               (unsigned long long)pj->missing, (unsigned long long)pj->before_ack);
    }
    printf("%-14s user %.2f s, sys %.2f s (twload), reconnects %llu\n", "cpu", cpu_s(false),
           cpu_s(true), (unsigned long long)st->reconnects);
}

/* ---- main ---- */

static void on_sigint(int sig)
{
    (void)sig;
    atomic_store(&twload_stop, true);
}

static void opts_fini(struct opts *o)
{
    for (int i = 0; i < MAX_TARGETS; i++)
        free(o->texts[i]);
    free(o->token_buf);
    free(o->cfg.ids);
}

int main(int argc, char **argv)
{
    static struct opts o;
    struct twload_result res;
    struct probe_join pj = {0};
    struct err e = {0};
    int rc = parse_options(&o, argc, argv);
    if (rc == 0)
        rc = setup_targets(&o);
    if (rc == 0)
        rc = read_ids(&o);
    if (rc != 0) {
        opts_fini(&o);
        return rc > 0 ? 0 : rc == -EXIT_USAGE ? EXIT_USAGE : 1;
    }
    signal(SIGINT, on_sigint);
    signal(SIGPIPE, SIG_IGN);
    if (twload_run(&o.cfg, &res, &e) < 0) {
        fprintf(stderr, "twload: %s\n", e.msg);
        opts_fini(&o);
        return 1;
    }
    if (o.ids_out && write_ids(&o, &res) < 0)
        rc = 1;
    if (o.nprobes)
        probe_join(&o, &res, &pj);
    if (o.json)
        report_json(&o, &res, &pj);
    else
        report_text(&o, &res, &pj);
    if (res.stats->ok == 0)
        rc = 1;
    twload_result_fini(&res);
    opts_fini(&o);
    return rc;
}
