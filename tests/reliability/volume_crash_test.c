/* Crash safety of volumes: sovd killed with SIGKILL in the middle of a volume create and in
 * the middle of an attach (held there by the fault wrapper's delay, SOV_HV_FAULT in its
 * environment only), then started again. The host is the machine's real qemu:///system (a
 * pool of this test's own in its temporary folder, removed at exit), so LUKS volumes and
 * their libvirt secrets are real: what a killed sovd leaves defined stays defined in
 * libvirtd. The instance is a domain defined and never started (an attach to a stopped
 * instance writes its definition: no guest needed).
 *
 * After each restart the next sovd takes the operations over (their leases run out) or, for
 * an operation that ended meanwhile, the reconciler settles the volume: in the end no volume
 * is creating or attaching, each is what the host holds, and no secret of this test's pool is
 * defined but the one of the attached encrypted volume, which goes with the detach. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#define sql_num(...) tl_db_num(db, __VA_ARGS__)

#define URI "qemu:///system"
#define REGION "fr-vcrash-1"
#define WAIT_S 60

static char *db;
static char *tmp;
static tl_sovd sovd;
static char *op;
static tl_tenant acme;
static char pool[64], pool_path[600], master[600];

static void
setup(void)
{
    db = tl_db_create();
    tmp = tl_tmpdir();
    memset(&sovd, 0, sizeof(sovd));
    op = NULL;
    snprintf(pool, sizeof(pool), "sovvcrash-%d", (int) getpid());
    snprintf(pool_path, sizeof(pool_path), "%s/pool", tmp);
    snprintf(master, sizeof(master), "%s/master.key", tmp);
    tl_libvirt_pool_cleanup_at_exit(URI, pool);
    /* Whatever a failed run leaves defined of this pool's secrets goes too. */
    tl_sh_at_exit("for u in $(virsh -q -c " URI " secret-list | grep -- '%s/' | awk '{print $1}');"
                  " do virsh -q -c " URI " secret-undefine $u; done >/dev/null 2>&1", pool_path);
}

static void
teardown(void)
{
    tl_sovd_discard(&sovd);
    tl_db_drop(db);
    free(db);
    free(op);
    tl_tmpdir_remove(tmp);
    free(tmp);
}

/* sovd with this test's pool and master key (one file across restarts: the KEKs it sealed
 * must open again), and fault rules (NULL: none) in its environment only. */
static void
start_sovd(const char *fault)
{
    char pool_flag[128], path_flag[700], key_flag[700];
    const char *args[] = { "--role=api,worker,reconciler", "--host-check-interval=1",
                           "--worker-threads=4", "--operation-step-timeout=5", pool_flag,
                           path_flag, key_flag, NULL };

    snprintf(pool_flag, sizeof(pool_flag), "--storage-pool=%s", pool);
    snprintf(path_flag, sizeof(path_flag), "--storage-pool-path=%s", pool_path);
    snprintf(key_flag, sizeof(key_flag), "--keystore-master-key=%s", master);
    if (fault)
        setenv("SOV_HV_FAULT", fault, 1);
    tl_sovd_start(&sovd, db, args);
    unsetenv("SOV_HV_FAULT");
}

static void
kill_sovd(void)
{
    tl_sovd_stop(&sovd, SIGKILL, 10);
    tl_sovd_discard(&sovd);
    memset(&sovd, 0, sizeof(sovd));
}

/* Wait until n operations of kind are running at step. */
static void
wait_step(const char *kind, const char *step, long long n)
{
    time_t until = time(NULL) + WAIT_S;

    while (sql_num("SELECT count(*) FROM operations WHERE kind = '%s' AND state = 'running'"
                   " AND step = '%s'", kind, step) < n) {
        ck_assert_msg(time(NULL) < until, "no %s at '%s' after %d s", kind, step, WAIT_S);
        usleep(100 * 1000);
    }
}

static void
wait_volume(const char *name, const char *state)
{
    time_t until = time(NULL) + WAIT_S;

    while (sql_num("SELECT count(*) FROM volumes WHERE name = '%s' AND state = '%s'", name,
                   state) == 0) {
        char *now = tl_db_value(db, "SELECT state || ' ' || state_reason FROM volumes"
                                    " WHERE name = '%s'", name);
        ck_assert_msg(time(NULL) < until, "volume %s not %s after %d s: %s", name, state,
                      WAIT_S, now);
        free(now);
        usleep(200 * 1000);
    }
}

/* The secrets of this test's pool that libvirtd holds. */
static int
secrets_of_pool(void)
{
    int rc;
    char *out = tl_sh_out(&rc, "(virsh -q -c " URI " secret-list | grep -c -- '%s/' || true)",
                          pool_path);
    int n = atoi(out);

    free(out);
    return n;
}

static void
create(const char *name, const char *type, char id[40])
{
    char body[256];
    json_t *j;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"size_gib\":1,\"type\":\"%s\"}", name,
             type);
    j = tl_call_ok(&sovd, "POST", "/v1/volumes", acme.token[TL_MEMBER], body, 202);
    snprintf(id, 40, "%s", tl_str(json_object_get(j, "volume"), "id"));
    json_decref(j);
}

static void
act(const char *id, const char *body)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", id);
    json_decref(tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER], body, 202));
}

