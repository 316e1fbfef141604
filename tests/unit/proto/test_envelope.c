/*
 * test_envelope.c - unit tests for proto/envelope.c (msgpack job envelope v2).
 *
 * Round trips and the documented bytes, then the decoder's refusals:
 * truncation at every length, byte flips, garbage, versions (v1 refused),
 * wrong types, every bound, retired v1 keys, hostile length headers,
 * duplicates, trailing bytes, and unknown keys that must be skipped; then the
 * encoder's refusals and its fixed output buffer.  Inputs are built with
 * msgpack-c's packer so each case states only what differs.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "envelope.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#define ID    "3f2c6a1e-8b4d-4c7a-9e21-5d0b7f6a4c13"
#define TRACE "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

/* A msgpack document under construction. */
struct doc {
    msgpack_sbuffer sb; /* the bytes */
    msgpack_packer pk;  /* writes into sb */
};

/* Callback that packs extra key/value pairs into a map. */
typedef void extra_fn(msgpack_packer *pk);

static void doc_init(struct doc *d)
{
    msgpack_sbuffer_init(&d->sb);
    msgpack_packer_init(&d->pk, &d->sb, msgpack_sbuffer_write);
}

static void doc_fini(struct doc *d)
{
    msgpack_sbuffer_destroy(&d->sb);
}

static void raw(struct doc *d, const void *bytes, size_t n)
{
    assert_int_equal(msgpack_sbuffer_write(&d->sb, bytes, n), 0);
}

static void pstr(msgpack_packer *pk, const char *s)
{
    assert_int_equal(msgpack_pack_str_with_body(pk, s, strlen(s)), 0);
}

static void pstr_n(msgpack_packer *pk, const char *s, size_t n)
{
    assert_int_equal(msgpack_pack_str_with_body(pk, s, n), 0);
}

/* The full set of valid v2 pairs, in a deliberately non-encoder order. */
static const char *const all_keys[] = {"attempt", "id", "v", "trace", "deadline_ms"};
#define N_KEYS (sizeof(all_keys) / sizeof(all_keys[0]))

static void pack_valid_value(msgpack_packer *pk, const char *key)
{
    if (strcmp(key, "v") == 0)
        msgpack_pack_uint8(pk, 2);
    else if (strcmp(key, "id") == 0)
        pstr(pk, ID);
    else if (strcmp(key, "attempt") == 0)
        msgpack_pack_uint32(pk, 3);
    else if (strcmp(key, "trace") == 0)
        pstr(pk, TRACE);
    else if (strcmp(key, "deadline_ms") == 0)
        msgpack_pack_int64(pk, 1800000000000);
}

/* Pack a valid v2 map without the key 'omit' (NULL: none), followed by 'extra_pairs'
 * pairs written by 'extra'. */
static void pack_envelope(struct doc *d, const char *omit, unsigned extra_pairs, extra_fn *extra)
{
    doc_init(d);
    msgpack_pack_map(&d->pk, N_KEYS - (omit ? 1 : 0) + extra_pairs);
    for (size_t i = 0; i < N_KEYS; i++) {
        if (omit && strcmp(omit, all_keys[i]) == 0)
            continue;
        pstr(&d->pk, all_keys[i]);
        pack_valid_value(&d->pk, all_keys[i]);
    }
    if (extra)
        extra(&d->pk);
}

static void fill_full(struct envelope *e)
{
    memset(e, 0, sizeof(*e));
    e->version = ENVELOPE_VERSION;
    strcpy(e->task_id, ID);
    strcpy(e->trace, TRACE);
    e->attempt = 7;
    e->deadline_ms = 1800000000123;
}

static void fill_minimal(struct envelope *e)
{
    memset(e, 0, sizeof(*e));
    strcpy(e->task_id, ID);
}

static void assert_envelope_equal(const struct envelope *a, const struct envelope *b)
{
    assert_int_equal(a->version, b->version);
    assert_string_equal(a->task_id, b->task_id);
    assert_int_equal(a->attempt, b->attempt);
    assert_string_equal(a->trace, b->trace);
    assert_int_equal(a->deadline_ms, b->deadline_ms);
}

static void assert_zeroed(const struct envelope *env)
{
    static const struct envelope zero;

    assert_memory_equal(env, &zero, sizeof(zero));
}

/* Decode and expect failure with 'code', a zeroed envelope, and 'needle' in the message. */
static void expect_fail(const void *buf, size_t len, int code, const char *needle)
{
    struct envelope env;
    struct err e = {0};
    int rc;

    memset(&env, 0xa5, sizeof(env)); /* decode must not trust what was there */
    rc = envelope_decode(buf, len, &env, &e);
    if (rc != -code)
        fail_msg("expected -%d, got %d (%s)", code, rc, e.msg);
    assert_int_equal(e.code, rc);
    assert_zeroed(&env);
    assert_true(strlen(e.msg) > 0);
    if (needle && strstr(e.msg, needle) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, needle);
}

static void expect_doc_fail(struct doc *d, int code, const char *needle)
{
    expect_fail(d->sb.data, d->sb.size, code, needle);
    doc_fini(d);
}

/* Decode 'd' (which must succeed) into *env and free it. */
static void decode_doc(struct doc *d, struct envelope *env)
{
    struct err e = {0};

    memset(env, 0xa5, sizeof(*env));
    if (envelope_decode(d->sb.data, d->sb.size, env, &e) != 0)
        fail_msg("decode failed: %s", e.msg);
    doc_fini(d);
}

static void expect_doc_ok(struct doc *d)
{
    struct envelope env;

    decode_doc(d, &env);
    assert_int_equal(env.version, ENVELOPE_VERSION);
    assert_string_equal(env.task_id, ID);
    assert_int_equal(env.attempt, 3);
    assert_string_equal(env.trace, TRACE);
    assert_int_equal(env.deadline_ms, 1800000000000);
}

