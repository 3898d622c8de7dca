/* sov_domain_xml against checked-in files, libvirt's qemuxml2argv habit: a spec in, the XML
 * out, compared byte for byte with tests/unit/compute/golden/<name>.xml. Today's instance is
 * built through the contributors (compute's boot disk, seed and NAT NIC) as a create builds
 * it; the other cases add parts by hand: an OVS port with its MTU, disks from a file and
 * from a pool, read-only, with a serial, encrypted. A contributor added from outside compute/
 * lands after compute's own parts.
 *
 * An intended change of the XML: run with SOV_GOLDEN_UPDATE=1 (tests/README.md), which
 * rewrites the files instead of comparing, then review the diff. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/compute.h"
#include "testlib.h"

#define UUID "6f1c2a9e-3b4d-4c5e-8f70-1a2b3c4d5e6f"

static sov_config cfg;
static sov_ctx ctx = { .cfg = &cfg };
static sov_instance inst;

static void
setup(void)
{
    memset(&cfg, 0, sizeof(cfg));
    cfg.storage_pool = "sovereign";
    cfg.nat_network = "sovereign";
    memset(&inst, 0, sizeof(inst));
    snprintf(inst.id, sizeof(inst.id), "%s", UUID);
    snprintf(inst.tenant_id, sizeof(inst.tenant_id), "0b7d8e9f-1a2b-4c3d-9e8f-7a6b5c4d3e2f");
    snprintf(inst.mac, sizeof(inst.mac), "52:54:00:ab:cd:ef");
    inst.nat_nic = true;     /* made before tenant networks: on the NAT network */
    inst.vcpus = 2;
    inst.memory_mib = 2048;
}

/* The top-level fields as instance_ops.c sets them. */
static sov_domain_spec
base(const char *virt_type)
{
    return (sov_domain_spec) {
        .uuid = inst.id, .name = "sov-" UUID, .tenant_id = inst.tenant_id,
        .control_plane = "d2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5f60", .virt_type = virt_type,
        .vcpus = inst.vcpus, .memory_mib = inst.memory_mib,
        .console_log = "/var/lib/sovereign/pool/sov-" UUID "-console.log",
    };
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (data = malloc((size_t) n + 1)) && fread(data, 1, (size_t) n, f) == (size_t) n) {
        data[n] = '\0';
        *len = (size_t) n;
    } else {
        free(data);
        data = NULL;
    }
    fclose(f);
    return data;
}

/* Render s and compare it with golden/<name>.xml (or rewrite that file). */
static void
check_golden(const sov_domain_spec *s, const char *name)
{
    sov_error err = SOV_ERROR_INIT;
    const char *update = getenv("SOV_GOLDEN_UPDATE");
    char path[4096];
    char *xml = NULL, *want;
    size_t len = 0;

    ck_assert_msg(sov_domain_xml(s, &xml, &err) == 0, "%s", err.msg);
    snprintf(path, sizeof(path), "%s/tests/unit/compute/golden/%s.xml",
             tl_env("SOV_SOURCE_ROOT"), name);
    if (update && strcmp(update, "1") == 0) {
        FILE *f = fopen(path, "wb");
        ck_assert_msg(f, "%s: %s", path, strerror(errno));
        ck_assert(fputs(xml, f) >= 0);
        ck_assert(fclose(f) == 0);
    }
    want = slurp(path, &len);
    ck_assert_msg(want, "%s: %s (SOV_GOLDEN_UPDATE=1 writes it)", path, strerror(errno));
    ck_assert_msg(len == strlen(xml) && memcmp(want, xml, len) == 0,
                  "%s differs from what sov_domain_xml gives:\n%s", path, xml);
    free(want);
    free(xml);
}

START_TEST(todays_kvm_instance)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_domain_spec_release) sov_domain_spec s = base("kvm");

    ck_assert_msg(sov_domain_spec_build(&ctx, &inst, &s, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s.ndisks, 2);
    ck_assert_uint_eq(s.nnics, 1);
    check_golden(&s, "instance-kvm");
}
END_TEST

/* TCG: no host CPU mode. */
START_TEST(todays_qemu_instance)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_domain_spec_release) sov_domain_spec s = base("qemu");

    ck_assert_msg(sov_domain_spec_build(&ctx, &inst, &s, &err) == 0, "%s", err.msg);
    check_golden(&s, "instance-qemu");
}
END_TEST

static void
boot_disk(sov_domain_spec *s)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert(sov_domain_spec_add_disk(s, &(sov_domain_disk) {
        .pool = "sovereign", .volume = "sov-" UUID "-disk", .format = "qcow2", .cache = "none",
        .dev = "vda" }, &err) == 0);
}

