/*
 * test_chaos.c - every codec of untrusted or wire data under allocation
 * failure: the envelope, JSON-RPC parsing, checks and replies, requestState,
 * legacy session ids and tasks/list cursors, base64, notify payloads,
 * external-tool lines, the CLI's SSE parser and the schema validator
 * (compile and validate).
 *
 * Each operation runs once with allocation 0 failing, once with 1 failing,
 * and so on until a run reaches no failure (allocfail_loop()).  Every run
 * must end in an error code of the module or in exactly the clean result
 * (JSON parsing excepted, see jansson_lost_bytes), and free all it
 * allocated.  The codecs documented as allocating nothing are held to it.
 * The seam is tests/unit/allocfail.c; ASan's leak checker in the asan preset
 * is the second guard.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "allocfail.h"
#include "b64.h"
#include "bytebuf.h"
#include "cursor.h"
#include "envelope.h"
#include "extproto.h"
#include "notify.h"
#include "rpc.h"
#include "schema.h"
#include "session.h"
#include "sse.h"
#include "state.h"

#define TASK_ID "01a200cc-5d93-78a9-ba90-df853b759f72"

/*
 * jansson 2.14 ignores one failed allocation: its lexer's (load.c, lex_save()), when a
 * token outgrows the lexer's buffer (upstream issue akheron/jansson#362).  Mostly the
 * token loses a byte and json_loadb() still succeeds, so no caller can tell.  A parse
 * that succeeds after a failed allocation is therefore held to its module's contract (a
 * consistent result) instead of to the clean result, and such runs are counted here to
 * show the defect is real.  (Its dumper has the like defect for object keys; state.c
 * avoids it, see canonical_args().)
 *
 * Worse, when the byte lost is the one that ends the token, jansson aborts (a number:
 * assert(c == d) in lex_unget_unsave()) or reads and writes past its buffer (a string:
 * the closing quote is missing).  Nothing on our side can prevent that, so the inputs
 * here must not end a token where the buffer grows: jansson_lexer_safe() checks it.
 */
static unsigned jansson_lost_bytes;

/* True when no token of the JSON text 's' ends on the byte that makes jansson 2.14's
 * lexer grow its buffer (16 bytes, doubled when a token needs more, kept across the
 * tokens of one parse), the case above where a failed allocation is not survivable. */
static bool jansson_lexer_safe(const char *s)
{
    size_t cap = 16; /* the lexer's buffer, with room for a NUL */
    size_t len;      /* bytes the lexer saves for a token, its last one included */

    while (*s) {
        const char *p = s + 1;
        if (*s == '"') {
            while (*p && *p != '"')
                p += (*p == '\\' && p[1]) ? 2 : 1;
            len = (size_t)(p - s) + 1; /* both quotes */
            s = *p ? p + 1 : p;
        } else if (strchr("-0123456789tfn", *s)) {
            while (*p && strchr("+-.0123456789eEtrufalsn", *p))
                p++;
            len = (size_t)(p - s) + 1; /* the delimiter is saved, then given back */
            s = p;
        } else {
            s++;
            continue;
        }
        if (len == cap)
            return false;
        while (len + 1 > cap)
            cap *= 2;
    }
    return true;
}

/* ---- the seam itself ---- */

static void *volatile sink; /* keeps allocations the compiler could otherwise drop */

/* Each allocator our code uses, jansson and OpenSSL fail on demand, and are counted. */
static void test_allocfail_sees_every_allocator(void **state)
{
    size_t live = allocfail_live();
    char *s;

    allocfail_arm(0);
    assert_null(sink = malloc(16));
    assert_true(allocfail_disarm());
    allocfail_arm(0);
    assert_null(sink = calloc(2, 8));
    assert_true(allocfail_disarm());
    allocfail_arm(0);
    assert_null(sink = strdup("x"));
    assert_true(allocfail_disarm());
    allocfail_arm(0);
    assert_null(sink = strndup("xyz", 2));
    assert_true(allocfail_disarm());
    allocfail_arm(0);
    assert_null(sink = json_object());
    assert_true(allocfail_disarm());
    allocfail_arm(0);
    assert_null(sink = EVP_MD_CTX_new());
    assert_true(allocfail_disarm());
    ERR_clear_error();

    /* A failed realloc leaves the block as it was. */
    allocfail_arm(ALLOCFAIL_NEVER);
    s = malloc(4);
    assert_non_null(s);
    memcpy(s, "abc", 4);
    allocfail_arm(0);
    char *t = realloc(s, 1 << 20);
    assert_true(allocfail_disarm());
    if (t) {
        free(t);
        fail_msg("realloc succeeded with its allocation armed to fail");
    } else {
        assert_string_equal(s, "abc");
        assert_int_equal(allocfail_live(), live + 1);
        t = realloc(s, 1 << 20);
        assert_non_null(t);
        assert_int_equal(allocfail_live(), live + 1);
        free(t);
    }

    allocfail_arm(ALLOCFAIL_NEVER);
    s = strndup("xyz", 2);
    assert_string_equal(s, "xy");
    json_t *o = json_object();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_non_null(o);
    assert_non_null(ctx);
    assert_false(allocfail_disarm());
    assert_true(allocfail_count() >= 3);
    assert_true(allocfail_live() >= live + 3);
    free(s);
    json_decref(o);
    EVP_MD_CTX_free(ctx);
    assert_int_equal(allocfail_live(), live);
}

