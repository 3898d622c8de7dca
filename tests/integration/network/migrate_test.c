/* network/'s part of a migration (network/migrate.c, the requested-chassis of ovn_repo.c and
 * ovn_sync.c) against a real OVN (tl_ovn_start: Northbound, Southbound, ovn-northd) and a
 * real PostgreSQL: rows written with SQL as compute's migration writes them (the instance,
 * its instance_migrations row, its host after the commit), the network hook's migrate()
 * called in this process at each phase as compute's worker calls it, and the Northbound read
 * back with ovn-nbctl.
 *
 * Covered: a live migration's PREPARE binds the instance's logical switch port on both
 * chassis ("source,target", activation-strategy rarp) while its other port (no instance)
 * asks for none; the reconciler's pass finds nothing to repair meanwhile (it does not fight
 * the move); an ABORT once the migration failed brings the source's chassis back alone; a
 * FINISH after the commit (the instance's host is the target) leaves the target's alone,
 * activation-strategy gone; a cold migration binds nothing twice and moves at its FINISH;
 * a live migration of an instance whose hosts' chassis are not known (libvirt's test driver)
 * asks for no chassis; each phase twice is the same as once; without OVN the hook does
 * nothing. And end to end through sovd's API and compute's worker (migrate_flow.c). */
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate_flow.h"
#include "network_int.h"
#include "ovn_bed.h"
#include "sov/config.h"
#include "sov/migrate.h"
#include "testlib.h"

static tl_ovn ovn;
static char *url;
static sov_db *db;
static PGconn *pg;
static sov_config cfg;
static sov_ctx ctx;
static char tenant[SOV_UUID_LEN + 1];

#define sql(...) tl_pg_sql(pg, __VA_ARGS__)
#define SQLV(buf, ...) sql((buf), sizeof(buf), __VA_ARGS__)
#define nbctl(...) ovn_bed_nbctl(&ovn, __VA_ARGS__)

static void
ovn_up(void)
{
    memset(&ovn, 0, sizeof(ovn));
    tl_ovn_start(&ovn, NULL, false);
}

static void
ovn_down(void)
{
    tl_ovn_discard(&ovn);
}

static void
load_config(bool with_ovn)
{
    ovn_bed_config(&cfg, with_ovn ? &ovn : NULL);
}

static void
setup(void)
{
    ovn_bed_db_open(&url, &db, &pg);
    load_config(true);
    memset(&ctx, 0, sizeof(ctx));
    ctx.db = db;
    ctx.cfg = &cfg;
    ctx.request_id = "";
    ctx.source = "";
    ctx.action = "instance.migrate";
    SQLV(tenant, "INSERT INTO tenants (name) VALUES ('acme') RETURNING id");
    sql(NULL, 0, "INSERT INTO workspaces (tenant_id, name) VALUES ('%s', 'default')", tenant);
    sql(NULL, 0, "INSERT INTO regions (code, name, country, jurisdiction, datacenter) VALUES"
        " ('fr-1', 'Region fr-1', 'FR', 'EU', 'dc-1')");
    sql(NULL, 0, "INSERT INTO zones (region, name) VALUES ('fr-1', 'a')");
    sql(NULL, 0, "INSERT INTO flavors (name, vcpus, memory_mib, disk_gib) VALUES"
        " ('small', 1, 512, 1)");
    sql(NULL, 0, "INSERT INTO images (tenant_id, workspace, name, region, format) VALUES"
        " ('%s', 'default', 'img', 'fr-1', 'qcow2')", tenant);
}

static void
teardown(void)
{
    ovn_bed_close(url, db, pg, &cfg);
}


static void
assert_option(const char *port, const char *key, const char *want)
{
    ovn_bed_assert_option(&ovn, port, key, want);
}

static unsigned
reconcile(void)
{
    sov_error err = SOV_ERROR_INIT;
    unsigned repairs = 0;

    ck_assert_msg(sov_ovn_reconcile(&ctx, &repairs, &err) == 0, "%s: %s", err.msg,
                  err.detail);
    return repairs;
}

