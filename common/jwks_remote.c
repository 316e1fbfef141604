/*
 * jwks_remote.c - a JSON Web Key Set fetched from an authorization server over https.
 *
 * One thread per URL does every fetch; request threads read the current
 * snapshot (common/jwks.c sets are immutable and refcounted) under a mutex
 * and may only poke the thread.  It does not fetch anything but the one
 * URL, follows no redirects and speaks only https.  Invariant: once a set
 * was fetched there is always a set; a failed fetch never replaces it.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "jwks_remote.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "bytebuf.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"

#define JWKS_REMOTE_MAX_BACKOFF_S  300   /* retries of a failing URL at least this often */
#define JWKS_REMOTE_CONNECT_MS     5000  /* connect (TCP + TLS) deadline of one fetch */
#define JWKS_REMOTE_FETCH_MS       10000 /* whole-fetch deadline */

struct jwks_remote {
    struct jwks_remote_cfg cfg; /* copy; url and ca_file point at the copies below */
    char *url;                  /* own copy of cfg->url */
    char *ca_file;              /* own copy of cfg->ca_file, or NULL */
    pthread_mutex_t lock;       /* guards everything below */
    pthread_cond_t wake;        /* the thread waits here (monotonic clock) */
    pthread_cond_t loaded;      /* jwks_remote_wait() waits here for the first set */
    struct jwks_set *set;       /* last good set (one reference), NULL before the first */
    int64_t next_ms;            /* when a refresh is due (monotonic ms) */
    int64_t last_try_ms;        /* start of the last fetch, INT64_MIN before any */
    int failures;               /* consecutive failed fetches */
    bool kicked;                /* an unknown kid asked for an early fetch */
    bool poked;                 /* the thread must look again before it sleeps */
    bool stop;                  /* the thread must end */
    bool has_thread;            /* 'thread' was started */
    pthread_t thread;           /* the fetch thread */
};

METRIC_DEFINE(m_fetch_ok, METRIC_COUNTER, "taskwire_jwks_fetches_total", "result=\"ok\"",
              "JWKS fetches from authorization servers, by result");
METRIC_DEFINE(m_fetch_err, METRIC_COUNTER, "taskwire_jwks_fetches_total", "result=\"error\"",
              "JWKS fetches from authorization servers, by result");

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    metrics_register(&m_fetch_ok);
    metrics_register(&m_fetch_err);
}

/* ---- cache lifetime (pure) ---- */

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The value of the 'n' decimal digits at 's', or -1 when one is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/*
 * Parse an IMF-fixdate (RFC 9110 5.6.7), "Sun, 06 Nov 1994 08:49:37 GMT",
 * exactly 29 characters, into Unix seconds.  The obsolete formats are not
 * read.  Returns 0 with *out set, or -1.  Pure.
 */
int jwks_remote_http_date(const char *s, int64_t *out)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int day, year, hh, mm, ss, mon = 0;

    if (!s || strlen(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s[19] != ':' || s[22] != ':' || strcmp(s + 25, " GMT") != 0)
        return -1;
    while (mon < 12 && strncmp(s + 8, months + 3 * mon, 3) != 0)
        mon++;
    day = digits(s + 5, 2);
    year = digits(s + 12, 4);
    hh = digits(s + 17, 2);
    mm = digits(s + 20, 2);
    ss = digits(s + 23, 2);
    if (mon == 12 || day < 1 || day > 31 || year < 0 || hh < 0 || hh > 23 || mm < 0 || mm > 59 ||
        ss < 0 || ss > 60)
        return -1;
    *out = days_from_civil(year, mon + 1, day) * 86400 + hh * 3600 + mm * 60 + ss;
    return 0;
}

/*
 * Read the Cache-Control directives of 'cc': *max_age_s gets max-age (0 when
 * it is malformed, as RFC 9111 5.2.1 says to treat it stale) and the result
 * says whether one was found; no-store and no-cache count as max-age=0.
 */
