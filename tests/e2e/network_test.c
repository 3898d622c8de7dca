/* Tenant networks end to end: real guests on the machine's own libvirtd (qemu:///system)
 * plugged into a real OVN, this machine being the chassis (tl_ovn_start_host: ovs-vswitchd
 * in the root network namespace, br-int, libvirt's default OVS socket, one test run at a time
 * through a machine-wide lock).
 *
 * Each guest runs a shell script as its user-data once eth0 has its DHCP lease (from OVN's
 * native DHCP), and prints what it saw on its serial console, which the test reads.
 *
 *  - harness: a logical switch with OVN DHCP and two logical switch ports made by hand
 *    (ovn-nbctl, no sovd), two guests plugged in through <virtualport type='openvswitch'>
 *    with the port's id as interfaceid: each takes its port's address from OVN's DHCP, the
 *    ports are bound to this chassis (the libvirt host UUID), one guest pings the other and
 *    connects to it over TCP (busybox nc; TCP proves the checksums the guests leave out are
 *    filled in: offloads off on the virtio NIC).
 *
 * One OVN (and its lock) serves the suite: an unchecked fixture, made once in the runner's
 * process. At most two guests run at a time; each domain is transient, named for this run,
 * and destroyed when the runner exits, however it exits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"
#include "testlib.h"

#define URI "qemu:///system"
#define CONSOLE_WAIT_S 150      /* a line on a guest's console: TCG on a busy machine */

static tl_ovn ovn;
static char *tmp;
static char *image;

/* ---- the bed: this machine's chassis and the guest image ---- */

static void
bed_up(void)
{
    char *out;

    tmp = tl_tmpdir();
    ck_assert_int_eq(chmod(tmp, 0755), 0);
    tl_assert_traversable(tmp);
    tl_sh_at_exit("rm -rf '%s'", tmp);
    tl_ovn_start_host(&ovn, NULL);
    /* libvirt reaches this chassis' conf.db through the default socket. */
    out = tl_sh_out(NULL, "ovs-vsctl --db=unix:%s --timeout=5 br-exists br-int && echo yes",
                    ovn.socket);
    ck_assert_msg(strstr(out, "yes"), "br-int is not reachable through %s: %s", ovn.socket,
                  out);
    free(out);
    image = tl_guest_image();
    tl_sh_at_exit("rm -rf \"$(dirname '%s')\"", image);
}

static void
bed_down(void)
{
    tl_ovn_discard(&ovn);
    tl_guest_image_remove(image);
    free(image);
    tl_tmpdir_remove(tmp);
    free(tmp);
}

/* ---- guests booted straight from libvirt (no sovd) ---- */

typedef struct guest {
    char uuid[40];
    char name[80];
    char log[700];
} guest;

static void
uuid_new(char out[40])
{
    char *text = tl_read_file("/proc/sys/kernel/random/uuid");

    ck_assert_ptr_nonnull(text);
    snprintf(out, 40, "%.36s", text);
    free(text);
}

/* A transient domain of the guest image (a qcow2 overlay of its own) with a NoCloud seed
 * holding script as its user-data, and one OVS NIC on br-int: interfaceid iface, mac. It is
 * destroyed when the runner exits. */
