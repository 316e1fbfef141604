/*
 * test_envelope.c - unit tests for proto/envelope.c (msgpack job envelope v1).
 *
 * Round trips, then the decoder's refusals: truncation at every length,
 * byte flips, garbage, versions, wrong types, limits, hostile length headers,
 * duplicates, trailing bytes, and unknown keys that must be skipped.  Inputs
 * are built with msgpack-c's packer so each case states only what differs.
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

#define ID "01890a5d-ac96-774b-bcce-b302099a8057"

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

/* The full set of valid v1 pairs, in a deliberately non-encoder order. */
static const char *const all_keys[] = {"tool", "id",      "v",     "owner",
                                       "args", "attempt", "trace", "deadline_ms"};

static void pack_valid_value(msgpack_packer *pk, const char *key)
{
    if (strcmp(key, "v") == 0)
        msgpack_pack_uint8(pk, 1);
    else if (strcmp(key, "id") == 0)
        pstr(pk, ID);
    else if (strcmp(key, "tool") == 0)
        pstr(pk, "web.fetch");
    else if (strcmp(key, "owner") == 0)
        pstr(pk, "user:alice@example.com");
    else if (strcmp(key, "args") == 0)
        pstr(pk, "{\"url\":\"https://example.com/\"}");
    else if (strcmp(key, "attempt") == 0)
        msgpack_pack_uint32(pk, 3);
    else if (strcmp(key, "trace") == 0)
        pstr(pk, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    else if (strcmp(key, "deadline_ms") == 0)
        msgpack_pack_int64(pk, 1800000000000);
}

/* Pack a valid v1 map without the key 'omit' (NULL: none), followed by 'extra_pairs'
 * pairs written by 'extra'. */
static void pack_envelope(struct doc *d, const char *omit, unsigned extra_pairs, extra_fn *extra)
{
    size_t n = sizeof(all_keys) / sizeof(all_keys[0]);

    doc_init(d);
    msgpack_pack_map(&d->pk, n - (omit ? 1 : 0) + extra_pairs);
    for (size_t i = 0; i < n; i++) {
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
    strcpy(e->tool, "web.fetch");
    strcpy(e->owner, "user:alice@example.com");
    strcpy(e->trace, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    e->args = "{\"url\":\"https://example.com/\",\"n\":[1,2,3]}";
    e->args_len = strlen(e->args);
    e->attempt = 7;
    e->deadline_ms = 1800000000123;
}

static void fill_minimal(struct envelope *e)
{
    memset(e, 0, sizeof(*e));
    strcpy(e->task_id, ID);
    strcpy(e->tool, "t");
    strcpy(e->owner, "o");
    e->args = "{}";
    e->args_len = 2;
}

static void assert_envelope_equal(const struct envelope *a, const struct envelope *b)
{
    assert_int_equal(a->version, b->version);
    assert_string_equal(a->task_id, b->task_id);
    assert_string_equal(a->tool, b->tool);
    assert_string_equal(a->owner, b->owner);
    assert_string_equal(a->trace, b->trace);
    assert_int_equal(a->args_len, b->args_len);
    assert_memory_equal(a->args, b->args, a->args_len);
    assert_int_equal(a->attempt, b->attempt);
    assert_int_equal(a->deadline_ms, b->deadline_ms);
}

/* Decode and expect failure with 'code', an empty envelope, and 'needle' in the message. */
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
    assert_null(env.args);
    assert_int_equal(env.args_len, 0);
    assert_true(strlen(e.msg) > 0);
    if (needle && strstr(e.msg, needle) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, needle);
    envelope_fini(&env);
}

static void expect_doc_fail(struct doc *d, int code, const char *needle)
{
    expect_fail(d->sb.data, d->sb.size, code, needle);
    doc_fini(d);
}

static void expect_doc_ok(struct doc *d)
{
    struct envelope env;
    struct err e = {0};

    if (envelope_decode(d->sb.data, d->sb.size, &env, &e) != 0)
        fail_msg("decode failed: %s", e.msg);
    assert_string_equal(env.tool, "web.fetch");
    assert_int_equal(env.attempt, 3);
    envelope_fini(&env);
    doc_fini(d);
}

/* ---- round trips ---- */

static void round_trip(const struct envelope *in)
{
    struct envelope out;
    struct err e = {0};
    char *buf = NULL;
    size_t len = 0;

    assert_int_equal(envelope_encode(in, &buf, &len, &e), 0);
    assert_non_null(buf);
    assert_true(len > 0 && len <= ENVELOPE_MAX_BYTES);
    if (envelope_decode(buf, len, &out, &e) != 0)
        fail_msg("decode failed: %s", e.msg);
    assert_int_equal(out.version, ENVELOPE_VERSION);
    assert_int_equal(out.args[out.args_len], '\0');
    struct envelope want = *in;
    want.version = ENVELOPE_VERSION;
    assert_envelope_equal(&out, &want);
    envelope_fini(&out);
    free(buf);
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
    char *buf;
    size_t len;

    fill_minimal(&in);
    round_trip(&in);
    /* Optional fields at their defaults are left out: a map of 6, "v" first. */
    assert_int_equal(envelope_encode(&in, &buf, &len, NULL), 0);
    assert_memory_equal(buf, "\x86\xa1v\x01", 4);
    free(buf);
}

static void test_envelope_round_trips_limits(void **state)
{
    struct envelope in;

    fill_full(&in);
    memset(in.tool, 'a', ENVELOPE_MAX_TOOL);
    in.tool[ENVELOPE_MAX_TOOL] = '\0';
    memset(in.owner, 'o', ENVELOPE_MAX_OWNER);
    in.owner[ENVELOPE_MAX_OWNER] = '\0';
    memset(in.trace, 't', ENVELOPE_MAX_TRACE);
    in.trace[ENVELOPE_MAX_TRACE] = '\0';
    char *args = malloc(ENVELOPE_MAX_ARGS + 1);
    assert_non_null(args);
    memset(args, ' ', ENVELOPE_MAX_ARGS);
    args[ENVELOPE_MAX_ARGS] = '\0';
    in.args = args;
    in.args_len = ENVELOPE_MAX_ARGS;
    in.attempt = 1000000;
    in.deadline_ms = INT64_MAX;
    round_trip(&in);

    in.args_len = 0; /* empty args text is passed through; JSON is not checked here */
    round_trip(&in);
    free(args);
}

static void test_envelope_decode_accepts_any_integer_format(void **state)
{
    /* v as uint8, attempt as int32, deadline as uint64: all msgpack integers count. */
    static const uint8_t head[] = {0x87, 0xa1, 'v',  0xcc, 0x01, 0xa7, 'a',  't',  't',  'e',
                                   'm',  'p',  't',  0xd2, 0x00, 0x00, 0x00, 0x05, 0xab, 'd',
                                   'e',  'a',  'd',  'l',  'i',  'n',  'e',  '_',  'm',  's',
                                   0xcf, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00};
    struct doc d;
    struct envelope env;

    doc_init(&d);
    raw(&d, head, sizeof(head));
    pstr(&d.pk, "id");
    pstr(&d.pk, ID);
    pstr(&d.pk, "tool");
    pstr(&d.pk, "x");
    pstr(&d.pk, "owner");
    pstr(&d.pk, "y");
    pstr(&d.pk, "args");
    assert_int_equal(msgpack_pack_str(&d.pk, 2), 0); /* str as str8 would also do */
    raw(&d, "[]", 2);
    assert_int_equal(envelope_decode(d.sb.data, d.sb.size, &env, NULL), 0);
    assert_int_equal(env.attempt, 5);
    assert_int_equal(env.deadline_ms, 256);
    assert_string_equal(env.args, "[]");
    envelope_fini(&env);
    doc_fini(&d);
}

static void test_envelope_decode_accepts_wide_string_formats(void **state)
{
    /* Short strings in wide forms: "tool" as str16, an unknown pair as str32. */
    struct doc d;
    struct envelope env;

    pack_envelope(&d, "tool", 2, NULL);
    pstr(&d.pk, "tool");
    raw(&d,
        "\xda\x00\x03"
        "abc",
        6);
    /* The second extra pair: an unknown key and value, both as str32. */
    raw(&d,
        "\xdb\x00\x00\x00\x01"
        "z",
        6);
    raw(&d,
        "\xdb\x00\x00\x00\x02"
        "ok",
        7);
    assert_int_equal(envelope_decode(d.sb.data, d.sb.size, &env, NULL), 0);
    assert_string_equal(env.tool, "abc");
    envelope_fini(&env);
    doc_fini(&d);
}

/* ---- malformed input ---- */

static void test_envelope_rejects_truncated(void **state)
{
    struct envelope in;
    char *buf;
    size_t len;

    fill_full(&in);
    assert_int_equal(envelope_encode(&in, &buf, &len, NULL), 0);
    for (size_t cut = 0; cut < len; cut++) {
        /* A copy of exactly 'cut' bytes, so ASan sees any read past the end. */
        char *prefix = malloc(cut ? cut : 1);
        assert_non_null(prefix);
        memcpy(prefix, buf, cut);
        expect_fail(prefix, cut, ENVELOPE_EGARBAGE, NULL);
        free(prefix);
    }
    free(buf);
}

static void test_envelope_survives_byte_flips(void **state)
{
    struct envelope in, out, again;
    char *buf, *re;
    size_t len, relen;
    unsigned ok = 0, refused = 0;

    fill_full(&in);
    assert_int_equal(envelope_encode(&in, &buf, &len, NULL), 0);
    char *m = malloc(len);
    assert_non_null(m);
    for (size_t pos = 0; pos < len; pos++) {
        for (unsigned x = 1; x < 256; x++) {
            memcpy(m, buf, len);
            m[pos] = (char)(m[pos] ^ x);
            struct err e = {0};
            int rc = envelope_decode(m, len, &out, &e);
            if (rc < 0) {
                assert_true(rc >= -ENVELOPE_ENOMEM);
                assert_null(out.args);
                refused++;
                continue;
            }
            /* Whatever was accepted must survive a round trip. */
            assert_int_equal(envelope_encode(&out, &re, &relen, NULL), 0);
            assert_int_equal(envelope_decode(re, relen, &again, NULL), 0);
            assert_envelope_equal(&out, &again);
            envelope_fini(&again);
            envelope_fini(&out);
            free(re);
            ok++;
        }
    }
    assert_true(ok > 0 && refused > 0);
    free(m);
    free(buf);
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
    expect_fail("{\"v\":1}", 7, ENVELOPE_EGARBAGE, NULL);
    /* A map whose key is the reserved byte. */
    expect_fail("\x81\xc1\x01", 3, ENVELOPE_EGARBAGE, "0xc1");
}

static void test_envelope_rejects_non_map_top_level(void **state)
{
    expect_fail("\x90", 1, ENVELOPE_EGARBAGE, "array");
    expect_fail("\xa1v", 2, ENVELOPE_EGARBAGE, "string");
    expect_fail("\x01", 1, ENVELOPE_EGARBAGE, "integer");
    expect_fail("\xc0", 1, ENVELOPE_EGARBAGE, "nil");
    expect_fail("\x92\xa1v\x01", 4, ENVELOPE_EGARBAGE, "array");
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

static void test_envelope_rejects_oversize_input(void **state)
{
    size_t len = ENVELOPE_MAX_BYTES + 1;
    char *big = calloc(1, len);

    assert_non_null(big);
    big[0] = (char)0x80; /* an empty map, then zeros: the size check comes first */
    expect_fail(big, len, ENVELOPE_EGARBAGE, "limit");
    free(big);
}

/* ---- versions ---- */

static void pack_v2(msgpack_packer *pk)
{
    pstr(pk, "v");
    msgpack_pack_uint8(pk, 2);
}

static void pack_v0(msgpack_packer *pk)
{
    pstr(pk, "v");
    msgpack_pack_uint8(pk, 0);
}

static void pack_v_negative(msgpack_packer *pk)
{
    pstr(pk, "v");
    msgpack_pack_int8(pk, -1);
}

static void pack_v_string(msgpack_packer *pk)
{
    pstr(pk, "v");
    pstr(pk, "1");
}

static void pack_tool_int_then_v2(msgpack_packer *pk)
{
    pstr(pk, "tool");
    msgpack_pack_int(pk, 42);
    pack_v2(pk);
}

static void test_envelope_rejects_version_2(void **state)
{
    struct doc d;

    pack_envelope(&d, "v", 1, pack_v2);
    expect_doc_fail(&d, ENVELOPE_EVERSION, "version 2");

    pack_envelope(&d, "v", 1, pack_v0);
    expect_doc_fail(&d, ENVELOPE_EVERSION, "version 0");

    pack_envelope(&d, "v", 1, pack_v_negative);
    expect_doc_fail(&d, ENVELOPE_EVERSION, "version -1");
}

static void test_envelope_checks_version_before_fields(void **state)
{
    struct doc d;

    /* A v2 envelope may lay out "tool" differently: that is a version error, not a field
     * one, even when "v" comes last. */
    doc_init(&d);
    msgpack_pack_map(&d.pk, 2);
    pack_tool_int_then_v2(&d.pk);
    expect_doc_fail(&d, ENVELOPE_EVERSION, NULL);
}

static void test_envelope_rejects_missing_or_mistyped_version(void **state)
{
    struct doc d;

    pack_envelope(&d, "v", 0, NULL);
    expect_doc_fail(&d, ENVELOPE_EFIELD, "\"v\": missing");

    pack_envelope(&d, "v", 1, pack_v_string);
    expect_doc_fail(&d, ENVELOPE_EFIELD, "\"v\"");

    expect_fail("\x80", 1, ENVELOPE_EFIELD, "\"v\"");
}

/* ---- fields ---- */

static void test_envelope_rejects_missing_required_fields(void **state)
{
    static const char *const required[] = {"id", "tool", "owner", "args", "attempt"};
    struct doc d;

    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        char needle[64];
        snprintf(needle, sizeof(needle), "\"%s\": missing", required[i]);
        pack_envelope(&d, required[i], 0, NULL);
        expect_doc_fail(&d, ENVELOPE_EFIELD, needle);
    }
}

static void test_envelope_optional_fields_default(void **state)
{
    struct doc d;
    struct envelope env;

    doc_init(&d);
    msgpack_pack_map(&d.pk, 6);
    for (size_t i = 0; i < 6; i++) {
        pstr(&d.pk, all_keys[i]);
        pack_valid_value(&d.pk, all_keys[i]);
    }
    assert_int_equal(envelope_decode(d.sb.data, d.sb.size, &env, NULL), 0);
    assert_string_equal(env.trace, "");
    assert_int_equal(env.deadline_ms, 0);
    envelope_fini(&env);
    doc_fini(&d);
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
        msgpack_pack_bin_with_body(pk, "web", 3);
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
    }
}

static void test_envelope_rejects_wrong_types(void **state)
{
    static const char *const strings[] = {"id", "tool", "owner", "args", "trace"};
    static const char *const ints[] = {"attempt", "deadline_ms"};
    struct doc d;

    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        for (wrong_kind = 0; wrong_kind <= 8; wrong_kind++) {
            if (wrong_kind == 1)
                continue; /* a string is the right type */
            wrong_key = strings[i];
            pack_envelope(&d, wrong_key, 1, pack_wrong);
            expect_doc_fail(&d, ENVELOPE_EFIELD, wrong_key);
        }
    }
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        for (wrong_kind = 1; wrong_kind <= 8; wrong_kind++) {
            wrong_key = ints[i];
            pack_envelope(&d, wrong_key, 1, pack_wrong);
            expect_doc_fail(&d, ENVELOPE_EFIELD, wrong_key);
        }
    }
}

