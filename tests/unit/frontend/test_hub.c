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
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "clock.h"
#include "hub.h"

#define DEADLINE_MS 10000 /* far longer than any wait should take */
#define NEVER_MS (3600 * 1000)

/* A connection as the hub sees it: counts of what was done to it. */
struct fake_conn {
    int fd;       /* the socket reported to the hub, or -1 */
    int suspends; /* suspend calls */
    int resumes;  /* resume calls */
};

static pthread_mutex_t fake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fake_cv; /* broadcast on every resume (monotonic clock) */

static struct fake_conn *fake(struct MHD_Connection *conn)
{
    return (struct fake_conn *)conn;
}

static void fake_suspend(struct MHD_Connection *conn)
{
    pthread_mutex_lock(&fake_mu);
    fake(conn)->suspends++;
    pthread_mutex_unlock(&fake_mu);
}

static void fake_resume(struct MHD_Connection *conn)
{
    pthread_mutex_lock(&fake_mu);
    fake(conn)->resumes++;
    pthread_cond_broadcast(&fake_cv);
    pthread_mutex_unlock(&fake_mu);
}

static int fake_fd(struct MHD_Connection *conn)
{
    return fake(conn)->fd;
}

static const struct hub_conn_ops fake_ops = {fake_suspend, fake_resume, fake_fd};

static int counted(const int *field)
{
    pthread_mutex_lock(&fake_mu);
    int n = *field;
    pthread_mutex_unlock(&fake_mu);
    return n;
}

/* Wait until 'c' was resumed at least 'n' times; false at the deadline. */
static bool wait_resumes(struct fake_conn *c, int n)
{
    int64_t until = clock_now_ms() + DEADLINE_MS;
    pthread_mutex_lock(&fake_mu);
    while (c->resumes < n && clock_now_ms() < until) {
        struct timespec ts = clock_deadline_in(100);
        pthread_cond_timedwait(&fake_cv, &fake_mu, &ts);
    }
    bool ok = c->resumes >= n;
    pthread_mutex_unlock(&fake_mu);
    return ok;
}

/* Set up waiter 'w' on 'c' watching the NULL-terminated 'keys'. */
static void waiter_init(struct hub_waiter *w, struct fake_conn *c, int64_t tick_ms,
                        const char *const *keys)
{
    memset(w, 0, sizeof(*w));
    w->conn = (struct MHD_Connection *)c;
    w->tick_ms = tick_ms;
    for (; keys && *keys; keys++)
        snprintf(w->keys[w->nkeys++], sizeof(w->keys[0]), "%s", *keys);
}

static int setup(void **state)
{
    (void)state;
    return clock_cond_init(&fake_cv);
}

static int teardown(void **state)
{
    (void)state;
    pthread_cond_destroy(&fake_cv);
    return 0;
}

static void test_hub_counts_registered_waiters(void **state)
{
    (void)state;
    struct hub *h = hub_new("", &fake_ops);
    assert_non_null(h);
    struct fake_conn c1 = {.fd = -1}, c2 = {.fd = -1};
    struct hub_waiter w1, w2;
    waiter_init(&w1, &c1, NEVER_MS, NULL);
    waiter_init(&w2, &c2, NEVER_MS, NULL);
    assert_int_equal(hub_count(h), 0);
    hub_add(h, &w1);
    hub_add(h, &w2);
    assert_int_equal(hub_count(h), 2);
    assert_int_equal(hub_take(h, &w1, NULL), 0);
    hub_remove(h, &w1);
    assert_int_equal(hub_count(h), 1);
    hub_remove(h, &w2);
    assert_int_equal(hub_count(h), 0);
    assert_false(hub_live(h)); /* no Redis: ticks stand in for events */
    hub_free(h);
}