/* A NAT NIC alone, and no console log: the serial console has no <log>. */
START_TEST(nat_nic_without_console_log)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_domain_spec_release) sov_domain_spec s = base("kvm");

    s.console_log = NULL;
    boot_disk(&s);
    ck_assert(sov_domain_spec_add_nic(&s, &(sov_domain_nic) {
        .kind = SOV_NIC_NETWORK, .network = "sovereign", .mac = "52:54:00:ab:cd:ef" },
        &err) == 0);
    check_golden(&s, "nat-nic");
}
END_TEST

/* An OVN port: br-int by default, its interface id, the overlay's MTU; a second on a named
 * bridge without MTU. */
START_TEST(ovs_nics_with_mtu)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_domain_spec_release) sov_domain_spec s = base("kvm");

    boot_disk(&s);
    ck_assert(sov_domain_spec_add_nic(&s, &(sov_domain_nic) {
        .kind = SOV_NIC_OVS, .interface_id = "a1b2c3d4-0000-4000-8000-000000000001",
        .mac = "fa:16:3e:00:00:01", .mtu = 1442 }, &err) == 0);
    ck_assert(sov_domain_spec_add_nic(&s, &(sov_domain_nic) {
        .kind = SOV_NIC_OVS, .bridge = "br-ex",
        .interface_id = "a1b2c3d4-0000-4000-8000-000000000002",
        .mac = "fa:16:3e:00:00:02" }, &err) == 0);
    check_golden(&s, "ovs-nic");
}
END_TEST

/* Attached volumes: a pool volume, encrypted, with a serial; a file, read-only, on SCSI;
 * values that need escaping are escaped. */
START_TEST(extra_disks)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_domain_spec_release) sov_domain_spec s = base("qemu");

    ck_assert_msg(sov_domain_spec_build(&ctx, &inst, &s, &err) == 0, "%s", err.msg);
    ck_assert(sov_domain_spec_add_disk(&s, &(sov_domain_disk) {
        .pool = "volumes", .volume = "vol-1", .format = "qcow2", .cache = "none",
        .dev = "vdc", .serial = "vol-1", .secret_uuid = "5e1f0000-1111-4222-8333-444455556666"
        }, &err) == 0);
    ck_assert(sov_domain_spec_add_disk(&s, &(sov_domain_disk) {
        .path = "/srv/isos/tools & <drivers>.iso", .format = "raw", .bus = "scsi",
        .dev = "sda", .serial = "tools-1", .readonly = true }, &err) == 0);
    check_golden(&s, "extra-disks");
}
END_TEST

/* A volume of a type with limits: <iotune> with the IOPS and byte-rate caps; one cap alone
 * renders alone. */
START_TEST(volume_with_io_limits)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_domain_spec_release) sov_domain_spec s = base("kvm");

    boot_disk(&s);
    ck_assert(sov_domain_spec_add_disk(&s, &(sov_domain_disk) {
        .pool = "sovereign", .volume = "sov-vol-1", .format = "qcow2", .cache = "none",
        .dev = "vdc", .serial = "5e1f0000-1111-4222-8333-444455556666",
        .secret_uuid = "5e1f0000-1111-4222-8333-444455556666", .iops_max = 500,
        .bytes_per_s_max = 104857600 }, &err) == 0);
    ck_assert(sov_domain_spec_add_disk(&s, &(sov_domain_disk) {
        .pool = "sovereign", .volume = "sov-vol-2", .format = "qcow2", .dev = "vdd",
        .iops_max = 200 }, &err) == 0);
    check_golden(&s, "volume-iotune");
}
END_TEST