static const char *big_key;
static size_t big_len;
static char big_fill;

static void pack_big(msgpack_packer *pk)
{
    char *s = malloc(big_len + 1);

    assert_non_null(s);
    memset(s, big_fill, big_len);
    pstr(pk, big_key);
    pstr_n(pk, s, big_len);
    free(s);
}

static void expect_len(const char *key, size_t len, char fill, int code)
{
    struct doc d;

    big_key = key;
    big_len = len;
    big_fill = fill;
    pack_envelope(&d, key, 1, pack_big);
    if (code == 0) {
        struct envelope env;
        struct err e = {0};
        if (envelope_decode(d.sb.data, d.sb.size, &env, &e) != 0)
            fail_msg("%s of %zu bytes refused: %s", key, len, e.msg);
        envelope_fini(&env);
        doc_fini(&d);
    } else {
        expect_doc_fail(&d, code, key);
    }
}

static void test_envelope_rejects_oversize_fields(void **state)
{
    expect_len("tool", ENVELOPE_MAX_TOOL, 'a', 0);
    expect_len("tool", ENVELOPE_MAX_TOOL + 1, 'a', ENVELOPE_EFIELD);
    expect_len("tool", 0, 'a', ENVELOPE_EFIELD);
    expect_len("owner", ENVELOPE_MAX_OWNER, 'o', 0);
    expect_len("owner", ENVELOPE_MAX_OWNER + 1, 'o', ENVELOPE_EFIELD);
    expect_len("owner", 0, 'o', ENVELOPE_EFIELD);
    expect_len("trace", ENVELOPE_MAX_TRACE, 't', 0);
    expect_len("trace", ENVELOPE_MAX_TRACE + 1, 't', ENVELOPE_EFIELD);
    expect_len("trace", 0, 't', 0);
    expect_len("args", ENVELOPE_MAX_ARGS, ' ', 0);
    expect_len("args", ENVELOPE_MAX_ARGS + 1, ' ', ENVELOPE_EFIELD);
}

