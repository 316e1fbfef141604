/*
 * fileio.c - whole-file reads and atomic replacements for small key files.
 *
 * Used for JWKS documents and development signing keys.  Buffers that may
 * hold key material are wiped before they are freed on error paths; on
 * success the caller owns (and should wipe) what it was given.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* strerror() is not thread-safe, and JWKS reloads run on request threads. */
static const char *errno_text(int e, char *buf, size_t len)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    return strerror_r(e, buf, len);
#else
    if (strerror_r(e, buf, len) != 0)
        snprintf(buf, len, "errno %d", e);
    return buf;
#endif
}

static void stamp_from_stat(struct fileio_stamp *s, const struct stat *st)
{
    s->mtime = st->st_mtim;
    s->dev = st->st_dev;
    s->ino = st->st_ino;
    s->size = st->st_size;
}

/*
 * Read the whole regular file 'path' of at most 'max' bytes into a new
 * malloc'd, NUL-terminated buffer (*out, length *out_len; the caller frees
 * it).  'stamp' (may be NULL) gets the identity of the file that was read.
 * A file that shrinks while it is read yields what was there.
 *
 * Returns 0, -FILEIO_EIO (cannot open, stat or read), -FILEIO_ETOOBIG (not
 * a regular file, or over 'max') or -FILEIO_ENOMEM, with 'err' naming the
 * path but never the content.  Thread-safe.
 */
int fileio_read(const char *path, size_t max, char **out, size_t *out_len,
                struct fileio_stamp *stamp, struct err *err)
{
    char ebuf[128];
    struct stat st;
    char *buf;
    size_t got = 0;
    ssize_t n;
    int fd, rc;

    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below); reads of
     * a regular file ignore the flag. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return err_set(err, -FILEIO_EIO, "cannot open %s: %s", path,
                       errno_text(errno, ebuf, sizeof(ebuf)));
    if (fstat(fd, &st) != 0) {
        rc = err_set(err, -FILEIO_EIO, "cannot stat %s: %s", path,
                     errno_text(errno, ebuf, sizeof(ebuf)));
        goto out_close_fd;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uintmax_t)st.st_size > max) {
        rc = err_set(err, -FILEIO_ETOOBIG, "%s is not a regular file of at most %zu bytes", path,
                     max);
        goto out_close_fd;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        rc = err_set(err, -FILEIO_ENOMEM, "out of memory reading %s", path);
        goto out_close_fd;
    }
    while (got < (size_t)st.st_size) {
        n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = err_set(err, -FILEIO_EIO, "cannot read %s: %s", path,
                         errno_text(errno, ebuf, sizeof(ebuf)));
            goto out_free_buf;
        }
        if (n == 0) /* shrank while we read: parse what we have, the parser will judge it */
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    if (stamp)
        stamp_from_stat(stamp, &st);
    close(fd);
    *out = buf;
    *out_len = got;
    return 0;

out_free_buf:
    OPENSSL_cleanse(buf, (size_t)st.st_size);
    free(buf);
out_close_fd:
    close(fd);
    return rc;
}

/*
 * Fill *stamp with the identity of 'path' as stat(2) sees it now (following
 * links).  Returns 0 or -FILEIO_EIO.  Thread-safe.
 */
int fileio_stamp_of(const char *path, struct fileio_stamp *stamp)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return -FILEIO_EIO;
    stamp_from_stat(stamp, &st);
    return 0;
}

/*
 * True when 'a' and 'b' describe the same file (device and inode) with the
 * same mtime (to the nanosecond) and size.  Borrows both.
 */
bool fileio_stamp_equal(const struct fileio_stamp *a, const struct fileio_stamp *b)
{
    return a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->dev == b->dev && a->ino == b->ino && a->size == b->size;
}

/* fsync the directory holding 'tmp' (a path we own and may cut), so a rename
 * in it is durable.  Best effort. */
static void sync_parent_dir(char *tmp)
{
    char *slash = strrchr(tmp, '/');
    int dfd;

    if (slash == tmp)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    dfd = open(slash ? tmp : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
}

/* Write all 'len' bytes of 'data' to 'fd', retrying EINTR and short writes. */
static int write_all(int fd, const char *data, size_t len)
{
    size_t done = 0;
    ssize_t n;

    while (done < len) {
        n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -FILEIO_EIO;
        done += (size_t)n;
    }
    return 0;
}

/*
 * Replace 'path' with 'len' bytes of 'data': through a temporary file in the
 * same directory that gets 'mode' (umask ignored), is fsync'ed, then renamed
 * into place; the directory is fsync'ed too.  Readers see the old or the new
 * file, never a partial one.
 *
 * Returns 0, -FILEIO_EIO (the temporary file is removed again) or
 * -FILEIO_ENOMEM.  Borrows everything; thread-safe.
 */
int fileio_write_atomic(const char *path, const char *data, size_t len, mode_t mode,
                        struct err *err)
{
    char ebuf[128];
    size_t plen = strlen(path);
    char *tmp;
    int fd, rc;

    tmp = malloc(plen + sizeof(".XXXXXX"));
    if (!tmp)
        return err_set(err, -FILEIO_ENOMEM, "out of memory writing %s", path);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".XXXXXX", sizeof(".XXXXXX"));
    fd = mkstemp(tmp); /* O_CREAT | O_EXCL, mode 0600 */
    if (fd < 0) {
        rc = err_set(err, -FILEIO_EIO, "cannot create a file beside %s: %s", path,
                     errno_text(errno, ebuf, sizeof(ebuf)));
        goto out_free_tmp;
    }
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fchmod(fd, mode) != 0 ||
        write_all(fd, data, len) != 0 || fsync(fd) != 0)
        goto out_write_failed;
    if (close(fd) != 0) {
        fd = -1;
        goto out_write_failed;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto out_write_failed;
    sync_parent_dir(tmp); /* make the rename itself durable */
    free(tmp);
    return 0;

out_write_failed:
    rc = err_set(err, -FILEIO_EIO, "cannot write %s: %s", path,
                 errno_text(errno, ebuf, sizeof(ebuf)));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
out_free_tmp:
    free(tmp);
    return rc;
}