/* Encode 'in' into a buffer of ENVELOPE_MAX_BYTES; returns the length. */
static size_t encode_ok(const struct envelope *in, uint8_t *buf)
{
    struct err e = {0};
    size_t len = 12345;

    if (envelope_encode(in, buf, ENVELOPE_MAX_BYTES, &len, &e) != 0)
        fail_msg("encode failed: %s", e.msg);
    assert_true(len > 0 && len <= ENVELOPE_MAX_BYTES);
    return len;
}

/* ---- round trips and the documented bytes ---- */

static size_t round_trip(const struct envelope *in)
{
    uint8_t buf[ENVELOPE_MAX_BYTES];
    struct envelope out;
    struct err e = {0};
    size_t len = encode_ok(in, buf);

    memset(&out, 0xa5, sizeof(out));
    if (envelope_decode(buf, len, &out, &e) != 0)
        fail_msg("decode failed: %s", e.msg);
    struct envelope want = *in;
    want.version = ENVELOPE_VERSION;
    assert_envelope_equal(&out, &want);
    return len;
}

static void test_envelope_round_trips_full(void **state)
{
    struct envelope in;

    fill_full(&in);
    round_trip(&in);
}

static void test_envelope_round_trips_minimal(void **state)
{
    struct envelope in;

    fill_minimal(&in); /* version 0 means "this build's" */
    round_trip(&in);
}

static void test_envelope_round_trips_limits(void **state)
{
    static const uint32_t attempts[] = {0, 1, 127, 128, 255, 256, 65535, 65536, 1000000};
    static const int64_t deadlines[] = {0, 1, 127, 128, 4294967295, 4294967296, INT64_MAX};
    struct envelope in;

    fill_full(&in);
    memset(in.trace, '~', ENVELOPE_MAX_TRACE);
    in.trace[ENVELOPE_MAX_TRACE] = '\0';
    in.attempt = ENVELOPE_MAX_ATTEMPT;
    in.deadline_ms = INT64_MAX;
    /* The largest valid envelope: what wire-format.md says, well under the limit. */
    assert_int_equal(round_trip(&in), 600);

    fill_full(&in);
    strcpy(in.trace, " ");
    round_trip(&in);
    for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
        in.attempt = attempts[i];
        round_trip(&in);
    }
    for (size_t i = 0; i < sizeof(deadlines) / sizeof(deadlines[0]); i++) {
        in.deadline_ms = deadlines[i];
        round_trip(&in);
    }
}

static void test_envelope_encodes_the_documented_bytes(void **state)
{
    /* The examples of proto/wire-format.md, byte for byte. */
    static const uint8_t minimal[] = "\x83\xa1v\x02\xa2id\xd9\x24" ID "\xa7"
                                     "attempt\x00";
    static const uint8_t full[] = "\x85\xa1v\x02\xa2id\xd9\x24" ID "\xa7"
                                  "attempt\x02\xa5trace\xd9\x37" TRACE "\xab"
                                  "deadline_ms\xcf\x00\x00\x01\xa3\x18\x5c\x50\x00";
    uint8_t buf[ENVELOPE_MAX_BYTES];
    struct envelope in;
    size_t len;

    fill_minimal(&in);
    len = encode_ok(&in, buf);
    assert_int_equal(len, 54);
    assert_int_equal(len, sizeof(minimal) - 1);
    assert_memory_equal(buf, minimal, len);

    fill_full(&in);
    in.attempt = 2;
    in.deadline_ms = 1800000000000;
    len = encode_ok(&in, buf);
    assert_int_equal(len, 138);
    assert_int_equal(len, sizeof(full) - 1);
    assert_memory_equal(buf, full, len);
}

static void test_envelope_decode_accepts_any_integer_format(void **state)
{
    /* v as uint8, attempt as int32, deadline as uint64: all msgpack integers count. */
    static const uint8_t head[] = {0x83, 0xa1, 'v',  0xcc, 0x02, 0xa7, 'a',  't',  't',  'e',
                                   'm',  'p',  't',  0xd2, 0x00, 0x00, 0x00, 0x05, 0xab, 'd',
                                   'e',  'a',  'd',  'l',  'i',  'n',  'e',  '_',  'm',  's',
                                   0xcf, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00};
    static const uint8_t v_int64[] = {0x82, 0xa1, 'v', 0xd3, 0,   0,   0,   0,   0,   0,    0,
                                      2,    0xa7, 'a', 't',  't', 'e', 'm', 'p', 't', 0xd0, 0x00};
    struct doc d;
    struct envelope env;

    doc_init(&d);
    raw(&d, head, sizeof(head));
    d.sb.data[0] = (char)0x84; /* one more pair: the id */
    pstr(&d.pk, "id");
    pstr(&d.pk, ID);
    decode_doc(&d, &env);
    assert_int_equal(env.attempt, 5);
    assert_int_equal(env.deadline_ms, 256);

    /* "v" as int64 and "attempt" as int8, but no id: the version passes, the id is missing. */
    expect_fail(v_int64, sizeof(v_int64), ENVELOPE_EFIELD, "\"id\": missing");
}

static void test_envelope_decode_accepts_wide_string_formats(void **state)
{
    /* Short strings in wide forms: "id" as str16, "trace" as str32, an unknown key as str32. */
    struct doc d;
    struct envelope env;

    doc_init(&d);
    msgpack_pack_map(&d.pk, 5);
    pstr(&d.pk, "v");
    msgpack_pack_uint8(&d.pk, 2);
    pstr(&d.pk, "attempt");
    msgpack_pack_uint8(&d.pk, 0);
    pstr(&d.pk, "id");
    raw(&d, "\xda\x00\x24" ID, 3 + 36);
    pstr(&d.pk, "trace");
    raw(&d,
        "\xdb\x00\x00\x00\x03"
        "a,b",
        5 + 3);
    raw(&d,
        "\xdb\x00\x00\x00\x01"
        "z",
        6);
    raw(&d,
        "\xdb\x00\x00\x00\x02"
        "ok",
        7);
    decode_doc(&d, &env);
    assert_string_equal(env.task_id, ID);
    assert_string_equal(env.trace, "a,b");
    assert_int_equal(env.deadline_ms, 0);
}