static void test_envelope_rejects_nul_bytes(void **state)
{
    expect_len("owner", 3, '\0', ENVELOPE_EFIELD);
    expect_len("args", 3, '\0', ENVELOPE_EFIELD);
    expect_len("trace", 3, '\0', ENVELOPE_EFIELD);
    expect_len("tool", 3, '\0', ENVELOPE_EFIELD);
}

static void test_envelope_rejects_bad_tool_names(void **state)
{
    static const char *const bad[] = {"web fetch", "web/fetch", "t\xc3\xa9", "a;b", "x\n"};
    struct doc d;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        doc_init(&d);
        msgpack_pack_map(&d.pk, 6);
        for (size_t k = 0; k < 6; k++) {
            pstr(&d.pk, all_keys[k]);
            if (strcmp(all_keys[k], "tool") == 0)
                pstr(&d.pk, bad[i]);
            else
                pack_valid_value(&d.pk, all_keys[k]);
        }
        expect_doc_fail(&d, ENVELOPE_EFIELD, "tool");
    }
    expect_len("tool", 5, 'Z', 0);
    expect_len("tool", 5, '-', 0);
}

static const char *bad_id;

static void pack_bad_id(msgpack_packer *pk)
{
    pstr(pk, "id");
    pstr(pk, bad_id);
}

