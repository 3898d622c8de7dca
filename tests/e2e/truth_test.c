/* The truth of a residency report: what it says is where a tenant's instances are now must
 * be what the hosts' libvirt daemons really hold, one to one.
 *
 * One sovd (API, worker and reconciler) with three regions in three EU countries and a host
 * in each: the machine's own libvirtd (qemu:///system) in France, and libvirt's test driver
 * inside two private libvirtd daemons (each with its own state) in Germany and Sweden. The
 * tenant imports the tiny guest image into each region (an instance boots where its image
 * is), creates instances on every host (two real guests, three on each test host), then
 * stops one and deletes one per host. A fresh JSON report over a period from before the
 * first create to a little in the future then lists, as intervals still open at its end
 * (end == generated_at: residency/report.c ends them at the generation time when the
 * period reaches beyond it), where each instance's data is now. Those (instance, host)
 * pairs must be exactly the domains sov-<instance id> of this deployment (their metadata
 * names its control plane) that `virsh list --all` shows on each host, running or shut off
 * (a stopped instance's disk still lives there). The document must
 * verify with openssl exactly as README's compliance section says, and each deleted
 * instance must have only closed intervals and no domain anywhere.
 *
 * Storage too: on every host a volume is kept, one deleted, a snapshot of the kept one kept
 * and another deleted, and a volume restored from the kept snapshot. The files of each
 * host's pool (sov-vol-<id>, sov-snap-<id>), the live volumes and snapshots of the database
 * and the report's intervals still open at its end must be the same (file @ host) set, and
 * exactly the ones the test kept, where their volume was placed.
 *
 * Every libvirt object on the shared system libvirtd has a name of this run (pool
 * sovtest-<pid>-<rand>, network sovt<pid>, domains sov-<instance id>) and is removed when the
 * test process exits, however it exits; the private daemons die with the test. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "guest_bed.h"
#include "testlib.h"

#define URI "qemu:///system"
#define OP_WAIT_S 150           /* an operation on a real host, TCG on a busy, shared machine */
#define REPORT_WAIT_S 60
#define NHOSTS 3
#define NINST 8

static char *db;
static char *tmp;
static char *image;
static char *op;                /* the bootstrap operator's token */
static char *keep;              /* a folder outliving teardown: the at-exit cleanup's list */
static tl_sovd sovd;
static tl_tenant acme;
static tl_libvirtd lvd[2];
static char pool[64], net[16], cidr[32];

/* The places of the scenario: one host per region, the first the machine's libvirtd. */
static struct {
    const char *region, *country, *host;
    char uri[800];
} hosts[NHOSTS] = {
    { "fr-truth-1", "FR", "real-fr", URI },
    { "de-truth-1", "DE", "test-de", "" },
    { "se-truth-1", "SE", "test-se", "" },
};

/* The instances: where each goes and what happens to it after it runs. */
enum fate { KEEP, STOP, DELETE };
static struct {
    const char *name;
    int host;
    enum fate fate;
    char id[40], op[40];
} inst[NINST] = {
    { .name = "fr-stop", .host = 0, .fate = STOP },
    { .name = "fr-delete", .host = 0, .fate = DELETE },
    { .name = "de-keep", .host = 1, .fate = KEEP },
    { .name = "de-stop", .host = 1, .fate = STOP },
    { .name = "de-delete", .host = 1, .fate = DELETE },
    { .name = "se-keep", .host = 2, .fate = KEEP },
    { .name = "se-stop", .host = 2, .fate = STOP },
    { .name = "se-delete", .host = 2, .fate = DELETE },
};

/* The volumes and snapshots made on each host: what happens to each. */
enum { ST_VOL_KEEP, ST_VOL_GONE, ST_SNAP_KEEP, ST_SNAP_GONE, ST_RESTORED, ST__N };
static const struct {
    const char *name;           /* with the host's index after it */
    bool snapshot, kept;
} storage_kinds[ST__N] = {
    [ST_VOL_KEEP] = { "vol-keep", false, true },
    [ST_VOL_GONE] = { "vol-gone", false, false },
    [ST_SNAP_KEEP] = { "snap-keep", true, true },
    [ST_SNAP_GONE] = { "snap-gone", true, false },
    [ST_RESTORED] = { "vol-restored", false, true },
};
static char storage_ids[NHOSTS][ST__N][40];

/* ---- small helpers ---- */

/* Run a shell command, its output into a new string (malloc); the exit status in *rc. */
/* What the system libvirtd must lose, in order: the domains listed in keep/domains (each
 * added as soon as its instance exists), then the network and the pool. */
