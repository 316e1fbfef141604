/*
 * oauth.h - the OAuth 2.1 resource-server surface of the frontend.
 *
 * RFC 9728 Protected Resource Metadata (built once, served at the
 * well-known paths), authentication of a request (RFC 6750: one
 * Authorization header, the bearer token verified by common/auth.h) and
 * the scope check of a request (frontend/scopes.h), each refusal as a
 * status, a WWW-Authenticate challenge and a generic body.  Why a token
 * was refused goes to the log and to taskwire_auth_failures_total{reason},
 * never to the client.  No MHD here: http.c sends what this module
 * decides.  Read-only after oauth_new(), so every thread shares it.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_OAUTH_H
#define TASKWIRE_OAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "auth.h"
#include "challenge.h"
#include "err.h"
#include "scopes.h"

#define OAUTH_METADATA_PATH "/.well-known/oauth-protected-resource" /* RFC 9728 3 */
#define OAUTH_RESOURCE_MAX  512 /* bytes of the resource URI */

enum oauth_error {
    OAUTH_ECONFIG = 1, /* the resource URI or an authorization server is unusable */
    OAUTH_ENOMEM,      /* an allocation failed */
};

struct oauth_cfg {
    const char *resource;                     /* canonical URI of the MCP endpoint */
    const char *const *authorization_servers; /* issuers listed in the metadata */
    size_t nservers;                          /* entries in authorization_servers */
    struct auth_verifier *verifier;           /* NULL: TASKWIRE_AUTH=none */
};

/* What authentication looks at in a request. */
struct oauth_request {
    int authorization_headers; /* how many Authorization headers came */
    const char *authorization; /* the first one's value, or NULL */
    bool token_elsewhere;      /* an access_token in the query string */
};

/* A refused request: what to answer. */
struct oauth_refusal {
    int status;                    /* 400, 401, 403 or 500 */
    char challenge[CHALLENGE_MAX]; /* the WWW-Authenticate value ("" for none) */
    const char *body;              /* a constant, generic JSON body */
};

struct oauth;

/* Check 'cfg' and build the metadata and challenges once; NULL with 'err' set. */
struct oauth *oauth_new(const struct oauth_cfg *cfg, struct err *err);
void oauth_free(struct oauth *o);
/* Register taskwire_auth_failures_total{reason}; once, before serving. */
void oauth_metrics_register(void);
/* The metadata document when 'path' is a metadata path of this resource (and auth is on),
 * else NULL; *len gets its length. */
const char *oauth_metadata_for(const struct oauth *o, const char *path, size_t *len);
/* Authenticate 'r' at Unix time 'now_s' into *p; false with *no filled when refused. */
bool oauth_authenticate(const struct oauth *o, const struct oauth_request *r, int64_t now_s,
                        struct auth_principal *p, struct oauth_refusal *no);
/* Check the scopes a request needs ('d' from scopes_decide()); false with *no filled. */
bool oauth_authorize(const struct oauth *o, const struct scope_decision *d, const char *method,
                     struct oauth_refusal *no);
/* The RFC 9728 metadata document of 'cfg' (pure; a new reference, NULL when out of memory). */
json_t *oauth_metadata_document(const struct oauth_cfg *cfg);
/* The metadata URL of 'resource' (path-inserted) into out; 0 or -OAUTH_ECONFIG. */
MUST_CHECK int oauth_metadata_url(const char *resource, char *out, size_t cap, struct err *err);

#endif