static void test_envelope_rejects_invalid_uuid(void **state)
{
    static const char *const bad[] = {
        "01890A5D-AC96-774B-BCCE-B302099A8057",  /* uppercase */
        "01890a5d-ac96-774b-bcce-b302099a805",   /* 35 */
        "01890a5d-ac96-774b-bcce-b302099a80577", /* 37 */
        "01890a5dac96-774b-bcce-b302099a8057-",  /* dash moved */
        "01890a5g-ac96-774b-bcce-b302099a8057",  /* non-hex */
        "{1890a5d-ac96-774b-bcce-b302099a805}",  /* braces */
        "",                                      /* empty */
    };
    struct doc d;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bad_id = bad[i];
        pack_envelope(&d, "id", 1, pack_bad_id);
        expect_doc_fail(&d, ENVELOPE_EFIELD, "\"id\"");
    }
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
        assert_int_equal(envelope_decode(d.sb.data, d.sb.size, &env, NULL), 0);
        envelope_fini(&env);
        doc_fini(&d);
    } else {
        expect_doc_fail(&d, code, key);
    }
}

static void test_envelope_rejects_out_of_range_integers(void **state)
{
    expect_int("attempt", "\xce\x00\x0f\x42\x40", 5, 0);               /* 1000000 */
    expect_int("attempt", "\xce\x00\x0f\x42\x41", 5, ENVELOPE_EFIELD); /* 1000001 */
    expect_int("attempt", "\xff", 1, ENVELOPE_EFIELD);                 /* -1 */
    expect_int("attempt", "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9, ENVELOPE_EFIELD);
    expect_int("deadline_ms", "\x00", 1, 0);
    expect_int("deadline_ms", "\xd3\x7f\xff\xff\xff\xff\xff\xff\xff", 9, 0); /* INT64_MAX */
    expect_int("deadline_ms", "\xcf\x80\x00\x00\x00\x00\x00\x00\x00", 9, ENVELOPE_EFIELD);
    expect_int("deadline_ms", "\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9, ENVELOPE_EFIELD);
    expect_int("deadline_ms", "\xd0\xff", 2, ENVELOPE_EFIELD); /* int8 -1 */
    expect_int("deadline_ms", "\xd0\x05", 2, 0);               /* int8 5 */
}

static void pack_dup_tool(msgpack_packer *pk)
{
    pstr(pk, "tool");
    pstr(pk, "web.fetch");
}

static void pack_dup_v(msgpack_packer *pk)
{
    pstr(pk, "v");
    msgpack_pack_uint8(pk, 1);
}

static void pack_dup_args(msgpack_packer *pk)
{
    pstr(pk, "args");
    pstr(pk, "{\"again\":true}");
}

static void test_envelope_rejects_duplicate_key(void **state)
{
    struct doc d;

    pack_envelope(&d, NULL, 1, pack_dup_tool);
    expect_doc_fail(&d, ENVELOPE_EFIELD, "duplicate");
    pack_envelope(&d, NULL, 1, pack_dup_v);
    expect_doc_fail(&d, ENVELOPE_EFIELD, "duplicate");
    /* The second args must not leak the first one's copy. */
    pack_envelope(&d, NULL, 1, pack_dup_args);
    expect_doc_fail(&d, ENVELOPE_EFIELD, "duplicate");
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
    pstr(pk, "tool");
    msgpack_pack_int(pk, 1); /* a "tool" key inside a nested map is not the envelope's */
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
    msgpack_pack_uint8(pk, 9); /* not the version: the key is an array */
    pstr(pk, "x-big");
    msgpack_pack_double(pk, 2.5);
}

static void test_envelope_ignores_unknown_keys(void **state)
{
    struct doc d;

    pack_envelope(&d, NULL, 7, pack_unknowns);
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

    nest_depth = 100000; /* no stack blow-up either */
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
    expect_fail("\x83\xa1v\x01\xa1x", 6, ENVELOPE_EGARBAGE, NULL);
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

static void test_envelope_rejects_hostile_args_length(void **state)
{
    struct doc d;

    /* "args" as str32 claiming 4 GiB: refused before anything is allocated. */
    pack_envelope(&d, "args", 0, NULL);
    d.sb.data[0] = (char)0x88; /* the same 7 pairs plus the one added below */
    pstr(&d.pk, "args");
    raw(&d, "\xdb\xff\xff\xff\xff{}", 7);
    expect_doc_fail(&d, ENVELOPE_EGARBAGE, "truncated");
}

/* ---- encode ---- */

static void expect_encode_fail(const struct envelope *in, int code, const char *needle)
{
    struct err e = {0};
    char *buf = (char *)1;
    size_t len = 99;

    assert_int_equal(envelope_encode(in, &buf, &len, &e), -code);
    assert_null(buf);
    assert_int_equal(len, 0);
    if (needle && strstr(e.msg, needle) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, needle);
}

static void test_envelope_encode_refuses_what_decode_would(void **state)
{
    struct envelope in;

    fill_full(&in);
    in.version = 2;
    expect_encode_fail(&in, ENVELOPE_EVERSION, "version");

    fill_full(&in);
    in.task_id[0] = 'A';
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"id\"");

    fill_full(&in);
    in.tool[0] = '\0';
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"tool\"");

    fill_full(&in);
    strcpy(in.tool, "a b");
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"tool\"");

    fill_full(&in);
    memset(in.tool, 'a', sizeof(in.tool)); /* no NUL */
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"tool\"");

    fill_full(&in);
    in.owner[0] = '\0';
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"owner\"");

    fill_full(&in);
    memset(in.trace, 't', sizeof(in.trace)); /* no NUL */
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"trace\"");

    fill_full(&in);
    in.args = NULL;
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"args\"");

    fill_full(&in);
    in.args = "{\"a\":\0}";
    in.args_len = 7;
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"args\"");

    fill_full(&in);
    in.args_len = ENVELOPE_MAX_ARGS + 1;
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"args\"");

    fill_full(&in);
    in.attempt = 1000001;
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"attempt\"");

    fill_full(&in);
    in.deadline_ms = -1;
    expect_encode_fail(&in, ENVELOPE_EFIELD, "\"deadline_ms\"");
}

