/*
 * content_fixtures.c - the conformance fixture resources, template and prompts.
 *
 * Names, texts and shapes follow the official MCP conformance suite
 * (tests/conformance/SCENARIOS.md and the suite's reference server).  The
 * MRTR prompt signs its requestState with frontend/state.c, bound to the
 * caller, the method, the prompt and its arguments, so an answer counts
 * only in the round this server opened for that caller.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "content_fixtures.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state.h"
#include "taskid.h"

#define PNG_1X1                                                                                    \
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJg" \
    "gg=="
#define IRR_PROMPT "test_input_required_result_prompt"
#define IRR_KEY    "user_context" /* the inputRequests key of its question */

/* ---- resources ---- */

static const struct resource_def resources[] = {
    {"test://static-text", "static-text", "Static Text Resource",
     "A static text resource for testing", "text/plain",
     "This is the content of the static text resource.", NULL},
    {"test://static-binary", "static-binary", NULL, "A static binary resource (image) for testing",
     "image/png", NULL, PNG_1X1},
    {"test://watched-resource", "watched-resource", NULL,
     "A resource to subscribe to (its content does not change)", "text/plain",
     "Watched resource content", NULL},
};

/* test://template/{id}/data: a JSON text naming the id; public like the list. */
static int read_template(const struct content_call *cc, const char *uri, const char *id,
                         struct content_read *out, struct err *err)
{
    json_t *doc =
        json_pack("{s:s, s:b, s:s+}", "id", id, "templateTest", 1, "data", "Data for ID: ", id);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    out->contents = text ? json_pack("[{s:s, s:s, s:s}]", "uri", uri, "mimeType",
                                     "application/json", "text", text)
                         : NULL;
    out->ttl_ms = cc->list_ttl_ms;
    out->scope = "public";
    free(text);
    return out->contents ? 0 : err_set(err, -CONTENT_EINTERNAL, "out of memory");
}

static const struct template_def templates[] = {
    {"test://template/{id}/data", "template", "Resource Template",
     "A resource template with parameter substitution", "application/json", read_template, NULL},
};

/* ---- prompts ---- */

/* A user message with 'content' (stolen); a new reference. */
static json_t *user_message(json_t *content)
{
    return json_pack("{s:s, s:o}", "role", "user", "content", content);
}

static json_t *text_content(const char *text)
{
    return json_pack("{s:s, s:s}", "type", "text", "text", text);
}

/* The complete GetPromptResult with 'messages' (stolen) as the response to 'req'. */
static json_t *prompt_reply(const struct rpc_request *req, int *status, json_t *messages)
{
    json_t *r = reply_result_new("complete");
    json_object_set_new(r, "messages", messages);
    return reply_ok(req, status, r);
}

static json_t *get_simple(const struct content_call *cc, const struct rpc_request *req,
                          const json_t *args, int *status)
{
    return prompt_reply(
        req, status,
        json_pack("[o]", user_message(text_content("This is a simple prompt for testing."))));
}

static json_t *get_with_args(const struct content_call *cc, const struct rpc_request *req,
                             const json_t *args, int *status)
{
    json_t *text = json_sprintf("Prompt with arguments: arg1='%s', arg2='%s'",
                                json_string_value(json_object_get(args, "arg1")),
                                json_string_value(json_object_get(args, "arg2")));
    return prompt_reply(req, status,
                        json_pack("[{s:s, s:{s:s, s:o}}]", "role", "user", "content", "type",
                                  "text", "text", text));
}

static json_t *get_embedded(const struct content_call *cc, const struct rpc_request *req,
                            const json_t *args, int *status)
{
    json_t *resource = json_pack("{s:s, s:{s:O, s:s, s:s}}", "type", "resource", "resource", "uri",
                                 json_object_get(args, "resourceUri"), "mimeType", "text/plain",
                                 "text", "Embedded resource content for testing.");
    return prompt_reply(
        req, status,
        json_pack("[o, o]", user_message(resource),
                  user_message(text_content("Please process the embedded resource above."))));
}

static json_t *get_image(const struct content_call *cc, const struct rpc_request *req,
                         const json_t *args, int *status)
{
    json_t *image =
        json_pack("{s:s, s:s, s:s}", "type", "image", "data", PNG_1X1, "mimeType", "image/png");
    return prompt_reply(req, status,
                        json_pack("[o, o]", user_message(image),
                                  user_message(text_content("Please analyze the image above."))));
}

/* The context an accepted answer to IRR_KEY gives, or NULL. */
static const char *answered_context(const json_t *params)
{
    json_t *a = json_object_get(json_object_get(params, "inputResponses"), IRR_KEY);
    const char *action = json_string_value(json_object_get(a, "action"));
    if (!action || strcmp(action, "accept") != 0)
        return NULL;
    return json_string_value(json_object_get(json_object_get(a, "content"), "context"));
}

