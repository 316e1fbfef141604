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
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "auth.h"
#include "catalog.h"
#include "cfg.h"
#include "dispatch.h"
#include "http.h"
#include "log.h"
#include "manifest.h"
#include "mcp.h"
#include "redispatch.h"
#include "state.h"

#define EXIT_CONFIG 2
#define EXIT_START 3

struct settings {
    const char *listen, *admin_listen, *fabric_bind, *pg_dsn, *redis_addr;
    const char *auth, *jwks_file, *auth_issuer, *auth_audience, *log_level, *tools_manifest;
    const char *allowed_origins, *allowed_hosts, *state_key;
    int64_t threads, max_body_bytes, max_connections, task_ttl_ms, poll_interval_ms;
    int64_t list_ttl_ms, auth_leeway_s, sync_timeout_ms, listen_max_ms, state_ttl_s;
    int64_t sync_task_ttl_ms, redispatch_ms;
    bool log_text, fixtures;
};

int main(int argc, char **argv)
{
    struct settings s;
    const struct cfg_opt opts[] = {
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
        {"jwks-file", CFG_STR, NULL, "JWKS file with the token signing keys (auth=jwt)",
         &s.jwks_file},
        {"auth-issuer", CFG_STR, NULL, "required token issuer (iss)", &s.auth_issuer},
        {"auth-audience", CFG_STR, NULL, "required token audience: this server's MCP URL",
         &s.auth_audience},
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
        {"list-ttl-ms", CFG_INT, "60000", "caching ttlMs of tools/list and server/discover",
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
        {"fixtures", CFG_BOOL, "false",
         "also serve the conformance-suite fixture tools (test deployments only)", &s.fixtures},
        {"log-level", CFG_STR, "info", "debug, info, warn or error", &s.log_level},
        {"log-text", CFG_BOOL, "false", "human-readable logs instead of JSON lines", &s.log_text},
    };
    const size_t n = sizeof(opts) / sizeof(opts[0]);
    struct err e = {0};
    int rc = cfg_load(opts, n, argc, argv, NULL, &e);
    if (rc == CFG_HELP) {
        cfg_print_help(stdout, "usage: taskwire-frontend [options]\n\nServes MCP 2026-07-28 "
                               "with the Tasks extension and pushes jobs to workers.",
                       opts, n);
        return 0;
    }
    if (rc == CFG_VERSION) {
        printf("taskwire-frontend %s\n", TASKWIRE_VERSION);
        return 0;
    }
    enum log_level level = LOGL_INFO;
    if (rc >= 0 && log_level_parse(s.log_level, &level) < 0)
        rc = err_set(&e, -CFG_EINVALID, "TASKWIRE_LOG_LEVEL: '%s' is not a level", s.log_level);
    bool auth_none = rc >= 0 && strcmp(s.auth, "none") == 0;
    if (rc >= 0 && !auth_none && strcmp(s.auth, "jwt") != 0)
        rc = err_set(&e, -CFG_EINVALID, "TASKWIRE_AUTH: '%s' is not jwt or none", s.auth);
    if (rc >= 0 && !auth_none && (!s.jwks_file || !s.auth_issuer || !s.auth_audience))
        rc = err_set(&e, -CFG_EINVALID,
                     "auth=jwt needs TASKWIRE_JWKS_FILE, TASKWIRE_AUTH_ISSUER and "
                     "TASKWIRE_AUTH_AUDIENCE (or TASKWIRE_AUTH=none for local development)");
    if (rc >= 0 && s.state_key && strlen(s.state_key) < STATE_KEY_MIN)
        rc = err_set(&e, -CFG_EINVALID, "TASKWIRE_STATE_KEY must be at least %d bytes",
                     STATE_KEY_MIN);
    if (rc < 0) {
        fprintf(stderr, "taskwire-frontend: %s\n", e.msg);
        return EXIT_CONFIG;
    }
    if (rc == CFG_PRINT || rc == CFG_CHECK) {
        if (rc == CFG_PRINT)
            cfg_print(stdout, opts, n);
        return 0;
    }
    log_init("frontend", level, s.log_text);
    bool loopback = strncmp(s.listen, "127.", 4) == 0 || strncmp(s.listen, "localhost:", 10) == 0;
    if (!s.allowed_origins)
        s.allowed_origins = loopback ? "loopback" : "";
    if (!s.allowed_hosts)
        s.allowed_hosts = loopback ? "loopback" : "*";

    int status = EXIT_START;
    struct auth_verifier *verifier = NULL;
    struct catalog *catalog = NULL;
    struct dispatch *fabric = NULL;
    struct http_server *http = NULL;
    struct redispatcher *redispatcher = NULL;
    if (auth_none) {
        LOG_WARN("authentication is DISABLED (TASKWIRE_AUTH=none): every caller is one owner; "
                 "use only for local development");
    } else {
        struct auth_config ac = {s.jwks_file, s.auth_issuer, s.auth_audience,
                                 (int)s.auth_leeway_s};
        if (!(verifier = auth_verifier_new(&ac, &e)))
            goto out_fail;
    }
    if (!(catalog = catalog_new(s.fixtures, &e)) ||
        (s.tools_manifest && manifest_load(catalog, s.tools_manifest, &e) < 0) ||
        !(fabric = dispatch_new(s.fabric_bind, &e)))
        goto out_fail;
    mcp_metrics_register();
    unsigned char random_key[STATE_KEY_MIN];
    const unsigned char *key = (const unsigned char *)s.state_key;
    size_t key_len = s.state_key ? strlen(s.state_key) : 0;
    if (!key) {
        if (getrandom(random_key, sizeof(random_key), 0) != (ssize_t)sizeof(random_key)) {
            err_set(&e, -1, "no randomness for the requestState key");
            goto out_fail;
        }
        key = random_key;
        key_len = sizeof(random_key);
        LOG_WARN("TASKWIRE_STATE_KEY unset: requestState is only valid on this frontend");
    }
    struct mcp_server mcp = {catalog,          fabric,        s.task_ttl_ms, s.sync_task_ttl_ms,
                             s.poll_interval_ms, s.list_ttl_ms, key,           key_len,
                             s.state_ttl_s,     s.fixtures};
    struct http_cfg hc = {s.listen,  s.admin_listen,      (int)s.threads, s.max_body_bytes,
                          (int)s.max_connections, s.pg_dsn, s.redis_addr, verifier,
                          s.allowed_origins, s.allowed_hosts, s.sync_timeout_ms,
                          s.listen_max_ms, &mcp};

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* threads started below inherit the mask */
    signal(SIGPIPE, SIG_IGN);
    if (!(http = http_start(&hc, &e)))
        goto out_fail;
    if (!(redispatcher = redispatch_start(s.pg_dsn, fabric, s.redispatch_ms))) {
        err_set(&e, -1, "cannot start the redispatch thread");
        http_stop(http);
        goto out_fail;
    }
    LOG_INFO("frontend started", "listen", s.listen, "admin", s.admin_listen, "fabric",
             s.fabric_bind, "version", TASKWIRE_VERSION);
    int sig = 0;
    sigwait(&sigs, &sig);
    LOG_INFO("stopping: finishing in-flight requests", "signal", sig == SIGTERM ? "TERM" : "INT");
    http_quiesce(http);
    http_stop(http);
    redispatch_stop(redispatcher);
    status = 0;
    goto out_free;

out_fail:
    LOG_ERROR("cannot start", "error", e.msg);
out_free:
    dispatch_free(fabric);
    catalog_free(catalog);
    auth_verifier_free(verifier);
    cfg_fini(opts, n);
    return status;
}