/* ---- the bed: two hosts, an instance on the first with a port, a free port ---- */

typedef struct bed {
    char src[SOV_UUID_LEN + 1], dst[SOV_UUID_LEN + 1];
    char net[SOV_UUID_LEN + 1], sub[SOV_UUID_LEN + 1];
    char port[SOV_UUID_LEN + 1], free_port[SOV_UUID_LEN + 1];
    sov_instance inst;
} bed;

/* src_uuid and dst_uuid: the hosts' libvirt host UUIDs (OVN chassis names), "" unknown. */
static void
make_bed(bed *b, const char *src_uuid, const char *dst_uuid)
{
    sov_error err = SOV_ERROR_INIT;

    memset(b, 0, sizeof(*b));
    SQLV(b->src, "INSERT INTO hosts (name, region, zone, libvirt_uri, hypervisor, cpus,"
         " memory_mib, host_uuid) VALUES ('h1', 'fr-1', 'a', 'test:///h1', 'test', 4, 4096,"
         " '%s') RETURNING id", src_uuid);
    SQLV(b->dst, "INSERT INTO hosts (name, region, zone, libvirt_uri, hypervisor, cpus,"
         " memory_mib, host_uuid) VALUES ('h2', 'fr-1', 'a', 'test:///h2', 'test', 4, 4096,"
         " '%s') RETURNING id", dst_uuid);
    SQLV(b->net, "INSERT INTO networks (id, tenant_id, workspace, name, cidr, region, state)"
         " VALUES (gen_random_uuid(), '%s', 'default', 'net', '10.0.0.0/16', 'fr-1',"
         " 'creating') RETURNING id", tenant);
    SQLV(b->sub, "INSERT INTO subnets (id, tenant_id, workspace, name, network_id, cidr,"
         " gateway, state) VALUES (gen_random_uuid(), '%s', 'default', 'sub', '%s',"
         " '10.0.1.0/24', '10.0.1.1', 'creating') RETURNING id", tenant, b->net);
    SQLV(b->inst.id, "INSERT INTO instances (id, tenant_id, workspace, name, flavor_id,"
         " image_id, vcpus, memory_mib, disk_gib, gpus, region, zone, mac, state, host_id)"
         " SELECT gen_random_uuid(), '%s', 'default', 'vm', f.id, i.id, 1, 512, 1, 0, 'fr-1',"
         " 'a', '', 'running', '%s' FROM flavors f, images i RETURNING id", tenant, b->src);
    SQLV(b->port, "INSERT INTO ports (id, tenant_id, workspace, name, network_id, subnet_id,"
         " ip, mac, state, instance_id, device_index) VALUES (gen_random_uuid(), '%s',"
         " 'default', 'p1', '%s', '%s', '10.0.1.2', '02:00:00:00:01:02', 'attaching', '%s', 0)"
         " RETURNING id", tenant, b->net, b->sub, b->inst.id);
    SQLV(b->free_port, "INSERT INTO ports (id, tenant_id, workspace, name, network_id,"
         " subnet_id, ip, mac, state) VALUES (gen_random_uuid(), '%s', 'default', 'p2', '%s',"
         " '%s', '10.0.1.3', '02:00:00:00:01:03', 'creating') RETURNING id", tenant, b->net,
         b->sub);
    snprintf(b->inst.tenant_id, sizeof(b->inst.tenant_id), "%s", tenant);
    snprintf(b->inst.name, sizeof(b->inst.name), "vm");
    snprintf(b->inst.host_id, sizeof(b->inst.host_id), "%s", b->src);
    ck_assert_msg(sov_ovn_sync_network(&ctx, b->net, NULL, &err) == 0, "%s: %s", err.msg,
                  err.detail);
}

