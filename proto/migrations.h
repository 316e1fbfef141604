/*
 * migrations.h - the SQL schema, embedded in every binary.
 *
 * proto/sql/NNNN_name.sql files become this table at build time
 * (proto/embed.cmake), so code and schema cannot drift apart.  Applying them
 * is common/migrate.c's job; this module only holds and checksums them.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_MIGRATIONS_H
#define TASKWIRE_MIGRATIONS_H

#include <stddef.h>

struct migration {
    int version;      /* NNNN from the file name, strictly increasing */
    const char *name; /* the rest of the file name, without .sql */
    const char *sql;  /* the file's bytes, NUL-terminated */
    size_t sql_len;   /* bytes of sql, without the NUL */
};

extern const struct migration migrations_all[];
extern const unsigned migrations_count;

/* Write the lowercase hex SHA-256 of m->sql into out (65 bytes with the NUL). */
void migration_sha256(const struct migration *m, char out[65]);

#endif
