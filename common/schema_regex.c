/*
 * schema_regex.c - ECMA-262 "pattern" regexes translated to POSIX ERE.
 *
 * JSON Schema patterns are ECMA-262 regexes (ajv compiles them with the "u"
 * flag: code points, strict escapes).  The translation reads the pattern
 * once and writes a POSIX extended regex that glibc runs in the "C" locale,
 * byte by byte: every character class, ".", \d \w \s and their negations
 * become a set of code points and then an exact UTF-8 byte automaton, so a
 * class matches whole characters whatever the process locale is.  \b and \B
 * keep their ECMA meaning there (word characters are ASCII [A-Za-z0-9_]).
 * Refused: lookaround, backreferences, \p{...}, U+0000, and anything the
 * "u" flag makes a syntax error.  Counted repetition is bounded, nested
 * bounds multiplied (SCHEMA_REGEX_MAX_REPEAT), so no pattern compiles into
 * a huge automaton.  Lazy quantifiers are read as greedy: a search only
 * asks whether a match exists, which laziness never changes.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "schema_regex.h"

#include <locale.h>
#include <pthread.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytebuf.h"
#include "utf8.h"

#define OUT_MAX   65536 /* bytes of the translated regex */
#define CPSET_MAX 64    /* code point ranges in one class */
#define CP_MAX    0x10ffffu

struct schema_regex {
    regex_t re; /* the translated regex, REG_EXTENDED | REG_NOSUB */
};

/* A set of code points as ranges; sorted and merged by cpset_norm(). */
struct cpset {
    uint32_t lo[CPSET_MAX]; /* first code point of each range */
    uint32_t hi[CPSET_MAX]; /* last code point of each range */
    size_t n;               /* ranges in use */
};

/* The translation in progress. */
struct rx {
    const char *p;                                   /* next byte of the pattern */
    const char *end;                                 /* end of the pattern */
    struct bytebuf out;                              /* the POSIX regex so far */
    int rc;                                          /* first failure, or 0 */
    struct err *err;                                 /* where the failure is told */
    int depth;                                       /* open groups */
    unsigned long mult[SCHEMA_REGEX_MAX_GROUPS + 1]; /* largest repeat bound in each group */
    unsigned long last;                              /* repeat bound inside the last atom */
    bool can_repeat;                                 /* a quantifier may follow */
};

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale; /* the "C" locale, for byte semantics; (locale_t)0 if unavailable */

