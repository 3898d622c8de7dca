/* Residency policies as sets of places, without a database: a policy allows a region when it
 * passes every list given (empty lists constrain nothing); one policy is within another when
 * every place the first allows, the second allows too, judged on the known regions and on a
 * region yet to be built in every country (which no region list can name); checks refuse bad
 * entries naming the field; and the JSON form is exact and never overruns its buffer. A
 * randomized test compares sov_policy_within with brute force over that universe. */
#include <stdio.h>
#include <string.h>

#include "sov/residency.h"
#include "testlib.h"

/* The known regions of these tests: two in France, one in Germany, one in Norway (EEA),
 * one in Switzerland and one in the United Kingdom (OTHER). */
static const struct {
    const char *code, *country, *jurisdiction;
} known[] = {
    { "fr-par-1", "FR", "EU" },  { "fr-mrs-1", "FR", "EU" },     { "de-fra-1", "DE", "EU" },
    { "no-osl-1", "NO", "EEA" }, { "ch-zrh-1", "CH", "OTHER" },  { "gb-lon-1", "GB", "OTHER" },
};
#define NKNOWN (sizeof(known) / sizeof(known[0]))

static sov_region regions[NKNOWN];

static void
setup(void)
{
    memset(regions, 0, sizeof(regions));
    for (size_t i = 0; i < NKNOWN; i++) {
        snprintf(regions[i].code, sizeof(regions[i].code), "%s", known[i].code);
        snprintf(regions[i].country, sizeof(regions[i].country), "%s", known[i].country);
        snprintf(regions[i].jurisdiction, sizeof(regions[i].jurisdiction), "%s",
                 known[i].jurisdiction);
        regions[i].nzones = 1;
        snprintf(regions[i].zones[0], sizeof(regions[i].zones[0]), "a");
    }
}

/* Split "a,b" into fixed slots; "" gives none. */
static size_t
fill(const char *csv, char *slots, size_t max, size_t stride)
{
    size_t n = 0;

    while (csv && *csv) {
        size_t len = strcspn(csv, ",");
        ck_assert_uint_lt(n, max);
        ck_assert_uint_lt(len, stride);
        snprintf(slots + n * stride, stride, "%.*s", (int) len, csv);
        n++;
        csv += len;
        if (*csv == ',')
            csv++;
    }
    return n;
}

/* A policy from comma-separated jurisdictions, countries and regions. */
static sov_policy
pol(const char *j, const char *c, const char *r)
{
    sov_policy p;

    memset(&p, 0, sizeof(p));
    p.njurisdictions = fill(j, p.jurisdictions[0], 3, sizeof(p.jurisdictions[0]));
    p.ncountries = fill(c, p.countries[0], SOV_POLICY_MAX, sizeof(p.countries[0]));
    p.nregions = fill(r, p.regions[0], SOV_POLICY_MAX, sizeof(p.regions[0]));
    return p;
}

/* Whether p allows the known region with this code. */
static bool
allows_region(const sov_policy *p, const char *code)
{
    for (size_t i = 0; i < NKNOWN; i++)
        if (strcmp(known[i].code, code) == 0)
            return sov_policy_allows(p, known[i].code, known[i].country,
                                     known[i].jurisdiction);
    ck_abort_msg("no known region '%s'", code);
    return false;
}

/* Whether p allows a region not built yet in this country. */
static bool
allows_future(const sov_policy *p, const char *country)
{
    return sov_policy_allows(p, NULL, country, sov_country_jurisdiction(country));
}

static bool
within(const sov_policy *inner, const sov_policy *outer)
{
    return sov_policy_within(inner, outer, regions, NKNOWN);
}

START_TEST(the_default_policy_is_the_eu)
{
    sov_policy p;

    memset(&p, 0x5a, sizeof(p));
    sov_policy_default(&p);
    ck_assert_uint_eq(p.njurisdictions, 1);
    ck_assert_str_eq(p.jurisdictions[0], "EU");
    ck_assert_uint_eq(p.ncountries, 0);
    ck_assert_uint_eq(p.nregions, 0);
    ck_assert(allows_region(&p, "fr-par-1"));
    ck_assert(!allows_region(&p, "no-osl-1"));
    ck_assert(!allows_region(&p, "ch-zrh-1"));
}
END_TEST

/* A heap policy starts empty (no lists: everything allowed until filled); free(NULL) is a
 * no-op, and an autoptr frees at scope exit (ASan's leak check sees the rest). */
