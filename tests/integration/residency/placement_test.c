/* The scheduler against a real PostgreSQL: hosts are plain rows (no hypervisor is needed to
 * decide), regions come from the residency service. 50 concurrent claims onto room for 10
 * succeed exactly 10 times; placement never lands outside the tenant's policy (a randomized
 * test checks every decision against brute force over the rows it made); spread and pack,
 * zones, GPUs, allocation ratios, anti-affinity (also under concurrency) and host states are
 * honoured; a claim stores its decision and a residency record, and a release gives the
 * capacity back. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/compute.h"
#include "sov/migrate.h"
#include "sov/repo/db_pq.h"
#include "testlib.h"

static char *url;
static sov_db *db;
static PGconn *pg;              /* the test's own connection, for setting rows up */
static sov_config spread_cfg, pack_cfg;
static sov_ctx ctx;
static char tenant[SOV_UUID_LEN + 1];

/* ---- helpers ---- */

static void
open_pool(const char *u, unsigned size, sov_db **ret)
{
    sov_error err = SOV_ERROR_INIT;
    sov_db_options o = { .url = u, .pool_size = size, .connect_timeout = 5,
                         .acquire_timeout_ms = 30000, .statement_timeout_ms = 60000 };

    ck_assert_msg(sov_db_new(&o, ret, &err) == 0, "%s", err.msg);
}

static void
load_config(sov_config *cfg, const char *flag)
{
    char *argv[] = { "sovd", (char *) flag, NULL };
    char *envp[] = { NULL };
    sov_error err = SOV_ERROR_INIT;
    FILE *out = fopen("/dev/null", "w");

    ck_assert(out);
    ck_assert_msg(sov_config_load(cfg, flag ? 2 : 1, argv, envp, out, &err) == 0, "%s",
                  err.msg);
    fclose(out);
}

/* Run SQL on the test's connection; fails the test on error. The first value of the first
 * row goes into ret (when given and there is one). */
/* SQL on the test's own connection; the first value into ret (size) unless NULL. */
#define sql(...) tl_pg_sql(pg, __VA_ARGS__)

static long long
sql_ll(const char *query)
{
    char v[64];

    sql(v, sizeof(v), "%s", query);
    return strtoll(v, NULL, 10);
}

static void
make_tenant(const char *name, char *ret_id)
{
    sql(ret_id, SOV_UUID_LEN + 1, "INSERT INTO tenants (name) VALUES ('%s') RETURNING id", name);
}

/* A region through the service, so its jurisdiction is derived as in production; zones is
 * "a,b,c". */
static void
make_region(const char *code, const char *country, const char *zones)
{
    sov_error err = SOV_ERROR_INIT;
    sov_region in, out;
    const char *z = zones;

    memset(&in, 0, sizeof(in));
    snprintf(in.code, sizeof(in.code), "%s", code);
    snprintf(in.name, sizeof(in.name), "Region %s", code);
    snprintf(in.country, sizeof(in.country), "%s", country);
    snprintf(in.datacenter, sizeof(in.datacenter), "dc-%s", code);
    while (*z) {
        size_t len = strcspn(z, ",");
        snprintf(in.zones[in.nzones++], sizeof(in.zones[0]), "%.*s", (int) len, z);
        z += len;
        if (*z == ',')
            z++;
    }
    ck_assert_msg(sov_region_create(&ctx, &in, &out, &err) == 0, "region %s: %s", code,
                  err.msg);
}

typedef struct host_spec {
    const char *name, *region, *zone, *state;
    int cpus;
    double cpu_ratio;
    long long memory_mib;
    double ram_ratio;
    long long storage_gib;
    int gpus;
    int vcpus_used;
    long long memory_mib_used, disk_gib_used;
    int gpus_used;
} host_spec;

/* A host row; ret_id (may be NULL) gets its id. */
static void
make_host(const host_spec *h, char *ret_id)
{
    char id[SOV_UUID_LEN + 1];

    sql(id, sizeof(id),
        "INSERT INTO hosts (name, region, zone, libvirt_uri, hypervisor, state, cpus,"
        " cpu_allocation_ratio, memory_mib, ram_allocation_ratio, storage_gib, gpus,"
        " vcpus_used, memory_mib_used, disk_gib_used, gpus_used) VALUES ('%s', '%s', '%s',"
        " 'test:///default', 'test', '%s', %d, %.2f, %lld, %.2f, %lld, %d, %d, %lld, %lld, %d)"
        " RETURNING id",
        h->name, h->region, h->zone, h->state ? h->state : "up", h->cpus,
        h->cpu_ratio > 0 ? h->cpu_ratio : 1.0, h->memory_mib,
        h->ram_ratio > 0 ? h->ram_ratio : 1.0, h->storage_gib, h->gpus, h->vcpus_used,
        h->memory_mib_used, h->disk_gib_used, h->gpus_used);
    if (ret_id)
        snprintf(ret_id, SOV_UUID_LEN + 1, "%s", id);
}

/* A plain host: cpus at ratio 1, memory, 1000 GiB of disk, up. */
static void
plain_host(const char *name, const char *region, const char *zone, int cpus,
           long long memory_mib)
{
    host_spec h = { .name = name, .region = region, .zone = zone, .cpus = cpus,
                    .memory_mib = memory_mib, .storage_gib = 1000 };
    make_host(&h, NULL);
}

static sov_place_request
request(int vcpus, long long memory_mib)
{
    sov_place_request r = { .tenant_id = tenant, .vcpus = vcpus, .memory_mib = memory_mib,
                            .resource_type = "instance", .resource_id = "vm-1" };
    return r;
}

/* A placement on the stack: the policy it holds is freed at scope exit. */
static void
placement_release(sov_placement *p)
{
    sov_policy_free(p->policy);
}
#define auto_placement SOV_CLEANUP(placement_release) sov_placement

typedef struct claim_args {
    sov_ctx *ctx;
    const sov_place_request *r;
    sov_placement *p;
} claim_args;

static int
claim_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    claim_args *a = arg;
    return sov_placement_claim(c, a->ctx, a->r, a->p, err);
}

/* A claim in its own transaction on d, as a worker would make it. */
static int
claim_on(sov_db *d, sov_ctx *x, const sov_place_request *r, sov_placement *p, sov_error *err)
{
    claim_args a = { x, r, p };
    return sov_db_tx(d, claim_tx, &a, err);
}

static int
claim(const sov_place_request *r, sov_placement *p, sov_error *err)
{
    return claim_on(db, &ctx, r, p, err);
}

/* A claim that must succeed; returns the host's name in p. */
static void
claim_ok(const sov_place_request *r, sov_placement *p)
{
    sov_error err = SOV_ERROR_INIT;
    ck_assert_msg(claim(r, p, &err) == 0, "claim refused: %s", err.msg);
}

static void
claim_fails(const sov_place_request *r, sov_errcode code, sov_placement *p)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_int_eq(claim(r, p, &err), -1);
    ck_assert_msg(err.code == code, "code %d, want %d: %s", err.code, code, err.msg);
}

static int
release_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    return sov_placement_release(c, arg, err);
}

static int
release(const char *allocation_id, sov_error *err)
{
    return sov_db_tx(db, release_tx, (void *) allocation_id, err);
}

static long long
host_ll(const char *name, const char *column)
{
    char v[64];

    sql(v, sizeof(v), "SELECT %s FROM hosts WHERE name = '%s'", column, name);
    return strtoll(v, NULL, 10);
}

static void
set_policy_sql(const char *tenant_id, const char *j, const char *c, const char *r)
{
    sql(NULL, 0,
        "INSERT INTO residency_policies (tenant_id, jurisdictions, countries, regions) "
        "VALUES ('%s', '{%s}', '{%s}', '{%s}') ON CONFLICT (tenant_id) DO UPDATE SET "
        "jurisdictions = EXCLUDED.jurisdictions, countries = EXCLUDED.countries, "
        "regions = EXCLUDED.regions",
        tenant_id, j, c, r);
}

/* ---- fixture ---- */

