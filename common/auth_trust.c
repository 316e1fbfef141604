/*
 * auth_trust.c - the issuers a verifier trusts, checked and copied, with their keys.
 *
 * Refuses configurations that would make tokens ambiguous or unsafe: two
 * issuers with the same identifier, several issuers whose owners could
 * collide (the same principal prefix), an issuer with both or neither key
 * source, a JWKS URL that is not https.  It does not verify tokens (auth.c)
 * or read the issuers file (authfile.c).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "auth_trust.h"

#include <stdlib.h>
#include <string.h>

#define AUTH_MAX_LEEWAY_S        3600 /* larger skew is a configuration mistake */
#define AUTH_DEFAULT_TTL_S       300  /* lifetime of fetched keys without cache headers */
#define AUTH_DEFAULT_COOLDOWN_S  5    /* least time between fetches of one URL */
#define AUTH_MAX_PREFIX          64   /* bytes of a principal prefix */

static bool set(const char *s)
{
    return s && *s;
}

/* Check one issuer of the configuration ('i' is its position, for messages). */
static int check_issuer(const struct auth_issuer *is, size_t i, struct err *err)
{
    if (!set(is->issuer))
        return err_set(err, -AUTH_ECONFIG, "issuer %zu has no identifier", i);
    if (set(is->jwks_file) == set(is->jwks_uri))
        return err_set(err, -AUTH_ECONFIG, "issuer %.100s needs exactly one of a JWKS file and a "
                       "JWKS URL", is->issuer);
    if (set(is->jwks_uri) && strncmp(is->jwks_uri, "https://", 8) != 0)
        return err_set(err, -AUTH_ECONFIG, "issuer %.100s: the JWKS URL must be https://",
                       is->issuer);
    if (is->naudiences < 1 || is->naudiences > AUTH_MAX_AUDIENCES)
        return err_set(err, -AUTH_ECONFIG, "issuer %.100s needs 1 to %d audiences", is->issuer,
                       AUTH_MAX_AUDIENCES);
    for (size_t a = 0; a < is->naudiences; a++)
        if (!set(is->audiences[a]))
            return err_set(err, -AUTH_ECONFIG, "issuer %.100s has an empty audience",
                           is->issuer);
    if ((is->scope_claim && !*is->scope_claim) ||
        (is->principal_claim && !*is->principal_claim))
        return err_set(err, -AUTH_ECONFIG, "issuer %.100s: claim names may not be empty",
                       is->issuer);
    for (const char *c = is->principal_prefix; c && *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e ||
            c - is->principal_prefix >= AUTH_MAX_PREFIX)
            return err_set(err, -AUTH_ECONFIG,
                           "issuer %.100s: the principal prefix must be printable ASCII of at "
                           "most %d bytes",
                           is->issuer, AUTH_MAX_PREFIX);
    return 0;
}

/* The configuration's issuers in order, the shorthand one first, into list (n entries). */
static int gather(const struct auth_config *cfg, struct auth_issuer *list, size_t *n,
                  struct err *err)
{
    *n = 0;
    if (cfg->issuer) {
        list[(*n)++] = (struct auth_issuer){.issuer = cfg->issuer, .jwks_file = cfg->jwks_file,
                                            .audiences = &cfg->audience,
                                            .naudiences = 1};
        if (!set(cfg->jwks_file) || !set(cfg->audience))
            return err_set(err, -AUTH_ECONFIG, "auth needs a JWKS file, an issuer and an "
                           "audience");
    }
    if (cfg->nissuers > AUTH_MAX_ISSUERS - *n)
        return err_set(err, -AUTH_ECONFIG, "more than %d trusted issuers", AUTH_MAX_ISSUERS);
    for (size_t i = 0; i < cfg->nissuers; i++)
        list[(*n)++] = cfg->issuers[i];
    if (*n == 0)
        return err_set(err, -AUTH_ECONFIG, "auth needs at least one trusted issuer");
    for (size_t i = 0; i < *n; i++) {
        int rc = check_issuer(&list[i], i, err);
        if (rc < 0)
            return rc;
        for (size_t j = 0; j < i; j++) {
            const char *pi = list[i].principal_prefix ? list[i].principal_prefix : "";
            const char *pj = list[j].principal_prefix ? list[j].principal_prefix : "";
            if (strcmp(list[i].issuer, list[j].issuer) == 0)
                return err_set(err, -AUTH_ECONFIG, "issuer %.100s is listed twice",
                               list[i].issuer);
            if (strcmp(pi, pj) == 0)
                return err_set(err, -AUTH_ECONFIG,
                               "issuers %.80s and %.80s have the same principal prefix \"%.40s\": "
                               "their owners could collide (give each its own)",
                               list[j].issuer, list[i].issuer, pi);
        }
    }
    return 0;
}

/* Copy 'is' into 'ti' (strings and audiences); 0 or -AUTH_ENOMEM. */
static int copy_issuer(struct auth_trusted *ti, const struct auth_issuer *is, struct err *err)
{
    ti->issuer = strdup(is->issuer);
    ti->scope_claim = strdup(is->scope_claim ? is->scope_claim : "scope");
    ti->principal_claim = strdup(is->principal_claim ? is->principal_claim : "sub");
    ti->prefix = strdup(is->principal_prefix ? is->principal_prefix : "");
    ti->audiences = calloc(is->naudiences, sizeof(*ti->audiences));
    ti->typ_lenient = is->typ_lenient;
    if (!ti->issuer || !ti->scope_claim || !ti->principal_claim || !ti->prefix || !ti->audiences)
        return err_set(err, -AUTH_ENOMEM, "out of memory creating the auth verifier");
    for (; ti->naudiences < is->naudiences; ti->naudiences++)
        if (!(ti->audiences[ti->naudiences] = strdup(is->audiences[ti->naudiences])))
            return err_set(err, -AUTH_ENOMEM, "out of memory creating the auth verifier");
    return 0;
}

