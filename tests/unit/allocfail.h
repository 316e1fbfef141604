/*
 * allocfail.h - an allocation seam for unit tests: count every allocation,
 * make the N-th one fail, and run an operation once per possible failure.
 *
 * Our own code's malloc, calloc, realloc, free, strdup and strndup reach the
 * seam through the linker (-Wl,--wrap=..., added by tw_allocfail() in
 * tests/CMakeLists.txt); jansson's and OpenSSL's allocations through their
 * allocator hooks, which allocfail_install() sets first thing in main().
 * Other shared libraries (libc included) allocate behind its back.  Live
 * blocks are tracked by address, so a block allocated before main or inside
 * libc and freed through the seam leaves the counts alone.  After jansson's
 * test_chaos.c.  Single-threaded tests only.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_TEST_ALLOCFAIL_H
#define TASKWIRE_TEST_ALLOCFAIL_H

#include <stdbool.h>
#include <stddef.h>

#define ALLOCFAIL_NEVER    (-1L)  /* allocfail_arm(): count allocations, fail none */
#define ALLOCFAIL_MAX_RUNS 100000 /* allocfail_loop() gives up past this many allocations */

/* Route jansson and OpenSSL through the seam; call before either allocates.  0, or -1 when
 * OpenSSL had already allocated (the test must then fail). */
int allocfail_install(void);
/* From now on, fail allocation number 'n' (0 = the next one) and no other; reset the count. */
void allocfail_arm(long n);
/* Stop failing; true when the armed failure happened since allocfail_arm(). */
bool allocfail_disarm(void);
/* Allocation attempts (failed ones included) since the last allocfail_arm(). */
unsigned long allocfail_count(void);
/* Blocks allocated through the seam and not freed yet. */
size_t allocfail_live(void);

/* One run of the operation under test, with an allocation armed to fail; returns its code. */
typedef int allocfail_run_fn(void *arg);
/* After the run, allocations no longer failing: assert (cmocka) that 'rc' is an allowed
 * outcome given 'failed' (whether the armed allocation failed), then free every result. */
typedef void allocfail_check_fn(void *arg, int rc, bool failed);

/* Run 'run' then 'check' with allocation 0, 1, 2, ... failing until a run makes no
 * injected failure, failing the test when a run leaves a block live.  Returns the
 * allocations of that last, clean run (0: the operation allocates nothing). */
unsigned long allocfail_loop(const char *what, allocfail_run_fn *run, allocfail_check_fn *check,
                             void *arg);
/* cmocka teardown: if a loop was cut short by a failed assertion, say which run it was
 * and stop failing allocations, so the tests after it run normally. */
int allocfail_teardown(void **state);

#endif
