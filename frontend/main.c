/*
 * main.c - taskwire-frontend: the stateless MCP HTTP server.
 *
 * Reads its settings, builds the shared read-only pieces (tool catalog,
 * token verifier, fabric socket), starts the HTTP servers and waits for
 * SIGTERM/SIGINT, then stops accepting, finishes in-flight requests and
 * exits.  Exit codes: 0 clean stop, 2 bad configuration, 3 start-up failure.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "apptools.h"
#include "auth.h"
#include "authfile.h"
#include "catalog.h"
#include "cfg.h"
#include "createq.h"
#include "dispatch.h"
#include "fabkeys.h"
#include "fileio.h"
#include "guard.h"
#include "http.h"
#include "log.h"
#include "manifest.h"
#include "mcp.h"
#include "metrics.h"
#include "notify.h"
#include "otlp.h"
#include "oauth.h"
#include "prompts.h"
#include "quota.h"
#include "ratelimit.h"
#include "redispatch.h"
#include "resources.h"
#include "startup.h"
#include "state.h"
#include "store.h"
#include "taskapp.h"
#include "zap.h"

#define EXIT_CONFIG 2
#define EXIT_START 3

struct settings {
    const char *listen, *admin_listen, *fabric_bind, *pg_dsn, *redis_addr;
    const char *auth, *jwks_file, *auth_issuer, *auth_audience, *log_level, *tools_manifest;
    const char *allowed_origins, *allowed_hosts, *state_key, *limits_file;
    const char *resource, *issuers_file, *jwks_url, *auth_ca_file;
    const char *fabric_secret_key, *fabric_worker_keys; /* CURVE */
    const char *redis_user, *redis_password, *otlp_endpoint;
    int64_t jwks_ttl_s, jwks_cooldown_s;
    int64_t threads, max_body_bytes, max_connections, task_ttl_ms, poll_interval_ms;
    int64_t list_ttl_ms, auth_leeway_s, sync_timeout_ms, listen_max_ms, state_ttl_s;
    int64_t sync_task_ttl_ms, redispatch_ms, session_ttl_s;
    int64_t rate_per_s[QUOTA_BUDGETS], rate_burst[QUOTA_BUDGETS], max_sync, max_listen, max_live;
    int64_t frontends, stream_share_pct, header_timeout_ms, body_timeout_ms, idle_timeout_s;
    int64_t max_conns_per_address, create_batch;
    bool log_text, fixtures, fabric_insecure, redis_insecure, relaxed_commit;
};

static struct settings s;

