/*
 * test_wait.c - waiting requests without a database: parking, wake-ups,
 * timeouts, shutdown, hang-ups and the SSE framing of streams.
 *
 * The hub gets fake connections (struct hub_conn_ops) and the store points
 * at a closed port, so every read fails at once: these tests cover what
 * wait.c decides on its own.  Answers built from task rows (progress,
 * results, listen diffs) need the store seam and are covered by the
 * integration tests.
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
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "fakeconn.h"
#include "mcpdefs.h"
#include "threadconn.h"
#include "wait.h"

#define TASK "01a200cc-5d93-48a9-ba90-df853b759f72"
#define LONG_MS (3600 * 1000)

/* Everything one test needs: a hub, settings, a parsed request, a connection.
 * On the heap and torn down by cmocka, so a failed assertion leaves no
 * waiter on a dead stack frame for the hub's ticker. */
struct fixture {
    struct hub *hub;        /* with fake connections, no Redis */
    struct mcp_server mcp;  /* zeroed: no reply here needs its settings */
    struct wait_cfg cfg;    /* points at a database nobody listens for */
    struct rpc_request req; /* the request that waits */
    struct fakeconn conn;  /* its connection */
    struct mcp_outcome oc;  /* what mcp_handle said */
    struct wait w;          /* the wait under test */
    bool waiting;           /* w was started and not finished */
};

/* 'token': the request carries a progressToken (an SSE client then gets a stream). */
static void fixture_init(struct fixture *f, const char *method, int64_t timeout_ms, bool token)
{
    f->hub = hub_new("", &fakeconn_ops);
    assert_non_null(f->hub);
    f->cfg = (struct wait_cfg){f->hub, &f->mcp, "host=127.0.0.1 port=1 connect_timeout=2", "",
                               timeout_ms, timeout_ms};
    char body[512];
    snprintf(body, sizeof(body),
             "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"%s\",\"params\":{\"_meta\":{%s"
             "\"" MCP_META_PROTOCOL_VERSION "\":\"2026-07-28\","
             "\"" MCP_META_CLIENT_CAPS "\":{}}}}",
             method, token ? "\"progressToken\":\"tok\"," : "");
    assert_int_equal(rpc_parse(body, strlen(body), &f->req, NULL), 0);
}

/* Finish the wait as the completion callback does; the hub must be empty after. */
static void end_wait(struct fixture *f)
{
    wait_fini(&f->w);
    f->waiting = false;
    assert_int_equal(hub_count(f->hub), 0);
}

static int fixture_new(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->conn.fd = -1;
    *state = f;
    return 0;
}

static int fixture_free(void **state)
{
    struct fixture *f = *state;
    if (f->hub)
        hub_shutdown(f->hub, 0); /* resumes whatever a failed test left parked */
    if (f->waiting)
        wait_fini(&f->w);
    hub_free(f->hub);
    json_decref(f->oc.listen);
    rpc_request_fini(&f->req);
    threadconn_release();
    if (f->conn.fd >= 0)
        close(f->conn.fd);
    free(f);
    return 0;
}

/* Start waiting for a synchronous call of task TASK. */
static enum wait_step start_call(struct fixture *f, bool sse, json_t **reply)
{
    f->oc.kind = MCP_WAIT;
    snprintf(f->oc.task_id, sizeof(f->oc.task_id), "%s", TASK);
    struct wait_request r = {fakeconn_conn(&f->conn), &f->req, &f->oc, "alice", sse};
    f->waiting = true;
    return wait_start(&f->w, &f->cfg, &r, reply);
}

/* Start a listen stream on 'filter' (stolen). */
static enum wait_step start_listen_on(struct fixture *f, json_t *filter)
{
    f->oc.kind = MCP_LISTEN;
    f->oc.listen = filter;
    struct wait_request r = {fakeconn_conn(&f->conn), &f->req, &f->oc, "alice", true};
    json_t *reply = NULL;
    f->waiting = true;
    enum wait_step step = wait_start(&f->w, &f->cfg, &r, &reply);
    assert_null(reply);
    return step;
}

/* Start a listen stream on TASK and the tools list. */
static enum wait_step start_listen(struct fixture *f)
{
    return start_listen_on(f, json_pack("{s:[s], s:b}", "taskIds", TASK, "toolsListChanged", 1));
}

/* Read the stream in small pieces until it parks or ends; returns the text (static). */
static const char *read_stream(struct wait *w, long *last)
{
    static char text[8192];
    size_t len = 0;
    long n;
    while ((n = wait_read(w, text + len, 7)) > 0) {
        len += (size_t)n;
        assert_true(len < sizeof(text) - 8);
    }
    text[len] = '\0';
    *last = n;
    return text;
}