/* Round 1 (or a retry without a usable answer): ask for the context, with a new
 * requestState bound to 'b'. */
static json_t *ask_context(const struct content_call *cc, const struct rpc_request *req,
                           int *status, const struct state_binding *b)
{
    char round[TASKID_LEN + 1];
    char *state = taskid_new(round) == 0 ? state_sign(cc->state_key, cc->state_key_len, round, b,
                                                      (int64_t)time(NULL) + cc->state_ttl_s)
                                         : NULL;
    if (!state)
        return reply_error(req, status, RPC_EINTERNAL, "Internal error", NULL);
    json_t *r = reply_result_new("input_required");
    json_object_set_new(r, "inputRequests",
                        json_pack("{s:{s:s, s:{s:s, s:{s:s, s:{s:{s:s}}, s:[s]}}}}", IRR_KEY,
                                  "method", "elicitation/create", "params", "message",
                                  "What context should the prompt use?", "requestedSchema", "type",
                                  "object", "properties", "context", "type", "string", "required",
                                  "context"));
    json_object_set_new(r, "requestState", json_string(state));
    free(state);
    return reply_ok(req, status, r);
}

/*
 * test_input_required_result_prompt (MRTR on prompts/get): without a valid
 * requestState it asks for a context through elicitation (the caller must
 * declare elicitation); a retry whose requestState verifies for this caller,
 * method, prompt and arguments and that accepted with a context completes.
 * A tampered, expired or foreign requestState is -32602.
 */
static json_t *get_input_required(const struct content_call *cc, const struct rpc_request *req,
                                  const json_t *args, int *status)
{
    if (!rpc_has_capability(req, "elicitation"))
        return reply_error(req, status, RPC_ECAPABILITY,
                             "Missing required client capability: elicitation",
                             json_pack("{s:{s:{}}}", "requiredCapabilities", "elicitation"));
    struct state_binding b = {cc->owner, "prompts/get", IRR_PROMPT, args};
    json_t *rs = json_object_get(req->params, "requestState");
    if (!rs)
        return ask_context(cc, req, status, &b);
    char round[TASKID_LEN + 1];
    struct err e = {0};
    int rc = json_is_string(rs)
                 ? state_verify(cc->state_key, cc->state_key_len, json_string_value(rs), &b,
                                (int64_t)time(NULL), round, &e)
                 : err_set(&e, -STATE_EINVALID, "Invalid params: requestState must be a string");
    if (rc < 0)
        return reply_error(req, status, rc == -STATE_EINTERNAL ? RPC_EINTERNAL : RPC_EPARAMS,
                             e.msg, NULL);
    const char *context = answered_context(req->params);
    if (!context)
        return ask_context(cc, req, status, &b);
    return prompt_reply(req, status,
                        json_pack("[{s:s, s:{s:s, s:s+}}]", "role", "user", "content", "type",
                                  "text", "text", "Prompt with context: ", context));
}

static const char *const arg1_values[] = {"testValue1", "testValue2", NULL};

static const struct prompt_def prompts[] = {
    {"test_simple_prompt",
     "Simple Test Prompt",
     "A simple prompt without arguments",
     {{NULL}},
     get_simple},
    {"test_prompt_with_arguments",
     "Prompt With Arguments",
     "A prompt with two required arguments",
     {{"arg1", "First test argument", true, NULL, arg1_values},
      {"arg2", "Second test argument", true, NULL, NULL}},
     get_with_args},
    {"test_prompt_with_embedded_resource",
     "Prompt With Embedded Resource",
     "A prompt that embeds the resource it is given",
     {{"resourceUri", "URI of the resource to embed", true, NULL, NULL}},
     get_embedded},
    {"test_prompt_with_image", "Prompt With Image", "A prompt with an image", {{NULL}}, get_image},
    {IRR_PROMPT,
     "Prompt Needing Input",
     "MRTR: prompt that requires elicitation input",
     {{NULL}},
     get_input_required},
};

/* ---- tables ---- */

/* The fixture resources; *n gets their count.  Static; thread-safe. */
const struct resource_def *content_fixture_resources(size_t *n)
{
    *n = sizeof(resources) / sizeof(resources[0]);
    return resources;
}

/* The fixture templates; *n gets their count.  Static; thread-safe. */
const struct template_def *content_fixture_templates(size_t *n)
{
    *n = sizeof(templates) / sizeof(templates[0]);
    return templates;
}

/* The fixture prompts; *n gets their count.  Static; thread-safe. */
const struct prompt_def *content_fixture_prompts(size_t *n)
{
    *n = sizeof(prompts) / sizeof(prompts[0]);
    return prompts;
}
