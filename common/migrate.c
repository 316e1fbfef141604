/*
 * migrate.c - apply the embedded SQL migrations (proto/sql) with libpq.
 *
 * One session holds the advisory lock MIGRATE_LOCK_KEY for the whole run, so
 * concurrent runners queue up (polling, never blocked inside a statement) and
 * the later ones find nothing to do.  Each migration commits together with
 * its schema_migrations row.  Nothing here creates databases or roles, and
 * nothing is ever rolled back once committed.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "migrate.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "migrations.h"

#define MIGRATE_LOCK_KEY          INT64_C(0x7461736b77697265) /* "taskwire" in ASCII */
#define MIGRATE_CONNECT_TIMEOUT_S "10" /* when neither the DSN nor PGCONNECT_TIMEOUT says */
#define MIGRATE_NO_TX_MARK        "-- no-transaction"
#define MIGRATE_LOCK_WAIT_MS      60000 /* how long a runner waits for another to finish */
#define MIGRATE_LOCK_POLL_MS      100   /* between tries of the lock */

/* What schema_migrations says about one version. */
struct applied {
    int version;     /* schema_migrations.version */
    char sha256[65]; /* schema_migrations.sha256, truncated to 64 characters */
};

/* Copy the first line of 'msg' (libpq messages end in "\n" and may have
 * DETAIL/HINT lines) into 'out'. */
static void first_line(const char *msg, char *out, size_t size)
{
    size_t n = strcspn(msg ? msg : "", "\r\n");
    if (n >= size)
        n = size - 1;
    memcpy(out, msg ? msg : "", n);
    out[n] = '\0';
}

/* The primary message of a failed result, else the connection's message. */
static void pg_error_line(PGconn *conn, const PGresult *res, char *out, size_t size)
{
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    first_line(primary ? primary : PQerrorMessage(conn), out, size);
    if (out[0] == '\0')
        snprintf(out, size, "unknown error");
}

/* Map a failure to -MIGRATE_ECONNECT when the session is gone, else to 'code'. */
static int pg_fail(PGconn *conn, const PGresult *res, int code, struct err *err, const char *what)
{
    char line[200];
    pg_error_line(conn, res, line, sizeof(line));
    if (PQstatus(conn) == CONNECTION_BAD)
        return err_set(err, -MIGRATE_ECONNECT, "lost the database connection during %s: %s", what,
                       line);
    return err_set(err, code, "%s: %s", what, line);
}

/* Run one command that returns no rows we need; 0 or -MIGRATE_ESQL/-MIGRATE_ECONNECT. */
static int exec_simple(PGconn *conn, const char *sql, const char *what, struct err *err)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = pg_fail(conn, res, -MIGRATE_ESQL, err, what);
    PQclear(res);
    return rc;
}

/* Best effort: leave an aborted or open transaction before unlocking. */
static void exec_quiet(PGconn *conn, const char *sql)
{
    PQclear(PQexec(conn, sql));
}

/* Drop libpq notices (NOTICE is already suppressed by client_min_messages;
 * WARNINGs from migrations go to stderr as one line). */
static void notice_to_stderr(void *arg, const char *message)
{
    char line[256];
    (void)arg;
    first_line(message, line, sizeof(line));
    fprintf(stderr, "migrate: %s\n", line);
}

