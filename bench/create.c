/* create: how long sovd takes from POST /v1/instances to a running domain on the local
 * libvirtd, next to a bare `virsh create` of the same domain XML, measured in the same run.
 *
 *     bench/create --url URL --token-file FILE --image PATH --pool NAME --name PREFIX [--count N]
 *                  [--volumes 0|1]
 *
 * URL is a sovd with the worker role (scripts/bench starts one, without the reconciler, on
 * its own database, storage pool and NAT network); FILE holds its operator token; PATH is
 * the guest image of scripts/guest-image; NAME is the storage pool sovd was told to use, and
 * PREFIX names every domain this program makes itself. Through the API it makes a region, the
 * local host (qemu:///system: sovd says whether guests run under KVM or TCG), a flavor, a
 * tenant with a member, and imports the image. Then, one at a time, N times (7 by default,
 * after one round that is not counted, which pays for the first copy of the image into the
 * pool and warms QEMU and the caches):
 *
 *   1. POST /v1/instances, then GET /v1/operations/{id} every 5 ms until it succeeded (the
 *      instance is running): the timed figure of sovd.
 *   2. `virsh dumpxml --inactive` of the instance's domain; the seed volume cloned.
 *   3. DELETE /v1/instances/{id}, waited for (timed too, for the record): no guest of sovd's
 *      boots while the reference is timed.
 *   4. The same XML with a new name, UUID and MAC, its disk a fresh qcow2 overlay of the same
 *      image in the same pool, its seed the clone: `virsh create FILE` timed from the start
 *      of the process to its return (the reference), then `virsh destroy`.
 *
 * The instance's NIC is whatever sovd gives a plain create: the NAT network's without OVN, a
 * port of the workspace's default network on tenant networks (scripts/bench runs it both
 * ways). Then (unless --volumes 0) volumes (storage/): a plain volume type, and N rounds
 * (after one warm-up) of
 * POST /v1/volumes of an empty 1 GiB volume to the operation's success, next to
 * `virsh vol-create-as` of the same size in the same pool; each deleted before the next.
 *
 * It prints each round, then the median and p95 of both and their difference, and last one
 * line of JSON for scripts/bench. Exits non-zero when it could not measure. What it leaves in
 * the pool and the network is the caller's to remove (scripts/bench removes the pool, the
 * network and any domain using the pool, however the run ends); the domains it starts itself
 * are transient, and destroyed as soon as they are timed. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "client.h"

#define URI "qemu:///system"
#define REGION "bench-1"
#define MAX_ROUNDS 100
#define POLL_MS 5
#define OP_TIMEOUT_S 180

typedef struct options {
    const char *url, *token_file, *image, *pool, *prefix;
    unsigned count;
    bool volumes;               /* --volumes 0: instances only */
} options;

static CURL *curl;
static const char *base_url;
static char op_token[128], member[128];
/* A transient domain this program started and has not destroyed yet. */
static char running_copy[128];

/* ---- processes ---- */

static int
virsh(const char *a, const char *b, const char *c, const char *d, char **out)
{
    char *argv[] = { "virsh", "-q", "-c", URI, (char *) a, (char *) b, (char *) c,
                     (char *) d, NULL };
    return bench_run(argv, out);
}

static void
destroy_copy(void)
{
    if (running_copy[0]) {
        virsh("destroy", running_copy, NULL, NULL, NULL);
        running_copy[0] = '\0';
    }
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Say what could not be measured, destroy the copy that runs, and exit 1. */
static void
die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "bench/create: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    destroy_copy();
    exit(1);
}

/* ---- HTTP ---- */

/* method path with token and body (JSON or NULL); the status, the parsed answer in *ret
 * (NULL when not JSON). One handle for every call: the connection is kept alive. */
static long
call(const char *method, const char *path, const char *token, const char *body, json_t **ret)
{
    char *text = NULL;
    long status = bench_call(curl, base_url, method, path, token, body, ret, &text);

    if (status == 0 || (status >= 400 && status != 404))
        fprintf(stderr, "bench/create: %s %s: %ld %s\n", method, path, status,
                text ? text : "");
    free(text);
    return status;
}