/* The JSON of the k-th SSE event in 'text' (new reference), checking the framing. */
static json_t *event(const char *text, int k)
{
    const char *p = text;
    for (int i = 0; i <= k; i++) {
        p = strstr(p, "event: message\ndata: ");
        assert_non_null(p);
        p += strlen("event: message\ndata: ");
        if (i < k)
            continue;
        const char *end = strstr(p, "\n\n");
        assert_non_null(end);
        json_t *msg = json_loadb(p, (size_t)(end - p), 0, NULL);
        assert_non_null(msg);
        return msg;
    }
    return NULL;
}

static void assert_error(json_t *reply, const char *message_start)
{
    assert_non_null(reply);
    assert_int_equal(json_integer_value(json_object_get(reply, "id")), 7);
    json_t *error = json_object_get(reply, "error");
    assert_int_equal(json_integer_value(json_object_get(error, "code")), MCP_EINTERNAL);
    const char *msg = json_string_value(json_object_get(error, "message"));
    assert_non_null(msg);
    assert_memory_equal(msg, message_start, strlen(message_start));
}

static void test_wait_answers_a_call_past_its_deadline_with_a_timeout(void **state)
{
    struct fixture *f = *state;
    fixture_init(f, "tools/call", 0, true);
    json_t *reply = NULL;
    assert_int_equal(start_call(f, false, &reply), WAIT_REPLY);
    assert_error(reply, "Timed out waiting for the tool");
    json_decref(reply);
    assert_int_equal(f->conn.suspends, 0);
    end_wait(f);
}

static void test_wait_parks_a_call_until_an_event_then_answers_shutdown(void **state)
{
    struct fixture *f = *state;
    fixture_init(f, "tools/call", LONG_MS, false);
    json_t *reply = NULL;
    /* No progressToken: plain JSON even for a client that accepts SSE. */
    assert_int_equal(start_call(f, true, &reply), WAIT_SUSPENDED);
    assert_int_equal(f->conn.suspends, 1);
    assert_int_equal(hub_count(f->hub), 1);

    hub_event(f->hub, TASK); /* something changed: look again, still nothing */
    assert_int_equal(f->conn.resumes, 1);
    assert_int_equal(wait_resume(&f->w, &reply), WAIT_SUSPENDED);
    assert_int_equal(f->conn.suspends, 2);

    hub_shutdown(f->hub, 0);
    assert_int_equal(f->conn.resumes, 2);
    assert_int_equal(wait_resume(&f->w, &reply), WAIT_REPLY);
    assert_error(reply, "Frontend shutting down; retry the call");
    json_decref(reply);
    end_wait(f);
}

static void test_wait_closes_a_call_whose_client_hung_up(void **state)
{
    struct fixture *f = *state;
    fixture_init(f, "tools/call", LONG_MS, true);
    int peer = fakeconn_socket(&f->conn);
    json_t *reply = NULL;
    assert_int_equal(start_call(f, false, &reply), WAIT_SUSPENDED);
    close(peer);
    assert_true(fakeconn_wait_resumes(&f->conn, 1));
    assert_int_equal(wait_resume(&f->w, &reply), WAIT_CLOSE);
    assert_null(reply);
    end_wait(f); /* cancels the task: the database is away, so quietly nothing */
}

static void test_wait_streams_the_timeout_of_an_sse_call(void **state)
{
    struct fixture *f = *state;
    fixture_init(f, "tools/call", 0, true);
    json_t *reply = NULL;
    assert_int_equal(start_call(f, true, &reply), WAIT_STREAM);
    assert_null(reply);
    long last = 0;
    const char *text = read_stream(&f->w, &last);
    assert_int_equal(last, -WAIT_EEND);
    json_t *msg = event(text, 0);
    assert_error(msg, "Timed out waiting for the tool");
    json_decref(msg);
    assert_null(strstr(text + 1, "event: message")); /* exactly one event */
    end_wait(f);
}

static void test_wait_listen_acknowledges_first_then_closes_at_its_deadline(void **state)
{
    struct fixture *f = *state;
    fixture_init(f, "subscriptions/listen", 0, false);
    assert_int_equal(start_listen(f), WAIT_STREAM);
    assert_null(f->oc.listen); /* the filter was taken over */
    long last = 0;
    const char *text = read_stream(&f->w, &last);
    assert_int_equal(last, -WAIT_EEND);

    json_t *ack = event(text, 0);
    assert_string_equal(json_string_value(json_object_get(ack, "method")),
                        "notifications/subscriptions/acknowledged");
    json_t *params = json_object_get(ack, "params");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(params, "notifications"), "taskIds"),
                            0)),
                        TASK);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(params, "_meta"),
                                                        MCP_META_SUBSCRIPTION_ID)),
                     7);
    json_decref(ack);

    json_t *close_msg = event(text, 1);
    assert_int_equal(json_integer_value(json_object_get(close_msg, "id")), 7);
    assert_non_null(json_object_get(close_msg, "result"));
    json_decref(close_msg);
    end_wait(f);
}

