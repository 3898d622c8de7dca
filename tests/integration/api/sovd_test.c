/* sovd as a process, against a real PostgreSQL database: it migrates, serves the public
 * routes, logs JSON, refuses bad configuration and edited migrations, and finishes a slow
 * request when told to stop. */
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ovsdb_server.h"
#include "sov/migrate.h"
#include "testlib.h"

static char *db;
static tl_sovd sovd;

static void
setup(void)
{
    db = tl_db_create();
    memset(&sovd, 0, sizeof(sovd));
}

static void
teardown(void)
{
    tl_sovd_discard(&sovd);
    tl_db_drop(db);
    free(db);
}

START_TEST(serves_health_readiness_metrics_and_contract)
{
    tl_resp r;

    tl_sovd_start(&sovd, db, NULL);
    tl_get(sovd.base, "/healthz", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "ok");
    tl_resp_free(&r);

    tl_get(sovd.base, "/readyz", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "migrations")),
                     (json_int_t) sov_migrations_count);
    /* Without ovn_nb, OVN is not asked and readiness does not depend on it. */
    ck_assert_str_eq(tl_str(r.json, "ovn"), "not configured");
    tl_resp_free(&r);

    tl_get(sovd.base, "/v1/openapi.json", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(r.json, "openapi.json is not JSON");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "openapi")), "3.1.0");
    tl_resp_free(&r);

    tl_get(sovd.base, "/metrics", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "sov_http_requests_total{route=\"/healthz\""));
    ck_assert_ptr_nonnull(strstr(r.body, "sov_db_pool_connections{state=\"idle\"}"));
    ck_assert_ptr_nonnull(strstr(r.body, "sov_http_request_duration_seconds_bucket"));
    ck_assert_ptr_nonnull(strstr(r.body, "process_resident_memory_bytes"));
    tl_resp_free(&r);

    tl_get(sovd.base, "/v1/nothing-here", &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);

    ck_assert_int_eq(tl_sovd_stop(&sovd, SIGTERM, 20), 0);
}
END_TEST

START_TEST(schema_is_migrated_at_start)
{
    char *v;

    tl_sovd_start(&sovd, db, NULL);
    v = tl_db_exec(db, "SELECT count(*) FROM schema_migrations");
    ck_assert_int_eq(atoi(v), (int) sov_migrations_count);
    free(v);
    v = tl_db_exec(db, "SELECT count(*) FROM control_plane");
    ck_assert_str_eq(v, "1");
    free(v);
    ck_assert_int_eq(tl_sovd_stop(&sovd, SIGINT, 20), 0);

    /* A second start applies nothing again. */
    tl_sovd_start(&sovd, db, NULL);
    ck_assert_int_eq(tl_sovd_stop(&sovd, SIGTERM, 20), 0);
    char *log = tl_sovd_log(&sovd);
    ck_assert_ptr_null(strstr(log, "applied migration"));
    ck_assert_ptr_nonnull(strstr(log, "\"applied\":0"));
    free(log);
}
END_TEST

START_TEST(every_log_line_is_json)
{
    tl_resp r;
    const char *h[] = { "X-Request-Id: sovd-log-test", NULL };
    char url[128];
    char *log;
    int lines = 0, with_id = 0;

    tl_sovd_start(&sovd, db, NULL);
    snprintf(url, sizeof(url), "%s/readyz", sovd.base);
    tl_req q = { .url = url, .headers = h };
    tl_http(&q, &r);
    tl_resp_free(&r);
    ck_assert_int_eq(tl_sovd_stop(&sovd, SIGTERM, 20), 0);
    log = tl_sovd_log(&sovd);
    for (char *line = log; line && *line;) {
        char *end = strchr(line, '\n');
        ck_assert_msg(end, "unterminated log line: %s", line);
        json_t *j = json_loadb(line, (size_t) (end - line), 0, NULL);
        ck_assert_msg(j, "not JSON: %.*s", (int) (end - line), line);
        ck_assert(json_is_string(json_object_get(j, "time")));
        ck_assert(json_is_string(json_object_get(j, "level")));
        ck_assert(json_is_string(json_object_get(j, "msg")));
        json_t *rid = json_object_get(j, "request_id");
        if (rid && strcmp(json_string_value(rid), "sovd-log-test") == 0)
            with_id++;
        json_decref(j);
        lines++;
        line = end + 1;
    }
    ck_assert_int_ge(lines, 4);
    ck_assert_int_ge(with_id, 1);
    ck_assert_ptr_null(strstr(log, "password"));
    free(log);
}
END_TEST

/* With ovn_nb set, /readyz asks OVN's Northbound database (a real ovsdb-server of this
 * test's own): reachable while it answers; 503 naming OVN, within about the probe's
 * timeout, when it is gone or stops answering. */
