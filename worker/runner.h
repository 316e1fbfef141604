/*
 * runner.h - the worker runtime: fabric receive loop, slots, heartbeats,
 * cancellation and recovery.
 *
 * The runner receives from the fabric only when a slot is free, claims each
 * job in PostgreSQL (the envelope is only a hint), runs the tool on the slot's
 * thread, and finishes it with a write conditional on still owning it.  A
 * heartbeat thread renews leases and writes coalesced progress; a zero-row
 * heartbeat, a Redis cancel event or shutdown stops the tool.  When idle it
 * claims the oldest queued task straight from PostgreSQL, and it runs the
 * sweeper, so a lost message or a dead worker costs latency, never a task.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_RUNNER_H
#define TASKWIRE_RUNNER_H

#include <stdint.h>

#include "catalog.h"
#include "err.h"

struct runner_cfg {
    const char *fabric_connect; /* comma-separated frontend endpoints: tcp://host:port, or
                                   dns://name:port resolved to every address it has */
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
};

struct runner;

/* Connect sockets and start slot threads; NULL with err set. */
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