/* The guard knows where jansson's lexer grows: a 16-byte string or a 15-digit number as the
 * first token that long (both crash jansson 2.14 when that growth fails), and 32 after. */
static void test_jansson_lexer_safe_finds_the_growth_points(void **state)
{
    assert_false(jansson_lexer_safe("{\"abcdefghijklmn\":1}"));
    assert_false(jansson_lexer_safe("[123456789012345,1]"));
    assert_false(jansson_lexer_safe("[\"abcdefghijklmnop\",\"abcdefghijklmnopqrstuvwxyz1234\"]"));
    assert_true(jansson_lexer_safe("{\"abcdefghijklm\":1,\"abcdefghijklmnop\":12345678901234}"));
    assert_true(jansson_lexer_safe("[\"a\\\"b\",true,null,-1.5e+3]"));
}

/* ---- the envelope, base64, notify: documented to allocate nothing ---- */

struct envelope_case {
    struct envelope in;  /* what is encoded */
    struct envelope out; /* what came back */
    int decode_rc;       /* decoding a truncated copy */
};

static int envelope_run(void *arg)
{
    struct envelope_case *c = arg;
    unsigned char buf[ENVELOPE_MAX_BYTES];
    size_t len;
    int rc;

    rc = envelope_encode(&c->in, buf, sizeof(buf), &len, NULL);
    if (rc == 0)
        rc = envelope_decode(buf, len, &c->out, NULL);
    if (rc == 0) {
        struct envelope cut;
        c->decode_rc = envelope_decode(buf, len - 1, &cut, NULL);
    }
    return rc;
}

static void envelope_check(void *arg, int rc, bool failed)
{
    struct envelope_case *c = arg;

    assert_false(failed);
    assert_int_equal(rc, 0);
    assert_int_equal(c->out.version, ENVELOPE_VERSION);
    assert_string_equal(c->out.task_id, c->in.task_id);
    assert_int_equal(c->out.attempt, c->in.attempt);
    assert_string_equal(c->out.trace, c->in.trace);
    assert_int_equal(c->out.deadline_ms, c->in.deadline_ms);
    assert_int_equal(c->decode_rc, -ENVELOPE_EGARBAGE);
}