START_TEST(readiness_reports_ovn)
{
    tl_ovsdb nb;
    tl_resp r;
    double t0;

    tl_ovsdb_start(&nb, false);
    const char *args[] = { "--ovn-nb", nb.remote, NULL };
    tl_sovd_start(&sovd, db, args);
    tl_get(sovd.base, "/readyz", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(tl_str(r.json, "status"), "ready");
    ck_assert_str_eq(tl_str(r.json, "ovn"), "reachable");
    tl_resp_free(&r);

    /* A server that stops answering: the probe gives up after its timeout. */
    ck_assert_int_eq(kill(nb.pid, SIGSTOP), 0);
    t0 = tl_now();
    tl_get(sovd.base, "/readyz", &r);
    double took = tl_now() - t0;
    ck_assert_int_eq(kill(nb.pid, SIGCONT), 0);
    tl_assert_problem(&r, 503, "/problems/unavailable");
    ck_assert_msg(strstr(tl_str(r.json, "detail"), "ovn northbound database unreachable"),
                  "%s", r.body);
    ck_assert_msg(took < 3.0, "readyz took %.2f s", took);
    tl_resp_free(&r);

    tl_get(sovd.base, "/readyz", &r);
    ck_assert_int_eq(r.status, 200);
    tl_resp_free(&r);

    /* The server gone: 503 at once, and ready again once it is back. */
    tl_ovsdb_stop(&nb);
    tl_get(sovd.base, "/readyz", &r);
    tl_assert_problem(&r, 503, "/problems/unavailable");
    ck_assert_msg(strstr(tl_str(r.json, "detail"), "ovn northbound database unreachable"),
                  "%s", r.body);
    tl_resp_free(&r);
    char *log = tl_sovd_log(&sovd);
    ck_assert_msg(strstr(log, nb.remote), "the log does not name the remote: %s", log);
    free(log);

    ck_assert_int_eq(tl_sovd_stop_clean(&sovd, 20), 0);
    tl_ovsdb_discard(&nb);
}
END_TEST

START_TEST(bad_configuration_is_refused_naming_the_key)
{
    const char *bad_port[] = { "--db-pool-size=lots", NULL };
    const char *env[] = { "SOV_LOG_LEVEL=chatty", NULL };
    char *log;

    ck_assert_int_eq(tl_sovd_run_to_exit(&sovd, db, bad_port, NULL), 2);
    log = tl_sovd_log(&sovd);
    ck_assert_msg(strstr(log, "db_pool_size") && strstr(log, "lots"), "%s", log);
    free(log);

    ck_assert_int_eq(tl_sovd_run_to_exit(&sovd, db, NULL, env), 2);
    log = tl_sovd_log(&sovd);
    ck_assert_msg(strstr(log, "SOV_LOG_LEVEL") && strstr(log, "chatty"), "%s", log);
    free(log);
}
END_TEST

START_TEST(help_and_version_exit_zero)
{
    const char *help[] = { "--help", NULL };
    const char *version[] = { "--version", NULL };
    char *log;

    ck_assert_int_eq(tl_sovd_run_to_exit(&sovd, db, help, NULL), 0);
    log = tl_sovd_log(&sovd);
    ck_assert_ptr_nonnull(strstr(log, "--database-url"));
    free(log);
    ck_assert_int_eq(tl_sovd_run_to_exit(&sovd, db, version, NULL), 0);
    log = tl_sovd_log(&sovd);
    ck_assert_ptr_nonnull(strstr(log, "sovd 0."));
    free(log);
}
END_TEST

START_TEST(edited_migration_stops_the_start)
{
    char *log;

    tl_sovd_start(&sovd, db, NULL);
    ck_assert_int_eq(tl_sovd_stop(&sovd, SIGTERM, 20), 0);
    free(tl_db_exec(db, "UPDATE schema_migrations SET checksum = repeat('0', 64) "
                        "WHERE version = 1"));
    ck_assert_int_eq(tl_sovd_run_to_exit(&sovd, db, NULL, NULL), 1);
    log = tl_sovd_log(&sovd);
    ck_assert_msg(strstr(log, "migration 0001_init.sql was edited after it was applied"), "%s",
                  log);
    free(log);
}
END_TEST

START_TEST(unreachable_database_at_start_gives_up_after_startup_timeout)
{
    const char *args[] = { "--startup-timeout=1", NULL };
    char *dir = tl_tmpdir(), *url = NULL, *log;

    ck_assert(asprintf(&url, "host=%s port=5432 user=postgres dbname=none", dir) > 0);
    ck_assert_int_eq(tl_sovd_run_to_exit(&sovd, url, args, NULL), 1);
    log = tl_sovd_log(&sovd);
    ck_assert_msg(strstr(log, "waiting for PostgreSQL") && strstr(log, "could not start"), "%s",
                  log);
    free(log);
    free(url);
    tl_tmpdir_remove(dir);
    free(dir);
}
END_TEST

typedef struct slow {
    const char *base;
    tl_resp r;
} slow;

static void *
readyz(void *arg)
{
    slow *s = arg;
    tl_get(s->base, "/readyz", &s->r);
    return NULL;
}

/* A request held up in PostgreSQL (by a lock the test holds) when SIGTERM arrives still
 * gets its answer, and sovd exits 0 after it. */
START_TEST(sigterm_lets_a_slow_request_finish)
{
    PGconn *locker;
    PGresult *res;
    pthread_t t;
    slow s = { 0 };
    char *log;

    tl_sovd_start(&sovd, db, NULL);
    locker = PQconnectdb(db);
    ck_assert_int_eq(PQstatus(locker), CONNECTION_OK);
    res = PQexec(locker, "BEGIN; LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE");
    ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);

    s.base = sovd.base;
    ck_assert_int_eq(pthread_create(&t, NULL, readyz, &s), 0);
    usleep(500000);                     /* the request is now waiting on the lock */
    kill(sovd.pid, SIGTERM);
    usleep(1000000);
    ck_assert_msg(kill(sovd.pid, 0) == 0, "sovd exited with a request in flight");
    res = PQexec(locker, "COMMIT");     /* let it go */
    PQclear(res);
    PQfinish(locker);
    pthread_join(t, NULL);
    ck_assert_int_eq(s.r.status, 200);
    tl_resp_free(&s.r);
    ck_assert_int_eq(tl_sovd_stop(&sovd, 0, 20), 0);
    log = tl_sovd_log(&sovd);
    ck_assert_ptr_nonnull(strstr(log, "received SIGTERM"));
    ck_assert_ptr_nonnull(strstr(log, "\"msg\":\"stopped\""));
    free(log);
}
END_TEST