static bool sql_ident_char(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Index just past the block comment opening at s[i] ("/" "*"); they nest in PostgreSQL. */
static size_t skip_block_comment(const char *s, size_t i)
{
    int depth = 1;
    i += 2;
    while (s[i] && depth > 0) {
        if (s[i] == '/' && s[i + 1] == '*') {
            depth++;
            i += 2;
        } else if (s[i] == '*' && s[i + 1] == '/') {
            depth--;
            i += 2;
        } else {
            i++;
        }
    }
    return i;
}

/* Index just past the string (') or quoted identifier (") opening at s[i]; doubled
 * quotes stay inside, and so do backslash escapes in E'...' strings. */
static size_t skip_quoted(const char *s, size_t i)
{
    char c = s[i];
    bool backslash = c == '\'' && i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e');
    i++;
    while (s[i]) {
        if (backslash && s[i] == '\\' && s[i + 1]) {
            i += 2;
        } else if (s[i] == c && s[i + 1] == c) {
            i += 2; /* doubled quote */
        } else if (s[i] == c) {
            return i + 1;
        } else {
            i++;
        }
    }
    return i;
}

/* Index just past the $tag$ ... $tag$ string opening at s[i] ('$'; the tag is empty or
 * an identifier), strlen(s) when it is unterminated, or 0 when s[i] opens none. */
static size_t skip_dollar_quote(const char *s, size_t i)
{
    if (i > 0 && sql_ident_char(s[i - 1]))
        return 0; /* part of an identifier or a parameter like $1 after a name */
    size_t j = i + 1;
    while (sql_ident_char(s[j]) && !(j == i + 1 && s[j] >= '0' && s[j] <= '9'))
        j++;
    if (s[j] != '$')
        return 0;
    size_t tag_len = j - i + 1;
    const char *p = s + j + 1;
    while ((p = strchr(p, '$')) != NULL && strncmp(p, s + i, tag_len) != 0)
        p++;
    if (!p)
        return strlen(s); /* unterminated: let the server complain */
    return (size_t)(p - s) + tag_len;
}

/*
 * Length of the next SQL statement in 's' (up to and including its ';', or to
 * the end), skipping over quotes, quoted identifiers, dollar quotes and
 * comments so that a ';' inside them does not split.  Used only for
 * "-- no-transaction" files, because PostgreSQL runs a multi-statement query
 * string as one implicit transaction, which CREATE INDEX CONCURRENTLY refuses.
 */
static size_t sql_statement_len(const char *s)
{
    size_t i = 0, next;
    while (s[i]) {
        char c = s[i];
        if (c == ';')
            return i + 1;
        if (c == '-' && s[i + 1] == '-')
            i += strcspn(s + i, "\n");
        else if (c == '/' && s[i + 1] == '*')
            i = skip_block_comment(s, i);
        else if (c == '\'' || c == '"')
            i = skip_quoted(s, i);
        else if (c == '$' && (next = skip_dollar_quote(s, i)) != 0)
            i = next;
        else
            i++;
    }
    return i;
}

/* True when 's' holds only whitespace and comments. */
static bool sql_is_blank(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == ';') {
            i++;
        } else if (s[i] == '-' && i + 1 < n && s[i + 1] == '-') {
            while (i < n && s[i] != '\n')
                i++;
        } else if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
            const char *end = strstr(s + i + 2, "*/");
            if (!end || (size_t)(end - s) + 2 > n)
                return false;
            i = (size_t)(end - s) + 2;
        } else {
            return false;
        }
    }
    return true;
}

/* Run 'sql' one statement at a time, outside any transaction block. */
static int exec_each_statement(PGconn *conn, const struct migration *m, struct err *err)
{
    const char *s = m->sql;
    char what[96];
    snprintf(what, sizeof(what), "migration %04d_%s", m->version, m->name);
    while (*s) {
        size_t n = sql_statement_len(s);
        if (!sql_is_blank(s, n)) {
            char *stmt = strndup(s, n);
            if (!stmt)
                return err_set(err, -MIGRATE_ESQL, "%s: out of memory", what);
            int rc = exec_simple(conn, stmt, what, err);
            free(stmt);
            if (rc < 0)
                return rc;
        }
        s += n;
    }
    return 0;
}

/* Read every schema_migrations row, ordered by version, into a new array. */
static int read_applied(PGconn *conn, struct applied **out, int *count, struct err *err)
{
    PGresult *res = PQexec(conn, "SELECT version, sha256 FROM schema_migrations ORDER BY version");
    int rc = 0;
    *out = NULL;
    *count = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = pg_fail(conn, res, -MIGRATE_ESQL, err, "reading schema_migrations");
        goto out_clear;
    }
    int rows = PQntuples(res);
    if (rows > 0) {
        *out = calloc((size_t)rows, sizeof(**out));
        if (!*out) {
            rc = err_set(err, -MIGRATE_ESQL, "reading schema_migrations: out of memory");
            goto out_clear;
        }
    }
    for (int i = 0; i < rows; i++) {
        (*out)[i].version = atoi(PQgetvalue(res, i, 0));
        snprintf((*out)[i].sha256, sizeof((*out)[i].sha256), "%s", PQgetvalue(res, i, 1));
    }
    *count = rows;
out_clear:
    PQclear(res);
    return rc;
}

static const struct applied *find_applied(const struct applied *a, int n, int version)
{
    for (int i = 0; i < n; i++)
        if (a[i].version == version)
            return &a[i];
    return NULL;
}

static const struct migration *find_embedded(int version)
{
    for (unsigned i = 0; i < migrations_count; i++)
        if (migrations_all[i].version == version)
            return &migrations_all[i];
    return NULL;
}

