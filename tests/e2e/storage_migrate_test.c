/* Volumes move with a migrating instance, for real: a fleet of two hosts (scripts/fleet with
 * its OVN: each host a libvirtd in namespaces of its own and an OVN chassis), one sovd, a
 * running QEMU guest (a blank 64 MiB disk: SeaBIOS finds nothing to boot, the guest runs all
 * the same, which is all a migration needs) with a plain and an encrypted (LUKS) volume
 * attached, and a port on the workspace's default network.
 *
 *  - live, through the API, to the other host: libvirt copies the boot overlay and both
 *    volumes into what the migration made on the target (storage/migrate.c: the encrypted
 *    volume made empty there with its secret defined first); the domain runs on the target
 *    only, the volumes' rows and files are there and gone from the source, the plain volume
 *    holds the pattern written into it before the attach, the encrypted one is still LUKS,
 *    and the port is bound on the target's chassis in the Southbound;
 *  - cold, back: the files are sent through sovd (volume_send) and the guest starts there
 *    again, the pattern with it.
 * The seconds of each move are printed. Everything goes (fleet, sovd, database) at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleet.h"
#include "testlib.h"

#define REGION "eu-smig"
#define OP_WAIT_S 240           /* an operation on a real host, TCG on a busy machine */

static tl_fleet fleet;
static char *tmp, *db;
static tl_sovd sovd;
static tl_tenant ten;
static char pool[64], pool_path[128];
static char host_id[2][40];

static char *
accepted(const char *path, const char *body, const char *member, const char *token)
{
    json_t *j = tl_call_ok(&sovd, "POST", path, token, body, 202);
    char *id = member ? strdup(tl_str(json_object_get(j, member), "id")) : NULL;

    tl_op_wait_ok(&sovd, ten.token[TL_OPERATOR], tl_str(json_object_get(j, "operation"), "id"),
                  OP_WAIT_S);
    json_decref(j);
    return id;
}

static void
setup(void)
{
    char store[700], pool_flag[128], path_flag[200], nb_flag[700], sb_flag[700];
    char body[1024], qcow2[700];

    tmp = tl_tmpdir();
    ck_assert_int_eq(chmod(tmp, 0755), 0);
    tl_sh_at_exit("rm -rf '%s'", tmp);
    tl_fleet_up(&fleet, 2, true);
    db = tl_db_create();
    snprintf(pool, sizeof(pool), "sovtest-smig-%d", (int) getpid());
    /* The same string on both hosts, a folder of each (its mount namespace). */
    snprintf(pool_path, sizeof(pool_path), "/var/lib/libvirt/%s", pool);
    snprintf(store, sizeof(store), "--image-store=%s/store", tmp);
    snprintf(pool_flag, sizeof(pool_flag), "--storage-pool=%s", pool);
    snprintf(path_flag, sizeof(path_flag), "--storage-pool-path=%s", pool_path);
    snprintf(nb_flag, sizeof(nb_flag), "--ovn-nb=%s", fleet.ovn.nb);
    snprintf(sb_flag, sizeof(sb_flag), "--ovn-sb=%s", fleet.ovn.sb);
    {
        const char *args[] = { store, pool_flag, path_flag, nb_flag, sb_flag,
                               "--image-allow-file-urls=true", "--stop-timeout=10",
                               "--host-check-interval=2", NULL };
        tl_sovd_start(&sovd, db, args);
    }
    tl_operator_tenant(&sovd, &ten);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", ten.token[TL_OPERATOR],
                           "{\"code\":\"" REGION "\",\"name\":\"SMig EU\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-smig\",\"zones\":[\"a\"]}", 201));
    for (int i = 0; i < 2; i++) {
        json_t *h;

        snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"" REGION "\",\"zone\":"
                 "\"a\",\"libvirt_uri\":\"%s\"}", fleet.host[i].name, fleet.host[i].uri);
        h = tl_host_add(&sovd, ten.token[TL_OPERATOR], body);
        ck_assert_str_eq(tl_str(h, "state"), "up");
        snprintf(host_id[i], sizeof(host_id[i]), "%s", tl_str(h, "id"));
        json_decref(h);
    }
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", ten.token[TL_OPERATOR],
                           "{\"name\":\"smig-tiny\",\"vcpus\":1,\"memory_mib\":64,"
                           "\"disk_gib\":1}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/volume-types", ten.token[TL_OPERATOR],
                           "{\"name\":\"smig-plain\"}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/volume-types", ten.token[TL_OPERATOR],
                           "{\"name\":\"smig-luks\",\"encrypted\":true}", 201));
    snprintf(qcow2, sizeof(qcow2), "%s/blank.qcow2", tmp);
    ck_assert_int_eq(tl_sh("qemu-img create -q -f qcow2 '%s' 64M", qcow2), 0);
    snprintf(body, sizeof(body), "{\"name\":\"blank\",\"region\":\"" REGION "\","
             "\"format\":\"qcow2\",\"source_url\":\"file://%s\"}", qcow2);
    free(accepted("/v1/images", body, NULL, ten.token[TL_MEMBER]));
}

