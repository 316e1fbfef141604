/*
 * test_authfile.c - unit tests for common/authfile.c (the trusted-issuers file).
 *
 * The format is strict: every key of a full document lands in its field,
 * defaults are what README "Security" says, and each kind of mistake is
 * refused with the position and key in the message.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "authfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#define RES "https://mcp.example.com/mcp"

static int parse(const char *text, struct authfile *f, struct err *e)
{
    return authfile_parse(text, strlen(text), "t.json", RES, f, e);
}

static void test_authfile_reads_every_key(void **state)
{
    struct authfile f;
    struct err e = {0};
    const char *doc =
        "{\"issuers\":[{\"issuer\":\"https://login.example.com/tenant/v2.0\","
        "\"jwks_uri\":\"https://login.example.com/keys\",\"audiences\":[\"guid-1\",\"" RES "\"],"
        "\"scope_claim\":\"roles\",\"principal_claim\":\"oid\",\"principal_prefix\":\"entra|\","
        "\"typ\":\"lenient\",\"advertise\":false},"
        "{\"issuer\":\"taskwire-dev\",\"jwks_file\":\"/etc/taskwire/jwks.json\"}]}";

    (void)state;
    assert_int_equal(parse(doc, &f, &e), 0);
    assert_int_equal(f.count, 2);
    const struct auth_issuer *a = &f.issuers[0], *b = &f.issuers[1];
    assert_string_equal(a->issuer, "https://login.example.com/tenant/v2.0");
    assert_string_equal(a->jwks_uri, "https://login.example.com/keys");
    assert_null(a->jwks_file);
    assert_int_equal(a->naudiences, 2);
    assert_string_equal(a->audiences[0], "guid-1");
    assert_string_equal(a->audiences[1], RES);
    assert_string_equal(a->scope_claim, "roles");
    assert_string_equal(a->principal_claim, "oid");
    assert_string_equal(a->principal_prefix, "entra|");
    assert_true(a->typ_lenient);
    assert_false(a->advertise);
    /* defaults */
    assert_string_equal(b->jwks_file, "/etc/taskwire/jwks.json");
    assert_int_equal(b->naudiences, 1);
    assert_string_equal(b->audiences[0], RES);
    assert_null(b->scope_claim);
    assert_null(b->principal_claim);
    assert_null(b->principal_prefix);
    assert_false(b->typ_lenient);
    assert_false(b->advertise); /* not an https issuer */
    authfile_fini(&f);
    authfile_fini(&f); /* a zeroed one is a no-op */
}

static void test_authfile_advertises_https_issuers_by_default(void **state)
{
    struct authfile f;

    (void)state;
    assert_int_equal(parse("{\"issuers\":[{\"issuer\":\"https://as.example.com\","
                           "\"jwks_uri\":\"https://as.example.com/jwks\",\"typ\":\"strict\"}]}",
                           &f, NULL),
                     0);
    assert_true(f.issuers[0].advertise);
    assert_false(f.issuers[0].typ_lenient);
    authfile_fini(&f);
}