/* Refuse history this binary cannot vouch for: unknown versions or changed files. */
static int check_history(const struct applied *a, int n, struct err *err)
{
    int max_embedded = 0;
    for (unsigned i = 0; i < migrations_count; i++)
        if (migrations_all[i].version > max_embedded)
            max_embedded = migrations_all[i].version;

    for (int i = 0; i < n; i++) {
        const struct migration *m = find_embedded(a[i].version);
        if (!m) {
            if (a[i].version > max_embedded)
                return err_set(err, -MIGRATE_EFUTURE,
                               "database has migration %d but this binary knows only up to %d; "
                               "run a newer taskwire",
                               a[i].version, max_embedded);
            return err_set(err, -MIGRATE_EFUTURE,
                           "database has migration %d, which this binary does not contain",
                           a[i].version);
        }
        char sha[65];
        migration_sha256(m, sha);
        if (strcmp(sha, a[i].sha256) != 0)
            return err_set(err, -MIGRATE_ECHECKSUM,
                           "migration %d (%s) was changed after it was applied: database has "
                           "sha256 %.12s, binary has %.12s",
                           m->version, m->name, a[i].sha256, sha);
    }
    return 0;
}

/* True when the first line of the file is exactly "-- no-transaction". */
static bool wants_no_transaction(const struct migration *m)
{
    size_t k = strlen(MIGRATE_NO_TX_MARK);
    if (m->sql_len < k || strncmp(m->sql, MIGRATE_NO_TX_MARK, k) != 0)
        return false;
    return m->sql[k] == '\0' || m->sql[k] == '\n' || (m->sql[k] == '\r' && m->sql[k + 1] == '\n');
}

/* Apply one migration and record it; on failure roll back what can be. */
static int apply_one(PGconn *conn, const struct migration *m, struct err *err)
{
    char what[96];
    char sha[65];
    char version[16];
    bool tx = !wants_no_transaction(m);
    int rc;

    snprintf(what, sizeof(what), "migration %04d_%s", m->version, m->name);
    migration_sha256(m, sha);
    snprintf(version, sizeof(version), "%d", m->version);

    if (tx) {
        rc = exec_simple(conn, "BEGIN", what, err);
        if (rc < 0)
            return rc;
        rc = exec_simple(conn, m->sql, what, err);
    } else {
        rc = exec_each_statement(conn, m, err);
    }
    if (rc < 0)
        goto out_rollback;

    const char *params[3] = {version, m->name, sha};
    PGresult *res = PQexecParams(conn,
                                 "INSERT INTO schema_migrations (version, name, sha256) "
                                 "VALUES ($1::int, $2, $3)",
                                 3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = pg_fail(conn, res, -MIGRATE_ESQL, err, what);
    PQclear(res);
    if (rc < 0)
        goto out_rollback;

    if (tx) {
        rc = exec_simple(conn, "COMMIT", what, err);
        if (rc < 0)
            goto out_rollback;
    }
    return 0;

out_rollback:
    if (tx)
        exec_quiet(conn, "ROLLBACK");
    return rc;
}

/*
 * Connect for a run (a 10 s connect timeout and an application name unless
 * the environment gives them; a dbname holding a conninfo string overrides
 * both), send notices to stderr, and make lock waits give up after 60 s.
 * Returns 0 with *out open, or -MIGRATE_ECONNECT / -MIGRATE_ESQL.
 */
static int open_session(const char *dsn, PGconn **out, struct err *err)
{
    const char *keys[4], *vals[4];
    int nk = 0, rc;

    /* Defaults first: a dbname holding a conninfo string is expanded in place, so
     * its keywords (and then the environment) override these. */
    if (!getenv("PGCONNECT_TIMEOUT")) {
        keys[nk] = "connect_timeout";
        vals[nk++] = MIGRATE_CONNECT_TIMEOUT_S;
    }
    if (!getenv("PGAPPNAME")) {
        keys[nk] = "application_name";
        vals[nk++] = "taskwire-migrate";
    }
    keys[nk] = "dbname";
    vals[nk++] = dsn ? dsn : "";
    keys[nk] = NULL;
    vals[nk] = NULL;

    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (!conn)
        return err_set(err, -MIGRATE_ECONNECT, "cannot connect to PostgreSQL: out of memory");
    if (PQstatus(conn) != CONNECTION_OK) {
        char line[200];
        first_line(PQerrorMessage(conn), line, sizeof(line));
        rc = err_set(err, -MIGRATE_ECONNECT, "cannot connect to PostgreSQL: %s", line);
        goto out_finish;
    }
    PQsetNoticeProcessor(conn, notice_to_stderr, NULL);
    rc = exec_simple(conn, "SET lock_timeout = '60s'", "setting lock_timeout", err);
    if (rc == 0)
        rc = exec_simple(conn, "SET client_min_messages = warning", "setting client_min_messages",
                         err);
    if (rc < 0)
        goto out_finish;
    *out = conn;
    return 0;

out_finish:
    PQfinish(conn);
    return rc;
}

/*
 * Take the migration advisory lock, asking again every MIGRATE_LOCK_POLL_MS
 * for up to MIGRATE_LOCK_WAIT_MS.  Not pg_advisory_lock(): a runner blocked
 * inside that statement holds a snapshot, and CREATE INDEX CONCURRENTLY in
 * the runner that holds the lock waits for every older snapshot to go away,
 * which PostgreSQL reports as a deadlock.  Between tries this session is idle.
 */
static int take_lock(PGconn *conn, struct err *err)
{
    char sql[128];
    int64_t deadline = clock_now_ms() + MIGRATE_LOCK_WAIT_MS;
    snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_lock(%" PRId64 ")", MIGRATE_LOCK_KEY);
    for (;;) {
        PGresult *res = PQexec(conn, sql);
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
            int rc = pg_fail(conn, res, -MIGRATE_ESQL, err, "taking the migration lock");
            PQclear(res);
            return rc;
        }
        bool got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
        if (got)
            return 0;
        if (clock_now_ms() >= deadline)
            return err_set(err, -MIGRATE_ESQL,
                           "taking the migration lock: another runner held it for %d s",
                           MIGRATE_LOCK_WAIT_MS / 1000);
        clock_sleep_ms(MIGRATE_LOCK_POLL_MS);
    }
}

