/*
 * registry.c - this worker's registry row: register, refresh, drain flag,
 * outcome counts, expiry of dead rows.
 *
 * The statements are common/opstore.c's.  Threads: registry_tick() runs on
 * the heartbeat thread only and owns the connection; registry_outcome() is
 * called from slot threads and registry_draining() from the receive loop,
 * so the pending counts sit behind 'mu' and the flag is atomic.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "registry.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "opstore.h"
#include "toolrun.h"

struct registry {
    struct registry_cfg cfg;  /* settings (strings borrowed) */
    struct opstore *os;       /* heartbeat thread's connection */
    char host[128];           /* host name */
    char *tools;              /* JSON array of the tools this worker runs */
    bool registered;          /* the row was written since the last failure */
    int64_t next_refresh_ms;  /* monotonic */
    int64_t next_expire_ms;   /* monotonic */
    atomic_bool draining;     /* as of the last refresh */
    pthread_mutex_t mu;       /* guards the two below */
    json_t *counts;           /* "tool\tstatus" -> count since the last flush */
    json_t *failures;         /* [[task id, tool, message]...] since the last flush */
};

/* The names of the catalog's tools this worker can run, as JSON text. */
static char *runnable_tools(const struct catalog *catalog)
{
    json_t *list = catalog_list(catalog), *names = json_array(), *def;
    size_t i;
    json_array_foreach(list, i, def) {
        const char *name = json_string_value(json_object_get(def, "name"));
        if (name && toolrun_available(catalog, name))
            json_array_append_new(names, json_string(name));
    }
    char *text = names ? json_dumps(names, JSON_COMPACT) : NULL;
    json_decref(list);
    json_decref(names);
    return text;
}

/* A registry for this worker; nothing is written yet. */
struct registry *registry_new(const struct registry_cfg *cfg, const struct catalog *catalog)
{
    struct registry *reg = calloc(1, sizeof(*reg));
    if (!reg)
        return NULL;
    reg->cfg = *cfg;
    gethostname(reg->host, sizeof(reg->host) - 1);
    pthread_mutex_init(&reg->mu, NULL);
    reg->os = opstore_new(cfg->pg_dsn, "taskwire-worker-registry");
    reg->tools = runnable_tools(catalog);
    reg->counts = json_object();
    reg->failures = json_array();
    if (!reg->os || !reg->tools || !reg->counts || !reg->failures) {
        registry_free(reg);
        return NULL;
    }
    return reg;
}

/* Take the pending counts and failures as one batch (JSON text), or NULL when none. */
static char *take_batch(struct registry *reg)
{
    pthread_mutex_lock(&reg->mu);
    json_t *counts = reg->counts, *failures = reg->failures;
    bool empty = json_object_size(counts) == 0 && json_array_size(failures) == 0;
    if (!empty) {
        reg->counts = json_object();
        reg->failures = json_array();
    }
    pthread_mutex_unlock(&reg->mu);
    if (empty)
        return NULL;
    json_t *outcomes = json_array(), *v;
    const char *key;
    json_object_foreach(counts, key, v) {
        const char *tab = strchr(key, '\t');
        json_array_append_new(outcomes, json_pack("[s#si]", key, (int)(tab - key), tab + 1,
                                                  (int)json_integer_value(v)));
    }
    json_t *batch = json_pack("{soso}", "outcomes", outcomes, "failures", failures);
    char *text = batch ? json_dumps(batch, JSON_COMPACT) : NULL;
    json_decref(batch);
    json_decref(counts);
    return text;
}

/* Register or refresh the row and add the pending counts; read the draining flag. */
static void refresh(struct registry *reg, int busy)
{
    struct err e = {0};
    bool draining = atomic_load(&reg->draining);
    const struct opstore_worker w = {reg->cfg.worker_id, reg->host, TASKWIRE_VERSION,
                                     reg->cfg.slots, reg->tools};
    int rc = reg->registered ? opstore_refresh(reg->os, w.id, busy, &draining, &e) : -1;
    if (rc == -OPSTORE_ENOTFOUND || !reg->registered) {
        if ((rc = opstore_register(reg->os, &w, &e)) == 0)
            rc = opstore_refresh(reg->os, w.id, busy, &draining, &e);
        if (rc == 0 && !reg->registered)
            LOG_INFO("registered in the worker registry", "worker", w.id);
    }
    reg->registered = rc == 0;
    if (rc < 0) {
        LOG_WARN("worker registry refresh failed", "error", e.msg);
        return;
    }
    if (draining != atomic_exchange(&reg->draining, draining))
        LOG_INFO(draining ? "draining: no new work will be taken" : "drain lifted: taking work",
                 "worker", w.id);
    char *batch = take_batch(reg);
    if (batch && opstore_add_outcomes(reg->os, batch, &e) < 0)
        LOG_WARN("outcome counts lost", "error", e.msg);
    free(batch);
}

/* Register, refresh and expire when due. */
void registry_tick(struct registry *reg, int busy, int64_t now_ms)
{
    if (now_ms >= reg->next_refresh_ms) {
        refresh(reg, busy);
        reg->next_refresh_ms = now_ms + reg->cfg.lease_ms / 3;
    }
    if (now_ms >= reg->next_expire_ms && reg->registered) { /* not while PostgreSQL is away */
        int removed = 0;
        struct err e = {0};
        if (opstore_expire(reg->os, reg->cfg.lease_ms * REGISTRY_DEAD_LEASES, &removed, &e) == 0 &&
            removed > 0) {
            char n[16];
            snprintf(n, sizeof(n), "%d", removed);
            LOG_INFO("worker registry: dead workers removed", "count", n);
        }
        reg->next_expire_ms = now_ms + reg->cfg.sweep_ms;
    }
}

/* The draining flag as of the last refresh. */
bool registry_draining(struct registry *reg)
{
    return atomic_load(&reg->draining);
}

/* Count an outcome (and keep a failure's message) until the next refresh. */
void registry_outcome(struct registry *reg, const char *id, const char *tool,
                      const char *status, const char *error)
{
    char key[256];
    snprintf(key, sizeof(key), "%s\t%s", tool, status);
    json_t *err = NULL;
    const char *msg = NULL;
    if (error && (err = json_loads(error, 0, NULL)) && json_is_object(err))
        msg = json_string_value(json_object_get(err, "message"));
    else
        msg = error; /* a plain message (a retry's reason) */
    pthread_mutex_lock(&reg->mu);
    json_int_t n = json_integer_value(json_object_get(reg->counts, key));
    json_object_set_new(reg->counts, key, json_integer(n + 1));
    if (strcmp(status, "failed") == 0 && json_array_size(reg->failures) < REGISTRY_FAILURES_MAX)
        json_array_append_new(reg->failures, json_pack("[sss?]", id, tool, msg));
    pthread_mutex_unlock(&reg->mu);
    json_decref(err);
}

/* Flush what is pending, delete this worker's row, free. */
void registry_free(struct registry *reg)
{
    if (!reg)
        return;
    if (reg->os && reg->registered) {
        char *batch = take_batch(reg);
        if (batch && opstore_add_outcomes(reg->os, batch, NULL) < 0)
            LOG_WARN("outcome counts lost at stop");
        free(batch);
        if (opstore_deregister(reg->os, reg->cfg.worker_id, NULL) == 0)
            LOG_INFO("left the worker registry", "worker", reg->cfg.worker_id);
    }
    opstore_free(reg->os);
    free(reg->tools);
    json_decref(reg->counts);
    json_decref(reg->failures);
    pthread_mutex_destroy(&reg->mu);
    free(reg);
}
