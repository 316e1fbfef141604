/*
 * main.c - taskwire-worker: runs task jobs from the fabric.
 *
 * Reads settings, starts the runtime and the admin server, runs the receive
 * loop on the main thread until SIGTERM/SIGINT, then drains gracefully.
 * Exit codes: 0 clean stop, 2 bad configuration, 3 start-up failure.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "catalog.h"
#include "fabkeys.h"
#include "cfg.h"
#include "log.h"
#include "manifest.h"
#include "metrics.h"
#include "notify.h"
#include "otlp.h"
#include "runner.h"
#include "startup.h"
#include "store.h"

#define EXIT_CONFIG 2
#define EXIT_START 3

struct settings {
    const char *fabric_connect, *pg_dsn, *redis_addr, *worker_id, *admin_listen, *log_level;
    const char *tools_manifest, *fabric_server_key, *fabric_secret_key;
    const char *redis_user, *redis_password, *otlp_endpoint;
    int64_t slots, lease_ms, progress_ms, idle_poll_ms, sweep_ms, grace_ms, resolve_ms;
    int64_t owner_max_running, reserved_slots;
    bool log_text, fixtures, fabric_insecure, redis_insecure, relaxed_commit;
};

static struct settings s;
static char default_id[128]; /* hostname-pid, filled in by main() before loading */