static void test_chaos_envelope_allocates_nothing(void **state)
{
    struct envelope_case c = {
        .in = {.task_id = TASK_ID, .attempt = 3, .deadline_ms = 1900000000000},
    };
    strcpy(c.in.trace, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    assert_int_equal(allocfail_loop("envelope", envelope_run, envelope_check, &c), 0);
}

struct b64_case {
    unsigned char bytes[40]; /* input */
    unsigned char back[40];  /* decoded again */
    unsigned char hello[8];  /* standard base64 decoded */
    long std_rc;             /* and its length */
};

static int b64_run(void *arg)
{
    struct b64_case *c = arg;
    char text[B64_ENCODED_MAX(sizeof(c->bytes))];
    size_t n = b64url_encode(c->bytes, sizeof(c->bytes), text);
    long back = b64_decode(text, n, true, c->back, sizeof(c->back));

    c->std_rc = b64_decode("SGVsbG8=", 8, false, c->hello, sizeof(c->hello));
    return back == (long)sizeof(c->bytes) ? 0 : -B64_EINVALID;
}

static void b64_check(void *arg, int rc, bool failed)
{
    struct b64_case *c = arg;

    assert_false(failed);
    assert_int_equal(rc, 0);
    assert_memory_equal(c->back, c->bytes, sizeof(c->bytes));
    assert_int_equal(c->std_rc, 5);
    assert_memory_equal(c->hello, "Hello", 5);
}

static void test_chaos_b64_allocates_nothing(void **state)
{
    struct b64_case c;
    for (size_t i = 0; i < sizeof(c.bytes); i++)
        c.bytes[i] = (unsigned char)(i * 53 + 7);
    assert_int_equal(allocfail_loop("b64", b64_run, b64_check, &c), 0);
}

struct notify_case {
    struct notify_event ok; /* a valid payload parsed */
    int bad_rc;             /* an invalid one */
};

static int notify_run(void *arg)
{
    struct notify_case *c = arg;
    static const char good[] = NOTIFY_CHANGED " " TASK_ID, bad[] = "changed  " TASK_ID;
    struct notify_event ev;

    c->bad_rc = notify_parse(bad, sizeof(bad) - 1, &ev);
    return notify_parse(good, sizeof(good) - 1, &c->ok);
}

static void notify_check(void *arg, int rc, bool failed)
{
    struct notify_case *c = arg;

    assert_false(failed);
    assert_int_equal(rc, 0);
    assert_string_equal(c->ok.kind, NOTIFY_CHANGED);
    assert_string_equal(c->ok.task_id, TASK_ID);
    assert_int_equal(c->bad_rc, -NOTIFY_EINVALID);
}

static void test_chaos_notify_parse_allocates_nothing(void **state)
{
    struct notify_case c;
    assert_int_equal(allocfail_loop("notify_parse", notify_run, notify_check, &c), 0);
}

/* ---- JSON-RPC: parse, envelope and header checks, replies ---- */

struct rpc_case {
    const char *body;       /* the HTTP body */
    struct rpc_headers h;   /* the routing headers sent with it */
    int want;               /* rpc_parse() with no failure */
    int want_envelope;      /* rpc_check_envelope() then */
    int want_headers;       /* rpc_check_headers() then */
    struct rpc_request req; /* what the run parsed */
    struct err err;         /* its error */
    int envelope_rc;        /* what the run's rpc_check_envelope() said */
    int headers_rc;         /* and its rpc_check_headers() */
};

static int rpc_run(void *arg)
{
    struct rpc_case *c = arg;
    int rc = rpc_parse(c->body, strlen(c->body), &c->req, &c->err);

    c->envelope_rc = c->headers_rc = 1; /* not reached */
    if (rc == 0) {
        c->envelope_rc = rpc_check_envelope(&c->req, &c->h, NULL);
        c->headers_rc = rpc_check_headers(&c->req, &c->h, NULL);
    }
    return rc;
}

/* The tree rpc_parse() must have built from 'body': the body with "params" defaulted to {}. */
static json_t *rpc_expected_root(const char *body)
{
    json_t *root = json_loads(body, 0, NULL);
    assert_non_null(root);
    if (!json_object_get(root, "params"))
        assert_int_equal(json_object_set_new(root, "params", json_object()), 0);
    return root;
}

/* What rpc_parse() promises of a parsed request, whatever the body said. */
static void rpc_assert_consistent(const struct rpc_request *req)
{
    json_t *id = json_object_get(req->root, "id");

    assert_true(json_is_object(req->root));
    assert_ptr_equal(req->id, json_is_string(id) || json_is_integer(id) ? id : NULL);
    assert_ptr_equal(req->method, json_string_value(json_object_get(req->root, "method")));
    assert_true(req->method[0] != '\0');
    assert_ptr_equal(req->params, json_object_get(req->root, "params"));
    assert_true(json_is_object(req->params));
    if (req->meta)
        assert_ptr_equal(req->meta, json_object_get(req->params, "_meta"));
}

static void rpc_check(void *arg, int rc, bool failed)
{
    struct rpc_case *c = arg;

    if (!failed || rc == c->want) {
        assert_int_equal(rc, c->want);
    } else if (rc != -RPC_EPARSE && rc != -RPC_EINTERNAL) {
        fail_msg("rpc_parse: %d after a failed allocation (%s)", rc, c->err.msg);
    }
    if (rc < 0) {
        assert_int_equal(c->err.code, rc);
    } else {
        json_t *want = rpc_expected_root(c->body);
        bool same = json_equal(c->req.root, want);
        json_decref(want);
        rpc_assert_consistent(&c->req);
        if (same) {
            assert_int_equal(c->envelope_rc, c->want_envelope);
            assert_int_equal(c->headers_rc, c->want_headers);
        } else {
            assert_true(failed); /* jansson lost a byte: see jansson_lost_bytes */
            jansson_lost_bytes++;
            assert_true(c->envelope_rc <= 0 && c->envelope_rc > -RPC_ERROR_COUNT);
            assert_true(c->headers_rc <= 0 && c->headers_rc > -RPC_ERROR_COUNT);
        }
    }
    rpc_request_fini(&c->req);
}

static void test_chaos_rpc_parse_and_checks(void **state)
{
    static struct rpc_case cases[] = {
        {.body = "{\"jsonrpc\":\"2.0\",\"id\":\"req-1\",\"method\":\"tools/call\",\"params\":{"
                 "\"name\":\"echo\",\"arguments\":{\"text\":\"h\\u00e9llo\",\"n\":[1,2.5,-3,"
                 "true,null,{\"deep\":{\"er\":\"x\"}}]},\"_meta\":{"
                 "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
                 "\"io.modelcontextprotocol/clientCapabilities\":{\"elicitation\":{},"
                 "\"extensions\":{\"io.example/x\":{}}}}}}",
         .h = {"2026-07-28", "tools/call", "echo"}},
        /* no params: rpc_parse() adds an empty object */
        {.body = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}",
         .h = {"2026-07-28", "ping", NULL},
         .want_envelope = -RPC_EMETA},
        /* a notification: no checks apply */
        {.body = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{"
                 "\"requestId\":\"req-1\",\"reason\":\"bored\"}}"},
        /* refused after much has been built */
        {.body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\",\"params\":{\"x\":[1,2,3]},"
                 "\"method\":\"b\"}",
         .want = -RPC_EPARSE},
        {.body = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", .want = -RPC_EINVALID},
        {.body = "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"ping\"}",
         .want = -RPC_EINVALID},
    };
    unsigned long made;

    jansson_lost_bytes = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_true(jansson_lexer_safe(cases[i].body));
        made = allocfail_loop(cases[i].body, rpc_run, rpc_check, &cases[i]);
        assert_true(made > 0); /* jansson goes through the seam */
    }
    if (jansson_lost_bytes)
        print_message("note: jansson lost a byte yet parsed in %u run(s)\n", jansson_lost_bytes);

    /* The checks themselves allocate nothing. */
    assert_int_equal(rpc_run(&cases[0]), 0);
    allocfail_arm(ALLOCFAIL_NEVER);
    assert_int_equal(rpc_check_envelope(&cases[0].req, &cases[0].h, NULL), 0);
    assert_int_equal(rpc_check_headers(&cases[0].req, &cases[0].h, NULL), 0);
    assert_int_equal(allocfail_count(), 0);
    rpc_request_fini(&cases[0].req);
}

struct reply_case {
    json_t *id;       /* the request id, borrowed by the replies */
    json_t *error;    /* an error reply with data */
    json_t *result;   /* a result reply */
    json_t *fallback; /* an error reply whose message is not UTF-8 */
};

static int reply_run(void *arg)
{
    struct reply_case *c = arg;
    json_t *data = json_pack("{s:s}", "tool", "ech\xc3\xb6");

    /* Without its data the reply would be another reply: do as a caller would. */
    c->error =
        data ? rpc_error_response(c->id, RPC_EPARAMS, "Unknown tool: ech\xc3\xb6", data) : NULL;
    c->result = rpc_result_response(c->id, json_pack("{s:[{s:s, s:s}], s:b}", "content", "type",
                                                     "text", "text", "hi", "isError", 0));
    c->fallback = rpc_error_response(NULL, RPC_EPARSE, "bad \xff byte", NULL);
    return c->error && c->result && c->fallback ? 0 : -1;
}

/* 'got' is NULL after a failed allocation, or exactly the JSON text 'want'. */
static void reply_is(json_t *got, bool failed, const char *want)
{
    json_t *w;

    if (!got) {
        assert_true(failed);
        return;
    }
    w = json_loads(want, 0, NULL);
    assert_non_null(w);
    if (!json_equal(got, w)) {
        char *text = json_dumps(got, JSON_SORT_KEYS);
        fail_msg("reply %s, expected %s", text ? text : "?", want);
    }
    json_decref(w);
    json_decref(got);
}

static void reply_check(void *arg, int rc, bool failed)
{
    struct reply_case *c = arg;

    assert_true(rc == 0 || failed);
    reply_is(c->error, failed,
             "{\"jsonrpc\":\"2.0\",\"id\":\"req-1\",\"error\":{\"code\":-32602,"
             "\"message\":\"Unknown tool: ech\\u00f6\",\"data\":{\"tool\":\"ech\\u00f6\"}}}");
    reply_is(c->result, failed,
             "{\"jsonrpc\":\"2.0\",\"id\":\"req-1\",\"result\":{\"content\":[{\"type\":\"text\","
             "\"text\":\"hi\"}],\"isError\":false}}");
    reply_is(c->fallback, failed,
             "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
             "\"message\":\"Parse error\"}}");
}

static void test_chaos_rpc_replies(void **state)
{
    struct reply_case c = {.id = json_string("req-1")};

    assert_non_null(c.id);
    assert_true(allocfail_loop("rpc replies", reply_run, reply_check, &c) > 0);
    json_decref(c.id);
}

/* ---- requestState: jansson and OpenSSL ---- */

static const unsigned char state_key[32] = "0123456789abcdef0123456789abcdef";

struct state_case {
    struct state_binding b;       /* what the state is bound to */
    const char *state;            /* verify: the state checked */
    int want;                     /* verify: the code with no failure */
    char *made;                   /* sign: what the run made */
    char task_id[TASKID_LEN + 1]; /* verify: the id copied out */
    struct err err;               /* verify: its error */
};

static int sign_run(void *arg)
{
    struct state_case *c = arg;

    c->made = state_sign(state_key, sizeof(state_key), TASK_ID, &c->b, 2000000000);
    return c->made ? 0 : -1;
}

static void sign_check(void *arg, int rc, bool failed)
{
    struct state_case *c = arg;
    char id[TASKID_LEN + 1];

    ERR_clear_error();
    if (!c->made) {
        assert_true(failed);
        return;
    }
    assert_int_equal(state_verify(state_key, sizeof(state_key), c->made, &c->b, 1000, id, NULL), 0);
    assert_string_equal(id, TASK_ID);
    free(c->made);
    c->made = NULL;
}

static int verify_run(void *arg)
{
    struct state_case *c = arg;

    memset(c->task_id, 0, sizeof(c->task_id));
    return state_verify(state_key, sizeof(state_key), c->state, &c->b, 1000, c->task_id, &c->err);
}

static void verify_check(void *arg, int rc, bool failed)
{
    struct state_case *c = arg;

    ERR_clear_error();
    if (failed && rc != c->want && rc != -STATE_EINTERNAL)
        fail_msg("state_verify: %d after a failed allocation, %d without (%s)", rc, c->want,
                 c->err.msg);
    if (!failed)
        assert_int_equal(rc, c->want);
    if (rc == 0)
        assert_string_equal(c->task_id, TASK_ID);
    else
        assert_int_equal(c->err.code, rc);
}

static void test_chaos_state_sign_and_verify(void **state)
{
    json_t *args = json_pack("{s:s, s:[i, f, {s:n}]}", "text", "h\xc3\xa9", "list", 1, 2.5, "k");
    json_t *other = json_pack("{s:s}", "text", "else");
    struct state_case c = {.b = {"alice", "tools/call", "echo", args}};
    struct state_case none = {.b = {"alice", "tools/call", "echo", NULL}};
    char *signed_state;

    assert_non_null(args);
    assert_non_null(other);
    assert_true(allocfail_loop("state_sign", sign_run, sign_check, &c) > 0);
    assert_true(allocfail_loop("state_sign without args", sign_run, sign_check, &none) > 0);

    signed_state = state_sign(state_key, sizeof(state_key), TASK_ID, &c.b, 2000000000);
    assert_non_null(signed_state);
    c.state = signed_state;
    assert_true(allocfail_loop("state_verify", verify_run, verify_check, &c) > 0);
    c.b.args = other;
    c.want = -STATE_EMISMATCH;
    assert_true(allocfail_loop("state_verify, other args", verify_run, verify_check, &c) > 0);
    c.b.args = NULL;
    assert_true(allocfail_loop("state_verify, no args", verify_run, verify_check, &c) > 0);

    free(signed_state);
    json_decref(args);
    json_decref(other);
}

/* ---- legacy session ids and tasks/list cursors ---- */

struct session_case {
    char token[SESSION_MAX_LEN + 1]; /* a session id signed for alice */
    const char *who;                 /* the principal verifying */
    int want;                        /* verify: the code with no failure */
    struct session got;              /* verify: what it read */
};

static int session_sign_run(void *arg)
{
    struct session_case *c = arg;
    struct session s = {.version = "2025-11-25", .caps = SESSION_CAP_SAMPLING, .expires_s = 2000};

    return session_sign(state_key, sizeof(state_key), &s, "alice", c->token);
}

static void session_sign_check(void *arg, int rc, bool failed)
{
    struct session_case *c = arg;
    struct session s;

    ERR_clear_error();
    if (rc != 0) {
        assert_true(failed);
        assert_int_equal(rc, -SESSION_EINTERNAL);
        return;
    }
    assert_int_equal(session_verify(state_key, sizeof(state_key), c->token, "alice", 1000, &s,
                                    NULL),
                     0);
    assert_int_equal(s.caps, SESSION_CAP_SAMPLING);
}

static int session_verify_run(void *arg)
{
    struct session_case *c = arg;

    memset(&c->got, 0, sizeof(c->got));
    return session_verify(state_key, sizeof(state_key), c->token, c->who, 1000, &c->got, NULL);
}

static void session_verify_check(void *arg, int rc, bool failed)
{
    struct session_case *c = arg;

    ERR_clear_error();
    if (failed && rc != c->want && rc != -SESSION_EINTERNAL)
        fail_msg("session_verify: %d after a failed allocation, %d without", rc, c->want);
    if (!failed)
        assert_int_equal(rc, c->want);
    if (rc == 0)
        assert_string_equal(c->got.version, "2025-11-25");
}

static int cursor_run(void *arg)
{
    char text[CURSOR_MAX_LEN + 1], id[TASKID_LEN + 1];
    int64_t us = 0;

    (void)arg;
    if (cursor_encode(42, TASK_ID, text) != 0 || cursor_decode(text, &us, id) != 0 || us != 42)
        return -1;
    return cursor_decode("c1.bm90IGEgY3Vyc29y", &us, id) == -CURSOR_EINVALID ? 0 : -1;
}

static void cursor_check(void *arg, int rc, bool failed)
{
    (void)arg;
    assert_false(failed);
    assert_int_equal(rc, 0);
}

static void test_chaos_session_ids_and_cursors(void **state)
{
    struct session_case c = {.who = "alice"};

    assert_true(allocfail_loop("session_sign", session_sign_run, session_sign_check, &c) > 0);
    assert_int_equal(session_sign_run(&c), 0);
    assert_true(allocfail_loop("session_verify", session_verify_run, session_verify_check, &c) >
                0);
    c.who = "bob";
    c.want = -SESSION_EPRINCIPAL;
    assert_true(allocfail_loop("session_verify, other principal", session_verify_run,
                               session_verify_check, &c) > 0);
    assert_int_equal(allocfail_loop("cursor", cursor_run, cursor_check, NULL), 0);
}

/* ---- the external-tool line protocol ---- */

struct line_case {
    const char *line;              /* one stdout line */
    int want;                      /* the code with no failure */
    enum extproto_event_kind kind; /* ... and what it parses to: the kind */
    double progress;               /* PROGRESS: work done */
    double total;                  /* PROGRESS: total work */
    const char *message;           /* NULL: none */
    const char *result;            /* JSON text of the result, or NULL */
    struct extproto_event ev;      /* what the run parsed */
    struct err err;                /* its error */
};

static int line_run(void *arg)
{
    struct line_case *c = arg;

    return extproto_parse_line(c->line, strlen(c->line), &c->ev, &c->err);
}

/* True when the event parsed is the one the clean line gives. */
static bool line_is_clean(const struct line_case *c)
{
    bool same = c->ev.kind == c->kind && c->ev.progress == c->progress && c->ev.total == c->total &&
                c->ev.has_message == (c->message != NULL) &&
                (!c->message || strcmp(c->ev.message, c->message) == 0);

    if (same && c->result) {
        json_t *want = json_loads(c->result, 0, NULL);
        same = json_equal(c->ev.result, want);
        json_decref(want);
    }
    return same;
}

static void line_check(void *arg, int rc, bool failed)
{
    struct line_case *c = arg;

    if (!failed || rc == 0)
        assert_int_equal(rc, c->want);
    if (rc < 0) {
        assert_int_equal(rc, -EXTPROTO_EPROTO);
        assert_int_equal(c->err.code, rc);
        assert_null(c->ev.result);
        return;
    }
    if (line_is_clean(c)) {
        assert_int_equal(c->ev.kind, c->kind);
        assert_true(c->ev.progress == c->progress && c->ev.total == c->total);
        assert_int_equal(c->ev.has_message, c->message != NULL);
        if (c->message)
            assert_string_equal(c->ev.message, c->message);
        assert_int_equal(c->ev.result != NULL, c->result != NULL);
    } else {
        assert_true(failed); /* jansson lost a byte: see jansson_lost_bytes */
        jansson_lost_bytes++;
        assert_int_equal(c->ev.kind, c->kind); /* one byte cannot change the one key */
        if (c->ev.kind == EXTPROTO_EV_RESULT)
            assert_true(json_is_array(json_object_get(c->ev.result, "content")));
        else
            assert_null(c->ev.result);
    }
    extproto_event_fini(&c->ev);
}

/* ---- the schema validator: compile, then validate ---- */

/* Every allocating path: patterns, properties, $ref, propertyNames (a new string per
 * name), annotations past 64 members (a heap bit set), dependencies. */
static const char chaos_schema[] =
    "{\"$defs\":{\"n\":{\"$anchor\":\"num\",\"type\":\"integer\"}},"
    "\"properties\":{\"a\":{\"$ref\":\"#num\"},\"b\":{\"pattern\":\"^[a-z\\\\u00e9]+$\"}},"
    "\"patternProperties\":{\"^k\":{\"type\":\"integer\"}},\"propertyNames\":{\"maxLength\":4},"
    "\"anyOf\":[{\"required\":[\"a\"]},true],\"dependentSchemas\":{\"a\":true},"
    "\"unevaluatedProperties\":false}";

struct schema_case {
    json_t *doc;   /* chaos_schema, parsed before the loop */
    json_t *good;  /* 70 members: valid */
    json_t *bad;   /* one member refused */
    int bad_rc;    /* schema_validate() of 'bad' */
    char msg[256]; /* its message */
};

static int schema_run(void *arg)
{
    struct schema_case *c = arg;
    struct schema *s = NULL;
    struct err e = {0};
    int rc = schema_compile(c->doc, &s, &e);
    if (rc == 0 && (rc = schema_validate(s, c->good, &e)) == 0) {
        c->bad_rc = schema_validate(s, c->bad, &e);
        snprintf(c->msg, sizeof(c->msg), "%s", e.msg);
    }
    schema_free(s);
    return rc;
}

static void schema_check(void *arg, int rc, bool failed)
{
    struct schema_case *c = arg;
    if (failed && rc == -SCHEMA_ENOMEM)
        return;
    assert_int_equal(rc, 0);
    if (c->bad_rc == -SCHEMA_ENOMEM && failed)
        return;
    assert_int_equal(c->bad_rc, -SCHEMA_EINVALID);
    assert_string_equal(c->msg, "/zz: is not an accepted property (unevaluatedProperties)");
}

static void test_chaos_schema_compile_and_validate(void **state)
{
    struct schema_case c = {.doc = json_loads(chaos_schema, 0, NULL)};
    assert_non_null(c.doc);
    c.good = json_pack("{s:i, s:s}", "a", 1, "b", "abc\xc3\xa9");
    for (int i = 0; i < 68; i++) {
        char key[8];
        snprintf(key, sizeof(key), "k%d", i);
        json_object_set_new(c.good, key, json_integer(i));
    }
    c.bad = json_deep_copy(c.good);
    json_object_set_new(c.bad, "zz", json_true());
    assert_true(allocfail_loop("schema", schema_run, schema_check, &c) > 0);
    json_decref(c.doc);
    json_decref(c.good);
    json_decref(c.bad);
}

static void test_chaos_extproto_parse_line(void **state)
{
    static struct line_case cases[] = {
        {.line = "{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"h\\u00e9\"}],"
                 "\"structuredContent\":{\"n\":[1,2,{\"k\":null}]},\"isError\":false}}\r",
         .kind = EXTPROTO_EV_RESULT,
         .result = "{\"content\":[{\"type\":\"text\",\"text\":\"h\\u00e9\"}],"
                   "\"structuredContent\":{\"n\":[1,2,{\"k\":null}]},\"isError\":false}"},
        {.line = "{\"progress\":3,\"total\":10,\"message\":\"step three\"}",
         .kind = EXTPROTO_EV_PROGRESS,
         .progress = 3,
         .total = 10,
         .message = "step three"},
        {.line = "{\"status\":\"working\"}", .kind = EXTPROTO_EV_STATUS, .message = "working"},
        {.line = "{\"progress\":1,\"status\":\"x\"}", .want = -EXTPROTO_EPROTO},
        {.line = "{\"status\":\"a\",\"status\":\"b\"}", .want = -EXTPROTO_EPROTO},
        {.line = "{\"result\":{\"content\":[{\"text\":\"no type\"}]}}", .want = -EXTPROTO_EPROTO},
    };

    jansson_lost_bytes = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_true(jansson_lexer_safe(cases[i].line));
        assert_true(allocfail_loop(cases[i].line, line_run, line_check, &cases[i]) > 0);
    }
    if (jansson_lost_bytes)
        print_message("note: jansson lost a byte yet parsed in %u run(s)\n", jansson_lost_bytes);
}