static void test_envelope_optional_fields_default(void **state)
{
    struct doc d;
    struct envelope env;

    pack_envelope(&d, "trace", 0, NULL);
    decode_doc(&d, &env);
    assert_string_equal(env.trace, "");
    assert_int_equal(env.deadline_ms, 1800000000000);

    pack_envelope(&d, "deadline_ms", 0, NULL);
    decode_doc(&d, &env);
    assert_string_equal(env.trace, TRACE);
    assert_int_equal(env.deadline_ms, 0);
}

/* ---- malformed input ---- */

static void test_envelope_rejects_truncated(void **state)
{
    uint8_t buf[ENVELOPE_MAX_BYTES];
    struct envelope in;
    size_t len;

    fill_full(&in);
    len = encode_ok(&in, buf);
    for (size_t cut = 0; cut < len; cut++) {
        /* A copy of exactly 'cut' bytes, so ASan sees any read past the end. */
        uint8_t *prefix = malloc(cut ? cut : 1);
        assert_non_null(prefix);
        memcpy(prefix, buf, cut);
        expect_fail(prefix, cut, ENVELOPE_EGARBAGE, NULL);
        free(prefix);
    }
}

static void test_envelope_survives_byte_flips(void **state)
{
    uint8_t buf[ENVELOPE_MAX_BYTES], re[ENVELOPE_MAX_BYTES];
    struct envelope in, out, again;
    size_t len, relen;
    unsigned ok = 0, refused = 0;

    fill_full(&in);
    len = encode_ok(&in, buf);
    uint8_t *m = malloc(len);
    assert_non_null(m);
    for (size_t pos = 0; pos < len; pos++) {
        for (unsigned x = 1; x < 256; x++) {
            memcpy(m, buf, len);
            m[pos] = (uint8_t)(m[pos] ^ x);
            struct err e = {0};
            int rc = envelope_decode(m, len, &out, &e);
            if (rc < 0) {
                assert_true(rc >= -ENVELOPE_EFIELD);
                assert_zeroed(&out);
                refused++;
                continue;
            }
            /* Whatever was accepted must survive a round trip. */
            assert_int_equal(envelope_encode(&out, re, sizeof(re), &relen, NULL), 0);
            assert_int_equal(envelope_decode(re, relen, &again, NULL), 0);
            assert_envelope_equal(&out, &again);
            ok++;
        }
    }
    assert_true(ok > 0 && refused > 0);
    free(m);
}

static void test_envelope_rejects_garbage(void **state)
{
    static const uint8_t reserved[] = {0xc1};
    static const uint8_t noise[] = {0x13, 0x37, 0xc1, 0xde, 0xad, 0xbe, 0xef};

    expect_fail("", 0, ENVELOPE_EGARBAGE, "empty");
    expect_fail(NULL, 0, ENVELOPE_EGARBAGE, "empty");
    expect_fail(reserved, sizeof(reserved), ENVELOPE_EGARBAGE, "0xc1");
    expect_fail(noise, sizeof(noise), ENVELOPE_EGARBAGE, NULL);
    expect_fail("hello, world", 12, ENVELOPE_EGARBAGE, NULL);
    expect_fail("{\"v\":2}", 7, ENVELOPE_EGARBAGE, NULL);
    /* A map whose key is the reserved byte. */
    expect_fail("\x81\xc1\x02", 3, ENVELOPE_EGARBAGE, "0xc1");
}

static void test_envelope_rejects_non_map_top_level(void **state)
{
    expect_fail("\x90", 1, ENVELOPE_EGARBAGE, "array");
    expect_fail("\xa1v", 2, ENVELOPE_EGARBAGE, "string");
    expect_fail("\x02", 1, ENVELOPE_EGARBAGE, "integer");
    expect_fail("\xc0", 1, ENVELOPE_EGARBAGE, "nil");
    expect_fail("\xc4\x01v", 3, ENVELOPE_EGARBAGE, "binary");
    expect_fail("\x92\xa1v\x02", 4, ENVELOPE_EGARBAGE, "array");
}

static void test_envelope_rejects_trailing_bytes(void **state)
{
    struct doc d;

    pack_envelope(&d, NULL, 0, NULL);
    raw(&d, "\x00", 1);
    expect_doc_fail(&d, ENVELOPE_EGARBAGE, "trailing");

    pack_envelope(&d, NULL, 0, NULL);
    msgpack_pack_map(&d.pk, 0); /* a second, empty map */
    expect_doc_fail(&d, ENVELOPE_EGARBAGE, "trailing");
}

static size_t pad_len;

/* An unknown key "x" with a str16 value that pads the envelope by 3 + 'pad_len' bytes. */
static void pack_pad(msgpack_packer *pk)
{
    uint8_t head[3] = {0xda, (uint8_t)(pad_len >> 8), (uint8_t)pad_len};
    char *s = malloc(pad_len + 1);

    assert_non_null(s);
    memset(s, 'p', pad_len);
    pstr(pk, "x");
    assert_int_equal(msgpack_sbuffer_write(pk->data, (const char *)head, sizeof(head)), 0);
    assert_int_equal(msgpack_sbuffer_write(pk->data, s, pad_len), 0);
    free(s);
}

