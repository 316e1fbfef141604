/*
 * fakepq.c - a scripted stand-in for libpq behind the store seam.
 *
 * Fixed tables, no threads: enough for unit tests, and it aborts loudly
 * (rather than growing) when a test scripts more than the tables hold.
 * Results are made with PQmakeEmptyPGresult(); what libpq cannot set on
 * such a result (SQLSTATE, message, affected count) is kept in 'live'.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fakepq.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKEPQ_MAX_STMTS   48 /* distinct statement names and exec texts */
#define FAKEPQ_MAX_REPLIES 16 /* scripted replies waiting per statement */
#define FAKEPQ_MAX_LIVE    64 /* results handed out and not cleared */

enum reply_kind {
    REPLY_ROWS,     /* 'rows' as given */
    REPLY_AFFECTED, /* PGRES_COMMAND_OK, 'affected' rows */
    REPLY_ERROR,    /* PGRES_FATAL_ERROR with 'sqlstate' and 'message' */
    REPLY_DROP,     /* the connection breaks */
};

struct reply {
    enum reply_kind kind; /* what to answer */
    PGresult *rows;       /* REPLY_ROWS: owned until handed out */
    int affected;         /* REPLY_AFFECTED */
    bool has_state;       /* REPLY_ERROR: 'sqlstate' is set */
    char sqlstate[6];     /* REPLY_ERROR */
    char message[160];    /* REPLY_ERROR */
};

struct stmt {
    char name[128];                     /* STORE_STMT_* name, or the SQL text of an exec() */
    struct reply q[FAKEPQ_MAX_REPLIES]; /* scripted replies, a ring */
    int head, count;                    /* ring position and fill */
    int execs;                          /* executions so far */
    char *params[FAKEPQ_MAX_PARAMS];    /* parameters of the last execution (own copies) */
    int nparams;                        /* how many of them were sent */
    fakepq_serve_fn *serve;             /* answers executions with nothing scripted, or NULL */
    void *serve_arg;                    /* its argument */
    bool fail_prepare;                  /* the next prepare of this name fails */
};

/* What libpq cannot store on an in-memory result. */
struct live {
    PGresult *r;       /* handed out, not cleared; NULL: free slot */
    bool has_state;    /* 'sqlstate' is set */
    char sqlstate[6];  /* PG_DIAG_SQLSTATE */
    char message[160]; /* PQresultErrorMessage */
    char cmd[24];      /* PQcmdTuples */
};

struct fake_conn {
    bool broken; /* status is CONNECTION_BAD */
};

static struct stmt stmts[FAKEPQ_MAX_STMTS];
static int nstmts;
static struct live live[FAKEPQ_MAX_LIVE];
static int connects, open_conns, prepares, unscripted, fail_connects, execs_prepared;

static void fake_abort(const char *why)
{
    fprintf(stderr, "fakepq: %s\n", why);
    abort();
}

static struct stmt *find(const char *name)
{
    for (int i = 0; i < nstmts; i++)
        if (strcmp(stmts[i].name, name) == 0)
            return &stmts[i];
    return NULL;
}

static struct stmt *find_or_add(const char *name)
{
    struct stmt *s = find(name);

    if (s)
        return s;
    if (nstmts == FAKEPQ_MAX_STMTS || strlen(name) >= sizeof(s->name))
        fake_abort("too many statement names, or one too long");
    s = &stmts[nstmts++];
    snprintf(s->name, sizeof(s->name), "%s", name);
    return s;
}

static struct reply *push(const char *name, enum reply_kind kind)
{
    struct stmt *s = find_or_add(name);
    struct reply *r;

    if (s->count == FAKEPQ_MAX_REPLIES)
        fake_abort("too many replies scripted for one statement");
    r = &s->q[(s->head + s->count++) % FAKEPQ_MAX_REPLIES];
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    return r;
}

