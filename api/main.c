/* main.c: sovd. Reads its configuration, migrates the database, serves the API until
 * SIGTERM or SIGINT, then drains in-flight requests and closes the pool. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sov/api.h"
#include "sov/compute.h"
#include "sov/identity.h"
#include "sov/log.h"
#include "sov/network.h"
#include "sov/migrate.h"
#include "sov/registry.h"
#include "sov/residency.h"
#include "sov/storage.h"

/* Every module's registration (include/sov/registry.h): its drivers, operation kinds and
 * quota kinds. Adding a module adds its line here and edits no other module. */
static const sov_module_register sov_modules[] = {
    sov_compute_register,
    sov_image_register,
    sov_residency_register,
    sov_storage_register,
    sov_network_register,
};

static int
make_dirs(const char *path)
{
    char tmp[4096];

    if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int) sizeof(tmp))
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Wait for PostgreSQL (it may still be starting) and apply migrations. A stop signal
 * during the wait ends it. Returns 0, or -1 with err set; *stopped on a signal. */
static int
migrate_at_start(sov_db *db, const sov_config *cfg, const sigset_t *stop, bool *stopped,
                 sov_error *err)
{
    struct timespec start, now, pause = { 1, 0 };

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (unsigned attempt = 1;; attempt++) {
        sov_autoptr(sov_dbconn) c = NULL;
        unsigned applied = 0;

        sov_error_clear(err);
        if (sov_db_acquire(db, &c, err) == 0 &&
            sov_migrate(c, sov_migrations, sov_migrations_count, &applied, err) == 0) {
            sov_log_kv kv[] = { SOV_KV_I("applied", applied),
                                SOV_KV_I("known", sov_migrations_count) };
            sov_log_kv_write(SOV_LOG_INFO, "database schema up to date", kv, 2);
            return 0;
        }
        if (err->code != SOV_E_UNAVAILABLE)
            return -1;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= (time_t) cfg->startup_timeout)
            return -1;
        if (attempt == 1 || attempt % 10 == 0)
            sov_log_warn("waiting for PostgreSQL: %s", err->detail[0] ? err->detail : err->msg);
        if (sigtimedwait(stop, NULL, &pause) > 0) {
            *stopped = true;
            return -1;
        }
    }
}