/* The call must answer want: its JSON answer (never NULL), or exit. */
static json_t *
call_ok(const char *method, const char *path, const char *token, const char *body, long want)
{
    json_t *j = NULL;
    long got = call(method, path, token, body, &j);

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

/* Poll the operation (as token) every POLL_MS until it succeeded; exits if it failed or takes
 * too long. */
static void
wait_op_as(const char *token, const char *id)
{
    char path[128];
    double until = bench_ms() + OP_TIMEOUT_S * 1e3;

    snprintf(path, sizeof(path), "/v1/operations/%s", id);
    for (;;) {
        json_t *o = call_ok("GET", path, token, NULL, 200);
        const char *state = str(o, "state");

        if (strcmp(state, "succeeded") == 0) {
            json_decref(o);
            return;
        }
        if (strcmp(state, "failed") == 0 || bench_ms() > until) {
            char *text = json_dumps(o, JSON_COMPACT);
            fprintf(stderr, "bench/create: operation %s: %s\n", id, text ? text : "");
            die("operation %s did not succeed", id);
        }
        json_decref(o);
        bench_sleep_ms(POLL_MS);
    }
}

static void
wait_op(const char *id)
{
    wait_op_as(member, id);
}

/* ---- the world ---- */

static void
read_token(const char *path)
{
    if (!bench_read_line(path, op_token, sizeof(op_token)))
        die("cannot read the operator token from %s", path);
}

/* Region, host, flavor, tenant, member, image: the host's hypervisor and the reason sovd
 * gave for it into virt and reason, the image's id into image_id. */
static void
make_world(const options *o, char virt[16], char reason[256], char image_id[64])
{
    char body[1024], path[256], tenant[64];
    json_t *j;

    json_decref(call_ok("POST", "/v1/regions", op_token,
                        "{\"code\":\"" REGION "\",\"name\":\"Bench\",\"country\":\"FR\","
                        "\"datacenter\":\"bench\",\"zones\":[\"a\"]}", 201));
    /* Registration is an operation: 202, then discovery by a worker. */
    j = call_ok("POST", "/v1/hosts", op_token,
                "{\"name\":\"local\",\"region\":\"" REGION "\",\"zone\":\"a\","
                "\"libvirt_uri\":\"" URI "\"}", 202);
    snprintf(path, sizeof(path), "/v1/hosts/%s", str(json_object_get(j, "host"), "id"));
    wait_op_as(op_token, str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    j = call_ok("GET", path, op_token, NULL, 200);
    if (strcmp(str(j, "state"), "up") != 0)
        die("host " URI " is %s, not up", str(j, "state"));
    snprintf(virt, 16, "%s", str(j, "hypervisor"));
    snprintf(reason, 256, "%s", str(j, "hypervisor_reason"));
    json_decref(j);
    json_decref(call_ok("POST", "/v1/flavors", op_token,
                        "{\"name\":\"bench-tiny\",\"vcpus\":1,\"memory_mib\":256,"
                        "\"disk_gib\":1}", 201));

    bench_member(call_ok, op_token, "bench", "bench@bench.example.eu", tenant, member);

    snprintf(body, sizeof(body), "{\"name\":\"guest\",\"region\":\"" REGION "\","
             "\"format\":\"qcow2\",\"source_url\":\"file://%s\"}", o->image);
    j = call_ok("POST", "/v1/images", member, body, 202);
    snprintf(image_id, 64, "%s", str(json_object_get(j, "image"), "id"));
    wait_op(str(json_object_get(j, "operation"), "id"));
    json_decref(j);
}

/* ---- one round ---- */

/* s (malloc, freed) with every occurrence of from replaced by to (malloc). */
static char *
replace_free(char *s, const char *from, const char *to)
{
    char *r = bench_replace_free(s, from, to);

    if (!r)
        die("%s", "out of memory");
    return r;
}

static void
new_uuid(char out[37])
{
    FILE *f = fopen("/proc/sys/kernel/random/uuid", "r");

    if (!f || !fgets(out, 37, f))
        die("%s", "cannot read /proc/sys/kernel/random/uuid");
    fclose(f);
}

/* What one round measured, in milliseconds. */
typedef struct round {
    double sovd, delete, virsh;
} round;

/* The instance's domain XML, made the copy's: its volumes, name, UUID and MAC replaced. */
static char *
copy_xml(const char *id, const char *copy, const char *mac)
{
    char domain[96], from[128], to[192], *xml = NULL;

    snprintf(domain, sizeof(domain), "sov-%s", id);
    if (virsh("dumpxml", "--inactive", domain, NULL, &xml) != 0 || !xml || !strstr(xml, id))
        die("could not dump the XML of domain %s", domain);
    static const char *const suffix[] = { "disk", "seed", "console.log" };
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(from, sizeof(from), "sov-%s-%s", id, suffix[i]);
        snprintf(to, sizeof(to), "%s-%s", copy, suffix[i]);
        xml = replace_free(xml, from, to);
    }
    snprintf(from, sizeof(from), "<name>sov-%s</name>", id);
    snprintf(to, sizeof(to), "<name>%s</name>", copy);
    xml = replace_free(xml, from, to);
    {
        char uuid[37];
        new_uuid(uuid);
        uuid[36] = '\0';
        xml = replace_free(xml, id, uuid);
    }
    snprintf(from, sizeof(from), "address='%s'", mac);
    snprintf(to, sizeof(to), "address='52:54:00:%.2s:%.2s:%.2s'", copy + strlen(copy) - 6,
             copy + strlen(copy) - 4, copy + strlen(copy) - 2);
    return replace_free(xml, from, to);
}

static void
one_round(const options *o, unsigned k, const char *image_id, round *r)
{
    char body[256], path[128], id[64], mac[32], copy[128], vol[160], src[160], file[256],
        backing[128];
    json_t *j, *x;
    char *xml;
    FILE *f;
    double t0;

    /* 1. sovd, from POST to the operation's success. */
    snprintf(body, sizeof(body), "{\"name\":\"bench-%u\",\"flavor\":\"bench-tiny\","
             "\"image\":\"guest\"}", k);
    t0 = bench_ms();
    j = call_ok("POST", "/v1/instances", member, body, 202);
    x = json_object_get(j, "instance");
    snprintf(id, sizeof(id), "%s", str(x, "id"));
    snprintf(mac, sizeof(mac), "%s", str(x, "mac"));
    wait_op(str(json_object_get(j, "operation"), "id"));
    r->sovd = bench_ms() - t0;
    json_decref(j);

    /* 2. Its XML, and a copy of its seed, before the delete takes them. */
    snprintf(copy, sizeof(copy), "%s-raw-%02x%04x", o->prefix, k & 0xff,
             (unsigned) (getpid() & 0xffff));
    xml = copy_xml(id, copy, mac);
    snprintf(src, sizeof(src), "sov-%s-seed", id);
    snprintf(vol, sizeof(vol), "%s-seed", copy);
    {
        char *argv[] = { "virsh", "-q", "-c", URI, "vol-clone", "--pool", (char *) o->pool,
                         src, vol, NULL };
        if (bench_run(argv, NULL) != 0)
            die("could not clone the seed volume %s", src);
    }

    /* 3. The instance goes, so no guest of sovd's boots while the reference runs. */
    snprintf(path, sizeof(path), "/v1/instances/%s", id);
    t0 = bench_ms();
    j = call_ok("DELETE", path, member, NULL, 202);
    wait_op(str(json_object_get(j, "operation"), "id"));
    r->delete = bench_ms() - t0;
    json_decref(j);

    /* 4. The reference: a fresh overlay of the same image (the size of bench-tiny's disk),
     * then `virsh create`. */
    snprintf(vol, sizeof(vol), "%s-disk", copy);
    snprintf(backing, sizeof(backing), "sov-image-%s", image_id);
    {
        char *argv[] = { "virsh", "-q", "-c", URI, "vol-create-as", (char *) o->pool, vol,
                         "1G", "--format", "qcow2", "--backing-vol", backing,
                         "--backing-vol-format", "qcow2", NULL };
        if (bench_run(argv, NULL) != 0)
            die("could not make the overlay %s", vol);
    }
    snprintf(file, sizeof(file), "/tmp/%s.xml", copy);
    f = fopen(file, "w");
    if (!f || fputs(xml, f) < 0 || fclose(f) != 0)
        die("could not write %s", file);
    free(xml);
    snprintf(running_copy, sizeof(running_copy), "%s", copy);
    t0 = bench_ms();
    if (virsh("create", file, NULL, NULL, NULL) != 0)
        die("virsh create %s failed", file);
    r->virsh = bench_ms() - t0;
    unlink(file);
    destroy_copy();
    {
        char *argv[] = { "virsh", "-q", "-c", URI, "vol-delete", "--pool", (char *) o->pool,
                         vol, NULL };
        bench_run(argv, NULL);
        snprintf(vol, sizeof(vol), "%s-seed", copy);
        bench_run(argv, NULL);
    }
}

/* ---- figures ---- */

static void
figures(const double *v, unsigned n, double *p50, double *p95)
{
    if (!bench_figures(v, n, p50, p95))
        die("%s", "out of memory");
}

static void
print_list(const char *key, const double *v, unsigned n)
{
    printf("\"%s\":[", key);
    for (unsigned i = 0; i < n; i++)
        printf("%s%.1f", i ? "," : "", v[i]);
    printf("]");
}

/* ---- volumes through the API ---- */

/* POST /v1/volumes of an empty 1 GiB volume of a plain type, to the operation's success (the
 * volume is available on the host): the timed figure; then `virsh vol-create-as` of the same
 * size and format in the same pool, process start to exit: the reference. Both are deleted
 * again (the volume through the API, waited for) before the next round. */
static void
volume_round(const options *o, unsigned k, double *sovd_ms, double *virsh_ms)
{
    char body[256], path[128], name[128], *out = NULL;
    double t;
    json_t *j;
    char *const create[] = { "virsh", "-q", "-c", URI, "vol-create-as", (char *) o->pool,
                             name, "1G", "--format", "qcow2", NULL };

    snprintf(body, sizeof(body),
             "{\"name\":\"bench-vol-%u\",\"size_gib\":1,\"type\":\"bench-plain\"}", k);
    t = bench_ms();
    j = call_ok("POST", "/v1/volumes", member, body, 202);
    wait_op(str(json_object_get(j, "operation"), "id"));
    *sovd_ms = bench_ms() - t;
    snprintf(path, sizeof(path), "/v1/volumes/%s", str(json_object_get(j, "volume"), "id"));
    json_decref(j);
    j = call_ok("DELETE", path, member, NULL, 202);
    wait_op(str(json_object_get(j, "operation"), "id"));
    json_decref(j);

    snprintf(name, sizeof(name), "%s-vol-%u", o->prefix, k);
    t = bench_ms();
    if (bench_run(create, &out) != 0)
        die("virsh vol-create-as failed: %s", out ? out : "");
    *virsh_ms = bench_ms() - t;
    free(out);
    out = NULL;
    if (virsh("vol-delete", "--pool", o->pool, name, &out) != 0)
        die("virsh vol-delete failed: %s", out ? out : "");
    free(out);
}

static void
parse_args(int argc, char **argv, options *o)
{
    *o = (options) { .count = 7, .volumes = true };
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--url") == 0) {
            o->url = v;
        } else if (strcmp(k, "--token-file") == 0) {
            o->token_file = v;
        } else if (strcmp(k, "--image") == 0) {
            o->image = v;
        } else if (strcmp(k, "--pool") == 0) {
            o->pool = v;
        } else if (strcmp(k, "--name") == 0) {
            o->prefix = v;
        } else if (strcmp(k, "--volumes") == 0 && (strcmp(v, "0") == 0 ||
                                                   strcmp(v, "1") == 0)) {
            o->volumes = v[0] == '1';
        } else if (strcmp(k, "--count") == 0) {
            char *end = NULL;
            unsigned long n = strtoul(v, &end, 10);
            if (!*v || *end || n < 1 || n > MAX_ROUNDS) {
                fprintf(stderr, "bench/create: --count takes 1 to %d\n", MAX_ROUNDS);
                exit(2);
            }
            o->count = (unsigned) n;
        } else {
            break;
        }
    }
    if (argc % 2 == 0 || !o->url || !o->token_file || !o->image || !o->pool || !o->prefix) {
        fprintf(stderr, "usage: %s --url URL --token-file FILE --image PATH --pool NAME "
                        "--name PREFIX [--count N] [--volumes 0|1]\n", argv[0]);
        exit(2);
    }
}

