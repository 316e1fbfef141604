/*
 * claims.c - claim tokens and batched creates against real PostgreSQL (run by test_claims.sh).
 *
 *   claims DSN      (a migrated, otherwise idle database: no worker may claim)
 *
 * The case a (worker, attempt) identity could not tell apart: a run parks for
 * input (which gives its attempt back), the answer queues the task again, and
 * the same worker claims it again under the same attempt number.  Every
 * write of the parked run (heartbeat, progress, input, finish, retry,
 * release) must now find nothing and change nothing, while the fresh run's
 * writes succeed.  Then an outcome that claims the next task in its commit:
 * refused, it frees no room under the owner's running cap; stored, it does.  Then tasks
 * created in one statement (store_task_create_many), and the brief read of tasks/get.
 * Prints one line per check and "N passed, M failed"; exits 1 on any
 * failure, 2 on usage or setup errors.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "taskid.h"

#define WORKER "w-claims"
#define OWNER  "claims-owner"

static int passed, failed;

static void check(bool ok, const char *what)
{
    printf("%s - %s\n", ok ? "ok  " : "FAIL", what);
    if (ok)
        passed++;
    else
        failed++;
}

/* Read task 'id' into *row (any owner); false when it cannot be read. */
static bool get(struct store *st, const char *id, struct task_row *row)
{
    struct err e = {0};
    return store_task_get(st, id, NULL, row, &e) == 0;
}

/* Create a task and claim it twice around an input round; fills both claims. */
static bool setup(struct store *st, char *id, struct task_row *first, struct task_row *second)
{
    struct err e = {0};
    struct task_row row;
    struct task_new t = {.owner = OWNER, .tool = "confirm", .args = "{}", .ttl_ms = 600000,
                         .poll_interval_ms = 1000, .max_attempts = 3};
    bool resumed = false;
    int attempt = 0;
    if (taskid_new(id) < 0 || (t.id = id, store_task_create(st, &t, &row, &e)) < 0)
        return fprintf(stderr, "claims: create: %s\n", e.msg), false;
    task_row_fini(&row);
    if (store_task_claim(st, id, WORKER, 60000, 0, first, &e) < 0 ||
        store_task_request_input(st, id, WORKER, first->claim, "{\"ok\":{}}", NULL, &e) < 0 ||
        store_task_answer(st, id, OWNER, "{\"ok\":true}", &resumed, &attempt, &e) < 0 || !resumed ||
        store_task_claim(st, id, WORKER, 60000, 0, second, &e) < 0)
        return fprintf(stderr, "claims: claim, park, answer, claim: %s\n", e.msg), false;
    return true;
}

/* Every write of the parked run 'stale' is lost and the row stays as 'before'. */
static void stale_writes_lost(struct store *st, const char *id, const char *stale)
{
    struct err e = {0};
    bool f = false;
    struct task_row before, after;
    if (!get(st, id, &before))
        return check(false, "read the task before the stale writes");
    check(store_task_heartbeat(st, id, WORKER, stale, 60000, "stale", 5, 10, "[{}]", &e) ==
              -STORE_ELOST, "a heartbeat with progress of the parked run is lost");
    check(store_task_request_input(st, id, WORKER, stale, "{\"x\":{}}", NULL, &e) == -STORE_ELOST,
          "an input request of the parked run is lost");
    check(store_task_finish(st, id, WORKER, stale, TASK_COMPLETED, "{\"content\":[]}", NULL, -1, 0,
                            NULL, &e) == -STORE_ELOST, "a finish of the parked run is lost");
    check(store_task_retry(st, id, WORKER, stale, "stale", &f, &e) == -STORE_ELOST,
          "a retry of the parked run is lost");
    check(store_task_release(st, id, WORKER, stale, &e) == -STORE_ELOST,
          "a release of the parked run is lost");
    check(store_task_finish(st, id, WORKER, "not-a-uuid", TASK_COMPLETED, "{}", NULL, -1, 0, NULL,
                            &e) == -STORE_ELOST, "a malformed token is lost, not an error");
    if (!get(st, id, &after))
        return check(false, "read the task after the stale writes");
    check(after.status == TASK_RUNNING && !after.result && !after.has_progress &&
              !after.status_message == !before.status_message &&
              strcmp(after.claim, before.claim) == 0 && strcmp(after.updated_at, before.updated_at) == 0,
          "the row is unchanged: running, no result, no progress, same claim and updated_at");
    task_row_fini(&before);
    task_row_fini(&after);
}

