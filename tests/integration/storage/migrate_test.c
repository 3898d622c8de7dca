/* storage/'s part of a migration (storage/migrate.c through the storage instance hook's
 * migrate_check and migrate members) on two hosts of libvirt's test driver, each inside a
 * private libvirtd of its own (so that `virsh` on the same URI reads their pools), with a
 * real PostgreSQL. A real sovd makes what a tenant has (an instance, a plain and an encrypted
 * volume attached to it, a snapshot of the plain one); the hook's members are then called in
 * this process at each phase as compute's migration worker calls them, on handles of its own
 * to both hosts (the test driver's secrets are a table of the process that defines them: this
 * one's).
 *
 * Covered: the request's check adds the volumes' and the snapshot's sizes to the target's
 * room and refuses a volume in a transitional state, a snapshot being taken, and a volume
 * being copied, naming them; a live PREPARE defines the encrypted volume's secret on the
 * target and makes both volumes there empty, and sends the snapshot; a cold PREPARE defines
 * the secret only and COPY sends every file; COMMIT moves each row to the target host (and
 * its region and zone), its allocation with the host usages, and writes one "moved" record
 * per volume and snapshot (the encrypted one saying where its key lives), once even when run
 * twice; FINISH removes the source's files and secrets; ABORT removes the target's copies
 * and secrets and leaves the source whole; volume changes and copies wait while the
 * instance migrates (409 naming the instance); the reconciler's pass leaves a moving volume's
 * copies and secrets alone and reports what an ended migration left behind. Through the API
 * with compute's worker: a live and a cold migration move the volumes and the snapshot end
 * to end, a volume-booted instance moves with its boot volume, a failed migration and a
 * failed volume copy leave nothing on the target, a transitional volume refuses the request
 * and nothing is written. */
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bed.h"
#include "sov/config.h"
#include "storage_int.h"

#define REGION "fr-test-1"
#define REGION2 "fr-test-2"
#define IMAGE "base"
#define WAIT_S 60

static char host1[40], host2[40];
static char inst_id[40], plain[40], secure[40], snap[40];
static char master[700];
static sov_db *pdb;             /* this process's pool on the test's database */
static sov_config cfg;
static sov_ctx ctx;
static sov_hv *hv1, *hv2;
static sov_instance inst;
static sov_location from, to;
static sov_policy policy;

/* ---- fixture ---- */

static void
setup(void)
{
    bed_setup_two("sovmig");
    pdb = NULL;
    hv1 = hv2 = NULL;
    memset(&cfg, 0, sizeof(cfg));
}

static void
teardown(void)
{
    sov_hv_close(hv1);
    sov_hv_close(hv2);
    if (pdb)
        sov_db_free(pdb);
    sov_config_release(&cfg);
    bed_teardown();
}

/* ---- helpers ---- */

static void
op_succeeds(const char *id)
{
    tl_op_wait_ok(&sovd, op, id, WAIT_S);
}

/* POST path as acme's member, 202; wait for its operation; the resource's id (member key of
 * the answer) into id unless NULL. */
static void
post_op(const char *path, const char *body, const char *key, char *id)
{
    char op_id[40];

    bed_post_202(path, body, key, id, op_id);
    op_succeeds(op_id);
}

#define value bed_value
#define assert_value bed_assert_value

static void
exec_sql(const char *q)
{
    free(tl_db_exec(db, q));
}

static long long
host_disk_used(const char *host)
{
    char *v = value("SELECT disk_gib_used FROM hosts WHERE id = '%s'", host);
    long long n = strtoll(v, NULL, 10);

    free(v);
    return n;
}

#define in_pool bed_in_pool

static void
assert_files(const char *u, const char *which, bool want)
{
    char file[96];
    const char *ids[] = { plain, secure, NULL };

    for (size_t i = 0; ids[i]; i++) {
        snprintf(file, sizeof(file), "sov-vol-%s", ids[i]);
        ck_assert_msg(in_pool(u, file) == want, "%s on the %s host: %s", file, which,
                      want ? "missing" : "still there");
    }
    snprintf(file, sizeof(file), "sov-snap-%s", snap);
    ck_assert_msg(in_pool(u, file) == want, "%s on the %s host: %s", file, which,
                  want ? "missing" : "still there");
}