START_TEST(killed_mid_create_and_mid_attach_nothing_is_stuck_and_no_secret_stays)
{
    char body[1024], plain[40], enc[40], lost[40], inst[40], xml[700], dom[64];
    char *id;
    json_t *h;

    /* The world, on a sovd that delays every volume create by 4 s. */
    start_sovd("volume_create:0:ok:4000");
    op = tl_operator_token(&sovd);
    tl_tenant_make(&sovd, op, "acme", &acme);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Crash\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-crash\",\"zones\":[\"a\"]}", 201));
    h = tl_host_add(&sovd, op, "{\"name\":\"real\",\"region\":\"" REGION "\",\"zone\":\"a\","
                               "\"libvirt_uri\":\"" URI "\"}");
    json_decref(h);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/volume-types", op, "{\"name\":\"standard\"}",
                           201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/volume-types", op,
                           "{\"name\":\"secure\",\"encrypted\":true}", 201));

    /* Killed mid-create: the encrypted one's secret is defined, neither file is made. */
    create("plain", "standard", plain);
    create("enc", "secure", enc);
    create("lost", "secure", lost);
    wait_step("volume.create", "creating the volume", 3);
    kill_sovd();
    ck_assert_int_ge(secrets_of_pool(), 1);
    /* One of them ends meanwhile (as if it had given up): nothing runs it again, and the
     * reconciler settles its volume (no file: error) and sweeps its secret. */
    free(tl_db_exec(db, "UPDATE operations SET state = 'failed', finished_at = now() WHERE"
                        " resource_id = (SELECT id::text FROM volumes WHERE name = 'lost')"));
    start_sovd(NULL);
    wait_volume("plain", "available");
    wait_volume("enc", "available");
    wait_volume("lost", "error");
    ck_assert_int_eq(sql_num("SELECT count(*) FROM volumes WHERE name = 'lost' AND"
                             " state_reason LIKE 'its file is missing from pool%%'"), 1);
    {
        time_t until = time(NULL) + WAIT_S;
        while (secrets_of_pool() > 0) {
            ck_assert_msg(time(NULL) < until, "a secret of the pool is still defined");
            usleep(200 * 1000);
        }
    }

    /* An instance of acme on the host: a domain defined (first: the reconciler finds it),
     * never started. */
    {
        char uuid[40];
        int rc;
        char *u = tl_sh_out(&rc, "cat /proc/sys/kernel/random/uuid");
        snprintf(uuid, sizeof(uuid), "%.36s", u);
        free(u);
        snprintf(dom, sizeof(dom), "sov-%s", uuid);
        snprintf(xml, sizeof(xml), "%s/dom.xml", tmp);
        snprintf(body, sizeof(body), "<domain type='qemu'><name>%s</name><uuid>%s</uuid>"
                 "<memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os>"
                 "<devices></devices></domain>", dom, uuid);
        ck_assert_int_eq(tl_sh("printf '%%s' \"%s\" > '%s'", body, xml), 0);
        tl_sh_at_exit("virsh -q -c " URI " undefine %s >/dev/null 2>&1", dom);
        ck_assert_int_eq(tl_sh("virsh -q -c " URI " define '%s' >/dev/null", xml), 0);
        id = tl_db_value(db, "INSERT INTO instances (id, tenant_id, workspace, name, vcpus,"
                             " memory_mib, disk_gib, gpus, region, zone, host_id, mac, state)"
                             " SELECT '%s', '%s', 'default', 'app', 1, 64, 1, 0, '" REGION
                             "', 'a', id, '52:54:00:00:00:42', 'stopped' FROM hosts"
                             " RETURNING id", uuid, acme.id);
        snprintf(inst, sizeof(inst), "%s", id);
        free(id);
    }

    /* Killed mid-attach: the secret is defined, the disk not yet attached. */
    kill_sovd();
    start_sovd("disk_attach:0:ok:4000");
    act(enc, "{\"action\":\"attach\",\"instance\":\"app\"}");
    wait_step("volume.attach", "attaching the disk", 1);
    kill_sovd();
    start_sovd(NULL);
    wait_volume("enc", "in-use");
    ck_assert_int_eq(tl_sh("virsh -q -c " URI " dumpxml --inactive %s | grep -q 'sov-vol-%s'",
                           dom, enc), 0);
    /* Attached, its secret stays (QEMU needs it when the domain starts). */
    ck_assert_int_eq(secrets_of_pool(), 1);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM volumes WHERE state IN ('creating',"
                             " 'attaching', 'detaching', 'extending')"), 0);
    /* Detached, it goes. */
    act(enc, "{\"action\":\"detach\"}");
    wait_volume("enc", "available");
    ck_assert_int_eq(secrets_of_pool(), 0);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM operations WHERE state IN ('queued',"
                             " 'running')"), 0);
    /* Capacity: the host's usage is what its allocations hold. */
    ck_assert_int_eq(sql_num("SELECT disk_gib_used FROM hosts"),
                     sql_num("SELECT coalesce(sum(disk_gib), 0) FROM host_allocations"));
    ck_assert_int_eq(tl_sovd_stop_clean(&sovd, 30), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("reliability/volume-crash");
    TCase *tc = tcase_create("crash");

    signal(SIGPIPE, SIG_IGN);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, killed_mid_create_and_mid_attach_nothing_is_stuck_and_no_secret_stays);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
