/*
 * clock.c - monotonic and wall-clock milliseconds, deadlines, sleeping.
 *
 * Thin wrappers over clock_gettime(2) and clock_nanosleep(2) so that every
 * module measures time the same way.  It does not keep timers or schedule
 * anything.  Invariant: intervals are measured on CLOCK_MONOTONIC only.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "clock.h"

#include <errno.h>

static int64_t timespec_ms(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

/* Milliseconds on CLOCK_MONOTONIC.  Thread-safe. */
int64_t clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return timespec_ms(&ts);
}

/* Microseconds on CLOCK_MONOTONIC.  Thread-safe. */
int64_t clock_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Milliseconds since the epoch on CLOCK_REALTIME.  Thread-safe. */
int64_t clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return timespec_ms(&ts);
}

/* Microseconds since the epoch on CLOCK_REALTIME.  Thread-safe. */
int64_t clock_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * The CLOCK_MONOTONIC time 'ms' milliseconds from now (negative counts as 0),
 * normalised so that tv_nsec < 1e9.  Thread-safe.
 */
struct timespec clock_deadline_in(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (ms < 0)
        ms = 0;
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/*
 * Initialise 'cv' with the CLOCK_MONOTONIC attribute, so that deadlines from
 * clock_deadline_in() apply.  Returns 0 or the pthread error number; the
 * caller destroys it with pthread_cond_destroy().
 */
int clock_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    int rc = pthread_condattr_init(&a);
    if (rc != 0)
        return rc;
    rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
    return rc;
}

/* Sleep 'ms' milliseconds on CLOCK_MONOTONIC, resuming after signal handlers. */
void clock_sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec until = clock_deadline_in(ms);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
        ;
}