static const struct cfg_opt opts[] = {
    {"fabric-connect", CFG_STR, "tcp://127.0.0.1:7100",
     "comma-separated frontend endpoints: tcp://host:port, or dns://name:port for every "
     "address of a name (e.g. a Kubernetes headless Service)",
     &s.fabric_connect},
    {"fabric-server-key", CFG_STR, NULL,
     "the frontends' Z85 CURVE public key (taskwire fabric-keygen)", &s.fabric_server_key},
    {"fabric-secret-key", CFG_STR, NULL,
     "this worker's Z85 CURVE secret key; its public key must be on the frontends' list",
     &s.fabric_secret_key, 0, 0, true},
    {"fabric-insecure", CFG_BOOL, "false",
     "a plain fabric without CURVE (local development only; logged)", &s.fabric_insecure},
    {"fabric-resolve-ms", CFG_INT, "10000", "how often dns:// fabric names are resolved again",
     &s.resolve_ms, 100, 3600000},
    {"pg-dsn", CFG_STR, "", "libpq connection string (PG* variables fill the rest)", &s.pg_dsn, 0,
     0, true},
    {"redis-addr", CFG_STR, "127.0.0.1:6379", "Redis host:port for cancel events (\"\" = off)",
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
    {"worker-id", CFG_STR, default_id, "unique worker name (default hostname-pid)", &s.worker_id},
    {"slots", CFG_INT, "4", "tasks run at once", &s.slots, 1, 1024},
    {"owner-max-running", CFG_INT, "0",
     "running tasks one owner may hold across all workers (0 = no cap; soft by the number of "
     "workers claiming at the same moment)",
     &s.owner_max_running, 0, 1000000},
    {"reserved-slots", CFG_INT, "1",
     "free slots kept for owners with nothing running, so one owner's backlog never holds "
     "every slot (at most slots - 1)",
     &s.reserved_slots, 0, 1024},
    {"lease-ms", CFG_INT, "15000", "task lease; renewed every third of it", &s.lease_ms, 1000,
     3600000},
    {"progress-ms", CFG_INT, "250", "minimum gap between progress writes of one task",
     &s.progress_ms, 10, 60000},
    {"idle-poll-ms", CFG_INT, "500", "how often an idle worker claims queued tasks from PostgreSQL",
     &s.idle_poll_ms, 50, 60000},
    {"sweep-ms", CFG_INT, "1000", "how often expired leases and TTLs are swept", &s.sweep_ms, 100,
     600000},
    {"grace-ms", CFG_INT, "10000", "on SIGTERM, how long running tasks may finish", &s.grace_ms, 0,
     3600000},
    {"admin-listen", CFG_STR, "127.0.0.1:9090", "admin address (/metrics /healthz /readyz)",
     &s.admin_listen},
    {"otlp-endpoint", CFG_STR, "", "OTLP/HTTP base URL spans are exported to (JSON; empty = off)",
     &s.otlp_endpoint},
    {"tools-manifest", CFG_STR, NULL, "JSON manifest of external-process tools to run",
     &s.tools_manifest},
    {"fixtures", CFG_BOOL, "false",
     "also serve the conformance-suite fixture tools (test deployments only)", &s.fixtures},
    STARTUP_LOG_OPTIONS(&s.log_level, &s.log_text),
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

/* The checks --check-config runs too: CURVE keys unless the fabric is insecure. */
static int check_settings(void *arg, struct err *e)
{
    int rc = notify_check_auth(s.redis_addr, s.redis_password, s.redis_insecure, e);
    if (rc < 0)
        return rc;
    if (s.fabric_insecure)
        return 0;
    if (!s.fabric_server_key || !s.fabric_secret_key)
        return err_set(e, -CFG_EINVALID,
                       "the fabric needs TASKWIRE_FABRIC_SERVER_KEY and TASKWIRE_FABRIC_SECRET_KEY "
                       "(or _FILE), or TASKWIRE_FABRIC_INSECURE=true for local development");
    uint8_t raw[FABKEYS_KEY_LEN];
    struct err ke = {0};
    if (fabkeys_decode(s.fabric_server_key, raw, &ke) < 0)
        return err_set(e, -CFG_EINVALID, "TASKWIRE_FABRIC_SERVER_KEY: %s", ke.msg);
    if (fabkeys_decode(s.fabric_secret_key, raw, &ke) < 0)
        return err_set(e, -CFG_EINVALID, "TASKWIRE_FABRIC_SECRET_KEY: %s", ke.msg);
    return 0;
}

struct signal_waiter {
    sigset_t set;     /* signals to wait for */
    struct runner *r; /* told to stop */
};

static void *stop_on_signal(void *arg)
{
    struct signal_waiter *w = arg;
    int sig = 0;
    sigwait(&w->set, &sig);
    LOG_INFO("stopping", "signal", sig == SIGTERM ? "TERM" : "INT");
    runner_stop(w->r);
    return NULL;
}

/* Register the process-wide metrics and start span export (when configured). */
static int start_telemetry(struct err *e)
{
    metrics_build_info_register();
    store_metrics_register();
    notify_metrics_register();
    otlp_metrics_register();
    return otlp_start(s.otlp_endpoint, "taskwire-worker", e);
}

/* Build the catalog and the runtime, serve until a stop signal, drain; an exit code. */
static int run(void)
{
    struct signal_waiter waiter = {0};
    startup_block_signals(&waiter.set);
    if (notify_set_auth(s.redis_addr, s.redis_user, s.redis_password) < 0)
        return EXIT_CONFIG; /* checked by check_settings() already */

    int status = EXIT_START;
    struct err e = {0};
    struct admin_server *admin = NULL;
    struct runner *runner = NULL;
    struct catalog *catalog = catalog_new(s.fixtures, &e);
    if (!catalog || (s.tools_manifest && manifest_load(catalog, s.tools_manifest, &e) < 0))
        goto out_fail;
    struct runner_cfg rc_cfg = {
        .fabric_connect = s.fabric_connect,
        .fabric_server_key = s.fabric_insecure ? NULL : s.fabric_server_key,
        .fabric_secret_key = s.fabric_secret_key,
        .pg_dsn = s.pg_dsn,
        .redis_addr = s.redis_addr,
        .worker_id = s.worker_id,
        .slots = (int)s.slots,
        .lease_ms = s.lease_ms,
        .progress_ms = s.progress_ms,
        .idle_poll_ms = s.idle_poll_ms,
        .sweep_ms = s.sweep_ms,
        .grace_ms = s.grace_ms,
        .resolve_ms = s.resolve_ms,
        .owner_max_running = (int)s.owner_max_running,
        .reserved_slots = (int)s.reserved_slots,
    };
    if (s.fabric_insecure)
        LOG_WARN("the fabric is NOT authenticated (TASKWIRE_FABRIC_INSECURE=true): this worker "
                 "takes jobs from any peer; use only for local development");
    if (start_telemetry(&e) < 0)
        goto out_fail;
    if (!(runner = runner_new(&rc_cfg, catalog, &e)))
        goto out_fail;
    if (*s.admin_listen && !(admin = admin_start(s.admin_listen, runner_ready, runner, &e)))
        goto out_fail;
    waiter.r = runner;
    pthread_t sig_thread;
    int prc = pthread_create(&sig_thread, NULL, stop_on_signal, &waiter);
    if (prc != 0) {
        err_set(&e, -prc, "cannot start the signal thread: %s", strerror(prc));
        goto out_fail;
    }
    pthread_detach(sig_thread);
    LOG_INFO("worker started", "worker", s.worker_id, "fabric", s.fabric_connect, "admin",
             s.admin_listen, "version", TASKWIRE_VERSION);
    runner_run(runner);
    status = 0;
    goto out_free;

out_fail:
    LOG_ERROR("cannot start", "error", e.msg);
out_free:
    admin_stop(admin);
    runner_free(runner);
    otlp_stop();
    catalog_free(catalog);
    return status;
}

int main(int argc, char **argv)
{
    startup_json_abort_on_oom();
    char host[64] = "worker";
    gethostname(host, sizeof(host) - 1);
    snprintf(default_id, sizeof(default_id), "%s-%d", host, (int)getpid());
    const struct startup sp = {
        .program = "taskwire-worker",
        .service = "worker",
        .usage = "usage: taskwire-worker [options]\n\nRuns taskwire task jobs pushed by the "
                 "frontends.",
        .opts = opts,
        .nopts = NOPTS,
        .log_level = &s.log_level,
        .log_text = &s.log_text,
        .check = check_settings,
    };
    int rc = startup_begin(&sp, argc, argv);
    if (rc == STARTUP_RUN)
        store_set_relaxed_commit(s.relaxed_commit); /* before any connection */
    int status = rc == STARTUP_RUN ? run() : rc == STARTUP_DONE ? 0 : EXIT_CONFIG;
    cfg_fini(opts, NOPTS);
    return status;
}