static void
cleanup_command(char *cmd, size_t size)
{
    snprintf(cmd, size,
             "for d in $(cat '%s/domains' 2>/dev/null); do"
             " virsh -q -c " URI " destroy \"$d\";"
             " virsh -q -c " URI " undefine --nvram \"$d\" || virsh -q -c " URI
             " undefine \"$d\"; done;"
             " virsh -q -c " URI " net-destroy '%s'; virsh -q -c " URI " net-undefine '%s';"
             " virsh -q -c " URI " pool-destroy '%s'; virsh -q -c " URI " pool-undefine '%s'",
             keep, net, net, pool, pool);
}

static void
remember_domain(const char *id)
{
    char path[600];
    FILE *f;

    snprintf(path, sizeof(path), "%s/domains", keep);
    f = fopen(path, "a");
    ck_assert_msg(f, "cannot append to %s", path);
    fprintf(f, "sov-%s\n", id);
    ck_assert_int_eq(fclose(f), 0);
}

/* An RFC 3339 time of the wall clock, offset seconds from now. */
static void
wall_time(long offset, char out[32])
{
    time_t t = time(NULL) + offset;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Microseconds since 1970 of a report's time ("…:SSZ" or "…:SS.ffffffZ"). */
static long long
report_us(const char *s)
{
    struct tm tm = { 0 };
    const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    long long us = 0, scale = 100000;

    ck_assert_msg(rest, "not a report time: '%s'", s);
    if (*rest == '.')
        for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10)
            us += (*rest - '0') * scale;
    ck_assert_msg(strcmp(rest, "Z") == 0, "not a report time: '%s'", s);
    return (long long) timegm(&tm) * 1000000 + us;
}

/* ---- fixture ---- */

static void
setup(void)
{
    char cmd[2048];

    db = tl_db_create();
    tmp = tl_tmpdir();
    keep = tl_tmpdir();
    memset(&sovd, 0, sizeof(sovd));
    memset(lvd, 0, sizeof(lvd));
    op = NULL;
    image = NULL;
    tl_bed_names(URI, tmp, "sovt", pool, net, cidr, NULL);
    /* Registered before anything exists, so a failure at any point leaves nothing. */
    cleanup_command(cmd, sizeof(cmd));
    {
        char all[2600];
        snprintf(all, sizeof(all), "%s; rm -rf '%s' '%s'", cmd, tmp, keep);
        tl_sh_at_exit("%s", all);
    }
    /* Two private daemons, each with its own test driver state; they die with the test. */
    for (int i = 0; i < 2; i++) {
        tl_libvirtd_start(&lvd[i]);
        snprintf(hosts[i + 1].uri, sizeof(hosts[i + 1].uri),
                 "test+unix:///default?socket=%s", lvd[i].sock);
        /* Its folder too, once the daemon has died with the test (a failed check skips
         * tl_libvirtd_discard). */
        snprintf(cmd, sizeof(cmd), "for i in $(seq 100); do kill -0 %d 2>/dev/null || break;"
                 " sleep 0.1; done; rm -rf '%s'", (int) lvd[i].pid, lvd[i].dir);
        tl_sh_at_exit("%s", cmd);
    }
    for (int i = 0; i < NINST; i++)
        inst[i].id[0] = inst[i].op[0] = '\0';
}

static void
teardown(void)
{
    char cmd[2048];
    int rc = tl_sovd_stop_clean(&sovd, 30);

    cleanup_command(cmd, sizeof(cmd));
    tl_sh("{ %s; } >/dev/null 2>&1", cmd);
    tl_sovd_discard(&sovd);
    for (int i = 0; i < 2; i++)
        tl_libvirtd_discard(&lvd[i]);
    tl_guest_image_remove(image);
    free(image);
    tl_db_drop(db);
    free(db);
    free(op);
    tl_tmpdir_remove(tmp);
    free(tmp);
    tl_tmpdir_remove(keep);
    free(keep);
    ck_assert_msg(rc == 0, "sovd exited with %d on SIGTERM (its log's tail is above)", rc);
}

/* ---- the API ---- */

static void
wait_op_ok(const char *id, int wait_s)
{
    tl_op_wait_ok(&sovd, op, id, wait_s);
}

static void
assert_instance_state(int i, const char *want)
{
    char path[128];
    json_t *x;

    snprintf(path, sizeof(path), "/v1/instances/%s", inst[i].id);
    x = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    ck_assert_msg(strcmp(tl_str(x, "state"), want) == 0, "instance %s (%s) is %s, not %s: %s",
                  inst[i].name, inst[i].id, tl_str(x, "state"), want, json_dumps(x, 0));
    json_decref(x);
}

