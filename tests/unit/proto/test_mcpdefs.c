/*
 * test_mcpdefs.c - the one method-to-capability table and the SQL spelling of codes.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "mcpdefs.h"

static void test_mcpdefs_input_methods_need_their_capability(void **state)
{
    assert_string_equal(mcp_capability_for_method("elicitation/create"), "elicitation");
    assert_string_equal(mcp_capability_for_method("sampling/createMessage"), "sampling");
    assert_string_equal(mcp_capability_for_method("roots/list"), "roots");
    assert_null(mcp_capability_for_method("tools/call"));
    assert_null(mcp_capability_for_method("elicitation/create "));
    assert_null(mcp_capability_for_method(""));
    assert_null(mcp_capability_for_method(NULL));
}

static void test_mcpdefs_sql_spelling_is_the_same_number(void **state)
{
    const char *text = MCP_SQL(MCP_EINTERNAL);
    assert_string_equal(text, "(-32603)");
    assert_int_equal(strtol(text + 1, NULL, 10), MCP_EINTERNAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mcpdefs_input_methods_need_their_capability),
        cmocka_unit_test(test_mcpdefs_sql_spelling_is_the_same_number),
    };
    return cmocka_run_group_tests_name("mcpdefs", tests, NULL, NULL);
}