/* ---- the CLI's SSE parser ---- */

#define SSE_EVENTS 4

struct sse_case {
    struct sse p;               /* the parser of the run */
    int n;                      /* events delivered */
    char event[SSE_EVENTS][64]; /* their types */
    char data[SSE_EVENTS][512]; /* and data */
};

static int sse_collect(void *ctx, const char *event, const char *data, size_t len)
{
    struct sse_case *c = ctx;

    assert_true(c->n < SSE_EVENTS && len < sizeof(c->data[0]));
    snprintf(c->event[c->n], sizeof(c->event[0]), "%s", event);
    memcpy(c->data[c->n], data, len + 1);
    c->n++;
    return 0;
}

static char long_line[301]; /* 300 'y': grows a buffer past its first 256 bytes */

static int sse_run(void *arg)
{
    struct sse_case *c = arg;
    const char *chunks[] = {
        "data: first\n\n: keep-alive\r\nevent: note\r\ndata: line one\r\ndata: ", long_line, "\r",
        "\n\r\ndata: tail\n", "\n"};
    int rc = 0;

    c->n = 0;
    sse_init(&c->p);
    for (size_t i = 0; rc == 0 && i < sizeof(chunks) / sizeof(chunks[0]); i++)
        rc = sse_feed(&c->p, chunks[i], strlen(chunks[i]), sse_collect, c);
    return rc;
}

