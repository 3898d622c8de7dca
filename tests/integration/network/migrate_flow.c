/* network/migrate's end-to-end case: migrations through the HTTP API of a real sovd (API and
 * worker: compute's migration worker calls the network hook) with a real OVN Northbound
 * (tl_ovn_start, no chassis) and two hosts of libvirt's test driver, each in a private
 * libvirtd of its own (storage's test bed), whose host UUIDs (the test driver has none) are
 * set in the database as a fleet host's would be: "chassis-<name>". libvirt's migration is
 * delayed 3 s by the fault wrapper (SOV_HV_FAULT=migrate:1:ok:3000, then a second one that
 * fails after 3 s), so the test reads the Northbound while the guest is being copied.
 *
 * Covered: the instance's port asks for its host's chassis; during a live migration for
 * both ("source,target", activation-strategy rarp); after it for the target's alone; during
 * a migration that fails for both again, and after the failure for the source's alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../storage/bed.h"
#include "migrate_flow.h"
#include "ovn_bed.h"

#define REGION "fr-nmig-1"
#define FLAVOR "small"
#define IMAGE "base"
#define WAIT_S 60

static void
setup(void)
{
    bed_setup_two("sovnmig");
}

static void
assert_option(const char *port, const char *key, const char *want)
{
    ovn_bed_assert_option(&ovn, port, key, want);
}

/* Wait (at most wait_s) until the port's requested-chassis is want. */
static void
wait_chassis(const char *port, const char *want, int wait_s)
{
    double end = tl_now() + wait_s;
    char *got = NULL;

    for (;;) {
        free(got);
        got = ovn_bed_option(&ovn, port, "requested-chassis");
        if (strcmp(got, want) == 0 || tl_now() > end)
            break;
        usleep(50 * 1000);
    }
    ck_assert_msg(strcmp(got, want) == 0, "port %s requested-chassis is '%s', want '%s'", port,
                  got, want);
    free(got);
}

/* POST actions {action: migrate, live: true, host} as the operator: its operation's id. */
static void
migrate(const char *inst, const char *host, char op_id[40])
{
    char path[128], body[256];
    json_t *j;

    snprintf(path, sizeof(path), "/v1/instances/%s/actions", inst);
    snprintf(body, sizeof(body), "{\"action\":\"migrate\",\"live\":true,\"host\":\"%s\"}",
             host);
    j = tl_call_ok(&sovd, "POST", path, op, body, 202);
    snprintf(op_id, 40, "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
}

START_TEST(a_live_migration_moves_the_port_through_both_chassis)
{
    char nb[700], a[40], b[40], inst[40], op_id[40], port[40], src[40], dst[40];
    char src_ch[64], dst_ch[64], both[130], *v;
    const char *args[] = { "--role=api,worker", "--worker-threads=4",
                           "--image-allow-file-urls=true", "--stop-timeout=5", nb, NULL };
    json_t *j, *o;

    bed_ovn_start(nb);
    bed_start_fault(args, "migrate:1:ok:3000,migrate:2:conflict:3000");
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"NMig FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-fr\",\"zones\":[\"a\"]}", 201));
    bed_host_add("node-a", REGION, "a", uri, true, a);
    bed_host_add("node-b", REGION, "a", uri2, true, b);
    /* What a fleet host's libvirt reports and its ovn-controller is named by. */
    free(tl_db_exec(db, "UPDATE hosts SET host_uuid = 'chassis-' || name"));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"" FLAVOR "\",\"vcpus\":1,\"memory_mib\":256,"
                           "\"disk_gib\":1}", 201));
    bed_image(IMAGE, REGION, WAIT_S, NULL);
    j = tl_call_ok(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER],
                   "{\"name\":\"vm\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\"}", 202);
    snprintf(inst, sizeof(inst), "%s", tl_str(json_object_get(j, "instance"), "id"));
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    tl_op_wait_ok(&sovd, op, op_id, WAIT_S);
    json_decref(bed_wait_state("instances", inst, "running", WAIT_S));
    v = tl_db_value(db, "SELECT id FROM ports WHERE instance_id = '%s'", inst);
    snprintf(port, sizeof(port), "%s", v);
    free(v);
    ck_assert_msg(strlen(port) == 36, "the instance has no port: '%s'", port);
    v = tl_db_value(db, "SELECT h.name FROM instances i JOIN hosts h ON h.id = i.host_id"
                        " WHERE i.id = '%s'", inst);
    snprintf(src, sizeof(src), "%s", v);
    snprintf(dst, sizeof(dst), "%s", strcmp(v, "node-a") == 0 ? "node-b" : "node-a");
    free(v);
    snprintf(src_ch, sizeof(src_ch), "chassis-%s", src);
    snprintf(dst_ch, sizeof(dst_ch), "chassis-%s", dst);
    assert_option(port, "requested-chassis", src_ch);

    /* Live, delayed in libvirt: both chassis while the guest is copied, then the target. */
    migrate(inst, dst, op_id);
    snprintf(both, sizeof(both), "%s,%s", src_ch, dst_ch);
    wait_chassis(port, both, 20);
    assert_option(port, "activation-strategy", "rarp");
    tl_op_wait_ok(&sovd, op, op_id, WAIT_S);
    assert_option(port, "requested-chassis", dst_ch);
    assert_option(port, "activation-strategy", "");

    /* Back, failing in libvirt after 3 s: both again meanwhile, then the source alone. */
    migrate(inst, src, op_id);
    snprintf(both, sizeof(both), "%s,%s", dst_ch, src_ch);
    wait_chassis(port, both, 20);
    o = tl_op_wait_done(&sovd, op, op_id, WAIT_S);
    ck_assert_str_eq(tl_str(o, "state"), "failed");
    json_decref(o);
    assert_option(port, "requested-chassis", dst_ch);
    assert_option(port, "activation-strategy", "");
    json_decref(bed_wait_state("instances", inst, "running", WAIT_S));
}
END_TEST

TCase *
migrate_flow_tcase(void)
{
    TCase *tc = tcase_create("flow");

    tcase_add_checked_fixture(tc, setup, bed_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, a_live_migration_moves_the_port_through_both_chassis);
    return tc;
}
