/* The growable buffer: appends of any size, printf, and handing the bytes over. */
#include <stdlib.h>
#include <string.h>

#include "sov/buf.h"
#include "testlib.h"

START_TEST(appends_grow_and_stay_terminated)
{
    sov_buf b = SOV_BUF_INIT;
    size_t len = 0;
    char *p;

    for (int i = 0; i < 1000; i++)
        sov_buf_printf(&b, "%04d,", i);
    sov_buf_puts(&b, "end");
    ck_assert_uint_eq(b.len, 5000 + 3);
    ck_assert_uint_eq(strlen(b.data), b.len);
    ck_assert(strncmp(b.data, "0000,0001,", 10) == 0);
    ck_assert(!b.oom);
    p = sov_buf_steal(&b, &len);
    ck_assert_uint_eq(len, 5003);
    ck_assert_ptr_null(b.data);
    free(p);
}
END_TEST

START_TEST(steal_of_empty_gives_empty_string)
{
    sov_buf b = SOV_BUF_INIT;
    size_t len = 9;
    char *p = sov_buf_steal(&b, &len);

    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(p, "");
    free(p);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("core/buf");
    TCase *tc = tcase_create("buf");

    tcase_add_test(tc, appends_grow_and_stay_terminated);
    tcase_add_test(tc, steal_of_empty_gives_empty_string);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