static bool cache_control_max_age(const char *cc, int64_t *max_age_s)
{
    bool found = false;
    const char *p = cc;

    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *name = p;
        while (*p && *p != '=' && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        size_t nlen = (size_t)(p - name);
        const char *value = NULL;
        if (*p == '=') {
            value = ++p;
            if (*value == '"')
                value++;
        }
        while (*p && *p != ',')
            p++;
        if ((nlen == 8 && strncasecmp(name, "no-store", 8) == 0) ||
            (nlen == 8 && strncasecmp(name, "no-cache", 8) == 0)) {
            *max_age_s = 0;
            return true;
        }
        if (nlen == 7 && strncasecmp(name, "max-age", 7) == 0 && !found) {
            int64_t v = 0;
            bool ok = value && *value >= '0' && *value <= '9';
            for (const char *d = value; ok && *d >= '0' && *d <= '9'; d++)
                v = v > JWKS_REMOTE_MAX_TTL_S ? v : v * 10 + (*d - '0');
            *max_age_s = ok ? v : 0;
            found = true;
        }
    }
    return found;
}

/*
 * The lifetime of the answer 'resp' at Unix time 'now_s': Cache-Control
 * max-age (no-store and no-cache mean none), else Expires minus Date (or
 * minus now_s without a Date; an unreadable Expires means already expired),
 * else 'default_s'; then clamped to [min_s, max_s].  Pure.
 */
int64_t jwks_remote_ttl_s(const struct jwks_response *resp, int64_t now_s, int64_t default_s,
                          int64_t min_s, int64_t max_s)
{
    int64_t ttl = default_s, expires, date;

    if (resp->cache_control[0] && cache_control_max_age(resp->cache_control, &ttl)) {
        /* ttl is set */
    } else if (resp->expires[0]) {
        if (jwks_remote_http_date(resp->date, &date) < 0)
            date = now_s;
        ttl = jwks_remote_http_date(resp->expires, &expires) < 0 ? 0 : expires - date;
    }
    return ttl < min_s ? min_s : ttl > max_s ? max_s : ttl;
}

/* ---- the libcurl transport ---- */

/* Release the body of *resp and zero it. */
void jwks_response_fini(struct jwks_response *resp)
{
    free(resp->body);
    memset(resp, 0, sizeof(*resp));
}

/* What the libcurl callbacks fill. */
struct curl_ctx {
    struct bytebuf body;         /* the body so far, at most JWKS_MAX_BYTES */
    struct jwks_response *resp;  /* where the headers go */
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct curl_ctx *x = ud;
    return bytebuf_append(&x->body, data, size * nmemb, JWKS_MAX_BYTES) == 0 ? size * nmemb : 0;
}

/* Copy the value of header line 'line' into 'out' when its name is 'name'. */
static void keep_header(const char *line, size_t len, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    if (len <= nlen || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
        return;
    const char *v = line + nlen + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    size_t n = (size_t)(end - v) < cap - 1 ? (size_t)(end - v) : cap - 1;
    memcpy(out, v, n);
    out[n] = '\0';
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    struct jwks_response *r = ((struct curl_ctx *)ud)->resp;
    size_t len = size * nmemb;
    keep_header(data, len, "Cache-Control", r->cache_control, sizeof(r->cache_control));
    keep_header(data, len, "Expires", r->expires, sizeof(r->expires));
    keep_header(data, len, "Date", r->date, sizeof(r->date));
    return len;
}

/* The default transport: one https GET with libcurl, no redirects, bounded size and time. */
static int curl_fetch(void *arg, const char *url, const char *ca_file, struct jwks_response *resp,
                      struct err *err)
{
    struct curl_ctx x = {.resp = resp};
    CURL *c = curl_easy_init();
    CURLcode cc;
    (void)arg;

    if (!c)
        return err_set(err, -JWKS_REMOTE_ENOMEM, "cannot create a libcurl handle");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)JWKS_REMOTE_CONNECT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)JWKS_REMOTE_FETCH_MS);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "taskwire/" TASKWIRE_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
    if (ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
    cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_cleanup(c);
    if (cc != CURLE_OK) {
        bytebuf_fini(&x.body);
        return err_set(err, -JWKS_REMOTE_EFETCH, "GET %s: %s", url, curl_easy_strerror(cc));
    }
    resp->body = x.body.data; /* handed over: bytebuf_fini is not called */
    resp->len = x.body.len;
    return 0;
}