static void
write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    ck_assert_msg(f, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* GET path as token into file dir/name (with an extra header, may be NULL); the response
 * stays in r for the caller to free. */
static void
fetch_to(const char *path, const char *token, const char *header, const char *dir,
         const char *name, tl_resp *r)
{
    const char *headers[] = { header, NULL };
    char file[700];

    tl_call_h(&sovd, "GET", path, token, NULL, header ? headers : NULL, r);
    ck_assert_msg(r->status == 200, "GET %s: %ld %s", path, r->status,
                  r->body ? r->body : "");
    snprintf(file, sizeof(file), "%s/%s", dir, name);
    write_file(file, r->body, r->len);
}

/* ---- where things are: the report and the hosts ---- */

/* A set of "instance id @ host" (or "instance id state") lines, sorted. */
typedef struct pairs {
    char item[NINST * 4 + NHOSTS * ST__N * 2][128];
    size_t n;
} pairs;

static void
pairs_add(pairs *p, const char *id, const char *sep, const char *what)
{
    ck_assert_uint_lt(p->n, sizeof(p->item) / sizeof(p->item[0]));
    snprintf(p->item[p->n++], sizeof(p->item[0]), "%s%s%s", id, sep, what);
}

static int
item_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void
pairs_sort(pairs *p)
{
    qsort(p->item, p->n, sizeof(p->item[0]), item_cmp);
}

static bool
pairs_equal(const pairs *a, const pairs *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->item[i], b->item[i]) != 0)
            return false;
    return true;
}

static void
pairs_print(const char *title, const pairs *p)
{
    printf("%s (%zu):\n", title, p->n);
    for (size_t i = 0; i < p->n; i++)
        printf("  %s\n", p->item[i]);
}

/* Whether domain `name` on uri carries this deployment's id in its metadata: the system
 * libvirtd is shared with other test runs, each a deployment of its own, whose domains are
 * not this one's business (nor in its reports). */
static bool
ours(const char *uri, const char *name, const char *control_plane)
{
    int rc;
    char *meta = tl_sh_out(&rc, "virsh -q -c '%s' metadata '%s' %s 2>/dev/null", uri, name,
                        "https://sovereign.eu/xmlns/instance/1");
    bool yes = rc == 0 && strstr(meta, control_plane) != NULL;

    free(meta);
    return yes;
}

/* What host h's libvirt holds: the sov-* domains of this deployment, running or not, into
 * truth (the instance id after "sov-") and, with their states, into states (as "id
 * state"). */
static void
host_domains(int h, pairs *truth, pairs *states)
{
    int rc;
    char *out = tl_sh_out(&rc, "virsh -q -c '%s' list --all", hosts[h].uri);
    char *save = NULL;
    char *cp = tl_db_exec(db, "SELECT id FROM control_plane");

    ck_assert_msg(rc == 0, "virsh list on %s (%s): %s", hosts[h].host, hosts[h].uri, out);
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char dom_id[16], name[128], state[64] = "";
        int n = sscanf(line, "%15s %127s %63[^\n]", dom_id, name, state);

        if (n < 2 || strncmp(name, "sov-", 4) != 0 || !ours(hosts[h].uri, name, cp))
            continue;
        pairs_add(truth, name + 4, " @ ", hosts[h].host);
        if (states)
            pairs_add(states, name + 4, " ", state);
    }
    free(cp);
    free(out);
}

static int
inst_by_id(const char *id)
{
    for (int i = 0; i < NINST; i++)
        if (strcmp(inst[i].id, id) == 0)
            return i;
    return -1;
}

/* ---- storage: volumes and snapshots ---- */

/* POST a volume or snapshot body as acme's member; its id into id, its operation's into
 * op_id. */
static void
storage_post(const char *collection, const char *body, char id[40], char op_id[40])
{
    char path[64];
    json_t *j;

    snprintf(path, sizeof(path), "/v1/%s", collection);
    j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER], body, 202);
    snprintf(id, 40, "%s", tl_str(json_object_get(j, strcmp(collection, "volumes") == 0
                                                         ? "volume" : "snapshot"), "id"));
    snprintf(op_id, 40, "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
}

/* On every host: a volume kept and one deleted, a snapshot of the kept one kept and another
 * deleted, and a volume restored from the kept snapshot. */