int
main(int argc, char **argv)
{
    options o;
    char virt[16], reason[256], image_id[64];
    double sovd[MAX_ROUNDS], virsh_ms[MAX_ROUNDS], del[MAX_ROUNDS];
    double s50, s95, v50, v95, d50, d95;
    double vol_sovd[MAX_ROUNDS], vol_virsh[MAX_ROUNDS], vs50, vs95, vv50, vv95;
    round warm, r;

    parse_args(argc, argv, &o);
    base_url = o.url;
    setvbuf(stdout, NULL, _IOLBF, 0);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();
    if (!curl)
        die("%s", "cannot start libcurl");
    read_token(o.token_file);
    make_world(&o, virt, reason, image_id);
    printf("bench/create: host " URI " runs guests under %s%s%s; %u rounds after one "
           "warm-up\n", strcmp(virt, "kvm") == 0 ? "KVM" : "TCG (emulation)",
           reason[0] ? ": " : "", reason, o.count);

    one_round(&o, 0, image_id, &warm);
    printf("  warm-up   sovd %8.1f ms   virsh create %8.1f ms   (not counted)\n", warm.sovd,
           warm.virsh);
    for (unsigned i = 0; i < o.count; i++) {
        one_round(&o, i + 1, image_id, &r);
        sovd[i] = r.sovd;
        virsh_ms[i] = r.virsh;
        del[i] = r.delete;
        printf("  round %-3u sovd %8.1f ms   virsh create %8.1f ms   difference %+8.1f ms"
               "   (delete %.1f ms)\n", i + 1, r.sovd, r.virsh, r.sovd - r.virsh, r.delete);
    }

    /* Volumes (storage/): a plain type, one warm-up round, then the same count. */
    vs50 = vs95 = vv50 = vv95 = -1;
    if (o.volumes) {
        json_decref(call_ok("POST", "/v1/volume-types", op_token,
                            "{\"name\":\"bench-plain\",\"encrypted\":false}", 201));
        volume_round(&o, 0, &vol_sovd[0], &vol_virsh[0]);
        printf("  volume warm-up   sovd %8.1f ms   virsh vol-create-as %8.1f ms   (not "
               "counted)\n", vol_sovd[0], vol_virsh[0]);
        for (unsigned i = 0; i < o.count; i++) {
            volume_round(&o, i + 1, &vol_sovd[i], &vol_virsh[i]);
            printf("  volume round %-3u sovd %8.1f ms   virsh vol-create-as %8.1f ms\n", i + 1,
                   vol_sovd[i], vol_virsh[i]);
        }
        figures(vol_sovd, o.count, &vs50, &vs95);
        figures(vol_virsh, o.count, &vv50, &vv95);
        printf("volume create (empty, 1 GiB) through the API, %u rounds: sovd median %.1f ms, "
               "p95 %.1f ms; virsh vol-create-as median %.1f ms, p95 %.1f ms\n", o.count, vs50,
               vs95, vv50, vv95);
    }

    figures(sovd, o.count, &s50, &s95);
    figures(virsh_ms, o.count, &v50, &v95);
    figures(del, o.count, &d50, &d95);
    printf("create-to-running (%s), %u rounds: sovd median %.1f ms, p95 %.1f ms; virsh "
           "create median %.1f ms, p95 %.1f ms; difference %+.1f ms (median), %+.1f ms "
           "(p95); delete median %.1f ms\n", virt, o.count, s50, s95, v50, v95, s50 - v50,
           s95 - v95, d50);
    /* Last, one line for scripts/bench. */
    printf("{\"virt_type\":\"%s\",\"rounds\":%u,\"sovd_median_ms\":%.1f,\"sovd_p95_ms\":%.1f,"
           "\"virsh_median_ms\":%.1f,\"virsh_p95_ms\":%.1f,\"difference_median_ms\":%.1f,"
           "\"difference_p95_ms\":%.1f,\"delete_median_ms\":%.1f,\"delete_p95_ms\":%.1f,",
           virt, o.count, s50, s95, v50, v95, s50 - v50, s95 - v95, d50, d95);
    print_list("sovd_ms", sovd, o.count);
    printf(",");
    print_list("virsh_ms", virsh_ms, o.count);
    printf(",\"warmup_sovd_ms\":%.1f,\"warmup_virsh_ms\":%.1f", warm.sovd, warm.virsh);
    printf(",\"volume_sovd_median_ms\":%.1f,\"volume_sovd_p95_ms\":%.1f,"
           "\"volume_virsh_median_ms\":%.1f,\"volume_virsh_p95_ms\":%.1f}\n", vs50, vs95, vv50,
           vv95);

    curl_easy_cleanup(curl);
    curl_global_cleanup();
    return 0;
}