static void sse_check(void *arg, int rc, bool failed)
{
    struct sse_case *c = arg;
    char second[400];
    const char *want_event[] = {"message", "note", "message"};
    const char *want_data[] = {"first", second, "tail"};

    snprintf(second, sizeof(second), "line one\n%s", long_line);
    if (failed && rc != 0)
        assert_int_equal(rc, -SSE_ENOMEM);
    else
        assert_int_equal(rc, 0);
    assert_true(c->n <= 3);
    if (rc == 0)
        assert_int_equal(c->n, 3);
    for (int i = 0; i < c->n; i++) {
        assert_string_equal(c->event[i], want_event[i]);
        assert_string_equal(c->data[i], want_data[i]);
    }
    sse_fini(&c->p);
}

static void test_chaos_sse_feed(void **state)
{
    struct sse_case c;

    memset(long_line, 'y', sizeof(long_line) - 1);
    assert_true(allocfail_loop("sse_feed", sse_run, sse_check, &c) > 0);
}

/* Make what OpenSSL keeps for the life of the thread (its error queue, random generator,
 * fetched algorithms) now, so that no test counts it as its own. */
static void openssl_warm_up(void)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    struct state_binding b = {"alice", "tools/call", "echo", NULL};
    char *s = state_sign(state_key, sizeof(state_key), TASK_ID, &b, 2000000000);

    free(s);
    EVP_Digest("x", 1, md, NULL, EVP_sha256(), NULL);
    ERR_raise(ERR_LIB_USER, ERR_R_MALLOC_FAILURE);
    ERR_clear_error();
}

