/*
 * jwks_remote.h - a JSON Web Key Set fetched from an authorization server over https.
 *
 * A background thread keeps the set fresh: it fetches at start, again when
 * the cache lifetime of the last answer ends (Cache-Control max-age, else
 * Expires, else a default), and early when a verifier meets an unknown kid,
 * at most once per cooldown.  A failed fetch keeps the last good set and is
 * retried with a growing delay.  Request threads only take a reference to
 * the current set or poke the thread: they never wait for the network.
 * The transport (libcurl) and the clock are seams for the unit tests.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_JWKS_REMOTE_H
#define TASKWIRE_JWKS_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "jwks.h"

#define JWKS_REMOTE_MAX_TTL_S 86400 /* no answer is cached longer than a day */

enum jwks_remote_error {
    JWKS_REMOTE_ECONFIG = 1, /* not an https:// URL, bad durations */
    JWKS_REMOTE_EFETCH,      /* the fetch failed: connection, TLS, status, size */
    JWKS_REMOTE_ENOMEM,      /* an allocation failed */
};

/* What one fetch brought back; filled by the transport. */
struct jwks_response {
    long status;             /* HTTP status, 0 when there was no answer */
    char *body;              /* malloc'd body (released by jwks_response_fini), or NULL */
    size_t len;              /* bytes in body */
    char cache_control[256]; /* the Cache-Control value, "" when absent */
    char expires[64];        /* the Expires value, "" when absent */
    char date[64];           /* the Date value, "" when absent */
};

/* The transport seam: GET 'url' trusting 'ca_file' (NULL: the system's CAs) into *resp.
 * 0 or -JWKS_REMOTE_EFETCH / -JWKS_REMOTE_ENOMEM with 'err' set. */
typedef int jwks_fetch_fn(void *arg, const char *url, const char *ca_file,
                          struct jwks_response *resp, struct err *err);

struct jwks_remote_cfg {
    const char *url;       /* the authorization server's jwks_uri (https://) */
    const char *ca_file;   /* CA bundle to trust for it, NULL for the system's */
    int64_t default_ttl_s; /* lifetime of an answer without cache headers */
    int64_t cooldown_s;    /* least time between two fetches; the floor of any lifetime */
    jwks_fetch_fn *fetch;  /* transport, NULL for libcurl */
    void *fetch_arg;       /* its argument */
    bool manual;           /* no thread: the caller drives jwks_remote_step() (unit tests) */
};

struct jwks_remote;

/* Copy 'cfg' and start the fetch thread (unless cfg->manual); NULL with 'err' set. */
struct jwks_remote *jwks_remote_new(const struct jwks_remote_cfg *cfg, struct err *err);
/* Stop the thread and release; NULL is a no-op. */
void jwks_remote_free(struct jwks_remote *r);
/* The current set as a new reference, or NULL before the first good fetch.  Thread-safe. */
struct jwks_set *jwks_remote_get(struct jwks_remote *r);
/* A token named a kid the current set lacks: fetch again once the cooldown allows.
 * Never blocks on the network.  Thread-safe. */
void jwks_remote_kick(struct jwks_remote *r);
/* Wait up to 'timeout_ms' for the first good fetch; true when there is a set. */
bool jwks_remote_wait(struct jwks_remote *r, int64_t timeout_ms);
/* Do what is due at monotonic time 'now_ms' (perhaps one fetch); returns when the next
 * thing is due.  The thread's loop body, public for tests of manual caches. */
int64_t jwks_remote_step(struct jwks_remote *r, int64_t now_ms);
/* The lifetime in seconds of an answer, from its cache headers at Unix time 'now_s',
 * clamped to [min_s, max_s]; 'default_s' when it has none.  Pure. */
int64_t jwks_remote_ttl_s(const struct jwks_response *resp, int64_t now_s, int64_t default_s,
                          int64_t min_s, int64_t max_s);
/* Parse an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") into Unix seconds; 0 or -1. */
MUST_CHECK int jwks_remote_http_date(const char *s, int64_t *out);
/* Release what a transport put in *resp and zero it. */
void jwks_response_fini(struct jwks_response *resp);

#endif
