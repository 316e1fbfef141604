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

#include "auth.h"
#include "authfile.h"
#include "catalog.h"
#include "cfg.h"
#include "dispatch.h"
#include "http.h"
#include "log.h"
#include "manifest.h"
#include "mcp.h"
#include "oauth.h"
#include "prompts.h"
#include "redispatch.h"
#include "resources.h"
#include "startup.h"
#include "state.h"

#define EXIT_CONFIG 2
#define EXIT_START 3

struct settings {
    const char *listen, *admin_listen, *fabric_bind, *pg_dsn, *redis_addr;
    const char *auth, *jwks_file, *auth_issuer, *auth_audience, *log_level, *tools_manifest;
    const char *allowed_origins, *allowed_hosts, *state_key, *resource, *issuers_file, *jwks_url;
    const char *auth_ca_file;
    int64_t jwks_ttl_s, jwks_cooldown_s;
    int64_t threads, max_body_bytes, max_connections, task_ttl_ms, poll_interval_ms;
    int64_t list_ttl_ms, auth_leeway_s, sync_timeout_ms, listen_max_ms, state_ttl_s;
    int64_t sync_task_ttl_ms, redispatch_ms, session_ttl_s;
    bool log_text, fixtures;
};

static struct settings s;

static const struct cfg_opt opts[] = {
    {"listen", CFG_STR, "127.0.0.1:8080", "public MCP HTTP address (POST /mcp)", &s.listen},
    {"admin-listen", CFG_STR, "127.0.0.1:9080", "admin address (/metrics /healthz /readyz)",
     &s.admin_listen},
    {"fabric-bind", CFG_STR, "tcp://127.0.0.1:7100", "ZeroMQ PUSH endpoint workers connect to",
     &s.fabric_bind},
    {"pg-dsn", CFG_STR, "", "libpq connection string (PG* variables fill the rest)",
     &s.pg_dsn, 0, 0, true},
    {"redis-addr", CFG_STR, "127.0.0.1:6379", "Redis host:port for event fan-out (\"\" = off)",
     &s.redis_addr},
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
    {"fixtures", CFG_BOOL, "false",
     "also serve the conformance-suite fixture tools, resources and prompts (test deployments "
     "only)",
     &s.fixtures},
    STARTUP_LOG_OPTIONS(&s.log_level, &s.log_text),
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

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

/* The checks --check-config runs too: the auth mode and its settings, the state key. */
static int check_settings(void *arg, struct err *e)
{
    (void)arg;
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
    return 0;
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
    unsigned char random_key[STATE_KEY_MIN]; /* requestState key when none is configured */
    struct content content;              /* resources, templates and prompts served */
};

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
    if (s.tools_manifest && (rc = manifest_load(sh->catalog, s.tools_manifest, e)) < 0)
        return rc;
    if (!(sh->fabric = dispatch_new(s.fabric_bind, e)))
        return failure(e);
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
    prompts_register(&sh->content, s.fixtures);
    mcp->content = &sh->content;
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
                          s.listen_max_ms,   mcp};
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
    mcp_metrics_register();

    struct shared sh = {0};
    struct mcp_server mcp;
    struct err e = {0};
    int status = 0;
    sigset_t sigs;
    startup_block_signals(&sigs); /* every thread started from here on inherits the mask */
    if (build_shared(&sh, &mcp, &e) < 0 || serve(&sh, &mcp, &sigs, &e) < 0) {
        LOG_ERROR("cannot start", "error", e.msg);
        status = EXIT_START;
    }
    dispatch_free(sh.fabric);
    catalog_free(sh.catalog);
    oauth_free(sh.oauth);
    auth_verifier_free(sh.verifier);
    authfile_fini(&issuers_file);
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