/* A migration's row, as compute's request writes it; its id into id. */
static void
make_migration(const bed *b, bool live, const char *state, char *id)
{
    sql(id, SOV_UUID_LEN + 1, "INSERT INTO instance_migrations (instance_id, tenant_id,"
        " operation_id, live, source_host_id, target_host_id, source_host, target_host,"
        " state) VALUES ('%s', '%s', gen_random_uuid(), %s, '%s', '%s', 'h1', 'h2', '%s')"
        " RETURNING id", b->inst.id, tenant, live ? "true" : "false", b->src, b->dst, state);
}

/* The hook's phase, as compute's worker calls it (the hosts are not needed by network/). */
static void
phase(const bed *b, const char *migration_id, bool live, sov_migrate_phase ph)
{
    sov_error err = SOV_ERROR_INIT;
    const sov_instance_move m = {
        .inst = &b->inst, .migration_id = migration_id, .live = live,
        .source_host_id = b->src, .target_host_id = b->dst, .source_host_name = "h1",
        .target_host_name = "h2", .source_machine = "", .target_machine = "",
    };

    ck_assert_ptr_nonnull(sov_net_instance_hook.migrate);
    ck_assert_msg(sov_net_instance_hook.migrate(NULL, &ctx, ph, &m, &err) == 0, "phase %d: "
                  "%s: %s", (int) ph, err.msg, err.detail);
}

/* The move's commit, as compute's writes it: the instance on the target, the row on. */
static void
commit(bed *b, const char *migration_id)
{
    sql(NULL, 0, "UPDATE instances SET host_id = '%s' WHERE id = '%s'", b->dst, b->inst.id);
    sql(NULL, 0, "UPDATE instance_migrations SET state = 'cleaning' WHERE id = '%s'",
        migration_id);
    snprintf(b->inst.host_id, sizeof(b->inst.host_id), "%s", b->dst);
}

/* ---- tests ---- */

START_TEST(a_live_migration_binds_both_chassis_then_the_target_alone)
{
    bed b;
    char mig[SOV_UUID_LEN + 1];

    make_bed(&b, "chassis-src", "chassis-dst");
    assert_option(b.port, "requested-chassis", "chassis-src");
    assert_option(b.free_port, "requested-chassis", "");
    make_migration(&b, true, "preparing", mig);
    phase(&b, mig, true, SOV_MIGRATE_PREPARE);
    assert_option(b.port, "requested-chassis", "chassis-src,chassis-dst");
    assert_option(b.port, "activation-strategy", "rarp");
    assert_option(b.free_port, "requested-chassis", "");
    /* Twice is once; the reconciler reads the same intent and has nothing to repair. */
    phase(&b, mig, true, SOV_MIGRATE_PREPARE);
    sql(NULL, 0, "UPDATE instance_migrations SET state = 'switching' WHERE id = '%s'", mig);
    ck_assert_uint_eq(reconcile(), 0);
    assert_option(b.port, "requested-chassis", "chassis-src,chassis-dst");
    /* COPY and COMMIT change nothing in OVN. */
    phase(&b, mig, true, SOV_MIGRATE_COMMIT);
    assert_option(b.port, "requested-chassis", "chassis-src,chassis-dst");
    commit(&b, mig);
    phase(&b, mig, true, SOV_MIGRATE_FINISH);
    assert_option(b.port, "requested-chassis", "chassis-dst");
    assert_option(b.port, "activation-strategy", "");
    phase(&b, mig, true, SOV_MIGRATE_FINISH);
    sql(NULL, 0, "UPDATE instance_migrations SET state = 'succeeded' WHERE id = '%s'", mig);
    ck_assert_uint_eq(reconcile(), 0);
    assert_option(b.port, "requested-chassis", "chassis-dst");
}
END_TEST

