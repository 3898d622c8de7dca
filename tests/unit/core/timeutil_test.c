/* RFC 3339: the one parser (token expiry, report periods, request timestamps). */
#include <string.h>
#include <time.h>

#include "sov/timeutil.h"
#include "testlib.h"

START_TEST(parses_utc_offsets_and_fractions)
{
    time_t t = 0;

    ck_assert_int_eq(sov_rfc3339_parse("2026-12-07T11:53:49Z", &t), 0);
    ck_assert_int_eq((long long) t, 1796644429LL);
    ck_assert_int_eq(sov_rfc3339_parse("2026-12-07T12:53:49.250+01:00", &t), 0);
    ck_assert_int_eq((long long) t, 1796644429LL);
    ck_assert_int_eq(sov_rfc3339_parse("1970-01-01t00:00:00z", &t), 0);
    ck_assert_int_eq((long long) t, 0);
    ck_assert_int_eq(sov_rfc3339_parse("2024-02-29T00:00:00Z", &t), 0);
}
END_TEST

START_TEST(refuses_what_is_not_rfc3339)
{
    static const char *const bad[] = {
        "", "2026-12-07", "2026-12-07 11:53:49Z", "2026-12-07T11:53:49", "2026-13-01T00:00:00Z",
        "2025-02-29T00:00:00Z", "2026-12-07T24:00:00Z", "2026-12-07T11:53:49Zx",
        "2026-12-07T11:53:49.Z", "2026-12-07T11:53:49+0100",
    };
    time_t t = 42;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(sov_rfc3339_parse(bad[i], &t) == -1, "accepted '%s'", bad[i]);
    ck_assert_int_eq(sov_rfc3339_parse(NULL, &t), -1);
    ck_assert_int_eq((long long) t, 42);
}
END_TEST

START_TEST(format_round_trips)
{
    char out[32];
    time_t t = 0;

    sov_rfc3339_format(1796644429, out);
    ck_assert_str_eq(out, "2026-12-07T11:53:49Z");
    ck_assert_int_eq(sov_rfc3339_parse(out, &t), 0);
    ck_assert_int_eq((long long) t, 1796644429LL);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("core/timeutil");
    TCase *tc = tcase_create("timeutil");

    tcase_add_test(tc, parses_utc_offsets_and_fractions);
    tcase_add_test(tc, refuses_what_is_not_rfc3339);
    tcase_add_test(tc, format_round_trips);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