static void test_envelope_limits_the_whole_message(void **state)
{
    struct doc d;
    size_t base;

    /* Measure a valid envelope with an empty padding string (str16, 3 header bytes). */
    pad_len = 0;
    pack_envelope(&d, NULL, 1, pack_pad);
    base = d.sb.size;
    doc_fini(&d);
    assert_true(base < ENVELOPE_MAX_BYTES);

    pad_len = ENVELOPE_MAX_BYTES - base; /* exactly the limit: accepted */
    pack_envelope(&d, NULL, 1, pack_pad);
    assert_int_equal(d.sb.size, ENVELOPE_MAX_BYTES);
    expect_doc_ok(&d);

    pad_len++; /* one byte over: refused before it is parsed */
    pack_envelope(&d, NULL, 1, pack_pad);
    assert_int_equal(d.sb.size, ENVELOPE_MAX_BYTES + 1);
    expect_doc_fail(&d, ENVELOPE_EGARBAGE, "limit");

    /* Far over: an empty map, then zeros, is refused on size alone. */
    size_t len = 1u << 20;
    char *big = calloc(1, len);
    assert_non_null(big);
    big[0] = (char)0x80;
    expect_fail(big, len, ENVELOPE_EGARBAGE, "1024");
    free(big);
}

/* ---- versions ---- */

static int64_t version_value;

static void pack_version(msgpack_packer *pk)
{
    pstr(pk, "v");
    msgpack_pack_int64(pk, version_value);
}

static void test_envelope_rejects_other_versions(void **state)
{
    static const int64_t versions[] = {0, 1, 3, 99, 65536, INT64_MAX, -1, -129, INT64_MIN};
    struct doc d;

    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        char needle[64];
        version_value = versions[i];
        snprintf(needle, sizeof(needle), "version %lld,", (long long)versions[i]);
        pack_envelope(&d, "v", 1, pack_version);
        expect_doc_fail(&d, ENVELOPE_EVERSION, needle);
    }
    /* uint64 beyond INT64_MAX. */
    expect_fail("\x81\xa1v\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 12, ENVELOPE_EVERSION,
                "18446744073709551615");
}

static void test_envelope_refuses_v1_envelopes(void **state)
{
    /* The minimal v1 envelope an old frontend wrote (the v1 example of wire-format.md). */
    static const uint8_t v1_minimal[] = "\x86\xa1v\x01\xa2id\xd9\x24"
                                        "01890a5d-ac96-774b-bcce-b302099a8057"
                                        "\xa4tool\xa1t\xa5owner\xa1o\xa7"
                                        "attempt\x00\xa4"
                                        "args\xa2{}";
    struct doc d;

    assert_int_equal(sizeof(v1_minimal) - 1, 77);
    expect_fail(v1_minimal, sizeof(v1_minimal) - 1, ENVELOPE_EVERSION, "version 1,");

    /* A full v1 envelope: every v1 key, "v" last.  A version error, not a field one. */
    doc_init(&d);
    msgpack_pack_map(&d.pk, 8);
    pstr(&d.pk, "id");
    pstr(&d.pk, ID);
    pstr(&d.pk, "tool");
    pstr(&d.pk, "web.fetch");
    pstr(&d.pk, "owner");
    pstr(&d.pk, "user:alice@example.com");
    pstr(&d.pk, "args");
    pstr(&d.pk, "{\"url\":\"https://example.com/\"}");
    pstr(&d.pk, "attempt");
    msgpack_pack_uint8(&d.pk, 0);
    pstr(&d.pk, "trace");
    pstr(&d.pk, TRACE);
    pstr(&d.pk, "deadline_ms");
    msgpack_pack_int64(&d.pk, 1800000000000);
    pstr(&d.pk, "v");
    msgpack_pack_uint8(&d.pk, 1);
    expect_doc_fail(&d, ENVELOPE_EVERSION, "version 1,");
}

static void test_envelope_checks_version_before_fields(void **state)
{
    struct doc d;

    /* A v3 envelope may lay out "id" differently: that is a version error, not a field one,
     * even when "v" comes last. */
    doc_init(&d);
    msgpack_pack_map(&d.pk, 2);
    pstr(&d.pk, "id");
    msgpack_pack_int(&d.pk, 42);
    pstr(&d.pk, "v");
    msgpack_pack_uint8(&d.pk, 3);
    expect_doc_fail(&d, ENVELOPE_EVERSION, "version 3,");
}

static void pack_v_string(msgpack_packer *pk)
{
    pstr(pk, "v");
    pstr(pk, "2");
}

static void pack_v_float(msgpack_packer *pk)
{
    pstr(pk, "v");
    msgpack_pack_double(pk, 2.0);
}

static void pack_v_nil(msgpack_packer *pk)
{
    pstr(pk, "v");
    msgpack_pack_nil(pk);
}

static void pack_v_true(msgpack_packer *pk)
{
    pstr(pk, "v");
    msgpack_pack_true(pk);
}

static void pack_v2(msgpack_packer *pk)
{
    pstr(pk, "v");
    msgpack_pack_uint8(pk, 2);
}

static void pack_v1(msgpack_packer *pk)
{
    pstr(pk, "v");
    msgpack_pack_uint8(pk, 1);
}

static void test_envelope_rejects_missing_mistyped_or_duplicate_version(void **state)
{
    extra_fn *mistyped[] = {pack_v_string, pack_v_float, pack_v_nil, pack_v_true};
    struct doc d;

    pack_envelope(&d, "v", 0, NULL);
    expect_doc_fail(&d, ENVELOPE_EFIELD, "\"v\": missing");
    expect_fail("\x80", 1, ENVELOPE_EFIELD, "\"v\": missing");
    for (size_t i = 0; i < sizeof(mistyped) / sizeof(mistyped[0]); i++) {
        pack_envelope(&d, "v", 1, mistyped[i]);
        expect_doc_fail(&d, ENVELOPE_EFIELD, "\"v\": expected an integer");
    }
    /* Twice, even with the same value; and a v1/v2 pair is not a way to sneak a v1 in. */
    pack_envelope(&d, NULL, 1, pack_v2);
    expect_doc_fail(&d, ENVELOPE_EFIELD, "\"v\": duplicate");
    pack_envelope(&d, NULL, 1, pack_v1);
    expect_doc_fail(&d, ENVELOPE_EFIELD, "\"v\": duplicate");
}