/* A new queued task of 'owner' into 'id'; false when it cannot be created. */
static bool create(struct store *st, const char *owner, char *id)
{
    struct err e = {0};
    struct task_row row;
    struct task_new t = {.owner = owner, .tool = "echo", .args = "{}", .ttl_ms = 600000,
                         .poll_interval_ms = 1000, .max_attempts = 3};
    if (taskid_new(id) < 0 || (t.id = id, store_task_create(st, &t, &row, &e)) < 0)
        return fprintf(stderr, "claims: create: %s\n", e.msg), false;
    task_row_fini(&row);
    return true;
}

/* An outcome that claims the slot's next task in its commit: a refused outcome writes
 * nothing and frees no room under the running cap; a stored one does. */
static void finish_claim_checks(struct store *st)
{
    static const char owner[] = "claims-capped";
    char a[TASKID_LEN + 1], b[TASKID_LEN + 1];
    struct err e = {0};
    struct task_row ra = {0}, rb = {0}, row = {0};
    bool claimed = true;
    if (!create(st, owner, a) || !create(st, owner, b) ||
        store_task_claim(st, a, WORKER, 60000, 1, &ra, &e) < 0)
        return check(false, "create two tasks of one owner and claim the first");
    struct task_outcome o = {a, WORKER, "00000000-0000-4000-8000-000000000000", TASK_COMPLETED,
                             "{\"content\":[]}", "completed", -1, 0, NULL};
    check(store_task_finish_claim(st, &o, b, 60000, 1, &rb, &claimed, &e) == -STORE_ELOST &&
              !claimed,
          "a stale outcome is refused and its running task still fills the owner's cap of 1");
    check(get(st, b, &row) && row.status == TASK_QUEUED, "so the next task stays queued");
    task_row_fini(&row);
    o.claim = ra.claim;
    check(store_task_finish_claim(st, &o, b, 60000, 1, &rb, &claimed, &e) == 0 && claimed &&
              rb.status == TASK_RUNNING && rb.attempt == 1 && rb.claim[0] &&
              strcmp(rb.worker_id, WORKER) == 0,
          "the outcome stored frees the cap: the next task is claimed in the same commit");
    check(get(st, a, &row) && row.status == TASK_COMPLETED && row.result && !row.claim[0],
          "the first task is completed with its result");
    task_row_fini(&row);
    check(store_task_finish_claim(st, &o, b, 60000, 0, &row, &claimed, &e) == -STORE_ELOST &&
              !claimed,
          "the same outcome again is refused and claims nothing (the next task runs already)");
    check(get(st, b, &row) && row.status == TASK_RUNNING && strcmp(row.claim, rb.claim) == 0,
          "the running task keeps its claim");
    task_row_fini(&row);
    task_row_fini(&ra);
    task_row_fini(&rb);
}

/* Tasks created in one statement: each gets what store_task_create() alone would give it
 * (a duplicate id its existing row, a capped owner -STORE_ELIMIT, bad arguments an error
 * of their own), and an owner's tasks queue in the order they were given. */
