/*
 * elicit.c - answering input requests (form elicitation) on the terminal.
 *
 * Prompts go to stderr with the server's text sanitised; answers are read
 * line by line from stdin.  An empty line takes the property's default, skips
 * an optional property, or asks again.  It never sends anything: call.c
 * decides whether answers go in tools/call (MRTR) or tasks/update.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "elicit.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "args.h"

#define ELICIT_LINE_MAX 1024 /* bytes of one typed answer */

static const char *jstr(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static bool interrupted(const struct elicit *e)
{
    return e->interrupted && *e->interrupted;
}

/* ---- parsing an answer (pure) ---- */

/* "y/yes/true/1" or "n/no/false/0" (any case), else NULL. */
static json_t *parse_boolean(const char *line)
{
    if (!strcasecmp(line, "y") || !strcasecmp(line, "yes") || !strcasecmp(line, "true") ||
        !strcmp(line, "1"))
        return json_true();
    if (!strcasecmp(line, "n") || !strcasecmp(line, "no") || !strcasecmp(line, "false") ||
        !strcmp(line, "0"))
        return json_false();
    return NULL;
}

/* The whole line as a number: an integer for "integer", a finite real otherwise. */
static json_t *parse_number(const char *line, bool integer)
{
    char *end;

    errno = 0;
    if (integer) {
        long long x = strtoll(line, &end, 10);
        return !errno && *end == '\0' ? json_integer(x) : NULL;
    }
    double x = strtod(line, &end);
    return !errno && *end == '\0' && isfinite(x) ? json_real(x) : NULL;
}

/* True when 'v' is one of the array 'choices'. */
static bool is_choice(const json_t *choices, const json_t *v)
{
    size_t i;
    json_t *choice;

    json_array_foreach(choices, i, choice)
    {
        if (json_equal(choice, v))
            return true;
    }
    return false;
}

/*
 * Read a non-empty typed 'line' as a value of the property 'schema'
 * (borrowed): "boolean" (y/yes/true/1, n/no/false/0), "integer", "number"
 * (finite), "string" (as typed; default when there is no type), any other
 * type as a key=value value (JSON, else a string).  With an "enum", the value
 * must equal one of its members.  Returns a new reference, or NULL when the
 * line is not a valid answer (or memory ran out).  Pure.
 */
json_t *elicit_parse_answer(const char *line, const json_t *schema)
{
    const char *type = jstr(schema, "type") ? jstr(schema, "type") : "string";
    const json_t *choices = json_object_get(schema, "enum");
    json_t *v = NULL;

    if (strcmp(type, "boolean") == 0) {
        v = parse_boolean(line);
    } else if (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0) {
        v = parse_number(line, strcmp(type, "integer") == 0);
    } else if (strcmp(type, "string") == 0) {
        v = json_string(line);
    } else if (args_parse_value(line, &v, NULL) < 0) {
        v = NULL;
    }
    if (v && json_is_array(choices) && !is_choice(choices, v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

/* ---- the terminal ---- */

/* Print "  title (type, required) - description one of [...] [default]: " on stderr. */
static void prompt_property(const char *key, const json_t *schema, bool required)
{
    const char *type = jstr(schema, "type") ? jstr(schema, "type") : "string";
    const json_t *choices = json_object_get(schema, "enum");
    const json_t *def = json_object_get(schema, "default");
    char shown[200];

    ui_sanitize(shown, sizeof(shown), jstr(schema, "title") ? jstr(schema, "title") : key, 80);
    fprintf(stderr, "  %s (%s%s)", shown, type, required ? ", required" : "");
    if (jstr(schema, "description")) {
        ui_sanitize(shown, sizeof(shown), jstr(schema, "description"), 120);
        fprintf(stderr, " - %s", shown);
    }
    if (json_is_array(choices)) {
        char *s = json_dumps(choices, JSON_COMPACT);
        ui_sanitize(shown, sizeof(shown), s, 150);
        free(s);
        fprintf(stderr, " one of %s", shown);
    }
    if (def) {
        char *s = json_dumps(def, JSON_COMPACT | JSON_ENCODE_ANY);
        ui_sanitize(shown, sizeof(shown), s, 60);
        free(s);
        fprintf(stderr, " [%s]", shown);
    }
    fputs(": ", stderr);
    fflush(stderr);
}

/* Read one line from stdin without its newline; 0, -ELICIT_EINTR or -ELICIT_ECANNOT (EOF). */
static int read_line(const struct elicit *e, char *buf, size_t size)
{
    if (interrupted(e))
        return -ELICIT_EINTR;
    if (!fgets(buf, (int)size, stdin))
        return interrupted(e) ? -ELICIT_EINTR : -ELICIT_ECANNOT;
    if (interrupted(e))
        return -ELICIT_EINTR;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

/*
 * Ask for one schema property until the answer fits its type.  Returns 1 with
 * a new reference in *out, 0 when skipped (optional, empty answer), or
 * -ELICIT_ECANNOT (end of input), -ELICIT_EINTR, -ELICIT_ENOMEM.
 */
static int ask_property(const struct elicit *e, const char *key, const json_t *schema,
                        bool required, json_t **out)
{
    const json_t *def = json_object_get(schema, "default");
    char line[ELICIT_LINE_MAX];
    int rc;

    for (;;) {
        prompt_property(key, schema, required);
        rc = read_line(e, line, sizeof(line));
        if (rc < 0)
            return rc;
        if (line[0] == '\0') {
            if (def) {
                *out = json_deep_copy(def);
                return *out ? 1 : -ELICIT_ENOMEM;
            }
            if (!required)
                return 0;
            fputs("  a value is required\n", stderr);
            continue;
        }
        *out = elicit_parse_answer(line, schema);
        if (*out)
            return 1;
        fprintf(stderr, "  not a valid %s%s\n",
                jstr(schema, "type") ? jstr(schema, "type") : "string",
                json_is_array(json_object_get(schema, "enum")) ? " choice" : "");
    }
}

/* True when the array 'required' names 'key'. */
static bool is_required(const json_t *required, const char *key)
{
    size_t i;
    json_t *r;

    json_array_foreach(required, i, r)
    {
        if (json_is_string(r) && strcmp(json_string_value(r), key) == 0)
            return true;
    }
    return false;
}

/* Ask for every property of a requestedSchema; 0 with a new content object in *content. */
static int ask_form(const struct elicit *e, const json_t *schema, json_t **content)
{
    const json_t *required = json_object_get(schema, "required");
    const char *key;
    json_t *pschema;

    *content = json_object();
    if (!*content)
        return -ELICIT_ENOMEM;
    json_object_foreach(json_object_get(schema, "properties"), key, pschema)
    {
        json_t *value = NULL;
        int rc = ask_property(e, key, pschema, is_required(required, key), &value);
        if (rc < 0) {
            json_decref(*content);
            *content = NULL;
            return rc;
        }
        if (rc == 1)
            json_object_set_new(*content, key, value);
    }
    return 0;
}

/* Answer one request (not yet answered) into 'responses'; 0 or -ELICIT_E*. */
static int answer_one(const struct elicit *e, const char *key, const json_t *req, json_t *responses,
                      struct err *err)
{
    const char *method = jstr(req, "method");
    const json_t *params = json_object_get(req, "params");
    char shown[200], kind[80], name[80];
    json_t *content = NULL;

    ui_sanitize(shown, sizeof(shown), jstr(params, "message"), sizeof(shown) - 1);
    ui_sanitize(kind, sizeof(kind), method, sizeof(kind) - 1);
    ui_say(e->ui, "input required (%s): %s", method ? kind : "?", shown);
    if (!method || strcmp(method, "elicitation/create") != 0) {
        ui_sanitize(name, sizeof(name), key, sizeof(name) - 1);
        return err_set(err, -ELICIT_ECANNOT, "cannot answer input request '%s' of type %s", name,
                       method ? kind : "(none)");
    }
    if (!e->interactive)
        return 0;
    int rc = ask_form(e, json_object_get(params, "requestedSchema"), &content);
    if (rc < 0) {
        fputc('\n', stderr);
        if (rc == -ELICIT_EINTR)
            return err_set(err, rc, "interrupted");
        if (rc == -ELICIT_ENOMEM)
            return err_set(err, rc, "out of memory");
        return err_set(err, rc, "no answer given (end of input)");
    }
    json_object_set_new(responses, key,
                        json_pack("{s:s, s:o}", "action", "accept", "content", content));
    return 0;
}

/*
 * Print what each input request in 'requests' (borrowed) asks for, skipping
 * keys already in 'answered', and on a terminal collect the answers; each key
 * answered is added to 'answered'.  Returns 0 with a new object of responses
 * in *responses (possibly empty); -ELICIT_ECANNOT when a request cannot be
 * answered here (not elicitation, stdin not a terminal, end of input),
 * -ELICIT_EINTR or -ELICIT_ENOMEM, with *responses NULL and 'err' set.
 */
int elicit_answer(const struct elicit *e, const json_t *requests, json_t *answered,
                  json_t **responses, struct err *err)
{
    const char *key;
    json_t *req;
    int rc;

    *responses = json_object();
    if (!*responses)
        return err_set(err, -ELICIT_ENOMEM, "out of memory");
    json_object_foreach((json_t *)requests, key, req)
    {
        if (json_object_get(answered, key))
            continue;
        rc = answer_one(e, key, req, *responses, err);
        if (rc < 0)
            goto out_put_responses;
        if (e->interactive)
            json_object_set_new(answered, key, json_true());
    }
    if (!e->interactive) {
        rc = err_set(err, -ELICIT_ECANNOT, "the tool needs input, but stdin is not a terminal");
        goto out_put_responses;
    }
    return 0;

out_put_responses:
    json_decref(*responses);
    *responses = NULL;
    return rc;
}
