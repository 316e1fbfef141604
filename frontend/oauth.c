/*
 * oauth.c - the OAuth 2.1 resource-server surface of the frontend.
 *
 * Everything a client may learn is built once in oauth_new(): the metadata
 * document, its URL and the three challenges (no token, a bad token, a bad
 * request); only the 403 challenge is made per request, to name the scopes
 * that request needs.  Refusals never say which check failed: a 401 for an
 * expired token and one for a foreign audience are byte for byte the same.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "oauth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

#define BODY_MISSING                                                                               \
    "{\"error\":\"unauthorized\",\"error_description\":\"This resource needs a bearer token; "   \
    "see the WWW-Authenticate header.\"}"
#define BODY_INVALID                                                                               \
    "{\"error\":\"invalid_token\",\"error_description\":\"The bearer token is not valid for "    \
    "this resource.\"}"
#define BODY_SCOPE                                                                                 \
    "{\"error\":\"insufficient_scope\",\"error_description\":\"The bearer token lacks a scope "  \
    "this request needs; see the WWW-Authenticate header.\"}"
#define BODY_REQUEST                                                                               \
    "{\"error\":\"invalid_request\",\"error_description\":\"Send the bearer token in exactly "   \
    "one Authorization header.\"}"
#define BODY_INTERNAL "{\"error\":\"server_error\"}"

struct oauth {
    struct auth_verifier *verifier;          /* NULL: TASKWIRE_AUTH=none */
    char *doc;                               /* the metadata document, compact JSON */
    size_t doc_len;                          /* its length */
    char path[OAUTH_RESOURCE_MAX + 64];      /* the path-inserted metadata path */
    char url[OAUTH_RESOURCE_MAX + 64];       /* the metadata URL (resource_metadata) */
    char missing[CHALLENGE_MAX];             /* challenge of a request without a token */
    char invalid[CHALLENGE_MAX];             /* challenge of a refused token */
    char request[CHALLENGE_MAX];             /* challenge of a malformed request (400) */
};

/* ---- metrics: one series per reason ---- */

#define FAIL_REQUEST AUTH_REASON_COUNT       /* two Authorization headers, a query token */
#define FAIL_SCOPE   (AUTH_REASON_COUNT + 1) /* a valid token without a needed scope */
#define FAIL_COUNT   (AUTH_REASON_COUNT + 2)

#define FAIL_METRIC(label)                                                                         \
    {                                                                                              \
        .name = "taskwire_auth_failures_total", .labels = "reason=\"" label "\"",                \
        .type = METRIC_COUNTER,                                                                    \
        .help = "Requests refused by authentication (401, 400) or scopes (403), by reason"        \
    }

static struct metric m_fail[FAIL_COUNT] = {
    [AUTH_REASON_MISSING] = FAIL_METRIC("missing"),
    [AUTH_REASON_MALFORMED] = FAIL_METRIC("malformed"),
    [AUTH_REASON_ISSUER] = FAIL_METRIC("issuer"),
    [AUTH_REASON_KEY] = FAIL_METRIC("key"),
    [AUTH_REASON_SIGNATURE] = FAIL_METRIC("signature"),
    [AUTH_REASON_TYP] = FAIL_METRIC("typ"),
    [AUTH_REASON_AUDIENCE] = FAIL_METRIC("audience"),
    [AUTH_REASON_EXPIRED] = FAIL_METRIC("expired"),
    [AUTH_REASON_CLAIMS] = FAIL_METRIC("claims"),
    [AUTH_REASON_INTERNAL] = FAIL_METRIC("internal"),
    [FAIL_REQUEST] = FAIL_METRIC("request"),
    [FAIL_SCOPE] = FAIL_METRIC("scope"),
};

/* Register taskwire_auth_failures_total{reason} (every reason, so each series starts at
 * 0).  Call once at start-up, before serving. */
void oauth_metrics_register(void)
{
    for (int i = AUTH_REASON_MISSING; i < FAIL_COUNT; i++)
        metrics_register(&m_fail[i]);
}

/* ---- the metadata ---- */

/* The end of the authority of http(s) URI 'u' (its path starts there), or NULL when 'u'
 * is not an absolute http(s) URI without query, fragment and user information. */
static const char *authority_end(const char *u)
{
    size_t skip = strncmp(u, "https://", 8) == 0 ? 8 : strncmp(u, "http://", 7) == 0 ? 7 : 0;
    const char *end;

    if (!skip || strpbrk(u, "?#") || !challenge_value_ok(u))
        return NULL;
    end = u + skip + strcspn(u + skip, "/");
    if (end == u + skip || memchr(u + skip, '@', (size_t)(end - u - skip)))
        return NULL;
    return end;
}