START_TEST(an_aborted_live_migration_goes_back_to_the_source)
{
    bed b;
    char mig[SOV_UUID_LEN + 1];

    make_bed(&b, "chassis-src", "chassis-dst");
    make_migration(&b, true, "copying", mig);
    phase(&b, mig, true, SOV_MIGRATE_PREPARE);
    assert_option(b.port, "requested-chassis", "chassis-src,chassis-dst");
    sql(NULL, 0, "UPDATE instance_migrations SET state = 'failed' WHERE id = '%s'", mig);
    phase(&b, mig, true, SOV_MIGRATE_ABORT);
    assert_option(b.port, "requested-chassis", "chassis-src");
    assert_option(b.port, "activation-strategy", "");
    phase(&b, mig, true, SOV_MIGRATE_ABORT);
    assert_option(b.port, "requested-chassis", "chassis-src");
    /* A migration failed before its abort ran (or whose abort failed): the reconciler
     * writes the source's alone all the same. */
    make_migration(&b, true, "switching", mig);
    phase(&b, mig, true, SOV_MIGRATE_PREPARE);
    sql(NULL, 0, "UPDATE instance_migrations SET state = 'failed' WHERE id = '%s'", mig);
    ck_assert_uint_eq(reconcile(), 1);
    assert_option(b.port, "requested-chassis", "chassis-src");
    assert_option(b.port, "activation-strategy", "");
}
END_TEST

START_TEST(a_cold_migration_moves_the_port_at_its_finish)
{
    bed b;
    char mig[SOV_UUID_LEN + 1];

    make_bed(&b, "chassis-src", "chassis-dst");
    make_migration(&b, false, "preparing", mig);
    phase(&b, mig, false, SOV_MIGRATE_PREPARE);
    phase(&b, mig, false, SOV_MIGRATE_COPY);
    ck_assert_uint_eq(reconcile(), 0);
    assert_option(b.port, "requested-chassis", "chassis-src");
    assert_option(b.port, "activation-strategy", "");
    commit(&b, mig);
    phase(&b, mig, false, SOV_MIGRATE_FINISH);
    assert_option(b.port, "requested-chassis", "chassis-dst");
    assert_option(b.port, "activation-strategy", "");
}
END_TEST

START_TEST(unknown_chassis_are_left_out)
{
    bed b;
    char mig[SOV_UUID_LEN + 1];

    /* libvirt's test driver has no host UUID: the port binds where its interface shows. */
    make_bed(&b, "", "");
    assert_option(b.port, "requested-chassis", "");
    make_migration(&b, true, "preparing", mig);
    phase(&b, mig, true, SOV_MIGRATE_PREPARE);
    assert_option(b.port, "requested-chassis", "");
    assert_option(b.port, "activation-strategy", "");
}
END_TEST

START_TEST(without_ovn_the_hook_does_nothing)
{
    bed b;
    char mig[SOV_UUID_LEN + 1];

    make_bed(&b, "chassis-src", "chassis-dst");
    make_migration(&b, true, "preparing", mig);
    sov_config_release(&cfg);
    load_config(false);
    phase(&b, mig, true, SOV_MIGRATE_PREPARE);
    assert_option(b.port, "requested-chassis", "chassis-src");
    /* Nor for an instance on the NAT network. */
    sov_config_release(&cfg);
    load_config(true);
    b.inst.nat_nic = true;
    phase(&b, mig, true, SOV_MIGRATE_PREPARE);
    assert_option(b.port, "requested-chassis", "chassis-src");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("network/migrate");
    TCase *tc = tcase_create("migrate");

    tcase_add_unchecked_fixture(tc, ovn_up, ovn_down);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_live_migration_binds_both_chassis_then_the_target_alone);
    tcase_add_test(tc, an_aborted_live_migration_goes_back_to_the_source);
    tcase_add_test(tc, a_cold_migration_moves_the_port_at_its_finish);
    tcase_add_test(tc, unknown_chassis_are_left_out);
    tcase_add_test(tc, without_ovn_the_hook_does_nothing);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, migrate_flow_tcase());
    return tl_run_suite(s);
}
