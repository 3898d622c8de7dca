/* network: tenant networks through sovd's API against OVN, next to OVN's own tools in the
 * same run.
 *
 *     bench/network --url URL --token-file FILE --nb REMOTE --sb REMOTE --vswitch REMOTE
 *                   --bridge BR [--ports N] [--networks N] [--quick]
 *
 * URL is a sovd with the api and worker roles told of the OVN whose Northbound and
 * Southbound are REMOTE (unix:PATH); FILE holds its operator token; --vswitch is the
 * conf.db of a chassis of that OVN (unix:DIR/db.sock) whose integration bridge is BR. Through
 * the API it makes a region, a tenant with a member and room in its quotas. Then:
 *
 *   (a) port created to up: N ports (20; 5 with --quick, after one warm-up) one at a time on
 *       one subnet: POST /v1/ports, and as soon as the 202 is in, the port is plugged into
 *       BR as libvirt plugs a guest's tap (an OVS internal interface with
 *       external_ids:iface-id=<port id>, one ovs-vsctl); timed from the POST until the
 *       Southbound's Port_Binding of the port says up (ovn-controller bound it on the chassis
 *       and OVN saw it installed), polled every 2 ms on one OVSDB connection. Also when the
 *       operation succeeded (sovd wrote the Northbound) and, for the record, when the API's
 *       own `up` of the port turned true (sovd's Southbound view), if it did within 2 s of
 *       the binding (a port plugged into no instance may never say so: none is waiting).
 *   (b) programming rate: M networks (1,000; 50 with --quick) each with a subnet and 4 ports
 *       through the API, every request answered 202, then until every operation of the tenant
 *       succeeded (GET /v1/operations?state=queued|running empty, none failed); next to the
 *       same objects (a logical switch per network with DHCP options for its subnet, 4
 *       logical switch ports with addresses, port security and the DHCP options, the
 *       external_ids sovd writes) written by one `ovn-nbctl` process with every command
 *       joined by `--`, in the same run into the same Northbound. The ratio API / ovn-nbctl.
 *
 * Prints each figure, and last one line of JSON for scripts/bench. Exits 1 when it could not
 * measure. What it makes stays in sovd's database and OVN (scripts/bench throws both away);
 * the interfaces it added to BR are removed before it returns, however it ends. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "client.h"

#include "ovsdb.h"

#define REGION "bench-net-1"
#define MAX_PORTS 1000
#define POLL_MS 2
#define OP_TIMEOUT_S 600
#define UP_TIMEOUT_S 60
#define API_UP_WAIT_MS 2000

typedef struct options {
    const char *url, *token_file, *nb, *sb, *vswitch, *bridge;
    unsigned ports, networks;
} options;

static const options *opt;
static CURL *curl;
static char op_token[128], member[128], tenant[64];
static sov_ovsdb *sb;
/* The interfaces this program added to the bridge: removed at exit. */
static char (*ifaces)[16];
static unsigned nifaces;

/* ---- processes ---- */

/* Run argv quietly (standard output to /dev/null, standard error to ours); its exit status,
 * or -1. */
