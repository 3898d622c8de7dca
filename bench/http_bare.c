/* http_bare: the ceiling of the HTTP layer on this machine. A libmicrohttpd server that
 * answers every request with one fixed JSON body the size of an instance's, in the mode sovd
 * runs (api/server.c: internal polling thread, poll(), a thread pool of the core count) and
 * under the same keep-alive rule: the reply is queued on the second call of a request, never
 * the first, or libmicrohttpd 0.9.75 closes the connection. No router, no authentication, no
 * database, no log: what is left is what libmicrohttpd and the kernel cost per request, the
 * figure scripts/bench sets sovd's GET /v1/instances/{id} against.
 *
 *     bench/http_bare [--port N] [--threads N]
 *
 * Listens on 127.0.0.1 (port 0, the default, lets the kernel pick), prints "port N" on a line
 * of its own once it serves, and runs until SIGINT or SIGTERM. --threads defaults to the
 * number of cores, as sovd's http_threads does. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <microhttpd.h>

/* An instance as GET /v1/instances/{id} renders it (api/instances.c), 970 bytes: the bytes
 * on the wire matter, not what they say. */
static const char BODY[] =
    "{\"id\":\"e46945b1-cc97-48d7-89b7-17ee958cf17a\",\"tenant_id\":\"86dfc226-1750-4637-8b"
    "f4-919751eed9ad\",\"workspace\":\"default\",\"name\":\"read-00001\",\"flavor_id\":\"5e"
    "0b84c1-3ce7-40ee-9a75-a4fea34f10a3\",\"image_id\":\"7aa90d90-c4a2-4834-b54c-e5b70c0d95"
    "b8\",\"vcpus\":1,\"memory_mib\":512,\"disk_gib\":2,\"gpus\":0,\"region\":\"fr-bench-1\""
    ",\"zone\":\"b\",\"state\":\"running\",\"state_reason\":\"\",\"mac\":\"52:54:00:17:15:f"
    "9\",\"addresses\":[\"10.231.0.3\"],\"host\":{\"id\":\"efb70ed2-f2c7-4adf-8ed6-1d173f7b"
    "72cf\",\"name\":\"bench-h-00001\"},\"anti_affinity_group\":null,\"placement\":{\"host\""
    ":\"bench-h-00001\",\"region\":\"fr-bench-1\",\"zone\":\"b\",\"considered\":1000,\"reje"
    "cted\":{\"policy\":0,\"state\":0,\"zone\":0,\"gpu\":0,\"capacity\":0,\"affinity\":0},\""
    "strategy\":\"spread\"},\"residency\":{\"region\":\"fr-bench-1\",\"country\":\"FR\",\"j"
    "urisdiction\":\"EU\",\"datacenter\":\"BENCH\",\"host\":\"bench-h-00001\",\"since\":\"2"
    "026-11-23T01:20:22Z\"},\"operation_id\":\"642ac75c-35dc-4c53-8bce-de761b179ce5\",\"cre"
    "ated_at\":\"2026-11-23T01:20:22Z\",\"updated_at\":\"2026-11-23T01:20:22Z\"}";

/* A marker for "seen once": the address matters, not the value. */
static int seen;

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
    (void) sig;
    stop = 1;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size,
           void **con_cls)
{
    struct MHD_Response *resp;
    enum MHD_Result r;

    (void) cls;
    (void) url;
    (void) method;
    (void) version;
    (void) upload_data;
    /* First call (headers in): remember the request and answer on the next one, or the
     * connection is not kept alive. A body, if any, is read and dropped. */
    if (!*con_cls) {
        *con_cls = &seen;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    resp = MHD_create_response_from_buffer(sizeof(BODY) - 1, (void *) BODY,
                                           MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    /* The headers every sovd reply carries (one fixed request id: nothing is generated). */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, "X-Request-Id", "7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    r = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return r;
}

/* A whole number from min to max, or exit with usage. */
static unsigned
parse_uint(const char *flag, const char *s, unsigned long min, unsigned long max)
{
    char *end = NULL;
    unsigned long n = strtoul(s, &end, 10);

    if (!*s || *end || n < min || n > max) {
        fprintf(stderr, "bench/http_bare: %s takes %lu to %lu\n", flag, min, max);
        exit(2);
    }
    return (unsigned) n;
}

int
main(int argc, char **argv)
{
    struct sockaddr_in addr = { .sin_family = AF_INET,
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned port = 0, threads = cores > 0 ? (unsigned) cores : 1;
    const union MHD_DaemonInfo *info;
    struct MHD_Daemon *d;
    struct sigaction sa;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = parse_uint("--port", argv[++i], 0, 65535);
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            threads = parse_uint("--threads", argv[++i], 1, 1024);
        } else {
            fprintf(stderr, "usage: %s [--port N] [--threads N]\n", argv[0]);
            return 2;
        }
    }
    addr.sin_port = htons((uint16_t) port);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* sovd's flags and options (api/server.c), less what serves nothing here. */
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC |
                             MHD_USE_ERROR_LOG,
                         0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, &addr,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 60,
                         MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bench/http_bare: could not listen on 127.0.0.1 port %u\n", port);
        return 1;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("port %u\n", info ? info->port : port);
    fflush(stdout);
    while (!stop)
        pause();
    MHD_stop_daemon(d);
    return 0;
}
