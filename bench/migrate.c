/* migrate: how long a live migration through sovd takes on a real two-host fleet, next to a
 * bare `virsh migrate` of a comparable domain between the same hosts in the same run; and how
 * long the scheduler takes to decide among 1,000 more (simulated) hosts while the fleet
 * serves creates.
 *
 *     bench/migrate --url URL --token-file FILE --image PATH --pool NAME --db CONNINFO
 *                   --host NAME=URI --host NAME=URI [--rounds N] [--sim-hosts N]
 *                   [--decisions N] [--quick]
 *
 * URL is a sovd with the api and worker roles on the database CONNINFO, told its storage pool
 * NAME (its folder the same path on both hosts, of each host's own: a fleet host's
 * /var/lib/libvirt) and a NAT network; FILE holds its operator token; PATH is the guest
 * image of scripts/guest-image; the two hosts are a fleet's (scripts/fleet up 2: URI
 * qemu+tcp://ADDR/system). Through the API it makes a region, registers both hosts, a
 * flavor (1 vCPU, 128 MiB, 1 GiB), a tenant with a member, and imports the image.
 *
 * (a) Live migration. One instance is created and left to boot; beside it, on the same host,
 * a reference domain: the instance's XML with another name, UUID and MAC, a fresh qcow2
 * overlay of the same image copy (sov-image-<id>) and a copy of its seed, both as file disks
 * (libvirt refuses --copy-storage-inc of volume disks: it would pre-create them), sovd's
 * metadata left out. Then N rounds (3 by default, 1 with --quick), each way in turn:
 *   1. POST /v1/instances/{id}/actions {"action":"migrate","live":true} as the member, then
 *      GET /v1/operations/{id} every 5 ms until it succeeded and the instance is running on
 *      the other host: the timed figure of sovd (its downtime as libvirt measured it, from
 *      GET /v1/instances/{id}/migrations, is printed too).
 *   2. The reference's disk and seed made on the other host (same names, the overlay over
 *      the same image copy, which sovd's migration has put there), then
 *      `virsh -c SRC migrate --live --p2p --copy-storage-inc --migrateuri tcp://DST
 *      --disks-uri tcp://DST DOMAIN qemu+tcp://DST/system` timed from the start of the
 *      process to its exit; the source's copies of the volumes are deleted after.
 * Median and p95 of both, and their difference.
 *
 * (b) Placement under load. --sim-hosts hosts (1,000 by default) are inserted into sovd's
 * database in a region of their own, up, with room for everything (libvirt's test driver
 * URI: nothing ever runs there), as bench/placement does. Then --decisions dry runs and
 * claims (each claim in a transaction rolled back) of the scheduler's own functions, as
 * bench/placement times them: first with the fleet idle, then while a client creates and
 * deletes instances on the fleet through the API without pause. Median and p99 of each.
 *
 * It prints each round and the figures, and last one line of JSON for scripts/bench. Exits
 * non-zero when it could not measure. The reference domain and its volumes are removed
 * before it returns; sovd's instances, the hosts and the simulated hosts are the caller's
 * (scripts/bench drops the database and takes the fleet down). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "sov/compute.h"
#include "sov/config.h"
#include "sov/log.h"
#include "sov/repo/db_pq.h"

#include "client.h"
#include "common.h"

#define REGION "bench-mig-1"
#define SIM_REGION "bench-sim-1"
#define MAX_ROUNDS 50
#define POLL_MS 5
#define OP_TIMEOUT_S 300

typedef struct bench_host {
    char name[64], uri[160], addr[64];
    char id[64];
} bench_host;

typedef struct options {
    const char *url, *token_file, *image, *pool, *db;
    bench_host hosts[2];
    unsigned nhosts, rounds, sim_hosts, decisions;
    bool quick;
} options;

static CURL *curl;
static const char *base_url;
static char op_token[128], member[128], tenant[64];
/* The reference domain, while it exists, and where. */
static char ref_name[96];
static int ref_at = -1;
static const options *opts;

/* ---- processes ---- */

/* virsh -q -c URI of host h, then the arguments (NULL-terminated, at most 12). */
static int
virsh_on(int h, char **out, ...)
{
    char *argv[20] = { "virsh", "-q", "-c", (char *) opts->hosts[h].uri };
    size_t n = 4;
    va_list ap;

    va_start(ap, out);
    for (char *a; n < 18 && (a = va_arg(ap, char *));)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return bench_run(argv, out);
}