int main(void)
{
    /* First: OpenSSL takes allocator hooks only before it has allocated. */
    if (allocfail_install() < 0)
        return 1;
    openssl_warm_up();

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_allocfail_sees_every_allocator, allocfail_teardown),
        cmocka_unit_test(test_jansson_lexer_safe_finds_the_growth_points),
        cmocka_unit_test_teardown(test_chaos_envelope_allocates_nothing, allocfail_teardown),
        cmocka_unit_test_teardown(test_chaos_b64_allocates_nothing, allocfail_teardown),
        cmocka_unit_test_teardown(test_chaos_notify_parse_allocates_nothing, allocfail_teardown),
        cmocka_unit_test_teardown(test_chaos_rpc_parse_and_checks, allocfail_teardown),
        cmocka_unit_test_teardown(test_chaos_rpc_replies, allocfail_teardown),
        cmocka_unit_test_teardown(test_chaos_state_sign_and_verify, allocfail_teardown),
        cmocka_unit_test_teardown(test_chaos_session_ids_and_cursors, allocfail_teardown),
        cmocka_unit_test_teardown(test_chaos_extproto_parse_line, allocfail_teardown),
        cmocka_unit_test_teardown(test_chaos_schema_compile_and_validate, allocfail_teardown),
        cmocka_unit_test_teardown(test_chaos_sse_feed, allocfail_teardown),
    };
    return cmocka_run_group_tests_name("chaos", tests, NULL, NULL);
}
