/* placeholder: being written */
#include "testlib.h"

START_TEST(not_written_yet)
{
    ck_abort_msg("api/roles is not written yet");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/roles");
    TCase *tc = tcase_create("roles");
    tcase_add_test(tc, not_written_yet);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