static void create_many_checks(struct store *st, const char *existing)
{
    enum { N = 7 };
    char ids[N][TASKID_LEN + 1];
    struct task_new t[N];
    const char *owners[N] = {"batch-a", "batch-a", "batch-a", OWNER,
                             "batch-b", "batch-c", "batch-c"};
    for (int i = 0; i < N; i++) {
        if (taskid_new(ids[i]) < 0)
            return check(false, "task ids for the batch");
        t[i] = (struct task_new){.id = ids[i],
                                 .owner = owners[i],
                                 .tool = "echo",
                                 .args = "{\"n\":1}",
                                 .ttl_ms = 600000,
                                 .poll_interval_ms = 1000,
                                 .max_attempts = 3,
                                 .max_live = 2};
    }
    t[3].id = existing; /* a retry of a create that committed: owner and tool are the first's */
    t[5].args = "{";    /* no JSON: fails its statement; t[6] is then written on its own */
    struct task_row out[N];
    int rcs[N];
    struct err errs[N] = {0};
    store_task_create_many(st, t, 5, out, rcs, errs);
    store_task_create_many(st, t + 5, 2, out + 5, rcs + 5, errs + 5);
    check(rcs[0] == 0 && rcs[1] == 0 && strcmp(out[0].id, ids[0]) == 0 &&
              strcmp(out[1].id, ids[1]) == 0 && strcmp(out[1].owner, "batch-a") == 0 &&
              out[0].status == TASK_QUEUED,
          "a batch's tasks are created, each answered with its own row");
    check(rcs[2] == -STORE_ELIMIT, "the third of one owner's tasks in a batch meets its cap of 2");
    check(rcs[3] == 0 && strcmp(out[3].id, existing) == 0 && strcmp(out[3].owner, OWNER) == 0,
          "a duplicate id in a batch reads the existing task back");
    check(rcs[4] == 0 && strcmp(out[4].owner, "batch-b") == 0, "another owner's task is created");
    check(rcs[5] == -STORE_EINVALID && errs[5].msg[0] && rcs[6] == 0,
          "arguments that are no JSON are refused, not the task beside them");
    struct task_row row;
    struct err e = {0};
    check(store_task_get(st, ids[2], NULL, &row, &e) == -STORE_ENOTFOUND &&
              store_task_get(st, ids[5], NULL, &row, &e) == -STORE_ENOTFOUND,
          "the refused tasks are not stored");
    for (int i = 0; i < N; i++)
        if (rcs[i] == 0)
            task_row_fini(&out[i]);
    /* Queued now: a0, a1, b4 and c6.  a1 is a's second task: it waits a round, so it is
     * claimed after the first task of every owner, c6 included (a later statement). */
    char order[4][TASKID_LEN + 1] = {{0}};
    for (int i = 0; i < 4; i++)
        if (store_task_claim_next(st, WORKER, 60000, 0, &row, &e) == 0) {
            memcpy(order[i], row.id, sizeof(order[i]));
            task_row_fini(&row);
        }
    check(strcmp(order[3], ids[1]) == 0,
          "an owner's second task of a batch is claimed after the first tasks of every owner");
}

/* Compare store_task_get_brief() of 'id' with store_task_get(): the same task, without the
 * arguments and the log. */
static void brief_matches(struct store *st, const char *id, const char *when)
{
    struct err e = {0};
    struct task_row full, brief;
    char what[160];
    if (!get(st, id, &full) || store_task_get_brief(st, id, OWNER, &brief, &e) < 0) {
        snprintf(what, sizeof(what), "%s: both reads of the task", when);
        return check(false, what);
    }
    bool done = full.status == TASK_COMPLETED;
    snprintf(what, sizeof(what),
             "%s: the brief read has the status, message, progress, times and trace, "
             "and no arguments or log%s", when, done ? "; the result" : " or result");
    check(brief.status == full.status && strcmp(brief.id, full.id) == 0 && full.args &&
              !brief.args && full.log && !brief.log && !brief.client_caps &&
              strcmp(brief.status_message ? brief.status_message : "",
                     full.status_message ? full.status_message : "") == 0 &&
              brief.progress == full.progress && brief.progress_total == full.progress_total &&
              strcmp(brief.created_at, full.created_at) == 0 &&
              strcmp(brief.updated_at, full.updated_at) == 0 && brief.ttl_ms == full.ttl_ms &&
              strcmp(brief.trace ? brief.trace : "", full.trace ? full.trace : "") == 0 &&
              (done ? brief.result && strcmp(brief.result, full.result) == 0 : !brief.result),
          what);
    task_row_fini(&full);
    task_row_fini(&brief);
}