static void
make_storage(void)
{
    char body[512], ops[NHOSTS][ST__N][40], path[128];
    json_t *j;

    json_decref(tl_call_ok(&sovd, "POST", "/v1/volume-types", op, "{\"name\":\"truth-std\"}",
                           201));
    for (int h = 0; h < NHOSTS; h++)
        for (int k = ST_VOL_KEEP; k <= ST_VOL_GONE; k++) {
            snprintf(body, sizeof(body), "{\"name\":\"%s-%d\",\"type\":\"truth-std\","
                     "\"size_gib\":1,\"region\":\"%s\"}", storage_kinds[k].name, h,
                     hosts[h].region);
            storage_post("volumes", body, storage_ids[h][k], ops[h][k]);
        }
    for (int h = 0; h < NHOSTS; h++)
        for (int k = ST_VOL_KEEP; k <= ST_VOL_GONE; k++)
            wait_op_ok(ops[h][k], OP_WAIT_S);
    for (int h = 0; h < NHOSTS; h++)
        for (int k = ST_SNAP_KEEP; k <= ST_SNAP_GONE; k++) {
            snprintf(body, sizeof(body), "{\"name\":\"%s-%d\",\"volume\":\"%s\"}",
                     storage_kinds[k].name, h, storage_ids[h][ST_VOL_KEEP]);
            storage_post("snapshots", body, storage_ids[h][k], ops[h][k]);
        }
    for (int h = 0; h < NHOSTS; h++)
        for (int k = ST_SNAP_KEEP; k <= ST_SNAP_GONE; k++)
            wait_op_ok(ops[h][k], OP_WAIT_S);
    for (int h = 0; h < NHOSTS; h++) {
        snprintf(body, sizeof(body), "{\"name\":\"%s-%d\",\"type\":\"truth-std\","
                 "\"source\":{\"type\":\"snapshot\",\"id\":\"%s\"}}",
                 storage_kinds[ST_RESTORED].name, h, storage_ids[h][ST_SNAP_KEEP]);
        storage_post("volumes", body, storage_ids[h][ST_RESTORED], ops[h][ST_RESTORED]);
        /* A snapshot and a volume deleted (the volume has no snapshot of its own). */
        snprintf(path, sizeof(path), "/v1/snapshots/%s", storage_ids[h][ST_SNAP_GONE]);
        j = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
        snprintf(ops[h][ST_SNAP_GONE], 40, "%s", tl_str(json_object_get(j, "operation"), "id"));
        json_decref(j);
        snprintf(path, sizeof(path), "/v1/volumes/%s", storage_ids[h][ST_VOL_GONE]);
        j = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
        snprintf(ops[h][ST_VOL_GONE], 40, "%s", tl_str(json_object_get(j, "operation"), "id"));
        json_decref(j);
    }
    for (int h = 0; h < NHOSTS; h++) {
        wait_op_ok(ops[h][ST_RESTORED], OP_WAIT_S);
        wait_op_ok(ops[h][ST_SNAP_GONE], OP_WAIT_S);
        wait_op_ok(ops[h][ST_VOL_GONE], OP_WAIT_S);
    }
}

/* The file a volume or snapshot of ours is kept in. */
static void
storage_file(int h, int k, char *out, size_t size)
{
    snprintf(out, size, "%s%s", storage_kinds[k].snapshot ? "sov-snap-" : "sov-vol-",
             storage_ids[h][k]);
}

/* The volume or snapshot of the report's (resource type, id): its host and kind, or -1. */
static int
storage_by_id(const char *type, const char *id, int *ret_h)
{
    for (int h = 0; h < NHOSTS; h++)
        for (int k = 0; k < ST__N; k++)
            if (strcmp(storage_ids[h][k], id) == 0 &&
                storage_kinds[k].snapshot == (strcmp(type, "snapshot") == 0)) {
                *ret_h = h;
                return k;
            }
    return -1;
}

/* What host h's pool holds of ours: every sov-vol-* and sov-snap-* file, as "file @ host". */
static void
host_files(int h, pairs *truth)
{
    int rc;
    char *out = tl_sh_out(&rc, "virsh -q -c '%s' vol-list '%s'", hosts[h].uri, pool);
    char *save = NULL;

    ck_assert_msg(rc == 0, "virsh vol-list on %s (%s): %s", hosts[h].host, hosts[h].uri, out);
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[128];

        if (sscanf(line, "%127s", name) != 1)
            continue;
        if (strncmp(name, "sov-vol-", 8) == 0 || strncmp(name, "sov-snap-", 9) == 0)
            pairs_add(truth, name, " @ ", hosts[h].host);
    }
    free(out);
}