START_TEST(a_heap_policy_starts_empty_and_frees)
{
    sov_autoptr(sov_policy) p = sov_policy_new();

    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->njurisdictions + p->ncountries + p->nregions, 0);
    sov_policy_default(p);
    ck_assert(allows_region(p, "fr-par-1"));
    sov_policy_free(NULL);
}
END_TEST

START_TEST(each_list_alone_allows_what_it_names)
{
    sov_policy eu = pol("EU", "", ""), no = pol("", "NO", ""), par = pol("", "", "fr-par-1");
    sov_policy other = pol("OTHER", "", "");

    ck_assert(allows_region(&eu, "fr-par-1"));
    ck_assert(allows_region(&eu, "de-fra-1"));
    ck_assert(!allows_region(&eu, "no-osl-1"));
    ck_assert(!allows_region(&eu, "gb-lon-1"));
    ck_assert(allows_future(&eu, "PL"));
    ck_assert(!allows_future(&eu, "IS"));

    ck_assert(allows_region(&no, "no-osl-1"));
    ck_assert(!allows_region(&no, "fr-par-1"));
    ck_assert(allows_future(&no, "NO"));
    ck_assert(!allows_future(&no, "IS"));

    ck_assert(allows_region(&par, "fr-par-1"));
    ck_assert(!allows_region(&par, "fr-mrs-1"));
    /* A region list names regions: a region not built yet is never on it. */
    ck_assert(!allows_future(&par, "FR"));

    ck_assert(allows_region(&other, "ch-zrh-1"));
    ck_assert(allows_region(&other, "gb-lon-1"));
    ck_assert(!allows_region(&other, "no-osl-1"));
    ck_assert(!allows_region(&other, "fr-par-1"));
}
END_TEST

START_TEST(lists_given_together_allow_their_intersection)
{
    sov_policy eu_fr_no = pol("EU", "FR,NO", ""), eea_no_de = pol("EU,EEA", "NO,DE", "");
    sov_policy fr_two = pol("", "FR", "fr-par-1,de-fra-1"), none = pol("OTHER", "", "fr-par-1");
    sov_policy all3 = pol("EU", "FR,DE", "fr-mrs-1,de-fra-1,no-osl-1");

    /* Norway is listed as a country, but it is not EU: the intersection leaves France. */
    ck_assert(allows_region(&eu_fr_no, "fr-par-1"));
    ck_assert(allows_region(&eu_fr_no, "fr-mrs-1"));
    ck_assert(!allows_region(&eu_fr_no, "no-osl-1"));
    ck_assert(!allows_region(&eu_fr_no, "de-fra-1"));

    ck_assert(allows_region(&eea_no_de, "no-osl-1"));
    ck_assert(allows_region(&eea_no_de, "de-fra-1"));
    ck_assert(!allows_region(&eea_no_de, "fr-par-1"));
    ck_assert(!allows_future(&eea_no_de, "IS"));
    ck_assert(allows_future(&eea_no_de, "NO"));

    ck_assert(allows_region(&fr_two, "fr-par-1"));
    ck_assert(!allows_region(&fr_two, "de-fra-1"));
    ck_assert(!allows_region(&fr_two, "fr-mrs-1"));

    /* All three lists at once. */
    ck_assert(allows_region(&all3, "fr-mrs-1"));
    ck_assert(allows_region(&all3, "de-fra-1"));
    ck_assert(!allows_region(&all3, "no-osl-1"));
    ck_assert(!allows_region(&all3, "fr-par-1"));

    /* An empty intersection allows nothing at all. */
    for (size_t i = 0; i < NKNOWN; i++)
        ck_assert(!allows_region(&none, known[i].code));
    ck_assert(!allows_future(&none, "CH"));
}
END_TEST

START_TEST(empty_lists_constrain_nothing)
{
    sov_policy open = pol("", "", "");
    size_t n;
    const char *const *all = sov_country_all(&n);

    for (size_t i = 0; i < NKNOWN; i++)
        ck_assert(allows_region(&open, known[i].code));
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(allows_future(&open, all[i]), "%s", all[i]);
    /* An empty country list next to a jurisdiction list is the jurisdiction alone. */
    sov_policy eea = pol("EEA", "", "");
    ck_assert(allows_future(&eea, "IS"));
    ck_assert(allows_future(&eea, "LI"));
    ck_assert(allows_region(&eea, "no-osl-1"));
    ck_assert(!allows_future(&eea, "DE"));
}
END_TEST

