/*
 * replay_main.c - a main() that feeds saved inputs to a libFuzzer target.
 *
 * Links with any fuzz_*.c instead of libFuzzer, so ctest replays each corpus
 * with the ordinary compiler and sanitizers.  It does not mutate or search;
 * it only replays.  Arguments are files or directories (their regular files,
 * not recursively, in name order); any unreadable argument fails the run, and
 * so does a run that replayed nothing (no argument, or only empty corpora):
 * a corpus that went missing must not pass as a green test.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target, as with libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Read the whole of 'path' and run the target on it; returns 0 or -1. */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = -1;

    if (f == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            uint8_t *nbuf = (ncap > cap) ? realloc(buf, ncap) : NULL;
            if (nbuf == NULL) {
                fprintf(stderr, "replay: %s: out of memory\n", path);
                goto out_free_buf;
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "replay: %s: read error\n", path);
        goto out_free_buf;
    }
    /* Exactly 'len' bytes: a copy of the right size lets ASan catch over-reads. */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact == NULL)
        goto out_free_buf;
    memcpy(exact, buf, len);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    rc = 0;
out_free_buf:
    free(buf);
    fclose(f);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay every regular file directly in 'dir', in name order; returns the count or -1. */
static long replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t count = 0, cap = 0;
    long done = -1;
    struct dirent *de;

    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue; /* ".", "..", and hidden files such as .gitkeep */
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **nn = realloc(names, ncap * sizeof(*names));
            if (nn == NULL)
                goto out_free_names;
            names = nn;
            cap = ncap;
        }
        size_t plen = strlen(dir) + 1 + strlen(de->d_name) + 1;
        names[count] = malloc(plen);
        if (names[count] == NULL)
            goto out_free_names;
        snprintf(names[count], plen, "%s/%s", dir, de->d_name);
        count++;
    }
    if (count > 0)
        qsort(names, count, sizeof(*names), cmp_names);

    done = 0;
    for (size_t i = 0; i < count; i++) {
        struct stat st;
        if (stat(names[i], &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (replay_file(names[i]) != 0) {
            done = -1;
            break;
        }
        done++;
    }
out_free_names:
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return done;
}

/*
 * Replay each argument: a directory's regular files, or a file itself.
 * Prints "replayed N inputs" and exits 0, or exits 1 if any argument could not
 * be read or no input at all was replayed.  A crash in the target ends the
 * process, as it should.
 */
int main(int argc, char **argv)
{
    long total = 0;

    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        long n;

        if (argv[i][0] == '-')
            continue; /* libFuzzer flags such as -runs=0: accepted and ignored */
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        if (S_ISDIR(st.st_mode))
            n = replay_dir(argv[i]);
        else
            n = replay_file(argv[i]) == 0 ? 1 : -1;
        if (n < 0)
            return 1;
        total += n;
    }
    printf("replayed %ld inputs\n", total);
    if (total == 0) {
        fprintf(stderr, "replay: no input replayed (empty or missing corpus)\n");
        return 1;
    }
    return 0;
}
