/*
 * envelope.c - msgpack codec of the v2 job envelope (proto/wire-format.md).
 *
 * Encoding uses msgpack-c's packer, writing into the caller's fixed buffer.
 * Decoding is a hand-written, bounded reader over the caller's bytes (after
 * hiredis read.c): no msgpack_unpack, no zone, and every declared length or
 * element count is checked against the bytes left before it is used, so
 * hostile headers cost nothing.  Nothing here allocates.  Invariant: a failed
 * decode leaves the envelope zeroed.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "envelope.h"

#include <inttypes.h>
#include <string.h>

#include <msgpack.h>

#define ENVELOPE_MAX_DEPTH 16 /* containers nested deeper than this (top map = 1) */

/* ---- bounded msgpack reader ---- */

enum mp_kind {
    MP_NIL,
    MP_BOOL,
    MP_UINT,   /* any integer format holding a value >= 0 */
    MP_NEGINT, /* any integer format holding a value < 0 */
    MP_FLOAT,
    MP_STR,
    MP_BIN,
    MP_EXT,
    MP_ARRAY,
    MP_MAP,
};

/* A cursor over the input; never reads at or past 'end'. */
struct mp_reader {
    const uint8_t *start; /* first input byte, for offsets in messages */
    const uint8_t *p;     /* next byte to read */
    const uint8_t *obj;   /* first byte of the object being read */
    const uint8_t *end;   /* one past the last input byte */
    const char *why;      /* what went wrong, a static string, set on failure */
    size_t why_at;        /* byte offset at which it went wrong */
};

/* One msgpack object header, with its payload for scalars. */
struct mp_obj {
    enum mp_kind kind;   /* what the header says */
    uint64_t u;          /* MP_UINT value, MP_BOOL 0 or 1 */
    int64_t i;           /* MP_NEGINT value */
    const uint8_t *data; /* MP_STR, MP_BIN, MP_EXT, MP_FLOAT payload, borrowed from the input */
    uint64_t n;          /* payload bytes, or ARRAY elements, or MAP pairs */
};

static const char *mp_kind_name(enum mp_kind k)
{
    static const char *const names[] = {"nil",   "boolean", "integer", "negative integer",
                                        "float", "string",  "binary",  "extension",
                                        "array", "map"};
    return names[k];
}

static void mp_init(struct mp_reader *r, const uint8_t *buf, size_t len)
{
    r->start = buf;
    r->p = buf;
    r->obj = buf;
    r->end = buf + len;
    r->why = NULL;
    r->why_at = 0;
}

static int mp_fail(struct mp_reader *r, const char *why)
{
    r->why = why;
    r->why_at = (size_t)(r->obj - r->start);
    return -1;
}

static size_t mp_left(const struct mp_reader *r)
{
    return (size_t)(r->end - r->p);
}

/* Consume 'n' bytes and point *out at them; fails without moving if fewer are left. */
static int mp_take(struct mp_reader *r, uint64_t n, const uint8_t **out)
{
    if (n > mp_left(r))
        return mp_fail(r, "truncated");
    *out = r->p;
    r->p += n;
    return 0;
}

/* Read a 'width'-byte (1, 2, 4 or 8) big-endian unsigned integer. */
static int mp_be(struct mp_reader *r, unsigned width, uint64_t *v)
{
    const uint8_t *q;

    if (mp_take(r, width, &q) < 0)
        return -1;
    *v = 0;
    for (unsigned k = 0; k < width; k++)
        *v = (*v << 8) | q[k];
    return 0;
}

/* A string, binary or extension payload of 'len' bytes follows. */
static int mp_payload(struct mp_reader *r, struct mp_obj *o, enum mp_kind kind, uint64_t len)
{
    o->kind = kind;
    o->n = len;
    return mp_take(r, len, &o->data);
}

/* An array of 'count' elements or a map of 'count' pairs follows.  Each element
 * takes at least one byte, so a count the remaining bytes cannot hold is
 * rejected here, before anyone loops over it. */
static int mp_container(struct mp_reader *r, struct mp_obj *o, enum mp_kind kind, uint64_t count)
{
    uint64_t elements = (kind == MP_MAP) ? count * 2 : count; /* count < 2^32: no overflow */

    if (elements > mp_left(r))
        return mp_fail(r, "element count exceeds the bytes left");
    o->kind = kind;
    o->n = count;
    return 0;
}