/* Register 'r' as handed out, with its side data. */
static PGresult *hand_out(PGresult *r, const char *state, const char *message, long cmd)
{
    for (int i = 0; i < FAKEPQ_MAX_LIVE; i++) {
        if (live[i].r)
            continue;
        memset(&live[i], 0, sizeof(live[i]));
        live[i].r = r;
        live[i].has_state = state != NULL;
        snprintf(live[i].sqlstate, sizeof(live[i].sqlstate), "%s", state ? state : "");
        snprintf(live[i].message, sizeof(live[i].message), "%s", message ? message : "");
        if (cmd >= 0)
            snprintf(live[i].cmd, sizeof(live[i].cmd), "%ld", cmd);
        return r;
    }
    fake_abort("too many results not cleared");
    return NULL;
}

static struct live *lookup(const PGresult *r)
{
    for (int i = 0; r && i < FAKEPQ_MAX_LIVE; i++)
        if (live[i].r == r)
            return &live[i];
    return NULL;
}

static PGresult *empty(ExecStatusType status)
{
    PGresult *r = PQmakeEmptyPGresult(NULL, status);

    if (!r)
        fake_abort("out of memory");
    return r;
}

/* The result for one execution of 'name' on 'c'. */
static PGresult *answer(struct fake_conn *c, const char *name, bool scripted_only)
{
    struct stmt *s = find_or_add(name);
    struct reply r;

    s->execs++;
    if (c->broken)
        return hand_out(empty(PGRES_FATAL_ERROR), NULL, "no connection to the server\n", -1);
    if (s->count == 0 && scripted_only && s->serve) {
        PGresult *served =
            s->serve(s->serve_arg, s->name, s->nparams, (const char *const *)s->params);
        if (!served || PQresultStatus(served) != PGRES_TUPLES_OK)
            fake_abort("a serve function must return a PGRES_TUPLES_OK result");
        return hand_out(served, NULL, NULL, PQntuples(served));
    }
    if (s->count == 0) {
        if (scripted_only) {
            unscripted++;
            return hand_out(empty(PGRES_FATAL_ERROR), "XX000", "fakepq: nothing scripted\n", -1);
        }
        return hand_out(empty(strncmp(name, "SELECT", 6) == 0 ? PGRES_TUPLES_OK : PGRES_COMMAND_OK),
                        NULL, NULL, 0);
    }
    r = s->q[s->head];
    s->head = (s->head + 1) % FAKEPQ_MAX_REPLIES;
    s->count--;
    switch (r.kind) {
    case REPLY_ROWS:
        return hand_out(r.rows, NULL, NULL, PQntuples(r.rows));
    case REPLY_AFFECTED:
        return hand_out(empty(PGRES_COMMAND_OK), NULL, NULL, r.affected);
    case REPLY_ERROR:
        return hand_out(empty(PGRES_FATAL_ERROR), r.has_state ? r.sqlstate : NULL, r.message, -1);
    case REPLY_DROP:
        c->broken = true;
        return hand_out(empty(PGRES_FATAL_ERROR), NULL,
                        "server closed the connection unexpectedly\n", -1);
    }
    return NULL;
}

/* ---- the ops ---- */

static PGconn *fake_connect(const char *const *keywords, const char *const *values,
                            int expand_dbname)
{
    struct fake_conn *c = calloc(1, sizeof(*c));

    (void)keywords;
    (void)values;
    (void)expand_dbname;
    if (!c)
        fake_abort("out of memory");
    connects++;
    open_conns++;
    if (fail_connects > 0) {
        fail_connects--;
        c->broken = true;
    }
    return (PGconn *)c;
}

static ConnStatusType fake_status(const PGconn *conn)
{
    return !conn || ((const struct fake_conn *)conn)->broken ? CONNECTION_BAD : CONNECTION_OK;
}

static char *fake_error_message(const PGconn *conn)
{
    (void)conn;
    return (char *)"fakepq: connection refused\nsecond line\n";
}