static void
teardown(void)
{
    int rc = tl_sovd_stop_clean(&sovd, 30);

    tl_sovd_discard(&sovd);
    tl_db_drop(db);
    free(db);
    tl_fleet_down(&fleet);
    tl_tmpdir_remove(tmp);
    free(tmp);
    ck_assert_msg(rc == 0, "sovd exited with %d on SIGTERM (its log's tail is above)", rc);
}

/* The path of a file of the pool on host i, as this namespace sees it (malloc). */
static char *
pool_file(int i, const char *name)
{
    char path[300];

    snprintf(path, sizeof(path), "%s/%s", pool_path, name);
    return tl_fleet_path(&fleet, i, path);
}

static bool
has_file(int i, const char *name)
{
    char *p = pool_file(i, name);
    bool yes = access(p, F_OK) == 0;

    free(p);
    return yes;
}

/* qemu-io on host i's file of a plain qcow2 volume (read-only, shared: a guest may hold it):
 * 0 when the command's pattern check passes. */
static int
qemu_io(int i, const char *name, const char *cmd, bool write)
{
    char *p = pool_file(i, name), *out;
    int rc;

    out = tl_sh_out(&rc, "qemu-io %s -f qcow2 -c '%s' '%s' 2>&1", write ? "" : "-r -U", cmd, p);
    if (rc == 0 && strstr(out, "Pattern verification failed"))
        rc = 1;
    if (rc != 0)
        fprintf(stderr, "qemu-io %s on %s: %s\n", cmd, p, out);
    free(out);
    free(p);
    return rc;
}

/* Migrate the instance (live or cold) to host `to` as the operator; the seconds it took. */
static double
migrate(const char *inst, bool live, int to)
{
    char path[128], body[256];
    double t0 = tl_now();

    snprintf(path, sizeof(path), "/v1/instances/%s/actions", inst);
    snprintf(body, sizeof(body), "{\"action\":\"migrate\",\"live\":%s,\"host\":\"%s\"}",
             live ? "true" : "false", fleet.host[to].name);
    free(accepted(path, body, NULL, ten.token[TL_OPERATOR]));
    return tl_now() - t0;
}

