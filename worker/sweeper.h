/*
 * sweeper.h - the recovery pass every worker runs: expired leases, expired
 * rows, and the cluster-wide queue gauges.
 *
 * Safe to run in every worker at once (the store's statements use FOR UPDATE
 * SKIP LOCKED); a pass that cannot reach PostgreSQL is skipped.  Does not
 * claim or run tasks.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_SWEEPER_H
#define TASKWIRE_SWEEPER_H

#include <stdint.h>

#include "notify.h"
#include "store.h"

/* One pass on 'st': requeue or fail expired leases (lease length 'lease_ms'), delete rows
 * past their TTL, publish a change event on 'pub' for every task it moved, and set the
 * queue gauges.  Not thread-safe per store. */
void sweeper_pass(struct store *st, struct notify_pub *pub, int64_t lease_ms);
/* Register the sweeper's gauges and counters; call once before serving. */
void sweeper_metrics_register(void);

#endif
