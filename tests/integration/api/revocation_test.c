/* placeholder: being written */
#include "testlib.h"

START_TEST(not_written_yet)
{
    ck_abort_msg("api/revocation is not written yet");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/revocation");
    TCase *tc = tcase_create("revocation");
    tcase_add_test(tc, not_written_yet);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