/* A hot attach sends the very <disk> the domain's definition holds: one renderer. */
START_TEST(disk_xml_is_the_domains_disk)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_domain_spec_release) sov_domain_spec s = base("kvm");
    const sov_domain_disk d = {
        .pool = "sovereign", .volume = "sov-vol-<1>", .format = "qcow2", .cache = "none",
        .dev = "vdc", .serial = "vol-1", .secret_uuid = "5e1f0000-1111-4222-8333-444455556666",
        .iops_max = 100, .bytes_per_s_max = 1000 };
    char *xml = NULL, *disk = NULL;

    boot_disk(&s);
    ck_assert(sov_domain_spec_add_disk(&s, &d, &err) == 0);
    ck_assert(sov_domain_xml(&s, &xml, &err) == 0);
    ck_assert_msg(sov_domain_disk_xml(&d, &disk, &err) == 0, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(xml, disk));
    ck_assert_ptr_nonnull(strstr(disk, "volume='sov-vol-&lt;1&gt;'"));
    ck_assert_ptr_nonnull(strstr(disk, "<total_iops_sec>100</total_iops_sec>"));
    ck_assert_ptr_nonnull(strstr(disk, "<total_bytes_sec>1000</total_bytes_sec>"));
    ck_assert_int_eq(strncmp(disk, "    <disk type='volume' device='disk'>", 38), 0);
    free(xml);
    free(disk);
    /* An incomplete disk is a caller's bug, as for the whole domain. */
    disk = NULL;
    ck_assert_int_eq(sov_domain_disk_xml(&(sov_domain_disk) { .pool = "p", .format = "raw" },
                                         &disk, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    ck_assert_int_eq(sov_domain_disk_xml(&(sov_domain_disk) { .path = "/x", .format = "raw",
                                         .dev = "vdb", .iops_max = -1 }, &disk, &err), -1);
    ck_assert_ptr_null(disk);
}
END_TEST

/* A hot plug sends the very <interface> the domain's definition holds: one renderer. An OVS
 * NIC turns the offloads off (host and guest); a NAT NIC keeps them. */
START_TEST(nic_xml_is_the_domains_interface)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_domain_spec_release) sov_domain_spec s = base("kvm");
    const sov_domain_nic ovs = {
        .kind = SOV_NIC_OVS, .interface_id = "a1b2c3d4-0000-4000-8000-000000000001",
        .mac = "fa:16:3e:00:00:01", .mtu = 1442 };
    const sov_domain_nic nat = {
        .kind = SOV_NIC_NETWORK, .network = "sov<nat>", .mac = "52:54:00:ab:cd:ef" };
    char *xml = NULL, *nic = NULL;

    boot_disk(&s);
    ck_assert(sov_domain_spec_add_nic(&s, &ovs, &err) == 0);
    ck_assert(sov_domain_xml(&s, &xml, &err) == 0);
    ck_assert_msg(sov_domain_nic_xml(&ovs, &nic, &err) == 0, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(xml, nic));
    ck_assert_int_eq(strncmp(nic, "    <interface type='bridge'>\n", 30), 0);
    ck_assert_ptr_nonnull(strstr(nic, "<source bridge='br-int'/>"));
    ck_assert_ptr_nonnull(strstr(nic, "interfaceid='a1b2c3d4-0000-4000-8000-000000000001'"));
    ck_assert_ptr_nonnull(strstr(nic, "<host csum='off' gso='off' tso4='off' tso6='off'"));
    ck_assert_ptr_nonnull(strstr(nic, "<guest csum='off' tso4='off' tso6='off'"));
    ck_assert_ptr_nonnull(strstr(nic, "<mtu size='1442'/>"));
    free(nic);
    nic = NULL;
    ck_assert_msg(sov_domain_nic_xml(&nat, &nic, &err) == 0, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(nic, "<source network='sov&lt;nat&gt;'/>"));
    ck_assert_ptr_null(strstr(nic, "<driver"));
    free(nic);
    free(xml);
    /* An incomplete NIC is a caller's bug, as for the whole domain. */
    nic = NULL;
    ck_assert_int_eq(sov_domain_nic_xml(&(sov_domain_nic) { .kind = SOV_NIC_OVS,
                                        .mac = "fa:16:3e:00:00:01" }, &nic, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    ck_assert_ptr_null(nic);
}
END_TEST

/* The console log goes to its file, appended to across boots. */
START_TEST(console_log_is_appended)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_domain_spec_release) sov_domain_spec s = base("kvm");
    char *xml = NULL;

    boot_disk(&s);
    ck_assert(sov_domain_xml(&s, &xml, &err) == 0);
    ck_assert_ptr_nonnull(strstr(xml, "<log file='/var/lib/sovereign/pool/sov-" UUID
                                      "-console.log' append='on'/>"));
    free(xml);
    check_golden(&s, "console-log");
}
END_TEST

static int
extra_nic(sov_ctx *c, const sov_instance *i, sov_domain_spec *s, sov_error *err)
{
    (void) c;
    return sov_domain_spec_add_nic(s, &(sov_domain_nic) {
        .kind = SOV_NIC_OVS, .interface_id = i->id, .mac = "fa:16:3e:00:00:09", .mtu = 1442
    }, err);
}

static int
failing(sov_ctx *c, const sov_instance *i, sov_domain_spec *s, sov_error *err)
{
    (void) c, (void) i, (void) s;
    return sov_error_set(err, SOV_E_UNAVAILABLE, "could not reach the network");
}

/* Another module's part comes after compute's; one that fails fails the build. (One process
 * per test: the list added to here is this test's.) */
