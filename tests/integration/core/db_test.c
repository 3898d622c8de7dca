/* The PostgreSQL pool against a real cluster: parameters are data (never SQL), errors map
 * to codes, transactions commit or roll back whole, a dead server is UNAVAILABLE, and each
 * statement is prepared once per session (again after a reconnect, within a bound). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sov/buf.h"
#include "sov/db.h"
#include "sov/repo/db_pq.h"
#include "testlib.h"

static char *url;
static sov_db *db;

static void
open_pool(const char *u, unsigned size, unsigned acquire_ms)
{
    sov_error err = SOV_ERROR_INIT;
    sov_db_options o = { .url = u, .pool_size = size, .connect_timeout = 2,
                         .acquire_timeout_ms = acquire_ms, .statement_timeout_ms = 5000 };
    ck_assert_msg(sov_db_new(&o, &db, &err) == 0, "%s", err.msg);
}

static void
setup(void)
{
    url = tl_db_create();
    open_pool(url, 2, 300);
    free(tl_db_exec(url, "CREATE TABLE t (id serial PRIMARY KEY, name text UNIQUE NOT NULL, "
                         "n integer CHECK (n >= 0))"));
}

static void
teardown(void)
{
    sov_db_free(db);
    tl_db_drop(url);
    free(url);
}

START_TEST(parameters_are_data_not_sql)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(PGresult) res = NULL;
    const char *evil = "x'); DROP TABLE t; --";
    const char *params[] = { evil };

    ck_assert_int_eq(sov_db_acquire(db, &c, &err), 0);
    ck_assert_int_eq(sov_db_query(c, "INSERT INTO t (name) VALUES ($1)", 1, params, NULL, &err),
                     0);
    ck_assert_int_eq(sov_db_query(c, "SELECT name FROM t", 0, NULL, &res, &err), 0);
    ck_assert_int_eq(PQntuples(res), 1);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), evil);
}
END_TEST

START_TEST(constraint_violations_map_to_codes)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_dbconn) c = NULL;
    const char *a[] = { "a", "1" }, *neg[] = { "b", "-1" }, *nan[] = { "c", "seven" };
    const char *sql = "INSERT INTO t (name, n) VALUES ($1, $2)";

    ck_assert_int_eq(sov_db_acquire(db, &c, &err), 0);
    ck_assert_int_eq(sov_db_query(c, sql, 2, a, NULL, &err), 0);
    ck_assert_int_eq(sov_db_query(c, sql, 2, a, NULL, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    ck_assert_ptr_nonnull(strstr(err.detail, "23505"));
    ck_assert_str_eq(sov_db_last_sqlstate(c), "23505");
    ck_assert_int_eq(sov_db_query(c, sql, 2, neg, NULL, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_int_eq(sov_db_query(c, sql, 2, nan, NULL, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_int_eq(sov_db_query(c, "SELEC nonsense", 0, NULL, NULL, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
}
END_TEST

static int
insert_two(sov_dbconn *c, void *arg, sov_error *err)
{
    const char *first[] = { "first" };
    const char *second[] = { (const char *) arg };

    if (sov_db_query(c, "INSERT INTO t (name) VALUES ($1)", 1, first, NULL, err) < 0)
        return -1;
    return sov_db_query(c, "INSERT INTO t (name) VALUES ($1)", 1, second, NULL, err);
}

START_TEST(transaction_commits_or_rolls_back_whole)
{
    sov_error err = SOV_ERROR_INIT;
    char *n;

    /* The second insert clashes with the first: nothing of the transaction stays. */
    ck_assert_int_eq(sov_db_tx(db, insert_two, "first", &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    n = tl_db_exec(url, "SELECT count(*) FROM t");
    ck_assert_str_eq(n, "0");
    free(n);

    sov_error_clear(&err);
    ck_assert_int_eq(sov_db_tx(db, insert_two, "second", &err), 0);
    n = tl_db_exec(url, "SELECT count(*) FROM t");
    ck_assert_str_eq(n, "2");
    free(n);
}
END_TEST

static int
count_attempts(sov_dbconn *c, void *arg, sov_error *err)
{
    int *attempts = arg;

    (*attempts)++;
    if (*attempts < 3)
        /* Raise what a serialization failure raises: the helper must run us again. */
        return sov_db_query(c, "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40001'; END $$",
                            0, NULL, NULL, err);
    return sov_db_query(c, "INSERT INTO t (name) VALUES ('retried')", 0, NULL, NULL, err);
}

START_TEST(serialization_failures_are_retried)
{
    sov_error err = SOV_ERROR_INIT;
    int attempts = 0;
    char *n;

    ck_assert_int_eq(sov_db_tx(db, count_attempts, &attempts, &err), 0);
    ck_assert_int_eq(attempts, 3);
    n = tl_db_exec(url, "SELECT count(*) FROM t WHERE name = 'retried'");
    ck_assert_str_eq(n, "1");
    free(n);
}
END_TEST

START_TEST(release_rolls_back_an_open_transaction)
{
    sov_error err = SOV_ERROR_INIT;
    sov_dbconn *c = NULL;
    char *n;

    ck_assert_int_eq(sov_db_acquire(db, &c, &err), 0);
    ck_assert_int_eq(sov_db_query(c, "BEGIN", 0, NULL, NULL, &err), 0);
    ck_assert_int_eq(sov_db_query(c, "INSERT INTO t (name) VALUES ('left open')", 0, NULL,
                                  NULL, &err), 0);
    sov_db_release(c);
    n = tl_db_exec(url, "SELECT count(*) FROM t");
    ck_assert_str_eq(n, "0");
    free(n);
}
END_TEST

START_TEST(exhausted_pool_answers_unavailable_after_the_wait)
{
    sov_error err = SOV_ERROR_INIT;
    sov_dbconn *a = NULL, *b = NULL, *c = NULL;
    sov_db_stats st;

    ck_assert_int_eq(sov_db_acquire(db, &a, &err), 0);
    ck_assert_int_eq(sov_db_acquire(db, &b, &err), 0);
    sov_db_get_stats(db, &st);
    ck_assert_uint_eq(st.in_use, 2);
    ck_assert_int_eq(sov_db_acquire(db, &c, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    sov_db_get_stats(db, &st);
    ck_assert_uint_eq(st.timeouts, 1);
    sov_db_release(a);
    sov_error_clear(&err);
    ck_assert_int_eq(sov_db_acquire(db, &c, &err), 0);
    sov_db_release(b);
    sov_db_release(c);
    sov_db_get_stats(db, &st);
    ck_assert_uint_eq(st.in_use, 0);
    ck_assert_uint_eq(st.idle, 2);
}
END_TEST

START_TEST(unreachable_server_is_unavailable)
{
    sov_error err = SOV_ERROR_INIT;
    sov_dbconn *c = NULL;
    char *dir = tl_tmpdir(), *u = NULL;

    sov_db_free(db);
    ck_assert(asprintf(&u, "host=%s port=5432 user=postgres dbname=x", dir) > 0);
    open_pool(u, 1, 300);
    ck_assert_int_eq(sov_db_acquire(db, &c, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_str_eq(err.msg, "database is unavailable");
    ck_assert_ptr_nonnull(strstr(err.detail, "could not connect"));
    free(u);
    tl_tmpdir_remove(dir);
    free(dir);
}
END_TEST

/* A connection killed by the server while idle in the pool is replaced on the next query. */
START_TEST(connection_killed_while_idle_is_reopened)
{
    sov_error err = SOV_ERROR_INIT;
    sov_dbconn *c = NULL;
    char *pid;
    char sql[128];

    ck_assert_int_eq(sov_db_acquire(db, &c, &err), 0);
    sov_autoptr(PGresult) res = NULL;
    ck_assert_int_eq(sov_db_query(c, "SELECT pg_backend_pid()", 0, NULL, &res, &err), 0);
    pid = strdup(PQgetvalue(res, 0, 0));
    sov_db_release(c);
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%s)", pid);
    free(tl_db_exec(url, sql));
    usleep(100000);

    ck_assert_int_eq(sov_db_acquire(db, &c, &err), 0);
    ck_assert_msg(sov_db_query(c, "SELECT 1", 0, NULL, NULL, &err) == 0, "%s: %s", err.msg,
                  err.detail);
    sov_db_release(c);
    free(pid);
}
END_TEST

/* ---- text[] parameters through the one encoder ---- */

START_TEST(array_parameters_come_back_element_for_element)
{
    static const char *const items[] = {
        "plain", "a,b", "{braces}", "say \"hi\"", "back\\slash", "", NULL, "NULL", " pad ",
        "caf\xc3\xa9 \xe2\x82\xac", "ssh-ed25519 AAAA \"o'brien\\laptop\"",
    };
    const size_t n = sizeof(items) / sizeof(items[0]);
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(PGresult) res = NULL;
    sov_buf b = SOV_BUF_INIT;

    sov_buf_pg_array(&b, items, n);
    const char *params[] = { b.data };
    ck_assert_int_eq(sov_db_acquire(db, &c, &err), 0);
    ck_assert_msg(sov_db_query(c, "SELECT e, e IS NULL FROM unnest($1::text[])"
                               " WITH ORDINALITY AS u(e, i) ORDER BY i", 1, params, &res,
                               &err) == 0, "%s: %s", err.msg, err.detail);
    ck_assert_int_eq(PQntuples(res), (int) n);
    for (size_t i = 0; i < n; i++) {
        if (!items[i]) {
            ck_assert_str_eq(PQgetvalue(res, (int) i, 1), "t");
            continue;
        }
        ck_assert_str_eq(PQgetvalue(res, (int) i, 1), "f");
        ck_assert_str_eq(PQgetvalue(res, (int) i, 0), items[i]);
    }
    sov_buf_release(&b);
}
END_TEST

/* ---- LISTEN: the one loop behind token revocations and worker wake-ups ---- */

static atomic_int listen_counts[4];
static atomic_bool listen_stop;

static void
count_listen(void *arg, sov_db_listen_event ev)
{
    (void) arg;
    atomic_fetch_add(&listen_counts[ev], 1);
}

static void *
listen_thread(void *arg)
{
    const sov_db_listener l = { .url = url, .application_name = "sov-test-listener",
                                .channel = "sov_test", .retry_ms = 100, .stop = &listen_stop,
                                .on_event = count_listen, .arg = arg };

    sov_db_listen(&l);
    return NULL;
}

static void
wait_count(sov_db_listen_event ev, int want)
{
    double end = tl_now() + 10;

    while (atomic_load(&listen_counts[ev]) < want && tl_now() < end)
        usleep(20000);
    ck_assert_int_ge(atomic_load(&listen_counts[ev]), want);
}

START_TEST(listen_reports_notifications_and_reconnects_after_a_kill)
{
    pthread_t t;

    for (int i = 0; i < 4; i++)
        atomic_store(&listen_counts[i], 0);
    atomic_store(&listen_stop, false);
    ck_assert_int_eq(pthread_create(&t, NULL, listen_thread, NULL), 0);
    wait_count(SOV_DB_LISTEN_UP, 1);
    free(tl_db_exec(url, "NOTIFY sov_test"));
    wait_count(SOV_DB_LISTEN_NOTIFIED, 1);
    free(tl_db_exec(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                         " WHERE application_name = 'sov-test-listener'"));
    wait_count(SOV_DB_LISTEN_LOST, 1);
    wait_count(SOV_DB_LISTEN_UP, 2);
    free(tl_db_exec(url, "NOTIFY sov_test"));
    wait_count(SOV_DB_LISTEN_NOTIFIED, 2);
    atomic_store(&listen_stop, true);
    pthread_join(t, NULL);
    ck_assert_int_eq(atomic_load(&listen_counts[SOV_DB_LISTEN_DOWN]), 0);
}
END_TEST

START_TEST(listen_retries_while_the_server_is_unreachable)
{
    static char nowhere[] = "postgresql://127.0.0.1:1/nothing";
    pthread_t t;
    char *saved = url;

    for (int i = 0; i < 4; i++)
        atomic_store(&listen_counts[i], 0);
    atomic_store(&listen_stop, false);
    url = nowhere;
    ck_assert_int_eq(pthread_create(&t, NULL, listen_thread, NULL), 0);
    wait_count(SOV_DB_LISTEN_DOWN, 2);
    atomic_store(&listen_stop, true);
    pthread_join(t, NULL);
    url = saved;
    ck_assert_int_eq(atomic_load(&listen_counts[SOV_DB_LISTEN_UP]), 0);
}
END_TEST

/* ---- prepared statements: each text parsed and planned once per session ---- */

static long long
prepared_count(sov_dbconn *c, const char *text)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(PGresult) res = NULL;
    const char *p[] = { text };

    ck_assert_msg(sov_db_query(c, "SELECT count(*) FROM pg_prepared_statements WHERE "
                                  "$1::text IS NULL OR statement = $1", 1, p, &res, &err) == 0,
                  "%s: %s", err.msg, err.detail);
    return atoll(PQgetvalue(res, 0, 0));
}

START_TEST(a_statement_is_prepared_once_per_session)
{
    static const char sql[] = "SELECT n FROM t WHERE name = $1";
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_dbconn) c = NULL;
    const char *a[] = { "a", "1" }, *b[] = { "b", "2" };

    ck_assert_int_eq(sov_db_acquire(db, &c, &err), 0);
    ck_assert_int_eq(sov_db_query(c, "INSERT INTO t (name, n) VALUES ($1, $2)", 2, a, NULL,
                                  &err), 0);
    ck_assert_int_eq(sov_db_query(c, "INSERT INTO t (name, n) VALUES ($1, $2)", 2, b, NULL,
                                  &err), 0);
    /* The same text with other values: one statement, the right rows each time. */
    for (int i = 0; i < 6; i++) {
        sov_autoptr(PGresult) res = NULL;
        const char *name[] = { i % 2 ? "b" : "a" };
        ck_assert_int_eq(sov_db_query(c, sql, 1, name, &res, &err), 0);
        ck_assert_int_eq(PQntuples(res), 1);
        ck_assert_str_eq(PQgetvalue(res, 0, 0), i % 2 ? "2" : "1");
    }
    ck_assert_int_eq(prepared_count(c, sql), 1);
    ck_assert_int_eq(prepared_count(c, "INSERT INTO t (name, n) VALUES ($1, $2)"), 1);
}
END_TEST

/* PostgreSQL forgets a session's statements when the session ends: a connection reopened
 * after its backend was killed prepares them again (a stale name would fail "prepared
 * statement does not exist"). */
START_TEST(a_reopened_session_prepares_again)
{
    static const char sql[] = "SELECT pg_backend_pid()";
    sov_error err = SOV_ERROR_INIT;
    sov_dbconn *c = NULL;
    char *pid, kill[128];

    ck_assert_int_eq(sov_db_acquire(db, &c, &err), 0);
    sov_autoptr(PGresult) res = NULL;
    ck_assert_int_eq(sov_db_query(c, sql, 0, NULL, &res, &err), 0);
    pid = strdup(PQgetvalue(res, 0, 0));
    sov_db_release(c);
    snprintf(kill, sizeof(kill), "SELECT pg_terminate_backend(%s)", pid);
    free(tl_db_exec(url, kill));
    usleep(100000);

    for (int round = 0; round < 2; round++) {
        sov_autoptr(PGresult) again = NULL;
        ck_assert_int_eq(sov_db_acquire(db, &c, &err), 0);
        ck_assert_msg(sov_db_query(c, sql, 0, NULL, &again, &err) == 0, "%s: %s", err.msg,
                      err.detail);
        ck_assert_str_ne(PQgetvalue(again, 0, 0), pid);
        sov_db_release(c);
    }
    free(pid);
}
END_TEST

/* A statement that cannot be prepared fails with its own error, also inside a transaction
 * (not "current transaction is aborted"), and is not kept. */
START_TEST(a_bad_statement_reports_its_own_error_and_is_not_kept)
{
    static const char typo[] = "SELEC n FROM t", missing[] = "SELECT n FROM no_such_table";
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_dbconn) c = NULL;

    ck_assert_int_eq(sov_db_acquire(db, &c, &err), 0);
    ck_assert_int_eq(sov_db_query(c, typo, 0, NULL, NULL, &err), -1);
    ck_assert_str_eq(sov_db_last_sqlstate(c), "42601");
    ck_assert_int_eq(sov_db_query(c, "BEGIN", 0, NULL, NULL, &err), 0);
    ck_assert_int_eq(sov_db_query(c, missing, 0, NULL, NULL, &err), -1);
    ck_assert_str_eq(sov_db_last_sqlstate(c), "42P01");
    ck_assert_int_eq(sov_db_query(c, "ROLLBACK", 0, NULL, NULL, &err), 0);
    ck_assert_int_eq(prepared_count(c, typo), 0);
    ck_assert_int_eq(prepared_count(c, missing), 0);
}
END_TEST

/* A text with optional filters is planned on every call, for the filters that apply: never
 * kept as a prepared statement (a generic plan would scan everything). */
START_TEST(optional_filters_are_planned_per_call)
{
    static const char sql[] = "SELECT count(*) FROM t WHERE ($1::text IS NULL OR name = $1)";
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_dbconn) c = NULL;
    const char *a[] = { "a", "1" }, *any[] = { NULL }, *only_a[] = { "a" };

    ck_assert_int_eq(sov_db_acquire(db, &c, &err), 0);
    ck_assert_int_eq(sov_db_query(c, "INSERT INTO t (name, n) VALUES ($1, $2)", 2, a, NULL,
                                  &err), 0);
    for (int i = 0; i < 8; i++) {
        sov_autoptr(PGresult) res = NULL;
        ck_assert_int_eq(sov_db_query(c, sql, 1, i % 2 ? any : only_a, &res, &err), 0);
        ck_assert_str_eq(PQgetvalue(res, 0, 0), "1");
    }
    ck_assert_int_eq(prepared_count(c, sql), 0);
}
END_TEST

