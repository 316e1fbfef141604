/*
 * authfile.h - the trusted-issuers file (TASKWIRE_AUTH_ISSUERS_FILE).
 *
 * A JSON document {"issuers": [ {...}, ... ]} naming each authorization
 * server whose tokens the frontend accepts, with its keys (jwks_uri or
 * jwks_file), audiences, scope claim, principal claim and prefix, typ rule
 * and whether the resource metadata lists it.  This module only reads the
 * format (strictly: unknown keys and wrong types are refused) into struct
 * auth_issuer records; auth_config_check() judges the whole configuration.
 * The format is documented in README "Security".
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_AUTHFILE_H
#define TASKWIRE_AUTHFILE_H

#include <stddef.h>

#include <jansson.h>

#include "auth.h"
#include "err.h"

#define AUTHFILE_MAX_BYTES (64 * 1024) /* a larger issuers file is refused */

enum authfile_error {
    AUTHFILE_EINVALID = 1, /* unreadable, not JSON, or not the format */
    AUTHFILE_ENOMEM,       /* an allocation failed */
};

/* A parsed issuers file; the issuers borrow their strings from 'doc'. */
struct authfile {
    struct auth_issuer *issuers; /* in file order */
    size_t count;                /* entries in issuers */
    const char **audiences;      /* storage of every issuer's audiences array */
    json_t *doc;                 /* the document (owned) */
};

/* Parse 'len' bytes of 'text' ('what' names it in messages) into *out; issuers without
 * "audiences" get 'default_audience'.  0 or -AUTHFILE_E* with 'err' set and *out zeroed. */
MUST_CHECK int authfile_parse(const char *text, size_t len, const char *what,
                              const char *default_audience, struct authfile *out,
                              struct err *err);
/* Read the file at 'path' and authfile_parse() it. */
MUST_CHECK int authfile_load(const char *path, const char *default_audience,
                             struct authfile *out, struct err *err);
/* Release *f; a zeroed one is a no-op. */
void authfile_fini(struct authfile *f);

#endif