static void test_hub_suspends_only_without_pending_flags(void **state)
{
    (void)state;
    struct hub *h = hub_new("", &fake_ops);
    struct fake_conn c = {.fd = -1};
    struct hub_waiter w;
    const char *keys[] = {"task-a", NULL};
    waiter_init(&w, &c, NEVER_MS, keys);
    hub_add(h, &w);

    assert_true(hub_suspend(h, &w));
    assert_int_equal(counted(&c.suspends), 1);
    hub_event(h, "task-a");
    assert_int_equal(counted(&c.resumes), 1);

    /* The flag is still pending: suspending now would lose the wake-up. */
    assert_false(hub_suspend(h, &w));
    assert_int_equal(counted(&c.suspends), 1);
    uint64_t changed = 0;
    assert_int_equal(hub_take(h, &w, &changed), HUB_CHANGED);
    assert_int_equal(changed, 1);
    assert_int_equal(hub_take(h, &w, &changed), 0); /* taking clears */
    assert_int_equal(changed, 0);

    /* An event while running (not suspended) sets the flag without a resume. */
    hub_event(h, "task-a");
    assert_int_equal(counted(&c.resumes), 1);
    assert_false(hub_suspend(h, &w));
    assert_int_equal(hub_take(h, &w, NULL), HUB_CHANGED);
    hub_remove(h, &w);
    hub_free(h);
}

static void test_hub_wakes_only_the_waiters_of_a_key(void **state)
{
    (void)state;
    struct hub *h = hub_new("", &fake_ops);
    struct fake_conn c1 = {.fd = -1}, c2 = {.fd = -1};
    struct hub_waiter w1, w2;
    const char *k1[] = {"a", "b", "c", NULL}, *k2[] = {"c", HUB_TOOLS_KEY, NULL};
    waiter_init(&w1, &c1, NEVER_MS, k1);
    waiter_init(&w2, &c2, NEVER_MS, k2);
    hub_add(h, &w1);
    hub_add(h, &w2);
    assert_true(hub_suspend(h, &w1));
    assert_true(hub_suspend(h, &w2));

    hub_event(h, "unknown");
    assert_int_equal(counted(&c1.resumes) + counted(&c2.resumes), 0);

    hub_event(h, "b");
    assert_int_equal(counted(&c1.resumes), 1);
    assert_int_equal(counted(&c2.resumes), 0);
    uint64_t changed = 0;
    assert_int_equal(hub_take(h, &w1, &changed), HUB_CHANGED);
    assert_int_equal(changed, (uint64_t)1 << 1);
    assert_int_equal(hub_take(h, &w2, &changed), 0);

    assert_true(hub_suspend(h, &w1));
    hub_event(h, "c");
    hub_event(h, HUB_TOOLS_KEY);
    assert_int_equal(counted(&c1.resumes), 2);
    assert_int_equal(counted(&c2.resumes), 1); /* resumed once, flags accumulate */
    assert_int_equal(hub_take(h, &w1, &changed), HUB_CHANGED);
    assert_int_equal(changed, (uint64_t)1 << 2);
    assert_int_equal(hub_take(h, &w2, &changed), HUB_CHANGED);
    assert_int_equal(changed, 3);
    hub_remove(h, &w1);
    hub_remove(h, &w2);
    hub_free(h);
}

static void test_hub_reports_the_last_of_64_keys(void **state)
{
    (void)state;
    struct hub *h = hub_new("", &fake_ops);
    struct fake_conn c = {.fd = -1};
    struct hub_waiter w;
    waiter_init(&w, &c, NEVER_MS, NULL);
    for (int i = 0; i < HUB_MAX_KEYS; i++)
        snprintf(w.keys[w.nkeys++], sizeof(w.keys[0]), "key-%d", i);
    hub_add(h, &w);
    hub_event(h, "key-63");
    uint64_t changed = 0;
    assert_int_equal(hub_take(h, &w, &changed), HUB_CHANGED);
    assert_int_equal(changed, (uint64_t)1 << 63);
    hub_remove(h, &w);
    hub_free(h);
}

static void test_hub_ticks_each_waiter_on_its_own_interval(void **state)
{
    (void)state;
    struct hub *h = hub_new("", &fake_ops);
    struct fake_conn fast = {.fd = -1}, slow = {.fd = -1};
    struct hub_waiter wf, ws;
    waiter_init(&wf, &fast, 1, NULL);
    waiter_init(&ws, &slow, NEVER_MS, NULL);
    hub_add(h, &ws);
    hub_add(h, &wf);
    assert_true(hub_suspend(h, &ws));
    assert_true(hub_suspend(h, &wf));

    assert_true(wait_resumes(&fast, 1));
    assert_int_equal(hub_take(h, &wf, NULL), HUB_TICK);
    /* The ticker looked at both in the pass that woke 'fast'. */
    assert_int_equal(counted(&slow.resumes), 0);
    assert_int_equal(hub_take(h, &ws, NULL), 0);

    /* It keeps ticking while the waiter stays registered. */
    assert_true(hub_suspend(h, &wf));
    assert_true(wait_resumes(&fast, 2));
    assert_int_equal(hub_take(h, &wf, NULL), HUB_TICK);

    hub_shutdown(h, 0); /* resumes 'slow' so the hub can be freed */
    hub_remove(h, &wf);
    hub_remove(h, &ws);
    hub_free(h);
}