/* ---- fields ---- */

static void test_envelope_rejects_missing_required_fields(void **state)
{
    static const char *const required[] = {"id", "attempt"};
    struct doc d;

    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        char needle[64];
        snprintf(needle, sizeof(needle), "\"%s\": missing", required[i]);
        pack_envelope(&d, required[i], 0, NULL);
        expect_doc_fail(&d, ENVELOPE_EFIELD, needle);
    }
    expect_fail("\x81\xa1v\x02", 4, ENVELOPE_EFIELD, "missing");
}

/* One wrong value for a field, packed as the single extra pair. */
static const char *wrong_key;
static int wrong_kind;

static void pack_wrong(msgpack_packer *pk)
{
    pstr(pk, wrong_key);
    switch (wrong_kind) {
    case 0:
        msgpack_pack_int(pk, 42);
        break;
    case 1:
        pstr(pk, "42");
        break;
    case 2:
        msgpack_pack_nil(pk);
        break;
    case 3:
        msgpack_pack_true(pk);
        break;
    case 4:
        msgpack_pack_double(pk, 1.0);
        break;
    case 5:
        msgpack_pack_bin_with_body(pk, ID, 36);
        break;
    case 6:
        msgpack_pack_array(pk, 1);
        pstr(pk, "x");
        break;
    case 7:
        msgpack_pack_map(pk, 1);
        pstr(pk, "x");
        pstr(pk, "y");
        break;
    case 8:
        msgpack_pack_ext_with_body(pk, "ab", 2, 5);
        break;
    case 9:
        msgpack_pack_float(pk, 3.0f);
        break;
    }
}

static void test_envelope_rejects_wrong_types(void **state)
{
    static const char *const strings[] = {"id", "trace"};
    static const char *const ints[] = {"attempt", "deadline_ms"};
    struct doc d;

    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        for (wrong_kind = 0; wrong_kind <= 9; wrong_kind++) {
            if (wrong_kind == 1)
                continue; /* a string is the right type */
            wrong_key = strings[i];
            pack_envelope(&d, wrong_key, 1, pack_wrong);
            expect_doc_fail(&d, ENVELOPE_EFIELD, "expected a string");
        }
    }
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        for (wrong_kind = 1; wrong_kind <= 9; wrong_kind++) {
            wrong_key = ints[i];
            pack_envelope(&d, wrong_key, 1, pack_wrong);
            expect_doc_fail(&d, ENVELOPE_EFIELD, "expected an integer");
        }
    }
}

static const char *str_key;
static const char *str_bytes;
static size_t str_len;

static void pack_str_value(msgpack_packer *pk)
{
    pstr(pk, str_key);
    pstr_n(pk, str_bytes, str_len);
}

/* Pack a valid envelope whose 'key' is 'len' bytes at 's'; expect 'code' (0 = accepted). */
static void expect_str(const char *key, const char *s, size_t len, int code, const char *needle)
{
    struct doc d;

    str_key = key;
    str_bytes = s;
    str_len = len;
    pack_envelope(&d, key, 1, pack_str_value);
    if (code == 0) {
        struct envelope env;
        decode_doc(&d, &env);
        if (strcmp(key, "trace") == 0) {
            assert_int_equal(strlen(env.trace), len);
            assert_memory_equal(env.trace, s, len);
        }
    } else {
        expect_doc_fail(&d, code, needle);
    }
}

/* A trace of 'len' copies of 'fill'; expect 'code'. */
static void expect_trace_fill(size_t len, char fill, int code)
{
    char *s = malloc(len + 1);

    assert_non_null(s);
    memset(s, fill, len);
    s[len] = '\0';
    expect_str("trace", s, len, code, code == ENVELOPE_EGARBAGE ? "limit" : "\"trace\"");
    free(s);
}

static void test_envelope_bounds_the_trace(void **state)
{
    expect_trace_fill(1, 'a', 0);
    expect_trace_fill(ENVELOPE_MAX_TRACE, 'a', 0);
    expect_trace_fill(ENVELOPE_MAX_TRACE + 1, 'a', ENVELOPE_EFIELD);
    expect_trace_fill(0, 'a', ENVELOPE_EFIELD); /* present means a trace: leave it out instead */
    expect_trace_fill(60000, 'a', ENVELOPE_EGARBAGE); /* over the message limit first */
    expect_str("trace", TRACE ",congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
               strlen(TRACE ",congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"), 0, NULL);
    /* Printable ASCII only: both ends of the range pass, everything around them fails. */
    expect_trace_fill(3, ' ', 0);
    expect_trace_fill(3, '~', 0);
    expect_trace_fill(3, '\x1f', ENVELOPE_EFIELD);
    expect_trace_fill(3, '\x7f', ENVELOPE_EFIELD);
    expect_trace_fill(3, '\x80', ENVELOPE_EFIELD);
    expect_trace_fill(3, '\xff', ENVELOPE_EFIELD);
    expect_trace_fill(3, '\t', ENVELOPE_EFIELD);
    expect_trace_fill(3, '\n', ENVELOPE_EFIELD);
    expect_str("trace", "ab\0cd", 5, ENVELOPE_EFIELD, "printable");
    expect_str("trace", "t\xc3\xa9", 3, ENVELOPE_EFIELD, "printable");
}