START_TEST(a_country_is_within_its_jurisdiction)
{
    sov_policy fr = pol("", "FR", ""), eu = pol("EU", "", ""), no = pol("", "NO", "");

    ck_assert(within(&fr, &eu));
    ck_assert(!within(&eu, &fr));
    ck_assert(!within(&no, &eu));
}
END_TEST

START_TEST(adding_a_jurisdiction_widens)
{
    sov_policy eu = pol("EU", "", ""), eu_eea = pol("EU,EEA", "", "");

    ck_assert(!within(&eu_eea, &eu));
    ck_assert(within(&eu, &eu_eea));
}
END_TEST

START_TEST(a_region_is_within_its_country_and_jurisdiction)
{
    sov_policy par = pol("", "", "fr-par-1"), fr = pol("", "FR", ""), eu = pol("EU", "", "");
    sov_policy osl = pol("", "", "no-osl-1"), two = pol("", "", "fr-par-1,de-fra-1");

    ck_assert(within(&par, &fr));
    ck_assert(within(&par, &eu));
    ck_assert(within(&par, &two));
    ck_assert(!within(&two, &par));
    ck_assert(!within(&two, &fr));
    ck_assert(!within(&osl, &eu));
    ck_assert(!within(&fr, &par));
}
END_TEST

START_TEST(equal_policies_are_within_each_other)
{
    sov_policy a = pol("EU", "FR,DE", ""), b = pol("EU", "DE,FR", "");
    /* Different lists, the same places: the EEA-only jurisdiction is these three countries. */
    sov_policy eea = pol("EEA", "", ""), three = pol("", "IS,LI,NO", "");

    ck_assert(within(&a, &a));
    ck_assert(within(&a, &b));
    ck_assert(within(&b, &a));
    ck_assert(within(&eea, &three));
    ck_assert(within(&three, &eea));
}
END_TEST

START_TEST(a_jurisdiction_is_not_within_every_region_built_there)
{
    /* Every EU region that exists today, listed by code, is still narrower than the EU:
     * the next region built in Poland is in the EU and on no list. */
    sov_policy eu = pol("EU", "", ""), today = pol("", "", "fr-par-1,fr-mrs-1,de-fra-1");
    sov_policy fr = pol("", "FR", ""), fr_today = pol("", "", "fr-par-1,fr-mrs-1");

    ck_assert(!within(&eu, &today));
    ck_assert(within(&today, &eu));
    ck_assert(!within(&fr, &fr_today));
    ck_assert(within(&fr_today, &fr));
}
END_TEST

START_TEST(everything_is_within_an_open_policy_and_it_within_nothing_narrower)
{
    sov_policy open = pol("", "", ""), eu = pol("EU", "", ""), par = pol("", "", "fr-par-1");
    sov_policy every = pol("EU,EEA,OTHER", "", "");

    ck_assert(within(&eu, &open));
    ck_assert(within(&par, &open));
    ck_assert(!within(&open, &eu));
    ck_assert(within(&open, &every));
    ck_assert(within(&every, &open));
}
END_TEST

/* The expected refusal: SOV_E_INVALID on field, with needle in the message. */
static void
refused(const sov_policy *p, const char *field, const char *needle)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_int_eq(sov_policy_check(p, regions, NKNOWN, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_str_eq(err.field, field);
    ck_assert_msg(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg, needle);
}

START_TEST(check_refuses_bad_entries_naming_the_field)
{
    sov_policy empty = pol("", "", ""), efta = pol("EFTA", "", ""), lower = pol("eu", "", "");
    sov_policy twice_j = pol("EU,EEA,EU", "", ""), el = pol("", "EL", ""), fr = pol("", "fr", "");
    sov_policy twice_c = pol("EU", "FR,DE,FR", ""), nope = pol("", "", "fr-par-1,nope-1");
    sov_policy twice_r = pol("", "", "fr-par-1,fr-par-1"), xx = pol("EU", "XX", "");

    refused(&empty, "jurisdictions", "at least one");
    refused(&efta, "jurisdictions", "EFTA");
    refused(&lower, "jurisdictions", "eu");
    refused(&twice_j, "jurisdictions", "twice");
    refused(&el, "countries", "EL");
    refused(&fr, "countries", "fr");
    refused(&xx, "countries", "XX");
    refused(&twice_c, "countries", "twice");
    refused(&nope, "regions", "nope-1");
    refused(&twice_r, "regions", "twice");
}
END_TEST

START_TEST(check_accepts_any_single_list_and_combinations)
{
    static const char *const good[][3] = {
        { "EU", "", "" },       { "EU,EEA,OTHER", "", "" }, { "", "FR", "" },
        { "", "", "gb-lon-1" }, { "EEA", "NO,IS", "" },      { "EU", "FR", "fr-par-1" },
        /* Valid but empty: checks are about entries, not about whether anything is left. */
        { "OTHER", "", "fr-par-1" },
    };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        sov_error err = SOV_ERROR_INIT;
        sov_policy p = pol(good[i][0], good[i][1], good[i][2]);
        ck_assert_msg(sov_policy_check(&p, regions, NKNOWN, &err) == 0, "%s/%s/%s: %s",
                      good[i][0], good[i][1], good[i][2], err.msg);
        ck_assert_int_eq(err.code, SOV_OK);
    }
}
END_TEST