/* The reference domain and its volumes go from the host it runs on (a round that failed
 * half-way may leave the other host's copies: the fleet's pool goes with the fleet). */
static void
remove_reference(void)
{
    char vol[128];

    if (!ref_name[0] || ref_at < 0)
        return;
    virsh_on(ref_at, NULL, "destroy", ref_name, NULL);
    snprintf(vol, sizeof(vol), "%s-disk", ref_name);
    virsh_on(ref_at, NULL, "vol-delete", "--pool", (char *) opts->pool, vol, NULL);
    snprintf(vol, sizeof(vol), "%s-seed", ref_name);
    virsh_on(ref_at, NULL, "vol-delete", "--pool", (char *) opts->pool, vol, NULL);
    ref_name[0] = '\0';
    ref_at = -1;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Say what could not be measured, remove the reference, and exit 1. */
static void
die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "bench/migrate: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    remove_reference();
    exit(1);
}

/* ---- HTTP ---- */

static long
call_on(CURL *c, const char *method, const char *path, const char *token, const char *body,
        json_t **ret)
{
    char *text = NULL;
    long status = bench_call(c, base_url, method, path, token, body, ret, &text);

    if (status == 0 || (status >= 400 && status != 404))
        fprintf(stderr, "bench/migrate: %s %s: %ld %s\n", method, path, status,
                text ? text : "");
    free(text);
    return status;
}

/* The call must answer want: its JSON answer (never NULL), or exit. */
static json_t *
call_ok_on(CURL *c, const char *method, const char *path, const char *token, const char *body,
           long want)
{
    json_t *j = NULL;
    long got = call_on(c, method, path, token, body, &j);

    if (got != want || !j)
        die("%s %s answered %ld, not %ld", method, path, got, want);
    return j;
}

static json_t *
call_ok(const char *method, const char *path, const char *token, const char *body, long want)
{
    return call_ok_on(curl, method, path, token, body, want);
}

static const char *
str(const json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    return s ? s : "";
}

/* Poll the operation (as token, on c) every POLL_MS until it succeeded; exits if it failed
 * or takes too long. */
static void
wait_op_on(CURL *c, const char *token, const char *id)
{
    char path[128];
    double until = bench_ms() + OP_TIMEOUT_S * 1e3;

    snprintf(path, sizeof(path), "/v1/operations/%s", id);
    for (;;) {
        json_t *o = call_ok_on(c, "GET", path, token, NULL, 200);
        const char *state = str(o, "state");

        if (strcmp(state, "succeeded") == 0) {
            json_decref(o);
            return;
        }
        if (strcmp(state, "failed") == 0 || bench_ms() > until) {
            char *text = json_dumps(o, JSON_COMPACT);
            fprintf(stderr, "bench/migrate: operation %s: %s\n", id, text ? text : "");
            die("operation %s did not succeed", id);
        }
        json_decref(o);
        bench_sleep_ms(POLL_MS);
    }
}

static void
wait_op(const char *token, const char *id)
{
    wait_op_on(curl, token, id);
}

/* ---- the world ---- */

/* Region, both hosts, flavor, tenant, member, image (its id into image_id); the hosts'
 * hypervisor into virt. */
