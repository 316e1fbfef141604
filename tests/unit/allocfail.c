/*
 * allocfail.c - the allocation seam of allocfail.h.
 *
 * Every allocation attempt gets a number since the last arm; the armed one
 * returns NULL, the others go to the real allocator (libc's, or ASan's in the
 * asan preset, which is what __real_malloc resolves to there).  Live blocks
 * sit in an open-addressed table of addresses, so freeing a block the seam
 * never saw is passed through uncounted.  Not thread-safe.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "allocfail.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/crypto.h>

/* The linker's names: __real_X is the allocator itself, __wrap_X replaces X in our objects. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

#define SLOT_BITS 18 /* room for 2^18 live blocks; filled at most to 3/4 */
#define SLOTS     (1u << SLOT_BITS)

static void *slots[SLOTS];             /* live block addresses, NULL = empty slot */
static size_t live;                    /* occupied slots */
static long fail_at = ALLOCFAIL_NEVER; /* number of the attempt that fails */
static unsigned long attempts;         /* allocation attempts since allocfail_arm() */
static bool fired;                     /* the armed attempt happened */
static const char *loop_what;          /* allocfail_loop() in progress: its name */
static long loop_n;                    /* ... and the allocation failing in this run */

/* ---- the table of live blocks ---- */

static size_t home(const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> (64 - SLOT_BITS));
}

static void track(void *p)
{
    size_t i = home(p);

    if (live >= SLOTS / 4 * 3) {
        fprintf(stderr, "allocfail: more than %u live blocks\n", SLOTS / 4 * 3);
        abort();
    }
    while (slots[i])
        i = (i + 1) & (SLOTS - 1);
    slots[i] = p;
    live++;
}

/* True when 'q' hashes into the cyclic range (i, j]: it may not move back to slot i. */
static bool stays(size_t i, size_t j, size_t k)
{
    return i <= j ? (i < k && k <= j) : (i < k || k <= j);
}

/* Forget 'p'; false when the seam never saw it.  Deletion shifts later entries of the
 * same probe run back (Knuth's algorithm R), so no tombstones accumulate. */
static bool untrack(const void *p)
{
    size_t i = home(p), j;

    while (slots[i] != p) {
        if (!slots[i])
            return false;
        i = (i + 1) & (SLOTS - 1);
    }
    slots[i] = NULL;
    live--;
    for (j = (i + 1) & (SLOTS - 1); slots[j]; j = (j + 1) & (SLOTS - 1)) {
        if (!stays(i, j, home(slots[j]))) {
            slots[i] = slots[j];
            slots[j] = NULL;
            i = j;
        }
    }
    return true;
}

/* Number this attempt; true when it is the one to fail. */
static bool inject(void)
{
    unsigned long n = attempts++;

    if (fail_at < 0 || n != (unsigned long)fail_at)
        return false;
    fired = true;
    return true;
}

/* ---- the allocators ---- */

void *__wrap_malloc(size_t n)
{
    void *p;

    if (inject())
        return NULL;
    p = __real_malloc(n);
    if (p)
        track(p);
    return p;
}

void *__wrap_calloc(size_t count, size_t size)
{
    void *p;

    if (inject())
        return NULL;
    p = __real_calloc(count, size);
    if (p)
        track(p);
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    void *q;

    if (inject())
        return NULL; /* 'p' stays valid, as after a real failure */
    q = __real_realloc(p, n);
    if (!q && n != 0)
        return NULL;
    if (p)
        untrack(p); /* moved, or freed by realloc(p, 0) */
    if (q)
        track(q);
    return q;
}

void __wrap_free(void *p)
{
    if (p)
        untrack(p);
    __real_free(p);
}

char *__wrap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = __wrap_malloc(n);

    if (d)
        memcpy(d, s, n);
    return d;
}

char *__wrap_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = __wrap_malloc(len + 1);

    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

static void *ssl_malloc(size_t n, const char *file, int line)
{
    return __wrap_malloc(n);
}

static void *ssl_realloc(void *p, size_t n, const char *file, int line)
{
    return __wrap_realloc(p, n);
}

static void ssl_free(void *p, const char *file, int line)
{
    __wrap_free(p);
}

/* ---- the API ---- */

/*
 * Point OpenSSL's and jansson's allocators at the seam.  OpenSSL accepts
 * this only before its first allocation, so call it first in main().
 * Returns 0, or -1 (with a line on stderr) when OpenSSL refused.
 */
int allocfail_install(void)
{
    if (!CRYPTO_set_mem_functions(ssl_malloc, ssl_realloc, ssl_free)) {
        fprintf(stderr, "allocfail: OpenSSL allocated before allocfail_install()\n");
        return -1;
    }
    json_set_alloc_funcs(__wrap_malloc, __wrap_free);
    return 0;
}

/* Fail allocation attempt 'n' (0-based, counted from now) and no other; ALLOCFAIL_NEVER
 * only counts.  Resets the count and the fired flag. */
void allocfail_arm(long n)
{
    fail_at = n;
    attempts = 0;
    fired = false;
}

/* Stop failing allocations (they are still counted); true when the armed one failed. */
bool allocfail_disarm(void)
{
    fail_at = ALLOCFAIL_NEVER;
    return fired;
}

/* Allocation attempts since the last allocfail_arm(), the failed one included. */
unsigned long allocfail_count(void)
{
    return attempts;
}

/* Blocks the seam handed out that are not freed yet. */
size_t allocfail_live(void)
{
    return live;
}

/*
 * The chaos loop: for n = 0, 1, 2, ..., arm allocation n, call run(arg),
 * disarm, call check(arg, rc, failed), then require as many live blocks as
 * before the run.  Stops after the first run in which the armed allocation
 * was never reached, and returns the allocations that run made.  Fails the
 * cmocka test on a leak or after ALLOCFAIL_MAX_RUNS runs.
 */
unsigned long allocfail_loop(const char *what, allocfail_run_fn *run, allocfail_check_fn *check,
                             void *arg)
{
    loop_what = what;
    for (loop_n = 0; loop_n <= ALLOCFAIL_MAX_RUNS; loop_n++) {
        size_t before = allocfail_live();
        unsigned long made;
        bool failed;
        int rc;

        allocfail_arm(loop_n);
        rc = run(arg);
        made = allocfail_count();
        failed = allocfail_disarm();
        check(arg, rc, failed);
        if (allocfail_live() != before)
            fail_msg("%s: %ld block(s) leaked with allocation %ld failing (rc %d)", what,
                     (long)allocfail_live() - (long)before, loop_n, rc);
        if (!failed) {
            loop_what = NULL;
            return made;
        }
    }
    fail_msg("%s: still allocating after %d runs", what, ALLOCFAIL_MAX_RUNS);
    return 0;
}

/* Say which run of which loop a failed assertion interrupted, and stop failing. */
int allocfail_teardown(void **state)
{
    if (loop_what)
        print_error("allocfail: %s stopped in the run with allocation %ld failing\n", loop_what,
                    loop_n);
    loop_what = NULL;
    allocfail_disarm();
    return 0;
}