START_TEST(json_lists_every_key_in_order)
{
    char buf[512];
    sov_policy d, p = pol("EU,EEA", "FR,NO", "fr-par-1,no-osl-1");
    const char *want_d = "{\"jurisdictions\":[\"EU\"],\"countries\":[],\"regions\":[]}";
    const char *want_p = "{\"jurisdictions\":[\"EU\",\"EEA\"],\"countries\":[\"FR\",\"NO\"],"
                         "\"regions\":[\"fr-par-1\",\"no-osl-1\"]}";

    sov_policy_default(&d);
    ck_assert_uint_eq(sov_policy_json(&d, buf, sizeof(buf)), strlen(want_d));
    ck_assert_str_eq(buf, want_d);
    ck_assert_uint_eq(sov_policy_json(&p, buf, sizeof(buf)), strlen(want_p));
    ck_assert_str_eq(buf, want_p);
}
END_TEST

/* Every buffer size from 1 to the full length: the result is the start of the whole text,
 * terminated, and nothing past the buffer is touched; the return is always the full length. */
START_TEST(json_into_a_short_buffer_is_truncated_and_terminated)
{
    char full[512], buf[600];
    sov_policy p = pol("EU,EEA,OTHER", "FR,NO,CH", "fr-par-1,no-osl-1,ch-zrh-1");
    size_t len = sov_policy_json(&p, full, sizeof(full));

    ck_assert_uint_eq(len, strlen(full));
    for (size_t size = 1; size <= len + 1; size++) {
        memset(buf, '#', sizeof(buf));
        ck_assert_uint_eq(sov_policy_json(&p, buf, size), len);
        ck_assert_msg(memchr(buf, '\0', size), "size %zu: not terminated", size);
        ck_assert_uint_eq(strlen(buf), size - 1);
        ck_assert_msg(strncmp(buf, full, size - 1) == 0, "size %zu: '%s'", size, buf);
        for (size_t k = size; k < sizeof(buf); k++)
            ck_assert_msg(buf[k] == '#', "size %zu: byte %zu written", size, k);
    }
}
END_TEST

/* ---- the randomized comparison ---- */

/* A fixed-seed generator, so a failure repeats. */
static unsigned long long rng_state;

static unsigned
rnd(unsigned n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned) ((rng_state >> 33) % n);
}

static const char *const pool_j[] = { "EU", "EEA", "OTHER" };
static const char *const pool_c[] = { "FR", "DE", "NO", "IS", "LI", "CH", "GB", "IT", "PL" };
/* The known regions and one that does not exist: a list may name it, nothing matches it. */
static const char *const pool_r[] = { "fr-par-1", "fr-mrs-1", "de-fra-1", "no-osl-1",
                                      "ch-zrh-1", "gb-lon-1", "xx-gone-1" };

static sov_policy
random_policy(void)
{
    sov_policy p;
    /* Sparse lists most of the time, so both answers come up often. */
    unsigned odds = 2 + rnd(5);

    memset(&p, 0, sizeof(p));
    for (size_t i = 0; i < sizeof(pool_j) / sizeof(pool_j[0]); i++)
        if (rnd(odds) == 0)
            snprintf(p.jurisdictions[p.njurisdictions++], sizeof(p.jurisdictions[0]), "%s",
                     pool_j[i]);
    for (size_t i = 0; i < sizeof(pool_c) / sizeof(pool_c[0]); i++)
        if (rnd(odds + 2) == 0)
            snprintf(p.countries[p.ncountries++], sizeof(p.countries[0]), "%s", pool_c[i]);
    for (size_t i = 0; i < sizeof(pool_r) / sizeof(pool_r[0]); i++)
        if (rnd(odds + 2) == 0)
            snprintf(p.regions[p.nregions++], sizeof(p.regions[0]), "%s", pool_r[i]);
    return p;
}

