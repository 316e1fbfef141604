/*
 * err.h - the error detail carried beside a negative return code.
 *
 * Functions that can fail return 0 or a negative module code; when the
 * caller passes a struct err, they also write a human sentence into it.
 * Nothing here allocates.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_ERR_H
#define TASKWIRE_ERR_H

#include <stdarg.h>
#include <stdio.h>

#define MUST_CHECK __attribute__((warn_unused_result))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

struct err {
    int code;      /* the negative code also returned, or 0 */
    char msg[256]; /* one sentence, NUL-terminated, never holds secrets */
};

/* Fill 'e' (when not NULL) and return 'code', so callers can write
 * "return err_set(e, -X, "...", ...);". */
static inline PRINTF_LIKE(3, 4) int err_set(struct err *e, int code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        e->code = code;
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Report a callee's failure under the caller's own module code: set e->code
 * (when 'e' is not NULL) to 'code', keep the callee's sentence, return 'code'. */
static inline int err_recode(struct err *e, int code)
{
    if (e)
        e->code = code;
    return code;
}

#endif