/* Whether hv holds the secret of volume id (its usage under the pool's folder). */
static bool
has_secret(sov_hv *hv, const char *id)
{
    sov_error err = SOV_ERROR_INIT;
    char dir[1024], prefix[1100], **names = NULL;
    size_t n = 0;
    bool yes = false;

    ck_assert_msg(sov_hv_pool_path(hv, pool, dir, sizeof(dir), &err) == 0, "%s", err.msg);
    snprintf(prefix, sizeof(prefix), "%s/sov-vol-", dir);
    ck_assert_msg(sov_hv_secret_list(hv, prefix, &names, &n, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < n; i++)
        yes = yes || strcasecmp(names[i], id) == 0;
    sov_hv_names_free(names, n);
    return yes;
}

/* sovd with both hosts (h1 in REGION, h2 in REGION2, both in the default EU policy), acme's
 * instance "vm" on h1 with a plain volume (1 GiB, with a snapshot) and an encrypted one
 * (2 GiB) attached; then this process's own view: its pool, configuration, context and
 * handles on both hosts, and the move as compute's worker describes it. */
static void
start_with(const char *fault)
{
    const char *args[] = { "--role=api,worker", "--worker-threads=4",
                           "--image-allow-file-urls=true", "--stop-timeout=5", master, NULL };
    char pool_flag[128], path_flag[700], path[256];
    char *argv[] = { "sovd", pool_flag, path_flag, master, NULL };
    char *envp[] = { NULL };
    sov_error err = SOV_ERROR_INIT;
    FILE *out;
    json_t *j;
    sov_db_options o = { .url = db, .pool_size = 4, .connect_timeout = 5,
                         .acquire_timeout_ms = 30000, .statement_timeout_ms = 60000 };

    snprintf(master, sizeof(master), "--keystore-master-key=%s/master.key", tmp);
    bed_start_fault(args, fault);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Mig FR 1\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-1\",\"zones\":[\"a\"]}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION2 "\",\"name\":\"Mig FR 2\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-2\",\"zones\":[\"b\"]}", 201));
    bed_two_hosts(REGION, REGION2, host1, host2);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/volume-types", op,
                           "{\"name\":\"secure\",\"encrypted\":true}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"tiny\",\"vcpus\":1,\"memory_mib\":256,"
                           "\"disk_gib\":1}", 201));
    bed_image(IMAGE, REGION, WAIT_S, NULL);
    post_op("/v1/instances", "{\"name\":\"vm\",\"flavor\":\"tiny\",\"image\":\"" IMAGE "\","
            "\"region\":\"" REGION "\"}", "instance", inst_id);
    post_op("/v1/volumes", "{\"name\":\"data\",\"type\":\"standard\",\"size_gib\":1,"
            "\"instance_hint\":\"vm\"}", "volume", plain);
    post_op("/v1/volumes", "{\"name\":\"vault\",\"type\":\"secure\",\"size_gib\":2,"
            "\"instance_hint\":\"vm\"}", "volume", secure);
    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", plain);
    post_op(path, "{\"action\":\"attach\",\"instance\":\"vm\"}", NULL, NULL);
    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", secure);
    post_op(path, "{\"action\":\"attach\",\"instance\":\"vm\"}", NULL, NULL);
    post_op("/v1/snapshots", "{\"name\":\"data-snap\",\"volume\":\"data\"}", "snapshot", snap);
    assert_value(host1, "SELECT host_id FROM instances WHERE id = '%s'", inst_id);
    assert_value("2", "SELECT count(*) FROM volumes WHERE host_id = '%s' AND state ="
                 " 'in-use'", host1);

    /* This process: the same database, pool and master key as sovd. */
    snprintf(pool_flag, sizeof(pool_flag), "--storage-pool=%s", pool);
    snprintf(path_flag, sizeof(path_flag), "--storage-pool-path=%s/pool", tmp);
    out = fopen("/dev/null", "w");
    ck_assert(out);
    ck_assert_msg(sov_config_load(&cfg, 4, argv, envp, out, &err) == 0, "%s", err.msg);
    fclose(out);
    ck_assert_msg(sov_db_new(&o, &pdb, &err) == 0, "%s", err.msg);
    memset(&ctx, 0, sizeof(ctx));
    ctx.db = pdb;
    ctx.cfg = &cfg;
    ctx.request_id = "";
    ctx.source = "";
    ctx.action = "instance.migrate";
    ck_assert_msg(sov_hv_register_libvirt(&err) == 0, "%s", err.msg);
    ck_assert_msg(sov_hv_open(uri, &hv1, &err) == 0, "%s", err.msg);
    ck_assert_msg(sov_hv_open(uri2, &hv2, &err) == 0, "%s", err.msg);

    memset(&inst, 0, sizeof(inst));
    j = bed_get("instances", inst_id);
    snprintf(inst.id, sizeof(inst.id), "%.36s", inst_id);
    snprintf(inst.tenant_id, sizeof(inst.tenant_id), "%.36s", acme.id);
    snprintf(inst.name, sizeof(inst.name), "%s", tl_str(j, "name"));
    snprintf(inst.host_id, sizeof(inst.host_id), "%.36s", host1);
    json_decref(j);
    memset(&from, 0, sizeof(from));
    memset(&to, 0, sizeof(to));
    snprintf(from.host, sizeof(from.host), "h1");
    snprintf(from.region, sizeof(from.region), REGION);
    snprintf(from.country, sizeof(from.country), "FR");
    snprintf(to.host, sizeof(to.host), "h2");
    snprintf(to.region, sizeof(to.region), REGION2);
    snprintf(to.country, sizeof(to.country), "FR");
    sov_policy_default(&policy);
}