/*
 * Write the RFC 9728 metadata URL of 'resource' into 'out': the well-known
 * path inserted between its authority and its path
 * ("https://h/mcp" -> "https://h/.well-known/oauth-protected-resource/mcp";
 * no path or "/" gives the root form).  Returns 0, or -OAUTH_ECONFIG when
 * 'resource' is not an absolute http(s) URI without query, fragment, user
 * information, quotes or spaces, or is longer than OAUTH_RESOURCE_MAX, or
 * the result does not fit 'cap'.  Pure.
 */
int oauth_metadata_url(const char *resource, char *out, size_t cap, struct err *err)
{
    const char *end = resource ? authority_end(resource) : NULL;
    int n;

    if (!end || strlen(resource) > OAUTH_RESOURCE_MAX)
        return err_set(err, -OAUTH_ECONFIG,
                       "TASKWIRE_RESOURCE must be an absolute http(s) URI of at most %d bytes "
                       "without query, fragment, user information, quotes or spaces (got "
                       "'%.100s')",
                       OAUTH_RESOURCE_MAX, resource ? resource : "");
    n = snprintf(out, cap, "%.*s%s%s", (int)(end - resource), resource, OAUTH_METADATA_PATH,
                 strcmp(end, "/") == 0 ? "" : end);
    if (n < 0 || (size_t)n >= cap)
        return err_set(err, -OAUTH_ECONFIG, "the metadata URL is too long");
    return 0;
}

/*
 * The Protected Resource Metadata document of 'cfg' (RFC 9728 2):
 * resource, authorization_servers, scopes_supported (the basic scopes only:
 * a client asks for all of them when a challenge names none, and the
 * operator scope must not be asked for by everyone), bearer_methods_supported
 * ["header"] and resource_name.  Returns a new reference, NULL when out of
 * memory.  Pure.
 */
json_t *oauth_metadata_document(const struct oauth_cfg *cfg)
{
    json_t *servers = json_array();
    for (size_t i = 0; servers && i < cfg->nservers; i++)
        json_array_append_new(servers, json_string(cfg->authorization_servers[i]));
    return json_pack("{s:s, s:o, s:[s,s], s:[s], s:s}", "resource", cfg->resource,
                     "authorization_servers", servers, "scopes_supported", SCOPE_TOOLS,
                     SCOPE_TASKS, "bearer_methods_supported", "header", "resource_name",
                     "taskwire");
}

/* Build the fixed challenges of 'o' (its url set). */
static int build_challenges(struct oauth *o, struct err *err)
{
    struct challenge missing = {NULL, SCOPES_BASIC, o->url, NULL};
    struct challenge invalid = {"invalid_token", SCOPES_BASIC, o->url, NULL};
    struct challenge request = {"invalid_request", NULL, o->url, NULL};

    if (challenge_format(&missing, o->missing, sizeof(o->missing)) < 0 ||
        challenge_format(&invalid, o->invalid, sizeof(o->invalid)) < 0 ||
        challenge_format(&request, o->request, sizeof(o->request)) < 0)
        return err_set(err, -OAUTH_ECONFIG, "the challenges do not fit");
    return 0;
}

/*
 * Build the resource-server surface of 'cfg' (borrowed; the verifier is
 * kept and must outlive the result): the metadata document, its paths and
 * URL, the fixed challenges.  With cfg->verifier NULL (TASKWIRE_AUTH=none)
 * nothing is served or checked and cfg->resource may be NULL.  Returns a
 * new object to release with oauth_free(), or NULL with 'err' set
 * (-OAUTH_ECONFIG for an unusable resource URI, -OAUTH_ENOMEM).
 */
struct oauth *oauth_new(const struct oauth_cfg *cfg, struct err *err)
{
    struct oauth *o = calloc(1, sizeof(*o));
    json_t *doc;

    if (!o) {
        err_set(err, -OAUTH_ENOMEM, "out of memory");
        return NULL;
    }
    if (!(o->verifier = cfg->verifier))
        return o;
    if (oauth_metadata_url(cfg->resource, o->url, sizeof(o->url), err) < 0 ||
        build_challenges(o, err) < 0)
        goto out_free;
    snprintf(o->path, sizeof(o->path), "%s", o->url + (authority_end(o->url) - o->url));
    if (!(doc = oauth_metadata_document(cfg)) ||
        !(o->doc = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS))) {
        json_decref(doc);
        err_set(err, -OAUTH_ENOMEM, "out of memory");
        goto out_free;
    }
    json_decref(doc);
    o->doc_len = strlen(o->doc);
    return o;