static void
guest_boot(guest *g, const char *script, const char *iface, const char *mac)
{
    char path[700], disk[700], seed[700], xml[700];
    FILE *f;
    char *out;
    int rc;

    uuid_new(g->uuid);
    snprintf(g->name, sizeof(g->name), "sovtest-net-%d-%.8s", (int) getpid(), g->uuid);
    snprintf(g->log, sizeof(g->log), "%s/%s.log", tmp, g->name);
    snprintf(disk, sizeof(disk), "%s/%s.qcow2", tmp, g->name);
    snprintf(seed, sizeof(seed), "%s/%s-seed.img", tmp, g->name);
    snprintf(xml, sizeof(xml), "%s/%s.xml", tmp, g->name);
    snprintf(path, sizeof(path), "%s/%s-user-data", tmp, g->name);
    tl_sh_at_exit("virsh -q -c " URI " destroy '%s' >/dev/null 2>&1", g->uuid);

    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(script, f);
    ck_assert_int_eq(fclose(f), 0);
    out = tl_sh_out(&rc, "qemu-img create -q -f qcow2 -F qcow2 -b '%s' '%s' 1G && "
                    "mkfs.vfat -n CIDATA -C '%s' 1024 >/dev/null && "
                    "mcopy -i '%s' '%s' ::user-data", image, disk, seed, seed, path);
    ck_assert_msg(rc == 0, "could not make the disks of %s: %s", g->name, out);
    free(out);

    f = fopen(xml, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "<domain type='%s'>\n"
            "  <name>%s</name>\n"
            "  <uuid>%s</uuid>\n"
            "  <memory unit='MiB'>256</memory>\n"
            "  <vcpu>1</vcpu>\n"
            "  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>\n"
            "  <features><acpi/></features>\n"
            "  <on_poweroff>destroy</on_poweroff>\n"
            "  <devices>\n"
            "    <disk type='file' device='disk'>\n"
            "      <driver name='qemu' type='qcow2'/><source file='%s'/>\n"
            "      <target dev='vda' bus='virtio'/>\n"
            "    </disk>\n"
            "    <disk type='file' device='disk'>\n"
            "      <driver name='qemu' type='raw'/><source file='%s'/>\n"
            "      <target dev='vdb' bus='virtio'/><readonly/>\n"
            "    </disk>\n"
            "    <interface type='bridge'>\n"
            "      <source bridge='br-int'/>\n"
            "      <virtualport type='openvswitch'>\n"
            "        <parameters interfaceid='%s'/>\n"
            "      </virtualport>\n"
            "      <mac address='%s'/>\n"
            "      <model type='virtio'/>\n"
            "      <driver>\n"
            "        <host csum='off' gso='off' tso4='off' tso6='off' ecn='off' ufo='off'/>\n"
            "        <guest csum='off' tso4='off' tso6='off' ecn='off' ufo='off'/>\n"
            "      </driver>\n"
            "    </interface>\n"
            "    <serial type='pty'><log file='%s' append='off'/><target port='0'/></serial>\n"
            "    <console type='pty'><target type='serial' port='0'/></console>\n"
            "  </devices>\n"
            "</domain>\n",
            tl_env("SOV_TEST_VIRT_TYPE"), g->name, g->uuid, disk, seed, iface, mac, g->log);
    ck_assert_int_eq(fclose(f), 0);
    rc = tl_virsh(URI, &out, "create '%s'", xml);
    ck_assert_msg(rc == 0, "virsh create %s failed: %s", g->name, out);
    free(out);
}

static void
guest_destroy(const guest *g)
{
    tl_virsh(URI, NULL, "destroy '%s'", g->uuid);
}

/* The console line after marker (malloc), failing the test after CONSOLE_WAIT_S. */
static char *
console_expect(const guest *g, const char *marker)
{
    return tl_console_expect(tl_console_file_read, (void *) g->log, marker, CONSOLE_WAIT_S);
}

/* ---- the harness: hand-made OVN ports ---- */

/* The server: prints what one TCP client sends on port 7777. */
static const char SERVER_SCRIPT[] =
    "#!/bin/sh\n"
    "echo LISTENING\n"
    "nc -l -p 7777 > /run/got\n"
    "echo \"TCP-GOT $(cat /run/got)\"\n";

/* The client of server %s: pings it until it answers (60 tries), then sends it a line over
 * TCP (retried while the server is not listening yet). */