static void
make_world(options *o, char image_id[64], char virt[16])
{
    char body[1024], path[256];
    json_t *j;

    json_decref(call_ok("POST", "/v1/regions", op_token,
                        "{\"code\":\"" REGION "\",\"name\":\"Bench fleet\",\"country\":\"FR\","
                        "\"datacenter\":\"bench\",\"zones\":[\"a\"]}", 201));
    json_decref(call_ok("POST", "/v1/regions", op_token,
                        "{\"code\":\"" SIM_REGION "\",\"name\":\"Bench simulated\","
                        "\"country\":\"FR\",\"datacenter\":\"bench-sim\",\"zones\":[\"a\"]}",
                        201));
    for (unsigned h = 0; h < 2; h++) {
        snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"" REGION "\",\"zone\":\"a\","
                 "\"libvirt_uri\":\"%s\"}", o->hosts[h].name, o->hosts[h].uri);
        j = call_ok("POST", "/v1/hosts", op_token, body, 202);
        snprintf(o->hosts[h].id, sizeof(o->hosts[h].id), "%s",
                 str(json_object_get(j, "host"), "id"));
        wait_op(op_token, str(json_object_get(j, "operation"), "id"));
        json_decref(j);
        snprintf(path, sizeof(path), "/v1/hosts/%s", o->hosts[h].id);
        j = call_ok("GET", path, op_token, NULL, 200);
        if (strcmp(str(j, "state"), "up") != 0)
            die("host %s is %s, not up", o->hosts[h].uri, str(j, "state"));
        snprintf(virt, 16, "%s", str(j, "hypervisor"));
        json_decref(j);
    }
    json_decref(call_ok("POST", "/v1/flavors", op_token,
                        "{\"name\":\"bench-mig\",\"vcpus\":1,\"memory_mib\":128,"
                        "\"disk_gib\":1}", 201));
    bench_member(call_ok, op_token, "bench", "bench@bench.example.eu", tenant, member);
    snprintf(body, sizeof(body), "{\"name\":\"guest\",\"region\":\"" REGION "\","
             "\"format\":\"qcow2\",\"source_url\":\"file://%s\"}", o->image);
    j = call_ok("POST", "/v1/images", member, body, 202);
    snprintf(image_id, 64, "%s", str(json_object_get(j, "image"), "id"));
    wait_op(member, str(json_object_get(j, "operation"), "id"));
    json_decref(j);
}

/* Create an instance as the member on c and wait until it runs: its id into id (64 bytes),
 * its MAC into mac (32 bytes, unless NULL). */
static void
create_instance(CURL *c, const char *name, char *id, char *mac)
{
    char body[256];
    json_t *j, *x;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"flavor\":\"bench-mig\","
             "\"image\":\"guest\"}", name);
    j = call_ok_on(c, "POST", "/v1/instances", member, body, 202);
    x = json_object_get(j, "instance");
    snprintf(id, 64, "%s", str(x, "id"));
    if (mac)
        snprintf(mac, 32, "%s", str(x, "mac"));
    wait_op_on(c, member, str(json_object_get(j, "operation"), "id"));
    json_decref(j);
}

/* Which of the two hosts instance id runs on, by its row. */
static int
host_of(const char *id)
{
    char path[128];
    json_t *j;
    int at = -1;

    snprintf(path, sizeof(path), "/v1/instances/%s", id);
    j = call_ok("GET", path, member, NULL, 200);
    for (int h = 0; h < 2; h++)
        if (strcmp(str(json_object_get(j, "host"), "id"), opts->hosts[h].id) == 0)
            at = h;
    if (strcmp(str(j, "state"), "running") != 0 || at < 0)
        die("instance %s is %s on '%s'", id, str(j, "state"),
            str(json_object_get(j, "host"), "name"));
    json_decref(j);
    return at;
}

/* ---- the reference domain ---- */

/* s (malloc, freed) with every occurrence of from replaced by to (malloc). */
static char *
replace_free(char *s, const char *from, const char *to)
{
    char *r = bench_replace_free(s, from, to);

    if (!r)
        die("%s", "out of memory");
    return r;
}

/* s without the element that opens with open and closes with close (malloc). */
static char *
cut_free(char *s, const char *open, const char *close)
{
    char *a = strstr(s, open), *b = a ? strstr(a, close) : NULL;

    if (a && b)
        memmove(a, b + strlen(close), strlen(b + strlen(close)) + 1);
    return s;
}

static void
new_uuid(char out[37])
{
    FILE *f = fopen("/proc/sys/kernel/random/uuid", "r");

    if (!f || !fgets(out, 37, f))
        die("%s", "cannot read /proc/sys/kernel/random/uuid");
    fclose(f);
    out[36] = '\0';
}

/* The disk (an overlay of image_id's copy, 1 GiB as bench-mig's) and seed of the reference
 * on host h; the seed's bytes from src_seed (a volume on h) when given, else an empty one of
 * its size (read once at boot: a migrated guest never reads it again). */