/* tasks/get's read (store_task_get_brief) of a task with large arguments and a log. */
static void brief_checks(struct store *st)
{
    static char args[8200];
    char id[TASKID_LEN + 1];
    struct err e = {0};
    struct task_row row, claimed;
    int n = snprintf(args, sizeof(args), "{\"text\":\"");
    memset(args + n, 'x', 8000);
    strcpy(args + n + 8000, "\"}");
    struct task_new t = {.owner = OWNER, .tool = "echo", .args = args, .ttl_ms = 600000,
                         .poll_interval_ms = 1000, .max_attempts = 1,
                         .trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"};
    if (taskid_new(id) < 0 || (t.id = id, store_task_create(st, &t, &row, &e)) < 0)
        return check(false, "create a task with 8 KB of arguments");
    task_row_fini(&row);
    if (store_task_claim(st, id, WORKER, 60000, 0, &claimed, &e) < 0 ||
        store_task_heartbeat(st, id, WORKER, claimed.claim, 60000, "halfway", 1, 2,
                             "[{\"level\":\"info\",\"data\":\"hello\"}]", &e) < 0)
        return check(false, "claim it and log a message");
    brief_matches(st, id, "running");
    check(store_task_finish(st, id, WORKER, claimed.claim, TASK_COMPLETED,
                            "{\"content\":[{\"type\":\"text\",\"text\":\"done\"}]}", NULL,
                            2, 2, NULL, &e) == 0, "finish it");
    brief_matches(st, id, "completed");
    check(store_task_get_brief(st, id, "someone-else", &row, &e) == -STORE_ENOTFOUND &&
              store_task_get_brief(st, "not-a-task", OWNER, &row, &e) == -STORE_ENOTFOUND,
          "the brief read of another owner's task or of a malformed id finds nothing");
    task_row_fini(&claimed);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return fprintf(stderr, "usage: claims DSN\n"), 2;
    struct store *st = store_new(argv[1], "taskwire-claims-test");
    char id[TASKID_LEN + 1];
    struct task_row first, second, row;
    if (!st || !setup(st, id, &first, &second))
        return 2;
    check(first.attempt == second.attempt, "the second claim has the first one's attempt number");
    check(first.claim[0] && second.claim[0] && strcmp(first.claim, second.claim) != 0,
          "each claim has its own token");
    stale_writes_lost(st, id, first.claim);
    struct err e = {0};
    check(store_task_heartbeat(st, id, WORKER, second.claim, 60000, "fresh", 1, 2, NULL, &e) == 0,
          "the fresh run's heartbeat is written");
    check(store_task_finish(st, id, WORKER, second.claim, TASK_COMPLETED, "{\"content\":[]}", NULL,
                            2, 2, NULL, &e) == 0, "the fresh run's finish is written");
    check(get(st, id, &row) && row.status == TASK_COMPLETED && row.claim[0] == '\0',
          "completed, and the claim is cleared");
    check(store_task_finish(st, id, WORKER, second.claim, TASK_FAILED, "{\"code\":1}", NULL, -1, 0,
                            NULL, &e) == -STORE_ELOST, "a second finish of the fresh run is lost");
    task_row_fini(&row);
    task_row_fini(&first);
    task_row_fini(&second);
    finish_claim_checks(st);
    create_many_checks(st, id);
    brief_checks(st);
    store_free(st);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