static int
run(char *const argv[])
{
    int status;
    pid_t pid = fork();

    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        struct rlimit st;
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        /* The kernel takes a quarter of the stack limit for the arguments: one ovn-nbctl with
         * the commands of 1,000 networks needs more than the usual 8 MiB stack gives. */
        if (getrlimit(RLIMIT_STACK, &st) == 0 && st.rlim_cur != RLIM_INFINITY &&
            st.rlim_cur < 256UL << 20) {
            st.rlim_cur = st.rlim_max == RLIM_INFINITY || st.rlim_max > 256UL << 20
                              ? 256UL << 20 : st.rlim_max;
            setrlimit(RLIMIT_STACK, &st);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
remove_ifaces(void)
{
    char db[256];
    char **argv;
    size_t k = 0;

    if (!nifaces)
        return;
    argv = calloc(3 + 4 * (size_t) nifaces, sizeof(*argv));
    if (!argv)
        return;
    snprintf(db, sizeof(db), "--db=%s", opt->vswitch);
    argv[k++] = "ovs-vsctl";
    argv[k++] = db;
    for (unsigned i = 0; i < nifaces; i++) {
        if (i)
            argv[k++] = "--";
        argv[k++] = "--if-exists";
        argv[k++] = "del-port";
        argv[k++] = ifaces[i];
    }
    if (run(argv) != 0)
        fprintf(stderr, "bench/network: could not remove its interfaces from %s\n",
                opt->bridge);
    free(argv);
    nifaces = 0;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Say what could not be measured, remove the interfaces, and exit 1. */
static void
die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "bench/network: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    remove_ifaces();
    exit(1);
}

/* ---- HTTP (as bench/create) ---- */

/* method path with token and body (JSON or NULL); the status, the parsed answer in *ret
 * (NULL when not JSON). One handle: the connection is kept alive. Refusals are printed
 * unless quiet. */
static long
call(const char *method, const char *path, const char *token, const char *body, json_t **ret,
     bool quiet)
{
    char *text = NULL;
    long status = bench_call(curl, opt->url, method, path, token, body, ret, &text);

    if (!quiet && (status == 0 || status >= 400))
        fprintf(stderr, "bench/network: %s %s: %ld %s\n", method, path, status,
                text ? text : "");
    free(text);
    return status;
}

/* The call must answer want: its JSON answer (never NULL), or exit. */
static json_t *
call_ok(const char *method, const char *path, const char *token, const char *body, long want)
{
    json_t *j = NULL;
    long got = call(method, path, token, body, &j, false);

    if (got != want || !j)
        die("%s %s answered %ld, not %ld", method, path, got, want);
    return j;
}

static const char *
str(const json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    return s ? s : "";
}

/* The operation's state, as the member sees it. */
static const char *
op_state(const char *id, json_t **hold)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/operations/%s", id);
    *hold = call_ok("GET", path, member, NULL, 200);
    return str(*hold, "state");
}

/* Poll the operation every POLL_MS until it succeeded; exits if it failed or took too long. */
static void
wait_op(const char *id)
{
    double until = bench_ms() + OP_TIMEOUT_S * 1e3;

    for (;;) {
        json_t *o;
        const char *state = op_state(id, &o);

        if (strcmp(state, "succeeded") == 0) {
            json_decref(o);
            return;
        }
        if (strcmp(state, "failed") == 0 || bench_ms() > until) {
            char *text = json_dumps(o, JSON_COMPACT);
            die("operation %s did not succeed: %s", id, text ? text : "");
        }
        json_decref(o);
        bench_sleep_ms(POLL_MS);
    }
}

/* POST path body as the member: 202; the new resource's id (from answer[kind]) into id, and
 * its operation's into op_id. */
static void
create(const char *path, const char *kind, const char *body, char id[64], char op_id[64])
{
    json_t *j = call_ok("POST", path, member, body, 202);

    snprintf(id, 64, "%s", str(json_object_get(j, kind), "id"));
    snprintf(op_id, 64, "%s", str(json_object_get(j, "operation"), "id"));
    if (!id[0] || !op_id[0])
        die("POST %s answered no %s id or operation id", path, kind);
    json_decref(j);
}

/* Whether the member has an operation in this state (one item of the list is enough). */
static bool
any_op(const char *state)
{
    char path[128];
    json_t *j;
    bool any;

    snprintf(path, sizeof(path), "/v1/operations?state=%s&limit=1", state);
    j = call_ok("GET", path, member, NULL, 200);
    any = json_array_size(json_object_get(j, "items")) > 0;
    json_decref(j);
    return any;
}

/* ---- the world ---- */

static void
read_token(const char *path)
{
    if (!bench_read_line(path, op_token, sizeof(op_token)))
        die("cannot read the operator token from %s", path);
}

static void
make_world(void)
{
    char body[512], path[256];
    unsigned ports = opt->ports + 1 + 4 * opt->networks + 8;

    json_decref(call_ok("POST", "/v1/regions", op_token,
                        "{\"code\":\"" REGION "\",\"name\":\"Bench networks\",\"country\":\"FR\","
                        "\"datacenter\":\"bench\",\"zones\":[\"a\"]}", 201));
    bench_member(call_ok, op_token, "bench-net", "bench@net.bench.example.eu", tenant, member);
    snprintf(path, sizeof(path), "/v1/tenants/%s/quotas", tenant);
    snprintf(body, sizeof(body), "{\"networks\":%u,\"subnets\":%u,\"ports\":%u}",
             opt->networks + 2, opt->networks + 2, ports);
    json_decref(call_ok("PUT", path, op_token, body, 200));
}

/* ---- (a) port created to up ---- */

/* Whether the Southbound's Port_Binding of logical port name says up. */
static bool
sb_up(const char *name)
{
    sov_error err = SOV_ERROR_INIT;
    json_t *ops = json_pack("[o]", sov_ovsdb_op_select(
        "Port_Binding", json_pack("[o]", sov_ovsdb_cond("logical_port", "==",
                                                          json_string(name))),
        json_pack("[s]", "up")));
    json_t *res = NULL, *rows, *up;
    bool is_up = false;

    if (sov_ovsdb_transact(sb, "OVN_Southbound", ops, &res, &err) < 0)
        die("Southbound select: %s (%s)", err.msg, err.detail);
    rows = sov_ovsdb_result_rows(res, 0);
    up = json_object_get(json_array_get(rows, 0), "up");
    /* An optional boolean: true, or ["set", [true]]. */
    if (json_is_array(up))
        up = json_array_get(json_array_get(up, 1), 0);
    is_up = json_is_true(up);
    json_decref(res);
    return is_up;
}

typedef struct port_round {
    double up, op, api_up;      /* ms from the POST; api_up < 0: not said within 2 s */
} port_round;

static void
port_round_run(unsigned k, port_round *r)
{
    char body[256], id[64], op_id[64], db[256], iface[16], path[128], extid[96];
    char *argv[] = { "ovs-vsctl", db, "add-port", (char *) opt->bridge, iface, "--", "set",
                     "interface", iface, "type=internal", extid, NULL };
    double t0, until;
    bool op_done = false;

    snprintf(db, sizeof(db), "--db=%s", opt->vswitch);
    snprintf(iface, sizeof(iface), "bp%x-%u", (unsigned) getpid() & 0xffffu, k);
    snprintf(body, sizeof(body), "{\"name\":\"bench-port-%u\",\"subnet\":\"bench-a\"}", k);
    r->op = r->api_up = -1;
    t0 = bench_ms();
    create("/v1/ports", "port", body, id, op_id);
    snprintf(extid, sizeof(extid), "external_ids:iface-id=%s", id);
    if (run(argv) != 0)
        die("ovs-vsctl add-port %s %s failed", opt->bridge, iface);
    snprintf(ifaces[nifaces++], sizeof(ifaces[0]), "%s", iface);
    until = t0 + UP_TIMEOUT_S * 1e3;
    while (!sb_up(id)) {
        if (bench_ms() > until)
            die("port %s was not up in the Southbound %d s after its POST", id, UP_TIMEOUT_S);
        bench_sleep_ms(POLL_MS);
    }
    r->up = bench_ms() - t0;
    /* When sovd had written it (the operation's own timestamps would do too; this is the
     * client's view), and when the API says up, if within API_UP_WAIT_MS of the binding. */
    snprintf(path, sizeof(path), "/v1/ports/%s", id);
    until = bench_ms() + API_UP_WAIT_MS;
    while (bench_ms() < until && (!op_done || r->api_up < 0)) {
        json_t *o, *p;
        if (!op_done) {
            const char *state = op_state(op_id, &o);
            if (strcmp(state, "succeeded") == 0) {
                op_done = true;
                r->op = bench_ms() - t0;
            } else if (strcmp(state, "failed") == 0) {
                die("port %s: its operation %s failed", id, op_id);
            }
            json_decref(o);
        }
        if (r->api_up < 0) {
            p = call_ok("GET", path, member, NULL, 200);
            if (json_is_true(json_object_get(json_object_get(p, "port") ? json_object_get(p,
                                             "port") : p, "up")))
                r->api_up = bench_ms() - t0;
            json_decref(p);
        }
        bench_sleep_ms(POLL_MS);
    }
    if (!op_done) {
        wait_op(op_id);
        r->op = bench_ms() - t0;
    }
}

/* ---- (b) programming rate ---- */

/* M networks, a subnet and 4 ports each, through the API: ms from the first POST until no
 * operation is queued or running; none may have failed. */
static double
api_programming(unsigned m)
{
    char body[256], id[64], op_id[64];
    double t0, until;
    long status;

    t0 = bench_ms();
    for (unsigned i = 0; i < m; i++) {
        snprintf(body, sizeof(body), "{\"name\":\"bench-b%u\",\"cidr\":\"10.90.0.0/24\","
                 "\"region\":\"" REGION "\"}", i);
        create("/v1/networks", "network", body, id, op_id);
    }
    for (unsigned i = 0; i < m; i++) {
        snprintf(body, sizeof(body), "{\"name\":\"bench-b%u\",\"network\":\"bench-b%u\","
                 "\"cidr\":\"10.90.0.0/24\"}", i, i);
        create("/v1/subnets", "subnet", body, id, op_id);
    }
    for (unsigned i = 0; i < m; i++)
        for (unsigned p = 0; p < 4; p++) {
            json_t *j = NULL;
            snprintf(body, sizeof(body), "{\"name\":\"bench-b%u-p%u\",\"subnet\":\"bench-b%u\"}",
                     i, p, i);
            status = call("POST", "/v1/ports", member, body, &j, false);
            json_decref(j);
            if (status != 202)
                die("POST /v1/ports answered %ld, not 202", status);
        }
    until = bench_ms() + OP_TIMEOUT_S * 1e3;
    while (any_op("queued") || any_op("running")) {
        if (bench_ms() > until)
            die("operations still not done %d s after the first POST", OP_TIMEOUT_S);
        bench_sleep_ms(10);
    }
    if (any_op("failed"))
        die("%s", "an operation failed (GET /v1/operations?state=failed)");
    return bench_ms() - t0;
}

/* The same objects by one ovn-nbctl process, every command joined by "--": ms from its start
 * to its exit. */
static double
nbctl_programming(unsigned m)
{
    size_t cap = 64 + (size_t) m * 100, k = 0;
    char **argv = calloc(cap, sizeof(*argv)), db[256];
    double t0, took;

#define ARG(...) do { if (asprintf(&argv[k++], __VA_ARGS__) < 0) die("out of memory"); } while (0)
    if (!argv)
        die("%s", "out of memory");
    snprintf(db, sizeof(db), "--db=%s", opt->nb);
    argv[k++] = strdup("ovn-nbctl");
    argv[k++] = strdup(db);
    for (unsigned i = 0; i < m; i++) {
        if (i)
            ARG("--");
        ARG("--id=@d%u", i);
        ARG("create");
        ARG("DHCP_Options");
        ARG("cidr=10.90.0.0/24");
        ARG("options={lease_time=\"3600\",router=\"10.90.0.1\",server_id=\"10.90.0.1\","
            "server_mac=\"02:00:00:00:%02x:%02x\"}", (i >> 8) & 0xff, i & 0xff);
        ARG("external_ids={\"sov:kind\"=subnet,\"sov:id\"=nbctl-%u}", i);
        ARG("--");
        ARG("ls-add");
        ARG("nbctl-%u", i);
        ARG("--");
        ARG("set");
        ARG("Logical_Switch");
        ARG("nbctl-%u", i);
        ARG("external_ids={\"sov:kind\"=network,\"sov:id\"=nbctl-%u}", i);
        for (unsigned p = 0; p < 4; p++) {
            char mac[24], ip[24];
            snprintf(mac, sizeof(mac), "02:01:%02x:%02x:00:%02x", (i >> 8) & 0xff, i & 0xff,
                     p);
            snprintf(ip, sizeof(ip), "10.90.0.%u", p + 2);
            ARG("--");
            ARG("lsp-add");
            ARG("nbctl-%u", i);
            ARG("nbctl-%u-p%u", i, p);
            ARG("--");
            ARG("lsp-set-addresses");
            ARG("nbctl-%u-p%u", i, p);
            ARG("%s %s", mac, ip);
            ARG("--");
            ARG("lsp-set-port-security");
            ARG("nbctl-%u-p%u", i, p);
            ARG("%s %s", mac, ip);
            ARG("--");
            ARG("set");
            ARG("Logical_Switch_Port");
            ARG("nbctl-%u-p%u", i, p);
            ARG("dhcpv4_options=@d%u", i);
            ARG("external_ids={\"sov:kind\"=port,\"sov:id\"=nbctl-%u-p%u}", i, p);
        }
        if (k + 100 > cap)
            die("%s", "argument vector too small");
    }
#undef ARG
    t0 = bench_ms();
    if (run(argv) != 0)
        die("%s", "ovn-nbctl of the batch failed");
    took = bench_ms() - t0;
    for (size_t i = 0; i < k; i++)
        free(argv[i]);
    free(argv);
    return took;
}

/* ---- figures ---- */

static void
figures(const double *v, unsigned n, double *p50, double *p95)
{
    if (!bench_figures(v, n, p50, p95))
        die("%s", "out of memory");
}

static void
parse_args(int argc, char **argv, options *o)
{
    bool quick = false;
    int i;

    *o = (options) { .ports = 0, .networks = 0 };
    for (i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(k, "--quick") == 0) {
            quick = true;
            continue;
        }
        if (!v)
            break;
        i++;
        if (strcmp(k, "--url") == 0) {
            o->url = v;
        } else if (strcmp(k, "--token-file") == 0) {
            o->token_file = v;
        } else if (strcmp(k, "--nb") == 0) {
            o->nb = v;
        } else if (strcmp(k, "--sb") == 0) {
            o->sb = v;
        } else if (strcmp(k, "--vswitch") == 0) {
            o->vswitch = v;
        } else if (strcmp(k, "--bridge") == 0) {
            o->bridge = v;
        } else if (strcmp(k, "--ports") == 0 || strcmp(k, "--networks") == 0) {
            char *end = NULL;
            unsigned long n = strtoul(v, &end, 10);
            if (!*v || *end || n < 1 || n > (k[2] == 'p' ? MAX_PORTS : 100000)) {
                fprintf(stderr, "bench/network: %s takes 1 to %d\n", k,
                        k[2] == 'p' ? MAX_PORTS : 100000);
                exit(2);
            }
            *(k[2] == 'p' ? &o->ports : &o->networks) = (unsigned) n;
        } else {
            break;
        }
    }
    if (i < argc || !o->url || !o->token_file || !o->nb || !o->sb || !o->vswitch ||
        !o->bridge) {
        fprintf(stderr, "usage: %s --url URL --token-file FILE --nb REMOTE --sb REMOTE "
                        "--vswitch REMOTE --bridge BR [--ports N] [--networks N] [--quick]\n",
                argv[0]);
        exit(2);
    }
    if (!o->ports)
        o->ports = quick ? 5 : 20;
    if (!o->networks)
        o->networks = quick ? 50 : 1000;
}

