/*
 * migrations.c - checksums of the embedded SQL migrations.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "migrations.h"

#include <openssl/sha.h>
#include <stdio.h>

/*
 * Hex SHA-256 of a migration's SQL; a changed file under an applied version
 * is refused by the runner, so this is what pins history.
 */
void migration_sha256(const struct migration *m, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)m->sql, m->sql_len, md);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}
