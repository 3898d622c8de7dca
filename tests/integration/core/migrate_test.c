/* Migrations against a real cluster: applied once, each in its own transaction, refused
 * when an applied file was edited or the database is newer, safe to run concurrently. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sov/migrate.h"
#include "testlib.h"

static char *url;
static sov_db *db;

static sov_db *
pool(void)
{
    sov_error err = SOV_ERROR_INIT;
    sov_db *p = NULL;
    sov_db_options o = { .url = url, .pool_size = 1, .connect_timeout = 2,
                         .acquire_timeout_ms = 5000, .statement_timeout_ms = 30000 };
    ck_assert_msg(sov_db_new(&o, &p, &err) == 0, "%s", err.msg);
    return p;
}

static int
migrate(sov_db *p, const sov_migration *list, size_t n, unsigned *applied, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(p, &c, err) < 0)
        return -1;
    return sov_migrate(c, list, n, applied, err);
}

static void
setup(void)
{
    url = tl_db_create();
    db = pool();
}

static void
teardown(void)
{
    sov_db_free(db);
    tl_db_drop(url);
    free(url);
}

#define M(v, name, sql) { v, name, sql, sizeof(sql) - 1 }
static const sov_migration two[] = {
    M(1, "0001_a.sql", "-- 0001_a.sql: a\nCREATE TABLE a (x int);"),
    M(2, "0002_b.sql", "-- 0002_b.sql: b\nCREATE TABLE b (y int); INSERT INTO b VALUES (1);"),
};

START_TEST(real_migrations_apply_once)
{
    sov_error err = SOV_ERROR_INIT;
    unsigned applied = 99;
    long count = -1;

    ck_assert_msg(migrate(db, sov_migrations, sov_migrations_count, &applied, &err) == 0,
                  "%s: %s", err.msg, err.detail);
    ck_assert_uint_eq(applied, sov_migrations_count);
    ck_assert_int_eq(migrate(db, sov_migrations, sov_migrations_count, &applied, &err), 0);
    ck_assert_uint_eq(applied, 0);
    ck_assert_int_eq(sov_migrate_ready(db, &count, &err), 0);
    ck_assert_int_eq(count, (long) sov_migrations_count);
}
END_TEST

START_TEST(later_migrations_apply_on_top)
{
    sov_error err = SOV_ERROR_INIT;
    unsigned applied = 0;
    char *v;

    ck_assert_int_eq(migrate(db, two, 1, &applied, &err), 0);
    ck_assert_uint_eq(applied, 1);
    ck_assert_int_eq(migrate(db, two, 2, &applied, &err), 0);
    ck_assert_uint_eq(applied, 1);
    v = tl_db_exec(url, "SELECT string_agg(name || ':' || length(checksum), ',' ORDER BY "
                        "version) FROM schema_migrations");
    ck_assert_str_eq(v, "0001_a.sql:64,0002_b.sql:64");
    free(v);
}
END_TEST

START_TEST(edited_migration_is_refused)
{
    sov_error err = SOV_ERROR_INIT;
    unsigned applied = 0;
    const sov_migration edited[] = {
        M(1, "0001_a.sql", "-- 0001_a.sql: a\nCREATE TABLE a (x bigint);"),
        two[1],
    };

    ck_assert_int_eq(migrate(db, two, 1, &applied, &err), 0);
    ck_assert_int_eq(migrate(db, edited, 2, &applied, &err), -1);
    ck_assert_msg(strstr(err.msg, "0001_a.sql was edited after it was applied"), "%s",
                  err.msg);
    ck_assert_ptr_nonnull(strstr(err.detail, "sha256"));
    /* Nothing after the refusal ran. */
    char *n = tl_db_exec(url, "SELECT count(*) FROM pg_tables WHERE tablename = 'b'");
    ck_assert_str_eq(n, "0");
    free(n);
}
END_TEST

START_TEST(newer_database_is_refused)
{
    sov_error err = SOV_ERROR_INIT;
    unsigned applied = 0;

    ck_assert_int_eq(migrate(db, two, 2, &applied, &err), 0);
    ck_assert_int_eq(migrate(db, two, 1, &applied, &err), -1);
    ck_assert_msg(strstr(err.msg, "0002_b.sql that this sovd does not know"), "%s", err.msg);
}
END_TEST