static void c_locale_init(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* ---- output ---- */

static int rx_fail(struct rx *x, const char *what)
{
    if (x->rc == 0)
        x->rc = err_set(x->err, -SCHEMA_REGEX_EINVALID, "pattern: %s", what);
    return x->rc;
}

static void put(struct rx *x, const void *s, size_t n)
{
    int rc;
    if (x->rc == 0 && (rc = bytebuf_append(&x->out, s, n, OUT_MAX)) < 0)
        x->rc = rc == -BYTEBUF_ETOOBIG ? rx_fail(x, "too complex (the translation is too long)")
                                       : err_set(x->err, -SCHEMA_REGEX_ENOMEM, "out of memory");
}

static void putc1(struct rx *x, unsigned char c)
{
    put(x, &c, 1);
}

/* ---- code point sets ---- */

static int cp_cmp(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

static void cpset_add(struct rx *x, struct cpset *s, uint32_t lo, uint32_t hi)
{
    if (s->n == CPSET_MAX) {
        rx_fail(x, "a character class has too many ranges");
        return;
    }
    s->lo[s->n] = lo;
    s->hi[s->n++] = hi;
}

/* Sort and merge the ranges of 's'; drops U+0000, which no instance string holds. */
static void cpset_norm(struct cpset *s)
{
    uint32_t pair[CPSET_MAX][2];
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        pair[i][0] = s->lo[i], pair[i][1] = s->hi[i];
    qsort(pair, s->n, sizeof(pair[0]), cp_cmp);
    for (size_t i = 0; i < s->n; i++) {
        uint32_t lo = pair[i][0] ? pair[i][0] : 1, hi = pair[i][1];
        if (lo > hi)
            continue;
        if (n && lo <= s->hi[n - 1] + 1) {
            if (hi > s->hi[n - 1])
                s->hi[n - 1] = hi;
            continue;
        }
        s->lo[n] = lo;
        s->hi[n++] = hi;
    }
    s->n = n;
}

/* Replace 's' (normalised) by its complement in U+0001..U+10FFFF, surrogates left out. */
static void cpset_negate(struct rx *x, struct cpset *s)
{
    struct cpset c = {.n = 0};
    uint32_t next = 1;
    for (size_t i = 0; i < s->n; i++) {
        if (s->lo[i] > next)
            cpset_add(x, &c, next, s->lo[i] - 1);
        next = s->hi[i] + 1;
    }
    if (next <= CP_MAX)
        cpset_add(x, &c, next, CP_MAX);
    *s = c;
}

/* The class escapes \d \w \s (negated by the caller for \D \W \S). */
static void cpset_escape(struct rx *x, struct cpset *s, char e)
{
    static const uint32_t space[][2] = {
        {0x09, 0x0d},     {0x20, 0x20},     {0xa0, 0xa0},     {0x1680, 0x1680}, {0x2000, 0x200a},
        {0x2028, 0x2029}, {0x202f, 0x202f}, {0x205f, 0x205f}, {0x3000, 0x3000}, {0xfeff, 0xfeff}};
    if (e == 'd') {
        cpset_add(x, s, '0', '9');
    } else if (e == 'w') {
        cpset_add(x, s, 'a', 'z');
        cpset_add(x, s, 'A', 'Z');
        cpset_add(x, s, '0', '9');
        cpset_add(x, s, '_', '_');
    } else {
        for (size_t i = 0; i < sizeof(space) / sizeof(space[0]); i++)
            cpset_add(x, s, space[i][0], space[i][1]);
    }
}

/* ---- UTF-8 byte automata ---- */

static size_t utf8_encode(uint32_t cp, unsigned char *b)
{
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (unsigned char)(0xc0 | cp >> 6);
        b[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (unsigned char)(0xe0 | cp >> 12);
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    b[0] = (unsigned char)(0xf0 | cp >> 18);
    b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    b[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* One byte as a bracket-expression endpoint; ] - ^ [ as collating symbols. */
static void put_endpoint(struct rx *x, unsigned char b)
{
    if (b == ']' || b == '-' || b == '^' || b == '[') {
        put(x, "[.", 2);
        putc1(x, b);
        put(x, ".]", 2);
    } else {
        putc1(x, b);
    }
}

static void put_byte_range(struct rx *x, unsigned char lo, unsigned char hi)
{
    put(x, "[", 1);
    put_endpoint(x, lo);
    if (hi != lo) {
        putc1(x, '-');
        put_endpoint(x, hi);
    }
    put(x, "]", 1);
}

/* Code points lo..hi (one UTF-8 length, aligned by utf8_range()) as byte ranges. */
static void put_aligned(struct rx *x, uint32_t lo, uint32_t hi)
{
    unsigned char a[4], b[4];
    size_t n = utf8_encode(lo, a);
    utf8_encode(hi, b);
    for (size_t i = 0; i < n; i++)
        put_byte_range(x, a[i], b[i]);
}

/* Code points lo..hi (none below U+0080) as alternatives of byte sequences, each
 * followed by '|'.  Splits the range until every byte position is a plain range. */
static void utf8_range(struct rx *x, uint32_t lo, uint32_t hi, int depth)
{
    static const uint32_t limit[] = {0x7ff, 0xffff};
    if (lo > hi || depth > 16)
        return;
    if (lo <= 0xdfff && hi >= 0xd800) { /* surrogates are not characters */
        utf8_range(x, lo, 0xd7ff, depth + 1);
        utf8_range(x, 0xe000, hi, depth + 1);
        return;
    }
    for (size_t i = 0; i < 2; i++)
        if (lo <= limit[i] && hi > limit[i]) {
            utf8_range(x, lo, limit[i], depth + 1);
            utf8_range(x, limit[i] + 1, hi, depth + 1);
            return;
        }
    for (int i = 1; i < 4; i++) {
        uint32_t m = (1u << (6 * i)) - 1;
        if ((lo & ~m) == (hi & ~m))
            continue;
        if ((lo & m) != 0) {
            utf8_range(x, lo, lo | m, depth + 1);
            utf8_range(x, (lo | m) + 1, hi, depth + 1);
            return;
        }
        if ((hi & m) != m) {
            utf8_range(x, lo, (hi & ~m) - 1, depth + 1);
            utf8_range(x, hi & ~m, hi, depth + 1);
            return;
        }
    }
    put_aligned(x, lo, hi);
    putc1(x, '|');
}

/* A normalised code point set as one atom: a bracket for ASCII, a group when any
 * code point needs more than one byte. */
static void put_class(struct rx *x, const struct cpset *s)
{
    bool wide = s->n && s->hi[s->n - 1] >= 0x80;
    bool ascii = s->n && s->lo[0] < 0x80;
    if (wide)
        putc1(x, '(');
    if (ascii || !s->n) {
        putc1(x, '[');
        for (size_t i = 0; i < s->n && s->lo[i] < 0x80; i++) {
            put_endpoint(x, (unsigned char)s->lo[i]);
            putc1(x, '-');
            put_endpoint(x, (unsigned char)(s->hi[i] < 0x80 ? s->hi[i] : 0x7f));
        }
        if (!s->n) /* the empty class: no byte a UTF-8 string can hold at all */
            put(x, "\xf8-\xff", 3);
        putc1(x, ']');
        if (wide)
            putc1(x, '|');
    }
    for (size_t i = 0; i < s->n; i++)
        if (s->hi[i] >= 0x80)
            utf8_range(x, s->lo[i] < 0x80 ? 0x80 : s->lo[i], s->hi[i], 0);
    if (wide && x->rc == 0) {
        x->out.len--; /* the last '|' */
        putc1(x, ')');
    }
}

/* ---- reading the pattern ---- */

/* The code point at x->p (valid UTF-8: it comes from a JSON string); advances. */
static uint32_t next_cp(struct rx *x)
{
    const unsigned char *s = (const unsigned char *)x->p;
    size_t n = utf8_seq_len(s, (size_t)(x->end - x->p));
    uint32_t cp;
    if (n <= 1) {
        x->p++;
        return s[0];
    }
    cp = s[0] & (0xff >> (n + 1));
    for (size_t i = 1; i < n; i++)
        cp = cp << 6 | (s[i] & 0x3f);
    x->p += n;
    return cp;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 'n' hex digits at x->p into *cp; false when they are not there. */
static bool read_hex(struct rx *x, int n, uint32_t *cp)
{
    *cp = 0;
    for (int i = 0; i < n; i++) {
        if (x->p >= x->end || hex_digit(*x->p) < 0)
            return false;
        *cp = *cp << 4 | (uint32_t)hex_digit(*x->p++);
    }
    return true;
}

/* After "\u": XXXX (a surrogate pair joined), or {X...} as the "u" flag allows. */
static bool read_unicode(struct rx *x, uint32_t *cp)
{
    if (x->p < x->end && *x->p == '{') {
        x->p++;
        *cp = 0;
        int digits = 0;
        while (x->p < x->end && hex_digit(*x->p) >= 0 && *cp <= CP_MAX)
            *cp = *cp << 4 | (uint32_t)hex_digit(*x->p++), digits++;
        if (!digits || x->p >= x->end || *x->p != '}' || *cp > CP_MAX)
            return false;
        x->p++;
        return true;
    }
    if (!read_hex(x, 4, cp))
        return false;
    if (*cp >= 0xd800 && *cp <= 0xdbff && x->end - x->p >= 6 && x->p[0] == '\\' && x->p[1] == 'u') {
        const char *save = x->p;
        uint32_t low;
        x->p += 2;
        if (read_hex(x, 4, &low) && low >= 0xdc00 && low <= 0xdfff) {
            *cp = 0x10000 + ((*cp - 0xd800) << 10) + (low - 0xdc00);
            return true;
        }
        x->p = save;
    }
    return !(*cp >= 0xd800 && *cp <= 0xdfff);
}

enum esc_kind {
    ESC_CHAR,   /* one code point */
    ESC_CLASS,  /* a set: \d \D \w \W \s \S */
    ESC_ASSERT, /* \b or \B (outside a class) */
    ESC_BAD,    /* refused; x->rc is set */
};

/* Read the escape after a '\'.  Inside a class, \b is backspace and \- is '-'. */
static enum esc_kind read_escape(struct rx *x, bool in_class, uint32_t *cp, struct cpset *set)
{
    if (x->p >= x->end)
        return rx_fail(x, "a pattern cannot end with \\"), ESC_BAD;
    char e = *x->p++;
    static const char controls[] = "t\tn\nr\rf\fv\v";
    const char *ctl = strchr(controls, e);
    if (e && ctl && (ctl - controls) % 2 == 0)
        return *cp = (unsigned char)ctl[1], ESC_CHAR;
    if (strchr("dDwWsS", e) && e) {
        cpset_escape(x, set, (char)(e | 0x20));
        if (e & 0x20)
            return ESC_CLASS;
        if (in_class)
            return rx_fail(x, "\\D, \\W and \\S are not supported inside [...]"), ESC_BAD;
        cpset_norm(set);
        cpset_negate(x, set);
        return ESC_CLASS;
    }
    if (e == 'b' || e == 'B')
        return in_class ? (e == 'b' ? (*cp = 8, ESC_CHAR) : (rx_fail(x, "\\B in [...]"), ESC_BAD))
                        : (*cp = (uint32_t)e, ESC_ASSERT);
    if (e == 'x' || e == 'u') {
        if (!(e == 'x' ? read_hex(x, 2, cp) : read_unicode(x, cp)))
            return rx_fail(x, "a bad \\x or \\u escape"), ESC_BAD;
        return *cp ? ESC_CHAR : (rx_fail(x, "U+0000 is not supported"), ESC_BAD);
    }
    if (e && (strchr("^$\\.*+?()[]{}|/", e) || (in_class && e == '-')))
        return *cp = (uint32_t)e, ESC_CHAR;
    if (e == 'c' && x->p < x->end && ((*x->p | 0x20) >= 'a' && (*x->p | 0x20) <= 'z'))
        return *cp = (uint32_t)(*x->p++ % 32), ESC_CHAR;
    if (e >= '0' && e <= '9')
        return rx_fail(x, "backreferences and \\0 are not supported"), ESC_BAD;
    if (e == 'p' || e == 'P')
        return rx_fail(x, "Unicode property escapes (\\p) are not supported"), ESC_BAD;
    return rx_fail(x, "an escape the \"u\" flag does not allow (or \\k)"), ESC_BAD;
}

/* One member of a class (a code point or a class escape) into *cp or *set. */
static enum esc_kind class_atom(struct rx *x, uint32_t *cp, struct cpset *set)
{
    if (*x->p == '\\') {
        x->p++;
        return read_escape(x, true, cp, set);
    }
    *cp = next_cp(x);
    return ESC_CHAR;
}

/* "[...]" at x->p (after the '[') as a normalised set. */
static void read_class(struct rx *x, struct cpset *set)
{
    bool negated = x->p < x->end && *x->p == '^';
    x->p += negated;
    set->n = 0;
    while (x->rc == 0 && x->p < x->end && *x->p != ']') {
        uint32_t lo, hi;
        enum esc_kind k = class_atom(x, &lo, set);
        if (k != ESC_CHAR)
            continue;
        if (x->end - x->p >= 2 && x->p[0] == '-' && x->p[1] != ']') {
            x->p++;
            if (class_atom(x, &hi, set) != ESC_CHAR || hi < lo) {
                rx_fail(x, "a bad range in [...]");
                return;
            }
        } else {
            hi = lo;
        }
        cpset_add(x, set, lo, hi);
    }
    if (x->p >= x->end)
        rx_fail(x, "a [ without its ]");
    x->p++;
    cpset_norm(set);
    if (negated)
        cpset_negate(x, set);
}

/* A literal code point as one atom. */
static void put_literal(struct rx *x, uint32_t cp)
{
    unsigned char b[4];
    size_t n = utf8_encode(cp, b);
    if (n > 1) {
        putc1(x, '(');
        put(x, b, n);
        putc1(x, ')');
    } else {
        if (strchr(".[]\\()*+?{}|^$", (char)cp))
            putc1(x, '\\');
        putc1(x, b[0]);
    }
}

/* An atom was written: a quantifier may follow and repeats 'inner'. */
static void atom_done(struct rx *x, unsigned long inner)
{
    x->can_repeat = true;
    x->last = inner;
}

/* A quantifier's bound 'bound' on the last atom: the nested product stays bounded. */
static void note_bound(struct rx *x, unsigned long bound)
{
    unsigned long total = x->last * (bound ? bound : 1);
    if (bound > SCHEMA_REGEX_MAX_REPEAT || total > SCHEMA_REGEX_MAX_REPEAT) {
        rx_fail(x, "too complex (counted repetition, nested bounds multiplied, over 1000)");
        return;
    }
    if (total > x->mult[x->depth])
        x->mult[x->depth] = total;
}

static bool read_number(struct rx *x, unsigned long *n)
{
    const char *start = x->p;
    *n = 0;
    while (x->p < x->end && *x->p >= '0' && *x->p <= '9' && *n <= 100000)
        *n = *n * 10 + (unsigned long)(*x->p++ - '0');
    return x->p > start;
}

/* "{n}", "{n,}" or "{n,m}" at x->p (on the '{'), copied out. */
static void read_braces(struct rx *x)
{
    unsigned long lo, hi = 0;
    const char *start = x->p++;
    bool comma = false;
    bool ok = read_number(x, &lo);
    if (ok && x->p < x->end && *x->p == ',') {
        x->p++;
        comma = true;
        if (x->p < x->end && *x->p != '}')
            ok = read_number(x, &hi) && hi >= lo;
    }
    if (!ok || x->p >= x->end || *x->p != '}') {
        rx_fail(x, "a { that is not a quantifier {n}, {n,} or {n,m}");
        return;
    }
    x->p++;
    note_bound(x, comma && hi == 0 ? lo : (comma ? hi : lo));
    put(x, start, (size_t)(x->p - start));
}

/* A quantifier at x->p; the last atom must be repeatable.  A lazy '?' is dropped. */
static void read_quantifier(struct rx *x)
{
    if (!x->can_repeat) {
        rx_fail(x, "a quantifier with nothing to repeat");
        return;
    }
    if (*x->p == '{')
        read_braces(x);
    else
        putc1(x, (unsigned char)*x->p++);
    if (x->p < x->end && *x->p == '?')
        x->p++;
    x->can_repeat = false;
}

/* "(" at x->p: a group, non-capturing or named (both plain groups here). */
static void open_group(struct rx *x)
{
    x->p++;
    if (x->end - x->p >= 2 && x->p[0] == '?') {
        if (x->p[1] == ':') {
            x->p += 2;
        } else if (x->p[1] == '<' && x->end - x->p >= 3 && x->p[2] != '=' && x->p[2] != '!') {
            const char *gt = memchr(x->p, '>', (size_t)(x->end - x->p));
            if (!gt)
                return (void)rx_fail(x, "a bad group name");
            x->p = gt + 1;
        } else {
            return (void)rx_fail(x, "lookahead and lookbehind are not supported");
        }
    }
    if (x->depth == SCHEMA_REGEX_MAX_GROUPS)
        return (void)rx_fail(x, "groups nested too deeply");
    x->mult[++x->depth] = 1;
    putc1(x, '(');
    x->can_repeat = false;
}

static void close_group(struct rx *x)
{
    x->p++;
    if (x->depth == 0)
        return (void)rx_fail(x, "a ) without its (");
    putc1(x, ')');
    x->depth--;
    atom_done(x, x->mult[x->depth + 1]);
}

/* A '\' escape outside a class. */
static void read_top_escape(struct rx *x)
{
    uint32_t cp = 0;
    struct cpset set = {.n = 0};
    x->p++;
    switch (read_escape(x, false, &cp, &set)) {
    case ESC_CHAR:
        put_literal(x, cp);
        atom_done(x, 1);
        break;
    case ESC_CLASS:
        cpset_norm(&set);
        put_class(x, &set);
        atom_done(x, 1);
        break;
    case ESC_ASSERT:
        put(x, cp == 'b' ? "\\b" : "\\B", 2);
        x->can_repeat = false;
        break;
    case ESC_BAD:
        break;
    }
}

/* One syntax element at x->p. */
static void read_element(struct rx *x)
{
    static const struct cpset dot = {{1, 0x0b, 0x0e, 0x202a}, {0x09, 0x0c, 0x2027, CP_MAX}, 4};
    struct cpset set;
    char c = *x->p;
    if (c == '(') {
        open_group(x);
    } else if (c == ')') {
        close_group(x);
    } else if (c == '|' || c == '^' || c == '$') {
        putc1(x, (unsigned char)*x->p++);
        x->can_repeat = false;
    } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        read_quantifier(x);
    } else if (c == '}' || c == ']') {
        rx_fail(x, "a lone } or ] (the \"u\" flag wants it escaped)");
    } else if (c == '[') {
        x->p++;
        read_class(x, &set);
        put_class(x, &set);
        atom_done(x, 1);
    } else if (c == '.') {
        x->p++;
        put_class(x, &dot);
        atom_done(x, 1);
    } else if (c == '\\') {
        read_top_escape(x);
    } else {
        put_literal(x, next_cp(x));
        atom_done(x, 1);
    }
}

/*
 * Compile the ECMA-262 pattern 'src' (UTF-8, 'len' bytes, no NUL needed) into
 * *out.  Returns 0, -SCHEMA_REGEX_EINVALID with 'err' saying what is wrong or
 * unsupported, or -SCHEMA_REGEX_ENOMEM.  The caller owns *out (free with
 * schema_regex_free()).  Thread-safe.
 */
int schema_regex_compile(const char *src, size_t len, struct schema_regex **out, struct err *err)
{
    struct rx x = {.p = src, .end = src + len, .err = err, .last = 1};
    *out = NULL;
    if (len > SCHEMA_REGEX_MAX_LEN)
        return err_set(err, -SCHEMA_REGEX_EINVALID, "pattern: longer than %d bytes",
                       SCHEMA_REGEX_MAX_LEN);
    if (memchr(src, '\0', len))
        return err_set(err, -SCHEMA_REGEX_EINVALID, "pattern: U+0000 is not supported");
    x.mult[0] = 1;
    put(&x, "", 0);
    while (x.rc == 0 && x.p < x.end)
        read_element(&x);
    if (x.rc == 0 && x.depth)
        rx_fail(&x, "a ( without its )");
    if (x.rc == 0)
        putc1(&x, '\0');
    int rc = x.rc;
    pthread_once(&c_locale_once, c_locale_init);
    struct schema_regex *re = rc ? NULL : calloc(1, sizeof(*re));
    if (!rc && (!re || !c_locale))
        rc = err_set(err, -SCHEMA_REGEX_ENOMEM, "out of memory");
    if (!rc) {
        locale_t was = uselocale(c_locale);
        int prc = regcomp(&re->re, x.out.data, REG_EXTENDED | REG_NOSUB);
        uselocale(was);
        if (prc)
            rc = err_set(err, prc == REG_ESPACE ? -SCHEMA_REGEX_ENOMEM : -SCHEMA_REGEX_EINVALID,
                         "pattern: the regex engine refused it (code %d)", prc);
    }
    bytebuf_fini(&x.out);
    if (rc) {
        free(re);
        return rc;
    }
    *out = re;
    return 0;
}

/*
 * 1 when 's' (NUL-terminated UTF-8) contains a match of 're' anywhere (the
 * JSON Schema rule: patterns are not anchored), else 0.  Thread-safe.
 */
int schema_regex_search(const struct schema_regex *re, const char *s)
{
    locale_t was = uselocale(c_locale);
    int rc = regexec(&re->re, s, 0, NULL, 0);
    uselocale(was);
    return rc == 0;
}

/* Free 're' (NULL is a no-op). */
void schema_regex_free(struct schema_regex *re)
{
    if (!re)
        return;
    regfree(&re->re);
    free(re);
}