static void
make_volumes(int h, const char *image_id, const char *src_seed, const char *seed_size)
{
    char vol[128], seed[128], backing[128];

    snprintf(vol, sizeof(vol), "%s-disk", ref_name);
    snprintf(seed, sizeof(seed), "%s-seed", ref_name);
    snprintf(backing, sizeof(backing), "sov-image-%s", image_id);
    if (virsh_on(h, NULL, "vol-create-as", (char *) opts->pool, vol, "1G", "--format", "qcow2",
                 "--backing-vol", backing, "--backing-vol-format", "qcow2", NULL) != 0)
        die("could not make the overlay %s on %s", vol, opts->hosts[h].name);
    if (src_seed) {
        if (virsh_on(h, NULL, "vol-clone", "--pool", (char *) opts->pool, (char *) src_seed,
                     seed, NULL) != 0)
            die("could not clone the seed %s on %s", src_seed, opts->hosts[h].name);
    } else if (virsh_on(h, NULL, "vol-create-as", (char *) opts->pool, seed,
                        (char *) seed_size, "--format", "raw", NULL) != 0) {
        die("could not make the seed %s on %s", seed, opts->hosts[h].name);
    }
}

/* The size of volume name on host h in bytes, as text (into size, 32 bytes). */
static void
volume_size(int h, const char *name, char size[32])
{
    char *out = NULL, *p;

    if (virsh_on(h, &out, "vol-info", "--bytes", "--pool", (char *) opts->pool, (char *) name,
                 NULL) != 0 || !out || !(p = strstr(out, "Capacity:")))
        die("could not read the size of %s", name);
    snprintf(size, 32, "%lld", strtoll(p + strlen("Capacity:"), NULL, 10));
    free(out);
}

/* Start the reference beside instance id (on its host h): its XML made the reference's. */
static void
start_reference(int h, const char *id, const char *mac, const char *image_id,
                char seed_size[32])
{
    char domain[96], from[256], to[320], uuid[37], file[256], *xml = NULL;
    static const char *const suffix[] = { "disk", "seed", "console.log" };
    FILE *f;

    snprintf(ref_name, sizeof(ref_name), "sovbench-mig-%d", (int) getpid());
    snprintf(domain, sizeof(domain), "sov-%s", id);
    if (virsh_on(h, &xml, "dumpxml", "--inactive", domain, NULL) != 0 || !xml ||
        !strstr(xml, id))
        die("could not dump the XML of domain %s", domain);
    snprintf(from, sizeof(from), "sov-%s-seed", id);
    volume_size(h, from, seed_size);
    make_volumes(h, image_id, from, NULL);
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(from, sizeof(from), "sov-%s-%s", id, suffix[i]);
        snprintf(to, sizeof(to), "%s-%s", ref_name, suffix[i]);
        xml = replace_free(xml, from, to);
    }
    /* Disks as files: libvirt pre-creates (and so refuses, for --copy-storage-inc) every
     * volume-type disk of an incoming domain, since such a disk has no path before it
     * starts; a file disk whose file exists on the target is left alone. */
    xml = replace_free(xml, "<disk type='volume'", "<disk type='file'");
    for (size_t i = 0; i < 2; i++) {
        char vol[128], *path = NULL;

        snprintf(vol, sizeof(vol), "%s-%s", ref_name, suffix[i]);
        if (virsh_on(h, &path, "vol-path", "--pool", (char *) opts->pool, vol, NULL) != 0 ||
            !path || path[0] != '/')
            die("could not find the path of volume %s", vol);
        path[strcspn(path, "\n")] = '\0';
        snprintf(from, sizeof(from), "<source pool='%s' volume='%s'/>", opts->pool, vol);
        snprintf(to, sizeof(to), "<source file='%s'/>", path);
        xml = replace_free(xml, from, to);
        free(path);
    }
    snprintf(from, sizeof(from), "<name>sov-%s</name>", id);
    snprintf(to, sizeof(to), "<name>%s</name>", ref_name);
    xml = replace_free(xml, from, to);
    new_uuid(uuid);
    xml = replace_free(xml, id, uuid);
    snprintf(from, sizeof(from), "address='%s'", mac);
    snprintf(to, sizeof(to), "address='52:54:00:%02x:%02x:%02x'", (unsigned) getpid() & 0xff,
             ((unsigned) getpid() >> 8) & 0xff, 0x5a);
    xml = replace_free(xml, from, to);
    /* sovd's metadata would make the domain look like one of its own. */
    xml = cut_free(xml, "<metadata>", "</metadata>");
    snprintf(file, sizeof(file), "/tmp/%s.xml", ref_name);
    f = fopen(file, "w");
    if (!f || fputs(xml, f) < 0 || fclose(f) != 0)
        die("could not write %s", file);
    free(xml);
    ref_at = h;
    if (virsh_on(h, NULL, "create", file, NULL) != 0)
        die("virsh create %s failed on %s", file, opts->hosts[h].name);
    unlink(file);
}