static const char CLIENT_SCRIPT[] =
    "#!/bin/sh\n"
    "T=%s\n"
    "i=0\n"
    "until ping -c 1 -W 1 $T >/dev/null 2>&1; do\n"
    "    i=$((i + 1)); [ $i -ge 60 ] && { echo PING-FAIL; exit 1; }\n"
    "done\n"
    "echo \"PING-OK $T\"\n"
    "i=0\n"
    "until echo hello-over-tcp | nc -w 3 $T 7777; do\n"
    "    i=$((i + 1)); [ $i -ge 60 ] && { echo TCP-FAIL; exit 1; }; sleep 1\n"
    "done\n"
    "echo TCP-SENT\n";

START_TEST(two_guests_on_a_hand_made_logical_switch_take_ovn_dhcp_and_talk)
{
    char ls[64], p1[40], p2[40], script[sizeof(CLIENT_SCRIPT) + 64];
    guest a, b;
    char *dhcp, *out, *got;

    snprintf(ls, sizeof(ls), "tl-e2e-%d", (int) getpid());
    uuid_new(p1);
    uuid_new(p2);
    tl_sh_at_exit("ovn-nbctl --db=%s --timeout=5 --if-exists ls-del '%s'", ovn.nb, ls);
    dhcp = tl_ovn_nbctl(&ovn, NULL, "create DHCP_Options cidr=10.77.0.0/24 "
                        "options='\"lease_time\"=\"3600\" \"router\"=\"10.77.0.1\" "
                        "\"server_id\"=\"10.77.0.1\" \"server_mac\"=\"c0:ff:ee:00:00:01\"'");
    free(tl_ovn_nbctl(&ovn, NULL, "ls-add %s -- lsp-add %s %s -- lsp-add %s %s "
                      "-- lsp-set-addresses %s '52:54:00:77:00:0a 10.77.0.10' "
                      "-- lsp-set-addresses %s '52:54:00:77:00:0b 10.77.0.11' "
                      "-- lsp-set-dhcpv4-options %s %s -- lsp-set-dhcpv4-options %s %s",
                      ls, ls, p1, ls, p2, p1, p2, p1, dhcp, p2, dhcp));

    guest_boot(&a, SERVER_SCRIPT, p1, "52:54:00:77:00:0a");
    snprintf(script, sizeof(script), CLIENT_SCRIPT, "10.77.0.10");
    guest_boot(&b, script, p2, "52:54:00:77:00:0b");

    got = console_expect(&a, TL_GUEST_DHCP);
    ck_assert_str_eq(got, "10.77.0.10");
    free(got);
    got = console_expect(&b, TL_GUEST_DHCP);
    ck_assert_str_eq(got, "10.77.0.11");
    free(got);
    /* Both ports are bound here: the chassis named by qemu:///system's host UUID. */
    out = tl_ovn_sbctl(&ovn, NULL, "--bare --columns=chassis find Port_Binding "
                       "logical_port=%s", p1);
    ck_assert_msg(out[0], "port %s is not bound", p1);
    free(out);
    out = tl_ovn_sbctl(&ovn, NULL, "--bare --columns=name list Chassis");
    ck_assert_str_eq(out, ovn.system_id);
    free(out);

    got = console_expect(&b, "PING-OK ");
    ck_assert_str_eq(got, "10.77.0.10");
    free(got);
    free(console_expect(&b, "TCP-SENT"));
    got = console_expect(&a, "TCP-GOT ");
    ck_assert_str_eq(got, "hello-over-tcp");
    free(got);

    guest_destroy(&a);
    guest_destroy(&b);
    free(tl_ovn_nbctl(&ovn, NULL, "ls-del %s -- destroy DHCP_Options %s", ls, dhcp));
    free(dhcp);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("e2e/network");
    TCase *tc = tcase_create("network");

    tcase_add_unchecked_fixture(tc, bed_up, bed_down);
    tcase_set_timeout(tc, 580);
    tcase_add_test(tc, two_guests_on_a_hand_made_logical_switch_take_ovn_dhcp_and_talk);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