/* Open the key source of 'is' into 'ti'. */
static int open_keys(struct auth_trusted *ti, const struct auth_issuer *is,
                     const struct auth_config *cfg, struct err *err)
{
    struct err e = {0};
    if (set(is->jwks_file)) {
        if ((ti->file = jwks_cache_new(is->jwks_file, &e)))
            return 0;
        if (err)
            *err = e;
        return err_recode(err, e.code == -JWKS_ENOMEM ? -AUTH_ENOMEM : -AUTH_ECONFIG);
    }
    struct jwks_remote_cfg rc = {
        .url = is->jwks_uri,
        .ca_file = cfg->ca_file,
        .default_ttl_s = cfg->jwks_ttl_s ? cfg->jwks_ttl_s : AUTH_DEFAULT_TTL_S,
        .cooldown_s = cfg->jwks_cooldown_s ? cfg->jwks_cooldown_s : AUTH_DEFAULT_COOLDOWN_S,
        .fetch = cfg->fetch,
        .fetch_arg = cfg->fetch_arg,
        .manual = cfg->manual_fetch,
    };
    if ((ti->remote = jwks_remote_new(&rc, &e)))
        return 0;
    if (err)
        *err = e;
    return err_recode(err, e.code == -JWKS_REMOTE_ENOMEM ? -AUTH_ENOMEM : -AUTH_ECONFIG);
}

/*
 * Check 'cfg' (borrowed) as auth_trust_init() does, without opening any key
 * source: the leeway and every rule on the issuers.  Returns 0 or
 * -AUTH_ECONFIG with 'err' set.  For --check-config; pure.
 */
int auth_config_check(const struct auth_config *cfg, struct err *err)
{
    struct auth_issuer list[AUTH_MAX_ISSUERS];
    size_t n;

    if (!cfg)
        return err_set(err, -AUTH_ECONFIG, "auth needs a configuration");
    if (cfg->leeway_s < 0 || cfg->leeway_s > AUTH_MAX_LEEWAY_S)
        return err_set(err, -AUTH_ECONFIG, "auth leeway must be 0..%d seconds",
                       AUTH_MAX_LEEWAY_S);
    return gather(cfg, list, &n, err);
}

/*
 * Check 'cfg' (borrowed) and build *t from it: the shorthand issuer (when
 * cfg->issuer is set) then cfg->issuers, each copied, its JWKS file loaded
 * or its JWKS URL's fetcher started.  Returns 0, or -AUTH_ECONFIG (no
 * issuer, more than AUTH_MAX_ISSUERS, a duplicate issuer, equal principal
 * prefixes, a missing or doubled key source, a non-https URL, bad
 * audiences, an unusable JWKS file, leeway outside 0..3600) or
 * -AUTH_ENOMEM, with 'err' set and *t released.  Call at start-up.
 */
int auth_trust_init(struct auth_trust *t, const struct auth_config *cfg, struct err *err)
{
    struct auth_issuer list[AUTH_MAX_ISSUERS];
    size_t n;
    int rc;

    memset(t, 0, sizeof(*t));
    if ((rc = auth_config_check(cfg, err)) < 0 || (rc = gather(cfg, list, &n, err)) < 0)
        return rc;
    if (!(t->issuers = calloc(n, sizeof(*t->issuers))))
        return err_set(err, -AUTH_ENOMEM, "out of memory creating the auth verifier");
    t->leeway_s = cfg->leeway_s;
    for (; t->count < n; t->count++) {
        struct auth_trusted *ti = &t->issuers[t->count];
        if ((rc = copy_issuer(ti, &list[t->count], err)) < 0 ||
            (rc = open_keys(ti, &list[t->count], cfg, err)) < 0) {
            t->count++; /* release the partial one too */
            auth_trust_fini(t);
            return rc;
        }
    }
    return 0;
}

/* Stop every fetcher and release *t.  A zeroed *t is a no-op. */
void auth_trust_fini(struct auth_trust *t)
{
    for (size_t i = 0; t->issuers && i < t->count; i++) {
        struct auth_trusted *ti = &t->issuers[i];
        jwks_cache_free(ti->file);
        jwks_remote_free(ti->remote);
        for (size_t a = 0; ti->audiences && a < ti->naudiences; a++)
            free(ti->audiences[a]);
        free(ti->audiences);
        free(ti->issuer);
        free(ti->scope_claim);
        free(ti->principal_claim);
        free(ti->prefix);
    }
    free(t->issuers);
    memset(t, 0, sizeof(*t));
}

/* The issuer whose identifier is exactly 'iss' (NULL: none).  Thread-safe. */
const struct auth_trusted *auth_trust_find(const struct auth_trust *t, const char *iss)
{
    for (size_t i = 0; iss && i < t->count; i++)
        if (strcmp(t->issuers[i].issuer, iss) == 0)
            return &t->issuers[i];
    return NULL;
}

/*
 * The current key set of 'ti' as a new reference (release with
 * jwks_set_put()): the file's, looked at again when 'now_s' is due, or the
 * URL's last good fetch, NULL before the first.  Thread-safe.
 */
struct jwks_set *auth_trust_keys(const struct auth_trusted *ti, int64_t now_s)
{
    return ti->file ? jwks_cache_get(ti->file, now_s) : jwks_remote_get(ti->remote);
}