/* ---- (a) live migration ---- */

typedef struct mig_round {
    double sovd, virsh, downtime;
} mig_round;

/* The downtime of instance id's last migration, ms (-1: not known). */
static double
last_downtime(const char *id)
{
    char path[160];
    json_t *j, *items, *last;
    double v = -1;

    snprintf(path, sizeof(path), "/v1/instances/%s/migrations?limit=100", id);
    j = call_ok("GET", path, member, NULL, 200);
    items = json_object_get(j, "items");
    last = json_array_size(items) > 0 ? json_array_get(items, json_array_size(items) - 1)
                                      : NULL;
    if (last && json_is_integer(json_object_get(last, "downtime_ms")))
        v = (double) json_integer_value(json_object_get(last, "downtime_ms"));
    json_decref(j);
    return v;
}

static void
migrate_round(unsigned k, const char *id, const char *image_id, const char *seed_size,
              mig_round *r)
{
    char path[128], dst_uri[200], mig_uri[96], vol[128];
    int src = host_of(id), dst = 1 - src;
    json_t *j;
    double t0;

    /* 1. sovd. */
    snprintf(path, sizeof(path), "/v1/instances/%s/actions", id);
    t0 = bench_ms();
    j = call_ok("POST", path, member, "{\"action\":\"migrate\",\"live\":true}", 202);
    wait_op(member, str(json_object_get(j, "operation"), "id"));
    r->sovd = bench_ms() - t0;
    json_decref(j);
    if (host_of(id) != dst)
        die("round %u: the instance did not move to %s", k, opts->hosts[dst].name);
    r->downtime = last_downtime(id);

    /* 2. virsh, the reference the same way. */
    if (ref_at != src)
        die("round %u: the reference is not beside the instance", k);
    make_volumes(dst, image_id, NULL, seed_size);
    snprintf(dst_uri, sizeof(dst_uri), "qemu+tcp://%s/system", opts->hosts[dst].addr);
    snprintf(mig_uri, sizeof(mig_uri), "tcp://%s", opts->hosts[dst].addr);
    t0 = bench_ms();
    if (virsh_on(src, NULL, "migrate", "--live", "--p2p", "--copy-storage-inc", "--migrateuri",
                 mig_uri, "--disks-uri", mig_uri, ref_name, dst_uri, NULL) != 0)
        die("round %u: virsh migrate %s from %s to %s failed", k, ref_name,
            opts->hosts[src].name, opts->hosts[dst].name);
    r->virsh = bench_ms() - t0;
    ref_at = dst;
    snprintf(vol, sizeof(vol), "%s-disk", ref_name);
    virsh_on(src, NULL, "vol-delete", "--pool", (char *) opts->pool, vol, NULL);
    snprintf(vol, sizeof(vol), "%s-seed", ref_name);
    virsh_on(src, NULL, "vol-delete", "--pool", (char *) opts->pool, vol, NULL);
    printf("round %u: %s -> %s: sovd %.0f ms (downtime %.0f ms), virsh migrate %.0f ms\n", k,
           opts->hosts[src].name, opts->hosts[dst].name, r->sovd, r->downtime, r->virsh);
    fflush(stdout);
}

/* ---- (b) placement under load ---- */

typedef struct decisions {
    double dry_p50, dry_p99, claim_p50, claim_p99;
    unsigned n;
} decisions;

static sov_db *db;
static sov_ctx ctx;
static atomic_bool load_stop;
static atomic_uint load_creates;

static double
percentile(double *v, size_t n, unsigned pct)
{
    size_t k = (n * pct + 99) / 100;

    qsort(v, n, sizeof(v[0]), bench_cmp_double);
    return v[k > 0 ? k - 1 : 0];
}