out_free:
    oauth_free(o);
    return NULL;
}

/* Release 'o' (not its verifier).  NULL is a no-op. */
void oauth_free(struct oauth *o)
{
    if (!o)
        return;
    free(o->doc);
    free(o);
}

/*
 * The metadata document (not NUL-terminated use: *len bytes) when 'path' is
 * the root or the path-inserted metadata path of this resource and
 * authentication is on; NULL otherwise (the caller answers 404).
 * Thread-safe.
 */
const char *oauth_metadata_for(const struct oauth *o, const char *path, size_t *len)
{
    if (!o || !o->verifier || !path ||
        (strcmp(path, OAUTH_METADATA_PATH) != 0 && strcmp(path, o->path) != 0))
        return NULL;
    *len = o->doc_len;
    return o->doc;
}

/* ---- decisions ---- */

static void refuse(struct oauth_refusal *no, int status, const char *challenge, const char *body)
{
    no->status = status;
    snprintf(no->challenge, sizeof(no->challenge), "%s", challenge ? challenge : "");
    no->body = body;
}

/*
 * Authenticate request 'r' at Unix time 'now_s'.  With authentication off,
 * *p is the principal "anonymous" holding every scope.  Otherwise the
 * request must carry its token in exactly one Authorization header (else
 * 400 invalid_request) and the token must verify (else 401: without
 * error= when there was none, error="invalid_token" when it was refused;
 * 500 when the verifier ran out of memory).  Every challenge names the
 * basic scopes and the metadata URL.  Returns true with *p filled, or
 * false with *no filled, the reason logged (info) and counted.
 * Thread-safe.
 */
bool oauth_authenticate(const struct oauth *o, const struct oauth_request *r, int64_t now_s,
                        struct auth_principal *p, struct oauth_refusal *no)
{
    enum auth_reason why = AUTH_REASON_NONE;
    struct err e = {0};

    if (!o->verifier) {
        memset(p, 0, sizeof(*p));
        snprintf(p->subject, sizeof(p->subject), "anonymous");
        p->all_scopes = true;
        return true;
    }
    if (r->authorization_headers > 1 || r->token_elsewhere) {
        metrics_add(&m_fail[FAIL_REQUEST], 1);
        LOG_INFO("authentication refused", "reason", "request", "detail",
                 r->token_elsewhere ? "access_token in the query string"
                                    : "more than one Authorization header");
        refuse(no, 400, o->request, BODY_REQUEST);
        return false;
    }
    int rc = auth_check(o->verifier, r->authorization, now_s, p, &why, &e);
    if (rc == 0)
        return true;
    metrics_add(&m_fail[why > AUTH_REASON_NONE && why < AUTH_REASON_COUNT ? why
                                                                          : AUTH_REASON_INTERNAL],
                1);
    LOG_INFO("authentication failed", "reason", auth_reason_name(why), "detail", e.msg);
    if (rc == -AUTH_ENOMEM || rc == -AUTH_ECONFIG)
        refuse(no, 500, NULL, BODY_INTERNAL);
    else if (rc == -AUTH_EMISSING)
        refuse(no, 401, o->missing, BODY_MISSING);
    else
        refuse(no, 401, o->invalid, BODY_INVALID);
    return false;
}

/*
 * Apply the scope decision 'd' of a request of 'method' (NULL: a legacy
 * response): true when it is allowed, else false with *no a 403 whose
 * challenge (error="insufficient_scope") names every scope the request
 * needs, the reason logged (info) and counted.  Thread-safe.
 */
bool oauth_authorize(const struct oauth *o, const struct scope_decision *d, const char *method,
                     struct oauth_refusal *no)
{
    if (d->allowed)
        return true;
    struct challenge c = {"insufficient_scope", d->needed, o->url, "insufficient scope"};
    metrics_add(&m_fail[FAIL_SCOPE], 1);
    LOG_INFO("request refused", "reason", "scope", "method", method ? method : "(response)",
             "needed", d->needed);
    refuse(no, 403, NULL, BODY_SCOPE);
    if (challenge_format(&c, no->challenge, sizeof(no->challenge)) < 0) {
        c.scope = NULL; /* cannot happen with checked scopes; keep a usable challenge */
        if (challenge_format(&c, no->challenge, sizeof(no->challenge)) < 0)
            no->challenge[0] = '\0';
    }
    return false;
}