static void fake_finish(PGconn *conn)
{
    if (!conn)
        return;
    open_conns--;
    free(conn);
}

static PGresult *fake_exec(PGconn *conn, const char *sql)
{
    return answer((struct fake_conn *)conn, sql, false);
}

static PGresult *fake_prepare(PGconn *conn, const char *name, const char *sql, int nparams,
                              const Oid *types)
{
    struct stmt *s = find_or_add(name);

    (void)conn;
    (void)sql;
    (void)nparams;
    (void)types;
    prepares++;
    if (s->fail_prepare) {
        s->fail_prepare = false;
        return hand_out(empty(PGRES_FATAL_ERROR), "42P01",
                        "relation \"tasks\" does not exist\nLINE 1: ...\n", -1);
    }
    return hand_out(empty(PGRES_COMMAND_OK), NULL, NULL, 0);
}

static PGresult *fake_exec_prepared(PGconn *conn, const char *name, int nparams,
                                    const char *const *values, const int *lengths,
                                    const int *formats, int result_format)
{
    struct stmt *s = find_or_add(name);

    (void)lengths;
    (void)formats;
    (void)result_format;
    if (nparams > FAKEPQ_MAX_PARAMS)
        fake_abort("too many parameters");
    execs_prepared++;
    s->nparams = nparams;
    for (int i = 0; i < FAKEPQ_MAX_PARAMS; i++) {
        free(s->params[i]);
        s->params[i] = i < nparams && values[i] ? strdup(values[i]) : NULL;
    }
    return answer((struct fake_conn *)conn, name, true);
}

static char *fake_error_field(const PGresult *r, int field)
{
    struct live *l = lookup(r);

    if (field != PG_DIAG_SQLSTATE || !l || !l->has_state)
        return NULL;
    return l->sqlstate;
}

static char *fake_error_message_of(const PGresult *r)
{
    struct live *l = lookup(r);

    return l ? l->message : (char *)"";
}

static char *fake_cmd_tuples(PGresult *r)
{
    struct live *l = lookup(r);

    return l ? l->cmd : (char *)"";
}

static void fake_clear(PGresult *r)
{
    struct live *l = lookup(r);

    if (r && !l)
        fake_abort("clear of a result the fake did not hand out (or cleared twice)");
    if (l)
        l->r = NULL;
    PQclear(r);
}

const struct store_pq_ops fakepq_ops = {
    .connect = fake_connect,
    .status = fake_status,
    .error_message = fake_error_message,
    .finish = fake_finish,
    .exec = fake_exec,
    .prepare = fake_prepare,
    .exec_prepared = fake_exec_prepared,
    .result_status = PQresultStatus,
    .result_error_field = fake_error_field,
    .result_error_message = fake_error_message_of,
    .cmd_tuples = fake_cmd_tuples,
    .clear = fake_clear,
};

/* ---- scripting and observing ---- */

void fakepq_reset(void)
{
    for (int i = 0; i < nstmts; i++) {
        struct stmt *s = &stmts[i];
        for (int k = 0; k < s->count; k++) {
            struct reply *r = &s->q[(s->head + k) % FAKEPQ_MAX_REPLIES];
            if (r->kind == REPLY_ROWS)
                PQclear(r->rows);
        }
        for (int k = 0; k < FAKEPQ_MAX_PARAMS; k++)
            free(s->params[k]);
    }
    memset(stmts, 0, sizeof(stmts));
    nstmts = 0;
    connects = prepares = unscripted = fail_connects = execs_prepared = 0;
}

void fakepq_reply_rows(const char *stmt, PGresult *rows)
{
    if (!rows || PQresultStatus(rows) != PGRES_TUPLES_OK)
        fake_abort("reply_rows needs a PGRES_TUPLES_OK result");
    push(stmt, REPLY_ROWS)->rows = rows;
}

