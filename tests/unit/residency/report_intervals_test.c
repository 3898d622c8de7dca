/* The report's interval engine (residency/report_intervals.c), without a database: records
 * of one resource in, intervals out, clipped to the period; and intervals walked along a
 * tenant's policy timeline, giving the parts the policy then in force did not allow. */
#include <stdio.h>
#include <string.h>

#include "report_int.h"
#include "testlib.h"

typedef struct seen {
    char host[SOV_NAME_MAX + 1], country[3];
    long long start, end;
    const sov_policy *policy;
} seen;

static seen got[16];
static size_t ngot;

static int
collect(void *arg, const sov_location *at, long long start, long long end, sov_error *err)
{
    (void) arg, (void) err;
    ck_assert_uint_lt(ngot, 16);
    snprintf(got[ngot].host, sizeof(got[ngot].host), "%s", at->host);
    snprintf(got[ngot].country, sizeof(got[ngot].country), "%s", at->country);
    got[ngot].start = start;
    got[ngot].end = end;
    ngot++;
    return 0;
}

static int
collect_violation(void *arg, const sov_location *at, long long start, long long end,
                  const sov_policy *p, sov_error *err)
{
    collect(arg, at, start, end, err);
    got[ngot - 1].policy = p;
    return 0;
}

static int
failing(void *arg, const sov_location *at, long long start, long long end, sov_error *err)
{
    (void) arg, (void) at, (void) start, (void) end;
    return sov_error_set(err, SOV_E_INTERNAL, "could not write the report");
}

static const sov_report_place nowhere = { "", "", "", "", "" };
static const sov_report_place fr1 = { "fr-host-1", "fr-par-1", "FR", "EU", "Paris DC" };
static const sov_report_place fr2 = { "fr-host-2", "fr-par-1", "FR", "EU", "Paris DC" };
static const sov_report_place ch1 = { "ch-host-1", "ch-zrh-1", "CH", "OTHER", "Zurich" };

static sov_report_spans spans;

static void
setup(void)
{
    memset(got, 0, sizeof(got));
    ngot = 0;
    spans = (sov_report_spans) { .from = 100, .end = 1000, .emit = collect };
}

static void
teardown(void)
{
    sov_report_spans_release(&spans);
}

static void
apply(const char *event, long long at, const sov_report_place *from,
      const sov_report_place *to)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_msg(sov_report_spans_apply(&spans, event, at, from, to, &err) == 0, "%s",
                  err.msg);
}

static void
finish(void)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert(sov_report_spans_finish(&spans, &err) == 0);
}

static void
is(size_t i, const char *host, long long start, long long end)
{
    ck_assert_uint_lt(i, ngot);
    ck_assert_str_eq(got[i].host, host);
    ck_assert_int_eq(got[i].start, start);
    ck_assert_int_eq(got[i].end, end);
}

START_TEST(placed_then_deleted_is_one_interval)
{
    apply("placed", 200, &nowhere, &fr1);
    apply("deleted", 300, &fr1, &nowhere);
    finish();
    ck_assert_uint_eq(ngot, 1);
    is(0, "fr-host-1", 200, 300);
    ck_assert_str_eq(got[0].country, "FR");
}
END_TEST

START_TEST(a_move_closes_one_and_opens_another)
{
    apply("placed", 200, &nowhere, &fr1);
    apply("moved", 400, &fr1, &fr2);
    apply("deleted", 500, &fr2, &nowhere);
    finish();
    ck_assert_uint_eq(ngot, 2);
    is(0, "fr-host-1", 200, 400);
    is(1, "fr-host-2", 400, 500);
}
END_TEST

/* Open intervals reach the period's end, in the order they opened. */
START_TEST(open_intervals_end_at_the_periods_end)
{
    apply("placed", 200, &nowhere, &fr1);
    apply("copied", 300, &fr1, &ch1);
    ck_assert_uint_eq(ngot, 0);
    finish();
    ck_assert_uint_eq(ngot, 2);
    is(0, "fr-host-1", 200, 1000);
    is(1, "ch-host-1", 300, 1000);
    ck_assert_uint_eq(spans.nopen, 0);
}
END_TEST

/* Before the period: cut at its start; wholly outside it: no interval at all. */
START_TEST(intervals_are_clipped_to_the_period)
{
    apply("placed", 10, &nowhere, &fr1);
    apply("deleted", 50, &fr1, &nowhere);       /* before the period */
    apply("placed", 60, &nowhere, &fr2);
    apply("deleted", 150, &fr2, &nowhere);      /* cut at 100 */
    apply("placed", 900, &nowhere, &ch1);
    apply("deleted", 1200, &ch1, &nowhere);     /* cut at 1000 */
    apply("placed", 1000, &nowhere, &fr1);      /* at the end: nothing left */
    finish();
    ck_assert_uint_eq(ngot, 2);
    is(0, "fr-host-2", 100, 150);
    is(1, "ch-host-1", 900, 1000);
}
END_TEST

/* A record written twice counts once (the first); a delete naming no place closes all. */
START_TEST(duplicates_count_once_and_delete_from_nowhere_closes_all)
{
    apply("placed", 200, &nowhere, &fr1);
    apply("placed", 250, &nowhere, &fr1);
    apply("copied", 300, &fr1, &ch1);
    apply("deleted", 700, &nowhere, &nowhere);
    finish();
    ck_assert_uint_eq(ngot, 2);
    is(0, "fr-host-1", 200, 700);
    is(1, "ch-host-1", 300, 700);
}
END_TEST

