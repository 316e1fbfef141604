/*
 * runner.h - the worker runtime: slots, heartbeats, cancellation, recovery
 * and the sweeper.
 *
 * The runner takes a job only when a slot is free, from the fabric
 * (worker/fabric.h) or straight from PostgreSQL when idle; it claims each job
 * in PostgreSQL (the envelope is only a hint), runs the tool on the slot's
 * thread through the tool API (worker/toolctx.h), and finishes it with a
 * write conditional on still owning it.  A heartbeat thread renews leases and
 * writes coalesced progress; a zero-row heartbeat, a Redis cancel event or
 * shutdown stops the tool.  It runs the sweeper, so a lost message or a dead
 * worker costs latency, never a task.  The heartbeat thread also keeps this
 * worker's row in the worker registry (worker/registry.h); while an operator
 * drains the worker it claims nothing new.  It does not implement tools or
 * decode the fabric.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_RUNNER_H
#define TASKWIRE_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "err.h"

struct runner_cfg {
    const char *fabric_connect; /* comma-separated frontend endpoints: tcp://host:port, or
                                   dns://name:port resolved to every address it has */
    const char *fabric_server_key; /* the frontends' Z85 CURVE public key, NULL = insecure */
    const char *fabric_secret_key; /* this worker's Z85 CURVE secret key */
    const char *pg_dsn;         /* libpq conninfo */
    const char *redis_addr;     /* "host:port" for cancel events, "" = heartbeat only */
    const char *worker_id;      /* unique name of this worker */
    int slots;                  /* tasks run at once */
    int64_t lease_ms;           /* lease length; renewed every lease_ms / 3 */
    int64_t progress_ms;        /* minimum gap between progress writes of one task */
    int64_t idle_poll_ms;       /* how often an idle worker looks for queued tasks */
    int64_t sweep_ms;           /* how often this worker runs the sweeper */
    int64_t grace_ms;           /* on shutdown, how long running tasks may finish */
    int64_t resolve_ms;         /* how often dns:// entries are resolved again */
    int owner_max_running;      /* running tasks per owner, cluster-wide; 0 = no cap */
    int reserved_slots;         /* free slots kept for owners with nothing running */
};

enum runner_error {
    RUNNER_ENOMEM = 1, /* allocation failed */
    RUNNER_ESTART,     /* a slot or the heartbeat thread could not be started */
};

struct runner;

/* Connect the fabric and start slot threads (a new runner); NULL with err set. */
struct runner *runner_new(const struct runner_cfg *cfg, const struct catalog *catalog,
                          struct err *err);
/* Run the receive loop until runner_stop(); then drain within the grace period. */
void runner_run(struct runner *r);
/* Ask runner_run to return; async-signal-safe. */
void runner_stop(struct runner *r);
/* True when this worker's PostgreSQL connection answers (for /readyz). */
bool runner_ready(void *r);
/* Stop threads and free; NULL is a no-op. */
void runner_free(struct runner *r);

#endif
