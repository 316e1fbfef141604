/*
 * store_row.c - decode (and, for tests, encode) task rows by the column lists.
 *
 * Each shape's table is generated from its X-macro in store_row.h, the same
 * list that writes the SQL, so a column's position, its SQL and the field it
 * fills are stated once.  Reads are defensive: a result of the wrong width is
 * refused rather than read at the wrong positions.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "store_row.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One column of a shape. */
struct column {
    const char *name;         /* result column name (as in-memory results carry it) */
    enum store_col_kind kind; /* how its text is read */
    size_t offset;            /* of the field in struct task_row */
    size_t size;              /* of that field (the capacity of STORE_COL_FIXED arrays) */
};

#define COLUMN_(pos, col_name, sql, col_kind, field)                                               \
    [pos] = {.name = col_name,                                                                     \
             .kind = col_kind,                                                                     \
             .offset = offsetof(struct task_row, field),                                           \
             .size = sizeof(((struct task_row *)0)->field)},

static const struct column task_columns[STORE_TASK_NCOLS] = {STORE_TASK_COLUMNS(COLUMN_, COLUMN_)};
static const struct column dispatch_columns[STORE_DISPATCH_NCOLS] = {
    STORE_DISPATCH_COLUMNS(COLUMN_, COLUMN_)};

/* The table of 'shape' and its width. */
static const struct column *columns_of(enum store_row_shape shape, int *ncols)
{
    if (shape == STORE_ROW_DISPATCH) {
        *ncols = STORE_DISPATCH_NCOLS;
        return dispatch_columns;
    }
    *ncols = STORE_TASK_NCOLS;
    return task_columns;
}

/* Read column 'c' of 'row' into its field of *t; 0 or -STORE_EINTERNAL. */
static int read_column(const PGresult *r, int row, int col, const struct column *c,
                       struct task_row *t, struct err *err)
{
    char *field = (char *)t + c->offset;
    bool null = PQgetisnull(r, row, col);
    const char *v = PQgetvalue(r, row, col);

    switch (c->kind) {
    case STORE_COL_FIXED:
        snprintf(field, c->size, "%s", null ? "" : v);
        return 0;
    case STORE_COL_TEXT:
        if (!null && !(*(char **)field = strdup(v)))
            return err_set(err, -STORE_EINTERNAL, "out of memory reading a task");
        return 0;
    case STORE_COL_STATUS:
        if (taskstate_parse(v, (enum task_status *)field) < 0)
            return err_set(err, -STORE_EINTERNAL, "unknown status in row");
        return 0;
    case STORE_COL_INT:
        *(int *)field = atoi(v);
        return 0;
    case STORE_COL_INT64:
        *(int64_t *)field = strtoll(v, NULL, 10);
        return 0;
    case STORE_COL_PROGRESS:
        t->has_progress = !null;
        /* fall through */
    case STORE_COL_TOTAL:
        *(double *)field = null ? 0 : strtod(v, NULL);
        return 0;
    }
    return err_set(err, -STORE_EINTERNAL, "unknown column kind");
}

/*
 * Fill *t from row 'row' of 'r', a result whose columns are those of
 * 'shape' in order.  Fields the shape does not select stay zero; progress
 * and progress_total are set only when progress is not NULL.  Returns 0
 * (the caller owns t's strings: task_row_fini()), or -STORE_EINTERNAL with
 * *t zeroed: a result of another width, an unknown status, out of memory.
 * Borrows 'r'.  Thread-safe.
 */
int store_row_read(const PGresult *r, int row, enum store_row_shape shape, struct task_row *t,
                   struct err *err)
{
    int ncols, rc;
    const struct column *cols = columns_of(shape, &ncols);

    memset(t, 0, sizeof(*t));
    int want = ncols + (shape == STORE_ROW_TASK_AND_ONE);
    if (PQnfields(r) != want)
        return err_set(err, -STORE_EINTERNAL, "a task result has %d columns, not %d", PQnfields(r),
                       want);
    for (int col = 0; col < ncols; col++) {
        rc = read_column(r, row, col, &cols[col], t, err);
        if (rc < 0) {
            task_row_fini(t);
            return rc;
        }
    }
    if (!t->has_progress)
        t->progress_total = 0;
    return 0;
}

/* The text of column 'c' of *t into 'buf' (capacity 'cap'), or NULL for SQL NULL. */
static const char *column_text(const struct column *c, const struct task_row *t, char *buf,
                               size_t cap)
{
    const char *field = (const char *)t + c->offset;

    switch (c->kind) {
    case STORE_COL_FIXED:
        return field;
    case STORE_COL_TEXT:
        return *(char *const *)field;
    case STORE_COL_STATUS:
        return taskstate_name(*(const enum task_status *)field);
    case STORE_COL_INT:
        snprintf(buf, cap, "%d", *(const int *)field);
        return buf;
    case STORE_COL_INT64:
        snprintf(buf, cap, "%lld", (long long)*(const int64_t *)field);
        return buf;
    case STORE_COL_PROGRESS:
    case STORE_COL_TOTAL:
        if (!t->has_progress)
            return NULL;
        snprintf(buf, cap, "%.17g", *(const double *)field);
        return buf;
    }
    return NULL;
}

/*
 * Build a new in-memory result (PGRES_TUPLES_OK, text columns named as in
 * the shape's list) holding 'n' rows made from rows[0..n): what the store's
 * statements return for those tasks, for tests and fake connections.
 * NULL text fields and progress without has_progress become SQL NULL.
 * Returns the result (release with PQclear()) or NULL when out of memory.
 * Borrows 'rows'.  Thread-safe.
 */
PGresult *store_row_result(enum store_row_shape shape, const struct task_row *rows, int n)
{
    PGresAttDesc attrs[STORE_TASK_NCOLS + 1];
    int ncols;
    const struct column *cols = columns_of(shape, &ncols);
    PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    char buf[64];

    if (!r)
        return NULL;
    memset(attrs, 0, sizeof(attrs));
    for (int col = 0; col < ncols; col++)
        attrs[col] = (PGresAttDesc){.name = (char *)cols[col].name, .typlen = -1};
    attrs[ncols] = (PGresAttDesc){.name = "one", .typlen = -1}; /* STORE_ROW_TASK_AND_ONE */
    if (!PQsetResultAttrs(r, ncols + (shape == STORE_ROW_TASK_AND_ONE), attrs))
        goto out_clear;
    for (int i = 0; i < n; i++) {
        for (int col = 0; col < ncols; col++) {
            const char *v = column_text(&cols[col], &rows[i], buf, sizeof(buf));
            if (!PQsetvalue(r, i, col, (char *)v, v ? (int)strlen(v) : -1))
                goto out_clear;
        }
    }
    return r;

out_clear:
    PQclear(r);
    return NULL;
}

/*
 * Free the strings of *t (every STORE_COL_TEXT field of the task columns)
 * and zero it.  Safe on a zeroed row and on a row read in any shape.
 */
void task_row_fini(struct task_row *t)
{
    for (int col = 0; col < STORE_TASK_NCOLS; col++)
        if (task_columns[col].kind == STORE_COL_TEXT)
            free(*(char **)((char *)t + task_columns[col].offset));
    memset(t, 0, sizeof(*t));
}
