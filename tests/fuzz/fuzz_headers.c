/*
 * fuzz_headers.c - libFuzzer target for the HTTP header checks of frontend/rpc.c
 * and frontend/http.c, and the strict base64 of common/b64.c they use.
 *
 * Input: NUL-separated segments (missing ones are empty):
 *   0  a header value H
 *   1  a body value V
 *   2  an inputSchema (JSON text)
 *   3  the call's arguments (JSON text)
 *   4… request headers "Name: value", looked up case-insensitively
 * H is decoded as base64 in both alphabets, matched against V
 * (rpc_header_matches), and read as Content-Length, Host and Origin (V is the
 * allow-list); segments 2 to 4… drive rpc_check_param_headers() as a
 * tools/call with Mcp-Param-* headers does.  Contracts checked, abort() when
 * broken: a decoded value re-encodes to exactly its input (one encoding per
 * byte string) and never needs more room than it reported; V always matches
 * its own "=?base64?…?=" form, and matches itself when it is plain visible
 * ASCII; the param check answers 0 or -RPC_EHEADER with a message.  No I/O.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b64.h"
#include "http.h"
#include "rpc.h"

#define MAX_SEGMENTS 16
#define MAX_HEADERS  (MAX_SEGMENTS - 4)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The request headers of one input: names and values, NUL-terminated copies. */
struct headers {
    char *name[MAX_HEADERS];  /* header names (owned) */
    char *value[MAX_HEADERS]; /* their values (owned) */
    size_t n;                 /* headers in use */
};

/* rpc_header_fn over struct headers: the first header called 'name'. */
static const char *lookup(void *arg, const char *name)
{
    const struct headers *h = arg;
    for (size_t i = 0; i < h->n; i++)
        if (strcasecmp(h->name[i], name) == 0)
            return h->value[i];
    return NULL;
}

/* Split "Name: value" (leading SP/HTAB of the value dropped, as the HTTP layer does). */
static void add_header(struct headers *h, const char *line)
{
    const char *colon = strchr(line, ':');
    if (!colon || h->n == MAX_HEADERS)
        return;
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    h->name[h->n] = strndup(line, (size_t)(colon - line));
    h->value[h->n] = strdup(v);
    if (!h->name[h->n] || !h->value[h->n]) {
        free(h->name[h->n]);
        free(h->value[h->n]);
        return;
    }
    h->n++;
}

/* Decode 'in' in one alphabet; whatever is accepted must re-encode to 'in' exactly. */
static void check_b64(const char *in, size_t n, bool url)
{
    size_t cap = B64_DECODED_MAX(n);
    unsigned char *out = malloc(cap);
    char *enc = malloc(B64_ENCODED_MAX(cap) + 2);
    if (!out || !enc)
        goto out_free;
    long len = b64_decode(in, n, url, out, cap);
    if (len < 0) {
        if (len != -B64_EINVALID)
            abort();
        goto out_free;
    }
    size_t m = b64url_encode(out, (size_t)len, enc);
    if (!url) { /* the standard form: other two characters, padded to four */
        for (size_t i = 0; i < m; i++)
            enc[i] = enc[i] == '-' ? '+' : enc[i] == '_' ? '/' : enc[i];
        while (m % 4)
            enc[m++] = '=';
    }
    if (m != n || memcmp(enc, in, n) != 0)
        abort(); /* two encodings of one byte string */
    if (len > 0 && b64_decode(in, n, url, out, (size_t)len - 1) != -B64_EINVALID)
        abort(); /* one byte short of room must be refused */
out_free:
    free(out);
    free(enc);
}

/* V must match its own base64 sentinel form, and itself when plain visible ASCII. */
static void check_match(const char *h, const char *v)
{
    size_t n = strlen(v);
    (void)rpc_header_matches(h, v);
    if (n > 4096)
        return; /* longer than a sentinel value may decode to */
    char *enc = malloc(B64_ENCODED_MAX(n) + 16);
    if (!enc)
        return;
    memcpy(enc, "=?base64?", 9);
    size_t m = 9 + b64url_encode((const unsigned char *)v, n, enc + 9);
    for (size_t i = 9; i < m; i++)
        enc[i] = enc[i] == '-' ? '+' : enc[i] == '_' ? '/' : enc[i];
    while ((m - 9) % 4)
        enc[m++] = '=';
    memcpy(enc + m, "?=", 3);
    if (!rpc_header_matches(enc, v))
        abort();
    free(enc);
    bool plain = n > 0 && v[0] != ' ' && v[0] != '\t' && v[n - 1] != ' ' && v[n - 1] != '\t' &&
                 strncmp(v, "=?base64?", 9) != 0;
    for (size_t i = 0; plain && i < n; i++)
        plain = (unsigned char)v[i] >= 0x20 && (unsigned char)v[i] <= 0x7e;
    if (plain && !rpc_header_matches(v, v))
        abort();
}

/* The Mcp-Param-* check of a tools/call with schema 's' and arguments 'a'. */
static void check_params(const char *s, const char *a, struct headers *h)
{
    json_t *schema = json_loads(s, JSON_DECODE_ANY, NULL);
    json_t *args = json_loads(a, JSON_DECODE_ANY, NULL);
    struct err e = {0};
    int rc = rpc_check_param_headers(schema, args, lookup, h, &e);
    if (rc != 0 && (rc != -RPC_EHEADER || e.code != rc || !e.msg[0]))
        abort();
    json_decref(schema);
    json_decref(args);
}

/*
 * libFuzzer entry point: one input per call.  Returns 0; aborts when a
 * contract in the file comment is broken.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    const char *seg[MAX_SEGMENTS];
    size_t nseg = 0;
    struct headers h = {0};
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    for (char *p = copy; nseg < MAX_SEGMENTS; p += strlen(p) + 1) {
        seg[nseg++] = p;
        if (p + strlen(p) == copy + size)
            break;
    }
    while (nseg < 4)
        seg[nseg++] = "";

    size_t hn = strlen(seg[0]);
    check_b64(seg[0], hn, false);
    check_b64(seg[0], hn, true);
    check_match(seg[0], seg[1]);
    int64_t len;
    if (http_content_length(seg[0], &len) == 0 && len < 0)
        abort();
    (void)rpc_host_allowed(seg[0], seg[1]);
    (void)rpc_origin_allowed(seg[0], seg[1]);
    (void)rpc_host_allowed(seg[0], "loopback");
    (void)rpc_origin_allowed(seg[0], "loopback");

    for (size_t i = 4; i < nseg; i++)
        add_header(&h, seg[i]);
    check_params(seg[2], seg[3], &h);

    for (size_t i = 0; i < h.n; i++) {
        free(h.name[i]);
        free(h.value[i]);
    }
    free(copy);
    return 0;
}