int
main(int argc, char **argv)
{
    static options o;
    sov_error err = SOV_ERROR_INIT;
    double *up, *op, *api_up, up50, up95, op50, op95, au50 = -1, au95 = -1, api_ms, nbctl_ms;
    unsigned napi = 0;
    port_round warm;
    char id[64], op_id[64];

    parse_args(argc, argv, &o);
    opt = &o;
    setvbuf(stdout, NULL, _IOLBF, 0);
    up = calloc(o.ports, sizeof(*up));
    op = calloc(o.ports, sizeof(*op));
    api_up = calloc(o.ports, sizeof(*api_up));
    ifaces = calloc(o.ports + 1, sizeof(*ifaces));
    if (!up || !op || !api_up || !ifaces)
        die("%s", "out of memory");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();
    if (!curl)
        die("%s", "cannot start libcurl");
    if (sov_ovsdb_connect(o.sb, 10000, &sb, &err) < 0)
        die("cannot reach the Southbound %s: %s", o.sb, err.msg);
    read_token(o.token_file);
    make_world();

    /* (a) */
    create("/v1/networks", "network", "{\"name\":\"bench-a\",\"cidr\":\"10.80.0.0/16\","
           "\"region\":\"" REGION "\"}", id, op_id);
    wait_op(op_id);
    create("/v1/subnets", "subnet", "{\"name\":\"bench-a\",\"network\":\"bench-a\","
           "\"cidr\":\"10.80.0.0/20\"}", id, op_id);
    wait_op(op_id);
    port_round_run(0, &warm);
    printf("bench/network: port created to up, %u ports after one warm-up (warm-up %.1f ms)\n",
           o.ports, warm.up);
    for (unsigned i = 0; i < o.ports; i++) {
        port_round r;
        port_round_run(i + 1, &r);
        up[i] = r.up;
        op[i] = r.op;
        if (r.api_up >= 0)
            api_up[napi++] = r.api_up;
        printf("  port %-3u up in the Southbound %8.1f ms   operation succeeded %8.1f ms   "
               "API up %8.1f ms\n", i + 1, r.up, r.op, r.api_up);
    }
    figures(up, o.ports, &up50, &up95);
    figures(op, o.ports, &op50, &op95);
    if (napi)
        figures(api_up, napi, &au50, &au95);
    printf("port created to up (Southbound), %u ports: median %.1f ms, p95 %.1f ms; its "
           "operation succeeded: median %.1f ms; the API said up for %u of them (median "
           "%.1f ms)\n", o.ports, up50, up95, op50, napi, au50);
    remove_ifaces();

    /* (b) */
    api_ms = api_programming(o.networks);
    printf("programming: %u networks x (1 subnet + 4 ports) through the API, every "
           "operation succeeded: %.1f ms (%.0f objects/s)\n", o.networks, api_ms,
           o.networks * 6 / (api_ms / 1e3));
    nbctl_ms = nbctl_programming(o.networks);
    printf("programming: the same objects by one ovn-nbctl batch: %.1f ms; ratio API / "
           "ovn-nbctl %.1f\n", nbctl_ms, api_ms / nbctl_ms);

    printf("{\"ports\":%u,\"port_up_median_ms\":%.1f,\"port_up_p95_ms\":%.1f,"
           "\"port_op_median_ms\":%.1f,\"port_op_p95_ms\":%.1f,\"port_api_up_count\":%u,"
           "\"port_api_up_median_ms\":%.1f,\"networks\":%u,\"api_programming_ms\":%.1f,"
           "\"nbctl_programming_ms\":%.1f,\"programming_ratio\":%.2f}\n", o.ports, up50, up95,
           op50, op95, napi, au50, o.networks, api_ms, nbctl_ms, api_ms / nbctl_ms);

    sov_ovsdb_close(sb);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    free(up);
    free(op);
    free(api_up);
    free(ifaces);
    return 0;
}