START_TEST(failed_migration_leaves_nothing_behind)
{
    sov_error err = SOV_ERROR_INIT;
    unsigned applied = 0;
    const sov_migration broken[] = {
        two[0],
        M(2, "0002_b.sql", "-- 0002_b.sql: b\nCREATE TABLE b (y int); SELECT * FROM nope;"),
    };
    char *v;

    ck_assert_int_eq(migrate(db, broken, 2, &applied, &err), -1);
    ck_assert_msg(strstr(err.msg, "migration 0002_b.sql failed"), "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(err.detail, "42P01"));
    v = tl_db_exec(url, "SELECT count(*) FROM pg_tables WHERE tablename IN ('a', 'b')");
    ck_assert_str_eq(v, "1");   /* a from 0001 committed; b rolled back with 0002 */
    free(v);
    v = tl_db_exec(url, "SELECT max(version) FROM schema_migrations");
    ck_assert_str_eq(v, "1");
    free(v);
}
END_TEST

/* A migration that meets a concurrent change of the cluster's catalog (two databases of one
 * cluster creating one role at once: unique_violation) runs again and lands once; a
 * sequence, which a rollback does not reset, makes the first two tries fail. */
START_TEST(catalog_race_is_tried_again)
{
    sov_error err = SOV_ERROR_INIT;
    unsigned applied = 0;
    const sov_migration racy[] = {
        M(1, "0001_a.sql", "-- 0001_a.sql: a\nCREATE TABLE a (x int);"
                           " DO $$ BEGIN IF nextval('tries') < 3 THEN"
                           " RAISE unique_violation USING MESSAGE = 'role exists'; END IF; END $$;"),
    };
    const sov_migration other[] = {
        M(1, "0001_a.sql", "-- 0001_a.sql: a\nSELECT * FROM nope;"),
    };
    char *v;

    free(tl_db_exec(url, "CREATE SEQUENCE tries"));
    ck_assert_msg(migrate(db, racy, 1, &applied, &err) == 0, "%s: %s", err.msg, err.detail);
    ck_assert_uint_eq(applied, 1);
    v = tl_db_exec(url, "SELECT nextval('tries')");
    ck_assert_str_eq(v, "4");   /* three tries: two failed, one landed */
    free(v);
    /* Any other failure is not tried again. */
    free(tl_db_exec(url, "DROP TABLE a; DELETE FROM schema_migrations"));
    ck_assert_int_eq(migrate(db, other, 1, &applied, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.detail, "42P01"));
}
END_TEST

static void *
run_real(void *arg)
{
    sov_error err = SOV_ERROR_INIT;
    sov_db *p = pool();
    unsigned *applied = arg;
    int rc = migrate(p, sov_migrations, sov_migrations_count, applied, &err);

    sov_db_free(p);
    return rc == 0 ? arg : NULL;
}

START_TEST(concurrent_replicas_apply_each_migration_once)
{
    pthread_t t[4];
    unsigned applied[4] = { 0 };
    unsigned total = 0;
    char *n;

    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, run_real, &applied[i]), 0);
    for (int i = 0; i < 4; i++) {
        void *r = NULL;
        pthread_join(t[i], &r);
        ck_assert_msg(r, "replica %d failed to migrate", i);
        total += applied[i];
    }
    ck_assert_uint_eq(total, sov_migrations_count);
    n = tl_db_exec(url, "SELECT count(*) FROM schema_migrations");
    ck_assert_int_eq(atoi(n), (int) sov_migrations_count);
    free(n);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("core/migrate");
    TCase *tc = tcase_create("migrate");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, real_migrations_apply_once);
    tcase_add_test(tc, later_migrations_apply_on_top);
    tcase_add_test(tc, edited_migration_is_refused);
    tcase_add_test(tc, newer_database_is_refused);
    tcase_add_test(tc, failed_migration_leaves_nothing_behind);
    tcase_add_test(tc, catalog_race_is_tried_again);
    tcase_add_test(tc, concurrent_replicas_apply_each_migration_once);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