/* ---- the cache ---- */

/*
 * Fetch once at Unix time 'wall_s' and parse: 0 with *fresh (one reference)
 * and *ttl_s set, or a negative code with 'err' set.
 */
static int fetch_once(struct jwks_remote *r, int64_t wall_s, struct jwks_set **fresh,
                      int64_t *ttl_s, struct err *err)
{
    struct jwks_response resp = {0};
    int rc = r->cfg.fetch(r->cfg.fetch_arg, r->url, r->ca_file, &resp, err);

    if (rc == 0 && resp.status != 200)
        rc = err_set(err, -JWKS_REMOTE_EFETCH, "GET %s: HTTP %ld", r->url, resp.status);
    if (rc == 0 && (rc = jwks_set_parse(resp.body ? resp.body : "", resp.len, r->url, fresh,
                                        err)) < 0)
        rc = err_recode(err, rc == -JWKS_ENOMEM ? -JWKS_REMOTE_ENOMEM : -JWKS_REMOTE_EFETCH);
    if (rc == 0)
        *ttl_s = jwks_remote_ttl_s(&resp, wall_s, r->cfg.default_ttl_s, r->cfg.cooldown_s,
                                   JWKS_REMOTE_MAX_TTL_S);
    jwks_response_fini(&resp);
    return rc;
}

/* Record the outcome of a fetch started at 'now_ms' (rc 0: 'fresh', stolen). */
static void record(struct jwks_remote *r, int64_t now_ms, int rc, struct jwks_set *fresh,
                   int64_t ttl_s, const struct err *e)
{
    struct jwks_set *old = NULL;
    bool had_set;

    pthread_mutex_lock(&r->lock);
    had_set = r->set != NULL;
    if (rc == 0) {
        old = r->set;
        r->set = fresh;
        r->failures = 0;
        r->next_ms = now_ms + ttl_s * 1000;
        pthread_cond_broadcast(&r->loaded);
    } else {
        int64_t backoff_s = r->cfg.cooldown_s;
        for (int i = 1; i < r->failures && backoff_s < JWKS_REMOTE_MAX_BACKOFF_S; i++)
            backoff_s *= 2;
        r->failures++;
        if (backoff_s > JWKS_REMOTE_MAX_BACKOFF_S)
            backoff_s = JWKS_REMOTE_MAX_BACKOFF_S;
        r->next_ms = now_ms + backoff_s * 1000;
    }
    pthread_mutex_unlock(&r->lock);
    jwks_set_put(old);
    metrics_add(rc == 0 ? &m_fetch_ok : &m_fetch_err, 1);
    if (rc < 0)
        LOG_WARN("JWKS fetch failed", "url", r->url, "error", e->msg, "keys",
                 had_set ? "keeping the last good set" : "none yet: its tokens are refused");
}

/*
 * Do what is due at monotonic time 'now_ms': a fetch when the set's
 * lifetime is over (or there is none yet), or when a kick is waiting and
 * the cooldown since the last fetch has passed.  The fetch runs without the
 * lock held.  Returns the monotonic time at which something is due next.
 * Thread-safe, but meant for one caller at a time (the thread, or a test).
 */
