/*
 * quota.c - the limits table: parse the overrides once, resolve per request.
 *
 * Overrides are kept as two name-sorted arrays (scopes, principals) of
 * partial limit sets (a mask says which limits an entry sets), searched with
 * bsearch, so resolving costs a few string compares per scope of the token.
 * Nothing is allocated while resolving, and nothing changes after
 * quota_new(): threads share the table without a lock.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "quota.h"

#include <stdlib.h>
#include <string.h>

#define QUOTA_NAME_MAX 255        /* longest scope or principal name */
#define QUOTA_VALUE_MAX 1000000000 /* largest value of one limit */

/* Every limit by its setting name, and where it lives in a struct quota_set. */
static const struct {
    const char *name; /* the frontend setting (and the overrides' member name) */
    size_t offset;    /* of its int64_t in struct quota_set */
} fields[] = {
    {"rate-create-per-s", offsetof(struct quota_set, per_s[QUOTA_CREATE])},
    {"rate-create-burst", offsetof(struct quota_set, burst[QUOTA_CREATE])},
    {"rate-read-per-s", offsetof(struct quota_set, per_s[QUOTA_READ])},
    {"rate-read-burst", offsetof(struct quota_set, burst[QUOTA_READ])},
    {"rate-other-per-s", offsetof(struct quota_set, per_s[QUOTA_OTHER])},
    {"rate-other-burst", offsetof(struct quota_set, burst[QUOTA_OTHER])},
    {"max-sync-calls", offsetof(struct quota_set, max_sync)},
    {"max-listen-streams", offsetof(struct quota_set, max_listen)},
    {"max-live-tasks", offsetof(struct quota_set, max_live)},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* One scope's or principal's overrides. */
struct entry {
    char *name;          /* the scope or the principal (owned) */
    struct quota_set v; /* the values it sets */
    unsigned mask;       /* bit i: it sets fields[i] */
};

/* One sorted list of entries. */
struct entries {
    struct entry *e; /* sorted by name */
    size_t n;        /* how many */
};

struct quota {
    struct quota_set defaults; /* the settings */
    struct entries scopes;      /* overrides per scope */
    struct entries principals;  /* overrides per principal */
};

static int64_t *field_of(struct quota_set *s, size_t i)
{
    return (int64_t *)((char *)s + fields[i].offset);
}

static int64_t field_value(const struct quota_set *s, size_t i)
{
    return *(const int64_t *)((const char *)s + fields[i].offset);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* Fill entry 'e' named 'name' from object 'obj'; 0 or -LIMITS_E* with 'err' set. */
static int parse_entry(const char *what, const char *name, const json_t *obj, struct entry *e,
                       struct err *err)
{
    if (!*name || strlen(name) > QUOTA_NAME_MAX || !json_is_object(obj))
        return err_set(err, -QUOTA_EINVALID, "%s \"%.64s\": want a name of 1-%d bytes and an "
                       "object", what, name, QUOTA_NAME_MAX);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        size_t i = 0;
        while (i < NFIELDS && strcmp(fields[i].name, key) != 0)
            i++;
        if (i == NFIELDS)
            return err_set(err, -QUOTA_EINVALID, "%s \"%.64s\": unknown limit \"%.64s\"", what,
                           name, key);
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > QUOTA_VALUE_MAX)
            return err_set(err, -QUOTA_EINVALID, "%s \"%.64s\": %s must be an integer from 0 "
                           "to %d", what, name, key, QUOTA_VALUE_MAX);
        *field_of(&e->v, i) = json_integer_value(v);
        e->mask |= 1u << i;
    }
    if (!(e->name = strdup(name)))
        return err_set(err, -QUOTA_ENOMEM, "out of memory");
    return 0;
}

/* Parse member 'what' ("scopes" or "principals", may be absent) of 'root' into 'out'. */
static int parse_entries(const json_t *root, const char *what, struct entries *out,
                         struct err *err)
{
    const json_t *map = json_object_get(root, what);
    if (!map)
        return 0;
    if (!json_is_object(map) || json_object_size(map) > QUOTA_MAX_ENTRIES)
        return err_set(err, -QUOTA_EINVALID, "\"%s\" must be an object of at most %d entries",
                       what, QUOTA_MAX_ENTRIES);
    if (json_object_size(map) == 0)
        return 0;
    if (!(out->e = calloc(json_object_size(map), sizeof(*out->e))))
        return err_set(err, -QUOTA_ENOMEM, "out of memory");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)map, key, v)
    {
        int rc = parse_entry(what, key, v, &out->e[out->n], err);
        if (rc < 0)
            return rc;
        out->n++;
    }
    qsort(out->e, out->n, sizeof(*out->e), by_name);
    return 0;
}

