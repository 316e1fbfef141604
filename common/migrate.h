/*
 * migrate.h - apply the embedded SQL migrations (proto/sql) to a database.
 *
 * Safe to run from many pods at once: a session advisory lock serialises
 * runners, each migration commits with its row in schema_migrations, and an
 * applied migration whose checksum changed is refused.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_MIGRATE_H
#define TASKWIRE_MIGRATE_H

#include "err.h"

enum migrate_error {
    MIGRATE_ECONNECT = 1, /* could not reach PostgreSQL */
    MIGRATE_ECHECKSUM,    /* an applied migration differs from the embedded one */
    MIGRATE_ESQL,         /* a statement failed; that migration was rolled back */
    MIGRATE_EFUTURE,      /* the database has versions this binary does not know */
};

/* Connect with libpq 'dsn' (may be "" to use PG* variables), apply what is
 * missing, and report how many were applied in *applied (may be NULL). */
MUST_CHECK int migrate_run(const char *dsn, int *applied, struct err *err);

#endif