/* What the database says lives where: the files of the volumes and snapshots not deleted. */
static void
db_files(pairs *live)
{
    char *out = tl_db_exec(db, "SELECT string_agg(f, E'\\n') FROM ("
                               " SELECT v.volume || ' @ ' || h.name AS f FROM volumes v"
                               " JOIN hosts h ON h.id = v.host_id WHERE v.state <> 'deleted'"
                               " UNION ALL SELECT s.volume || ' @ ' || h.name FROM snapshots s"
                               " JOIN hosts h ON h.id = s.host_id WHERE s.state <> 'deleted') x");
    char *save = NULL;

    for (char *line = strtok_r(out ? out : (char *) "", "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
        pairs_add(live, line, "", "");
    free(out);
}

/* ---- the test ---- */

START_TEST(a_report_says_where_instances_are_exactly_as_the_hosts_libvirt_does)
{
    const char *virt = tl_env("SOV_TEST_VIRT_TYPE");
    char store[600], pool_flag[128], path_flag[700], net_flag[64], cidr_flag[64],
        store_flag[700], body[2048], path[256], from[32], to[32], report_id[40], dir[700],
        image_op[NHOSTS][40], verify[1024];
    double t0 = tl_now(), t_running, t_acted, t_storage, t_report;
    json_t *j, *meta, *doc, *row;
    json_error_t jerr;
    pairs reported = { .n = 0 }, truth = { .n = 0 }, expected = { .n = 0 },
          states = { .n = 0 }, files_reported = { .n = 0 }, files_truth = { .n = 0 },
          files_db = { .n = 0 }, files_expected = { .n = 0 };
    long long generated;
    size_t k;
    int rc;

    snprintf(store, sizeof(store), "%s/store", tmp);
    snprintf(pool_flag, sizeof(pool_flag), "--storage-pool=%s", pool);
    snprintf(path_flag, sizeof(path_flag), "--storage-pool-path=%s/pool", tmp);
    snprintf(net_flag, sizeof(net_flag), "--nat-network=%s", net);
    snprintf(cidr_flag, sizeof(cidr_flag), "--nat-cidr=%s", cidr);
    snprintf(store_flag, sizeof(store_flag), "--image-store=%s", store);
    /* orphan_policy adopt: the system libvirtd is shared, and a sov-* domain of another
     * run's sovd is no orphan of ours to destroy. It also keeps the reconciler from hiding
     * a domain a delete left behind: the comparison below must see it. */
    const char *args[] = { "--role=api,worker,reconciler", pool_flag, path_flag, net_flag,
                           cidr_flag, store_flag, "--image-allow-file-urls=true",
                           "--host-check-interval=2", "--stop-timeout=15",
                           "--orphan-policy=adopt", NULL };
    tl_sovd_start(&sovd, db, args);
    {
        /* sovd dies with the test; its folder (log, state) must go with it too. */
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "for i in $(seq 100); do kill -0 %d 2>/dev/null || break;"
                 " sleep 0.1; done; rm -rf \"$(dirname '%s')\"", (int) sovd.pid, sovd.log);
        tl_sh_at_exit("%s", cmd);
    }
    op = tl_operator_token(&sovd);
    tl_tenant_make(&sovd, op, "acme", &acme);

    /* Three regions, a host in each. */
    for (int h = 0; h < NHOSTS; h++) {
        snprintf(body, sizeof(body), "{\"code\":\"%s\",\"name\":\"Truth %s\",\"country\":"
                 "\"%s\",\"datacenter\":\"dc-%s\",\"zones\":[\"a\"]}", hosts[h].region,
                 hosts[h].country, hosts[h].country, hosts[h].region);
        json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op, body, 201));
        snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"%s\",\"zone\":\"a\","
                 "\"libvirt_uri\":\"%s\"}", hosts[h].host, hosts[h].region, hosts[h].uri);
        j = tl_host_add(&sovd, op, body);
        ck_assert_msg(strcmp(tl_str(j, "state"), "up") == 0, "host %s: %s", hosts[h].host,
                      json_dumps(j, 0));
        ck_assert_str_eq(tl_str(j, "hypervisor"), h == 0 ? virt : "test");
        json_decref(j);
    }
    /* One machine is one host: the French machine registered again for Sweden, under its
     * own URI or another reaching the same daemon, is refused, so no report can ever name
     * two countries for one machine. */
    {
        tl_resp r;
        json_t *o, *list;

        tl_call(&sovd, "POST", "/v1/hosts", op,
                "{\"name\":\"real-se\",\"region\":\"se-truth-1\",\"zone\":\"a\","
                "\"libvirt_uri\":\"" URI "\"}", &r);
        tl_assert_problem(&r, 409, "/problems/conflict");
        ck_assert_msg(strstr(tl_str(r.json, "detail"), "'real-fr'"), "%s", r.body);
        tl_resp_free(&r);
        o = tl_host_add_fails(&sovd, op,
                              "{\"name\":\"real-se\",\"region\":\"se-truth-1\",\"zone\":"
                              "\"a\",\"libvirt_uri\":\"qemu+unix:///system?socket="
                              "/run/libvirt/libvirt-sock\"}", NULL);
        ck_assert_str_eq(tl_str(json_object_get(o, "error"), "code"), "conflict");
        ck_assert_msg(strstr(tl_str(json_object_get(o, "error"), "message"), "'real-fr'"),
                      "%s", tl_str(json_object_get(o, "error"), "message"));
        json_decref(o);
        list = tl_call_ok(&sovd, "GET", "/v1/hosts?state=up", op, NULL, 200);
        ck_assert_int_eq(json_array_size(json_object_get(list, "items")), NHOSTS);
        json_decref(list);
    }
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"truth-tiny\",\"vcpus\":1,\"memory_mib\":256,"
                           "\"disk_gib\":1}", 201));

    /* The image, once per region: imports run side by side. */
    image = tl_bed_image();
    for (int h = 0; h < NHOSTS; h++) {
        snprintf(body, sizeof(body), "{\"name\":\"guest-%s\",\"region\":\"%s\","
                 "\"format\":\"qcow2\",\"source_url\":\"file://%s\"}", hosts[h].region,
                 hosts[h].region, image);
        j = tl_call_ok(&sovd, "POST", "/v1/images", acme.token[TL_MEMBER], body, 202);
        snprintf(image_op[h], sizeof(image_op[h]), "%s",
                 tl_str(json_object_get(j, "operation"), "id"));
        json_decref(j);
    }
    for (int h = 0; h < NHOSTS; h++)
        wait_op_ok(image_op[h], OP_WAIT_S);

    /* The period starts before the first create (a little slack for clocks). */
    wall_time(-5, from);

    /* Create all, steered by region; the 202 already names the host. */
    t0 = tl_now();
    for (int i = 0; i < NINST; i++) {
        const char *region = hosts[inst[i].host].region;
        json_t *x;

        snprintf(body, sizeof(body), "{\"name\":\"%s\",\"flavor\":\"truth-tiny\",\"image\":"
                 "\"guest-%s\",\"region\":\"%s\"}", inst[i].name, region, region);
        j = tl_call_ok(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER], body, 202);
        x = json_object_get(j, "instance");
        snprintf(inst[i].id, sizeof(inst[i].id), "%s", tl_str(x, "id"));
        snprintf(inst[i].op, sizeof(inst[i].op), "%s",
                 tl_str(json_object_get(j, "operation"), "id"));
        /* Before anything can fail: wherever it went, its domain goes at exit. */
        remember_domain(inst[i].id);
        ck_assert_msg(strcmp(tl_str(json_object_get(x, "host"), "name"),
                             hosts[inst[i].host].host) == 0,
                      "instance %s placed on %s, not %s", inst[i].name,
                      tl_str(json_object_get(x, "host"), "name"), hosts[inst[i].host].host);
        json_decref(j);
    }
    for (int i = 0; i < NINST; i++) {
        wait_op_ok(inst[i].op, OP_WAIT_S);
        assert_instance_state(i, "running");
    }
    t_running = tl_now() - t0;

    /* Stop one and delete one per host, all at once. */
    for (int i = 0; i < NINST; i++) {
        if (inst[i].fate == KEEP)
            continue;
        if (inst[i].fate == STOP) {
            snprintf(path, sizeof(path), "/v1/instances/%s/actions", inst[i].id);
            j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER],
                           "{\"action\":\"stop\"}", 202);
        } else {
            snprintf(path, sizeof(path), "/v1/instances/%s", inst[i].id);
            j = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
        }
        snprintf(inst[i].op, sizeof(inst[i].op), "%s",
                 tl_str(json_object_get(j, "operation"), "id"));
        json_decref(j);
    }
    for (int i = 0; i < NINST; i++) {
        if (inst[i].fate == KEEP)
            continue;
        wait_op_ok(inst[i].op, OP_WAIT_S);
    }
    for (int i = 0; i < NINST; i++)
        assert_instance_state(i, inst[i].fate == KEEP ? "running"
                                 : inst[i].fate == STOP ? "stopped" : "deleted");
    t_acted = tl_now() - t0;

    /* Volumes and snapshots on every host, some deleted again. */
    make_storage();
    t_storage = tl_now() - t0;

    /* A fresh report of the tenant, from before the first create to a little ahead. */
    wall_time(600, to);
    snprintf(body, sizeof(body), "{\"from\":\"%s\",\"to\":\"%s\",\"format\":\"json\","
             "\"tenants\":[\"%s\"]}", from, to, acme.id);
    j = tl_call_ok(&sovd, "POST", "/v1/residency/reports", acme.token[TL_AUDITOR], body, 202);
    snprintf(report_id, sizeof(report_id), "%s", tl_str(json_object_get(j, "report"), "id"));
    wait_op_ok(tl_str(json_object_get(j, "operation"), "id"), REPORT_WAIT_S);
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/residency/reports/%s", report_id);
    meta = tl_call_ok(&sovd, "GET", path, acme.token[TL_AUDITOR], NULL, 200);
    ck_assert_str_eq(tl_str(meta, "state"), "succeeded");
    ck_assert_int_eq(tl_num(meta, "violations"), 0);

    /* What the hosts run, right after: nothing changes in between (every operation is
     * done, and the reconciler has nothing to repair). */
    for (int h = 0; h < NHOSTS; h++) {
        host_domains(h, &truth, &states);
        host_files(h, &files_truth);
    }
    db_files(&files_db);
    t_report = tl_now() - t0;

    /* Document, signature and key, and the check README gives compliance teams. */
    snprintf(dir, sizeof(dir), "%s/report", tmp);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    {
        tl_resp r;
        char *kid;

        snprintf(path, sizeof(path), "/v1/residency/reports/%s/document", report_id);
        fetch_to(path, acme.token[TL_AUDITOR], NULL, dir, "report.json", &r);
        ck_assert_uint_eq(r.len, (size_t) tl_num(meta, "size_bytes"));
        doc = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, &jerr);
        ck_assert_msg(doc, "the report is not JSON: %s (line %d)", jerr.text, jerr.line);
        tl_resp_free(&r);
        snprintf(path, sizeof(path), "/v1/residency/reports/%s/signature", report_id);
        fetch_to(path, acme.token[TL_AUDITOR], NULL, dir, "report.sig", &r);
        ck_assert_uint_eq(r.len, 64);
        tl_resp_free(&r);
        snprintf(path, sizeof(path), "/v1/residency/signing-key?key_id=%s",
                 tl_str(meta, "key_id"));
        fetch_to(path, acme.token[TL_AUDITOR], "Accept: application/x-pem-file", dir,
                 "key.pem", &r);
        kid = tl_resp_header(&r, "X-Sov-Key-Id");
        ck_assert_msg(kid && strcmp(kid, tl_str(meta, "key_id")) == 0, "X-Sov-Key-Id %s",
                      kid ? kid : "(none)");
        free(kid);
        tl_resp_free(&r);
    }
    {
        char *out = tl_sh_out(&rc, "cd '%s' && openssl pkeyutl -verify -pubin -inkey key.pem "
                                "-rawin -in report.json -sigfile report.sig", dir);
        snprintf(verify, sizeof(verify), "%s", out);
        free(out);
        ck_assert_msg(rc == 0 && strstr(verify, "Signature Verified Successfully"),
                      "openssl does not verify the report (%d): %s", rc, verify);
    }

    /* Where the report says the instances are now: their intervals still open at its end,
     * which for a period reaching beyond the generation time is the generation time. */
    {
        json_t *head = json_object_get(doc, "report");
        json_t *scope = json_object_get(head, "scope");

        ck_assert_str_eq(tl_str(json_object_get(head, "period"), "from"), from);
        ck_assert_str_eq(tl_str(json_object_get(head, "period"), "to"), to);
        ck_assert(json_is_array(scope) && json_array_size(scope) == 1);
        ck_assert_str_eq(json_string_value(json_array_get(scope, 0)), acme.id);
        generated = report_us(tl_str(head, "generated_at"));
        ck_assert_int_eq(tl_num(json_object_get(doc, "summary"), "violations"), 0);
        ck_assert_uint_eq(json_array_size(json_object_get(doc, "violations")), 0);
    }
    json_array_foreach(json_object_get(doc, "rows"), k, row) {
        long long end;
        int i;

        if (strcmp(tl_str(row, "resource_type"), "volume") == 0 ||
            strcmp(tl_str(row, "resource_type"), "snapshot") == 0) {
            char file[96];
            int h = -1, s_k = storage_by_id(tl_str(row, "resource_type"),
                                            tl_str(row, "resource_id"), &h);

            ck_assert_msg(s_k >= 0, "the report lists storage the test never made: %s",
                          json_dumps(row, 0));
            ck_assert_str_eq(tl_str(row, "host"), hosts[h].host);
            ck_assert_str_eq(tl_str(row, "country"), hosts[h].country);
            storage_file(h, s_k, file, sizeof(file));
            if (report_us(tl_str(row, "end")) == generated)
                pairs_add(&files_reported, file, " @ ", tl_str(row, "host"));
            continue;
        }
        if (strcmp(tl_str(row, "resource_type"), "instance") != 0)
            continue;
        ck_assert_str_eq(tl_str(row, "tenant_id"), acme.id);
        i = inst_by_id(tl_str(row, "resource_id"));
        ck_assert_msg(i >= 0, "the report lists an instance the test never made: %s",
                      json_dumps(row, 0));
        /* Each interval is where the instance was put, in its region and country. */
        ck_assert_str_eq(tl_str(row, "host"), hosts[inst[i].host].host);
        ck_assert_str_eq(tl_str(row, "region"), hosts[inst[i].host].region);
        ck_assert_str_eq(tl_str(row, "country"), hosts[inst[i].host].country);
        ck_assert_str_eq(tl_str(row, "jurisdiction"), "EU");
        end = report_us(tl_str(row, "end"));
        ck_assert_msg(end <= generated, "an interval ends after the report was made: %s",
                      json_dumps(row, 0));
        ck_assert_msg(report_us(tl_str(row, "start")) < end, "an empty interval: %s",
                      json_dumps(row, 0));
        if (end == generated)
            pairs_add(&reported, tl_str(row, "resource_id"), " @ ", tl_str(row, "host"));
    }

    /* What must be true by the test's own account: every instance not deleted, where the
     * scheduler put it; the deleted ones with closed intervals only, and no domain. */
    for (int i = 0; i < NINST; i++) {
        bool listed = false;

        json_array_foreach(json_object_get(doc, "rows"), k, row)
            listed = listed || (strcmp(tl_str(row, "resource_type"), "instance") == 0 &&
                                strcmp(tl_str(row, "resource_id"), inst[i].id) == 0);
        ck_assert_msg(listed, "instance %s (%s) has no interval in the report", inst[i].name,
                      inst[i].id);
        if (inst[i].fate != DELETE) {
            pairs_add(&expected, inst[i].id, " @ ", hosts[inst[i].host].host);
            continue;
        }
        json_array_foreach(json_object_get(doc, "rows"), k, row)
            if (strcmp(tl_str(row, "resource_type"), "instance") == 0 &&
                strcmp(tl_str(row, "resource_id"), inst[i].id) == 0)
                ck_assert_msg(report_us(tl_str(row, "end")) < generated,
                              "deleted instance %s still has an open interval: %s",
                              inst[i].name, json_dumps(row, 0));
        for (int h = 0; h < NHOSTS; h++) {
            char *out = tl_sh_out(&rc, "virsh -q -c '%s' dominfo 'sov-%s'", hosts[h].uri,
                               inst[i].id);
            ck_assert_msg(rc != 0, "deleted instance %s left domain sov-%s on %s: %s",
                          inst[i].name, inst[i].id, hosts[h].host, out);
            free(out);
        }
    }
    for (int h = 0; h < NHOSTS; h++)
        for (int sk = 0; sk < ST__N; sk++) {
            char file[96];

            storage_file(h, sk, file, sizeof(file));
            if (storage_kinds[sk].kept)
                pairs_add(&files_expected, file, " @ ", hosts[h].host);
        }
    pairs_sort(&reported);
    pairs_sort(&truth);
    pairs_sort(&expected);
    pairs_sort(&states);
    pairs_sort(&files_reported);
    pairs_sort(&files_truth);
    pairs_sort(&files_db);
    pairs_sort(&files_expected);

    printf("truth (%s): generated_at %s\n", virt,
           tl_str(json_object_get(doc, "report"), "generated_at"));
    for (int i = 0; i < NINST; i++)
        printf("  %-10s %s on %s, %s\n", inst[i].name, inst[i].id, hosts[inst[i].host].host,
               inst[i].fate == KEEP ? "kept running" : inst[i].fate == STOP ? "stopped"
                                                                            : "deleted");
    pairs_print("the report's current locations (intervals open at generated_at)", &reported);
    pairs_print("what the hosts' libvirt holds (virsh list --all, sov-*)", &truth);
    pairs_print("domain states", &states);
    pairs_print("the report's current storage (volumes and snapshots open at generated_at)",
                &files_reported);
    pairs_print("what the hosts' pools hold (virsh vol-list, sov-vol-* and sov-snap-*)",
                &files_truth);
    pairs_print("the database's live volumes and snapshots", &files_db);
    printf("openssl: %s", verify);
    printf("times from the first create: all running %.1f s, stopped and deleted %.1f s, "
           "volumes and snapshots %.1f s, report and virsh %.1f s\n", t_running, t_acted,
           t_storage, t_report);
    fflush(stdout);

    ck_assert_msg(pairs_equal(&reported, &truth),
                  "the report's current locations and the hosts' domains differ (both sets "
                  "are printed above)");
    ck_assert_msg(pairs_equal(&truth, &expected),
                  "the hosts' domains are not the instances the test kept (stopped or "
                  "running), where they were placed");
    ck_assert_msg(pairs_equal(&files_reported, &files_truth),
                  "the report's current storage and the hosts' pools differ (both sets are "
                  "printed above)");
    ck_assert_msg(pairs_equal(&files_db, &files_truth),
                  "the database's live volumes and snapshots and the hosts' pools differ "
                  "(both sets are printed above)");
    ck_assert_msg(pairs_equal(&files_truth, &files_expected),
                  "the hosts' pools do not hold exactly the volumes and snapshots the test "
                  "kept, where they were placed");
    for (size_t s = 0; s < states.n; s++) {
        char id[40];
        int i;

        snprintf(id, sizeof(id), "%.36s", states.item[s]);
        i = inst_by_id(id);
        ck_assert_msg(i >= 0 && strstr(states.item[s], inst[i].fate == STOP ? "shut off"
                                                                            : "running"),
                      "domain state %s, but the instance is %s", states.item[s],
                      i >= 0 && inst[i].fate == STOP ? "stopped" : "running");
    }
    json_decref(doc);
    json_decref(meta);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("e2e/truth");
    TCase *tc = tcase_create("truth");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 560);
    tcase_add_test(tc, a_report_says_where_instances_are_exactly_as_the_hosts_libvirt_does);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
