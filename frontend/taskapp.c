/*
 * taskapp.c - the task view App's document and resource.
 *
 * The page is taskapp.html as written, embedded at build time
 * (embed.cmake).  Its Content-Security-Policy meta tag names its one inline
 * script and one inline style by hash, so the page carries two holes that
 * the SHA-256 of those elements fills once at start-up: the document served
 * is then fixed, and anything the page did not ship (an injected script, a
 * style attribute, a fetch) is refused by the browser.  No I/O.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "taskapp.h"

#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>

#include "mcpdefs.h"
#include "taskapp_html.h"

#define SCRIPT_HOLE "{{script-sha256}}" /* in the CSP: the hash of the inline script */
#define STYLE_HOLE  "{{style-sha256}}"  /* in the CSP: the hash of the inline style */
#define HASH_B64    45                  /* base64 of a SHA-256 digest, with the NUL */

/* The served document: the page with both hashes filled in (each 28 bytes longer than its
 * hole).  Written once by taskapp_register() at start-up, read-only afterwards. */
static char document[sizeof(taskapp_html) + 64];

static const struct resource_def app = {
    .uri = TW_TASK_APP_URI,
    .name = "task-view",
    .title = "Task view",
    .description = "An MCP App that shows one of your tasks live (status, progress, message, "
                   "result or error) and can cancel it.  Task tools name it in "
                   "_meta.ui.resourceUri.",
    .mime_type = MCP_UI_MIME_TYPE,
    .text = document,
    .meta = TASKAPP_META,
};

/* The text between the only 'open' tag of 'page' and its 'close' tag: true with *body and
 * *len, false when the element is missing, unclosed or there twice. */
static bool element_body(const char *page, const char *open, const char *close, const char **body,
                         size_t *len)
{
    const char *start = strstr(page, open);
    const char *end = start ? strstr(start + strlen(open), close) : NULL;
    if (!end || strstr(end, open))
        return false;
    *body = start + strlen(open);
    *len = (size_t)(end - *body);
    return true;
}

/* The CSP hash source of 'len' bytes at 'text': base64 of their SHA-256, into 'out'. */
static bool hash_b64(const char *text, size_t len, char out[HASH_B64])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(text, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return false;
    return EVP_EncodeBlock((unsigned char *)out, md, (int)n) == HASH_B64 - 1;
}

/* Copy 'page' into 'out' ('cap' bytes) with each hole replaced by its value: the length
 * written, or -1 when 'out' is too small or a hole is not there exactly once. */
static long fill_holes(const char *page, const char *const holes[2], const char *const values[2],
                       char *out, size_t cap)
{
    size_t o = 0;
    int seen[2] = {0, 0};
    for (const char *p = page;;) {
        const char *next = NULL;
        int k = 0;
        for (int i = 0; i < 2; i++) {
            const char *h = strstr(p, holes[i]);
            if (h && (!next || h < next))
                next = h, k = i;
        }
        size_t seg = next ? (size_t)(next - p) : strlen(p);
        size_t val = next ? strlen(values[k]) : 0;
        if (o + seg + val >= cap)
            return -1;
        memcpy(out + o, p, seg);
        memcpy(out + o + seg, next ? values[k] : "", val);
        o += seg + val;
        if (!next)
            break;
        seen[k]++;
        p = next + strlen(holes[k]);
    }
    out[o] = '\0';
    return seen[0] == 1 && seen[1] == 1 ? (long)o : -1;
}

/*
 * Build the served document from 'page': its only <script> and <style>
 * elements are hashed (SHA-256, base64) into the holes {{script-sha256}}
 * and {{style-sha256}}, each of which must appear once, before both
 * elements (a hole inside one would change what is hashed).  Writes the
 * NUL-terminated document to 'out' ('cap' bytes).  Returns its length, or
 * -CONTENT_EINTERNAL with 'err' set.  Pure; thread-safe.
 */
long taskapp_build(const char *page, char *out, size_t cap, struct err *err)
{
    const char *script, *style;
    size_t script_len, style_len;
    char script_hash[HASH_B64], style_hash[HASH_B64];
    if (!element_body(page, "<script>", "</script>", &script, &script_len) ||
        !element_body(page, "<style>", "</style>", &style, &style_len))
        return err_set(err, -CONTENT_EINTERNAL, "the page needs exactly one <script> and <style>");
    const char *first = script < style ? script : style;
    const char *hs = strstr(page, SCRIPT_HOLE), *ht = strstr(page, STYLE_HOLE);
    if (!hs || !ht || hs > first || ht > first)
        return err_set(err, -CONTENT_EINTERNAL, "the page's CSP holes must come before its code");
    if (!hash_b64(script, script_len, script_hash) || !hash_b64(style, style_len, style_hash))
        return err_set(err, -CONTENT_EINTERNAL, "cannot hash the page");
    const char *const holes[2] = {SCRIPT_HOLE, STYLE_HOLE};
    const char *const values[2] = {script_hash, style_hash};
    long n = fill_holes(page, holes, values, out, cap);
    return n < 0 ? err_set(err, -CONTENT_EINTERNAL, "cannot fill the page's CSP holes") : n;
}

/*
 * Add the task view App (ui://taskwire/task) to the fixed resources of 'c',
 * building its document from the embedded page on the first call.  Returns
 * 0, or -CONTENT_EINTERNAL with 'err' set (a page that cannot be served: a
 * build mistake, so the frontend does not start).  Start-up only.
 */
int taskapp_register(struct content *c, struct err *err)
{
    if (!document[0] && taskapp_build(taskapp_html, document, sizeof(document), err) < 0)
        return -CONTENT_EINTERNAL;
    if (c->nresources == CONTENT_MAX)
        return err_set(err, -CONTENT_EINTERNAL, "too many resources");
    c->resources[c->nresources++] = &app;
    return 0;
}
