/*
 * fileio.h - whole-file reads and atomic replacements for small key files.
 *
 * Reads refuse anything but a regular file of bounded size and can report
 * the identity of what they read (so a caller can tell a replaced file from
 * an unchanged one).  Writes go through a temporary file, fsync and rename,
 * so readers see the old or the new content, never a mix.  No parsing, no
 * logging; error texts never quote file contents.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_FILEIO_H
#define TASKWIRE_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "err.h"

enum fileio_error {
    FILEIO_EIO = 1, /* open, stat, read, write, fsync or rename failed */
    FILEIO_ETOOBIG, /* not a regular file, or larger than the caller allows */
    FILEIO_ENOMEM,  /* an allocation failed */
};

/* What is compared to notice that a file was replaced or rewritten. */
struct fileio_stamp {
    struct timespec mtime; /* st_mtim */
    dev_t dev;             /* st_dev */
    ino_t ino;             /* st_ino: changes when a new file is renamed into place */
    off_t size;            /* st_size */
};

/* Read all of the regular file 'path' (at most 'max' bytes) into a new malloc'd,
 * NUL-terminated buffer; 'stamp' (may be NULL) gets its identity. */
MUST_CHECK int fileio_read(const char *path, size_t max, char **out, size_t *out_len,
                           struct fileio_stamp *stamp, struct err *err);
/* Fill 'stamp' from stat(2) of 'path'; 0 or -FILEIO_EIO. */
MUST_CHECK int fileio_stamp_of(const char *path, struct fileio_stamp *stamp);
/* True when both stamps name the same file with the same mtime and size. */
bool fileio_stamp_equal(const struct fileio_stamp *a, const struct fileio_stamp *b);
/* Replace 'path' with 'len' bytes of 'data' and mode 'mode', atomically and durably. */
MUST_CHECK int fileio_write_atomic(const char *path, const char *data, size_t len, mode_t mode,
                                   struct err *err);

#endif
