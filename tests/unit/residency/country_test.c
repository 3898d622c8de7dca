/* Countries and jurisdictions: every EU member state derives EU, Iceland, Liechtenstein and
 * Norway derive EEA, the rest OTHER; only upper-case ISO 3166-1 alpha-2 codes are valid
 * (Greece is GR, not the EU's EL), and the full list holds the 249 assigned codes, sorted
 * and unique. The expected lists are written out here, independent of country.c. */
#include <stdio.h>
#include <string.h>

#include "sov/residency.h"
#include "testlib.h"

/* The 27 member states of the European Union (since 2020-02-01), ISO codes. */
static const char *const eu_members[] = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
};

/* In the European Economic Area without being in the EU. */
static const char *const eea_only[] = { "IS", "LI", "NO" };

/* European neighbours, microstates and others that belong to neither. */
static const char *const others[] = {
    "CH", "GB", "US", "TR", "UA", "RS", "AD", "MC", "SM", "VA", "CN", "JP",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(every_eu_member_state_is_eu)
{
    ck_assert_uint_eq(N(eu_members), 27);
    for (size_t i = 0; i < N(eu_members); i++) {
        const char *j = sov_country_jurisdiction(eu_members[i]);
        ck_assert_msg(sov_country_valid(eu_members[i]), "%s should be valid", eu_members[i]);
        ck_assert_msg(j && strcmp(j, "EU") == 0, "%s: jurisdiction %s, want EU",
                      eu_members[i], j ? j : "(null)");
    }
}
END_TEST

START_TEST(iceland_liechtenstein_and_norway_are_eea)
{
    for (size_t i = 0; i < N(eea_only); i++) {
        const char *j = sov_country_jurisdiction(eea_only[i]);
        ck_assert_msg(j && strcmp(j, "EEA") == 0, "%s: jurisdiction %s, want EEA",
                      eea_only[i], j ? j : "(null)");
    }
}
END_TEST

START_TEST(neighbours_and_microstates_outside_the_eea_are_other)
{
    for (size_t i = 0; i < N(others); i++) {
        const char *j = sov_country_jurisdiction(others[i]);
        ck_assert_msg(sov_country_valid(others[i]), "%s should be valid", others[i]);
        ck_assert_msg(j && strcmp(j, "OTHER") == 0, "%s: jurisdiction %s, want OTHER",
                      others[i], j ? j : "(null)");
    }
}
END_TEST

static bool
listed(const char *code, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], code) == 0)
            return true;
    return false;
}

/* The derivation over the whole list: exactly 27 EU, exactly 3 EEA, and no code outside
 * the two lists above is either. */
START_TEST(jurisdictions_over_all_codes_are_exactly_the_lists)
{
    size_t n, eu = 0, eea = 0;
    const char *const *all = sov_country_all(&n);

    for (size_t i = 0; i < n; i++) {
        const char *j = sov_country_jurisdiction(all[i]);
        const char *want = listed(all[i], eu_members, N(eu_members))  ? "EU"
                           : listed(all[i], eea_only, N(eea_only)) ? "EEA"
                                                                   : "OTHER";
        ck_assert_msg(j && strcmp(j, want) == 0, "%s: jurisdiction %s, want %s", all[i],
                      j ? j : "(null)", want);
        eu += strcmp(want, "EU") == 0;
        eea += strcmp(want, "EEA") == 0;
    }
    ck_assert_uint_eq(eu, 27);
    ck_assert_uint_eq(eea, 3);
}
END_TEST

START_TEST(el_is_not_greece)
{
    ck_assert(!sov_country_valid("EL"));
    ck_assert_ptr_null(sov_country_jurisdiction("EL"));
    ck_assert(sov_country_valid("GR"));
    ck_assert_str_eq(sov_country_jurisdiction("GR"), "EU");
}
END_TEST

START_TEST(malformed_codes_are_invalid)
{
    static const char *const bad[] = {
        "fr", "Fr", "fR", "FRA", "DEU", "F", "", "XX", "ZZ", "UK", "EU", "F1", " F", "FR ",
        "12",
    };

    for (size_t i = 0; i < N(bad); i++) {
        ck_assert_msg(!sov_country_valid(bad[i]), "'%s' should be invalid", bad[i]);
        ck_assert_msg(sov_country_jurisdiction(bad[i]) == NULL, "'%s' has a jurisdiction",
                      bad[i]);
    }
    ck_assert(!sov_country_valid(NULL));
    ck_assert_ptr_null(sov_country_jurisdiction(NULL));
}
END_TEST

START_TEST(all_assigned_codes_are_listed_sorted_and_unique)
{
    size_t n = 0;
    const char *const *all = sov_country_all(&n);

    ck_assert_uint_eq(n, 249);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(strlen(all[i]) == 2 && all[i][0] >= 'A' && all[i][0] <= 'Z' &&
                          all[i][1] >= 'A' && all[i][1] <= 'Z',
                      "'%s' is not two upper-case letters", all[i]);
        ck_assert_msg(sov_country_valid(all[i]), "%s is listed but not valid", all[i]);
        if (i > 0)
            ck_assert_msg(strcmp(all[i - 1], all[i]) < 0, "%s then %s: not sorted or repeated",
                          all[i - 1], all[i]);
    }
    /* Every code this test names is in the list. */
    for (size_t i = 0; i < N(eu_members); i++)
        ck_assert(listed(eu_members[i], all, n));
    for (size_t i = 0; i < N(eea_only); i++)
        ck_assert(listed(eea_only[i], all, n));
    for (size_t i = 0; i < N(others); i++)
        ck_assert(listed(others[i], all, n));
}
END_TEST

START_TEST(jurisdiction_names_are_eu_eea_and_other)
{
    ck_assert(sov_jurisdiction_valid("EU"));
    ck_assert(sov_jurisdiction_valid("EEA"));
    ck_assert(sov_jurisdiction_valid("OTHER"));
    ck_assert(!sov_jurisdiction_valid("eu"));
    ck_assert(!sov_jurisdiction_valid("EFTA"));
    ck_assert(!sov_jurisdiction_valid(""));
    ck_assert(!sov_jurisdiction_valid(NULL));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("residency/country");
    TCase *tc = tcase_create("country");

    tcase_add_test(tc, every_eu_member_state_is_eu);
    tcase_add_test(tc, iceland_liechtenstein_and_norway_are_eea);
    tcase_add_test(tc, neighbours_and_microstates_outside_the_eea_are_other);
    tcase_add_test(tc, jurisdictions_over_all_codes_are_exactly_the_lists);
    tcase_add_test(tc, el_is_not_greece);
    tcase_add_test(tc, malformed_codes_are_invalid);
    tcase_add_test(tc, all_assigned_codes_are_listed_sorted_and_unique);
    tcase_add_test(tc, jurisdiction_names_are_eu_eea_and_other);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
