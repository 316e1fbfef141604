/*
 * test_hub.c - the hub: registration, wake-ups by key, ticks, hang-ups, shutdown.
 *
 * The hub acts on connections only through struct hub_conn_ops, so these
 * tests give it fake connections that count suspends and resumes; no HTTP
 * server and no Redis.  Waits for the ticker use a condition variable with a
 * deadline, never a fixed sleep.
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
#include <pthread.h>

#include "clock.h"
#include "fakeconn.h"
#include "hub.h"

#define NEVER_MS (3600 * 1000)

/* A hub and up to three waiters, on the heap and torn down by cmocka, so a
 * failed assertion never leaves the ticker walking a dead stack frame. */
struct fixture {
    struct hub *hub;            /* fake connections, no Redis */
    struct fakeconn conn[3];   /* the waiters' connections */
    struct hub_waiter w[3];     /* the waiters */
    bool registered[3];         /* w[i] is in the hub */
};

static int fixture_new(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || !(f->hub = hub_new("", &fakeconn_ops))) {
        free(f);
        return -1;
    }
    for (int i = 0; i < 3; i++)
        f->conn[i].fd = -1;
    *state = f;
    return 0;
}

static int fixture_free(void **state)
{
    struct fixture *f = *state;
    hub_shutdown(f->hub, 0); /* resumes whatever is still parked */
    for (int i = 0; i < 3; i++)
        if (f->registered[i])
            hub_remove(f->hub, &f->w[i]);
    hub_free(f->hub);
    for (int i = 0; i < 3; i++)
        if (f->conn[i].fd >= 0)
            close(f->conn[i].fd);
    free(f);
    return 0;
}

/* Register waiter i with tick interval 'tick_ms', watching the NULL-terminated 'keys'. */
static struct hub_waiter *add(struct fixture *f, int i, int64_t tick_ms, const char *const *keys)
{
    struct hub_waiter *w = &f->w[i];
    memset(w, 0, sizeof(*w));
    w->conn = fakeconn_conn(&f->conn[i]);
    w->tick_ms = tick_ms;
    for (; keys && *keys; keys++)
        snprintf(w->keys[w->nkeys++], sizeof(w->keys[0]), "%s", *keys);
    hub_add(f->hub, w);
    f->registered[i] = true;
    return w;
}

static void drop(struct fixture *f, int i)
{
    hub_remove(f->hub, &f->w[i]);
    f->registered[i] = false;
}

static void test_hub_counts_registered_waiters(void **state)
{
    struct fixture *f = *state;
    struct hub *h = f->hub;
    assert_int_equal(hub_count(h), 0);
    struct hub_waiter *w1 = add(f, 0, NEVER_MS, NULL);
    add(f, 1, NEVER_MS, NULL);
    assert_int_equal(hub_count(h), 2);
    assert_int_equal(hub_take(h, w1, NULL), 0);
    drop(f, 0);
    assert_int_equal(hub_count(h), 1);
    drop(f, 1);
    assert_int_equal(hub_count(h), 0);
    assert_false(hub_live(h)); /* no Redis: ticks stand in for events */
}

static void test_hub_suspends_only_without_pending_flags(void **state)
{
    struct fixture *f = *state;
    struct hub *h = f->hub;
    struct fakeconn *c = &f->conn[0];
    const char *keys[] = {"task-a", NULL};
    struct hub_waiter *w = add(f, 0, NEVER_MS, keys);

    assert_true(hub_suspend(h, w));
    assert_int_equal(fakeconn_count(&c->suspends), 1);
    hub_event(h, "task-a");
    assert_int_equal(fakeconn_count(&c->resumes), 1);

    /* The flag is still pending: suspending now would lose the wake-up. */
    assert_false(hub_suspend(h, w));
    assert_int_equal(fakeconn_count(&c->suspends), 1);
    uint64_t changed = 0;
    assert_int_equal(hub_take(h, w, &changed), HUB_CHANGED);
    assert_int_equal(changed, 1);
    assert_int_equal(hub_take(h, w, &changed), 0); /* taking clears */
    assert_int_equal(changed, 0);

    /* An event while running (not suspended) sets the flag without a resume. */
    hub_event(h, "task-a");
    assert_int_equal(fakeconn_count(&c->resumes), 1);
    assert_false(hub_suspend(h, w));
    assert_int_equal(hub_take(h, w, NULL), HUB_CHANGED);
}