static void test_envelope_rejects_invalid_uuid(void **state)
{
    static const char *const bad[] = {
        "3F2C6A1E-8B4D-4C7A-9E21-5D0B7F6A4C13",  /* uppercase */
        "3f2c6a1e-8b4d-4c7a-9e21-5d0b7f6a4c1",   /* 35 */
        "3f2c6a1e-8b4d-4c7a-9e21-5d0b7f6a4c133", /* 37 */
        "3f2c6a1e8b4d-4c7a-9e21-5d0b7f6a4c13-",  /* dash moved */
        "3f2c6a1g-8b4d-4c7a-9e21-5d0b7f6a4c13",  /* non-hex */
        "{f2c6a1e-8b4d-4c7a-9e21-5d0b7f6a4c1}",  /* braces */
        "3f2c6a1e_8b4d_4c7a_9e21_5d0b7f6a4c13",  /* other separators */
        "",                                      /* empty */
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_str("id", bad[i], strlen(bad[i]), ENVELOPE_EFIELD, "\"id\"");
    expect_str("id", "3f2c6a1e-8b4d-4c7a-9e21-5d0b7f6a4c1\0", 36, ENVELOPE_EFIELD, "\"id\"");
    expect_str("id", "urn:uuid:3f2c6a1e-8b4d-4c7a-9e21-5d0b7f6a4c13", 45, ENVELOPE_EFIELD,
               "\"id\"");
    /* Any UUID version and variant is accepted: the id is only looked up. */
    expect_str("id", "00000000-0000-0000-0000-000000000000", 36, 0, NULL);
    expect_str("id", "ffffffff-ffff-ffff-ffff-ffffffffffff", 36, 0, NULL);
}

static const uint8_t *int_bytes;
static size_t int_len;
static const char *int_key;

static void pack_int_raw(msgpack_packer *pk)
{
    pstr(pk, int_key);
    msgpack_sbuffer_write(pk->data, (const char *)int_bytes, int_len);
}

static void expect_int(const char *key, const void *bytes, size_t len, int code)
{
    struct doc d;

    int_key = key;
    int_bytes = bytes;
    int_len = len;
    pack_envelope(&d, key, 1, pack_int_raw);
    if (code == 0) {
        struct envelope env;
        decode_doc(&d, &env);
    } else {
        expect_doc_fail(&d, code, key);
    }
}

static void test_envelope_rejects_out_of_range_integers(void **state)
{
    expect_int("attempt", "\x00", 1, 0);
    expect_int("attempt", "\xce\x00\x0f\x42\x40", 5, 0);               /* 1000000 */
    expect_int("attempt", "\xce\x00\x0f\x42\x41", 5, ENVELOPE_EFIELD); /* 1000001 */
    expect_int("attempt", "\xce\xff\xff\xff\xff", 5, ENVELOPE_EFIELD); /* UINT32_MAX */
    expect_int("attempt", "\xff", 1, ENVELOPE_EFIELD);                 /* -1 */
    expect_int("attempt", "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9, ENVELOPE_EFIELD);
    expect_int("attempt", "\xcf\x00\x00\x00\x01\x00\x00\x00\x00", 9, ENVELOPE_EFIELD); /* 2^32 */
    expect_int("deadline_ms", "\x01", 1, 0);
    expect_int("deadline_ms", "\x00", 1, ENVELOPE_EFIELD); /* 0: leave the key out instead */
    expect_int("deadline_ms", "\xd3\x7f\xff\xff\xff\xff\xff\xff\xff", 9, 0); /* INT64_MAX */
    expect_int("deadline_ms", "\xcf\x7f\xff\xff\xff\xff\xff\xff\xff", 9, 0); /* as uint64 */
    expect_int("deadline_ms", "\xcf\x80\x00\x00\x00\x00\x00\x00\x00", 9, ENVELOPE_EFIELD);
    expect_int("deadline_ms", "\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9, ENVELOPE_EFIELD);
    expect_int("deadline_ms", "\xd0\xff", 2, ENVELOPE_EFIELD); /* int8 -1 */
    expect_int("deadline_ms", "\xd0\x05", 2, 0);               /* int8 5 */
}

static const char *dup_key;

static void pack_dup(msgpack_packer *pk)
{
    pstr(pk, dup_key);
    pack_valid_value(pk, dup_key);
}

static void test_envelope_rejects_duplicate_key(void **state)
{
    static const char *const keys[] = {"id", "attempt", "trace", "deadline_ms"};
    struct doc d;

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char needle[64];
        dup_key = keys[i];
        snprintf(needle, sizeof(needle), "\"%s\": duplicate", keys[i]);
        pack_envelope(&d, NULL, 1, pack_dup);
        expect_doc_fail(&d, ENVELOPE_EFIELD, needle);
    }
}

/* ---- retired v1 keys ---- */

static void test_envelope_refuses_retired_v1_keys(void **state)
{
    static const char *const retired[] = {"tool", "owner", "args"};
    struct doc d;

    for (size_t i = 0; i < sizeof(retired) / sizeof(retired[0]); i++) {
        char needle[64];
        snprintf(needle, sizeof(needle), "\"%s\": retired", retired[i]);
        /* Whatever the value's type: the key alone is refused. */
        for (wrong_kind = 0; wrong_kind <= 9; wrong_kind++) {
            wrong_key = retired[i];
            pack_envelope(&d, NULL, 1, pack_wrong);
            expect_doc_fail(&d, ENVELOPE_EFIELD, needle);
        }
    }
    /* A v2 envelope that also carries the arguments, as a confused writer would. */
    str_key = "args";
    str_bytes = "{\"password\":\"hunter2\"}";
    str_len = strlen(str_bytes);
    pack_envelope(&d, NULL, 1, pack_str_value);
    expect_doc_fail(&d, ENVELOPE_EFIELD, "retired");
}

/* ---- unknown keys ---- */

static void pack_unknowns(msgpack_packer *pk)
{
    pstr(pk, "x-scalar");
    msgpack_pack_int64(pk, -123456789);
    pstr(pk, "x-nested");
    msgpack_pack_map(pk, 3);
    pstr(pk, "a");
    msgpack_pack_array(pk, 3);
    msgpack_pack_nil(pk);
    msgpack_pack_false(pk);
    msgpack_pack_map(pk, 1);
    pstr(pk, "args");
    msgpack_pack_int(pk, 1); /* an "args" key inside a nested map is not the envelope's */
    pstr(pk, "b");
    msgpack_pack_float(pk, 1.5f);
    pstr(pk, "c");
    msgpack_pack_bin_with_body(pk, "\x00\x01", 2);
    pstr(pk, "x-ext");
    msgpack_pack_ext_with_body(pk, "abcdefgh", 8, -1);
    pstr(pk, "x-ext-odd");
    msgpack_pack_ext_with_body(pk, "abc", 3, 7);
    msgpack_pack_int(pk, 17); /* a non-string key */
    pstr(pk, "int key");
    msgpack_pack_array(pk, 1); /* a container key */
    pstr(pk, "v");
    msgpack_pack_uint8(pk, 9);                 /* not the version: the key is an array */
    msgpack_pack_bin_with_body(pk, "tool", 4); /* "tool" as bin: not the retired key */
    pstr(pk, "x");
    pstr(pk, "Tool"); /* keys are case-sensitive */
    pstr(pk, "x");
    pstr(pk, "x-big");
    msgpack_pack_double(pk, 2.5);
}

static void test_envelope_ignores_unknown_keys(void **state)
{
    struct doc d;

    pack_envelope(&d, NULL, 9, pack_unknowns);
    expect_doc_ok(&d);
}

static unsigned nest_depth;

static void pack_nested(msgpack_packer *pk)
{
    pstr(pk, "x-deep");
    for (unsigned i = 0; i < nest_depth; i++)
        msgpack_pack_array(pk, 1);
    msgpack_pack_nil(pk);
}

static void test_envelope_limits_nesting_of_unknown_values(void **state)
{
    struct doc d;

    nest_depth = 15; /* 15 arrays inside the top-level map: 16 levels in all */
    pack_envelope(&d, NULL, 1, pack_nested);
    expect_doc_ok(&d);

    nest_depth = 16;
    pack_envelope(&d, NULL, 1, pack_nested);
    expect_doc_fail(&d, ENVELOPE_EGARBAGE, "16");

    nest_depth = 800; /* as deep as fits in the message limit: no deeper recursion */
    pack_envelope(&d, NULL, 1, pack_nested);
    expect_doc_fail(&d, ENVELOPE_EGARBAGE, "16");
}

/* ---- hostile length headers ---- */

static const char *hostile_bytes;
static size_t hostile_len;

static void pack_hostile(msgpack_packer *pk)
{
    pstr(pk, "x-hostile");
    msgpack_sbuffer_write(pk->data, hostile_bytes, hostile_len);
}

static void expect_hostile_value(const char *bytes, size_t len)
{
    struct doc d;

    hostile_bytes = bytes;
    hostile_len = len;
    pack_envelope(&d, NULL, 1, pack_hostile);
    expect_doc_fail(&d, ENVELOPE_EGARBAGE, NULL);
}

static void test_envelope_rejects_hostile_length_headers(void **state)
{
    /* At top level: five bytes claiming 2^32 - 1 entries. */
    expect_fail("\xdf\xff\xff\xff\xff", 5, ENVELOPE_EGARBAGE, "count");
    expect_fail("\xdd\xff\xff\xff\xff", 5, ENVELOPE_EGARBAGE, "count");
    expect_fail("\xde\xff\xff", 3, ENVELOPE_EGARBAGE, "count");
    expect_fail("\xdb\xff\xff\xff\xff", 5, ENVELOPE_EGARBAGE, "truncated");
    /* A map claiming 3 pairs with 5 bytes left: more elements than bytes. */
    expect_fail("\x83\xa1v\x02\xa1x", 6, ENVELOPE_EGARBAGE, NULL);
    /* As the value of an unknown key, after a valid-looking envelope. */
    expect_hostile_value("\xdd\xff\xff\xff\xff", 5);     /* array32 */
    expect_hostile_value("\xdf\xff\xff\xff\xff", 5);     /* map32 */
    expect_hostile_value("\xdc\xff\xff", 3);             /* array16 */
    expect_hostile_value("\xdb\xff\xff\xff\xff", 5);     /* str32 */
    expect_hostile_value("\xda\xff\xff", 3);             /* str16 */
    expect_hostile_value("\xd9\xff", 2);                 /* str8 */
    expect_hostile_value("\xc6\xff\xff\xff\xff", 5);     /* bin32 */
    expect_hostile_value("\xc9\xff\xff\xff\xff\x01", 6); /* ext32 */
    expect_hostile_value("\xd8\x01", 2);                 /* fixext16 cut short */
    expect_hostile_value("\xcb\x00", 2);                 /* float64 cut short */
    expect_hostile_value("\xcf\x00", 2);                 /* uint64 cut short */
}

static void test_envelope_rejects_hostile_field_lengths(void **state)
{
    struct doc d;

    /* "id" and "trace" as str32 claiming 4 GiB: refused as truncated, before any copy. */
    pack_envelope(&d, "id", 0, NULL);
    d.sb.data[0] = (char)0x85; /* the 4 pairs left plus the one added below */
    pstr(&d.pk, "id");
    raw(&d, "\xdb\xff\xff\xff\xff" ID, 5 + 36);
    expect_doc_fail(&d, ENVELOPE_EGARBAGE, "truncated");

    pack_envelope(&d, "trace", 0, NULL);
    d.sb.data[0] = (char)0x85;
    pstr(&d.pk, "trace");
    raw(&d, "\xdb\xff\xff\xff\xff" TRACE, 5 + 55);
    expect_doc_fail(&d, ENVELOPE_EGARBAGE, "truncated");
}

/* ---- encode ---- */

static void expect_encode_fail(const struct envelope *in, int code, const char *needle)
{
    uint8_t buf[ENVELOPE_MAX_BYTES];
    struct err e = {0};
    size_t len = 99;

    assert_int_equal(envelope_encode(in, buf, sizeof(buf), &len, &e), -code);
    assert_int_equal(e.code, -code);
    assert_int_equal(len, 0);
    if (needle && strstr(e.msg, needle) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, needle);
}

static void test_envelope_encode_refuses_what_decode_would(void **state)
{
    struct envelope in;

    fill_full(&in);
    in.version = 1;
    expect_encode_fail(&in, ENVELOPE_EVERSION, "version 1");

    fill_full(&in);
    in.version = 3;
    expect_encode_fail(&in, ENVELOPE_EVERSION, "version 3");

    fill_full(&in);
    in.task_id[0] = 'A';
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"id\"");

    fill_full(&in);
    in.task_id[35] = '\0';
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"id\"");

    fill_full(&in);
    memset(in.task_id, 'a', sizeof(in.task_id)); /* no NUL */
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"id\"");

    fill_full(&in);
    in.attempt = ENVELOPE_MAX_ATTEMPT + 1;
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"attempt\"");

    fill_full(&in);
    in.trace[3] = '\n';
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"trace\"");

    fill_full(&in);
    in.trace[3] = '\x80';
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"trace\"");

    fill_full(&in);
    memset(in.trace, 't', sizeof(in.trace)); /* no NUL */
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"trace\"");

    fill_full(&in);
    in.deadline_ms = -1;
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"deadline_ms\"");

    fill_full(&in);
    in.deadline_ms = INT64_MIN;
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"deadline_ms\"");
}