void fakepq_reply_tasks(const char *stmt, const struct task_row *rows, int n)
{
    fakepq_reply_rows(stmt, store_row_result(STORE_ROW_TASK, rows, n));
}

PGresult *fakepq_rows(int ncols, int nrows, const char *const *values)
{
    PGresAttDesc attrs[FAKEPQ_MAX_PARAMS];
    PGresult *r = empty(PGRES_TUPLES_OK);

    if (ncols < 1 || ncols > FAKEPQ_MAX_PARAMS || nrows < 0)
        fake_abort("fakepq_rows takes 1 to FAKEPQ_MAX_PARAMS columns");
    for (int i = 0; i < ncols; i++)
        attrs[i] = (PGresAttDesc){.name = (char *)"value", .typlen = -1};
    if (!PQsetResultAttrs(r, ncols, attrs))
        fake_abort("out of memory");
    for (int row = 0; row < nrows; row++)
        for (int i = 0; i < ncols; i++) {
            const char *v = values[row * ncols + i];
            if (!PQsetvalue(r, row, i, (char *)v, v ? (int)strlen(v) : -1))
                fake_abort("out of memory");
        }
    return r;
}

void fakepq_reply_row(const char *stmt, int n, const char *const *values)
{
    if (n < 1 || n > FAKEPQ_MAX_PARAMS)
        fake_abort("reply_row takes 1 to FAKEPQ_MAX_PARAMS columns");
    fakepq_reply_rows(stmt, fakepq_rows(n, 1, values));
}

void fakepq_reply_value(const char *stmt, const char *value)
{
    fakepq_reply_row(stmt, 1, &value);
}

void fakepq_reply_affected(const char *stmt, int n)
{
    push(stmt, REPLY_AFFECTED)->affected = n;
}

void fakepq_reply_error(const char *stmt, const char *sqlstate, const char *message)
{
    struct reply *r = push(stmt, REPLY_ERROR);

    r->has_state = sqlstate != NULL;
    snprintf(r->sqlstate, sizeof(r->sqlstate), "%s", sqlstate ? sqlstate : "");
    snprintf(r->message, sizeof(r->message), "%s",
             message ? message : "ERROR:  fakepq scripted failure\nDETAIL:  second line\n");
}

void fakepq_reply_drop(const char *stmt)
{
    push(stmt, REPLY_DROP);
}

void fakepq_serve(const char *stmt, fakepq_serve_fn *fn, void *arg)
{
    struct stmt *s = find_or_add(stmt);

    s->serve = fn;
    s->serve_arg = arg;
}

void fakepq_fail_connects(int n)
{
    fail_connects = n;
}

void fakepq_fail_prepare(const char *stmt)
{
    find_or_add(stmt)->fail_prepare = true;
}

int fakepq_connects(void)
{
    return connects;
}

int fakepq_open_conns(void)
{
    return open_conns;
}

int fakepq_prepares(void)
{
    return prepares;
}

int fakepq_execs(const char *stmt)
{
    struct stmt *s = find(stmt);

    return s ? s->execs : 0;
}

int fakepq_execs_prepared(void)
{
    return execs_prepared;
}

int fakepq_nparams(const char *stmt)
{
    struct stmt *s = find(stmt);

    return s ? s->nparams : 0;
}

const char *fakepq_param(const char *stmt, int i)
{
    struct stmt *s = find(stmt);

    return s && i >= 0 && i < FAKEPQ_MAX_PARAMS ? s->params[i] : NULL;
}

int fakepq_live_results(void)
{
    int n = 0;

    for (int i = 0; i < FAKEPQ_MAX_LIVE; i++)
        n += live[i].r != NULL;
    return n;
}

int fakepq_unscripted(void)
{
    return unscripted;
}

int fakepq_pending(void)
{
    int n = 0;

    for (int i = 0; i < nstmts; i++)
        n += stmts[i].count;
    return n;
}