static void
setup(void)
{
    sov_error err = SOV_ERROR_INIT;
    sov_dbconn *c = NULL;
    unsigned applied = 0;

    url = tl_db_create();
    open_pool(url, 4, &db);
    ck_assert_msg(sov_db_acquire(db, &c, &err) == 0, "%s", err.msg);
    ck_assert_msg(sov_migrate(c, sov_migrations, sov_migrations_count, &applied, &err) == 0,
                  "%s", err.msg);
    sov_db_release(c);
    ck_assert_uint_eq(applied, sov_migrations_count);
    pg = PQconnectdb(url);
    ck_assert_msg(PQstatus(pg) == CONNECTION_OK, "%s", PQerrorMessage(pg));
    sov_db_quiet(pg);
    load_config(&spread_cfg, NULL);
    load_config(&pack_cfg, "--placement-strategy=pack");
    memset(&ctx, 0, sizeof(ctx));
    ctx.db = db;
    ctx.cfg = &spread_cfg;
    ctx.request_id = "";
    ctx.source = "";
    make_tenant("acme", tenant);
}

static void
teardown(void)
{
    PQfinish(pg);
    sov_db_free(db);
    sov_config_release(&spread_cfg);
    sov_config_release(&pack_cfg);
    tl_db_drop(url);
    free(url);
}

/* ---- concurrency ---- */

#define RACERS 50

typedef struct racer {
    pthread_barrier_t *go;
    const char *group;
    char resource_id[32];
    int opened;
    int rc;
    sov_error err;
    sov_placement p;
} racer;

/* One claim on a pool of its own, fired when every racer holds a live connection. No Check
 * asserts here: the main thread judges. */
static void *
race(void *arg)
{
    racer *me = arg;
    sov_db *mine = NULL;
    sov_dbconn *c = NULL;
    sov_db_options o = { .url = url, .pool_size = 1, .connect_timeout = 10,
                         .acquire_timeout_ms = 60000, .statement_timeout_ms = 60000 };
    sov_ctx x = ctx;
    sov_place_request r = request(2, 2048);

    r.disk_gib = 10;
    r.anti_affinity_group = me->group;
    r.resource_id = me->resource_id;
    if (sov_db_new(&o, &mine, &me->err) == 0 && sov_db_acquire(mine, &c, &me->err) == 0) {
        sov_db_release(c);
        me->opened = 1;
    }
    x.db = mine;
    pthread_barrier_wait(me->go);
    if (me->opened)
        me->rc = claim_on(mine, &x, &r, &me->p, &me->err);
    sov_db_free(mine);
    return NULL;
}

static void
run_racers(racer *racers, int n, const char *group)
{
    pthread_t threads[RACERS];
    pthread_barrier_t go;

    ck_assert_int_le(n, RACERS);
    ck_assert_int_eq(pthread_barrier_init(&go, NULL, (unsigned) n), 0);
    for (int i = 0; i < n; i++) {
        placement_release(&racers[i].p);   /* a run before's */
        memset(&racers[i], 0, sizeof(racers[i]));
        racers[i].go = &go;
        racers[i].group = group;
        snprintf(racers[i].resource_id, sizeof(racers[i].resource_id), "vm-%d", i);
        ck_assert_int_eq(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
    }
    for (int i = 0; i < n; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < n; i++)
        ck_assert_msg(racers[i].opened, "racer %d could not connect: %s", i,
                      racers[i].err.msg);
}

/* The demand: two hosts with room for 5 requests each (after ratios), 50 claims at
 * once, exactly 10 succeed and the rows agree with each other. */
START_TEST(fifty_concurrent_claims_onto_room_for_ten_succeed_exactly_ten_times)
{
    static racer racers[RACERS];
    /* 5 cpus at ratio 2.0: 10 vCPUs, five requests of 2; memory also fits exactly five. */
    host_spec a = { .name = "h-a", .region = "fr-par-1", .zone = "a", .cpus = 5,
                    .cpu_ratio = 2.0, .memory_mib = 10240, .storage_gib = 1000 };
    host_spec b = a;
    int placed = 0, on_a = 0, on_b = 0;

    b.name = "h-b";
    b.zone = "b";
    make_region("fr-par-1", "FR", "a,b");
    make_host(&a, NULL);
    make_host(&b, NULL);

    run_racers(racers, RACERS, NULL);
    for (int i = 0; i < RACERS; i++) {
        racer *r = &racers[i];
        if (r->rc == 0) {
            placed++;
            on_a += strcmp(r->p.host_name, "h-a") == 0;
            on_b += strcmp(r->p.host_name, "h-b") == 0;
            ck_assert_str_eq(r->p.region, "fr-par-1");
            ck_assert(r->p.allocation_id[0] && r->p.id[0]);
        } else {
            ck_assert_msg(r->err.code == SOV_E_CAPACITY, "racer %d: code %d: %s", i,
                          r->err.code, r->err.msg);
            ck_assert_int_eq(r->p.considered, 2);
            ck_assert_int_eq(r->p.rejected[SOV_REJECT_CAPACITY], 2);
        }
    }
    ck_assert_int_eq(placed, 10);
    ck_assert_int_eq(on_a, 5);
    ck_assert_int_eq(on_b, 5);

    ck_assert_int_eq(host_ll("h-a", "vcpus_used"), 10);
    ck_assert_int_eq(host_ll("h-b", "vcpus_used"), 10);
    ck_assert_int_eq(sql_ll("SELECT sum(vcpus_used) FROM hosts"), 10 * 2);
    ck_assert_int_eq(sql_ll("SELECT sum(memory_mib_used) FROM hosts"), 10 * 2048);
    ck_assert_int_eq(sql_ll("SELECT sum(disk_gib_used) FROM hosts"), 10 * 10);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM host_allocations"), 10);
    ck_assert_int_eq(sql_ll("SELECT sum(vcpus) FROM host_allocations"), 10 * 2);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM placements"), 10);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM residency_records WHERE event = 'placed'"),
                     10);
    /* Each allocation is on the host its placement names, and its record says where. */
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM placements p JOIN host_allocations a"
                            " ON a.id = p.allocation_id AND a.host_id = p.host_id"),
                     10);
    ck_assert_int_eq(sql_ll("SELECT count(DISTINCT resource_id) FROM residency_records"
                            " WHERE event = 'placed' AND to_region = 'fr-par-1'"
                            " AND to_country = 'FR' AND to_jurisdiction = 'EU'"),
                     10);
}
END_TEST

/* Members of one anti-affinity group claimed at once still never share a host. */
START_TEST(concurrent_claims_in_one_group_never_share_a_host)
{
    static racer racers[12];

    make_region("fr-par-1", "FR", "a");
    plain_host("h-1", "fr-par-1", "a", 64, 65536);
    plain_host("h-2", "fr-par-1", "a", 64, 65536);
    plain_host("h-3", "fr-par-1", "a", 64, 65536);

    run_racers(racers, 12, "web");
    int placed = 0;
    for (int i = 0; i < 12; i++) {
        if (racers[i].rc != 0) {
            ck_assert_msg(racers[i].err.code == SOV_E_CAPACITY, "%s", racers[i].err.msg);
            continue;
        }
        placed++;
        for (int k = 0; k < i; k++)
            ck_assert_msg(racers[k].rc != 0 ||
                              strcmp(racers[k].p.host_id, racers[i].p.host_id) != 0,
                          "racers %d and %d share host %s", k, i, racers[i].p.host_name);
    }
    ck_assert_int_eq(placed, 3);
    ck_assert_int_eq(sql_ll("SELECT count(DISTINCT host_id) FROM host_allocations"
                            " WHERE anti_affinity_group = 'web'"),
                     3);
}
END_TEST

/* ---- the filters and weights, one at a time ---- */

