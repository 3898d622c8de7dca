/* The libvirt driver's storage and disk calls (include/sov/hv.h) against the machine's real
 * libvirtd (qemu:///system) and QEMU, called directly rather than through sovd: what storage/
 * builds on must hold on the real thing, not only on libvirt's test driver.
 *
 * - volumes: plain and LUKS-encrypted qcow2, info, list, copies (plain to plain, encrypted to
 *   encrypted: the data survives, read back by qemu-io with the hex passphrase the driver
 *   gives libvirt), growth (never shrinking), secrets defined, listed and undefined;
 * - a real guest (tests/support/guest.h): a hot-attached volume is read by the guest's kernel
 *   (its block statistics count the partition probe), grows online, is snapshotted while
 *   attached (plain and encrypted targets), and is released by the guest on detach; an
 *   encrypted volume attaches with its secret and grows online;
 * - a domain with no operating system never releases a disk: the detach times out with
 *   SOV_E_CONFLICT and the disk stays live.
 *
 * Every libvirt object has a name of this process (pool, domains, secrets) and is removed
 * however the test ends. One guest at a time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "hv_dom.h"
#include "sov/compute.h"
#include "sov/hv.h"
#include "sov/registry.h"
#include "testlib.h"

#define URI "qemu:///system"
#define GIB (1024LL * 1024 * 1024)

static char *tmp;
static char pool[64], pool_path[600];
static sov_hv *hv;

static void
setup(void)
{
    sov_error err = SOV_ERROR_INIT;
    sov_hv_node n;

    tmp = tl_tmpdir();
    tl_assert_traversable(tmp);
    snprintf(pool, sizeof(pool), "sovtest-hvs-%d", (int) getpid());
    snprintf(pool_path, sizeof(pool_path), "%s/pool", tmp);
    sov_registry_reset();
    ck_assert_int_eq(sov_hv_register_libvirt(NULL), 0);
    ck_assert_msg(sov_hv_open(URI, &hv, &err) == 0, "%s (%s)", err.msg, err.detail);
    tl_libvirt_pool_cleanup_at_exit(URI, pool);
    ck_assert_msg(sov_hv_discover(hv, pool, pool_path, &n, &err) == 0, "%s (%s)", err.msg,
                  err.detail);
}

static void
teardown(void)
{
    sov_hv_close(hv);
    hv = NULL;
    tl_sh("virsh -q -c %s pool-destroy '%s' >/dev/null 2>&1; "
          "virsh -q -c %s pool-undefine '%s' >/dev/null 2>&1", URI, pool, URI, pool);
    tl_tmpdir_remove(tmp);
    free(tmp);
}

/* ---- helpers ---- */

static long long
capacity_of(const char *name)
{
    sov_error err = SOV_ERROR_INIT;
    long long cap = -1, alloc = -1;

    ck_assert_msg(sov_hv_volume_info(hv, pool, name, &cap, &alloc, &err) == 0, "%s: %s (%s)",
                  name, err.msg, err.detail);
    return cap;
}

static void
path_of(const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", pool_path, name);
}

/* A secret of this process for volume name (usage: its path), removed at exit. */
static void
secret_for(const char *name, const unsigned char *key, size_t len, char uuid[37])
{
    sov_error err = SOV_ERROR_INIT;
    char path[700];

    hv_dom_uuid(uuid);
    tl_sh_at_exit("virsh -q -c %s secret-undefine %s >/dev/null 2>&1", URI, uuid);
    path_of(name, path, sizeof(path));
    ck_assert_msg(sov_hv_secret_define(hv, uuid, path, key, len, &err) == 0, "%s (%s)",
                  err.msg, err.detail);
}

static void
hex_of(const unsigned char *key, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", key[i]);
}

/* qemu-io on an encrypted volume opened with the passphrase; 0 when the command succeeds. */
static int
qemu_io_luks(const char *name, const char *hexkey, const char *cmd)
{
    char path[700];

    path_of(name, path, sizeof(path));
    return tl_sh("qemu-io --object secret,id=k,data=%s --image-opts "
                 "driver=qcow2,file.filename=%s,encrypt.key-secret=k -c '%s' >/dev/null 2>&1",
                 hexkey, path, cmd);
}