static void test_hub_wakes_only_the_waiters_of_a_key(void **state)
{
    struct fixture *f = *state;
    struct hub *h = f->hub;
    struct fakeconn *c1 = &f->conn[0], *c2 = &f->conn[1];
    const char *k1[] = {"a", "b", "c", NULL}, *k2[] = {"c", HUB_TOOLS_KEY, NULL};
    struct hub_waiter *w1 = add(f, 0, NEVER_MS, k1), *w2 = add(f, 1, NEVER_MS, k2);
    assert_true(hub_suspend(h, w1));
    assert_true(hub_suspend(h, w2));

    hub_event(h, "unknown");
    assert_int_equal(fakeconn_count(&c1->resumes) + fakeconn_count(&c2->resumes), 0);

    hub_event(h, "b");
    assert_int_equal(fakeconn_count(&c1->resumes), 1);
    assert_int_equal(fakeconn_count(&c2->resumes), 0);
    uint64_t changed = 0;
    assert_int_equal(hub_take(h, w1, &changed), HUB_CHANGED);
    assert_int_equal(changed, (uint64_t)1 << 1);
    assert_int_equal(hub_take(h, w2, &changed), 0);

    assert_true(hub_suspend(h, w1));
    hub_event(h, "c");
    hub_event(h, HUB_TOOLS_KEY);
    assert_int_equal(fakeconn_count(&c1->resumes), 2);
    assert_int_equal(fakeconn_count(&c2->resumes), 1); /* resumed once, flags accumulate */
    assert_int_equal(hub_take(h, w1, &changed), HUB_CHANGED);
    assert_int_equal(changed, (uint64_t)1 << 2);
    assert_int_equal(hub_take(h, w2, &changed), HUB_CHANGED);
    assert_int_equal(changed, 3);
}

static void test_hub_reports_the_last_of_64_keys(void **state)
{
    struct fixture *f = *state;
    struct hub_waiter *w = add(f, 0, NEVER_MS, NULL);
    drop(f, 0); /* keys are read under the hub's lock: fill them while unregistered */
    for (int i = 0; i < HUB_MAX_KEYS; i++)
        snprintf(w->keys[w->nkeys++], sizeof(w->keys[0]), "key-%d", i);
    hub_add(f->hub, w);
    f->registered[0] = true;
    hub_event(f->hub, "key-63");
    uint64_t changed = 0;
    assert_int_equal(hub_take(f->hub, w, &changed), HUB_CHANGED);
    assert_int_equal(changed, (uint64_t)1 << 63);
}

static void test_hub_ticks_each_waiter_on_its_own_interval(void **state)
{
    struct fixture *f = *state;
    struct hub *h = f->hub;
    struct fakeconn *fast = &f->conn[0], *slow = &f->conn[1];
    struct hub_waiter *ws = add(f, 1, NEVER_MS, NULL), *wf = add(f, 0, 1, NULL);
    assert_true(hub_suspend(h, ws));
    assert_true(hub_suspend(h, wf));

    assert_true(fakeconn_wait_resumes(fast, 1));
    assert_int_equal(hub_take(h, wf, NULL), HUB_TICK);
    /* The ticker looked at both in the pass that woke 'fast'. */
    assert_int_equal(fakeconn_count(&slow->resumes), 0);
    assert_int_equal(hub_take(h, ws, NULL), 0);

    /* It keeps ticking while the waiter stays registered. */
    assert_true(hub_suspend(h, wf));
    assert_true(fakeconn_wait_resumes(fast, 2));
    assert_int_equal(hub_take(h, wf, NULL), HUB_TICK);
}