static const struct cfg_opt opts[] = {
    {"listen", CFG_STR, "127.0.0.1:8080", "public MCP HTTP address (POST /mcp)", &s.listen},
    {"admin-listen", CFG_STR, "127.0.0.1:9080", "admin address (/metrics /healthz /readyz)",
     &s.admin_listen},
    {"otlp-endpoint", CFG_STR, "", "OTLP/HTTP base URL spans are exported to (JSON; empty = off)",
     &s.otlp_endpoint},
    {"fabric-bind", CFG_STR, "tcp://127.0.0.1:7100", "ZeroMQ PUSH endpoint workers connect to",
     &s.fabric_bind},
    {"fabric-secret-key", CFG_STR, NULL,
     "Z85 CURVE secret key of the fabric socket, the same on every frontend (taskwire "
     "fabric-keygen)",
     &s.fabric_secret_key, 0, 0, true},
    {"fabric-worker-keys", CFG_STR, NULL,
     "the worker public keys admitted to the fabric: Z85, one per line, # comments (usually "
     "from TASKWIRE_FABRIC_WORKER_KEYS_FILE)",
     &s.fabric_worker_keys, 0, 0, true},
    {"fabric-insecure", CFG_BOOL, "false",
     "a plain fabric without CURVE: any peer that reaches the port gets jobs (local "
     "development only; logged)",
     &s.fabric_insecure},
    {"pg-dsn", CFG_STR, "", "libpq connection string (PG* variables fill the rest)",
     &s.pg_dsn, 0, 0, true},
    {"redis-addr", CFG_STR, "127.0.0.1:6379", "Redis host:port for event fan-out (\"\" = off)",
     &s.redis_addr},
    {"redis-user", CFG_STR, NULL, "Redis ACL user (unset: the default user)", &s.redis_user},
    {"redis-password", CFG_STR, NULL, "Redis password (AUTH), required unless redis-insecure",
     &s.redis_password, 0, 0, true},
    {"relaxed-commit", CFG_BOOL, "false",
     "commit task writes without waiting for PostgreSQL's WAL flush (synchronous_commit=off): "
     "faster, but a PostgreSQL crash loses the last acknowledged writes (README: relaxed mode)",
     &s.relaxed_commit},
    {"redis-insecure", CFG_BOOL, "false",
     "talk to Redis without a password (local development only; logged)", &s.redis_insecure},
    {"auth", CFG_STR, "jwt", "jwt (verify bearer tokens) or none (local development only)",
     &s.auth},
    {"resource", CFG_STR, NULL,
     "canonical URI of this MCP endpoint (what clients call, e.g. https://mcp.example.com/mcp): "
     "the resource of the OAuth metadata and the audience tokens must name; default "
     "TASKWIRE_AUTH_AUDIENCE",
     &s.resource},
    {"auth-issuer", CFG_STR, NULL,
     "a trusted token issuer (exact iss), with TASKWIRE_JWKS_FILE or TASKWIRE_JWKS_URL",
     &s.auth_issuer},
    {"jwks-file", CFG_STR, NULL, "JWKS file with the signing keys of TASKWIRE_AUTH_ISSUER",
     &s.jwks_file},
    {"jwks-url", CFG_STR, NULL, "https URL of the JWKS of TASKWIRE_AUTH_ISSUER (its jwks_uri)",
     &s.jwks_url},
    {"auth-audience", CFG_STR, NULL,
     "audience TASKWIRE_AUTH_ISSUER's tokens must name; default TASKWIRE_RESOURCE",
     &s.auth_audience},
    {"auth-issuers-file", CFG_STR, NULL,
     "JSON file of (further) trusted issuers, each with its keys, audiences, claims and typ rule "
     "(README \"Security\")",
     &s.issuers_file},
    {"auth-ca-file", CFG_STR, NULL, "CA bundle to trust for JWKS URLs (default: the system's)",
     &s.auth_ca_file},
    {"jwks-ttl-s", CFG_INT, "300",
     "how long fetched keys are used when the answer has no cache headers", &s.jwks_ttl_s, 10,
     86400},
    {"jwks-cooldown-s", CFG_INT, "5",
     "least time between two fetches of one JWKS URL (an unknown kid fetches early)",
     &s.jwks_cooldown_s, 1, 300},
    {"auth-leeway-s", CFG_INT, "60", "clock skew allowed on exp/nbf", &s.auth_leeway_s, 0,
     600},
    {"threads", CFG_INT, "4", "HTTP worker threads", &s.threads, 1, 256},
    {"max-body-bytes", CFG_INT, "1048576", "largest request body accepted (else 413)",
     &s.max_body_bytes, 1024, 64 << 20},
    {"max-connections", CFG_INT, "1024", "concurrent HTTP connections", &s.max_connections,
     1, 100000},
    {"task-ttl-ms", CFG_INT, "86400000", "ttlMs of new tasks (how long results are kept)",
     &s.task_ttl_ms, 1000, 30LL * 86400000},
    {"poll-interval-ms", CFG_INT, "1000", "pollIntervalMs suggested to clients",
     &s.poll_interval_ms, 50, 60000},
    {"list-ttl-ms", CFG_INT, "60000",
     "caching ttlMs of server/discover, the tools, prompts and resources lists, fixed resources",
     &s.list_ttl_ms, 0, 86400000},
    {"allowed-origins", CFG_STR, NULL,
     "comma-separated Origins browsers may call from (\"*\" = any; \"loopback\" = "
     "localhost origins); default loopback when listening on loopback, else none",
     &s.allowed_origins},
    {"allowed-hosts", CFG_STR, NULL,
     "comma-separated Host names accepted (\"*\" = any); default loopback when "
     "listening on loopback, else any",
     &s.allowed_hosts},
    {"tools-manifest", CFG_STR, NULL, "JSON manifest of external-process tools to serve",
     &s.tools_manifest},
    {"sync-timeout-ms", CFG_INT, "300000",
     "longest wait of a synchronous tools/call (then it is cancelled)", &s.sync_timeout_ms,
     100, 86400000},
    {"sync-task-ttl-ms", CFG_INT, "3600000",
     "how long the task behind a synchronous call (or an unanswered MRTR round) is kept",
     &s.sync_task_ttl_ms, 1000, 30LL * 86400000},
    {"redispatch-ms", CFG_INT, "5000",
     "push queued tasks again when no worker claimed them within this time",
     &s.redispatch_ms, 100, 3600000},
    {"listen-max-ms", CFG_INT, "3600000",
     "longest life of a subscriptions/listen stream (then closed gracefully)",
     &s.listen_max_ms, 1000, 86400000},
    {"state-key", CFG_STR, NULL,
     "HMAC key (32+ bytes) for MRTR requestState, the same on every frontend; unset = "
     "random per process (retries must then reach the same frontend)",
     &s.state_key, 0, 0, true},
    {"state-ttl-s", CFG_INT, "600", "how long an MRTR requestState stays valid",
     &s.state_ttl_s, 10, 86400},
    {"session-ttl-s", CFG_INT, "86400",
     "how long a legacy (2025) Mcp-Session-Id stays valid (then the client initializes again)",
     &s.session_ttl_s, 60, 30LL * 86400},
    {"rate-create-per-s", CFG_INT, "20",
     "tools/call creating a task: requests a second per principal (0 = no limit)",
     &s.rate_per_s[QUOTA_CREATE], 0, 1000000000},
    {"rate-create-burst", CFG_INT, "40", "tools/call creating a task: requests at once",
     &s.rate_burst[QUOTA_CREATE], 1, 1000000000},
    {"rate-read-per-s", CFG_INT, "100",
     "reads (tasks/get, tasks/result, tasks/list, resources/read, subscriptions/listen): "
     "requests a second per principal",
     &s.rate_per_s[QUOTA_READ], 0, 1000000000},
    {"rate-read-burst", CFG_INT, "200", "reads: requests at once", &s.rate_burst[QUOTA_READ], 1,
     1000000000},
    {"rate-other-per-s", CFG_INT, "50", "every other request: requests a second per principal",
     &s.rate_per_s[QUOTA_OTHER], 0, 1000000000},
    {"rate-other-burst", CFG_INT, "100", "every other request: requests at once",
     &s.rate_burst[QUOTA_OTHER], 1, 1000000000},
    {"max-sync-calls", CFG_INT, "16",
     "synchronous calls (and 2025 tasks/result) one principal may have waiting (0 = no cap)",
     &s.max_sync, 0, 1000000000},
    {"max-listen-streams", CFG_INT, "16",
     "subscriptions/listen streams one principal may hold open (0 = no cap)", &s.max_listen, 0,
     1000000000},
    {"create-batch", CFG_INT, "16",
     "most new tasks written in one statement and commit when requests create them at once "
     "(group commit; 1 = one commit per task)",
     &s.create_batch, 1, 32},
    {"max-live-tasks", CFG_INT, "500",
     "queued, running and input_required tasks one principal may have (0 = no cap)",
     &s.max_live, 0, 1000000000},
    {"limits-file", CFG_STR, NULL,
     "JSON overrides of the limits above per scope or per principal (see README)",
     &s.limits_file},
    {"frontends", CFG_INT, "1",
     "frontends serving together: each allows its share of the caps per principal, and of "
     "the rate limits while Redis is unreachable",
     &s.frontends, 1, 10000},
    {"stream-share-pct", CFG_INT, "50",
     "share of max-connections long-lived requests (listen streams, synchronous calls) may "
     "hold; beyond it they get 503",
     &s.stream_share_pct, 1, 100},
    {"header-timeout-ms", CFG_INT, "10000",
     "request headers must be complete within this (slow clients are cut off)",
     &s.header_timeout_ms, 100, 3600000},
    {"body-timeout-ms", CFG_INT, "30000",
     "a request body must be complete within this after the headers", &s.body_timeout_ms, 100,
     3600000},
    {"idle-timeout-s", CFG_INT, "30", "an idle connection (keep-alive too) is closed after this",
     &s.idle_timeout_s, 1, 86400},
    {"max-connections-per-address", CFG_INT, "0",
     "connections one client address may hold (0 = no cap; leave 0 behind a proxy, where every "
     "connection comes from the proxy)",
     &s.max_conns_per_address, 0, 100000},
    {"fixtures", CFG_BOOL, "false",
     "also serve the conformance-suite fixture tools, resources and prompts (test deployments "
     "only)",
     &s.fixtures},
    STARTUP_LOG_OPTIONS(&s.log_level, &s.log_text),
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

/* The limits per principal: the settings, then the overrides of limits-file; a new table
 * into *out, or a negative code with 'e' naming the file and the problem. */
static int load_quota(struct quota **out, struct err *e)
{
    struct quota_set def = {.max_sync = s.max_sync, .max_listen = s.max_listen,
                            .max_live = s.max_live};
    for (int b = 0; b < QUOTA_BUDGETS; b++) {
        def.per_s[b] = s.rate_per_s[b];
        def.burst[b] = s.rate_burst[b];
    }
    char *text = NULL;
    size_t len = 0;
    struct err qe = {0};
    if (s.limits_file && fileio_read(s.limits_file, 16 << 20, &text, &len, NULL, &qe) < 0)
        return err_set(e, -CFG_EINVALID, "TASKWIRE_LIMITS_FILE: %s", qe.msg);
    *out = quota_new(&def, text, len, &qe);
    free(text);
    if (!*out)
        return err_set(e, -CFG_EINVALID, "TASKWIRE_LIMITS_FILE %s: %s", s.limits_file, qe.msg);
    return 0;
}

/* The fabric's CURVE settings, unless the operator asked for an insecure fabric. */
static int check_fabric(struct err *e)
{
    if (s.fabric_insecure)
        return 0;
    if (!s.fabric_secret_key || !s.fabric_worker_keys)
        return err_set(e, -CFG_EINVALID,
                       "the fabric needs TASKWIRE_FABRIC_SECRET_KEY and TASKWIRE_FABRIC_WORKER_KEYS "
                       "(or their _FILE variants), or TASKWIRE_FABRIC_INSECURE=true for local "
                       "development");
    uint8_t raw[FABKEYS_KEY_LEN];
    struct err ke = {0};
    if (fabkeys_decode(s.fabric_secret_key, raw, &ke) < 0)
        return err_set(e, -CFG_EINVALID, "TASKWIRE_FABRIC_SECRET_KEY: %s", ke.msg);
    struct fabkeys_allow *allow =
        fabkeys_allow_parse(s.fabric_worker_keys, strlen(s.fabric_worker_keys), &ke);
    fabkeys_allow_free(allow);
    if (!allow)
        return err_set(e, -CFG_EINVALID, "TASKWIRE_FABRIC_WORKER_KEYS: %s", ke.msg);
    return 0;
}

/* The trusted issuers: TASKWIRE_AUTH_ISSUER (first) and those of the issuers file. */
static struct authfile issuers_file;
static struct auth_issuer issuers[AUTH_MAX_ISSUERS + 1];
static const char *env_audience[1];

/* The resource URI and the audience of TASKWIRE_AUTH_ISSUER, each defaulting to the other. */
static const char *resource_uri(void)
{
    return s.resource ? s.resource : s.auth_audience;
}

/* Gather the trusted issuers into 'issuers' and *ac; 0 or -CFG_EINVALID. */
static int gather_issuers(struct auth_config *ac, struct err *e)
{
    size_t n = 0;
    int rc;
    if (s.auth_issuer) {
        if (!s.jwks_file == !s.jwks_url)
            return err_set(e, -CFG_EINVALID, "TASKWIRE_AUTH_ISSUER needs exactly one of "
                           "TASKWIRE_JWKS_FILE and TASKWIRE_JWKS_URL");
        env_audience[0] = s.auth_audience ? s.auth_audience : resource_uri();
        issuers[n++] = (struct auth_issuer){
            .issuer = s.auth_issuer, .jwks_file = s.jwks_file, .jwks_uri = s.jwks_url,
            .audiences = env_audience, .naudiences = 1,
            .advertise = strncmp(s.auth_issuer, "https://", 8) == 0};
    }
    authfile_fini(&issuers_file);
    if (s.issuers_file &&
        (rc = authfile_load(s.issuers_file, resource_uri(), &issuers_file, e)) < 0)
        return err_recode(e, -CFG_EINVALID);
    for (size_t i = 0; i < issuers_file.count && n < AUTH_MAX_ISSUERS + 1; i++)
        issuers[n++] = issuers_file.issuers[i];
    *ac = (struct auth_config){.leeway_s = (int)s.auth_leeway_s, .issuers = issuers,
                               .nissuers = n, .ca_file = s.auth_ca_file,
                               .jwks_ttl_s = s.jwks_ttl_s, .jwks_cooldown_s = s.jwks_cooldown_s};
    if (s.jwks_cooldown_s > s.jwks_ttl_s)
        return err_set(e, -CFG_EINVALID, "TASKWIRE_JWKS_COOLDOWN_S must not exceed "
                       "TASKWIRE_JWKS_TTL_S");
    return auth_config_check(ac, e) < 0 ? err_recode(e, -CFG_EINVALID) : 0;
}

/* The checks --check-config runs too: the auth mode and its settings, the state key, the
 * limits file. */
static int check_settings(void *arg, struct err *e)
{
    (void)arg;
    int rc = notify_check_auth(s.redis_addr, s.redis_password, s.redis_insecure, e);
    if (rc < 0)
        return rc;
    bool auth_none = strcmp(s.auth, "none") == 0;
    char url[OAUTH_RESOURCE_MAX + 64];
    struct auth_config ac;
    if (!auth_none && strcmp(s.auth, "jwt") != 0)
        return err_set(e, -CFG_EINVALID, "TASKWIRE_AUTH: '%s' is not jwt or none", s.auth);
    if (!auth_none && !s.auth_issuer && !s.issuers_file)
        return err_set(e, -CFG_EINVALID,
                       "auth=jwt needs a trusted issuer: TASKWIRE_AUTH_ISSUER with "
                       "TASKWIRE_JWKS_FILE or TASKWIRE_JWKS_URL, or TASKWIRE_AUTH_ISSUERS_FILE "
                       "(or TASKWIRE_AUTH=none for local development)");
    if (!auth_none && !resource_uri())
        return err_set(e, -CFG_EINVALID, "auth=jwt needs TASKWIRE_RESOURCE, this endpoint's "
                       "canonical URI");
    if (!auth_none && (oauth_metadata_url(resource_uri(), url, sizeof(url), e) < 0 ||
                       gather_issuers(&ac, e) < 0))
        return err_recode(e, -CFG_EINVALID);
    if (s.state_key && strlen(s.state_key) < STATE_KEY_MIN)
        return err_set(e, -CFG_EINVALID, "TASKWIRE_STATE_KEY must be at least %d bytes",
                       STATE_KEY_MIN);
    if ((rc = check_fabric(e)) < 0)
        return rc;
    struct quota *q = NULL;
    rc = load_quota(&q, e);
    quota_free(q);
    return rc;
}

/* The negative code a constructor that returned NULL left in 'e' (never 0). */
static int failure(const struct err *e)
{
    return e->code < 0 ? e->code : -EIO;
}

/* What main() builds once and shares read-only with every thread. */
struct shared {
    struct auth_verifier *verifier;      /* NULL when TASKWIRE_AUTH=none */
    struct oauth *oauth;                 /* the resource-server surface */
    struct catalog *catalog;             /* tools served */
    struct dispatch *fabric;             /* the PUSH socket */
    struct fabkeys_allow *workers;       /* worker keys admitted (NULL when insecure) */
    unsigned char random_key[STATE_KEY_MIN]; /* requestState key when none is configured */
    struct content content;              /* resources, templates and prompts served */
    struct quota *quota;                 /* limits per principal */
    struct ratelimit *rate;              /* their rate buckets */
    struct guard *guard;                 /* admission: rates, caps, the stream budget */
    struct createq *creates;             /* group commit of new tasks */
};

/* Build the limits per principal, their rate buckets and the guard into 'sh'. */
static int build_guard(struct shared *sh, struct err *e)
{
    int rc = load_quota(&sh->quota, e);
    if (rc < 0)
        return rc;
    if (!(sh->rate = ratelimit_new(s.redis_addr, (int)s.frontends)))
        return err_set(e, -ENOMEM, "cannot set up rate limiting (Redis address \"%s\")",
                       s.redis_addr);
    int64_t waits = s.max_connections * s.stream_share_pct / 100;
    struct guard_cfg gc = {sh->quota, sh->rate, (int)s.frontends, waits > 0 ? (int)waits : 1};
    if (!(sh->guard = guard_new(&gc)))
        return err_set(e, -ENOMEM, "out of memory");
    return 0;
}

/* The fabric socket: a CURVE server admitting the listed worker keys, or plain when the
 * operator asked for an insecure fabric. */
static int build_fabric(struct shared *sh, struct err *e)
{
    if (s.fabric_insecure) {
        LOG_WARN("the fabric is NOT authenticated (TASKWIRE_FABRIC_INSECURE=true): any peer that "
                 "reaches the fabric port receives jobs; use only for local development");
        sh->fabric = dispatch_new(s.fabric_bind, NULL, e);
        return sh->fabric ? 0 : failure(e);
    }
    if (!(sh->workers = fabkeys_allow_parse(s.fabric_worker_keys, strlen(s.fabric_worker_keys), e)))
        return failure(e);
    struct dispatch_curve curve = {s.fabric_secret_key, sh->workers};
    if (!(sh->fabric = dispatch_new(s.fabric_bind, &curve, e)))
        return failure(e);
    char n[16];
    snprintf(n, sizeof(n), "%zu", fabkeys_allow_count(sh->workers));
    LOG_INFO("fabric authenticated with CURVE", "worker_keys", n);
    return 0;
}

/* Build the verifier (its JWKS fetchers start here, waiting up to 10 s for first keys)
 * and the resource-server surface listing the advertised issuers. */
static int build_auth(struct shared *sh, struct err *e)
{
    const char *servers[AUTH_MAX_ISSUERS + 1];
    struct oauth_cfg oc = {.resource = resource_uri(), .authorization_servers = servers};
    struct auth_config ac;
    if (strcmp(s.auth, "none") == 0) {
        LOG_WARN("authentication is DISABLED (TASKWIRE_AUTH=none): every caller is one owner "
                 "holding every scope; use only for local development");
    } else {
        if (gather_issuers(&ac, e) < 0 || !(sh->verifier = auth_verifier_new(&ac, e)))
            return failure(e);
        if (!auth_verifier_wait_keys(sh->verifier, 10000))
            LOG_WARN("no keys yet from a JWKS URL: its tokens are refused until a fetch "
                     "succeeds (retried in the background)");
        for (size_t i = 0; i < ac.nissuers; i++)
            if (issuers[i].advertise)
                servers[oc.nservers++] = issuers[i].issuer;
        if (oc.nservers == 0)
            LOG_WARN("no trusted issuer is an https URL: the resource metadata lists no "
                     "authorization server, so MCP clients cannot find where to get a token");
    }
    oc.verifier = sh->verifier;
    return (sh->oauth = oauth_new(&oc, e)) ? 0 : failure(e);
}

/* Build the verifier, catalog, fabric socket, requestState key and served content into
 * 'sh' and 'mcp'. */
static int build_shared(struct shared *sh, struct mcp_server *mcp, struct err *e)
{
    if (build_auth(sh, e) < 0)
        return e->code;
    if (!(sh->catalog = catalog_new(s.fixtures, e)))
        return failure(e);
    int rc;
    if ((rc = apptools_register(sh->catalog, e)) < 0) /* before a manifest could take a name */
        return rc;
    if (s.tools_manifest && (rc = manifest_load(sh->catalog, s.tools_manifest, e)) < 0)
        return rc;
    if ((rc = build_fabric(sh, e)) < 0)
        return rc;
    if ((rc = build_guard(sh, e)) < 0)
        return rc;
    const unsigned char *key = (const unsigned char *)s.state_key;
    size_t key_len = s.state_key ? strlen(s.state_key) : 0;
    if (!key) {
        if (getrandom(sh->random_key, sizeof(sh->random_key), 0) != (ssize_t)sizeof(sh->random_key))
            return err_set(e, -errno, "no randomness for the requestState key");
        key = sh->random_key;
        key_len = sizeof(sh->random_key);
        LOG_WARN("TASKWIRE_STATE_KEY unset: requestState is only valid on this frontend");
    }
    *mcp = (struct mcp_server){sh->catalog,       sh->fabric,    s.task_ttl_ms, s.sync_task_ttl_ms,
                               s.poll_interval_ms, s.list_ttl_ms, key,           key_len,
                               s.state_ttl_s,      s.fixtures,    s.session_ttl_s};
    resources_register(&sh->content, s.fixtures);
    if ((rc = taskapp_register(&sh->content, e)) < 0)
        return rc;
    prompts_register(&sh->content, s.fixtures);
    mcp->content = &sh->content;
    if (!(mcp->creates = sh->creates = createq_new((int)s.create_batch, NULL)))
        return err_set(e, -ENOMEM, "out of memory");
    mcp->prompts_list_changed = s.fixtures; /* only the fixture test_trigger_prompt_change signals */
    mcp->tools_private = sh->verifier && catalog_has_tool_scopes(sh->catalog);
    return 0;
}

/* Serve until SIGTERM/SIGINT, then stop accepting and finish in-flight requests. */
static int serve(const struct shared *sh, const struct mcp_server *mcp, sigset_t *sigs,
                 struct err *e)
{
    struct http_cfg hc = {s.listen,          s.admin_listen,    (int)s.threads, s.max_body_bytes,
                          (int)s.max_connections, s.pg_dsn,     s.redis_addr,   sh->oauth,
                          s.allowed_origins, s.allowed_hosts,   s.sync_timeout_ms,
                          s.listen_max_ms,   mcp,               sh->guard,
                          (int)s.max_conns_per_address,         (int)s.idle_timeout_s,
                          s.header_timeout_ms, s.body_timeout_ms};
    struct http_server *http = http_start(&hc, e);
    if (!http)
        return failure(e);
    struct redispatcher *redispatcher = redispatch_start(s.pg_dsn, sh->fabric, s.redispatch_ms);
    if (!redispatcher) {
        http_stop(http);
        return err_set(e, -ENOMEM, "cannot start the redispatch thread");
    }
    LOG_INFO("frontend started", "listen", s.listen, "admin", s.admin_listen, "fabric",
             s.fabric_bind, "version", TASKWIRE_VERSION);
    int sig = 0;
    sigwait(sigs, &sig);
    LOG_INFO("stopping: finishing in-flight requests", "signal", sig == SIGTERM ? "TERM" : "INT");
    http_quiesce(http);
    http_stop(http);
    redispatch_stop(redispatcher);
    return 0;
}

static int run(void)
{
    bool loopback = strncmp(s.listen, "127.", 4) == 0 || strncmp(s.listen, "localhost:", 10) == 0;
    if (!s.allowed_origins)
        s.allowed_origins = loopback ? "loopback" : "";
    if (!s.allowed_hosts)
        s.allowed_hosts = loopback ? "loopback" : "*";
    metrics_build_info_register();
    store_metrics_register();
    notify_metrics_register();
    mcp_metrics_register();
    createq_metrics_register();
    zap_metrics_register();
    otlp_metrics_register();
    if (notify_set_auth(s.redis_addr, s.redis_user, s.redis_password) < 0)
        return EXIT_CONFIG; /* checked by check_settings() already */

    struct shared sh = {0};
    struct mcp_server mcp;
    struct err e = {0};
    int status = 0;
    sigset_t sigs;
    startup_block_signals(&sigs); /* every thread started from here on inherits the mask */
    store_set_relaxed_commit(s.relaxed_commit);
    if (otlp_start(s.otlp_endpoint, "taskwire-frontend", &e) < 0 ||
        build_shared(&sh, &mcp, &e) < 0 || serve(&sh, &mcp, &sigs, &e) < 0) {
        LOG_ERROR("cannot start", "error", e.msg);
        status = EXIT_START;
    }
    dispatch_free(sh.fabric);
    createq_free(sh.creates);
    guard_free(sh.guard);
    ratelimit_free(sh.rate);
    quota_free(sh.quota);
    fabkeys_allow_free(sh.workers);
    catalog_free(sh.catalog);
    oauth_free(sh.oauth);
    auth_verifier_free(sh.verifier);
    authfile_fini(&issuers_file);
    otlp_stop();
    return status;
}

/* Parse the settings (--help, --version, --check-config end here), then serve. */
int main(int argc, char **argv)
{
    startup_json_abort_on_oom();
    const struct startup sp = {
        .program = "taskwire-frontend",
        .service = "frontend",
        .usage = "usage: taskwire-frontend [options]\n\nServes MCP 2026-07-28 with the Tasks "
                 "extension (and 2025-11-25 / 2025-06-18 sessions) and pushes jobs to workers.",
        .opts = opts,
        .nopts = NOPTS,
        .log_level = &s.log_level,
        .log_text = &s.log_text,
        .check = check_settings,
    };
    int rc = startup_begin(&sp, argc, argv);
    int status = rc == STARTUP_RUN ? run() : rc == STARTUP_DONE ? 0 : EXIT_CONFIG;
    cfg_fini(opts, NOPTS);
    return status;
}