int
main(int argc, char **argv, char **envp)
{
    sov_config cfg;
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_db) db = NULL;
    sov_server *server = NULL;
    sigset_t stop;
    bool stopped = false;
    int sig = 0, rc;

    rc = sov_config_load(&cfg, argc, argv, envp, stdout, &err);
    if (rc == 1)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "sovd: %s\n", err.msg);
        return 2;
    }
    sov_log_set_level((sov_log_level) cfg.log_level);

    /* Block the stop signals in every thread (libmicrohttpd's and libpq's inherit this
     * mask); main alone takes them, with sigwait. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (make_dirs(cfg.state_dir) < 0) {
        sov_log_error("could not create state_dir '%s': %s", cfg.state_dir, strerror(errno));
        sov_config_release(&cfg);
        return 1;
    }

    for (size_t i = 0; i < SOV_N_ELEMENTS(sov_modules); i++)
        if (sov_modules[i](&err) < 0) {
            sov_log_error("could not register the modules: %s", err.msg);
            sov_config_release(&cfg);
            return 1;
        }

    sov_db_options dbo = { .url = cfg.database_url, .pool_size = cfg.db_pool_size,
                           .connect_timeout = cfg.db_connect_timeout,
                           .acquire_timeout_ms = cfg.db_acquire_timeout_ms,
                           .statement_timeout_ms = cfg.db_statement_timeout_ms };
    sov_app app = { .cfg = &cfg };
    /* Migrations run as the connecting user (they own the schema); everything after, as
     * the application role they grant. */
    {
        sov_autoptr(sov_db) owner = NULL;
        sov_db_options mo = dbo;
        mo.pool_size = 1;
        if (sov_db_new(&mo, &owner, &err) < 0 ||
            migrate_at_start(owner, &cfg, &stop, &stopped, &err) < 0) {
            if (!stopped)
                sov_log_error("could not start: %s%s%s", err.msg, err.detail[0] ? ": " : "",
                              err.detail);
            sov_config_release(&cfg);
            return stopped ? 0 : 1;
        }
    }
    dbo.role = cfg.db_role;
    if (sov_db_new(&dbo, &db, &err) < 0) {
        sov_log_error("could not start: %s", err.msg);
        sov_config_release(&cfg);
        return 1;
    }
    app.db = db;
    /* The key residency reports are signed with: this state folder's newest, or a new one. */
    if (sov_signing_init(db, cfg.state_dir, &err) < 0) {
        sov_log_error("could not load or create the report signing key: %s%s%s", err.msg,
                      err.detail[0] ? ": " : "", err.detail);
        sov_config_release(&cfg);
        return 1;
    }

    /* First start on an empty database: the operator tenant, user and token. */
    {
        sov_ctx sys = { .db = db, .cfg = &cfg, .request_id = "", .action = "bootstrap" };
        bool created = false;
        char path[4096];
        snprintf(path, sizeof(path), "%s/operator.token", cfg.state_dir);
        if (sov_identity_bootstrap(&sys, cfg.state_dir, &created, &err) < 0) {
            sov_log_error("could not bootstrap the operator: %s%s%s", err.msg,
                          err.detail[0] ? ": " : "", err.detail);
            sov_config_release(&cfg);
            return 1;
        }
        if (created) {
            sov_log_kv kv[] = { SOV_KV_S("token_file", path) };
            sov_log_kv_write(SOV_LOG_INFO, "created the operator tenant, user and token", kv,
                             1);
        }
        /* A fresh cloud offers one volume type (a storage SKU): the default one. */
        sys.action = "volume_types.seed";
        if (cfg.seed_volume_type && sov_volume_type_seed(&sys, &created, &err) < 0) {
            sov_log_error("could not make the default volume type '%s': %s%s%s",
                          cfg.default_volume_type, err.msg, err.detail[0] ? ": " : "",
                          err.detail);
            sov_config_release(&cfg);
            return 1;
        }
        if (cfg.seed_volume_type && created)
            sov_log_info("created the default volume type '%s'", cfg.default_volume_type);
    }

    /* A fresh cloud offers instance SKUs: a small set of flavors when none exists. */
    if (cfg.seed_flavors) {
        sov_ctx sys = { .db = db, .cfg = &cfg, .request_id = "", .action = "flavors.seed" };
        bool created = false;
        if (sov_flavor_seed(&sys, &created, &err) < 0) {
            sov_log_error("could not make the seed flavors: %s%s%s", err.msg,
                          err.detail[0] ? ": " : "", err.detail);
            sov_config_release(&cfg);
            return 1;
        }
        if (created)
            sov_log_info("created the seed flavors (seca-d2xs, seca-dxs, seca-ds, seca-dm)");
    }

    if (cfg.roles & SOV_PROC_API) {
        if (sov_auth_new(db, cfg.database_url, cfg.token_cache_ttl, &app.auth, &err) < 0) {
            sov_log_error("could not start authentication: %s", err.msg);
            sov_config_release(&cfg);
            return 1;
        }
        size_t nroutes = 0;
        const sov_route *routes = sov_served_routes(&nroutes);
        if (!routes || sov_server_start(&cfg, routes, nroutes, &app, &server, &err) < 0) {
            sov_log_error("could not start the API: %s", err.msg);
            sov_config_release(&cfg);
            return 1;
        }
        sov_log_kv kv[] = { SOV_KV_S("address", cfg.listen_address),
                            SOV_KV_I("port", sov_server_port(server)),
                            SOV_KV_S("scheme", cfg.tls_cert[0] ? "https" : "http"),
                            SOV_KV_I("threads", cfg.http_threads) };
        sov_log_kv_write(SOV_LOG_INFO, "listening", kv, SOV_N_ELEMENTS(kv));
    }
    sov_workers *workers = NULL;
    if ((cfg.roles & SOV_PROC_WORKER) &&
        sov_workers_start(db, &cfg, sov_registry_op_kinds(), cfg.worker_threads, &workers,
                          &err) < 0) {
        sov_log_error("could not start the workers: %s", err.msg);
        sov_server_shutdown(server, 0);
        sov_auth_free(app.auth);
        sov_config_release(&cfg);
        return 1;
    }
    sov_reconciler *rec = NULL;
    if ((cfg.roles & SOV_PROC_RECONCILER) && sov_reconciler_start(db, &cfg, &rec, &err) < 0) {
        sov_log_error("could not start the reconciler: %s", err.msg);
        sov_server_shutdown(server, 0);
        sov_auth_free(app.auth);
        sov_config_release(&cfg);
        return 1;
    }
    {
        sov_log_kv kv[] = { SOV_KV_S("version", SOV_VERSION),
                            SOV_KV_S("api", cfg.roles & SOV_PROC_API ? "on" : "off"),
                            SOV_KV_S("worker", cfg.roles & SOV_PROC_WORKER ? "on" : "off"),
                            SOV_KV_S("reconciler",
                                     cfg.roles & SOV_PROC_RECONCILER ? "on" : "off") };
        sov_log_kv_write(SOV_LOG_INFO, "sovd started", kv, SOV_N_ELEMENTS(kv));
    }

    sigwait(&stop, &sig);
    sov_log_info("received %s, shutting down (in-flight requests get %u s)",
                 sig == SIGINT ? "SIGINT" : "SIGTERM", cfg.shutdown_timeout);
    if (server) {
        unsigned left = sov_server_shutdown(server, cfg.shutdown_timeout);
        if (left > 0)
            sov_log_warn("%u requests were still running at shutdown_timeout", left);
    }
    /* Before the pool goes: the reconciler's and the workers' threads use it. A handler
     * still running at shutdown_timeout is left to its lease: another worker takes it over,
     * and the pool stays for it until the process ends. */
    sov_reconciler_stop(rec);
    bool workers_left = sov_workers_stop(workers, cfg.shutdown_timeout) > 0;
    sov_auth_free(app.auth);
    if (workers_left)
        (void) SOV_TAKE_PTR(db);
    else
        sov_db_free(SOV_TAKE_PTR(db));
    sov_signing_release();
    sov_log_info("stopped");
    sov_config_release(&cfg);
    return 0;
}
