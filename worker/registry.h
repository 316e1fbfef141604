/*
 * registry.h - this worker's row in the worker registry, and drain.
 *
 * The worker registers itself in PostgreSQL (common/opstore.h: id, host,
 * version, slots, the tools it runs) at start, refreshes the row (busy
 * slots, last seen) from its heartbeat thread every lease-ms / 3, and
 * deletes it on a clean stop.  Each refresh reads the draining flag an
 * operator sets (taskwire workers drain): a draining worker claims nothing
 * new (worker/runner.c asks registry_draining()) but finishes what it runs.
 * The refresh also adds the outcome counts and failures this worker saw
 * since the last one, and every sweep-ms the registry deletes rows of
 * workers not seen for three lease periods (dead workers).  A refresh that
 * cannot reach PostgreSQL is skipped and the flag keeps its last value.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_REGISTRY_H
#define TASKWIRE_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"

#define REGISTRY_DEAD_LEASES 3 /* a row not refreshed for this many lease periods is dead */
#define REGISTRY_FAILURES_MAX 32 /* failures kept between two refreshes (more are counted only) */

/* The registry's settings; strings are borrowed for the registry's life. */
struct registry_cfg {
    const char *pg_dsn;    /* libpq conninfo */
    const char *worker_id; /* this worker's id */
    int slots;             /* its slots */
    int64_t lease_ms;      /* refresh every lease_ms / 3; dead after REGISTRY_DEAD_LEASES */
    int64_t sweep_ms;      /* how often dead rows are deleted */
};

struct registry;

/* A registry for the tools of 'catalog' this worker runs; NULL only when out of memory.
 * Nothing is written before the first registry_tick(). */
struct registry *registry_new(const struct registry_cfg *cfg, const struct catalog *catalog);
/* On the heartbeat thread: register, refresh (with 'busy' slots) and expire when due at
 * monotonic 'now_ms'; cheap when nothing is due. */
void registry_tick(struct registry *reg, int busy, int64_t now_ms);
/* True while an operator has this worker draining (as of the last refresh); any thread. */
bool registry_draining(struct registry *reg);
/* Count an outcome of task 'id' of 'tool' ("completed", "failed"...); for failures,
 * 'error' (may be NULL) is the error object (JSON text) whose message is kept, or the
 * message itself when it is not JSON (a retryable failure's reason).  Any thread. */
void registry_outcome(struct registry *reg, const char *id, const char *tool,
                      const char *status, const char *error);
/* Flush counts, delete this worker's row and free; NULL is a no-op.  Call after the
 * heartbeat thread stopped. */
void registry_free(struct registry *reg);

#endif
