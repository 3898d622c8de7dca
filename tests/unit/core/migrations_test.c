/* The compiled-in migrations: numbered from 1 without gaps, named NNNN_name.sql, each
 * opening with a comment that says why. (embed.py refuses gaps at build time too.) */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/migrate.h"
#include "testlib.h"

START_TEST(numbered_in_order_and_explained)
{
    ck_assert_uint_gt(sov_migrations_count, 0);
    for (size_t i = 0; i < sov_migrations_count; i++) {
        const sov_migration *m = &sov_migrations[i];
        char prefix[16];

        ck_assert_int_eq(m->version, (int) i + 1);
        snprintf(prefix, sizeof(prefix), "%04d_", m->version);
        ck_assert_msg(strncmp(m->name, prefix, 5) == 0, "%s should start %s", m->name, prefix);
        ck_assert_msg(strncmp(m->sql, "-- ", 3) == 0 && strstr(m->sql, m->name),
                      "%s must open with '-- %s: why'", m->name, m->name);
        ck_assert_uint_eq(strlen(m->sql), m->len);
    }
}
END_TEST

/* README.md's /readyz example counts the migrations there are. */
START_TEST(readme_counts_the_migrations)
{
    char path[1024], want[64];
    char *doc;

    snprintf(path, sizeof(path), "%s/README.md", tl_env("SOV_SOURCE_ROOT"));
    doc = tl_read_file(path);
    snprintf(want, sizeof(want), "{\"status\":\"ready\",\"migrations\":%zu,\"ovn\":",
             sov_migrations_count);
    ck_assert_msg(strstr(doc, want), "README.md's /readyz example should read %s", want);
    free(doc);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("core/migrations");
    TCase *tc = tcase_create("list");

    tcase_add_test(tc, numbered_in_order_and_explained);
    tcase_add_test(tc, readme_counts_the_migrations);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