/* A signed integer of 'width' bytes follows; store it as MP_UINT or MP_NEGINT. */
static int mp_signed(struct mp_reader *r, struct mp_obj *o, unsigned width)
{
    uint64_t raw;
    int64_t v;

    if (mp_be(r, width, &raw) < 0)
        return -1;
    /* Sign-extend from 'width' bytes without implementation-defined conversions. */
    if (width < 8 && (raw >> (8 * width - 1)) & 1)
        raw |= ~UINT64_C(0) << (8 * width);
    if (raw >> 63)
        v = -(int64_t)(~raw) - 1; /* two's complement, spelled out */
    else
        v = (int64_t)raw;
    if (v >= 0) {
        o->kind = MP_UINT;
        o->u = (uint64_t)v;
    } else {
        o->kind = MP_NEGINT;
        o->i = v;
    }
    return 0;
}

/* An extension: 'len' payload bytes after a one-byte type. */
static int mp_ext(struct mp_reader *r, struct mp_obj *o, uint64_t len)
{
    const uint8_t *type;

    if (mp_take(r, 1, &type) < 0)
        return -1;
    return mp_payload(r, o, MP_EXT, len);
}

/*
 * Read one object header (and the payload of a scalar) into *o.  Containers
 * are not descended into: the caller reads or skips their o->n elements.
 * Returns 0, or -1 with r->why set.
 */
static int mp_next(struct mp_reader *r, struct mp_obj *o)
{
    const uint8_t *q;
    uint64_t len;
    uint8_t c;

    memset(o, 0, sizeof(*o));
    r->obj = r->p;
    if (mp_take(r, 1, &q) < 0)
        return -1;
    c = q[0];
    if (c <= 0x7f) {
        o->kind = MP_UINT;
        o->u = c;
        return 0;
    }
    if (c >= 0xe0) {
        o->kind = MP_NEGINT;
        o->i = (int64_t)c - 256;
        return 0;
    }
    if (c <= 0x8f)
        return mp_container(r, o, MP_MAP, c & 0x0f);
    if (c <= 0x9f)
        return mp_container(r, o, MP_ARRAY, c & 0x0f);
    if (c <= 0xbf)
        return mp_payload(r, o, MP_STR, c & 0x1f);

    switch (c) {
    case 0xc0:
        o->kind = MP_NIL;
        return 0;
    case 0xc2:
    case 0xc3:
        o->kind = MP_BOOL;
        o->u = c & 1;
        return 0;
    case 0xc4: /* bin 8/16/32 */
    case 0xc5:
    case 0xc6:
        if (mp_be(r, 1u << (c - 0xc4), &len) < 0)
            return -1;
        return mp_payload(r, o, MP_BIN, len);
    case 0xc7: /* ext 8/16/32 */
    case 0xc8:
    case 0xc9:
        if (mp_be(r, 1u << (c - 0xc7), &len) < 0)
            return -1;
        return mp_ext(r, o, len);
    case 0xca:
        return mp_payload(r, o, MP_FLOAT, 4);
    case 0xcb:
        return mp_payload(r, o, MP_FLOAT, 8);
    case 0xcc: /* uint 8/16/32/64 */
    case 0xcd:
    case 0xce:
    case 0xcf:
        o->kind = MP_UINT;
        return mp_be(r, 1u << (c - 0xcc), &o->u);
    case 0xd0: /* int 8/16/32/64 */
    case 0xd1:
    case 0xd2:
    case 0xd3:
        return mp_signed(r, o, 1u << (c - 0xd0));
    case 0xd4: /* fixext 1/2/4/8/16 */
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        return mp_ext(r, o, 1u << (c - 0xd4));
    case 0xd9: /* str 8/16/32 */
    case 0xda:
    case 0xdb:
        if (mp_be(r, 1u << (c - 0xd9), &len) < 0)
            return -1;
        return mp_payload(r, o, MP_STR, len);
    case 0xdc: /* array 16/32 */
    case 0xdd:
        if (mp_be(r, 2u << (c - 0xdc), &len) < 0)
            return -1;
        return mp_container(r, o, MP_ARRAY, len);
    case 0xde: /* map 16/32 */
    case 0xdf:
        if (mp_be(r, 2u << (c - 0xde), &len) < 0)
            return -1;
        return mp_container(r, o, MP_MAP, len);
    default: /* 0xc1, the one byte msgpack never uses */
        return mp_fail(r, "reserved type byte 0xc1");
    }
}

static int mp_skip(struct mp_reader *r, int depth);