static void
sql_or_die(sov_dbconn *c, const char *sql, int n, const char *const *params)
{
    sov_error err = SOV_ERROR_INIT;
    PGresult *r = NULL;

    if (sov_db_query(c, sql, n, params, &r, &err) < 0)
        die("%s: %s %s", sql, err.msg, err.detail);
    PQclear(r);
}

/* n hosts in SIM_REGION, up, with room for everything: never chosen for a create (the
 * image lives in REGION), always a candidate for the decisions timed here. */
static void
insert_sim_hosts(unsigned n)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_dbconn) c = NULL;
    char count[16];
    const char *params[] = { count };

    snprintf(count, sizeof(count), "%u", n);
    if (sov_db_acquire(db, &c, &err) < 0)
        die("database: %s %s", err.msg, err.detail);
    sql_or_die(c, "INSERT INTO hosts (name, region, zone, libvirt_uri, hypervisor, state, cpus,"
               " memory_mib, storage_gib, cpu_allocation_ratio)"
               " SELECT 'bench-sim-' || lpad(i::text, 5, '0'), '" SIM_REGION "', 'a',"
               " 'test:///default', 'test', 'up', 10000, 100000000, 100000000, 4.0"
               " FROM generate_series(1, $1::int) i", 1, params);
    sql_or_die(c, "ANALYZE hosts", 0, NULL);
}

/* At least n dry runs and claims (rolled back, each right after its dry run) of a 1 vCPU,
 * 128 MiB, 1 GiB request, and on until the fleet's load has made min_creates instances (at
 * most 100,000 of each). */
static void
decide(unsigned n, unsigned min_creates, decisions *f)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(sov_placement) p = sov_placement_new();
    size_t cap = 100000, i;
    double *dry = calloc(cap, sizeof(double)), *claim = calloc(cap, sizeof(double));
    sov_place_request r = { .tenant_id = tenant, .vcpus = 1, .memory_mib = 128, .disk_gib = 1,
                            .resource_type = "instance", .resource_id = "bench" };

    if (!dry || !claim || !p)
        die("%s", "out of memory");
    if (sov_db_acquire(db, &c, &err) < 0)
        die("database: %s %s", err.msg, err.detail);
    for (i = 0; i < cap && (i < n || atomic_load(&load_creates) < min_creates); i++) {
        double t0 = bench_ms();
        int rc;

        if (sov_placement_dry_run(&ctx, &r, p, &err) < 0)
            die("dry run: %s %s", err.msg, err.detail);
        dry[i] = bench_ms() - t0;
        sql_or_die(c, "BEGIN", 0, NULL);
        t0 = bench_ms();
        rc = sov_placement_claim(c, &ctx, &r, p, &err);
        claim[i] = bench_ms() - t0;
        if (rc < 0)
            die("claim: %s %s", err.msg, err.detail);
        sql_or_die(c, "ROLLBACK", 0, NULL);
    }
    f->n = (unsigned) i;
    f->dry_p99 = percentile(dry, i, 99);
    f->dry_p50 = percentile(dry, i, 50);
    f->claim_p99 = percentile(claim, i, 99);
    f->claim_p50 = percentile(claim, i, 50);
    free(dry);
    free(claim);
}

/* The fleet's load: create an instance, wait until it runs, delete it, wait, again. */
static void *
load_main(void *arg)
{
    CURL *c = curl_easy_init();
    char name[64], id[64], path[128];

    (void) arg;
    if (!c)
        die("%s", "curl_easy_init failed");
    for (unsigned k = 0; !atomic_load(&load_stop); k++) {
        json_t *j;

        snprintf(name, sizeof(name), "load-%u", k);
        create_instance(c, name, id, NULL);
        atomic_fetch_add(&load_creates, 1);
        snprintf(path, sizeof(path), "/v1/instances/%s", id);
        j = call_ok_on(c, "DELETE", path, member, NULL, 202);
        wait_op_on(c, member, str(json_object_get(j, "operation"), "id"));
        json_decref(j);
    }
    curl_easy_cleanup(c);
    return NULL;
}