static void test_envelope_encode_stays_in_the_callers_buffer(void **state)
{
    uint8_t full[ENVELOPE_MAX_BYTES];
    struct envelope in;
    size_t need;

    fill_full(&in);
    need = encode_ok(&in, full);
    /* Every buffer shorter than the encoding: refused, nothing written past its end (each
     * is a heap block of exactly that size, so ASan would see an overflow). */
    for (size_t cap = 0; cap <= need; cap++) {
        uint8_t *buf = malloc(cap ? cap : 1);
        struct err e = {0};
        size_t len = 99;
        assert_non_null(buf);
        int rc = envelope_encode(&in, cap ? buf : NULL, cap, &len, &e);
        if (cap < need) {
            assert_int_equal(rc, -ENVELOPE_ESPACE);
            assert_int_equal(len, 0);
            assert_non_null(strstr(e.msg, "buffer"));
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(len, need);
            assert_memory_equal(buf, full, need);
        }
        free(buf);
    }
}

static void test_envelope_trace_ok_matches_the_decoder(void **state)
{
    char s[ENVELOPE_MAX_TRACE + 2];

    assert_false(envelope_trace_ok(NULL));
    assert_false(envelope_trace_ok(""));
    assert_true(envelope_trace_ok(TRACE));
    assert_true(envelope_trace_ok(TRACE ",rojo=00f067aa0ba902b7"));
    assert_true(envelope_trace_ok(" ~"));
    assert_false(envelope_trace_ok("a\tb"));
    assert_false(envelope_trace_ok("a\x7f"));
    assert_false(envelope_trace_ok("caf\xc3\xa9"));
    memset(s, 'a', ENVELOPE_MAX_TRACE);
    s[ENVELOPE_MAX_TRACE] = '\0';
    assert_true(envelope_trace_ok(s));
    s[ENVELOPE_MAX_TRACE] = 'a';
    s[ENVELOPE_MAX_TRACE + 1] = '\0';
    assert_false(envelope_trace_ok(s));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_round_trips_full),
        cmocka_unit_test(test_envelope_round_trips_minimal),
        cmocka_unit_test(test_envelope_round_trips_limits),
        cmocka_unit_test(test_envelope_encodes_the_documented_bytes),
        cmocka_unit_test(test_envelope_decode_accepts_any_integer_format),
        cmocka_unit_test(test_envelope_decode_accepts_wide_string_formats),
        cmocka_unit_test(test_envelope_optional_fields_default),
        cmocka_unit_test(test_envelope_rejects_truncated),
        cmocka_unit_test(test_envelope_survives_byte_flips),
        cmocka_unit_test(test_envelope_rejects_garbage),
        cmocka_unit_test(test_envelope_rejects_non_map_top_level),
        cmocka_unit_test(test_envelope_rejects_trailing_bytes),
        cmocka_unit_test(test_envelope_limits_the_whole_message),
        cmocka_unit_test(test_envelope_rejects_other_versions),
        cmocka_unit_test(test_envelope_refuses_v1_envelopes),
        cmocka_unit_test(test_envelope_checks_version_before_fields),
        cmocka_unit_test(test_envelope_rejects_missing_mistyped_or_duplicate_version),
        cmocka_unit_test(test_envelope_rejects_missing_required_fields),
        cmocka_unit_test(test_envelope_rejects_wrong_types),
        cmocka_unit_test(test_envelope_bounds_the_trace),
        cmocka_unit_test(test_envelope_rejects_invalid_uuid),
        cmocka_unit_test(test_envelope_rejects_out_of_range_integers),
        cmocka_unit_test(test_envelope_rejects_duplicate_key),
        cmocka_unit_test(test_envelope_refuses_retired_v1_keys),
        cmocka_unit_test(test_envelope_ignores_unknown_keys),
        cmocka_unit_test(test_envelope_limits_nesting_of_unknown_values),
        cmocka_unit_test(test_envelope_rejects_hostile_length_headers),
        cmocka_unit_test(test_envelope_rejects_hostile_field_lengths),
        cmocka_unit_test(test_envelope_encode_refuses_what_decode_would),
        cmocka_unit_test(test_envelope_encode_stays_in_the_callers_buffer),
        cmocka_unit_test(test_envelope_trace_ok_matches_the_decoder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
