/*
 * fuzz_bearer.c - libFuzzer target for auth_verify() in common/auth.c.
 *
 * Feeds "Bearer " + input to one verifier built at the first call from a
 * fixed public JWKS (written to a temporary file, then removed), so the seed
 * token in corpus/bearer/ verifies and mutations reach every check.  Aborts if
 * a result breaks the contract: unknown code, err out of step, an error
 * message quoting the token, or a malformed principal.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "auth.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW_S INT64_C(1800000060) /* inside the seed token's lifetime */

/* Public half of a throwaway P-256 key; its private half was discarded. */
static const char fuzz_jwks[] =
    "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"AZoPIzlUGGgnaAPhTPgI88WfIfRH7Bk7hbztpKEDJ6Y\","
    "\"crv\":\"P-256\",\"x\":\"QSZHoRde38bXir5ZimJtm9V3_M6e_MgtCpRAPIxgALw\","
    "\"y\":\"Qh6kGUhGc_W8htOnFcHDSUq0w-WTi0cmceqUmOFrDd0\",\"alg\":\"ES256\",\"use\":\"sig\"}]}";

/* Build the verifier once; the JWKS file is removed again right away (the
 * verifier keeps its last good key set when the file disappears). */
static struct auth_verifier *fuzz_verifier(void)
{
    static struct auth_verifier *v;
    char dir[] = "/tmp/fuzz_bearer.XXXXXX", path[64];
    struct auth_config cfg = {.issuer = "https://auth.example.com",
                              .audience = "https://mcp.example.com/mcp",
                              .leeway_s = 60};
    struct err e = {0};
    FILE *f;

    if (v)
        return v;
    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof(path), "%s/jwks.json", dir);
    f = fopen(path, "w");
    if (!f || fputs(fuzz_jwks, f) < 0 || fclose(f) != 0)
        abort();
    cfg.jwks_file = path;
    v = auth_verifier_new(&cfg, &e);
    unlink(path);
    rmdir(dir);
    if (!v) {
        fprintf(stderr, "fuzz_bearer: %s\n", e.msg);
        abort();
    }
    return v;
}

/* True when 's' is NUL-terminated within 'cap' and has no control bytes. */
static int printable_field(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);

    if (n == cap)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    }
    return 1;
}

/* True when 'msg' holds a 16-byte piece (start, middle or end) of 'tok'. */
static int quotes_token(const char *msg, const char *tok)
{
    size_t n = strlen(tok), at[3] = {0, n / 2, n - 16};
    char piece[17];

    if (n < 16)
        return 0;
    for (int i = 0; i < 3; i++) {
        if (at[i] + 16 > n)
            at[i] = n - 16;
        memcpy(piece, tok + at[i], 16);
        piece[16] = '\0';
        if (strstr(msg, piece))
            return 1;
    }
    return 0;
}

/*
 * libFuzzer entry point: one input per call, used as the token after
 * "Bearer ".  Returns 0; aborts when auth_verify() breaks its contract.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct auth_verifier *v = fuzz_verifier();
    struct auth_principal p;
    struct err e = {0};
    char *header;
    int rc;

    header = malloc(size + sizeof("Bearer "));
    if (!header)
        return 0;
    memcpy(header, "Bearer ", 7);
    memcpy(header + 7, data, size);
    header[7 + size] = '\0';

    rc = auth_verify(v, header, FUZZ_NOW_S, &p, &e);
    if (rc != 0 && (rc != e.code || rc < -AUTH_ENOMEM || rc > -AUTH_EMISSING))
        abort();
    if (rc != 0 && quotes_token(e.msg, header + 7))
        abort(); /* a message must never quote the token */
    if (rc == 0) {
        if (!printable_field(p.subject, sizeof(p.subject)) || p.subject[0] == '\0' ||
            !printable_field(p.client_id, sizeof(p.client_id)) ||
            !printable_field(p.scopes, sizeof(p.scopes)) || p.expires_at + 60 < FUZZ_NOW_S)
            abort();
        (void)auth_has_scope(&p, "mcp:tools");
    }
    free(header);
    return 0;
}
