/* The JSON helpers every handler shares. */
#include <jansson.h>
#include <string.h>

#include "sov/api.h"
#include "testlib.h"

/* Unset optional columns come back from the repositories as "": the API shows null. */
START_TEST(str_or_null_is_null_for_null_and_empty)
{
    json_t *v = sov_api_str_or_null(NULL);

    ck_assert(json_is_null(v));
    json_decref(v);
    v = sov_api_str_or_null("");
    ck_assert(json_is_null(v));
    json_decref(v);
    v = sov_api_str_or_null("a \"b\" \xc3\xa9");
    ck_assert(json_is_string(v));
    ck_assert_str_eq(json_string_value(v), "a \"b\" \xc3\xa9");
    json_decref(v);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/json");
    TCase *tc = tcase_create("json");

    tcase_add_test(tc, str_or_null_is_null_for_null_and_empty);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