static void test_wait_listen_sends_tools_changes_and_closes_at_shutdown(void **state)
{
    struct fixture *f = *state;
    fixture_init(f, "subscriptions/listen", LONG_MS, false);
    assert_int_equal(start_listen(f), WAIT_STREAM);
    long last = 0;
    const char *text = read_stream(&f->w, &last);
    assert_int_equal(last, 0); /* the ack, then parked */
    assert_non_null(strstr(text, "notifications/subscriptions/acknowledged"));
    assert_null(strstr(text, "list_changed"));
    assert_int_equal(f->conn.suspends, 1);

    hub_event(f->hub, HUB_TOOLS_KEY);
    text = read_stream(&f->w, &last);
    assert_int_equal(last, 0);
    json_t *msg = event(text, 0);
    assert_string_equal(json_string_value(json_object_get(msg, "method")),
                        "notifications/tools/list_changed");
    json_decref(msg);

    hub_shutdown(f->hub, 0);
    text = read_stream(&f->w, &last);
    assert_int_equal(last, -WAIT_EEND);
    msg = event(text, 0);
    assert_non_null(json_object_get(msg, "result"));
    json_decref(msg);
    end_wait(f);
}

static void test_wait_listen_sends_prompts_changes_and_only_those_asked_for(void **state)
{
    struct fixture *f = *state;
    fixture_init(f, "subscriptions/listen", LONG_MS, false);
    assert_int_equal(start_listen_on(f, json_pack("{s:b}", "promptsListChanged", 1)),
                     WAIT_STREAM);
    long last = 0;
    const char *text = read_stream(&f->w, &last);
    assert_int_equal(last, 0);
    assert_non_null(strstr(text, "\"promptsListChanged\":true"));

    hub_event(f->hub, HUB_TOOLS_KEY); /* not asked for: nothing */
    hub_event(f->hub, HUB_PROMPTS_KEY);
    text = read_stream(&f->w, &last);
    assert_int_equal(last, 0);
    json_t *msg = event(text, 0);
    assert_string_equal(json_string_value(json_object_get(msg, "method")),
                        "notifications/prompts/list_changed");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(msg, "params"), "_meta"),
                         MCP_META_SUBSCRIPTION_ID)),
                     7);
    json_decref(msg);
    assert_null(strstr(text, "tools/list_changed"));

    hub_shutdown(f->hub, 0); /* resumes the parked stream: it closes */
    text = read_stream(&f->w, &last);
    assert_int_equal(last, -WAIT_EEND);
    assert_null(strstr(text, "list_changed"));
    end_wait(f);
}

static void test_wait_stream_of_a_client_that_left_ends_with_an_error(void **state)
{
    struct fixture *f = *state;
    fixture_init(f, "subscriptions/listen", LONG_MS, false);
    int peer = fakeconn_socket(&f->conn);
    assert_int_equal(start_listen(f), WAIT_STREAM);
    long last = 0;
    read_stream(&f->w, &last);
    assert_int_equal(last, 0);
    close(peer);
    assert_true(fakeconn_wait_resumes(&f->conn, 1));
    read_stream(&f->w, &last);
    assert_int_equal(last, -WAIT_EGONE);
    end_wait(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wait_answers_a_call_past_its_deadline_with_a_timeout, fixture_new, fixture_free),
        cmocka_unit_test_setup_teardown(test_wait_parks_a_call_until_an_event_then_answers_shutdown, fixture_new, fixture_free),
        cmocka_unit_test_setup_teardown(test_wait_closes_a_call_whose_client_hung_up, fixture_new, fixture_free),
        cmocka_unit_test_setup_teardown(test_wait_streams_the_timeout_of_an_sse_call, fixture_new, fixture_free),
        cmocka_unit_test_setup_teardown(test_wait_listen_acknowledges_first_then_closes_at_its_deadline, fixture_new, fixture_free),
        cmocka_unit_test_setup_teardown(test_wait_listen_sends_prompts_changes_and_only_those_asked_for, fixture_new, fixture_free),
        cmocka_unit_test_setup_teardown(test_wait_listen_sends_tools_changes_and_closes_at_shutdown, fixture_new, fixture_free),
        cmocka_unit_test_setup_teardown(test_wait_stream_of_a_client_that_left_ends_with_an_error, fixture_new, fixture_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