static void
open_db(const char *url, sov_config *cfg)
{
    sov_error err = SOV_ERROR_INIT;
    char *argv0[] = { "sovd", NULL };
    char *envp[] = { NULL };
    FILE *out = fopen("/dev/null", "w");
    sov_db_options o = { .url = url, .pool_size = 2, .connect_timeout = 10,
                         .acquire_timeout_ms = 10000, .statement_timeout_ms = 0 };

    if (!out || sov_config_load(cfg, 1, argv0, envp, out, &err) != 0)
        die("config: %s", err.msg);
    fclose(out);
    if (sov_db_new(&o, &db, &err) < 0)
        die("database: %s %s", err.msg, err.detail);
    ctx = (sov_ctx) { .db = db, .cfg = cfg, .request_id = "", .source = "" };
}

/* ---- main ---- */

static void
usage(void)
{
    fprintf(stderr, "usage: bench/migrate --url URL --token-file FILE --image PATH --pool NAME"
            " --db CONNINFO --host NAME=URI --host NAME=URI [--rounds N] [--sim-hosts N]"
            " [--decisions N] [--quick]\n");
    exit(2);
}

static unsigned
number(const char *s, unsigned lo, unsigned hi)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < lo || v > hi)
        usage();
    return (unsigned) v;
}

/* NAME=qemu+tcp://ADDR/system: the name, URI and address of a host. */
static void
parse_host(const char *arg, bench_host *h)
{
    const char *eq = strchr(arg, '='), *a, *end;

    if (!eq || eq == arg || (size_t) (eq - arg) >= sizeof(h->name))
        usage();
    snprintf(h->name, sizeof(h->name), "%.*s", (int) (eq - arg), arg);
    snprintf(h->uri, sizeof(h->uri), "%s", eq + 1);
    a = strstr(h->uri, "://");
    if (!a)
        usage();
    a += 3;
    end = a + strcspn(a, "/:");
    if (end == a || (size_t) (end - a) >= sizeof(h->addr))
        usage();
    snprintf(h->addr, sizeof(h->addr), "%.*s", (int) (end - a), a);
}

static void
parse_args(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof(*o));
    o->rounds = 0;
    o->sim_hosts = 1000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--quick") == 0) {
            o->quick = true;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (strcmp(a, "--url") == 0)
            o->url = v;
        else if (strcmp(a, "--token-file") == 0)
            o->token_file = v;
        else if (strcmp(a, "--image") == 0)
            o->image = v;
        else if (strcmp(a, "--pool") == 0)
            o->pool = v;
        else if (strcmp(a, "--db") == 0)
            o->db = v;
        else if (strcmp(a, "--host") == 0 && o->nhosts < 2)
            parse_host(v, &o->hosts[o->nhosts++]);
        else if (strcmp(a, "--rounds") == 0)
            o->rounds = number(v, 1, MAX_ROUNDS);
        else if (strcmp(a, "--sim-hosts") == 0)
            o->sim_hosts = number(v, 1, 100000);
        else if (strcmp(a, "--decisions") == 0)
            o->decisions = number(v, 1, 100000);
        else
            usage();
    }
    if (!o->url || !o->token_file || !o->image || !o->pool || !o->db || o->nhosts != 2)
        usage();
    if (o->rounds == 0)
        o->rounds = o->quick ? 1 : 3;
    if (o->decisions == 0)
        o->decisions = o->quick ? 200 : 1000;
}

static void
figures(const double *v, unsigned n, double *p50, double *p95)
{
    if (!bench_figures(v, n, p50, p95))
        die("%s", "out of memory");
}