static void test_hub_reports_a_client_that_hung_up(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct hub *h = hub_new("", &fake_ops);
    struct fake_conn c = {.fd = sv[0]};
    struct hub_waiter w;
    waiter_init(&w, &c, NEVER_MS, NULL);
    hub_add(h, &w);
    assert_true(hub_suspend(h, &w));

    close(sv[1]); /* the client goes away while its request is parked */
    assert_true(wait_resumes(&c, 1));
    assert_int_equal(hub_take(h, &w, NULL), HUB_GONE);
    hub_remove(h, &w);
    hub_free(h);
    close(sv[0]);
}

static void test_hub_shutdown_resumes_everyone_and_refuses_to_suspend(void **state)
{
    (void)state;
    struct hub *h = hub_new("", &fake_ops);
    struct fake_conn c = {.fd = -1}, late = {.fd = -1};
    struct hub_waiter w, wl;
    waiter_init(&w, &c, NEVER_MS, NULL);
    waiter_init(&wl, &late, NEVER_MS, NULL);
    hub_add(h, &w);
    assert_true(hub_suspend(h, &w));

    hub_shutdown(h, 0); /* no grace: returns once nothing is suspended */
    assert_int_equal(counted(&c.resumes), 1);
    assert_int_equal(hub_take(h, &w, NULL), HUB_SHUTDOWN);
    assert_false(hub_suspend(h, &w));
    assert_int_equal(hub_take(h, &w, NULL), HUB_SHUTDOWN);

    /* A request arriving after shutdown began is told at once. */
    hub_add(h, &wl);
    assert_false(hub_suspend(h, &wl));
    assert_int_equal(hub_take(h, &wl, NULL), HUB_SHUTDOWN);
    assert_int_equal(counted(&c.suspends), 1);
    assert_int_equal(counted(&late.suspends), 0);
    hub_remove(h, &w);
    hub_remove(h, &wl);
    hub_free(h);
}

/* What a request thread does when shutdown wakes it: answer and leave. */
struct leaver {
    struct hub *h;         /* the hub */
    struct hub_waiter *w;  /* the waiter to remove */
    struct fake_conn *c;   /* its connection */
    unsigned flags;        /* out: the flags it saw */
};

static void *leave_when_resumed(void *arg)
{
    struct leaver *l = arg;
    if (wait_resumes(l->c, 1))
        l->flags = hub_take(l->h, l->w, NULL);
    hub_remove(l->h, l->w);
    return NULL;
}

static void test_hub_shutdown_returns_when_the_last_waiter_leaves(void **state)
{
    (void)state;
    struct hub *h = hub_new("", &fake_ops);
    struct fake_conn c = {.fd = -1};
    struct hub_waiter w;
    waiter_init(&w, &c, NEVER_MS, NULL);
    hub_add(h, &w);
    assert_true(hub_suspend(h, &w));
    struct leaver l = {h, &w, &c, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, leave_when_resumed, &l), 0);

    int64_t start = clock_now_ms();
    hub_shutdown(h, 10 * DEADLINE_MS);
    int64_t took = clock_now_ms() - start;
    pthread_join(t, NULL);
    assert_int_equal(l.flags, HUB_SHUTDOWN);
    assert_int_equal(hub_count(h), 0);
    assert_true(took < DEADLINE_MS); /* it did not sit out the grace period */
    hub_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hub_counts_registered_waiters),
        cmocka_unit_test(test_hub_suspends_only_without_pending_flags),
        cmocka_unit_test(test_hub_wakes_only_the_waiters_of_a_key),
        cmocka_unit_test(test_hub_reports_the_last_of_64_keys),
        cmocka_unit_test(test_hub_ticks_each_waiter_on_its_own_interval),
        cmocka_unit_test(test_hub_reports_a_client_that_hung_up),
        cmocka_unit_test(test_hub_shutdown_resumes_everyone_and_refuses_to_suspend),
        cmocka_unit_test(test_hub_shutdown_returns_when_the_last_waiter_leaves),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