static void test_envelope_fini_is_idempotent(void **state)
{
    struct envelope env;
    struct envelope in;
    char *buf;
    size_t len;

    memset(&env, 0, sizeof(env));
    envelope_fini(&env);
    envelope_fini(NULL);

    fill_full(&in);
    assert_int_equal(envelope_encode(&in, &buf, &len, NULL), 0);
    assert_int_equal(envelope_decode(buf, len, &env, NULL), 0);
    envelope_fini(&env);
    assert_null(env.args);
    envelope_fini(&env);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_round_trips_full),
        cmocka_unit_test(test_envelope_round_trips_minimal),
        cmocka_unit_test(test_envelope_round_trips_limits),
        cmocka_unit_test(test_envelope_decode_accepts_any_integer_format),
        cmocka_unit_test(test_envelope_decode_accepts_wide_string_formats),
        cmocka_unit_test(test_envelope_rejects_truncated),
        cmocka_unit_test(test_envelope_survives_byte_flips),
        cmocka_unit_test(test_envelope_rejects_garbage),
        cmocka_unit_test(test_envelope_rejects_non_map_top_level),
        cmocka_unit_test(test_envelope_rejects_trailing_bytes),
        cmocka_unit_test(test_envelope_rejects_oversize_input),
        cmocka_unit_test(test_envelope_rejects_version_2),
        cmocka_unit_test(test_envelope_checks_version_before_fields),
        cmocka_unit_test(test_envelope_rejects_missing_or_mistyped_version),
        cmocka_unit_test(test_envelope_rejects_missing_required_fields),
        cmocka_unit_test(test_envelope_optional_fields_default),
        cmocka_unit_test(test_envelope_rejects_wrong_types),
        cmocka_unit_test(test_envelope_rejects_oversize_fields),
        cmocka_unit_test(test_envelope_rejects_nul_bytes),
        cmocka_unit_test(test_envelope_rejects_bad_tool_names),
        cmocka_unit_test(test_envelope_rejects_invalid_uuid),
        cmocka_unit_test(test_envelope_rejects_out_of_range_integers),
        cmocka_unit_test(test_envelope_rejects_duplicate_key),
        cmocka_unit_test(test_envelope_ignores_unknown_keys),
        cmocka_unit_test(test_envelope_limits_nesting_of_unknown_values),
        cmocka_unit_test(test_envelope_rejects_hostile_length_headers),
        cmocka_unit_test(test_envelope_rejects_hostile_args_length),
        cmocka_unit_test(test_envelope_encode_refuses_what_decode_would),
        cmocka_unit_test(test_envelope_fini_is_idempotent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