static void test_hub_reports_a_client_that_hung_up(void **state)
{
    struct fixture *f = *state;
    int peer = fakeconn_socket(&f->conn[0]);
    struct hub_waiter *w = add(f, 0, NEVER_MS, NULL);
    assert_true(hub_suspend(f->hub, w));

    close(peer); /* the client goes away while its request is parked */
    assert_true(fakeconn_wait_resumes(&f->conn[0], 1));
    assert_int_equal(hub_take(f->hub, w, NULL), HUB_GONE);
}

static void test_hub_shutdown_resumes_everyone_and_refuses_to_suspend(void **state)
{
    struct fixture *f = *state;
    struct hub *h = f->hub;
    struct hub_waiter *w = add(f, 0, NEVER_MS, NULL);
    assert_true(hub_suspend(h, w));

    hub_shutdown(h, 0); /* no grace: returns once nothing is suspended */
    assert_int_equal(fakeconn_count(&f->conn[0].resumes), 1);
    assert_int_equal(hub_take(h, w, NULL), HUB_SHUTDOWN);
    assert_false(hub_suspend(h, w));
    assert_int_equal(hub_take(h, w, NULL), HUB_SHUTDOWN);

    /* A request arriving after shutdown began is told at once. */
    struct hub_waiter *late = add(f, 1, NEVER_MS, NULL);
    assert_false(hub_suspend(h, late));
    assert_int_equal(hub_take(h, late, NULL), HUB_SHUTDOWN);
    assert_int_equal(fakeconn_count(&f->conn[0].suspends), 1);
    assert_int_equal(fakeconn_count(&f->conn[1].suspends), 0);
}

/* What a request thread does when shutdown wakes it: answer and leave. */
struct leaver {
    struct fixture *f; /* hub and waiter 0 */
    unsigned flags;    /* out: the flags it saw */
};

static void *leave_when_resumed(void *arg)
{
    struct leaver *l = arg;
    if (fakeconn_wait_resumes(&l->f->conn[0], 1))
        l->flags = hub_take(l->f->hub, &l->f->w[0], NULL);
    drop(l->f, 0);
    return NULL;
}

static void test_hub_shutdown_returns_when_the_last_waiter_leaves(void **state)
{
    struct fixture *f = *state;
    struct hub_waiter *w = add(f, 0, NEVER_MS, NULL);
    assert_true(hub_suspend(f->hub, w));
    struct leaver l = {f, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, leave_when_resumed, &l), 0);

    int64_t start = clock_now_ms();
    hub_shutdown(f->hub, 10 * FAKECONN_DEADLINE_MS);
    int64_t took = clock_now_ms() - start;
    pthread_join(t, NULL);
    assert_int_equal(l.flags, HUB_SHUTDOWN);
    assert_int_equal(hub_count(f->hub), 0);
    assert_true(took < FAKECONN_DEADLINE_MS); /* it did not sit out the grace period */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hub_counts_registered_waiters, fixture_new, fixture_free),
        cmocka_unit_test_setup_teardown(test_hub_suspends_only_without_pending_flags, fixture_new, fixture_free),
        cmocka_unit_test_setup_teardown(test_hub_wakes_only_the_waiters_of_a_key, fixture_new, fixture_free),
        cmocka_unit_test_setup_teardown(test_hub_reports_the_last_of_64_keys, fixture_new, fixture_free),
        cmocka_unit_test_setup_teardown(test_hub_ticks_each_waiter_on_its_own_interval, fixture_new, fixture_free),
        cmocka_unit_test_setup_teardown(test_hub_reports_a_client_that_hung_up, fixture_new, fixture_free),
        cmocka_unit_test_setup_teardown(test_hub_shutdown_resumes_everyone_and_refuses_to_suspend, fixture_new, fixture_free),
        cmocka_unit_test_setup_teardown(test_hub_shutdown_returns_when_the_last_waiter_leaves, fixture_new, fixture_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