/* Parse the overrides document into 'l'; 0 or -LIMITS_E* with 'err' set. */
static int parse(struct quota *l, const char *json, size_t len, struct err *err)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return err_set(err, -QUOTA_EINVALID, "not JSON: %s (line %d)", je.text, je.line);
    int rc = 0;
    const char *key;
    json_t *v;
    if (!json_is_object(root))
        rc = err_set(err, -QUOTA_EINVALID, "want an object with \"scopes\" and \"principals\"");
    json_object_foreach(json_is_object(root) ? root : NULL, key, v)
    {
        if (rc == 0 && strcmp(key, "scopes") != 0 && strcmp(key, "principals") != 0)
            rc = err_set(err, -QUOTA_EINVALID, "unknown member \"%.64s\" (want \"scopes\" or "
                         "\"principals\")", key);
    }
    if (rc == 0)
        rc = parse_entries(root, "scopes", &l->scopes, err);
    if (rc == 0)
        rc = parse_entries(root, "principals", &l->principals, err);
    json_decref(root);
    return rc;
}

static void entries_fini(struct entries *es)
{
    for (size_t i = 0; i < es->n; i++)
        free(es->e[i].name);
    free(es->e);
}

/*
 * The limits table: a copy of 'defaults' (the settings) and the overrides
 * of the JSON document json[0..len) (NULL: none).  Returns a new table
 * (quota_free() it) or NULL with 'err' set: -QUOTA_EINVALID with the
 * first problem (not JSON, an unknown member or limit, a value that is not
 * an integer from 0 to 10^9), or -QUOTA_ENOMEM.  Thread-safe.
 */
struct quota *quota_new(const struct quota_set *defaults, const char *json, size_t len,
                          struct err *err)
{
    struct quota *l = calloc(1, sizeof(*l));
    if (!l) {
        err_set(err, -QUOTA_ENOMEM, "out of memory");
        return NULL;
    }
    l->defaults = *defaults;
    if (json && parse(l, json, len, err) < 0) {
        quota_free(l);
        return NULL;
    }
    return l;
}

/* Release the table and its overrides; NULL is a no-op. */
void quota_free(struct quota *l)
{
    if (!l)
        return;
    entries_fini(&l->scopes);
    entries_fini(&l->principals);
    free(l);
}

/* The entry named name[0..len) in 'es', or NULL. */
static const struct entry *find(const struct entries *es, const char *name, size_t len)
{
    char key[QUOTA_NAME_MAX + 1];
    if (!es->n || len == 0 || len > QUOTA_NAME_MAX)
        return NULL;
    memcpy(key, name, len);
    key[len] = '\0';
    struct entry probe = {.name = key};
    return bsearch(&probe, es->e, es->n, sizeof(*es->e), by_name);
}

/* The more generous of two values of one limit (0 is no limit). */
static int64_t generous(int64_t a, int64_t b)
{
    return a == 0 || b == 0 ? 0 : a > b ? a : b;
}

/* Apply the overrides of every scope in 'scopes' to *out. */
static void apply_scopes(const struct quota *l, const char *scopes, struct quota_set *out)
{
    unsigned seen = 0;
    for (const char *p = scopes; p && *p;) {
        size_t len = strcspn(p, " ");
        const struct entry *e = find(&l->scopes, p, len);
        for (size_t i = 0; e && i < NFIELDS; i++) {
            if (!(e->mask & (1u << i)))
                continue;
            int64_t v = field_value(&e->v, i);
            *field_of(out, i) = seen & (1u << i) ? generous(field_value(out, i), v) : v;
            seen |= 1u << i;
        }
        p += len;
        p += strspn(p, " ");
    }
}

/*
 * The limits of 'principal' (NULL: none) holding the space-separated
 * 'scopes' (NULL or "": none) into *out: the defaults, then each limit some
 * of the scopes override (the most generous of their values), then the
 * principal's own overrides.  Thread-safe; allocates nothing.
 */
void quota_resolve(const struct quota *l, const char *principal, const char *scopes,
                    struct quota_set *out)
{
    *out = l->defaults;
    apply_scopes(l, scopes, out);
    const struct entry *e = principal ? find(&l->principals, principal, strlen(principal)) : NULL;
    for (size_t i = 0; e && i < NFIELDS; i++)
        if (e->mask & (1u << i))
            *field_of(out, i) = field_value(&e->v, i);
}

/*
 * The budget a request draws on: a tools/call without requestState creates
 * a task; tasks/get, tasks/result, tasks/list, resources/read and
 * subscriptions/listen read; the rest (an unparsable body too: 'method' NULL)
 * is "other".  Pure.
 */
enum quota_budget quota_budget_of(const char *method, const json_t *params)
{
    static const char *const reads[] = {"tasks/get", "tasks/result", "tasks/list",
                                        "resources/read", "subscriptions/listen"};
    if (!method)
        return QUOTA_OTHER;
    if (strcmp(method, "tools/call") == 0)
        return json_object_get(params, "requestState") ? QUOTA_OTHER : QUOTA_CREATE;
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
        if (strcmp(method, reads[i]) == 0)
            return QUOTA_READ;
    return QUOTA_OTHER;
}

/* "create", "read" or "other" (static). */
const char *quota_budget_name(enum quota_budget b)
{
    return b == QUOTA_CREATE ? "create" : b == QUOTA_READ ? "read" : "other";
}