/* Texts past the cache's bound still run (unprepared); the session keeps at most 128. */
START_TEST(the_statement_cache_is_bounded)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_dbconn) c = NULL;

    ck_assert_int_eq(sov_db_acquire(db, &c, &err), 0);
    for (int i = 0; i < 300; i++) {
        sov_autoptr(PGresult) res = NULL;
        char sql[64], want[16];
        snprintf(sql, sizeof(sql), "SELECT %d + 0", i);
        snprintf(want, sizeof(want), "%d", i);
        ck_assert_int_eq(sov_db_query(c, sql, 0, NULL, &res, &err), 0);
        ck_assert_str_eq(PQgetvalue(res, 0, 0), want);
    }
    ck_assert_int_eq(prepared_count(c, NULL), 128);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("core/db");
    TCase *tc = tcase_create("db");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, parameters_are_data_not_sql);
    tcase_add_test(tc, constraint_violations_map_to_codes);
    tcase_add_test(tc, transaction_commits_or_rolls_back_whole);
    tcase_add_test(tc, serialization_failures_are_retried);
    tcase_add_test(tc, release_rolls_back_an_open_transaction);
    tcase_add_test(tc, exhausted_pool_answers_unavailable_after_the_wait);
    tcase_add_test(tc, unreachable_server_is_unavailable);
    tcase_add_test(tc, connection_killed_while_idle_is_reopened);
    tcase_add_test(tc, a_statement_is_prepared_once_per_session);
    tcase_add_test(tc, a_reopened_session_prepares_again);
    tcase_add_test(tc, a_bad_statement_reports_its_own_error_and_is_not_kept);
    tcase_add_test(tc, the_statement_cache_is_bounded);
    tcase_add_test(tc, optional_filters_are_planned_per_call);
    tcase_add_test(tc, array_parameters_come_back_element_for_element);
    tcase_add_test(tc, listen_reports_notifications_and_reconnects_after_a_kill);
    tcase_add_test(tc, listen_retries_while_the_server_is_unreachable);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