int64_t jwks_remote_step(struct jwks_remote *r, int64_t now_ms)
{
    int64_t cool_ms = r->cfg.cooldown_s * 1000, next, ttl_s = 0;
    struct jwks_set *fresh = NULL;
    struct err e = {0};
    bool due;

    pthread_mutex_lock(&r->lock);
    due = now_ms >= r->next_ms ||
          (r->kicked && (r->last_try_ms == INT64_MIN || now_ms - r->last_try_ms >= cool_ms));
    if (!due) {
        next = r->next_ms;
        if (r->kicked && r->last_try_ms + cool_ms < next)
            next = r->last_try_ms + cool_ms;
        pthread_mutex_unlock(&r->lock);
        return next;
    }
    r->kicked = false;
    r->last_try_ms = now_ms;
    pthread_mutex_unlock(&r->lock);

    int rc = fetch_once(r, clock_wall_ms() / 1000, &fresh, &ttl_s, &e);
    record(r, now_ms, rc, fresh, ttl_s, &e);
    pthread_mutex_lock(&r->lock);
    next = r->next_ms;
    if (r->kicked && r->last_try_ms + cool_ms < next)
        next = r->last_try_ms + cool_ms;
    pthread_mutex_unlock(&r->lock);
    return next;
}

/* The fetch thread: step, then sleep until the next thing is due or a poke. */
static void *run(void *arg)
{
    struct jwks_remote *r = arg;

    for (;;) {
        int64_t next = jwks_remote_step(r, clock_now_ms());
        pthread_mutex_lock(&r->lock);
        int64_t wait_ms = next - clock_now_ms();
        if (!r->stop && !r->poked && wait_ms > 0) {
            struct timespec at = clock_deadline_in(wait_ms);
            pthread_cond_timedwait(&r->wake, &r->lock, &at);
        }
        r->poked = false;
        bool stop = r->stop;
        pthread_mutex_unlock(&r->lock);
        if (stop)
            return NULL;
    }
}

/* Free what jwks_remote_new() built so far (the thread is not running). */
static void release(struct jwks_remote *r)
{
    jwks_set_put(r->set);
    free(r->url);
    free(r->ca_file);
    free(r);
}

/* Copy cfg's strings into 'r' and set up its locks; 0 or a negative code. */
static int init_fields(struct jwks_remote *r, const struct jwks_remote_cfg *cfg, struct err *err)
{
    r->cfg = *cfg;
    r->url = strdup(cfg->url);
    r->ca_file = cfg->ca_file && *cfg->ca_file ? strdup(cfg->ca_file) : NULL;
    if (!r->url || (cfg->ca_file && *cfg->ca_file && !r->ca_file))
        return err_set(err, -JWKS_REMOTE_ENOMEM, "out of memory");
    if (!r->cfg.fetch)
        r->cfg.fetch = curl_fetch;
    r->next_ms = INT64_MIN;
    r->last_try_ms = INT64_MIN;
    if (pthread_mutex_init(&r->lock, NULL) != 0)
        return err_set(err, -JWKS_REMOTE_ENOMEM, "cannot create a mutex");
    if (clock_cond_init(&r->wake) != 0) {
        pthread_mutex_destroy(&r->lock);
        return err_set(err, -JWKS_REMOTE_ENOMEM, "cannot create a condition variable");
    }
    if (clock_cond_init(&r->loaded) != 0) {
        pthread_cond_destroy(&r->wake);
        pthread_mutex_destroy(&r->lock);
        return err_set(err, -JWKS_REMOTE_ENOMEM, "cannot create a condition variable");
    }
    return 0;
}

/*
 * Create a remote key set for cfg->url (which must start with "https://";
 * default_ttl_s and cooldown_s from 1 to JWKS_REMOTE_MAX_TTL_S) and, unless
 * cfg->manual, start its fetch thread, which fetches at once.  Copies
 * every string of 'cfg'.  Returns a new cache to release with
 * jwks_remote_free(), or NULL with 'err' set (-JWKS_REMOTE_ECONFIG,
 * -JWKS_REMOTE_ENOMEM).  Call at start-up.
 */
