/* Configuration: defaults, then file, environment and flags, each overriding the last;
 * a bad value is refused naming its key and where it came from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/config.h"
#include "testlib.h"

static char *dir;

static void
setup(void)
{
    dir = tl_tmpdir();
}

static void
teardown(void)
{
    tl_tmpdir_remove(dir);
    free(dir);
}

static char *
write_config(const char *text)
{
    char *path = NULL;
    FILE *f;

    ck_assert(asprintf(&path, "%s/sovd.conf", dir) > 0);
    f = fopen(path, "w");
    ck_assert(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int
load(sov_config *cfg, char **argv, char **envp, sov_error *err)
{
    int argc = 0;
    FILE *out = fopen("/dev/null", "w");
    int rc;

    while (argv && argv[argc])
        argc++;
    rc = sov_config_load(cfg, argc, argv, envp, out, err);
    fclose(out);
    return rc;
}

START_TEST(defaults_are_the_embedded_setup)
{
    sov_config cfg;
    sov_error err = SOV_ERROR_INIT;
    char *argv[] = { "sovd", NULL };
    char *envp[] = { NULL };

    ck_assert_int_eq(load(&cfg, argv, envp, &err), 0);
    ck_assert_str_eq(cfg.listen_address, "127.0.0.1");
    ck_assert_uint_eq(cfg.port, 8080);
    ck_assert_str_eq(cfg.state_dir, ".state");
    ck_assert_uint_eq(cfg.max_body_bytes, 1048576);
    ck_assert_uint_eq(cfg.roles, SOV_PROC_API | SOV_PROC_WORKER | SOV_PROC_RECONCILER);
    ck_assert_uint_gt(cfg.http_threads, 0);   /* 0 means "cores", resolved at load */
    ck_assert_str_eq(cfg.tls_cert, "");
    /* The keystore's master key lives in the state folder unless named elsewhere. */
    ck_assert_str_eq(cfg.keystore_master_key, ".state/keystore/master.key");
    ck_assert_str_eq(cfg.keystore_region, "");
    ck_assert_str_eq(cfg.ovn_nb, "");     /* OVN not configured */
    sov_config_release(&cfg);
}
END_TEST

START_TEST(file_then_environment_then_flags)
{
    sov_config cfg;
    sov_error err = SOV_ERROR_INIT;
    char *path = write_config("# comment\n\nport = 1111\nlog_level = debug\n"
                              "db_pool_size = 3\nstate_dir = \"/srv/sov state\"\n");
    char *argv[] = { "sovd", "--config", path, "--port=3333", NULL };
    char *envp[] = { "SOV_PORT=2222", "SOV_DB_POOL_SIZE=4", "SOV_TEST_UNRELATED=x",
                     "PATH=/bin", NULL };

    ck_assert_int_eq(load(&cfg, argv, envp, &err), 0);
    ck_assert_uint_eq(cfg.port, 3333);          /* flag beats environment beats file */
    ck_assert_uint_eq(cfg.db_pool_size, 4);     /* environment beats file */
    ck_assert_int_eq(cfg.log_level, 0);         /* file beats default */
    ck_assert_str_eq(cfg.state_dir, "/srv/sov state");
    sov_config_release(&cfg);
    free(path);
}
END_TEST

START_TEST(flags_take_dashes_or_underscores_and_separate_values)
{
    sov_config cfg;
    sov_error err = SOV_ERROR_INIT;
    char *argv[] = { "sovd", "--db-pool-size", "5", "--max_body_bytes=10", "--role",
                     "api, worker", NULL };
    char *envp[] = { NULL };

    ck_assert_int_eq(load(&cfg, argv, envp, &err), 0);
    ck_assert_uint_eq(cfg.db_pool_size, 5);
    ck_assert_uint_eq(cfg.max_body_bytes, 10);
    ck_assert_uint_eq(cfg.roles, SOV_PROC_API | SOV_PROC_WORKER);
    sov_config_release(&cfg);
}
END_TEST