int
main(int argc, char **argv)
{
    options o;
    char image_id[64], virt[16] = "", id[64], mac[32], seed_size[32];
    double sovd[MAX_ROUNDS], vir[MAX_ROUNDS], down[MAX_ROUNDS], diff[MAX_ROUNDS];
    double s50, s95, v50, v95, d50, d95, dt50 = -1, dt95 = -1;
    unsigned ndown = 0, creates_under_load;
    mig_round r;
    decisions idle, loaded;
    sov_config cfg;
    pthread_t load;

    parse_args(argc, argv, &o);
    opts = &o;
    base_url = o.url;
    sov_log_set_level(SOV_LOG_WARN);
    if (!bench_read_line(o.token_file, op_token, sizeof(op_token)))
        die("cannot read the operator token from %s", o.token_file);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();
    if (!curl)
        die("%s", "curl_easy_init failed");
    make_world(&o, image_id, virt);

    /* (a) The instance and its reference, booted for a few seconds, then the rounds. */
    create_instance(curl, "mig", id, mac);
    start_reference(host_of(id), id, mac, image_id, seed_size);
    sleep(o.quick ? 2 : 5);
    printf("bench/migrate: guests run under %s; %u rounds, each way in turn\n", virt, o.rounds);
    for (unsigned k = 0; k < o.rounds; k++) {
        migrate_round(k + 1, id, image_id, seed_size, &r);
        sovd[k] = r.sovd;
        vir[k] = r.virsh;
        diff[k] = r.sovd - r.virsh;
        if (r.downtime >= 0)
            down[ndown++] = r.downtime;
    }
    remove_reference();
    figures(sovd, o.rounds, &s50, &s95);
    figures(vir, o.rounds, &v50, &v95);
    figures(diff, o.rounds, &d50, &d95);
    if (ndown > 0)
        figures(down, ndown, &dt50, &dt95);
    printf("live migration through sovd: median %.0f ms, p95 %.0f ms (downtime median %.0f ms)\n"
           "virsh migrate --live --p2p --copy-storage-inc: median %.0f ms, p95 %.0f ms\n"
           "difference: median %.0f ms, p95 %.0f ms\n", s50, s95, dt50, v50, v95, d50, d95);
    fflush(stdout);

    /* (b) The scheduler among the simulated hosts, idle, then under the fleet's creates. */
    open_db(o.db, &cfg);
    insert_sim_hosts(o.sim_hosts);
    decide(20, 0, &idle);                   /* warm the caches and the connection */
    decide(o.decisions, 0, &idle);
    atomic_store(&load_stop, false);
    if (pthread_create(&load, NULL, load_main, NULL) != 0)
        die("%s", "pthread_create failed");
    sleep(1);
    /* Long enough to overlap whole creates (and deletes) of the fleet. */
    decide(o.decisions, o.quick ? 1 : 3, &loaded);
    creates_under_load = atomic_load(&load_creates);
    atomic_store(&load_stop, true);
    pthread_join(load, NULL);
    printf("placement among %u + 2 hosts: idle (%u decisions) dry run median %.3f ms (p99"
           " %.3f), claim %.3f ms (p99 %.3f); under the fleet's creates (%u decisions, %u"
           " instances created meanwhile) dry run %.3f ms (p99 %.3f), claim %.3f ms (p99"
           " %.3f)\n", o.sim_hosts, idle.n, idle.dry_p50, idle.dry_p99, idle.claim_p50,
           idle.claim_p99, loaded.n, creates_under_load, loaded.dry_p50, loaded.dry_p99,
           loaded.claim_p50, loaded.claim_p99);
    printf("{\"virt_type\":\"%s\",\"rounds\":%u,\"sovd_median_ms\":%.1f,\"sovd_p95_ms\":%.1f,"
           "\"virsh_median_ms\":%.1f,\"virsh_p95_ms\":%.1f,\"difference_median_ms\":%.1f,"
           "\"difference_p95_ms\":%.1f,\"downtime_median_ms\":%.1f,\"sim_hosts\":%u,"
           "\"decisions\":%u,\"decisions_load\":%u,\"dry_idle_ms\":%.3f,\"dry_idle_p99_ms\":%.3f,"
           "\"claim_idle_ms\":%.3f,\"claim_idle_p99_ms\":%.3f,\"dry_load_ms\":%.3f,"
           "\"dry_load_p99_ms\":%.3f,\"claim_load_ms\":%.3f,\"claim_load_p99_ms\":%.3f,"
           "\"load_creates\":%u}\n",
           virt, o.rounds, s50, s95, v50, v95, d50, d95, dt50, o.sim_hosts, idle.n, loaded.n,
           idle.dry_p50, idle.dry_p99, idle.claim_p50, idle.claim_p99, loaded.dry_p50,
           loaded.dry_p99, loaded.claim_p50, loaded.claim_p99, creates_under_load);
    sov_db_free(db);
    sov_config_release(&cfg);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    return 0;
}