static void test_authfile_refuses_mistakes_naming_them(void **state)
{
    static const struct {
        const char *doc;  /* the file */
        const char *says; /* part of the message */
    } bad[] = {
        {"not json", "line 1"},
        {"[]", "top level must be an object"},
        {"{\"issuers\":[],\"x\":1}", "unknown key \"x\""},
        {"{\"issuers\":[]}", "1 to 16 issuers"},
        {"{\"issuers\":{}}", "1 to 16 issuers"},
        {"{\"issuers\":[1]}", "issuers[0]: must be an object"},
        {"{\"issuers\":[{\"jwks_file\":\"/k\"}]}", "\"issuer\" is required"},
        {"{\"issuers\":[{\"issuer\":\"\",\"jwks_file\":\"/k\"}]}", "\"issuer\" must be"},
        {"{\"issuers\":[{\"issuer\":\"i\",\"jwks_file\":\"k.json\"}]}", "absolute path"},
        {"{\"issuers\":[{\"issuer\":\"i\",\"jwks_file\":\"/k\",\"typ\":\"loose\"}]}",
         "\"typ\" must be"},
        {"{\"issuers\":[{\"issuer\":\"i\",\"jwks_file\":\"/k\",\"audiences\":[]}]}",
         "\"audiences\" must be"},
        {"{\"issuers\":[{\"issuer\":\"i\",\"jwks_file\":\"/k\",\"audiences\":\"a\"}]}",
         "\"audiences\" must be"},
        {"{\"issuers\":[{\"issuer\":\"i\",\"jwks_file\":\"/k\",\"audiences\":[\"\"]}]}",
         "audiences[0]"},
        {"{\"issuers\":[{\"issuer\":\"i\",\"jwks_file\":\"/k\",\"audiences\":"
         "[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]}]}",
         "1 to 8 strings"},
        {"{\"issuers\":[{\"issuer\":\"i\",\"jwks_file\":\"/k\",\"advertise\":\"yes\"}]}",
         "\"advertise\""},
        {"{\"issuers\":[{\"issuer\":\"i\",\"jwks_file\":\"/k\",\"principal_prefix\":1}]}",
         "\"principal_prefix\""},
        {"{\"issuers\":[{\"issuer\":\"i\",\"jwks_file\":\"/k\",\"scope_claim\":[\"scp\"]}]}",
         "\"scope_claim\""},
        {"{\"issuers\":[{\"issuer\":\"i\",\"jwks_file\":\"/k\",\"audience\":\"a\"}]}",
         "unknown key \"audience\""},
        {"{\"issuers\":[{\"issuer\":\"i\",\"issuer\":\"j\",\"jwks_file\":\"/k\"}]}", "line 1"},
        {"{\"issuers\":[{\"issuer\":\"a\\u0000b\",\"jwks_file\":\"/k\"}]}", "line 1"},
    };
    struct authfile f;
    struct err e = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&e, 0, sizeof(e));
        assert_int_equal(parse(bad[i].doc, &f, &e), -AUTHFILE_EINVALID);
        if (!strstr(e.msg, bad[i].says))
            fail_msg("case %zu: \"%s\" does not say \"%s\"", i, e.msg, bad[i].says);
        assert_null(f.issuers);
        assert_int_equal(f.count, 0);
    }
}

static void test_authfile_needs_audiences_without_a_resource(void **state)
{
    struct authfile f;
    struct err e = {0};
    const char *doc = "{\"issuers\":[{\"issuer\":\"i\",\"jwks_file\":\"/k\"}]}";

    (void)state;
    assert_int_equal(authfile_parse(doc, strlen(doc), "t", NULL, &f, &e), -AUTHFILE_EINVALID);
    assert_non_null(strstr(e.msg, "\"audiences\" is required"));
}

static void test_authfile_refuses_seventeen_issuers(void **state)
{
    char doc[4096] = "{\"issuers\":[";
    struct authfile f;

    (void)state;
    for (int i = 0; i < 17; i++)
        snprintf(doc + strlen(doc), sizeof(doc) - strlen(doc),
                 "%s{\"issuer\":\"i%d\",\"jwks_file\":\"/k\"}", i ? "," : "", i);
    strcat(doc, "]}");
    assert_int_equal(parse(doc, &f, NULL), -AUTHFILE_EINVALID);
}

static void test_authfile_loads_a_file(void **state)
{
    char dir[] = "/tmp/test_authfile.XXXXXX", path[64];
    struct authfile f;
    struct err e = {0};
    FILE *fp;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/issuers.json", dir);
    assert_int_equal(authfile_load(path, RES, &f, &e), -AUTHFILE_EINVALID); /* missing */
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("{\"issuers\":[{\"issuer\":\"i\",\"jwks_file\":\"/k\"}]}", fp);
    fclose(fp);
    assert_int_equal(authfile_load(path, RES, &f, &e), 0);
    assert_int_equal(f.count, 1);
    authfile_fini(&f);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_authfile_reads_every_key),
        cmocka_unit_test(test_authfile_advertises_https_issuers_by_default),
        cmocka_unit_test(test_authfile_refuses_mistakes_naming_them),
        cmocka_unit_test(test_authfile_needs_audiences_without_a_resource),
        cmocka_unit_test(test_authfile_refuses_seventeen_issuers),
        cmocka_unit_test(test_authfile_loads_a_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
