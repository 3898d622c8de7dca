/* system.c: the routes that need no token: health, readiness, metrics and the contract. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sov/api.h"
#include "sov/buf.h"
#include "sov/migrate.h"
#include "sov/network.h"
#include "handlers.h"

/* GET /healthz: the process is alive and answering; says nothing about its dependencies. */
enum MHD_Result
sov_handle_healthz(sov_request *req)
{
    sov_autoptr(json_t) body = json_pack("{s:s}", "status", "ok");
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /readyz: PostgreSQL reachable and the schema fully migrated, and OVN's Northbound
 * database answering when one is configured (ovn_nb); 503 otherwise, so a load balancer
 * sends nothing here until it is. The OVN probe is bounded (SOV_NETWORK_READY_TIMEOUT_MS). */
enum MHD_Result
sov_handle_readyz(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(json_t) body = NULL;
    sov_ovn_state ovn = SOV_OVN_NOT_CONFIGURED;
    long applied = 0;

    if (sov_migrate_ready(req->app->db, &applied, &err) < 0)
        return sov_api_reply_problem(req, &err);
    if (sov_network_ready(req->app->cfg, &ovn, &err) < 0)
        return sov_api_reply_problem(req, &err);
    body = json_pack("{s:s, s:i, s:s}", "status", "ready", "migrations", (int) applied, "ovn",
                     sov_ovn_state_name(ovn));
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

static void
process_metrics(sov_buf *b)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    sov_buf_printf(b, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                      "# TYPE process_resident_memory_bytes gauge\n"
                      "process_resident_memory_bytes %ld\n",
                   resident * sysconf(_SC_PAGESIZE));
}

/* GET /metrics: Prometheus text exposition format 0.0.4. */
enum MHD_Result
sov_handle_metrics(sov_request *req)
{
    sov_buf b = SOV_BUF_INIT;
    sov_db_stats st;
    enum MHD_Result r;

    sov_server_metrics(req->server, &b);
    sov_db_get_stats(req->app->db, &st);
    sov_buf_printf(&b,
                   "# HELP sov_db_pool_connections PostgreSQL pool connections by state.\n"
                   "# TYPE sov_db_pool_connections gauge\n"
                   "sov_db_pool_connections{state=\"in_use\"} %u\n"
                   "sov_db_pool_connections{state=\"idle\"} %u\n"
                   "# HELP sov_db_pool_size Configured PostgreSQL pool size.\n"
                   "# TYPE sov_db_pool_size gauge\n"
                   "sov_db_pool_size %u\n"
                   "# HELP sov_db_pool_waits_total Acquisitions that had to wait.\n"
                   "# TYPE sov_db_pool_waits_total counter\n"
                   "sov_db_pool_waits_total %llu\n"
                   "# HELP sov_db_pool_timeouts_total Acquisitions that gave up (503).\n"
                   "# TYPE sov_db_pool_timeouts_total counter\n"
                   "sov_db_pool_timeouts_total %llu\n"
                   "# HELP sov_db_connects_total PostgreSQL connections opened or reopened.\n"
                   "# TYPE sov_db_connects_total counter\n"
                   "sov_db_connects_total %llu\n"
                   "# HELP sov_db_connect_failures_total Failed PostgreSQL connection "
                   "attempts.\n# TYPE sov_db_connect_failures_total counter\n"
                   "sov_db_connect_failures_total %llu\n",
                   st.in_use, st.idle, st.size, st.waits, st.timeouts, st.reconnects,
                   st.failures);
    process_metrics(&b);
    if (b.oom) {
        sov_buf_release(&b);
        sov_error err = SOV_ERROR_INIT;
        sov_error_set(&err, SOV_E_UNAVAILABLE, "out of memory");
        return sov_api_reply_problem(req, &err);
    }
    r = sov_api_reply_bytes(req, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                            b.data ? b.data : "", b.len);
    sov_buf_release(&b);
    return r;
}

/* GET /v1/openapi.json: the contract, compiled in from api/openapi.json. */
enum MHD_Result
sov_handle_openapi(sov_request *req)
{
    return sov_api_reply_bytes(req, MHD_HTTP_OK, "application/json", sov_openapi_json,
                               sov_openapi_json_len);
}