START_TEST(contributors_add_parts_after_computes)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_domain_spec_release) sov_domain_spec s = base("kvm");
    SOV_CLEANUP(sov_domain_spec_release) sov_domain_spec t = base("kvm");

    ck_assert(sov_domain_contrib_add("test.nic", extra_nic, &err) == 0);
    ck_assert_msg(sov_domain_spec_build(&ctx, &inst, &s, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s.ndisks, 2);
    ck_assert_uint_eq(s.nnics, 2);
    ck_assert_int_eq(s.nics[0].kind, SOV_NIC_NETWORK);
    ck_assert_int_eq(s.nics[1].kind, SOV_NIC_OVS);
    ck_assert_str_eq(s.nics[1].interface_id, UUID);
    ck_assert(sov_domain_contrib_add("test.failing", failing, &err) == 0);
    ck_assert_int_eq(sov_domain_spec_build(&ctx, &inst, &t, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
}
END_TEST

static int
boot_volume(sov_ctx *c, const sov_instance *i, sov_domain_spec *s, sov_error *err)
{
    (void) c;
    if (!i->boot_volume_id[0])
        return 0;
    return sov_domain_spec_add_disk(s, &(sov_domain_disk) {
        .pool = "sovereign", .volume = "sov-vol-boot", .format = "qcow2", .dev = "vda",
        .serial = i->boot_volume_id }, err);
}

static int
not_ready(sov_ctx *c, const sov_instance *i, sov_domain_spec *s, sov_error *err)
{
    (void) c, (void) s, (void) err;
    return i->boot_volume_id[0] ? SOV_OP_LATER : 0;
}

/* An instance booting from a volume has no overlay of compute's: the volume a module adds as
 * vda renders first, before the seed; a part not ready yet makes the build say
 * SOV_OP_LATER. */
START_TEST(a_boot_volume_is_the_first_disk_and_may_make_the_build_wait)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_domain_spec_release) sov_domain_spec s = base("kvm");
    SOV_CLEANUP(sov_domain_spec_release) sov_domain_spec t = base("kvm");
    char *xml = NULL;

    snprintf(inst.boot_volume_id, sizeof(inst.boot_volume_id), "%s", UUID);
    ck_assert(sov_domain_contrib_add("test.boot-volume", boot_volume, &err) == 0);
    ck_assert_msg(sov_domain_spec_build(&ctx, &inst, &s, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s.ndisks, 2);
    ck_assert_str_eq(s.disks[0].dev, "vda");
    ck_assert_str_eq(s.disks[0].volume, "sov-vol-boot");
    ck_assert_str_eq(s.disks[1].dev, "vdb");
    ck_assert(sov_domain_xml(&s, &xml, &err) == 0);
    ck_assert_ptr_null(strstr(xml, "sov-" UUID "-disk"));
    ck_assert_ptr_nonnull(strstr(xml, "sov-vol-boot"));
    ck_assert(strstr(xml, "sov-vol-boot") < strstr(xml, "sov-" UUID "-seed"));
    free(xml);
    ck_assert(sov_domain_contrib_add("test.not-ready", not_ready, &err) == 0);
    ck_assert_int_eq(sov_domain_spec_build(&ctx, &inst, &t, &err), SOV_OP_LATER);
}
END_TEST

/* A part missing what it needs is a bug of its contributor, refused before any XML. */
START_TEST(incomplete_parts_are_refused)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_domain_spec_release) sov_domain_spec s = base("kvm");
    char *xml = NULL;

    ck_assert_int_eq(sov_domain_xml(&s, &xml, &err), -1);     /* no disk */
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    ck_assert_int_eq(sov_domain_spec_add_disk(&s, &(sov_domain_disk) {
        .pool = "p", .volume = "v", .path = "/x", .format = "raw", .dev = "vda" }, &err), -1);
    ck_assert_int_eq(sov_domain_spec_add_disk(&s, &(sov_domain_disk) {
        .pool = "p", .volume = "v", .format = "raw" }, &err), -1);
    ck_assert_int_eq(sov_domain_spec_add_nic(&s, &(sov_domain_nic) {
        .kind = SOV_NIC_OVS, .mac = "fa:16:3e:00:00:01" }, &err), -1);
    ck_assert_int_eq(sov_domain_spec_add_nic(&s, &(sov_domain_nic) {
        .kind = SOV_NIC_NETWORK, .network = "sovereign" }, &err), -1);
    ck_assert_uint_eq(s.ndisks, 0);
    ck_assert_uint_eq(s.nnics, 0);
    ck_assert_ptr_null(xml);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("compute/domain-xml");
    TCase *tc = tcase_create("domain-xml");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, todays_kvm_instance);
    tcase_add_test(tc, todays_qemu_instance);
    tcase_add_test(tc, nat_nic_without_console_log);
    tcase_add_test(tc, ovs_nics_with_mtu);
    tcase_add_test(tc, extra_disks);
    tcase_add_test(tc, console_log_is_appended);
    tcase_add_test(tc, volume_with_io_limits);
    tcase_add_test(tc, disk_xml_is_the_domains_disk);
    tcase_add_test(tc, nic_xml_is_the_domains_interface);
    tcase_add_test(tc, contributors_add_parts_after_computes);
    tcase_add_test(tc, incomplete_parts_are_refused);
    tcase_add_test(tc, a_boot_volume_is_the_first_disk_and_may_make_the_build_wait);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