/* Apply each embedded migration missing from 'rows', in version order, counting
 * them in *done; stops at the first failure (that one rolled back). */
static int apply_missing(PGconn *conn, const struct applied *rows, int nrows, int *done,
                         struct err *err)
{
    for (unsigned i = 0; i < migrations_count; i++) {
        const struct migration *m = &migrations_all[i];
        if (find_applied(rows, nrows, m->version))
            continue;
        int rc = apply_one(conn, m, err);
        if (rc < 0)
            return rc;
        (*done)++;
    }
    return 0;
}

/*
 * Connect with libpq 'dsn' ("" or NULL: PG* environment variables only), take
 * the migration advisory lock, create schema_migrations if needed, refuse
 * changed (-MIGRATE_ECHECKSUM) or unknown (-MIGRATE_EFUTURE) history, then
 * apply each missing migration in version order, each in its own transaction
 * unless its first line is "-- no-transaction".
 *
 * Returns 0 and the number applied in *applied (may be NULL), or
 * -MIGRATE_ECONNECT, -MIGRATE_ECHECKSUM, -MIGRATE_ESQL (the failing migration
 * was rolled back; earlier ones stay committed), -MIGRATE_EFUTURE, with 'err'
 * set.  A connect timeout of 10 s applies unless the DSN or PGCONNECT_TIMEOUT
 * gives one.  Lock waits (including for another runner) give up after 60 s.
 * Safe to call from many processes at once; each call uses its own connection.
 */
int migrate_run(const char *dsn, int *applied, struct err *err)
{
    struct applied *rows = NULL;
    int nrows = 0, done = 0, rc;
    char sql[128];
    PGconn *conn = NULL;

    if (applied)
        *applied = 0;
    rc = open_session(dsn, &conn, err);
    if (rc < 0)
        return rc;
    rc = take_lock(conn, err);
    if (rc < 0)
        goto out_finish;

    rc = exec_simple(conn,
                     "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version int PRIMARY KEY,"
                     " name text NOT NULL,"
                     " sha256 text NOT NULL,"
                     " applied_at timestamptz NOT NULL DEFAULT now())",
                     "creating schema_migrations", err);
    if (rc < 0)
        goto out_unlock;
    rc = read_applied(conn, &rows, &nrows, err);
    if (rc < 0)
        goto out_unlock;
    rc = check_history(rows, nrows, err);
    if (rc == 0)
        rc = apply_missing(conn, rows, nrows, &done, err);
    if (applied)
        *applied = done;
    free(rows);
out_unlock:
    if (PQstatus(conn) == CONNECTION_OK) {
        snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%" PRId64 ")", MIGRATE_LOCK_KEY);
        exec_quiet(conn, sql);
    }
out_finish:
    PQfinish(conn);
    return rc;
}