/* A worker stuck in a step (its handler waits on a lock the test holds) does not hold the
 * shutdown beyond shutdown_timeout: sovd says so and exits 0, the operation left to its
 * lease. */
START_TEST(a_stuck_worker_does_not_hold_shutdown_beyond_its_timeout)
{
    const char *args[] = { "--shutdown-timeout=1", "--role=api,worker", NULL };
    PGconn *locker, *other;
    PGresult *res;
    struct timespec t0, t1;
    char *log;

    tl_sovd_start(&sovd, db, args);
    locker = PQconnectdb(db);
    other = PQconnectdb(db);
    ck_assert_int_eq(PQstatus(locker), CONNECTION_OK);
    ck_assert_int_eq(PQstatus(other), CONNECTION_OK);
    res = PQexec(locker, "BEGIN; LOCK TABLE hosts IN ACCESS EXCLUSIVE MODE");
    ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    /* A host registration reads its host first: it waits on the lock. */
    res = PQexec(other, "INSERT INTO operations (tenant_id, kind, resource_type, resource_id)"
                        " SELECT id, 'host.register', 'host', gen_random_uuid()::text"
                        " FROM tenants LIMIT 1; NOTIFY sov_ops");
    ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    for (int i = 0; i < 100; i++) {
        res = PQexec(other, "SELECT 1 FROM operations WHERE state = 'running'");
        bool running = PQntuples(res) > 0;
        PQclear(res);
        if (running)
            break;
        usleep(100000);
    }
    usleep(300000);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(tl_sovd_stop(&sovd, SIGTERM, 20), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_msg(t1.tv_sec - t0.tv_sec < 8, "shutdown took %ld s",
                  (long) (t1.tv_sec - t0.tv_sec));
    res = PQexec(locker, "COMMIT");
    PQclear(res);
    PQfinish(locker);
    PQfinish(other);
    log = tl_sovd_log(&sovd);
    ck_assert_ptr_nonnull(strstr(log, "still in a step"));
    ck_assert_ptr_nonnull(strstr(log, "\"msg\":\"stopped\""));
    free(log);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/sovd");
    TCase *tc = tcase_create("sovd");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, serves_health_readiness_metrics_and_contract);
    tcase_add_test(tc, schema_is_migrated_at_start);
    tcase_add_test(tc, every_log_line_is_json);
    tcase_add_test(tc, readiness_reports_ovn);
    tcase_add_test(tc, bad_configuration_is_refused_naming_the_key);
    tcase_add_test(tc, help_and_version_exit_zero);
    tcase_add_test(tc, edited_migration_stops_the_start);
    tcase_add_test(tc, unreachable_database_at_start_gives_up_after_startup_timeout);
    tcase_add_test(tc, sigterm_lets_a_slow_request_finish);
    tcase_add_test(tc, a_stuck_worker_does_not_hold_shutdown_beyond_its_timeout);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