START_TEST(spread_takes_the_emptiest_host_and_pack_the_fullest)
{
    auto_placement p = { .policy = NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_place_request r = request(1, 1024);
    host_spec half = { .name = "h-half", .region = "fr-par-1", .zone = "a", .cpus = 8,
                       .memory_mib = 16384, .storage_gib = 100, .vcpus_used = 4,
                       .memory_mib_used = 8192 };

    make_region("fr-par-1", "FR", "a");
    plain_host("h-empty", "fr-par-1", "a", 8, 16384);
    make_host(&half, NULL);

    ck_assert_msg(sov_placement_dry_run(&ctx, &r, &p, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(p.host_name, "h-empty");
    ck_assert_str_eq(p.strategy, "spread");
    ctx.cfg = &pack_cfg;
    ck_assert_msg(sov_placement_dry_run(&ctx, &r, &p, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(p.host_name, "h-half");
    ck_assert_str_eq(p.strategy, "pack");
    claim_ok(&r, &p);
    ck_assert_str_eq(p.host_name, "h-half");
    ck_assert_str_eq(p.strategy, "pack");
    ck_assert_uint_eq(strlen(p.allocation_id), SOV_UUID_LEN);
    /* A dry run claims nothing. */
    ck_assert_int_eq(host_ll("h-empty", "vcpus_used"), 0);
    ck_assert_int_eq(host_ll("h-half", "vcpus_used"), 5);
}
END_TEST

START_TEST(spread_alternates_between_equal_hosts_and_pack_fills_one_first)
{
    auto_placement p = { .policy = NULL };
    sov_place_request r = request(1, 1024);
    const char *spread_order[] = { "h-a", "h-b", "h-a", "h-b" };

    make_region("fr-par-1", "FR", "a");
    plain_host("h-a", "fr-par-1", "a", 4, 4096);
    plain_host("h-b", "fr-par-1", "a", 4, 4096);
    /* Equal room ties on the name. */
    for (int i = 0; i < 4; i++) {
        claim_ok(&r, &p);
        ck_assert_str_eq(p.host_name, spread_order[i]);
    }
    ck_assert_int_eq(host_ll("h-a", "vcpus_used"), 2);
    ck_assert_int_eq(host_ll("h-b", "vcpus_used"), 2);

    ctx.cfg = &pack_cfg;
    sql(NULL, 0, "DELETE FROM host_allocations");
    sql(NULL, 0, "UPDATE hosts SET vcpus_used = 0, memory_mib_used = 0");
    for (int i = 0; i < 4; i++) {
        claim_ok(&r, &p);
        ck_assert_str_eq(p.host_name, "h-a");
    }
    claim_ok(&r, &p);
    ck_assert_str_eq(p.host_name, "h-b");
}
END_TEST

START_TEST(a_zone_in_the_request_limits_the_hosts)
{
    auto_placement p = { .policy = NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_place_request r = request(1, 1024);

    make_region("fr-par-1", "FR", "a,b,c");
    make_region("de-fra-1", "DE", "x");
    plain_host("h-a", "fr-par-1", "a", 64, 65536);
    plain_host("h-b", "fr-par-1", "b", 2, 2048);

    r.zone = "b";
    claim_ok(&r, &p);
    ck_assert_str_eq(p.host_name, "h-b");
    ck_assert_str_eq(p.zone, "b");
    ck_assert_int_eq(p.rejected[SOV_REJECT_ZONE], 1);

    /* A zone without hosts is no room, not a residency problem. */
    r.zone = "c";
    ck_assert_int_eq(sov_placement_dry_run(&ctx, &r, &p, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CAPACITY);
    ck_assert_int_eq(p.rejected[SOV_REJECT_ZONE], 2);

    /* A zone that exists nowhere, or not in the region named, is a bad request. */
    r.zone = "d";
    ck_assert_int_eq(sov_placement_dry_run(&ctx, &r, &p, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_str_eq(err.field, "zone");
    r.zone = "x";
    r.region = "fr-par-1";
    claim_fails(&r, SOV_E_INVALID, &p);
    r.zone = "Bad Zone";
    r.region = NULL;
    claim_fails(&r, SOV_E_INVALID, &p);
}
END_TEST

START_TEST(gpu_requests_go_only_to_hosts_with_free_gpus)
{
    auto_placement p = { .policy = NULL };
    sov_place_request r = request(1, 1024);
    host_spec gpu = { .name = "h-gpu", .region = "fr-par-1", .zone = "a", .cpus = 8,
                      .memory_mib = 8192, .storage_gib = 100, .gpus = 2 };

    make_region("fr-par-1", "FR", "a");
    plain_host("h-big", "fr-par-1", "a", 128, 262144);
    make_host(&gpu, NULL);

    r.gpus = 1;
    claim_ok(&r, &p);
    ck_assert_str_eq(p.host_name, "h-gpu");
    ck_assert_int_eq(p.rejected[SOV_REJECT_GPU], 1);
    r.gpus = 2;
    claim_fails(&r, SOV_E_CAPACITY, &p);
    ck_assert_int_eq(p.rejected[SOV_REJECT_GPU], 2);
    r.gpus = 1;
    claim_ok(&r, &p);
    ck_assert_str_eq(p.host_name, "h-gpu");
    ck_assert_int_eq(host_ll("h-gpu", "gpus_used"), 2);
    claim_fails(&r, SOV_E_CAPACITY, &p);
    /* Without GPUs the spread goes back to the big host. */
    r.gpus = 0;
    claim_ok(&r, &p);
    ck_assert_str_eq(p.host_name, "h-big");
}
END_TEST

START_TEST(allocation_ratios_scale_cpus_and_memory)
{
    auto_placement p = { .policy = NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_place_request r = request(9, 1024);
    /* 4 cpus at 2.0 is 8 vCPUs; 8192 MiB at 1.5 is 12288 MiB. */
    host_spec h = { .name = "h-r", .region = "fr-par-1", .zone = "a", .cpus = 4,
                    .cpu_ratio = 2.0, .memory_mib = 8192, .ram_ratio = 1.5,
                    .storage_gib = 100 };

    make_region("fr-par-1", "FR", "a");
    make_host(&h, NULL);

    ck_assert_int_eq(sov_placement_dry_run(&ctx, &r, &p, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CAPACITY);
    ck_assert_int_eq(p.rejected[SOV_REJECT_CAPACITY], 1);
    r.vcpus = 8;
    ck_assert_msg(sov_placement_dry_run(&ctx, &r, &p, &err) == 0, "%s", err.msg);
    r.vcpus = 1;
    r.memory_mib = 12289;
    ck_assert_int_eq(sov_placement_dry_run(&ctx, &r, &p, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CAPACITY);
    r.disk_gib = 101;
    r.memory_mib = 1;
    ck_assert_int_eq(sov_placement_dry_run(&ctx, &r, &p, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CAPACITY);

    r.vcpus = 8;
    r.memory_mib = 12288;
    r.disk_gib = 100;
    claim_ok(&r, &p);
    ck_assert_int_eq(host_ll("h-r", "vcpus_used"), 8);
    ck_assert_int_eq(host_ll("h-r", "memory_mib_used"), 12288);
    r.vcpus = 1;
    r.memory_mib = 1;
    r.disk_gib = 0;
    claim_fails(&r, SOV_E_CAPACITY, &p);
}
END_TEST

START_TEST(anti_affinity_keeps_a_group_on_distinct_hosts)
{
    auto_placement p = { .policy = NULL };
    sov_place_request r = request(1, 1024);
    char seen[3][SOV_UUID_LEN + 1], first_alloc[SOV_UUID_LEN + 1], other[SOV_UUID_LEN + 1];
    sov_error err = SOV_ERROR_INIT;

    make_region("fr-par-1", "FR", "a");
    plain_host("h-1", "fr-par-1", "a", 32, 32768);
    plain_host("h-2", "fr-par-1", "a", 32, 32768);
    plain_host("h-3", "fr-par-1", "a", 32, 32768);
    /* Pack would put them all on one host if the group did not stop it. */
    ctx.cfg = &pack_cfg;
    r.anti_affinity_group = "web";
    for (int i = 0; i < 3; i++) {
        claim_ok(&r, &p);
        snprintf(seen[i], sizeof(seen[i]), "%s", p.host_id);
        for (int k = 0; k < i; k++)
            ck_assert_str_ne(seen[k], seen[i]);
        if (i == 0)
            snprintf(first_alloc, sizeof(first_alloc), "%s", p.allocation_id);
    }
    claim_fails(&r, SOV_E_CAPACITY, &p);
    ck_assert_int_eq(p.rejected[SOV_REJECT_AFFINITY], 3);

    /* Another group, no group, and the same group name in another tenant are free. */
    r.anti_affinity_group = "db";
    claim_ok(&r, &p);
    r.anti_affinity_group = NULL;
    claim_ok(&r, &p);
    make_tenant("globex", other);
    r.tenant_id = other;
    r.anti_affinity_group = "web";
    claim_ok(&r, &p);

    /* Releasing a member frees its host for the group. */
    r.tenant_id = tenant;
    ck_assert_msg(release(first_alloc, &err) == 0, "%s", err.msg);
    claim_ok(&r, &p);
    ck_assert_str_eq(p.host_id, seen[0]);
}
END_TEST

START_TEST(hosts_that_are_down_disabled_or_draining_are_never_chosen)
{
    static const char *const states[] = { "down", "disabled", "draining" };
    auto_placement p = { .policy = NULL };
    sov_place_request r = request(2, 2048);

    make_region("fr-par-1", "FR", "a");
    for (int i = 0; i < 3; i++) {
        host_spec h = { .name = states[i], .region = "fr-par-1", .zone = "a",
                        .state = states[i], .cpus = 256, .memory_mib = 1 << 20,
                        .storage_gib = 10000 };
        make_host(&h, NULL);
    }
    plain_host("h-up", "fr-par-1", "a", 4, 4096);
    for (int i = 0; i < 2; i++) {
        claim_ok(&r, &p);
        ck_assert_str_eq(p.host_name, "h-up");
        ck_assert_int_eq(p.rejected[SOV_REJECT_STATE], 3);
    }
    claim_fails(&r, SOV_E_CAPACITY, &p);
    ck_assert_int_eq(p.considered, 4);
    ck_assert_int_eq(p.rejected[SOV_REJECT_STATE], 3);
    ck_assert_int_eq(p.rejected[SOV_REJECT_CAPACITY], 1);
    ck_assert_int_eq(sql_ll("SELECT sum(vcpus_used) FROM hosts WHERE state <> 'up'"), 0);
}
END_TEST

START_TEST(release_gives_the_capacity_back)
{
    auto_placement p = { .policy = NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_place_request r = request(3, 3000);
    char alloc[SOV_UUID_LEN + 1];

    make_region("fr-par-1", "FR", "a");
    plain_host("h-1", "fr-par-1", "a", 4, 4096);
    r.disk_gib = 7;
    claim_ok(&r, &p);
    snprintf(alloc, sizeof(alloc), "%s", p.allocation_id);
    ck_assert_int_eq(host_ll("h-1", "vcpus_used"), 3);
    claim_fails(&r, SOV_E_CAPACITY, &p);

    ck_assert_msg(release(alloc, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(host_ll("h-1", "vcpus_used"), 0);
    ck_assert_int_eq(host_ll("h-1", "memory_mib_used"), 0);
    ck_assert_int_eq(host_ll("h-1", "disk_gib_used"), 0);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM host_allocations"), 0);
    claim_ok(&r, &p);

    /* Twice, or a made-up id, is not found, and changes nothing. */
    ck_assert_int_eq(release(alloc, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
    ck_assert_int_eq(release("not-a-uuid", &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
    ck_assert_int_eq(release("00000000-0000-4000-8000-000000000000", &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
    ck_assert_int_eq(host_ll("h-1", "vcpus_used"), 3);
}
END_TEST

START_TEST(a_claim_stores_its_decision_and_a_placed_record)
{
    auto_placement p = { .policy = NULL };
    sov_place_request r = request(2, 2048);
    char v[256];

    make_region("fr-par-1", "FR", "a");
    make_region("ch-zrh-1", "CH", "a");
    plain_host("h-fr", "fr-par-1", "a", 8, 8192);
    plain_host("h-fr-small", "fr-par-1", "a", 1, 1024);
    plain_host("h-ch", "ch-zrh-1", "a", 64, 65536);
    r.resource_id = "vm-42";
    r.operation_id = "11111111-2222-4333-8444-555555555555";
    claim_ok(&r, &p);
    ck_assert_str_eq(p.host_name, "h-fr");
    ck_assert_int_eq(p.considered, 3);
    ck_assert_int_eq(p.rejected[SOV_REJECT_POLICY], 1);
    ck_assert_int_eq(p.rejected[SOV_REJECT_CAPACITY], 1);
    ck_assert_str_eq(p.location.country, "FR");
    ck_assert_str_eq(p.location.jurisdiction, "EU");
    ck_assert_str_eq(p.location.datacenter, "dc-fr-par-1");
    ck_assert_uint_eq(p.policy->njurisdictions, 1);
    ck_assert_str_eq(p.policy->jurisdictions[0], "EU");

    sql(v, sizeof(v), "SELECT concat_ws('|', host_name, region, zone, considered,"
                      " rejected->>'policy', rejected->>'capacity', strategy, resource_id)"
                      " FROM placements WHERE id = '%s'",
        p.id);
    ck_assert_str_eq(v, "h-fr|fr-par-1|a|3|1|1|spread|vm-42");
    sql(v, sizeof(v), "SELECT concat_ws('|', to_host, to_region, to_country, to_jurisdiction,"
                      " to_datacenter, from_host, policy->'jurisdictions'->>0, operation_id)"
                      " FROM residency_records WHERE event = 'placed' AND resource_id = 'vm-42'");
    ck_assert_str_eq(v, "h-fr|fr-par-1|FR|EU|dc-fr-par-1||EU|"
                        "11111111-2222-4333-8444-555555555555");
    sql(v, sizeof(v), "SELECT host_id || '|' || vcpus || '|' || memory_mib FROM host_allocations"
                      " WHERE id = '%s'",
        p.allocation_id);
    ck_assert_str_eq(strchr(v, '|'), "|2|2048");
}
END_TEST

/* A migration's target: never its source (counted as source_host, right after the place
 * rules), its room reserved without a decision row or a "placed" record, and the move that
 * takes an allocation's usage from one host to another. */
START_TEST(a_migration_excludes_its_source_reserves_and_moves)
{
    auto_placement p = { .policy = NULL };
    auto_placement q = { .policy = NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_place_request r = request(2, 2048);
    char src[SOV_UUID_LEN + 1], dst[SOV_UUID_LEN + 1], alloc[SOV_UUID_LEN + 1];

    make_region("fr-par-1", "FR", "a");
    make_region("us-east-1", "US", "a");
    {
        host_spec a = { .name = "h-src", .region = "fr-par-1", .zone = "a", .cpus = 64,
                        .memory_mib = 65536, .storage_gib = 1000 };
        host_spec b = { .name = "h-dst", .region = "fr-par-1", .zone = "a", .cpus = 4,
                        .memory_mib = 4096, .storage_gib = 1000 };
        host_spec c = { .name = "h-us", .region = "us-east-1", .zone = "a", .cpus = 64,
                        .memory_mib = 65536, .storage_gib = 1000 };
        make_host(&a, src);
        make_host(&b, dst);
        make_host(&c, NULL);
    }
    /* The instance, on h-src. */
    r.resource_id = "vm-1";
    r.pin_host_id = src;
    claim_ok(&r, &p);
    r.pin_host_id = NULL;
    ck_assert_str_eq(p.host_name, "h-src");
    snprintf(alloc, sizeof(alloc), "%s", p.allocation_id);

    /* Its migration: h-src has far more room, but it is the source. */
    r.exclude_host_id = src;
    r.reserve = true;
    r.resource_type = "migration";
    r.resource_id = "mig-1";
    claim_ok(&r, &q);
    ck_assert_str_eq(q.host_name, "h-dst");
    ck_assert_int_eq(q.rejected[SOV_REJECT_SOURCE_HOST], 1);
    ck_assert_int_eq(q.rejected[SOV_REJECT_POLICY], 1);
    ck_assert_str_eq(q.id, "");
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM placements WHERE resource_id = 'mig-1'"), 0);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM residency_records"
                            " WHERE resource_id = 'mig-1'"), 0);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM host_allocations"
                            " WHERE resource_type = 'migration'"), 1);
    ck_assert_int_eq(host_ll("h-dst", "vcpus_used"), 2);

    /* No other host in the place asked for: the source is never the answer. */
    r.region = "fr-par-1";
    r.vcpus = 3;
    claim_fails(&r, SOV_E_CAPACITY, &q);
    ck_assert_int_eq(q.rejected[SOV_REJECT_SOURCE_HOST], 1);
    ck_assert_int_eq(q.rejected[SOV_REJECT_CAPACITY], 1);

    /* The commit: the reservation goes, the instance's usage moves. */
    {
        char res[SOV_UUID_LEN + 1];
        sql(res, sizeof(res), "SELECT id FROM host_allocations WHERE resource_type = 'migration'");
        ck_assert_msg(release(res, &err) == 0, "%s", err.msg);
    }
    ck_assert_int_eq(host_ll("h-dst", "vcpus_used"), 0);
    {
        sov_autoptr(sov_dbconn) c = NULL;
        ck_assert_msg(sov_db_acquire(db, &c, &err) == 0, "%s", err.msg);
        ck_assert_msg(sov_placement_move(c, alloc, dst, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(host_ll("h-src", "vcpus_used"), 0);
        ck_assert_int_eq(host_ll("h-src", "memory_mib_used"), 0);
        ck_assert_int_eq(host_ll("h-dst", "vcpus_used"), 2);
        ck_assert_int_eq(host_ll("h-dst", "memory_mib_used"), 2048);
        /* Twice: nothing more moves. */
        ck_assert_msg(sov_placement_move(c, alloc, dst, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(host_ll("h-dst", "vcpus_used"), 2);
        ck_assert_int_eq(host_ll("h-src", "vcpus_used"), 0);
        ck_assert_int_eq(sov_placement_move(c, "00000000-0000-4000-8000-000000000000", dst,
                                            &err), -1);
        ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
        ck_assert_int_eq(sov_placement_move(c, "nope", dst, &err), -1);
        ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
    }
    {
        char v[128];
        sql(v, sizeof(v), "SELECT host_id FROM host_allocations WHERE id = '%s'", alloc);
        ck_assert_str_eq(v, dst);
    }
}
END_TEST

START_TEST(residency_fails_only_when_no_allowed_region_has_hosts)
{
    auto_placement p = { .policy = NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_place_request r = request(1, 1024);

    make_region("ch-zrh-1", "CH", "a");
    make_region("fr-par-1", "FR", "a");
    plain_host("h-ch", "ch-zrh-1", "a", 64, 65536);

    /* The EU (the default) has a region, but no host in it. */
    ck_assert_int_eq(sov_placement_dry_run(&ctx, &r, &p, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_RESIDENCY);
    ck_assert_msg(strstr(err.msg, "{\"jurisdictions\":[\"EU\"]"), "%s", err.msg);
    ck_assert_int_eq(p.considered, 1);
    ck_assert_int_eq(p.rejected[SOV_REJECT_POLICY], 1);
    claim_fails(&r, SOV_E_RESIDENCY, &p);

    /* A host that is down inside the policy makes it a capacity problem. */
    host_spec down = { .name = "h-fr", .region = "fr-par-1", .zone = "a", .state = "down",
                       .cpus = 8, .memory_mib = 8192 };
    make_host(&down, NULL);
    ck_assert_int_eq(sov_placement_dry_run(&ctx, &r, &p, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CAPACITY);
    ck_assert_int_eq(p.rejected[SOV_REJECT_STATE], 1);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM host_allocations"), 0);
}
END_TEST

/* A full region inside the policy never spills into a free one outside it, and a request
 * cannot name its way out. */
START_TEST(placement_never_falls_back_outside_the_policy)
{
    auto_placement p = { .policy = NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_place_request r = request(4, 4096);

    make_region("de-fra-1", "DE", "a");
    make_region("fr-par-1", "FR", "a");
    make_region("no-osl-1", "NO", "a");
    plain_host("h-de", "de-fra-1", "a", 4, 4096);
    plain_host("h-fr", "fr-par-1", "a", 64, 65536);
    plain_host("h-no", "no-osl-1", "a", 64, 65536);
    set_policy_sql(tenant, "", "DE", "");

    claim_ok(&r, &p);
    ck_assert_str_eq(p.host_name, "h-de");
    claim_fails(&r, SOV_E_CAPACITY, &p);
    ck_assert_int_eq(p.rejected[SOV_REJECT_POLICY], 2);
    r.region = "fr-par-1";
    claim_fails(&r, SOV_E_RESIDENCY, &p);
    r.region = NULL;
    r.country = "NO";
    claim_fails(&r, SOV_E_RESIDENCY, &p);
    /* Narrowing to what the policy allows keeps to it. */
    r.country = "DE";
    claim_fails(&r, SOV_E_CAPACITY, &p);
    /* The default EU allows France but not Norway. */
    sql(NULL, 0, "DELETE FROM residency_policies");
    r.country = NULL;
    r.region = "no-osl-1";
    ck_assert_int_eq(sov_placement_dry_run(&ctx, &r, &p, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_RESIDENCY);
    r.region = NULL;
    claim_ok(&r, &p);
    ck_assert_str_eq(p.host_name, "h-fr");
    ck_assert_int_eq(host_ll("h-no", "vcpus_used"), 0);
}
END_TEST

START_TEST(bad_requests_are_refused_naming_the_field)
{
    static const struct {
        int vcpus;
        long long memory_mib, disk_gib;
        int gpus;
        const char *region, *country, *group, *field;
    } bad[] = {
        { 0, 1024, 0, 0, NULL, NULL, NULL, "vcpus" },
        { 1025, 1024, 0, 0, NULL, NULL, NULL, "vcpus" },
        { 1, 0, 0, 0, NULL, NULL, NULL, "memory_mib" },
        { 1, 1024, -1, 0, NULL, NULL, NULL, "disk_gib" },
        { 1, 1024, 0, -1, NULL, NULL, NULL, "gpus" },
        { 1, 1024, 0, 65, NULL, NULL, NULL, "gpus" },
        { 1, 1024, 0, 0, "Bad_Region", NULL, NULL, "region" },
        { 1, 1024, 0, 0, "zz-nowhere-1", NULL, NULL, "region" },
        { 1, 1024, 0, 0, NULL, "EL", NULL, "country" },
        { 1, 1024, 0, 0, NULL, "fr", NULL, "country" },
        { 1, 1024, 0, 0, NULL, NULL, "Web Tier", "anti_affinity_group" },
    };
    auto_placement p = { .policy = NULL };

    make_region("fr-par-1", "FR", "a");
    plain_host("h-1", "fr-par-1", "a", 8, 8192);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sov_error err = SOV_ERROR_INIT;
        sov_place_request r = request(bad[i].vcpus, bad[i].memory_mib);
        r.disk_gib = bad[i].disk_gib;
        r.gpus = bad[i].gpus;
        r.region = bad[i].region;
        r.country = bad[i].country;
        r.anti_affinity_group = bad[i].group;
        ck_assert_int_eq(sov_placement_dry_run(&ctx, &r, &p, &err), -1);
        ck_assert_msg(err.code == SOV_E_INVALID && strcmp(err.field, bad[i].field) == 0,
                      "case %zu: code %d field '%s', want %s", i, err.code, err.field,
                      bad[i].field);
        claim_fails(&r, SOV_E_INVALID, &p);
    }
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM host_allocations"), 0);
}
END_TEST

/* ---- placement never outside the policy: random worlds against brute force ---- */

static unsigned long long rng_state;

static unsigned
rnd(unsigned n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned) ((rng_state >> 33) % n);
}

#define MAX_REGIONS 8
#define MAX_HOSTS 40
#define MAX_ALLOCS 512
#define NTENANTS 3
#define WORLDS 16
#define CASES_PER_WORLD 30

static const char *const country_pool[] = { "FR", "DE", "IT", "PL", "NO", "IS",
                                            "LI", "CH", "GB", "US" };
#define NCOUNTRIES (sizeof(country_pool) / sizeof(country_pool[0]))
static const char *const zone_pool[] = { "a", "b", "c" };
static const char *const state_pool[] = { "up", "up", "up", "up", "up", "up",
                                          "down", "down", "disabled", "draining" };

typedef struct m_region {
    char code[32];
    char country[3];
    const char *jurisdiction;
    unsigned nzones;
} m_region;

typedef struct m_host {
    char id[SOV_UUID_LEN + 1];
    char name[32];
    unsigned region;
    const char *zone, *state;
    long long cap_vcpus, cap_mem, storage;
    int gpus;
    long long vused, mused, dused;
    int gused;
} m_host;

typedef struct m_alloc {
    unsigned host, tenant;
    const char *group;
} m_alloc;

typedef struct world {
    unsigned nregions, nhosts, nallocs;
    m_region regions[MAX_REGIONS];
    m_host hosts[MAX_HOSTS];
    m_alloc allocs[MAX_ALLOCS];
    char tenants[NTENANTS][SOV_UUID_LEN + 1];
    sov_policy policy[NTENANTS];
} world;

/* How a case ended, for the check that every outcome came up. */
enum { OUT_PLACED, OUT_CAPACITY, OUT_RESIDENCY, OUT_INVALID, OUT_POLICY_REFUSED, OUT__N };

static const m_region *
region_of(const world *w, const char *code)
{
    for (unsigned i = 0; i < w->nregions; i++)
        if (strcmp(w->regions[i].code, code) == 0)
            return &w->regions[i];
    return NULL;
}

static bool
on_list(const char *v, const char *list, size_t n, size_t stride)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list + i * stride, v) == 0)
            return true;
    return false;
}

/* The test's own reading of a policy, for a region that exists. */
static bool
m_allows(const sov_policy *p, const m_region *g)
{
    return (p->njurisdictions == 0 || on_list(g->jurisdiction, p->jurisdictions[0],
                                              p->njurisdictions, sizeof(p->jurisdictions[0]))) &&
           (p->ncountries == 0 ||
            on_list(g->country, p->countries[0], p->ncountries, sizeof(p->countries[0]))) &&
           (p->nregions == 0 ||
            on_list(g->code, p->regions[0], p->nregions, sizeof(p->regions[0])));
}

static double
m_weight(const m_host *h)
{
    return (double) (h->cap_vcpus - h->vused) / (double) (h->cap_vcpus > 1 ? h->cap_vcpus : 1) +
           (double) (h->cap_mem - h->mused) / (double) (h->cap_mem > 1 ? h->cap_mem : 1);
}

static void
build_world(world *w, unsigned wi)
{
    static const double cpu_ratios[] = { 1.0, 1.5, 2.0, 4.0 };
    static const double ram_ratios[] = { 1.0, 1.0, 1.5 };
    static const long long mems[] = { 4096, 8192, 16384, 65536 };
    static const long long disks[] = { 0, 100, 500, 2000 };
    static const int gpus[] = { 0, 0, 0, 0, 1, 2, 4 };

    sql(NULL, 0, "DELETE FROM host_allocations");
    sql(NULL, 0, "DELETE FROM hosts");
    sql(NULL, 0, "DELETE FROM regions");
    sql(NULL, 0, "DELETE FROM residency_policies");
    w->nregions = 3 + rnd(MAX_REGIONS - 2);
    w->nhosts = 0;
    w->nallocs = 0;
    for (unsigned i = 0; i < w->nregions; i++) {
        m_region *g = &w->regions[i];
        char zones[16] = "";
        const char *country = country_pool[rnd(NCOUNTRIES)];

        snprintf(g->code, sizeof(g->code), "w%u-r%u-%c%c", wi, i, country[0] + 32,
                 country[1] + 32);
        snprintf(g->country, sizeof(g->country), "%s", country);
        g->jurisdiction = sov_country_jurisdiction(country);
        g->nzones = 1 + rnd(3);
        for (unsigned z = 0; z < g->nzones; z++)
            snprintf(zones + strlen(zones), sizeof(zones) - strlen(zones), "%s%s",
                     z ? "," : "", zone_pool[z]);
        make_region(g->code, g->country, zones);
        /* Some regions stay empty, so some policies leave nothing to place on. */
        unsigned n = rnd(4) == 0 ? 0 : rnd(6);
        for (unsigned k = 0; k < n && w->nhosts < MAX_HOSTS; k++) {
            m_host *h = &w->hosts[w->nhosts];
            double cr = cpu_ratios[rnd(4)], rr = ram_ratios[rnd(3)];
            host_spec s = { .region = g->code, .zone = zone_pool[rnd(g->nzones)],
                            .state = state_pool[rnd(10)], .cpus = 2 + (int) rnd(31),
                            .cpu_ratio = cr, .memory_mib = mems[rnd(4)], .ram_ratio = rr,
                            .storage_gib = disks[rnd(4)], .gpus = gpus[rnd(7)] };

            snprintf(h->name, sizeof(h->name), "w%u-h%u", wi, w->nhosts);
            s.name = h->name;
            h->region = i;
            h->zone = s.zone;
            h->state = s.state;
            h->cap_vcpus = (long long) floor(s.cpus * cr);
            h->cap_mem = (long long) floor((double) s.memory_mib * rr);
            h->storage = s.storage_gib;
            h->gpus = s.gpus;
            /* Hosts start part full, some completely. */
            h->vused = rnd((unsigned) h->cap_vcpus + 1) * rnd(2);
            h->mused = rnd((unsigned) h->cap_mem + 1) * rnd(2);
            h->dused = rnd((unsigned) h->storage + 1) * rnd(2);
            h->gused = (int) rnd((unsigned) h->gpus + 1) * (int) rnd(2);
            s.vcpus_used = (int) h->vused;
            s.memory_mib_used = h->mused;
            s.disk_gib_used = h->dused;
            s.gpus_used = h->gused;
            make_host(&s, h->id);
            w->nhosts++;
        }
    }
    for (unsigned t = 0; t < NTENANTS; t++) {
        char name[32];
        snprintf(name, sizeof(name), "w%u-t%u", wi, t);
        make_tenant(name, w->tenants[t]);
        sov_policy_default(&w->policy[t]);
    }
}

/* A valid policy over the world's regions and a few countries; at least one list. */
static sov_policy
random_policy(const world *w)
{
    static const char *const js[] = { "EU", "EEA", "OTHER" };
    sov_policy p;

    /* Each list comes up in some policies, and the intersections are not all empty. */
    bool with_j = rnd(5) < 3, with_c = rnd(10) < 3, with_r = rnd(5) == 0;

    memset(&p, 0, sizeof(p));
    for (unsigned i = 0; with_j && i < 3; i++)
        if (rnd(2) == 0)
            snprintf(p.jurisdictions[p.njurisdictions++], sizeof(p.jurisdictions[0]), "%s",
                     js[i]);
    for (unsigned i = 0; with_c && i < NCOUNTRIES; i++)
        if (rnd(3) == 0)
            snprintf(p.countries[p.ncountries++], sizeof(p.countries[0]), "%s",
                     country_pool[i]);
    for (unsigned i = 0; with_r && i < w->nregions; i++)
        if (rnd(2) == 0)
            snprintf(p.regions[p.nregions++], sizeof(p.regions[0]), "%s", w->regions[i].code);
    if (p.njurisdictions + p.ncountries + p.nregions == 0)
        snprintf(p.jurisdictions[p.njurisdictions++], sizeof(p.jurisdictions[0]), "%s",
                 js[rnd(3)]);
    return p;
}

/* Whether tenant t holds an allocation in a region p does not allow. */
static bool
strands_data(const world *w, unsigned t, const sov_policy *p)
{
    for (unsigned i = 0; i < w->nallocs; i++)
        if (w->allocs[i].tenant == t &&
            !m_allows(p, &w->regions[w->hosts[w->allocs[i].host].region]))
            return true;
    return false;
}

/* "a,b,c" from a policy's list, for SQL. */
static void
join_list(char *buf, size_t size, const char *list, size_t n, size_t stride)
{
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? "," : "",
                 list + i * stride);
}

/* Give tenant t a new policy through the service; when the service refuses because the
 * tenant's data would be left outside it, that must be true, and the row is set directly
 * (the scheduler must hold to whatever the table says). */
static void
change_policy(world *w, unsigned t, unsigned *outcomes)
{
    sov_error err = SOV_ERROR_INIT;
    sov_policy p, out;
    char j[64], c[256], r[1024];

    if (rnd(5) == 0) {
        sql(NULL, 0, "DELETE FROM residency_policies WHERE tenant_id = '%s'", w->tenants[t]);
        sov_policy_default(&w->policy[t]);
        return;
    }
    p = random_policy(w);
    if (sov_policy_set(&ctx, w->tenants[t], &p, &out, &err) == 0) {
        ck_assert(!strands_data(w, t, &p));
        ck_assert(memcmp(&out, &p, sizeof(p)) == 0);
    } else {
        ck_assert_msg(err.code == SOV_E_CONFLICT && strands_data(w, t, &p),
                      "policy refused: code %d: %s", err.code, err.msg);
        outcomes[OUT_POLICY_REFUSED]++;
        join_list(j, sizeof(j), p.jurisdictions[0], p.njurisdictions,
                  sizeof(p.jurisdictions[0]));
        join_list(c, sizeof(c), p.countries[0], p.ncountries, sizeof(p.countries[0]));
        join_list(r, sizeof(r), p.regions[0], p.nregions, sizeof(p.regions[0]));
        set_policy_sql(w->tenants[t], j, c, r);
    }
    w->policy[t] = p;
}

typedef struct expect {
    sov_errcode code;       /* SOV_OK: placed */
    const char *field;      /* SOV_E_INVALID */
    int buckets[SOV_REJECT__COUNT + 1];
    double best, worst;     /* weights among the eligible */
} expect;

/* Brute force: what the scheduler must answer for r by tenant t in w. */
static void
brute_force(const world *w, unsigned t, const sov_place_request *r, expect *e)
{
    bool zone_known = !r->zone;

    memset(e, 0, sizeof(*e));
    e->best = -1;
    e->worst = 3;
    if (r->region && !region_of(w, r->region)) {
        e->code = SOV_E_INVALID;
        e->field = "region";
        return;
    }
    for (unsigned i = 0; r->zone && i < w->nregions; i++) {
        const m_region *g = &w->regions[i];
        if (r->region && strcmp(g->code, r->region) != 0)
            continue;
        for (unsigned z = 0; z < g->nzones; z++)
            zone_known = zone_known || strcmp(zone_pool[z], r->zone) == 0;
    }
    if (!zone_known) {
        e->code = SOV_E_INVALID;
        e->field = "zone";
        return;
    }
    for (unsigned i = 0; i < w->nhosts; i++) {
        const m_host *h = &w->hosts[i];
        const m_region *g = &w->regions[h->region];
        bool taken = false;
        int b;

        for (unsigned k = 0; r->anti_affinity_group && k < w->nallocs; k++)
            taken = taken || (w->allocs[k].host == i && w->allocs[k].tenant == t &&
                              strcmp(w->allocs[k].group, r->anti_affinity_group) == 0);
        if (!m_allows(&w->policy[t], g))
            b = SOV_REJECT_POLICY;
        else if (r->region && strcmp(g->code, r->region) != 0)
            b = SOV_REJECT_REGION;
        else if (r->country && strcmp(g->country, r->country) != 0)
            b = SOV_REJECT_COUNTRY;
        else if (strcmp(h->state, "up") != 0)
            b = SOV_REJECT_STATE;
        else if (r->zone && strcmp(h->zone, r->zone) != 0)
            b = SOV_REJECT_ZONE;
        else if (h->gpus - h->gused < r->gpus)
            b = SOV_REJECT_GPU;
        else if (h->cap_vcpus - h->vused < r->vcpus || h->cap_mem - h->mused < r->memory_mib ||
                 h->storage - h->dused < r->disk_gib)
            b = SOV_REJECT_CAPACITY;
        else if (taken)
            b = SOV_REJECT_AFFINITY;
        else
            b = SOV_REJECT__COUNT;
        e->buckets[b]++;
        if (b == SOV_REJECT__COUNT) {
            e->best = fmax(e->best, m_weight(h));
            e->worst = fmin(e->worst, m_weight(h));
        }
    }
    if (e->buckets[SOV_REJECT__COUNT] > 0)
        e->code = SOV_OK;
    else if ((int) w->nhosts == e->buckets[SOV_REJECT_POLICY] + e->buckets[SOV_REJECT_REGION] +
                                    e->buckets[SOV_REJECT_COUNTRY])
        e->code = SOV_E_RESIDENCY;
    else
        e->code = SOV_E_CAPACITY;
}

static sov_place_request
random_request(const world *w, unsigned t, char *resource_id)
{
    static const long long mems[] = { 512, 1024, 4096, 8192, 16384 };
    static const long long disks[] = { 0, 0, 10, 100 };
    static const char *const groups[] = { "g1", "g2" };
    static const char *const zones[] = { "a", "b", "c", "d" };
    sov_place_request r = { .tenant_id = w->tenants[t], .vcpus = 1 + (int) rnd(12),
                            .memory_mib = mems[rnd(5)], .disk_gib = disks[rnd(4)],
                            .gpus = rnd(5) == 0 ? 1 + (int) rnd(2) : 0,
                            .resource_type = "instance", .resource_id = resource_id };
    unsigned k = rnd(100);

    if (k < 20)
        r.region = w->regions[rnd(w->nregions)].code;
    else if (k < 23)
        r.region = "zz-nowhere-1";
    if (rnd(7) == 0)
        r.country = country_pool[rnd(NCOUNTRIES)];
    if (rnd(7) == 0)
        r.zone = zones[rnd(4)];
    if (rnd(3) == 0)
        r.anti_affinity_group = groups[rnd(2)];
    return r;
}

static void
describe(const sov_place_request *r, unsigned t, const world *w, char *buf, size_t size)
{
    char pol[1024];

    sov_policy_json(&w->policy[t], pol, sizeof(pol));
    snprintf(buf, size, "tenant %u policy %s: %d vCPU %lld MiB %lld GiB %d GPU region %s "
                        "country %s zone %s group %s",
             t, pol, r->vcpus, r->memory_mib, r->disk_gib, r->gpus, r->region ?: "-",
             r->country ?: "-", r->zone ?: "-", r->anti_affinity_group ?: "-");
}

/* A success lands on a host that is up, in a region the policy allows, matching the
 * narrowing, with room before the claim, free of the group; and the best by weight. */
static void
judge_host(const char *what, const char *about, const sov_placement *p, const expect *e,
           const world *w, unsigned t, const sov_place_request *r)
{
    const m_host *h = NULL;
    const m_region *g;

    for (unsigned i = 0; i < w->nhosts; i++)
        if (strcmp(w->hosts[i].id, p->host_id) == 0)
            h = &w->hosts[i];
    ck_assert_msg(h, "%s: %s: unknown host %s", what, about, p->host_id);
    g = &w->regions[h->region];
    ck_assert_str_eq(h->state, "up");
    ck_assert_msg(m_allows(&w->policy[t], g), "%s: %s: region %s outside the policy", what,
                  about, g->code);
    ck_assert(!r->region || strcmp(r->region, g->code) == 0);
    ck_assert(!r->country || strcmp(r->country, g->country) == 0);
    ck_assert(!r->zone || strcmp(r->zone, h->zone) == 0);
    ck_assert(h->cap_vcpus - h->vused >= r->vcpus && h->cap_mem - h->mused >= r->memory_mib &&
              h->storage - h->dused >= r->disk_gib && h->gpus - h->gused >= r->gpus);
    for (unsigned k = 0; r->anti_affinity_group && k < w->nallocs; k++)
        ck_assert(!(w->allocs[k].host == (unsigned) (h - w->hosts) && w->allocs[k].tenant == t &&
                    strcmp(w->allocs[k].group, r->anti_affinity_group) == 0));
    ck_assert_str_eq(p->region, g->code);
    ck_assert_str_eq(p->location.country, g->country);
    ck_assert_str_eq(p->location.jurisdiction, g->jurisdiction);
    /* Within rounding: the test and PostgreSQL each add two quotients in floating point. */
    if (strcmp(p->strategy, "pack") == 0)
        ck_assert_msg(m_weight(h) <= e->worst + 1e-9, "%s: %s: pack chose %f, least is %f",
                      what, about, m_weight(h), e->worst);
    else
        ck_assert_msg(m_weight(h) >= e->best - 1e-9, "%s: %s: spread chose %f, most is %f",
                      what, about, m_weight(h), e->best);
}

/* The answer (dry run or claim) agrees with brute force: the outcome, and the counts. */
static void
judge(const char *what, const char *about, int rc, const sov_error *err,
      const sov_placement *p, const expect *e, const world *w, unsigned t,
      const sov_place_request *r)
{
    int sum = 0;

    if (e->code == SOV_E_INVALID) {
        ck_assert_msg(rc == -1 && err->code == SOV_E_INVALID &&
                          strcmp(err->field, e->field) == 0,
                      "%s: %s: want invalid %s, got rc %d code %d field %s: %s", what, about,
                      e->field, rc, err->code, err->field, err->msg);
        return;
    }
    ck_assert_msg(rc == (e->code == SOV_OK ? 0 : -1) && (rc == 0 || err->code == e->code),
                  "%s: %s: want code %d, got rc %d code %d: %s", what, about, e->code, rc,
                  err->code, err->msg);
    ck_assert_msg(p->considered == (int) w->nhosts, "%s: %s: considered %d of %u hosts", what,
                  about, p->considered, w->nhosts);
    for (int i = 0; i < SOV_REJECT__COUNT; i++) {
        ck_assert_msg(p->rejected[i] == e->buckets[i], "%s: %s: rejected for %s %d, want %d",
                      what, about, sov_reject_name((sov_reject) i), p->rejected[i],
                      e->buckets[i]);
        sum += p->rejected[i];
    }
    ck_assert_int_eq(sum + e->buckets[SOV_REJECT__COUNT], p->considered);
    if (rc == 0)
        judge_host(what, about, p, e, w, t, r);
    else if (e->code == SOV_E_RESIDENCY)
        ck_assert_msg(strstr(err->msg, "residency policy {\"jurisdictions\":"), "%s", err->msg);
}

/* The rows agree with the model: usage per host, and one allocation per success. */
static void
check_rows(const world *w)
{
    for (unsigned i = 0; i < w->nhosts; i++) {
        const m_host *h = &w->hosts[i];
        char v[128], want[128];
        sql(v, sizeof(v), "SELECT concat_ws('/', vcpus_used, memory_mib_used, disk_gib_used,"
                          " gpus_used) FROM hosts WHERE id = '%s'",
            h->id);
        snprintf(want, sizeof(want), "%lld/%lld/%lld/%d", h->vused, h->mused, h->dused,
                 h->gused);
        ck_assert_msg(strcmp(v, want) == 0, "host %s: usage %s, model %s", h->name, v, want);
    }
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM host_allocations"), w->nallocs);
}

/* The model follows a claim: the host's usage goes up and the allocation is noted. */
static void
record_claim(world *w, unsigned t, const sov_place_request *r, const sov_placement *got)
{
    for (unsigned i = 0; i < w->nhosts; i++) {
        m_host *h = &w->hosts[i];
        if (strcmp(h->id, got->host_id) != 0)
            continue;
        h->vused += r->vcpus;
        h->mused += r->memory_mib;
        h->dused += r->disk_gib;
        h->gused += r->gpus;
        ck_assert_uint_lt(w->nallocs, MAX_ALLOCS);
        w->allocs[w->nallocs++] = (m_alloc) { i, t, r->anti_affinity_group ?: "" };
    }
}

/* One random request in world w, maybe after a new policy: dry run, then claim, each judged
 * against brute force. Returns how it ended (OUT_*). */
static int
run_case(world *w, unsigned wi, unsigned ci, unsigned *outcomes)
{
    unsigned t = rnd(NTENANTS);
    char resource_id[32], about[2048];
    sov_place_request r;
    auto_placement dry = { .policy = NULL }, got = { .policy = NULL };
    sov_error e1 = SOV_ERROR_INIT, e2 = SOV_ERROR_INIT;
    expect e;
    int rc;

    if (ci == 0 || rnd(3) == 0)
        change_policy(w, t, outcomes);
    snprintf(resource_id, sizeof(resource_id), "w%u-c%u", wi, ci);
    r = random_request(w, t, resource_id);
    brute_force(w, t, &r, &e);
    describe(&r, t, w, about, sizeof(about));

    rc = sov_placement_dry_run(&ctx, &r, &dry, &e1);
    judge("dry run", about, rc, &e1, &dry, &e, w, t, &r);
    rc = claim(&r, &got, &e2);
    judge("claim", about, rc, &e2, &got, &e, w, t, &r);
    if (e.code == SOV_E_INVALID)
        return OUT_INVALID;
    if (rc < 0)
        return e.code == SOV_E_RESIDENCY ? OUT_RESIDENCY : OUT_CAPACITY;
    /* Nothing changed between the two: the same host. */
    ck_assert_msg(strcmp(dry.host_id, got.host_id) == 0, "%s: dry run %s, claim %s", about,
                  dry.host_name, got.host_name);
    record_claim(w, t, &r, &got);
    return OUT_PLACED;
}

START_TEST(placement_never_lands_outside_the_policy)
{
    static world w;
    unsigned outcomes[OUT__N] = { 0 };

    rng_state = 4242;
    for (unsigned wi = 0; wi < WORLDS; wi++) {
        build_world(&w, wi);
        ctx.cfg = wi % 2 ? &pack_cfg : &spread_cfg;
        for (unsigned ci = 0; ci < CASES_PER_WORLD; ci++) {
            int out = run_case(&w, wi, ci, outcomes);
            outcomes[out]++;
        }
        check_rows(&w);
    }
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM placements"), outcomes[OUT_PLACED]);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM residency_records WHERE event = 'placed'"),
                     outcomes[OUT_PLACED]);
    /* Every outcome came up, so no branch went untested. */
    ck_assert_msg(outcomes[OUT_PLACED] >= 60 && outcomes[OUT_CAPACITY] >= 60 &&
                      outcomes[OUT_RESIDENCY] >= 60 && outcomes[OUT_INVALID] >= 20 &&
                      outcomes[OUT_POLICY_REFUSED] >= 10,
                  "placed %u, capacity %u, residency %u, invalid %u, policy refused %u",
                  outcomes[OUT_PLACED], outcomes[OUT_CAPACITY], outcomes[OUT_RESIDENCY],
                  outcomes[OUT_INVALID], outcomes[OUT_POLICY_REFUSED]);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("residency/placement");
    TCase *tc = tcase_create("placement");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, fifty_concurrent_claims_onto_room_for_ten_succeed_exactly_ten_times);
    tcase_add_test(tc, concurrent_claims_in_one_group_never_share_a_host);
    tcase_add_test(tc, spread_takes_the_emptiest_host_and_pack_the_fullest);
    tcase_add_test(tc, spread_alternates_between_equal_hosts_and_pack_fills_one_first);
    tcase_add_test(tc, a_zone_in_the_request_limits_the_hosts);
    tcase_add_test(tc, gpu_requests_go_only_to_hosts_with_free_gpus);
    tcase_add_test(tc, allocation_ratios_scale_cpus_and_memory);
    tcase_add_test(tc, anti_affinity_keeps_a_group_on_distinct_hosts);
    tcase_add_test(tc, hosts_that_are_down_disabled_or_draining_are_never_chosen);
    tcase_add_test(tc, release_gives_the_capacity_back);
    tcase_add_test(tc, a_claim_stores_its_decision_and_a_placed_record);
    tcase_add_test(tc, a_migration_excludes_its_source_reserves_and_moves);
    tcase_add_test(tc, residency_fails_only_when_no_allowed_region_has_hosts);
    tcase_add_test(tc, placement_never_falls_back_outside_the_policy);
    tcase_add_test(tc, bad_requests_are_refused_naming_the_field);
    tcase_add_test(tc, placement_never_lands_outside_the_policy);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