/* Skip the elements of 'o' if it is a container that sits at nesting level 'depth'. */
static int mp_skip_body(struct mp_reader *r, const struct mp_obj *o, int depth)
{
    uint64_t elements;

    if (o->kind != MP_ARRAY && o->kind != MP_MAP)
        return 0;
    if (depth > ENVELOPE_MAX_DEPTH)
        return mp_fail(r, "containers nested more than 16 deep");
    elements = (o->kind == MP_MAP) ? o->n * 2 : o->n;
    for (uint64_t k = 0; k < elements; k++) {
        if (mp_skip(r, depth + 1) < 0)
            return -1;
    }
    return 0;
}

/* Skip one whole object (of any type) that sits at nesting level 'depth'.
 * Recursion is bounded by ENVELOPE_MAX_DEPTH, and total work by the input
 * length, since every element consumes at least one byte. */
static int mp_skip(struct mp_reader *r, int depth)
{
    struct mp_obj o;

    if (mp_next(r, &o) < 0)
        return -1;
    return mp_skip_body(r, &o, depth);
}

static bool mp_str_is(const struct mp_obj *o, const char *s)
{
    size_t n = strlen(s);

    return o->kind == MP_STR && o->n == n && memcmp(o->data, s, n) == 0;
}

/* ---- field rules, shared by encode and decode ---- */

/*
 * The keys a v2 reader knows: its own fields, then the v1 fields that v2
 * retired.  Those are recognised only to be refused, so a writer that still
 * puts a tool name, an owner or arguments on the fabric is caught at the first
 * worker instead of being skipped as an unknown key.
 */
enum envelope_field {
    F_V,
    F_ID,
    F_ATTEMPT,
    F_TRACE,
    F_DEADLINE,
    F_TOOL, /* retired: this and the two after it are refused */
    F_OWNER,
    F_ARGS,
    F_COUNT,
};

static const char *const envelope_key[F_COUNT] = {
    [F_V] = "v",
    [F_ID] = "id",
    [F_ATTEMPT] = "attempt",
    [F_TRACE] = "trace",
    [F_DEADLINE] = "deadline_ms",
    [F_TOOL] = "tool",
    [F_OWNER] = "owner",
    [F_ARGS] = "args",
};

#define F_BIT(f)          (1u << (f))
#define ENVELOPE_REQUIRED (F_BIT(F_V) | F_BIT(F_ID) | F_BIT(F_ATTEMPT))

static int field_error(struct err *err, enum envelope_field f, const char *problem)
{
    return err_set(err, -ENVELOPE_EFIELD, "envelope field \"%s\": %s", envelope_key[f], problem);
}