static void
start(void)
{
    start_with(NULL);
}

static sov_instance_move
move(bool live, const char *migration_id, const sov_op *o)
{
    sov_instance_move m = {
        .inst = &inst, .migration_id = migration_id, .op = o, .live = live,
        .source_host_id = host1, .target_host_id = host2, .source_host_name = "h1",
        .target_host_name = "h2", .source_machine = "", .target_machine = "",
        .source = hv1, .target = hv2, .from = &from, .to = &to, .policy = &policy,
    };
    return m;
}

typedef struct check_args {
    bool live;
    long long extra;
    sov_migrate_phase phase;
    const sov_instance_move *m;
} check_args;

static int (*migrate_check_fn)(sov_dbconn *, sov_ctx *, const sov_instance *, bool,
                               const char *, long long *, sov_error *);
static int (*migrate_fn)(sov_dbconn *, sov_ctx *, sov_migrate_phase,
                         const sov_instance_move *, sov_error *);

static int
check_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    check_args *a = arg;

    return migrate_check_fn(c, &ctx, &inst, a->live, host2, &a->extra, err);
}

/* The request's check in a transaction of its own: 0 and *extra, or -1 and err. */
static int
check(bool live, long long *extra, sov_error *err)
{
    check_args a = { .live = live, .extra = 0 };
    int rc = sov_db_tx(pdb, check_tx, &a, err);

    *extra = a.extra;
    return rc;
}

static int
commit_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    check_args *a = arg;

    return migrate_fn(c, &ctx, SOV_MIGRATE_COMMIT, a->m, err);
}

/* A phase; COMMIT in a transaction of its own. */
static void
phase(const sov_instance_move *m, sov_migrate_phase ph)
{
    sov_error err = SOV_ERROR_INIT;
    check_args a = { .m = m };
    int rc = ph == SOV_MIGRATE_COMMIT ? sov_db_tx(pdb, commit_tx, &a, &err)
                                      : migrate_fn(NULL, &ctx, ph, m, &err);

    ck_assert_msg(rc == 0, "phase %d: %s: %s", (int) ph, err.msg, err.detail);
}

/* The storage hook's members (instance_hook.c registers them). */
static void
find_members(void)
{
    migrate_check_fn = sov_storage_migrate_check;
    migrate_fn = sov_storage_migrate;
}

/* Where the rows are and how many "moved" records they have. */
static void
assert_rows_on(const char *host, const char *region, const char *zone, int moved)
{
    char n[8];
    const char *ids[] = { plain, secure, NULL };

    for (size_t i = 0; ids[i]; i++) {
        assert_value(host, "SELECT host_id FROM volumes WHERE id = '%s'", ids[i]);
        assert_value(region, "SELECT region FROM volumes WHERE id = '%s'", ids[i]);
        assert_value(zone, "SELECT zone FROM volumes WHERE id = '%s'", ids[i]);
        assert_value(host, "SELECT a.host_id FROM volumes v JOIN host_allocations a ON a.id ="
                     " v.allocation_id WHERE v.id = '%s'", ids[i]);
        assert_value("in-use", "SELECT state FROM volumes WHERE id = '%s'", ids[i]);
    }
    assert_value(host, "SELECT host_id FROM snapshots WHERE id = '%s'", snap);
    assert_value(host, "SELECT host_id FROM host_allocations WHERE resource_type = 'snapshot'"
                 " AND resource_id = '%s'", snap);
    snprintf(n, sizeof(n), "%d", moved);
    assert_value(n, "SELECT count(*) FROM residency_records WHERE event = 'moved' AND"
                 " resource_id IN ('%s', '%s', '%s')", plain, secure, snap);
}