static void
refused(char **argv, char **envp, const char *field, const char *needle)
{
    sov_config cfg;
    sov_error err = SOV_ERROR_INIT;

    ck_assert_int_eq(load(&cfg, argv, envp, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_str_eq(err.field, field);
    ck_assert_msg(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg, needle);
}

START_TEST(bad_values_are_refused_naming_key_and_source)
{
    char *envp[] = { NULL };
    char *a1[] = { "sovd", "--port", "70000", NULL };
    char *a2[] = { "sovd", "--port", "-1", NULL };
    char *a3[] = { "sovd", "--db-pool-size=0", NULL };
    char *a4[] = { "sovd", "--role=api,janitor", NULL };
    char *a5[] = { "sovd", "--log-level=loud", NULL };
    char *a6[] = { "sovd", "--cors-origins=https://ok.eu,not an origin", NULL };
    char *a7[] = { "sovd", "--port=80x", NULL };
    char *a8[] = { "sovd", "--listen-address=", NULL };
    char *e1[] = { "SOV_SHUTDOWN_TIMEOUT=soon", NULL };
    char *o1[] = { "sovd", "--ovn-nb=/run/ovn/ovnnb_db.sock", NULL };
    char *o2[] = { "sovd", "--ovn-nb=tcp:10.0.0.1", NULL };
    char *o3[] = { "sovd", "--ovn-nb=ssl:10.0.0.1:6641", NULL };
    char *o4[] = { "sovd", "--ovn-nb=tcp:10.0.0.1:66410", NULL };

    refused(a1, envp, "port", "flag --port");
    refused(a2, envp, "port", "port");
    refused(a3, envp, "db_pool_size", "db_pool_size");
    refused(a4, envp, "role", "janitor");
    refused(a5, envp, "log_level", "loud");
    refused(a6, envp, "cors_origins", "cors_origins");
    refused(a7, envp, "port", "80x");
    refused(a8, envp, "listen_address", "must not be empty");
    char *a0[] = { "sovd", NULL };
    refused(a0, e1, "shutdown_timeout", "environment SOV_SHUTDOWN_TIMEOUT");
    /* OVN's Northbound remote takes ovn-nbctl's forms that the client speaks. */
    refused(o1, envp, "ovn_nb", "unix:PATH or tcp:HOST:PORT");
    refused(o2, envp, "ovn_nb", "tcp:10.0.0.1");
    refused(o3, envp, "ovn_nb", "ssl:");
    refused(o4, envp, "ovn_nb", "66410");
}
END_TEST

START_TEST(unknown_keys_and_flags_are_refused)
{
    char *envp[] = { NULL };
    char *path = write_config("port = 1\nportt = 2\n");
    char *a1[] = { "sovd", "--config", path, NULL };
    char *a2[] = { "sovd", "--frobnicate=1", NULL };
    char *a3[] = { "sovd", "stray", NULL };
    char *a4[] = { "sovd", "--port", NULL };

    refused(a1, envp, "portt", "line 2");
    refused(a2, envp, "frobnicate", "unknown flag");
    refused(a3, envp, "argv", "stray");
    refused(a4, envp, "port", "needs a value");
    free(path);
}
END_TEST

START_TEST(tls_needs_both_files)
{
    char *envp[] = { NULL };
    char *path = write_config("x");
    char *a1[] = { "sovd", "--tls-cert", path, NULL };
    char *a2[] = { "sovd", "--tls-cert", path, "--tls-key", "/nonexistent/key.pem", NULL };

    refused(a1, envp, "tls_key", "set together");
    refused(a2, envp, "tls_key", "/nonexistent/key.pem");
    free(path);
}
END_TEST

START_TEST(missing_config_file_is_refused)
{
    char *envp[] = { NULL };
    char *a1[] = { "sovd", "--config=/nonexistent/sovd.conf", NULL };

    refused(a1, envp, "config", "/nonexistent/sovd.conf");
}
END_TEST

START_TEST(help_documents_every_key)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    sov_config cfg;
    sov_error err = SOV_ERROR_INIT;
    char *argv[] = { "sovd", "--help", NULL };
    char *envp[] = { NULL };
    static const char *const keys[][2] = {
        { "--listen-address", "SOV_LISTEN_ADDRESS" }, { "--port", "SOV_PORT" },
        { "--state-dir", "SOV_STATE_DIR" }, { "--database-url", "SOV_DATABASE_URL" },
        { "--db-pool-size", "SOV_DB_POOL_SIZE" }, { "--http-threads", "SOV_HTTP_THREADS" },
        { "--max-body-bytes", "SOV_MAX_BODY_BYTES" }, { "--role", "SOV_ROLE" },
        { "--shutdown-timeout", "SOV_SHUTDOWN_TIMEOUT" }, { "--log-level", "SOV_LOG_LEVEL" },
        { "--tls-cert", "SOV_TLS_CERT" }, { "--tls-key", "SOV_TLS_KEY" },
        { "--cors-origins", "SOV_CORS_ORIGINS" }, { "--config", "--version" },
    };

    ck_assert_int_eq(sov_config_load(&cfg, 2, argv, envp, out, &err), 1);
    fclose(out);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        ck_assert_msg(strstr(buf, keys[i][0]), "--help lacks %s", keys[i][0]);
        ck_assert_msg(strstr(buf, keys[i][1]), "--help lacks %s", keys[i][1]);
    }
    free(buf);
}
END_TEST

START_TEST(cors_origins_match_exactly)
{
    sov_config cfg;
    sov_error err = SOV_ERROR_INIT;
    char *argv[] = { "sovd", "--cors-origins=https://console.example.eu,http://localhost:5173",
                     NULL };
    char *envp[] = { NULL };

    ck_assert_int_eq(load(&cfg, argv, envp, &err), 0);
    ck_assert(sov_config_cors_allows(&cfg, "https://console.example.eu"));
    ck_assert(sov_config_cors_allows(&cfg, "http://localhost:5173"));
    ck_assert(!sov_config_cors_allows(&cfg, "https://console.example.eu.evil.com"));
    ck_assert(!sov_config_cors_allows(&cfg, "https://console.example"));
    ck_assert(!sov_config_cors_allows(&cfg, NULL));
    sov_config_release(&cfg);

    char *none[] = { "sovd", NULL };
    ck_assert_int_eq(load(&cfg, none, envp, &err), 0);
    ck_assert(!sov_config_cors_allows(&cfg, "https://console.example.eu"));
    sov_config_release(&cfg);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("core/config");
    TCase *tc = tcase_create("config");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, defaults_are_the_embedded_setup);
    tcase_add_test(tc, file_then_environment_then_flags);
    tcase_add_test(tc, flags_take_dashes_or_underscores_and_separate_values);
    tcase_add_test(tc, bad_values_are_refused_naming_key_and_source);
    tcase_add_test(tc, unknown_keys_and_flags_are_refused);
    tcase_add_test(tc, tls_needs_both_files);
    tcase_add_test(tc, missing_config_file_is_refused);
    tcase_add_test(tc, help_documents_every_key);
    tcase_add_test(tc, cors_origins_match_exactly);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