/* Other events (a policy change) and places that are nowhere change nothing. */
START_TEST(other_events_and_nowhere_change_nothing)
{
    apply("placed", 200, &nowhere, &nowhere);
    apply("policy-changed", 300, &nowhere, &nowhere);
    apply("deleted", 400, &fr1, &nowhere);      /* nothing open there */
    finish();
    ck_assert_uint_eq(ngot, 0);
}
END_TEST

START_TEST(a_failing_writer_fails_the_record)
{
    sov_error err = SOV_ERROR_INIT;

    spans.emit = failing;
    apply("placed", 200, &nowhere, &fr1);
    ck_assert_int_eq(sov_report_spans_apply(&spans, "deleted", 300, &fr1, &nowhere, &err), -1);
    ck_assert_str_eq(err.msg, "could not write the report");
}
END_TEST

/* ---- the policy walk ---- */

static sov_location
loc(const char *host, const char *region, const char *country, const char *jurisdiction)
{
    sov_location l;

    memset(&l, 0, sizeof(l));
    snprintf(l.host, sizeof(l.host), "%s", host);
    snprintf(l.region, sizeof(l.region), "%s", region);
    snprintf(l.country, sizeof(l.country), "%s", country);
    snprintf(l.jurisdiction, sizeof(l.jurisdiction), "%s", jurisdiction);
    return l;
}

static void
walk(const sov_report_policy_at *t, size_t n, const sov_location *at, long long start,
     long long end)
{
    sov_error err = SOV_ERROR_INIT;
    sov_policy dflt;

    sov_policy_default(&dflt);
    ck_assert(sov_report_policy_walk(t, n, &dflt, at, start, end, collect_violation, NULL,
                                     &err) == 0);
}

/* With no policy of its own, the tenant has the default, the EU. */
START_TEST(the_default_allows_the_eu_only)
{
    sov_location fr = loc("fr-host-1", "fr-par-1", "FR", "EU");
    sov_location ch = loc("ch-host-1", "ch-zrh-1", "CH", "OTHER");

    walk(NULL, 0, &fr, 100, 200);
    ck_assert_uint_eq(ngot, 0);
    walk(NULL, 0, &ch, 100, 200);
    ck_assert_uint_eq(ngot, 1);
    is(0, "ch-host-1", 100, 200);
    ck_assert_uint_eq(got[0].policy->njurisdictions, 1);
    ck_assert_str_eq(got[0].policy->jurisdictions[0], "EU");
}
END_TEST

/* A timeline: the default until 300, then only Germany from 300, then the EU and OTHER
 * from 600 (a policy at or before the start is in force from it). An interval in France
 * [100, 800) breaks the policy in [300, 600) only; one in Switzerland in [100, 600). */
START_TEST(violations_follow_the_timeline)
{
    sov_report_policy_at t[3];
    sov_location fr = loc("fr-host-1", "fr-par-1", "FR", "EU");
    sov_location ch = loc("ch-host-1", "ch-zrh-1", "CH", "OTHER");

    memset(t, 0, sizeof(t));
    t[0].at = 50;
    sov_policy_default(&t[0].p);
    t[1].at = 300;
    t[1].p.ncountries = 1;
    snprintf(t[1].p.countries[0], sizeof(t[1].p.countries[0]), "DE");
    t[2].at = 600;
    t[2].p.njurisdictions = 2;
    snprintf(t[2].p.jurisdictions[0], sizeof(t[2].p.jurisdictions[0]), "EU");
    snprintf(t[2].p.jurisdictions[1], sizeof(t[2].p.jurisdictions[1]), "OTHER");
    walk(t, 3, &fr, 100, 800);
    ck_assert_uint_eq(ngot, 1);
    is(0, "fr-host-1", 300, 600);
    ck_assert_ptr_eq(got[0].policy, &t[1].p);
    walk(t, 3, &ch, 100, 800);
    ck_assert_uint_eq(ngot, 3);
    is(1, "ch-host-1", 100, 300);
    ck_assert_ptr_eq(got[1].policy, &t[0].p);
    is(2, "ch-host-1", 300, 600);
    ck_assert_ptr_eq(got[2].policy, &t[1].p);
    /* Starting after the last change: that policy alone. */
    walk(t, 3, &ch, 700, 800);
    ck_assert_uint_eq(ngot, 3);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("residency/report-intervals");
    TCase *tc = tcase_create("report-intervals");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, placed_then_deleted_is_one_interval);
    tcase_add_test(tc, a_move_closes_one_and_opens_another);
    tcase_add_test(tc, open_intervals_end_at_the_periods_end);
    tcase_add_test(tc, intervals_are_clipped_to_the_period);
    tcase_add_test(tc, duplicates_count_once_and_delete_from_nowhere_closes_all);
    tcase_add_test(tc, other_events_and_nowhere_change_nothing);
    tcase_add_test(tc, a_failing_writer_fails_the_record);
    tcase_add_test(tc, the_default_allows_the_eu_only);
    tcase_add_test(tc, violations_follow_the_timeline);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