/* ---- tests ---- */

START_TEST(a_live_migration_moves_volumes_snapshots_and_secrets)
{
    sov_error err = SOV_ERROR_INIT;
    long long extra = -1, used1, used2;
    sov_instance_move m;

    start();
    find_members();
    ck_assert_msg(check(true, &extra, &err) == 0, "%s", err.msg);
    /* Both volumes and the snapshot need room on the target. */
    ck_assert_int_eq(extra, 1 + 2 + 1);
    m = move(true, "11111111-1111-4111-8111-111111111111", NULL);

    phase(&m, SOV_MIGRATE_PREPARE);
    assert_files(uri2, "target", true);
    assert_files(uri, "source", true);
    ck_assert_msg(has_secret(hv2, secure), "the encrypted volume's secret is not on the target");
    ck_assert_msg(!has_secret(hv2, plain), "a plain volume has a secret on the target");
    phase(&m, SOV_MIGRATE_PREPARE);         /* twice is once */
    phase(&m, SOV_MIGRATE_COPY);            /* live: libvirt copies */
    assert_rows_on(host1, REGION, "a", 0);

    used1 = host_disk_used(host1);
    used2 = host_disk_used(host2);
    phase(&m, SOV_MIGRATE_COMMIT);
    assert_rows_on(host2, REGION2, "b", 3);
    ck_assert_int_eq(host_disk_used(host1), used1 - 4);
    ck_assert_int_eq(host_disk_used(host2), used2 + 4);
    /* The records: from h1 to h2, naming the migration; the encrypted one's key. */
    assert_value("3", "SELECT count(*) FROM residency_records WHERE event = 'moved' AND"
                 " from_host = 'h1' AND to_host = 'h2' AND from_region = '" REGION "' AND"
                 " to_region = '" REGION2 "' AND reason LIKE '%%migration 1111%%'"
                 " AND reason LIKE '%%instance ''vm''%%'");
    assert_value("1", "SELECT count(*) FROM residency_records WHERE event = 'moved' AND"
                 " resource_type = 'volume' AND resource_id = '%s' AND reason LIKE"
                 " '%%key in %%'", secure);
    assert_value("1", "SELECT count(*) FROM residency_records WHERE event = 'moved' AND"
                 " resource_type = 'snapshot' AND resource_id = '%s'", snap);
    phase(&m, SOV_MIGRATE_COMMIT);          /* a commit run again writes nothing twice */
    assert_rows_on(host2, REGION2, "b", 3);
    ck_assert_int_eq(host_disk_used(host2), used2 + 4);

    phase(&m, SOV_MIGRATE_FINISH);
    assert_files(uri, "source", false);
    assert_files(uri2, "target", true);
    ck_assert(!has_secret(hv1, secure));
    ck_assert(has_secret(hv2, secure));
    phase(&m, SOV_MIGRATE_FINISH);
    /* An abort after the commit (a bug) never removes what the rows call the volumes. */
    phase(&m, SOV_MIGRATE_ABORT);
    assert_files(uri2, "target", true);
    ck_assert(has_secret(hv2, secure));
}
END_TEST