static bool is_lower_hex(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* "id": exactly 36 bytes of 8-4-4-4-12 lowercase hex with dashes. */
static int check_id(const uint8_t *s, size_t n, struct err *err)
{
    if (n != ENVELOPE_TASK_ID_LEN)
        return field_error(err, F_ID, "not 36 bytes of UUID text");
    for (size_t k = 0; k < n; k++) {
        bool dash = (k == 8 || k == 13 || k == 18 || k == 23);
        if (dash ? s[k] != '-' : !is_lower_hex(s[k]))
            return field_error(err, F_ID, "not canonical lowercase UUID text");
    }
    return 0;
}

/* "trace": 1..ENVELOPE_MAX_TRACE bytes of printable ASCII (0x20..0x7e), as the
 * W3C traceparent and tracestate headers are; absent means no trace. */
static int check_trace(const uint8_t *s, size_t n, struct err *err)
{
    if (n == 0 || n > ENVELOPE_MAX_TRACE)
        return err_set(err, -ENVELOPE_EFIELD, "envelope field \"trace\": %zu bytes, outside 1..%d",
                       n, ENVELOPE_MAX_TRACE);
    for (size_t k = 0; k < n; k++) {
        if (s[k] < 0x20 || s[k] > 0x7e)
            return field_error(err, F_TRACE, "a byte outside printable ASCII");
    }
    return 0;
}

/*
 * True when the NUL-terminated 'trace' may be sent as an envelope's "trace":
 * 1..ENVELOPE_MAX_TRACE bytes of printable ASCII.  Lets a sender leave out a
 * trace it cannot send rather than fail the whole push.  False for NULL.
 * Reads at most ENVELOPE_MAX_TRACE + 1 bytes.  Thread-safe.
 */
bool envelope_trace_ok(const char *trace)
{
    if (trace == NULL)
        return false;
    return check_trace((const uint8_t *)trace, strnlen(trace, ENVELOPE_MAX_TRACE + 1), NULL) == 0;
}

/* ---- decode ---- */

/* Copy a checked string payload into a fixed NUL-terminated field. */
static void copy_str(char *dst, const struct mp_obj *o)
{
    memcpy(dst, o->data, o->n);
    dst[o->n] = '\0';
}

static int want_str(const struct mp_obj *o, enum envelope_field f, struct err *err)
{
    if (o->kind == MP_STR)
        return 0;
    return err_set(err, -ENVELOPE_EFIELD, "envelope field \"%s\": expected a string, got %s",
                   envelope_key[f], mp_kind_name(o->kind));
}

/* An integer in min..max, whatever its msgpack format. */
static int want_uint(const struct mp_obj *o, enum envelope_field f, uint64_t min, uint64_t max,
                     struct err *err)
{
    if (o->kind == MP_NEGINT)
        return field_error(err, f, "negative");
    if (o->kind != MP_UINT)
        return err_set(err, -ENVELOPE_EFIELD, "envelope field \"%s\": expected an integer, got %s",
                       envelope_key[f], mp_kind_name(o->kind));
    if (o->u < min || o->u > max)
        return err_set(err, -ENVELOPE_EFIELD,
                       "envelope field \"%s\": %" PRIu64 " outside %" PRIu64 "..%" PRIu64,
                       envelope_key[f], o->u, min, max);
    return 0;
}

/* Decode the value 'o' of the known key 'f' into 'env'.  Returns 0 or a negative code. */
static int decode_field(enum envelope_field f, const struct mp_obj *o, struct envelope *env,
                        struct err *err)
{
    int rc;

    switch (f) {
    case F_V:
        env->version = ENVELOPE_VERSION; /* checked by envelope_scan() */
        return 0;
    case F_ID:
        if ((rc = want_str(o, f, err)) < 0 || (rc = check_id(o->data, o->n, err)) < 0)
            return rc;
        copy_str(env->task_id, o);
        return 0;
    case F_ATTEMPT:
        if ((rc = want_uint(o, f, 0, ENVELOPE_MAX_ATTEMPT, err)) < 0)
            return rc;
        env->attempt = (uint32_t)o->u;
        return 0;
    case F_TRACE:
        if ((rc = want_str(o, f, err)) < 0 || (rc = check_trace(o->data, o->n, err)) < 0)
            return rc;
        copy_str(env->trace, o);
        return 0;
    case F_DEADLINE:
        /* 0 would mean "none": absence says that, so a present deadline is a real one. */
        if ((rc = want_uint(o, f, 1, INT64_MAX, err)) < 0)
            return rc;
        env->deadline_ms = (int64_t)o->u;
        return 0;
    default: /* F_TOOL, F_OWNER, F_ARGS (lookup_key() never returns F_COUNT here) */
        return field_error(err, f, "retired in v2 (no tool, owner or arguments on the fabric)");
    }
}

/* The known field a key names, or F_COUNT for an unknown key (of any type). */
static enum envelope_field lookup_key(const struct mp_obj *key)
{
    for (int f = 0; f < F_COUNT; f++) {
        if (mp_str_is(key, envelope_key[f]))
            return (enum envelope_field)f;
    }
    return F_COUNT;
}

static int garbage(const struct mp_reader *r, struct err *err)
{
    return err_set(err, -ENVELOPE_EGARBAGE,
                   "envelope is not well-formed msgpack (object at byte %zu): %s", r->why_at,
                   r->why ? r->why : "unknown");
}

/*
 * First pass: check that the whole input is exactly one well-formed map
 * (skipping every value, bounded in depth), and that "v" is present, single
 * and equal to ENVELOPE_VERSION.  Doing this before looking at other fields
 * makes truncation always EGARBAGE and other versions (v1 included) always
 * EVERSION.
 */
static int envelope_scan(const uint8_t *buf, size_t len, struct err *err)
{
    struct mp_reader r;
    struct mp_obj top, key, val, version = {.kind = MP_NIL};
    unsigned versions = 0;

    mp_init(&r, buf, len);
    if (mp_next(&r, &top) < 0)
        return garbage(&r, err);
    if (top.kind != MP_MAP)
        return err_set(err, -ENVELOPE_EGARBAGE, "envelope is a msgpack %s, not a map",
                       mp_kind_name(top.kind));
    for (uint64_t k = 0; k < top.n; k++) {
        if (mp_next(&r, &key) < 0 || mp_skip_body(&r, &key, 2) < 0)
            return garbage(&r, err);
        if (mp_next(&r, &val) < 0 || mp_skip_body(&r, &val, 2) < 0)
            return garbage(&r, err);
        if (mp_str_is(&key, "v")) {
            versions++;
            version = val;
        }
    }
    if (mp_left(&r) != 0)
        return err_set(err, -ENVELOPE_EGARBAGE, "envelope has %zu trailing byte(s) after the map",
                       mp_left(&r));

    if (versions == 0)
        return field_error(err, F_V, "missing");
    if (versions > 1)
        return field_error(err, F_V, "duplicate key");
    if (version.kind == MP_NEGINT)
        return err_set(err, -ENVELOPE_EVERSION,
                       "envelope version %" PRId64 ", this build speaks %d", version.i,
                       ENVELOPE_VERSION);
    if (version.kind != MP_UINT)
        return err_set(err, -ENVELOPE_EFIELD, "envelope field \"v\": expected an integer, got %s",
                       mp_kind_name(version.kind));
    if (version.u != ENVELOPE_VERSION)
        return err_set(err, -ENVELOPE_EVERSION,
                       "envelope version %" PRIu64 ", this build speaks %d", version.u,
                       ENVELOPE_VERSION);
    return 0;
}

/* Second pass over a map envelope_scan() accepted: decode each known key. */
static int envelope_fields(const uint8_t *buf, size_t len, struct envelope *env, struct err *err)
{
    struct mp_reader r;
    struct mp_obj top, key, val;
    unsigned seen = 0;
    int rc;

    /* The structure is known good, so reader failures cannot happen here. */
    mp_init(&r, buf, len);
    if (mp_next(&r, &top) < 0)
        return garbage(&r, err);
    for (uint64_t k = 0; k < top.n; k++) {
        enum envelope_field f;

        if (mp_next(&r, &key) < 0 || mp_skip_body(&r, &key, 2) < 0)
            return garbage(&r, err);
        f = lookup_key(&key);
        if (f == F_COUNT) {
            if (mp_skip(&r, 2) < 0)
                return garbage(&r, err);
            continue;
        }
        if (seen & F_BIT(f))
            return field_error(err, f, "duplicate key");
        seen |= F_BIT(f);
        if (mp_next(&r, &val) < 0)
            return garbage(&r, err);
        rc = decode_field(f, &val, env, err);
        if (rc < 0)
            return rc;
        /* Known fields are scalars once decode_field() accepted them: nothing to skip. */
    }

    for (int f = 0; f < F_COUNT; f++) {
        if ((ENVELOPE_REQUIRED & F_BIT(f)) && !(seen & F_BIT(f)))
            return field_error(err, (enum envelope_field)f, "missing");
    }
    return 0;
}

/*
 * Decode exactly 'len' bytes at 'buf' as one v2 envelope into 'env', which is
 * overwritten.  Unknown keys, of any type and with values of any type, are
 * skipped; the retired v1 keys "tool", "owner" and "args" are refused.
 *
 * Returns 0 on success.  On failure returns -ENVELOPE_EGARBAGE (not one
 * complete msgpack map, over ENVELOPE_MAX_BYTES, trailing bytes, nesting over
 * 16), -ENVELOPE_EVERSION ("v" is an integer other than 2, such as a v1
 * envelope) or -ENVELOPE_EFIELD (a field missing, duplicated, retired, of the
 * wrong type or out of range); 'env' is then zeroed and 'err', if not NULL,
 * names the field and the problem without quoting its contents.
 * Borrows 'buf'; allocates nothing.  Thread-safe, no global state.
 */
int envelope_decode(const void *buf, size_t len, struct envelope *env, struct err *err)
{
    int rc;

    memset(env, 0, sizeof(*env));
    if (len > ENVELOPE_MAX_BYTES)
        return err_set(err, -ENVELOPE_EGARBAGE, "envelope of %zu bytes exceeds the %d-byte limit",
                       len, ENVELOPE_MAX_BYTES);
    if (buf == NULL || len == 0)
        return err_set(err, -ENVELOPE_EGARBAGE, "envelope is empty");

    rc = envelope_scan(buf, len, err);
    if (rc == 0)
        rc = envelope_fields(buf, len, env, err);
    if (rc < 0)
        memset(env, 0, sizeof(*env));
    return rc;
}

/* ---- encode ---- */

/* Length of a fixed-size field's text, or an error if it has no NUL within 'cap'. */
static int field_len(enum envelope_field f, const char *s, size_t cap, size_t *n, struct err *err)
{
    *n = strnlen(s, cap);
    if (*n == cap)
        return field_error(err, f, "not NUL-terminated within its buffer");
    return 0;
}

/* Apply the decoder's rules to 'env', so encode never emits what decode would refuse. */
static int envelope_check(const struct envelope *env, struct err *err)
{
    size_t n;
    int rc;

    if (env->version != 0 && env->version != ENVELOPE_VERSION)
        return err_set(err, -ENVELOPE_EVERSION, "cannot encode envelope version %" PRIu32,
                       env->version);
    if ((rc = field_len(F_ID, env->task_id, sizeof(env->task_id), &n, err)) < 0 ||
        (rc = check_id((const uint8_t *)env->task_id, n, err)) < 0)
        return rc;
    if (env->attempt > ENVELOPE_MAX_ATTEMPT)
        return field_error(err, F_ATTEMPT, "exceeds 1000000");
    if ((rc = field_len(F_TRACE, env->trace, sizeof(env->trace), &n, err)) < 0)
        return rc;
    if (n > 0 && (rc = check_trace((const uint8_t *)env->trace, n, err)) < 0)
        return rc;
    if (env->deadline_ms < 0)
        return field_error(err, F_DEADLINE, "negative");
    return 0;
}

/* The caller's output buffer, as a msgpack-c write callback sees it. */
struct fixed_buf {
    uint8_t *p; /* first byte, borrowed */
    size_t len; /* bytes written */
    size_t cap; /* bytes available */
};

/* msgpack_packer_write: append or fail without writing when it does not fit. */
static int fixed_write(void *data, const char *buf, size_t len)
{
    struct fixed_buf *fb = data;

    if (len > fb->cap - fb->len)
        return -1;
    memcpy(fb->p + fb->len, buf, len);
    fb->len += len;
    return 0;
}

static int pack_key(msgpack_packer *pk, enum envelope_field f)
{
    return msgpack_pack_str_with_body(pk, envelope_key[f], strlen(envelope_key[f]));
}

/*
 * Encode 'env' as a v2 envelope into 'buf', which has room for 'cap' bytes
 * (ENVELOPE_MAX_BYTES always suffice); *len gets the size written.  "v" is
 * always ENVELOPE_VERSION; env->version must be 0 or ENVELOPE_VERSION.
 * "trace" is written only when not empty and "deadline_ms" only when not 0,
 * so decode gives back the same struct.
 *
 * Returns 0, or -ENVELOPE_EFIELD / -ENVELOPE_EVERSION when 'env' breaks a
 * rule that envelope_decode() enforces, or -ENVELOPE_ESPACE when 'cap' is too
 * small; on failure *len is 0 and 'buf' holds nothing meaningful.  Never
 * writes past buf + cap.  Borrows 'env'; allocates nothing.  Thread-safe, no
 * global state.
 */
int envelope_encode(const struct envelope *env, void *buf, size_t cap, size_t *len, struct err *err)
{
    struct fixed_buf fb = {.p = buf, .len = 0, .cap = cap};
    msgpack_packer pk;
    bool has_trace = env->trace[0] != '\0';
    bool has_deadline = env->deadline_ms != 0;
    int rc;

    *len = 0;
    rc = envelope_check(env, err);
    if (rc < 0)
        return rc;

    msgpack_packer_init(&pk, &fb, fixed_write);
    /* "v" first, so a reader can tell the version from the opening bytes. */
    if (msgpack_pack_map(&pk, 3 + has_trace + has_deadline) != 0 || pack_key(&pk, F_V) != 0 ||
        msgpack_pack_uint32(&pk, ENVELOPE_VERSION) != 0 || pack_key(&pk, F_ID) != 0 ||
        msgpack_pack_str_with_body(&pk, env->task_id, ENVELOPE_TASK_ID_LEN) != 0 ||
        pack_key(&pk, F_ATTEMPT) != 0 || msgpack_pack_uint32(&pk, env->attempt) != 0)
        goto out_no_space;
    if (has_trace && (pack_key(&pk, F_TRACE) != 0 ||
                      msgpack_pack_str_with_body(&pk, env->trace, strlen(env->trace)) != 0))
        goto out_no_space;
    if (has_deadline &&
        (pack_key(&pk, F_DEADLINE) != 0 || msgpack_pack_int64(&pk, env->deadline_ms) != 0))
        goto out_no_space;
    *len = fb.len;
    return 0;

out_no_space:
    return err_set(err, -ENVELOPE_ESPACE, "envelope does not fit in a %zu-byte buffer", cap);
}