struct jwks_remote *jwks_remote_new(const struct jwks_remote_cfg *cfg, struct err *err)
{
    struct jwks_remote *r;

    pthread_once(&global_once, global_init);
    if (!cfg->url || strncmp(cfg->url, "https://", 8) != 0 || !cfg->url[8]) {
        err_set(err, -JWKS_REMOTE_ECONFIG, "a JWKS URL must start with https:// (got '%.100s')",
                cfg->url ? cfg->url : "");
        return NULL;
    }
    if (cfg->default_ttl_s < 1 || cfg->default_ttl_s > JWKS_REMOTE_MAX_TTL_S ||
        cfg->cooldown_s < 1 || cfg->cooldown_s > cfg->default_ttl_s) {
        err_set(err, -JWKS_REMOTE_ECONFIG,
                "JWKS lifetimes: the default must be 1..%d s and the cooldown 1 s..the default",
                JWKS_REMOTE_MAX_TTL_S);
        return NULL;
    }
    if (!(r = calloc(1, sizeof(*r)))) {
        err_set(err, -JWKS_REMOTE_ENOMEM, "out of memory");
        return NULL;
    }
    if (init_fields(r, cfg, err) < 0) {
        release(r);
        return NULL;
    }
    if (!cfg->manual && pthread_create(&r->thread, NULL, run, r) != 0) {
        err_set(err, -JWKS_REMOTE_ENOMEM, "cannot start the JWKS fetch thread");
        jwks_remote_free(r);
        return NULL;
    }
    r->has_thread = !cfg->manual;
    return r;
}

/*
 * Stop the fetch thread (a fetch in flight ends within its deadline) and
 * release 'r' and its reference to the set; sets other threads hold live
 * on.  NULL is a no-op.  Not concurrently with other calls on 'r'.
 */
void jwks_remote_free(struct jwks_remote *r)
{
    if (!r)
        return;
    if (r->has_thread) {
        pthread_mutex_lock(&r->lock);
        r->stop = r->poked = true;
        pthread_cond_signal(&r->wake);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->thread, NULL);
    }
    pthread_cond_destroy(&r->loaded);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    release(r);
}

/*
 * The current key set as a new reference (release with jwks_set_put()), or
 * NULL when no fetch has succeeded yet.  Never waits for the network.
 * Thread-safe.
 */
struct jwks_set *jwks_remote_get(struct jwks_remote *r)
{
    pthread_mutex_lock(&r->lock);
    struct jwks_set *set = r->set ? jwks_set_get(r->set) : NULL;
    pthread_mutex_unlock(&r->lock);
    return set;
}

/*
 * Ask for an early fetch because a token named a kid the current set does
 * not have (a key rotation at the authorization server).  The fetch runs on
 * the thread once 'cooldown_s' has passed since the last one, so a flood of
 * unknown kids costs at most one fetch per cooldown.  Returns at once.
 * Thread-safe.
 */
void jwks_remote_kick(struct jwks_remote *r)
{
    pthread_mutex_lock(&r->lock);
    if (!r->kicked) {
        r->kicked = r->poked = true;
        pthread_cond_signal(&r->wake);
    }
    pthread_mutex_unlock(&r->lock);
}

/*
 * Wait up to 'timeout_ms' for a first good fetch (for start-up, never on a
 * request thread).  Returns true when a set is there.  Thread-safe.
 */
bool jwks_remote_wait(struct jwks_remote *r, int64_t timeout_ms)
{
    struct timespec at = clock_deadline_in(timeout_ms);
    bool have;

    pthread_mutex_lock(&r->lock);
    while (!r->set && pthread_cond_timedwait(&r->loaded, &r->lock, &at) == 0)
        ;
    have = r->set != NULL;
    pthread_mutex_unlock(&r->lock);
    return have;
}
