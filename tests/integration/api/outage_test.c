/* PostgreSQL stopped under a running sovd: the API answers 503 problem+json while it is
 * down and 200 again once it is back, without restarting sovd. The test runs a cluster of
 * its own (scripts/pg), so stopping it disturbs no other suite. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

static char *dir;
static char pg[600];
static tl_sovd sovd;

static void
setup(void)
{
    dir = tl_tmpdir();
    snprintf(pg, sizeof(pg), "%s/pg", dir);
    ck_assert_int_eq(tl_sh("'%s/scripts/pg' start '%s' --fast", tl_env("SOV_SOURCE_ROOT"), pg),
                     0);
}

static void
teardown(void)
{
    tl_sovd_discard(&sovd);
    tl_sh("'%s/scripts/pg' stop '%s'", tl_env("SOV_SOURCE_ROOT"), pg);
    tl_tmpdir_remove(dir);
    free(dir);
}

static long
readyz(tl_resp *r)
{
    tl_get(sovd.base, "/readyz", r);
    return r->status;
}

START_TEST(database_outage_is_503_then_recovers_by_itself)
{
    char url[800];
    tl_resp r;
    long status = 0;
    char *ra;

    snprintf(url, sizeof(url), "host=%s/sock port=5432 user=postgres dbname=postgres", pg);
    tl_sovd_start(&sovd, url, NULL);
    ck_assert_int_eq(readyz(&r), 200);
    tl_resp_free(&r);

    ck_assert_int_eq(tl_sh("'%s/scripts/pg' stop '%s'", tl_env("SOV_SOURCE_ROOT"), pg), 0);
    for (int i = 0; i < 3; i++) {
        readyz(&r);
        tl_assert_problem(&r, 503, "/problems/unavailable");
        ra = tl_resp_header(&r, "Retry-After");
        ck_assert_ptr_nonnull(ra);
        free(ra);
        tl_resp_free(&r);
    }
    /* The process stays up and healthy meanwhile. */
    tl_get(sovd.base, "/healthz", &r);
    ck_assert_int_eq(r.status, 200);
    tl_resp_free(&r);

    ck_assert_int_eq(tl_sh("'%s/scripts/pg' start '%s' --fast", tl_env("SOV_SOURCE_ROOT"), pg),
                     0);
    for (int i = 0; i < 100 && status != 200; i++) {
        status = readyz(&r);
        tl_resp_free(&r);
        if (status != 200)
            usleep(100000);
    }
    ck_assert_int_eq(status, 200);
    /* Every pooled connection recovered, not just one. */
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(readyz(&r), 200);
        tl_resp_free(&r);
    }
    ck_assert_int_eq(tl_sovd_stop(&sovd, SIGTERM, 20), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/outage");
    TCase *tc = tcase_create("outage");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, database_outage_is_503_then_recovers_by_itself);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