static void
assert_luks(const char *name)
{
    char path[700];

    path_of(name, path, sizeof(path));
    ck_assert_msg(tl_sh("qemu-img info -U '%s' | grep -q '^encrypted: yes'", path) == 0,
                  "%s is not encrypted", name);
    ck_assert_msg(tl_sh("grep -q -a -F \"$(printf 'LUKS\\272\\276')\" '%s'", path) == 0,
                  "no LUKS header in %s", name);
}

/* ---- volumes and secrets ---- */

START_TEST(volumes_are_made_copied_grown_and_encrypted_by_libvirt)
{
    sov_error err = SOV_ERROR_INIT;
    unsigned char k1[32], k2[32];
    char s1[37], s2[37], h1[65], h2[65], path[700];
    char **names = NULL;
    size_t n = 0;
    double t;

    for (int i = 0; i < 32; i++) {
        k1[i] = (unsigned char) (i * 7 + 1);
        k2[i] = (unsigned char) (255 - i * 3);
    }
    hex_of(k1, 32, h1);
    hex_of(k2, 32, h2);

    /* Plain. */
    ck_assert_msg(sov_hv_volume_create(hv, pool, "plain-a", 1, NULL, &err) == 0, "%s (%s)",
                  err.msg, err.detail);
    ck_assert_int_eq(capacity_of("plain-a"), GIB);
    ck_assert_int_eq(sov_hv_volume_create(hv, pool, "plain-a", 1, NULL, &err), 0);
    path_of("plain-a", path, sizeof(path));
    ck_assert_int_eq(tl_sh("qemu-io -f qcow2 '%s' -c 'write -P 0x5a 0 64k' >/dev/null", path), 0);
    ck_assert_msg(sov_hv_volume_copy(hv, pool, "plain-b", "plain-a", "qcow2", NULL, 2, NULL,
                                     &err) == 0, "%s (%s)", err.msg, err.detail);
    ck_assert_int_eq(capacity_of("plain-b"), 2 * GIB);
    path_of("plain-b", path, sizeof(path));
    ck_assert_int_eq(tl_sh("qemu-io -f qcow2 '%s' -c 'read -P 0x5a 0 64k' >/dev/null", path), 0);
    /* A copy's source is read as its maker says: a qcow2 is not copied as raw. */
    ck_assert_int_eq(sov_hv_volume_copy(hv, pool, "plain-c", "plain-a", "raw", NULL, 1, NULL,
                                        &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    ck_assert_msg(sov_hv_volume_resize(hv, pool, "plain-a", 3, NULL, &err) == 0, "%s (%s)",
                  err.msg, err.detail);
    ck_assert_int_eq(capacity_of("plain-a"), 3 * GIB);
    ck_assert_int_eq(sov_hv_volume_resize(hv, pool, "plain-a", 2, NULL, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);

    /* Encrypted: LUKS in qcow2, with the hex of the key as passphrase. */
    secret_for("enc-a", k1, 32, s1);
    t = tl_now();
    ck_assert_msg(sov_hv_volume_create(hv, pool, "enc-a", 1, s1, &err) == 0, "%s (%s)",
                  err.msg, err.detail);
    printf("encrypted volume create: %.2f s\n", tl_now() - t);
    assert_luks("enc-a");
    ck_assert_int_eq(qemu_io_luks("enc-a", h1, "write -P 0xa5 0 64k"), 0);
    ck_assert_int_ne(qemu_io_luks("enc-a", h2, "read 0 4k"), 0);    /* wrong key */
    path_of("enc-a", path, sizeof(path));
    ck_assert_int_ne(tl_sh("cmp -s -n 65536 '%s' /dev/zero", path), 0);

    /* Encrypted to encrypted, each with its own key, after a refresh forgot how enc-a was
     * made: libvirt finds its secret by the path. */
    secret_for("enc-b", k2, 32, s2);
    ck_assert_int_eq(sov_hv_volume_list(hv, pool, "enc-", &names, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    sov_hv_names_free(names, n);
    t = tl_now();
    ck_assert_msg(sov_hv_volume_copy(hv, pool, "enc-b", "enc-a", "qcow2", s1, 2, s2, &err) == 0,
                  "%s (%s)", err.msg, err.detail);
    printf("encrypted volume copy: %.2f s\n", tl_now() - t);
    assert_luks("enc-b");
    ck_assert_int_eq(capacity_of("enc-b"), 2 * GIB);
    ck_assert_int_eq(qemu_io_luks("enc-b", h2, "read -P 0xa5 0 64k"), 0);
    /* The source's secret must be the one libvirt opens it with. */
    ck_assert_int_eq(sov_hv_volume_copy(hv, pool, "enc-c", "enc-a", "qcow2", s2, 2, s2, &err),
                     -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);

    /* Encrypted volumes grow too. */
    ck_assert_msg(sov_hv_volume_resize(hv, pool, "enc-b", 3, s2, &err) == 0, "%s (%s)",
                  err.msg, err.detail);
    ck_assert_int_eq(capacity_of("enc-b"), 3 * GIB);
    ck_assert_int_eq(qemu_io_luks("enc-b", h2, "read -P 0xa5 0 64k"), 0);

    ck_assert_int_eq(sov_hv_volume_list(hv, pool, "", &names, &n, &err), 0);
    ck_assert_uint_eq(n, 4);
    sov_hv_names_free(names, n);

    /* Secrets: listed by their usage, undefined, gone. */
    ck_assert_int_eq(sov_hv_secret_list(hv, pool_path, &names, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    sov_hv_names_free(names, n);
    /* Private: libvirt never shows the value. */
    ck_assert_int_ne(tl_sh("virsh -q -c %s secret-get-value %s >/dev/null 2>&1", URI, s1), 0);
    ck_assert_int_eq(sov_hv_secret_undefine(hv, s1, &err), 0);
    ck_assert_int_eq(sov_hv_secret_undefine(hv, s2, &err), 0);
    ck_assert_int_eq(sov_hv_secret_undefine(hv, s2, &err), 0);
    ck_assert_int_eq(sov_hv_secret_list(hv, pool_path, &names, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    sov_hv_names_free(names, n);

    for (const char *const *v = (const char *const[]) { "plain-a", "plain-b", "enc-a", "enc-b",
                                                        NULL };
         *v; v++)
        ck_assert_int_eq(sov_hv_volume_delete(hv, pool, *v, &err), 0);
}
END_TEST

/* An image made from a volume reads the volume's file out of the pool: the qcow2 as it is,
 * its data and its capacity intact. */
START_TEST(a_volume_is_downloaded_as_its_qcow2)
{
    sov_error err = SOV_ERROR_INIT;
    char path[700], file[700];

    ck_assert_msg(sov_hv_volume_create(hv, pool, "dl-src", 1, NULL, &err) == 0, "%s (%s)",
                  err.msg, err.detail);
    path_of("dl-src", path, sizeof(path));
    ck_assert_int_eq(tl_sh("qemu-io -f qcow2 '%s' -c 'write -P 0x6b 1M 64k' >/dev/null", path),
                     0);
    snprintf(file, sizeof(file), "%s/dl.img", tmp);
    ck_assert_msg(sov_hv_volume_download(hv, pool, "dl-src", file, &err) == 0, "%s (%s)",
                  err.msg, err.detail);
    ck_assert_int_eq(tl_sh("qemu-img info --output=json '%s' | grep -q '\"format\": "
                           "\"qcow2\"'", file), 0);
    ck_assert_int_eq(tl_sh("qemu-img info --output=json '%s' | grep -q '\"virtual-size\": "
                           "1073741824'", file), 0);
    ck_assert_int_eq(tl_sh("qemu-io -f qcow2 '%s' -c 'read -P 0x6b 1M 64k' >/dev/null", file),
                     0);
    /* A volume that is not there. */
    ck_assert_int_eq(sov_hv_volume_download(hv, pool, "dl-none", file, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
    ck_assert_int_eq(sov_hv_volume_delete(hv, pool, "dl-src", &err), 0);
}
END_TEST

/* ---- disks of running domains ---- */

typedef hv_dom dom;

static void
dom_remove(const dom *d)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_msg(sov_hv_undefine(hv, d->uuid, &err) == 0, "%s", err.msg);
}

/* A pool volume at dev with a serial and limits, as storage/ attaches one. */
static char *
volume_disk(const char *vol, const char *dev, const char *secret)
{
    sov_error err = SOV_ERROR_INIT;
    char *xml = NULL;

    ck_assert(sov_domain_disk_xml(&(sov_domain_disk) { .pool = pool, .volume = vol,
        .format = "qcow2", .cache = "none", .dev = dev, .serial = vol, .secret_uuid = secret,
        .iops_max = 2000, .bytes_per_s_max = 200 * 1024 * 1024 }, &xml, &err) == 0);
    return xml;
}

/* Read requests the guest made on dev (its kernel probes a new disk's partition table). */
static long long
reads_of(const dom *d, const char *dev)
{
    char *out = NULL;
    long long n = -1;

    if (tl_virsh(URI, &out, "domblkstat %s %s", d->uuid, dev) == 0 && out) {
        const char *p = strstr(out, "rd_req");
        if (p)
            n = strtoll(p + 6, NULL, 10);
    }
    free(out);
    return n;
}

static bool
live_xml_has(const dom *d, const char *needle)
{
    char *out = NULL;
    bool has;

    ck_assert_int_eq(tl_virsh(URI, &out, "dumpxml %s", d->uuid), 0);
    has = out && strstr(out, needle);
    free(out);
    return has;
}

START_TEST(a_real_guest_sees_a_hot_volume_grow_is_snapshotted_and_lets_it_go)
{
    sov_error err = SOV_ERROR_INIT;
    unsigned char k[32];
    char sec[37], hk[65];
    char *image, *disk, *up;
    dom d;
    double t;
    long long rd = -1;

    for (int i = 0; i < 32; i++)
        k[i] = (unsigned char) (i * 13 + 5);
    hex_of(k, 32, hk);
    image = tl_guest_image();
    tl_sh_at_exit("rm -rf \"$(dirname '%s')\"", image);
    hv_dom_start(hv, tmp, "hvs", &d, image);
    up = tl_console_expect(tl_console_file_read, d.log, TL_GUEST_UP, 120);
    free(up);

    ck_assert_int_eq(sov_hv_volume_create(hv, pool, "data", 1, NULL, &err), 0);
    disk = volume_disk("data", "vdc", NULL);
    t = tl_now();
    ck_assert_msg(sov_hv_disk_attach(hv, d.uuid, disk, &err) == 0, "%s (%s)", err.msg,
                  err.detail);
    printf("hot attach: %.3f s\n", tl_now() - t);
    ck_assert_int_eq(sov_hv_disk_present(hv, d.uuid, "vdc", &err), 1);
    ck_assert_int_eq(sov_hv_disk_attach(hv, d.uuid, disk, &err), 0);     /* rerun */
    free(disk);
    ck_assert(live_xml_has(&d, "<serial>data</serial>"));
    ck_assert(live_xml_has(&d, "<total_iops_sec>2000</total_iops_sec>"));
    /* The guest's kernel found it: it read the new disk. */
    for (t = tl_now(); tl_now() - t < 60 && (rd = reads_of(&d, "vdc")) <= 0;)
        usleep(200 * 1000);
    ck_assert_msg(rd > 0, "the guest never read vdc (rd_req %lld)", rd);

    /* Online growth: QEMU grows the file under the running guest. */
    ck_assert_msg(sov_hv_disk_resize(hv, d.uuid, "vdc", 2, &err) == 0, "%s (%s)", err.msg,
                  err.detail);
    ck_assert_int_eq(capacity_of("data"), 2 * GIB);
    ck_assert_int_eq(sov_hv_disk_resize(hv, d.uuid, "vdc", 1, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);

    /* Snapshots while attached: plain, then encrypted. */
    t = tl_now();
    ck_assert_msg(sov_hv_disk_snapshot(hv, d.uuid, "vdc", pool, "snap-1", NULL, &err) == 0,
                  "%s (%s)", err.msg, err.detail);
    printf("snapshot (plain): %.3f s\n", tl_now() - t);
    ck_assert_int_eq(capacity_of("snap-1"), 2 * GIB);
    secret_for("snap-2", k, 32, sec);
    t = tl_now();
    ck_assert_msg(sov_hv_disk_snapshot(hv, d.uuid, "vdc", pool, "snap-2", sec, &err) == 0,
                  "%s (%s)", err.msg, err.detail);
    printf("snapshot (encrypted): %.3f s\n", tl_now() - t);
    ck_assert_int_eq(capacity_of("snap-2"), 2 * GIB);
    assert_luks("snap-2");
    ck_assert_int_eq(qemu_io_luks("snap-2", hk, "read 0 4k"), 0);
    ck_assert_int_eq(sov_hv_disk_snapshot(hv, d.uuid, "vdz", pool, "snap-3", NULL, &err), -1);
    ck_assert_int_ne(err.code, SOV_OK);
    ck_assert_int_eq(tl_sh("test -e '%s/snap-3'", pool_path) == 0, 0);   /* nothing left */

    /* Detach: the guest releases it. */
    t = tl_now();
    ck_assert_msg(sov_hv_disk_detach(hv, d.uuid, "vdc", 30000, &err) == 0, "%s (%s)", err.msg,
                  err.detail);
    printf("detach (guest released): %.3f s\n", tl_now() - t);
    ck_assert_int_eq(sov_hv_disk_present(hv, d.uuid, "vdc", &err), 0);
    ck_assert(!live_xml_has(&d, "<serial>data</serial>"));
    ck_assert_int_eq(sov_hv_disk_detach(hv, d.uuid, "vdc", 1000, &err), 0);

    /* An encrypted volume attaches with its secret, and goes again. */
    ck_assert_int_eq(sov_hv_secret_undefine(hv, sec, &err), 0);
    secret_for("snap-2", k, 32, sec);
    disk = volume_disk("snap-2", "vdd", sec);
    ck_assert_msg(sov_hv_disk_attach(hv, d.uuid, disk, &err) == 0, "%s (%s)", err.msg,
                  err.detail);
    free(disk);
    ck_assert(live_xml_has(&d, "<encryption format='luks'"));
    /* An encrypted disk grows online too (QEMU grows the qcow2 under its LUKS layer). */
    ck_assert_msg(sov_hv_disk_resize(hv, d.uuid, "vdd", 3, &err) == 0, "%s (%s)", err.msg,
                  err.detail);
    ck_assert_int_eq(capacity_of("snap-2"), 3 * GIB);
    ck_assert_msg(sov_hv_disk_detach(hv, d.uuid, "vdd", 30000, &err) == 0, "%s (%s)", err.msg,
                  err.detail);
    ck_assert_int_eq(sov_hv_secret_undefine(hv, sec, &err), 0);

    dom_remove(&d);
    for (const char *const *v = (const char *const[]) { "data", "snap-1", "snap-2", NULL }; *v;
         v++)
        ck_assert_int_eq(sov_hv_volume_delete(hv, pool, *v, &err), 0);
    tl_guest_image_remove(image);
    free(image);
}
END_TEST

/* A domain without an operating system has nothing that answers the unplug request. */
START_TEST(a_disk_the_guest_never_releases_times_out_and_stays)
{
    sov_error err = SOV_ERROR_INIT;
    char boot[700], *disk;
    dom d;
    double t;

    ck_assert_int_eq(sov_hv_volume_create(hv, pool, "blank-boot", 1, NULL, &err), 0);
    ck_assert_int_eq(sov_hv_volume_create(hv, pool, "blank-data", 1, NULL, &err), 0);
    path_of("blank-boot", boot, sizeof(boot));
    hv_dom_start(hv, tmp, "hvs", &d, boot);
    disk = volume_disk("blank-data", "vdb", NULL);
    ck_assert_msg(sov_hv_disk_attach(hv, d.uuid, disk, &err) == 0, "%s (%s)", err.msg,
                  err.detail);
    free(disk);
    t = tl_now();
    ck_assert_int_eq(sov_hv_disk_detach(hv, d.uuid, "vdb", 1500, &err), -1);
    t = tl_now() - t;
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    ck_assert_str_eq(err.msg, "the guest has not released vdb");
    ck_assert_msg(t >= 1.4 && t < 10, "the detach waited %.2f s", t);
    ck_assert_int_eq(sov_hv_disk_present(hv, d.uuid, "vdb", &err), 1);
    /* A second try waits again, and says the same. */
    ck_assert_int_eq(sov_hv_disk_detach(hv, d.uuid, "vdb", 500, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    dom_remove(&d);
    ck_assert_int_eq(sov_hv_volume_delete(hv, pool, "blank-data", &err), 0);
    ck_assert_int_eq(sov_hv_volume_delete(hv, pool, "blank-boot", &err), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("e2e/hv-storage");
    TCase *tc = tcase_create("hv-storage");
    TCase *dl = tcase_create("download");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 540);
    tcase_add_test(tc, volumes_are_made_copied_grown_and_encrypted_by_libvirt);
    tcase_add_test(tc, a_disk_the_guest_never_releases_times_out_and_stays);
    tcase_add_test(tc, a_real_guest_sees_a_hot_volume_grow_is_snapshotted_and_lets_it_go);
    tcase_add_checked_fixture(dl, setup, teardown);
    tcase_set_timeout(dl, 120);
    tcase_add_test(dl, a_volume_is_downloaded_as_its_qcow2);
    suite_add_tcase(s, dl);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