/* The test's own reading of a policy: a place passes each list given. */
static bool
on(const char *v, const char *list, size_t n, size_t stride)
{
    for (size_t i = 0; v && i < n; i++)
        if (strcmp(list + i * stride, v) == 0)
            return true;
    return false;
}

static bool
brute_allows(const sov_policy *p, const char *code, const char *country, const char *j)
{
    return (p->njurisdictions == 0 ||
            on(j, p->jurisdictions[0], p->njurisdictions, sizeof(p->jurisdictions[0]))) &&
           (p->ncountries == 0 ||
            on(country, p->countries[0], p->ncountries, sizeof(p->countries[0]))) &&
           (p->nregions == 0 || on(code, p->regions[0], p->nregions, sizeof(p->regions[0])));
}

/* Within, by enumeration: every known region, then a region with no code in each country. */
static bool
brute_within(const sov_policy *inner, const sov_policy *outer)
{
    size_t n;
    const char *const *all = sov_country_all(&n);

    for (size_t i = 0; i < NKNOWN; i++) {
        const char *c = known[i].code, *k = known[i].country, *j = known[i].jurisdiction;
        bool in = brute_allows(inner, c, k, j);
        ck_assert_int_eq(in, sov_policy_allows(inner, c, k, j));
        if (in && !brute_allows(outer, c, k, j))
            return false;
    }
    for (size_t i = 0; i < n; i++) {
        const char *j = sov_country_jurisdiction(all[i]);
        bool in = brute_allows(inner, NULL, all[i], j);
        ck_assert_int_eq(in, sov_policy_allows(inner, NULL, all[i], j));
        if (in && !brute_allows(outer, NULL, all[i], j))
            return false;
    }
    return true;
}

#define CASES 5000

START_TEST(within_agrees_with_brute_force_on_random_policies)
{
    unsigned yes = 0;

    rng_state = 20240917;
    for (unsigned i = 0; i < CASES; i++) {
        sov_policy a = random_policy(), b = random_policy();
        char ja[1024], jb[1024];
        bool want = brute_within(&a, &b), got = within(&a, &b);

        sov_policy_json(&a, ja, sizeof(ja));
        sov_policy_json(&b, jb, sizeof(jb));
        ck_assert_msg(got == want, "case %u: within(%s, %s) = %d, brute force says %d", i, ja,
                      jb, got, want);
        ck_assert_msg(within(&a, &a), "case %u: %s is not within itself", i, ja);
        yes += want;
    }
    /* Both answers are exercised, not just the easy one. */
    ck_assert_msg(yes > CASES / 20 && yes < CASES - CASES / 20, "%u of %u within", yes, CASES);
}
END_TEST

/* Narrowing composes: a within b and b within c give a within c. */
START_TEST(within_is_transitive_on_random_policies)
{
    unsigned chains = 0;

    rng_state = 77;
    for (unsigned i = 0; i < CASES; i++) {
        sov_policy a = random_policy(), b = random_policy(), c = random_policy();
        if (within(&a, &b) && within(&b, &c)) {
            chains++;
            ck_assert_msg(within(&a, &c), "case %u: not transitive", i);
        }
    }
    ck_assert_uint_gt(chains, 100);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("residency/policy");
    TCase *tc = tcase_create("policy");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, the_default_policy_is_the_eu);
    tcase_add_test(tc, a_heap_policy_starts_empty_and_frees);
    tcase_add_test(tc, each_list_alone_allows_what_it_names);
    tcase_add_test(tc, lists_given_together_allow_their_intersection);
    tcase_add_test(tc, empty_lists_constrain_nothing);
    tcase_add_test(tc, a_country_is_within_its_jurisdiction);
    tcase_add_test(tc, adding_a_jurisdiction_widens);
    tcase_add_test(tc, a_region_is_within_its_country_and_jurisdiction);
    tcase_add_test(tc, equal_policies_are_within_each_other);
    tcase_add_test(tc, a_jurisdiction_is_not_within_every_region_built_there);
    tcase_add_test(tc, everything_is_within_an_open_policy_and_it_within_nothing_narrower);
    tcase_add_test(tc, check_refuses_bad_entries_naming_the_field);
    tcase_add_test(tc, check_accepts_any_single_list_and_combinations);
    tcase_add_test(tc, json_lists_every_key_in_order);
    tcase_add_test(tc, json_into_a_short_buffer_is_truncated_and_terminated);
    tcase_add_test(tc, within_agrees_with_brute_force_on_random_policies);
    tcase_add_test(tc, within_is_transitive_on_random_policies);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