START_TEST(a_cold_migration_sends_every_file)
{
    long long extra = -1;
    sov_error err = SOV_ERROR_INIT;
    sov_instance_move m;

    start();
    find_members();
    ck_assert_msg(check(false, &extra, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(extra, 4);
    m = move(false, "22222222-2222-4222-8222-222222222222", NULL);
    phase(&m, SOV_MIGRATE_PREPARE);
    /* The secrets only: no empty volume is made for a cold move. */
    ck_assert(has_secret(hv2, secure));
    ck_assert(!in_pool(uri2, plain));
    phase(&m, SOV_MIGRATE_COPY);
    assert_files(uri2, "target", true);
    phase(&m, SOV_MIGRATE_COPY);
    phase(&m, SOV_MIGRATE_COMMIT);
    assert_rows_on(host2, REGION2, "b", 3);
    phase(&m, SOV_MIGRATE_FINISH);
    assert_files(uri, "source", false);
    ck_assert(!has_secret(hv1, secure));
}
END_TEST

START_TEST(an_abort_removes_the_targets_copies_and_keeps_the_source)
{
    long long extra = -1, used1, used2;
    sov_error err = SOV_ERROR_INIT;
    sov_instance_move m;

    start();
    find_members();
    ck_assert_msg(check(true, &extra, &err) == 0, "%s", err.msg);
    m = move(true, "33333333-3333-4333-8333-333333333333", NULL);
    used1 = host_disk_used(host1);
    used2 = host_disk_used(host2);
    phase(&m, SOV_MIGRATE_PREPARE);
    assert_files(uri2, "target", true);
    phase(&m, SOV_MIGRATE_ABORT);
    assert_files(uri2, "target", false);
    assert_files(uri, "source", true);
    ck_assert(!has_secret(hv2, secure));
    phase(&m, SOV_MIGRATE_ABORT);
    assert_rows_on(host1, REGION, "a", 0);
    ck_assert_int_eq(host_disk_used(host1), used1);
    ck_assert_int_eq(host_disk_used(host2), used2);
    /* After a failed move the source's files serve on: a FINISH (a bug) removes nothing. */
    phase(&m, SOV_MIGRATE_FINISH);
    assert_files(uri, "source", true);
}
END_TEST

START_TEST(unsettled_volumes_and_snapshots_refuse_the_move)
{
    long long extra = 0;
    sov_error err = SOV_ERROR_INIT;
    char copy[40];

    start();
    find_members();
    /* A volume in a transitional state: 409 naming it and its state. */
    exec_sql("UPDATE volumes SET state = 'extending' WHERE name = 'vault'");
    ck_assert_int_eq(check(true, &extra, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    tl_assert_contains(err.msg, "volume 'vault' is extending");
    exec_sql("UPDATE volumes SET state = 'in-use' WHERE name = 'vault'");
    /* A snapshot being taken. */
    exec_sql("UPDATE snapshots SET state = 'creating' WHERE name = 'data-snap'");
    sov_error_clear(&err);
    ck_assert_int_eq(check(true, &extra, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    tl_assert_contains(err.msg, "snapshot 'data-snap'");
    exec_sql("UPDATE snapshots SET state = 'available' WHERE name = 'data-snap'");
    /* A volume being copied from the volume (its copy runs on the source host). */
    snprintf(copy, sizeof(copy), "%s", "44444444-4444-4444-8444-444444444444");
    exec_sql("INSERT INTO volumes (id, tenant_id, workspace, name, size_gib, state,"
               " region, zone, host_id, pool, volume, source_type, source_id) SELECT"
               " '44444444-4444-4444-8444-444444444444', tenant_id, workspace, 'copy', 1,"
               " 'creating', region, zone, host_id, pool,"
               " 'sov-vol-44444444-4444-4444-8444-444444444444', 'volume', id FROM volumes"
               " WHERE name = 'data'");
    sov_error_clear(&err);
    ck_assert_int_eq(check(true, &extra, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    tl_assert_contains(err.msg, "'copy'");
    exec_sql("UPDATE volumes SET state = 'available' WHERE name = 'copy'");
    sov_error_clear(&err);
    ck_assert_msg(check(true, &extra, &err) == 0, "%s", err.msg);
}
END_TEST

START_TEST(volume_changes_wait_while_the_instance_migrates)
{
    char path[256];

    start();
    exec_sql("UPDATE instances SET state = 'migrating' WHERE name = 'vm'");
    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", plain);
    bed_refused("POST", path, acme.token[TL_MEMBER], "{\"action\":\"detach\"}", 409,
                "/problems/conflict", NULL, "moves with instance 'vm'");
    bed_refused("POST", path, acme.token[TL_MEMBER], "{\"action\":\"extend\",\"size_gib\":5}",
                409, "/problems/conflict", NULL, "moves with instance 'vm'");
    bed_refused("POST", "/v1/snapshots", acme.token[TL_MEMBER],
                "{\"name\":\"s2\",\"volume\":\"data\"}", 409, "/problems/conflict", NULL,
                "moves with instance 'vm'");
    bed_refused("POST", "/v1/volumes", acme.token[TL_MEMBER],
                "{\"name\":\"c2\",\"source\":{\"type\":\"volume\",\"id\":\"data\"}}", 409,
                "/problems/conflict", NULL, "moves with instance 'vm'");
    bed_refused("POST", "/v1/volumes", acme.token[TL_MEMBER],
                "{\"name\":\"c3\",\"source\":{\"type\":\"snapshot\",\"id\":\"data-snap\"}}",
                409, "/problems/conflict", NULL, "moves with instance 'vm'");
    snprintf(path, sizeof(path), "/v1/snapshots/%s", snap);
    bed_refused("DELETE", path, acme.token[TL_MEMBER], NULL, 409, "/problems/conflict", NULL,
                "snapshot 'data-snap' moves with instance 'vm'");
    assert_value("available", "SELECT state FROM snapshots WHERE id = '%s'", snap);
    /* Nothing was written. */
    assert_value("0", "SELECT count(*) FROM volumes WHERE name IN ('c2', 'c3')");
    assert_value("0", "SELECT count(*) FROM snapshots WHERE name = 's2'");
    assert_value("1", "SELECT size_gib FROM volumes WHERE id = '%s'", plain);
    exec_sql("UPDATE instances SET state = 'running' WHERE name = 'vm'");
}
END_TEST

/* The reconciler's pass while a migration runs: the copies on the target are no orphans,
 * the volumes are not lost, the target's secret stays; once the migration has ended without
 * its clean-up, what it left on the target is reported (never deleted) and the secret goes. */
START_TEST(the_reconciler_leaves_a_moving_volume_alone)
{
    sov_error err = SOV_ERROR_INIT;
    char op_id[40], mig[40], *v;
    unsigned repairs = 0;
    sov_instance_move m;

    start();
    find_members();
    /* The migration's operation, queued for later (no worker takes it), and its row. */
    v = value("INSERT INTO operations (tenant_id, kind, resource_type, resource_id, state,"
              " run_after) VALUES ('%s', 'instance.migrate', 'instance', '%s', 'queued',"
              " now() + interval '1 hour') RETURNING id", acme.id, inst_id);
    snprintf(op_id, sizeof(op_id), "%s", v);
    free(v);
    v = value("INSERT INTO instance_migrations (instance_id, tenant_id, operation_id, live,"
              " source_host_id, target_host_id, source_host, target_host, state) VALUES"
              " ('%s', '%s', '%s', true, '%s', '%s', 'h1', 'h2', 'copying') RETURNING id",
              inst_id, acme.id, op_id, host1, host2);
    snprintf(mig, sizeof(mig), "%s", v);
    free(v);
    m = move(true, mig, NULL);
    phase(&m, SOV_MIGRATE_PREPARE);
    ck_assert_msg(sov_volumes_reconcile(&ctx, &repairs, &err) == 0, "%s", err.msg);
    assert_value("in-use", "SELECT state FROM volumes WHERE id = '%s'", plain);
    assert_value("in-use", "SELECT state FROM volumes WHERE id = '%s'", secure);
    assert_value("available", "SELECT state FROM snapshots WHERE id = '%s'", snap);
    assert_value("0", "SELECT count(*) FROM audit_log WHERE action = 'volumes.orphan-found'");
    ck_assert_msg(has_secret(hv2, secure), "the reconciler removed the target's secret");
    assert_files(uri2, "target", true);

    /* Ended without its clean-up: the copies on h2 are no one's there now. */
    exec_sql("UPDATE instance_migrations SET state = 'failed'");
    exec_sql("UPDATE operations SET state = 'failed' WHERE kind = 'instance.migrate'");
    ck_assert_msg(sov_volumes_reconcile(&ctx, &repairs, &err) == 0, "%s", err.msg);
    assert_value("3", "SELECT count(*) FROM audit_log WHERE action = 'volumes.orphan-found'");
    assert_files(uri2, "target", true);
    ck_assert(!has_secret(hv2, secure));
    assert_value("in-use", "SELECT state FROM volumes WHERE id = '%s'", secure);
}
END_TEST

/* ---- through the API, with compute's migration worker ---- */

/* POST actions {action: migrate, ...} as the operator: 202; wait for its end; the
 * operation's final state. */
static char *
migrate_api(const char *extra, char op_id[40])
{
    char path[128], body[256], *state;
    json_t *j, *o;

    snprintf(path, sizeof(path), "/v1/instances/%s/actions", inst_id);
    snprintf(body, sizeof(body), "{\"action\":\"migrate\"%s}", extra);
    j = tl_call_ok(&sovd, "POST", path, op, body, 202);
    snprintf(op_id, 40, "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    o = tl_op_wait_done(&sovd, op, op_id, WAIT_S);
    state = strdup(tl_str(o, "state"));
    json_decref(o);
    return state;
}

/* The instance's row settled back to state on host. */
static void
assert_instance(const char *host, const char *state)
{
    assert_value(host, "SELECT host_id FROM instances WHERE id = '%s'", inst_id);
    assert_value(state, "SELECT state FROM instances WHERE id = '%s'", inst_id);
}

START_TEST(live_and_cold_migrations_move_the_volumes_end_to_end)
{
    char op_id[40], *state;
    long long used1, used2;

    start();
    used1 = host_disk_used(host1);
    used2 = host_disk_used(host2);
    /* Instance 1 GiB, volumes 1 + 2 GiB, snapshot 1 GiB: all of it on h1. */
    ck_assert_int_eq(used1, 5);
    ck_assert_int_eq(used2, 0);
    state = migrate_api(",\"live\":true,\"host\":\"h2\"", op_id);
    ck_assert_msg(strcmp(state, "succeeded") == 0, "live migration %s", state);
    free(state);
    assert_instance(host2, "running");
    assert_rows_on(host2, REGION2, "b", 3);
    assert_files(uri2, "target", true);
    assert_files(uri, "source", false);
    ck_assert_int_eq(host_disk_used(host1), 0);
    ck_assert_int_eq(host_disk_used(host2), 5);
    /* Each record names the operation of the move. */
    assert_value("3", "SELECT count(*) FROM residency_records WHERE event = 'moved' AND"
                 " operation_id = '%s' AND resource_type IN ('volume', 'snapshot')", op_id);
    assert_value("0", "SELECT count(*) FROM host_allocations WHERE resource_type ="
                 " 'migration'");

    /* And back, cold. */
    state = migrate_api(",\"live\":false,\"host\":\"h1\"", op_id);
    ck_assert_msg(strcmp(state, "succeeded") == 0, "cold migration %s", state);
    free(state);
    assert_instance(host1, "running");
    assert_rows_on(host1, REGION, "a", 6);
    assert_files(uri, "source", true);
    assert_files(uri2, "target", false);
    ck_assert_int_eq(host_disk_used(host1), 5);
    ck_assert_int_eq(host_disk_used(host2), 0);
}
END_TEST

/* An instance that boots from a volume has no overlay of its own: its boot volume (vda) is
 * the disk that moves. */
START_TEST(a_volume_booted_instance_moves_with_its_boot_volume)
{
    char id[40], op_id[40], boot[40], file[96], path[128], body[256], *v, *state;
    const char *src_uri, *dst_uri, *dst_host;
    json_t *j, *o;

    start();
    post_op("/v1/instances", "{\"name\":\"bootvm\",\"flavor\":\"tiny\",\"region\":\""
            REGION "\",\"boot\":{\"image\":\"" IMAGE "\",\"size_gib\":1,"
            "\"type\":\"secure\"}}", "instance", id);
    json_decref(bed_wait_state("instances", id, "running", WAIT_S));
    v = value("SELECT boot_volume_id FROM instances WHERE id = '%s'", id);
    snprintf(boot, sizeof(boot), "%s", v);
    free(v);
    ck_assert_msg(strlen(boot) == 36, "no boot volume: '%s'", boot);
    v = value("SELECT host_id FROM instances WHERE id = '%s'", id);
    src_uri = strcmp(v, host1) == 0 ? uri : uri2;
    dst_uri = strcmp(v, host1) == 0 ? uri2 : uri;
    dst_host = strcmp(v, host1) == 0 ? host2 : host1;
    free(v);
    snprintf(file, sizeof(file), "sov-vol-%s", boot);
    ck_assert(in_pool(src_uri, file));

    snprintf(path, sizeof(path), "/v1/instances/%s/actions", id);
    snprintf(body, sizeof(body), "{\"action\":\"migrate\",\"live\":true,\"host\":\"%s\"}",
             strcmp(dst_host, host1) == 0 ? "h1" : "h2");
    j = tl_call_ok(&sovd, "POST", path, op, body, 202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    o = tl_op_wait_done(&sovd, op, op_id, WAIT_S);
    state = strdup(tl_str(o, "state"));
    ck_assert_msg(strcmp(state, "succeeded") == 0, "migration %s: %s", state,
                  json_dumps(o, 0));
    free(state);
    json_decref(o);
    assert_value(dst_host, "SELECT host_id FROM instances WHERE id = '%s'", id);
    assert_value(dst_host, "SELECT host_id FROM volumes WHERE id = '%s'", boot);
    assert_value("vda", "SELECT device FROM volume_attachments WHERE volume_id = '%s'", boot);
    assert_value("1", "SELECT count(*) FROM residency_records WHERE event = 'moved' AND"
                 " resource_type = 'volume' AND resource_id = '%s' AND operation_id = '%s'",
                 boot, op_id);
    ck_assert_msg(in_pool(dst_uri, file), "the boot volume is not on the target");
    ck_assert_msg(!in_pool(src_uri, file), "the boot volume is still on the source");
}
END_TEST

/* Start with the fault given (hv_faulty's spec), migrate with args to h2: the migration
 * fails, the instance runs on the source with its files and rows there, none on the
 * target. */
static void
migration_fails_leaving_nothing(const char *fault, const char *args)
{
    char op_id[40], *state;

    start_with(fault);
    state = migrate_api(args, op_id);
    ck_assert_str_eq(state, "failed");
    free(state);
    assert_instance(host1, "running");
    assert_rows_on(host1, REGION, "a", 0);
    assert_files(uri, "source", true);
    assert_files(uri2, "target", false);
    ck_assert_int_eq(host_disk_used(host2), 0);
}

/* A live migration that fails in libvirt: the target's copies go, nothing moved. */
START_TEST(a_failed_migration_leaves_nothing_on_the_target)
{
    migration_fails_leaving_nothing("migrate:1:conflict", ",\"live\":true,\"host\":\"h2\"");
    ck_assert_int_eq(host_disk_used(host1), 5);
}
END_TEST

/* A cold migration whose copy of a volume fails (the overlay and seed are sent first, then
 * the volumes): the copies already made on the target go too. */
START_TEST(a_failed_volume_copy_leaves_nothing_on_the_target)
{
    migration_fails_leaving_nothing("volume_send:4:conflict",
                                    ",\"live\":false,\"host\":\"h2\"");
}
END_TEST

/* A volume in a transitional state refuses the migration, naming it; nothing is written. */
START_TEST(a_transitional_volume_refuses_the_migration)
{
    char path[128];

    start();
    exec_sql("UPDATE volumes SET state = 'detaching' WHERE name = 'data'");
    snprintf(path, sizeof(path), "/v1/instances/%s/actions", inst_id);
    bed_refused("POST", path, op, "{\"action\":\"migrate\",\"host\":\"h2\"}", 409,
                "/problems/conflict", NULL, "volume 'data' is detaching");
    bed_refused("POST", path, acme.token[TL_MEMBER], "{\"action\":\"migrate\"}", 409,
                "/problems/conflict", NULL, "volume 'data' is detaching");
    assert_instance(host1, "running");
    assert_value("0", "SELECT count(*) FROM instance_migrations");
    assert_value("0", "SELECT count(*) FROM host_allocations WHERE host_id = '%s'", host2);
    assert_value("0", "SELECT count(*) FROM operations WHERE kind = 'instance.migrate'");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("storage/migrate");
    TCase *tc = tcase_create("migrate");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, a_live_migration_moves_volumes_snapshots_and_secrets);
    tcase_add_test(tc, a_cold_migration_sends_every_file);
    tcase_add_test(tc, an_abort_removes_the_targets_copies_and_keeps_the_source);
    tcase_add_test(tc, unsettled_volumes_and_snapshots_refuse_the_move);
    tcase_add_test(tc, volume_changes_wait_while_the_instance_migrates);
    tcase_add_test(tc, the_reconciler_leaves_a_moving_volume_alone);
    tcase_add_test(tc, live_and_cold_migrations_move_the_volumes_end_to_end);
    tcase_add_test(tc, a_failed_migration_leaves_nothing_on_the_target);
    tcase_add_test(tc, a_volume_booted_instance_moves_with_its_boot_volume);
    tcase_add_test(tc, a_failed_volume_copy_leaves_nothing_on_the_target);
    tcase_add_test(tc, a_transitional_volume_refuses_the_migration);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