/* Everything is on host `on` and nothing on the other; the port bound on its chassis. */
static void
assert_on(const char *inst, const char *plain, const char *luks, const char *port, int on)
{
    int other = 1 - on;
    char f_plain[96], f_luks[96], *v, *p, *out;
    double end;
    int rc;

    snprintf(f_plain, sizeof(f_plain), "sov-vol-%s", plain);
    snprintf(f_luks, sizeof(f_luks), "sov-vol-%s", luks);
    ck_assert_int_eq(tl_fleet_domain_host(&fleet, inst), on);
    v = tl_db_value(db, "SELECT count(*) FROM volumes WHERE id IN ('%s', '%s') AND host_id ="
                    " '%s'", plain, luks, host_id[on]);
    ck_assert_str_eq(v, "2");
    free(v);
    ck_assert_msg(has_file(on, f_plain) && has_file(on, f_luks), "volumes missing on h%d",
                  on + 1);
    ck_assert_msg(!has_file(other, f_plain) && !has_file(other, f_luks),
                  "volumes left on h%d", other + 1);
    ck_assert_int_eq(qemu_io(on, f_plain, "read -P 0x5a 0 1M", false), 0);
    p = pool_file(on, f_luks);
    out = tl_sh_out(&rc, "qemu-img info -U '%s' 2>&1", p);
    ck_assert_msg(rc == 0 && strstr(out, "format: luks"), "not LUKS on h%d: %s", on + 1, out);
    free(out);
    free(p);
    end = tl_now() + 60;
    while (tl_fleet_port_chassis(&fleet, port) != on && tl_now() < end)
        usleep(200 * 1000);
    ck_assert_int_eq(tl_fleet_port_chassis(&fleet, port), on);
}

START_TEST(volumes_and_ports_move_with_a_live_then_a_cold_migration)
{
    char *inst, *plain, *luks, *v, path[128], port[40], f_plain[96];
    int src;
    double live_s, cold_s;

    inst = accepted("/v1/instances", "{\"name\":\"smig\",\"flavor\":\"smig-tiny\","
                    "\"image\":\"blank\"}", "instance", ten.token[TL_MEMBER]);
    plain = accepted("/v1/volumes", "{\"name\":\"smig-data\",\"type\":\"smig-plain\","
                     "\"size_gib\":1,\"instance_hint\":\"smig\"}", "volume",
                     ten.token[TL_MEMBER]);
    luks = accepted("/v1/volumes", "{\"name\":\"smig-vault\",\"type\":\"smig-luks\","
                    "\"size_gib\":1,\"instance_hint\":\"smig\"}", "volume",
                    ten.token[TL_MEMBER]);
    v = tl_db_value(db, "SELECT host_id FROM instances WHERE id = '%s'", inst);
    src = strcmp(v, host_id[0]) == 0 ? 0 : 1;
    free(v);
    /* A pattern the guest never wrote: what libvirt's copy must carry. */
    snprintf(f_plain, sizeof(f_plain), "sov-vol-%s", plain);
    ck_assert_int_eq(qemu_io(src, f_plain, "write -P 0x5a 0 1M", true), 0);
    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", plain);
    free(accepted(path, "{\"action\":\"attach\",\"instance\":\"smig\"}", NULL,
                  ten.token[TL_MEMBER]));
    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", luks);
    free(accepted(path, "{\"action\":\"attach\",\"instance\":\"smig\"}", NULL,
                  ten.token[TL_MEMBER]));
    v = tl_db_value(db, "SELECT id FROM ports WHERE instance_id = '%s'", inst);
    snprintf(port, sizeof(port), "%s", v);
    free(v);
    assert_on(inst, plain, luks, port, src);

    live_s = migrate(inst, true, 1 - src);
    assert_on(inst, plain, luks, port, 1 - src);
    cold_s = migrate(inst, false, src);
    assert_on(inst, plain, luks, port, src);
    v = tl_db_value(db, "SELECT state FROM instances WHERE id = '%s'", inst);
    ck_assert_str_eq(v, "running");
    free(v);
    v = tl_db_value(db, "SELECT count(*) FROM residency_records WHERE event = 'moved' AND"
                    " resource_id IN ('%s', '%s')", plain, luks);
    ck_assert_str_eq(v, "4");
    free(v);
    printf("e2e/storage-migrate: a 64 MiB TCG guest with a plain and a LUKS volume (1 GiB "
           "each) and an OVN port: live migration %.1f s, cold migration %.1f s (202 to "
           "succeeded)\n", live_s, cold_s);
    fflush(stdout);
    free(inst);
    free(plain);
    free(luks);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("e2e/storage-migrate");
    TCase *tc = tcase_create("storage-migrate");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 590);
    tcase_add_test(tc, volumes_and_ports_move_with_a_live_then_a_cold_migration);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
