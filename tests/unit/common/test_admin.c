/*
 * test_admin.c - the admin port's pure parts: its address syntax and the
 * methods it answers (GET and HEAD only; the attack suite probes the rest
 * on a running stack).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "admin.h"

static void test_admin_answers_get_and_head_only(void **state)
{
    (void)state;
    assert_true(admin_method_allowed("GET"));
    assert_true(admin_method_allowed("HEAD"));
    const char *refused[] = {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE",
                             "CONNECT", "get", "GETX", "", "FOO"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        assert_false(admin_method_allowed(refused[i]));
    assert_false(admin_method_allowed(NULL));
}

static void test_admin_parse_addr_takes_host_and_port(void **state)
{
    (void)state;
    struct sockaddr_in sa;
    assert_int_equal(admin_parse_addr("127.0.0.1:9080", &sa), 0);
    assert_int_equal(ntohs(sa.sin_port), 9080);
    assert_int_equal(admin_parse_addr("localhost:1", &sa), 0);
    assert_int_equal(admin_parse_addr(":9090", &sa), 0);
    assert_int_equal(ntohl(sa.sin_addr.s_addr), INADDR_ANY);
    const char *bad[] = {"127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                         "127.0.0.1:80x", "example.net:80", NULL};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(admin_parse_addr(bad[i], &sa), -ADMIN_EADDR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admin_answers_get_and_head_only),
        cmocka_unit_test(test_admin_parse_addr_takes_host_and_port),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
