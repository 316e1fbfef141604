/*
 * clock.h - the one place that reads clocks and turns durations into deadlines.
 *
 * Monotonic milliseconds for intervals, deadlines and timeouts; wall-clock
 * milliseconds only for timestamps a human or another host reads.  Condition
 * variables made here wait on the monotonic clock, so a wall-clock jump never
 * shortens or stretches a wait.  No allocation, no global state.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CLOCK_H
#define TASKWIRE_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC (arbitrary origin; only differences mean anything). */
int64_t clock_now_ms(void);
/* Microseconds on CLOCK_MONOTONIC (for durations shorter than a millisecond). */
int64_t clock_now_us(void);
/* Milliseconds since the Unix epoch on CLOCK_REALTIME. */
int64_t clock_wall_ms(void);
/* Microseconds since the Unix epoch on CLOCK_REALTIME (compared across processes). */
int64_t clock_wall_us(void);
/* The absolute CLOCK_MONOTONIC time 'ms' from now, for pthread_cond_timedwait on a
 * condition variable made by clock_cond_init(). */
struct timespec clock_deadline_in(int64_t ms);
/* Initialise 'cv' to wait on CLOCK_MONOTONIC; 0 or a pthread error number. */
int clock_cond_init(pthread_cond_t *cv);
/* Sleep 'ms' (resumed after signals); negative or zero returns at once. */
void clock_sleep_ms(int64_t ms);

#endif
